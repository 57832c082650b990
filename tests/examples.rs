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

fn ansible_syntax_check(name: &str, files: &[(String, String)]) {
    let have = std::process::Command::new("ansible-playbook")
        .arg("--version")
        .output();
    if have.is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install ansible-core"
        );
        eprintln!("skipped: ansible-playbook is not installed (pip install ansible-core)");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ansible-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
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
