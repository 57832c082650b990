//! Keeps the book true of the language.
//!
//! Every ```kdl block in `book/src` must pass virtplan's checker without a
//! single diagnostic, the language reference must name every node and
//! property of the language table, the diagnostics chapter must list every
//! diagnostic code, and every chapter named in `SUMMARY.md` must exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use virtplan::diag::{CODES, Diagnostics};
use virtplan::schema::walk;
use virtplan::source::FileId;
use virtplan::syntax::parse;

fn book_src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("book")
        .join("src")
}

/// Every `*.md` file under `dir`, sorted, with its text.
fn markdown_files(dir: &Path) -> Vec<(PathBuf, String)> {
    fn go(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                go(&path, out);
            } else if path.extension().is_some_and(|x| x == "md") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    go(dir, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

/// A fenced code block: its language, the line its body starts on (1-based)
/// and its body.
struct Block {
    lang: String,
    line: usize,
    body: String,
}

/// The fenced code blocks of a Markdown text, opened and closed by lines of
/// three or more backticks.
fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Block)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|c| *c == '`').count();
        match open.take() {
            None if ticks >= 3 => {
                let fence = "`".repeat(ticks);
                let lang = trimmed[ticks..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                open = Some((
                    fence,
                    Block {
                        lang,
                        line: i + 2,
                        body: String::new(),
                    },
                ));
            }
            None => {}
            Some((fence, block)) if trimmed.trim_end() == fence => blocks.push(block),
            Some((fence, mut block)) => {
                block.body.push_str(line);
                block.body.push('\n');
                open = Some((fence, block));
            }
        }
    }
    if let Some((_, block)) = open {
        panic!(
            "a code block opened on line {} is never closed",
            block.line - 1
        );
    }
    blocks
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_kdl_example_passes_the_checker() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, text) in markdown_files(&book_src()) {
        let kdl_blocks = fenced_blocks(&text).into_iter().filter(|b| b.lang == "kdl");
        for (n, block) in kdl_blocks.enumerate() {
            checked += 1;
            let mut diags = Diagnostics::default();
            parse(FileId(0), &block.body, &mut diags);
            if diags.items.is_empty() {
                continue;
            }
            let list: Vec<String> = diags
                .items
                .iter()
                .map(|d| {
                    let at = d.span.map_or_else(String::new, |s| {
                        let line = block.body[..(s.start as usize).min(block.body.len())]
                            .matches('\n')
                            .count();
                        format!(" (line {})", block.line + line)
                    });
                    format!("    {}: {}{at}", d.code, d.message)
                })
                .collect();
            failures.push(format!(
                "{}, kdl block {} (starting on line {}):\n{}",
                relative(&path),
                n + 1,
                block.line,
                list.join("\n")
            ));
        }
    }
    assert!(checked > 0, "the book has no ```kdl block at all");
    assert!(
        failures.is_empty(),
        "{} kdl block(s) of the book do not pass the checker:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn reference_names_every_node_and_property() {
    let reference: String = markdown_files(&book_src().join("reference"))
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join("\n");
    let mut missing = BTreeSet::new();
    for (path, spec) in walk() {
        if !reference.contains(&format!("`{}`", spec.name)) {
            missing.insert(format!("node `{}` ({path})", spec.name));
        }
        for prop in spec.props {
            if !reference.contains(&format!("`{}`", prop.name)) {
                missing.insert(format!("property `{}` ({path})", prop.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the language reference (book/src/reference/) never names these, in backticks:\n  {}",
        missing.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn diagnostics_chapter_lists_every_code() {
    let path = book_src().join("diagnostics.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let missing: Vec<&str> = CODES
        .iter()
        .map(|(code, _)| *code)
        .filter(|code| !text.contains(&format!("`{code}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "book/src/diagnostics.md does not list these codes:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn summary_links_existing_chapters() {
    let src = book_src();
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).expect("book/src/SUMMARY.md");
    let mut missing = Vec::new();
    let mut links = 0;
    for part in summary.split("](").skip(1) {
        let Some(end) = part.find(')') else { continue };
        let target = &part[..end];
        links += 1;
        if !src.join(target).is_file() {
            missing.push(target.to_string());
        }
    }
    assert!(links > 0, "SUMMARY.md links no chapter");
    assert!(
        missing.is_empty(),
        "SUMMARY.md links missing chapters: {missing:?}"
    );
}
