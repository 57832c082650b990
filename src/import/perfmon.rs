//! Reader for Windows Performance Monitor CSV, as written by `relog -f csv`
//! or by Performance Monitor's "save data as" CSV export.
//!
//! Format: comma-separated, every field double-quoted. The first header cell
//! names the format and the writer's time zone, such as
//! `"(PDH-CSV 4.0) (W. Europe Standard Time)(-60)"`; every other header cell
//! is a counter path `\\HOST\Object(Instance)\Counter`. Each row starts with
//! a local time `"03/02/2026 08:00:00.000"` (month/day/year), followed by
//! one value per counter; `" "` (a blank) is a sample relog could not take,
//! such as the first sample of a rate, and reads as missing.
//!
//! Conversions, per server and row:
//! - `Processor(_Total)\% Processor Time` (or `Processor Information(_Total)`)
//!   p → p / 100 × the server's reference GHz;
//! - `Memory\Available MBytes` (or `Available KBytes`, `Available Bytes`)
//!   → memory used in GiB = installed GiB − available GiB, at least 0;
//! - `PhysicalDisk(_Total)\Disk Transfers/sec` → IOPS;
//! - `PhysicalDisk(_Total)\Disk Bytes/sec` → MB/s = bytes / 1e6;
//! - `Network Interface(*)\Bytes Total/sec`, summed over the interfaces
//!   (loopback, isatap and teredo pseudo-interfaces left out, and a NIC
//!   team's "Microsoft Network Adapter Multiplexor Driver", whose traffic
//!   is its member NICs', counted once through them) → Mbit/s =
//!   bytes × 8 / 1e6. A missing sample of one interface makes the sum
//!   missing, so a row never under-counts.
//!
//! Any other counter is ignored, with one warning for them all. The project's
//! time zone interprets every local time, as it does for the other formats:
//! the header gives only the standard bias of the writer's zone, without its
//! daylight-saving rule. When that bias is not the project's offset, a
//! warning (`virtplan::metrics::time-zone`) says so.
//!
//! A file re-saved by a spreadsheet in a locale such as German is read too:
//! `;` separates the fields (found from the header), a comma is the decimal
//! mark with dots grouping thousands, and times read `DD.MM.YYYY HH:MM[:SS]`.
//! A value that could be either (`1.234`) is refused with its row.
//!
//! The host in each counter path names the server when the file comes from
//! a project-level glob; when the file belongs to one server, every counter
//! of it is that server's whatever host it names.

use std::collections::BTreeMap;

use super::{
    Context, Imported, Lines, LocalClock, civil_to_unix, digits, local, report_unknown_servers,
};
use crate::diag::Diagnostic;
use crate::model::Id;
use crate::source::Span;
use crate::zone::offset_text;

/// Network interfaces whose traffic is not on the wire, or is on it
/// already: loopback and tunnel pseudo-interfaces, and a NIC team's
/// multiplexor (its members count the traffic). Matched as parts of the
/// lower-case instance name.
pub const PSEUDO_INTERFACES: [&str; 4] = ["loopback", "isatap", "teredo", "multiplexor driver"];

/// Reads one perfmon CSV file.
pub fn read(text: &str, ctx: &Context) -> Imported {
    let mut out = Imported::default();
    let mut lines = Lines::new(text).filter(|(_, l)| !l.trim().is_empty());
    let Some((hstart, header)) = lines.next() else {
        out.report(
            Diagnostic::error("virtplan::metrics::csv", "the measurement file is empty")
                .at(local(0, 0), "empty file")
                .help("export the counters with `relog LOG.blg -f csv -o FILE.csv`"),
        );
        return out;
    };
    let (bom, header) = match header.strip_prefix('\u{feff}') {
        Some(rest) => ('\u{feff}'.len_utf8(), rest),
        None => (0, header),
    };
    let hstart = hstart + bom;
    let sep = separator(header);
    let cells = split_fields(header, sep);
    // The writer's zone, checked at the first row's time.
    let mut zone_cell = cells.first().map(|first| {
        (
            first.text.clone(),
            local(hstart + first.start, hstart + first.end),
        )
    });
    let mut unknown: BTreeMap<String, Span> = BTreeMap::new();
    let columns = Columns::from_header(&cells, hstart, ctx, &mut out, &mut unknown);
    if columns.used.is_empty() {
        // Unknown hosts and paths without a host have been reported already.
        let explained =
            !unknown.is_empty() || out.diags.iter().any(|d| d.code == "virtplan::metrics::csv");
        if !explained {
            let is_pdh = cells
                .first()
                .is_some_and(|c| c.text.starts_with("(PDH-CSV"));
            out.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    if is_pdh {
                        "the perfmon file has no counter virtplan uses"
                    } else {
                        "the file is not a perfmon CSV file"
                    },
                )
                .at(local(hstart, hstart + header.len()), "header row")
                .help(HELP_COUNTERS),
            );
        }
        report_unknown_servers(&mut out, unknown, ctx);
        return out;
    }
    let servers: Vec<Id> = columns.servers();
    let mut clock = LocalClock::new(ctx.model.project.zone);
    for (start, line) in lines {
        let span = local(start, start + line.len());
        let fields = split_fields(line, sep);
        if fields.len() != cells.len() {
            reject(
                &mut out,
                &servers,
                Diagnostic::error(
                    "virtplan::metrics::row",
                    format!(
                        "row has {} fields, the header has {}",
                        fields.len(),
                        cells.len()
                    ),
                )
                .at(span, "malformed row")
                .help("every row has one value per header column, separated as the header is"),
            );
            continue;
        }
        let stamp = fields.first().map_or("", |f| f.text.as_str());
        let Some(ts) = parse_local_time(stamp) else {
            reject(
                &mut out,
                &servers,
                Diagnostic::error(
                    "virtplan::metrics::row",
                    format!("`{stamp}` is not a timestamp"),
                )
                .at(span, "bad timestamp")
                .help("perfmon rows start with the local time as MM/DD/YYYY HH:MM:SS.fff (DD.MM.YYYY HH:MM:SS once re-saved by a German Excel)"),
            );
            continue;
        };
        if let Some((cell, at)) = zone_cell.take() {
            check_zone(&cell, at, ts, ctx, &mut out);
        }
        let Some(ts) = clock.utc(ts) else {
            reject(
                &mut out,
                &servers,
                Diagnostic::error("virtplan::metrics::row", clock.skipped(stamp))
                    .at(span, "no such local time")
                    .help("perfmon writes local times; a row in the hour the clocks skip was written by a machine in another zone: check the project's `timezone`"),
            );
            continue;
        };
        for &id in &servers {
            match columns.row(id, &fields, &cells, sep, ctx) {
                Ok(row) if row.iter().all(|v| v.is_nan()) => {}
                Ok(row) => out.row(id, ts, row, span),
                Err(reason) => out.row_problem(
                    Some(id),
                    Diagnostic::error("virtplan::metrics::row", reason)
                        .at(span, "rejected row")
                        .help("counter values are non-negative numbers; percentages are 0 to 100"),
                ),
            }
        }
    }
    report_unknown_servers(&mut out, unknown, ctx);
    out
}

const HELP_COUNTERS: &str = "virtplan reads \\Processor(_Total)\\% Processor Time, \
\\Memory\\Available MBytes, \\PhysicalDisk(_Total)\\Disk Transfers/sec, \
\\PhysicalDisk(_Total)\\Disk Bytes/sec and \\Network Interface(*)\\Bytes Total/sec";

/// A counter virtplan converts into one of its five resources.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Counter {
    /// `% Processor Time` of all processors.
    CpuPct,
    /// Available memory, in this many bytes per unit of the counter.
    MemAvailable(f64),
    /// `Disk Transfers/sec` of all disks.
    Iops,
    /// `Disk Bytes/sec` of all disks.
    DiskBytes,
    /// `Bytes Total/sec` of one network interface.
    NetBytes,
}

impl Counter {
    /// The index of the resource in a row.
    fn resource(self) -> usize {
        match self {
            Counter::CpuPct => 0,
            Counter::MemAvailable(_) => 1,
            Counter::Iops => 2,
            Counter::DiskBytes => 3,
            Counter::NetBytes => 4,
        }
    }
}

/// One field of a line: its text without quotes and its byte range.
#[derive(Debug, Clone)]
struct Field {
    text: String,
    start: usize,
    end: usize,
}

/// Splits a comma-separated line into fields, honouring double quotes
/// (`""` inside a quoted field is one quote), with each field's byte range.
fn split_fields(line: &str, sep: char) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut text = String::new();
    let mut start = 0;
    let mut quoted = false;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' if quoted && chars.peek().map(|&(_, n)| n) == Some('"') => {
                text.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                fields.push(Field {
                    text: std::mem::take(&mut text),
                    start,
                    end: i,
                });
                start = i + 1;
            }
            c => text.push(c),
        }
    }
    fields.push(Field {
        text,
        start,
        end: line.len(),
    });
    fields
}

/// The parts of a counter path `\\HOST\Object(Instance)\Counter`.
#[derive(Debug, PartialEq)]
struct CounterPath<'a> {
    host: Option<&'a str>,
    object: &'a str,
    instance: Option<&'a str>,
    counter: &'a str,
}

/// Splits a counter path; the host is absent in paths logged without one
/// (`\Object\Counter`). Instance names may hold parentheses, so the
/// instance runs from the first `(` to the last `)` of the object part.
fn parse_path(path: &str) -> Option<CounterPath<'_>> {
    let (host, rest) = match path.strip_prefix("\\\\") {
        Some(rest) => {
            let (host, rest) = rest.split_once('\\')?;
            (Some(host), rest)
        }
        None => (None, path.strip_prefix('\\')?),
    };
    let (object_part, counter) = rest.rsplit_once('\\')?;
    let (object, instance) = match object_part.split_once('(') {
        Some((object, tail)) => (object, Some(tail.strip_suffix(')')?)),
        None => (object_part, None),
    };
    if object.is_empty() || counter.is_empty() {
        return None;
    }
    Some(CounterPath {
        host,
        object,
        instance,
        counter,
    })
}

/// What a counter path is to virtplan.
enum Use {
    Counter(Counter),
    /// A network interface that is not a physical one (or a NIC team's,
    /// counted through its members), left out as documented.
    PseudoInterface,
    NotUsed,
}

/// Classifies a counter path by object, instance and counter name
/// (perfmon writes these names in English in relog output; case is
/// ignored).
fn classify(p: &CounterPath) -> Use {
    let object = p.object.to_ascii_lowercase();
    let counter = p.counter.to_ascii_lowercase();
    let instance = p.instance.map(str::to_ascii_lowercase);
    let total = instance.as_deref() == Some("_total");
    match (object.as_str(), counter.as_str()) {
        ("processor" | "processor information", "% processor time") if total => {
            Use::Counter(Counter::CpuPct)
        }
        ("memory", "available mbytes") => Use::Counter(Counter::MemAvailable(1024.0 * 1024.0)),
        ("memory", "available kbytes") => Use::Counter(Counter::MemAvailable(1024.0)),
        ("memory", "available bytes") => Use::Counter(Counter::MemAvailable(1.0)),
        ("physicaldisk", "disk transfers/sec") if total => Use::Counter(Counter::Iops),
        ("physicaldisk", "disk bytes/sec") if total => Use::Counter(Counter::DiskBytes),
        ("network interface", "bytes total/sec") => {
            let name = instance.unwrap_or_default();
            if PSEUDO_INTERFACES.iter().any(|n| name.contains(n)) {
                Use::PseudoInterface
            } else {
                Use::Counter(Counter::NetBytes)
            }
        }
        _ => Use::NotUsed,
    }
}

/// A header column in use: where it is, whose it is, what it measures.
#[derive(Debug, Clone, Copy)]
struct Used {
    index: usize,
    server: Id,
    counter: Counter,
}

/// The columns of a file that virtplan uses.
struct Columns {
    used: Vec<Used>,
}

impl Columns {
    /// Reads the header cells: warns about counters not used, about a
    /// counter given twice for one server, and collects unknown hosts.
    fn from_header(
        cells: &[Field],
        hstart: usize,
        ctx: &Context,
        out: &mut Imported,
        unknown: &mut BTreeMap<String, Span>,
    ) -> Columns {
        let mut used: Vec<Used> = Vec::new();
        let mut no_host: Option<Span> = None;
        // Counters virtplan does not use: one warning for them all, at the
        // first (a perfmon log often holds dozens).
        let mut unused: Vec<(&str, Span)> = Vec::new();
        for (index, cell) in cells.iter().enumerate().skip(1) {
            let span = local(hstart + cell.start, hstart + cell.end);
            let name = cell.text.trim();
            let not_used = |message: String| {
                Diagnostic::warning("virtplan::metrics::unknown-column", message)
                    .at(span, "ignored")
                    .help(HELP_COUNTERS)
            };
            let Some(path) = parse_path(name) else {
                out.report(not_used(format!("column `{name}` is not a counter path")));
                continue;
            };
            let counter = match classify(&path) {
                Use::Counter(c) => c,
                Use::PseudoInterface => continue,
                Use::NotUsed => {
                    unused.push((name, span));
                    continue;
                }
            };
            let server = match (ctx.owner, path.host) {
                (Some(id), _) => id,
                (None, Some(host)) => match ctx.server(host) {
                    Some(id) => id,
                    None => {
                        unknown.entry(host.to_string()).or_insert(span);
                        continue;
                    }
                },
                (None, None) => {
                    no_host.get_or_insert(span);
                    continue;
                }
            };
            // Interfaces add up; any other counter counts once per server.
            let twice = counter != Counter::NetBytes
                && used
                    .iter()
                    .any(|u| u.server == server && u.counter.resource() == counter.resource());
            if twice {
                out.report(
                    Diagnostic::warning(
                        "virtplan::metrics::unknown-column",
                        format!("counter `{name}` measures what an earlier column does"),
                    )
                    .at(span, "ignored")
                    .help("the first of the columns is used; drop the others from the export"),
                );
                continue;
            }
            used.push(Used {
                index,
                server,
                counter,
            });
        }
        if let Some((first, span)) = unused.first() {
            let message = match unused.len() {
                1 => format!("counter `{first}` is not used"),
                n => format!(
                    "{n} counters are not used: `{first}`{}",
                    if n > 2 {
                        format!(", `{}` and {} more", unused[1].0, n - 2)
                    } else {
                        format!(" and `{}`", unused[1].0)
                    }
                ),
            };
            out.report(
                Diagnostic::warning("virtplan::metrics::unknown-column", message)
                    .at(*span, "the first ignored")
                    .help(HELP_COUNTERS),
            );
        }
        if let Some(span) = no_host {
            out.report(
                Diagnostic::error(
                    "virtplan::metrics::csv",
                    "counter paths name no computer, so their server is unknown",
                )
                .at(span, "first such column")
                .help("give the file to its server's own `metrics`, or log with the computer name (\\\\HOST\\...)"),
            );
        }
        Columns { used }
    }

    /// The servers the used columns belong to, in id order.
    fn servers(&self) -> Vec<Id> {
        let mut ids: Vec<Id> = self.used.iter().map(|u| u.server).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// One server's row of a data line, or why the line is rejected for it.
    fn row(
        &self,
        id: Id,
        fields: &[Field],
        cells: &[Field],
        sep: char,
        ctx: &Context,
    ) -> Result<[f64; 5], String> {
        let Some(server) = ctx.model.servers.get(id) else {
            return Ok([f64::NAN; 5]);
        };
        let mut row = [f64::NAN; 5];
        // Whether some interface's sample is missing, which makes the sum
        // of the interfaces missing.
        let mut net_missing = false;
        let mut net_sum = 0.0;
        let mut net_any = false;
        for u in self.used.iter().filter(|u| u.server == id) {
            let raw = fields.get(u.index).map_or("", |f| f.text.trim());
            let column = cells.get(u.index).map_or("", |c| c.text.trim());
            let Some(v) = value(raw, column, sep)? else {
                net_missing |= u.counter == Counter::NetBytes;
                continue;
            };
            match u.counter {
                Counter::CpuPct if v > 100.0 => {
                    return Err(format!("`{raw}` in counter `{column}` is over 100 percent"));
                }
                Counter::CpuPct => row[0] = v / 100.0 * server.cpu_ghz(),
                Counter::MemAvailable(unit) => {
                    let available_gib = v * unit / (1024.0 * 1024.0 * 1024.0);
                    row[1] = (server.memory.gib() - available_gib).max(0.0);
                }
                Counter::Iops => row[2] = v,
                Counter::DiskBytes => row[3] = v / 1e6,
                Counter::NetBytes => {
                    net_sum += v;
                    net_any = true;
                }
            }
        }
        if net_any && !net_missing {
            row[4] = net_sum * 8.0 / 1e6;
        }
        Ok(row)
    }
}

/// A counter value: `None` for a blank (a sample relog did not take), or
/// why it is not a measurement. In a `;`-separated file (a perfmon CSV
/// re-saved by a spreadsheet in a locale such as German) a comma is the
/// decimal mark and dots before it group thousands (`1.234,5`); a value
/// with dots and no comma that could be either (`1.234`) is refused.
fn value(raw: &str, column: &str, sep: char) -> Result<Option<f64>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    let what = format!("counter `{column}`");
    if sep == ';' && raw.contains('.') {
        let (int, frac) = raw.split_once(',').unwrap_or((raw, ""));
        let grouped = crate::units::digit_groups(int, '.');
        if raw.contains(',') {
            let Some(digits) = grouped else {
                return Err(format!("`{raw}` in {what} is not a number"));
            };
            return super::measured_value(&format!("{digits}.{frac}"), &what).map(Some);
        }
        if grouped.is_some() {
            return Err(format!(
                "`{raw}` in {what} could be {} with a decimal point or {} with a thousands separator",
                raw,
                raw.replace('.', "")
            ));
        }
    }
    super::measured_value(raw, &what).map(Some)
}

/// The field separator of a perfmon file, from its header: `;` when a
/// spreadsheet re-saved it so (more `;` than `,` outside quotes), else `,`.
fn separator(header: &str) -> char {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { ';' } else { ',' }
}

/// The writer's time zone in the header's first cell, `(PDH-CSV 4.0) (W.
/// Europe Standard Time)(-60)`: its name and Windows bias in minutes
/// (UTC = local + bias). A warning when the bias is not the standard
/// offset of the project's zone (at `at`, the file's first local time): the
/// times are read in the project's zone, daylight saving included, since
/// the header gives no daylight-saving rule to read them in the writer's.
fn check_zone(cell: &str, span: Span, at: i64, ctx: &Context, out: &mut Imported) {
    let Some((zone, bias)) = zone_of(cell) else {
        return;
    };
    let writer = -bias;
    let project_zone = ctx.model.project.zone;
    let project = project_zone.standard_offset_minutes(at);
    if writer == project {
        return;
    }
    let named = match project_zone {
        crate::zone::Zone::Fixed(_) => format!("UTC{}", offset_text(project)),
        crate::zone::Zone::Iana(_) => format!(
            "{} (UTC{} in standard time)",
            project_zone.name(),
            offset_text(project)
        ),
    };
    out.report(
        Diagnostic::warning(
            "virtplan::metrics::time-zone",
            format!(
                "the file was written in `{zone}` (UTC{} in standard time), but the project's time zone is {named}: its times are read as the project's",
                offset_text(writer),
            ),
        )
        .at(span, "the writer's zone")
        .help(format!(
            "if the logging machine ran in that zone, set the project's `timezone` to it (an IANA name such as \"Europe/Berlin\" keeps its daylight saving), or log the counters on a machine in the project's zone; UTC{} is its standard offset",
            offset_text(writer)
        )),
    );
}

/// `(W. Europe Standard Time)(-60)` at the end of the first header cell.
fn zone_of(cell: &str) -> Option<(&str, i32)> {
    let rest = cell.trim().strip_suffix(')')?;
    let (rest, bias) = rest.rsplit_once('(')?;
    let bias: i32 = bias.trim().parse().ok()?;
    let zone = rest.trim_end().strip_suffix(')')?;
    let (_, zone) = zone.rsplit_once('(')?;
    (bias.abs() <= 14 * 60).then_some((zone, bias))
}

/// Counts a row problem once, for the first server of the file, and
/// rejects the row for the other servers too.
fn reject(out: &mut Imported, servers: &[Id], d: Diagnostic) {
    out.row_problem(servers.first().copied(), d);
    for &id in servers.iter().skip(1) {
        out.series.entry(id).or_default().rejected += 1;
    }
}

/// Parses perfmon's local time `MM/DD/YYYY HH:MM:SS.fff` (the fraction is
/// optional) into seconds since the epoch as if the time were UTC. A file
/// re-saved by a German spreadsheet has `DD.MM.YYYY HH:MM[:SS[,fff]]`: the
/// dots say the day comes first.
fn parse_local_time(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once(' ')?;
    if date.contains('.') {
        return parse_dotted_time(date, time.trim());
    }
    let number = |part: &str| {
        if part.len() <= 4 {
            digits(part, 0..part.len())
        } else {
            None
        }
    };
    let mut d = date.split('/');
    let (mo, day, y) = (number(d.next()?)?, number(d.next()?)?, number(d.next()?)?);
    let time = time.trim();
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    digits(fraction, 0..fraction.len())?;
    let mut t = hms.split(':');
    let (h, mi, se) = (number(t.next()?)?, number(t.next()?)?, number(t.next()?)?);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    civil_to_unix(y, mo, day, h, mi, se)
}

/// `DD.MM.YYYY` and `HH:MM[:SS[,fff]]`.
fn parse_dotted_time(date: &str, time: &str) -> Option<i64> {
    let number = |part: &str| {
        if !part.is_empty() && part.len() <= 4 {
            digits(part, 0..part.len())
        } else {
            None
        }
    };
    let mut d = date.split('.');
    let (day, mo, y) = (number(d.next()?)?, number(d.next()?)?, number(d.next()?)?);
    let (hms, fraction) = time.split_once([',', '.']).unwrap_or((time, "0"));
    digits(fraction, 0..fraction.len())?;
    let mut t = hms.split(':');
    let (h, mi) = (number(t.next()?)?, number(t.next()?)?);
    let se = match t.next() {
        Some(s) => number(s)?,
        None => 0,
    };
    if d.next().is_some() || t.next().is_some() || y < 1000 {
        return None;
    }
    civil_to_unix(y, mo, day, h, mi, se)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    use crate::import::testing::{T0, close, codes, id, model};

    fn read_as(m: &Model, owner: Option<&str>, text: &str) -> Imported {
        crate::import::testing::read_with(m, owner, text, read)
    }

    const HEADER: &str = r#""(PDH-CSV 4.0) (Coordinated Universal Time)(0)","\\WEB01\Processor(_Total)\% Processor Time","\\WEB01\Memory\Available MBytes","\\WEB01\PhysicalDisk(_Total)\Disk Transfers/sec","\\WEB01\PhysicalDisk(_Total)\Disk Bytes/sec","\\WEB01\Network Interface(Intel[R] Ethernet 10G)\Bytes Total/sec","\\WEB01\Network Interface(Intel[R] Ethernet 10G _2)\Bytes Total/sec""#;

    #[test]
    fn one_server_converts_every_counter() {
        let m = model("UTC");
        let text = format!(
            "{HEADER}\r\n\
             \"03/02/2026 08:00:00.000\",\"40\",\"4096\",\"150\",\"2500000\",\"1000000\",\"250000\"\r\n\
             \"03/02/2026 08:01:00.000\",\"100\",\"0\",\"0\",\"0\",\"0\",\"0\"\r\n\
             \"03/02/2026 08:02:00.000\",\"12.5\",\"20000\",\"3.5\",\"1000000\",\"125000\",\"0\"\r\n"
        );
        let got = read_as(&m, Some("web01"), &text);
        assert!(got.diags.is_empty(), "{:?}", got.diags);
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.times, vec![T0, T0 + 60, T0 + 120]);
        // CPU: 40% of 20 GHz = 8; 100% = 20; 12.5% = 2.5.
        assert!(close(&s.values[0], &[8.0, 20.0, 2.5]));
        // Memory: 16 GiB − 4096 MB/1024 = 12; 16 − 0 = 16; 20000 MB
        // available is more than installed, so used is clamped to 0.
        assert!(close(&s.values[1], &[12.0, 16.0, 0.0]));
        // IOPS as written.
        assert!(close(&s.values[2], &[150.0, 0.0, 3.5]));
        // Disk: 2 500 000 B/s = 2.5 MB/s; 1 000 000 B/s = 1 MB/s.
        assert!(close(&s.values[3], &[2.5, 0.0, 1.0]));
        // Network: (1 000 000 + 250 000) B/s × 8 = 10 Mbit/s;
        // (125 000 + 0) × 8 = 1 Mbit/s.
        assert!(close(&s.values[4], &[10.0, 0.0, 1.0]));
        assert_eq!(s.present, [true; 5]);
    }

    /// A log written in Europe/Berlin across both clock changes of 2026,
    /// every 30 minutes from 01:00 local. In October 02:00 and 02:30 come
    /// twice: first in summer time, then in winter time, one hour of UTC
    /// apart, so the times rise by 30 minutes throughout. In March 02:30
    /// does not exist: that row is rejected, and 03:00 is 30 minutes of
    /// UTC after 01:30.
    #[test]
    fn local_times_follow_daylight_saving() {
        let m = model("Europe/Berlin");
        let header = HEADER.replace(
            "(Coordinated Universal Time)(0)",
            "(W. Europe Standard Time)(-60)",
        );
        let row = |stamp: &str| format!("\"{stamp}\",\"10\",\"4096\",\"1\",\"1\",\"1\",\"1\"\r\n");
        // 2026-10-25 00:00 UTC = 02:00 CEST.
        let autumn: i64 = 1_792_886_400;
        let mut text = format!("{header}\r\n");
        for stamp in [
            "01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00",
        ] {
            text.push_str(&row(&format!("10/25/2026 {stamp}:00.000")));
        }
        let got = read_as(&m, Some("web01"), &text);
        assert!(got.diags.is_empty(), "{:?}", got.diags);
        let times = &got.series[&id(&m, "web01")].times;
        let want: Vec<i64> = (-2..5).map(|k| autumn + k * 1800).collect();
        assert_eq!(times, &want);

        // 2026-03-29 01:00 UTC = 03:00 CEST.
        let spring: i64 = 1_774_746_000;
        let mut text = format!("{header}\r\n");
        for stamp in ["01:30", "02:30", "03:00"] {
            text.push_str(&row(&format!("03/29/2026 {stamp}:00.000")));
        }
        let got = read_as(&m, Some("web01"), &text);
        assert_eq!(codes(&got), ["virtplan::metrics::row"]);
        assert!(
            got.diags[0]
                .message
                .contains("does not exist in Europe/Berlin")
        );
        let times = &got.series[&id(&m, "web01")].times;
        assert_eq!(times, &vec![spring - 1800, spring]);
    }

    #[test]
    fn blanks_are_missing_samples() {
        let m = model("UTC");
        // The first row is relog's usual one: rates need two samples, so
        // only the memory gauge has a value. The second misses one of the
        // two interfaces, so its network sum is missing too. The third is
        // blank throughout and is no sample at all.
        let text = format!(
            "{HEADER}\n\
             \"03/02/2026 08:00:00.000\",\" \",\"8192\",\" \",\" \",\" \",\" \"\n\
             \"03/02/2026 08:01:00.000\",\"50\",\"8192\",\"10\",\" \",\"1000\",\" \"\n\
             \"03/02/2026 08:02:00.000\",\" \",\" \",\" \",\" \",\" \",\" \"\n"
        );
        let got = read_as(&m, Some("web01"), &text);
        assert!(got.diags.is_empty(), "{:?}", got.diags);
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.times, vec![T0, T0 + 60]);
        let nan = f64::NAN;
        // 50% of 20 GHz = 10; 16 − 8192/1024 = 8 GiB.
        assert!(close(&s.values[0], &[nan, 10.0]));
        assert!(close(&s.values[1], &[8.0, 8.0]));
        assert!(close(&s.values[2], &[nan, 10.0]));
        assert!(close(&s.values[3], &[nan, nan]));
        assert!(close(&s.values[4], &[nan, nan]));
        assert_eq!(s.present, [true, true, true, false, false]);
    }

    #[test]
    fn glob_file_names_its_servers_by_host() {
        let m = model("UTC");
        // WEB01 and DB01 are upper case as Windows writes them; APP09 is
        // not in the inventory. The per-processor column is not used.
        let text = "\"(PDH-CSV 4.0) (UTC)(0)\",\
\"\\\\WEB01\\Processor(_Total)\\% Processor Time\",\
\"\\\\DB01.corp.example\\Processor(_Total)\\% Processor Time\",\
\"\\\\DB01.corp.example\\Memory\\Available MBytes\",\
\"\\\\APP09\\Processor(_Total)\\% Processor Time\",\
\"\\\\WEB01\\Processor(0)\\% Processor Time\"\n\
\"03/02/2026 08:00:00.000\",\"10\",\"50\",\"16384\",\"70\",\"10\"\n\
\"03/02/2026 09:00:00.000\",\"20\",\"25\",\"30720\",\"70\",\"20\"\n";
        let got = read_as(&m, None, text);
        assert_eq!(
            codes(&got),
            vec![
                "virtplan::metrics::unknown-column",
                "virtplan::metrics::unknown-server"
            ]
        );
        assert!(got.diags[1].message.contains("APP09"));
        let web = &got.series[&id(&m, "web01")];
        // 10% and 20% of 20 GHz.
        assert!(close(&web.values[0], &[2.0, 4.0]));
        let db = &got.series[&id(&m, "db01")];
        // 50% and 25% of 8 GHz; 32 GiB − 16 GiB and 32 − 30 GiB used.
        assert!(close(&db.values[0], &[4.0, 2.0]));
        assert!(close(&db.values[1], &[16.0, 2.0]));
        assert_eq!(db.times, vec![T0, T0 + 3600]);
    }

    #[test]
    fn owner_takes_every_host_of_the_file() {
        let m = model("UTC");
        // The file was logged on a machine named OLDNAME; it is db01's.
        let text = "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\OLDNAME\\Processor(_Total)\\% Processor Time\"\n\
\"03/02/2026 08:00:00.000\",\"25\"\n";
        let got = read_as(&m, Some("db01"), text);
        assert!(got.diags.is_empty(), "{:?}", got.diags);
        // 25% of 8 GHz = 2 GHz.
        assert!(close(&got.series[&id(&m, "db01")].values[0], &[2.0]));
    }

    #[test]
    fn bad_rows_are_rejected_and_the_rest_kept() {
        let m = model("UTC");
        let text = "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\WEB01\\Processor(_Total)\\% Processor Time\",\"\\\\WEB01\\Memory\\Available MBytes\"\n\
\"03/02/2026 08:00:00.000\",\"10\",\"1024\"\n\
\"03/02/2026 08:01:00.000\",\"10\"\n\
\"03/02/2026 08:02:00.000\",\"abc\",\"1024\"\n\
\"03/02/2026 08:03:00.000\",\"101\",\"1024\"\n\
\"03/02/2026 08:04:00.000\",\"10\",\"-5\"\n\
\"2026-03-02 08:05\",\"10\",\"1024\"\n\
\"03/02/2026 08:06:00.000\",\"30\",\"1024\"\n";
        let got = read_as(&m, Some("web01"), text);
        assert_eq!(codes(&got), vec!["virtplan::metrics::row"; 5]);
        assert!(
            got.diags[0]
                .message
                .contains("row has 2 fields, the header has 3")
        );
        assert!(
            got.diags
                .iter()
                .all(|d| d.span.is_some() && !d.help.is_empty())
        );
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.times, vec![T0, T0 + 360]);
        assert_eq!(s.rejected, 5);
        // 10% and 30% of 20 GHz; 16 − 1 GiB used.
        assert!(close(&s.values[0], &[2.0, 6.0]));
        assert!(close(&s.values[1], &[15.0, 15.0]));
    }

    #[test]
    fn unordered_and_duplicate_times_are_order_problems() {
        let m = model("UTC");
        let text = "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\WEB01\\Processor(_Total)\\% Processor Time\"\n\
\"03/02/2026 08:00:00.000\",\"10\"\n\
\"03/02/2026 08:10:00.000\",\"10\"\n\
\"03/02/2026 08:05:00.000\",\"10\"\n\
\"03/02/2026 08:10:00.000\",\"10\"\n\
\"03/02/2026 08:20:00.000\",\"10\"\n";
        let got = read_as(&m, Some("web01"), text);
        assert_eq!(codes(&got), vec!["virtplan::metrics::order"; 2]);
        assert!(got.diags[0].message.starts_with("unordered"));
        assert!(got.diags[1].message.starts_with("duplicate"));
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.times, vec![T0, T0 + 600, T0 + 1200]);
        assert_eq!(s.rejected, 2);
    }

    #[test]
    fn local_times_are_in_the_project_time_zone() {
        // In a project at UTC+01:00, 09:00 local is 08:00 UTC.
        let m = model("+01:00");
        let text = "\"(PDH-CSV 4.0) (W. Europe Standard Time)(-60)\",\"\\\\WEB01\\Processor(_Total)\\% Processor Time\"\n\
\"03/02/2026 09:00:00.000\",\"10\"\n";
        let got = read_as(&m, Some("web01"), text);
        assert_eq!(got.series[&id(&m, "web01")].times, vec![T0]);
    }

    #[test]
    fn a_german_spreadsheet_resave_is_read() {
        // `;` fields without quotes, day-first dotted dates without
        // seconds, decimal commas and dots grouping thousands. At UTC+01:00,
        // 09:00 local is T0. web01: 20 GHz, 16 GiB.
        let m = model("+01:00");
        let text = "(PDH-CSV 4.0) (W. Europe Standard Time)(-60);\\\\WEB01\\Processor(_Total)\\% Processor Time;\\\\WEB01\\Memory\\Available MBytes\n\
02.03.2026 09:00;12,5;1.024,5\n\
02.03.2026 09:10:00;25;8192\n\
02.03.2026 09:20;25;1.024\n";
        let got = read_as(&m, Some("web01"), text);
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.times, vec![T0, T0 + 600]);
        assert!(
            close(&s.values[0], &[0.125 * 20.0, 5.0]),
            "{:?}",
            s.values[0]
        );
        assert!(
            close(&s.values[1], &[16.0 - 1024.5 / 1024.0, 8.0]),
            "{:?}",
            s.values[1]
        );
        // `1.024` could be either: the row is refused, and says why.
        assert_eq!(s.rejected, 1);
        assert!(
            got.diags
                .iter()
                .any(|d| d.message.contains("`1.024` in counter")
                    && d.message
                        .contains("could be 1.024 with a decimal point or 1024")),
            "{:?}",
            got.diags
        );
        assert_eq!(codes(&got), ["virtplan::metrics::row"]);
    }

    #[test]
    fn the_writers_time_zone_is_compared_with_the_projects() {
        let text = |zone: &str| {
            format!(
                "\"(PDH-CSV 4.0) {zone}\",\"\\\\WEB01\\Processor(_Total)\\% Processor Time\"\n\"03/02/2026 09:00:00.000\",\"10\"\n"
            )
        };
        // W. Europe's bias -60 is UTC+01:00: the project's zone, no warning.
        let m = model("+01:00");
        let got = read_as(&m, Some("web01"), &text("(W. Europe Standard Time)(-60)"));
        assert!(codes(&got).is_empty(), "{:?}", got.diags);
        // Eastern Standard Time, bias 300: UTC-05:00, not the project's.
        let got = read_as(&m, Some("web01"), &text("(Eastern Standard Time)(300)"));
        assert_eq!(codes(&got), ["virtplan::metrics::time-zone"]);
        assert!(got.diags[0].message.contains("`Eastern Standard Time` (UTC-05:00 in standard time), but the project's time zone is UTC+01:00"));
        // The times are read in the project's zone all the same.
        assert_eq!(got.series[&id(&m, "web01")].times, vec![T0]);
        // A header without a zone says nothing.
        let got = read_as(&m, Some("web01"), &text(""));
        assert!(codes(&got).is_empty(), "{:?}", got.diags);
        assert_eq!(zone_of("(PDH-CSV 4.0) (UTC)(0)"), Some(("UTC", 0)));
        assert_eq!(
            zone_of("(PDH-CSV 4.0) (India Standard Time)(-330)"),
            Some(("India Standard Time", -330))
        );
        assert_eq!(offset_text(330), "+05:30");
    }

    #[test]
    fn header_problems() {
        let m = model("UTC");
        let empty = read_as(&m, Some("web01"), "");
        assert_eq!(codes(&empty), vec!["virtplan::metrics::csv"]);
        let not_perfmon = read_as(&m, Some("web01"), "timestamp,cpu_pct\n1,2\n");
        assert_eq!(
            codes(&not_perfmon),
            vec![
                "virtplan::metrics::unknown-column",
                "virtplan::metrics::csv"
            ]
        );
        assert!(
            not_perfmon.diags[1]
                .message
                .contains("not a perfmon CSV file")
        );
        // Without an owner, a path without a computer names no server.
        let no_host = read_as(
            &m,
            None,
            "\"(PDH-CSV 4.0)\",\"\\Processor(_Total)\\% Processor Time\"\n\"03/02/2026 08:00:00\",\"1\"\n",
        );
        assert_eq!(codes(&no_host), vec!["virtplan::metrics::csv"]);
        // Two columns for the same resource: the first is used.
        let header = "\"(PDH-CSV 4.0)\",\"\\\\W\\Processor(_Total)\\% Processor Time\",\"\\\\W\\Processor Information(_Total)\\% Processor Time\"";
        let twice = read_as(
            &m,
            Some("web01"),
            &format!("{header}\n\"03/02/2026 08:00:00\",\"10\",\"90\"\n"),
        );
        assert_eq!(codes(&twice), vec!["virtplan::metrics::unknown-column"]);
        // The warning points at the second counter's cell, quotes included.
        let cell = header.rfind(",\"").unwrap() + 1;
        assert_eq!(twice.diags[0].span, Some(local(cell, header.len())));
        assert!(close(&twice.series[&id(&m, "web01")].values[0], &[2.0]));
    }

    #[test]
    fn unused_counters_give_one_warning() {
        let m = model("UTC");
        let text = "\"(PDH-CSV 4.0) (UTC)(0)\",\
\"\\\\WEB01\\Processor(_Total)\\% Processor Time\",\
\"\\\\WEB01\\System\\Processes\",\
\"\\\\WEB01\\System\\Threads\",\
\"\\\\WEB01\\Paging File(_Total)\\% Usage\"\n\
\"03/02/2026 08:00:00.000\",\"10\",\"90\",\"900\",\"5\"\n";
        let got = read_as(&m, None, text);
        assert_eq!(codes(&got), vec!["virtplan::metrics::unknown-column"]);
        assert_eq!(
            got.diags[0].message,
            "3 counters are not used: `\\\\WEB01\\System\\Processes`, \
             `\\\\WEB01\\System\\Threads` and 1 more"
        );
    }

    #[test]
    fn paths_and_fields() {
        assert_eq!(
            parse_path("\\\\WEB01\\Network Interface(Intel(R) x)\\Bytes Total/sec"),
            Some(CounterPath {
                host: Some("WEB01"),
                object: "Network Interface",
                instance: Some("Intel(R) x"),
                counter: "Bytes Total/sec",
            })
        );
        assert_eq!(
            parse_path("\\Memory\\Available MBytes").map(|p| p.host),
            Some(None)
        );
        assert_eq!(parse_path("Memory"), None);
        assert_eq!(parse_path("\\\\HOST"), None);
        let f = split_fields(r#""a,b","c""d", x"#, ',');
        let texts: Vec<&str> = f.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, vec!["a,b", "c\"d", " x"]);
        assert_eq!((f[1].start, f[1].end), (6, 12));
        assert_eq!(parse_local_time("03/02/2026 08:00:00.000"), Some(T0));
        assert_eq!(parse_local_time("03/02/2026 08:00:00"), Some(T0));
        assert_eq!(parse_local_time("13/02/2026 08:00:00.000"), None);
        assert_eq!(parse_local_time("03/02/2026 08:00"), None);
        assert_eq!(parse_local_time("03/02/2026 08:00:00.x"), None);
        assert_eq!(parse_local_time("é"), None);
    }

    #[test]
    fn arbitrary_text_does_not_panic() {
        let m = model("UTC");
        for text in [
            "\"",
            "\u{feff}",
            ",,,\n,,,",
            "\"(PDH-CSV 4.0)\",\"\\\\\\\\\"\n\"\",\"\"",
            "\\\\é\\(\\é",
        ] {
            let _ = read_as(&m, None, text);
            let _ = read_as(&m, Some("web01"), text);
        }
    }
}
