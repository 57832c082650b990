//! Calendar days and clock times for the runbook, in the project's time
//! zone (a fixed offset, so local time is UTC shifted and every day has
//! 1440 minutes).
//!
//! A day is counted in days since 1970-01-01 of the proleptic Gregorian
//! calendar, a local time in minutes since 1970-01-01 00:00. The
//! conversions are Howard Hinnant's `days_from_civil` and
//! `civil_from_days` (public domain), exact for every year here (1900 to
//! 9999).

/// Minutes in a day and in a week.
pub const DAY: i64 = 1440;
pub const WEEK: i64 = 7 * DAY;

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Day of the week, 0 for Monday.
pub fn weekday(day: i64) -> i64 {
    // 1970-01-01 was a Thursday.
    (day + 3).rem_euclid(7)
}

/// "YYYY-MM-DD", strictly (a real day of a year from 1900 to 9999).
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1900..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let day = days_from_civil(i64::from(y), m, d);
    // A day past the month's end comes back as another date.
    (civil_from_days(day) == (i64::from(y), m, d)).then_some(day)
}

/// "2027-03-06".
pub fn fmt_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// "22:05" of a local minute.
pub fn fmt_clock(minute: i64) -> String {
    let m = minute.rem_euclid(DAY);
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// "2027-03-06T21:05:00Z" of a minute in UTC: ISO 8601, which sorts as
/// text in time order (the playbooks compare it with the clock).
pub fn fmt_utc(minute: i64) -> String {
    format!(
        "{}T{}:00Z",
        fmt_date(minute.div_euclid(DAY)),
        fmt_clock(minute)
    )
}

/// "Sat 2027-03-06 22:05" of a local minute; without a start date (the
/// calendar is then only relative), "week 2 Sat 22:05", weeks counted from
/// the Monday `origin` (a day) as week 1.
pub fn fmt_moment(minute: i64, dated: bool, origin: i64) -> String {
    let day = minute.div_euclid(DAY);
    let name = DAY_NAMES[weekday(day) as usize];
    if dated {
        format!("{name} {} {}", fmt_date(day), fmt_clock(minute))
    } else {
        let week = (day - origin).div_euclid(7) + 1;
        format!("week {week} {name} {}", fmt_clock(minute))
    }
}

/// "2027-03-06 22:05", the form Mermaid's gantt reads.
pub fn fmt_iso(minute: i64) -> String {
    format!("{} {}", fmt_date(minute.div_euclid(DAY)), fmt_clock(minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        // 2000-03-01: 30 years with 7 leap days, plus Jan and Feb of a leap year.
        assert_eq!(days_from_civil(2000, 3, 1), 30 * 365 + 7 + 31 + 29);
        assert_eq!(parse_date("2027-03-06").map(weekday), Some(5)); // a Saturday
        assert_eq!(
            parse_date("2024-02-29").map(fmt_date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_date("2027-02-29"), None);
        assert_eq!(parse_date("2027-3-06"), None);
        assert_eq!(parse_date("2027-13-01"), None);
        assert_eq!(parse_date("+027-03-06"), None);
        for day in -800_000..800_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn moments() {
        let sat = parse_date("2027-03-06").unwrap_or_default();
        assert_eq!(
            fmt_moment(sat * DAY + 22 * 60 + 5, true, 0),
            "Sat 2027-03-06 22:05"
        );
        assert_eq!(
            fmt_moment(sat * DAY + DAY + 30, true, 0),
            "Sun 2027-03-07 00:30"
        );
        // 1970-01-05 was a Monday.
        assert_eq!(
            fmt_moment(4 * DAY + 12 * DAY + 60, false, 4),
            "week 2 Sat 01:00"
        );
        assert_eq!(fmt_iso(sat * DAY + 90), "2027-03-06 01:30");
    }
}
