//! The generated playbooks, run for real: `ansible-playbook` against local
//! connections, a fake converter (`tests/ansible_fixtures/fake-converter.sh`)
//! and fake vCenter facts (a `vmware.vmware` test collection that shadows
//! the real one and reads what the fake converter recorded). The playbooks
//! themselves are the production ones. Also `ansible-lint --offline
//! --strict --profile production` on every bundled example's playbooks.
//!
//! Needs `ansible-playbook`, `ansible-lint` and the collections unpacked from
//! the `ansible` wheel at `$VIRTPLAN_ANSIBLE_COLLECTIONS` (.ci/run does
//! this); skips with a message when they are missing outside CI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use virtplan::emit::{self, Formats};
use virtplan::source::MemorySource;

/// The collections path (fake vmware.vmware first), or None to skip.
fn tools() -> Option<String> {
    let missing = |what: &str| {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide {what} (see .ci/run)"
        );
        eprintln!("skipped: {what} is missing (see .ci/run)");
        None
    };
    let Some(real) = std::env::var_os("VIRTPLAN_ANSIBLE_COLLECTIONS") else {
        return missing("VIRTPLAN_ANSIBLE_COLLECTIONS");
    };
    for tool in ["ansible-playbook", "ansible-lint"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return missing(tool);
        }
    }
    let fake = fixtures().join("fake_collections");
    Some(format!("{}:{}", fake.display(), real.to_string_lossy()))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible_fixtures")
}

/// Four Linux servers, no dependencies, two streams: one wave of two
/// rounds of two servers.
const PROJECT: &str = r#"
project "e2e"
platform "esxi" {
    hypervisor "vcenter"
}
host-model "h" {
    sockets 2
    cores-per-socket 16
    clock "2.5GHz"
    memory "512GiB"
}
cluster "c" {
    platform "esxi"
    host-model "h"
}
defaults {
    sockets 1
    cores-per-socket 4
    clock "2.5GHz"
    memory "8GiB"
    disk-used "36GB"
    os "Debian 12"
    owner "Team A"
}
server "alpha"
server "bravo"
server "charlie"
server "delta"
migration {
    network "1Gbps"
    parallel-streams 2
    window "sat 22:00-sun 06:00"
}
"#;

const SERVERS: [&str; 4] = ["alpha", "bravo", "charlie", "delta"];

/// The plan of `src`, which must have no errors.
fn plan_of(src: &MemorySource) -> virtplan::plan::Plan {
    let compiled = virtplan::compile(src);
    assert!(
        !compiled.diags.has_errors(),
        "{}",
        virtplan::diag::render_short(&compiled.diags.items, &compiled.sources)
    );
    compiled.plan.expect("a plan")
}

/// The generated Ansible files of `src`, written under a fresh directory.
fn generate(name: &str, src: &MemorySource) -> PathBuf {
    write_ansible(name, &plan_of(src))
}

/// The Ansible files of `plan`, written under a fresh directory.
fn write_ansible(name: &str, plan: &virtplan::plan::Plan) -> PathBuf {
    let formats = Formats {
        markdown: false,
        json: false,
        ansible: true,
    };
    let files = emit::emit(plan, formats, &BTreeMap::new()).expect("emit");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in &files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    dir.join("ansible")
}

struct Run {
    ok: bool,
    out: String,
}

/// Runs `wave-1.yml` with local connections, the fake state in `state`,
/// `extra` variables and, with `check`, in check mode.
fn play(
    collections: &str,
    ansible: &Path,
    state: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
    check: bool,
) -> Run {
    let mut cmd = Command::new("ansible-playbook");
    cmd.current_dir(ansible)
        .args(["-i", "inventory.yml", "wave-1.yml"])
        .args(["-e", "ansible_connection=local"])
        .args([
            "-e",
            "ansible_python_interpreter={{ ansible_playbook_python }}",
        ])
        .args([
            "-e",
            "virtplan_boot_retries=1",
            "-e",
            "virtplan_boot_delay=0",
        ])
        .args(["-e", "virtplan_connect_timeout=30"])
        .env("ANSIBLE_COLLECTIONS_PATH", collections)
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_NOCOLOR", "true")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
        .env("VIRTPLAN_FAKE_STATE", state)
        .stdin(std::process::Stdio::null());
    for e in extra {
        cmd.args(["-e", e]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    if check {
        cmd.arg("--check");
    }
    let out = cmd.output().expect("run ansible-playbook");
    Run {
        ok: out.status.success(),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn fresh_state(dir: &Path) -> PathBuf {
    let state = dir.join("state");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state).expect("mkdir");
    state
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn converter() -> String {
    format!(
        "virtplan_convert_command={}",
        fixtures().join("fake-converter.sh").display()
    )
}

const ALL_CONFIRMED: &str = r#"{"virtplan_confirmed": ["alpha", "bravo", "charlie", "delta"]}"#;

/// `changed=N` of each host in the play recap.
fn changed(out: &str) -> BTreeMap<String, u32> {
    let recap = out.rsplit("PLAY RECAP").next().unwrap_or("");
    recap
        .lines()
        .filter_map(|l| {
            let (host, rest) = l.split_once(':')?;
            let n = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("changed="))?;
            Some((host.trim().to_string(), n.parse().ok()?))
        })
        .collect()
}

#[test]
fn playbooks_run_confirm_roll_back_and_rerun() {
    let Some(collections) = tools() else {
        return;
    };
    let src = MemorySource::new().with("p.kdl", PROJECT);
    let ansible = generate("ansible-e2e", &src);
    let root = ansible.parent().expect("root").to_path_buf();
    let converted_log = |state: &Path| read(&state.join("converted.log"));

    // No converter: the wave fails at once, nothing is converted.
    let state = fresh_state(&root);
    let run = play(&collections, &ansible, &state, &[ALL_CONFIRMED], &[], false);
    assert!(!run.ok, "{}", run.out);
    assert!(
        run.out.contains("no converter is configured"),
        "{}",
        run.out
    );
    assert!(!run.out.contains("CONVERTED"), "{}", run.out);
    assert_eq!(converted_log(&state), "");

    // A confirmation given as a string (which `in` would match as a
    // substring) is refused.
    let state = fresh_state(&root);
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&converter(), "virtplan_confirmed=alphabravocharliedelta"],
        &[],
        false,
    );
    assert!(!run.ok, "{}", run.out);
    assert!(
        run.out.contains("virtplan_confirmed must be a list"),
        "{}",
        run.out
    );
    assert_eq!(converted_log(&state), "");

    // vCenter cannot be read: the wave stops before converting blind.
    let state = fresh_state(&root);
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&converter(), ALL_CONFIRMED],
        &[("VIRTPLAN_FAKE_VCENTER_DOWN", "1")],
        false,
    );
    assert!(!run.ok, "{}", run.out);
    assert!(
        run.out.contains("Unable to connect to vCenter"),
        "{}",
        run.out
    );
    assert_eq!(converted_log(&state), "");

    // Nobody confirms (stdin is not a terminal): each server of the first
    // round gets its own prompt and fails by name; nothing is converted.
    let state = fresh_state(&root);
    let conv = converter();
    let run = play(&collections, &ansible, &state, &[&conv], &[], false);
    assert!(!run.ok, "{}", run.out);
    for name in ["alpha", "bravo"] {
        assert!(
            run.out.contains(&format!("(item={name})")),
            "{name}: {}",
            run.out
        );
        assert!(
            run.out.contains(&format!("{name} was not confirmed")),
            "{name}: {}",
            run.out
        );
    }
    assert_eq!(converted_log(&state), "");

    // One server of the round confirmed, the other not: the wave stops
    // before converting either.
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, r#"{"virtplan_confirmed": ["alpha"]}"#],
        &[],
        false,
    );
    assert!(!run.ok, "{}", run.out);
    assert!(run.out.contains("CONFIRMED alpha"), "{}", run.out);
    assert!(run.out.contains("bravo was not confirmed"), "{}", run.out);
    assert_eq!(converted_log(&state), "");

    // Check mode says what would happen and converts nothing.
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED],
        &[],
        true,
    );
    assert!(run.ok, "{}", run.out);
    for name in SERVERS {
        assert!(
            run.out.contains(&format!("WOULD CONVERT {name} ")),
            "{name}: {}",
            run.out
        );
    }
    assert_eq!(converted_log(&state), "");

    // Everything confirmed: every server confirmed by name, converted once,
    // its VM checked through the (fake) vCenter facts.
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED],
        &[],
        false,
    );
    assert!(run.ok, "{}", run.out);
    for name in SERVERS {
        assert_eq!(
            run.out.matches(&format!("CONFIRMED {name}\"")).count(),
            1,
            "{name}: {}",
            run.out
        );
        assert!(
            run.out.contains(&format!("CONVERTED {name}:")),
            "{name}: {}",
            run.out
        );
    }
    let log = converted_log(&state);
    let lines = sorted_lines(&log);
    assert_eq!(lines.len(), 4, "{log}");
    for (line, name) in lines.iter().zip(SERVERS) {
        assert!(line.starts_with(&format!("{name} c-")), "{line}");
        assert!(line.ends_with(" p2v-cold esxi"), "{line}");
    }
    assert_eq!(read(&state.join("rollback.log")), "");

    // Again: nothing changes, nothing is converted twice.
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED],
        &[],
        false,
    );
    assert!(run.ok, "{}", run.out);
    let recap = changed(&run.out);
    assert_eq!(recap.len(), 4, "{}", run.out);
    assert!(recap.values().all(|n| *n == 0), "{recap:?}\n{}", run.out);
    for name in SERVERS {
        assert!(
            run.out.contains(&format!("SKIPPED {name}:")),
            "{name}: {}",
            run.out
        );
    }
    assert_eq!(converted_log(&state), log);

    // A VM that does not come up: rescue, rollback, the wave fails and the
    // server is never reported converted.
    let state = fresh_state(&root);
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED],
        &[("VIRTPLAN_FAKE_NO_BOOT", "bravo")],
        false,
    );
    assert!(!run.ok, "{}", run.out);
    // any_errors_fatal: the other server of the round, converted
    // alongside, is rolled back too; the next round never starts.
    assert_eq!(
        sorted_lines(&read(&state.join("rollback.log"))),
        ["powered-off alpha", "powered-off bravo"],
        "{}",
        run.out
    );
    let converted: Vec<String> = sorted_lines(&converted_log(&state))
        .iter()
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(converted, ["alpha", "bravo"], "{}", run.out);
    assert!(
        run.out
            .contains("alpha was rolled back and is not converted (another server"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("ROLLBACK bravo: power the VM off and the physical server back on"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("bravo was rolled back and is not converted"),
        "{}",
        run.out
    );
    assert!(!run.out.contains("CONVERTED bravo"), "{}", run.out);
}

/// A dated migration: conversions start only between the window's opening
/// and the wave's go/no-go time, both in UTC, and check mode says when.
#[test]
fn conversions_start_only_in_the_waves_night() {
    let Some(collections) = tools() else {
        return;
    };
    // Saturday 2027-03-06, at UTC+01:00: the window "sat 22:00-sun 06:00"
    // opens at 21:00 UTC and closes at 05:00 UTC on Sunday.
    let dated = PROJECT
        .replace(
            "project \"e2e\"",
            "project \"e2e\" {\n    timezone \"+01:00\"\n}",
        )
        .replace("migration {", "migration start=\"2027-03-06\" {");
    let src = MemorySource::new().with("p.kdl", dated);
    let plan = plan_of(&src);
    let wave = &plan.runbook.waves[0];
    assert_eq!(wave.opens_utc.as_deref(), Some("2027-03-06T21:00:00Z"));
    // The go/no-go, local "Sun 2027-03-07 HH:MM", is an hour earlier in UTC.
    let local = wave.go_no_go.as_deref().expect("a go/no-go time");
    let clock = local.strip_prefix("Sun 2027-03-07 ").expect(local);
    let (h, m) = clock.split_once(':').expect(clock);
    let hour: u32 = h.parse().expect(h);
    let go = format!("2027-03-07T{:02}:{m}:00Z", hour - 1);
    assert_eq!(wave.go_no_go_utc.as_deref(), Some(go.as_str()));
    let ansible = write_ansible("ansible-clock", &plan);
    let root = ansible.parent().expect("root").to_path_buf();
    let conv = converter();
    // As JSON: a bare `key=2027-…Z` would reach Ansible as a datetime.
    let at = |now: &str| format!(r#"{{"virtplan_now_utc": "{now}"}}"#);

    // A minute before the window opens, and at the go/no-go: refused.
    for now in ["2027-03-06T20:59:00Z", go.as_str()] {
        let state = fresh_state(&root);
        let run = play(
            &collections,
            &ansible,
            &state,
            &[&conv, ALL_CONFIRMED, &at(now)],
            &[],
            false,
        );
        assert!(!run.ok, "{now}: {}", run.out);
        assert!(
            run.out.contains(&format!("it is {now}, but wave 1 converts from 2027-03-06T21:00:00Z until its go/no-go at {go}")),
            "{now}: {}",
            run.out
        );
        assert_eq!(read(&state.join("converted.log")), "", "{now}");
    }

    // Check mode, in the afternoon: says when, converts nothing, fails nothing.
    let state = fresh_state(&root);
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED, &at("2027-03-06T15:00:00Z")],
        &[],
        true,
    );
    assert!(run.ok, "{}", run.out);
    assert!(
        run.out.contains(&format!(
            "from 2027-03-06T21:00:00Z until the go/no-go at {go} UTC"
        )),
        "{}",
        run.out
    );

    // A rehearsal outside the night, said so explicitly: it runs.
    let run = play(
        &collections,
        &ansible,
        &state,
        &[
            &conv,
            ALL_CONFIRMED,
            &at("2027-03-06T15:00:00Z"),
            "virtplan_ignore_schedule=true",
        ],
        &[],
        false,
    );
    assert!(run.ok, "{}", run.out);
    assert_eq!(sorted_lines(&read(&state.join("converted.log"))).len(), 4);

    // When the window opens: every server is converted.
    let state = fresh_state(&root);
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED, &at("2027-03-06T21:00:00Z")],
        &[],
        false,
    );
    assert!(run.ok, "{}", run.out);
    assert_eq!(
        sorted_lines(&read(&state.join("converted.log"))).len(),
        4,
        "{}",
        run.out
    );
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// A Jinja expression that, if Ansible ever evaluated it, leaves `marker`.
fn jinja_touching(marker: &Path) -> String {
    let m = marker.display();
    format!(
        "{{{{ lookup('pipe','touch {m}') }}}} {{% if lookup('pipe','touch {m}') %}}x{{% endif %}}"
    )
}

/// Jinja planted in every free text that reaches the Ansible files (the
/// project's name, owners and OS names from the input; past the checks,
/// the target hosts, windows and rollbacks of the plan): the playbooks run
/// through every task, the conversion, the facts check with the text as
/// the planned host, check mode and a rollback, and nothing is evaluated.
#[test]
fn ansible_never_evaluates_input() {
    let Some(collections) = tools() else {
        return;
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ansible-hostile");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("mkdir");
    let marker = root.join("marker");
    let hostile = jinja_touching(&marker);
    let project = PROJECT
        .replace("project \"e2e\"", &format!("project {hostile:?}"))
        .replace("owner \"Team A\"", &format!("owner {hostile:?}"))
        .replace(
            "os \"Debian 12\"",
            &format!("os {:?}", format!("Debian 12 {hostile}")),
        );
    let mut plan = plan_of(&MemorySource::new().with("p.kdl", project.as_str()));
    assert_eq!(plan.project.name, hostile);
    for wave in &mut plan.runbook.waves {
        wave.window = Some(hostile.clone());
        for s in &mut wave.servers {
            s.target_host = hostile.clone();
            s.rollback = hostile.clone();
        }
    }
    let ansible = write_ansible("ansible-hostile/out", &plan);
    let state = fresh_state(&root);
    let conv = converter();
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED],
        &[],
        true,
    );
    assert!(run.ok, "{}", run.out);
    assert!(run.out.contains(&format!("owner {hostile}")), "{}", run.out);
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED],
        &[],
        false,
    );
    assert!(run.ok, "{}", run.out);
    // The converter got the text itself as the target host, and the facts
    // check matched it.
    let log = read(&state.join("converted.log"));
    assert_eq!(log.matches(&hostile).count(), 4, "{log}");
    for name in SERVERS {
        assert!(
            run.out
                .contains(&format!("CONVERTED {name}: runs as a VM on {hostile}")),
            "{}",
            run.out
        );
    }
    let state = fresh_state(&root);
    let run = play(
        &collections,
        &ansible,
        &state,
        &[&conv, ALL_CONFIRMED],
        &[("VIRTPLAN_FAKE_NO_BOOT", "alpha")],
        false,
    );
    assert!(!run.ok, "{}", run.out);
    assert!(
        run.out.contains(&format!("ROLLBACK alpha: {hostile}")),
        "{}",
        run.out
    );
    assert!(!marker.exists(), "Ansible evaluated input from the plan");
}

/// `ansible-lint --offline --strict --profile production` passes on the
/// playbooks and inventory of every bundled example.
#[test]
fn bundled_examples_pass_ansible_lint() {
    let Some(_) = tools() else {
        return;
    };
    let real = std::env::var("VIRTPLAN_ANSIBLE_COLLECTIONS").expect("checked by tools()");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&examples)
        .expect("examples")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    for name in names {
        let src = MemorySource {
            files: common::files_under(&examples.join(&name)),
        };
        let ansible = generate(&format!("ansible-lint-{name}"), &src);
        let out = Command::new("ansible-lint")
            .current_dir(&ansible)
            .args([
                "--offline",
                "--strict",
                "--profile",
                "production",
                "--nocolor",
                ".",
            ])
            .env("ANSIBLE_COLLECTIONS_PATH", &real)
            .output()
            .expect("run ansible-lint");
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
