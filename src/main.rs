//! The `virtplan` command line: the only place that touches the file system.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use virtplan::diag::{self, Diagnostics, RenderOptions};
use virtplan::emit::{self, Formats};
use virtplan::source::{FileSource, SourceMap};

mod cli {
    //! The binary's I/O edge: the only code that touches the file system.
    pub mod diff;
    pub mod disk;
    pub mod output;
}
use cli::disk::DiskSource;
use cli::output;

/// A declarative plan compiler for server virtualization projects.
#[derive(Parser)]
#[command(name = "virtplan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a project (language, references, measurements) and report every problem.
    Check {
        /// The project directory.
        dir: PathBuf,
    },
    /// Compile a project into its assessment, capacity plan, cost report and runbook.
    Plan {
        /// The project directory.
        dir: PathBuf,
        /// Where to write the outputs.
        #[arg(long)]
        out: PathBuf,
        /// Outputs to write, comma-separated: md, json, ansible.
        #[arg(long, default_value = "md,json,ansible", value_delimiter = ',')]
        format: Vec<String>,
        /// A directory of templates overriding the embedded ones by name.
        #[arg(long)]
        templates: Option<PathBuf>,
        /// A previous plan.json: VMs stay on the host they had unless moving saves hosts.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Take over an --out folder holding files virtplan did not write: they are kept,
        /// except those with an output's name, which are replaced. Symlinks are still refused.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of plan.json.
    Schema,
    /// Compare two plans: what a change does (exit 0: no change, 3: changed, 2: bad input).
    Diff {
        /// The old side: a plan.json, or a project directory planned on the fly.
        old: PathBuf,
        /// The new side: a plan.json, or a project directory planned on the fly.
        new: PathBuf,
        /// Output: md (a review summary) or json.
        #[arg(long, value_enum, default_value = "md")]
        format: cli::diff::DiffFormat,
    },
    /// Format every .kdl file of a project canonically, keeping comments.
    Fmt {
        /// The project directory.
        dir: PathBuf,
        /// Only check: list unformatted files and exit 1 if there are any.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing to a closed pipe (`virtplan check . |
    // head -0`) would panic; restore the default: end quietly, like any tool.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL
    // is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check { dir } => check(&dir),
        Command::Plan {
            dir,
            out,
            format,
            templates,
            previous,
            force,
        } => plan(
            &dir,
            &out,
            &format,
            templates.as_deref(),
            previous.as_deref(),
            force,
        ),
        Command::Schema => {
            print!("{}", virtplan::plan::json_schema());
            ExitCode::SUCCESS
        }
        Command::Diff { old, new, format } => cli::diff::run(&old, &new, format),
        Command::Fmt { dir, check } => fmt(&dir, check),
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn project(dir: &Path) -> Result<DiskSource, ExitCode> {
    if !dir.is_dir() {
        return Err(usage(&format!("`{}` is not a directory", dir.display())));
    }
    Ok(DiskSource::new(dir))
}

fn report(diags: &Diagnostics, sources: &SourceMap) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = if color { 100 } else { 80 };
    eprint!(
        "{}",
        diag::render(&diags.items, sources, RenderOptions { color, width })
    );
    if !diags.items.is_empty() {
        eprintln!(
            "{} error(s), {} warning(s)",
            diags.errors(),
            diags.warnings()
        );
    }
}

fn check(dir: &Path) -> ExitCode {
    let fs = match project(dir) {
        Ok(fs) => fs,
        Err(code) => return code,
    };
    let compiled = virtplan::check(&fs);
    report(&compiled.diags, &compiled.sources);
    if compiled.diags.has_errors() {
        return ExitCode::from(1);
    }
    if let Some(model) = &compiled.model {
        println!(
            "ok: {} servers, {} clusters, {} host models",
            model.servers.len(),
            model.clusters.len(),
            model.host_models.len()
        );
    }
    ExitCode::SUCCESS
}

fn plan(
    dir: &Path,
    out: &Path,
    format: &[String],
    templates: Option<&Path>,
    previous: Option<&Path>,
    force: bool,
) -> ExitCode {
    let fs = match project(dir) {
        Ok(fs) => fs,
        Err(code) => return code,
    };
    // Refuse a bad --out before the work of compiling.
    let target = output::resolve_out(out).and_then(|o| {
        output::check_apart(&o, dir)?;
        output::precheck(&o, force)?;
        Ok(o)
    });
    let target = match target {
        Ok(target) => target,
        Err(e) => return usage(&e.to_string()),
    };
    let mut formats = Formats {
        markdown: false,
        json: false,
        ansible: false,
    };
    for f in format {
        match f.trim() {
            "md" | "markdown" => formats.markdown = true,
            "json" => formats.json = true,
            "ansible" => formats.ansible = true,
            other => {
                return usage(&format!(
                    "unknown format `{other}`; use md, json or ansible"
                ));
            }
        }
    }
    let mut overrides = BTreeMap::new();
    if let Some(tdir) = templates {
        let Ok(entries) = std::fs::read_dir(tdir) else {
            return usage(&format!(
                "cannot read the templates directory `{}`",
                tdir.display()
            ));
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".j2") {
                match std::fs::read_to_string(e.path()) {
                    Ok(text) => {
                        overrides.insert(name, text);
                    }
                    Err(err) => return usage(&format!("cannot read template `{name}`: {err}")),
                }
            }
        }
    }
    let mut options = virtplan::place::Options::default();
    if let Some(path) = previous {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return usage(&format!("cannot read `{}`: {e}", path.display())),
        };
        match virtplan::place::Previous::from_json(&text) {
            Ok(p) => options.previous = Some(p),
            Err(e) => return usage(&format!("`{}`: {e}", path.display())),
        }
    }
    let compiled = virtplan::compile_with(&fs, &options);
    if let (Some(prev), Some(model), Some(path)) = (&options.previous, &compiled.model, previous)
        && let Err(e) = prev.check_project(&model.project.name)
    {
        return usage(&format!("`{}`: {e}", path.display()));
    }
    report(&compiled.diags, &compiled.sources);
    let (false, Some(plan)) = (compiled.diags.has_errors(), &compiled.plan) else {
        eprintln!("no outputs written: fix the errors above first");
        return ExitCode::from(1);
    };
    let files = match emit::emit(plan, formats, &overrides) {
        Ok(files) => files,
        Err(e) => return usage(&e),
    };
    let _lock = match output::lock(&target) {
        Ok(lock) => lock,
        Err(e) => return usage(&e.to_string()),
    };
    match output::write_plan(&mut output::Disk, &target, &files, force) {
        Ok(written) => {
            for warning in &written.warnings {
                eprintln!("warning: {warning}");
            }
            let mut line = format!("wrote {} files to {}", written.files, out.display());
            if !written.removed.is_empty() {
                line += &format!(", removed {} it no longer writes", written.removed.len());
            }
            if !written.kept.is_empty() {
                line += &format!(", kept {} of yours", written.kept.len());
            }
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => usage(&e.to_string()),
    }
}

fn fmt(dir: &Path, check_only: bool) -> ExitCode {
    let fs = match project(dir) {
        Ok(fs) => fs,
        Err(code) => return code,
    };
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let mut changed = Vec::new();
    for path in fs.list().into_iter().filter(|p| p.ends_with(".kdl")) {
        let bytes = match fs.read(&path) {
            Ok(b) => b,
            Err(e) => return usage(&format!("cannot read `{path}`: {e}")),
        };
        let Some(id) = virtplan::load::decode(&mut sources, &path, bytes, &mut diags) else {
            continue;
        };
        let text = sources.get(id).text.clone();
        let Some(formatted) = virtplan::fmt::format(id, &text, &mut diags) else {
            continue;
        };
        if formatted != text {
            changed.push(path.clone());
            if !check_only
                && let Err(e) = output::replace_file(
                    &mut output::Disk,
                    &fs.root.join(&path),
                    formatted.as_bytes(),
                )
            {
                return usage(&e.to_string());
            }
        }
    }
    diags.sort(&sources);
    report(&diags, &sources);
    for path in &changed {
        println!(
            "{}{path}",
            if check_only {
                "would reformat "
            } else {
                "formatted "
            }
        );
    }
    if diags.has_errors() || (check_only && !changed.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
