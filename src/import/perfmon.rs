//! Reader for the `perfmon` measurement format (being written).

use super::{Context, Imported, local};
use crate::diag::Diagnostic;

/// Reads one `perfmon` file.
pub fn read(_text: &str, _ctx: &Context) -> Imported {
    let mut out = Imported::default();
    out.report(
        Diagnostic::error(
            "virtplan::metrics::csv",
            "the `perfmon` measurement format is not supported yet",
        )
        .at(local(0, 0), "this file")
        .help("convert the file to virtplan's CSV and drop `format=`"),
    );
    out
}
