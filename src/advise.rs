//! The licensing advisor: for each licence whose to-be count is above its
//! as-is count, or that counts every core of the cluster its VMs run in,
//! the project is re-planned with that licence's servers arranged otherwise,
//! and each arrangement is priced as a whole (hosts, licences, everything).
//!
//! In: the [`Model`], the [`Measurements`], the plan's own [`CostReport`].
//! Out: per licence, an [`Advice`] with its alternatives, each with its
//! hosts, the licence's units, to-be TCO and NPV, and the KDL that adopts it.
//!
//! The alternatives, for a licence `L` used by the moving servers `S`:
//! 1. **a dedicated cluster**, when `S` share a cluster with other VMs: a
//!    copy of their cluster (platform, targets, failures to tolerate) named
//!    after `L`, holding only `S`, once per host model of the project;
//! 2. **another host model**, when `S` already have a cluster to themselves:
//!    that cluster with each other host model;
//! 3. **shared**, when `S` have a cluster to themselves: `S` in each other
//!    cluster of the same platform, what the dedicated cluster saves;
//! 4. **kept physical**: `S` stay physical servers (`verdict
//!    "keep-physical"`), with their as-is costs.
//!
//! Each alternative is a full re-plan of the changed model (assessment,
//! placement without rule prices, costs), so what it changes elsewhere, a
//! host freed in the shared cluster for example, is in its figures. An
//! alternative that leaves a VM unplaced or breaks `max-hosts` is reported
//! as not feasible, with the first error the stages report for it.

use schemars::JsonSchema;
use serde::Serialize;

use crate::assess::assess;
use crate::cost::{CostReport, Schedule, cost};
use crate::diag::{Diagnostics, Severity};
use crate::license::Metric;
use crate::measure::Measurements;
use crate::model::{Cluster, Id, Model, Scope, Verdict};
use crate::place::{Options, Placement, place};
use crate::round;

/// The advice for one licence.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Advice {
    pub license: String,
    pub metric: Metric,
    /// Why this licence is looked at.
    pub reason: String,
    /// The moving servers that use it.
    pub servers: Vec<String>,
    /// The plan as it is first, then each alternative.
    pub alternatives: Vec<Alternative>,
}

/// One arrangement of the licence's servers, priced as a whole plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Alternative {
    pub kind: AlternativeKind,
    /// What the arrangement is, in a few words.
    pub label: String,
    /// How to adopt it in the project's KDL (empty for the plan as it is).
    pub adopt: String,
    /// Hosts of the whole plan.
    pub hosts: usize,
    /// The licence's to-be units.
    #[serde(serialize_with = "round::units")]
    pub units: f64,
    /// To-be TCO over the horizon (cents).
    #[serde(serialize_with = "round::money")]
    pub to_be_tco: f64,
    /// NPV of the whole plan (cents).
    #[serde(serialize_with = "round::money")]
    pub npv: f64,
    /// NPV against the plan as it is (cents).
    #[serde(serialize_with = "round::money")]
    pub npv_change: f64,
    /// Why the arrangement cannot be adopted as it is, if so.
    pub infeasible: Option<String>,
}

/// What an alternative changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AlternativeKind {
    AsPlanned,
    DedicatedCluster,
    OtherHostModel,
    Shared,
    KeepPhysical,
}

/// What a what-if re-plans from: the measurements, the placement options
/// and the plan's migration schedule.
#[derive(Debug, Clone, Copy)]
pub struct WhatIf<'a> {
    pub measurements: &'a Measurements,
    pub options: &'a Options,
    pub schedule: &'a Schedule,
}

/// The licences worth a look and their alternatives, in licence order.
pub fn advise(model: &Model, what_if: &WhatIf, planned: &CostReport) -> Vec<Advice> {
    let assessment = assess(model, what_if.measurements, &mut Diagnostics::default());
    let mut out = Vec::new();
    for lc in &planned.licenses {
        let Some(lid) = model.licenses.iter().position(|l| l.name == lc.license) else {
            continue;
        };
        let reason = if lc.metric == Metric::PerClusterCore {
            "counts every core of every host its VMs can run on".to_string()
        } else if lc.to_be_units > lc.as_is_units {
            format!(
                "needs {} units after the move, {} before",
                lc.to_be_units, lc.as_is_units
            )
        } else {
            continue;
        };
        let servers: Vec<Id> = assessment
            .servers
            .iter()
            .enumerate()
            .filter(|(i, s)| s.scope == Scope::Moves && model.servers[*i].licenses.contains(&lid))
            .map(|(i, _)| i)
            .collect();
        if servers.is_empty() {
            continue;
        }
        let mut alternatives = vec![Alternative {
            kind: AlternativeKind::AsPlanned,
            label: "as planned".to_string(),
            adopt: String::new(),
            hosts: planned.hosts,
            units: lc.to_be_units,
            to_be_tco: planned.to_be_tco,
            npv: planned.npv,
            npv_change: 0.0,
            infeasible: None,
        }];
        let jobs = arrangements(model, &lc.license, &servers);
        alternatives.extend(in_parallel(jobs, |(kind, label, adopt, changed)| {
            priced(
                &changed,
                what_if,
                planned,
                &lc.license,
                (kind, label, adopt),
            )
        }));
        out.push(Advice {
            license: lc.license.clone(),
            metric: lc.metric,
            reason,
            servers: servers
                .iter()
                .map(|i| model.servers[*i].name.clone())
                .collect(),
            alternatives,
        });
    }
    out
}

type Arrangement = (AlternativeKind, String, String, Model);

/// The changed models to price, per the module's list.
fn arrangements(model: &Model, license: &str, servers: &[Id]) -> Vec<Arrangement> {
    let mut out = Vec::new();
    // The cluster most of the servers are in (ties to the first).
    let mut clusters: Vec<Id> = servers
        .iter()
        .filter_map(|i| model.servers[*i].cluster)
        .collect();
    clusters.sort_unstable();
    let Some(home) = most_common(&clusters) else {
        return out;
    };
    let alone = clusters.iter().all(|c| *c == home)
        && model
            .servers
            .iter()
            .enumerate()
            .all(|(i, s)| s.cluster != Some(home) || servers.contains(&i));
    let template = &model.clusters[home];
    if alone {
        for (hid, hm) in model.host_models.iter().enumerate() {
            if template.host_models.contains(&hid) {
                continue;
            }
            let mut m = model.clone();
            m.clusters[home].host_models = vec![hid];
            out.push((
                AlternativeKind::OtherHostModel,
                format!("cluster {} on {}", template.name, hm.name),
                format!(
                    "host-model \"{}\" in cluster \"{}\"",
                    hm.name, template.name
                ),
                m,
            ));
        }
        for (cid, other) in model.clusters.iter().enumerate() {
            if cid == home || other.platform != template.platform {
                continue;
            }
            let mut m = model.clone();
            for i in servers {
                m.servers[*i].cluster = Some(cid);
            }
            out.push((
                AlternativeKind::Shared,
                format!("in the shared cluster {}", other.name),
                format!("cluster \"{}\" on its servers", other.name),
                m,
            ));
        }
    } else {
        let name = free_cluster_name(model, license);
        for (hid, hm) in model.host_models.iter().enumerate() {
            let mut m = model.clone();
            let id = m.clusters.len();
            m.clusters.push(Cluster {
                name: name.clone(),
                host_models: vec![hid],
                max_hosts: None,
                ..template.clone()
            });
            for i in servers {
                m.servers[*i].cluster = Some(id);
            }
            out.push((
                AlternativeKind::DedicatedCluster,
                format!("a dedicated cluster on {}", hm.name),
                format!(
                    "cluster \"{name}\" (as \"{}\", host-model \"{}\"), and cluster \"{name}\" on its servers",
                    template.name, hm.name
                ),
                m,
            ));
        }
    }
    let mut m = model.clone();
    for i in servers {
        m.servers[*i].verdict_override = Some((
            Verdict::KeepPhysical,
            format!("licensing alternative for {license}"),
        ));
    }
    out.push((
        AlternativeKind::KeepPhysical,
        "kept physical".to_string(),
        "verdict \"keep-physical\" on its servers".to_string(),
        m,
    ));
    out
}

/// Re-plans a changed model and prices it against the plan as it is.
fn priced(
    model: &Model,
    what_if: &WhatIf,
    planned: &CostReport,
    license: &str,
    (kind, label, adopt): (AlternativeKind, String, String),
) -> Alternative {
    let (_, costs, diags) = replan(model, what_if);
    // The stages own feasibility: the first error they report (a VM that
    // fits no host, a broken `max-hosts`) says why.
    let infeasible = diags
        .items
        .iter()
        .find(|d| d.severity == Severity::Error)
        .map(|d| d.message.clone());
    Alternative {
        kind,
        label,
        adopt,
        hosts: costs.hosts,
        units: costs
            .licenses
            .iter()
            .find(|l| l.license == license)
            .map_or(0.0, |l| l.to_be_units),
        to_be_tco: costs.to_be_tco,
        npv: costs.npv,
        npv_change: costs.npv - planned.npv,
        infeasible,
    }
}

/// A fresh plan of a changed model, without rule prices or what-ifs, its
/// costs, and the diagnostics of its assessment and placement.
pub(crate) fn replan(model: &Model, what_if: &WhatIf) -> (Placement, CostReport, Diagnostics) {
    let mut diags = Diagnostics::default();
    let assessment = assess(model, what_if.measurements, &mut diags);
    let quiet = Options {
        previous: None,
        budget: what_if.options.budget,
        skip_rule_prices: true,
        skip_what_ifs: true,
        max_moves: None,
    };
    let placement = place(model, &assessment, &quiet, &mut diags);
    let costs = cost(model, &assessment, &placement, what_if.schedule);
    (placement, costs, diags)
}

/// What the fix-first servers would add once fixed: the project planned
/// again with each of them virtualized as it is measured now.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OnceFixed {
    pub servers: Vec<String>,
    /// Hosts per cluster, now and with them (clusters in model order).
    pub clusters: Vec<ClusterHosts>,
    /// Hosts of the whole plan, now and with them.
    pub hosts_now: usize,
    pub hosts_fixed: usize,
    /// NPV with them moved too, against the plan as it is (cents).
    #[serde(serialize_with = "round::money")]
    pub npv_change: f64,
}

/// A cluster's hosts now and once the fix-first servers are fixed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ClusterHosts {
    pub cluster: String,
    pub now: usize,
    pub fixed: usize,
}

/// The fix-first servers re-planned as if fixed, or `None` without any.
pub fn once_fixed(
    model: &Model,
    what_if: &WhatIf,
    placement: &Placement,
    planned: &CostReport,
) -> Option<OnceFixed> {
    let assessment = assess(model, what_if.measurements, &mut Diagnostics::default());
    let fix_first: Vec<Id> = assessment
        .servers
        .iter()
        .enumerate()
        .filter(|(_, s)| s.scope == Scope::FixFirst)
        .map(|(i, _)| i)
        .collect();
    if fix_first.is_empty() {
        return None;
    }
    let mut m = model.clone();
    for i in &fix_first {
        m.servers[*i].verdict_override = Some((
            Verdict::Virtualize,
            "what-if: the fix-first reasons are fixed".to_string(),
        ));
    }
    let (fixed, costs, _) = replan(&m, what_if);
    let hosts_of = |p: &Placement, name: &str| {
        p.clusters
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.hosts.len())
    };
    Some(OnceFixed {
        servers: fix_first
            .iter()
            .map(|i| model.servers[*i].name.clone())
            .collect(),
        clusters: model
            .clusters
            .iter()
            .map(|c| ClusterHosts {
                cluster: c.name.clone(),
                now: hosts_of(placement, &c.name),
                fixed: hosts_of(&fixed, &c.name),
            })
            .filter(|c| c.now > 0 || c.fixed > 0)
            .collect(),
        hosts_now: planned.hosts,
        hosts_fixed: costs.hosts,
        npv_change: costs.npv - planned.npv,
    })
}

/// Threads the what-ifs run on: each job is a whole re-plan.
const THREADS: usize = 2;

/// `f` over `jobs` on [`THREADS`] scoped threads, results in job order
/// (jobs are dealt out in turn, so the output does not depend on timing).
pub(crate) fn in_parallel<T: Send, R: Send>(jobs: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if jobs.len() < 2 {
        return jobs.into_iter().map(f).collect();
    }
    let mut hands: Vec<Vec<(usize, T)>> = (0..THREADS).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        hands[i % THREADS].push((i, job));
    }
    let f = &f;
    let mut out: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = hands
            .into_iter()
            .map(|hand| {
                scope.spawn(move || {
                    hand.into_iter()
                        .map(|(i, job)| (i, f(job)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(r) => r,
                // A panic in a what-if is a bug: let it surface as one.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

fn most_common(sorted: &[Id]) -> Option<Id> {
    let mut best: Option<(usize, Id)> = None;
    for chunk in sorted.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(n, _)| chunk.len() > n) {
            best = Some((chunk.len(), chunk[0]));
        }
    }
    best.map(|(_, id)| id)
}

/// The licence's name as a cluster name, or with a number when taken.
fn free_cluster_name(model: &Model, license: &str) -> String {
    let taken = |n: &str| model.clusters.iter().any(|c| c.name == n);
    if !taken(license) {
        return license.to_string();
    }
    (2..)
        .map(|k| format!("{license}-{k}"))
        .find(|n| !taken(n))
        .unwrap_or_default()
}
