//! The bundled examples check clean, their outputs are snapshotted, output
//! does not depend on the order files are listed in, and the Ansible output
//! passes `ansible-playbook --syntax-check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use virtplan::emit::{self, Formats};
use virtplan::source::{FileSource, MemorySource, ReadError};

fn example_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn read_dir(root: &Path) -> MemorySource {
    MemorySource {
        files: common::files_under(root),
    }
}

/// Lists files in reverse order, to show the loader does not depend on it.
struct Reversed(MemorySource);

impl FileSource for Reversed {
    fn list(&self) -> Vec<String> {
        let mut l = self.0.list();
        l.reverse();
        l
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        self.0.read(path)
    }
}

const ALL: Formats = Formats {
    markdown: true,
    json: true,
    ansible: true,
};

fn outputs(fs: &dyn FileSource) -> Vec<(String, String)> {
    let compiled = virtplan::compile(fs);
    let errors: Vec<_> = compiled
        .diags
        .items
        .iter()
        .filter(|d| d.severity == virtplan::diag::Severity::Error)
        .collect();
    assert!(
        errors.is_empty(),
        "{}",
        virtplan::diag::render_short(&compiled.diags.items, &compiled.sources)
    );
    let plan = compiled.plan.expect("a plan");
    emit::emit(&plan, ALL, &BTreeMap::new()).expect("emit")
}

fn check_example(name: &str) {
    let src = read_dir(&example_dir(name));
    let files = outputs(&src);
    assert_eq!(
        files,
        outputs(&Reversed(src.clone())),
        "output depends on listing order"
    );
    assert_eq!(files, outputs(&src), "output differs between runs");
    for (path, text) in &files {
        assert!(
            !text.contains("/work/") && !text.contains("/home/"),
            "{path} holds an absolute path"
        );
        insta::assert_snapshot!(format!("{name}__{}", path.replace('/', "__")), text);
    }
    ansible_syntax_check(name, &files);
}

/// The Ansible collections the playbooks use (`VIRTPLAN_ANSIBLE_COLLECTIONS`,
/// unpacked by .ci/run), when `ansible-playbook` runs here; CI must have both.
fn have_ansible() -> Option<std::ffi::OsString> {
    let have = std::process::Command::new("ansible-playbook")
        .arg("--version")
        .output();
    let collections = std::env::var_os("VIRTPLAN_ANSIBLE_COLLECTIONS");
    if have.is_err() || collections.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install ansible-core and set VIRTPLAN_ANSIBLE_COLLECTIONS"
        );
        eprintln!(
            "skipped: ansible-playbook or VIRTPLAN_ANSIBLE_COLLECTIONS is missing (see .ci/run)"
        );
        return None;
    }
    collections
}

/// Writes `files` under a fresh directory of the test target.
fn write_out(name: &str, files: &[(String, String)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    dir
}

fn ansible_syntax_check(name: &str, files: &[(String, String)]) {
    let Some(collections) = have_ansible() else {
        return;
    };
    let dir = write_out(&format!("ansible-{name}"), files);
    let ansible = dir.join("ansible");
    let mut waves: Vec<_> = files
        .iter()
        .filter(|(p, _)| p.starts_with("ansible/wave-"))
        .collect();
    waves.sort();
    assert!(!waves.is_empty(), "no wave playbooks");
    for (path, _) in waves {
        let out = std::process::Command::new("ansible-playbook")
            .arg("--syntax-check")
            .arg("-i")
            .arg(ansible.join("inventory.yml"))
            .arg(dir.join(path))
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_COLLECTIONS_PATH", &collections)
            .output()
            .expect("run ansible-playbook");
        assert!(
            out.status.success(),
            "{path}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn small_example() {
    check_example("small");
}

#[test]
fn realistic_example() {
    check_example("realistic");
}

/// The small example with `edit` applied to the text of its files.
fn small_with(edit: impl Fn(&str) -> String) -> MemorySource {
    let mut src = read_dir(&example_dir("small"));
    for (path, bytes) in src.files.iter_mut() {
        if path.ends_with(".kdl") {
            *bytes = edit(std::str::from_utf8(bytes).expect("utf-8")).into_bytes();
        }
    }
    src
}

fn plan_of(src: &MemorySource) -> virtplan::plan::Plan {
    let compiled = virtplan::compile(src);
    assert!(
        !compiled.diags.has_errors(),
        "{}",
        virtplan::diag::render_short(&compiled.diags.items, &compiled.sources)
    );
    compiled.plan.expect("a plan")
}

#[test]
fn embedded_templates_use_a_third_of_their_fuel() {
    for name in ["small", "realistic"] {
        let plan = plan_of(&read_dir(&example_dir(name)));
        let servers = plan.assessment.servers.len() as u64;
        let used = emit::fuel_used(&plan).expect("render");
        assert_eq!(used.len(), emit::TEMPLATES.len());
        for (template, fuel) in used {
            assert!(
                fuel > 0 && fuel * 3 <= emit::FUEL_PER_SERVER * servers,
                "{name}: {template} used {fuel} fuel for {servers} servers"
            );
        }
    }
}

#[test]
fn runaway_templates_stop_with_an_error() {
    let plan = plan_of(&read_dir(&example_dir("small")));
    for (what, text, expected) in [
        (
            "nested loops",
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}",
            "units of work",
        ),
        ("a huge string", "{{ 'x' * 100000000000 }}", "units of work"),
        (
            "a string doubled in a loop",
            "{% macro grow(s, n) %}{% if n %}{{ grow(s ~ s, n - 1) }}{% else %}{{ s }}{% endif %}{% endmacro %}{{ grow('xxxxxxxx', 60) }}",
            "",
        ),
    ] {
        let overrides = BTreeMap::from([("costs.md.j2".to_string(), text.to_string())]);
        let err = emit::emit(&plan, ALL, &overrides).expect_err(what);
        assert!(
            err.starts_with("template costs.md.j2: ") && err.contains(expected),
            "{what}: {err}"
        );
    }
}

#[test]
fn names_from_the_input_are_refused_unless_plain() {
    let bad = "{{ lookup('pipe','id') }}";
    for (what, from, to) in [
        ("server", "server \"mon01\"", format!("server \"{bad}\"")),
        (
            "cluster",
            "cluster \"main\" {",
            "cluster \"../../escape\" {".to_string(),
        ),
        (
            "host model",
            "host-model \"dl360-gen11-24c\"",
            "host-model \"a b\"".to_string(),
        ),
    ] {
        let src = small_with(|t| t.replace(from, &to));
        let compiled = virtplan::compile(&src);
        let codes: Vec<_> = compiled.diags.items.iter().map(|d| d.code).collect();
        assert!(
            codes.contains(&"virtplan::check::invalid-name"),
            "{what}: {codes:?}"
        );
    }
    // The emitter refuses such names too, should a plan carry one.
    let mut plan = plan_of(&read_dir(&example_dir("small")));
    plan.runbook.waves[0].servers[0].server = bad.to_string();
    let err = emit::emit(&plan, ALL, &BTreeMap::new()).expect_err("a hostile server name");
    assert!(err.contains("is not a valid name"), "{err}");
    let mut plan = plan_of(&read_dir(&example_dir("small")));
    plan.capacity.clusters[0].name = "../../escape".to_string();
    let err = emit::emit(&plan, ALL, &BTreeMap::new()).expect_err("a cluster name with a path");
    assert!(err.contains("cannot be part of a file name"), "{err}");
}
