//! Canonical formatting of virtplan files.
//!
//! In: a file's text. Out: the same document in canonical form (four-space
//! indent, one node per line, normalised spacing) with its comments kept,
//! or the parse diagnostics. Formatting is idempotent: formatting the output
//! again changes nothing (a test checks this on every example file).

use kdl::{FormatConfig, KdlDocument};

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Span};

/// Formats one file, or returns `None` with diagnostics when it does not parse.
pub fn format(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<String> {
    if crate::syntax::too_deep(text).is_none() {
        // The kdl parser is not ours: a panic inside it must not take the run down.
        if let Ok(Ok(mut doc)) = std::panic::catch_unwind(|| KdlDocument::parse_v2(text)) {
            doc.autoformat_config(&FormatConfig::builder().build());
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
