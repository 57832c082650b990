//! Parse and check: KDL text → a typed, spanned syntax tree.
//!
//! In: one file's text. Out: the nodes that conform to the language table in
//! `schema`, with every value converted to its typed unit, plus diagnostics
//! for everything that does not conform. The `kdl` crate does the KDL v2
//! grammar; its errors are mapped into ours, with help where its message is
//! cryptic. Then each node is checked against its [`NodeSpec`]: unknown nodes
//! and properties (with a did-you-mean), argument counts, value types and
//! units, impossible values, duplicates and missing required parts. Invalid
//! parts are dropped and reported; valid siblings are kept, so later stages
//! still see everything that was right and one run reports every mistake.

use std::collections::BTreeMap;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::schema::{Kind, NodeSpec, ROOT};
use crate::source::{FileId, Span, Spanned};
use crate::units::{self, BitsPerSec, Bytes, Fraction, Hertz, Seconds, Watts, Window};

/// Deepest block nesting accepted; the language itself needs three levels.
pub const MAX_DEPTH: usize = 16;
/// Deepest nesting of block comments accepted.
pub const MAX_COMMENT_DEPTH: usize = 32;

/// A checked value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Strings, references, paths and enum words.
    Str(String),
    Count(u64),
    Number(f64),
    Bool(bool),
    Bytes(Bytes),
    Hertz(Hertz),
    Bandwidth(BitsPerSec),
    Duration(Seconds),
    Percent(Fraction),
    Money(f64),
    Power(Watts),
    Window(Window),
    Unlimited,
}

pub type Value = Spanned<Val>;

/// A checked node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: Spanned<String>,
    /// The whole node, from its name to the end of its block.
    pub span: Span,
    pub args: Vec<Value>,
    pub props: BTreeMap<String, Value>,
    pub children: Vec<Node>,
}

impl Node {
    /// The first argument, if valid.
    pub fn arg(&self) -> Option<&Value> {
        self.args.first()
    }
    /// The first child of that name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name.value == name)
    }
    /// The first argument of the first child of that name.
    pub fn child_arg(&self, name: &str) -> Option<&Value> {
        self.child(name).and_then(Node::arg)
    }
    pub fn prop(&self, name: &str) -> Option<&Value> {
        self.props.get(name)
    }
    /// The node's name argument (`server "web01"` → "web01").
    pub fn label(&self) -> Option<Spanned<String>> {
        match self.arg() {
            Some(Spanned {
                value: Val::Str(s),
                span,
            }) => Some(Spanned::new(s.clone(), *span)),
            _ => None,
        }
    }
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
    /// Numeric view of number-like values (counts, numbers, money).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Count(c) => Some(*c as f64),
            Val::Number(n) | Val::Money(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_count(&self) -> Option<u64> {
        match self {
            Val::Count(c) => Some(*c),
            _ => None,
        }
    }
}

/// Parses and checks one file.
pub fn parse(file: FileId, text: &str, diags: &mut Diagnostics) -> Vec<Node> {
    if let Some(offset) = too_deep(text) {
        diags.push(
            Diagnostic::error(
                "virtplan::load::too-deep",
                format!("blocks or block comments are nested too deep (more than {MAX_DEPTH} `{{` or {MAX_COMMENT_DEPTH} `/*`)"),
            )
            .at(Span::new(file, offset, offset + 1), "too deep here")
            .help(
                "virtplan's language needs at most three levels of `{ }`; check for a missing `}`",
            ),
        );
        return Vec::new();
    }
    // The kdl parser is not ours: a panic inside it must not take the run down.
    let parsed = std::panic::catch_unwind(|| KdlDocument::parse_v2(text));
    let doc = match parsed {
        Ok(Ok(doc)) => doc,
        Ok(Err(err)) => {
            // kdl may report one mistake twice, at the same token.
            let mut last: Option<Span> = None;
            for d in err.diagnostics {
                let d = syntax_error(file, text, &d);
                if d.span.is_some() && d.span == last {
                    continue;
                }
                last = d.span;
                diags.push(d);
            }
            return Vec::new();
        }
        Err(_) => {
            diags.push(
                Diagnostic::error(
                    "virtplan::parse::syntax",
                    "the KDL parser failed on this file",
                )
                .at(Span::new(file, 0, 0), "somewhere in this file")
                .help(
                    "the file is probably truncated or corrupt; check it with a KDL v2 validator",
                ),
            );
            return Vec::new();
        }
    };
    let mut checker = Checker { file, diags };
    checker.nodes(&ROOT, doc.nodes())
}

/// Returns the offset of the first `{` nested deeper than [`MAX_DEPTH`],
/// or of the first `/*` nested deeper than [`MAX_COMMENT_DEPTH`] (KDL block
/// comments nest, and the parser recurses into them). Counting is rough,
/// ignoring strings: that can only make it stricter, and no sane file comes
/// near the limits.
pub fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut braces, mut comments) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'{', _) => {
                braces += 1;
                if braces > MAX_DEPTH {
                    return Some(i);
                }
            }
            (b'}', _) => braces = braces.saturating_sub(1),
            (b'/', Some(b'*')) => {
                comments += 1;
                if comments > MAX_COMMENT_DEPTH {
                    return Some(i);
                }
                i += 1;
            }
            (b'*', Some(b'/')) => {
                comments = comments.saturating_sub(1);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn syntax_error(file: FileId, text: &str, d: &kdl::KdlDiagnostic) -> Diagnostic {
    let (start, end) = wrong_token(text, d.span.offset(), d.span.len());
    let found = text.get(start..end).unwrap_or("");
    let word: String = text
        .get(start..)
        .unwrap_or("")
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '{' | '}' | '='))
        .collect();
    let message = d
        .message
        .clone()
        .unwrap_or_else(|| "invalid KDL".to_string())
        .to_lowercase();
    let message = message.trim_end_matches('.').to_string();
    let help = if matches!(
        word.as_str(),
        "true" | "false" | "null" | "inf" | "-inf" | "nan"
    ) {
        format!("KDL v2 writes this keyword with a `#`: `#{word}`")
    } else if word.starts_with(|c: char| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic() || c == '%')
    {
        format!("a value with a unit is a string: write \"{word}\"")
    } else if message.contains("closing '}'") {
        "add the `}` that closes this block after its last child".to_string()
    } else if let Some(h) = &d.help {
        h.trim_end_matches('.').to_string()
    } else if found.is_empty() && start >= text.trim_end().len() {
        "the file ends early: check for a missing `}` or closing quote".to_string()
    } else {
        "see the KDL v2 syntax in the book's language reference".to_string()
    };
    let label = d.label.clone().unwrap_or_else(|| "here".to_string());
    Diagnostic::error("virtplan::parse::syntax", message)
        .at(Span::new(file, start, end), label)
        .help(help)
}

/// The token a parse error is about. kdl sometimes spans an error from the
/// start of the file (or of an enclosing node) to where parsing stopped:
/// then the error is the last token of that span, on its last line, or the
/// `{` the span starts at when a block is not closed.
fn wrong_token(text: &str, offset: usize, len: usize) -> (usize, usize) {
    let start = offset.min(text.len());
    let end = (start + len).min(text.len());
    let Some(inner) = text.get(start..end) else {
        return (start, start);
    };
    if !inner.trim_end().contains('\n') {
        return (start, end);
    }
    // An unclosed block: the `{` that opened it (the span starts at it, or
    // just after it).
    if inner.starts_with('{') {
        return (start, start + 1);
    }
    if start > 0 && text.as_bytes()[start - 1] == b'{' {
        return (start - 1, start);
    }
    let trimmed = inner.trim_end();
    let token_start = trimmed.rfind(char::is_whitespace).map_or(0, |i| {
        i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
    });
    (start + token_start, start + trimmed.len())
}

struct Checker<'a> {
    file: FileId,
    diags: &'a mut Diagnostics,
}

impl Checker<'_> {
    fn span(&self, s: miette::SourceSpan) -> Span {
        Span::new(self.file, s.offset(), s.offset() + s.len())
    }

    fn nodes(&mut self, parent: &'static NodeSpec, nodes: &[KdlNode]) -> Vec<Node> {
        let mut out = Vec::new();
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for kdl in nodes {
            let name = kdl.name().value();
            let name_span = self.span(kdl.name().span());
            let Some(spec) = parent.child(name) else {
                let names: Vec<&str> = parent.children.iter().map(|c| c.name).collect();
                let place = if parent.name == ROOT.name {
                    "at the top level".to_string()
                } else {
                    format!("in `{}`", parent.name)
                };
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::unknown-node",
                        format!("unknown node `{name}` {place}"),
                    )
                    .at(name_span, "unknown node")
                    .help(suggest(name, &names, "node")),
                );
                continue;
            };
            if !spec.repeat {
                if let Some(first) = seen.get(spec.name) {
                    self.diags.push(
                        Diagnostic::error(
                            "virtplan::check::duplicate",
                            format!("`{name}` is given twice"),
                        )
                        .at(name_span, "given again here")
                        .related(*first, "first given here")
                        .help(format!("`{name}` may appear only once here; remove one")),
                    );
                    continue;
                }
                seen.insert(spec.name, name_span);
            }
            out.push(self.node(spec, kdl, name_span));
        }
        out
    }

    fn node(&mut self, spec: &'static NodeSpec, kdl: &KdlNode, name_span: Span) -> Node {
        let span = self.span(kdl.span());
        let mut args = Vec::new();
        let mut props: BTreeMap<String, Value> = BTreeMap::new();
        let mut prop_spans: BTreeMap<String, Span> = BTreeMap::new();
        // Extra arguments are reported once per node, at the first of them.
        let mut extra_reported = false;
        let positional = kdl.entries().iter().filter(|e| e.name().is_none()).count();
        for entry in kdl.entries() {
            let espan = self.span(entry.span());
            match entry.name() {
                None if extra_reported => {}
                None => {
                    let Some(aspec) = spec.args else {
                        extra_reported = true;
                        self.diags.push(
                            Diagnostic::error(
                                "virtplan::check::too-many-arguments",
                                format!("`{}` takes no arguments", spec.name),
                            )
                            .at(espan, "unexpected argument")
                            .help(help_for(spec)),
                        );
                        continue;
                    };
                    if args.len() >= aspec.max {
                        extra_reported = true;
                        self.diags.push(
                            Diagnostic::error(
                                "virtplan::check::too-many-arguments",
                                format!(
                                    "`{}` takes {} argument{}, found {positional}",
                                    spec.name,
                                    aspec.max,
                                    if aspec.max == 1 { "" } else { "s" }
                                ),
                            )
                            .at(espan, "extra argument")
                            .help(help_for(spec)),
                        );
                        continue;
                    }
                    if let Some(v) =
                        self.value(aspec.kind, entry, espan, &format!("`{}`", spec.name))
                    {
                        args.push(v);
                    }
                }
                Some(key) => {
                    let pname = key.value();
                    let Some(pspec) = spec.prop(pname) else {
                        let names: Vec<&str> = spec.props.iter().map(|p| p.name).collect();
                        let mut help = suggest(pname, &names, "property");
                        if spec.child(pname).is_some() {
                            help = format!("`{pname}` is a child node: write it inside `{{ }}`");
                        }
                        self.diags.push(
                            Diagnostic::error(
                                "virtplan::check::unknown-property",
                                format!("`{}` has no property `{pname}`", spec.name),
                            )
                            .at(espan, "unknown property")
                            .help(help),
                        );
                        continue;
                    };
                    if let Some(first) = prop_spans.get(pname) {
                        self.diags.push(
                            Diagnostic::error(
                                "virtplan::check::duplicate",
                                format!("property `{pname}` is given twice"),
                            )
                            .at(espan, "given again here")
                            .related(*first, "first given here")
                            .help("KDL keeps the last value silently; virtplan asks you to remove one"),
                        );
                        continue;
                    }
                    prop_spans.insert(pname.to_string(), espan);
                    if let Some(v) = self.value(pspec.kind, entry, espan, &format!("`{pname}`")) {
                        props.insert(pname.to_string(), v);
                    }
                }
            }
        }
        if let Some(aspec) = spec.args {
            let given = kdl.entries().iter().filter(|e| e.name().is_none()).count();
            if given < aspec.min {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::missing",
                        format!("`{}` needs its {}", spec.name, aspec.meaning),
                    )
                    .at(name_span, format!("{} missing", aspec.meaning))
                    .help(format!("write {}", example(spec))),
                );
            }
        }
        for p in spec.props.iter().filter(|p| p.required) {
            if !prop_spans.contains_key(p.name) {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::missing",
                        format!("`{}` needs the property `{}`", spec.name, p.name),
                    )
                    .at(name_span, format!("`{}` missing", p.name))
                    .help(format!(
                        "add {}=… ({}): {}",
                        p.name,
                        p.kind.describe(),
                        phrase(p.doc)
                    )),
                );
            }
        }
        let children = match kdl.children() {
            Some(doc) if spec.children.is_empty() => {
                if !doc.nodes().is_empty() {
                    self.diags.push(
                        Diagnostic::error(
                            "virtplan::check::unexpected-children",
                            format!("`{}` takes no block", spec.name),
                        )
                        .at(self.span(doc.span()), "unexpected block")
                        .help(block_help(spec, doc)),
                    );
                }
                Vec::new()
            }
            Some(doc) => self.nodes(spec, doc.nodes()),
            None => Vec::new(),
        };
        let node = Node {
            name: Spanned::new(spec.name.to_string(), name_span),
            span,
            args,
            props,
            children,
        };
        // Classes and defaults may leave required server values to the server.
        if spec.name != "server" && spec.name != "class" && spec.name != "defaults" {
            for req in spec.children.iter().filter(|c| c.required) {
                if node.child(req.name).is_none() {
                    self.diags.push(missing_child(spec, req, name_span));
                }
            }
        }
        node
    }

    fn value(&mut self, kind: Kind, entry: &KdlEntry, span: Span, what: &str) -> Option<Value> {
        match convert(kind, entry.value()) {
            Ok(v) => Some(Spanned::new(v, span)),
            Err(Problem::Type(found)) => {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::wrong-type",
                        format!("{what} expects {}, found {found}", kind.describe()),
                    )
                    .at(span, format!("expected {}", kind.describe()))
                    .help(type_help(kind, entry.value())),
                );
                None
            }
            Err(Problem::Unit(reason)) => {
                let help = match reason.find("did you mean") {
                    Some(i) => reason[i..]
                        .split([')', ';'])
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    None => format!("write {}", kind.describe()),
                };
                self.diags.push(
                    Diagnostic::error("virtplan::check::wrong-type", format!("{what}: {reason}"))
                        .at(span, "invalid value")
                        .help(help),
                );
                None
            }
            Err(Problem::Range(reason)) => {
                self.diags.push(
                    Diagnostic::error("virtplan::check::out-of-range", format!("{what}: {reason}"))
                        .at(span, "impossible value")
                        .help(format!("write {}", kind.describe())),
                );
                None
            }
        }
    }
}

fn missing_child(parent: &NodeSpec, req: &NodeSpec, at: Span) -> Diagnostic {
    Diagnostic::error(
        "virtplan::check::missing",
        format!("`{}` needs `{}`", parent.name, req.name),
    )
    .at(at, format!("no `{}` inside", req.name))
    .help(format!(
        "add {} inside the block: {}",
        example(req),
        phrase(req.doc)
    ))
}

/// A minimal example of a node, for help lines.
fn example(spec: &NodeSpec) -> String {
    let mut s = format!("`{}", spec.name);
    if let Some(a) = spec.args {
        s.push_str(&format!(" <{}>", a.meaning));
    }
    for p in spec.props.iter().filter(|p| p.required) {
        s.push_str(&format!(" {}=…", p.name));
    }
    s.push('`');
    s
}

fn help_for(spec: &NodeSpec) -> String {
    format!("write {}: {}", example(spec), phrase(spec.doc))
}

/// Help for a block on a node that takes none: a child named like one of
/// the node's properties is a property written the wrong way.
fn block_help(spec: &NodeSpec, doc: &KdlDocument) -> String {
    let props: Vec<&str> = doc
        .nodes()
        .iter()
        .map(|n| n.name().value())
        .filter(|n| spec.prop(n).is_some())
        .collect();
    match props.first() {
        Some(p) => format!(
            "`{p}` is a property of `{}`: write it on the same line, `{p}=…`",
            spec.name
        ),
        None => help_for(spec),
    }
}

/// A doc sentence as a help phrase: lowercase start, no final period.
fn phrase(doc: &str) -> String {
    let doc = doc.trim_end_matches('.');
    let mut chars = doc.chars();
    match chars.next() {
        Some(first) if chars.clone().next().is_some_and(char::is_lowercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => doc.to_string(),
    }
}

enum Problem {
    Type(&'static str),
    Unit(String),
    Range(String),
}

fn found(v: &KdlValue) -> &'static str {
    match v {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a decimal number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}

fn type_help(kind: Kind, v: &KdlValue) -> String {
    match (kind, v) {
        (
            Kind::Bytes
            | Kind::Frequency
            | Kind::Bandwidth
            | Kind::Duration
            | Kind::Power
            | Kind::Percent,
            KdlValue::Integer(_) | KdlValue::Float(_),
        ) => format!(
            "a value with a unit is a string with the unit: {}",
            kind.describe()
        ),
        (Kind::Bool, KdlValue::String(s)) if s == "true" || s == "false" => {
            format!("booleans are not strings in KDL v2: write #{s}")
        }
        (Kind::Count(_) | Kind::Number | Kind::Money, KdlValue::String(_)) => {
            "numbers are written without quotes".to_string()
        }
        _ => format!("write {}", kind.describe()),
    }
}

/// The largest count or amount accepted: beyond it a value is a typo.
const MAX_NUMBER: f64 = 1e15;

fn number(v: &KdlValue) -> Result<f64, Problem> {
    let n = match v {
        KdlValue::Integer(i) => *i as f64,
        KdlValue::Float(f) => *f,
        other => return Err(Problem::Type(found(other))),
    };
    if !n.is_finite() || n.abs() > MAX_NUMBER {
        return Err(Problem::Range("the number is too large".to_string()));
    }
    if n < 0.0 {
        return Err(Problem::Range(
            "negative values are not allowed".to_string(),
        ));
    }
    Ok(n)
}

/// A whole number from 0 to `max`.
fn count(v: &KdlValue, max: u64) -> Result<u64, Problem> {
    let n = number(v)?;
    if n.fract() != 0.0 {
        return Err(Problem::Unit("expected a whole number".to_string()));
    }
    if n > max as f64 {
        return Err(Problem::Range(format!("{n} is above the limit of {max}")));
    }
    Ok(n as u64)
}

fn string(v: &KdlValue) -> Result<&str, Problem> {
    match v {
        KdlValue::String(s) => Ok(s),
        other => Err(Problem::Type(found(other))),
    }
}

fn unit<T>(v: &KdlValue, parse: fn(&str) -> Result<T, String>) -> Result<T, Problem> {
    let s = string(v)?;
    parse(s).map_err(|e| {
        if e.contains("negative") {
            Problem::Range(e)
        } else {
            Problem::Unit(e)
        }
    })
}

fn convert(kind: Kind, v: &KdlValue) -> Result<Val, Problem> {
    Ok(match kind {
        Kind::Str | Kind::Ref(_) | Kind::Path => {
            let s = string(v)?;
            if s.trim().is_empty() {
                return Err(Problem::Unit("an empty string is not a name".to_string()));
            }
            Val::Str(s.to_string())
        }
        Kind::Enum(words) => {
            let s = string(v)?;
            if !words.contains(&s) {
                return Err(Problem::Unit(format!(
                    "`{s}` is not allowed; {}",
                    suggest(s, words, "word")
                )));
            }
            Val::Str(s.to_string())
        }
        Kind::Count(max) => Val::Count(count(v, max)?),
        Kind::Number => Val::Number(number(v)?),
        Kind::Money => Val::Money(number(v)?),
        Kind::Bool => match v {
            KdlValue::Bool(b) => Val::Bool(*b),
            other => return Err(Problem::Type(found(other))),
        },
        Kind::CountOrUnlimited(max) => match v {
            KdlValue::String(s) if s == "unlimited" => Val::Unlimited,
            other => Val::Count(count(other, max)?),
        },
        Kind::Bytes => Val::Bytes(check_max(unit(v, units::parse_bytes)?, |b| b.0, 1e21)?),
        Kind::Frequency => Val::Hertz(check_max(unit(v, units::parse_hertz)?, |h| h.0, 1e12)?),
        Kind::Bandwidth => {
            Val::Bandwidth(check_max(unit(v, units::parse_bandwidth)?, |b| b.0, 1e15)?)
        }
        Kind::Duration => Val::Duration(check_max(unit(v, units::parse_duration)?, |d| d.0, 1e10)?),
        Kind::Power => Val::Power(check_max(unit(v, units::parse_power)?, |w| w.0, 1e9)?),
        Kind::Percent => {
            let p = unit(v, units::parse_percent)?;
            if p.0 > 1.0 {
                return Err(Problem::Range(format!(
                    "{}% is more than 100%",
                    units::num(p.0 * 100.0, 2)
                )));
            }
            Val::Percent(p)
        }
        Kind::Window => Val::Window(unit(v, units::parse_window).map_err(|p| match p {
            Problem::Unit(e) if e.contains("before") || e.contains("empty") => Problem::Range(e),
            other => other,
        })?),
    })
}

fn check_max<T>(v: T, get: fn(&T) -> f64, max: f64) -> Result<T, Problem> {
    if get(&v) > max {
        Err(Problem::Range("the value is implausibly large".to_string()))
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Vec<Node>, Vec<String>) {
        let mut diags = Diagnostics::default();
        let nodes = parse(FileId(0), text, &mut diags);
        let codes = diags
            .items
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        (nodes, codes)
    }

    #[test]
    fn typed_values() {
        let (nodes, diags) = check(
            "host-model \"m\" { sockets 2; cores-per-socket 16; clock \"2.4GHz\"; memory \"512GiB\" }",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let m = &nodes[0];
        assert_eq!(
            m.child_arg("clock").map(|v| v.value.clone()),
            Some(Val::Hertz(Hertz(2.4e9)))
        );
        assert_eq!(
            m.child_arg("sockets").map(|v| v.value.clone()),
            Some(Val::Count(2))
        );
    }

    #[test]
    fn unknown_node_suggests() {
        let (_, diags) = check("server \"a\" { memroy \"4GiB\" }");
        assert_eq!(
            diags,
            vec!["virtplan::check::unknown-node: unknown node `memroy` in `server`"]
        );
    }

    #[test]
    fn every_mistake_in_one_run() {
        let (nodes, diags) = check(
            "host-model \"m\" { sockets -2; cores-per-socket 16; clock 2; memory \"512GiB\"; memory \"1GiB\" }\nplatform \"p\" { cpu-overhead \"140%\" }",
        );
        assert_eq!(diags.len(), 4, "{diags:?}");
        assert_eq!(nodes.len(), 2, "valid parts are kept");
    }

    #[test]
    fn counts_have_an_upper_bound() {
        let text = |k: u32| {
            format!(
                "cluster \"c\" {{ platform \"p\"; host-model \"m\"; failures-to-tolerate {k} }}"
            )
        };
        let (_, diags) = check(&text(16));
        assert!(diags.is_empty(), "{diags:?}");
        let (nodes, diags) = check(&text(1000));
        assert_eq!(
            diags,
            vec![
                "virtplan::check::out-of-range: `failures-to-tolerate`: 1000 is above the limit of 16"
            ]
        );
        assert!(nodes[0].child_arg("failures-to-tolerate").is_none());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "a {".repeat(10_000);
        let (_, diags) = check(&text);
        assert!(diags[0].starts_with("virtplan::load::too-deep"));
    }
}
