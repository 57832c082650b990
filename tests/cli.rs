//! The binary's writes, run as a user would: `plan` removes the files it no
//! longer writes and never overwrites or deletes a file it did not write,
//! refuses symlinks and an `--out` overlapping the project; `--previous` must
//! be a plan of this project and format; `fmt` replaces files whole, keeping
//! mode and owner; a closed stdout ends the run quietly. (The failure
//! injection loops are unit tests in `src/cli/output.rs`.)

#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

fn virtplan(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run virtplan")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// A copy of `examples/small` at `dir/project`.
fn small_project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/small"),
        &project,
    );
    project
}

/// Every entry under `dir`: files with their bytes, folders as `name/`,
/// symlinks as `name@` with their target.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).expect("read") {
            let path = e.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).expect("meta");
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).expect("link");
                out.insert(
                    format!("{rel}@"),
                    target.to_string_lossy().as_bytes().to_vec(),
                );
            } else if meta.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &path, out);
            } else {
                out.insert(rel, fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn plan_ok(args: &[&Path]) {
    let o = virtplan(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
}

/// Exit 2, nothing written, and a message holding every one of `words`.
fn refused(args: &[&Path], words: &[&str]) -> String {
    let o = virtplan(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    for w in words {
        assert!(err.contains(w), "`{w}` not in: {err}");
    }
    err
}

#[test]
fn plan_removes_the_files_it_no_longer_writes() {
    let dir = scratch("stale");
    let project = small_project(&dir);
    let (out, fresh) = (dir.join("out"), dir.join("fresh"));
    let plan = p("plan");
    plan_ok(&[plan, &project, p("--out"), &out]);
    assert!(out.join("ansible/wave-1.yml").is_file());
    assert!(out.join("plan.json").is_file());
    plan_ok(&[plan, &project, p("--out"), &out, p("--format"), p("md")]);
    plan_ok(&[plan, &project, p("--out"), &fresh, p("--format"), p("md")]);
    let now = tree(&out);
    assert!(!now.contains_key("plan.json"));
    assert!(!now.contains_key("ansible/"));
    assert!(now.contains_key("runbook.md"));
    // Exactly what a run into an empty folder writes.
    assert_eq!(now, tree(&fresh));
    // Nothing left beside --out.
    let mut names: Vec<_> = fs::read_dir(&dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    assert_eq!(names, ["fresh", "out", "project"]);
}

#[test]
fn plan_never_overwrites_files_it_did_not_write() {
    let dir = scratch("foreign");
    let project = small_project(&dir);
    let out = dir.join("out");
    fs::create_dir_all(out.join("ansible")).expect("mkdir");
    fs::write(out.join("costs.md"), "my own costs\n").expect("write");
    fs::write(out.join("ansible/inventory.yml"), "all: {}\n").expect("write");
    let before = tree(&out);
    refused(
        &[p("plan"), &project, p("--out"), &out],
        &["costs.md", "ansible/inventory.yml", "--force"],
    );
    assert_eq!(tree(&out), before);
}

#[test]
fn plan_keeps_user_files_and_refuses_edits_unless_forced() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("force");
    let project = small_project(&dir);
    let out = dir.join("out");
    let args = [p("plan"), &project, p("--out"), &out];
    let forced = [p("plan"), &project, p("--out"), &out, p("--force")];
    plan_ok(&args);
    fs::set_permissions(&out, fs::Permissions::from_mode(0o750)).expect("chmod");
    let plan = tree(&out);
    fs::write(out.join("notes.md"), "mine\n").expect("write");
    refused(&args, &["notes.md (not in the manifest)"]);
    plan_ok(&forced);
    let mut with_notes = plan.clone();
    with_notes.insert("notes.md".into(), b"mine\n".to_vec());
    // The manifest now lists notes.md as kept.
    let manifest = |t: &BTreeMap<String, Vec<u8>>| {
        serde_json::from_slice::<serde_json::Value>(&t[".virtplan-manifest"]).expect("json")
    };
    let now = tree(&out);
    assert_eq!(manifest(&now)["kept"], serde_json::json!(["notes.md"]));
    with_notes.insert(
        ".virtplan-manifest".into(),
        now[".virtplan-manifest"].clone(),
    );
    assert_eq!(now, with_notes);
    // Kept from now on, without --force; the folder keeps its mode.
    plan_ok(&args);
    assert_eq!(tree(&out), with_notes);
    let mode = fs::metadata(&out).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o750);
    // A generated file edited by hand is not overwritten either.
    fs::write(out.join("costs.md"), "edited\n").expect("write");
    refused(&args, &["costs.md (edited since virtplan wrote it)"]);
    assert_eq!(fs::read(out.join("costs.md")).expect("read"), b"edited\n");
}

#[test]
fn plan_refuses_symlinks_in_out() {
    let dir = scratch("symlinks");
    let project = small_project(&dir);
    let out = dir.join("out");
    plan_ok(&[p("plan"), &project, p("--out"), &out]);
    let outside = dir.join("outside");
    fs::create_dir(&outside).expect("mkdir");
    fs::write(outside.join("precious.json"), "precious\n").expect("write");

    // A plan.json symlink: its target is not written, even with --force.
    fs::remove_file(out.join("plan.json")).expect("rm");
    std::os::unix::fs::symlink(outside.join("precious.json"), out.join("plan.json"))
        .expect("symlink");
    let forced = [p("plan"), &project, p("--out"), &out, p("--force")];
    refused(&forced, &["plan.json", "symlink"]);
    assert_eq!(
        fs::read(outside.join("precious.json")).expect("read"),
        b"precious\n"
    );
    fs::remove_file(out.join("plan.json")).expect("rm");

    // An `ansible` symlink: no playbook lands outside.
    fs::remove_dir_all(out.join("ansible")).expect("rm");
    std::os::unix::fs::symlink(&outside, out.join("ansible")).expect("symlink");
    refused(&forced, &["ansible", "symlink"]);
    assert_eq!(tree(&outside).keys().collect::<Vec<_>>(), ["precious.json"]);

    // --out itself a symlink.
    let link = dir.join("link");
    std::os::unix::fs::symlink(&outside, &link).expect("symlink");
    refused(&[p("plan"), &project, p("--out"), &link], &["symlink"]);
    assert_eq!(tree(&outside).keys().collect::<Vec<_>>(), ["precious.json"]);
}

#[test]
fn plan_refuses_an_out_overlapping_the_project() {
    let dir = scratch("overlap");
    let project = small_project(&dir);
    let before = tree(&project);
    let inside = project.join("out");
    let deeper = project.join("new/out");
    let same = project.join("metrics/..");
    for out in [&inside, &deeper, &same, &dir] {
        refused(&[p("plan"), &project, p("--out"), out], &["overlap"]);
    }
    assert_eq!(tree(&project), before);
    assert!(!inside.exists());
}

#[test]
fn previous_must_be_a_plan_of_this_project_and_format() {
    let dir = scratch("previous");
    let project = small_project(&dir);
    let out = dir.join("out");
    plan_ok(&[p("plan"), &project, p("--out"), &out]);
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("plan.json")).expect("read")).expect("json");
    assert_eq!(json["format"], 2);
    assert_eq!(json["project"]["name"], "Acme small office");

    let again = dir.join("again");
    plan_ok(&[
        p("plan"),
        &project,
        p("--out"),
        &again,
        p("--previous"),
        &out.join("plan.json"),
    ]);

    let mut other = json.clone();
    other["project"]["name"] = "Globex".into();
    let mut future = json.clone();
    future["format"] = 999.into();
    let mut unversioned = json.clone();
    unversioned
        .as_object_mut()
        .expect("object")
        .remove("format");
    let cases: [(&str, String, &[&str]); 4] = [
        (
            "other",
            other.to_string(),
            &["`Globex`", "`Acme small office`"],
        ),
        ("future", future.to_string(), &["format 999", "format 2"]),
        ("unversioned", unversioned.to_string(), &["no `format`"]),
        ("garbage", "servers: 3\n".into(), &["not a plan.json"]),
    ];
    for (name, text, words) in cases {
        let path = dir.join(format!("{name}.json"));
        fs::write(&path, text).expect("write");
        let target = dir.join(format!("out-{name}"));
        refused(
            &[
                p("plan"),
                &project,
                p("--out"),
                &target,
                p("--previous"),
                &path,
            ],
            words,
        );
        assert!(!target.exists(), "{name}: wrote {}", target.display());
    }
}

#[test]
fn fmt_replaces_files_whole_keeping_mode_and_owner() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = scratch("fmt");
    let project = dir.join("project");
    fs::create_dir(&project).expect("mkdir");
    let file = project.join("estate.kdl");
    fs::write(&file, "project   \"p\"   {\ncurrency \"EUR\"\n}\n").expect("write");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o664)).expect("chmod");
    let is_root = fs::metadata(&dir).expect("meta").uid() == 0
        && std::os::unix::fs::chown(&file, Some(4321), Some(4321)).is_ok();
    let before = fs::metadata(&file).expect("meta");
    let o = virtplan(&[p("fmt"), &project]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&file).expect("read"),
        "project \"p\" {\n    currency \"EUR\"\n}\n"
    );
    let after = fs::metadata(&file).expect("meta");
    // Replaced by a rename (a new inode), not rewritten in place.
    assert_ne!(after.ino(), before.ino());
    assert_eq!(after.mode() & 0o7777, 0o664);
    if is_root {
        assert_eq!((after.uid(), after.gid()), (4321, 4321));
    }
    assert_eq!(
        fs::read_dir(&project).expect("read").count(),
        1,
        "a temporary file was left"
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/small");
    let mut child = Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .arg("check")
        .arg(&project)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close the reading end before virtplan prints its summary.
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(o.status.code(), Some(101), "{err}");
    // Killed by SIGPIPE, as `head` would leave `cat`.
    assert_eq!(o.status.signal(), Some(13), "{:?}: {err}", o.status);
}

#[test]
fn plan_refuses_while_another_run_writes_beside_out() {
    use std::os::fd::AsRawFd;
    let dir = scratch("lock");
    let project = small_project(&dir);
    let out = dir.join("out");
    // What a running virtplan holds: a lock on the folder beside --out.
    let held = fs::File::open(&dir).expect("open");
    // SAFETY: `held` is an open descriptor during the call.
    let r = unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(r, 0);
    refused(
        &[p("plan"), &project, p("--out"), &out],
        &["another virtplan"],
    );
    assert!(!out.exists());
    drop(held);
    plan_ok(&[p("plan"), &project, p("--out"), &out]);
}

#[test]
fn previous_parsing_names_what_is_wrong() {
    use virtplan::place::{Previous, PreviousError};
    let ok =
        r#"{"format": 2, "project": {"name": "P"}, "capacity": {"assignments": {"db": "h-1"}}}"#;
    let previous = Previous::from_json(ok).expect("a plan");
    assert_eq!(previous.project, "P");
    assert_eq!(previous.assignments["db"], "h-1");
    assert_eq!(previous.check_project("P"), Ok(()));
    assert_eq!(
        previous.check_project("Q"),
        Err(PreviousError::OtherProject {
            found: "P".into(),
            expected: "Q".into()
        })
    );
    let cases = [
        (r#"{"project": {"name": "P"}}"#, PreviousError::NoFormat),
        (r#"{"format": "1"}"#, PreviousError::NoFormat),
        (
            r#"{"format": 1, "project": {"name": "P"}}"#,
            PreviousError::Format {
                found: "1".into(),
                expected: 2,
            },
        ),
        (
            r#"{"format": 1.5}"#,
            PreviousError::Format {
                found: "1.5".into(),
                expected: 2,
            },
        ),
        (r#"{"format": 2, "project": {}}"#, PreviousError::NoProject),
        (
            r#"{"format": 2, "project": {"name": "P"}}"#,
            PreviousError::NoAssignments,
        ),
        (
            r#"{"format": 2, "project": {"name": "P"}, "capacity": {"assignments": {"db": 3}}}"#,
            PreviousError::BadAssignment("db".into()),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Previous::from_json(text).map(|_| ()), Err(want), "{text}");
    }
    assert!(matches!(
        Previous::from_json("servers: 3"),
        Err(PreviousError::NotJson(_))
    ));
}

#[test]
fn max_moves_needs_previous_and_is_reported() {
    let dir = scratch("max-moves");
    let project = small_project(&dir);
    let out = dir.join("out");
    refused(
        &[
            p("plan"),
            &project,
            p("--out"),
            &out,
            p("--max-moves"),
            p("2"),
        ],
        &["--previous"],
    );
    plan_ok(&[p("plan"), &project, p("--out"), &out]);
    let again = dir.join("again");
    plan_ok(&[
        p("plan"),
        &project,
        p("--out"),
        &again,
        p("--previous"),
        &out.join("plan.json"),
        p("--max-moves"),
        p("0"),
    ]);
    let capacity = fs::read_to_string(again.join("capacity.md")).expect("read");
    assert!(
        capacity
            .contains("Nothing moved; the previous hosts were kept. At most 0 moves were allowed."),
        "{capacity}"
    );
}

#[test]
fn init_writes_a_project_that_checks_and_never_overwrites() {
    let dir = scratch("init");
    let project = dir.join("estate");
    let o = virtplan(&[p("init"), &project, p("--name"), p("Acme \"North\"")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("virtplan check"), "{out}");
    assert!(
        out.contains(&format!("--out {}", dir.join("estate-plan").display())),
        "{out}"
    );
    let files = tree(&project);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["project.kdl", "servers/", "servers/examples.kdl"],
        "{files:?}"
    );
    // It checks, is formatted as fmt would, and plans where init said.
    plan_ok(&[p("check"), &project]);
    plan_ok(&[p("fmt"), &project, p("--check")]);
    plan_ok(&[p("plan"), &project, p("--out"), &dir.join("estate-plan")]);
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("estate-plan").join("plan.json")).expect("read"))
            .expect("json");
    assert_eq!(json["project"]["name"], "Acme \"North\"");
    // A second init into the same folder is refused and changes nothing.
    refused(&[p("init"), &project], &["not empty"]);
    assert_eq!(tree(&project), files);
}
