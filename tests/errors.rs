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
//! [`every_code_has_a_book_page`] keeps the book's page of each code (its
//! meaning from the diagnostics chapter, its case and snapshot as the
//! example) in step: `VIRTPLAN_UPDATE_BOOK=1 cargo test --test errors`
//! rewrites the pages after a snapshot or a meaning changed.

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
        "needs a link on disk (tested in tests/disk.rs)",
    ),
    (
        "virtplan::load::not-a-file",
        "needs a pipe on disk (tested in tests/disk.rs)",
    ),
    (
        "virtplan::load::too-large",
        "needs a file over the disk source's size limit (tested in tests/disk.rs)",
    ),
    (
        "virtplan::load::skipped",
        "needs a disk listing (tested in tests/disk.rs)",
    ),
    (
        "virtplan::fmt::mixed-line-endings",
        "is only produced by `fmt`, not by compiling (tested in tests/fmt.rs)",
    ),
    (
        "virtplan::fmt::refused",
        "is only produced by `fmt`, not by compiling (tested by the unit tests of src/fmt.rs)",
    ),
    (
        "virtplan::import::column",
        "is only produced by `import inventory`, not by compiling (tested in tests/inventory.rs)",
    ),
    (
        "virtplan::import::value",
        "is only produced by `import inventory`, not by compiling (tested in tests/inventory.rs)",
    ),
    (
        "virtplan::import::renamed",
        "is only produced by `import inventory`, not by compiling (tested in tests/inventory.rs)",
    ),
    (
        "virtplan::import::duplicate",
        "is only produced by `import inventory`, not by compiling (tested in tests/inventory.rs)",
    ),
    (
        "virtplan::import::hand-written",
        "is only produced by `import inventory`, not by compiling (tested in tests/inventory.rs)",
    ),
    (
        "virtplan::import::gone",
        "is only produced by `import inventory`, not by compiling (tested in tests/inventory.rs)",
    ),
    (
        "virtplan::prometheus::request",
        "is only produced by `import metrics`, not by compiling (tested in tests/prometheus.rs)",
    ),
    (
        "virtplan::prometheus::instance",
        "is only produced by `import metrics`, not by compiling (tested in tests/prometheus.rs)",
    ),
    (
        "virtplan::prometheus::no-series",
        "is only produced by `import metrics`, not by compiling (tested in tests/prometheus.rs)",
    ),
    (
        "virtplan::prometheus::values",
        "is only produced by `import metrics`, not by compiling (tested in tests/prometheus.rs)",
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

/// The book's page of a code: `book/src/diagnostics/<stage>-<kind>.md`.
fn page_name(code: &str) -> String {
    let short = code
        .strip_prefix("virtplan::")
        .expect("codes start with virtplan::");
    format!("{}.md", short.replace("::", "-"))
}

/// The meaning of every code, from the table rows of the diagnostics
/// chapter (`| [`code`](diagnostics/page.md) | meaning |`), its links made
/// relative to the pages' folder.
fn meanings(chapter: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in chapter.lines() {
        let Some(rest) = line.strip_prefix("| [`") else {
            continue;
        };
        let (code, rest) = rest.split_once("`](").expect("a linked code");
        let (_, rest) = rest.split_once(") | ").expect("a link, then the meaning");
        let meaning = rest.strip_suffix(" |").expect("a closed row");
        let mut relinked = String::new();
        let mut parts = meaning.split("](");
        relinked.push_str(parts.next().unwrap_or(""));
        for part in parts {
            relinked.push_str("](");
            if !part.starts_with("http") && !part.starts_with('#') {
                relinked.push_str("../");
            }
            relinked.push_str(part);
        }
        out.push((code.to_string(), relinked));
    }
    out
}

/// A case's snapshot: its files (path, text) and the rendered diagnostics.
fn snapshot_parts(case: &Case) -> (Vec<(String, String)>, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("errors__{}.snap", case.name));
    let snap = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // insta's header: `---`, its fields, `---`.
    let body = snap.splitn(3, "---\n").nth(2).expect("an insta header");
    let (files, rendered) = body
        .split_once(&format!("{SEPARATOR}\n"))
        .expect("the diagnostics separator");
    let mut out = Vec::new();
    let mut chunks = files.split("----- FILE ");
    out.push((
        case.files[0].0.clone(),
        chunks.next().unwrap_or("").to_string(),
    ));
    for chunk in chunks {
        let (path, text) = chunk.split_once('\n').unwrap_or((chunk, ""));
        out.push((path.to_string(), text.to_string()));
    }
    (out, rendered.to_string())
}

/// The text of a code's page.
fn page(code: &str, meaning: &str, case: Option<&Case>, skipped: Option<&str>) -> String {
    let mut page = format!("# `{code}`\n\n{meaning}\n\n## Example\n\n");
    match (case, skipped) {
        (Some(case), _) => {
            let (files, rendered) = snapshot_parts(case);
            page.push_str("A project with this mistake:\n\n");
            for (path, text) in files {
                let text = text.trim_end_matches('\n');
                let _ = write!(page, "`{path}`:\n\n```text\n{text}\n```\n\n");
            }
            let rendered = rendered.trim_end_matches('\n');
            let _ = write!(
                page,
                "`virtplan check` prints:\n\n```text\n{rendered}\n```\n\n"
            );
            let _ = writeln!(
                page,
                "The example is the error case `tests/cases/errors/{}.kdl` of virtplan's tests.",
                case.name
            );
        }
        (None, Some(reason)) => {
            let _ = writeln!(page, "No example is shown: this code {reason}.");
        }
        (None, None) => unreachable!("every code has a case or a reason (every_code_has_a_case)"),
    }
    let _ = write!(page, "\n[Every diagnostic code](../diagnostics.md#codes)\n");
    page
}

/// Every code has its page in the book, generated from the diagnostics
/// chapter's table and the code's error case (its files and what `check`
/// prints), listed in SUMMARY.md; no page is left for a code that is gone.
/// `VIRTPLAN_UPDATE_BOOK=1 cargo test --test errors` writes them.
#[test]
fn every_code_has_a_book_page() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    let chapter = std::fs::read_to_string(book.join("diagnostics.md")).expect("diagnostics.md");
    let meanings = meanings(&chapter);
    let cases = read_cases();
    let update = std::env::var_os("VIRTPLAN_UPDATE_BOOK").is_some();
    let dir = book.join("diagnostics");
    let mut problems = Vec::new();
    let mut summary_lines = Vec::new();
    for (code, _) in CODES {
        let Some((_, meaning)) = meanings.iter().find(|(c, _)| c == code) else {
            problems.push(format!("diagnostics.md has no row `| [`{code}`](…) | … |`"));
            continue;
        };
        let case = cases.iter().find(|c| c.code == *code);
        let skipped = SKIPPED.iter().find(|(c, _)| c == code).map(|(_, r)| *r);
        let text = page(code, meaning, case, skipped);
        let name = page_name(code);
        summary_lines.push(format!("  - [`{code}`](diagnostics/{name})"));
        let path = dir.join(&name);
        if update {
            std::fs::create_dir_all(&dir).expect("create book/src/diagnostics");
            std::fs::write(&path, &text).expect("write a page");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            problems.push(format!("book/src/diagnostics/{name} is missing or stale"));
        }
    }
    for (code, _) in &meanings {
        if !CODES.iter().any(|(c, _)| c == code) {
            problems.push(format!(
                "diagnostics.md lists `{code}`, which is not a code"
            ));
        }
    }
    for entry in std::fs::read_dir(&dir).into_iter().flatten() {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !CODES.iter().any(|(c, _)| page_name(c) == name) {
            problems.push(format!(
                "book/src/diagnostics/{name} is the page of no code"
            ));
        }
    }
    let summary_path = book.join("SUMMARY.md");
    let summary = std::fs::read_to_string(&summary_path).expect("SUMMARY.md");
    let head = "- [Diagnostics](diagnostics.md)\n";
    let (before, after) = summary.split_once(head).expect("a Diagnostics entry");
    let rest: String = after
        .lines()
        .skip_while(|l| l.starts_with("  - [`virtplan::"))
        .map(|l| format!("{l}\n"))
        .collect();
    let listed = format!("{before}{head}{}\n{rest}", summary_lines.join("\n"));
    if update {
        std::fs::write(&summary_path, &listed).expect("write SUMMARY.md");
    } else if summary != listed {
        problems.push("SUMMARY.md does not list every code's page under Diagnostics".to_string());
    }
    assert!(
        problems.is_empty(),
        "{}\n(VIRTPLAN_UPDATE_BOOK=1 cargo test --test errors every_code_has_a_book_page writes them)",
        problems.join("\n")
    );
}
