//! The Markdown is proven by the tools that read it: markdownlint-cli2 on
//! the book and on everything `plan` and `diff` write, and mdbook building
//! the book, with every link of the built book resolved.
//!
//! markdownlint-cli2 comes from the `node_modules` folder named by
//! `VIRTPLAN_NODE_MODULES`, mdbook from `VIRTPLAN_MDBOOK` or the `PATH`;
//! `.ci/run` installs both. Without them the tests are skipped, except in CI.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (outside CI) or fails (in CI) for a missing tool.
fn missing(what: &str) {
    assert!(!in_ci(), "{what} is required in CI");
    eprintln!("skipped: {what}");
}

fn markdownlint() -> Option<PathBuf> {
    let modules = PathBuf::from(std::env::var_os("VIRTPLAN_NODE_MODULES")?);
    let bin = modules.join(".bin").join("markdownlint-cli2");
    bin.is_file().then_some(bin)
}

fn mdbook() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VIRTPLAN_MDBOOK") {
        return Some(PathBuf::from(path));
    }
    let found = Command::new("mdbook").arg("--version").output();
    found
        .is_ok_and(|o| o.status.success())
        .then(|| PathBuf::from("mdbook"))
}

/// A fresh folder under the target directory, inside the repository, so
/// that markdownlint-cli2 run from the root reads the root's settings.
fn fresh(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the folder");
    dir
}

fn virtplan(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .args(args)
        .arg("--quiet")
        .current_dir(root())
        .output()
        .expect("run virtplan")
}

/// Runs markdownlint-cli2 in `cwd` on `globs`, with `config` if given.
fn lint(bin: &Path, cwd: &Path, globs: &[String], config: Option<&Path>) {
    let mut cmd = Command::new(bin);
    cmd.current_dir(cwd).args(globs);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    let out = cmd.output().expect("run markdownlint-cli2");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "markdownlint-cli2 {globs:?}:\n{text}");
    // It found files: a glob that matches nothing lints nothing.
    assert!(!text.contains("Linting: 0 files"), "{text}");
}

/// The README, ARCHITECTURE.md, the book, both examples' reports and a
/// `diff` pass markdownlint-cli2
/// with the repository's settings (`.markdownlint-cli2.jsonc`); the diff,
/// a pull-request comment, with its own (tests/markdown/).
#[test]
fn book_and_generated_markdown_pass_markdownlint() {
    let Some(bin) = markdownlint() else {
        return missing(
            "markdownlint-cli2 (npm install markdownlint-cli2; set VIRTPLAN_NODE_MODULES)",
        );
    };
    let out = fresh("markdownlint");
    for example in ["small", "realistic"] {
        let run = virtplan(&[
            "plan".as_ref(),
            "--format".as_ref(),
            "md,json".as_ref(),
            root().join("examples").join(example).as_os_str(),
            "--out".as_ref(),
            out.join(example).as_os_str(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let rel = out
        .strip_prefix(root())
        .expect("the target folder is in the repository");
    lint(
        &bin,
        root(),
        &[
            "README.md".to_string(),
            "ARCHITECTURE.md".to_string(),
            "book/src/**/*.md".to_string(),
            format!("{}/**/*.md", rel.display()),
        ],
        None,
    );
    let run = virtplan(&[
        "diff".as_ref(),
        out.join("small/plan.json").as_os_str(),
        out.join("realistic/plan.json").as_os_str(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let comment = fresh("markdownlint-diff");
    std::fs::write(comment.join("diff.md"), &run.stdout).expect("write diff.md");
    lint(
        &bin,
        &comment,
        &["diff.md".to_string()],
        Some(&root().join("tests/markdown/pr-comment.markdownlint-cli2.jsonc")),
    );
}

/// `mdbook build` succeeds (a chapter missing from disk is an error:
/// `create-missing = false`), and every relative link and anchor of the
/// built HTML points at a file and an `id` that exist.
#[test]
fn book_builds_with_mdbook_and_its_links_resolve() {
    let Some(bin) = mdbook() else {
        return missing("mdbook (cargo install --locked mdbook; set VIRTPLAN_MDBOOK)");
    };
    let toml = std::fs::read_to_string(root().join("book/book.toml")).expect("book.toml");
    assert!(toml.contains("create-missing = false"), "{toml}");
    let out = fresh("mdbook");
    let run = Command::new(&bin)
        .arg("build")
        .arg(root().join("book"))
        .arg("-d")
        .arg(&out)
        .output()
        .expect("run mdbook");
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{log}");
    assert!(!log.contains("WARN") && !log.contains("ERROR"), "{log}");
    let pages = html_files(&out);
    assert!(pages.len() > 10, "{pages:?}");
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("read a page");
        for link in links(&text) {
            let Some((path, anchor)) = relative(&link) else {
                continue;
            };
            checked += 1;
            let target = if path.is_empty() {
                page.clone()
            } else {
                page.parent().expect("a folder").join(path)
            };
            let shown = page
                .strip_prefix(&out)
                .unwrap_or(page)
                .display()
                .to_string();
            match std::fs::read_to_string(&target) {
                Err(_) if !target.exists() => {
                    broken.push(format!("{shown}: {link} (no such file)"))
                }
                Ok(body) if !anchor.is_empty() && !body.contains(&format!("id=\"{anchor}\"")) => {
                    broken.push(format!("{shown}: {link} (no such anchor)"));
                }
                _ => {}
            }
        }
    }
    assert!(checked > 100, "only {checked} links checked");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list the book") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(html_files(&path));
        } else if path.extension().is_some_and(|x| x == "html") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The values of every `href="…"` and `src="…"` of a page, `&amp;` undone.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            out.push(rest[..end].replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    out
}

/// A link inside the book as (path, anchor); `None` for other sites,
/// `mailto:` and the like.
fn relative(link: &str) -> Option<(&str, &str)> {
    let scheme = link.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if scheme || link.starts_with("//") || link.is_empty() {
        return None;
    }
    let (path, anchor) = link.split_once('#').unwrap_or((link, ""));
    let path = path.split('?').next().unwrap_or(path);
    Some((path, anchor))
}

/// A fenced block of a book page: its info string and its lines.
fn fenced(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.to_string(), Vec::new())),
            (Some(_), Some("")) => out.extend(open.take()),
            (Some((_, lines)), _) => lines.push(line.to_string()),
            (None, None) => {}
        }
    }
    out
}

/// Every ```` ```text excerpt=SOURCE ```` block of the book is, line by line,
/// what virtplan writes today: `realistic/FILE` or `small/FILE` a file
/// `plan` writes for that example, `diff` the review of the tutorial's
/// change (its one ```` ```kdl ```` block added to the realistic example's
/// `servers/app.kdl`).
#[test]
fn book_excerpts_are_what_virtplan_writes() {
    let out = fresh("excerpts");
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut planned = std::collections::BTreeMap::new();
    let pages = std::fs::read_dir(root().join("book/src")).expect("book/src");
    let mut pages: Vec<PathBuf> = pages.map(|e| e.expect("an entry").path()).collect();
    pages.sort();
    for page in pages
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
    {
        let text = std::fs::read_to_string(page).expect("a page");
        let blocks = fenced(&text);
        for (info, lines) in &blocks {
            let Some(source) = info.strip_prefix("text excerpt=") else {
                continue;
            };
            let whole = match source {
                "diff" => tutorial_diff(&out, &blocks),
                _ => {
                    let (example, file) = source.split_once('/').expect("EXAMPLE/FILE");
                    let dir = planned.entry(example.to_string()).or_insert_with(|| {
                        let dir = out.join(example);
                        let run = virtplan(&[
                            "plan".as_ref(),
                            root().join("examples").join(example).as_os_str(),
                            "--out".as_ref(),
                            dir.as_os_str(),
                        ]);
                        assert!(
                            run.status.success(),
                            "{}",
                            String::from_utf8_lossy(&run.stderr)
                        );
                        dir
                    });
                    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
                }
            };
            for line in lines {
                checked += 1;
                if !whole.lines().any(|l| l == line) {
                    problems.push(format!("{}: {source} has no line {line:?}", page.display()));
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} excerpt lines");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `virtplan diff` of the realistic example against itself with the
/// page's ```` ```kdl ```` block added to `servers/app.kdl`.
fn tutorial_diff(out: &Path, blocks: &[(String, Vec<String>)]) -> String {
    let added = blocks
        .iter()
        .find(|(info, _)| info == "kdl")
        .map(|(_, lines)| lines.join("\n"))
        .expect("the page adds a server in a kdl block");
    let head = out.join("head");
    let _ = std::fs::remove_dir_all(&head);
    common::copy_dir(&root().join("examples/realistic"), &head);
    let app = head.join("servers/app.kdl");
    let text = std::fs::read_to_string(&app).expect("servers/app.kdl");
    std::fs::write(&app, format!("{text}\n{added}\n")).expect("write servers/app.kdl");
    let run = virtplan(&[
        "diff".as_ref(),
        root().join("examples/realistic").as_os_str(),
        head.as_os_str(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout).expect("UTF-8")
}
