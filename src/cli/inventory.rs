//! `virtplan import inventory FILE --format F --out DIR`'s I/O: reads the
//! export and the `.kdl` files already in `DIR`, reports the import's
//! diagnostics, and writes its files only when there is no error, all
//! staged as temporary files first, then renamed into place.

use std::path::Path;
use std::process::ExitCode;

use virtplan::diag::Diagnostics;
use virtplan::inventory::{self, Field};
use virtplan::source::SourceMap;

use super::disk::{ReadArgs, read_given};
use super::output;
use super::report::Reporter;

/// The export's layout, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InventoryFormat {
    /// virtplan's generic CSV (name, sockets, cores, clock, memory, disks, …).
    Generic,
    /// RVTools' vInfo sheet saved as CSV.
    Rvtools,
}

impl InventoryFormat {
    fn format(self) -> inventory::Format {
        match self {
            InventoryFormat::Generic => inventory::Format::Generic,
            InventoryFormat::Rvtools => inventory::Format::Rvtools,
        }
    }
}

/// `--map COLUMN=FIELD`.
pub fn parse_map(text: &str) -> Result<(String, Field), String> {
    let (column, field) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not COLUMN=FIELD"))?;
    let words: Vec<&str> = Field::ALL.iter().map(|f| f.word()).collect();
    let field = Field::from_word(field.trim()).ok_or_else(|| {
        format!(
            "`{}` is not a field; the fields are {}",
            field.trim(),
            words.join(", ")
        )
    })?;
    Ok((column.trim().to_string(), field))
}

pub fn run(
    file: &Path,
    format: InventoryFormat,
    map: &[(String, Field)],
    out: &Path,
    read: &ReadArgs,
    reporter: &Reporter,
) -> ExitCode {
    let text = match read_given(file, read.given_limit()) {
        Ok(t) => t,
        Err(e) => return crate::usage(&format!("cannot read `{}`: {e}", file.display())),
    };
    let existing = match existing_kdl(out, read) {
        Ok(e) => e,
        Err(message) => return crate::usage(&message),
    };
    let name = file.file_name().map_or_else(
        || "the export".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut sources = SourceMap::default();
    let id = sources.add(name.clone(), text.clone());
    let mut diags = Diagnostics::default();
    let options = inventory::Options {
        format: format.format(),
        map,
        source_name: &name,
    };
    let outcome = inventory::import(id, &text, &options, &existing, &mut diags);
    reporter.diagnostics(&diags, &sources, Path::new("."));
    if reporter.fails(&diags) {
        eprintln!("nothing written: fix the errors above first");
        return ExitCode::from(1);
    }
    if let Err(e) = std::fs::create_dir_all(out) {
        return crate::usage(&format!("cannot create `{}`: {e}", out.display()));
    }
    let files: Vec<_> = outcome
        .write
        .iter()
        .map(|(name, text)| (out.join(name), text.as_bytes().to_vec()))
        .collect();
    if let Err(e) = output::replace_files(&mut output::Disk, &files) {
        return crate::usage(&e.to_string());
    }
    for name in &outcome.remove {
        if let Err(e) = std::fs::remove_file(out.join(name)) {
            return crate::usage(&format!("cannot remove `{name}`: {e}"));
        }
    }
    reporter.status(&format!(
        "imported {} servers into {} files in {}{}",
        outcome.servers,
        outcome.write.len(),
        out.display(),
        if outcome.remove.is_empty() {
            String::new()
        } else {
            format!("; removed {}", outcome.remove.join(", "))
        }
    ));
    ExitCode::SUCCESS
}

/// The `.kdl` files directly in `out` (none when it does not exist yet).
fn existing_kdl(out: &Path, read: &ReadArgs) -> Result<Vec<(String, String)>, String> {
    let entries = match std::fs::read_dir(out) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list `{}`: {e}", out.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", out.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".kdl") {
            continue;
        }
        let text = read_given(&entry.path(), read.given_limit())
            .map_err(|e| format!("cannot read `{}`: {e}", entry.path().display()))?;
        files.push((name, text));
    }
    files.sort();
    Ok(files)
}
