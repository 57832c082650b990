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
