//! `virtplan diff`'s I/O: reads each side (a `plan.json`, or a project
//! folder planned on the fly), prints the summary, and maps it to the exit
//! code: 0 when the plans are the same, 3 when they differ, 2 on bad input.

use std::path::Path;

use crate::cli::report::Reporter;
use std::process::ExitCode;

use virtplan::diff::{self, PlanView};

/// The output of `virtplan diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A review summary in Markdown, for a pull-request comment.
    Md,
    /// The same as JSON.
    Json,
}

/// The largest `plan.json` read (the realistic example's is under 1 MiB).
const MAX_PLAN_BYTES: u64 = 256 << 20;

/// The exit code when the plans differ.
pub const CHANGED: u8 = 3;

pub fn run(old: &Path, new: &Path, format: DiffFormat, reporter: &Reporter) -> ExitCode {
    let sides = side(old, reporter).and_then(|o| Ok((o, side(new, reporter)?)));
    let (old, new) = match sides {
        Ok(sides) => sides,
        Err(message) => return crate::usage(&message),
    };
    let d = diff::diff(&old, &new);
    match format {
        DiffFormat::Md => print!("{}", diff::markdown(&d)),
        DiffFormat::Json => match serde_json::to_string_pretty(&d) {
            Ok(text) => println!("{text}"),
            Err(e) => return crate::usage(&format!("cannot write the diff as JSON: {e}")),
        },
    }
    if d.changed {
        ExitCode::from(CHANGED)
    } else {
        ExitCode::SUCCESS
    }
}

/// One side: a project folder is compiled (its diagnostics go to stderr;
/// errors make it bad input), a file is read as `plan.json`.
fn side(path: &Path, reporter: &Reporter) -> Result<PlanView, String> {
    if path.is_dir() {
        let fs = crate::cli::disk::DiskSource::new(path);
        let compiled = virtplan::compile(&fs);
        reporter.diagnostics(&compiled.diags, &compiled.sources, path);
        let (false, Some(plan)) = (compiled.diags.has_errors(), &compiled.plan) else {
            return Err(format!(
                "`{}`: the project has errors; fix them first (`virtplan check`)",
                path.display()
            ));
        };
        return PlanView::from_plan(plan).map_err(|e| format!("`{}`: {e}", path.display()));
    }
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "`{}` is neither a plan.json nor a project folder",
            path.display()
        ));
    }
    if meta.len() > MAX_PLAN_BYTES {
        return Err(format!(
            "`{}` is larger than {} MiB: not a plan.json",
            path.display(),
            MAX_PLAN_BYTES >> 20
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    PlanView::from_json(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}
