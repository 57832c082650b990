//! `virtplan diff`: what a change does to a plan, for a pull-request review.
//!
//! In: two plans, each a `plan.json` text ([`PlanView::from_json`]) or a
//! computed [`Plan`] ([`PlanView::from_plan`]), both read through the same
//! serialized form, so a project planned on the fly and its `plan.json`
//! compare equal. Out: a [`PlanDiff`] (hosts per cluster; VMs added,
//! removed, moved with the plan's reason, resized; verdicts; costs with the
//! items that moved; waves; new and resolved diagnostics) and its Markdown
//! ([`markdown`]), a one-line headline with the details in `<details>`
//! blocks. [`PlanDiff::changed`] is whether the two `plan.json` values differ
//! anywhere, so nothing the summary leaves out can hide a change. No I/O:
//! the binary reads the files (`src/cli/diff.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::cost::{Category, InvestmentKind};
use crate::diag::Severity;
use crate::emit::markdown_escape;
use crate::model::Verdict;
use crate::plan::{FORMAT, Plan};
use crate::units::fmt_minutes;

/// Why one side of a diff cannot be read as a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum InputError {
    /// Not JSON (the parser's message).
    NotJson(String),
    /// JSON without a numeric `format`.
    NoFormat,
    /// A `format` other than [`FORMAT`] (as written in the file).
    Format(String),
    /// Format [`FORMAT`], but not its layout (the deserializer's message).
    Layout(String),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::NotJson(e) => write!(f, "not a plan.json: {e}"),
            InputError::NoFormat => write!(
                f,
                "not a virtplan plan.json: it has no `format` version (diff reads format {FORMAT})"
            ),
            InputError::Format(found) => write!(
                f,
                "plan.json has format {found}, but this virtplan diffs format {FORMAT}; \
                 re-plan it with this virtplan, or pass the project folder instead"
            ),
            InputError::Layout(e) => write!(f, "not a plan.json of format {FORMAT}: {e}"),
        }
    }
}

// ------------------------------------------------------------ what diff reads

/// The parts of `plan.json` a diff compares, with the whole JSON value.
#[derive(Debug, Clone)]
pub struct PlanView {
    plan: View,
    json: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
struct View {
    project: ProjectView,
    assessment: AssessmentView,
    capacity: CapacityView,
    costs: CostsView,
    runbook: RunbookView,
    diagnostics: Vec<DiagnosticItem>,
}

#[derive(Debug, Clone, Deserialize)]
struct ProjectView {
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct AssessmentView {
    servers: Vec<ServerView>,
}

#[derive(Debug, Clone, Deserialize)]
struct ServerView {
    name: String,
    verdict: Verdict,
    vm: Shape,
}

/// A VM's size, as `plan.json` states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    pub vcpus: u32,
    pub memory_gib: f64,
    pub disk_gb: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct CapacityView {
    clusters: Vec<ClusterView>,
    assignments: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ClusterView {
    name: String,
    host_model: String,
    hosts: Vec<HostView>,
    moves: Vec<MoveView>,
}

#[derive(Debug, Clone, Deserialize)]
struct HostView {
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct MoveView {
    server: String,
    /// Why the VM moved, when the plan records it.
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct CostsView {
    currency: String,
    yearly: Vec<LineView>,
    investment: Vec<InvestmentView>,
    investment_total: f64,
    as_is_tco: f64,
    to_be_tco: f64,
    npv: f64,
    irr_pct: Option<f64>,
    roi_pct: Option<f64>,
    payback_month: Option<u32>,
    discounted_payback_month: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
struct LineView {
    key: Category,
    license: Option<String>,
    item: String,
    as_is: f64,
    to_be: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct InvestmentView {
    key: InvestmentKind,
    host_model: Option<String>,
    item: String,
    amount: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct RunbookView {
    waves: Vec<WaveView>,
}

#[derive(Debug, Clone, Deserialize)]
struct WaveView {
    number: usize,
    duration_minutes: f64,
    fits_window: bool,
    servers: Vec<WaveServer>,
}

#[derive(Debug, Clone, Deserialize)]
struct WaveServer {
    server: String,
    copy_minutes: f64,
    downtime_minutes: f64,
}

/// A diagnostic a plan carries: new or resolved from one plan to the other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DiagnosticItem {
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

impl PlanView {
    /// Reads a `plan.json` text of format [`FORMAT`].
    pub fn from_json(text: &str) -> Result<PlanView, InputError> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| InputError::NotJson(e.to_string()))?;
        PlanView::from_value(json)
    }

    /// A plan computed in this run, as its `plan.json` would read.
    pub fn from_plan(plan: &Plan) -> Result<PlanView, InputError> {
        let json = serde_json::to_value(plan).map_err(|e| InputError::Layout(e.to_string()))?;
        PlanView::from_value(json)
    }

    /// The plan as its `plan.json` reads.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }

    fn from_value(json: serde_json::Value) -> Result<PlanView, InputError> {
        let format = json
            .get("format")
            .filter(|f| f.is_number())
            .ok_or(InputError::NoFormat)?;
        if format.as_u64() != Some(u64::from(FORMAT)) {
            return Err(InputError::Format(format.to_string()));
        }
        let plan = View::deserialize(&json).map_err(|e| InputError::Layout(e.to_string()))?;
        Ok(PlanView { plan, json })
    }
}

// ------------------------------------------------------------ what diff finds

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change<T> {
    pub before: T,
    pub after: T,
}

impl<T: PartialEq> Change<T> {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// An amount before and after, with the difference; in the plan's
/// currency, compared to the cent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amount {
    pub before: f64,
    pub after: f64,
    /// after − before, to the cent.
    pub delta: f64,
}

impl Amount {
    fn new(before: f64, after: f64) -> Amount {
        Amount {
            before,
            after,
            delta: cents_to_f64(cents(after) - cents(before)),
        }
    }
    pub fn changed(&self) -> bool {
        cents(self.before) != cents(self.after)
    }
}

/// An amount to the cent, as a whole number: plans' amounts are rounded to
/// cents, so equal amounts give equal numbers.
fn cents(amount: f64) -> i64 {
    // Amounts in a plan are far below 2^53 cents; `as` saturates beyond.
    (amount * 100.0).round() as i64
}

fn cents_to_f64(c: i64) -> f64 {
    let v = c as f64 / 100.0;
    if v == 0.0 { 0.0 } else { v }
}

/// One cluster's hosts before and after (`None`: the cluster is not in
/// that plan).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterChange {
    pub cluster: String,
    pub host_model: Change<Option<String>>,
    pub hosts: Change<usize>,
}

/// A VM and where it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VmPlacement {
    pub server: String,
    pub cluster: String,
    pub host: String,
    /// Its migration wave, if the runbook has it.
    pub wave: Option<usize>,
}

/// A VM placed on another host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VmMove {
    pub server: String,
    pub from: String,
    pub to: String,
    /// The new plan's reason for the move, when it records one.
    pub reason: Option<String>,
}

/// A VM whose shape changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VmResize {
    pub server: String,
    pub shape: Change<Shape>,
}

/// VMs placed in one plan and not the other, or placed differently.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct VmChanges {
    pub added: Vec<VmPlacement>,
    pub removed: Vec<VmPlacement>,
    pub moved: Vec<VmMove>,
    pub resized: Vec<VmResize>,
}

/// A server of both inventories whose verdict changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictChange {
    pub server: String,
    pub verdict: Change<Verdict>,
}

/// A server of one inventory only, with its verdict there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerVerdict {
    pub server: String,
    pub verdict: Verdict,
}

/// Servers added to or removed from the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ServerChanges {
    pub added: Vec<ServerVerdict>,
    pub removed: Vec<ServerVerdict>,
}

/// A yearly cost item that moved, identified by its key (and licence).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemChange {
    pub key: Category,
    pub license: Option<String>,
    pub item: String,
    /// Per year; an item missing from one plan counts 0 there.
    pub as_is: Amount,
    pub to_be: Amount,
}

/// An investment item that moved, identified by its key (and host model).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvestmentChange {
    pub key: InvestmentKind,
    pub host_model: Option<String>,
    pub item: String,
    /// An item missing from one plan counts 0 there.
    pub amount: Amount,
}

/// The cost report's measures before and after, and the items that moved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostChanges {
    pub currency: Change<String>,
    pub npv: Amount,
    pub investment_total: Amount,
    pub as_is_tco: Amount,
    pub to_be_tco: Amount,
    pub irr_pct: Change<Option<f64>>,
    pub roi_pct: Change<Option<f64>>,
    pub payback_month: Change<Option<u32>>,
    pub discounted_payback_month: Change<Option<u32>>,
    pub yearly: Vec<ItemChange>,
    pub investment: Vec<InvestmentChange>,
}

impl CostChanges {
    pub fn changed(&self) -> bool {
        self.currency.changed()
            || self.npv.changed()
            || self.investment_total.changed()
            || self.as_is_tco.changed()
            || self.to_be_tco.changed()
            || self.irr_pct.changed()
            || self.roi_pct.changed()
            || self.payback_month.changed()
            || self.discounted_payback_month.changed()
            || !self.yearly.is_empty()
            || !self.investment.is_empty()
    }
}

/// A server of both runbooks in another wave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveMove {
    pub server: String,
    pub wave: Change<usize>,
}

/// A wave of both runbooks whose duration, or fit in its window, changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveTiming {
    pub wave: usize,
    pub duration_minutes: Change<f64>,
    pub fits_window: Change<bool>,
}

/// A server of both runbooks whose copy time or downtime changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerTiming {
    pub server: String,
    pub copy_minutes: Change<f64>,
    pub downtime_minutes: Change<f64>,
}

/// The runbook's waves before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveChanges {
    pub count: Change<usize>,
    pub servers: Vec<WaveMove>,
    pub timings: Vec<WaveTiming>,
    pub server_timings: Vec<ServerTiming>,
}

/// Diagnostics of the new plan the old one did not have, and the reverse.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct DiagnosticChanges {
    pub new: Vec<DiagnosticItem>,
    pub resolved: Vec<DiagnosticItem>,
}

/// What changed from one plan to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDiff {
    /// The one-line summary, as the Markdown's first line (without `**`).
    pub headline: String,
    /// Whether the two `plan.json` values differ anywhere.
    pub changed: bool,
    pub project: Change<String>,
    /// Hosts of every cluster together.
    pub hosts: Change<usize>,
    /// Every cluster of either plan, by name.
    pub clusters: Vec<ClusterChange>,
    pub servers: ServerChanges,
    pub vms: VmChanges,
    pub verdicts: Vec<VerdictChange>,
    pub costs: CostChanges,
    pub waves: WaveChanges,
    pub diagnostics: DiagnosticChanges,
    /// The parts of `plan.json` that differ (`capacity.clusters`,
    /// `costs.years`…), the summary's details included.
    pub parts: Vec<String>,
}

/// Compares two plans.
pub fn diff(old: &PlanView, new: &PlanView) -> PlanDiff {
    let (a, b) = (&old.plan, &new.plan);
    let clusters = clusters(a, b);
    let hosts = Change {
        before: clusters.iter().map(|c| c.hosts.before).sum(),
        after: clusters.iter().map(|c| c.hosts.after).sum(),
    };
    let mut parts = Vec::new();
    differing_parts(
        "",
        &without_provenance(&old.json),
        &without_provenance(&new.json),
        2,
        &mut parts,
    );
    let mut d = PlanDiff {
        headline: String::new(),
        changed: !parts.is_empty(),
        project: Change {
            before: a.project.name.clone(),
            after: b.project.name.clone(),
        },
        hosts,
        clusters,
        servers: servers(a, b),
        vms: vms(a, b),
        verdicts: verdicts(a, b),
        costs: costs(&a.costs, &b.costs),
        waves: waves(a, b),
        diagnostics: diagnostics(a, b),
        parts,
    };
    d.headline = headline(&d);
    d
}

/// Host name → cluster name.
fn host_clusters(p: &View) -> BTreeMap<&str, &str> {
    p.capacity
        .clusters
        .iter()
        .flat_map(|c| c.hosts.iter().map(|h| (h.name.as_str(), c.name.as_str())))
        .collect()
}

fn clusters(a: &View, b: &View) -> Vec<ClusterChange> {
    let index = |p: &View| -> BTreeMap<String, (String, usize)> {
        p.capacity
            .clusters
            .iter()
            .map(|c| (c.name.clone(), (c.host_model.clone(), c.hosts.len())))
            .collect()
    };
    let (before, after) = (index(a), index(b));
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let (b0, a0) = (before.get(name), after.get(name));
            ClusterChange {
                cluster: name.clone(),
                host_model: Change {
                    before: b0.map(|x| x.0.clone()),
                    after: a0.map(|x| x.0.clone()),
                },
                hosts: Change {
                    before: b0.map_or(0, |x| x.1),
                    after: a0.map_or(0, |x| x.1),
                },
            }
        })
        .collect()
}

fn vms(a: &View, b: &View) -> VmChanges {
    let (ca, cb) = (host_clusters(a), host_clusters(b));
    let (wa, wb) = (wave_index(a), wave_index(b));
    let placed =
        |p: (&BTreeMap<&str, &str>, &BTreeMap<String, usize>), server: &str, host: &str| {
            VmPlacement {
                server: server.to_string(),
                cluster: p.0.get(host).copied().unwrap_or_default().to_string(),
                host: host.to_string(),
                wave: p.1.get(server).copied(),
            }
        };
    let reasons: BTreeMap<&str, &str> = b
        .capacity
        .clusters
        .iter()
        .flat_map(|c| &c.moves)
        .filter_map(|m| Some((m.server.as_str(), m.reason.as_deref()?)))
        .collect();
    let shapes = |p: &View| -> BTreeMap<String, Shape> {
        p.assessment
            .servers
            .iter()
            .map(|s| (s.name.clone(), s.vm.clone()))
            .collect()
    };
    let (sa, sb) = (shapes(a), shapes(b));
    let (before, after) = (&a.capacity.assignments, &b.capacity.assignments);
    let mut out = VmChanges::default();
    for (server, host) in after {
        match before.get(server) {
            None => out.added.push(placed((&cb, &wb), server, host)),
            Some(old) if old != host => out.moved.push(VmMove {
                server: server.clone(),
                from: old.clone(),
                to: host.clone(),
                reason: reasons.get(server.as_str()).map(|r| r.to_string()),
            }),
            Some(_) => {}
        }
        if before.contains_key(server)
            && let (Some(x), Some(y)) = (sa.get(server), sb.get(server))
            && x != y
        {
            out.resized.push(VmResize {
                server: server.clone(),
                shape: Change {
                    before: x.clone(),
                    after: y.clone(),
                },
            });
        }
    }
    for (server, host) in before {
        if !after.contains_key(server) {
            out.removed.push(placed((&ca, &wa), server, host));
        }
    }
    out
}

fn verdict_index(p: &View) -> BTreeMap<String, Verdict> {
    p.assessment
        .servers
        .iter()
        .map(|s| (s.name.clone(), s.verdict))
        .collect()
}

fn servers(a: &View, b: &View) -> ServerChanges {
    let (before, after) = (verdict_index(a), verdict_index(b));
    let only = |x: &BTreeMap<String, Verdict>, y: &BTreeMap<String, Verdict>| {
        x.iter()
            .filter(|(name, _)| !y.contains_key(*name))
            .map(|(name, v)| ServerVerdict {
                server: name.clone(),
                verdict: *v,
            })
            .collect()
    };
    ServerChanges {
        added: only(&after, &before),
        removed: only(&before, &after),
    }
}

fn verdicts(a: &View, b: &View) -> Vec<VerdictChange> {
    let (before, after) = (verdict_index(a), verdict_index(b));
    after
        .iter()
        .filter_map(|(name, v)| {
            let old = *before.get(name)?;
            (old != *v).then(|| VerdictChange {
                server: name.clone(),
                verdict: Change {
                    before: old,
                    after: *v,
                },
            })
        })
        .collect()
}

fn costs(a: &CostsView, b: &CostsView) -> CostChanges {
    type LineKey = (Category, Option<String>);
    let lines = |c: &CostsView| -> BTreeMap<LineKey, (String, f64, f64)> {
        c.yearly
            .iter()
            .map(|l| {
                (
                    (l.key, l.license.clone()),
                    (l.item.clone(), l.as_is, l.to_be),
                )
            })
            .collect()
    };
    let (la, lb) = (lines(a), lines(b));
    let keys: BTreeSet<&LineKey> = la.keys().chain(lb.keys()).collect();
    let yearly = keys
        .into_iter()
        .filter_map(|key| {
            let (x, y) = (la.get(key), lb.get(key));
            let item = y.or(x).map(|v| v.0.clone()).unwrap_or_default();
            let change = ItemChange {
                key: key.0,
                license: key.1.clone(),
                item,
                as_is: Amount::new(x.map_or(0.0, |v| v.1), y.map_or(0.0, |v| v.1)),
                to_be: Amount::new(x.map_or(0.0, |v| v.2), y.map_or(0.0, |v| v.2)),
            };
            (change.as_is.changed() || change.to_be.changed()).then_some(change)
        })
        .collect();
    type InvestmentKey = (InvestmentKind, Option<String>);
    let items = |c: &CostsView| -> BTreeMap<InvestmentKey, (String, f64)> {
        c.investment
            .iter()
            .map(|i| ((i.key, i.host_model.clone()), (i.item.clone(), i.amount)))
            .collect()
    };
    let (ia, ib) = (items(a), items(b));
    let keys: BTreeSet<&InvestmentKey> = ia.keys().chain(ib.keys()).collect();
    let investment = keys
        .into_iter()
        .filter_map(|key| {
            let (x, y) = (ia.get(key), ib.get(key));
            let change = InvestmentChange {
                key: key.0,
                host_model: key.1.clone(),
                item: y.or(x).map(|v| v.0.clone()).unwrap_or_default(),
                amount: Amount::new(x.map_or(0.0, |v| v.1), y.map_or(0.0, |v| v.1)),
            };
            change.amount.changed().then_some(change)
        })
        .collect();
    CostChanges {
        currency: Change {
            before: a.currency.clone(),
            after: b.currency.clone(),
        },
        npv: Amount::new(a.npv, b.npv),
        investment_total: Amount::new(a.investment_total, b.investment_total),
        as_is_tco: Amount::new(a.as_is_tco, b.as_is_tco),
        to_be_tco: Amount::new(a.to_be_tco, b.to_be_tco),
        irr_pct: Change {
            before: a.irr_pct,
            after: b.irr_pct,
        },
        roi_pct: Change {
            before: a.roi_pct,
            after: b.roi_pct,
        },
        payback_month: Change {
            before: a.payback_month,
            after: b.payback_month,
        },
        discounted_payback_month: Change {
            before: a.discounted_payback_month,
            after: b.discounted_payback_month,
        },
        yearly,
        investment,
    }
}

/// Server name → its wave number.
fn wave_index(p: &View) -> BTreeMap<String, usize> {
    p.runbook
        .waves
        .iter()
        .flat_map(|w| w.servers.iter().map(|s| (s.server.clone(), w.number)))
        .collect()
}

fn waves(a: &View, b: &View) -> WaveChanges {
    let (before, after) = (wave_index(a), wave_index(b));
    let old_waves: BTreeMap<usize, &WaveView> =
        a.runbook.waves.iter().map(|w| (w.number, w)).collect();
    let timings = b
        .runbook
        .waves
        .iter()
        .filter_map(|w| {
            let old = old_waves.get(&w.number)?;
            let t = WaveTiming {
                wave: w.number,
                duration_minutes: Change {
                    before: old.duration_minutes,
                    after: w.duration_minutes,
                },
                fits_window: Change {
                    before: old.fits_window,
                    after: w.fits_window,
                },
            };
            (t.duration_minutes.changed() || t.fits_window.changed()).then_some(t)
        })
        .collect();
    let times = |p: &View| -> BTreeMap<String, (f64, f64)> {
        p.runbook
            .waves
            .iter()
            .flat_map(|w| &w.servers)
            .map(|s| (s.server.clone(), (s.copy_minutes, s.downtime_minutes)))
            .collect()
    };
    let (ta, tb) = (times(a), times(b));
    let server_timings = tb
        .iter()
        .filter_map(|(server, after)| {
            let before = *ta.get(server)?;
            (before != *after).then(|| ServerTiming {
                server: server.clone(),
                copy_minutes: Change {
                    before: before.0,
                    after: after.0,
                },
                downtime_minutes: Change {
                    before: before.1,
                    after: after.1,
                },
            })
        })
        .collect();
    WaveChanges {
        timings,
        server_timings,
        count: Change {
            before: a.runbook.waves.len(),
            after: b.runbook.waves.len(),
        },
        servers: after
            .iter()
            .filter_map(|(name, w)| {
                let old = *before.get(name)?;
                (old != *w).then(|| WaveMove {
                    server: name.clone(),
                    wave: Change {
                        before: old,
                        after: *w,
                    },
                })
            })
            .collect(),
    }
}

fn diagnostics(a: &View, b: &View) -> DiagnosticChanges {
    let (before, after): (BTreeSet<&DiagnosticItem>, BTreeSet<&DiagnosticItem>) = (
        a.diagnostics.iter().collect(),
        b.diagnostics.iter().collect(),
    );
    DiagnosticChanges {
        new: after.difference(&before).map(|d| (*d).clone()).collect(),
        resolved: before.difference(&after).map(|d| (*d).clone()).collect(),
    }
}

/// A plan without what says how it was made rather than what it is: each
/// cluster's `replan` (which path a re-plan took). A folder planned
/// against the old side always has one, the old plan mostly not.
fn without_provenance(json: &serde_json::Value) -> serde_json::Value {
    let mut json = json.clone();
    if let Some(clusters) = json
        .pointer_mut("/capacity/clusters")
        .and_then(|c| c.as_array_mut())
    {
        for cluster in clusters {
            if let Some(c) = cluster.as_object_mut() {
                c.remove("replan");
            }
        }
    }
    json
}

/// The dotted paths, `depth` object levels deep, at which two JSON values
/// differ; arrays and scalars are compared whole.
fn differing_parts(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    depth: usize,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if depth > 0 => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let null = Value::Null;
                let (va, vb) = (x.get(key).unwrap_or(&null), y.get(key).unwrap_or(&null));
                differing_parts(&sub, va, vb, depth - 1, out);
            }
        }
        _ => out.push(if path.is_empty() {
            "(the whole plan)".to_string()
        } else {
            path.to_string()
        }),
    }
}

// ------------------------------------------------------------------ output

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An amount in whole units with thousands separators and a sign: `+1,250`,
/// `−3,200` (U+2212), `0`; amounts under one unit keep their cents.
pub fn signed_amount(value: f64) -> String {
    let c = cents(value);
    let sign = match c.signum() {
        1 => "+",
        -1 => "\u{2212}",
        _ => "",
    };
    let abs = c.unsigned_abs();
    if abs < 100 && abs > 0 {
        return format!("{sign}0.{abs:02}");
    }
    format!("{sign}{}", grouped((abs + 50) / 100))
}

/// An amount in whole units with thousands separators: `1,250`, `−3,200`.
fn amount(value: f64) -> String {
    let c = cents(value);
    let whole = (c.unsigned_abs() + 50) / 100;
    let sign = if c < 0 && whole > 0 { "\u{2212}" } else { "" };
    format!("{sign}{}", grouped(whole))
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn headline(d: &PlanDiff) -> String {
    if !d.changed {
        return "No changes: the plans are the same.".to_string();
    }
    let mut parts = Vec::new();
    let vm_parts: Vec<(usize, &str)> = [
        (d.vms.added.len(), "added"),
        (d.vms.removed.len(), "removed"),
        (d.vms.moved.len(), "moved"),
        (d.vms.resized.len(), "resized"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .collect();
    if vm_parts.is_empty() {
        parts.push("no VM changed".to_string());
    }
    for (i, (n, word)) in vm_parts.into_iter().enumerate() {
        parts.push(if i == 0 {
            format!("{} {word}", plural(n, "VM", "VMs"))
        } else {
            format!("{n} {word}")
        });
    }
    parts.push(format!("hosts {} → {}", d.hosts.before, d.hosts.after));
    if !d.verdicts.is_empty() {
        parts.push(format!(
            "{} changed",
            plural(d.verdicts.len(), "verdict", "verdicts")
        ));
    }
    if !d.waves.servers.is_empty() {
        parts.push(format!(
            "{} in another wave",
            plural(d.waves.servers.len(), "server", "servers")
        ));
    }
    let currency = &d.costs.currency.after;
    parts.push(if d.costs.npv.changed() {
        format!("NPV {} {currency}", signed_amount(d.costs.npv.delta))
    } else {
        "NPV unchanged".to_string()
    });
    let (new, resolved) = (d.diagnostics.new.len(), d.diagnostics.resolved.len());
    match (new, resolved) {
        (0, 0) => {}
        (n, 0) => parts.push(plural(n, "new warning", "new warnings")),
        (0, r) => parts.push(plural(r, "warning resolved", "warnings resolved")),
        (n, r) => parts.push(format!(
            "{}, {r} resolved",
            plural(n, "new warning", "new warnings")
        )),
    }
    format!("Plan: {}", parts.join(", "))
}

fn md(text: &str) -> String {
    markdown_escape(text)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_string(), |v| v.to_string())
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(
        || "—".to_string(),
        |v| format!("{}%", crate::round::fixed(v, 1).replace('-', "\u{2212}")),
    )
}

fn shape(s: &Shape) -> String {
    format!(
        "{} vCPU, {} GiB, {} GB",
        s.vcpus,
        crate::round::fixed(s.memory_gib, 1),
        crate::round::fixed(s.disk_gb, 0)
    )
}

/// Starts a `<details>` block: a blank line, the summary, a blank line.
fn details(out: &mut String, summary: &str) {
    let _ = write!(
        out,
        "\n<details>\n<summary>{}</summary>\n\n",
        html_escape(summary)
    );
}

fn end_details(out: &mut String) {
    out.push_str("\n</details>\n");
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The review summary as Markdown: the headline in bold, then one
/// `<details>` block per part that changed.
pub fn markdown(d: &PlanDiff) -> String {
    let mut out = format!("**{}**\n", md(&d.headline));
    if !d.changed {
        return out;
    }
    if d.project.changed() {
        let _ = write!(
            out,
            "\nProjects: {} → {}\n",
            md(&d.project.before),
            md(&d.project.after)
        );
    }
    let currency = md(&d.costs.currency.after);

    if d.hosts.changed() || d.clusters.iter().any(|c| c.host_model.changed()) {
        details(
            &mut out,
            &format!("Hosts: {} → {}", d.hosts.before, d.hosts.after),
        );
        out.push_str("| cluster | host model | hosts |\n| --- | --- | --- |\n");
        for c in &d.clusters {
            let model = if c.host_model.changed() {
                format!(
                    "{} → {}",
                    md(&opt(c.host_model.before.as_deref())),
                    md(&opt(c.host_model.after.as_deref()))
                )
            } else {
                md(&opt(c.host_model.after.as_deref()))
            };
            let _ = writeln!(
                out,
                "| {} | {model} | {} → {} |",
                md(&c.cluster),
                c.hosts.before,
                c.hosts.after
            );
        }
        end_details(&mut out);
    }

    let v = &d.vms;
    if !(v.added.is_empty() && v.removed.is_empty() && v.moved.is_empty() && v.resized.is_empty()) {
        details(
            &mut out,
            &format!(
                "VMs: {} added, {} removed, {} moved, {} resized",
                v.added.len(),
                v.removed.len(),
                v.moved.len(),
                v.resized.len()
            ),
        );
        if !v.added.is_empty() || !v.removed.is_empty() {
            out.push_str(
                "| VM | change | cluster | host | wave |\n| --- | --- | --- | --- | --- |\n",
            );
            for (list, word) in [(&v.added, "added"), (&v.removed, "removed")] {
                for p in list {
                    let _ = writeln!(
                        out,
                        "| {} | {word} | {} | {} | {} |",
                        md(&p.server),
                        md(&p.cluster),
                        md(&p.host),
                        opt(p.wave)
                    );
                }
            }
        }
        if !v.moved.is_empty() {
            if !v.added.is_empty() || !v.removed.is_empty() {
                out.push('\n');
            }
            out.push_str("| VM moved | from | to | reason |\n| --- | --- | --- | --- |\n");
            for m in &v.moved {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md(&m.server),
                    md(&m.from),
                    md(&m.to),
                    md(m.reason.as_deref().unwrap_or("—"))
                );
            }
        }
        if !v.resized.is_empty() {
            if !(v.added.is_empty() && v.removed.is_empty() && v.moved.is_empty()) {
                out.push('\n');
            }
            out.push_str("| VM resized | before | after |\n| --- | --- | --- |\n");
            for r in &v.resized {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    md(&r.server),
                    shape(&r.shape.before),
                    shape(&r.shape.after)
                );
            }
        }
        end_details(&mut out);
    }

    let s = &d.servers;
    if !s.added.is_empty() || !s.removed.is_empty() {
        details(
            &mut out,
            &format!(
                "Inventory: {} added, {} removed",
                plural(s.added.len(), "server", "servers"),
                s.removed.len()
            ),
        );
        out.push_str("| server | change | verdict |\n| --- | --- | --- |\n");
        for (list, word) in [(&s.added, "added"), (&s.removed, "removed")] {
            for v in list {
                let _ = writeln!(
                    out,
                    "| {} | {word} | {} |",
                    md(&v.server),
                    v.verdict.as_str()
                );
            }
        }
        end_details(&mut out);
    }

    if !d.verdicts.is_empty() {
        details(
            &mut out,
            &format!(
                "Verdicts: {} changed",
                plural(d.verdicts.len(), "server", "servers")
            ),
        );
        out.push_str("| server | before | after |\n| --- | --- | --- |\n");
        for c in &d.verdicts {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md(&c.server),
                c.verdict.before.as_str(),
                c.verdict.after.as_str()
            );
        }
        end_details(&mut out);
    }

    let c = &d.costs;
    if c.changed() {
        let summary = if c.npv.changed() {
            format!("Costs: NPV {} {currency}", signed_amount(c.npv.delta))
        } else {
            "Costs: NPV unchanged".to_string()
        };
        details(&mut out, &summary);
        out.push_str("| measure | before | after | change |\n| --- | --- | --- | --- |\n");
        for (name, a) in [
            ("NPV", &c.npv),
            ("investment", &c.investment_total),
            ("as-is TCO", &c.as_is_tco),
            ("to-be TCO", &c.to_be_tco),
        ] {
            if a.changed() {
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} | {} |",
                    amount(a.before),
                    amount(a.after),
                    signed_amount(a.delta)
                );
            }
        }
        for (name, p) in [("IRR", &c.irr_pct), ("ROI", &c.roi_pct)] {
            if p.changed() {
                let _ = writeln!(out, "| {name} | {} | {} | |", pct(p.before), pct(p.after));
            }
        }
        for (name, m) in [
            ("payback month", &c.payback_month),
            ("discounted payback month", &c.discounted_payback_month),
        ] {
            if m.changed() {
                let _ = writeln!(out, "| {name} | {} | {} | |", opt(m.before), opt(m.after));
            }
        }
        if c.currency.changed() {
            let _ = writeln!(
                out,
                "| currency | {} | {} | |",
                md(&c.currency.before),
                md(&c.currency.after)
            );
        }
        if !c.yearly.is_empty() {
            out.push_str("\n| yearly item | as-is | to-be |\n| --- | --- | --- |\n");
            for i in &c.yearly {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    md(&i.item),
                    change_cell(&i.as_is),
                    change_cell(&i.to_be)
                );
            }
        }
        if !c.investment.is_empty() {
            out.push_str("\n| investment | amount |\n| --- | --- |\n");
            for i in &c.investment {
                let _ = writeln!(out, "| {} | {} |", md(&i.item), change_cell(&i.amount));
            }
        }
        end_details(&mut out);
    }

    let w = &d.waves;
    if w.count.changed()
        || !w.servers.is_empty()
        || !w.timings.is_empty()
        || !w.server_timings.is_empty()
    {
        details(
            &mut out,
            &format!(
                "Waves: {} → {}, {} in another wave, {} timed differently",
                w.count.before,
                w.count.after,
                plural(w.servers.len(), "server", "servers"),
                plural(
                    w.timings.len() + w.server_timings.len(),
                    "wave or server",
                    "waves or servers"
                )
            ),
        );
        if !w.servers.is_empty() {
            out.push_str("| server | wave before | wave after |\n| --- | --- | --- |\n");
            for m in &w.servers {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    md(&m.server),
                    m.wave.before,
                    m.wave.after
                );
            }
        }
        if !w.timings.is_empty() {
            if !w.servers.is_empty() {
                out.push('\n');
            }
            out.push_str("| wave | duration | fits its window |\n| --- | --- | --- |\n");
            for t in &w.timings {
                let fits = |b: bool| if b { "yes" } else { "no" };
                let _ = writeln!(
                    out,
                    "| {} | {} → {} | {} |",
                    t.wave,
                    fmt_minutes(t.duration_minutes.before),
                    fmt_minutes(t.duration_minutes.after),
                    if t.fits_window.changed() {
                        format!(
                            "{} → {}",
                            fits(t.fits_window.before),
                            fits(t.fits_window.after)
                        )
                    } else {
                        fits(t.fits_window.after).to_string()
                    }
                );
            }
        }
        if !w.server_timings.is_empty() {
            if !w.servers.is_empty() || !w.timings.is_empty() {
                out.push('\n');
            }
            out.push_str("| server | copy | downtime |\n| --- | --- | --- |\n");
            for t in &w.server_timings {
                let _ = writeln!(
                    out,
                    "| {} | {} → {} | {} → {} |",
                    md(&t.server),
                    fmt_minutes(t.copy_minutes.before),
                    fmt_minutes(t.copy_minutes.after),
                    fmt_minutes(t.downtime_minutes.before),
                    fmt_minutes(t.downtime_minutes.after)
                );
            }
        }
        end_details(&mut out);
    }

    let g = &d.diagnostics;
    if !g.new.is_empty() || !g.resolved.is_empty() {
        details(
            &mut out,
            &format!(
                "Warnings: {} new, {} resolved",
                g.new.len(),
                g.resolved.len()
            ),
        );
        out.push_str("| change | code | message |\n| --- | --- | --- |\n");
        for (list, word) in [(&g.new, "new"), (&g.resolved, "resolved")] {
            for item in list {
                let _ = writeln!(
                    out,
                    "| {word} {} | `{}` | {} |",
                    severity_word(item.severity),
                    item.code.replace('`', "'"),
                    md(&item.message)
                );
            }
        }
        end_details(&mut out);
    }

    details(
        &mut out,
        &format!("Parts of plan.json that differ: {}", d.parts.len()),
    );
    for p in &d.parts {
        let _ = writeln!(out, "- `{}`", p.replace('`', "'"));
    }
    end_details(&mut out);
    out
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn change_cell(a: &Amount) -> String {
    if a.changed() {
        format!(
            "{} → {} ({})",
            amount(a.before),
            amount(a.after),
            signed_amount(a.delta)
        )
    } else {
        amount(a.after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_and_signed_without_minus_zero() {
        assert_eq!(signed_amount(-3200.4), "\u{2212}3,200");
        assert_eq!(signed_amount(1_234_567.5), "+1,234,568");
        assert_eq!(signed_amount(0.0), "0");
        assert_eq!(signed_amount(-0.0), "0");
        assert_eq!(signed_amount(-0.001), "0");
        assert_eq!(signed_amount(0.4), "+0.40");
        assert_eq!(amount(-0.2), "0");
        assert_eq!(amount(-999.5), "\u{2212}1,000");
    }

    #[test]
    fn parts_stop_at_the_given_depth() {
        let a = serde_json::json!({"a": {"b": {"c": 1}, "x": [1]}, "k": 1});
        let b = serde_json::json!({"a": {"b": {"c": 2}, "x": [1]}, "k": 1, "n": 0});
        let mut out = Vec::new();
        differing_parts("", &a, &b, 2, &mut out);
        assert_eq!(out, vec!["a.b".to_string(), "n".to_string()]);
    }
}
