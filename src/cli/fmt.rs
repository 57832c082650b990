//! `virtplan fmt`: formats every `.kdl` file; with `--check` only lists the
//! files it would change, and with `--diff` shows the changes as a unified
//! diff.

use std::path::Path;
use std::process::ExitCode;

use virtplan::diag::Diagnostics;
use virtplan::source::{FileSource, SourceMap};

use super::disk::ReadArgs;
use super::output;
use super::report::Reporter;

/// What `fmt` does with a file it would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace it.
    Write,
    /// List it.
    Check,
    /// List it and print the unified diff.
    Diff,
}

/// The unified diff (`diff -u` style, three lines of context) from `old` to
/// `new`, headed `a/PATH` and `b/PATH` as `git diff` is, so `git apply`
/// takes it.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

pub fn run(dir: &Path, mode: Mode, read: &ReadArgs, reporter: &Reporter) -> ExitCode {
    let fs = match crate::project(dir, read) {
        Ok(fs) => fs,
        Err(code) => return code,
    };
    if mode == Mode::Diff && !reporter.stdout_is_free() {
        return crate::usage(
            "`fmt --diff` prints the diff on standard output: use --message-format human",
        );
    }
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let mut changed = Vec::new();
    let mut writes: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
    let mut diff = String::new();
    for path in fs.list().into_iter().filter(|p| p.ends_with(".kdl")) {
        let bytes = match fs.read(&path) {
            Ok(b) => b,
            Err(e) => return crate::usage(&format!("cannot read `{path}`: {e}")),
        };
        let Some(id) = virtplan::load::decode(&mut sources, &path, bytes, &mut diags) else {
            continue;
        };
        let text = sources.get(id).text.clone();
        let Some(formatted) = virtplan::fmt::format(id, &text, &mut diags) else {
            continue;
        };
        if formatted != text {
            match mode {
                Mode::Write => writes.push((fs.root.join(&path), formatted.into_bytes())),
                Mode::Check => {}
                Mode::Diff => diff.push_str(&unified(&path, &text, &formatted)),
            }
            changed.push(path.clone());
        }
    }
    // Every file or none: all are written beside their originals before
    // any is renamed over its original.
    if let Err(e) = output::replace_files(&mut output::Disk, &writes) {
        return crate::usage(&format!("{e}; no file was formatted"));
    }
    diags.sort(&sources);
    reporter.diagnostics(&diags, &sources, dir);
    if mode == Mode::Diff {
        print!("{diff}");
    } else {
        for path in &changed {
            reporter.status(&match mode {
                Mode::Write => format!("formatted {path}"),
                Mode::Check | Mode::Diff => format!("would reformat {path}"),
            });
        }
    }
    if reporter.fails(&diags) || (mode != Mode::Write && !changed.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
