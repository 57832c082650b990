//! Measurements: utilization CSV files → per-server workload profiles.
//!
//! In: the [`Model`] and a [`FileSource`] to read the files it names. Out: a
//! [`Measured`] per server that has data: its workload profile (one value per
//! slot of the period for each [`Resource`]), its overall percentile and
//! peak, and how much data was used; plus diagnostics for every malformed,
//! unordered or out-of-range row, pointing at the file and line.
//!
//! The profile contract (also in the book): samples fold into the slots of
//! the period (default the 168 hours of a week, Monday 00:00 in the project's
//! time zone first); a slot's value is the p-th percentile of its samples by
//! nearest rank (rank ⌈p/100 × n⌉ of the n sorted samples); an empty slot
//! takes the server's overall percentile and counts as missing. CPU is in
//! reference GHz: `cpu_pct` × cores × clock × cpu-perf, or `cpu_ghz` × cpu-perf.
//!
//! File texts are added to the source map only when they have a diagnostic,
//! so large measurement sets are not kept in memory.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Id, Model, ProfileSettings, Server};
use crate::source::{FileId, FileSource, SourceMap, Span, glob_match};

/// The resources a workload profile tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// CPU in reference GHz.
    Cpu,
    /// Memory in GiB.
    Memory,
    /// Disk operations per second.
    DiskIops,
    /// Disk throughput in MB/s.
    DiskMbs,
    /// Network in Mbit/s.
    NetMbit,
}

pub const RESOURCES: [Resource; 5] = [
    Resource::Cpu,
    Resource::Memory,
    Resource::DiskIops,
    Resource::DiskMbs,
    Resource::NetMbit,
];

impl Resource {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn unit(self) -> &'static str {
        match self {
            Resource::Cpu => "GHz",
            Resource::Memory => "GiB",
            Resource::DiskIops => "IOPS",
            Resource::DiskMbs => "MB/s",
            Resource::NetMbit => "Mbit/s",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Resource::Cpu => "CPU",
            Resource::Memory => "memory",
            Resource::DiskIops => "disk IOPS",
            Resource::DiskMbs => "disk throughput",
            Resource::NetMbit => "network",
        }
    }
}

/// One server's measured load.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub server: Id,
    /// Rows used.
    pub samples: usize,
    /// Rows rejected by a diagnostic.
    pub rejected: usize,
    /// First and last timestamp (Unix seconds).
    pub first: i64,
    pub last: i64,
    /// Which resources the data covers.
    pub present: [bool; 5],
    /// Slot values per resource (`profile[r][slot]`).
    pub profile: [Vec<f64>; 5],
    /// Overall percentile per resource.
    pub percentile: [f64; 5],
    /// Highest sample per resource.
    pub peak: [f64; 5],
    /// Slots that had at least one sample.
    pub covered_slots: usize,
}

/// The result of reading every measurement file.
#[derive(Debug, Clone, Default)]
pub struct Measurements {
    /// By server id; servers without data are absent.
    pub by_server: BTreeMap<Id, Measured>,
}

/// Rows kept for one server while reading: (timestamp, values, present).
#[derive(Default)]
struct Series {
    times: Vec<i64>,
    values: [Vec<f64>; 5],
    present: [bool; 5],
    rejected: usize,
}

/// Row diagnostics kept per file before the rest are summarised.
const MAX_ROW_DIAGS: usize = 10;

pub fn measure(
    model: &Model,
    fs: &dyn FileSource,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Measurements {
    let names: BTreeMap<&str, Id> = model
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut series: BTreeMap<Id, Series> = BTreeMap::new();
    // Per-server files first, then project-level globs.
    for (id, server) in model.servers.iter().enumerate() {
        let Some(m) = &server.metrics else { continue };
        if !supported(&m.format, m.span, diags) {
            continue;
        }
        let mut reader = FileReader::new(&m.path, fs, sources, diags, Some(m.span));
        if let Some(text) = reader.text() {
            reader.read_virtplan(&text, Some(id), &names, model, &mut series);
        }
        reader.finish();
    }
    let listing = if model.metrics.is_empty() {
        Vec::new()
    } else {
        fs.list()
    };
    for glob in &model.metrics {
        if !supported(&glob.format, glob.span, diags) {
            continue;
        }
        let matched: Vec<&String> = listing
            .iter()
            .filter(|p| glob_match(&glob.pattern, p))
            .collect();
        if matched.is_empty() {
            diags.push(
                Diagnostic::error(
                    "virtplan::load::include",
                    format!("`{}` matches no file", glob.pattern),
                )
                .at(glob.span, "nothing here")
                .help("the pattern is relative to the file that names it"),
            );
        }
        for path in matched {
            let mut reader = FileReader::new(path, fs, sources, diags, Some(glob.span));
            if let Some(text) = reader.text() {
                reader.read_virtplan(&text, None, &names, model, &mut series);
            }
            reader.finish();
        }
    }
    let mut out = Measurements::default();
    for (id, s) in series {
        if s.times.is_empty() {
            continue;
        }
        out.by_server.insert(
            id,
            fold(
                id,
                s,
                &model.project.profile,
                model.project.utc_offset_minutes,
            ),
        );
    }
    out
}

/// Only virtplan's own CSV is read so far; other formats are refused
/// clearly rather than misread.
fn supported(format: &str, span: Span, diags: &mut Diagnostics) -> bool {
    if format == "virtplan" {
        return true;
    }
    diags.push(
        Diagnostic::error(
            "virtplan::metrics::csv",
            format!("the `{format}` measurement format is not supported yet"),
        )
        .at(span, "cannot read this format")
        .help("convert the file to virtplan's CSV (timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s) and drop `format=`"),
    );
    false
}

/// Reads one file and collects its diagnostics with local offsets, adding
/// the file to the source map only if something is reported.
struct FileReader<'a> {
    path: String,
    fs: &'a dyn FileSource,
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    named_at: Option<Span>,
    /// (offset start, end, diagnostic built with a placeholder file).
    pending: Vec<Diagnostic>,
    row_problems: usize,
    text: Option<String>,
}

impl<'a> FileReader<'a> {
    fn new(
        path: &str,
        fs: &'a dyn FileSource,
        sources: &'a mut SourceMap,
        diags: &'a mut Diagnostics,
        named_at: Option<Span>,
    ) -> Self {
        FileReader {
            path: path.to_string(),
            fs,
            sources,
            diags,
            named_at,
            pending: Vec::new(),
            row_problems: 0,
            text: None,
        }
    }

    fn text(&mut self) -> Option<String> {
        let bytes = match self.fs.read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                let mut d = Diagnostic::error(
                    "virtplan::load::read",
                    format!("cannot read `{}`: {e}", self.path),
                )
                .help("check the path; it is relative to the file that names it");
                if let Some(span) = self.named_at {
                    d = d.at(span, "named here");
                }
                self.diags.push(d);
                return None;
            }
        };
        let zip = bytes.starts_with(b"PK\x03\x04");
        let binary = zip || bytes.contains(&0);
        let what = match String::from_utf8(bytes) {
            Ok(text) if !binary => return Some(text),
            Ok(_) if zip => "a ZIP archive (an .xlsx workbook?)".to_string(),
            Ok(_) => "binary data".to_string(),
            Err(e) => format!(
                "bytes that are not UTF-8 (from byte {})",
                e.utf8_error().valid_up_to()
            ),
        };
        // The file's own text is not shown: it is not text.
        let mut d = Diagnostic::error(
            "virtplan::metrics::csv",
            format!("`{}` is not a text CSV file: it holds {what}", self.path),
        )
        .help(if zip {
            "open it in the spreadsheet program and save it as CSV (UTF-8)"
        } else {
            "export the measurements as UTF-8 CSV"
        });
        if let Some(span) = self.named_at {
            d = d.at(span, "this file is not CSV text");
        }
        self.diags.push(d);
        None
    }

    fn report(&mut self, d: Diagnostic) {
        self.pending.push(d);
    }

    fn row_problem(&mut self, d: Diagnostic) {
        self.row_problems += 1;
        if self.row_problems <= MAX_ROW_DIAGS {
            self.pending.push(d);
        }
    }

    fn finish(self) {
        if self.pending.is_empty() {
            return;
        }
        let text = self.text.unwrap_or_default();
        let id = self.sources.add(self.path.clone(), text);
        for mut d in self.pending {
            if let Some(span) = &mut d.span {
                span.file = id;
            }
            self.diags.push(d);
        }
        if self.row_problems > MAX_ROW_DIAGS {
            self.diags.push(
                Diagnostic::warning(
                    "virtplan::metrics::row",
                    format!(
                        "`{}`: {} more problem rows not shown",
                        self.path,
                        self.row_problems - MAX_ROW_DIAGS
                    ),
                )
                .at(Span::new(id, 0, 0), "in this file")
                .help("fix the rows above and run again to see the rest"),
            );
        }
    }

    fn read_virtplan(
        &mut self,
        text: &str,
        owner: Option<Id>,
        names: &BTreeMap<&str, Id>,
        model: &Model,
        series: &mut BTreeMap<Id, Series>,
    ) {
        // Keep the text in case a diagnostic needs it.
        let local = |start: usize, end: usize| Span::new(FileId(u32::MAX), start, end);
        let mut lines = LineIter { text, pos: 0 };
        let Some((hstart, header)) = lines.next() else {
            self.text = Some(text.to_string());
            self.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    format!("`{}` is empty", self.path),
                )
                .at(local(0, 0), "empty file")
                .help("a measurement file starts with a header row: timestamp,cpu_pct,..."),
            );
            return;
        };
        let cols: Vec<&str> = header
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        let mut col_ts = None;
        let mut col_server = None;
        let mut col_res: Vec<(usize, Column)> = Vec::new();
        let mut offset = hstart;
        for (i, c) in cols.iter().enumerate() {
            match *c {
                "timestamp" => col_ts = Some(i),
                "server" => col_server = Some(i),
                "cpu_pct" => col_res.push((i, Column::CpuPct)),
                "cpu_ghz" => col_res.push((i, Column::CpuGhz)),
                "mem_gib" => col_res.push((i, Column::Direct(Resource::Memory))),
                "disk_iops" => col_res.push((i, Column::Direct(Resource::DiskIops))),
                "disk_mb_s" => col_res.push((i, Column::Direct(Resource::DiskMbs))),
                "net_mbit_s" => col_res.push((i, Column::Direct(Resource::NetMbit))),
                other => {
                    self.text.get_or_insert_with(|| text.to_string());
                    let known = [
                        "timestamp",
                        "server",
                        "cpu_pct",
                        "cpu_ghz",
                        "mem_gib",
                        "disk_iops",
                        "disk_mb_s",
                        "net_mbit_s",
                    ];
                    self.report(
                        Diagnostic::warning(
                            "virtplan::metrics::unknown-column",
                            format!("column `{other}` is not used"),
                        )
                        .at(local(offset, offset + other.len()), "ignored")
                        .help(crate::diag::suggest(other, &known, "column")),
                    );
                }
            }
            offset += c.len() + 1;
        }
        let Some(col_ts) = col_ts else {
            self.text.get_or_insert_with(|| text.to_string());
            self.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    format!("`{}` has no `timestamp` column", self.path),
                )
                .at(local(hstart, hstart + header.len()), "header row")
                .help("the first row names the columns: timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s"),
            );
            return;
        };
        if owner.is_none() && col_server.is_none() {
            self.text.get_or_insert_with(|| text.to_string());
            self.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    format!("`{}` has no `server` column", self.path),
                )
                .at(local(hstart, hstart + header.len()), "header row")
                .help("files loaded by a project-level `metrics` need a `server` column"),
            );
            return;
        }
        let mut unknown_servers: BTreeMap<String, Span> = BTreeMap::new();
        for (start, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            let span = local(start, start + line.len());
            if fields.len() != cols.len() {
                self.text.get_or_insert_with(|| text.to_string());
                self.row_problem(
                    Diagnostic::error(
                        "virtplan::metrics::row",
                        format!(
                            "row has {} fields, the header has {}",
                            fields.len(),
                            cols.len()
                        ),
                    )
                    .at(span, "malformed row")
                    .help("every row has one value per header column, separated by commas"),
                );
                if let Some(id) = owner {
                    series.entry(id).or_default().rejected += 1;
                }
                continue;
            }
            let id = match (owner, col_server) {
                (Some(id), _) => id,
                (None, Some(c)) => {
                    let name = fields[c].trim();
                    match names.get(name) {
                        Some(id) => *id,
                        None => {
                            unknown_servers.entry(name.to_string()).or_insert(span);
                            continue;
                        }
                    }
                }
                (None, None) => continue,
            };
            let server = &model.servers[id];
            let ts = match parse_timestamp(fields[col_ts].trim()) {
                Some(t) => t,
                None => {
                    self.text.get_or_insert_with(|| text.to_string());
                    self.row_problem(
                        Diagnostic::error(
                            "virtplan::metrics::row",
                            format!("`{}` is not a timestamp", fields[col_ts].trim()),
                        )
                        .at(span, "bad timestamp")
                        .help(
                            "write RFC 3339 with an offset (2026-03-02T08:00:00Z) or Unix seconds",
                        ),
                    );
                    series.entry(id).or_default().rejected += 1;
                    continue;
                }
            };
            let mut row = [f64::NAN; 5];
            let mut bad = None;
            for (i, col) in &col_res {
                let raw = fields[*i].trim();
                if raw.is_empty() {
                    continue;
                }
                let Ok(v) = raw.parse::<f64>() else {
                    bad = Some(format!("`{raw}` in column `{}` is not a number", cols[*i]));
                    break;
                };
                if !v.is_finite() || v < 0.0 {
                    bad = Some(format!(
                        "`{raw}` in column `{}` is negative or not finite",
                        cols[*i]
                    ));
                    break;
                }
                match col {
                    Column::CpuPct => {
                        if v > 100.0 {
                            bad = Some(format!("cpu_pct {raw} is over 100"));
                            break;
                        }
                        row[0] = v / 100.0 * server.cpu_ghz();
                    }
                    Column::CpuGhz => row[0] = v * server.cpu_perf,
                    Column::Direct(r) => row[r.index()] = v,
                }
            }
            if let Some(reason) = bad {
                self.text.get_or_insert_with(|| text.to_string());
                self.row_problem(
                    Diagnostic::error("virtplan::metrics::row", reason)
                        .at(span, "rejected row")
                        .help("measurements are non-negative numbers; percentages are 0 to 100"),
                );
                series.entry(id).or_default().rejected += 1;
                continue;
            }
            let s = series.entry(id).or_default();
            if let Some(last) = s.times.last()
                && ts <= *last
            {
                self.text.get_or_insert_with(|| text.to_string());
                let what = if ts == *last {
                    "duplicate"
                } else {
                    "unordered"
                };
                self.row_problem(
                    Diagnostic::error(
                        "virtplan::metrics::order",
                        format!("{what} timestamp for `{}`", server.name),
                    )
                    .at(span, format!("{what} timestamp"))
                    .help("rows of one server come in increasing time order, each time once"),
                );
                s.rejected += 1;
                continue;
            }
            s.times.push(ts);
            for (r, v) in row.iter().enumerate() {
                if !v.is_nan() {
                    s.present[r] = true;
                }
                s.values[r].push(*v);
            }
        }
        for (name, span) in unknown_servers {
            self.text.get_or_insert_with(|| text.to_string());
            let candidates: Vec<&str> = names.keys().copied().collect();
            self.report(
                Diagnostic::warning(
                    "virtplan::metrics::unknown-server",
                    format!("measurements for `{name}`, which is not in the inventory"),
                )
                .at(span, "first row of it")
                .help(crate::diag::suggest(&name, &candidates, "server")),
            );
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Column {
    CpuPct,
    CpuGhz,
    Direct(Resource),
}

/// Lines with their byte offsets, without the line ending.
struct LineIter<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Iterator for LineIter<'t> {
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

/// Nearest-rank percentile of unsorted values: the value at rank ⌈p/100·n⌉.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let n = values.len();
    let rank = ((p / 100.0) * n as f64).ceil().clamp(1.0, n as f64) as usize;
    let (_, v, _) = values.select_nth_unstable_by(rank - 1, f64::total_cmp);
    *v
}

/// Unix seconds of Monday 1970-01-05 00:00 UTC: the anchor of weekly slots.
const MONDAY: i64 = 4 * 86400;

/// Index of the slot a timestamp falls in.
pub fn slot_of(ts: i64, settings: &ProfileSettings, utc_offset_minutes: i32) -> usize {
    let local = ts + i64::from(utc_offset_minutes) * 60 - MONDAY;
    let period = settings.period.0 as i64;
    let slot = settings.slot.0 as i64;
    (local.rem_euclid(period) / slot) as usize
}

fn fold(id: Id, s: Series, settings: &ProfileSettings, offset: i32) -> Measured {
    let slots = settings.slots();
    let p = settings.percentile;
    let slot_idx: Vec<usize> = s
        .times
        .iter()
        .map(|t| slot_of(*t, settings, offset))
        .collect();
    let mut covered = vec![false; slots];
    let mut profile: [Vec<f64>; 5] = Default::default();
    let mut overall = [0.0; 5];
    let mut peak = [0.0; 5];
    for r in 0..5 {
        if !s.present[r] {
            profile[r] = vec![0.0; slots];
            continue;
        }
        let mut all: Vec<f64> = s.values[r]
            .iter()
            .copied()
            .filter(|v| !v.is_nan())
            .collect();
        peak[r] = all.iter().copied().fold(0.0, f64::max);
        overall[r] = percentile(&mut all, p);
        let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); slots];
        for (v, slot) in s.values[r].iter().zip(&slot_idx) {
            if !v.is_nan() {
                buckets[*slot].push(*v);
            }
        }
        profile[r] = buckets
            .iter_mut()
            .enumerate()
            .map(|(i, b)| {
                if b.is_empty() {
                    overall[r]
                } else {
                    covered[i] = true;
                    percentile(b, p)
                }
            })
            .collect();
    }
    Measured {
        server: id,
        samples: s.times.len(),
        rejected: s.rejected,
        first: s.times.first().copied().unwrap_or(0),
        last: s.times.last().copied().unwrap_or(0),
        present: s.present,
        profile,
        percentile: overall,
        peak,
        covered_slots: covered.iter().filter(|c| **c).count(),
    }
}

/// Parses RFC 3339 (`2026-03-02T08:00:00Z`, `…+01:00`, optional fraction,
/// `T` or space) or Unix seconds into Unix seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(f) = s.parse::<f64>() {
        return f
            .is_finite()
            .then_some(f as i64)
            .filter(|v| v.unsigned_abs() < 1 << 40);
    }
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset)
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

/// How much of the period a server's data covers, and for how long.
pub fn coverage(m: &Measured, settings: &ProfileSettings) -> (f64, f64) {
    let slots = settings.slots().max(1);
    let cover = m.covered_slots as f64 / slots as f64;
    let history_days = (m.last - m.first) as f64 / 86400.0;
    (cover, history_days)
}

/// A configuration-only demand for a server without measurements: every
/// resource at its installed size for CPU and memory, zero for I/O.
pub fn from_configuration(id: Id, server: &Server, settings: &ProfileSettings) -> Measured {
    let slots = settings.slots();
    let cpu = server.cpu_ghz();
    let mem = server.memory.gib();
    let mut profile: [Vec<f64>; 5] = Default::default();
    for (r, p) in profile.iter_mut().enumerate() {
        let v = match r {
            0 => cpu,
            1 => mem,
            _ => 0.0,
        };
        *p = vec![v; slots];
    }
    Measured {
        server: id,
        samples: 0,
        rejected: 0,
        first: 0,
        last: 0,
        present: [true, true, false, false, false],
        profile,
        percentile: [cpu, mem, 0.0, 0.0, 0.0],
        peak: [cpu, mem, 0.0, 0.0, 0.0],
        covered_slots: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Seconds;

    #[test]
    fn nearest_rank() {
        // Worked by hand: 10 samples, p95 → rank ⌈9.5⌉ = 10 → the largest.
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 95.0), 10.0);
        // p50 of 10 → rank 5 → 5.
        let mut v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), 5.0);
        // p20 of 3 values → rank ⌈0.6⌉ = 1 → the smallest.
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 20.0), 1.0);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
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
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn weekly_slots() {
        let s = ProfileSettings {
            period: Seconds(7.0 * 86400.0),
            slot: Seconds(3600.0),
            percentile: 95.0,
        };
        // 2026-03-02 is a Monday: 08:00 UTC is slot 8.
        assert_eq!(slot_of(1_772_438_400, &s, 0), 8);
        // With the zone at +01:00 the same instant is 09:00 local.
        assert_eq!(slot_of(1_772_438_400, &s, 60), 9);
        // Sunday 23:00 is the last slot.
        assert_eq!(slot_of(1_772_438_400 - 9 * 3600, &s, 0), 167);
    }
}
