//! The resolved model: every entity with typed values, defaults applied and
//! references turned into indices. Produced by `lower`, read by the stages.

use serde::Serialize;

use crate::source::Span;
use crate::units::{BitsPerSec, Bytes, Fraction, Hertz, Seconds, Watts, Window};

pub type Id = usize;

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub name: String,
    pub currency: String,
    /// The project's time zone: measurement files' local times, the
    /// profile's slots and the migration windows are in it.
    pub zone: crate::zone::Zone,
    /// Years the costs are compared over (the finance horizon).
    pub horizon_years: u32,
    /// Years of growth the hosts are sized for (the sizing horizon).
    pub sizing_years: u32,
    pub discount_rate: Fraction,
    pub growth_per_year: Fraction,
    /// Share of a host's I/O capacity at which a VM counts as I/O-heavy.
    pub io_heavy: Fraction,
    pub profile: ProfileSettings,
    pub sizing: Sizing,
    pub bottleneck: Bottleneck,
    /// Roles whose servers hold their memory on purpose, and how they are sized.
    pub memory_by_role: Vec<MemoryByRole>,
}

/// `memory-by-role`: servers with one of `roles` hold their memory on
/// purpose (a database's buffer pool, a mail store, a JVM heap), so their
/// measured memory says nothing about need: `rule` sizes the VM, and
/// memory is never their bottleneck.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryByRole {
    pub roles: Vec<String>,
    pub rule: MemoryRule,
}

/// How a `memory-by-role` server's VM memory is sized.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum MemoryRule {
    /// The server's installed memory.
    Declared,
    /// This share of the server's installed memory.
    Share(Fraction),
}

impl MemoryRule {
    /// The words of `rule=`, in the schema.
    pub const WORDS: [&'static str; 2] = ["declared", "share"];
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProfileSettings {
    pub period: Seconds,
    pub slot: Seconds,
    pub percentile: f64,
    /// Share of a server's rows in one file that may be rejected before the
    /// file is an error.
    pub max_rejected: Fraction,
}

impl ProfileSettings {
    pub fn slots(&self) -> usize {
        (self.period.0 / self.slot.0).round() as usize
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sizing {
    pub headroom: f64,
    pub memory_granularity: Bytes,
    pub min_vcpus: u32,
    pub min_memory: Bytes,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Bottleneck {
    pub cpu: Fraction,
    pub memory: Fraction,
    pub disk: Fraction,
    pub network: Fraction,
}

/// A hypervisor product: how the generated playbooks convert onto it and
/// read its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Hypervisor {
    Vcenter,
    Esxi,
    Proxmox,
    Kvm,
}

impl Hypervisor {
    pub const ALL: [Hypervisor; 4] = [
        Hypervisor::Vcenter,
        Hypervisor::Esxi,
        Hypervisor::Proxmox,
        Hypervisor::Kvm,
    ];

    /// The language's word for `word`, per [`crate::schema::HYPERVISORS`].
    pub fn from_word(word: &str) -> Option<Hypervisor> {
        crate::schema::HYPERVISORS
            .iter()
            .position(|w| *w == word)
            .map(|i| Self::ALL[i])
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Platform {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    pub kind: String,
    pub hypervisor: Option<Hypervisor>,
    pub vms_per_core: f64,
    pub vcpu_per_core: f64,
    pub cpu_overhead: Fraction,
    pub io_overhead: Fraction,
    pub memory_overhead_per_vm: Bytes,
    pub license: Option<Id>,
}

impl Platform {
    /// VMs one host of `cores` physical cores may run (`vms-per-core`).
    pub fn max_vms(&self, cores: u32) -> u32 {
        (self.vms_per_core * f64::from(cores))
            .floor()
            .min(f64::from(u32::MAX)) as u32
    }
    /// vCPUs one host of `cores` physical cores may run (`vcpu-per-core`).
    pub fn max_vcpus(&self, cores: u32) -> u32 {
        (self.vcpu_per_core * f64::from(cores))
            .floor()
            .min(f64::from(u32::MAX)) as u32
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HostModel {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    pub sockets: u32,
    pub cores_per_socket: u32,
    pub clock: Hertz,
    pub cpu_perf: f64,
    pub memory: Bytes,
    pub storage_iops: f64,
    pub storage_throughput: BitsPerSec,
    pub network: BitsPerSec,
    pub price: f64,
    pub power_idle: Watts,
    pub power_peak: Watts,
    pub rack_units: u32,
    pub support_per_year: f64,
}

impl HostModel {
    pub fn cores(&self) -> u32 {
        self.sockets * self.cores_per_socket
    }
    /// Raw capacity per resource, in profile units and in the order of
    /// `measure::RESOURCES`: GHz, GiB, IOPS, MB/s, Mbit/s. Placement packs
    /// against it and the assessment's "fits no host" checks it.
    pub fn capacity(&self) -> [f64; 5] {
        [
            self.cpu_ghz(),
            self.memory.gib(),
            self.storage_iops,
            self.storage_throughput.0 / 8e6,
            self.network.0 / 1e6,
        ]
    }
    /// Reference-normalised CPU capacity in GHz.
    pub fn cpu_ghz(&self) -> f64 {
        f64::from(self.cores()) * self.clock.0 / 1e9 * self.cpu_perf
    }
    /// The host as the licence engine counts it.
    pub fn machine(&self) -> crate::license::Machine {
        crate::license::Machine {
            sockets: self.sockets,
            cores: self.cores(),
        }
    }
    /// Power drawn on average: the midpoint of idle and peak.
    pub fn mean_watts(&self) -> f64 {
        (self.power_idle.0 + self.power_peak.0) / 2.0
    }
    /// What one host of this model costs each year, item by item. The cost
    /// report's to-be lines and placement's choice of model both use it.
    pub fn yearly(&self, c: &Costs) -> HostYearly {
        HostYearly {
            energy: energy_cost(self.mean_watts(), c),
            space: f64::from(self.rack_units) * c.rack_unit_per_year,
            ports: HOST_PORTS * c.network_port_per_year,
            support: self.support_per_year,
            admin: c.host_admin_hours_per_year * c.admin_hour,
        }
    }
    /// What buying one host costs: its price and the network gear it needs.
    pub fn purchase(&self, c: &Costs) -> f64 {
        self.price + c.network_gear_per_host
    }
    /// Purchase and running costs of one host over `years`, licences aside.
    pub fn cost_over(&self, c: &Costs, years: f64) -> f64 {
        self.purchase(c) + years * self.yearly(c).total()
    }
}

/// Network ports counted per host in the to-be estate.
pub const HOST_PORTS: f64 = 2.0;

/// Yearly energy and cooling of a constant draw: watts × 8760 h × PUE ×
/// price per kWh.
pub fn energy_cost(watts: f64, c: &Costs) -> f64 {
    watts / 1000.0 * 8760.0 * c.pue * c.energy_price
}

/// The yearly running costs of one host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostYearly {
    pub energy: f64,
    pub space: f64,
    pub ports: f64,
    pub support: f64,
    pub admin: f64,
}

impl HostYearly {
    pub fn total(&self) -> f64 {
        self.energy + self.space + self.ports + self.support + self.admin
    }
}

/// Target utilization per resource.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Targets {
    pub cpu: Fraction,
    pub memory: Fraction,
    pub disk_iops: Fraction,
    pub disk_throughput: Fraction,
    pub network: Fraction,
}

impl Targets {
    /// The usable share of each resource, in the order of
    /// [`HostModel::capacity`].
    pub fn shares(&self) -> [f64; 5] {
        [
            self.cpu.0,
            self.memory.0,
            self.disk_iops.0,
            self.disk_throughput.0,
            self.network.0,
        ]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    pub platform: Id,
    pub host_models: Vec<Id>,
    pub max_hosts: Option<u32>,
    pub failures_to_tolerate: u32,
    pub target: Targets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Virtualize,
    VirtualizeWithCare,
    FixFirst,
    KeepPhysical,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Virtualize => "virtualize",
            Verdict::VirtualizeWithCare => "virtualize-with-care",
            Verdict::FixFirst => "fix-first",
            Verdict::KeepPhysical => "keep-physical",
        }
    }
    pub fn moves(self) -> bool {
        matches!(self, Verdict::Virtualize | Verdict::VirtualizeWithCare)
    }
}

/// Whether a server takes part in the move, as the project declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Assessed, and moved when its verdict allows.
    #[default]
    Active,
    /// Decommissioned instead of moved: an as-is cost that ends, no VM.
    Retire,
    /// Listed for completeness; neither side of the cost comparison.
    OutOfScope,
    /// Already moved: a VM where it runs, kept out of the migration waves,
    /// so that a plan can be re-run halfway through a migration.
    Migrated,
}

impl Model {
    /// The licences of one server, leaving out those another of its
    /// licences covers (a server with Datacenter needs no Standard too).
    pub fn own_licences(&self, id: Id) -> Vec<Id> {
        let lics = &self.servers[id].licenses;
        lics.iter()
            .copied()
            .filter(|l| {
                !lics
                    .iter()
                    .any(|o| o != l && self.licenses[*o].product.covers.contains(l))
            })
            .collect()
    }

    /// The licences the given VMs need on one host: licence → the vCPUs of
    /// each VM that needs it.
    pub fn licence_needs(
        &self,
        vms: impl IntoIterator<Item = (Id, u32)>,
    ) -> std::collections::BTreeMap<Id, Vec<u32>> {
        let mut need: std::collections::BTreeMap<Id, Vec<u32>> = Default::default();
        for (id, vcpus) in vms {
            for l in self.own_licences(id) {
                need.entry(l).or_default().push(vcpus);
            }
        }
        need
    }

    /// The licence products, indexed like `licenses`.
    pub fn products(&self) -> Vec<crate::license::Product> {
        self.licenses.iter().map(|l| l.product.clone()).collect()
    }
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Active,
        Status::Retire,
        Status::OutOfScope,
        Status::Migrated,
    ];
    /// The words of the language, in the order of [`Status::ALL`].
    pub const WORDS: [&'static str; 4] = ["active", "retire", "out-of-scope", "migrated"];

    pub fn from_word(word: &str) -> Option<Status> {
        Self::WORDS
            .iter()
            .position(|w| *w == word)
            .map(|i| Self::ALL[i])
    }
}

/// Where a server ends up in the plan: every inventory server has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Moves,
    KeepPhysical,
    FixFirst,
    Retire,
    OutOfScope,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Moves,
        Scope::KeepPhysical,
        Scope::FixFirst,
        Scope::Retire,
        Scope::OutOfScope,
    ];

    pub fn of(status: Status, verdict: Verdict) -> Scope {
        match (status, verdict) {
            (Status::Retire, _) => Scope::Retire,
            (Status::OutOfScope, _) => Scope::OutOfScope,
            // Already a VM: it is part of the to-be estate whatever the
            // verdict says now; the runbook keeps it out of the waves.
            (Status::Migrated, _) => Scope::Moves,
            (Status::Active, Verdict::Virtualize | Verdict::VirtualizeWithCare) => Scope::Moves,
            (Status::Active, Verdict::FixFirst) => Scope::FixFirst,
            (Status::Active, Verdict::KeepPhysical) => Scope::KeepPhysical,
        }
    }

    /// Whether the server stays a physical server in the to-be estate.
    pub fn stays_physical(self) -> bool {
        matches!(self, Scope::KeepPhysical | Scope::FixFirst)
    }

    /// Whether the server counts on the as-is side of the costs.
    pub fn in_as_is(self) -> bool {
        self != Scope::OutOfScope
    }
}

/// How one server moves. The closed set of the language's `method` words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Shut down, copy the disks, boot the copy as a VM.
    P2vCold,
    /// Copy the disks while the server runs, then a short final sync.
    P2vLive,
    /// Export from another hypervisor and import.
    V2v,
    /// Back from a VM onto physical hardware.
    V2p,
    /// A new server is built beside the old one (a domain controller is
    /// promoted, the old one demoted); nothing is copied.
    Rebuild,
    /// A new VM gets the data through backup/restore or log shipping
    /// (databases, mail).
    Restore,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::P2vCold,
        Method::P2vLive,
        Method::V2v,
        Method::V2p,
        Method::Rebuild,
        Method::Restore,
    ];
    /// The words of the language, in the order of [`Method::ALL`].
    pub const WORDS: [&'static str; 6] =
        ["p2v-cold", "p2v-live", "v2v", "v2p", "rebuild", "restore"];

    pub fn as_str(self) -> &'static str {
        Self::WORDS[self as usize]
    }

    pub fn from_word(word: &str) -> Option<Method> {
        Self::WORDS
            .iter()
            .position(|w| *w == word)
            .map(|i| Self::ALL[i])
    }
}

/// Durations of one method's steps, from `migration` and its `timing`
/// nodes. A step a method does not have is `None`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    /// Work before the window that does not use the link (build the VM,
    /// promote a domain controller).
    pub prepare: Option<Seconds>,
    /// The final switch inside the window (final sync, tail-log restore,
    /// moving roles).
    pub cutover: Option<Seconds>,
    pub driver_injection: Option<Seconds>,
    pub first_boot: Option<Seconds>,
    pub tests: Seconds,
    /// Time to undo the move, from the decision to roll back to the old
    /// server answering again.
    pub rollback: Seconds,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpecialHardware {
    pub kind: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricsRef {
    /// Project-relative path of the file.
    pub path: String,
    /// `None`: recognised from the file's first line.
    pub format: Option<crate::import::Format>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Server {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    pub class: Option<String>,
    pub sockets: u32,
    pub cores_per_socket: u32,
    pub clock: Hertz,
    pub cpu_perf: f64,
    pub memory: Bytes,
    pub disk_size: Bytes,
    pub disk_used: Bytes,
    pub disk_iops: Option<f64>,
    pub nics: u32,
    pub nic_speed: BitsPerSec,
    pub power: Option<Watts>,
    pub rack_units: u32,
    pub os: Option<String>,
    pub edition: Option<String>,
    pub roles: Vec<String>,
    pub tags: Vec<String>,
    pub owner: Option<String>,
    pub criticality: Criticality,
    pub status: Status,
    pub depends_on: Vec<Id>,
    pub special_hardware: Vec<SpecialHardware>,
    /// `Some(note)` when the vendor does not support it virtualized.
    pub vendor_unsupported: Option<String>,
    pub metrics: Option<MetricsRef>,
    pub windows: Vec<Window>,
    pub cluster: Option<Id>,
    pub max_host_cpu: Option<Fraction>,
    pub growth_per_year: Fraction,
    pub licenses: Vec<Id>,
    pub method: Option<Method>,
    pub verdict_override: Option<(Verdict, String)>,
    pub support_per_year: Option<f64>,
    pub age_years: Option<f64>,
}

impl Server {
    pub fn cores(&self) -> u32 {
        self.sockets * self.cores_per_socket
    }
    /// The physical server as the licence engine counts it.
    pub fn machine(&self) -> crate::license::Machine {
        crate::license::Machine {
            sockets: self.sockets,
            cores: self.cores(),
        }
    }
    /// Reference-normalised CPU capacity in GHz.
    pub fn cpu_ghz(&self) -> f64 {
        f64::from(self.cores()) * self.clock.0 / 1e9 * self.cpu_perf
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct License {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    #[serde(flatten)]
    pub product: crate::license::Product,
    /// Units owned already, when the project states them.
    pub owned: Option<Owned>,
}

/// `owned`: licence units the organisation has, and whether they may move
/// to the new hosts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Owned {
    pub units: f64,
    pub transferable: bool,
}

impl License {
    /// Owned units that count against the to-be units: the transferable
    /// ones; none when the project states none.
    pub fn usable_owned(&self) -> f64 {
        self.owned
            .filter(|o| o.transferable)
            .map_or(0.0, |o| o.units)
    }
}

/// A placement rule, with its name (unique per kind) and where it was written.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    #[serde(flatten)]
    pub kind: RuleKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RuleKind {
    Affinity { servers: Vec<Id> },
    AntiAffinity { servers: Vec<Id> },
    SeparateBy { tags: Vec<String> },
    Pin { server: Id, host: u32 },
}

impl RuleKind {
    /// The rule's node name in the language.
    pub fn keyword(&self) -> &'static str {
        match self {
            RuleKind::Affinity { .. } => "affinity",
            RuleKind::AntiAffinity { .. } => "anti-affinity",
            RuleKind::SeparateBy { .. } => "separate-by",
            RuleKind::Pin { .. } => "pin",
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Adoption {
    pub recognition_hours: f64,
    pub planning_hours: f64,
    pub roi_hours: f64,
    pub migration_hours_per_server: f64,
    pub training: f64,
    pub tools: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Costs {
    pub energy_price: f64,
    pub pue: f64,
    pub rack_unit_per_year: f64,
    pub network_port_per_year: f64,
    pub admin_hour: f64,
    pub server_admin_hours_per_year: f64,
    pub host_admin_hours_per_year: f64,
    pub vm_admin_hours_per_year: f64,
    pub server_support_per_year: f64,
    pub server_refresh_price: f64,
    pub refresh_cycle_years: f64,
    pub failure_rate: Fraction,
    pub repair_hours: f64,
    pub restart_hours: f64,
    pub downtime_hour: f64,
    pub spare_parts_per_year: f64,
    pub shared_storage: f64,
    pub shared_storage_per_year: f64,
    /// Draw of the shared storage, counted in the to-be energy.
    pub shared_storage_watts: f64,
    /// Rack units of the shared storage, counted in the to-be rack space.
    pub shared_storage_rack_units: u32,
    /// Network gear bought with each host (switch ports, NICs, HBAs).
    pub network_gear_per_host: f64,
    pub deploy_hours_physical: f64,
    pub deploy_hours_virtual: f64,
    pub new_servers_per_year: f64,
    pub adoption: Adoption,
}

#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    pub network: BitsPerSec,
    pub efficiency: Fraction,
    pub parallel_streams: u32,
    pub windows: Vec<Window>,
    /// Where each window was written, for diagnostics.
    #[serde(skip)]
    pub window_spans: Vec<Span>,
    pub method: Method,
    pub driver_injection: Seconds,
    pub first_boot: Seconds,
    pub tests: Seconds,
    pub cutover: Seconds,
    pub pilot: u32,
    pub max_wave_size: Option<u32>,
    /// Each method's step durations, indexed like [`Method::ALL`].
    pub timings: [Timing; 6],
    /// The first day of the migration (`migration start=`), as days since
    /// 1970-01-01 in the project's time zone.
    pub start: Option<i64>,
    /// Days no window may touch: (first day, last day, reason), as days
    /// since 1970-01-01.
    pub excluded: Vec<(i64, i64, Option<String>)>,
    /// Sets of servers that may be down at the same time although they are
    /// redundant members (`allow-together`).
    pub allow_together: Vec<Vec<Id>>,
}

impl Timing {
    /// The names of the steps this timing has, as `timing` properties.
    pub fn step_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        for (name, present) in [
            ("prepare", self.prepare.is_some()),
            ("cutover", self.cutover.is_some()),
            ("driver-injection", self.driver_injection.is_some()),
            ("first-boot", self.first_boot.is_some()),
        ] {
            if present {
                names.push(name);
            }
        }
        names.extend(["tests", "rollback"]);
        names
    }
}

impl Migration {
    pub fn timing(&self, m: Method) -> &Timing {
        &self.timings[m as usize]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricsGlob {
    pub pattern: String,
    /// `None`: recognised from each file's first line.
    pub format: Option<crate::import::Format>,
    #[serde(skip)]
    pub span: Span,
}

/// Everything the user described, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub project: Project,
    pub platforms: Vec<Platform>,
    pub host_models: Vec<HostModel>,
    pub clusters: Vec<Cluster>,
    pub servers: Vec<Server>,
    pub licenses: Vec<License>,
    pub rules: Vec<Rule>,
    pub costs: Costs,
    pub migration: Migration,
    pub metrics: Vec<MetricsGlob>,
}
