//! Importing measurement files: one file's text → rows per server.
//!
//! In: the text of one file, its format, and who it may belong to. Out: an
//! [`Imported`]: for each server, its samples in file order, the number of
//! rows rejected, and diagnostics whose spans point into this file (with a
//! placeholder file id that `measure` replaces once the file is added to the
//! source map). Readers never touch the source map, so files can be read in
//! parallel.
//!
//! Formats: virtplan's own CSV (this module), Windows perfmon CSV
//! ([`perfmon`]) and Linux `sadf -d` ([`sadf`]). Every reader produces the
//! same five resources in the same units: CPU in reference GHz, memory in
//! GiB, disk IOPS, disk MB/s and network Mbit/s. A value that a file does not
//! carry is `NaN` in the row.

pub mod perfmon;
pub mod sadf;

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::diag::{Diagnostic, suggest};
use crate::model::{Id, Model};
use crate::source::{FileId, Span};

/// File id used in spans until the file gets its real id.
pub const PENDING: FileId = FileId(u32::MAX);

/// The largest measured value accepted in any unit (1e9 GHz, GiB, IOPS…).
pub const MAX_VALUE: f64 = 1e9;

/// Row diagnostics kept per file before the rest are summarised.
pub const MAX_ROW_DIAGS: usize = 10;

/// A span in the file being imported.
pub fn local(start: usize, end: usize) -> Span {
    Span::new(PENDING, start, end)
}

/// One server's rows from one file.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub times: Vec<i64>,
    /// `values[r][i]` for row `i`; `NaN` where the row has no value.
    pub values: [Vec<f64>; 5],
    pub present: [bool; 5],
    pub rejected: usize,
    /// Where each row is, for problems found after the file is read.
    pub spans: Vec<Span>,
}

impl Series {
    pub fn push(&mut self, ts: i64, row: [f64; 5], span: Span) {
        self.times.push(ts);
        self.spans.push(span);
        for (r, v) in row.iter().enumerate() {
            if !v.is_nan() {
                self.present[r] = true;
            }
            self.values[r].push(*v);
        }
    }
    /// Appends another series' rows (from another file).
    pub fn append(&mut self, other: Series) {
        self.times.extend(other.times);
        self.spans.extend(other.spans);
        for r in 0..5 {
            self.values[r].extend(&other.values[r]);
            self.present[r] |= other.present[r];
        }
        self.rejected += other.rejected;
    }
    /// Keeps the rows of `order`, in that order.
    pub fn select(&mut self, order: &[usize]) {
        self.times = order.iter().map(|i| self.times[*i]).collect();
        self.spans = order.iter().map(|i| self.spans[*i]).collect();
        for r in 0..5 {
            self.values[r] = order.iter().map(|i| self.values[r][*i]).collect();
        }
    }
}

/// The plausible range of a server's timestamps in one file: with `q1` and
/// `q3` the lower and upper quartiles (nearest rank) of its timestamps and
/// `P` the profile period, `[q1 − 3 × (q3 − q1) − P, q3 + 3 × (q3 − q1) + P]`.
/// Rows of a measured period spread evenly over it are all inside; a row
/// years away (a clock reset to 1970, a typo'd year) is not.
pub fn plausible_range(times: &[i64], period: i64) -> (i64, i64) {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    if n == 0 {
        return (i64::MIN, i64::MAX);
    }
    let rank = |q: usize| sorted[(q * n).div_ceil(4).clamp(1, n) - 1];
    let (q1, q3) = (rank(1), rank(3));
    let spread = (q3 - q1).saturating_mul(3).saturating_add(period);
    (q1.saturating_sub(spread), q3.saturating_add(spread))
}

/// The row whose removal leaves `t` in non-decreasing order, if there is
/// one and `t` is not already in order. Of two candidates around the first
/// descent, the later row is taken (it is the one that came out of turn).
pub fn single_outlier(t: &[i64]) -> Option<usize> {
    let n = t.len();
    let first = (0..n.saturating_sub(1)).find(|&i| t[i] > t[i + 1])?;
    // Rows before `first` are in order; is the suffix from k on in order?
    let mut suffix_ok = vec![true; n + 1];
    for k in (0..n.saturating_sub(1)).rev() {
        suffix_ok[k] = suffix_ok[k + 1] && t[k] <= t[k + 1];
    }
    let removable = |j: usize| {
        let prefix = j == 0 || (0..j - 1).all(|k| t[k] <= t[k + 1]);
        let bridge = j == 0 || j + 1 >= n || t[j - 1] <= t[j + 1];
        prefix && bridge && (j + 1 >= n || suffix_ok[j + 1])
    };
    [first + 1, first].into_iter().find(|&j| removable(j))
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of Unix seconds, for messages.
pub fn format_utc(ts: i64) -> String {
    let days = ts.div_euclid(86400);
    let secs = ts.rem_euclid(86400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Who a file belongs to and what the readers need to know of servers.
pub struct Context<'a> {
    /// The server whose own `metrics` names this file; `None` for files
    /// from a project-level glob, whose rows name their server.
    pub owner: Option<Id>,
    pub names: &'a BTreeMap<&'a str, Id>,
    pub model: &'a Model,
}

impl Context<'_> {
    /// The server a name in the file refers to ([`resolve_server`]).
    pub fn server(&self, name: &str) -> Option<Id> {
        resolve_server(self.names, name)
    }
}

/// The server a name refers to, if it is in `names`: the exact name, else
/// the name in any case (Windows host names are often upper case), else
/// the part before the first dot of a fully qualified name.
pub fn resolve_server(names: &BTreeMap<&str, Id>, name: &str) -> Option<Id> {
    let any_case = |n: &str| {
        names
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, id)| *id)
    };
    names
        .get(name)
        .copied()
        .or_else(|| any_case(name))
        .or_else(|| any_case(name.split_once('.')?.0))
}

/// What one file yields.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub series: BTreeMap<Id, Series>,
    /// Diagnostics with spans in [`PENDING`].
    pub diags: Vec<Diagnostic>,
    /// Row problems, of which only the first [`MAX_ROW_DIAGS`] are kept.
    pub row_problems: usize,
}

impl Imported {
    pub fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
    /// A problem with one row: counted for the server, shown if among the first.
    /// Row problems are warnings: the row is left out and counted, and the
    /// server's data confidence shows what was used.
    pub fn row_problem(&mut self, server: Option<Id>, mut d: Diagnostic) {
        d.severity = crate::diag::Severity::Warning;
        if let Some(id) = server {
            self.series.entry(id).or_default().rejected += 1;
        }
        self.row_problems += 1;
        if self.row_problems <= MAX_ROW_DIAGS {
            self.diags.push(d);
        }
    }
    /// Adds a row; its time is checked against the file's other rows of the
    /// server by [`Imported::finish`].
    pub fn row(&mut self, id: Id, ts: i64, row: [f64; 5], span: Span) {
        // A value beyond any real server's scale is a broken export.
        if row.iter().any(|v| *v > MAX_VALUE) {
            self.row_problem(
                Some(id),
                Diagnostic::error(
                    "virtplan::metrics::row",
                    "a value in this row is implausibly large",
                )
                .at(span, "rejected row")
                .help("check the export's units: values are GHz, GiB, IOPS, MB/s and Mbit/s"),
            );
            return;
        }
        self.series.entry(id).or_default().push(ts, row, span);
    }

    /// Checks the times of each server's rows once the file is read: rows
    /// outside the [`plausible_range`] are rejected, each with a warning; a
    /// single row whose removal restores the time order is rejected as
    /// unordered; rows in any other order are sorted, with a note; of rows
    /// with the same time, the first is kept and each repeat rejected.
    pub fn finish(&mut self, model: &Model) {
        let period = model.project.profile.period.0 as i64;
        let ids: Vec<Id> = self.series.keys().copied().collect();
        for id in ids {
            let Some(mut s) = self.series.get_mut(&id).map(std::mem::take) else {
                continue;
            };
            let name = model.servers.get(id).map_or("?", |s| s.name.as_str());
            // Plausible range.
            let (lo, hi) = plausible_range(&s.times, period);
            let mut keep: Vec<usize> = Vec::with_capacity(s.times.len());
            let bulk = s
                .times
                .iter()
                .filter(|t| (lo..=hi).contains(*t))
                .fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(*t), b.max(*t)));
            for (i, &t) in s.times.iter().enumerate() {
                if (lo..=hi).contains(&t) {
                    keep.push(i);
                    continue;
                }
                self.row_problem(
                    None,
                    Diagnostic::error(
                        "virtplan::metrics::implausible-time",
                        format!(
                            "{} is far outside the period the other rows of `{name}` cover ({} to {})",
                            format_utc(t),
                            format_utc(bulk.0),
                            format_utc(bulk.1)
                        ),
                    )
                    .at(s.spans[i], "implausible time")
                    .help("a row more than three interquartile spans plus one profile period away from the middle half of a file's times is left out; check the clock or the year"),
                );
            }
            s.rejected += s.times.len() - keep.len();
            if keep.len() < s.times.len() {
                s.select(&keep);
            }
            // Order.
            if let Some(j) = single_outlier(&s.times) {
                self.row_problem(
                    None,
                    Diagnostic::error(
                        "virtplan::metrics::order",
                        format!("unordered timestamp for `{name}`"),
                    )
                    .at(s.spans[j], "breaks the time order")
                    .help("without this row the file is in time order; check its date and time"),
                );
                s.rejected += 1;
                let keep: Vec<usize> = (0..s.times.len()).filter(|&i| i != j).collect();
                s.select(&keep);
            } else if let Some(i) = (1..s.times.len()).find(|&i| s.times[i - 1] > s.times[i]) {
                let descents = s.times.windows(2).filter(|w| w[0] > w[1]).count();
                self.report(
                    Diagnostic::note(
                        "virtplan::metrics::sorted",
                        format!(
                            "the rows of `{name}` are not in time order ({descents} go back in time); they were sorted"
                        ),
                    )
                    .at(s.spans[i], "first row out of order")
                    .help("rows may come in any order; export them oldest first to silence this note"),
                );
                let mut order: Vec<usize> = (0..s.times.len()).collect();
                order.sort_by_key(|&k| s.times[k]);
                s.select(&order);
            }
            // Repeated times.
            let mut keep: Vec<usize> = Vec::with_capacity(s.times.len());
            for i in 0..s.times.len() {
                match keep.last() {
                    Some(&k) if s.times[k] == s.times[i] => {
                        self.row_problem(
                            None,
                            Diagnostic::error(
                                "virtplan::metrics::order",
                                format!("duplicate timestamp for `{name}`"),
                            )
                            .at(s.spans[i], "duplicate timestamp")
                            .related(s.spans[k], "first row of this time, kept")
                            .help(
                                "each time comes once per server; the first row of a time is used",
                            ),
                        );
                        s.rejected += 1;
                    }
                    _ => keep.push(i),
                }
            }
            if keep.len() < s.times.len() {
                s.select(&keep);
            }
            self.series.insert(id, s);
        }
    }
}

/// The UTC times of one file's local times in the project's zone. In the
/// hour the clocks go back, a local time is read as its first occurrence
/// until the file's times have passed it, then as the second; a local time
/// in the hour the clocks skip does not exist.
pub struct LocalClock {
    zone: crate::zone::Zone,
    last: Option<i64>,
}

impl LocalClock {
    pub fn new(zone: crate::zone::Zone) -> Self {
        LocalClock { zone, last: None }
    }

    /// The UTC time of the wall-clock time `local` (as Unix seconds), or
    /// `None` when the zone skips it.
    pub fn utc(&mut self, local: i64) -> Option<i64> {
        use crate::zone::Local;
        let t = match self.zone.to_utc(local) {
            Local::Single(t) => t,
            Local::Twice(first, second) => match self.last {
                Some(last) if last >= first => second,
                _ => first,
            },
            Local::Skipped(_) => return None,
        };
        self.last = Some(t);
        Some(t)
    }

    /// The message for a local time the zone skips.
    pub fn skipped(&self, stamp: &str) -> String {
        format!(
            "`{stamp}` does not exist in {}: the clocks go forward over it",
            self.zone.name()
        )
    }
}

/// Lines with their byte offsets, without the line ending.
pub struct Lines<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        Lines { text, pos: 0 }
    }
}

impl<'t> Iterator for Lines<'t> {
    type Item = (usize, &'t str);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.text.len() {
            return None;
        }
        let rest = &self.text[self.pos..];
        let (line, advance) = match rest.find('\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        let start = self.pos;
        self.pos += advance;
        Some((start, line.strip_suffix('\r').unwrap_or(line)))
    }
}

/// The measurement file formats virtplan reads: the language's `format`
/// words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// virtplan's CSV (`timestamp,server,cpu_pct,…`).
    Virtplan,
    /// Windows perfmon's CSV (`"(PDH-CSV 4.0) (…)(…)",…`).
    Perfmon,
    /// sysstat's `sadf -d` (`# hostname;interval;timestamp;…`).
    Sadf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Virtplan, Format::Perfmon, Format::Sadf];
    /// The words of the language, in the order of [`Format::ALL`].
    pub const WORDS: [&'static str; 3] = ["virtplan", "perfmon", "sadf"];

    pub fn word(self) -> &'static str {
        match self {
            Format::Virtplan => Self::WORDS[0],
            Format::Perfmon => Self::WORDS[1],
            Format::Sadf => Self::WORDS[2],
        }
    }

    pub fn from_word(word: &str) -> Option<Format> {
        Self::ALL.into_iter().find(|f| f.word() == word)
    }

    /// A file's format, recognised from its first line when the project
    /// does not state it: perfmon's header opens with `"(PDH-CSV`, sadf -d's
    /// with `# hostname;`; anything else is read as virtplan's CSV.
    /// The format a file's first line shows, when it clearly shows one:
    /// perfmon's or sadf's header, or a virtplan header opening with
    /// `timestamp`. `None` when the line does not tell.
    pub fn shown(first_line: &str) -> Option<Format> {
        match Format::sniff(first_line) {
            Format::Virtplan => {
                let line = first_line.trim_start_matches('\u{feff}').trim_start();
                line.to_ascii_lowercase()
                    .starts_with("timestamp,")
                    .then_some(Format::Virtplan)
            }
            other => Some(other),
        }
    }

    pub fn sniff(first_line: &str) -> Format {
        let line = first_line.trim_start_matches('\u{feff}').trim_start();
        // A spreadsheet that re-saves perfmon's CSV may drop the quotes.
        if line.starts_with("\"(PDH-CSV") || line.starts_with("(PDH-CSV") {
            Format::Perfmon
        } else if line.starts_with("# hostname;") {
            Format::Sadf
        } else {
            Format::Virtplan
        }
    }
}

/// An error when the project states `format=` and the file's first line
/// clearly shows another: reading it as stated would only give misleading
/// errors about its columns.
fn stated_mismatch(stated: Format, first_line: &str) -> Option<Imported> {
    let shown = Format::shown(first_line).filter(|f| *f != stated)?;
    let line = first_line.trim_end_matches(['\n', '\r']);
    let mut out = Imported::default();
    out.report(
        Diagnostic::error(
            "virtplan::metrics::csv",
            format!(
                "the file is stated as format=\"{}\", but its first line is a {} header",
                stated.word(),
                match shown {
                    Format::Perfmon => "perfmon",
                    Format::Sadf => "sadf -d",
                    Format::Virtplan => "virtplan CSV",
                }
            ),
        )
        .at(local(0, line.len()), "this header")
        .help(format!(
            "write format=\"{}\", or leave `format` out: virtplan recognises the format from the first line",
            shown.word()
        )),
    );
    Some(out)
}

/// Reads one file in the given format (recognised from its first line when
/// `None`) and checks the times of its rows ([`Imported::finish`]).
pub fn read(format: Option<Format>, text: &str, ctx: &Context) -> Imported {
    let first = text.lines().next().unwrap_or("");
    if let Some(mismatch) = format.and_then(|f| stated_mismatch(f, first)) {
        return mismatch;
    }
    let format = format.unwrap_or_else(|| Format::sniff(first));
    let mut out = match format {
        Format::Perfmon => perfmon::read(text, ctx),
        Format::Sadf => sadf::read(text, ctx),
        Format::Virtplan => read_virtplan(text, ctx),
    };
    out.finish(ctx.model);
    out
}

/// Why a measurement stream could not be read as text.
#[derive(Debug, Clone, PartialEq)]
pub enum NotText {
    /// The stream failed.
    Io(String),
    /// A ZIP archive, such as an .xlsx workbook.
    Zip,
    /// A NUL byte: binary data.
    Binary,
    /// Bytes that are not UTF-8, from this byte on.
    NotUtf8(usize),
}

/// Reads one file from a stream in the given format and checks the times
/// of its rows ([`Imported::finish`]). virtplan's CSV is read line by line,
/// so memory holds one line of the file and the rows taken from it; perfmon
/// and sadf files (one server's day or log each) are read whole.
pub fn read_stream(
    format: Option<Format>,
    input: &mut dyn std::io::BufRead,
    ctx: &Context,
) -> Result<Imported, NotText> {
    let mut line_buf: Vec<u8> = Vec::with_capacity(256);
    let mut offset = 0usize;
    let mut text = String::new();
    let mut reader = VirtplanCsv::new(ctx);
    // Stated, or recognised from the first line once it is read.
    let mut format = format;
    loop {
        line_buf.clear();
        let n = input
            .read_until(b'\n', &mut line_buf)
            .map_err(|e| NotText::Io(e.to_string()))?;
        if n == 0 {
            break;
        }
        if offset == 0 && line_buf.starts_with(b"PK\x03\x04") {
            return Err(NotText::Zip);
        }
        if line_buf.contains(&0) {
            return Err(NotText::Binary);
        }
        let line = std::str::from_utf8(&line_buf)
            .map_err(|e| NotText::NotUtf8(offset + e.valid_up_to()))?;
        if offset == 0
            && let Some(mismatch) = format.and_then(|f| stated_mismatch(f, line))
        {
            return Ok(mismatch);
        }
        let known = *format.get_or_insert_with(|| Format::sniff(line));
        if known != Format::Virtplan {
            text.push_str(line);
        } else {
            let line = line.strip_suffix('\n').unwrap_or(line);
            reader.line(offset, line.strip_suffix('\r').unwrap_or(line));
        }
        offset += n;
    }
    let mut out = match format.unwrap_or(Format::Virtplan) {
        Format::Perfmon => perfmon::read(&text, ctx),
        Format::Sadf => sadf::read(&text, ctx),
        Format::Virtplan => reader.end(),
    };
    out.finish(ctx.model);
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
enum Column {
    CpuPct,
    CpuGhz,
    /// A resource given directly in profile units, by index.
    Direct(usize),
}

const KNOWN: [&str; 8] = [
    "timestamp",
    "server",
    "cpu_pct",
    "cpu_ghz",
    "mem_gib",
    "disk_iops",
    "disk_mb_s",
    "net_mbit_s",
];

/// virtplan's own CSV: a header row naming `timestamp`, optionally
/// `server`, and any of `cpu_pct`, `cpu_ghz`, `mem_gib`, `disk_iops`,
/// `disk_mb_s`, `net_mbit_s`. Other columns are ignored with a warning.
pub fn read_virtplan(text: &str, ctx: &Context) -> Imported {
    let mut reader = VirtplanCsv::new(ctx);
    for (start, line) in Lines::new(text) {
        reader.line(start, line);
    }
    reader.end()
}

/// What the header of a virtplan CSV file says.
struct Header {
    cols: Vec<String>,
    col_ts: usize,
    col_server: Option<usize>,
    columns: Vec<(usize, Column)>,
}

/// virtplan's CSV reader, fed one line at a time so that a file can be
/// streamed.
pub struct VirtplanCsv<'c> {
    ctx: &'c Context<'c>,
    out: Imported,
    /// `None` before the first line; `Some(None)` when the header was
    /// unusable and the rest of the file is skipped.
    header: Option<Option<Header>>,
    unknown: BTreeMap<String, Span>,
}

impl<'c> VirtplanCsv<'c> {
    pub fn new(ctx: &'c Context<'c>) -> Self {
        VirtplanCsv {
            ctx,
            out: Imported::default(),
            header: None,
            unknown: BTreeMap::new(),
        }
    }

    /// The rows read, before [`Imported::finish`].
    pub fn end(mut self) -> Imported {
        if self.header.is_none() {
            self.out.report(
                Diagnostic::error("virtplan::metrics::csv", "the measurement file is empty")
                    .at(local(0, 0), "empty file")
                    .help("a measurement file starts with a header row: timestamp,cpu_pct,..."),
            );
        }
        report_unknown_servers(&mut self.out, std::mem::take(&mut self.unknown), self.ctx);
        self.out
    }

    /// One line, without its line ending, starting at byte `start` of the file.
    pub fn line(&mut self, start: usize, line: &str) {
        match &self.header {
            None => {
                let h = self.read_header(start, line);
                self.header = Some(h);
            }
            Some(None) => {}
            Some(Some(_)) => self.row(start, line),
        }
    }

    fn read_header(&mut self, hstart: usize, header: &str) -> Option<Header> {
        let out = &mut self.out;
        let (bom, header) = match header.strip_prefix('\u{feff}') {
            Some(rest) => ('\u{feff}'.len_utf8(), rest),
            None => (0, header),
        };
        let hstart = hstart + bom;
        let mut cells = Vec::new();
        if let Err(why) = split_csv(header, b',', &mut cells) {
            out.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    format!("the header row cannot be read: {why}"),
                )
                .at(local(hstart, hstart + header.len()), "header row")
                .help("quote a field as a whole: \"a field, with a comma\"; a quote inside is written twice"),
            );
            return None;
        }
        let cols: Vec<String> = cells.iter().map(|c| c.0.to_string()).collect();
        let mut col_ts = None;
        let mut col_server = None;
        let mut columns: Vec<(usize, Column)> = Vec::new();
        for (i, (_, start, end)) in cells.iter().enumerate() {
            match cols[i].as_str() {
                "timestamp" => col_ts = Some(i),
                "server" => col_server = Some(i),
                "cpu_pct" => columns.push((i, Column::CpuPct)),
                "cpu_ghz" => columns.push((i, Column::CpuGhz)),
                "mem_gib" => columns.push((i, Column::Direct(1))),
                "disk_iops" => columns.push((i, Column::Direct(2))),
                "disk_mb_s" => columns.push((i, Column::Direct(3))),
                "net_mbit_s" => columns.push((i, Column::Direct(4))),
                other => out.report(
                    Diagnostic::warning(
                        "virtplan::metrics::unknown-column",
                        format!("column `{other}` is not used"),
                    )
                    .at(local(hstart + start, hstart + end), "ignored")
                    .help(suggest(other, &KNOWN, "column")),
                ),
            }
        }
        let header_span = local(hstart, hstart + header.len());
        let Some(col_ts) = col_ts else {
            let looks_binary = header.chars().any(|c| c.is_control() && c != '\t');
            out.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    if looks_binary {
                        "the measurement file is not CSV text"
                    } else {
                        "the measurement file has no `timestamp` column"
                    },
                )
                .at(header_span, "header row")
                .help("the first row names the columns: timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s"),
            );
            return None;
        };
        if self.ctx.owner.is_none() && col_server.is_none() {
            out.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    "the measurement file has no `server` column",
                )
                .at(header_span, "header row")
                .help("files loaded by a project-level `metrics` need a `server` column"),
            );
            return None;
        }
        Some(Header {
            cols,
            col_ts,
            col_server,
            columns,
        })
    }

    fn row(&mut self, start: usize, line: &str) {
        let Some(Some(h)) = &self.header else { return };
        let (ctx, out) = (self.ctx, &mut self.out);
        if line.bytes().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let span = local(start, start + line.len());
        let mut fields: Vec<Field> = Vec::with_capacity(h.cols.len());
        if let Err(why) = split_csv(line, b',', &mut fields) {
            out.row_problem(
                ctx.owner,
                Diagnostic::error("virtplan::metrics::row", format!("row cannot be read: {why}"))
                    .at(span, "malformed row")
                    .help("quote a field as a whole: \"a field, with a comma\"; a quote inside is written twice"),
            );
            return;
        }
        if fields.len() != h.cols.len() {
            out.row_problem(
                ctx.owner,
                Diagnostic::error(
                    "virtplan::metrics::row",
                    format!(
                        "row has {} fields, the header has {}",
                        fields.len(),
                        h.cols.len()
                    ),
                )
                .at(span, "malformed row")
                .help("every row has one value per header column, separated by commas"),
            );
            return;
        }
        let id = match (ctx.owner, h.col_server) {
            (Some(id), _) => id,
            (None, Some(c)) => {
                let name = fields[c].0.as_ref();
                match ctx.server(name) {
                    Some(id) => id,
                    None => {
                        if !self.unknown.contains_key(name) {
                            self.unknown.insert(name.to_string(), span);
                        }
                        return;
                    }
                }
            }
            (None, None) => return,
        };
        let stamp = fields[h.col_ts].0.as_ref();
        let Some(ts) = parse_timestamp(stamp) else {
            out.row_problem(
                Some(id),
                Diagnostic::error(
                    "virtplan::metrics::row",
                    format!("`{stamp}` is not a timestamp"),
                )
                .at(span, "bad timestamp")
                .help("write RFC 3339 with an offset (2026-03-02T08:00:00Z) or Unix seconds; the date must exist (no 30 February) and seconds run 00 to 59"),
            );
            return;
        };
        let server = &ctx.model.servers[id];
        let mut row = [f64::NAN; 5];
        let mut bad = None;
        for (i, col) in &h.columns {
            let raw = fields[*i].0.as_ref();
            if raw.is_empty() {
                continue;
            }
            let Some(v) = parse_number(raw) else {
                bad = Some(format!(
                    "`{raw}` in column `{}` is not a number",
                    h.cols[*i]
                ));
                break;
            };
            if !v.is_finite() || v < 0.0 {
                bad = Some(format!(
                    "`{raw}` in column `{}` is negative or not finite",
                    h.cols[*i]
                ));
                break;
            }
            match col {
                Column::CpuPct if v > 100.0 => {
                    bad = Some(format!("cpu_pct {raw} is over 100"));
                    break;
                }
                Column::CpuPct => row[0] = v / 100.0 * server.cpu_ghz(),
                Column::CpuGhz => row[0] = v * server.cpu_perf,
                Column::Direct(r) => row[*r] = v,
            }
        }
        if let Some(reason) = bad {
            out.row_problem(
                Some(id),
                Diagnostic::error("virtplan::metrics::row", reason)
                    .at(span, "rejected row")
                    .help("measurements are non-negative numbers; percentages are 0 to 100"),
            );
            return;
        }
        out.row(id, ts, row, span);
    }
}

/// Parses a decimal number. The common case, digits with an optional
/// fraction of at most 15 significant digits in all, is computed exactly as
/// `str::parse` would (an integer below 2^53 divided by an exact power of
/// ten is correctly rounded); anything else goes to `str::parse`.
pub fn parse_number(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let b = s.as_bytes();
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut frac = None;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                if digits > 15 {
                    return s.parse().ok();
                }
            }
            b'.' if frac.is_none() => frac = Some(i),
            _ => return s.parse().ok(),
        }
    }
    if digits == 0 {
        return s.parse().ok();
    }
    let scale = frac.map_or(0, |i| b.len() - i - 1);
    Some(mantissa as f64 / POW10[scale])
}

/// A measured value of a perfmon or sadf file: a finite number ≥ 0. A comma
/// is taken as the decimal separator when there is no point, since exports
/// made under some locales write one. `what` names the value in messages.
pub fn measured_value(raw: &str, what: &str) -> Result<f64, String> {
    let parsed = raw.parse::<f64>().or_else(|e| {
        if raw.contains('.') {
            Err(e)
        } else {
            raw.replace(',', ".").parse::<f64>()
        }
    });
    match parsed {
        Err(_) => Err(format!("`{raw}` in {what} is not a number")),
        Ok(v) if !v.is_finite() || v < 0.0 => {
            Err(format!("`{raw}` in {what} is negative or not finite"))
        }
        Ok(v) => Ok(v),
    }
}

/// Warns once per server name a file holds that is not in the inventory.
pub fn report_unknown_servers(out: &mut Imported, unknown: BTreeMap<String, Span>, ctx: &Context) {
    let candidates: Vec<&str> = ctx.names.keys().copied().collect();
    for (name, span) in unknown {
        out.report(
            Diagnostic::warning(
                "virtplan::metrics::unknown-server",
                format!("measurements for `{name}`, which is not in the inventory"),
            )
            .at(span, "first row of it")
            .help(suggest(&name, &candidates, "server")),
        );
    }
}

/// Parses RFC 3339 (`2026-03-02T08:00:00Z`, `…+01:00`, optional fraction,
/// `T` or space) or Unix seconds into Unix seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return (n.unsigned_abs() < 1 << 40).then_some(n);
    }
    if let Ok(f) = s.parse::<f64>() {
        return (f.is_finite() && f.abs() < (1u64 << 40) as f64).then_some(f as i64);
    }
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    let (h, mi, se) = (digits(s, 11..13)?, digits(s, 14..16)?, digits(s, 17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (digits(rest, 1..3)? * 3600 + digits(rest, 4..6)? * 60)
        }
    };
    civil_to_unix(y, mo, d, h, mi, se).map(|t| t - offset)
}

/// Seconds since the epoch of a date and time of day, if they are valid:
/// the day exists in that month of that (proleptic Gregorian) year, and the
/// time is 00:00:00 to 23:59:59. A leap second (`:60`) is not accepted, and
/// nothing rolls over into the next day or month.
pub fn civil_to_unix(y: i64, mo: i64, d: i64, h: i64, mi: i64, se: i64) -> Option<i64> {
    if !(1..=12).contains(&mo)
        || !(1..=days_in_month(y, mo)).contains(&d)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0..=59).contains(&se)
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se)
}

/// Days in a month (1 to 12) of a proleptic Gregorian year.
pub fn days_in_month(y: i64, mo: i64) -> i64 {
    match mo {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The number in `s[range]`, if it is all ASCII digits.
pub fn digits(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(range)?;
    if !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// One field of a CSV line: its text (unquoted, trimmed of ASCII
/// whitespace) and its byte range in the line.
pub type Field<'t> = (Cow<'t, str>, usize, usize);

/// Splits one line of CSV into fields as RFC 4180 has them: a field may be
/// enclosed in double quotes, and then holds separators and doubled quotes
/// (`""`, one quote) as text. Whitespace around a field is left out. A
/// quote inside an unquoted field, text after a closing quote, or a quote
/// that is not closed on the line (a quoted field cannot span lines) is an
/// error. Lines without quotes take a fast path that borrows every field.
pub fn split_csv<'t>(line: &'t str, sep: u8, out: &mut Vec<Field<'t>>) -> Result<(), &'static str> {
    out.clear();
    let b = line.as_bytes();
    if !b.contains(&b'"') {
        let mut start = 0;
        for part in line.split(sep as char) {
            let end = start + part.len();
            out.push((Cow::Borrowed(part.trim_ascii()), start, end));
            start = end + 1;
        }
        return Ok(());
    }
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && b[i] != sep && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'"' {
            let mut text = String::new();
            i += 1;
            let mut from = i;
            loop {
                match b[i..].iter().position(|c| *c == b'"') {
                    None => return Err("a quoted field is not closed on its line"),
                    Some(k) => {
                        text.push_str(&line[from..i + k]);
                        i += k + 1;
                        if b.get(i) == Some(&b'"') {
                            text.push('"');
                            i += 1;
                            from = i;
                        } else {
                            break;
                        }
                    }
                }
            }
            while i < b.len() && b[i] != sep && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] != sep {
                return Err("text follows a closing quote");
            }
            out.push((Cow::Owned(text), start, i));
        } else {
            let end = b[i..]
                .iter()
                .position(|c| *c == sep)
                .map_or(b.len(), |k| i + k);
            if b[i..end].contains(&b'"') {
                return Err("a quote inside a field that is not quoted");
            }
            out.push((Cow::Borrowed(line[start..end].trim_ascii()), start, end));
            i = end;
        }
        if i >= b.len() {
            return Ok(());
        }
        i += 1; // the separator
    }
}

/// Shared helpers for the readers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use super::{Context, Imported};
    use crate::model::{Id, Model};
    use crate::source::MemorySource;

    /// 2026-03-02 08:00:00 UTC (a Monday) in Unix seconds.
    pub const T0: i64 = 1_772_438_400;

    /// Two servers: web01 has 2 sockets × 4 cores at 2.5 GHz (20 GHz in
    /// all) and 16 GiB; db01 has 1 × 4 cores at 2 GHz (8 GHz) and 32 GiB.
    pub fn model(timezone: &str) -> Model {
        let kdl = format!(
            r#"
project "t" {{
    timezone "{timezone}"
}}
server "web01" {{
    sockets 2
    cores-per-socket 4
    clock "2.5GHz"
    memory "16GiB"
}}
server "db01" {{
    sockets 1
    cores-per-socket 4
    clock "2GHz"
    memory "32GiB"
}}
"#
        );
        crate::compile(&MemorySource::new().with("p.kdl", kdl))
            .model
            .expect("the test project compiles")
    }

    pub fn names(m: &Model) -> BTreeMap<&str, Id> {
        m.servers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect()
    }

    pub fn id(m: &Model, name: &str) -> Id {
        names(m)[name]
    }

    /// Reads `text` with `reader`, as the file of `owner` or, without one, as
    /// a file naming its servers.
    pub fn read_with(
        m: &Model,
        owner: Option<&str>,
        text: &str,
        reader: fn(&str, &Context) -> Imported,
    ) -> Imported {
        let names = names(m);
        let ctx = Context {
            owner: owner.map(|n| names[n]),
            names: &names,
            model: m,
        };
        let mut out = reader(text, &ctx);
        out.finish(m);
        out
    }

    pub fn codes(i: &Imported) -> Vec<&'static str> {
        i.diags.iter().map(|d| d.code).collect()
    }

    /// Equal within 1e-9, NaN equal to NaN.
    pub fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_are_recognised_from_their_first_line() {
        assert_eq!(
            Format::sniff("\u{feff}\"(PDH-CSV 4.0) (W. Europe Standard Time)(-60)\",\"x\""),
            Format::Perfmon
        );
        assert_eq!(
            Format::sniff("# hostname;interval;timestamp;CPU;%user"),
            Format::Sadf
        );
        assert_eq!(
            Format::sniff("(PDH-CSV 4.0) (W. Europe Standard Time)(-60);x"),
            Format::Perfmon
        );
        assert_eq!(Format::sniff("timestamp,server,cpu_pct"), Format::Virtplan);
        assert_eq!(Format::shown("timestamp,cpu_pct"), Some(Format::Virtplan));
        assert_eq!(Format::shown("time;cpu"), None);
        assert_eq!(Format::shown("# hostname;interval"), Some(Format::Sadf));
        for f in Format::ALL {
            assert_eq!(Format::from_word(f.word()), Some(f));
        }
        assert_eq!(crate::schema::METRIC_FORMATS, Format::WORDS);
    }

    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        // 2026-03-02 is 20514 days after the epoch: 20514 × 86400 + 8 × 3600.
        assert_eq!(parse_timestamp("2026-03-02T08:00:00Z"), Some(1_772_438_400));
        assert_eq!(
            parse_timestamp("2026-03-02T09:00:00+01:00"),
            Some(1_772_438_400)
        );
        assert_eq!(
            parse_timestamp("2026-03-02 08:00:00.250Z"),
            Some(1_772_438_400)
        );
        assert_eq!(parse_timestamp("1772438400"), Some(1_772_438_400));
        assert_eq!(parse_timestamp("2026-13-02T08:00:00Z"), None);
        assert_eq!(parse_timestamp("2026-03-02T08:00:00"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("99999999999999999999"), None);
        // Dates that do not exist never roll over; leap years by the
        // Gregorian rule (2024 and 2000 are leap years, 2025 and 1900 not).
        assert_eq!(parse_timestamp("2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_timestamp("2026-04-31T23:59:00Z"), None);
        assert_eq!(parse_timestamp("2026-03-01T23:59:60Z"), None);
        assert_eq!(parse_timestamp("2025-02-29T00:00:00Z"), None);
        assert_eq!(parse_timestamp("1900-02-29T00:00:00Z"), None);
        // 2024-02-29 is 19782 days after the epoch, 2000-02-29 is 11016.
        assert_eq!(
            parse_timestamp("2024-02-29T00:00:00Z"),
            Some(19_782 * 86400)
        );
        assert_eq!(
            parse_timestamp("2000-02-29T00:00:00Z"),
            Some(11_016 * 86400)
        );
        assert_eq!(
            parse_timestamp("2026-12-31T23:59:59Z"),
            Some(20_818 * 86400 + 86399)
        );
    }

    #[test]
    fn fast_numbers_match_the_standard_parser() {
        for s in [
            "0",
            "12",
            "12.5",
            "0.001",
            "123456.789012345",
            "3.",
            ".5",
            "1e3",
            "-2",
            "007.50",
            "99999999999999999",
        ] {
            assert_eq!(parse_number(s), s.parse::<f64>().ok(), "{s}");
        }
        assert_eq!(parse_number("1.2.3"), None);
        assert_eq!(parse_number("abc"), None);
    }

    #[test]
    fn quoted_fields() {
        let mut out = Vec::new();
        let text = |out: &Vec<Field>| out.iter().map(|f| f.0.to_string()).collect::<Vec<_>>();
        split_csv(r#""a,b","c""d",e, "f" ,"""#, b',', &mut out).unwrap();
        assert_eq!(text(&out), vec!["a,b", "c\"d", "e", "f", ""]);
        // Byte ranges: `"a,b"` is 0..5, `"c""d"` 6..12, `e` 13..14.
        assert_eq!((out[0].1, out[0].2), (0, 5));
        assert_eq!((out[1].1, out[1].2), (6, 12));
        assert_eq!((out[2].1, out[2].2), (13, 14));
        split_csv("a, b ,", b',', &mut out).unwrap();
        assert_eq!(text(&out), vec!["a", "b", ""]);
        split_csv(r#""a","#, b',', &mut out).unwrap();
        assert_eq!(text(&out), vec!["a", ""]);
        assert!(split_csv(r#""a,b"#, b',', &mut out).is_err());
        assert!(split_csv(r#""a"b,c"#, b',', &mut out).is_err());
        assert!(split_csv(r#"a"b,c"#, b',', &mut out).is_err());
    }
}
