//! The CI recipe of the book (book/src/ci.md) works as written: its script
//! runs on a temporary git repository whose head changes the plan, changes
//! only a comment, or breaks the project; its workflow parses as YAML and
//! runs that script.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The body of the first fenced block of `lang` in the recipe page.
fn block(lang: &str) -> String {
    let page = std::fs::read_to_string(root().join("book/src/ci.md")).expect("book/src/ci.md");
    let open = format!("```{lang}\n");
    let start = page
        .find(&open)
        .unwrap_or_else(|| panic!("no {lang} block"))
        + open.len();
    let end = start + page[start..].find("\n```\n").expect("a closed block");
    page[start..=end].to_string()
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Outcome {
    code: Option<i32>,
    output: String,
    stderr: String,
    out: PathBuf,
}

/// Runs the recipe's script in `repo` against `base`, as the workflow does.
fn run_script(repo: &Path, script: &Path, base: &str, temp: &Path) -> Outcome {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_virtplan"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("the binary's folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(temp);
    std::fs::create_dir_all(temp).expect("mkdir");
    let output = temp.join("github-output");
    let run = Command::new("bash")
        .arg(script)
        .current_dir(repo)
        .env("PATH", path)
        .env("BASE_SHA", base)
        .env("PROJECT", "estate")
        .env("RUNNER_TEMP", temp)
        .env("GITHUB_OUTPUT", &output)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .output()
        .expect("run the script");
    Outcome {
        code: run.status.code(),
        output: std::fs::read_to_string(&output).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
        out: temp.join("virtplan"),
    }
}

fn sarif_results(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("check.sarif");
    let sarif: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    sarif["runs"][0]["results"].as_array().map_or(0, Vec::len)
}

#[test]
fn the_recipe_script_labels_a_changed_plan_and_stops_on_errors() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ci-recipe");
    let _ = std::fs::remove_dir_all(&work);
    let repo = work.join("repo");
    common::copy_dir(&root().join("examples/small"), &repo.join("estate"));
    let script = repo.join(".github/virtplan-pr.sh");
    std::fs::create_dir_all(script.parent().expect("a folder")).expect("mkdir");
    std::fs::write(&script, block("bash")).expect("write the script");
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    let servers = repo.join("estate/servers.kdl");
    let text = std::fs::read_to_string(&servers).expect("servers.kdl");

    // Only a comment: the plan is the same, no label.
    std::fs::write(&servers, format!("// reviewed\n{text}")).expect("write");
    git(&repo, &["commit", "--quiet", "-am", "a comment"]);
    let run = run_script(&repo, &script, &base, &work.join("t1"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.output, "changed=false\n");
    assert!(
        std::fs::read_to_string(run.out.join("diff.md"))
            .expect("diff.md")
            .starts_with("**No changes: the plans are the same.**")
    );

    // One more server: the plan changed, the comment says so.
    std::fs::write(
        &servers,
        format!("{text}\nserver \"ci-new01\" {{\n    sockets 1\n    cores-per-socket 4\n    clock \"2.4GHz\"\n    memory \"8GiB\"\n}}\n"),
    )
    .expect("write");
    git(&repo, &["commit", "--quiet", "-am", "a server"]);
    let run = run_script(&repo, &script, &base, &work.join("t2"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.output, "changed=true\n");
    let diff = std::fs::read_to_string(run.out.join("diff.md")).expect("diff.md");
    assert!(diff.starts_with("**Plan: 1 VM added"), "{diff}");
    assert!(diff.contains("ci-new01"), "{diff}");
    // The worktree of the base is gone again.
    assert!(!run.out.join("base").exists());
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 1);

    // An error: the job fails after writing the SARIF that points at it.
    std::fs::write(
        &servers,
        format!("{text}\nserver \"broken\" {{\n    sockets \"two\"\n}}\n"),
    )
    .expect("write");
    git(&repo, &["commit", "--quiet", "-am", "broken"]);
    let run = run_script(&repo, &script, &base, &work.join("t3"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.output, "");
    assert!(sarif_results(&run.out.join("check.sarif")) > 0);
    assert!(!run.out.join("diff.md").exists());
}

/// The workflow parses as YAML (with Python's PyYAML, which ansible-core
/// brings), runs the script with the base commit, uploads the SARIF and
/// comments only on a change.
#[test]
fn the_recipe_workflow_runs_the_script() {
    let yaml = block("yaml");
    let probe = Command::new("python3").args(["-c", "import yaml"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "python3 with PyYAML is required in CI");
        eprintln!("skipped: python3 with PyYAML (pip install pyyaml)");
        return;
    }
    let program = r#"
import json, sys, yaml
flow = yaml.safe_load(sys.stdin)
steps = flow["jobs"]["plan"]["steps"]
print(json.dumps(steps))
"#;
    let mut child = Command::new("python3")
        .args(["-c", program])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(yaml.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    let script = steps
        .iter()
        .find(|s| s["run"] == "bash .github/virtplan-pr.sh")
        .expect("a step runs the script");
    assert_eq!(script["id"], "virtplan");
    assert_eq!(
        script["env"]["BASE_SHA"],
        "${{ github.event.pull_request.base.sha }}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("a step uploads the SARIF");
    assert!(
        upload["if"]
            .as_str()
            .is_some_and(|c| c.contains("always()"))
    );
    let comment = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("gh pr comment"))
        })
        .expect("a step comments");
    assert_eq!(comment["if"], "steps.virtplan.outputs.changed == 'true'");
    assert_eq!(steps[0]["with"]["fetch-depth"], 0);
}
