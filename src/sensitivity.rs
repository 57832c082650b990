//! Sensitivity: how the NPV moves when one input moves, each case
//! recomputed through the cost model (never by scaling the NPV).
//!
//! In: the [`Model`], the what-if context ([`WhatIf`]), the plan's [`Assessment`],
//! [`Placement`] and [`CostReport`]. Out: a [`Sensitivity`] row per input,
//! with the NPV at its low and high value.
//!
//! Prices (energy, hosts, each licence) and the discount rate change only
//! costs: the plan's placement is priced again as it is. Headroom changes
//! the VMs' sizes, so each of its cases is re-planned from the assessment
//! on. One host more is the plan with an empty host of the largest
//! cluster's model added (licensed like its others); one host less is the
//! plan with that host's yearly costs and price taken off, a plan that
//! would no longer be N+k sound, shown for scale.

use schemars::JsonSchema;
use serde::Serialize;

use crate::advise::{WhatIf, in_parallel, replan};
use crate::assess::Assessment;
use crate::cost::{CostReport, cost};
use crate::model::Model;
use crate::place::Placement;
use crate::round;

/// Relative change of the prices looked at: ±20%.
pub const PRICE_STEP: f64 = 0.2;
/// Change of the sizing headroom: ±0.1.
pub const HEADROOM_STEP: f64 = 0.1;
/// Change of the discount rate: ±2 points.
pub const RATE_STEP: f64 = 0.02;

/// The NPV with one input moved at a time.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sensitivity {
    /// The plan's own NPV (cents).
    #[serde(serialize_with = "round::money")]
    pub base_npv: f64,
    /// Rows by how far the NPV swings, widest first.
    pub rows: Vec<SensitivityRow>,
}

/// One input moved to its low and its high value.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SensitivityRow {
    /// The input that moves.
    pub input: String,
    /// Its low and high value, in words ("-20%", "1.20").
    pub low: String,
    pub high: String,
    /// The NPV at the low value (cents).
    #[serde(serialize_with = "round::money")]
    pub npv_low: f64,
    /// The NPV at the high value (cents).
    #[serde(serialize_with = "round::money")]
    pub npv_high: f64,
}

impl SensitivityRow {
    pub fn swing(&self) -> f64 {
        (self.npv_high - self.npv_low).abs()
    }
}

/// Every case of the module's list, recomputed.
pub fn sensitivity(
    model: &Model,
    what_if: &WhatIf,
    assessment: &Assessment,
    placement: &Placement,
    planned: &CostReport,
) -> Sensitivity {
    let priced = |m: &Model| cost(m, assessment, placement, what_if.schedule).npv;
    let mut rows = Vec::new();
    let steps = [1.0 - PRICE_STEP, 1.0 + PRICE_STEP];
    let pct = |f: f64| format!("{:+.0}%", (f - 1.0) * 100.0);

    let [lo, hi] = steps.map(|f| {
        let mut m = model.clone();
        m.costs.energy_price *= f;
        priced(&m)
    });
    rows.push(row("energy price", pct(steps[0]), pct(steps[1]), lo, hi));

    let [lo, hi] = steps.map(|f| {
        let mut m = model.clone();
        for h in &mut m.host_models {
            h.price *= f;
        }
        priced(&m)
    });
    rows.push(row("host price", pct(steps[0]), pct(steps[1]), lo, hi));

    for lc in &planned.licenses {
        let Some(lid) = model.licenses.iter().position(|l| l.name == lc.license) else {
            continue;
        };
        let [lo, hi] = steps.map(|f| {
            let mut m = model.clone();
            let p = &mut m.licenses[lid].product;
            p.price *= f;
            p.support_per_year *= f;
            priced(&m)
        });
        rows.push(row(
            &format!("{} price and support", lc.license),
            pct(steps[0]),
            pct(steps[1]),
            lo,
            hi,
        ));
    }

    let rate = model.project.discount_rate.0;
    let [lo, hi] = [(rate - RATE_STEP).max(0.0), rate + RATE_STEP].map(|r| {
        let mut m = model.clone();
        m.project.discount_rate.0 = r;
        priced(&m)
    });
    rows.push(row(
        "discount rate",
        format!("{:.1}%", (rate - RATE_STEP).max(0.0) * 100.0),
        format!("{:.1}%", (rate + RATE_STEP) * 100.0),
        lo,
        hi,
    ));

    let headroom = model.project.sizing.headroom;
    let npvs = in_parallel(
        vec![headroom - HEADROOM_STEP, headroom + HEADROOM_STEP],
        |h| {
            let mut m = model.clone();
            m.project.sizing.headroom = h;
            replan(&m, what_if).1.npv
        },
    );
    let (lo, hi) = (npvs[0], npvs[1]);
    rows.push(row(
        "sizing headroom",
        format!("{:.2}", headroom - HEADROOM_STEP),
        format!("{:.2}", headroom + HEADROOM_STEP),
        lo,
        hi,
    ));

    if let Some(hosts) = one_host_more(placement) {
        let more = cost(model, assessment, &hosts, what_if.schedule).npv;
        // The host added is priced like the others: taking one off saves
        // what adding one costs.
        let less = planned.npv + (planned.npv - more);
        rows.push(row(
            "hosts",
            "one less".into(),
            "one more".into(),
            less,
            more,
        ));
    }
    rows.sort_by(|a, b| b.swing().total_cmp(&a.swing()).then(a.input.cmp(&b.input)));
    Sensitivity {
        base_npv: planned.npv,
        rows,
    }
}

fn row(input: &str, low: String, high: String, npv_low: f64, npv_high: f64) -> SensitivityRow {
    SensitivityRow {
        input: input.to_string(),
        low,
        high,
        npv_low,
        npv_high,
    }
}

/// The placement with an empty host added to its largest cluster.
fn one_host_more(placement: &Placement) -> Option<Placement> {
    let mut p = placement.clone();
    let cp = p
        .clusters
        .iter_mut()
        .max_by(|a, b| a.hosts.len().cmp(&b.hosts.len()).then(b.name.cmp(&a.name)))?;
    let mut spare = cp.hosts.last()?.clone();
    spare.name = format!("{}-extra", cp.name);
    spare.vms.clear();
    spare.peaks.clear();
    spare.vcpus = 0;
    spare.spare = true;
    cp.hosts.push(spare);
    Some(p)
}
