//! The language table rendered as a KDL Schema Language document.
//!
//! In: the static table in `schema` ([`ROOT`]). Out: the text of
//! `schema/virtplan.kdl`, a KDL v2 document in the kdl-org schema language
//! (`document { info { … } node "name" { … } }`), which editors and other
//! tools can use to complete and validate virtplan files. A test keeps the
//! committed file equal to [`generate`].
//!
//! The rendering is a plain depth-first walk of the table, in table order, so
//! the output is deterministic. Each [`NodeSpec`] becomes a `node` with `min`
//! and `max` from `required` and `repeat`, a `value` for its arguments, a
//! `prop` per property and a `children` block. Our value kinds map onto the
//! schema's types: counts are integers, numbers and money are numbers,
//! booleans are booleans, enums are strings with an `enum` list, and values
//! with a unit are strings with a `pattern` and a description naming the
//! units. The patterns describe the recommended spellings; the checker in
//! `syntax` stays the authority and accepts a few more (such as a space
//! before the unit).
//!
//! Nodes shared by `server`, `class` and `defaults` are written out in full
//! under each of them rather than through a `ref`, so that every node path of
//! the table appears literally in the schema.

use crate::schema::{Args, Kind, NodeSpec, Prop, ROOT};

/// The first lines of the generated file.
const HEADER: &str = "\
// The virtplan input language as a KDL Schema Language document.
//
// Generated from the language table in src/schema.rs by
// virtplan::kdl_schema::generate(); do not edit by hand. Regenerate with
// `VIRTPLAN_UPDATE_SCHEMA=1 cargo test --test schema`.
";

/// What the `info` block says about the language as a whole.
const DESCRIPTION: &str = "Input language of virtplan, a declarative plan compiler for \
server virtualization projects. A project is a directory of *.kdl files written in KDL v2. \
Values with a unit are strings (\"64GiB\", \"2.4GHz\", \"10Gbps\", \"30min\", \"85%\", \
\"350W\"); amounts of money are plain numbers in the project currency.";

/// Renders the whole language table as a KDL Schema Language document.
pub fn generate() -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    out.push_str("document {\n");
    let mut w = Writer { out, depth: 1 };
    w.open("info", &[]);
    w.line(&format!("title {}", quote("virtplan")));
    w.line(&format!("description {}", quote(DESCRIPTION)));
    w.close();
    for child in ROOT.children {
        w.node(child);
    }
    let mut out = w.out;
    out.push_str("}\n");
    out
}

/// An indenting writer for the generated document.
struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Opens a block: `name prop=value … {`.
    fn open(&mut self, head: &str, props: &[(&str, String)]) {
        let mut text = head.to_string();
        for (key, value) in props {
            text.push_str(&format!(" {key}={}", quote(value)));
        }
        text.push_str(" {");
        self.line(&text);
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }

    fn node(&mut self, spec: &NodeSpec) {
        self.open(
            &format!("node {}", quote(spec.name)),
            &[("description", spec.doc.to_string())],
        );
        self.line(&format!("min {}", u8::from(spec.required)));
        if !spec.repeat {
            self.line("max 1");
        }
        if let Some(args) = spec.args {
            self.args(&args);
        }
        for prop in spec.props {
            self.prop(prop);
        }
        if !spec.children.is_empty() {
            self.open("children", &[]);
            for child in spec.children {
                self.node(child);
            }
            self.close();
        }
        self.close();
    }

    fn args(&mut self, args: &Args) {
        let description = if args.meaning == "value" {
            args.kind.describe()
        } else {
            format!("{}: {}", args.meaning, args.kind.describe())
        };
        self.open("value", &[("description", description)]);
        self.line(&format!("min {}", args.min));
        if args.max != usize::MAX {
            self.line(&format!("max {}", args.max));
        }
        self.kind(args.kind);
        self.close();
    }

    fn prop(&mut self, prop: &Prop) {
        let description = format!("{} Value: {}.", prop.doc, prop.kind.describe());
        self.open(
            &format!("prop {}", quote(prop.name)),
            &[("description", description)],
        );
        if prop.required {
            self.line("required #true");
        }
        self.kind(prop.kind);
        self.close();
    }

    /// Writes the validations of one value kind.
    fn kind(&mut self, kind: Kind) {
        match kind {
            Kind::Str | Kind::Ref(_) | Kind::Path => {
                self.line("type \"string\"");
                self.line("min-length 1");
            }
            Kind::Count(max) => {
                self.line("type \"integer\"");
                self.line("\">=\" 0");
                self.line(&format!("\"<=\" {max}"));
            }
            Kind::Number | Kind::Money => {
                self.line("type \"number\"");
                self.line("\">=\" 0");
            }
            Kind::Bool => self.line("type \"boolean\""),
            Kind::CountOrUnlimited(max) => {
                self.line("type \"integer\" \"string\"");
                self.line("\">=\" 0");
                self.line(&format!("\"<=\" {max}"));
                self.line(&format!("pattern {}", raw("^unlimited$")));
            }
            Kind::Enum(words) => {
                self.line("type \"string\"");
                let list: Vec<String> = words.iter().map(|w| quote(w)).collect();
                self.line(&format!("enum {}", list.join(" ")));
            }
            Kind::Bytes
            | Kind::Frequency
            | Kind::Bandwidth
            | Kind::Duration
            | Kind::Percent
            | Kind::Power
            | Kind::Window => {
                self.line("type \"string\"");
                if let Some(pattern) = pattern(kind) {
                    self.line(&format!("pattern {}", raw(&pattern)));
                }
            }
        }
    }
}

/// A number as users write it before a unit: digits, `_` separators, and an
/// optional decimal part.
const NUMBER: &str = "[0-9][0-9_]*([.][0-9][0-9_]*)?";

/// The regular expression of a value with a unit, or `None` for other kinds.
fn pattern(kind: Kind) -> Option<String> {
    let units: &[&str] = match kind {
        Kind::Bytes => &[
            "B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "PiB",
        ],
        Kind::Frequency => &["Hz", "kHz", "MHz", "GHz"],
        Kind::Bandwidth => &[
            "bps", "Kbps", "Mbps", "Gbps", "Tbps", "B/s", "KB/s", "MB/s", "GB/s", "KiB/s", "MiB/s",
            "GiB/s",
        ],
        Kind::Duration => &["s", "min", "h", "d", "w"],
        Kind::Percent => &["%"],
        Kind::Power => &["W", "kW"],
        Kind::Window => {
            let day = "(mon|tue|wed|thu|fri|sat|sun|Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*";
            let time = "[0-9]{1,2}:[0-9]{2}";
            return Some(format!("^{day} {time} *- *{day} {time}$"));
        }
        _ => return None,
    };
    Some(format!("^{NUMBER} *({})$", units.join("|")))
}

/// A KDL v2 quoted string, escaping what must be escaped.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A KDL v2 raw string (`#"…"#`), for regular expressions full of `\` and `"`.
fn raw(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("{hashes}\"{text}\"{hashes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("a \"b\" \\c"), r#""a \"b\" \\c""#);
        assert_eq!(raw("^a\"b$"), "#\"^a\"b$\"#");
        assert_eq!(raw("x\"#y"), "##\"x\"#y\"##");
    }

    #[test]
    fn output_is_kdl_v2() {
        let text = generate();
        let doc = kdl::KdlDocument::parse_v2(&text);
        assert!(doc.is_ok(), "{doc:?}");
    }
}
