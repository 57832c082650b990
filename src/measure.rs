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
//! Files are read and folded on two threads, in chunks. Each file is
//! streamed through [`FileSource::open`] line by line, so its text is never
//! held whole; its rows are kept per server as one timestamp, five values
//! and a span (60 bytes a row) until the file is read and its times
//! checked. A server's rows are folded into its profile as soon as its own
//! file is read; rows of files from a top-level glob wait until every file
//! is read (a server may have rows in several). Exact nearest-rank
//! percentiles need every value, so memory grows with the rows of the
//! largest pooled set, not with the text. File texts are added to the
//! source map only when a diagnostic points into them, and only up to the
//! line after the last one pointed at. Results do not depend on timing:
//! they are put back in job order.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::import::{self, Context, Imported, MAX_ROW_DIAGS, NotText, PENDING, Series};
use crate::model::{Id, Model, ProfileSettings, Server};
use crate::source::{FileId, FileSource, SourceMap, Span, glob_match};
use crate::zone::Zone;

/// The resources a workload profile tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
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
    /// Rows rejected for servers left without any usable row.
    pub rejected_only: BTreeMap<Id, usize>,
}

/// One file to read.
struct Job {
    path: String,
    format: Option<import::Format>,
    /// Where the file is named in the KDL, for read errors.
    named_at: Span,
    owner: Option<Id>,
}

/// What reading one file gives back.
enum Outcome {
    /// The file could not be read, or is not text.
    Failed(Diagnostic),
    Read {
        /// Rows and diagnostics, with spans in the job's [`placeholder`].
        imported: Imported,
        /// The owner's profile, folded on the worker thread.
        folded: Option<Measured>,
    },
}

/// Files read at once; bounds the raw rows held in memory.
const CHUNK: usize = 64;
/// Reader threads.
const THREADS: usize = 2;
/// Bytes read from a file at a time.
const BUFFER: usize = 1 << 16;

/// The file id that stands for job `j`'s file until every diagnostic of the
/// run is known; only then are files added to the source map, each up to
/// the last line a diagnostic points into.
fn placeholder(j: usize) -> FileId {
    FileId(PENDING.0 - 1 - j as u32)
}

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
    let settings = &model.project.profile;
    let zone = &model.project.zone;

    // Project-level globs first: their rows may belong to any server. A file
    // two globs match is read once.
    let mut jobs = Vec::new();
    let listing = if model.metrics.is_empty() {
        Vec::new()
    } else {
        fs.list()
    };
    for glob in &model.metrics {
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
            if jobs.iter().any(|j: &Job| &j.path == path) {
                continue;
            }
            jobs.push(Job {
                path: path.clone(),
                format: glob.format,
                named_at: glob.span,
                owner: None,
            });
        }
    }
    let globs = jobs.len();
    // Then each server's own file, folded at once unless globs also had rows for it.
    jobs.extend(model.servers.iter().enumerate().filter_map(|(id, s)| {
        let m = s.metrics.as_ref()?;
        Some(Job {
            path: m.path.clone(),
            format: m.format,
            named_at: m.span,
            owner: Some(id),
        })
    }));
    let mut pending: Vec<Diagnostic> = Vec::new();
    let mut pooled: Pooled = BTreeMap::new();
    let mut out = Measurements::default();
    for (from, to) in [(0, globs), (globs, jobs.len())] {
        let mut start = from;
        while start < to {
            let end = (start + CHUNK).min(to);
            let outcomes = run(start, &jobs[start..end], model, &names, fs, &pooled);
            for (k, outcome) in outcomes.into_iter().enumerate() {
                let j = start + k;
                if let Some(imported) =
                    settle(j, &jobs[j], outcome, &mut pending, &mut out.by_server)
                {
                    for (id, series) in imported.series {
                        pooled.entry(id).or_default().push((j, series));
                    }
                }
            }
            start = end;
        }
    }
    for (id, parts) in pooled {
        if out.by_server.contains_key(&id) {
            continue;
        }
        let series = merge_sources(id, parts, model, &jobs, &mut pending);
        if series.times.is_empty() {
            if series.rejected > 0 {
                out.rejected_only.insert(id, series.rejected);
            }
            continue;
        }
        out.by_server.insert(id, fold(id, series, settings, zone));
    }
    attach_files(pending, &jobs, fs, sources, diags);
    out
}

/// Adds the files that diagnostics point into to the source map, each read
/// again up to the end of the last line pointed at, and moves the
/// diagnostics into the run's.
fn attach_files(
    mut pending: Vec<Diagnostic>,
    jobs: &[Job],
    fs: &dyn FileSource,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) {
    let job_of = |f: FileId| {
        let j = (PENDING.0 - 1).checked_sub(f.0)? as usize;
        (j < jobs.len()).then_some(j)
    };
    let mut upto: BTreeMap<usize, usize> = BTreeMap::new();
    for d in &pending {
        for span in d.span.iter().chain(d.related.iter().map(|r| &r.0)) {
            if let Some(j) = job_of(span.file) {
                let e = upto.entry(j).or_default();
                *e = (*e).max(span.end as usize);
            }
        }
    }
    let mut files: BTreeMap<usize, Option<FileId>> = BTreeMap::new();
    for (j, end) in upto {
        let text = prefix(fs, &jobs[j].path, end);
        files.insert(j, text.map(|t| sources.add(jobs[j].path.clone(), t)));
    }
    for d in &mut pending {
        let mut lost = false;
        for span in d
            .span
            .iter_mut()
            .chain(d.related.iter_mut().map(|r| &mut r.0))
        {
            if let Some(j) = job_of(span.file) {
                match files.get(&j).copied().flatten() {
                    Some(f) => span.file = f,
                    None => lost = true,
                }
            }
        }
        if lost {
            // The file changed or vanished since it was read: the message
            // still names it, but there is no text to point into.
            d.span = None;
            d.related.clear();
        }
    }
    for d in pending {
        diags.push(d);
    }
}

/// The text of a file from its start through the end of the line holding
/// byte `end` and the line after it (shown as context), or `None` if it
/// cannot be read as it was.
fn prefix(fs: &dyn FileSource, path: &str, end: usize) -> Option<String> {
    use std::io::{BufRead, Read};
    let stream = fs.open(path).ok()?;
    let mut input = std::io::BufReader::with_capacity(BUFFER, stream);
    let mut bytes = Vec::new();
    (&mut input).take(end as u64).read_to_end(&mut bytes).ok()?;
    if bytes.len() < end {
        return None;
    }
    if !bytes.ends_with(b"\n") {
        input.read_until(b'\n', &mut bytes).ok()?;
    }
    input.read_until(b'\n', &mut bytes).ok()?;
    String::from_utf8(bytes).ok()
}

/// Rows not folded yet, per server: each file's part, by job index.
type Pooled = BTreeMap<Id, Vec<(usize, Series)>>;

/// One server's rows from several files, in time order. A time that two
/// files both give is an error naming both (one per pair of files, with
/// the first such rows); the row of the file read first is used and the
/// other counted as rejected.
fn merge_sources(
    id: Id,
    parts: Vec<(usize, Series)>,
    model: &Model,
    jobs: &[Job],
    pending: &mut Vec<Diagnostic>,
) -> Series {
    let mut merged = Series::default();
    let mut rows: Vec<(i64, usize, usize)> = Vec::new();
    let mut job_of = Vec::new();
    for (part, (job, series)) in parts.into_iter().enumerate() {
        let base = merged.times.len();
        rows.extend(
            series
                .times
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, part, base + i)),
        );
        job_of.push(job);
        merged.append(series);
    }
    if job_of.len() < 2 {
        return merged;
    }
    rows.sort_unstable();
    // (first part, second part) → (times both give, first such rows).
    let mut clashes: BTreeMap<(usize, usize), (usize, usize, usize)> = BTreeMap::new();
    let mut keep: Vec<usize> = Vec::with_capacity(rows.len());
    let mut last: Option<(i64, usize, usize)> = None;
    for &(t, part, i) in &rows {
        match last {
            Some((lt, lpart, li)) if lt == t => {
                let c = clashes.entry((lpart, part)).or_insert((0, li, i));
                c.0 += 1;
                merged.rejected += 1;
            }
            _ => {
                keep.push(i);
                last = Some((t, part, i));
            }
        }
    }
    for ((a, b), (count, first, second)) in clashes {
        let (ja, jb) = (job_of[a], job_of[b]);
        pending.push(
            Diagnostic::error(
                "virtplan::metrics::two-sources",
                format!(
                    "`{}` is measured at the same {count} time(s) by `{}` and `{}`",
                    model.servers[id].name, jobs[ja].path, jobs[jb].path
                ),
            )
            .at(merged.spans[second], "this time again")
            .related(merged.spans[first], "first given here, used")
            .help("one server's rows come from one file: leave the server out of one of them"),
        );
    }
    merged.select(&keep);
    merged
}

/// Reads the jobs of one chunk on [`THREADS`] threads, results in job order.
/// `first` is the index of the chunk's first job.
fn run(
    first: usize,
    jobs: &[Job],
    model: &Model,
    names: &BTreeMap<&str, Id>,
    fs: &dyn FileSource,
    pooled: &Pooled,
) -> Vec<Outcome> {
    let work = |(k, job): (usize, &Job)| read_job(first + k, job, model, names, fs, pooled);
    if jobs.len() < 2 {
        return jobs.iter().enumerate().map(work).collect();
    }
    let per = jobs.len().div_ceil(THREADS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs.len())
            .step_by(per)
            .map(|from| {
                let part = &jobs[from..(from + per).min(jobs.len())];
                scope.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(k, job)| work((from + k, job)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for (h, from) in handles.into_iter().zip((0..jobs.len()).step_by(per)) {
            match h.join() {
                Ok(r) => all.extend(r),
                Err(_) => all.extend(
                    jobs[from..(from + per).min(jobs.len())]
                        .iter()
                        .enumerate()
                        .map(|(k, job)| work((from + k, job))),
                ),
            }
        }
        all
    })
}

fn read_job(
    j: usize,
    job: &Job,
    model: &Model,
    names: &BTreeMap<&str, Id>,
    fs: &dyn FileSource,
    pooled: &Pooled,
) -> Outcome {
    let cannot_read = |e: crate::source::ReadError| {
        Outcome::Failed(
            Diagnostic::error(e.code(), format!("cannot read `{}`: {e}", job.path))
                .at(job.named_at, "named here")
                .help(e.help()),
        )
    };
    let stream = match fs.open(&job.path) {
        Ok(s) => s,
        Err(e) => return cannot_read(e),
    };
    let mut input = std::io::BufReader::with_capacity(BUFFER, stream);
    let ctx = Context {
        owner: job.owner,
        names,
        model,
    };
    let mut imported = match import::read_stream(job.format, &mut input, &ctx) {
        Ok(i) => i,
        Err(NotText::Io(e)) => return cannot_read(crate::source::ReadError::Io(e)),
        Err(not_text) => {
            return Outcome::Failed(
                not_text_diag(&job.path, not_text).at(job.named_at, "this file is not CSV text"),
            );
        }
    };
    // Spans point into this job's file from here on.
    let here = placeholder(j);
    for d in &mut imported.diags {
        for span in d
            .span
            .iter_mut()
            .chain(d.related.iter_mut().map(|r| &mut r.0))
        {
            if span.file == PENDING {
                span.file = here;
            }
        }
    }
    for s in imported.series.values_mut() {
        for span in &mut s.spans {
            span.file = here;
        }
    }
    rejected_share(job, &mut imported, model);
    let mut folded = None;
    if let Some(id) = job.owner
        && !pooled.contains_key(&id)
        && let Some(series) = imported.series.remove(&id)
    {
        let rejected = series.rejected;
        if !series.times.is_empty() {
            folded = Some(fold(
                id,
                series,
                &model.project.profile,
                &model.project.zone,
            ));
        } else {
            imported.series.insert(
                id,
                Series {
                    rejected,
                    ..Series::default()
                },
            );
        }
    }
    Outcome::Read { imported, folded }
}

/// A server with more than `max-rejected` of its rows in one file rejected
/// is an error at the place that names the file.
fn rejected_share(job: &Job, imported: &mut Imported, model: &Model) {
    let max = model.project.profile.max_rejected.0;
    for (&id, s) in &imported.series {
        let total = s.times.len() + s.rejected;
        let share = s.rejected as f64 / total.max(1) as f64;
        if s.rejected == 0 || share <= max {
            continue;
        }
        imported.diags.push(
            Diagnostic::error(
                "virtplan::metrics::rejected",
                format!(
                    "`{}`: {} of {total} rows of `{}` were rejected ({:.1}%)",
                    job.path,
                    s.rejected,
                    model.servers[id].name,
                    share * 100.0
                ),
            )
            .at(job.named_at, "names the file")
            .help(format!(
                "fix the rows reported in the file; at most {:.0}% of a server's rows may be rejected (profile max-rejected)",
                max * 100.0
            )),
        );
    }
}

/// Why a measurement file is not text.
fn not_text_diag(path: &str, why: NotText) -> Diagnostic {
    let zip = why == NotText::Zip;
    let what = match why {
        NotText::Zip => "a ZIP archive (an .xlsx workbook?)".to_string(),
        NotText::NotUtf8(at) => format!("bytes that are not UTF-8 (from byte {at})"),
        NotText::Binary | NotText::Io(_) => "binary data".to_string(),
    };
    // The file's own text is not shown: it is not text.
    Diagnostic::error(
        "virtplan::metrics::csv",
        format!("`{path}` is not a text CSV file: it holds {what}"),
    )
    .help(if zip {
        "open it in the spreadsheet program and save it as CSV (UTF-8)"
    } else {
        "export the measurements as UTF-8 CSV"
    })
}

/// Moves a file's diagnostics into the run's pending ones and keeps what
/// was folded. Returns the rows still to be merged.
fn settle(
    j: usize,
    job: &Job,
    outcome: Outcome,
    pending: &mut Vec<Diagnostic>,
    folded_out: &mut BTreeMap<Id, Measured>,
) -> Option<Imported> {
    match outcome {
        Outcome::Failed(d) => {
            pending.push(d);
            None
        }
        Outcome::Read {
            mut imported,
            folded,
        } => {
            pending.append(&mut imported.diags);
            if imported.row_problems > MAX_ROW_DIAGS {
                pending.push(
                    Diagnostic::warning(
                        "virtplan::metrics::row",
                        format!(
                            "`{}`: {} more problem rows not shown",
                            job.path,
                            imported.row_problems - MAX_ROW_DIAGS
                        ),
                    )
                    .at(Span::new(placeholder(j), 0, 0), "in this file")
                    .help("fix the rows shown and run again to see the rest"),
                );
            }
            if let Some(mut m) = folded {
                if let Some(s) = imported.series.remove(&m.server) {
                    m.rejected += s.rejected;
                }
                folded_out.insert(m.server, m);
            }
            Some(imported)
        }
    }
}

/// The p-th percentile of `values` by nearest rank (reorders them).
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let rank = nearest_rank(p, values.len());
    let (_, v, _) = values.select_nth_unstable_by(rank - 1, f64::total_cmp);
    *v
}

/// The nearest rank ⌈p/100 × n⌉ (at least 1, at most n), in integer
/// arithmetic: `p` is read as the decimal it was written as (to 9 places),
/// so that p99.9 of 1,000 samples is rank 999 and p56 of 25 is rank 14,
/// where floating point gives one more.
pub fn nearest_rank(p: f64, n: usize) -> usize {
    const SCALE: u128 = 1_000_000_000;
    let p = (p.clamp(0.0, 100.0) * SCALE as f64).round() as u128;
    let rank = (p * n as u128).div_ceil(100 * SCALE);
    (rank as usize).clamp(1, n.max(1))
}

/// Unix seconds of Monday 1970-01-05 00:00 UTC: the anchor of weekly slots.
const MONDAY: i64 = 4 * 86400;

/// Index of the slot a timestamp falls in.
pub fn slot_of(ts: i64, settings: &ProfileSettings, zone: &Zone) -> usize {
    let local = zone.to_local(ts) - MONDAY;
    let period = settings.period.0 as i64;
    let slot = settings.slot.0 as i64;
    (local.rem_euclid(period) / slot) as usize
}

fn fold(id: Id, s: Series, settings: &ProfileSettings, zone: &Zone) -> Measured {
    let slots = settings.slots();
    let p = settings.percentile;
    // Samples grouped by slot once (a counting sort), so each resource
    // gathers its values slot by slot into one buffer without allocating
    // per slot.
    let slot_idx: Vec<u32> = s
        .times
        .iter()
        .map(|t| slot_of(*t, settings, zone) as u32)
        .collect();
    let mut starts = vec![0usize; slots + 1];
    for &k in &slot_idx {
        starts[k as usize + 1] += 1;
    }
    for k in 0..slots {
        starts[k + 1] += starts[k];
    }
    let mut order = vec![0usize; slot_idx.len()];
    let mut next = starts.clone();
    for (i, &k) in slot_idx.iter().enumerate() {
        order[next[k as usize]] = i;
        next[k as usize] += 1;
    }
    let mut covered = vec![false; slots];
    let mut profile: [Vec<f64>; 5] = Default::default();
    let mut overall = [0.0; 5];
    let mut peak = [0.0; 5];
    let mut buf: Vec<f64> = Vec::with_capacity(order.len());
    let mut bounds: Vec<usize> = Vec::with_capacity(slots + 1);
    for r in 0..5 {
        if !s.present[r] {
            profile[r] = vec![0.0; slots];
            continue;
        }
        let values = &s.values[r];
        buf.clear();
        bounds.clear();
        bounds.push(0);
        for k in 0..slots {
            buf.extend(
                order[starts[k]..starts[k + 1]]
                    .iter()
                    .map(|i| values[*i])
                    .filter(|v| !v.is_nan()),
            );
            bounds.push(buf.len());
        }
        peak[r] = buf.iter().copied().fold(0.0, f64::max);
        let mut all = buf.clone();
        overall[r] = percentile(&mut all, p);
        profile[r] = (0..slots)
            .map(|k| {
                let part = &mut buf[bounds[k]..bounds[k + 1]];
                if part.is_empty() {
                    overall[r]
                } else {
                    covered[k] = true;
                    percentile(part, p)
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

/// How much of the period a server's data covers, and for how long.
pub fn coverage(m: &Measured, settings: &ProfileSettings) -> (f64, f64) {
    let slots = settings.slots().max(1);
    let cover = m.covered_slots as f64 / slots as f64;
    // The last sample stands for its slot too: one week of hourly samples,
    // Monday 00:00 to Sunday 23:00, is a week of history.
    let history_days = ((m.last - m.first) as f64 + settings.slot.0) / 86400.0;
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
    fn nearest_rank_by_hand() {
        // Worked by hand: 10 samples, p95 → rank ⌈9.5⌉ = 10 → the largest.
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 95.0), 10.0);
        // p50 of 10 → rank 5 → 5.
        let mut v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), 5.0);
        // p20 of 3 values → rank ⌈0.6⌉ = 1 → the smallest.
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 20.0), 1.0);
        // Exact where floating point is not: 0.999 × 1000 = 999 and
        // 0.56 × 25 = 14 exactly, though (99.9 / 100) × 1000 and
        // (56 / 100) × 25 round above them in f64.
        assert_eq!(nearest_rank(99.9, 1000), 999);
        assert_eq!(nearest_rank(56.0, 25), 14);
        assert_eq!(nearest_rank(95.0, 20), 19);
        assert_eq!(nearest_rank(95.0, 21), 20);
        assert_eq!(nearest_rank(100.0, 7), 7);
        assert_eq!(nearest_rank(0.001, 7), 1);
        let mut v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 99.9), 999.0);
    }

    #[test]
    fn weekly_slots() {
        let s = ProfileSettings {
            period: Seconds(7.0 * 86400.0),
            slot: Seconds(3600.0),
            percentile: 95.0,
            max_rejected: crate::units::Fraction(0.5),
        };
        // 2026-03-02 is a Monday: 08:00 UTC is slot 8.
        let utc = Zone::Fixed(0);
        assert_eq!(slot_of(1_772_438_400, &s, &utc), 8);
        // With the zone at +01:00 the same instant is 09:00 local.
        assert_eq!(slot_of(1_772_438_400, &s, &Zone::Fixed(60)), 9);
        // Sunday 23:00 is the last slot.
        assert_eq!(slot_of(1_772_438_400 - 9 * 3600, &s, &utc), 167);
        // Europe/Berlin: 08:00 UTC is 09:00 CET on 2026-03-02, and 10:00
        // CEST a month later (Thursday 2026-04-02: 3 × 24 + 10 = 82).
        let berlin = Zone::parse("Europe/Berlin").expect("a zone");
        assert_eq!(slot_of(1_772_438_400, &s, &berlin), 9);
        assert_eq!(slot_of(1_772_438_400 + 31 * 86400, &s, &berlin), 82);
    }
}
