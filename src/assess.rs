//! Assessment: measured load → verdicts, data confidence and right-sized VMs.
//!
//! In: the [`Model`] and the [`Measurements`]. Out: an [`Assessment`] with,
//! per server, one verdict and every reason for it, a data-confidence grade,
//! the measured demand, the old box against the right-sized VM, and the
//! demand profile the placement packs ([`VmDemand`]).
//!
//! Verdict rules, strongest first (every matching reason is listed):
//! - `keep-physical`: special hardware; no vendor support virtualized; or a
//!   VM larger than every candidate host model of its cluster after overhead
//!   and growth. That last reason alone is a `virtplan::place::does-not-fit`
//!   error unless a `verdict` keeps the server physical; beside fix-first
//!   reasons it is one more of them.
//! - `fix-first`: CPU p95 ≥ the bottleneck threshold of the server's own
//!   capacity, memory peak ≥ its threshold of installed memory, disk IOPS
//!   p95 ≥ its threshold of the server's `disk-iops`, network p95 ≥ its
//!   threshold of the NICs' speed.
//! - `virtualize-with-care`: I/O-heavy: the p95 disk IOPS, disk throughput or
//!   network, raised by the platform's I/O overhead, takes at least the
//!   project's `io-heavy` share (default 10%) of the smallest candidate
//!   host's capacity for it.
//! - `virtualize` otherwise. A `verdict` node overrides, with its reason shown.
//!
//! Right-sizing: vCPUs = ⌈p95 GHz × headroom ÷ host core GHz⌉; memory = peak
//! × headroom rounded up to the granularity; disk = used × (1 + growth)^years.

use schemars::JsonSchema;
use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::measure::{self, Measured, Measurements, RESOURCES, Resource};
use crate::model::{Criticality, HostModel, Id, MemoryRule, Model, Scope, Verdict};
use crate::round;
use crate::units::{Fraction, GIB, num};

/// A machine's size: the physical server's (`old`) or the VM's (`vm`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Shape {
    /// Cores of the server, or vCPUs of the VM.
    pub vcpus: u32,
    /// Memory in GiB (0.01).
    #[serde(serialize_with = "round::gib")]
    pub memory_gib: f64,
    /// Disk in GB (0.01): used space for the server, grown size for the VM.
    #[serde(serialize_with = "round::gb")]
    pub disk_gb: f64,
}

/// What a server was measured to use, at the project's percentile (`_p`)
/// or peak.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Demand {
    /// CPU in GHz (0.01), at the percentile.
    #[serde(serialize_with = "round::ghz")]
    pub cpu_ghz_p: f64,
    /// CPU as a percentage of the server's capacity (0.01), at the percentile.
    #[serde(serialize_with = "round::percent")]
    pub cpu_pct_p: f64,
    /// Memory in GiB (0.01), at the peak.
    #[serde(serialize_with = "round::gib")]
    pub memory_gib_peak: f64,
    /// Disk operations per second (0.01), at the percentile.
    #[serde(serialize_with = "round::iops")]
    pub disk_iops_p: f64,
    /// Disk throughput in MB/s (0.01), at the percentile.
    #[serde(serialize_with = "round::rate")]
    pub disk_mb_s_p: f64,
    /// Network throughput in Mbit/s (0.01), at the percentile.
    #[serde(serialize_with = "round::rate")]
    pub net_mbit_s_p: f64,
}

/// One inventory server's assessment.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServerAssessment {
    /// The server's name, as in the inventory.
    pub name: String,
    /// Where the server ends up: moves, stays physical, retires…
    pub scope: Scope,
    /// The verdict that holds (an override's, when there is one).
    pub verdict: Verdict,
    /// The verdict the rules gave, when an override replaced it.
    pub computed: Verdict,
    /// Why the user overrode the computed verdict.
    pub override_reason: Option<String>,
    /// Why the rules gave this verdict, one sentence each.
    pub reasons: Vec<String>,
    /// 0 (no data) to 5.
    pub confidence: u8,
    /// Share of the period's slots with measurements, in percent (0.01).
    #[serde(serialize_with = "round::percent")]
    pub coverage_pct: f64,
    /// Days of measurement history (0.01).
    #[serde(serialize_with = "round::days")]
    pub history_days: f64,
    /// Measurement rows used.
    pub samples: usize,
    /// Measurement rows rejected.
    pub rejected: usize,
    /// The measured demand.
    pub demand: Demand,
    /// The physical server's size.
    pub old: Shape,
    /// The VM's right-sized shape.
    pub vm: Shape,
    /// The cluster the VM goes to, if it moves.
    pub cluster: Option<String>,
    /// The server's criticality.
    pub criticality: Criticality,
    /// The server's operating system and owner, as the inventory states them.
    pub os: Option<String>,
    pub owner: Option<String>,
}

/// One resource's values over the slots of the period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResourceSeries {
    /// The resource.
    pub resource: Resource,
    /// The unit of `values`: GHz, GiB, IOPS, MB/s or Mbit/s.
    pub unit: &'static str,
    /// One value per slot of the period, in `unit` (0.01).
    #[serde(serialize_with = "round::resource_vec")]
    pub values: Vec<f64>,
}

/// What the placement packs for one VM: per resource, per slot.
#[derive(Debug, Clone)]
pub struct VmDemand {
    pub server: Id,
    pub cluster: Id,
    /// `profile[r][slot]`, overheads and growth included; memory is the
    /// allocated VM memory plus the platform's per-VM overhead.
    pub profile: [Vec<f64>; 5],
    pub vcpus: u32,
}

/// How many servers got one verdict.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VerdictCount {
    /// The verdict.
    pub verdict: Verdict,
    /// Servers with it.
    pub servers: usize,
}

/// How many servers are in one scope.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScopeCount {
    /// The scope.
    pub scope: Scope,
    /// Servers in it.
    pub servers: usize,
}

/// Sums over the assessed servers; sizes are over the servers that move.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Totals {
    /// Servers in the inventory.
    pub servers: usize,
    /// Cores of the servers that move.
    pub old_cores: u64,
    /// Memory of the servers that move, in GiB (0.01).
    #[serde(serialize_with = "round::gib")]
    pub old_memory_gib: f64,
    /// vCPUs of their VMs.
    pub new_vcpus: u64,
    /// Memory of their VMs, in GiB (0.01).
    #[serde(serialize_with = "round::gib")]
    pub new_memory_gib: f64,
    /// Servers per verdict, every verdict listed.
    pub counts: Vec<VerdictCount>,
    /// Servers per scope: every inventory server is in one.
    pub scope: Vec<ScopeCount>,
}

/// The assessment: a verdict and a VM shape for every inventory server.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Assessment {
    /// Every inventory server, by name.
    pub servers: Vec<ServerAssessment>,
    /// Sums and counts.
    pub totals: Totals,
    /// Total measured demand of the estate per resource and slot, for the
    /// heat map (servers without measurements are left out).
    pub estate_profile: Vec<ResourceSeries>,
    #[serde(skip)]
    pub vms: Vec<VmDemand>,
}

/// The error for a server larger than the largest host of its cluster, at
/// the cluster's targets, naming each resource that does not fit.
fn too_large(
    server: &crate::model::Server,
    cluster: &crate::model::Cluster,
    needs: &[(&str, f64, f64, &str)],
    growth: f64,
    years: u32,
) -> Diagnostic {
    let over: Vec<String> = needs
        .iter()
        .filter(|(_, need, best, _)| need > best)
        .map(|(what, need, best, unit)| {
            format!(
                "{what} {} {unit} against {} {unit}",
                num(*need, 1),
                num(*best, 1)
            )
        })
        .collect();
    let grown = if growth > 1.0 + 1e-9 {
        format!(" (with growth over {years} years: × {})", num(growth, 2))
    } else {
        String::new()
    };
    Diagnostic::error(
        "virtplan::place::does-not-fit",
        format!(
            "server `{}` fits on no host model of cluster `{}`{grown}: {}",
            server.name,
            cluster.name,
            over.join(", ")
        ),
    )
    .at(server.span, "larger than any host")
    .related(cluster.span, "cluster defined here")
    .help(
        "add a larger host model to the cluster, lower the growth, or keep the server physical \
         on purpose with `verdict \"keep-physical\" reason=\"…\"`",
    )
}

/// A VM's demand profile as placement packs it: CPU × `cpu` (1 + the
/// platform's overhead) × growth; memory the allocated VM memory (with the
/// platform's per-VM overhead) in every slot; I/O × `io` × growth.
fn vm_profile(m: &Measured, memory_gib: f64, cpu: f64, io: f64, growth: f64) -> [Vec<f64>; 5] {
    std::array::from_fn(|r| match r {
        0 => m.profile[0].iter().map(|v| v * cpu * growth).collect(),
        1 => vec![memory_gib; m.profile[1].len()],
        _ => m.profile[r].iter().map(|v| v * io * growth).collect(),
    })
}

/// Slack of a fit: the packing's own tolerance.
const FIT_EPS: f64 = 1e-9;

/// One limit a lone VM meets on an empty host: what it needs, what the
/// host offers.
#[derive(Debug, Clone, Copy)]
struct Limit {
    what: &'static str,
    need: f64,
    offer: f64,
    unit: &'static str,
}

/// Every limit the packing checks for one VM alone on an empty host of the
/// model `h`: each resource's busiest slot against its capacity at the
/// cluster's target (the CPU target lowered by the server's `max-host-cpu`),
/// its vCPUs against the platform's vCPUs per host, and room for one VM.
fn limits(
    h: &HostModel,
    c: &crate::model::Cluster,
    platform: Option<&crate::model::Platform>,
    server: &crate::model::Server,
    peaks: &[f64; 5],
    vcpus: u32,
) -> Vec<Limit> {
    let (raw, shares) = (h.capacity(), c.target.shares());
    let mut out: Vec<Limit> = RESOURCES
        .iter()
        .map(|r| {
            let i = r.index();
            let mut offer = raw[i] * shares[i];
            if *r == Resource::Cpu
                && let Some(limit) = server.max_host_cpu
            {
                offer = offer.min(raw[i] * limit.0);
            }
            Limit {
                what: r.label(),
                need: peaks[i],
                offer,
                unit: r.unit(),
            }
        })
        .collect();
    if let Some(p) = platform {
        out.push(Limit {
            what: "vCPUs",
            need: f64::from(vcpus),
            offer: f64::from(p.max_vcpus(h.cores())),
            unit: "per host",
        });
        out.push(Limit {
            what: "VMs",
            need: 1.0,
            offer: f64::from(p.max_vms(h.cores())),
            unit: "per host",
        });
    }
    out
}

/// What to report for a VM that no host model holds: each limit it exceeds
/// on every model, against the most any model offers; when no single limit
/// decides (each model fails on another), the first model's.
fn misfits(per_model: &[Vec<Limit>]) -> Vec<Limit> {
    let best: Vec<Limit> = (0..per_model[0].len())
        .map(|k| {
            let offer = per_model.iter().map(|ls| ls[k].offer).fold(0.0, f64::max);
            Limit {
                offer,
                ..per_model[0][k]
            }
        })
        .filter(|l| l.need > l.offer + FIT_EPS)
        .collect();
    if best.is_empty() {
        per_model[0]
            .iter()
            .filter(|l| l.need > l.offer + FIT_EPS)
            .copied()
            .collect()
    } else {
        best
    }
}

pub fn assess(model: &Model, measurements: &Measurements, diags: &mut Diagnostics) -> Assessment {
    let settings = &model.project.profile;
    let years = f64::from(model.project.sizing_years);
    let mut servers = Vec::new();
    let mut vms = Vec::new();
    for (id, server) in model.servers.iter().enumerate() {
        let measured_opt = measurements.by_server.get(&id);
        if measured_opt.is_none() {
            diags.push(
                Diagnostic::warning(
                    "virtplan::metrics::no-data",
                    format!(
                        "server `{}` has no measurements: sized from its configuration",
                        server.name
                    ),
                )
                .at(server.span, "no measurements")
                .help(if server.metrics.is_some() {
                    "its measurement file could not be used: see the errors about it"
                } else {
                    "add `metrics \"file.csv\"` to the server, or a project-level `metrics` glob"
                }),
            );
        }
        let fallback;
        let m: &Measured = match measured_opt {
            Some(m) => m,
            None => {
                fallback = measure::Measured {
                    rejected: measurements.rejected_only.get(&id).copied().unwrap_or(0),
                    ..measure::from_configuration(id, server, settings)
                };
                &fallback
            }
        };
        let cluster = server.cluster.map(|c| &model.clusters[c]);
        let platform = cluster.map(|c| &model.platforms[c.platform]);
        let models: Vec<&HostModel> = cluster
            .map(|c| {
                c.host_models
                    .iter()
                    .map(|h| &model.host_models[*h])
                    .collect()
            })
            .unwrap_or_default();
        let host_core_ghz = models
            .first()
            .map_or(server.clock.0 / 1e9 * server.cpu_perf, |h| {
                h.clock.0 / 1e9 * h.cpu_perf
            });
        let headroom = model.project.sizing.headroom;
        let growth = (1.0 + server.growth_per_year.0).powf(years);

        let cpu_p = m.percentile[0];
        let mem_peak = if m.present[1] {
            m.peak[1]
        } else {
            server.memory.gib()
        };
        let demand = Demand {
            cpu_ghz_p: cpu_p,
            cpu_pct_p: if server.cpu_ghz() > 0.0 {
                cpu_p / server.cpu_ghz() * 100.0
            } else {
                0.0
            },
            memory_gib_peak: mem_peak,
            disk_iops_p: m.percentile[2],
            disk_mb_s_p: m.percentile[3],
            net_mbit_s_p: m.percentile[4],
        };
        let sizing = &model.project.sizing;
        // Headroom goes on measured demand only: a resource sized from the
        // configuration keeps what the server has.
        let cpu_headroom = if measured_opt.is_some() && m.present[0] {
            headroom
        } else {
            1.0
        };
        let mem_headroom = if measured_opt.is_some() && m.present[1] {
            headroom
        } else {
            1.0
        };
        let vcpus =
            ((cpu_p * cpu_headroom / host_core_ghz - 1e-9).ceil() as u32).max(sizing.min_vcpus);
        let gran = sizing.memory_granularity.0 / GIB;
        // A role that holds its memory on purpose: its rule, not the peak.
        let held = model.project.memory_by_role.iter().find_map(|m| {
            server
                .roles
                .iter()
                .find(|r| m.roles.contains(r))
                .map(|r| (r, m.rule))
        });
        let memory_need = match held {
            Some((_, MemoryRule::Declared)) => server.memory.gib(),
            Some((_, MemoryRule::Share(share))) => server.memory.gib() * share.0,
            None => mem_peak * mem_headroom,
        };
        let memory_gib = ((memory_need / gran - 1e-9).ceil() * gran).max(sizing.min_memory.gib());
        let vm = Shape {
            vcpus,
            memory_gib,
            disk_gb: server.disk_used.gb() * growth,
        };
        let old = Shape {
            vcpus: server.cores(),
            memory_gib: server.memory.gib(),
            disk_gb: server.disk_size.gb(),
        };

        let mut keep = Vec::new();
        let mut fix = Vec::new();
        let mut care = Vec::new();
        for hw in &server.special_hardware {
            keep.push(match &hw.note {
                Some(note) => format!("special hardware: {} ({note})", hw.kind),
                None => format!("special hardware: {}", hw.kind),
            });
        }
        if let Some(note) = &server.vendor_unsupported {
            keep.push(if note.is_empty() {
                "the vendor does not support it virtualized".to_string()
            } else {
                format!("the vendor does not support it virtualized: {note}")
            });
        }
        let cpu_ovh = platform.map_or(0.0, |p| p.cpu_overhead.0);
        let io_ovh = platform.map_or(0.0, |p| p.io_overhead.0);
        let mem_ovh = platform.map_or(0.0, |p| p.memory_overhead_per_vm.gib());
        // The VM as the placement will see it: its profile with overheads and
        // growth, against every host model of its cluster.
        let profile = vm_profile(m, memory_gib + mem_ovh, 1.0 + cpu_ovh, 1.0 + io_ovh, growth);
        let mut too_large_for_hosts = None;
        if let Some(c) = cluster
            && !models.is_empty()
        {
            let peaks: [f64; 5] =
                std::array::from_fn(|r| profile[r].iter().copied().fold(0.0, f64::max));
            let per_model: Vec<Vec<Limit>> = models
                .iter()
                .map(|h| limits(h, c, platform, server, &peaks, vcpus))
                .collect();
            let fits = per_model
                .iter()
                .any(|ls| ls.iter().all(|l| l.need <= l.offer + FIT_EPS));
            if !fits {
                let needs = misfits(&per_model);
                let reason = format!(
                    "too large for any host model: {}",
                    needs
                        .iter()
                        .map(|l| format!(
                            "{} {} {} against {} {} at target",
                            l.what,
                            num(l.need, 1),
                            l.unit,
                            num(l.offer, 1),
                            l.unit
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let table: Vec<(&str, f64, f64, &str)> = needs
                    .iter()
                    .map(|l| (l.what, l.need, l.offer, l.unit))
                    .collect();
                too_large_for_hosts = Some((
                    reason,
                    too_large(server, c, &table, growth, model.project.sizing_years),
                ));
            }
        }
        let b = &model.project.bottleneck;
        if measured_opt.is_some() {
            let cpu_share = demand.cpu_pct_p / 100.0;
            if m.present[0] && meets(cpu_share, b.cpu) {
                fix.push(format!(
                    "CPU p{} is {}% of the server's capacity (threshold {}%)",
                    num(settings.percentile, 1),
                    num(cpu_share * 100.0, 1),
                    num(b.cpu.0 * 100.0, 1)
                ));
            }
            let mem_share = mem_peak / server.memory.gib();
            if m.present[1] && meets(mem_share, b.memory) && held.is_none() {
                fix.push(format!(
                    "memory peaks at {}% of installed (threshold {}%)",
                    num(mem_share * 100.0, 1),
                    num(b.memory.0 * 100.0, 1)
                ));
            }
            if let Some(cap) = server.disk_iops.filter(|c| *c > 0.0) {
                let share = demand.disk_iops_p / cap;
                if m.present[2] && meets(share, b.disk) {
                    fix.push(format!(
                        "disk IOPS p{} is {}% of the disks' {} IOPS (threshold {}%)",
                        num(settings.percentile, 1),
                        num(share * 100.0, 1),
                        num(cap, 0),
                        num(b.disk.0 * 100.0, 1)
                    ));
                }
            }
            let nic = f64::from(server.nics) * server.nic_speed.0 / 1e6;
            if nic > 0.0 && m.present[4] && meets(demand.net_mbit_s_p / nic, b.network) {
                fix.push(format!(
                    "network p{} is {}% of the NICs' {} Mbit/s (threshold {}%)",
                    num(settings.percentile, 1),
                    num(demand.net_mbit_s_p / nic * 100.0, 1),
                    num(nic, 0),
                    num(b.network.0 * 100.0, 1)
                ));
            }
            // Each resource against the candidate model with the least of it.
            let smallest = |cap: fn(&HostModel) -> f64| {
                models
                    .iter()
                    .map(|h| (cap(h), h.name.as_str()))
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)))
            };
            let checks = [
                (
                    "disk IOPS",
                    demand.disk_iops_p,
                    smallest(|h| h.storage_iops),
                    "IOPS",
                ),
                (
                    "disk throughput",
                    demand.disk_mb_s_p,
                    smallest(|h| h.storage_throughput.0 / 8e6),
                    "MB/s",
                ),
                (
                    "network",
                    demand.net_mbit_s_p,
                    smallest(|h| h.network.0 / 1e6),
                    "Mbit/s",
                ),
            ];
            for (what, value, host, unit) in checks {
                let Some((cap, host)) = host else { continue };
                let with_ovh = value * (1.0 + io_ovh);
                if cap.is_finite() && cap > 0.0 && with_ovh >= model.project.io_heavy.0 * cap {
                    care.push(format!(
                        "I/O-heavy: {what} p{} of {} {unit} becomes {} {unit} with the platform's {}% I/O overhead, {}% of a `{host}` host",
                        num(settings.percentile, 1),
                        num(value, 1),
                        num(with_ovh, 1),
                        num(io_ovh * 100.0, 1),
                        num(with_ovh / cap * 100.0, 1),
                    ));
                }
            }
        }
        // A server too large for every host joins the reasons it already
        // has to stay; when nothing else stops it moving, it is an error
        // (unless the project keeps it physical on purpose): it must not
        // leave the plan without a word.
        if let Some((reason, error)) = too_large_for_hosts {
            if !keep.is_empty() {
                keep.push(reason);
            } else if !fix.is_empty() {
                fix.push(reason);
            } else {
                if server.verdict_override.is_none() {
                    diags.push(error);
                }
                keep.push(reason);
            }
        }
        let computed = if !keep.is_empty() {
            Verdict::KeepPhysical
        } else if !fix.is_empty() {
            Verdict::FixFirst
        } else if !care.is_empty() {
            Verdict::VirtualizeWithCare
        } else {
            Verdict::Virtualize
        };
        let mut reasons: Vec<String> = keep.into_iter().chain(fix).chain(care).collect();
        if let Some((role, rule)) = held {
            reasons.push(format!(
                "memory held on purpose by role `{role}` (memory-by-role): the VM gets {}, and memory is not judged as a bottleneck",
                match rule {
                    MemoryRule::Declared => format!("the installed {} GiB", num(server.memory.gib(), 1)),
                    MemoryRule::Share(s) => format!(
                        "{}% of the installed {} GiB",
                        num(s.0 * 100.0, 1),
                        num(server.memory.gib(), 1)
                    ),
                }
            ));
        }
        if measured_opt.is_none() {
            reasons.push("no measurements: sized from the configuration".to_string());
        }
        let (verdict, override_reason) = match &server.verdict_override {
            Some((v, reason)) => (*v, Some(reason.clone())),
            None => (computed, None),
        };
        let (coverage, history_days) = if measured_opt.is_some() {
            measure::coverage(m, settings)
        } else {
            (0.0, 0.0)
        };
        let confidence = if measured_opt.is_none() {
            0
        } else {
            confidence_grade(coverage, history_days * 86400.0, settings.period.0)
        };

        let scope = Scope::of(server.status, verdict);
        if scope == Scope::Moves
            && let (Some(cid), Some(_)) = (server.cluster, platform)
        {
            vms.push(VmDemand {
                server: id,
                cluster: cid,
                profile,
                vcpus,
            });
        }
        servers.push(ServerAssessment {
            name: server.name.clone(),
            scope,
            verdict,
            computed,
            override_reason,
            reasons,
            confidence,
            coverage_pct: coverage * 100.0,
            history_days,
            samples: m.samples,
            rejected: m.rejected,
            demand,
            old,
            vm,
            cluster: cluster.map(|c| c.name.clone()),
            criticality: server.criticality,
            os: server.os.clone(),
            owner: server.owner.clone(),
        });
    }
    let moving = servers.iter().filter(|s| s.scope == Scope::Moves);
    let totals = Totals {
        servers: servers.len(),
        old_cores: moving.clone().map(|s| u64::from(s.old.vcpus)).sum(),
        old_memory_gib: moving.clone().map(|s| s.old.memory_gib).sum(),
        new_vcpus: moving.clone().map(|s| u64::from(s.vm.vcpus)).sum(),
        new_memory_gib: moving.map(|s| s.vm.memory_gib).sum(),
        counts: [
            Verdict::Virtualize,
            Verdict::VirtualizeWithCare,
            Verdict::FixFirst,
            Verdict::KeepPhysical,
        ]
        .into_iter()
        .map(|verdict| VerdictCount {
            verdict,
            servers: servers.iter().filter(|s| s.verdict == verdict).count(),
        })
        .collect(),
        scope: Scope::ALL
            .into_iter()
            .map(|scope| ScopeCount {
                scope,
                servers: servers.iter().filter(|s| s.scope == scope).count(),
            })
            .collect(),
    };
    let slots = settings.slots();
    let estate_profile = RESOURCES
        .iter()
        .map(|r| {
            let mut values = vec![0.0; slots];
            for m in measurements.by_server.values() {
                for (acc, v) in values.iter_mut().zip(&m.profile[r.index()]) {
                    *acc += v;
                }
            }
            ResourceSeries {
                resource: *r,
                unit: r.unit(),
                values,
            }
        })
        .collect();
    Assessment {
        servers,
        totals,
        estate_profile,
        vms,
    }
}

/// Whether a measured share meets a `bottleneck` threshold: at or above
/// it, except that a threshold of 100% is met only above it. So "100%"
/// turns the CPU and memory tests off (a server never uses more than all
/// of its CPU or memory) and flags disk and network only beyond the
/// server's stated capacity.
fn meets(share: f64, threshold: Fraction) -> bool {
    if threshold.0 >= 1.0 {
        share > threshold.0
    } else {
        share >= threshold.0
    }
}

/// Grade 1–5 from slot coverage (20% steps, rounded up), one grade less
/// when the history is shorter than one period, two when under half.
pub fn confidence_grade(coverage: f64, history_secs: f64, period_secs: f64) -> u8 {
    let mut grade = (coverage * 5.0).ceil().clamp(1.0, 5.0) as i32;
    if history_secs < period_secs {
        grade -= 1;
    }
    if history_secs < period_secs / 2.0 {
        grade -= 1;
    }
    grade.clamp(1, 5) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades() {
        let week = 7.0 * 86400.0;
        assert_eq!(confidence_grade(1.0, 14.0 * 86400.0, week), 5);
        assert_eq!(confidence_grade(0.81, 14.0 * 86400.0, week), 5);
        assert_eq!(confidence_grade(0.80, 14.0 * 86400.0, week), 4);
        assert_eq!(confidence_grade(0.5, 5.0 * 86400.0, week), 2);
        assert_eq!(confidence_grade(0.1, 3600.0, week), 1);
    }
}
