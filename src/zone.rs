//! The project's time zone: a fixed offset from UTC, or an IANA zone
//! (`Europe/Berlin`) with its daylight-saving rules, from the tz database
//! that `chrono-tz` compiles in (so a plan does not depend on the
//! machine's copy).
//!
//! Times are Unix seconds. A *local* time is the wall clock read as if it
//! were UTC (`2026-03-29 02:30` local is the Unix seconds of `2026-03-29
//! 02:30 UTC`), which is how measurement files and migration windows give
//! them.

use chrono::{Offset, TimeZone};
use chrono_tz::OffsetComponents;
use serde::Serialize;

/// A time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Minutes east of UTC, all year.
    Fixed(i32),
    /// A zone of the tz database.
    Iana(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(0)
    }
}

impl Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// Where a local time falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// One UTC time.
    Single(i64),
    /// Twice, when the clocks go back: the earlier and the later UTC time.
    Twice(i64, i64),
    /// Never, when the clocks go forward; the UTC time of the same wall
    /// clock in the offset before the change (so 02:30 in a one-hour gap
    /// is 03:30 after it).
    Skipped(i64),
}

impl Local {
    /// The earlier time of a repeated hour, the shifted one of a skipped
    /// hour: what a clock on the wall means by a schedule.
    pub fn compatible(self) -> i64 {
        match self {
            Local::Single(t) | Local::Twice(t, _) | Local::Skipped(t) => t,
        }
    }
}

impl Zone {
    /// `UTC`, a fixed offset (`+01:00`, `UTC+5:30`, `-08`), or an IANA
    /// zone name (`Europe/Berlin`).
    pub fn parse(text: &str) -> Option<Zone> {
        let t = text.trim();
        if let Some(minutes) = fixed_offset(t) {
            return Some(Zone::Fixed(minutes));
        }
        t.parse::<chrono_tz::Tz>().ok().map(Zone::Iana)
    }

    /// As written in the project: the zone's name, or `+01:00`.
    pub fn name(&self) -> String {
        match self {
            Zone::Fixed(0) => "UTC".to_string(),
            Zone::Fixed(m) => offset_text(*m),
            Zone::Iana(tz) => tz.name().to_string(),
        }
    }

    /// Seconds east of UTC at the UTC time `utc`.
    pub fn offset_at(&self, utc: i64) -> i64 {
        match self {
            Zone::Fixed(m) => i64::from(*m) * 60,
            Zone::Iana(tz) => i64::from(
                tz.offset_from_utc_datetime(&naive(utc))
                    .fix()
                    .local_minus_utc(),
            ),
        }
    }

    /// Minutes east of UTC of the zone's standard time (without daylight
    /// saving) at the UTC time `utc`.
    pub fn standard_offset_minutes(&self, utc: i64) -> i32 {
        match self {
            Zone::Fixed(m) => *m,
            Zone::Iana(tz) => {
                let offset = tz.offset_from_utc_datetime(&naive(utc));
                (offset.base_utc_offset().num_seconds() / 60) as i32
            }
        }
    }

    /// The local time (wall clock as Unix seconds) of the UTC time `utc`.
    pub fn to_local(&self, utc: i64) -> i64 {
        utc + self.offset_at(utc)
    }

    /// The UTC time of the local time `local`.
    pub fn to_utc(&self, local: i64) -> Local {
        let Zone::Iana(tz) = self else {
            return Local::Single(local - self.offset_at(local));
        };
        let secs = |o: &chrono_tz::TzOffset| i64::from(o.fix().local_minus_utc());
        match tz.offset_from_local_datetime(&naive(local)) {
            chrono::LocalResult::Single(o) => Local::Single(local - secs(&o)),
            chrono::LocalResult::Ambiguous(a, b) => {
                let (x, y) = (local - secs(&a), local - secs(&b));
                Local::Twice(x.min(y), x.max(y))
            }
            // Clock changes are months apart: a day before the gap is in
            // the offset before it.
            chrono::LocalResult::None => Local::Skipped(local - self.offset_at(local - 86400)),
        }
    }
}

/// Unix seconds as a chrono date and time (the epoch when out of range).
fn naive(t: i64) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// Minutes east of UTC of `UTC`, `Z`, `+01:00`, `UTC+5:30`, `-08`.
fn fixed_offset(tz: &str) -> Option<i32> {
    let t = tz.strip_prefix("UTC").unwrap_or(tz);
    if t.is_empty() || t == "Z" {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

/// `+01:00` of an offset in minutes east of UTC.
pub fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-03-29 and 2026-10-25: Europe/Berlin's clock changes (01:00 UTC).
    const SPRING: i64 = 1_774_746_000;
    const AUTUMN: i64 = 1_792_890_000;

    #[test]
    fn names_and_offsets() {
        assert_eq!(Zone::parse("UTC"), Some(Zone::Fixed(0)));
        assert_eq!(Zone::parse("+05:30"), Some(Zone::Fixed(330)));
        assert_eq!(Zone::parse("UTC-8"), Some(Zone::Fixed(-480)));
        assert_eq!(Zone::parse("Mars/Olympus"), None);
        let berlin = Zone::parse("Europe/Berlin").expect("a zone");
        assert_eq!(berlin.name(), "Europe/Berlin");
        // An hour east in winter, two in summer; standard time is +1 both.
        assert_eq!(berlin.offset_at(SPRING - 1), 3600);
        assert_eq!(berlin.offset_at(SPRING), 7200);
        assert_eq!(berlin.offset_at(AUTUMN - 1), 7200);
        assert_eq!(berlin.offset_at(AUTUMN), 3600);
        assert_eq!(berlin.standard_offset_minutes(SPRING + 86400), 60);
    }

    #[test]
    fn local_times_around_the_clock_changes() {
        let berlin = Zone::parse("Europe/Berlin").expect("a zone");
        // Spring: 02:00–03:00 local does not exist; 02:30 is 03:30 CEST,
        // 01:30 UTC. 01:59 CET is 00:59 UTC, 03:00 CEST is 01:00 UTC.
        let local = |utc: i64, h: i64, m: i64| utc - utc.rem_euclid(86400) + h * 3600 + m * 60;
        assert_eq!(
            berlin.to_utc(local(SPRING, 2, 30)),
            Local::Skipped(SPRING + 1800)
        );
        assert_eq!(
            berlin.to_utc(local(SPRING, 1, 59)),
            Local::Single(SPRING - 60)
        );
        assert_eq!(berlin.to_utc(local(SPRING, 3, 0)), Local::Single(SPRING));
        // Autumn: 02:00–03:00 local happens twice, at 00:00–01:00 UTC
        // (CEST) and 01:00–02:00 UTC (CET).
        assert_eq!(
            berlin.to_utc(local(AUTUMN, 2, 30)),
            Local::Twice(AUTUMN - 1800, AUTUMN + 1800)
        );
        assert_eq!(berlin.to_local(AUTUMN - 1800), local(AUTUMN, 2, 30));
        assert_eq!(berlin.to_local(AUTUMN + 1800), local(AUTUMN, 2, 30));
        // A fixed offset has no changes.
        assert_eq!(
            Zone::Fixed(60).to_utc(local(SPRING, 2, 30)),
            Local::Single(local(SPRING, 2, 30) - 3600)
        );
    }
}
