//! Typed units: sizes, clocks, bandwidths, durations, percentages, power,
//! and weekly windows, parsed from the strings users write ("64GiB").
//!
//! Every quantity is stored in one base unit (bytes, hertz, bits per second,
//! seconds, a fraction, watts) as `f64`, wrapped in a newtype so a size can
//! never be added to a clock. Parsing returns `Err(reason)` with a message
//! fit for a diagnostic's label.

use serde::Serialize;

macro_rules! quantity {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);
    };
}

quantity!(
    /// A size in bytes.
    Bytes
);
quantity!(
    /// A clock rate in hertz.
    Hertz
);
quantity!(
    /// A bandwidth in bits per second.
    BitsPerSec
);
quantity!(
    /// A duration in seconds.
    Seconds
);
quantity!(
    /// A percentage as a fraction: "85%" is 0.85.
    Fraction
);
quantity!(
    /// Electric power in watts.
    Watts
);

pub const KIB: f64 = 1024.0;
pub const MIB: f64 = KIB * 1024.0;
pub const GIB: f64 = MIB * 1024.0;
pub const TIB: f64 = GIB * 1024.0;

impl Bytes {
    pub fn gib(self) -> f64 {
        self.0 / GIB
    }
    pub fn gb(self) -> f64 {
        self.0 / 1e9
    }
}

/// Splits "2.4GHz" into (2.4, "GHz"). Whitespace between is allowed.
fn split_number(text: &str) -> Result<(f64, &str), String> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '_'))
        .map_or(t.len(), |(i, _)| i);
    let (num, unit) = t.split_at(end);
    if num.is_empty() {
        return Err(if t.starts_with('-') {
            "negative values are not allowed".to_string()
        } else {
            "expected a number followed by a unit".to_string()
        });
    }
    let value: f64 = num
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{num}` is not a number"))?;
    if !value.is_finite() {
        return Err("number too large".to_string());
    }
    Ok((value, unit.trim()))
}

fn scaled(text: &str, units: &[(&str, f64)], what: &str) -> Result<f64, String> {
    let (value, unit) = split_number(text)?;
    match units.iter().find(|(u, _)| *u == unit) {
        Some((_, factor)) => {
            let v = value * factor;
            if v.is_finite() {
                Ok(v)
            } else {
                Err("number too large".to_string())
            }
        }
        None => {
            let names: Vec<&str> = units.iter().map(|(u, _)| *u).collect();
            let case_hint = units
                .iter()
                .find(|(u, _)| u.eq_ignore_ascii_case(unit))
                .map(|(u, _)| format!(" (units are case-sensitive: did you mean `{u}`?)"))
                .unwrap_or_default();
            if unit.is_empty() {
                Err(format!("{what} needs a unit: one of {}", names.join(", ")))
            } else {
                Err(format!(
                    "unknown {what} unit `{unit}`{case_hint}; expected one of {}",
                    names.join(", ")
                ))
            }
        }
    }
}

/// The digits of a whole number written in groups of three after a
/// thousands separator (`1.024.576` with `.`), or of 1 to 3 digits alone;
/// `None` for anything else, so `1.5` or `10.24` are never taken as grouped.
pub fn digit_groups(text: &str, sep: char) -> Option<String> {
    let mut groups = text.split(sep);
    let head = groups.next()?;
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    let ok = (1..=3).contains(&head.len())
        && digits(head)
        && groups.clone().all(|g| g.len() == 3 && digits(g));
    ok.then(|| std::iter::once(head).chain(groups).collect())
}

pub fn parse_bytes(text: &str) -> Result<Bytes, String> {
    const UNITS: &[(&str, f64)] = &[
        ("B", 1.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("PB", 1e15),
        ("KiB", KIB),
        ("MiB", MIB),
        ("GiB", GIB),
        ("TiB", TIB),
        ("PiB", TIB * 1024.0),
    ];
    scaled(text, UNITS, "size").map(Bytes)
}

pub fn parse_hertz(text: &str) -> Result<Hertz, String> {
    const UNITS: &[(&str, f64)] = &[("Hz", 1.0), ("kHz", 1e3), ("MHz", 1e6), ("GHz", 1e9)];
    scaled(text, UNITS, "clock").map(Hertz)
}

pub fn parse_bandwidth(text: &str) -> Result<BitsPerSec, String> {
    const UNITS: &[(&str, f64)] = &[
        ("bps", 1.0),
        ("Kbps", 1e3),
        ("Mbps", 1e6),
        ("Gbps", 1e9),
        ("Tbps", 1e12),
        ("B/s", 8.0),
        ("KB/s", 8e3),
        ("MB/s", 8e6),
        ("GB/s", 8e9),
        ("KiB/s", 8.0 * KIB),
        ("MiB/s", 8.0 * MIB),
        ("GiB/s", 8.0 * GIB),
    ];
    scaled(text, UNITS, "bandwidth").map(BitsPerSec)
}

pub fn parse_duration(text: &str) -> Result<Seconds, String> {
    const UNITS: &[(&str, f64)] = &[
        ("s", 1.0),
        ("min", 60.0),
        ("h", 3600.0),
        ("d", 86400.0),
        ("w", 7.0 * 86400.0),
    ];
    scaled(text, UNITS, "duration").map(Seconds)
}

pub fn parse_power(text: &str) -> Result<Watts, String> {
    const UNITS: &[(&str, f64)] = &[("W", 1.0), ("kW", 1e3)];
    scaled(text, UNITS, "power").map(Watts)
}

/// "85%" → 0.85. Values over 100% are rejected by the caller where they are
/// impossible (targets), since some (growth) may exceed 100%.
pub fn parse_percent(text: &str) -> Result<Fraction, String> {
    let (value, unit) = split_number(text)?;
    if unit != "%" {
        return Err("a percentage is written with `%`, e.g. \"85%\"".to_string());
    }
    Ok(Fraction(value / 100.0))
}

/// A moment of the week: minutes since Monday 00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct WeekMinute(pub u32);

pub const MINUTES_PER_WEEK: u32 = 7 * 24 * 60;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeekMinute {
    pub fn day(self) -> &'static str {
        DAYS[(self.0 / 1440) as usize % 7]
    }
    pub fn hhmm(self) -> String {
        let m = self.0 % 1440;
        format!("{:02}:{:02}", m / 60, m % 60)
    }
}

impl std::fmt::Display for WeekMinute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.day(), self.hhmm())
    }
}

/// A weekly window, such as "sat 22:00-sun 06:00". It may wrap over the end
/// of the week ("sun 22:00-mon 02:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Window {
    pub start: WeekMinute,
    pub end: WeekMinute,
}

impl Window {
    /// Length in minutes.
    pub fn minutes(&self) -> u32 {
        (self.end.0 + MINUTES_PER_WEEK - self.start.0) % MINUTES_PER_WEEK
    }
}

impl Window {
    /// The longest stretch of `other` inside this window, as (offset from
    /// this window's start, length), in minutes; `None` if they do not meet.
    pub fn overlap(&self, other: &Window) -> Option<(u32, u32)> {
        let week = i64::from(MINUTES_PER_WEEK);
        let len = i64::from(self.minutes());
        let (olen, d) = (
            i64::from(other.minutes()),
            (i64::from(other.start.0) - i64::from(self.start.0)).rem_euclid(week),
        );
        [d, d - week]
            .into_iter()
            .map(|s| (s.max(0), (s + olen).min(len)))
            .filter(|(a, b)| b > a)
            .max_by_key(|(a, b)| (b - a, -a))
            .map(|(a, b)| (a as u32, (b - a) as u32))
    }

    /// Whether `inner` lies wholly within this window (both may wrap over
    /// the end of the week).
    pub fn contains(&self, inner: &Window) -> bool {
        let offset = |m: WeekMinute| (m.0 + MINUTES_PER_WEEK - self.start.0) % MINUTES_PER_WEEK;
        let start = offset(inner.start);
        start + inner.minutes() <= self.minutes()
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

fn parse_week_minute(text: &str) -> Result<WeekMinute, String> {
    let text = text.trim();
    let (day, time) = text
        .split_once(' ')
        .ok_or_else(|| format!("`{text}` should be a day and a time, e.g. \"sat 22:00\""))?;
    let day_lc = day.to_ascii_lowercase();
    let d = DAYS
        .iter()
        .position(|d| day_lc.starts_with(d) && day_lc.len() >= 3)
        .ok_or_else(|| format!("`{day}` is not a day; use mon, tue, wed, thu, fri, sat or sun"))?;
    let (h, m) = time
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("`{time}` is not a time; write it as HH:MM"))?;
    let h: u32 = h
        .parse()
        .map_err(|_| format!("`{time}` is not a time; write it as HH:MM"))?;
    let m: u32 = m
        .parse()
        .map_err(|_| format!("`{time}` is not a time; write it as HH:MM"))?;
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(format!("`{time}` is not a time of day"));
    }
    Ok(WeekMinute(
        (d as u32 * 1440 + h * 60 + m) % MINUTES_PER_WEEK,
    ))
}

/// Parses "sat 22:00-sun 06:00". A window of zero length is rejected; one
/// whose end comes before its start within a single day ("sat 22:00-sat
/// 06:00") is rejected as ending before it starts.
pub fn parse_window(text: &str) -> Result<Window, String> {
    let (a, b) = text
        .split_once('-')
        .ok_or_else(|| "a window is written \"sat 22:00-sun 06:00\"".to_string())?;
    let start = parse_week_minute(a)?;
    let end = parse_week_minute(b)?;
    let same_day = a.trim().get(..3).map(str::to_ascii_lowercase)
        == b.trim().get(..3).map(str::to_ascii_lowercase);
    if end == start {
        return Err("the window is empty: it ends when it starts".to_string());
    }
    if same_day && end < start {
        return Err("the window ends before it starts".to_string());
    }
    Ok(Window { start, end })
}

/// Formats a number with at most `digits` decimals, trimming zeros, so
/// output is stable and readable ("1.5", "2", "0.33").
pub fn num(value: f64, digits: usize) -> String {
    let s = format!("{value:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// Formats a size with a binary unit: "64 GiB".
pub fn fmt_bytes(b: Bytes) -> String {
    let v = b.0;
    if v >= TIB {
        format!("{} TiB", num(v / TIB, 2))
    } else if v >= GIB {
        format!("{} GiB", num(v / GIB, 1))
    } else {
        format!("{} MiB", num(v / MIB, 0))
    }
}

/// Formats a duration as "1h 05min".
pub fn fmt_minutes(minutes: f64) -> String {
    let m = minutes.round() as i64;
    if m >= 60 {
        format!("{}h {:02}min", m / 60, m % 60)
    } else {
        format!("{m}min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(
            parse_bytes("64GiB"),
            Ok(Bytes(64.0 * 1024.0 * 1024.0 * 1024.0))
        );
        assert_eq!(parse_bytes("500GB"), Ok(Bytes(500e9)));
        assert_eq!(parse_bytes("1.5 TiB"), Ok(Bytes(1.5 * TIB)));
        assert!(parse_bytes("64").unwrap_err().contains("needs a unit"));
        assert!(
            parse_bytes("64gib")
                .unwrap_err()
                .contains("did you mean `GiB`")
        );
        assert!(parse_bytes("-4GiB").unwrap_err().contains("negative"));
    }

    #[test]
    fn clocks_bandwidth_durations() {
        assert_eq!(parse_hertz("2.4GHz"), Ok(Hertz(2.4e9)));
        assert_eq!(parse_bandwidth("10Gbps"), Ok(BitsPerSec(10e9)));
        assert_eq!(parse_bandwidth("200MB/s"), Ok(BitsPerSec(1.6e9)));
        assert_eq!(parse_duration("30min"), Ok(Seconds(1800.0)));
        assert_eq!(parse_duration("4h"), Ok(Seconds(14400.0)));
        assert_eq!(parse_duration("7d"), Ok(Seconds(604800.0)));
        assert_eq!(parse_power("1.2kW"), Ok(Watts(1200.0)));
        assert_eq!(parse_percent("85%"), Ok(Fraction(0.85)));
        assert!(parse_percent("85").is_err());
        assert!(parse_bytes("1e999GB").is_err());
        assert!(parse_bytes(&"9".repeat(400)).is_err());
    }

    #[test]
    fn windows() {
        let w = parse_window("sat 22:00-sun 06:00").unwrap();
        assert_eq!(w.start, WeekMinute(5 * 1440 + 22 * 60));
        assert_eq!(w.minutes(), 8 * 60);
        let wrap = parse_window("sun 22:00-mon 02:00").unwrap();
        assert_eq!(wrap.minutes(), 4 * 60);
        assert!(
            parse_window("sat 22:00-sat 06:00")
                .unwrap_err()
                .contains("ends before")
        );
        assert!(parse_window("sat 25:00-sun 06:00").is_err());
        assert!(parse_window("caturday 22:00-sun 06:00").is_err());
        assert_eq!(w.to_string(), "sat 22:00-sun 06:00");
        let inner = parse_window("sat 23:00-sun 02:00").unwrap();
        assert!(w.contains(&inner));
        assert!(!inner.contains(&w));
        assert!(wrap.contains(&parse_window("mon 00:00-mon 01:00").unwrap()));
        // sat 22:00-sun 06:00 against sun 00:00-sun 04:00: 2 h in, 4 h long.
        let own = parse_window("sun 00:00-sun 04:00").unwrap();
        assert_eq!(w.overlap(&own), Some((120, 240)));
        assert_eq!(
            w.overlap(&parse_window("mon 08:00-mon 18:00").unwrap()),
            None
        );
        // Across the end of the week: sun 22:00-mon 02:00 against mon 01:00-mon 05:00.
        assert_eq!(
            wrap.overlap(&parse_window("mon 01:00-mon 05:00").unwrap()),
            Some((180, 60))
        );
        assert!(!wrap.contains(&parse_window("mon 01:00-mon 03:00").unwrap()));
    }

    #[test]
    fn numbers() {
        assert_eq!(num(1.50, 2), "1.5");
        assert_eq!(num(2.0, 2), "2");
        assert_eq!(num(-0.0001, 2), "0");
        assert_eq!(fmt_minutes(65.0), "1h 05min");
    }
}
