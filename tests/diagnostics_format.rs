//! The CLI for CI: `check` reports what `plan` reports, `--deny-warnings`,
//! `--message-format json|sarif` (SARIF validated against the SARIF 2.1.0
//! schema by Python's `jsonschema`), `--quiet`, `--color`, shell
//! completions (run by bash), man pages (rendered by groff), `fmt --check
//! --diff` (applied by `patch`) and `graph` (parsed by `pydot`).
//!
//! External tools: `python3` with `jsonschema` and the schema file named by
//! `VIRTPLAN_SARIF_SCHEMA`, `pydot`, `bash`, `groff`, `patch`. Without one,
//! its test prints a skip message, unless `CI` is set: then it fails.
//! `.ci/run` installs them.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs virtplan in the crate root with `args` and `env`, no colour
/// variables inherited.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_virtplan"));
    cmd.current_dir(ROOT)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("TERM");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run virtplan")
}

fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("diagfmt-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// A copy of `examples/small` in a fresh folder, with `edit` applied to
/// the text of each named file.
fn small_with(name: &str, edits: &[(&str, &str, &str)]) -> PathBuf {
    let project = scratch(name).join("project");
    common::copy_dir(&Path::new(ROOT).join("examples/small"), &project);
    for (file, from, to) in edits {
        let path = project.join(file);
        let text = fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "`{from}` not in {file}");
        fs::write(&path, text.replacen(from, to, 1)).expect("write");
    }
    project
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The JSON lines of `--message-format json`.
fn json_lines(o: &Output) -> Vec<Value> {
    out(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn codes(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["code"].as_str().expect("code").to_string())
        .collect()
}

/// `Ok` when the tool is there; otherwise a skip (`Err`), or a failure in CI.
fn tool(name: &str, probe: &mut Command) -> Result<(), ()> {
    let ok = probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(());
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{name} is missing; .ci/run installs it"
    );
    eprintln!("skipped: {name} is missing (.ci/run installs it)");
    Err(())
}

// ------------------------------------------------------- check = plan

/// `max-hosts 1` and a wave longer than its window: the old `check`
/// passed this project; now it fails with exactly `plan`'s diagnostics.
#[test]
fn check_reports_what_plan_reports() {
    let project = small_with(
        "max-hosts",
        &[("estate.kdl", "    max-hosts 4\n", "    max-hosts 1\n")],
    );
    let dir = s(&project);
    let check = run(&["check", "--message-format", "json", dir]);
    let out_dir = project.with_file_name("out");
    let plan = run(&[
        "plan",
        "--message-format",
        "json",
        dir,
        "--out",
        s(&out_dir),
    ]);
    assert_eq!(check.status.code(), Some(1), "{}", err(&check));
    assert_eq!(plan.status.code(), Some(1), "{}", err(&plan));
    assert!(!out_dir.exists());
    let lines = json_lines(&check);
    assert_eq!(lines, json_lines(&plan));
    // Two errors: the cluster needs more hosts, and the anti-affinity rule
    // of two servers cannot spread them over one host.
    let estate = fs::read_to_string(project.join("estate.kdl")).expect("read");
    let line_of = |start: &str| {
        estate
            .lines()
            .position(|l| l.starts_with(start))
            .expect("line") as u64
            + 1
    };
    let max_hosts: Vec<(u64, &str)> = lines
        .iter()
        .filter(|l| l["code"] == "virtplan::place::max-hosts")
        .map(|l| {
            assert_eq!(l["severity"], "error");
            assert_eq!(l["file"], "estate.kdl");
            (
                l["line"].as_u64().expect("line"),
                l["message"].as_str().expect("message"),
            )
        })
        .collect();
    assert_eq!(max_hosts.len(), 2, "{lines:?}");
    assert_eq!(max_hosts[0].0, line_of("cluster \"main\""));
    assert!(max_hosts[0].1.contains("more than its max-hosts 1"));
    assert_eq!(max_hosts[1].0, line_of("anti-affinity"));

    // The bundled small example: two servers without measurements. `check`
    // warns as `plan` does, and succeeds.
    let check = run(&["check", "--message-format", "json", "examples/small"]);
    assert_eq!(check.status.code(), Some(0), "{}", err(&check));
    let out_dir = scratch("small-out").join("out");
    let plan = run(&[
        "plan",
        "--message-format",
        "json",
        "examples/small",
        "--out",
        s(&out_dir),
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", err(&plan));
    assert_eq!(json_lines(&check), json_lines(&plan));
    assert_eq!(
        codes(&json_lines(&check)),
        ["virtplan::metrics::no-data", "virtplan::metrics::no-data"]
    );
}

// ------------------------------------------------------- deny warnings

#[test]
fn denied_warnings_fail_the_run() {
    // The small example has two warnings and no error.
    let plain = run(&["check", "examples/small"]);
    assert_eq!(plain.status.code(), Some(0), "{}", err(&plain));
    assert!(out(&plain).starts_with("ok: 10 servers"));
    for flags in [
        &["--deny-warnings"][..],
        &["-D", "warnings"],
        &["--deny", "warnings"],
    ] {
        let mut args = vec!["check", "examples/small"];
        args.extend_from_slice(flags);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{flags:?}: {}", err(&o));
        assert!(out(&o).is_empty(), "{flags:?}: no `ok` line");
        assert!(
            err(&o).contains("0 error(s), 2 warning(s) (warnings denied)"),
            "{}",
            err(&o)
        );
    }
    // `plan` writes nothing when warnings are denied.
    let out_dir = scratch("deny").join("out");
    let o = run(&[
        "plan",
        "-D",
        "warnings",
        "examples/small",
        "--out",
        s(&out_dir),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("(warnings are denied)"), "{}", err(&o));
    assert!(!out_dir.exists());
    // Only warnings can be denied.
    let o = run(&["check", "-D", "notes", "examples/small"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}

// ------------------------------------------------------- json

/// A misspelt node and a duplicate server, placed by hand, in a folder
/// of its own for each test.
fn broken_project(name: &str) -> PathBuf {
    small_with(
        &format!("broken-{name}"),
        &[
            (
                "servers.kdl",
                "    memory \"16GiB\"\n    disk-size \"480GB\"\n    disk-used \"55GB\"\n    disk-iops 900\n    roles \"zabbix\"",
                "    memroy \"16GiB\"\n    disk-size \"480GB\"\n    disk-used \"55GB\"\n    disk-iops 900\n    roles \"zabbix\"",
            ),
            (
                "servers.kdl",
                "server \"mon01\" class=\"linux\" {",
                "server \"dc01\" class=\"linux\" {",
            ),
        ],
    )
}

/// 1-based line and column (in characters) of the first `needle` after
/// `after` in `text`.
fn find(text: &str, after: &str, needle: &str) -> (u64, u64) {
    let start = text.find(after).expect("after") + after.len();
    let at = start + text[start..].find(needle).expect("needle");
    let line = text[..at].matches('\n').count() + 1;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (line as u64, text[line_start..at].chars().count() as u64 + 1)
}

#[test]
fn json_lines_place_each_diagnostic() {
    let project = broken_project("json");
    let o = run(&["check", "--message-format", "json", s(&project)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).is_empty(), "human output on stderr: {}", err(&o));
    let lines = json_lines(&o);
    let servers = fs::read_to_string(project.join("servers.kdl")).expect("read");

    let typo = lines
        .iter()
        .find(|l| l["code"] == "virtplan::check::unknown-node")
        .expect("unknown-node");
    let (line, col) = find(&servers, "", "memroy");
    assert_eq!(typo["severity"], "error");
    assert_eq!(typo["file"], "servers.kdl");
    assert_eq!(
        (typo["line"].as_u64(), typo["column"].as_u64()),
        (Some(line), Some(col))
    );
    assert_eq!(typo["end_line"].as_u64(), Some(line));
    assert_eq!(
        typo["end_column"].as_u64(),
        Some(col + "memroy".len() as u64)
    );
    assert_eq!(typo["help"], "did you mean `memory`?");

    let dup = lines
        .iter()
        .find(|l| l["code"] == "virtplan::check::duplicate")
        .expect("duplicate");
    // The second `dc01` is the one reported; the first is related.
    let second = find(&servers, "server \"dc01\"", "server \"dc01\"");
    let first = find(&servers, "", "server \"dc01\"");
    assert_eq!(dup["line"].as_u64(), Some(second.0));
    let related = dup["related"].as_array().expect("related");
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["file"], "servers.kdl");
    assert_eq!(related[0]["line"].as_u64(), Some(first.0));
    assert!(!related[0]["label"].as_str().expect("label").is_empty());

    // Every line has every field; project-wide ones have null places.
    for l in &lines {
        for key in [
            "code",
            "severity",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "label",
            "help",
            "related",
        ] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
}

// ------------------------------------------------------- sarif

fn sarif(args: &[&str]) -> (Output, Value) {
    let o = run(args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
    (o, v)
}

#[test]
fn sarif_log_matches_the_json_lines() {
    let project = broken_project("sarif");
    let dir = s(&project);
    let (o, log) = sarif(&["check", "--message-format", "sarif", dir]);
    assert_eq!(o.status.code(), Some(1));
    let json = json_lines(&run(&["check", "--message-format", "json", dir]));
    let again = run(&["check", "--message-format", "sarif", dir]);
    assert_eq!(o.stdout, again.stdout, "deterministic");
    assert!(
        !out(&o).contains(s(project.parent().expect("parent"))),
        "no absolute path"
    );

    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "virtplan");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), virtplan::diag::CODES.len());
    for ((code, meaning), rule) in virtplan::diag::CODES.iter().zip(rules) {
        assert_eq!(rule["id"], *code);
        assert_eq!(rule["shortDescription"]["text"], *meaning);
    }
    // An absolute project folder is not written into the log.
    assert!(
        run0["originalUriBaseIds"]["PROJECTROOT"]
            .get("uri")
            .is_none()
    );

    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), json.len());
    for (r, j) in results.iter().zip(&json) {
        assert_eq!(r["ruleId"], j["code"]);
        assert_eq!(r["level"], j["severity"]);
        let index = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[index]["id"], j["code"]);
        assert!(
            r["message"]["text"]
                .as_str()
                .expect("text")
                .starts_with(j["message"].as_str().expect("message"))
        );
        if j["file"].is_null() {
            assert!(r.get("locations").is_none());
            continue;
        }
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], j["file"]);
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "PROJECTROOT");
        let region = &loc["region"];
        assert_eq!(region["startLine"], j["line"]);
        assert_eq!(region["startColumn"], j["column"]);
        assert_eq!(region["endLine"], j["end_line"]);
        assert_eq!(region["endColumn"], j["end_column"]);
    }
    // A relative folder is the base of the project's files.
    let (_, log) = sarif(&["check", "--message-format", "sarif", "./examples/small"]);
    let base = &log["runs"][0]["originalUriBaseIds"]["PROJECTROOT"];
    assert_eq!(base["uri"], "examples/small/");
    assert_eq!(base["uriBaseId"], "%SRCROOT%");
}

/// Validates `log` (a file) against the schema with `jsonschema`; the
/// validator's message when it fails.
fn validate(schema: &str, log: &Path) -> Result<(), String> {
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = sorted(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(json.load(open(sys.argv[2]))), key=str)
for e in errors[:5]:
    print(list(e.absolute_path), e.message)
sys.exit(1 if errors else 0)
"#;
    let o = Command::new("python3")
        .args(["-c", script, schema, s(log)])
        .output()
        .expect("python3");
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", out(&o), err(&o)))
    }
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(schema) = std::env::var_os("VIRTPLAN_SARIF_SCHEMA") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "VIRTPLAN_SARIF_SCHEMA is not set; .ci/run sets it"
        );
        eprintln!("skipped: VIRTPLAN_SARIF_SCHEMA (the SARIF 2.1.0 schema file) is not set");
        return;
    };
    let schema = schema.into_string().expect("utf-8");
    assert!(Path::new(&schema).is_file(), "{schema} is not a file");
    if tool(
        "python3 with jsonschema",
        Command::new("python3").args(["-c", "import jsonschema"]),
    )
    .is_err()
    {
        return;
    }
    let dir = scratch("sarif-schema");
    let broken = broken_project("schema");
    let cases: [(&str, Vec<&str>); 3] = [
        (
            "errors",
            vec!["check", "--message-format", "sarif", s(&broken)],
        ),
        (
            "warnings",
            vec!["check", "--message-format", "sarif", "examples/small"],
        ),
        (
            "realistic",
            vec!["check", "--message-format", "sarif", "examples/realistic"],
        ),
    ];
    for (name, args) in cases {
        let o = run(&args);
        let path = dir.join(format!("{name}.sarif"));
        fs::write(&path, &o.stdout).expect("write");
        validate(&schema, &path).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The validator does reject a log that breaks the schema.
    let mut bad: Value =
        serde_json::from_slice(&fs::read(dir.join("errors.sarif")).expect("read")).expect("json");
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    let path = dir.join("bad.sarif");
    fs::write(&path, bad.to_string()).expect("write");
    assert!(validate(&schema, &path).is_err(), "a level `fatal` passed");
}

// ------------------------------------------------------- quiet, colour

#[test]
fn quiet_prints_errors_only() {
    let o = run(&["check", "--quiet", "examples/small"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!((out(&o).as_str(), err(&o).as_str()), ("", ""));
    let project = broken_project("quiet");
    let o = run(&["check", "-q", s(&project)]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("virtplan::check::unknown-node"), "{e}");
    assert!(!e.contains("virtplan::metrics::no-data"), "a warning: {e}");
    assert!(!e.contains("error(s)"), "the summary: {e}");
    // Denied warnings are errors, so they are shown.
    let o = run(&["check", "-q", "-D", "warnings", "examples/small"]);
    assert!(err(&o).contains("virtplan::metrics::no-data"));
}

#[test]
fn colour_follows_flag_and_environment() {
    let coloured = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.push("examples/small");
        err(&run_env(&all, env)).contains("\x1b[")
    };
    // stderr is a pipe here: no colour unless asked.
    assert!(!coloured(&[], &[]));
    assert!(coloured(&["--color", "always"], &[]));
    assert!(coloured(&["--color", "always"], &[("NO_COLOR", "1")]));
    assert!(!coloured(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(coloured(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(coloured(&[], &[("CLICOLOR_FORCE", "1"), ("TERM", "dumb")]));
    assert!(!coloured(&[], &[("CLICOLOR_FORCE", "0")]));
    assert!(!coloured(
        &[],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    // An empty NO_COLOR does not count (no-color.org).
    assert!(coloured(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]));
}

// ------------------------------------------------------- completions, man

#[test]
fn bash_completes_commands_and_options() {
    if tool("bash", Command::new("bash").arg("--version")).is_err() {
        return;
    }
    let o = run(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let dir = scratch("completions");
    let script = dir.join("virtplan.bash");
    fs::write(&script, &o.stdout).expect("write");
    // What bash offers after typing `words` and Tab.
    let complete = |words: &str| -> BTreeSet<String> {
        let cmd = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             _virtplan virtplan \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            s(&script)
        );
        let o = Command::new("bash")
            .args(["-c", &cmd])
            .output()
            .expect("bash");
        assert!(o.status.success(), "{}", err(&o));
        out(&o).lines().map(str::to_string).collect()
    };
    let top = complete("virtplan ''");
    for c in ["check", "plan", "fmt", "graph", "completions", "man"] {
        assert!(top.contains(c), "{c} not in {top:?}");
    }
    let opts = complete("virtplan check --me");
    assert_eq!(opts, BTreeSet::from(["--message-format".to_string()]));
    let values = complete("virtplan check --message-format ''");
    assert_eq!(
        values,
        ["human", "json", "sarif"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(out(&o).contains("message-format"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

/// groff's rendering of a man page, failing on any groff warning.
fn groff(page: &[u8]) -> String {
    let mut child = Command::new("groff")
        .args(["-man", "-Tascii", "-ww", "-P-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(page)
        .expect("write");
    let o = child.wait_with_output().expect("groff");
    assert!(o.status.success() && o.stderr.is_empty(), "{}", err(&o));
    // Drop overstriking (bold, underline) if any is left.
    let text = out(&o);
    let mut clean = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        clean.push(c);
    }
    // Words only: justification spreads them.
    clean.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn man_pages_render() {
    if tool("groff", Command::new("groff").arg("--version")).is_err() {
        return;
    }
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let text = groff(&o.stdout);
    assert!(
        text.contains("virtplan - A declarative plan compiler"),
        "{text}"
    );
    for word in [
        "check",
        "graph",
        "completions",
        "--message-format",
        "--deny-warnings",
    ] {
        assert!(text.contains(word), "{word} not in:\n{text}");
    }
    let dir = scratch("man");
    let o = run(&["man", "--out", s(&dir)]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let names: BTreeSet<String> = fs::read_dir(&dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    for page in [
        "virtplan.1",
        "virtplan-check.1",
        "virtplan-plan.1",
        "virtplan-fmt.1",
        "virtplan-graph.1",
    ] {
        assert!(names.contains(page), "{page} not in {names:?}");
    }
    let fmt = groff(&fs::read(dir.join("virtplan-fmt.1")).expect("read"));
    assert!(fmt.contains("--diff"), "{fmt}");
}

// ------------------------------------------------------- fmt --diff

#[test]
fn fmt_diff_is_what_fmt_writes() {
    if tool("patch", Command::new("patch").arg("--version")).is_err() {
        return;
    }
    let dir = scratch("fmt-diff");
    let project = dir.join("project");
    fs::create_dir_all(project.join("sub")).expect("mkdir");
    let files = [
        ("estate.kdl", "project   \"p\"   {\ncurrency \"EUR\"\n}\n"),
        (
            "sub/servers.kdl",
            "// kept\nserver \"a\" {\n      memory \"1GiB\"\n}\n",
        ),
        ("tidy.kdl", "defaults {\n    owner \"x\"\n}\n"),
    ];
    for (name, text) in files {
        fs::write(project.join(name), text).expect("write");
    }
    let before = common_tree(&project);
    let o = run(&["fmt", "--check", "--diff", s(&project)]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(common_tree(&project), before, "--diff writes nothing");
    let diff = out(&o);
    assert!(
        diff.starts_with("--- a/estate.kdl\n+++ b/estate.kdl\n"),
        "{diff}"
    );
    assert!(diff.contains("--- a/sub/servers.kdl\n+++ b/sub/servers.kdl\n"));
    assert!(!diff.contains("tidy.kdl"), "an unchanged file: {diff}");
    assert!(diff.contains(
        "-project   \"p\"   {\n-currency \"EUR\"\n+project \"p\" {\n+    currency \"EUR\"\n"
    ));

    // The diff applied to a copy gives what `fmt` writes.
    let copy = dir.join("copy");
    common::copy_dir(&project, &copy);
    let mut patch = Command::new("patch")
        .args(["-p1", "-s", "-d", s(&copy)])
        .stdin(Stdio::piped())
        .spawn()
        .expect("patch");
    use std::io::Write as _;
    patch
        .stdin
        .take()
        .expect("stdin")
        .write_all(diff.as_bytes())
        .expect("write");
    assert!(patch.wait().expect("patch").success());
    let o = run(&["fmt", s(&project)]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(common_tree(&copy), common_tree(&project));
    // Formatted now: an empty diff, exit 0.
    let o = run(&["fmt", "--check", "--diff", s(&project)]);
    assert_eq!((o.status.code(), out(&o).as_str()), (Some(0), ""));
    // --diff needs --check.
    assert_eq!(run(&["fmt", "--diff", s(&project)]).status.code(), Some(2));
}

fn common_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).expect("read") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

// ------------------------------------------------------- graph

/// `dc01` and `mon01` depend on each other (one move group) and `sql01`
/// stays physical, so `app01`, `backup01` and `dev01` depend on a server
/// that does not move.
fn graph_project(name: &str) -> PathBuf {
    small_with(
        &format!("graph-{name}"),
        &[
            (
                "servers.kdl",
                "server \"dc01\" class=\"windows\" {\n",
                "server \"dc01\" class=\"windows\" {\n    depends-on \"mon01\"\n",
            ),
            (
                "servers.kdl",
                "server \"mon01\" class=\"linux\" {\n",
                "server \"mon01\" class=\"linux\" {\n    depends-on \"dc01\"\n",
            ),
            (
                "servers.kdl",
                "server \"sql01\" class=\"windows\" {\n",
                "server \"sql01\" class=\"windows\" {\n    verdict \"keep-physical\" reason=\"test\"\n",
            ),
        ],
    )
}

/// Every `depends-on` of every server, read from the KDL text line by line.
fn declared_edges(project: &Path) -> BTreeSet<(String, String)> {
    let text = fs::read_to_string(project.join("servers.kdl")).expect("read");
    let mut edges = BTreeSet::new();
    let mut server = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            Some(&"server") => server = Some(words[1].trim_matches('"').to_string()),
            Some(&"depends-on") => {
                for d in &words[1..] {
                    let s: String = server.clone().expect("in a server");
                    edges.insert((s, d.trim_matches('"').to_string()));
                }
            }
            _ => {}
        }
    }
    edges
}

#[test]
fn graph_dot_parses_with_its_move_groups() {
    let project = graph_project("dot");
    let o = run(&["graph", s(&project)]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let dot = out(&o);
    let mut want = declared_edges(&project);
    // sql01 does not move: its own dependencies are not in the graph.
    want.retain(|(a, _)| a != "sql01");
    assert!(want.contains(&("app01".into(), "sql01".into())));
    assert!(want.contains(&("dc01".into(), "mon01".into())));

    if tool(
        "python3 with pydot",
        Command::new("python3").args(["-c", "import pydot"]),
    )
    .is_err()
    {
        return;
    }
    let script = r#"
import json, sys, pydot
(g,) = pydot.graph_from_dot_data(sys.stdin.read())
strip = lambda s: s.strip('"')
nodes = g.get_nodes() + [n for s in g.get_subgraphs() for n in s.get_nodes()]
out = {
  "edges": sorted([strip(e.get_source()), strip(e.get_destination())] for e in g.get_edges()),
  "clusters": {strip(s.get_name()): sorted(strip(n.get_name()) for n in s.get_nodes()) for s in g.get_subgraphs()},
  "nodes": {strip(n.get_name()): strip(n.get_label() or "") for n in nodes if strip(n.get_name()) not in ("node", "edge", "graph")},
  "dashed": sorted(strip(n.get_name()) for n in nodes if n.get_style() == "dashed"),
}
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("write");
    let o = child.wait_with_output().expect("python3");
    assert!(o.status.success(), "pydot: {}\n{dot}", err(&o));
    let parsed: Value = serde_json::from_slice(&o.stdout).expect("json");
    let edges: BTreeSet<(String, String)> = parsed["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e[0].as_str().expect("a").into(),
                e[1].as_str().expect("b").into(),
            )
        })
        .collect();
    assert_eq!(edges, want);
    let clusters = parsed["clusters"].as_object().expect("clusters");
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    let (name, members) = clusters.iter().next().expect("one");
    assert!(name.starts_with("cluster_group_"), "{name}");
    assert_eq!(members, &serde_json::json!(["dc01", "mon01"]));
    assert_eq!(parsed["dashed"], serde_json::json!(["sql01"]));
    // The nine servers that move, each with its wave, and sql01.
    let nodes = parsed["nodes"].as_object().expect("nodes");
    assert_eq!(nodes.len(), 10, "{nodes:?}");
    for (n, label) in nodes {
        let label = label.as_str().expect("label");
        if n == "sql01" {
            assert_eq!(label, "sql01\\nnot moving");
        } else {
            assert!(label.starts_with(&format!("{n}\\nwave ")), "{n}: {label}");
        }
    }
    // dc01 and mon01 move together: one wave.
    assert_eq!(
        nodes["dc01"].as_str().map(|l| &l[4..]),
        nodes["mon01"].as_str().map(|l| &l[5..])
    );
}

#[test]
fn graph_mermaid_has_the_same_edges_and_groups() {
    let project = graph_project("mermaid");
    let o = run(&["graph", "--format", "mermaid", s(&project)]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("\nflowchart LR\n"), "{text}");
    let mut want = declared_edges(&project);
    want.retain(|(a, _)| a != "sql01");
    let edges: BTreeSet<(String, String)> = text
        .lines()
        .filter_map(|l| l.trim().split_once(" --> "))
        .map(|(a, b)| {
            (
                a.trim_start_matches("n_").into(),
                b.trim_start_matches("n_").into(),
            )
        })
        .collect();
    assert_eq!(edges, want);
    let group: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("subgraph "))
        .skip(1)
        .take_while(|l| l.trim() != "end")
        .map(|l| l.trim().split('[').next().expect("id"))
        .collect();
    assert_eq!(group, ["n_dc01", "n_mon01"]);
    assert!(text.contains("n_sql01[\"sql01 (not moving)\"]:::staying"));
    // A project with errors: the errors, and no graph.
    let o = run(&["graph", s(&broken_project("graph"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).is_empty(), "{}", out(&o));
    assert!(err(&o).contains("virtplan::check::unknown-node"));
    // JSON diagnostics would share standard output with the graph.
    let o = run(&["graph", "--message-format", "json", s(&project)]);
    assert_eq!(o.status.code(), Some(2));
}
