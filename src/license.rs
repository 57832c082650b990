//! Licences: how many units of each product an estate needs, by the vendors'
//! counting rules, and the cheapest compliant mix on every host.
//!
//! In: the licence products ([`Product`]), the physical servers that need
//! them (as-is) and the hosts with the VMs they run (to-be). Out: units per
//! product, and per host the choice made with the alternatives it beat.
//!
//! Outline:
//! 1. **Units of one licensing.** A host or a physical server is licensed
//!    by its cores (with per-processor and per-host minimums, a core factor
//!    and packs), its sockets (in groups), or as one instance ([`host_units`]).
//!    A VM on its own is licensed by its vCPUs (with a per-VM minimum and
//!    packs) or as an instance ([`vm_units`]).
//! 2. **One product on one host** ([`Product::best_on_host`]): either full
//!    licensings of the host, each covering `vms-per-license` VMs and
//!    stacked as needed, or each VM on its own where the product allows it.
//!    The cheaper over the horizon wins.
//! 3. **Coverage** ([`host_mix`]): a product may cover others (Datacenter
//!    covers Standard guests; a platform licence may cover guest OS
//!    licences). Every way to assign each needed product to itself or to a
//!    product covering it is priced, and the cheapest is kept: nothing is
//!    counted twice.
//! 4. **Mobility.** A VM may run on any host of its cluster after a failure.
//!    Host-licensed products are counted for what each host may have to run
//!    ([`failover_load`]); products counted on every core the VM can run on
//!    count the whole cluster.

use std::collections::BTreeMap;

use serde::Serialize;

/// What one licence unit counts. The schema's word list is [`Metric::WORDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// One unit per instance (server or VM); a full licensing of a host
    /// covers `vms-per-license` instances on it.
    PerInstance,
    /// One unit per vCPU of the VM (per core of a physical server).
    PerVcpu,
    /// One unit per physical core of the licensed host or server.
    PerCore,
    /// One unit per group of `sockets-per-license` sockets.
    PerSocket,
    /// One unit per physical core of every host the VM can run on.
    PerClusterCore,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::PerInstance,
        Metric::PerVcpu,
        Metric::PerCore,
        Metric::PerSocket,
        Metric::PerClusterCore,
    ];
    /// The words of the language, in the order of [`Metric::ALL`].
    pub const WORDS: [&'static str; 5] = [
        "per-instance",
        "per-vcpu",
        "per-core",
        "per-socket",
        "per-cluster-core",
    ];

    pub fn word(self) -> &'static str {
        Self::WORDS[self as usize]
    }

    pub fn from_word(word: &str) -> Option<Metric> {
        Self::WORDS
            .iter()
            .position(|w| *w == word)
            .map(|i| Self::ALL[i])
    }

    /// Whether the metric counts the cores of a machine.
    pub fn counts_cores(self) -> bool {
        matches!(self, Metric::PerCore | Metric::PerClusterCore)
    }
}

/// A licence product with its counting rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub metric: Metric,
    /// Price of one unit.
    pub price: f64,
    /// Yearly support (assurance, subscription) of one unit.
    pub support_per_year: f64,
    /// Least cores counted per processor (core metrics).
    pub min_cores_per_socket: u32,
    /// Least cores counted per host or physical server (core metrics).
    pub min_cores_per_host: u32,
    /// Least cores (vCPUs) counted per VM licensed on its own.
    pub min_cores_per_vm: u32,
    /// Cores × factor = units (Oracle's core factor table: 0.5 for x86).
    pub core_factor: f64,
    /// Units are sold in packs of this many; counts round up to a pack.
    pub pack: u32,
    /// Sockets one unit covers (`per-socket`): 2 for a socket pair.
    pub sockets_per_license: u32,
    /// Instances one full licensing of a host covers; `None` is unlimited.
    pub vms_per_license: Option<u64>,
    /// Whether a VM may be licensed on its own instead of its host.
    pub per_vm: bool,
    /// Products this one covers on a host it licenses.
    pub covers: Vec<usize>,
}

/// A machine that can be licensed: a host, or a physical server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub sockets: u32,
    pub cores: u32,
}

fn round_to_pack(units: f64, pack: u32) -> f64 {
    let pack = f64::from(pack.max(1));
    // Units are whole after the core factor is applied, rounded up.
    let whole = (units - 1e-9).ceil().max(0.0);
    (whole / pack).ceil() * pack
}

/// Units of one full licensing of a machine: a host, or a physical server
/// as-is.
pub fn host_units(p: &Product, m: Machine) -> f64 {
    match p.metric {
        Metric::PerCore | Metric::PerClusterCore | Metric::PerVcpu => {
            let cores = m
                .cores
                .max(m.sockets * p.min_cores_per_socket)
                .max(p.min_cores_per_host);
            round_to_pack(f64::from(cores) * p.core_factor, p.pack)
        }
        Metric::PerSocket => f64::from(m.sockets.div_ceil(p.sockets_per_license.max(1))),
        Metric::PerInstance => 1.0,
    }
}

/// Units of one VM licensed on its own.
pub fn vm_units(p: &Product, vcpus: u32) -> f64 {
    match p.metric {
        Metric::PerCore | Metric::PerClusterCore | Metric::PerVcpu => round_to_pack(
            f64::from(vcpus.max(p.min_cores_per_vm)) * p.core_factor,
            p.pack,
        ),
        // One unit covers `vms-per-license` guests; counted per host.
        Metric::PerSocket | Metric::PerInstance => 1.0,
    }
}

/// How one product is licensed on one host.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "how", rename_all = "kebab-case")]
pub enum Licensing {
    /// `times` full licensings of the host, each of `units`.
    Host {
        times: u64,
        #[serde(serialize_with = "crate::round::units")]
        units: f64,
    },
    /// Each VM on its own.
    PerVm {
        #[serde(serialize_with = "crate::round::units")]
        units: f64,
    },
}

impl Licensing {
    pub fn units(&self) -> f64 {
        match self {
            Licensing::Host { times, units } => *times as f64 * units,
            Licensing::PerVm { units } => *units,
        }
    }
}

impl Product {
    /// Cost of one unit over `years`: the price and the support.
    pub fn unit_cost(&self, years: f64) -> f64 {
        self.price + self.support_per_year * years
    }

    /// Full licensings of a host that `vms` instances need (at least one
    /// when `at_least_one`, as for a platform licence on every host).
    fn host_times(&self, vms: usize, at_least_one: bool) -> u64 {
        let needed = match self.vms_per_license {
            None => u64::from(vms > 0),
            Some(k) => (vms as u64).div_ceil(k.max(1)),
        };
        if at_least_one { needed.max(1) } else { needed }
    }

    /// The cheaper way to license this product on one host, or `None` when
    /// there is nothing to license. Host licensing covers `need`'s own VMs
    /// and those that may restart there; a VM licensed on its own carries
    /// its licence along, so per-VM units count its own VMs only.
    pub fn best_on_host(&self, host: Machine, need: &Need, forced: bool) -> Option<Licensing> {
        if need.own.is_empty() && need.extra == 0 && !forced {
            return None;
        }
        let by_host = Licensing::Host {
            times: self.host_times(need.own.len() + need.extra, forced),
            units: host_units(self, host),
        };
        if forced || !self.per_vm {
            return Some(by_host);
        }
        let per_vm = match self.metric {
            Metric::PerSocket | Metric::PerInstance => {
                let k = self.vms_per_license.unwrap_or(u64::MAX).max(1);
                (need.own.len() as u64).div_ceil(k) as f64
            }
            _ => need
                .own
                .iter()
                .map(|v| vm_units(self, *v))
                .fold(0.0, |a, b| a + b),
        };
        if need.own.is_empty() {
            // Nothing runs here that is not licensed where it runs now.
            return None;
        }
        if per_vm < by_host.units() {
            Some(Licensing::PerVm { units: per_vm })
        } else {
            Some(by_host)
        }
    }
}

/// What one product needs on one host: the vCPUs of each VM it runs, and
/// how many more VMs may restart on it after failures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Need {
    pub own: Vec<u32>,
    pub extra: usize,
}

impl Need {
    fn add(&mut self, other: &Need) {
        self.own.extend(&other.own);
        self.extra += other.extra;
    }
}

/// One product licensed on one host, within the chosen mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub product: usize,
    /// VMs this licensing covers on the host, its own and those of covered
    /// products (not counting those that may restart there).
    pub vms: usize,
    pub licensing: Licensing,
    pub cost: f64,
}

/// The chosen mix on one host, with the cost of each alternative priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostMix {
    pub choices: Vec<Choice>,
    pub cost: f64,
    /// Every mix priced: (which product licenses each needed product, cost).
    pub alternatives: Vec<(Vec<(usize, usize)>, f64)>,
}

/// The cheapest compliant mix on one host.
///
/// `need` maps each product needed on the host to the vCPUs of its VMs;
/// `forced` is a product the host carries whatever its VMs (the platform
/// licence). Each needed product is licensed by itself or by a product that
/// covers it; every such assignment is priced over `years` and the cheapest
/// kept, ties going to the assignment that lists lower product numbers.
pub fn host_mix(
    products: &[Product],
    host: Machine,
    need: &BTreeMap<usize, Need>,
    forced: Option<usize>,
    years: f64,
) -> HostMix {
    let needed: Vec<usize> = need.keys().copied().collect();
    let options: Vec<Vec<usize>> = needed
        .iter()
        .map(|p| {
            let mut o = vec![*p];
            o.extend(
                products
                    .iter()
                    .enumerate()
                    .filter(|(q, prod)| *q != *p && prod.covers.contains(p))
                    .map(|(q, _)| q),
            );
            o
        })
        .collect();
    let mut best: Option<HostMix> = None;
    let mut alternatives = Vec::new();
    let mut pick = vec![0usize; needed.len()];
    loop {
        let assignment: Vec<(usize, usize)> = needed
            .iter()
            .zip(&pick)
            .enumerate()
            .map(|(i, (p, k))| (*p, options[i][*k]))
            .collect();
        let mut load: BTreeMap<usize, Need> = BTreeMap::new();
        if let Some(f) = forced {
            load.entry(f).or_default();
        }
        for (p, by) in &assignment {
            load.entry(*by).or_default().add(&need[p]);
        }
        let choices: Vec<Choice> = load
            .iter()
            .filter_map(|(q, n)| {
                let prod = &products[*q];
                let licensing = prod.best_on_host(host, n, forced == Some(*q))?;
                let cost = licensing.units() * prod.unit_cost(years);
                Some(Choice {
                    product: *q,
                    vms: n.own.len(),
                    licensing,
                    cost,
                })
            })
            .collect();
        let cost: f64 = choices.iter().map(|c| c.cost).sum();
        alternatives.push((assignment, cost));
        if best.as_ref().is_none_or(|b| cost < b.cost - 1e-9) {
            best = Some(HostMix {
                choices,
                cost,
                alternatives: Vec::new(),
            });
        }
        // Next assignment, odometer-style.
        let mut i = 0;
        loop {
            if i == pick.len() {
                let mut mix = best.unwrap_or(HostMix {
                    choices: Vec::new(),
                    cost: 0.0,
                    alternatives: Vec::new(),
                });
                mix.alternatives = alternatives;
                return mix;
            }
            pick[i] += 1;
            if pick[i] < options[i].len() {
                break;
            }
            pick[i] = 0;
            i += 1;
        }
    }
}

/// What each host may have to run across failures, per product: its own
/// VMs, plus as many more as the `k` other hosts with the most VMs of that
/// product run (they may all restart on it). `hosts[h]` maps product →
/// vCPUs of its VMs. An upper bound: compliant whatever the restart
/// placement.
pub fn failover_load(hosts: &[BTreeMap<usize, Vec<u32>>], k: usize) -> Vec<BTreeMap<usize, Need>> {
    let products: std::collections::BTreeSet<usize> =
        hosts.iter().flat_map(|h| h.keys().copied()).collect();
    hosts
        .iter()
        .enumerate()
        .map(|(h, own)| {
            let mut load: BTreeMap<usize, Need> = BTreeMap::new();
            for p in &products {
                let mut others: Vec<usize> = hosts
                    .iter()
                    .enumerate()
                    .filter(|(o, _)| *o != h)
                    .map(|(_, m)| m.get(p).map_or(0, Vec::len))
                    .collect();
                others.sort_unstable_by(|a, b| b.cmp(a));
                let extra: usize = if k == 0 {
                    0
                } else {
                    others.iter().take(k).sum()
                };
                let mine = own.get(p).cloned().unwrap_or_default();
                if !mine.is_empty() || extra > 0 {
                    load.insert(*p, Need { own: mine, extra });
                }
            }
            load
        })
        .collect()
}

/// The licences of one cluster's hosts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterLicences {
    /// Units per product, indexed like the products.
    pub units: Vec<f64>,
    /// The mix chosen on each host, in host order.
    pub mixes: Vec<HostMix>,
    /// What each host may run across failures, per product.
    pub loads: Vec<BTreeMap<usize, Need>>,
    /// Cost over the horizon of all of it.
    pub cost: f64,
}

/// Licenses a cluster: each host's cheapest mix for what it may run across
/// `k` failures, the platform licence on every host, and products counted
/// on every core of the cluster (`per-cluster-core`) once for each host.
/// `per_host[h]` maps each product the VMs of host h need to their vCPUs.
pub fn cluster_licences(
    products: &[Product],
    machine: Machine,
    per_host: &[BTreeMap<usize, Vec<u32>>],
    k: usize,
    platform: Option<usize>,
    years: f64,
) -> ClusterLicences {
    let mut units = vec![0.0; products.len()];
    let mut on_cluster = std::collections::BTreeSet::new();
    let by_host: Vec<BTreeMap<usize, Vec<u32>>> = per_host
        .iter()
        .map(|need| {
            let mut need = need.clone();
            need.retain(|p, _| {
                let cluster_wide = products[*p].metric == Metric::PerClusterCore;
                if cluster_wide {
                    on_cluster.insert(*p);
                }
                !cluster_wide
            });
            need
        })
        .collect();
    let loads = failover_load(&by_host, k);
    let mut cost = 0.0;
    let mixes: Vec<HostMix> = loads
        .iter()
        .map(|load| {
            let mix = host_mix(products, machine, load, platform, years);
            for c in &mix.choices {
                units[c.product] += c.licensing.units();
            }
            cost += mix.cost;
            mix
        })
        .collect();
    for p in on_cluster {
        let n = host_units(&products[p], machine) * per_host.len() as f64;
        units[p] += n;
        cost += n * products[p].unit_cost(years);
    }
    ClusterLicences {
        units,
        mixes,
        loads,
        cost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(metric: Metric, price: f64) -> Product {
        Product {
            metric,
            price,
            support_per_year: 0.0,
            min_cores_per_socket: 0,
            min_cores_per_host: 0,
            min_cores_per_vm: 0,
            core_factor: 1.0,
            pack: 1,
            sockets_per_license: 1,
            vms_per_license: Some(1),
            per_vm: false,
            covers: Vec::new(),
        }
    }

    /// Windows Server 2022 Standard and Datacenter: every physical core,
    /// at least 8 per processor and 16 per host, in 2-core packs; a full
    /// licensing of Standard covers 2 VMs and stacks, Datacenter unlimited.
    fn windows() -> Vec<Product> {
        let standard = Product {
            min_cores_per_socket: 8,
            min_cores_per_host: 16,
            pack: 2,
            vms_per_license: Some(2),
            ..product(Metric::PerCore, 100.0)
        };
        let datacenter = Product {
            vms_per_license: None,
            covers: vec![0],
            ..standard.clone()
        };
        vec![
            standard,
            Product {
                price: 600.0,
                ..datacenter
            },
        ]
    }

    fn vms(n: usize, vcpus: u32) -> Need {
        Need {
            own: vec![vcpus; n],
            extra: 0,
        }
    }

    #[test]
    fn windows_2003_enterprise_covers_four_instances() {
        // One licence runs up to 4 virtual instances on the licensed host:
        // 5 VMs need 2 licences.
        let enterprise = Product {
            vms_per_license: Some(4),
            per_vm: false,
            ..product(Metric::PerInstance, 2000.0)
        };
        let host = Machine {
            sockets: 2,
            cores: 8,
        };
        let l = enterprise.best_on_host(host, &vms(5, 2), false).unwrap();
        assert_eq!(
            l,
            Licensing::Host {
                times: 2,
                units: 1.0
            }
        );
        // Datacenter 2003: per processor, unlimited instances: 2 units.
        let datacenter = Product {
            vms_per_license: None,
            ..product(Metric::PerSocket, 3000.0)
        };
        let l = datacenter.best_on_host(host, &vms(9, 2), false).unwrap();
        assert_eq!(l.units(), 2.0);
    }

    #[test]
    fn core_minimums_and_packs() {
        let w = windows();
        // 1 socket × 6 cores: 8 per processor, 16 per host → 16.
        let small = Machine {
            sockets: 1,
            cores: 6,
        };
        assert_eq!(host_units(&w[0], small), 16.0);
        // 2 × 9 cores = 18 → 18 (above both minimums; already a pack).
        let odd = Machine {
            sockets: 2,
            cores: 18,
        };
        assert_eq!(host_units(&w[0], odd), 18.0);
        // 3 × 7 = 21 cores: 8 per processor → 24.
        let three = Machine {
            sockets: 3,
            cores: 21,
        };
        assert_eq!(host_units(&w[0], three), 24.0);
        // A 2-core pack rounds 17 cores up to 18.
        let p = Product {
            pack: 2,
            ..product(Metric::PerCore, 1.0)
        };
        assert_eq!(
            host_units(
                &p,
                Machine {
                    sockets: 1,
                    cores: 17
                }
            ),
            18.0
        );
    }

    #[test]
    fn datacenter_against_stacked_standard() {
        let w = windows();
        let host = Machine {
            sockets: 2,
            cores: 32,
        };
        // 7 VMs: Standard 4 × 32 = 128 cores × 100 = 12,800; Datacenter
        // 32 × 600 = 19,200: Standard wins.
        let need = BTreeMap::from([(0, vms(7, 4))]);
        let mix = host_mix(&w, host, &need, None, 0.0);
        assert_eq!(mix.choices.len(), 1);
        assert_eq!(mix.choices[0].product, 0);
        assert_eq!(mix.choices[0].licensing.units(), 128.0);
        assert_eq!(mix.cost, 12_800.0);
        // 13 VMs: Standard 7 × 32 = 224 cores = 22,400; Datacenter 19,200.
        let need = BTreeMap::from([(0, vms(13, 4))]);
        let mix = host_mix(&w, host, &need, None, 0.0);
        assert_eq!(mix.choices[0].product, 1);
        assert_eq!(mix.cost, 19_200.0);
        let runner_up: Vec<f64> = mix.alternatives.iter().map(|a| a.1).collect();
        assert_eq!(runner_up, vec![22_400.0, 19_200.0]);
    }

    #[test]
    fn support_over_the_horizon_decides() {
        // Price alone favours Standard for 7 VMs (12,800 against 19,200);
        // with 5 years of support at 10 and 200 per core it still does:
        // 128 × (100 + 50) = 19,200 against 32 × (600 + 1000) = 51,200.
        let mut w = windows();
        w[0].support_per_year = 10.0;
        w[1].support_per_year = 200.0;
        let host = Machine {
            sockets: 2,
            cores: 32,
        };
        let need = BTreeMap::from([(0, vms(7, 4))]);
        let mix = host_mix(&w, host, &need, None, 5.0);
        assert_eq!(mix.cost, 19_200.0);
    }

    #[test]
    fn sql_per_vm_with_a_four_core_minimum() {
        // Per VM: max(vCPUs, 4) in 2-core packs: 2 → 4, 4 → 4, 5 → 6 = 14;
        // the host's 32 cores would cost more.
        let sql = Product {
            min_cores_per_socket: 4,
            min_cores_per_vm: 4,
            pack: 2,
            per_vm: true,
            ..product(Metric::PerCore, 1000.0)
        };
        let host = Machine {
            sockets: 2,
            cores: 32,
        };
        let need = Need {
            own: vec![2, 4, 5],
            extra: 0,
        };
        assert_eq!(
            sql.best_on_host(host, &need, false),
            Some(Licensing::PerVm { units: 14.0 })
        );
    }

    #[test]
    fn oracle_counts_every_core_with_the_core_factor() {
        // Two 24-core hosts, x86 core factor 0.5: 2 × 24 × 0.5 = 24
        // processor licences.
        let oracle = Product {
            core_factor: 0.5,
            ..product(Metric::PerClusterCore, 47_500.0)
        };
        let host = Machine {
            sockets: 2,
            cores: 24,
        };
        assert_eq!(2.0 * host_units(&oracle, host), 24.0);
        // An odd core count rounds up: 2 × 5 cores × 0.5 = 5; 1 × 5 = 2.5 → 3.
        let five = Machine {
            sockets: 1,
            cores: 5,
        };
        assert_eq!(host_units(&oracle, five), 3.0);
    }

    #[test]
    fn rhel_counts_socket_pairs() {
        let rhel = Product {
            sockets_per_license: 2,
            vms_per_license: Some(2),
            ..product(Metric::PerSocket, 800.0)
        };
        let one = Machine {
            sockets: 1,
            cores: 8,
        };
        let four = Machine {
            sockets: 4,
            cores: 64,
        };
        assert_eq!(host_units(&rhel, one), 1.0);
        assert_eq!(host_units(&rhel, four), 2.0);
        // On a 2-socket host, one subscription per 2 guests: 5 VMs → 3.
        let host = Machine {
            sockets: 2,
            cores: 32,
        };
        assert_eq!(
            rhel.best_on_host(host, &vms(5, 2), false).unwrap().units(),
            3.0
        );
    }

    #[test]
    fn a_spare_is_licensed_for_what_it_would_run() {
        // Three hosts with 3, 1 and 0 Standard VMs, N+1: each may receive
        // the VMs of the busiest other host.
        let hosts = vec![
            BTreeMap::from([(0, vec![2, 2, 2])]),
            BTreeMap::from([(0, vec![2])]),
            BTreeMap::new(),
        ];
        let load = failover_load(&hosts, 1);
        assert_eq!(load[0][&0].extra, 1);
        assert_eq!(load[1][&0].extra, 3);
        assert_eq!(
            load[2][&0].extra, 3,
            "the empty spare takes host 0's three VMs"
        );
        let w = windows();
        let host = Machine {
            sockets: 2,
            cores: 16,
        };
        // The spare: 3 VMs → 2 Standard licensings of 16 cores.
        let mix = host_mix(&w, host, &load[2], None, 0.0);
        assert_eq!(
            mix.choices[0].licensing,
            Licensing::Host {
                times: 2,
                units: 16.0
            }
        );
    }

    #[test]
    fn datacenter_on_hyper_v_covers_its_guests() {
        // The platform licence is Datacenter on every host; its Windows
        // Standard guests need nothing more.
        let w = windows();
        let host = Machine {
            sockets: 2,
            cores: 16,
        };
        let need = BTreeMap::from([(0, vms(6, 4))]);
        let mix = host_mix(&w, host, &need, Some(1), 0.0);
        assert_eq!(mix.choices.len(), 1);
        assert_eq!(mix.choices[0].product, 1);
        assert_eq!(mix.choices[0].vms, 6);
        assert_eq!(mix.cost, 16.0 * 600.0);
        // An empty host still carries its platform licence.
        let mix = host_mix(&w, host, &BTreeMap::new(), Some(1), 0.0);
        assert_eq!(mix.cost, 16.0 * 600.0);
    }

    /// On random hosts and loads, over the products the vendors' rules
    /// describe (Windows Standard and Datacenter, SQL Server per core with
    /// per-VM licensing, RHEL socket pairs), the chosen mix is compliant
    /// (every needed product licensed by itself or a product covering it)
    /// and never costs more than licensing the host fully for each needed
    /// product with the cheapest product that covers it.
    #[test]
    fn the_mix_never_costs_more_than_full_host_licensing() {
        let mut w = windows();
        w[1].price = 612.0;
        let sql = Product {
            min_cores_per_socket: 0,
            min_cores_per_host: 0,
            min_cores_per_vm: 4,
            pack: 2,
            vms_per_license: None,
            per_vm: true,
            ..product(Metric::PerCore, 900.0)
        };
        let rhel = Product {
            sockets_per_license: 2,
            vms_per_license: Some(2),
            per_vm: true,
            ..product(Metric::PerSocket, 350.0)
        };
        let products = vec![w[0].clone(), w[1].clone(), sql, rhel];
        let mut rng = crate::place::pack::Rng::new(0x11CE);
        for case in 0..2000 {
            let sockets = 1 + rng.below(4) as u32;
            let host = Machine {
                sockets,
                cores: sockets * (2 + rng.below(31) as u32),
            };
            let mut need = BTreeMap::new();
            for p in [0, 2, 3] {
                if rng.below(3) > 0 {
                    let vms: Vec<u32> = (0..rng.below(12))
                        .map(|_| 1 + rng.below(16) as u32)
                        .collect();
                    let extra = rng.below(4);
                    if !vms.is_empty() || extra > 0 {
                        need.insert(p, Need { own: vms, extra });
                    }
                }
            }
            let years = rng.below(6) as f64;
            let mix = host_mix(&products, host, &need, None, years);
            // Compliance: each product with VMs on the host is licensed by
            // itself or by a product that covers it. (Only VMs that may
            // restart here need nothing when they are licensed on their
            // own: their licence moves with them.)
            for (p, _) in need.iter().filter(|(_, n)| !n.own.is_empty()) {
                let by = mix
                    .choices
                    .iter()
                    .find(|c| c.product == *p || products[c.product].covers.contains(p));
                assert!(by.is_some(), "case {case}: product {p} unlicensed: {mix:?}");
            }
            // The bound: each needed product licensed on the whole host by
            // the cheapest product covering it, as many times as its VMs
            // (own and restarting) need.
            let full: f64 = need
                .iter()
                .map(|(p, n)| {
                    (0..products.len())
                        .filter(|q| q == p || products[*q].covers.contains(p))
                        .map(|q| {
                            let prod = &products[q];
                            let times = prod.host_times(n.own.len() + n.extra, false);
                            times as f64 * host_units(prod, host) * prod.unit_cost(years)
                        })
                        .fold(f64::INFINITY, f64::min)
                })
                .sum();
            assert!(
                mix.cost <= full + 1e-6,
                "case {case}: mix {} above full licensing {full}: {host:?} {need:?}",
                mix.cost
            );
        }
    }

    #[test]
    fn words_follow_the_enum() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_word(m.word()), Some(m));
        }
        let json: Vec<String> = Metric::ALL
            .iter()
            .map(|m| {
                serde_json::to_string(m)
                    .unwrap()
                    .trim_matches('"')
                    .to_string()
            })
            .collect();
        assert_eq!(json, Metric::WORDS);
    }
}
