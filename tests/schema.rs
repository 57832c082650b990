//! Keeps `schema/virtplan.kdl` in sync with the language table.
//!
//! The committed file must equal `virtplan::kdl_schema::generate()`. Run with
//! `VIRTPLAN_UPDATE_SCHEMA=1` to rewrite the file instead of failing. The file
//! must also parse as KDL v2 and describe every node path and property of the
//! table, which this test checks by reading the schema back.

use std::collections::BTreeSet;
use std::path::PathBuf;

use kdl::{KdlDocument, KdlNode, KdlValue};
use virtplan::kdl_schema::generate;
use virtplan::schema::walk;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join("virtplan.kdl")
}

fn updating() -> bool {
    std::env::var("VIRTPLAN_UPDATE_SCHEMA").as_deref() == Ok("1")
}

/// The committed schema; in update mode, first rewritten from the table.
fn committed() -> String {
    let path = schema_path();
    if updating() {
        let fresh = generate();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create schema/");
        }
        std::fs::write(&path, &fresh).expect("write schema/virtplan.kdl");
        return fresh;
    }
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nrun `VIRTPLAN_UPDATE_SCHEMA=1 cargo test --test schema` to create it",
            path.display()
        )
    })
}

#[test]
fn committed_schema_is_generated() {
    let old = committed();
    let fresh = generate();
    if old != fresh {
        let first = old
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| old.lines().count().min(fresh.lines().count()));
        panic!(
            "schema/virtplan.kdl is out of date (first difference at line {}):\n  committed: {:?}\n  generated: {:?}\n\
             run `VIRTPLAN_UPDATE_SCHEMA=1 cargo test --test schema` and commit the result",
            first + 1,
            old.lines().nth(first).unwrap_or("<end of file>"),
            fresh.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn committed_schema_is_kdl_v2() {
    let text = committed();
    if let Err(err) = KdlDocument::parse_v2(&text) {
        panic!("schema/virtplan.kdl is not valid KDL v2: {err:?}");
    }
}

/// Every `node` path (`server/os`) and `path@prop` found in a schema document.
fn schema_paths(doc: &KdlDocument) -> BTreeSet<String> {
    fn string_arg(node: &KdlNode) -> Option<String> {
        match node.entries().iter().find(|e| e.name().is_none())?.value() {
            KdlValue::String(s) => Some(s.clone()),
            _ => None,
        }
    }
    fn go(prefix: &str, nodes: &[KdlNode], out: &mut BTreeSet<String>) {
        for n in nodes.iter().filter(|n| n.name().value() == "node") {
            let Some(name) = string_arg(n) else { continue };
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            out.insert(path.clone());
            let Some(body) = n.children() else { continue };
            for item in body.nodes() {
                match item.name().value() {
                    "prop" => {
                        if let Some(key) = string_arg(item) {
                            out.insert(format!("{path}@{key}"));
                        }
                    }
                    "children" => {
                        if let Some(kids) = item.children() {
                            go(&path, kids.nodes(), out);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    let top = doc
        .nodes()
        .iter()
        .find(|n| n.name().value() == "document")
        .and_then(KdlNode::children);
    if let Some(top) = top {
        go("", top.nodes(), &mut out);
    }
    out
}

#[test]
fn schema_describes_every_node_and_property() {
    let text = committed();
    let doc = match KdlDocument::parse_v2(&text) {
        Ok(doc) => doc,
        Err(err) => panic!("schema/virtplan.kdl is not valid KDL v2: {err:?}"),
    };
    let found = schema_paths(&doc);
    let mut expected = BTreeSet::new();
    for (path, spec) in walk() {
        for prop in spec.props {
            expected.insert(format!("{path}@{}", prop.name));
        }
        expected.insert(path);
    }
    let missing: Vec<&String> = expected.difference(&found).collect();
    let extra: Vec<&String> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "schema/virtplan.kdl does not match the language table\nmissing: {missing:#?}\nnot in the table: {extra:#?}"
    );
}

// ---------------------------------------------------------------- plan.json

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use virtplan::emit::{self, Formats};
use virtplan::source::MemorySource;

fn plan_schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join("plan.schema.json")
}

/// The committed `schema/plan.schema.json`; in update mode, first rewritten.
fn committed_plan_schema() -> String {
    let path = plan_schema_path();
    if updating() {
        let fresh = virtplan::plan::json_schema();
        std::fs::write(&path, &fresh).expect("write schema/plan.schema.json");
        return fresh;
    }
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nrun `VIRTPLAN_UPDATE_SCHEMA=1 cargo test --test schema` to create it",
            path.display()
        )
    })
}

#[test]
fn committed_plan_schema_is_generated() {
    let old = committed_plan_schema();
    let fresh = virtplan::plan::json_schema();
    if old != fresh {
        let first = old
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| old.lines().count().min(fresh.lines().count()));
        panic!(
            "schema/plan.schema.json is out of date (first difference at line {}):\n  committed: {:?}\n  generated: {:?}\n\
             run `VIRTPLAN_UPDATE_SCHEMA=1 cargo test --test schema` and commit the result",
            first + 1,
            old.lines().nth(first).unwrap_or("<end of file>"),
            fresh.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn virtplan_schema_prints_the_committed_file() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .arg("schema")
        .output()
        .expect("run virtplan schema");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed_plan_schema()
    );
}

/// Every bundled example's generated files, computed once.
fn example_outputs() -> &'static BTreeMap<String, Vec<(String, String)>> {
    static OUTPUTS: OnceLock<BTreeMap<String, Vec<(String, String)>>> = OnceLock::new();
    OUTPUTS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut all = BTreeMap::new();
        let mut dirs: Vec<_> = std::fs::read_dir(&root)
            .expect("examples/")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let name = dir
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let fs = MemorySource {
                files: common::files_under(&dir),
            };
            let compiled = virtplan::compile(&fs);
            assert!(!compiled.diags.has_errors(), "example {name} has errors");
            let plan = compiled.plan.expect("a plan");
            let formats = Formats {
                markdown: true,
                json: true,
                ansible: false,
            };
            let files = emit::emit(&plan, formats, &BTreeMap::new()).expect("emit");
            all.insert(name, files);
        }
        assert!(all.len() >= 2, "the bundled examples: {:?}", all.keys());
        all
    })
}

fn example_plan_json(name: &str) -> &'static str {
    let files = &example_outputs()[name];
    files
        .iter()
        .find(|(path, _)| path == "plan.json")
        .map(|(_, text)| text.as_str())
        .expect("plan.json")
}

const VALIDATE: &str = r#"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(77)
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.absolute_path))
    first = errors[0] if errors else None
    where = "/".join(map(str, first.absolute_path)) if first else ""
    print(path, "invalid" if errors else "valid", where, first.message if first else "", sep="\t")
"#;

/// Validates the files with Python's `jsonschema` (draft 2020-12) against
/// the committed schema: path → "valid" or "invalid\tpointer\tmessage".
/// `None` when the validator is missing outside CI.
fn validate(files: &[(String, String)]) -> Option<BTreeMap<String, String>> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plan-schema");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut args = vec![plan_schema_path().to_string_lossy().into_owned()];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        args.push(path.to_string_lossy().into_owned());
    }
    let run = std::process::Command::new("python3")
        .arg("-c")
        .arg(VALIDATE)
        .args(&args)
        .output();
    let missing = match &run {
        Err(_) => true,
        Ok(out) => out.status.code() == Some(77),
    };
    if missing {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install python3 and jsonschema (.ci/run)"
        );
        eprintln!("skipped: python3 with jsonschema is not installed (pip install jsonschema)");
        return None;
    }
    let out = run.expect("python3");
    assert!(
        out.status.success(),
        "the validator failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(path, verdict)| {
                let name = Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (name, verdict.trim_end().to_string())
            })
            .collect(),
    )
}

#[test]
fn every_example_plan_validates_against_the_committed_schema() {
    let mut files = Vec::new();
    for name in example_outputs().keys() {
        files.push((format!("{name}.json"), example_plan_json(name).to_string()));
    }
    // What the schema must refuse, to show the validator does validate.
    let small: serde_json::Value = serde_json::from_str(example_plan_json("small")).expect("json");
    let mut extra = small.clone();
    extra["costs"]["yearly"][0]["note"] = "not in the types".into();
    let mut old_format = small.clone();
    old_format["format"] = 1.into();
    let mut pairs = small.clone();
    pairs["assessment"]["totals"]["counts"] = serde_json::json!([["virtualize", 10]]);
    let mut key = small.clone();
    key["costs"]["yearly"][0]["key"] = "energy and cooling".into();
    for (name, value) in [
        ("bad-extra-field", &extra),
        ("bad-format", &old_format),
        ("bad-pairs", &pairs),
        ("bad-key", &key),
    ] {
        files.push((format!("{name}.json"), value.to_string()));
    }
    let Some(verdicts) = validate(&files) else {
        return;
    };
    assert_eq!(verdicts.len(), files.len(), "{verdicts:#?}");
    for (name, verdict) in &verdicts {
        if name.starts_with("bad-") {
            assert!(verdict.starts_with("invalid"), "{name} passed: {verdict}");
        } else {
            assert_eq!(verdict, "valid", "{name}");
        }
    }
    assert!(verdicts["bad-extra-field.json"].contains("costs/yearly/0"));
    assert!(verdicts["bad-format.json"].contains("format"));
}

/// A number as `plan.json` may write it: at most two decimals, no `-0`.
fn tidy_number(text: &str) -> bool {
    tidy_number_to(text, 2)
}

/// Fields written with more decimals than the usual two, and how many
/// (`round::Unit::Factor`).
const FACTORS: [(&str, usize); 1] = [("/costs/annuity_factor", 4)];

fn tidy_number_to(text: &str, most: usize) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, decimals) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && decimals.len() <= most
        && decimals.bytes().all(|b| b.is_ascii_digit());
    let negative_zero = text.starts_with('-') && digits.bytes().all(|b| b == b'0' || b == b'.');
    well_formed && !negative_zero
}

fn untidy_numbers(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Number(n) => {
            let text = n.to_string();
            let most = FACTORS
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(2, |(_, d)| *d);
            if !tidy_number_to(&text, most) {
                out.push(format!("{path}: {text}"));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                untidy_numbers(v, &format!("{path}/{i}"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                untidy_numbers(v, &format!("{path}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// Every place a text shows a negative zero: `-0`, `-0.0`, `−0` (U+2212)
/// standing alone (not inside a name such as `main-01`).
fn negative_zeros(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices(['-', '\u{2212}']) {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_') {
            continue;
        }
        let sign_len = text[i..].chars().next().map_or(1, char::len_utf8);
        let rest = &text[i + sign_len..];
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
            .collect();
        if !number.is_empty()
            && number.starts_with('0')
            && number.chars().all(|c| c == '0' || c == '.' || c == ',')
        {
            let line = text[..i].matches('\n').count() + 1;
            found.push(format!("line {line}: {}{number}", &text[i..i + sign_len]));
        }
    }
    found
}

#[test]
fn number_checks_catch_noise_and_negative_zero() {
    assert!(tidy_number("143.36") && tidy_number("0.0") && tidy_number("-2.5"));
    assert!(tidy_number("1000.0") && tidy_number("7"));
    assert!(!tidy_number("143.35999999999999"));
    assert!(!tidy_number("-0.0") && !tidy_number("-0") && !tidy_number("1e300"));
    assert_eq!(
        negative_zeros("| -0 | −0.00 | main-01 | -0.5 | sat 22:00-sun | x -0,000 |"),
        vec!["line 1: -0", "line 1: −0.00", "line 1: -0,000"]
    );
}

#[test]
fn example_outputs_have_no_float_noise_or_negative_zero() {
    for (name, files) in example_outputs() {
        let plan: serde_json::Value = serde_json::from_str(example_plan_json(name)).expect("json");
        let mut untidy = Vec::new();
        untidy_numbers(&plan, "", &mut untidy);
        assert!(untidy.is_empty(), "{name}/plan.json: {untidy:#?}");
        for (path, text) in files {
            if path.ends_with(".md") || path.ends_with(".json") {
                let zeros = negative_zeros(text);
                assert!(zeros.is_empty(), "{name}/{path}: {zeros:#?}");
            }
        }
    }
}
