//! Reader for Linux `sadf -d` output (sysstat), such as
//! `sadf -d /var/log/sa/sa02 -- -u -r -d -n DEV > web01.sadf`.
//!
//! Format: semicolon-separated. A header line `# hostname;interval;
//! timestamp;...` names the columns of the rows that follow it, up to the
//! next header; each `sar` activity is such a section. Timestamps are
//! `2026-03-02 08:00:00 UTC` (sadf prints UTC by default); without ` UTC`
//! (sadf -T) the time is local and read in the project's time zone, and
//! Unix seconds (sadf -U) are read as such. Restart and comment records
//! (`LINUX-RESTART`, `COM ...`) are skipped.
//!
//! Sections read, and their conversions:
//! - CPU (`-u`: `CPU;...;%idle`): rows for all processors (CPU `-1` or
//!   `all`) give cpu % = 100 − %idle → % / 100 × the server's reference GHz;
//!   per-processor rows (`-P ALL`) are skipped.
//! - Memory (`-r`: `kbmemused`): kB / 1024 / 1024 → GiB. We keep it
//!   simple and use `kbmemused` as written, even where `kbavail` would
//!   allow installed − available: recent sysstat already leaves buffers and
//!   cache out of `kbmemused`.
//! - Disks (`-d`: `DEV;tps;rkB/s;wkB/s`, or older `rd_sec/s;wr_sec/s` in
//!   512-byte sectors): tps summed over devices → IOPS, (read + write) kB ×
//!   1024 / 1e6 → MB/s. Devices stacked on other devices (device-mapper,
//!   md RAID, loop, RAM disks) are left out, since the disks below them
//!   count the same I/O again; they are recognised by name (`dm-0`, `md0`,
//!   `loop0`) or, without `-p`, by major number (`dev253-0`).
//! - Network (`-n DEV`: `IFACE;rxkB/s;txkB/s`): (rx + tx) kB summed over
//!   the interfaces that put traffic on the wire → kB × 1024 × 8 / 1e6
//!   Mbit/s. Left out, by name ([`layered_interface`]): the loopback, and
//!   interfaces layered on others, whose traffic their member NICs count
//!   again: bonds and teams, bridges, VLAN sub-interfaces, and the virtual
//!   interfaces of containers, VMs and tunnels.
//!
//! Any other section is ignored with one warning. Rows of one timestamp
//! come from several sections, so they are merged per (server, timestamp)
//! in the order their times first appear; the times are then checked like
//! those of any file (`Imported::finish`). Within one section, a device's
//! time seen twice is a duplicate and rejected. A rejected
//! disk or network row makes that timestamp's sum missing, so a row never
//! under-counts.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Context, Imported, Lines, LocalClock, civil_to_unix, digits, local, parse_timestamp,
    report_unknown_servers,
};
use crate::diag::Diagnostic;
use crate::model::Id;
use crate::source::Span;

/// Reads one `sadf -d` file.
pub fn read(text: &str, ctx: &Context) -> Imported {
    let mut out = Imported::default();
    let mut lines = Lines::new(text)
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let Some(&(first_start, first)) = lines.peek() else {
        out.report(
            Diagnostic::error("virtplan::metrics::csv", "the measurement file is empty")
                .at(local(0, 0), "empty file")
                .help(HELP_EXPORT),
        );
        return out;
    };
    if !first.trim_start_matches('\u{feff}').starts_with('#') {
        out.report(
            Diagnostic::error(
                "virtplan::metrics::csv",
                "the file does not start with a `# hostname;interval;timestamp;...` header",
            )
            .at(local(first_start, first_start + first.len()), "first line")
            .help(HELP_EXPORT),
        );
        return out;
    }
    let mut clock = LocalClock::new(ctx.model.project.zone);
    let mut section: Option<Section> = None;
    let mut warned: Vec<String> = Vec::new();
    let mut unknown: BTreeMap<String, Span> = BTreeMap::new();
    // Rows merged per (server, time), in the order the times first appear.
    let mut merged: Vec<(Id, i64, Merged)> = Vec::new();
    let mut at: BTreeMap<(Id, i64), usize> = BTreeMap::new();
    // The times seen in each (server, section, device) stream.
    let mut seen: BTreeSet<((Id, Kind, String), i64)> = BTreeSet::new();
    for (start, line) in lines {
        let span = local(start, start + line.len());
        let line = line.trim_start_matches('\u{feff}');
        if let Some(header) = line.strip_prefix('#') {
            let s = Section::from_header(header);
            if s.kind.is_none() {
                let name = header.trim().to_string();
                if !warned.contains(&name) {
                    out.report(
                        Diagnostic::warning(
                            "virtplan::metrics::unknown-column",
                            format!("section `{name}` is not used"),
                        )
                        .at(span, "ignored section")
                        .help("virtplan reads the sections of `sar -u`, `-r`, `-d` and `-n DEV`"),
                    );
                    warned.push(name);
                }
            }
            section = Some(s);
            continue;
        }
        let fields: Vec<&str> = line.split(';').map(str::trim).collect();
        if fields
            .iter()
            .any(|f| f.starts_with("LINUX-RESTART") || f.starts_with("COM "))
        {
            continue;
        }
        let Some(sec) = &section else { continue };
        let Some(kind) = sec.kind else { continue };
        let host = sec.host.and_then(|i| fields.get(i)).copied().unwrap_or("");
        let id = match ctx.owner {
            Some(id) => Some(id),
            None => ctx.server(host),
        };
        if fields.len() != sec.width {
            out.row_problem(
                id,
                Diagnostic::error(
                    "virtplan::metrics::row",
                    format!("row has {} fields, its header has {}", fields.len(), sec.width),
                )
                .at(span, "malformed row")
                .help("every row has one value per column of the `#` header above it, separated by semicolons"),
            );
            continue;
        }
        let Some(id) = id else {
            unknown.entry(host.to_string()).or_insert(span);
            continue;
        };
        let stamp = sec.time.and_then(|i| fields.get(i)).copied().unwrap_or("");
        let ts = match parse_time(stamp) {
            Some(Stamp::Utc(t)) => t,
            Some(Stamp::Local(t)) => match clock.utc(t) {
                Some(t) => t,
                None => {
                    out.row_problem(
                        Some(id),
                        Diagnostic::error("virtplan::metrics::row", clock.skipped(stamp))
                            .at(span, "no such local time")
                            .help("sadf -d writes UTC; a local time in the hour the clocks skip was not written in the project's zone: check its `timezone`"),
                    );
                    continue;
                }
            },
            None => {
                out.row_problem(
                    Some(id),
                    Diagnostic::error(
                        "virtplan::metrics::row",
                        format!("`{stamp}` is not a timestamp"),
                    )
                    .at(span, "bad timestamp")
                    .help("sadf -d writes times as 2026-03-02 08:00:00 UTC"),
                );
                continue;
            }
        };
        let Some(server) = ctx.model.servers.get(id) else {
            continue;
        };
        let device = sec
            .device
            .and_then(|i| fields.get(i))
            .copied()
            .unwrap_or("");
        let counted = match kind {
            Kind::Cpu => device == "-1" || device.eq_ignore_ascii_case("all"),
            Kind::Disk => !stacked(device),
            Kind::Net => !layered_interface(device),
            Kind::Mem => true,
        };
        if !counted {
            continue;
        }
        let stream = (id, kind, device.to_string());
        if !seen.insert((stream, ts)) {
            out.row_problem(
                Some(id),
                Diagnostic::error(
                    "virtplan::metrics::order",
                    format!("duplicate timestamp for `{}`", server.name),
                )
                .at(span, "duplicate timestamp")
                .help("each time comes once per server, section and device; the first row of a time is used"),
            );
            continue;
        }
        let k = *at.entry((id, ts)).or_insert_with(|| {
            merged.push((id, ts, Merged::new(span)));
            merged.len() - 1
        });
        let m = &mut merged[k].2;
        if let Err(reason) = merge(m, kind, sec, &fields) {
            // A rejected part of a sum makes the sum unknown.
            for &r in kind.resources() {
                m.add(r, None);
            }
            out.row_problem(
                Some(id),
                Diagnostic::error("virtplan::metrics::row", reason)
                    .at(span, "rejected row")
                    .help("measurements are non-negative numbers; percentages are 0 to 100"),
            );
        }
    }
    for (id, ts, m) in merged {
        let Some(server) = ctx.model.servers.get(id) else {
            continue;
        };
        let row = [
            m.cpu_pct.map_or(f64::NAN, |p| p / 100.0 * server.cpu_ghz()),
            m.mem_kb.map_or(f64::NAN, |kb| kb / 1024.0 / 1024.0),
            m.sums[2].total(),
            m.sums[3].total(),
            m.sums[4].total(),
        ];
        if row.iter().any(|v| !v.is_nan()) {
            out.row(id, ts, row, m.span);
        }
    }
    report_unknown_servers(&mut out, unknown, ctx);
    out
}

/// Adds one row of a section to what is known of its server at its time.
fn merge(m: &mut Merged, kind: Kind, sec: &Section, fields: &[&str]) -> Result<(), String> {
    let value =
        |col: Option<usize>| number(col.and_then(|i| fields.get(i).map(|f| (i, *f))), &sec.names);
    match kind {
        Kind::Cpu => {
            if let Some(idle) = value(sec.a)? {
                if idle > 100.0 {
                    return Err(format!("%idle {idle} is over 100"));
                }
                m.cpu_pct = Some((100.0 - idle).max(0.0));
            }
        }
        Kind::Mem => m.mem_kb = value(sec.a)?,
        Kind::Disk => {
            let (tps, read, write) = (value(sec.a)?, value(sec.b)?, value(sec.c)?);
            m.add(2, tps);
            m.add(3, read.zip(write).map(|(r, w)| (r + w) * sec.unit / 1e6));
        }
        Kind::Net => {
            let (rx, tx) = (value(sec.a)?, value(sec.b)?);
            m.add(4, rx.zip(tx).map(|(r, t)| (r + t) * 1024.0 * 8.0 / 1e6));
        }
    }
    Ok(())
}

const HELP_EXPORT: &str = "write the file with `sadf -d SAFILE -- -u -r -d -n DEV`";

/// The sections virtplan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Cpu,
    Mem,
    Disk,
    Net,
}

impl Kind {
    /// The indices in a row of the resources a rejected row of this
    /// section leaves unknown.
    fn resources(self) -> &'static [usize] {
        match self {
            Kind::Cpu => &[0],
            Kind::Mem => &[1],
            Kind::Disk => &[2, 3],
            Kind::Net => &[4],
        }
    }
}

/// The columns of one section, from its header.
#[derive(Debug, Clone)]
struct Section {
    /// `None` for a section virtplan does not read.
    kind: Option<Kind>,
    names: Vec<String>,
    width: usize,
    host: Option<usize>,
    time: Option<usize>,
    /// The CPU, device or interface column.
    device: Option<usize>,
    /// The value columns: %idle (CPU); kbmemused (memory); tps, read,
    /// write (disks); rxkB/s, txkB/s (network).
    a: Option<usize>,
    b: Option<usize>,
    c: Option<usize>,
    /// Bytes per unit of the disks' read and write columns.
    unit: f64,
}

impl Section {
    fn from_header(header: &str) -> Section {
        let names: Vec<String> = header.split(';').map(|c| c.trim().to_string()).collect();
        let col = |name: &str| names.iter().position(|n| n == name);
        let (host, time) = (col("hostname"), col("timestamp"));
        let (mut device, mut a, mut b, mut c, mut unit) = (None, None, None, None, 1024.0);
        let kind = if host.is_none() || time.is_none() {
            None
        } else if let (Some(cpu), Some(idle)) = (col("CPU"), col("%idle")) {
            (device, a) = (Some(cpu), Some(idle));
            Some(Kind::Cpu)
        } else if let Some(used) = col("kbmemused") {
            a = Some(used);
            Some(Kind::Mem)
        } else if let (Some(dev), Some(tps)) = (col("DEV"), col("tps")) {
            (device, a) = (Some(dev), Some(tps));
            if let (Some(r), Some(w)) = (col("rkB/s"), col("wkB/s")) {
                (b, c) = (Some(r), Some(w));
            } else if let (Some(r), Some(w)) = (col("rd_sec/s"), col("wr_sec/s")) {
                (b, c, unit) = (Some(r), Some(w), 512.0);
            }
            Some(Kind::Disk)
        } else if let (Some(iface), Some(rx), Some(tx)) =
            (col("IFACE"), col("rxkB/s"), col("txkB/s"))
        {
            (device, a, b) = (Some(iface), Some(rx), Some(tx));
            Some(Kind::Net)
        } else {
            None
        };
        Section {
            kind,
            width: names.len(),
            names,
            host,
            time,
            device,
            a,
            b,
            c,
            unit,
        }
    }
}

/// A sum over devices that is unknown once any part of it is.
#[derive(Debug, Clone, Copy, Default)]
enum Sum {
    #[default]
    Empty,
    Known(f64),
    Unknown,
}

impl Sum {
    fn total(self) -> f64 {
        match self {
            Sum::Known(v) => v,
            Sum::Empty | Sum::Unknown => f64::NAN,
        }
    }
}

/// What the sections say of one server at one time.
#[derive(Debug, Clone)]
struct Merged {
    /// The first line of this time, for order problems.
    span: Span,
    cpu_pct: Option<f64>,
    mem_kb: Option<f64>,
    /// Disk IOPS, disk MB/s and network Mbit/s at indices 2, 3 and 4.
    sums: [Sum; 5],
}

impl Merged {
    fn new(span: Span) -> Merged {
        Merged {
            span,
            cpu_pct: None,
            mem_kb: None,
            sums: [Sum::Empty; 5],
        }
    }
    /// Adds one device's part to a sum; `None` makes the sum unknown (for
    /// CPU and memory, which are not sums, it forgets the value).
    fn add(&mut self, r: usize, part: Option<f64>) {
        match r {
            0 => self.cpu_pct = None,
            1 => self.mem_kb = None,
            _ => {
                if let Some(s) = self.sums.get_mut(r) {
                    *s = match (*s, part) {
                        (Sum::Unknown, _) | (_, None) => Sum::Unknown,
                        (Sum::Empty, Some(v)) => Sum::Known(v),
                        (Sum::Known(t), Some(v)) => Sum::Known(t + v),
                    };
                }
            }
        }
    }
}

/// A value of a column: `None` when the section has no such column, or why
/// the text is not a measurement.
fn number(field: Option<(usize, &str)>, names: &[String]) -> Result<Option<f64>, String> {
    let Some((i, raw)) = field else {
        return Ok(None);
    };
    let column = names.get(i).map_or("?", String::as_str);
    super::measured_value(raw, &format!("column `{column}`")).map(Some)
}

/// An interface whose traffic is not the server's on the wire, or is
/// counted again on the NICs below it: `lo`; bonds and teams (`bond0`,
/// `team0`, whose members `eth0`, `eth1` carry it); bridges (`br0`,
/// `virbr0`, `docker0`, `cni0`, `ovs-system`); VLAN sub-interfaces
/// (`eth0.100`, `vlan100`, `eth0@if5`); the ends of containers', VMs' and
/// tunnels' virtual links (`veth…`, `vnet…`, `tap…`, `tun…`, `cali…`,
/// `flannel…`, `vxlan…`, `wg…`, `gre…`). Names are compared in lower case.
fn layered_interface(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains('.') || n.contains('@') || LAYERED_PREFIXES.iter().any(|p| n.starts_with(p))
}

/// The name prefixes of [`layered_interface`]s.
pub const LAYERED_PREFIXES: [&str; 20] = [
    "lo", "bond", "team", "br", "virbr", "docker", "cni", "ovs", "vlan", "veth", "vnet", "tap",
    "tun", "cali", "flannel", "vxlan", "wg", "gre", "kube", "weave",
];

/// The name prefixes of [`stacked`] block devices.
pub const STACKED_PREFIXES: [&str; 5] = ["dm-", "md", "loop", "ram", "zram"];

/// Whether a block device is stacked on other devices, whose I/O the
/// devices below it count again: device-mapper (LVM, multipath, crypt),
/// md RAID, loop and RAM disks. Without `-p`, sadf names devices by major
/// and minor number: 1 is RAM disks, 7 loop, 9 md, and 240 to 254 are
/// given out at run time, in practice to device-mapper and zram, never to
/// a disk driver.
fn stacked(dev: &str) -> bool {
    let d = dev.to_ascii_lowercase();
    if STACKED_PREFIXES.iter().any(|p| d.starts_with(p)) {
        return true;
    }
    let major = d
        .strip_prefix("dev")
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(major, _)| major.parse::<u32>().ok());
    matches!(major, Some(1 | 7 | 9 | 240..=254))
}

/// A sadf time, in UTC or in local time (the wall clock as Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    Utc(i64),
    Local(i64),
}

/// Parses a sadf time: `YYYY-MM-DD HH:MM:SS UTC`, the same without ` UTC`
/// (local time), or anything [`parse_timestamp`] reads (Unix seconds,
/// RFC 3339 with an offset).
fn parse_time(s: &str) -> Option<Stamp> {
    let s = s.trim();
    if let Some(utc) = s.strip_suffix(" UTC") {
        return civil(utc.trim()).map(Stamp::Utc);
    }
    parse_timestamp(s)
        .map(Stamp::Utc)
        .or_else(|| civil(s).map(Stamp::Local))
}

/// `YYYY-MM-DD HH:MM:SS` as seconds since the epoch, as if in UTC.
fn civil(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if b.len() != 19
        || !at(4, b'-')
        || !at(7, b'-')
        || !at(10, b' ')
        || !at(13, b':')
        || !at(16, b':')
    {
        return None;
    }
    let (y, mo, d) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    let (h, mi, se) = (digits(s, 11..13)?, digits(s, 14..16)?, digits(s, 17..19)?);
    civil_to_unix(y, mo, d, h, mi, se)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    use crate::import::testing::{T0, close, codes, id, model};

    fn read_as(m: &Model, owner: Option<&str>, text: &str) -> Imported {
        crate::import::testing::read_with(m, owner, text, read)
    }

    /// `sadf -d sa02 -- -u -r -d -n DEV` for web01, three samples ten
    /// minutes apart, with a restart record between the sections.
    const WEB01: &str = "\
# hostname;interval;timestamp;CPU;%user;%nice;%system;%iowait;%steal;%idle
web01;600;2026-03-02 08:00:00 UTC;-1;40.00;0.00;15.00;5.00;0.00;40.00
web01;600;2026-03-02 08:10:00 UTC;-1;10.00;0.00;2.50;0.00;0.00;87.50
web01;600;2026-03-02 08:20:00 UTC;-1;90.00;0.00;10.00;0.00;0.00;0.00
web01;-1;2026-03-02 08:25:00 UTC;LINUX-RESTART\t(8 CPU)
# hostname;interval;timestamp;kbmemfree;kbavail;kbmemused;%memused;kbbuffers;kbcached;kbcommit;%commit;kbactive;kbinact;kbdirty
web01;600;2026-03-02 08:00:00 UTC;4194304;8388608;8388608;50.00;0;4194304;0;0.00;0;0;0
web01;600;2026-03-02 08:10:00 UTC;4194304;8388608;4194304;25.00;0;4194304;0;0.00;0;0;0
web01;600;2026-03-02 08:20:00 UTC;4194304;8388608;12582912;75.00;0;0;0;0.00;0;0;0
# hostname;interval;timestamp;DEV;tps;rkB/s;wkB/s;dkB/s;areq-sz;aqu-sz;await;%util
web01;600;2026-03-02 08:00:00 UTC;dev8-0;100.00;1000.00;953.125;0.00;0.00;0.00;0.00;10.00
web01;600;2026-03-02 08:00:00 UTC;dev8-16;50.00;0.00;0.00;0.00;0.00;0.00;0.00;5.00
web01;600;2026-03-02 08:00:00 UTC;dev253-0;150.00;1000.00;953.125;0.00;0.00;0.00;0.00;15.00
web01;600;2026-03-02 08:10:00 UTC;dev8-0;10.00;0.00;0.00;0.00;0.00;0.00;0.00;1.00
web01;600;2026-03-02 08:10:00 UTC;dev8-16;5.00;0.00;0.00;0.00;0.00;0.00;0.00;1.00
# hostname;interval;timestamp;IFACE;rxpck/s;txpck/s;rxkB/s;txkB/s;rxcmp/s;txcmp/s;rxmcst/s;%ifutil
web01;600;2026-03-02 08:00:00 UTC;lo;10.00;10.00;5000.00;5000.00;0.00;0.00;0.00;0.00
web01;600;2026-03-02 08:00:00 UTC;eth0;100.00;100.00;1000.00;220.703125;0.00;0.00;0.00;1.00
web01;600;2026-03-02 08:00:00 UTC;eth1;100.00;100.00;0.00;0.00;0.00;0.00;0.00;0.00
web01;600;2026-03-02 08:20:00 UTC;eth0;100.00;100.00;122.0703125;0.00;0.00;0.00;0.00;0.00
";

    #[test]
    fn sections_merge_per_timestamp() {
        let m = model("UTC");
        let got = read_as(&m, Some("web01"), WEB01);
        assert!(got.diags.is_empty(), "{:?}", got.diags);
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.times, vec![T0, T0 + 600, T0 + 1200]);
        let nan = f64::NAN;
        // CPU: 100 − 40 = 60% of 20 GHz = 12; 12.5% = 2.5; 100% = 20.
        assert!(close(&s.values[0], &[12.0, 2.5, 20.0]));
        // Memory: 8388608 kB / 1024 / 1024 = 8 GiB; 4; 12.
        assert!(close(&s.values[1], &[8.0, 4.0, 12.0]));
        // IOPS: 100 + 50 (dev253-0 is device-mapper, stacked on dev8-0,
        // and left out) = 150; 10 + 5 = 15; no disk rows at 08:20.
        assert!(close(&s.values[2], &[150.0, 15.0, nan]));
        // Disk: (1000 + 953.125) kB × 1024 / 1e6 = 2 MB/s; 0.
        assert!(close(&s.values[3], &[2.0, 0.0, nan]));
        // Network without lo: (1000 + 220.703125) kB × 1024 × 8 / 1e6 =
        // 10 Mbit/s at 08:00; nothing at 08:10; 122.0703125 × 8192 / 1e6 =
        // 1 Mbit/s at 08:20.
        assert!(close(&s.values[4], &[10.0, nan, 1.0]));
    }

    #[test]
    fn layered_interfaces_are_not_counted_again() {
        // eth0 and eth1 are bonded into bond0, bridged into br0, with a
        // VLAN on the bond and a container's veth: only the NICs count,
        // (100 + 100) + (50 + 50) = 300 kB/s × 8192 / 1e6 = 2.4576 Mbit/s.
        let m = model("UTC");
        let mut text = String::from(
            "# hostname;interval;timestamp;IFACE;rxpck/s;txpck/s;rxkB/s;txkB/s;rxcmp/s;txcmp/s;rxmcst/s;%ifutil\n",
        );
        for (iface, kb) in [
            ("lo", 9000),
            ("eth0", 100),
            ("eth1", 50),
            ("bond0", 150),
            ("br0", 150),
            ("bond0.100", 20),
            ("veth1a2b3c", 5),
            ("docker0", 5),
            ("virbr0", 1),
            ("ENS192", 0),
        ] {
            text.push_str(&format!(
                "web01;600;2026-03-02 08:00:00 UTC;{iface};1.00;1.00;{kb}.00;{kb}.00;0.00;0.00;0.00;0.00\n"
            ));
        }
        let got = read_as(&m, Some("web01"), &text);
        let s = &got.series[&id(&m, "web01")];
        assert!(
            close(&s.values[4], &[300.0 * 8192.0 / 1e6]),
            "{:?}",
            s.values[4]
        );
        for physical in [
            "eth0", "ens192", "enp3s0f1", "eno1", "em1", "p1p1", "ib0", "wlan0",
        ] {
            assert!(!layered_interface(physical), "{physical}");
        }
    }

    #[test]
    fn older_sysstat_counts_sectors() {
        let m = model("UTC");
        // rd_sec/s and wr_sec/s are 512-byte sectors: (3000 + 906.25)
        // × 512 / 1e6 = 2 MB/s.
        let text = "\
# hostname;interval;timestamp;DEV;tps;rd_sec/s;wr_sec/s;avgrq-sz;avgqu-sz;await;svctm;%util
web01;600;2026-03-02 08:00:00 UTC;dev8-0;20.00;3000.00;906.25;0.00;0.00;0.00;0.00;1.00
";
        let got = read_as(&m, Some("web01"), text);
        assert!(got.diags.is_empty(), "{:?}", got.diags);
        let s = &got.series[&id(&m, "web01")];
        assert!(close(&s.values[2], &[20.0]));
        assert!(close(&s.values[3], &[2.0]));
    }

    #[test]
    fn glob_file_names_its_servers_by_hostname() {
        let m = model("UTC");
        // DB01 in upper case is db01; app09 is not in the inventory. The
        // per-processor rows of -P ALL are skipped; the queue section
        // (-q) is not read and warned about once.
        let text = "\
# hostname;interval;timestamp;CPU;%user;%nice;%system;%iowait;%steal;%idle
DB01;600;2026-03-02 08:00:00 UTC;all;25.00;0.00;25.00;0.00;0.00;50.00
DB01;600;2026-03-02 08:00:00 UTC;0;100.00;0.00;0.00;0.00;0.00;0.00
app09;600;2026-03-02 08:00:00 UTC;-1;25.00;0.00;25.00;0.00;0.00;50.00
web01;600;2026-03-02 08:00:00 UTC;-1;5.00;0.00;5.00;0.00;0.00;90.00
# hostname;interval;timestamp;runq-sz;plist-sz;ldavg-1;ldavg-5;ldavg-15;blocked
DB01;600;2026-03-02 08:00:00 UTC;1;200;0.5;0.5;0.5;0
";
        let got = read_as(&m, None, text);
        assert_eq!(
            codes(&got),
            vec![
                "virtplan::metrics::unknown-column",
                "virtplan::metrics::unknown-server"
            ]
        );
        assert!(got.diags[1].message.contains("app09"));
        // 50% of 8 GHz = 4; 10% of 20 GHz = 2.
        assert!(close(&got.series[&id(&m, "db01")].values[0], &[4.0]));
        assert!(close(&got.series[&id(&m, "web01")].values[0], &[2.0]));
    }

    #[test]
    fn bad_rows_are_rejected_and_sums_not_undercounted() {
        let m = model("UTC");
        let text = "\
# hostname;interval;timestamp;CPU;%user;%nice;%system;%iowait;%steal;%idle
web01;600;2026-03-02 08:00:00 UTC;-1;40.00;0.00;15.00;5.00;0.00;40.00
web01;600;2026-03-02 08:10:00 UTC;-1;40.00;0.00;15.00
web01;600;2026-03-02 08:20:00 UTC;-1;40.00;0.00;15.00;5.00;0.00;120.00
web01;600;yesterday;-1;40.00;0.00;15.00;5.00;0.00;40.00
# hostname;interval;timestamp;DEV;tps;rkB/s;wkB/s
web01;600;2026-03-02 08:00:00 UTC;sda;10.00;0.00;0.00
web01;600;2026-03-02 08:00:00 UTC;sdb;-3.00;0.00;0.00
web01;600;2026-03-02 08:10:00 UTC;sda;10.00;0.00;0.00
web01;600;2026-03-02 08:10:00 UTC;sdb;x;0.00;0.00
web01;600;2026-03-02 08:20:00 UTC;sda;10,5;0.00;0.00
";
        let got = read_as(&m, Some("web01"), text);
        assert_eq!(codes(&got), vec!["virtplan::metrics::row"; 5]);
        assert!(
            got.diags[0]
                .message
                .contains("row has 7 fields, its header has 10")
        );
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.rejected, 5);
        assert_eq!(s.times, vec![T0, T0 + 1200]);
        let nan = f64::NAN;
        // 60% of 20 GHz at 08:00; the CPU rows of 08:10 and 08:20 were
        // rejected. The disk sums of 08:00 and 08:10 lost a device, so
        // they are unknown and 08:10 has nothing left; 08:20 reads the
        // comma decimal 10,5.
        assert!(close(&s.values[0], &[12.0, nan]));
        assert!(close(&s.values[2], &[nan, 10.5]));
    }

    #[test]
    fn unordered_and_duplicate_times_are_order_problems() {
        let m = model("UTC");
        let text = "\
# hostname;interval;timestamp;kbmemfree;kbmemused
web01;600;2026-03-02 08:00:00 UTC;0;1048576
web01;600;2026-03-02 08:20:00 UTC;0;1048576
web01;600;2026-03-02 08:10:00 UTC;0;1048576
web01;600;2026-03-02 08:20:00 UTC;0;2097152
web01;600;2026-03-02 08:30:00 UTC;0;2097152
";
        let got = read_as(&m, Some("web01"), text);
        // The repeated 08:20 is found while reading, the 08:10 that breaks
        // the order once the file is read.
        assert_eq!(codes(&got), vec!["virtplan::metrics::order"; 2]);
        assert!(got.diags[0].message.starts_with("duplicate"));
        assert!(got.diags[1].message.starts_with("unordered"));
        let s = &got.series[&id(&m, "web01")];
        assert_eq!(s.times, vec![T0, T0 + 1200, T0 + 1800]);
        // 1 GiB, 1 GiB (the first 08:20 row wins), 2 GiB.
        assert!(close(&s.values[1], &[1.0, 1.0, 2.0]));
        assert_eq!(s.rejected, 2);
    }

    #[test]
    fn utc_local_and_unix_times() {
        // In a project at UTC+01:00: a UTC time is taken as it is, a
        // local 09:00 is 08:00 UTC, and Unix seconds are absolute.
        let m = model("+01:00");
        let text = "\
# hostname;interval;timestamp;kbmemfree;kbmemused
web01;600;2026-03-02 08:00:00 UTC;0;1048576
web01;600;2026-03-02 09:10:00;0;1048576
web01;600;1772439600;0;1048576
";
        let got = read_as(&m, Some("web01"), text);
        assert!(got.diags.is_empty(), "{:?}", got.diags);
        assert_eq!(
            got.series[&id(&m, "web01")].times,
            vec![T0, T0 + 600, T0 + 1200]
        );
    }

    #[test]
    fn file_problems() {
        let m = model("UTC");
        assert_eq!(
            codes(&read_as(&m, Some("web01"), "\n\n")),
            vec!["virtplan::metrics::csv"]
        );
        let sar = read_as(
            &m,
            Some("web01"),
            "Linux 6.1 (web01) \t03/02/2026\n08:00:01 all 1 2 3\n",
        );
        assert_eq!(codes(&sar), vec!["virtplan::metrics::csv"]);
    }

    #[test]
    fn stacked_devices() {
        for dev in [
            "dm-0", "md127", "loop3", "dev253-0", "dev9-0", "dev7-1", "zram0",
        ] {
            assert!(stacked(dev), "{dev}");
        }
        for dev in ["sda", "nvme0n1", "dev8-0", "dev259-0", "vda", "devx"] {
            assert!(!stacked(dev), "{dev}");
        }
    }

    #[test]
    fn arbitrary_text_does_not_panic() {
        let m = model("UTC");
        for text in [
            "#",
            "#\n;;;",
            "# hostname;timestamp;CPU;%idle\n;;;\n;",
            "\u{feff}# é;é\né",
            "x;y",
        ] {
            let _ = read_as(&m, None, text);
            let _ = read_as(&m, Some("web01"), text);
        }
    }
}
