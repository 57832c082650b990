//! Canonical formatting of virtplan files.
//!
//! In: a file's text. Out: the same document in canonical form (four-space
//! indent, one node per line, normalised spacing) with its comments kept,
//! or the parse diagnostics. Values keep the way they were written (a quoted
//! `"EUR"` stays quoted), and a blank line between two nodes stays one blank
//! line, so paragraphs of a file survive. Formatting is idempotent:
//! formatting the output again changes nothing (a test checks this on every
//! example file).

use kdl::{FormatConfig, KdlDocument, KdlNode};

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Span};

/// One level of indentation.
const INDENT: &str = "    ";

/// Formats one file, or returns `None` with diagnostics when it does not parse.
pub fn format(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<String> {
    if crate::syntax::too_deep(text).is_none() {
        // The kdl parser is not ours: a panic inside it must not take the run down.
        if let Ok(Ok(mut doc)) = std::panic::catch_unwind(|| KdlDocument::parse_v2(text)) {
            let mut originals = Vec::new();
            leadings(doc.nodes(), &mut originals);
            keep_values(doc.nodes_mut());
            doc.autoformat_config(&FormatConfig::builder().indent(INDENT).build());
            restore_leadings(doc.nodes_mut(), &mut originals.into_iter(), 0);
            // Comments after the last node (a slashdashed node, say) start
            // at the left margin.
            if let Some(f) = doc.format_mut() {
                let lines: Vec<&str> = f
                    .trailing
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                f.trailing = lines.iter().map(|l| format!("{l}\n")).collect();
            }
            let out = doc.to_string();
            return Some(format!("{}\n", out.trim_end()));
        }
    }
    // Report why with the checker's own messages.
    let before = diags.items.len();
    crate::syntax::parse(file, text, diags);
    if diags.items.len() == before {
        diags.push(
            Diagnostic::error("virtplan::parse::syntax", "the file cannot be formatted")
                .at(Span::new(file, 0, 0), "this file")
                .help("fix the syntax errors first"),
        );
    }
    None
}

/// What surrounds one node in the original text.
#[derive(Default)]
struct Around {
    /// Comments and blank lines before it.
    leading: String,
    /// Comments at the end of its line.
    end: String,
    /// Comments before the `}` of its block.
    closing: String,
}

/// What surrounds each node, in document order.
fn leadings(nodes: &[KdlNode], out: &mut Vec<Around>) {
    for node in nodes {
        let (leading, end) = node.format().map_or_else(Default::default, |f| {
            let end: Vec<&str> = [f.before_terminator.trim(), f.terminator.trim()]
                .into_iter()
                .filter(|t| !t.is_empty() && *t != ";")
                .collect();
            (f.leading.clone(), end.join(" "))
        });
        let closing = node
            .children()
            .and_then(|c| c.format())
            .map(|f| f.trailing.clone())
            .unwrap_or_default();
        out.push(Around {
            leading,
            end,
            closing,
        });
        if let Some(children) = node.children() {
            leadings(children.nodes(), out);
        }
    }
}

/// Rewrites the text before each node from its original: comment lines
/// re-indented, runs of blank lines as one blank line, no blank line at the
/// start of a block or file; and puts comments at the end of a node's line
/// back, one space after the node.
fn restore_leadings(
    nodes: &mut [KdlNode],
    originals: &mut impl Iterator<Item = Around>,
    depth: usize,
) {
    let indent = INDENT.repeat(depth);
    for (i, node) in nodes.iter_mut().enumerate() {
        let Around {
            leading: original,
            end,
            closing,
        } = originals.next().unwrap_or_default();
        let lines: Vec<&str> = original.split('\n').collect();
        let mut leading = String::new();
        let mut blank = false;
        let mut started = i > 0;
        for line in &lines[..lines.len().saturating_sub(1)] {
            let text = line.trim();
            if text.is_empty() {
                blank = started;
                continue;
            }
            if blank {
                leading.push('\n');
                blank = false;
            }
            leading.push_str(&indent);
            leading.push_str(text);
            leading.push('\n');
            started = true;
        }
        if blank {
            leading.push('\n');
        }
        leading.push_str(&indent);
        // A comment on the node's own line, before it, stays there.
        let same_line = lines.last().map_or("", |l| l.trim());
        if !same_line.is_empty() {
            leading.push_str(same_line);
            leading.push(' ');
        }
        if let Some(f) = node.format_mut() {
            f.leading = leading;
            if !end.is_empty() {
                f.before_terminator = format!(" {end}");
                if !f.terminator.ends_with('\n') {
                    f.terminator = "\n".to_string();
                }
            }
        }
        if let Some(children) = node.children_mut() {
            restore_leadings(children.nodes_mut(), originals, depth + 1);
            // Comments before the closing `}` are indented as the block's nodes.
            if let Some(f) = children.format_mut() {
                let mut trailing = String::new();
                for line in closing.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    trailing.push_str(&INDENT.repeat(depth + 1));
                    trailing.push_str(line);
                    trailing.push('\n');
                }
                trailing.push_str(&indent);
                f.trailing = trailing;
            }
        }
    }
}

/// Keeps each value as written (`"EUR"` stays quoted, `2.50` keeps its
/// zero), with one space before it unless a comment sits there.
fn keep_values(nodes: &mut [KdlNode]) {
    for node in nodes {
        for entry in node.entries_mut() {
            entry.keep_format();
            if let Some(f) = entry.format_mut().filter(|f| f.leading.trim().is_empty()) {
                f.leading = " ".to_string();
            }
        }
        if let Some(children) = node.children_mut() {
            keep_values(children.nodes_mut());
        }
    }
}
