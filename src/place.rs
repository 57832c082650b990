//! Placement: right-sized VM profiles → hosts per cluster, with proof of
//! quality.
//!
//! In: the [`Model`], the [`Assessment`]'s VM demands, and optionally the
//! previous plan's assignments. Out: a [`Placement`]: per cluster the chosen
//! host model and count, each host's VMs and peak utilization, the lower
//! bound and gap, the naive baselines, the price of every rule, the N+k
//! worst case, the moves against the previous plan; and diagnostics for VMs
//! that fit nowhere, anti-affinity wider than `max-hosts`, clusters over
//! their `max-hosts`.
//!
//! Feasibility (the contract, also in the book): for every host, resource
//! and slot, the sum of its VMs' profiles (overheads and growth included)
//! fits within capacity × the cluster's target; the CPU target of a host is
//! the strictest `max-host-cpu` of its VMs; VMs and vCPUs per core stay
//! within the platform's ratios; affinity groups share a host (they are
//! packed as one item); anti-affinity members never share one; VMs share a
//! host only with VMs that carry the same ones of each `separate-by` rule's
//! tags; pinned VMs are on their host number; and with
//! `failures-to-tolerate k` the VMs of any k failed hosts restart on the
//! others within 100% capacity ([`failover`]).
//!
//! Method: the portfolio and local search of [`pack`], for every candidate
//! host model; the cheapest over the horizon wins (the fewest hosts when no
//! costs are given). Every rule is then priced by planning again without it.

pub mod failover;
pub mod pack;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Serialize;

use crate::assess::{Assessment, VmDemand};
use crate::diag::{Diagnostic, Diagnostics};
use crate::measure::{RESOURCES, Resource};
use crate::model::{Cluster, HostModel, Id, Model, ProfileSettings, RuleKind};
use crate::round;
use crate::units::num;
use pack::{Item, Problem, R, Solution};

/// Local-search attempts per cluster and candidate model.
pub const BUDGET: usize = 2000;

/// A host's highest use of one resource over the period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PeakUse {
    pub resource: Resource,
    /// In the resource's unit (0.01).
    #[serde(serialize_with = "round::resource")]
    pub used: f64,
    /// In the resource's unit (0.01).
    #[serde(serialize_with = "round::resource")]
    pub capacity: f64,
    /// Percent of the raw capacity.
    #[serde(serialize_with = "round::percent")]
    pub percent: f64,
    /// When the peak happens, e.g. "tue 14:00".
    pub when: String,
}

/// One host of a cluster and the VMs it runs.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostPlan {
    pub name: String,
    pub vms: Vec<String>,
    pub vcpus: u32,
    pub peaks: Vec<PeakUse>,
    /// Kept empty: a spare for N+k.
    pub spare: bool,
}

/// One host model tried for a cluster.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CandidateResult {
    pub host_model: String,
    pub hosts: usize,
    /// Over the horizon, in the project's currency (cents).
    #[serde(serialize_with = "round::money")]
    pub cost: f64,
}

/// What one placement rule costs: the cluster planned without it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RulePrice {
    pub rule: String,
    pub kind: String,
    /// Hosts the rule costs: hosts with it − hosts without it.
    pub extra_hosts: i64,
    /// What the rule costs over the horizon, hosts and licences: the cost of
    /// the plan with it − the cost without it, never below 0 (cents).
    #[serde(serialize_with = "round::money")]
    pub extra_cost: f64,
    /// The licences' part of `extra_cost` (cents): platform and guest
    /// licences of the plan with the rule − those without it.
    #[serde(serialize_with = "round::money")]
    pub extra_licences: f64,
}

/// Host counts of simpler plans, for comparison.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Baselines {
    /// Every VM sized at its overall peak, packed first-fit decreasing.
    pub sum_of_peaks: usize,
    /// One group of hosts per first tag of the servers (e.g. environment).
    pub logical_order: usize,
    pub logical_groups: Vec<String>,
}

/// How the cluster survives `failures_to_tolerate` host failures (N+k).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Failover {
    pub failures_to_tolerate: u32,
    /// "simulated" (every scenario checked) or "empty-spares".
    pub method: String,
    pub scenarios: usize,
    /// Hosts the failure check adds to a fresh packing of the VMs: what
    /// `failures_to_tolerate` costs (the same on a re-plan).
    pub hosts_added: usize,
    pub worst_failed_hosts: Vec<String>,
    pub worst_host: Option<String>,
    pub worst_resource: Option<Resource>,
    pub worst_when: Option<String>,
    /// Percent of raw capacity on the busiest survivor in the worst scenario.
    #[serde(serialize_with = "round::percent_opt")]
    pub worst_percent: Option<f64>,
}

/// A VM placed on another host than in the previous plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Move {
    pub server: String,
    pub from: String,
    pub to: String,
    /// Why it moves, in a sentence.
    pub reason: String,
}

/// Which re-plan against the previous plan was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Replan {
    /// The previous hosts, VMs that no longer fit moved off, N+k ensured.
    Kept,
    /// The previous hosts with a few moves that keep N+k without a host more.
    Repaired,
    /// The local search from the previous plan, needless moves undone.
    Searched,
    /// A fresh plan, named against the previous one.
    Fresh,
}

/// How a cluster was re-planned against a previous plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReplanReport {
    pub path: Replan,
    /// The `--max-moves` bound, if any.
    pub max_moves: Option<usize>,
    /// Hosts the bound costs: what a re-plan with more moves would save.
    pub hosts_the_bound_costs: usize,
}

/// One cluster's capacity plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ClusterPlan {
    pub name: String,
    pub platform: String,
    pub host_model: String,
    pub hosts: Vec<HostPlan>,
    pub lower_bound: usize,
    /// (hosts − lower bound) ÷ lower bound, in percent.
    #[serde(serialize_with = "round::percent")]
    pub gap_pct: f64,
    pub failures_to_tolerate: u32,
    pub candidates: Vec<CandidateResult>,
    pub unplaced: Vec<String>,
    /// Cost of the hosts over the horizon.
    #[serde(serialize_with = "round::money")]
    pub cost: f64,
    #[serde(serialize_with = "round::money")]
    pub cost_per_host: f64,
    pub baselines: Baselines,
    pub rule_prices: Vec<RulePrice>,
    pub failover: Failover,
    /// Against the previous plan, when one was given.
    pub moves: Vec<Move>,
    /// How the cluster was re-planned, against a previous plan.
    pub replan: Option<ReplanReport>,
}

/// Per-host data for the pictures; not serialized.
#[derive(Debug, Clone, Default)]
pub struct HostChart {
    pub host: String,
    pub cluster: String,
    /// CPU demand of each VM per slot, by VM name.
    pub cpu_by_vm: Vec<(String, Vec<f64>)>,
    /// Usable CPU (capacity × target) of the host.
    pub cpu_limit: f64,
    /// CPU utilization per slot, percent of raw capacity.
    pub cpu_percent: Vec<f64>,
}

/// The capacity plan: hosts per cluster and where every VM runs.
#[derive(Debug, Clone, Serialize, Default, JsonSchema)]
pub struct Placement {
    pub clusters: Vec<ClusterPlan>,
    /// Where each placed server runs: server name → host name.
    pub assignments: BTreeMap<String, String>,
    #[serde(skip)]
    pub charts: Vec<HostChart>,
    /// What the fix-first servers would add once fixed (filled in by
    /// [`crate::advise::once_fixed`]).
    pub once_fixed: Option<crate::advise::OnceFixed>,
}

/// Where servers ran in a previous plan.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    /// The project the previous plan was made for (`project.name`).
    pub project: String,
    pub assignments: BTreeMap<String, String>,
}

/// Why a file given as a previous `plan.json` cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviousError {
    /// Not JSON at all (the parser's message).
    NotJson(String),
    /// JSON without a numeric `format`.
    NoFormat,
    /// A `format` this virtplan does not read (as written in the file).
    Format { found: String, expected: u32 },
    /// No `project.name` string.
    NoProject,
    /// No `capacity.assignments` object.
    NoAssignments,
    /// An assignment whose host is not a string (the server's name).
    BadAssignment(String),
    /// The plan of another project.
    OtherProject { found: String, expected: String },
}

impl std::fmt::Display for PreviousError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PreviousError::NotJson(e) => write!(f, "not a plan.json: {e}"),
            PreviousError::NoFormat => write!(
                f,
                "not a virtplan plan.json: it has no `format` version (this virtplan reads format {})",
                crate::plan::FORMAT
            ),
            PreviousError::Format { found, expected } => write!(
                f,
                "plan.json has format {found}, but this virtplan reads format {expected}; \
                 re-run the virtplan that wrote it, or plan without --previous"
            ),
            PreviousError::NoProject => {
                write!(f, "not a virtplan plan.json: it has no `project.name`")
            }
            PreviousError::NoAssignments => {
                write!(f, "not a plan.json: it has no capacity.assignments")
            }
            PreviousError::BadAssignment(server) => write!(
                f,
                "not a plan.json: capacity.assignments of `{server}` is not a host name"
            ),
            PreviousError::OtherProject { found, expected } => write!(
                f,
                "plan.json is the plan of project `{found}`, but this project is `{expected}`; \
                 pass the plan.json this project's last `virtplan plan` wrote"
            ),
        }
    }
}

impl Previous {
    /// Reads the `capacity.assignments` of a previous `plan.json`, after
    /// checking that its `format` is [`crate::plan::FORMAT`] and that it
    /// names a project (compare it with [`Previous::check_project`]).
    pub fn from_json(text: &str) -> Result<Previous, PreviousError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PreviousError::NotJson(e.to_string()))?;
        Previous::from_value(&value)
    }

    /// [`Previous::from_json`] of a `plan.json` already parsed.
    pub fn from_value(value: &serde_json::Value) -> Result<Previous, PreviousError> {
        let format = value
            .get("format")
            .filter(|f| f.is_number())
            .ok_or(PreviousError::NoFormat)?;
        if format.as_u64() != Some(u64::from(crate::plan::FORMAT)) {
            return Err(PreviousError::Format {
                found: format.to_string(),
                expected: crate::plan::FORMAT,
            });
        }
        let project = value
            .get("project")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .ok_or(PreviousError::NoProject)?
            .to_string();
        let map = value
            .get("capacity")
            .and_then(|c| c.get("assignments"))
            .and_then(|a| a.as_object())
            .ok_or(PreviousError::NoAssignments)?;
        let mut assignments = BTreeMap::new();
        for (server, host) in map {
            let host = host
                .as_str()
                .ok_or_else(|| PreviousError::BadAssignment(server.clone()))?;
            assignments.insert(server.clone(), host.to_string());
        }
        Ok(Previous {
            project,
            assignments,
        })
    }

    /// Whether this previous plan was made for the project named `name`.
    pub fn check_project(&self, name: &str) -> Result<(), PreviousError> {
        if self.project == name {
            Ok(())
        } else {
            Err(PreviousError::OtherProject {
                found: self.project.clone(),
                expected: name.to_string(),
            })
        }
    }
}

/// Options of the placement stage.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub previous: Option<Previous>,
    /// Local-search budget; 0 means [`BUDGET`].
    pub budget: usize,
    /// Skip pricing the rules (re-planning once per rule).
    pub skip_rule_prices: bool,
    /// Most VMs a re-plan against the previous plan may move per cluster.
    pub max_moves: Option<usize>,
    /// Skip the what-ifs that re-plan the whole project: the licensing
    /// advisor and the sensitivity table.
    pub skip_what_ifs: bool,
}

/// Which rules are on, to price each by switching it off.
#[derive(Debug, Clone)]
struct Switches {
    rules: Vec<bool>,
    failures: usize,
}

pub fn place(
    model: &Model,
    assessment: &Assessment,
    options: &Options,
    diags: &mut Diagnostics,
) -> Placement {
    let budget = if options.budget == 0 {
        BUDGET
    } else {
        options.budget
    };
    let mut placement = Placement::default();
    for (cid, cluster) in model.clusters.iter().enumerate() {
        let vms: Vec<&VmDemand> = assessment.vms.iter().filter(|v| v.cluster == cid).collect();
        if vms.is_empty() {
            continue;
        }
        let all_on = Switches {
            rules: vec![true; model.rules.len()],
            failures: cluster.failures_to_tolerate as usize,
        };
        anti_affinity_too_wide(model, cluster, &vms, diags);
        conflicting_rules(model, &vms, diags);
        // Dimensioning: every candidate model, the cheapest wins.
        let mut candidates = Vec::new();
        let mut best: Option<(usize, Problem, Solution, failover::Verdict, f64)> = None;
        for &hm_id in &cluster.host_models {
            let hm = &model.host_models[hm_id];
            let problem = build_problem(model, cluster, hm, &vms, &all_on);
            let mut sol = pack::solve(&problem, budget);
            let verdict = failover::ensure(&problem, &mut sol, all_on.failures);
            let hosts = sol.hosts.len();
            // The cheapest total wins, licences included.
            let failures = all_on.failures;
            let cost = solution_costs(model, &vms, cluster, hm, &problem, &sol, failures).total();
            candidates.push(CandidateResult {
                host_model: hm.name.clone(),
                hosts,
                cost,
            });
            let better = match &best {
                None => true,
                Some((_, _, b, _, bcost)) => {
                    (sol.unplaced.len(), cost, hosts) < (b.unplaced.len(), *bcost, b.hosts.len())
                }
            };
            if better {
                best = Some((hm_id, problem, sol, verdict, cost));
            }
        }
        let Some((hm_id, problem, fresh, fresh_verdict, _)) = best else {
            continue;
        };
        let hm = &model.host_models[hm_id];
        let per_host = host_cost(model, hm);

        // A previous plan: the fewest hosts, then the fewest moves, among
        // the re-plans built on it and the fresh plan, within `max_moves`.
        let prev = options.previous.as_ref();
        let (mut sol, mut verdict, replan) = match prev {
            Some(p) => {
                let mut cands: Vec<(Replan, Solution, failover::Verdict)> =
                    previous_solution(model, cluster, &problem, p, budget)
                        .into_iter()
                        .map(|(path, mut s)| {
                            let v = failover::ensure(&problem, &mut s, all_on.failures);
                            (path, s, v)
                        })
                        .collect();
                cands.push((Replan::Fresh, fresh.clone(), fresh_verdict.clone()));
                let (pick, bound) = pick_replan(model, cluster, &problem, &cands, prev, options);
                let (path, sol, v) = cands.swap_remove(pick);
                (
                    sol,
                    v,
                    Some(ReplanReport {
                        path,
                        max_moves: options.max_moves,
                        hosts_the_bound_costs: bound,
                    }),
                )
            }
            None => (fresh.clone(), fresh_verdict.clone(), None),
        };
        report_unplaced(model, cluster, hm, &problem, &sol, diags);
        report_unpinned(model, &problem, &sol, diags);
        if let Some(max) = cluster.max_hosts
            && sol.hosts.len() > max as usize
        {
            diags.push(
                    Diagnostic::error(
                        "virtplan::place::max-hosts",
                        format!(
                            "cluster `{}` needs {} hosts, more than its max-hosts {max}",
                            cluster.name,
                            sol.hosts.len()
                        ),
                    )
                    .at(cluster.span, "too small")
                    .help(format!(
                        "raise max-hosts to {}, choose a larger host model, or move VMs to another cluster",
                        sol.hosts.len()
                    )),
                );
        }
        let names = name_hosts(
            model,
            cluster,
            &problem,
            &mut sol,
            options.previous.as_ref(),
        );
        // Naming put the hosts in name order: the worst failure scenario is
        // found again in that order, so that its host indices match the
        // names and a tie goes to the first name, however the placement was
        // reached (a fresh packing or a kept previous one).
        if verdict.worst.is_some() {
            verdict.worst = failover::check(&problem, &sol, all_on.failures)
                .ok()
                .flatten();
        }
        let lower_bound = lower_bound(&problem, all_on.failures);
        let baselines = baselines(model, cluster, hm, &vms, &all_on, &problem);
        let rule_prices = if options.skip_rule_prices {
            Vec::new()
        } else {
            let with_all = Fresh {
                hosts: fresh.hosts.len(),
                added_for_failover: fresh_verdict.hosts_added,
                cost: solution_costs(
                    model,
                    &vms,
                    cluster,
                    hm,
                    &problem,
                    &fresh,
                    cluster.failures_to_tolerate as usize,
                ),
            };
            rule_prices(model, cluster, hm, &vms, &with_all, budget)
        };
        let mut failover = failover_report(&verdict, &names, &model.project.profile, cluster);
        // What N+k costs in hosts is the fresh packing's answer, as in the
        // rule prices: a re-plan kept on a previous placement that already
        // survives failures adds none itself, yet the hosts are the same.
        failover.hosts_added = fresh_verdict.hosts_added;
        let mut moves = moves(model, &problem, &sol, &names, options.previous.as_ref());
        if let (Some(p), Some(r)) = (prev, &replan) {
            give_reasons(
                model,
                cluster,
                &problem,
                p,
                r.path,
                sol.hosts.len(),
                &mut moves,
            );
        }
        let by_server: BTreeMap<Id, &VmDemand> = vms.iter().map(|v| (v.server, *v)).collect();
        let hosts = host_plans(
            model,
            cluster,
            &by_server,
            &problem,
            &sol,
            &names,
            &mut placement,
        );
        let used = hosts.len();
        placement.clusters.push(ClusterPlan {
            name: cluster.name.clone(),
            platform: model.platforms[cluster.platform].name.clone(),
            host_model: hm.name.clone(),
            lower_bound,
            gap_pct: if lower_bound > 0 {
                (used as f64 - lower_bound as f64) / lower_bound as f64 * 100.0
            } else {
                0.0
            },
            failures_to_tolerate: cluster.failures_to_tolerate,
            candidates,
            unplaced: member_names(model, &problem, &sol.unplaced).collect(),
            cost: used as f64 * per_host,
            cost_per_host: per_host,
            baselines,
            rule_prices,
            failover,
            moves,
            replan,
            hosts,
        });
    }
    placement
}

/// Cost of one host over the project horizon, licences aside: its price
/// and [`HostModel::yearly`], the function the cost report uses too.
pub fn host_cost(model: &Model, hm: &HostModel) -> f64 {
    hm.cost_over(&model.costs, f64::from(model.project.horizon_years))
}

/// A solution's cost over the horizon, in its two parts.
#[derive(Debug, Clone, Copy)]
struct SolutionCost {
    hosts: f64,
    licences: f64,
}

impl SolutionCost {
    fn total(self) -> f64 {
        self.hosts + self.licences
    }
}

/// Cost over the horizon of a candidate solution, in its two parts: its
/// hosts, and the licences they need counted as the cost report counts
/// them, host-licensed products for what each host may run after
/// `failures` failures.
fn solution_costs(
    model: &Model,
    vms: &[&VmDemand],
    cluster: &Cluster,
    hm: &HostModel,
    problem: &Problem,
    sol: &Solution,
    failures: usize,
) -> SolutionCost {
    let vcpus: BTreeMap<Id, u32> = vms.iter().map(|v| (v.server, v.vcpus)).collect();
    let per_host: Vec<_> = sol
        .hosts
        .iter()
        .map(|h| {
            model.licence_needs(
                h.items
                    .iter()
                    .flat_map(|i| &problem.items[*i].members)
                    .map(|id| (*id, vcpus.get(id).copied().unwrap_or(0))),
            )
        })
        .collect();
    let licences = crate::license::cluster_licences(
        &model.products(),
        hm.machine(),
        &per_host,
        failures,
        model.platforms[cluster.platform].license,
        f64::from(model.project.horizon_years),
    );
    SolutionCost {
        hosts: sol.hosts.len() as f64 * host_cost(model, hm),
        licences: licences.cost,
    }
}

fn target_of(cluster: &Cluster, r: Resource) -> f64 {
    cluster.target.shares()[r.index()]
}

/// "tue 14:00" for weekly periods; "14:00 (day 2)" otherwise.
pub fn slot_label(slot: usize, settings: &ProfileSettings) -> String {
    let minute = (slot as f64 * settings.slot.0 / 60.0) as u32;
    if (settings.period.0 - 7.0 * 86400.0).abs() < 1.0 {
        crate::units::WeekMinute(minute).to_string()
    } else {
        format!(
            "{:02}:{:02} (day {})",
            (minute / 60) % 24,
            minute % 60,
            minute / 1440 + 1
        )
    }
}

fn build_problem(
    model: &Model,
    cluster: &Cluster,
    hm: &HostModel,
    vms: &[&VmDemand],
    on: &Switches,
) -> Problem {
    let slots = model.project.profile.slots();
    let raw = hm.capacity();
    let mut cap = [0.0; R];
    for r in RESOURCES {
        cap[r.index()] = raw[r.index()] * target_of(cluster, r);
    }
    let platform = &model.platforms[cluster.platform];
    let by_server: BTreeMap<Id, &VmDemand> = vms.iter().map(|v| (v.server, *v)).collect();

    // Affinity groups: union of overlapping affinity rules.
    let members: BTreeSet<Id> = by_server.keys().copied().collect();
    let group_of = affinity_groups(model, &members, &on.rules);
    let mut anti: BTreeMap<Id, Vec<u32>> = BTreeMap::new();
    let mut pins: BTreeMap<Id, u32> = BTreeMap::new();
    let mut separations: Vec<&Vec<String>> = Vec::new();
    for (ri, rule) in model.rules.iter().enumerate() {
        if !on.rules[ri] {
            continue;
        }
        match &rule.kind {
            RuleKind::Affinity { .. } => {}
            RuleKind::AntiAffinity { servers } => {
                for s in servers.iter().filter(|s| by_server.contains_key(s)) {
                    anti.entry(*s).or_default().push(ri as u32);
                }
            }
            RuleKind::SeparateBy { tags } => separations.push(tags),
            RuleKind::Pin { server, host } => {
                if by_server.contains_key(server) {
                    pins.insert(*server, *host);
                }
            }
        }
    }
    let mut groups: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
    for (id, root) in group_of {
        groups.entry(root).or_default().push(id);
    }
    let mut signatures: BTreeMap<String, u32> = BTreeMap::new();
    let items = groups
        .into_values()
        .map(|members| {
            let mut demand = vec![0.0; R * slots];
            let mut vcpus = 0;
            let mut cpu_limit: Option<f64> = None;
            let mut pin = None;
            let mut item_anti = Vec::new();
            let mut signature = String::new();
            for m in &members {
                let vm = by_server[m];
                for r in 0..R {
                    for (acc, v) in demand[r * slots..(r + 1) * slots]
                        .iter_mut()
                        .zip(&vm.profile[r])
                    {
                        *acc += v;
                    }
                }
                vcpus += vm.vcpus;
                let server = &model.servers[*m];
                if let Some(limit) = server.max_host_cpu {
                    cpu_limit = Some(cpu_limit.map_or(limit.0, |c| c.min(limit.0)));
                }
                if let Some(h) = pins.get(m) {
                    pin = Some(pin.map_or(*h, |p: u32| p.min(*h)));
                }
                item_anti.extend(anti.get(m).into_iter().flatten().copied());
            }
            // The separate-by signature of the group: the listed tags its members carry.
            for (k, tags) in separations.iter().enumerate() {
                let carried: BTreeSet<&String> = members
                    .iter()
                    .flat_map(|m| model.servers[*m].tags.iter().filter(|t| tags.contains(t)))
                    .collect();
                signature.push_str(&format!("{k}:"));
                for t in carried {
                    signature.push_str(t);
                    signature.push(',');
                }
                signature.push(';');
            }
            let next = signatures.len() as u32;
            let group = *signatures.entry(signature).or_insert(next);
            item_anti.sort_unstable();
            item_anti.dedup();
            let mut peak = [0.0f64; R];
            let mut low = [f64::INFINITY; R];
            let mut sum = [0.0; R];
            for r in 0..R {
                for v in &demand[r * slots..(r + 1) * slots] {
                    peak[r] = peak[r].max(*v);
                    low[r] = low[r].min(*v);
                    sum[r] += v;
                }
                if slots == 0 {
                    low[r] = 0.0;
                }
            }
            let mut sorted = members.clone();
            sorted.sort_by(|a, b| model.servers[*a].name.cmp(&model.servers[*b].name));
            Item {
                name: model.servers[sorted[0]].name.clone(),
                members: sorted,
                demand,
                peak,
                low,
                sum,
                vcpus,
                cpu_limit,
                pin,
                group,
                anti: item_anti,
            }
        })
        .collect();
    Problem {
        slots,
        cap,
        raw,
        max_vms: platform.max_vms(hm.cores()),
        max_vcpus: platform.max_vcpus(hm.cores()),
        items,
    }
}

/// The names of the servers in these items.
fn member_names<'a>(
    model: &'a Model,
    problem: &'a Problem,
    items: &'a [usize],
) -> impl Iterator<Item = String> + 'a {
    items.iter().flat_map(|i| {
        problem.items[*i]
            .members
            .iter()
            .map(|m| model.servers[*m].name.clone())
    })
}

/// The affinity group of each of `members`: the smallest server id of the
/// group, joining servers that the switched-on affinity rules bind,
/// directly or through a chain of rules.
fn affinity_groups(model: &Model, members: &BTreeSet<Id>, on: &[bool]) -> BTreeMap<Id, Id> {
    let mut parent: BTreeMap<Id, Id> = members.iter().map(|s| (*s, *s)).collect();
    fn root(parent: &BTreeMap<Id, Id>, mut x: Id) -> Id {
        while let Some(&p) = parent.get(&x).filter(|p| **p != x) {
            x = p;
        }
        x
    }
    for (rule, _) in model.rules.iter().zip(on).filter(|(_, on)| **on) {
        if let RuleKind::Affinity { servers } = &rule.kind {
            let bound: Vec<Id> = servers
                .iter()
                .copied()
                .filter(|s| members.contains(s))
                .collect();
            for w in bound.windows(2) {
                let (a, b) = (root(&parent, w[0]), root(&parent, w[1]));
                if a != b {
                    parent.insert(a.max(b), a.min(b));
                }
            }
        }
    }
    members.iter().map(|s| (*s, root(&parent, *s))).collect()
}

/// The lower bound on hosts: the largest of ⌈Σ demand ÷ usable capacity⌉
/// over resources and slots; k plus the survivors any k failures need (the
/// largest of ⌈Σ demand ÷ raw capacity⌉, ⌈VMs ÷ VMs per host⌉, ⌈vCPUs ÷
/// vCPUs per host⌉ and the largest anti-affinity set); the sum of such
/// bounds over the separate-by groups, which never share hosts; and the
/// highest pinned host number.
pub fn lower_bound(problem: &Problem, k: usize) -> usize {
    let s = problem.slots;
    let mut bound = 0usize;
    let placeable: Vec<&Item> = {
        let bad: BTreeSet<usize> = pack::too_big(problem).into_iter().collect();
        problem
            .items
            .iter()
            .enumerate()
            .filter(|(i, _)| !bad.contains(i))
            .map(|(_, it)| it)
            .collect()
    };
    if placeable.is_empty() {
        return 0;
    }
    // In normal operation every slot's demand fits the usable capacity;
    // after k failures it fits the raw capacity of the survivors.
    let mut survivors = 0usize;
    for r in 0..R {
        let (cap, raw) = (problem.cap[r], problem.raw[r]);
        if !(cap.is_finite() && cap > 0.0 && raw.is_finite() && raw > 0.0) {
            continue;
        }
        for slot in 0..s {
            let total: f64 = placeable.iter().map(|it| it.demand[r * s + slot]).sum();
            bound = bound.max((total / cap - 1e-9).ceil().max(0.0) as usize);
            survivors = survivors.max((total / raw - 1e-9).ceil().max(0.0) as usize);
        }
    }
    // VM and vCPU counts, and anti-affinity, must hold on the survivors too.
    let vms: u64 = placeable.iter().map(|i| u64::from(i.count())).sum();
    let vcpus: u64 = placeable.iter().map(|i| u64::from(i.vcpus)).sum();
    survivors = survivors.max(vms.div_ceil(u64::from(problem.max_vms.max(1))) as usize);
    survivors = survivors.max(vcpus.div_ceil(u64::from(problem.max_vcpus.max(1))) as usize);
    let mut anti_sizes: BTreeMap<u32, usize> = BTreeMap::new();
    for it in &placeable {
        for a in &it.anti {
            *anti_sizes.entry(*a).or_default() += 1;
        }
    }
    survivors = survivors
        .max(anti_sizes.values().copied().max().unwrap_or(0))
        .max(1);
    // Separate-by groups never share hosts: each needs hosts of its own.
    let mut groups: BTreeMap<u32, Vec<&Item>> = BTreeMap::new();
    for it in &placeable {
        groups.entry(it.group).or_default().push(it);
    }
    if groups.len() > 1 {
        let mut separated = 0usize;
        for members in groups.values() {
            let mut need = 1usize;
            for r in 0..R {
                let cap = problem.cap[r];
                if !(cap.is_finite() && cap > 0.0) {
                    continue;
                }
                for slot in 0..s {
                    let total: f64 = members.iter().map(|it| it.demand[r * s + slot]).sum();
                    need = need.max((total / cap - 1e-9).ceil() as usize);
                }
            }
            separated += need;
        }
        bound = bound.max(separated);
    }
    // Martello and Toth's L2 in each resource, at the slots where the
    // demand is highest: items too big to share a host with the middling
    // ones, and what the middling ones leave over.
    for r in 0..R {
        let (cap, raw) = (problem.cap[r], problem.raw[r]);
        for slot in busiest_slots(&placeable, r, s, L2_SLOTS) {
            let mut sizes: Vec<f64> = placeable.iter().map(|it| it.demand[r * s + slot]).collect();
            sizes.sort_by(f64::total_cmp);
            bound = bound.max(martello_toth_l2(&sizes, cap));
            survivors = survivors.max(martello_toth_l2(&sizes, raw));
        }
    }
    // Items that pairwise cannot share a host each need one of their own:
    // in normal operation against the usable capacity, and after k
    // failures against the raw capacity of the survivors.
    bound = bound.max(conflict_clique(problem, &placeable, &problem.cap, true));
    survivors = survivors.max(conflict_clique(problem, &placeable, &problem.raw, false));
    // A pinned host number must exist, failures or not.
    let pinned = placeable.iter().filter_map(|i| i.pin).max().unwrap_or(0) as usize;
    bound.max(survivors + k).max(pinned)
}

/// Slots per resource at which [`martello_toth_l2`] is computed: those of
/// the highest total demand. Any slot gives a valid bound; these are the
/// likeliest to give the best.
const L2_SLOTS: usize = 4;

/// The `count` slots of resource `r` with the highest total demand.
fn busiest_slots(items: &[&Item], r: usize, slots: usize, count: usize) -> Vec<usize> {
    let mut totals: Vec<(f64, usize)> = (0..slots)
        .map(|slot| {
            (
                items.iter().map(|it| it.demand[r * slots + slot]).sum(),
                slot,
            )
        })
        .collect();
    totals.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    totals
        .into_iter()
        .take(count)
        .map(|(_, slot)| slot)
        .collect()
}

/// Martello and Toth's bound L2 for bins of capacity `cap` and the item
/// sizes `sorted` (ascending): for a threshold α ≤ cap/2, items larger than
/// cap − α each need a bin that no item of size α or more can join; items
/// in (cap/2, cap − α] each need their own bin too; the items in
/// [α, cap/2] fill what those leave free, and the rest needs whole bins.
/// The maximum over α (0 and every size up to cap/2) is a lower bound on
/// the bins (Martello and Toth, "Lower bounds and reduction procedures for
/// the bin packing problem", Discrete Applied Mathematics 28, 1990).
/// Comparisons lean towards the smaller bound, so rounding never makes it
/// exceed the optimum.
pub fn martello_toth_l2(sorted: &[f64], cap: f64) -> usize {
    const EPS: f64 = 1e-9;
    if sorted.is_empty() || !(cap.is_finite() && cap > 0.0) {
        return 0;
    }
    let prefix: Vec<f64> = std::iter::once(0.0)
        .chain(sorted.iter().scan(0.0, |acc, x| {
            *acc += x;
            Some(*acc)
        }))
        .collect();
    // Index of the first size above `t` (with the tolerance on its side).
    let above = |t: f64| sorted.partition_point(|x| *x <= t + EPS * cap);
    let at_least = |t: f64| sorted.partition_point(|x| *x < t);
    let half = above(cap / 2.0);
    let mut best = 0usize;
    let alphas = std::iter::once(0.0).chain(sorted[..half].iter().copied());
    for alpha in alphas {
        let big = above(cap - alpha);
        let (j1, j2) = (sorted.len() - big, big.saturating_sub(half));
        let j2_sum = prefix[big.max(half)] - prefix[half];
        let from = at_least(alpha).min(half);
        let j3_sum = prefix[half] - prefix[from];
        let free = j2 as f64 * cap - j2_sum;
        let rest = ((j3_sum - free) / cap - EPS).ceil().max(0.0) as usize;
        best = best.max(j1 + j2 + rest);
    }
    best
}

/// The size of a set of items of which no two can share a host, found
/// greedily (largest items first): a lower bound on the hosts. Two items
/// conflict when their demands exceed `cap` together in some resource and
/// slot, when an anti-affinity set or a separate-by rule keeps them apart,
/// and, with `limits`, when together they exceed the host's vCPU or VM
/// limit or are pinned to different hosts.
fn conflict_clique(problem: &Problem, items: &[&Item], cap: &[f64; R], limits: bool) -> usize {
    let s = problem.slots;
    let usable: Vec<usize> = (0..R)
        .filter(|r| cap[*r].is_finite() && cap[*r] > 0.0)
        .collect();
    let size = |it: &Item| {
        usable
            .iter()
            .map(|r| it.peak[*r] / cap[*r])
            .fold(0.0, f64::max)
    };
    let mut order: Vec<&Item> = items.to_vec();
    order.sort_by(|a, b| size(b).total_cmp(&size(a)).then(a.name.cmp(&b.name)));
    let conflict = |a: &Item, b: &Item| {
        if a.group != b.group || a.anti.iter().any(|x| b.anti.contains(x)) {
            return true;
        }
        if limits
            && (u64::from(a.vcpus) + u64::from(b.vcpus) > u64::from(problem.max_vcpus)
                || u64::from(a.count()) + u64::from(b.count()) > u64::from(problem.max_vms)
                || matches!((a.pin, b.pin), (Some(x), Some(y)) if x != y))
        {
            return true;
        }
        usable.iter().any(|&r| {
            a.peak[r] + b.peak[r] > cap[r] * (1.0 + 1e-9)
                && (0..s).any(|t| a.demand[r * s + t] + b.demand[r * s + t] > cap[r] * (1.0 + 1e-9))
        })
    };
    let mut clique: Vec<&Item> = Vec::new();
    for it in order {
        if clique.iter().all(|c| conflict(c, it)) {
            clique.push(it);
        }
    }
    clique.len()
}

/// Rules that cannot all hold: two VMs bound together by affinity (directly
/// or through a chain of affinity rules) that an anti-affinity rule keeps
/// apart, that a separate-by rule keeps apart, or that are pinned to
/// different hosts.
fn conflicting_rules(model: &Model, vms: &[&VmDemand], diags: &mut Diagnostics) {
    let in_cluster: BTreeSet<Id> = vms.iter().map(|v| v.server).collect();
    let group = affinity_groups(model, &in_cluster, &vec![true; model.rules.len()]);
    let same = |a: Id, b: Id| group.get(&a) == group.get(&b);
    let affinity_of = |s: Id| {
        model
            .rules
            .iter()
            .find(|r| matches!(&r.kind, RuleKind::Affinity { servers } if servers.contains(&s)))
    };
    let name = |s: Id| model.servers[s].name.as_str();
    let conflict = |rule: &crate::model::Rule, a: Id, b: Id, why: &str| {
        Diagnostic::error(
            "virtplan::place::conflicting-rules",
            format!(
                "{} `{}` contradicts affinity: `{}` and `{}` must share a host, and {why}",
                rule.kind.keyword(),
                rule.name,
                name(a),
                name(b)
            ),
        )
        .at(rule.span, "this rule")
        .related(
            affinity_of(a).map_or(model.servers[a].span, |r| r.span),
            "the affinity that binds them",
        )
        .help("drop one of the two rules, or take one server out of the affinity")
    };
    let pins: BTreeMap<Id, (u32, &crate::model::Rule)> = model
        .rules
        .iter()
        .filter_map(|r| match &r.kind {
            RuleKind::Pin { server, host } if in_cluster.contains(server) => {
                Some((*server, (*host, r)))
            }
            _ => None,
        })
        .collect();
    for rule in &model.rules {
        match &rule.kind {
            RuleKind::AntiAffinity { servers } => {
                let members: Vec<Id> = servers
                    .iter()
                    .copied()
                    .filter(|s| in_cluster.contains(s))
                    .collect();
                if let Some((a, b)) = pairs(&members).find(|(a, b)| same(*a, *b)) {
                    diags.push(conflict(rule, a, b, "this rule keeps them apart"));
                }
            }
            RuleKind::SeparateBy { tags } => {
                let carried = |s: Id| -> BTreeSet<&String> {
                    model.servers[s]
                        .tags
                        .iter()
                        .filter(|t| tags.contains(t))
                        .collect()
                };
                let members: Vec<Id> = in_cluster.iter().copied().collect();
                if let Some((a, b)) =
                    pairs(&members).find(|(a, b)| same(*a, *b) && carried(*a) != carried(*b))
                {
                    diags.push(conflict(
                        rule,
                        a,
                        b,
                        "they carry different ones of this rule's tags",
                    ));
                }
            }
            RuleKind::Pin { server, host } => {
                let other = pins
                    .iter()
                    .find(|(s, (h, _))| **s < *server && same(**s, *server) && h != host);
                if let Some((s, (h, _))) = other {
                    diags.push(conflict(
                        rule,
                        *s,
                        *server,
                        &format!("they are pinned to hosts {h} and {host}"),
                    ));
                }
            }
            RuleKind::Affinity { .. } => {}
        }
    }
}

/// Every unordered pair of a list.
fn pairs(list: &[Id]) -> impl Iterator<Item = (Id, Id)> + '_ {
    list.iter()
        .enumerate()
        .flat_map(move |(i, a)| list[i + 1..].iter().map(move |b| (*a, *b)))
}

/// Pinned VMs whose host number could not take them all.
fn report_unpinned(model: &Model, problem: &Problem, sol: &Solution, diags: &mut Diagnostics) {
    for &i in &sol.unpinned {
        let item = &problem.items[i];
        let Some(host) = item.pin else { continue };
        for m in &item.members {
            let rule = model
                .rules
                .iter()
                .find(|r| matches!(&r.kind, RuleKind::Pin { server, .. } if server == m));
            let Some(rule) = rule else { continue };
            diags.push(
                Diagnostic::error(
                    "virtplan::place::conflicting-rules",
                    format!(
                        "pin `{}` cannot be kept: host {host} cannot also take `{}` with the VMs pinned there before it",
                        rule.name, model.servers[*m].name
                    ),
                )
                .at(rule.span, "this pin")
                .help("pin fewer or smaller VMs to that host, or choose another host number"),
            );
        }
    }
}

fn anti_affinity_too_wide(
    model: &Model,
    cluster: &Cluster,
    vms: &[&VmDemand],
    diags: &mut Diagnostics,
) {
    let Some(max) = cluster.max_hosts else { return };
    let in_cluster: BTreeSet<Id> = vms.iter().map(|v| v.server).collect();
    for rule in &model.rules {
        if let RuleKind::AntiAffinity { servers } = &rule.kind {
            let n = servers.iter().filter(|s| in_cluster.contains(s)).count();
            if n > max as usize {
                diags.push(
                    Diagnostic::error(
                        "virtplan::place::max-hosts",
                        format!(
                            "anti-affinity `{}` spreads {n} VMs of cluster `{}` over {n} hosts, more than its max-hosts {max}",
                            rule.name, cluster.name
                        ),
                    )
                    .at(rule.span, "needs a host per member")
                    .related(cluster.span, "cluster defined here")
                    .help(format!("raise max-hosts to at least {n}, or take servers out of the rule")),
                );
            }
        }
    }
}

fn report_unplaced(
    model: &Model,
    cluster: &Cluster,
    hm: &HostModel,
    problem: &Problem,
    sol: &Solution,
    diags: &mut Diagnostics,
) {
    let s = problem.slots;
    for &i in &sol.unplaced {
        let item = &problem.items[i];
        let mut reasons = Vec::new();
        for r in RESOURCES {
            let ri = r.index();
            let mut cap = problem.cap[ri];
            if ri == 0
                && let Some(l) = item.cpu_limit
            {
                cap = cap.min(problem.raw[0] * l);
            }
            if item.peak[ri] <= cap + 1e-9 {
                continue;
            }
            let slot = (0..s)
                .find(|t| item.demand[ri * s + t] > cap + 1e-9)
                .unwrap_or(0);
            let flat = item.low[ri] == item.peak[ri];
            let when = if flat {
                String::new()
            } else {
                format!(" at {}", slot_label(slot, &model.project.profile))
            };
            let needed_target = item.peak[ri] / problem.raw[ri] * 100.0;
            let fix = if needed_target <= 100.0 {
                format!(
                    "a {} target of at least {}%",
                    r.label(),
                    num(needed_target.ceil(), 0)
                )
            } else {
                format!(
                    "a host model with at least {} {} at the current target",
                    num(item.peak[ri] / target_of(cluster, r), 1),
                    r.unit()
                )
            };
            reasons.push(format!(
                "{}: it needs {} {}{when}, a `{}` host offers {} {} at its target; it would fit with {fix}",
                r.label(),
                num(item.peak[ri], 1),
                r.unit(),
                hm.name,
                num(cap, 1),
                r.unit()
            ));
        }
        if item.count() > problem.max_vms || item.vcpus > problem.max_vcpus {
            reasons.push(format!(
                "{} VMs with {} vCPUs exceed the platform's {} VMs and {} vCPUs per host",
                item.count(),
                item.vcpus,
                problem.max_vms,
                problem.max_vcpus
            ));
        }
        let group = if item.members.len() > 1 {
            let names: Vec<&str> = item
                .members
                .iter()
                .map(|m| model.servers[*m].name.as_str())
                .collect();
            format!(" (with its affinity group {})", names.join(", "))
        } else {
            String::new()
        };
        for m in &item.members {
            let server = &model.servers[*m];
            diags.push(
                Diagnostic::error(
                    "virtplan::place::does-not-fit",
                    format!(
                        "VM `{}`{group} fits on no `{}` host of cluster `{}`",
                        server.name, hm.name, cluster.name
                    ),
                )
                .at(server.span, "does not fit")
                .related(cluster.span, "cluster defined here")
                .help(reasons.join("; ")),
            );
        }
    }
}

/// Builds solutions from the previous plan's assignments: VMs stay on the
/// host of the same name when they still fit there, the rest are inserted
/// best-fit, and N+k is ensured (`Kept`); a repair of a few moves when that
/// costs hosts (`Repaired`); ruin and recreate, with every VM it moved
/// without need moved back (`Searched`), when that saves hosts.
fn previous_solution(
    model: &Model,
    cluster: &Cluster,
    problem: &Problem,
    previous: &Previous,
    budget: usize,
) -> Vec<(Replan, Solution)> {
    let mut by_host: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut loose = Vec::new();
    let bad: BTreeSet<usize> = pack::too_big(problem).into_iter().collect();
    for (i, item) in problem.items.iter().enumerate() {
        if bad.contains(&i) {
            continue;
        }
        let before: BTreeSet<&String> = item
            .members
            .iter()
            .filter_map(|m| previous.assignments.get(&model.servers[*m].name))
            .filter(|h| h.rsplit_once('-').is_some_and(|(c, _)| c == cluster.name))
            .collect();
        match (before.first(), before.len(), item.pin) {
            (Some(host), 1, None) => by_host.entry((*host).clone()).or_default().push(i),
            _ => loose.push(i),
        }
    }
    let mut sol = Solution {
        hosts: Vec::new(),
        unplaced: bad.into_iter().collect(),
        unpinned: Vec::new(),
    };
    let mut names = Vec::new();
    // Pinned items first, on their numbers.
    let mut pinned: Vec<usize> = loose
        .iter()
        .copied()
        .filter(|i| problem.items[*i].pin.is_some())
        .collect();
    pinned.sort_by_key(|i| problem.items[*i].pin);
    loose.retain(|i| problem.items[*i].pin.is_none());
    for i in pinned {
        let number = problem.items[i].pin.unwrap_or(1) as usize;
        while sol.hosts.len() < number {
            let mut h = pack::Host::new(problem);
            h.pinned = true;
            sol.hosts.push(h);
            names.push(None);
        }
        if pack::fits(problem, &sol.hosts[number - 1], &problem.items[i], false) {
            pack::add(problem, &mut sol.hosts[number - 1], i);
        } else {
            sol.unpinned.push(i);
            loose.push(i);
        }
    }
    let mut overloaded: Vec<(String, Vec<usize>)> = Vec::new();
    for (name, items) in by_host {
        // A previous host whose number is pinned is that pinned host.
        let pinned_index = name
            .rsplit_once('-')
            .and_then(|(_, k)| k.parse::<usize>().ok())
            .filter(|k| *k >= 1 && *k <= sol.hosts.len() && sol.hosts[*k - 1].pinned)
            .map(|k| k - 1);
        if let Some(h) = pinned_index {
            for i in items {
                if pack::fits(problem, &sol.hosts[h], &problem.items[i], false) {
                    pack::add(problem, &mut sol.hosts[h], i);
                } else {
                    loose.push(i);
                }
            }
            names[h] = Some(name);
            continue;
        }
        match holds(problem, &items) {
            Some(host) => {
                sol.hosts.push(host);
                names.push(Some(name));
            }
            None => overloaded.push((name, items)),
        }
    }
    let w = pack::weights(problem);
    // A host that no longer holds its VMs keeps as many as it can: the
    // evictions tried are each single VM, then each pair, smallest first,
    // and the first whose VMs find room on the other hosts (directly or by
    // moving one VM there) wins. Failing that, its smallest VMs leave until
    // the rest fit, and take their chances with the loose ones.
    for (name, items) in overloaded {
        let size = |i: &usize| problem.items[*i].total();
        let mut by_size = items.clone();
        by_size.sort_by(|a, b| size(a).total_cmp(&size(b)).then(a.cmp(b)));
        let mut evictions: Vec<Vec<usize>> = by_size.iter().map(|j| vec![*j]).collect();
        let mut pairs: Vec<Vec<usize>> = by_size
            .iter()
            .enumerate()
            .flat_map(|(x, j)| by_size[x + 1..].iter().map(move |k| vec![*j, *k]))
            .collect();
        pairs.sort_by(|a, b| {
            let (sa, sb): (f64, f64) = (a.iter().map(size).sum(), b.iter().map(size).sum());
            sa.total_cmp(&sb).then(a.cmp(b))
        });
        evictions.extend(pairs);
        let mut placed = false;
        for out in evictions.iter().take(256) {
            let rest: Vec<usize> = items.iter().copied().filter(|k| !out.contains(k)).collect();
            let Some(host) = holds(problem, &rest) else {
                continue;
            };
            let mut trial = sol.clone();
            trial.hosts.push(host);
            if out
                .iter()
                .all(|i| pack::insert_existing(problem, &mut trial, *i, &w))
            {
                sol = trial;
                names.push(Some(name.clone()));
                placed = true;
                break;
            }
        }
        if placed {
            continue;
        }
        let mut kept = by_size;
        let mut out = Vec::new();
        while !kept.is_empty() && holds(problem, &kept).is_none() {
            out.push(kept.remove(0));
        }
        let mut host = holds(problem, &kept).unwrap_or_else(|| pack::Host::new(problem));
        for j in out.into_iter().rev() {
            if pack::fits(problem, &host, &problem.items[j], false) {
                pack::add(problem, &mut host, j);
            } else {
                loose.push(j);
            }
        }
        sol.hosts.push(host);
        names.push(Some(name));
    }
    loose.sort_by(|a, b| {
        problem.items[*b]
            .total()
            .total_cmp(&problem.items[*a].total())
            .then(a.cmp(b))
    });
    for i in loose {
        // Room on a host there is, or made by moving one VM, before a new host.
        if pack::insert_existing(problem, &mut sol, i, &w) {
            continue;
        }
        pack::insert_best_fit(problem, &mut sol, i, &w, None);
        names.push(None);
    }
    // Moving VMs must pay: the improved solution is kept only if it needs
    // fewer hosts once N+k is ensured.
    let k = cluster.failures_to_tolerate as usize;
    let mut improved = sol.clone();
    pack::improve(problem, &mut improved, budget, 0x5EED);
    failover::ensure(problem, &mut improved, k);
    let mut kept = sol.clone();
    failover::ensure(problem, &mut kept, k);
    let mut out = vec![(Replan::Kept, kept.clone())];
    // A few moves on the previous hosts, spares added up to what the search
    // needs, may do as well as the search.
    let need = improved.hosts.len().min(kept.hosts.len());
    if let Some(repaired) = repair(problem, &sol, need, k) {
        out.push((Replan::Repaired, repaired));
    }
    if improved.hosts.len() < kept.hosts.len() {
        // The search saved a host; of what it moved, every VM that can go
        // back to its previous host without costing the host goes back.
        let home = homes(problem, &sol, &names);
        move_back(problem, &mut improved, &home, k);
        out.push((Replan::Searched, improved));
    }
    out
}

/// Most VMs a repair of the previous plan moves before the search takes over.
const MAX_REPAIR_MOVES: usize = 3;

/// Makes the previous plan survive its failure scenarios on `hosts` hosts
/// (empty spares added up to that count) with at most [`MAX_REPAIR_MOVES`]
/// moves, or says it cannot. Each step looks at the first failure scenario
/// that does not restart and moves one VM off a failed host, to the host
/// where it fits: a move after which every scenario passes wins at once,
/// otherwise the smallest move after which that scenario passes is taken
/// and the next failing scenario is looked at.
fn repair(problem: &Problem, sol: &Solution, hosts: usize, k: usize) -> Option<Solution> {
    if sol.hosts.len() > hosts || !sol.unpinned.is_empty() {
        return None;
    }
    let mut cur = sol.clone();
    while cur.hosts.len() < hosts {
        cur.hosts.push(pack::Host::new(problem));
    }
    for _ in 0..=MAX_REPAIR_MOVES {
        let Some(failed) = failover::failing(problem, &cur, k) else {
            return Some(cur);
        };
        let mut candidates: Vec<(usize, usize)> = failed
            .iter()
            .flat_map(|h| cur.hosts[*h].items.iter().map(move |i| (*i, *h)))
            .filter(|(i, _)| problem.items[*i].pin.is_none())
            .collect();
        candidates.sort_by(|(a, _), (b, _)| {
            problem.items[*a]
                .total()
                .total_cmp(&problem.items[*b].total())
                .then(a.cmp(b))
        });
        let mut progress = None;
        'search: for &(i, from) in &candidates {
            for to in (0..cur.hosts.len()).filter(|t| *t != from) {
                if !pack::fits(problem, &cur.hosts[to], &problem.items[i], false) {
                    continue;
                }
                let mut trial = cur.clone();
                let rest: Vec<usize> = trial.hosts[from]
                    .items
                    .iter()
                    .copied()
                    .filter(|x| *x != i)
                    .collect();
                trial.hosts[from] = pack::rebuild(problem, &rest, trial.hosts[from].pinned);
                pack::add(problem, &mut trial.hosts[to], i);
                match failover::failing(problem, &trial, k) {
                    None => {
                        progress = Some(trial);
                        break 'search;
                    }
                    Some(next) if next != failed && progress.is_none() => progress = Some(trial),
                    Some(_) => {}
                }
            }
        }
        cur = progress?;
    }
    None
}

/// Each item's previous host name, from the solution built on the previous
/// plan (`names` holds each of its hosts' previous name).
fn homes(problem: &Problem, sol: &Solution, names: &[Option<String>]) -> Vec<Option<String>> {
    let mut home = vec![None; problem.items.len()];
    for (host, name) in sol.hosts.iter().zip(names) {
        for &i in &host.items {
            home[i].clone_from(name);
        }
    }
    home
}

/// Undoes moves the search made without need: each host of `sol` takes the
/// previous name most of its items had, then, in passes until nothing
/// changes, an item away from its previous host goes back there (alone, or
/// swapped with an item whose previous host is the one it leaves) when it
/// fits and every failure scenario still restarts. The host count never
/// grows: a move back is only taken when the solution stays feasible as is.
fn move_back(problem: &Problem, sol: &mut Solution, home: &[Option<String>], k: usize) {
    let named = majority_names(problem, sol, home);
    let host_of_name: BTreeMap<&str, usize> = named
        .iter()
        .enumerate()
        .filter_map(|(h, n)| n.map(|n| (n, h)))
        .collect();
    let target = |i: usize| {
        home[i]
            .as_deref()
            .and_then(|n| host_of_name.get(n).copied())
    };
    let moved_away = |sol: &Solution| -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (h, host) in sol.hosts.iter().enumerate() {
            for &i in &host.items {
                if let Some(t) = target(i).filter(|t| *t != h) {
                    out.push((i, h, t));
                }
            }
        }
        out.sort_unstable();
        out
    };
    for _ in 0..problem.items.len().max(1) {
        let mut changed = false;
        let away = moved_away(sol);
        for &(i, from, to) in &away {
            if !sol.hosts[from].items.contains(&i) {
                continue;
            }
            // Alone, then swapped with an item that left `to` for `from`.
            let partners = std::iter::once(None).chain(
                sol.hosts[to]
                    .items
                    .iter()
                    .filter(|j| target(**j) == Some(from))
                    .map(|j| Some(*j))
                    .collect::<Vec<_>>(),
            );
            for partner in partners {
                let mut trial = sol.clone();
                let mut from_items: Vec<usize> = trial.hosts[from]
                    .items
                    .iter()
                    .copied()
                    .filter(|x| *x != i)
                    .collect();
                let mut to_items: Vec<usize> = trial.hosts[to]
                    .items
                    .iter()
                    .copied()
                    .filter(|x| Some(*x) != partner)
                    .collect();
                let to_host = pack::rebuild(problem, &to_items, trial.hosts[to].pinned);
                if !pack::fits(problem, &to_host, &problem.items[i], false) {
                    continue;
                }
                to_items.push(i);
                if let Some(j) = partner {
                    let from_host = pack::rebuild(problem, &from_items, trial.hosts[from].pinned);
                    if !pack::fits(problem, &from_host, &problem.items[j], false) {
                        continue;
                    }
                    from_items.push(j);
                }
                trial.hosts[from] = pack::rebuild(problem, &from_items, trial.hosts[from].pinned);
                trial.hosts[to] = pack::rebuild(problem, &to_items, trial.hosts[to].pinned);
                if failover::check(problem, &trial, k).is_ok() {
                    *sol = trial;
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// For each host of `sol`, the previous name most of its VMs had (ties to
/// the smaller name), each name given to one host only, hosts with more
/// items of that name first.
fn majority_names<'a>(
    problem: &Problem,
    sol: &Solution,
    home: &'a [Option<String>],
) -> Vec<Option<&'a str>> {
    let mut votes: Vec<(usize, &str, usize)> = Vec::new();
    for (h, host) in sol.hosts.iter().enumerate() {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in &host.items {
            if let Some(n) = home[i].as_deref() {
                *count.entry(n).or_default() += problem.items[i].members.len();
            }
        }
        votes.extend(count.into_iter().map(|(n, c)| (c, n, h)));
    }
    votes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
    let mut named = vec![None; sol.hosts.len()];
    let mut taken = BTreeSet::new();
    for (_, n, h) in votes {
        if named[h].is_none() && taken.insert(n) {
            named[h] = Some(n);
        }
    }
    named
}

/// The host holding exactly these items, if they all fit together.
fn holds(problem: &Problem, items: &[usize]) -> Option<pack::Host> {
    let mut host = pack::Host::new(problem);
    for &i in items {
        if !pack::fits(problem, &host, &problem.items[i], false) {
            return None;
        }
        pack::add(problem, &mut host, i);
    }
    Some(host)
}

/// Orders and names the hosts: pinned hosts keep their numbers, hosts of a
/// previous plan keep its names where most of their VMs were, and the others
/// follow in order of their first VM's name, with empty spares last.
fn name_hosts(
    model: &Model,
    cluster: &Cluster,
    problem: &Problem,
    sol: &mut Solution,
    previous: Option<&Previous>,
) -> Vec<String> {
    let first_name = |h: &pack::Host| member_names(model, problem, &h.items).min();
    let n = sol.hosts.len();
    let width = n.to_string().len().max(2);
    let name_of = |k: usize| format!("{}-{:0width$}", cluster.name, k);
    let mut fixed: BTreeMap<usize, usize> = BTreeMap::new(); // host index → number
    let mut taken: BTreeSet<usize> = BTreeSet::new();
    for (h, host) in sol.hosts.iter().enumerate() {
        if host.pinned {
            let number = h + 1;
            fixed.insert(h, number);
            taken.insert(number);
        }
    }
    if let Some(prev) = previous {
        // Each host takes the previous name held by most of its VMs, if free.
        let mut claims: Vec<(usize, usize, usize)> = Vec::new(); // (votes, host, number)
        for (h, host) in sol.hosts.iter().enumerate() {
            if fixed.contains_key(&h) {
                continue;
            }
            let mut votes: BTreeMap<usize, usize> = BTreeMap::new();
            for i in &host.items {
                for m in &problem.items[*i].members {
                    let number = prev
                        .assignments
                        .get(&model.servers[*m].name)
                        .and_then(|name| name.rsplit_once('-'))
                        .filter(|(c, _)| *c == cluster.name)
                        .and_then(|(_, k)| k.parse::<usize>().ok());
                    if let Some(k) = number {
                        *votes.entry(k).or_default() += 1;
                    }
                }
            }
            for (k, v) in votes {
                claims.push((v, h, k));
            }
        }
        claims.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, h, k) in claims {
            if k >= 1 && !fixed.contains_key(&h) && !taken.contains(&k) {
                fixed.insert(h, k);
                taken.insert(k);
            }
        }
    }
    let mut rest: Vec<usize> = (0..n).filter(|h| !fixed.contains_key(h)).collect();
    rest.sort_by(|a, b| {
        let (ha, hb) = (&sol.hosts[*a], &sol.hosts[*b]);
        ha.items
            .is_empty()
            .cmp(&hb.items.is_empty())
            .then(first_name(ha).cmp(&first_name(hb)))
            .then(a.cmp(b))
    });
    let mut next = 1;
    for h in rest {
        while taken.contains(&next) {
            next += 1;
        }
        fixed.insert(h, next);
        taken.insert(next);
    }
    // Reorder the hosts by number, so index order is name order.
    let mut order: Vec<(usize, usize)> = fixed.into_iter().map(|(h, k)| (k, h)).collect();
    order.sort();
    let old = std::mem::take(&mut sol.hosts);
    let mut slots: Vec<Option<pack::Host>> = old.into_iter().map(Some).collect();
    let mut names = Vec::new();
    for (k, h) in order {
        if let Some(host) = slots[h].take() {
            sol.hosts.push(host);
            names.push(name_of(k));
        }
    }
    names
}

fn host_plans(
    model: &Model,
    cluster: &Cluster,
    vms: &BTreeMap<Id, &VmDemand>,
    problem: &Problem,
    sol: &Solution,
    names: &[String],
    placement: &mut Placement,
) -> Vec<HostPlan> {
    let s = problem.slots;
    let settings = &model.project.profile;
    let mut out = Vec::new();
    for (host, name) in sol.hosts.iter().zip(names) {
        let mut vm_names: Vec<String> = member_names(model, problem, &host.items).collect();
        vm_names.sort();
        for v in &vm_names {
            placement.assignments.insert(v.clone(), name.clone());
        }
        let peaks = if host.items.is_empty() {
            Vec::new()
        } else {
            RESOURCES
                .iter()
                .map(|r| {
                    let ri = r.index();
                    let load = &host.load[ri * s..(ri + 1) * s];
                    let slot = (0..s)
                        .max_by(|a, b| load[*a].total_cmp(&load[*b]).then(b.cmp(a)))
                        .unwrap_or(0);
                    let capacity = problem.raw[ri];
                    PeakUse {
                        resource: *r,
                        used: load.get(slot).copied().unwrap_or(0.0),
                        capacity,
                        percent: if capacity.is_finite() && capacity > 0.0 {
                            load.get(slot).copied().unwrap_or(0.0) / capacity * 100.0
                        } else {
                            0.0
                        },
                        when: slot_label(slot, settings),
                    }
                })
                .collect()
        };
        let mut cpu_by_vm: Vec<(String, Vec<f64>)> = host
            .items
            .iter()
            .flat_map(|i| problem.items[*i].members.iter())
            .filter_map(|m| {
                Some((
                    model.servers[*m].name.clone(),
                    vms.get(m)?.profile[0].clone(),
                ))
            })
            .collect();
        cpu_by_vm.sort_by(|a, b| a.0.cmp(&b.0));
        placement.charts.push(HostChart {
            host: name.clone(),
            cluster: cluster.name.clone(),
            cpu_by_vm,
            cpu_limit: host.cpu_cap,
            cpu_percent: host.load[0..s]
                .iter()
                .map(|l| {
                    if problem.raw[0] > 0.0 {
                        l / problem.raw[0] * 100.0
                    } else {
                        0.0
                    }
                })
                .collect(),
        });
        out.push(HostPlan {
            name: name.clone(),
            vcpus: host.vcpus,
            spare: host.items.is_empty(),
            vms: vm_names,
            peaks,
        });
    }
    out
}

fn failover_report(
    verdict: &failover::Verdict,
    names: &[String],
    settings: &ProfileSettings,
    cluster: &Cluster,
) -> Failover {
    let worst = verdict.worst.as_ref();
    Failover {
        failures_to_tolerate: cluster.failures_to_tolerate,
        method: match verdict.method {
            failover::Method::Simulated => "simulated".to_string(),
            failover::Method::EmptySpares => "empty-spares".to_string(),
        },
        scenarios: verdict.scenarios,
        hosts_added: verdict.hosts_added,
        worst_failed_hosts: worst
            .map(|w| {
                w.failed
                    .iter()
                    .filter_map(|h| names.get(*h).cloned())
                    .collect()
            })
            .unwrap_or_default(),
        worst_host: worst.and_then(|w| names.get(w.host).cloned()),
        worst_resource: worst.map(|w| RESOURCES[w.resource]),
        worst_when: worst.map(|w| slot_label(w.slot, settings)),
        worst_percent: worst.map(|w| w.utilization * 100.0),
    }
}

/// The re-plan to keep: within `max_moves` (or the fewest moves when none
/// is), the fewest unplaced VMs, then hosts, then moves; and the hosts the
/// bound costs against the best re-plan without it.
fn pick_replan(
    model: &Model,
    cluster: &Cluster,
    problem: &Problem,
    cands: &[(Replan, Solution, failover::Verdict)],
    previous: Option<&Previous>,
    options: &Options,
) -> (usize, usize) {
    // Servers already migrated (`status "migrated"`) run where they are:
    // a re-plan that moves any of them comes last.
    let keys: Vec<(usize, usize, usize, usize)> = cands
        .iter()
        .map(|(_, s, _)| {
            let (all, migrated) = moved_counts(model, cluster, problem, s, previous);
            (migrated, s.unplaced.len(), s.hosts.len(), all)
        })
        .collect();
    let best = |allowed: &dyn Fn(usize) -> bool| {
        (0..cands.len())
            .filter(|i| allowed(*i))
            .min_by_key(|i| (keys[*i], *i))
    };
    let any = best(&|_| true).unwrap_or(0);
    let within = match options.max_moves {
        Some(max) => best(&|i| keys[i].3 <= max).unwrap_or_else(|| {
            (0..cands.len())
                .min_by_key(|i| (keys[*i].3, *i))
                .unwrap_or(0)
        }),
        None => any,
    };
    (within, keys[within].2.saturating_sub(keys[any].2))
}

/// A sentence per move: the previous host that no longer holds its VMs
/// (which limit, when), a new server, or what the re-plan bought.
fn give_reasons(
    model: &Model,
    cluster: &Cluster,
    problem: &Problem,
    previous: &Previous,
    path: Replan,
    hosts_now: usize,
    moves: &mut [Move],
) {
    // The previous hosts of this cluster, rebuilt with today's demands.
    let mut before: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, item) in problem.items.iter().enumerate() {
        let hosts: BTreeSet<&String> = item
            .members
            .iter()
            .filter_map(|m| previous.assignments.get(&model.servers[*m].name))
            .collect();
        if let (Some(h), 1) = (hosts.first(), hosts.len()) {
            before.entry(h.as_str()).or_default().push(i);
        }
    }
    let hosts_before = previous
        .assignments
        .values()
        .filter(|h| h.rsplit_once('-').is_some_and(|(c, _)| c == cluster.name))
        .collect::<BTreeSet<_>>()
        .len();
    let overloaded: BTreeMap<&str, String> = before
        .iter()
        .filter_map(|(name, items)| {
            let host = pack::rebuild(problem, items, false);
            let why = match pack::overload(problem, &host)? {
                pack::Overload::Vms => format!("more than {} VMs", problem.max_vms),
                pack::Overload::Vcpus => format!("more than {} vCPUs", problem.max_vcpus),
                pack::Overload::Resource { resource, slot } => format!(
                    "over its {} target at {}",
                    crate::measure::RESOURCES[resource].label(),
                    slot_label(slot, &model.project.profile)
                ),
            };
            Some((*name, why))
        })
        .collect();
    let k = cluster.failures_to_tolerate;
    for m in moves {
        m.reason = if m.from.is_empty() {
            "new in the plan".to_string()
        } else if let Some(why) = overloaded.get(m.from.as_str()) {
            format!("{} no longer holds its VMs: {why}", m.from)
        } else {
            match path {
                Replan::Kept | Replan::Repaired => format!(
                    "so that the VMs of any {k} failed host{} restart on the others (N+{k})",
                    if k == 1 { "" } else { "s" }
                ),
                Replan::Searched | Replan::Fresh => format!(
                    "re-packed: {hosts_before} hosts ran VMs before, {hosts_now} hosts now (spares included)"
                ),
            }
        };
    }
}

/// How many VMs of `sol` would run elsewhere than in the previous plan,
/// once its hosts are named against it, and how many of them are already
/// migrated.
fn moved_counts(
    model: &Model,
    cluster: &Cluster,
    problem: &Problem,
    sol: &Solution,
    previous: Option<&Previous>,
) -> (usize, usize) {
    let mut named = sol.clone();
    let names = name_hosts(model, cluster, problem, &mut named, previous);
    let moves = moves(model, problem, &named, &names, previous);
    let migrated = moves
        .iter()
        .filter(|m| !m.from.is_empty())
        .filter(|m| {
            model
                .servers
                .iter()
                .any(|s| s.name == m.server && s.status == crate::model::Status::Migrated)
        })
        .count();
    (moves.len(), migrated)
}

fn moves(
    model: &Model,
    problem: &Problem,
    sol: &Solution,
    names: &[String],
    previous: Option<&Previous>,
) -> Vec<Move> {
    let Some(prev) = previous else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (host, name) in sol.hosts.iter().zip(names) {
        for i in &host.items {
            for m in &problem.items[*i].members {
                let server = &model.servers[*m].name;
                match prev.assignments.get(server) {
                    Some(before) if before != name => out.push(Move {
                        server: server.clone(),
                        from: before.clone(),
                        to: name.clone(),
                        reason: String::new(),
                    }),
                    None => out.push(Move {
                        server: server.clone(),
                        from: String::new(),
                        to: name.clone(),
                        reason: String::new(),
                    }),
                    _ => {}
                }
            }
        }
    }
    out.sort_by(|a, b| a.server.cmp(&b.server));
    out
}

fn baselines(
    model: &Model,
    cluster: &Cluster,
    hm: &HostModel,
    vms: &[&VmDemand],
    on: &Switches,
    problem: &Problem,
) -> Baselines {
    // Sum of peaks: every VM's profile flattened at its peak, packed first-fit.
    let mut flat = problem.clone();
    for item in &mut flat.items {
        let s = flat.slots;
        for r in 0..R {
            let p = item.peak[r];
            item.demand[r * s..(r + 1) * s]
                .iter_mut()
                .for_each(|d| *d = p);
            item.low[r] = p;
            item.sum[r] = p * s as f64;
        }
    }
    let mut sol = pack::construct(&flat, pack::Construction::FirstFitDecreasing);
    failover::ensure(&flat, &mut sol, on.failures);
    let sum_of_peaks = sol.hosts.len();
    // Logical order: one group of hosts per first tag, each packed on its own.
    let mut by_tag: BTreeMap<String, Vec<&VmDemand>> = BTreeMap::new();
    for vm in vms {
        let tag = model.servers[vm.server]
            .tags
            .first()
            .cloned()
            .unwrap_or_else(|| "(untagged)".to_string());
        by_tag.entry(tag).or_default().push(vm);
    }
    let mut logical_order = 0;
    for group in by_tag.values() {
        let p = build_problem(model, cluster, hm, group, on);
        let mut s = pack::construct(&p, pack::Construction::FirstFitDecreasing);
        failover::ensure(&p, &mut s, on.failures);
        logical_order += s.hosts.len();
    }
    Baselines {
        sum_of_peaks,
        logical_order,
        logical_groups: by_tag.into_keys().collect(),
    }
}

/// The fresh plan with every rule on, which each rule's price is measured against.
struct Fresh {
    hosts: usize,
    added_for_failover: usize,
    cost: SolutionCost,
}

fn rule_prices(
    model: &Model,
    cluster: &Cluster,
    hm: &HostModel,
    vms: &[&VmDemand],
    fresh: &Fresh,
    budget: usize,
) -> Vec<RulePrice> {
    let in_cluster: BTreeSet<Id> = vms.iter().map(|v| v.server).collect();
    let all_on = Switches {
        rules: vec![true; model.rules.len()],
        failures: cluster.failures_to_tolerate as usize,
    };
    // The plan with the switches, failures survived unless `survive` is
    // off: its hosts and cost.
    let plan_with = |on: &Switches, survive: bool| {
        let p = build_problem(model, cluster, hm, vms, on);
        let mut s = pack::solve(&p, budget);
        if survive {
            failover::ensure(&p, &mut s, on.failures);
        }
        let failures = if survive { on.failures } else { 0 };
        let cost = solution_costs(model, vms, cluster, hm, &p, &s, failures);
        (s.hosts.len(), cost)
    };
    // The plan with every rule is also a plan without one: a heuristic
    // that does worse without it is not a negative price.
    let price = |rule: String, kind: String, extra_hosts: i64, without: SolutionCost| {
        let saved = fresh.cost.total() > without.total() + 0.005;
        RulePrice {
            rule,
            kind,
            extra_hosts,
            extra_cost: if saved {
                fresh.cost.total() - without.total()
            } else {
                0.0
            },
            extra_licences: if saved {
                fresh.cost.licences - without.licences
            } else {
                0.0
            },
        }
    };
    let mut out = Vec::new();
    for (ri, rule) in model.rules.iter().enumerate() {
        let applies = match &rule.kind {
            RuleKind::Affinity { servers } | RuleKind::AntiAffinity { servers } => {
                servers.iter().any(|s| in_cluster.contains(s))
            }
            RuleKind::SeparateBy { tags } => vms.iter().any(|v| {
                model.servers[v.server]
                    .tags
                    .iter()
                    .any(|t| tags.contains(t))
            }),
            RuleKind::Pin { server, .. } => in_cluster.contains(server),
        };
        if !applies {
            continue;
        }
        let mut off = all_on.clone();
        off.rules[ri] = false;
        let (hosts, cost) = plan_with(&off, true);
        let extra = fresh.hosts as i64 - hosts.min(fresh.hosts) as i64;
        out.push(price(
            rule.name.clone(),
            rule.kind.keyword().to_string(),
            extra,
            cost,
        ));
    }
    if cluster.failures_to_tolerate > 0 {
        // Hosts are only ever added for N+k, never moved: the plan without
        // it is the same packing before those hosts were added, and its
        // host-licensed products need not cover any failure.
        let (_, cost) = plan_with(&all_on, false);
        out.push(price(
            format!("N+{}", cluster.failures_to_tolerate),
            "failures-to-tolerate".to_string(),
            fresh.added_for_failover as i64,
            cost,
        ));
    }
    out
}
