//! Diagnostics: user mistakes as plain data, rendered by miette.
//!
//! Every stage reports problems by pushing a [`Diagnostic`] into a
//! [`Diagnostics`] list and carrying on, so one run reports every error. A
//! diagnostic has a stable code `virtplan::<stage>::<kind>`, a primary span,
//! optional secondary spans ("defined here"), and a help line. All codes are
//! listed in [`CODES`]; a test keeps one snapshot case per code.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use std::sync::Arc;

use crate::source::{FileId, SourceMap, Span};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Something virtplan did for the user that they should know of, such
    /// as sorting rows; not a mistake.
    Note,
}

/// One problem found in the user's input.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The offending place; `None` only for project-wide problems.
    pub span: Option<Span>,
    pub label: String,
    pub help: String,
    /// Secondary places, such as where a duplicate was first defined.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            label: String::new(),
            help: String::new(),
            related: Vec::new(),
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }
    pub fn note(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, message)
        }
    }
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.span = Some(span);
        self.label = label.into();
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = help.into();
        self
    }
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }
}

/// A growing list of diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn errors(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
    pub fn warnings(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }
    /// Sorts by file name, offset, then code, and drops exact duplicates.
    pub fn sort(&mut self, sources: &SourceMap) {
        let key = |d: &Diagnostic| {
            (
                d.span.map(|s| sources.get(s.file).name.clone()),
                d.span.map(|s| (s.start, s.end)),
                d.code,
                d.message.clone(),
            )
        };
        self.items.sort_by_key(key);
        self.items.dedup();
    }
}

/// Every diagnostic code virtplan emits, with a one-line meaning.
pub const CODES: &[(&str, &str)] = &[
    ("virtplan::load::not-utf8", "a file is not valid UTF-8"),
    ("virtplan::load::read", "a file could not be read"),
    (
        "virtplan::load::outside-project",
        "a path resolves, through links, to a place outside the project",
    ),
    (
        "virtplan::load::not-a-file",
        "a path names a pipe, socket, device or folder, not a regular file",
    ),
    (
        "virtplan::load::too-large",
        "a file is larger than the size limit",
    ),
    (
        "virtplan::load::skipped",
        "the listing left out a folder or link (build output, too deep, linked folder, link outside the project)",
    ),
    (
        "virtplan::load::no-files",
        "the project directory holds no .kdl file",
    ),
    (
        "virtplan::load::include",
        "an include matches nothing or leaves the project",
    ),
    (
        "virtplan::load::too-deep",
        "nesting is deeper than the language allows",
    ),
    ("virtplan::parse::syntax", "the file is not valid KDL v2"),
    (
        "virtplan::check::unknown-node",
        "a node the language does not have",
    ),
    (
        "virtplan::check::unknown-property",
        "a property the node does not have",
    ),
    (
        "virtplan::check::wrong-type",
        "a value of the wrong type or unit",
    ),
    (
        "virtplan::check::missing",
        "a required node, argument or property is missing",
    ),
    (
        "virtplan::check::too-many-arguments",
        "more arguments than the node takes",
    ),
    ("virtplan::check::duplicate", "something defined twice"),
    (
        "virtplan::check::invalid-name",
        "a name with characters outside letters, digits, `.`, `_`, `-`",
    ),
    ("virtplan::check::out-of-range", "an impossible value"),
    (
        "virtplan::check::unexpected-children",
        "a block on a node that takes none",
    ),
    (
        "virtplan::resolve::unknown-reference",
        "a name that refers to nothing",
    ),
    (
        "virtplan::resolve::class-cycle",
        "classes that extend each other in a circle",
    ),
    (
        "virtplan::resolve::self-dependency",
        "a server that depends on itself",
    ),
    (
        "virtplan::resolve::no-cluster",
        "a server that no cluster can take",
    ),
    (
        "virtplan::metrics::csv",
        "a measurement file that cannot be read as CSV",
    ),
    ("virtplan::metrics::row", "a malformed measurement row"),
    (
        "virtplan::metrics::unknown-column",
        "a measurement column virtplan does not use",
    ),
    (
        "virtplan::metrics::time-zone",
        "a perfmon file was written in another time zone than the project's",
    ),
    (
        "virtplan::metrics::unknown-server",
        "measurements for a server not in the inventory",
    ),
    (
        "virtplan::metrics::order",
        "duplicate or unordered timestamps",
    ),
    (
        "virtplan::metrics::no-data",
        "a server without measurements",
    ),
    (
        "virtplan::metrics::implausible-time",
        "a measurement row far outside the period the file covers",
    ),
    (
        "virtplan::metrics::sorted",
        "measurement rows sorted into time order (a note)",
    ),
    (
        "virtplan::metrics::rejected",
        "a server with most of its measurement rows rejected",
    ),
    (
        "virtplan::metrics::two-sources",
        "two files measuring one server at the same times",
    ),
    (
        "virtplan::cost::currency",
        "a currency that is not an ISO 4217 code",
    ),
    (
        "virtplan::cost::refresh-cycle",
        "a hardware refresh cycle shorter than a year",
    ),
    (
        "virtplan::cost::defaults",
        "no costs node: the defaults used",
    ),
    (
        "virtplan::cost::zero-vms-per-license",
        "a licence that covers no VM",
    ),
    (
        "virtplan::cost::ignored-setting",
        "a licence setting its metric does not use",
    ),
    ("virtplan::place::does-not-fit", "a VM that fits on no host"),
    (
        "virtplan::place::max-hosts",
        "a cluster needing more hosts than it may have",
    ),
    (
        "virtplan::place::conflicting-rules",
        "placement rules that cannot all hold",
    ),
    (
        "virtplan::migrate::window",
        "a wave longer than its maintenance window",
    ),
    (
        "virtplan::migrate::no-hypervisor",
        "a platform servers move onto that states no hypervisor, so the playbooks stop",
    ),
    (
        "virtplan::migrate::cycle-too-large",
        "servers in a dependency circle larger than max-wave-size",
    ),
    (
        "virtplan::migrate::date",
        "a migration date that is not a calendar day, or excluded days that end before they start",
    ),
    (
        "virtplan::migrate::no-such-step",
        "a `timing` duration for a step the method does not have",
    ),
    (
        "virtplan::migrate::directory-copy",
        "a domain controller moved by copy instead of rebuilt",
    ),
    (
        "virtplan::fmt::mixed-line-endings",
        "fmt found more than one kind of line ending and wrote the most common",
    ),
    (
        "virtplan::fmt::refused",
        "fmt would have lost or changed something, so it left the file as it was",
    ),
    (
        "virtplan::import::column",
        "an inventory export lacks a column the import needs, or reads two as one field",
    ),
    (
        "virtplan::import::value",
        "a row of an inventory export holds a value the import cannot read",
    ),
    (
        "virtplan::import::renamed",
        "an exported name is not a valid name and is imported in a valid form",
    ),
    (
        "virtplan::import::duplicate",
        "an inventory export names one server twice",
    ),
    (
        "virtplan::import::hand-written",
        "the import would replace a file it did not write",
    ),
    (
        "virtplan::import::gone",
        "servers of an earlier import are no longer in the export",
    ),
    (
        "virtplan::prometheus::request",
        "requests to Prometheus failed after every retry, so servers are incomplete",
    ),
    (
        "virtplan::prometheus::instance",
        "Prometheus instances that name no server, or several that name one",
    ),
    (
        "virtplan::prometheus::no-series",
        "servers of the project without CPU series in Prometheus",
    ),
    (
        "virtplan::prometheus::values",
        "values from Prometheus that the import left out or bounded",
    ),
];

/// Options for [`render`].
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub width: usize,
}

/// Renders diagnostics for a terminal (or a snapshot, without colour).
pub fn render(diags: &[Diagnostic], sources: &SourceMap, opts: RenderOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    // Each file's text is shared by all the diagnostics that show it.
    let mut texts = Texts::default();
    for d in diags.iter().take(MAX_RENDERED) {
        let report = Report::new(d, sources, &mut texts);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}: {}\n", d.code, d.message));
        }
    }
    if diags.len() > MAX_RENDERED {
        out.push_str(&format!(
            "… and {} more diagnostics not shown; fix these first\n",
            diags.len() - MAX_RENDERED
        ));
    }
    out
}

/// Most lines a label may cover: a snippet shows a few lines, never a file.
const MAX_LABEL_LINES: usize = 3;

/// The (offset, length) of a span as shown: a span over more than
/// [`MAX_LABEL_LINES`] lines is cut to the end of its first line.
fn shown(text: &str, span: Span) -> (usize, usize) {
    let start = (span.start as usize).min(text.len());
    let end = (span.end as usize).clamp(start, text.len());
    let inner = text.get(start..end).unwrap_or("");
    if inner.matches('\n').count() < MAX_LABEL_LINES {
        return (start, end - start);
    }
    let first = inner.find('\n').unwrap_or(inner.len());
    (start, first)
}

/// Most diagnostics rendered in full; a broken file can produce thousands.
pub const MAX_RENDERED: usize = 200;

/// Shared file texts for rendering.
#[derive(Default)]
struct Texts(std::collections::BTreeMap<FileId, Arc<String>>);

impl Texts {
    fn get(&mut self, sources: &SourceMap, id: FileId) -> Arc<String> {
        self.0
            .entry(id)
            .or_insert_with(|| Arc::new(sources.get(id).text.clone()))
            .clone()
    }
}

/// A one-line summary per diagnostic: `file:line:col: error[code]: message`.
pub fn render_short(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        let pos = d
            .span
            .map_or_else(|| "<project>".to_string(), |s| sources.position(s));
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        out.push_str(&format!("{pos}: {sev}[{}]: {}\n", d.code, d.message));
    }
    out
}

/// Adapter from our plain data to miette's trait, with the source attached.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: Option<NamedSource<Arc<String>>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
    primary_pos: String,
    is_related: bool,
}

impl<'a> Report<'a> {
    fn new(diag: &'a Diagnostic, sources: &SourceMap, texts: &mut Texts) -> Report<'a> {
        let Some(span) = diag.span else {
            return Report {
                diag,
                source: None,
                labels: Vec::new(),
                related: Vec::new(),
                primary_pos: String::new(),
                is_related: false,
            };
        };
        let file = sources.get(span.file);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(diag.label.clone()).filter(|l| !l.is_empty()),
            shown(&file.text, span),
        )];
        let mut related = Vec::new();
        for (rspan, label) in &diag.related {
            if rspan.file == span.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(label.clone()),
                    shown(&file.text, *rspan),
                ));
            } else {
                let rfile = sources.get(rspan.file);
                related.push(Report {
                    diag,
                    source: Some(NamedSource::new(
                        rfile.name.clone(),
                        texts.get(sources, rspan.file),
                    )),
                    labels: vec![LabeledSpan::new_with_span(
                        Some(label.clone()),
                        shown(&rfile.text, *rspan),
                    )],
                    related: Vec::new(),
                    primary_pos: format!("{}: {label}", sources.position(*rspan)),
                    is_related: true,
                });
            }
        }
        Report {
            diag,
            source: Some(NamedSource::new(
                file.name.clone(),
                texts.get(sources, span.file),
            )),
            labels,
            related,
            primary_pos: sources.position(span),
            is_related: false,
        }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diag.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_related {
            write!(f, "{}", self.primary_pos)
        } else {
            write!(f, "{}", self.diag.message)
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if self.diag.help.is_empty() {
            None
        } else {
            Some(Box::new(&self.diag.help))
        }
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// The closest candidate to `name` by normalized Levenshtein similarity
/// (≥ 0.6, or a prefix match), for "did you mean" help.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = similarity(name, c);
        if score >= 0.6 && best.is_none_or(|(s, b)| score > s || (score == s && c < b)) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let max = a.len().max(b.len());
    if max == 0 {
        return 1.0;
    }
    // Long names cost quadratic time: cap them, they are never close anyway.
    if max > 200 {
        return 0.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - prev[b.len()] as f64 / max as f64
}

/// "did you mean `x`?" or a list of what is allowed.
pub fn suggest(name: &str, candidates: &[&str], what: &str) -> String {
    match did_you_mean(name, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => format!("no {what} is allowed here"),
        None if candidates.len() <= 12 => format!(
            "expected one of: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!("see the language reference for the {what}s allowed here"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("memroy", ["memory", "clock"]), Some("memory"));
        assert_eq!(did_you_mean("zzz", ["memory", "clock"]), None);
        assert_eq!(did_you_mean("web1", ["web01", "db01"]), Some("web01"));
    }
}
