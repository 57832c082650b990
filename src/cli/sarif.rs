//! Diagnostics as data: one JSON object per line (`--message-format json`)
//! and a SARIF 2.1.0 log (`--message-format sarif`).
//!
//! Both use 1-based lines and columns, columns counted in Unicode code points
//! (SARIF's `columnKind` says so), and an end position one past the last
//! character, as SARIF's `endColumn` is. Paths are the project-relative
//! names virtplan shows everywhere, with `/` separators.

use std::path::{Component, Path};

use serde::Serialize;
use serde_json::{Value, json};
use virtplan::diag::{CODES, Diagnostic, Severity};
use virtplan::source::{SourceMap, Span};

/// A span's place: file and start and end, 1-based, the end exclusive.
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Place {
    pub fn of(span: Span, sources: &SourceMap) -> Place {
        let f = sources.get(span.file);
        let (line, column) = f.line_col(span.start as usize);
        let (end_line, end_column) = f.line_col((span.end as usize).max(span.start as usize));
        Place {
            file: f.name.clone(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

#[derive(Serialize)]
struct Related {
    #[serde(flatten)]
    place: Place,
    label: String,
}

/// One line of `--message-format json`. Project-wide diagnostics have no
/// place: `file`, `line`… are `null`.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    label: &'a str,
    help: &'a str,
    related: Vec<Related>,
}

/// The JSON object of one diagnostic, on one line.
pub fn json_line(d: &Diagnostic, sources: &SourceMap) -> String {
    let place = d.span.map(|s| Place::of(s, sources));
    let j = JsonDiagnostic {
        code: d.code,
        severity: d.severity,
        message: &d.message,
        file: place.as_ref().map(|p| p.file.as_str()),
        line: place.as_ref().map(|p| p.line),
        column: place.as_ref().map(|p| p.column),
        end_line: place.as_ref().map(|p| p.end_line),
        end_column: place.as_ref().map(|p| p.end_column),
        label: &d.label,
        help: &d.help,
        related: d
            .related
            .iter()
            .map(|(s, label)| Related {
                place: Place::of(*s, sources),
                label: label.clone(),
            })
            .collect(),
    };
    serde_json::to_string(&j).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The base id every artifact location is relative to: the project folder.
const ROOT: &str = "PROJECTROOT";

/// The SARIF 2.1.0 log of a run on the project in `dir`.
///
/// Rules are every code of [`CODES`], in its order, so `ruleIndex` is stable
/// across runs. `dir` appears only when it is a plain relative path
/// (`examples/realistic`): then `PROJECTROOT` is given as that path under
/// `%SRCROOT%`, the folder the command ran in, so a consumer can map results
/// to files of the repository; an absolute path would make the log depend on
/// the machine.
pub fn log(diags: &[Diagnostic], sources: &SourceMap, dir: &Path) -> String {
    let rules: Vec<Value> = CODES
        .iter()
        .map(|(code, meaning)| {
            json!({
                "id": code,
                "shortDescription": { "text": meaning },
                "help": {
                    "text": format!(
                        "See `{code}` in the Diagnostics chapter of the virtplan book (book/src/diagnostics.md)."
                    )
                },
            })
        })
        .collect();
    let results: Vec<Value> = diags.iter().map(|d| result(d, sources)).collect();
    let mut root = json!({
        "description": { "text": "the project folder given to virtplan" }
    });
    if let Some(base) = relative_base(dir) {
        root["uri"] = Value::String(base);
        root["uriBaseId"] = Value::String("%SRCROOT%".into());
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "virtplan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { ROOT: root },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

fn result(d: &Diagnostic, sources: &SourceMap) -> Value {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let mut text = d.message.clone();
    if !d.help.is_empty() {
        text.push_str("\nhelp: ");
        text.push_str(&d.help);
    }
    let mut r = json!({
        "ruleId": d.code,
        "level": level,
        "message": { "text": text },
    });
    if let Some(i) = CODES.iter().position(|(c, _)| *c == d.code) {
        r["ruleIndex"] = json!(i);
    }
    if let Some(span) = d.span {
        r["locations"] = json!([location(span, &d.label, sources, None)]);
    }
    if !d.related.is_empty() {
        r["relatedLocations"] = Value::Array(
            d.related
                .iter()
                .enumerate()
                .map(|(i, (s, label))| location(*s, label, sources, Some(i)))
                .collect(),
        );
    }
    r
}

fn location(span: Span, label: &str, sources: &SourceMap, id: Option<usize>) -> Value {
    let p = Place::of(span, sources);
    let mut l = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&p.file), "uriBaseId": ROOT },
            "region": {
                "startLine": p.line,
                "startColumn": p.column,
                "endLine": p.end_line,
                "endColumn": p.end_column,
            }
        }
    });
    if !label.is_empty() {
        l["message"] = json!({ "text": label });
    }
    if let Some(id) = id {
        l["id"] = json!(id);
    }
    l
}

/// A relative path as a URI reference: every byte but unreserved ones and
/// `/` percent-encoded (RFC 3986).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `dir` as a URI reference ending in `/`, when it is a relative path of
/// plain names (`.` components dropped); `None` for an absolute path or one
/// with `..`, which would tie the log to the machine or leave the folder.
fn relative_base(dir: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in dir.components() {
        match c {
            Component::Normal(n) => parts.push(uri(n.to_str()?)),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("{}/", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_bases() {
        assert_eq!(uri("servers/web 1.kdl"), "servers/web%201.kdl");
        assert_eq!(uri("é.kdl"), "%C3%A9.kdl");
        assert_eq!(
            relative_base(Path::new("./examples/realistic")).as_deref(),
            Some("examples/realistic/")
        );
        assert_eq!(relative_base(Path::new(".")), None);
        assert_eq!(relative_base(Path::new("/abs/p")), None);
        assert_eq!(relative_base(Path::new("../p")), None);
    }
}
