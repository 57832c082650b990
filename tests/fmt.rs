//! The formatter on every KDL text we ship: the example projects and the
//! ```kdl blocks of the book, plus one file written to hold comments of
//! every kind, a list of shapes KDL v2 allows (comment or slashdash before
//! `{`, continuation lines, slashdashed blocks, `;`, CRLF, a byte order
//! mark) each with its expected output worked out by hand, and 300 generated
//! files that combine them (checked against the `kdl` crate's reading,
//! comment by comment, with their line endings and byte order mark).
//!
//! For each file: formatting succeeds, formatting the output again changes
//! nothing, indentation is in steps of four spaces, every `//` comment
//! survives, and the meaning does not change (the checker sees the same
//! nodes, values and diagnostics). Each example project, formatted file by
//! file, still compiles without errors to the same number of servers and the
//! same plan. Finally an independent KDL v2 parser, the Python package
//! `ckdl` run by `tests/ckdl_check.py`, must accept every formatted file
//! (written to `target/tmp/fmt-ckdl/formatted/`). Without `ckdl` that test
//! is skipped with a message, unless the `CI` environment variable is set:
//! then it fails (`pip install ckdl`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use virtplan::diag::{Diagnostics, RenderOptions, Severity, render_short};
use virtplan::source::{FileId, MemorySource, SourceMap};
use virtplan::syntax::Node;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------ inputs

/// One KDL text to format: where it comes from, and the text.
struct Input {
    /// Human-readable origin: `examples/small/estate.kdl` or
    /// `book/src/x.md, kdl block 2 (line 14)`.
    origin: String,
    /// A file name for the ckdl check, unique and flat.
    flat_name: String,
    text: String,
}

/// Every file under `dir` (recursively, sorted) with one of the extensions,
/// as (project-relative `/` path, bytes).
fn files_under(dir: &Path, exts: &[&str]) -> Vec<(String, Vec<u8>)> {
    common::files_under(dir)
        .into_iter()
        .filter(|(rel, _)| {
            Path::new(rel)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
        })
        .collect()
}

const EXAMPLES: &[&str] = &["small", "realistic"];

/// Every file of an example project that virtplan reads (KDL and CSV).
fn example_project(name: &str) -> MemorySource {
    let mut fs = MemorySource::new();
    for (rel, bytes) in files_under(&root().join("examples").join(name), &["kdl", "csv"]) {
        fs.files.insert(rel, bytes);
    }
    assert!(
        fs.files.keys().any(|k| k.ends_with(".kdl")),
        "example `{name}` has no .kdl file"
    );
    fs
}

fn example_inputs() -> Vec<Input> {
    let mut inputs = Vec::new();
    for ex in EXAMPLES {
        for (rel, bytes) in example_project(ex).files {
            if !rel.ends_with(".kdl") {
                continue;
            }
            let origin = format!("examples/{ex}/{rel}");
            let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{origin} is not UTF-8"));
            inputs.push(Input {
                flat_name: format!("examples-{ex}-{}", rel.replace('/', "-")),
                origin,
                text,
            });
        }
    }
    inputs
}

/// The ```kdl blocks of the book, if the book is there.
fn book_inputs() -> Vec<Input> {
    let dir = root().join("book").join("src");
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut inputs = Vec::new();
    for (rel, bytes) in files_under(&dir, &["md"]) {
        let text =
            String::from_utf8(bytes).unwrap_or_else(|_| panic!("book/src/{rel} is not UTF-8"));
        for (n, (line, body)) in kdl_blocks(&text).into_iter().enumerate() {
            inputs.push(Input {
                origin: format!("book/src/{rel}, kdl block {} (line {line})", n + 1),
                flat_name: format!(
                    "book-{}-{}.kdl",
                    rel.replace('/', "-").trim_end_matches(".md"),
                    n + 1
                ),
                text: body,
            });
        }
    }
    inputs
}

/// The bodies of the ```kdl fenced blocks of a Markdown text, with the line
/// each body starts on. Fences are three or more backticks; the closing
/// fence is the same run of backticks.
fn kdl_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, bool, usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|c| *c == '`').count();
        match open.take() {
            None if ticks >= 3 => {
                let lang = trimmed[ticks..].split_whitespace().next().unwrap_or("");
                // `kdl` exactly, or `kdl,...` attributes as mdBook allows.
                let is_kdl = lang == "kdl" || lang.starts_with("kdl,");
                open = Some(("`".repeat(ticks), is_kdl, i + 2, String::new()));
            }
            None => {}
            Some((fence, is_kdl, start, body)) if trimmed.trim_end() == fence => {
                blocks.extend(is_kdl.then_some((start, body)));
            }
            Some((fence, is_kdl, start, mut body)) => {
                body.push_str(line);
                body.push('\n');
                open = Some((fence, is_kdl, start, body));
            }
        }
    }
    blocks
}

// ------------------------------------------------------------------ checks

/// Formats a text, or fails with the diagnostics.
fn format_ok(origin: &str, text: &str) -> String {
    let mut diags = Diagnostics::default();
    let out = virtplan::fmt::format(FileId(0), text, &mut diags);
    match out {
        Some(out) => out,
        None => {
            let mut sources = SourceMap::default();
            sources.add(origin.to_string(), text.to_string());
            panic!(
                "{origin}: fmt failed:\n{}",
                virtplan::diag::render(
                    &diags.items,
                    &sources,
                    RenderOptions {
                        color: false,
                        width: 80
                    }
                )
            );
        }
    }
}

/// The `//` comments of a text: whole comment lines (trimmed), and the
/// comment part of lines with code before it. A `//` inside a string does
/// not count (a simple quote count is enough for our files).
fn line_comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let bytes = line.as_bytes();
        let mut in_string = false;
        let mut i = 0;
        while i + 1 < bytes.len() {
            match bytes[i] {
                b'\\' if in_string => i += 1,
                b'"' => in_string = !in_string,
                b'/' if !in_string && bytes[i + 1] == b'/' => {
                    out.push(line[i..].trim().to_string());
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// Lines (1-based, with their text) whose indentation is not a multiple of
/// four spaces, or uses tabs. Lines inside multi-line strings and block
/// comments are free.
fn badly_indented(text: &str) -> Vec<(usize, &str)> {
    let mut bad = Vec::new();
    let (mut in_string, mut in_comment) = (false, false);
    for (i, line) in text.lines().enumerate() {
        let free = in_string || in_comment;
        in_string ^= line.matches("\"\"\"").count() % 2 == 1;
        let opens = line.matches("/*").count();
        let closes = line.matches("*/").count();
        if opens > closes {
            in_comment = true;
        } else if closes > opens {
            in_comment = false;
        }
        if free || line.trim().is_empty() {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        if indent.contains('\t') || indent.len() % 4 != 0 {
            bad.push((i + 1, line));
        }
    }
    bad
}

/// A node without its spans, for comparing meaning.
#[derive(Debug, PartialEq)]
struct Plain {
    name: String,
    args: Vec<String>,
    props: BTreeMap<String, String>,
    children: Vec<Plain>,
}

fn plain(n: &Node) -> Plain {
    Plain {
        name: n.name.value.clone(),
        args: n.args.iter().map(|a| format!("{:?}", a.value)).collect(),
        props: n
            .props
            .iter()
            .map(|(k, v)| (k.clone(), format!("{:?}", v.value)))
            .collect(),
        children: n.children.iter().map(plain).collect(),
    }
}

/// What the checker makes of a text: its nodes without spans, and the codes
/// of its diagnostics.
fn checked(text: &str) -> (Vec<Plain>, Vec<&'static str>) {
    let mut diags = Diagnostics::default();
    let nodes = virtplan::syntax::parse(FileId(0), text, &mut diags);
    (
        nodes.iter().map(plain).collect(),
        diags.items.iter().map(|d| d.code).collect(),
    )
}

/// Everything that must hold for one text: the formatted text, or every
/// problem found.
fn check_one(input: &Input) -> Result<String, Vec<String>> {
    let origin = &input.origin;
    let mut problems = Vec::new();
    let once = format_ok(origin, &input.text);
    let twice = format_ok(&format!("{origin} (formatted once)"), &once);
    if once != twice {
        let line = once
            .lines()
            .zip(twice.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "the line count".to_string(),
                |i| format!("line {}", i + 1),
            );
        problems.push(format!(
            "{origin}: fmt is not idempotent (first difference at {line})\n--- once ---\n{once}\n--- twice ---\n{twice}"
        ));
    }
    if !once.ends_with('\n') {
        problems.push(format!(
            "{origin}: the formatted text does not end with a newline"
        ));
    }
    for (n, line) in badly_indented(&once) {
        problems.push(format!(
            "{origin}: formatted line {n} is not indented by a multiple of four spaces: {line:?}"
        ));
    }
    let out_comments = line_comments(&once);
    for c in line_comments(&input.text) {
        if !out_comments.iter().any(|o| o.contains(c.as_str())) {
            problems.push(format!("{origin}: fmt loses the comment `{c}`"));
        }
    }
    let (before, before_diags) = checked(&input.text);
    let (after, after_diags) = checked(&once);
    if before_diags != after_diags {
        problems.push(format!(
            "{origin}: fmt changes the checker's diagnostics from {before_diags:?} to {after_diags:?}"
        ));
    }
    if before != after {
        let first = before
            .iter()
            .zip(&after)
            .position(|(a, b)| a != b)
            .unwrap_or(before.len().min(after.len()));
        problems.push(format!(
            "{origin}: fmt changes the meaning: top-level node {} differs ({} nodes before, {} after)\nbefore: \
             {:#?}\nafter: {:#?}",
            first + 1,
            before.len(),
            after.len(),
            before.get(first),
            after.get(first)
        ));
    }
    if problems.is_empty() {
        Ok(once)
    } else {
        Err(problems)
    }
}

/// Checks every input and fails with every problem at once.
fn check_all(inputs: &[Input]) {
    let mut problems = Vec::new();
    for input in inputs {
        if let Err(p) = check_one(input) {
            problems.extend(p);
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in {} file(s):\n{}",
        problems.len(),
        inputs.len(),
        problems.join("\n")
    );
}

// ------------------------------------------------------------------ tests

#[test]
fn every_example_file_formats_idempotently_and_keeps_comments() {
    let inputs = example_inputs();
    assert!(
        inputs.len() >= 5,
        "expected the example .kdl files, found {}",
        inputs.len()
    );
    check_all(&inputs);
}

#[test]
fn every_book_kdl_block_formats_idempotently_and_keeps_comments() {
    let inputs = book_inputs();
    if inputs.is_empty() {
        eprintln!("fmt: no book/src or no ```kdl block in it; nothing to check");
        return;
    }
    check_all(&inputs);
}

/// Number of servers and the plan as JSON (the plan does not hold spans).
fn compile_summary(name: &str, fs: &MemorySource) -> (usize, String) {
    let c = virtplan::compile(fs);
    let errors: Vec<_> = c
        .diags
        .items
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .cloned()
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: errors:\n{}",
        render_short(&errors, &c.sources)
    );
    let model = c.model.unwrap_or_else(|| panic!("{name}: no model"));
    let plan = c.plan.unwrap_or_else(|| panic!("{name}: no plan"));
    let json = serde_json::to_string_pretty(&plan).expect("plan as JSON");
    (model.servers.len(), json)
}

#[test]
fn formatted_examples_compile_to_the_same_plan() {
    for ex in EXAMPLES {
        let original = example_project(ex);
        let mut formatted = original.clone();
        for (rel, bytes) in formatted.files.iter_mut() {
            if rel.ends_with(".kdl") {
                let text = String::from_utf8(bytes.clone()).expect("UTF-8");
                *bytes = format_ok(&format!("examples/{ex}/{rel}"), &text).into_bytes();
            }
        }
        let (servers, plan) = compile_summary(&format!("examples/{ex}"), &original);
        let (fservers, fplan) = compile_summary(&format!("examples/{ex} (formatted)"), &formatted);
        assert!(servers > 0, "examples/{ex} has no server");
        assert_eq!(
            servers, fservers,
            "examples/{ex}: the formatted project has a different number of servers"
        );
        if plan != fplan {
            let line = plan
                .lines()
                .zip(fplan.lines())
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            panic!(
                "examples/{ex}: the formatted project compiles to a different plan (JSON line {line}: {:?} vs {:?})",
                plan.lines().nth(line.saturating_sub(1)),
                fplan.lines().nth(line.saturating_sub(1))
            );
        }
    }
}

// ------------------------------------------------------------------ ckdl

/// Whether `python3` can import `ckdl`; the reason when not.
fn ckdl_available() -> Result<(), String> {
    match Command::new("python3").args(["-c", "import ckdl"]).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`python3 -c \"import ckdl\"` failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .trim()
        )),
        Err(e) => Err(format!("cannot run python3: {e}")),
    }
}

/// Runs `tests/ckdl_check.py` on a directory; the output when it fails.
fn run_ckdl_check(dir: &Path) -> Result<String, String> {
    let script = root().join("tests").join("ckdl_check.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

fn write_dir(dir: &Path, files: &[(String, String)]) {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot clear {}: {e}", dir.display()));
    }
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    for (name, text) in files {
        std::fs::write(dir.join(name), text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", dir.join(name).display()));
    }
}

#[test]
fn ckdl_accepts_every_formatted_file() {
    if let Err(why) = ckdl_available() {
        let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"));
        if ci {
            panic!("{why}\nCI must install the ckdl Python package: `pip install ckdl`");
        }
        eprintln!(
            "SKIPPED ckdl_accepts_every_formatted_file: {why}\n  install it with `pip install ckdl` to run this check \
             (it is required when CI is set)"
        );
        return;
    }
    let inputs: Vec<Input> = example_inputs()
        .into_iter()
        .chain(book_inputs())
        .chain([every_comment_kind()])
        .chain(SHAPES.iter().map(|s| Input {
            origin: format!("shape {}", s.name),
            flat_name: format!("shape-{}.kdl", s.name),
            text: s.input.to_string(),
        }))
        .chain(generated_inputs())
        .collect();
    let mut formatted = Vec::new();
    let mut originals = Vec::new();
    for input in &inputs {
        let name = if input.flat_name.ends_with(".kdl") {
            input.flat_name.clone()
        } else {
            format!("{}.kdl", input.flat_name)
        };
        formatted.push((name.clone(), format_ok(&input.origin, &input.text)));
        originals.push((name, input.text.clone()));
    }
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fmt-ckdl");
    let dir = base.join("formatted");
    write_dir(&dir, &formatted);
    match run_ckdl_check(&dir) {
        Ok(out) => eprintln!("{}", out.trim()),
        Err(out) => {
            // Say whether the originals parse, to tell fmt bugs from input bugs.
            let odir = base.join("original");
            write_dir(&odir, &originals);
            let originals = match run_ckdl_check(&odir) {
                Ok(_) => "every original file parses: the formatter broke them".to_string(),
                Err(o) => format!("the originals fail too:\n{o}"),
            };
            let mut msg = String::new();
            let _ = writeln!(
                msg,
                "ckdl rejects formatted files in {}:\n{out}",
                dir.display()
            );
            let _ = writeln!(msg, "{originals}");
            panic!("{msg}");
        }
    }
}

/// A file written to hold comments of every kind, in every place.
fn every_comment_kind() -> Input {
    let text = "\
// leading comment
project \"p\" { // after the brace
    /* block before a child */ currency \"EUR\" // trailing comment
    /- timezone \"UTC\"
    horizon-years /* between entries */ 5
    discount-rate \"8%\" /- \"9%\"
    // last line of the block
}
/* a block comment
   on two lines */
/-server \"x\" { clock \"1GHz\" }
// the end
";
    Input {
        origin: "comments of every kind".to_string(),
        flat_name: "comments.kdl".to_string(),
        text: text.to_string(),
    }
}

/// Comments of every kind, in every place, on a file written for the
/// purpose (the examples do not use them all). Each comment's text must
/// survive, line by line, and so must slashdashed nodes and entries.
#[test]
fn comments_of_every_kind_survive() {
    let input = every_comment_kind();
    let text = input.text.as_str();
    let mut problems = check_one(&input).err().unwrap_or_default();
    let once = format_ok(&input.origin, text);
    // `//` comments are checked by `check_one`; here the rest.
    for piece in [
        "/* block before a child */",
        "/- timezone",
        "/* between entries */",
        "/- \"9%\"",
        "/* a block comment",
        "on two lines */",
        "/-server",
    ] {
        if !once.contains(piece) {
            problems.push(format!("fmt loses `{piece}`"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}\n--- input ---\n{text}--- formatted ---\n{once}",
        problems.len(),
        problems.join("\n")
    );
}

// ------------------------------------------------------------------ shapes

/// The document a KDL text means, formatting aside (the `kdl` crate's view,
/// independent of virtplan's language).
fn meaning(origin: &str, text: &str) -> kdl::KdlDocument {
    let body = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut doc = kdl::KdlDocument::parse_v2(body)
        .unwrap_or_else(|e| panic!("{origin}: the kdl crate rejects it: {e:?}\n{text}"));
    doc.clear_format_recursive();
    doc
}

/// One layout KDL v2 allows, its input and the formatted text worked out by
/// hand.
struct Shape {
    name: &'static str,
    input: &'static str,
    expected: &'static str,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "comment-before-brace",
        input: "server \"a\" cores=4 /* note */ {\n  clock \"1GHz\"\n}\n",
        expected: "server \"a\" cores=4 /* note */ {\n    clock \"1GHz\"\n}\n",
    },
    Shape {
        name: "slashdash-entry-before-brace",
        input: "server \"a\"   /-cores=4 {\n  clock \"1GHz\"\n}\n",
        expected: "server \"a\" /-cores=4 {\n    clock \"1GHz\"\n}\n",
    },
    Shape {
        name: "line-continuation-with-comment",
        input: "server \"a\" \\ // x\n  cores=4\nserver \"b\"\n",
        expected: "server \"a\" \\ // x\n    cores=4\nserver \"b\"\n",
    },
    Shape {
        name: "slashdashed-block",
        input: "/-server \"x\" {\n  clock \"1GHz\"\n      nested {\n deep 1\n }\n}\nproject \"p\" {\n/-server \"y\" {\nclock 1\n}\n}\n",
        expected: "/-server \"x\" {\n    clock \"1GHz\"\n    nested {\n        deep 1\n    }\n}\nproject \"p\" {\n    /-server \"y\" {\n        clock 1\n    }\n}\n",
    },
    Shape {
        name: "slashdashed-children-and-comment-after-close",
        input: "server \"d\" {\n  a 1\n}   /-{\n  b 2\n  } // after\n",
        expected: "server \"d\" {\n    a 1\n} /-{\n    b 2\n} // after\n",
    },
    Shape {
        name: "comments-in-a-block",
        input: "p { // on the brace\n  // before a\n  a 1 // after a\n\n\n  /* before b */ b 2\n  // before the close\n}\n",
        expected: "p { // on the brace\n    // before a\n    a 1 // after a\n\n    /* before b */ b 2\n    // before the close\n}\n",
    },
    Shape {
        name: "trailing-whitespace",
        input: "a 1 // c \t \nb 2   \n",
        expected: "a 1 // c\nb 2\n",
    },
    Shape {
        name: "semicolons",
        input: "a 1; b 2 /* b */; c { d; e }\n",
        expected: "a 1\nb 2 /* b */\nc {\n    d\n    e\n}\n",
    },
    Shape {
        name: "crlf",
        input: "a 1\r\nb {\r\n  c 2 // c\r\n}\r\n",
        expected: "a 1\r\nb {\r\n    c 2 // c\r\n}\r\n",
    },
    Shape {
        name: "bom",
        input: "\u{FEFF}a 1\nb {\n  c 2\n}\n",
        expected: "\u{FEFF}a 1\nb {\n    c 2\n}\n",
    },
    Shape {
        name: "bom-crlf",
        input: "\u{FEFF}// head\r\na 1\r\n",
        expected: "\u{FEFF}// head\r\na 1\r\n",
    },
];

/// Formats a text; the output and the codes of the diagnostics.
fn format_with_codes(text: &str) -> (Option<String>, Vec<&'static str>) {
    let mut diags = Diagnostics::default();
    let out = virtplan::fmt::format(FileId(0), text, &mut diags);
    (out, diags.items.iter().map(|d| d.code).collect())
}

/// Each shape formats to the text worked out by hand, without a diagnostic,
/// keeps its meaning, and is already formatted once formatted.
#[test]
fn each_shape_formats_to_its_expected_text() {
    let mut problems = Vec::new();
    for shape in SHAPES {
        let (out, codes) = format_with_codes(shape.input);
        let Some(out) = out else {
            problems.push(format!("{}: fmt refused it: {codes:?}", shape.name));
            continue;
        };
        if out != shape.expected {
            problems.push(format!(
                "{}: expected\n{:?}\ngot\n{:?}",
                shape.name, shape.expected, out
            ));
        }
        if !codes.is_empty() {
            problems.push(format!("{}: unexpected diagnostics {codes:?}", shape.name));
        }
        if meaning(shape.name, shape.input) != meaning(shape.name, &out) {
            problems.push(format!("{}: the meaning changed", shape.name));
        }
        if format_with_codes(&out).0.as_deref() != Some(out.as_str()) {
            problems.push(format!("{}: not idempotent", shape.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A file that mixes CRLF and LF is written with the majority, LF when
/// tied, and a warning says so; so is one with lone CRs; a file with one
/// kind gets none.
#[test]
fn mixed_line_endings_take_the_majority_with_a_warning() {
    let warn = vec!["virtplan::fmt::mixed-line-endings"];
    let cases: [(&str, &str, Vec<&str>); 5] = [
        ("a 1\r\nb 2\nc 3\r\n", "a 1\r\nb 2\r\nc 3\r\n", warn.clone()),
        ("a 1\rb 2\r", "a 1\nb 2\n", warn.clone()),
        ("a 1\nb 2\r\nc 3\n", "a 1\nb 2\nc 3\n", warn.clone()),
        ("a 1\r\nb 2\n", "a 1\nb 2\n", warn.clone()),
        ("a 1\r\nb 2\r\n", "a 1\r\nb 2\r\n", vec![]),
    ];
    for (input, expected, codes) in cases {
        let (out, got) = format_with_codes(input);
        assert_eq!(out.as_deref(), Some(expected), "input {input:?}");
        assert_eq!(got, codes, "input {input:?}");
    }
}

// ------------------------------------------------ generated combinations

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Gen {
    state: u64,
    /// Counter for unique markers.
    n: usize,
    newline: &'static str,
    /// Every comment and slashdashed piece written, each unique.
    pieces: Vec<String>,
}

impl Gen {
    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn id(&mut self) -> usize {
        self.n += 1;
        self.n
    }
    fn indent(&mut self) -> String {
        " ".repeat((self.next() % 7) as usize)
    }
    fn space(&mut self) -> &'static str {
        self.pick(&[" ", "  ", "\t", " \t "])
    }
    fn piece(&mut self, text: String) -> String {
        self.pieces.push(text.replace("\r\n", "\n"));
        text
    }
    /// A space between entries, maybe holding a comment or a continuation.
    fn gap(&mut self, out: &mut String) {
        out.push_str(self.space());
        if self.chance(15) {
            let id = self.id();
            out.push_str(&self.piece(format!("/* c{id} */")));
            out.push_str(self.space());
        } else if self.chance(8) {
            let id = self.id();
            let comment = self.piece(format!("// c{id} end"));
            out.push_str(&format!("\\ {comment}{}", self.newline));
            out.push_str(&self.indent());
        }
    }
    fn node(&mut self, depth: usize, out: &mut String) {
        let nl = self.newline;
        if self.chance(10) {
            out.push_str(&self.indent());
            let id = self.id();
            out.push_str(&self.piece(format!("// c{id} end")));
            out.push_str(nl);
        }
        if self.chance(5) {
            out.push_str(nl);
        }
        out.push_str(&self.indent());
        if self.chance(10) {
            let id = self.id();
            out.push_str(&self.piece(format!("/* c{id} */")));
            out.push_str(self.space());
        }
        let slashdashed = self.chance(10);
        if slashdashed {
            out.push_str(self.pick(&["/-", "/- "]));
        }
        let id = self.id();
        out.push_str(&self.piece(format!("n{id}n")));
        for _ in 0..self.next() % 4 {
            self.gap(out);
            let id = self.id();
            let entry = match self.next() % 5 {
                0 => format!("{id}"),
                1 => format!("k{id}={id}"),
                2 => format!("\"s{id}\""),
                3 => self.piece(format!("/-x{id}x")),
                _ => self.piece(format!("/-k{id}k=1")),
            };
            out.push_str(&entry);
        }
        if self.chance(40) && depth < 2 {
            self.gap(out);
            out.push('{');
            self.block(depth, out);
            if self.chance(20) {
                out.push_str(self.space());
                out.push_str("/-{");
                self.block(depth, out);
            }
        } else if self.chance(10) {
            self.gap(out);
            out.push_str("/-{");
            self.block(depth, out);
        }
        if self.chance(15) {
            out.push_str(self.space());
            let id = self.id();
            out.push_str(&self.piece(format!("// c{id} end")));
        } else if !slashdashed && self.chance(10) {
            // Not after a slashdashed node: the kdl crate rejects `/-a;`.
            out.push(';');
        }
        out.push_str(nl);
    }
    /// The inside of a block after its `{`, up to and with its `}`.
    fn block(&mut self, depth: usize, out: &mut String) {
        let nl = self.newline;
        if self.chance(20) {
            out.push(' ');
            let id = self.id();
            out.push_str(&self.piece(format!("// c{id} end")));
        }
        out.push_str(nl);
        for _ in 0..self.next() % 3 {
            self.node(depth + 1, out);
        }
        if self.chance(15) {
            out.push_str(&self.indent());
            let id = self.id();
            out.push_str(&self.piece(format!("/* c{id}{nl}   more */")));
            out.push_str(nl);
        }
        out.push_str(&self.indent());
        out.push('}');
    }
}

/// Generated files mixing every shape above: comments and slashdashes in
/// every place, continuations, `;`, blank lines, odd indentation, LF or
/// CRLF, with or without a byte order mark.
fn generated_inputs() -> Vec<Input> {
    generated().into_iter().map(|(input, _)| input).collect()
}

/// The generated files, each with its unique pieces in order (see
/// [`generated_pieces`]).
fn generated() -> Vec<(Input, Vec<String>)> {
    (0..300u64)
        .map(|seed| {
            let mut g = Gen {
                state: 0x9E37_79B9_7F4A_7C15 ^ (seed + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
                n: 0,
                newline: if seed % 2 == 0 { "\n" } else { "\r\n" },
                pieces: Vec::new(),
            };
            let mut text = if seed % 3 == 0 {
                "\u{FEFF}".to_string()
            } else {
                String::new()
            };
            for _ in 0..1 + g.next() % 4 {
                g.node(0, &mut text);
            }
            let input = Input {
                origin: format!("generated file {seed}"),
                flat_name: format!("generated-{seed}.kdl"),
                text,
            };
            (input, g.pieces)
        })
        .collect()
}

/// The unique pieces (comments, slashdashed parts, names) of a generated
/// file, in order: every `// cN end`, `/* cN ... */`, `/-xNx`, `/-kNk=1` and `nNn`.
fn generated_pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['/', 'n']) {
        rest = &rest[i..];
        let end = if rest.starts_with("//") {
            rest.find(" end").map(|e| e + 4)
        } else if rest.starts_with("/*") {
            rest.find("*/").map(|e| e + 2)
        } else if let Some(after) = rest.strip_prefix("/-x") {
            after.find('x').map(|e| e + 4)
        } else if rest.starts_with("/-k") {
            rest.find("=1").map(|e| e + 2)
        } else if rest.starts_with('n') && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
            rest[1..].find('n').map(|e| e + 2)
        } else {
            None
        };
        match end {
            Some(end) => {
                pieces.push(rest[..end].replace("\r\n", "\n"));
                rest = &rest[end..];
            }
            None => rest = &rest[1..],
        }
    }
    pieces
}

/// Over 300 generated files: formatting keeps the meaning (kdl crate), every
/// comment and slashdashed piece exactly once and in order, the line endings
/// and the byte order mark; indents by four; and is idempotent.
#[test]
fn generated_combinations_keep_everything() {
    let mut problems = Vec::new();
    for (input, pieces) in generated() {
        let origin = &input.origin;
        let text = &input.text;
        let (out, codes) = format_with_codes(text);
        let Some(out) = out else {
            problems.push(format!("{origin}: refused ({codes:?}):\n{text}"));
            continue;
        };
        let show = format!("--- input ---\n{text}--- output ---\n{out}");
        if !codes.is_empty() {
            problems.push(format!("{origin}: diagnostics {codes:?}\n{show}"));
        }
        if meaning(origin, text) != meaning(origin, &out) {
            problems.push(format!("{origin}: the meaning changed\n{show}"));
        }
        assert_eq!(
            generated_pieces(text),
            pieces,
            "{origin}: the test misreads its input"
        );
        if generated_pieces(&out) != pieces {
            problems.push(format!("{origin}: comments or slashdashes changed\n{show}"));
        }
        let crlf = text.contains("\r\n");
        let lone_lf = out.replace("\r\n", "").contains('\n');
        if out.contains("\r\n") != crlf || (crlf && lone_lf) {
            problems.push(format!("{origin}: line endings changed\n{show}"));
        }
        if text.starts_with('\u{FEFF}') != out.starts_with('\u{FEFF}')
            || out.trim_start_matches('\u{FEFF}').starts_with(['\r', '\n'])
        {
            problems.push(format!("{origin}: the byte order mark changed\n{show}"));
        }
        for (n, line) in badly_indented(&out) {
            problems.push(format!(
                "{origin}: line {n} badly indented: {line:?}\n{show}"
            ));
        }
        if format_with_codes(&out).0.as_deref() != Some(out.as_str()) {
            problems.push(format!("{origin}: not idempotent\n{show}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
