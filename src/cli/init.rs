//! `virtplan init DIR`: writes the starting project of `virtplan::init`
//! into a new or empty folder, never over a file, and names the next
//! commands.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::report::Reporter;

pub fn run(dir: &Path, name: Option<&str>, reporter: &Reporter) -> ExitCode {
    match write(dir, name.unwrap_or(virtplan::init::DEFAULT_NAME)) {
        Ok(written) => {
            for path in &written {
                reporter.status(&format!("wrote {}", path.display()));
            }
            let out = plan_folder(dir);
            let d = dir.display();
            reporter.status(&format!(
                "next:\n  virtplan check {d}\n  virtplan plan {d} --out {}\n\
                 to bring your estate in (then delete {}):\n  \
                 virtplan import inventory EXPORT.csv --format generic|rvtools --out {}\n  \
                 virtplan import metrics {d} --prometheus URL --from DATE --to DATE --out {}",
                out.display(),
                dir.join("servers").join("examples.kdl").display(),
                dir.join("servers").display(),
                dir.join("prometheus").display(),
            ));
            ExitCode::SUCCESS
        }
        Err(message) => crate::usage(&message),
    }
}

/// Creates `dir` (or takes it when empty) and writes each file through a
/// temporary file renamed into place, refusing any that exists.
fn write(dir: &Path, name: &str) -> Result<Vec<PathBuf>, String> {
    let shown = dir.display();
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "`{shown}` is not empty: init only writes into a new or empty folder"
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create `{shown}`: {e}"))?;
        }
        Err(e) => return Err(format!("cannot read `{shown}`: {e}")),
    }
    let mut written = Vec::new();
    for (file, text) in virtplan::init::files(name) {
        let path = dir.join(file);
        let folder = path.parent().unwrap_or(dir);
        fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create `{}`: {e}", folder.display()))?;
        let base = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = folder.join(format!(".{}.virtplan-init", base.unwrap_or_default()));
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| format!("cannot write `{}`: {e}", temp.display()))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write `{}`: {e}", temp.display()))?;
        if path.exists() {
            let _ = fs::remove_file(&temp);
            return Err(format!(
                "`{}` appeared meanwhile: not replaced",
                path.display()
            ));
        }
        fs::rename(&temp, &path).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Where the next command should write the plan: beside the project, since
/// `plan` refuses an output folder inside it.
fn plan_folder(dir: &Path) -> PathBuf {
    match dir.file_name() {
        Some(name) => dir.with_file_name(format!("{}-plan", name.to_string_lossy())),
        None => PathBuf::from("../plan"),
    }
}
