//! The `virtplan` command line: the only place that touches the file system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use virtplan::emit::{self, Formats};

mod cli {
    //! The binary's I/O edge: the only code that touches the file system.
    pub mod diff;
    pub mod disk;
    pub mod fmt;
    pub mod graph;
    pub mod init;
    pub mod inventory;
    pub mod manual;
    pub mod output;
    pub mod prometheus;
    pub mod report;
    pub mod sarif;
}
use cli::disk::{DiskSource, ReadArgs};
use cli::output;
use cli::report::{ReportArgs, Reporter};

/// A declarative plan compiler for server virtualization projects.
#[derive(Parser)]
#[command(name = "virtplan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Report every problem `plan` would, writing nothing.
    ///
    /// Runs the whole compile: the language, references, measurements, placement (fit,
    /// max-hosts, rules), licences and migration windows.
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
        /// With --previous: move at most N VMs per cluster; the capacity plan says
        /// how many hosts the bound costs.
        #[arg(long, value_name = "N", requires = "previous")]
        max_moves: Option<usize>,
        /// Take over an --out folder holding files virtplan did not write: they are kept,
        /// except those with an output's name, which are replaced. Symlinks are still refused.
        #[arg(long)]
        force: bool,
    },
    /// Write a small, commented starting project into a new or empty folder.
    Init {
        /// The folder to create (it must not hold any file).
        dir: PathBuf,
        /// The project's name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Bring an estate in from what the team already has.
    Import {
        #[command(subcommand)]
        what: Import,
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
        /// With --check: print what fmt would change as a unified diff.
        #[arg(long, requires = "check")]
        diff: bool,
    },
    /// Print the migration dependency graph with its move groups.
    Graph {
        /// The project directory.
        dir: PathBuf,
        /// The graph's format.
        #[arg(long, value_enum, default_value_t)]
        format: cli::graph::GraphFormat,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write one page per command into a folder.
    Man {
        /// Write `virtplan.1` and `virtplan-COMMAND.1` into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Import {
    /// Write `server` nodes from an inventory export (CSV) into a folder of the project.
    ///
    /// The files carry a header saying they are generated; importing again replaces them,
    /// reports servers no longer in the export, and never touches a hand-written file.
    Inventory {
        /// The export: a CSV file.
        file: PathBuf,
        /// Its layout.
        #[arg(long, value_enum)]
        format: cli::inventory::InventoryFormat,
        /// Read a column of the generic format as a field (repeatable): `--map "CPU Count=cores"`.
        #[arg(long = "map", value_name = "COLUMN=FIELD", value_parser = cli::inventory::parse_map)]
        map: Vec<(String, virtplan::inventory::Field)>,
        /// The folder to write into, inside the project (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write measurements from Prometheus (or Thanos, Mimir, VictoriaMetrics) as
    /// virtplan's metrics CSV, one file per server.
    ///
    /// node_exporter and windows_exporter series are read through `/api/v1/query_range`.
    /// Credentials come from the environment: VIRTPLAN_PROMETHEUS_TOKEN (bearer), or
    /// VIRTPLAN_PROMETHEUS_USER and VIRTPLAN_PROMETHEUS_PASSWORD (basic).
    Metrics {
        /// The project directory: its servers are the ones imported.
        dir: PathBuf,
        /// The server's URL, such as http://prometheus:9090 (a path prefix is kept).
        #[arg(long, value_name = "URL")]
        prometheus: String,
        /// The first time: 2026-03-02, 2026-03-02T08:00:00Z or Unix seconds.
        #[arg(long, value_parser = cli::prometheus::parse_time)]
        from: i64,
        /// The last time, in the same forms.
        #[arg(long, value_parser = cli::prometheus::parse_time)]
        to: i64,
        /// Time between rows, also the rate window: 5m, 300s, 1h.
        #[arg(long, default_value = "5m", value_parser = cli::prometheus::parse_seconds)]
        step: u64,
        /// The label that names a server.
        #[arg(long, default_value = "instance")]
        label: String,
        /// What to strip from the label's value before matching it to a server name.
        #[arg(long, value_enum, default_value_t)]
        strip: cli::prometheus::StripArg,
        /// Name a label value's server explicitly (repeatable): `--map 10.0.0.7:9100=db01`.
        #[arg(long = "map", value_name = "INSTANCE=SERVER", value_parser = cli::prometheus::parse_map)]
        map: Vec<(String, String)>,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
        concurrency: u16,
        /// Time allowed for one request.
        #[arg(long, default_value = "60s", value_parser = cli::prometheus::parse_seconds)]
        timeout: u64,
        /// Retries of a request that failed on the network, with 429 or with 5xx.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
        retries: u32,
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
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
    let reporter = Reporter::new(&cli.report);
    let read = &cli.read;
    match cli.command {
        Command::Check { dir } => check(&dir, read, &reporter),
        Command::Plan {
            dir,
            out,
            format,
            templates,
            previous,
            max_moves,
            force,
        } => plan(
            &dir,
            &out,
            &format,
            Given {
                templates: templates.as_deref(),
                previous: previous.as_deref(),
                read,
            },
            max_moves,
            force,
            &reporter,
        ),
        Command::Fmt { dir, check, diff } => {
            let mode = match (check, diff) {
                (_, true) => cli::fmt::Mode::Diff,
                (true, false) => cli::fmt::Mode::Check,
                (false, false) => cli::fmt::Mode::Write,
            };
            cli::fmt::run(&dir, mode, read, &reporter)
        }
        Command::Graph { dir, format } => cli::graph::run(&dir, format, read, &reporter),
        Command::Completions { shell } => cli::manual::completions(&mut Cli::command(), shell),
        Command::Man { out } => cli::manual::man(Cli::command(), out.as_deref(), &reporter),
        Command::Init { dir, name } => cli::init::run(&dir, name.as_deref(), &reporter),
        Command::Schema => {
            print!("{}", virtplan::plan::json_schema());
            ExitCode::SUCCESS
        }
        Command::Import {
            what:
                Import::Inventory {
                    file,
                    format,
                    map,
                    out,
                },
        } => cli::inventory::run(&file, format, &map, &out, read, &reporter),
        Command::Import {
            what:
                Import::Metrics {
                    dir,
                    prometheus,
                    from,
                    to,
                    step,
                    label,
                    strip,
                    map,
                    concurrency,
                    timeout,
                    retries,
                    out,
                },
        } => cli::prometheus::run(
            &dir,
            &cli::prometheus::Options {
                url: &prometheus,
                from,
                to,
                step,
                label: &label,
                strip,
                map: &map,
                concurrency: usize::from(concurrency),
                timeout,
                retries,
                out: &out,
            },
            read,
            &reporter,
        ),
        Command::Diff { old, new, format } => cli::diff::run(&old, &new, format, read, &reporter),
    }
}

pub(crate) fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

pub(crate) fn project(dir: &Path, read: &ReadArgs) -> Result<DiskSource, ExitCode> {
    if !dir.is_dir() {
        return Err(usage(&format!("`{}` is not a directory", dir.display())));
    }
    Ok(read.project(dir))
}

/// `check` runs the whole compile, as `plan` does, and writes nothing: so it
/// reports exactly the diagnostics `plan` would.
fn check(dir: &Path, read: &ReadArgs, reporter: &Reporter) -> ExitCode {
    let fs = match project(dir, read) {
        Ok(fs) => fs,
        Err(code) => return code,
    };
    let compiled = virtplan::compile(&fs);
    reporter.diagnostics(&compiled.diags, &compiled.sources, dir);
    if reporter.fails(&compiled.diags) {
        return ExitCode::from(1);
    }
    if let Some(model) = &compiled.model {
        reporter.status(&format!(
            "ok: {} servers, {} clusters, {} host models",
            model.servers.len(),
            model.clusters.len(),
            model.host_models.len()
        ));
    }
    ExitCode::SUCCESS
}

/// The files `plan` reads besides the project, and the limits they are read with.
struct Given<'a> {
    templates: Option<&'a Path>,
    /// A previous plan to re-plan against.
    previous: Option<&'a Path>,
    read: &'a ReadArgs,
}

fn plan(
    dir: &Path,
    out: &Path,
    format: &[String],
    given: Given,
    max_moves: Option<usize>,
    force: bool,
    reporter: &Reporter,
) -> ExitCode {
    let Given {
        templates,
        previous,
        read,
    } = given;
    let fs = match project(dir, read) {
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
                match cli::disk::read_given(&e.path(), read.given_limit()) {
                    Ok(text) => {
                        overrides.insert(name, text);
                    }
                    Err(err) => return usage(&format!("cannot read template `{name}`: {err}")),
                }
            }
        }
    }
    let mut options = virtplan::place::Options {
        max_moves,
        ..Default::default()
    };
    if let Some(path) = previous {
        let text = match cli::disk::read_given(path, read.given_limit()) {
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
    reporter.diagnostics(&compiled.diags, &compiled.sources, dir);
    let (false, Some(plan)) = (reporter.fails(&compiled.diags), &compiled.plan) else {
        eprintln!(
            "no outputs written: fix the errors above first{}",
            if compiled.diags.has_errors() {
                ""
            } else {
                " (warnings are denied)"
            }
        );
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
            reporter.status(&line);
            ExitCode::SUCCESS
        }
        Err(e) => usage(&e.to_string()),
    }
}
