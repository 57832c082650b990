//! Shell completions and man pages, generated from the clap definitions.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use super::report::Reporter;

/// The completion script for `shell` on standard output.
pub fn completions(cmd: &mut clap::Command, shell: clap_complete::Shell) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(shell, cmd, "virtplan", &mut out);
    let _ = std::io::stdout().lock().write_all(&out);
    ExitCode::SUCCESS
}

/// `virtplan man [--out DIR]`.
pub fn man(cmd: clap::Command, out: Option<&Path>, reporter: &Reporter) -> ExitCode {
    match pages(cmd, out) {
        Ok(names) => {
            for name in names {
                reporter.status(&format!("wrote {name}"));
            }
            ExitCode::SUCCESS
        }
        Err(e) => crate::usage(&format!("cannot write the man pages: {e}")),
    }
}

/// The man page of `virtplan` (roff) on standard output, or with `out` the
/// pages of `virtplan` and of every command (`virtplan-check.1`, …) written
/// into that folder. Returns the names written.
fn pages(cmd: clap::Command, out: Option<&Path>) -> std::io::Result<Vec<String>> {
    match out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            std::io::stdout().lock().write_all(&page)?;
            Ok(Vec::new())
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(cmd, dir)?;
            let mut names: Vec<String> = std::fs::read_dir(dir)?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".1"))
                .collect();
            names.sort();
            Ok(names)
        }
    }
}
