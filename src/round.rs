//! Numbers as `plan.json` writes them: rounded to a fixed number of decimals
//! per unit, never `-0`.
//!
//! The stages compute in `f64` and keep full precision; rounding happens only
//! when a value is serialized, field by field, through
//! `#[serde(serialize_with = "crate::round::money")]` and its siblings. A
//! serialized value is the `f64` nearest to a decimal with at most
//! [`Unit::decimals`] digits, so `serde_json` prints it short
//! (`143.35999999999999` → `143.36`), and a value that rounds to zero is
//! written `0.0`, not `-0.0`. The Markdown reads the same serialized plan, so
//! it sees the same numbers.

use serde::Serializer;
use serde::ser::SerializeSeq;

/// The units `plan.json` writes, each with its number of decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Amounts in the project's currency: cents.
    Money,
    /// Percentages (utilisation, rates, coverage): 0.01 %.
    Percent,
    /// CPU demand and capacity: 0.01 GHz.
    Ghz,
    /// Memory: 0.01 GiB.
    Gib,
    /// Disk sizes: 0.01 GB.
    Gb,
    /// Disk operations per second: 0.01 IOPS.
    Iops,
    /// Throughput: 0.01 MB/s or 0.01 Mbit/s.
    Rate,
    /// Durations: 0.01 minute.
    Minutes,
    /// History length: 0.01 day.
    Days,
    /// Licence units (cores, packs, VMs): 0.01 unit.
    Units,
    /// A profile or peak whose unit depends on its resource (GHz, GiB, IOPS,
    /// MB/s, Mbit/s): 0.01 of that unit.
    Resource,
    /// A dimensionless factor (the annuity factor): 0.0001.
    Factor,
}

impl Unit {
    /// How many decimals a value of this unit keeps in `plan.json`. Every
    /// unit keeps two today; the templates print at most two, from the same
    /// rounded values, so the Markdown agrees with `plan.json`.
    pub const fn decimals(self) -> i32 {
        match self {
            Unit::Iops
            | Unit::Minutes
            | Unit::Money
            | Unit::Percent
            | Unit::Ghz
            | Unit::Gib
            | Unit::Gb
            | Unit::Rate
            | Unit::Days
            | Unit::Units
            | Unit::Resource => 2,
            Unit::Factor => 4,
        }
    }
}

/// `value` rounded half away from zero to `decimals` decimals, with `-0`
/// made `0`. Not-finite values are returned as they are (`serde_json` writes
/// them `null`).
pub fn round(value: f64, decimals: i32) -> f64 {
    if !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(decimals);
    let scaled = (value * scale).round();
    // `scaled` is a whole number and `scale` a power of ten, both exact, so
    // one division gives the f64 nearest to the decimal: it prints short.
    let rounded = if scaled.abs() < 2f64.powi(53) {
        scaled / scale
    } else {
        value
    };
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// `value` with `decimals` decimals, as text, for the templates: half-way
/// values round away from zero, as [`round`] and the `money` filter do
/// (`54.5` % prints `55`), and a value printing as zero has no sign
/// (`fixed(-0.3, 0)` is `"0"`, never `"-0"`).
pub fn fixed(value: f64, decimals: usize) -> String {
    let d = i32::try_from(decimals).unwrap_or(i32::MAX);
    format!("{:.*}", decimals, round(value, d))
}

fn one<S: Serializer>(value: f64, unit: Unit, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round(value, unit.decimals()))
}

fn opt<S: Serializer>(value: Option<f64>, unit: Unit, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(&round(v, unit.decimals())),
        None => s.serialize_none(),
    }
}

fn many<S: Serializer>(values: &[f64], unit: Unit, s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(values.len()))?;
    for v in values {
        seq.serialize_element(&round(*v, unit.decimals()))?;
    }
    seq.end()
}

macro_rules! serializers {
    ($($unit:ident => $one:ident, $opt:ident, $many:ident;)*) => {$(
        #[doc = concat!("Serializes an `f64` in [`Unit::", stringify!($unit), "`].")]
        pub fn $one<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
            one(*value, Unit::$unit, s)
        }
        #[doc = concat!("Serializes an `Option<f64>` in [`Unit::", stringify!($unit), "`].")]
        pub fn $opt<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            opt(*value, Unit::$unit, s)
        }
        #[doc = concat!("Serializes a `Vec<f64>` in [`Unit::", stringify!($unit), "`].")]
        pub fn $many<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
            many(values, Unit::$unit, s)
        }
    )*};
}

serializers! {
    Money => money, money_opt, money_vec;
    Percent => percent, percent_opt, percent_vec;
    Ghz => ghz, ghz_opt, ghz_vec;
    Gib => gib, gib_opt, gib_vec;
    Gb => gb, gb_opt, gb_vec;
    Iops => iops, iops_opt, iops_vec;
    Rate => rate, rate_opt, rate_vec;
    Minutes => minutes, minutes_opt, minutes_vec;
    Days => days, days_opt, days_vec;
    Units => units, units_opt, units_vec;
    Resource => resource, resource_opt, resource_vec;
    Factor => factor, factor_opt, factor_vec;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: f64, unit: Unit) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut out);
        one(v, unit, &mut ser).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn float_noise_is_rounded_away() {
        // 143.36 has no exact f64; the sum below lands one ulp off it.
        let noisy = 143.35999999999999_f64;
        assert_eq!(serde_json::to_string(&noisy).unwrap(), "143.35999999999999");
        assert_eq!(json(noisy, Unit::Money), "143.36");
        assert_eq!(json(0.1 + 0.2, Unit::Money), "0.3");
        assert_eq!(json(89.33970937500003, Unit::Gb), "89.34");
        assert_eq!(json(45.833333333333336, Unit::Minutes), "45.83");
        assert_eq!(json(1.08864, Unit::Ghz), "1.09");
        assert_eq!(json(2.5, Unit::Money), "2.5");
        assert_eq!(json(1000.0, Unit::Money), "1000.0");
    }

    #[test]
    fn negative_zero_is_zero() {
        assert_eq!(json(-0.0, Unit::Money), "0.0");
        assert_eq!(json(-0.004, Unit::Money), "0.0");
        assert_eq!(json(-0.004, Unit::Minutes), "0.0");
        assert_eq!(json(-0.005, Unit::Money), "-0.01");
        assert_eq!(fixed(-0.3, 0), "0");
        assert_eq!(fixed(-0.0, 2), "0.00");
        assert_eq!(fixed(-1.5, 0), "-2");
        assert_eq!(fixed(-0.006, 2), "-0.01");
        assert_eq!(fixed(2.5, 0), "3");
        assert_eq!(fixed(54.5, 0), "55");
    }

    #[test]
    fn halves_round_away_from_zero_and_huge_values_stay() {
        assert_eq!(round(0.125, 2), 0.13);
        assert_eq!(round(-0.125, 2), -0.13);
        assert_eq!(round(1e300, 2), 1e300);
        assert!(round(f64::NAN, 2).is_nan());
    }
}
