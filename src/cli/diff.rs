//! `virtplan diff`'s I/O: reads each side (a `plan.json`, or a project
//! folder planned on the fly), prints the summary, and maps it to the exit
//! code: 0 when the plans are the same, 3 when they differ, 2 on bad input.

use std::path::Path;

use crate::cli::disk::ReadArgs;
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

/// The exit code when the plans differ.
pub const CHANGED: u8 = 3;

pub fn run(
    old: &Path,
    new: &Path,
    format: DiffFormat,
    read: &ReadArgs,
    reporter: &Reporter,
) -> ExitCode {
    let sides = side(old, None, read, reporter)
        .and_then(|o| Ok((side(new, Some(&o), read, reporter)?, o)))
        .map(|(n, o)| (o, n));
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
/// errors make it bad input), a file is read as `plan.json`. The new side's
/// folder is planned as `plan --previous` would against the old side, when
/// both are the same project: VMs stay where they were unless the change
/// needs them moved, so the diff shows the moves a re-plan would make, not
/// those of a fresh plan.
fn side(
    path: &Path,
    against: Option<&PlanView>,
    read: &ReadArgs,
    reporter: &Reporter,
) -> Result<PlanView, String> {
    if path.is_dir() {
        let fs = read.project(path);
        let mut options = virtplan::place::Options::default();
        if let Some(old) = against
            && let Ok(previous) = virtplan::place::Previous::from_value(old.json())
        {
            options.previous = Some(previous);
        }
        let mut compiled = virtplan::compile_with(&fs, &options);
        if let (Some(previous), Some(model)) = (&options.previous, &compiled.model)
            && previous.check_project(&model.project.name).is_err()
        {
            // Another project: nothing to stay in place against.
            reporter.note(&format!(
                "`{}` is another project than the old side: planned from scratch",
                path.display()
            ));
            compiled = virtplan::compile(&fs);
        }
        reporter.diagnostics(&compiled.diags, &compiled.sources, path);
        let (false, Some(plan)) = (compiled.diags.has_errors(), &compiled.plan) else {
            return Err(format!(
                "`{}`: the project has errors; fix them first (`virtplan check`)",
                path.display()
            ));
        };
        return PlanView::from_plan(plan).map_err(|e| format!("`{}`: {e}", path.display()));
    }
    let text = crate::cli::disk::read_given(path, read.given_limit()).map_err(|e| {
        format!(
            "cannot read `{}`: {e} (a side is a project folder or a plan.json)",
            path.display()
        )
    })?;
    PlanView::from_json(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}
