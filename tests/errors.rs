//! Error cases: one small, realistic mistake per data file, each compiled and
//! its diagnostics snapshotted.
//!
//! A case is `tests/cases/errors/<name>.kdl`. Its first line is a comment
//! naming the diagnostic code the case must produce:
//!
//! ```text
//! // virtplan::check::unknown-property
//! ```
//!
//! The file is added to an in-memory project as `<name>.kdl`. Two optional
//! additions build larger projects:
//!
//! - A second line `// path: <relative path>` adds the case file under that
//!   path instead (for example `config/project.kdl`, to build a project whose
//!   root holds no `.kdl` file).
//! - A sibling directory `tests/cases/errors/<name>/` holds more files of the
//!   same project (a second `.kdl`, included files, CSV measurements). Each is
//!   added under its path relative to that directory: the file
//!   `<name>/metrics/web01.csv` becomes `metrics/web01.csv`.
//!
//! Files are added as raw bytes, so a case may hold invalid UTF-8 on purpose.
//!
//! For every case, in sorted order, [`cases`] checks that
//! 1. the expected code is among the diagnostics;
//! 2. every error has a span into a loaded file (unless no file was loaded
//!    at all, so there is nothing to point at), and every diagnostic has a
//!    help line;
//! 3. the snapshot `tests/snapshots/errors__<name>.snap` holds the project's
//!    files (each but the main one after a line `----- FILE <path>`), a line
//!    `----- DIAGNOSTICS`, and the miette rendering without colour at width
//!    80 (the `virtplan::cost::defaults` and `virtplan::migrate::no-hypervisor`
//!    warnings, which most cases would show, only in their own cases). Bytes that are not UTF-8 and control
//!    characters are shown as `\xNN` so that snapshots stay plain text.
//!
//! Failures of all cases are gathered and reported together. Snapshots are
//! created or updated with `INSTA_UPDATE=always cargo test --test errors`;
//! review the changes before keeping them. [`every_code_has_a_case`] keeps
//! one case per code of `virtplan::diag::CODES`, except those in [`SKIPPED`].

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

mod common;

use virtplan::diag::{CODES, RenderOptions, Severity, render};
use virtplan::source::MemorySource;

/// Codes that no case produces, with the reason: `fmt`'s own, and those
/// that need a real disk
/// (links, pipes, the disk source's size limit, its listing), which an
/// in-memory project does not have. `tests/disk.rs` produces each of them
/// by running the binary on a project built in a temporary directory.
const SKIPPED: &[(&str, &str)] = &[
    (
        "virtplan::load::outside-project",
        "needs a link on disk: tests/disk.rs",
    ),
    (
        "virtplan::load::not-a-file",
        "needs a pipe on disk: tests/disk.rs",
    ),
    (
        "virtplan::load::too-large",
        "needs the disk source's size limit: tests/disk.rs",
    ),
    (
        "virtplan::load::skipped",
        "needs a disk listing: tests/disk.rs",
    ),
    (
        "virtplan::fmt::mixed-line-endings",
        "only `fmt` produces it, not compiling; tests/fmt.rs covers it",
    ),
    (
        "virtplan::fmt::refused",
        "only `fmt` produces it, not compiling; the unit tests of src/fmt.rs cover it",
    ),
];

/// The warning of a project without a `costs` node.
const NO_COSTS: &str = "virtplan::cost::defaults";

/// The warning of a platform without a `hypervisor`, which most cases that
/// plan waves would show.
const NO_HYPERVISOR: &str = "virtplan::migrate::no-hypervisor";

/// The separator between a case's files and its rendered diagnostics.
const SEPARATOR: &str = "----- DIAGNOSTICS";

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/errors")
}

/// One error case, read from disk.
struct Case {
    name: String,
    /// The code named by the first line.
    code: String,
    /// Every file of the project, by project-relative path, main file first.
    files: Vec<(String, Vec<u8>)>,
}

fn read_cases() -> Vec<Case> {
    let dir = cases_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("read a directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read_case(p)).collect()
}

fn read_case(path: &Path) -> Case {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("case file names are UTF-8")
        .to_string();
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = bytes
        .split(|b| *b == b'\n')
        .map(|l| String::from_utf8_lossy(l).trim().to_string());
    let first = lines.next().unwrap_or_default();
    let code = first
        .strip_prefix("//")
        .map(str::trim)
        .filter(|c| c.starts_with("virtplan::"))
        .unwrap_or_else(|| {
            panic!("{name}: the first line must be `// virtplan::<stage>::<kind>`, found {first:?}")
        })
        .to_string();
    let main_path = lines
        .next()
        .and_then(|l| l.strip_prefix("// path:").map(|p| p.trim().to_string()))
        .unwrap_or_else(|| format!("{name}.kdl"));
    let mut files = vec![(main_path, bytes)];
    let extra = path.with_extension("");
    if extra.is_dir() {
        files.extend(common::files_under(&extra));
    }
    Case { name, code, files }
}

/// Text for the snapshot: bytes that are not UTF-8 and control characters
/// other than newline and tab are written as `\xNN`, so a snapshot of a
/// binary or mis-encoded file stays plain, readable text.
fn printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && c != '\n' && c != '\t' {
                for b in c.to_string().bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Compiles one case and returns its problems (empty when it passes) and
/// the snapshot text.
fn run(case: &Case) -> (Vec<String>, String) {
    let mut fs = MemorySource::new();
    for (path, bytes) in &case.files {
        fs = fs.with(path, bytes.clone());
    }
    let compiled = virtplan::compile(&fs);
    let diags = &compiled.diags.items;
    let mut problems = Vec::new();

    if !diags.iter().any(|d| d.code == case.code) {
        let found: Vec<&str> = diags.iter().map(|d| d.code).collect();
        problems.push(format!("expected `{}`, found {found:?}", case.code));
    }
    let files: Vec<(usize, &str)> = compiled
        .sources
        .files()
        .map(|(_, f)| (f.text.len(), f.name.as_str()))
        .collect();
    for d in diags {
        let span_ok = |s: &virtplan::source::Span| {
            files
                .get(s.file.0 as usize)
                .is_some_and(|(len, _)| s.start <= s.end && s.end as usize <= *len)
        };
        match &d.span {
            Some(s) if !span_ok(s) => {
                problems.push(format!("`{}` has a span outside its file: {s:?}", d.code))
            }
            None if d.severity == Severity::Error && !files.is_empty() => {
                problems.push(format!("error `{}` ({}) has no span", d.code, d.message));
            }
            _ => {}
        }
        for (s, label) in &d.related {
            if !span_ok(s) {
                problems.push(format!(
                    "`{}` has a related span ({label}) outside its file",
                    d.code
                ));
            }
        }
        if d.help.trim().is_empty() {
            problems.push(format!("`{}` ({}) has no help", d.code, d.message));
        }
    }

    let mut snap = String::new();
    for (i, (path, bytes)) in case.files.iter().enumerate() {
        if i > 0 || path != &format!("{}.kdl", case.name) {
            let _ = writeln!(snap, "----- FILE {path}");
        }
        snap.push_str(&printable(bytes));
        if !snap.ends_with('\n') {
            snap.push('\n');
        }
    }
    snap.push_str(SEPARATOR);
    snap.push('\n');
    // A case shows one mistake: the warning that a project has no `costs`
    // (most cases have none) is left out of every snapshot but its own.
    let shown: Vec<_> = diags
        .iter()
        .filter(|d| d.code != NO_COSTS || case.code == NO_COSTS)
        .filter(|d| d.code != NO_HYPERVISOR || case.code == NO_HYPERVISOR)
        .cloned()
        .collect();
    let rendered = render(
        &shown,
        &compiled.sources,
        RenderOptions {
            color: false,
            width: 80,
        },
    );
    snap.push_str(&printable(rendered.as_bytes()));
    (problems, snap)
}

#[test]
fn cases() {
    let cases = read_cases();
    assert!(!cases.is_empty(), "no case in {}", cases_dir().display());
    let mut failures = Vec::new();
    for case in &cases {
        let (problems, snap) = run(case);
        failures.extend(problems.into_iter().map(|p| format!("{}: {p}", case.name)));
        let name = case.name.as_str();
        let snapshot = catch_unwind(AssertUnwindSafe(|| insta::assert_snapshot!(name, snap)));
        if snapshot.is_err() {
            failures.push(format!(
                "{name}: the snapshot differs (see above; review with `cargo insta review`)"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_code_has_a_case() {
    let known: BTreeSet<&str> = CODES.iter().map(|(c, _)| *c).collect();
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for case in read_cases() {
        if !known.contains(case.code.as_str()) {
            problems.push(format!(
                "{}: `{}` is not in diag::CODES",
                case.name, case.code
            ));
        }
        covered.insert(case.code);
    }
    for (code, meaning) in CODES {
        let skipped = SKIPPED.iter().any(|(c, _)| c == code);
        if !skipped && !covered.contains(*code) {
            problems.push(format!(
                "no case for `{code}` ({meaning}): add tests/cases/errors/<name>.kdl"
            ));
        }
        if skipped && covered.contains(*code) {
            problems.push(format!("`{code}` has a case now: remove it from SKIPPED"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A syntax error deep in a large file points at the wrong token on its own
/// line, and the snippet shows a few lines, not the file up to the error.
#[test]
fn a_late_syntax_error_points_at_its_token() {
    let mut text = String::from("project \"Acme\" {\n    currency \"EUR\"\n}\n");
    let mut line = 3;
    while line < 2026 {
        text.push_str(&format!("// filler line {line}\n"));
        line += 1;
    }
    text.push_str("server \"b\" cores=\n");
    let fs = MemorySource::new().with("servers.kdl", text);
    let compiled = virtplan::check(&fs);
    let d = compiled
        .diags
        .items
        .iter()
        .find(|d| d.code == "virtplan::parse::syntax")
        .expect("a syntax error");
    let span = d.span.expect("a span");
    assert_eq!(compiled.sources.position(span), "servers.kdl:2027:12");
    let shown = render(
        &compiled.diags.items,
        &compiled.sources,
        RenderOptions {
            color: false,
            width: 80,
        },
    );
    assert!(
        shown.lines().count() < 15,
        "the snippet is a few lines:\n{shown}"
    );
    assert!(!shown.contains("filler line 3\n"), "{shown}");
}

/// A diagnostic whose span covers many lines shows only the first of them.
#[test]
fn long_spans_are_cut_to_their_first_line() {
    use virtplan::diag::Diagnostic;
    use virtplan::source::{SourceMap, Span};
    let mut sources = SourceMap::default();
    let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    let id = sources.add("a.kdl".into(), text.clone());
    let d = Diagnostic::error("virtplan::parse::syntax", "broken")
        .at(Span::new(id, 0, text.len()), "all of it")
        .help("none");
    let shown = render(
        &[d],
        &sources,
        RenderOptions {
            color: false,
            width: 80,
        },
    );
    assert!(shown.contains("line 1"), "{shown}");
    assert!(!shown.contains("line 5\n"), "{shown}");
}
