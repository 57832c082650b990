//! Placement: right-sized VM profiles → hosts per cluster.
//!
//! In: the [`Model`] and the [`Assessment`]'s VM demands. Out: a
//! [`Placement`]: per cluster the chosen host model and count, each host's
//! VMs and peak utilization, a lower bound, and diagnostics for VMs that fit
//! nowhere or clusters over their `max-hosts`.
//!
//! Feasibility: for every host, resource and slot, the sum of its VMs'
//! profiles fits within capacity × target (the CPU target of a host is the
//! strictest `max-host-cpu` of its VMs); VMs per core and vCPUs per core
//! stay within the platform's ratios; affinity groups are packed as one
//! item; anti-affinity members never share a host; hosts never mix VMs of
//! different `separate-by` groups; pinned VMs go to their host number.
//!
//! Method: first-fit decreasing. Items (VMs or affinity groups) are sorted by
//! their largest share of a host's capacity, ties by name; pinned items go
//! first. Fitting checks every slot, so VMs whose peaks fall at different
//! times share a host. Each candidate host model is tried and the cheapest
//! over the horizon (or the fewest hosts when no price is given) is kept.
//! For N+k, `failures-to-tolerate` spare hosts are added.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::assess::{Assessment, VmDemand};
use crate::diag::{Diagnostic, Diagnostics};
use crate::measure::{RESOURCES, Resource};
use crate::model::{Cluster, HostModel, Id, Model, Rule};
use crate::units::num;

#[derive(Debug, Clone, Serialize)]
pub struct PeakUse {
    pub resource: Resource,
    pub used: f64,
    pub capacity: f64,
    pub percent: f64,
    /// When the peak happens, e.g. "tue 14:00".
    pub when: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostPlan {
    pub name: String,
    pub vms: Vec<String>,
    pub vcpus: u32,
    pub peaks: Vec<PeakUse>,
    /// A spare host kept empty for N+k.
    pub spare: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateResult {
    pub host_model: String,
    pub hosts: usize,
    pub cost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterPlan {
    pub name: String,
    pub platform: String,
    pub host_model: String,
    pub hosts: Vec<HostPlan>,
    pub lower_bound: usize,
    pub failures_to_tolerate: u32,
    pub candidates: Vec<CandidateResult>,
    pub unplaced: Vec<String>,
    /// Cost of the chosen hosts over the horizon.
    pub cost: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Placement {
    pub clusters: Vec<ClusterPlan>,
    /// Where each placed server runs: server name → host name.
    pub assignments: BTreeMap<String, String>,
}

pub fn place(model: &Model, assessment: &Assessment, diags: &mut Diagnostics) -> Placement {
    let mut placement = Placement::default();
    for (cid, cluster) in model.clusters.iter().enumerate() {
        let vms: Vec<&VmDemand> = assessment.vms.iter().filter(|v| v.cluster == cid).collect();
        let mut best: Option<(Packing, &HostModel)> = None;
        let mut candidates = Vec::new();
        for &hm_id in &cluster.host_models {
            let hm = &model.host_models[hm_id];
            let packing = pack(model, cluster, hm, &vms);
            let hosts = packing.hosts.len() + cluster.failures_to_tolerate as usize;
            let cost = hosts as f64 * host_cost(model, hm);
            candidates.push(CandidateResult {
                host_model: hm.name.clone(),
                hosts,
                cost,
            });
            let better = match &best {
                None => true,
                Some((b, bhm)) => {
                    let bhosts = b.hosts.len() + cluster.failures_to_tolerate as usize;
                    let bcost = bhosts as f64 * host_cost(model, bhm);
                    (packing.unplaced.len(), cost, hosts) < (b.unplaced.len(), bcost, bhosts)
                }
            };
            if better {
                best = Some((packing, hm));
            }
        }
        let Some((packing, hm)) = best else { continue };
        for &vm in &packing.unplaced {
            let server = &model.servers[vm];
            diags.push(
                Diagnostic::error(
                    "virtplan::place::does-not-fit",
                    format!("VM `{}` fits on no `{}` host of cluster `{}`", server.name, hm.name, cluster.name),
                )
                .at(server.span, "does not fit")
                .related(cluster.span, "cluster defined here")
                .help(packing.why.get(&vm).cloned().unwrap_or_else(|| {
                    "raise the cluster's targets, choose a larger host model, or relax the rules on this VM".to_string()
                })),
            );
        }
        let spare = cluster.failures_to_tolerate as usize;
        let total = packing.hosts.len() + spare;
        if let Some(max) = cluster.max_hosts
            && total > max as usize
        {
            diags.push(
                    Diagnostic::error(
                        "virtplan::place::max-hosts",
                        format!("cluster `{}` needs {total} hosts, more than its max-hosts {max}", cluster.name),
                    )
                    .at(cluster.span, "too small")
                    .help(format!(
                        "raise max-hosts to {total}, choose a larger host model, or move VMs to another cluster"
                    )),
                );
        }
        let cap = capacities(cluster, hm);
        let slots = model.project.profile.slots();
        let mut hosts = Vec::new();
        for (i, h) in packing.hosts.iter().enumerate() {
            let name = format!("{}-{:02}", cluster.name, i + 1);
            let mut names: Vec<String> = h
                .vms
                .iter()
                .map(|v| model.servers[*v].name.clone())
                .collect();
            names.sort();
            for n in &names {
                placement.assignments.insert(n.clone(), name.clone());
            }
            let peaks = RESOURCES
                .iter()
                .map(|r| {
                    let load = &h.load[r.index()];
                    let (slot, used) =
                        load.iter().enumerate().fold((0, 0.0), |(bi, bv), (i, v)| {
                            if *v > bv { (i, *v) } else { (bi, bv) }
                        });
                    let capacity = cap[r.index()] / target_of(cluster, *r);
                    PeakUse {
                        resource: *r,
                        used,
                        capacity,
                        percent: if capacity.is_finite() && capacity > 0.0 {
                            used / capacity * 100.0
                        } else {
                            0.0
                        },
                        when: slot_label(slot, &model.project.profile),
                    }
                })
                .collect();
            hosts.push(HostPlan {
                name,
                vms: names,
                vcpus: h.vcpus,
                peaks,
                spare: false,
            });
        }
        for i in 0..spare {
            hosts.push(HostPlan {
                name: format!("{}-{:02}", cluster.name, packing.hosts.len() + i + 1),
                vms: Vec::new(),
                vcpus: 0,
                peaks: Vec::new(),
                spare: true,
            });
        }
        let lower_bound = lower_bound(&vms, &cap, slots) + spare;
        placement.clusters.push(ClusterPlan {
            name: cluster.name.clone(),
            platform: model.platforms[cluster.platform].name.clone(),
            host_model: hm.name.clone(),
            lower_bound,
            failures_to_tolerate: cluster.failures_to_tolerate,
            candidates,
            unplaced: packing
                .unplaced
                .iter()
                .map(|v| model.servers[*v].name.clone())
                .collect(),
            cost: total as f64 * host_cost(model, hm),
            hosts,
        });
    }
    placement
}

/// Cost of one host over the project horizon: price, support, energy at
/// idle-to-peak midpoint, and rack space.
pub fn host_cost(model: &Model, hm: &HostModel) -> f64 {
    let years = f64::from(model.project.horizon_years);
    let c = &model.costs;
    let watts = (hm.power_idle.0 + hm.power_peak.0) / 2.0;
    let energy = watts / 1000.0 * 8760.0 * c.pue * c.energy_price;
    let space = f64::from(hm.rack_units) * c.rack_unit_per_year;
    hm.price + years * (hm.support_per_year + energy + space)
}

fn target_of(cluster: &Cluster, r: Resource) -> f64 {
    match r {
        Resource::Cpu => cluster.target.cpu.0,
        Resource::Memory => cluster.target.memory.0,
        Resource::DiskIops => cluster.target.disk_iops.0,
        Resource::DiskMbs => cluster.target.disk_throughput.0,
        Resource::NetMbit => cluster.target.network.0,
    }
}

/// Usable capacity per resource (capacity × target), in profile units.
pub fn capacities(cluster: &Cluster, hm: &HostModel) -> [f64; 5] {
    let raw = [
        hm.cpu_ghz(),
        hm.memory.gib(),
        hm.storage_iops,
        hm.storage_throughput.0 / 8e6,
        hm.network.0 / 1e6,
    ];
    let mut cap = [0.0; 5];
    for r in RESOURCES {
        cap[r.index()] = raw[r.index()] * target_of(cluster, r);
    }
    cap
}

/// "tue 14:00" for weekly periods; "slot N (+HH:MM)" otherwise.
pub fn slot_label(slot: usize, settings: &crate::model::ProfileSettings) -> String {
    let secs = slot as f64 * settings.slot.0;
    let minute = (secs / 60.0) as u32;
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

/// ⌈Σ demand ÷ usable capacity⌉, the largest over resources and slots.
fn lower_bound(vms: &[&VmDemand], cap: &[f64; 5], slots: usize) -> usize {
    let mut bound = 0usize;
    for (r, c) in cap.iter().enumerate() {
        if !c.is_finite() || *c <= 0.0 {
            continue;
        }
        for s in 0..slots {
            let sum: f64 = vms
                .iter()
                .map(|v| v.profile[r].get(s).copied().unwrap_or(0.0))
                .sum();
            bound = bound.max((sum / c - 1e-9).ceil().max(0.0) as usize);
        }
    }
    bound.max(usize::from(!vms.is_empty()))
}

struct Host {
    vms: Vec<Id>,
    load: [Vec<f64>; 5],
    vcpus: u32,
    cpu_cap: f64,
    group: Option<BTreeSet<String>>,
}

struct Item {
    members: Vec<Id>,
    profile: [Vec<f64>; 5],
    vcpus: u32,
    name: String,
    max_host_cpu: Option<f64>,
    pin: Option<u32>,
    group: BTreeSet<String>,
}

struct Packing {
    hosts: Vec<Host>,
    unplaced: Vec<Id>,
    why: BTreeMap<Id, String>,
}

fn pack(model: &Model, cluster: &Cluster, hm: &HostModel, vms: &[&VmDemand]) -> Packing {
    let slots = model.project.profile.slots();
    let cap = capacities(cluster, hm);
    let platform = &model.platforms[cluster.platform];
    let cores = f64::from(hm.cores());
    let max_vms = (platform.vms_per_core * cores).floor() as usize;
    let max_vcpus = (platform.vcpu_per_core * cores).floor() as u32;
    let in_cluster: BTreeMap<Id, &VmDemand> = vms.iter().map(|v| (v.server, *v)).collect();

    // Affinity groups by union-find over the VMs of this cluster.
    let mut parent: BTreeMap<Id, Id> = in_cluster.keys().map(|k| (*k, *k)).collect();
    fn find(parent: &mut BTreeMap<Id, Id>, x: Id) -> Id {
        let mut root = x;
        while let Some(&p) = parent.get(&root) {
            if p == root {
                break;
            }
            root = p;
        }
        parent.insert(x, root);
        root
    }
    let mut anti: Vec<BTreeSet<Id>> = Vec::new();
    let mut separate: Vec<&Vec<String>> = Vec::new();
    let mut pins: BTreeMap<Id, u32> = BTreeMap::new();
    for rule in &model.rules {
        match rule {
            Rule::Affinity { servers, .. } => {
                let members: Vec<Id> = servers
                    .iter()
                    .copied()
                    .filter(|s| in_cluster.contains_key(s))
                    .collect();
                for w in members.windows(2) {
                    let (a, b) = (find(&mut parent, w[0]), find(&mut parent, w[1]));
                    if a != b {
                        parent.insert(a.max(b), a.min(b));
                    }
                }
            }
            Rule::AntiAffinity { servers, .. } => {
                anti.push(
                    servers
                        .iter()
                        .copied()
                        .filter(|s| in_cluster.contains_key(s))
                        .collect(),
                );
            }
            Rule::SeparateBy { tags, .. } => separate.push(tags),
            Rule::Pin { server, host, .. } => {
                if in_cluster.contains_key(server) {
                    pins.insert(*server, *host);
                }
            }
        }
    }
    let mut groups: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
    for id in in_cluster.keys() {
        let root = find(&mut parent, *id);
        groups.entry(root).or_default().push(*id);
    }
    let mut items: Vec<Item> = groups
        .into_values()
        .map(|members| {
            let mut profile: [Vec<f64>; 5] = Default::default();
            for p in profile.iter_mut() {
                *p = vec![0.0; slots];
            }
            let mut vcpus = 0;
            let mut max_host_cpu: Option<f64> = None;
            let mut pin = None;
            let mut group = BTreeSet::new();
            for m in &members {
                let vm = in_cluster[m];
                for (acc_r, vm_r) in profile.iter_mut().zip(&vm.profile) {
                    for (acc, v) in acc_r.iter_mut().zip(vm_r) {
                        *acc += v;
                    }
                }
                vcpus += vm.vcpus;
                let server = &model.servers[*m];
                if let Some(limit) = server.max_host_cpu {
                    max_host_cpu = Some(max_host_cpu.map_or(limit.0, |c: f64| c.min(limit.0)));
                }
                if let Some(h) = pins.get(m) {
                    pin = Some(*h);
                }
                for tags in &separate {
                    for t in tags.iter() {
                        if server.tags.contains(t) {
                            group.insert(t.clone());
                        }
                    }
                }
            }
            let name = members
                .iter()
                .map(|m| model.servers[*m].name.as_str())
                .min()
                .unwrap_or("")
                .to_string();
            Item {
                members,
                profile,
                vcpus,
                name,
                max_host_cpu,
                pin,
                group,
            }
        })
        .collect();
    let size = |item: &Item| -> f64 {
        (0..5)
            .filter(|r| cap[*r].is_finite() && cap[*r] > 0.0)
            .map(|r| item.profile[r].iter().copied().fold(0.0, f64::max) / cap[r])
            .fold(0.0, f64::max)
    };
    items.sort_by(|a, b| {
        b.pin
            .is_some()
            .cmp(&a.pin.is_some())
            .then(a.pin.cmp(&b.pin))
            .then(size(b).total_cmp(&size(a)))
            .then(a.name.cmp(&b.name))
    });

    let raw_cpu = hm.cpu_ghz();
    let mut packing = Packing {
        hosts: Vec::new(),
        unplaced: Vec::new(),
        why: BTreeMap::new(),
    };
    let new_host = |item: &Item| Host {
        vms: Vec::new(),
        load: std::array::from_fn(|_| vec![0.0; slots]),
        vcpus: 0,
        cpu_cap: cap[0],
        group: if item.group.is_empty() {
            None
        } else {
            Some(item.group.clone())
        },
    };
    for item in items {
        let fits = |h: &Host| -> bool {
            if h.vms.len() + item.members.len() > max_vms || h.vcpus + item.vcpus > max_vcpus {
                return false;
            }
            let same_group = match &h.group {
                Some(g) => *g == item.group,
                None => item.group.is_empty() || h.vms.is_empty(),
            };
            if !same_group {
                return false;
            }
            if anti.iter().any(|set| {
                item.members.iter().any(|m| set.contains(m))
                    && h.vms.iter().any(|v| set.contains(v))
            }) {
                return false;
            }
            let cpu_cap = match item.max_host_cpu {
                Some(limit) => h.cpu_cap.min(raw_cpu * limit),
                None => h.cpu_cap,
            };
            (0..5).all(|r| {
                let c = if r == 0 { cpu_cap } else { cap[r] };
                h.load[r]
                    .iter()
                    .zip(&item.profile[r])
                    .all(|(l, d)| l + d <= c + 1e-9)
            })
        };
        // An item that fits no empty host is unplaceable.
        let empty = new_host(&item);
        if !fits(&empty) {
            let mut reason = Vec::new();
            for r in RESOURCES {
                let i = r.index();
                let peak = item.profile[i].iter().copied().fold(0.0, f64::max);
                let c = if i == 0 {
                    item.max_host_cpu
                        .map_or(cap[0], |l| cap[0].min(raw_cpu * l))
                } else {
                    cap[i]
                };
                if peak > c + 1e-9 {
                    let slot = item.profile[i]
                        .iter()
                        .position(|v| *v > c + 1e-9)
                        .unwrap_or(0);
                    let flat = item.profile[i].iter().all(|v| *v == peak);
                    let when = if flat {
                        String::new()
                    } else {
                        format!(" at {}", slot_label(slot, &model.project.profile))
                    };
                    let who = if item.members.len() > 1 {
                        let names: Vec<&str> = item
                            .members
                            .iter()
                            .map(|m| model.servers[*m].name.as_str())
                            .collect();
                        format!("its affinity group ({}) needs", names.join(", "))
                    } else {
                        "it needs".to_string()
                    };
                    reason.push(format!(
                        "{}: {who} {} {}{when}, a host offers {} {} at its target",
                        r.label(),
                        num(peak, 1),
                        r.unit(),
                        num(c, 1),
                        r.unit()
                    ));
                }
            }
            if item.members.len() > max_vms || item.vcpus > max_vcpus {
                reason.push(format!(
                    "{} VMs with {} vCPUs exceed the platform's {max_vms} VMs and {max_vcpus} vCPUs per host",
                    item.members.len(),
                    item.vcpus
                ));
            }
            for m in &item.members {
                packing.unplaced.push(*m);
                packing.why.insert(*m, reason.join("; "));
            }
            continue;
        }
        let target = match item.pin {
            Some(h) => {
                let idx = h as usize - 1;
                while packing.hosts.len() <= idx {
                    packing.hosts.push(new_host(&item));
                }
                if fits(&packing.hosts[idx]) {
                    Some(idx)
                } else {
                    None
                }
            }
            None => packing.hosts.iter().position(fits),
        };
        let idx = match target {
            Some(i) => i,
            None => {
                packing.hosts.push(new_host(&item));
                packing.hosts.len() - 1
            }
        };
        let h = &mut packing.hosts[idx];
        for r in 0..5 {
            for (l, d) in h.load[r].iter_mut().zip(&item.profile[r]) {
                *l += d;
            }
        }
        if let Some(limit) = item.max_host_cpu {
            h.cpu_cap = h.cpu_cap.min(raw_cpu * limit);
        }
        if h.vms.is_empty() && !item.group.is_empty() {
            h.group = Some(item.group.clone());
        }
        h.vcpus += item.vcpus;
        h.vms.extend(&item.members);
    }
    // Pins may have opened hosts that stayed empty: drop trailing ones only,
    // so host numbers stay as pinned.
    while packing.hosts.last().is_some_and(|h| h.vms.is_empty()) {
        packing.hosts.pop();
    }
    packing
}
