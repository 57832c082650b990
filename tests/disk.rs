//! Reading from disk: links, pipes, size limits and skipped folders, checked
//! by running the binary on projects built in a temporary directory.
//!
//! These are the cases an in-memory project cannot produce; they stand in
//! for the error cases of `virtplan::load::{outside-project, not-a-file,
//! too-large, skipped}` (see `SKIPPED` in tests/errors.rs). The refusals of
//! measurement files are checked by their messages: the code comes from the
//! measurement reader.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("virtplan-disk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the temporary directory");
        TempDir(path)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        std::fs::write(&path, text).expect("write a file");
        path
    }
    fn link(&self, rel: &str, target: &Path) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        std::os::unix::fs::symlink(target, &path).expect("create a link");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server that names its measurement file.
const PROJECT: &str = r#"project "Acme" {
    currency "EUR"
}

server "web01" {
    sockets 1
    cores-per-socket 4
    clock "2.4GHz"
    memory "16GiB"
    metrics "metrics/web01.csv"
}
"#;

const SECRET: &str = "DB_PASSWORD=hunter2-do-not-print\nAPI_KEY=sk-live-0000\n";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `virtplan check <dir>`.
fn check(dir: &Path) -> Run {
    virtplan(&["check".as_ref(), dir.as_os_str()])
}

/// Runs `virtplan` with `args`, failing the test if it does not finish
/// within a minute (a pipe opened for reading blocks until a writer comes).
fn virtplan(args: &[&std::ffi::OsStr]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start virtplan");
    let start = Instant::now();
    while child.try_wait().expect("poll virtplan").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("virtplan {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("collect the output");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: flat(&String::from_utf8_lossy(&out.stderr)),
    }
}

/// The rendering with its line wrapping undone: the margin bars dropped and
/// every run of white space made one space, so messages match whole.
fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_link_outside_the_project_is_refused_and_its_content_never_printed() {
    let tmp = TempDir::new("outside");
    let secret = tmp.write("elsewhere/secrets.env", SECRET);
    tmp.write("proj/main.kdl", PROJECT);
    tmp.link("proj/metrics/web01.csv", &secret);
    // A top-level .kdl file linking outside: listed as skipped, never read.
    tmp.link("proj/shared.kdl", &secret);
    let run = check(&tmp.0.join("proj"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "cannot read `metrics/web01.csv`: it resolves to a place outside the project"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`shared.kdl` links outside the project and is skipped"),
        "{}",
        run.stderr
    );
    for output in [&run.stdout, &run.stderr] {
        for leak in [
            "DB_PASSWORD",
            "hunter2",
            "API_KEY",
            "sk-live",
            "elsewhere",
            "secrets.env",
        ] {
            assert!(!output.contains(leak), "`{leak}` printed:\n{output}");
        }
    }
}

#[test]
fn a_path_through_a_linked_folder_outside_is_refused() {
    let tmp = TempDir::new("outside-folder");
    tmp.write("elsewhere/web01.csv", SECRET);
    tmp.write("proj/main.kdl", PROJECT);
    tmp.link("proj/metrics", &tmp.0.join("elsewhere"));
    let run = check(&tmp.0.join("proj"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "cannot read `metrics/web01.csv`: it resolves to a place outside the project"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}

#[test]
fn a_pipe_named_as_a_measurement_file_is_refused_without_blocking() {
    let tmp = TempDir::new("fifo");
    tmp.write("proj/main.kdl", PROJECT);
    std::fs::create_dir_all(tmp.0.join("proj/metrics")).expect("create metrics/");
    let fifo = tmp.0.join("proj/metrics/web01.csv");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let run = check(&tmp.0.join("proj"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "cannot read `metrics/web01.csv`: it is a named pipe (FIFO), not a regular file"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`metrics/web01.csv` is a named pipe (FIFO) and is skipped"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_kdl_file_over_the_size_limit_is_refused_before_reading() {
    let tmp = TempDir::new("too-large");
    tmp.write(
        "proj/main.kdl",
        "project \"Acme\" {\n    currency \"EUR\"\n}\n",
    );
    // Sparse: 64 MiB + 1 byte of zeros that take no room on disk.
    let big = std::fs::File::create(tmp.0.join("proj/big.kdl")).expect("create big.kdl");
    big.set_len((64 << 20) + 1).expect("grow big.kdl");
    let run = check(&tmp.0.join("proj"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("virtplan::load::too-large"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "cannot read `big.kdl`: it holds 67108865 bytes, over the limit of 67108864 bytes"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn max_file_size_sets_the_limit_for_every_file_read() {
    let tmp = TempDir::new("max-file-size");
    tmp.write("proj/main.kdl", PROJECT);
    // A 57-byte header and 6 rows of 35 bytes: 267 bytes.
    let mut csv = String::from("timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n");
    for hour in 0..6 {
        csv.push_str(&format!("2026-03-02T{hour:02}:00:00Z,10,4,100,1,10\n"));
    }
    assert_eq!(csv.len(), 267);
    tmp.write("proj/metrics/web01.csv", &csv);
    let proj = tmp.0.join("proj");
    let run = virtplan(&[
        "check".as_ref(),
        proj.as_os_str(),
        "--max-file-size".as_ref(),
        "266B".as_ref(),
    ]);
    assert!(
        run.stderr
            .contains("it holds 267 bytes, over the limit of 266 bytes"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("raise the limit with"),
        "{}",
        run.stderr
    );
    // One byte more and the same file is read: no refusal, no error.
    let run = virtplan(&[
        "check".as_ref(),
        proj.as_os_str(),
        "--max-file-size".as_ref(),
        "267B".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("over the limit"), "{}", run.stderr);
    // The KDL files are held to it too: main.kdl is 165 bytes.
    assert_eq!(PROJECT.len(), 165);
    let run = virtplan(&[
        "check".as_ref(),
        proj.as_os_str(),
        "--max-file-size".as_ref(),
        "0.1KiB".as_ref(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read `main.kdl`: it holds 165 bytes, over the limit of 102 bytes"),
        "{}",
        run.stderr
    );
    let run = virtplan(&[
        "check".as_ref(),
        proj.as_os_str(),
        "--max-file-size".as_ref(),
        "0B".as_ref(),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("at least 1 byte"), "{}", run.stderr);
}

#[test]
fn a_pipe_named_as_a_previous_plan_or_a_diff_side_is_refused_without_blocking() {
    let tmp = TempDir::new("given-fifo");
    tmp.write("proj/main.kdl", PROJECT);
    tmp.write(
        "proj/metrics/web01.csv",
        "timestamp,cpu_pct\n2026-03-02T00:00:00Z,10\n",
    );
    let fifo = tmp.0.join("plan.json");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    let proj = tmp.0.join("proj");
    let out = tmp.0.join("out");
    let run = virtplan(&[
        "plan".as_ref(),
        proj.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--previous".as_ref(),
        fifo.as_os_str(),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("named pipe"), "{}", run.stderr);
    assert!(!out.exists(), "nothing is written");
    let run = virtplan(&["diff".as_ref(), proj.as_os_str(), fifo.as_os_str()]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("named pipe"), "{}", run.stderr);
}

#[test]
fn links_inside_the_project_are_followed() {
    let tmp = TempDir::new("inside");
    tmp.write("proj/main.kdl", PROJECT);
    tmp.write(
        "proj/data/web01-2026.csv",
        "timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n\
         2026-03-02T00:00:00Z,12.5,9.8,120,2.1,15.0\n",
    );
    tmp.link(
        "proj/metrics/web01.csv",
        Path::new("../data/web01-2026.csv"),
    );
    tmp.write(
        "proj/shared/db.kdl",
        "server \"db01\" {\n    sockets 1\n    cores-per-socket 4\n    clock \"2.4GHz\"\n    memory \"16GiB\"\n}\n",
    );
    tmp.link("proj/db.kdl", Path::new("shared/db.kdl"));
    let run = check(&tmp.0.join("proj"));
    // db01 comes in through the linked top-level file.
    assert!(
        run.stdout.contains("ok: 2 servers"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    for code in [
        "outside-project",
        "not-a-file",
        "virtplan::load::read",
        "skipped",
    ] {
        assert!(!run.stderr.contains(code), "{}", run.stderr);
    }
}

#[test]
fn skipped_folders_are_reported_and_hidden_ones_are_not() {
    let tmp = TempDir::new("skipped");
    tmp.write(
        "proj/main.kdl",
        "project \"Acme\" {\n    currency \"EUR\"\n}\n",
    );
    tmp.write("proj/target/old.kdl", "server \"old\"\n");
    tmp.write("proj/.git/config", "[core]\n");
    tmp.write("proj/sub/a.kdl", "");
    tmp.link("proj/alias", Path::new("sub"));
    let deep = format!("proj/{}", "d/".repeat(17));
    tmp.write(&format!("{deep}x.kdl"), "");
    let run = check(&tmp.0.join("proj"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected = [
        "folder `target` is skipped as build output",
        "`alias` links to a folder, which is not listed",
        &format!(
            "folder `{}` is more than 16 folders deep and is skipped",
            "d/".repeat(17).trim_end_matches('/')
        ),
    ];
    for message in expected {
        assert!(
            run.stderr.contains(message),
            "no `{message}` in\n{}",
            run.stderr
        );
    }
    assert_eq!(
        run.stderr.matches("virtplan::load::skipped").count(),
        3,
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(".git"), "{}", run.stderr);
}
