//! The language table: every node, argument and property virtplan accepts.
//!
//! This table is the single source of truth for the input language. The
//! checker (`check`) validates documents against it, `schema/virtplan.kdl` is
//! generated from it (a test keeps the committed file in sync), and a test
//! asserts that the book's language reference names every node and property
//! listed here. Adding syntax means adding a row here; semantics live in
//! `lower` and the stages.

/// The type of a value, as written by the user and as checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Any string.
    Str,
    /// The name of another entity (checked by `lower`, not here).
    Ref(RefKind),
    /// A whole number from 0 to the bound: a count beyond it is a typo, and
    /// an unbounded count can make planning run for hours.
    Count(u64),
    /// A number ≥ 0 (integer or decimal).
    Number,
    /// `#true` or `#false`.
    Bool,
    /// A size: `"64GiB"`, `"500GB"`.
    Bytes,
    /// A clock rate: `"2.4GHz"`, `"2400MHz"`.
    Frequency,
    /// A bandwidth: `"10Gbps"`, `"200MB/s"`.
    Bandwidth,
    /// A duration: `"30min"`, `"4h"`, `"7d"`.
    Duration,
    /// A percentage: `"85%"`.
    Percent,
    /// An amount of money in the project currency (a plain number).
    Money,
    /// Electric power: `"350W"`, `"1.2kW"`.
    Power,
    /// A weekly window: `"sat 22:00-sun 06:00"`.
    Window,
    /// A whole number from 0 to the bound, or the string `"unlimited"`.
    CountOrUnlimited(u64),
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// A file path or glob, relative to the file that names it.
    Path,
}

// The bounds of counts. Each is far above anything real, so it only stops
// typos and inputs that would make planning run for hours.

/// Years of a horizon: a finance horizon longer than 50 years has no meaning.
const MAX_YEARS: u64 = 50;
/// vCPUs of one VM (vSphere 8 allows 768 per VM).
const MAX_VCPUS: u64 = 1024;
/// CPU sockets of one machine (the largest x86 servers have 32).
const MAX_SOCKETS: u64 = 64;
/// Cores of one socket.
const MAX_CORES_PER_SOCKET: u64 = 1024;
/// Cores of one host.
const MAX_CORES_PER_HOST: u64 = 65_536;
/// Disk operations per second.
const MAX_IOPS: u64 = 1_000_000_000;
/// Rack units of one machine (a full rack is 42 to 58).
const MAX_RACK_UNITS: u64 = 100;
/// Hosts of one cluster, and host numbers.
const MAX_HOSTS: u64 = 10_000;
/// Host failures a cluster tolerates (vSphere HA admits at most 31 in a
/// 32-host cluster); past 16 spare hosts, split the cluster.
const MAX_FAILURES: u64 = 16;
/// Network interfaces of one server.
const MAX_NICS: u64 = 64;
/// VMs one licence covers.
const MAX_VMS_PER_LICENSE: u64 = 10_000;
/// Units in one licence pack.
const MAX_PACK: u64 = 1024;
/// Conversions that run at once.
const MAX_STREAMS: u64 = 256;
/// Servers of one wave.
const MAX_SERVERS_PER_WAVE: u64 = 100_000;

/// What a [`Kind::Ref`] points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefKind {
    Platform,
    HostModel,
    Cluster,
    Class,
    Server,
    License,
}

impl RefKind {
    /// The node name that defines entities of this kind.
    pub fn node(self) -> &'static str {
        match self {
            RefKind::Platform => "platform",
            RefKind::HostModel => "host-model",
            RefKind::Cluster => "cluster",
            RefKind::Class => "class",
            RefKind::Server => "server",
            RefKind::License => "license",
        }
    }
}

/// The longest name: a DNS label's length, so a server name can be a host name.
pub const NAME_MAX: usize = 63;

/// The rule every name of a platform, host model, cluster, class, server,
/// licence and placement rule follows, as the help line of
/// `virtplan::check::invalid-name` states it.
pub const NAME_RULE: &str = "a name starts with a letter or digit and goes on with letters, digits, `.`, `_` or `-` (ASCII, at most 63 characters)";

/// Whether `s` follows [`NAME_RULE`]. Such a name is safe as an Ansible
/// inventory host, a file name, a Mermaid id and a Markdown or YAML word:
/// it holds no separator, quote, space, brace, `%`, `#` or control character,
/// and cannot be `.` or `..`.
pub fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.len() <= NAME_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Kind {
    /// A short human name of the type, used in diagnostics and the schema.
    pub fn describe(self) -> String {
        match self {
            Kind::Str => "a string".into(),
            Kind::Ref(r) => format!("the name of a {}", r.node()),
            Kind::Count(max) => format!("a whole number from 0 to {max}"),
            Kind::Number => "a number".into(),
            Kind::Bool => "#true or #false".into(),
            Kind::Bytes => "a size such as \"64GiB\" or \"500GB\"".into(),
            Kind::Frequency => "a clock rate such as \"2.4GHz\"".into(),
            Kind::Bandwidth => "a bandwidth such as \"10Gbps\" or \"200MB/s\"".into(),
            Kind::Duration => "a duration such as \"30min\", \"4h\" or \"7d\"".into(),
            Kind::Percent => "a percentage such as \"85%\"".into(),
            Kind::Money => "an amount of money (a number)".into(),
            Kind::Power => "a power such as \"350W\" or \"1.2kW\"".into(),
            Kind::Window => "a weekly window such as \"sat 22:00-sun 06:00\"".into(),
            Kind::CountOrUnlimited(max) => {
                format!("a whole number from 0 to {max} or \"unlimited\"")
            }
            Kind::Enum(words) => format!("one of {}", quote_list(words)),
            Kind::Path => "a file path or glob".into(),
        }
    }
}

fn quote_list(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Positional arguments of a node: all of one kind.
#[derive(Debug, Clone, Copy)]
pub struct Args {
    pub kind: Kind,
    pub min: usize,
    /// `usize::MAX` means "any number".
    pub max: usize,
    /// What the arguments mean, for docs ("name", "servers", …).
    pub meaning: &'static str,
}

/// A `key=value` property.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub doc: &'static str,
}

/// One node of the language.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpec {
    pub name: &'static str,
    pub doc: &'static str,
    pub args: Option<Args>,
    pub props: &'static [Prop],
    pub children: &'static [NodeSpec],
    /// The node must appear (at least once) in its parent.
    pub required: bool,
    /// The node may appear more than once in its parent.
    pub repeat: bool,
}

impl NodeSpec {
    pub fn child(&self, name: &str) -> Option<&'static NodeSpec> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props.iter().find(|p| p.name == name)
    }
}

/// Criticality levels of a server, lowest first.
pub const CRITICALITY: &[&str] = &["low", "medium", "high", "critical"];
/// The four verdicts of the assessment.
pub const VERDICTS: &[&str] = &[
    "virtualize",
    "virtualize-with-care",
    "fix-first",
    "keep-physical",
];
/// Migration methods.
pub const METHODS: &[&str] = &crate::model::Method::WORDS;
/// Licence metrics.
pub const METRICS: &[&str] = &crate::license::Metric::WORDS;
/// Kinds of special hardware.
pub const SPECIAL_HARDWARE: &[&str] = &[
    "usb-dongle",
    "fax-card",
    "isdn-card",
    "gpu",
    "serial-port",
    "parallel-port",
    "hsm",
    "other",
];
/// Measurement file formats.
pub const METRIC_FORMATS: &[&str] = &crate::import::Format::WORDS;
/// Platform kinds.
pub const PLATFORM_KINDS: &[&str] = &["bare-metal", "hosted"];
/// Hypervisor products, in the order of [`crate::model::Hypervisor::ALL`]:
/// which Ansible modules the generated playbooks use on a platform.
pub const HYPERVISORS: &[&str] = &["vcenter", "esxi", "proxmox", "kvm"];

const fn arg(kind: Kind, meaning: &'static str) -> Option<Args> {
    Some(Args {
        kind,
        min: 1,
        max: 1,
        meaning,
    })
}

const fn args(kind: Kind, min: usize, meaning: &'static str) -> Option<Args> {
    Some(Args {
        kind,
        min,
        max: usize::MAX,
        meaning,
    })
}

const fn prop(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
    Prop {
        name,
        kind,
        required: false,
        doc,
    }
}

const fn req_prop(name: &'static str, kind: Kind, doc: &'static str) -> Prop {
    Prop {
        name,
        kind,
        required: true,
        doc,
    }
}

/// A child node holding exactly one value.
const fn value(name: &'static str, kind: Kind, doc: &'static str) -> NodeSpec {
    NodeSpec {
        name,
        doc,
        args: arg(kind, "value"),
        props: &[],
        children: &[],
        required: false,
        repeat: false,
    }
}

const fn required(mut spec: NodeSpec) -> NodeSpec {
    spec.required = true;
    spec
}

const fn repeated(mut spec: NodeSpec) -> NodeSpec {
    spec.repeat = true;
    spec
}

const fn node(
    name: &'static str,
    doc: &'static str,
    args: Option<Args>,
    props: &'static [Prop],
    children: &'static [NodeSpec],
) -> NodeSpec {
    NodeSpec {
        name,
        doc,
        args,
        props,
        children,
        required: false,
        repeat: false,
    }
}

const NAME: Option<Args> = arg(Kind::Str, "name");

const PROJECT: NodeSpec = node(
    "project",
    "The project: its name, currency, time zone, horizon and planning settings.",
    NAME,
    &[],
    &[
        value(
            "currency",
            Kind::Str,
            "ISO currency code used for every amount of money, e.g. \"EUR\".",
        ),
        value(
            "timezone",
            Kind::Str,
            "Time zone of the measurements and windows: \"UTC\" or a fixed offset such as \"+01:00\".",
        ),
        value(
            "horizon-years",
            Kind::Count(MAX_YEARS),
            "Years over which costs are compared (default 5).",
        ),
        value(
            "sizing-horizon-years",
            Kind::Count(MAX_YEARS),
            "Years of growth the hosts are sized for (default: `horizon-years`).",
        ),
        value(
            "discount-rate",
            Kind::Percent,
            "Yearly discount rate for the net present value (default \"0%\").",
        ),
        value(
            "growth-per-year",
            Kind::Percent,
            "Default yearly demand growth of every server (default \"0%\").",
        ),
        value(
            "io-heavy",
            Kind::Percent,
            "Share of the smallest candidate host's disk IOPS, disk throughput or network at which a VM's I/O, overhead included, makes it virtualize-with-care (default \"10%\").",
        ),
        node(
            "profile",
            "How measurements fold into workload profiles.",
            None,
            &[
                prop(
                    "period",
                    Kind::Duration,
                    "Length of the profile period (default \"7d\").",
                ),
                prop(
                    "slot",
                    Kind::Duration,
                    "Length of one slot; must divide the period (default \"1h\").",
                ),
                prop(
                    "percentile",
                    Kind::Number,
                    "Percentile of the samples in a slot, nearest-rank (default 95).",
                ),
                prop(
                    "max-rejected",
                    Kind::Percent,
                    "Share of a server's rows in one measurement file that may be rejected; more is an error (default \"50%\").",
                ),
            ],
            &[],
        ),
        node(
            "sizing",
            "How VMs are right-sized from measured demand.",
            None,
            &[
                prop(
                    "headroom",
                    Kind::Number,
                    "Factor applied to measured CPU and memory demand (default 1.3).",
                ),
                prop(
                    "memory-granularity",
                    Kind::Bytes,
                    "VM memory is rounded up to a multiple of this (default \"1GiB\").",
                ),
                prop(
                    "min-vcpus",
                    Kind::Count(MAX_VCPUS),
                    "Smallest VM in vCPUs (default 1).",
                ),
                prop(
                    "min-memory",
                    Kind::Bytes,
                    "Smallest VM memory (default \"1GiB\").",
                ),
            ],
            &[],
        ),
        node(
            "bottleneck",
            "Thresholds above which a server is flagged fix-first.",
            None,
            &[
                prop(
                    "cpu",
                    Kind::Percent,
                    "CPU p95 at or above this is a bottleneck (default \"90%\").",
                ),
                prop(
                    "memory",
                    Kind::Percent,
                    "Memory use at or above this share of installed memory (default \"95%\").",
                ),
                prop(
                    "disk",
                    Kind::Percent,
                    "Disk IOPS p95 at or above this share of the server's `disk-iops` (default \"90%\").",
                ),
                prop(
                    "network",
                    Kind::Percent,
                    "Network p95 at or above this share of the NICs' speed (`nics` × `nic-speed`) (default \"90%\").",
                ),
            ],
            &[],
        ),
        repeated(node(
            "memory-by-role",
            "Servers with one of these roles hold their memory on purpose (a database's buffer pool, a mail store, a JVM heap): their VM memory follows `rule`, and memory is never their bottleneck.",
            args(Kind::Str, 1, "roles"),
            &[
                prop(
                    "rule",
                    Kind::Enum(&crate::model::MemoryRule::WORDS),
                    "\"declared\": the VM gets the server's installed memory; \"share\": `share` of it (default \"declared\").",
                ),
                prop(
                    "share",
                    Kind::Percent,
                    "With rule=\"share\": the part of the installed memory the VM gets.",
                ),
            ],
            &[],
        )),
    ],
);

const PLATFORM: NodeSpec = repeated(node(
    "platform",
    "A virtualization platform with its consolidation ratios and overheads.",
    NAME,
    &[],
    &[
        value(
            "kind",
            Kind::Enum(PLATFORM_KINDS),
            "\"bare-metal\" hypervisor or \"hosted\" on an OS.",
        ),
        value(
            "hypervisor",
            Kind::Enum(HYPERVISORS),
            "The hypervisor product (\"vcenter\", \"esxi\", \"proxmox\" or \"kvm\"): the Ansible modules and converter the generated playbooks use. Without it the playbooks stop before converting a server onto this platform.",
        ),
        value(
            "vms-per-core",
            Kind::Number,
            "Most VMs per physical core (e.g. 8 bare-metal, 4 hosted).",
        ),
        value(
            "vcpu-per-core",
            Kind::Number,
            "Most vCPUs per physical core (the vCPU:pCPU ratio).",
        ),
        value(
            "cpu-overhead",
            Kind::Percent,
            "CPU the platform adds to every VM's demand.",
        ),
        value(
            "io-overhead",
            Kind::Percent,
            "Disk and network I/O the platform adds to every VM's demand.",
        ),
        value(
            "memory-overhead-per-vm",
            Kind::Bytes,
            "Memory the platform needs per VM.",
        ),
        value(
            "license",
            Kind::Ref(RefKind::License),
            "The hypervisor licence product.",
        ),
    ],
));

const HOST_MODEL: NodeSpec = repeated(node(
    "host-model",
    "A host hardware model (SKU) that clusters are built from.",
    NAME,
    &[],
    &[
        required(value("sockets", Kind::Count(MAX_SOCKETS), "CPU sockets.")),
        required(value(
            "cores-per-socket",
            Kind::Count(MAX_CORES_PER_SOCKET),
            "Physical cores per socket.",
        )),
        required(value("clock", Kind::Frequency, "Base clock of one core.")),
        value(
            "cpu-perf",
            Kind::Number,
            "Performance of one core relative to the reference core (default 1.0).",
        ),
        required(value("memory", Kind::Bytes, "Installed memory.")),
        value(
            "storage-iops",
            Kind::Count(MAX_IOPS),
            "Disk operations per second the host's storage sustains.",
        ),
        value(
            "storage-throughput",
            Kind::Bandwidth,
            "Disk throughput the host's storage sustains.",
        ),
        value("network", Kind::Bandwidth, "Network bandwidth of the host."),
        value("price", Kind::Money, "Purchase price of one host."),
        value("power-idle", Kind::Power, "Power draw when idle."),
        value("power-peak", Kind::Power, "Power draw at full load."),
        value(
            "rack-units",
            Kind::Count(MAX_RACK_UNITS),
            "Rack units one host takes.",
        ),
        value(
            "support-per-year",
            Kind::Money,
            "Yearly support contract of one host.",
        ),
    ],
));

const CLUSTER: NodeSpec = repeated(node(
    "cluster",
    "A group of identical hosts running one platform.",
    NAME,
    &[],
    &[
        required(value(
            "platform",
            Kind::Ref(RefKind::Platform),
            "The platform the hosts run.",
        )),
        required(node(
            "host-model",
            "The host model, or several candidate models to choose from.",
            args(Kind::Ref(RefKind::HostModel), 1, "host models"),
            &[],
            &[],
        )),
        value(
            "max-hosts",
            Kind::Count(MAX_HOSTS),
            "Most hosts the cluster may have.",
        ),
        value(
            "failures-to-tolerate",
            Kind::Count(MAX_FAILURES),
            "Hosts that may fail while every VM still runs (N+k).",
        ),
        node(
            "target",
            "Target utilization per resource (default 80% each, memory 90%).",
            None,
            &[
                prop("cpu", Kind::Percent, "CPU target."),
                prop("memory", Kind::Percent, "Memory target."),
                prop("disk-iops", Kind::Percent, "Disk IOPS target."),
                prop("disk-throughput", Kind::Percent, "Disk throughput target."),
                prop("network", Kind::Percent, "Network target."),
            ],
            &[],
        ),
    ],
));

/// Everything that describes a server; shared by `server`, `class` and `defaults`.
const SERVER_CHILDREN: &[NodeSpec] = &[
    value("sockets", Kind::Count(MAX_SOCKETS), "CPU sockets."),
    value(
        "cores-per-socket",
        Kind::Count(MAX_CORES_PER_SOCKET),
        "Physical cores per socket.",
    ),
    value("clock", Kind::Frequency, "Clock of one core."),
    value(
        "cpu-perf",
        Kind::Number,
        "Performance of one core relative to the reference core (default 1.0).",
    ),
    value("memory", Kind::Bytes, "Installed memory."),
    value("disk-size", Kind::Bytes, "Installed disk capacity."),
    value(
        "disk-used",
        Kind::Bytes,
        "Disk space in use (what the migration copies).",
    ),
    value(
        "disk-iops",
        Kind::Count(MAX_IOPS),
        "Disk operations per second the server's own disks sustain.",
    ),
    value("nics", Kind::Count(MAX_NICS), "Network interfaces."),
    value(
        "nic-speed",
        Kind::Bandwidth,
        "Speed of one network interface.",
    ),
    value(
        "power",
        Kind::Power,
        "Average power draw of the physical server.",
    ),
    value(
        "rack-units",
        Kind::Count(MAX_RACK_UNITS),
        "Rack units the physical server takes.",
    ),
    node(
        "os",
        "Operating system, with its edition.",
        arg(Kind::Str, "operating system"),
        &[prop(
            "edition",
            Kind::Str,
            "Edition, e.g. \"standard\" or \"datacenter\".",
        )],
        &[],
    ),
    node(
        "roles",
        "Roles and applications the server runs.",
        args(Kind::Str, 1, "roles"),
        &[],
        &[],
    ),
    node(
        "tags",
        "Free tags, used by rules and reports.",
        args(Kind::Str, 1, "tags"),
        &[],
        &[],
    ),
    value("owner", Kind::Str, "Owning team or person."),
    value(
        "criticality",
        Kind::Enum(CRITICALITY),
        "Business criticality (default \"medium\").",
    ),
    value(
        "status",
        Kind::Enum(&crate::model::Status::WORDS),
        "Whether the server takes part: \"active\" (default), \"retire\" (decommissioned \
         instead of moved) or \"out-of-scope\".",
    ),
    node(
        "depends-on",
        "Servers this server needs to run.",
        args(Kind::Ref(RefKind::Server), 1, "servers"),
        &[],
        &[],
    ),
    repeated(node(
        "special-hardware",
        "Hardware a VM cannot have: the server stays physical.",
        arg(Kind::Enum(SPECIAL_HARDWARE), "kind"),
        &[prop("note", Kind::Str, "What the hardware is for.")],
        &[],
    )),
    node(
        "vendor-support",
        "Whether the application vendor supports the server virtualized.",
        None,
        &[
            req_prop(
                "virtualized",
                Kind::Bool,
                "#false when the vendor does not support it virtualized.",
            ),
            prop("note", Kind::Str, "The vendor's statement."),
        ],
        &[],
    ),
    node(
        "metrics",
        "The server's measurement file.",
        arg(Kind::Path, "file"),
        &[prop(
            "format",
            Kind::Enum(METRIC_FORMATS),
            "File format; when left out, recognised from the file's first line: perfmon's `\"(PDH-CSV`, sadf -d's `# hostname;`, anything else `\"virtplan\"`.",
        )],
        &[],
    ),
    repeated(value(
        "window",
        Kind::Window,
        "A weekly window in which the server may be down.",
    )),
    value(
        "cluster",
        Kind::Ref(RefKind::Cluster),
        "The cluster the VM goes to (needed when there are several).",
    ),
    value(
        "max-host-cpu",
        Kind::Percent,
        "Stricter CPU target for any host that carries this VM.",
    ),
    value(
        "growth-per-year",
        Kind::Percent,
        "Yearly demand growth of this server.",
    ),
    node(
        "licenses",
        "Licence products the server uses.",
        args(Kind::Ref(RefKind::License), 1, "licences"),
        &[],
        &[],
    ),
    value(
        "method",
        Kind::Enum(METHODS),
        "Migration method (default from `migration`).",
    ),
    node(
        "verdict",
        "Overrides the computed verdict; the reason is mandatory.",
        arg(Kind::Enum(VERDICTS), "verdict"),
        &[req_prop("reason", Kind::Str, "Why the override.")],
        &[],
    ),
    value(
        "support-per-year",
        Kind::Money,
        "Yearly support contract of the physical server.",
    ),
    value("age-years", Kind::Number, "Age of the hardware in years."),
];

const SERVER: NodeSpec = repeated(node(
    "server",
    "A physical server of the estate.",
    NAME,
    &[prop(
        "class",
        Kind::Ref(RefKind::Class),
        "Class whose settings the server inherits.",
    )],
    SERVER_CHILDREN,
));

const CLASS: NodeSpec = repeated(node(
    "class",
    "Settings that servers inherit with `class=`; a server's own nodes replace the class's.",
    NAME,
    &[prop(
        "extends",
        Kind::Ref(RefKind::Class),
        "Class this class inherits from.",
    )],
    SERVER_CHILDREN,
));

const DEFAULTS: NodeSpec = node(
    "defaults",
    "Settings every server inherits (below its class).",
    None,
    &[],
    SERVER_CHILDREN,
);

const LICENSE: NodeSpec = repeated(node(
    "license",
    "A licence product: its metric, price and virtualization rights.",
    NAME,
    &[],
    &[
        required(value(
            "metric",
            Kind::Enum(METRICS),
            "What one licence unit counts.",
        )),
        required(value("price", Kind::Money, "Price of one unit.")),
        value(
            "support-per-year",
            Kind::Money,
            "Yearly support (software assurance) of one unit.",
        ),
        value(
            "min-cores-per-socket",
            Kind::Count(MAX_CORES_PER_SOCKET),
            "Least cores counted per socket (core metrics).",
        ),
        value(
            "min-cores-per-host",
            Kind::Count(MAX_CORES_PER_HOST),
            "Least cores counted per host (core metrics).",
        ),
        value(
            "vms-per-license",
            Kind::CountOrUnlimited(MAX_VMS_PER_LICENSE),
            "VMs one full licensing of a host covers (virtualization rights; default 1).",
        ),
        value(
            "min-cores-per-vm",
            Kind::Count(MAX_VCPUS),
            "Least cores counted per VM licensed on its own (core and vCPU metrics).",
        ),
        value(
            "core-factor",
            Kind::Number,
            "Units per physical core, from the vendor's core factor table (default 1).",
        ),
        value(
            "pack",
            Kind::Count(MAX_PACK),
            "Units are sold in packs of this many; counts round up (default 1).",
        ),
        value(
            "sockets-per-license",
            Kind::Count(MAX_SOCKETS),
            "Sockets one unit covers (per-socket; 2 for a socket pair; default 1).",
        ),
        value(
            "per-vm",
            Kind::Bool,
            "Whether a VM may be licensed on its own instead of its host \
             (default: yes for per-instance and per-vcpu, no otherwise).",
        ),
        node(
            "covers",
            "Licences this one covers on a host it licenses (Datacenter covers Standard).",
            args(Kind::Ref(RefKind::License), 1, "licences"),
            &[],
            &[],
        ),
        node(
            "owned",
            "Units the organisation owns already. Only transferable units count \
             against the to-be units; without `owned`, every to-be unit is priced as bought.",
            arg(Kind::Number, "units"),
            &[prop(
                "transferable",
                Kind::Bool,
                "#true when the owned units may be reassigned to the new hosts (volume \
                 licences, subscriptions); #false (the default) for OEM licences, which stay \
                 with the hardware they came with.",
            )],
            &[],
        ),
    ],
));

const MEMBERS: NodeSpec = required(node(
    "servers",
    "The servers the rule applies to.",
    args(Kind::Ref(RefKind::Server), 1, "servers"),
    &[],
    &[],
));

const AFFINITY: NodeSpec = repeated(node(
    "affinity",
    "These servers share one host.",
    NAME,
    &[],
    &[MEMBERS],
));

const ANTI_AFFINITY: NodeSpec = repeated(node(
    "anti-affinity",
    "No two of these servers share a host.",
    NAME,
    &[],
    &[MEMBERS],
));

const SEPARATE_BY: NodeSpec = repeated(node(
    "separate-by",
    "Servers share a host only if they carry the same ones of these tags (carrying none of them is a group of its own).",
    NAME,
    &[],
    &[required(node(
        "tags",
        "The tags that must not mix.",
        args(Kind::Str, 1, "tags"),
        &[],
        &[],
    ))],
));

const PIN: NodeSpec = repeated(node(
    "pin",
    "Keeps a server on one host of its cluster (hosts are numbered from 1).",
    NAME,
    &[
        req_prop("server", Kind::Ref(RefKind::Server), "The pinned server."),
        req_prop(
            "host",
            Kind::Count(MAX_HOSTS),
            "The host number in the server's cluster.",
        ),
    ],
    &[],
));

const COSTS: NodeSpec = node(
    "costs",
    "Unit costs of the as-is and to-be estates.",
    None,
    &[],
    &[
        value("energy-price", Kind::Money, "Price of one kWh."),
        value(
            "pue",
            Kind::Number,
            "Power usage effectiveness: facility power per IT power (covers cooling).",
        ),
        value(
            "rack-unit-per-year",
            Kind::Money,
            "Yearly cost of one rack unit of space.",
        ),
        value(
            "network-port-per-year",
            Kind::Money,
            "Yearly cost of one network port.",
        ),
        value(
            "admin-hour",
            Kind::Money,
            "Cost of one hour of an administrator.",
        ),
        value(
            "server-admin-hours-per-year",
            Kind::Number,
            "Yearly maintenance hours of one physical server.",
        ),
        value(
            "host-admin-hours-per-year",
            Kind::Number,
            "Yearly maintenance hours of one host.",
        ),
        value(
            "vm-admin-hours-per-year",
            Kind::Number,
            "Yearly maintenance hours of one VM.",
        ),
        value(
            "server-support-per-year",
            Kind::Money,
            "Yearly support of a physical server that states none.",
        ),
        value(
            "server-refresh-price",
            Kind::Money,
            "Price of replacing one physical server.",
        ),
        value(
            "refresh-cycle-years",
            Kind::Number,
            "Years after which hardware is replaced.",
        ),
        value(
            "failure-rate",
            Kind::Percent,
            "Share of physical servers failing each year.",
        ),
        value(
            "repair-hours",
            Kind::Number,
            "Downtime of a physical server's hardware failure.",
        ),
        value(
            "restart-hours",
            Kind::Number,
            "Downtime of a VM restarted after a host failure.",
        ),
        value(
            "downtime-hour",
            Kind::Money,
            "Cost of one hour of downtime of one server.",
        ),
        value(
            "spare-parts-per-year",
            Kind::Money,
            "Yearly spare parts of one physical server.",
        ),
        value(
            "shared-storage",
            Kind::Money,
            "Purchase of shared storage for the to-be estate.",
        ),
        value(
            "shared-storage-per-year",
            Kind::Money,
            "Yearly support of the shared storage.",
        ),
        value(
            "shared-storage-power",
            Kind::Power,
            "Power drawn by the shared storage, for the to-be energy (default 0).",
        ),
        value(
            "shared-storage-rack-units",
            Kind::Count(MAX_RACK_UNITS),
            "Rack units the shared storage takes, for the to-be rack space (default 0).",
        ),
        value(
            "network-gear-per-host",
            Kind::Money,
            "Network gear bought with each host: switch ports, NICs, HBAs, cables (default 0).",
        ),
        value(
            "deploy-hours-physical",
            Kind::Number,
            "Hours to deploy a new physical server.",
        ),
        value(
            "deploy-hours-virtual",
            Kind::Number,
            "Hours to deploy a new VM.",
        ),
        value(
            "new-servers-per-year",
            Kind::Number,
            "Servers deployed each year (for deploy time).",
        ),
        node(
            "adoption",
            "One-off costs of the virtualization project itself.",
            None,
            &[
                prop(
                    "recognition-hours",
                    Kind::Number,
                    "Hours of candidates' recognition.",
                ),
                prop(
                    "planning-hours",
                    Kind::Number,
                    "Hours of capacity planning.",
                ),
                prop("roi-hours", Kind::Number, "Hours of the ROI analysis."),
                prop(
                    "migration-hours-per-server",
                    Kind::Number,
                    "Hours of migration work per server.",
                ),
                prop("training", Kind::Money, "Training."),
                prop("tools", Kind::Money, "Tool licences."),
            ],
            &[],
        ),
    ],
);

const MIGRATION: NodeSpec = node(
    "migration",
    "How the migration runs: network, windows, parallelism and methods.",
    None,
    &[prop(
        "start",
        Kind::Str,
        "First day of the migration, \"YYYY-MM-DD\" in the project's time zone: waves get dates.",
    )],
    &[
        value(
            "network",
            Kind::Bandwidth,
            "Link the conversions copy over (default \"1Gbps\").",
        ),
        value(
            "efficiency",
            Kind::Percent,
            "Share of the link a copy achieves (default \"32%\": 72GB in 30min over 1Gbps).",
        ),
        value(
            "parallel-streams",
            Kind::Count(MAX_STREAMS),
            "Conversions running at once; they share the link (default 2).",
        ),
        repeated(value(
            "window",
            Kind::Window,
            "A weekly maintenance window for waves.",
        )),
        value(
            "method",
            Kind::Enum(METHODS),
            "Default method (default \"p2v-cold\").",
        ),
        value(
            "driver-injection",
            Kind::Duration,
            "Fixed time for driver injection (default \"15min\").",
        ),
        value(
            "first-boot",
            Kind::Duration,
            "Fixed time for first boot and guest tools (default \"15min\").",
        ),
        value(
            "tests",
            Kind::Duration,
            "Fixed time for service tests (default \"30min\").",
        ),
        value(
            "cutover",
            Kind::Duration,
            "Downtime of a live conversion's final sync (default \"15min\").",
        ),
        value(
            "pilot",
            Kind::Count(MAX_SERVERS_PER_WAVE),
            "Servers in the pilot wave, lowest criticality first (default 0: none).",
        ),
        value(
            "max-wave-size",
            Kind::Count(MAX_SERVERS_PER_WAVE),
            "Most servers in one wave.",
        ),
        repeated(node(
            "timing",
            "Step durations of one method, overriding the defaults.",
            arg(Kind::Enum(METHODS), "method"),
            &[
                prop(
                    "prepare",
                    Kind::Duration,
                    "Work before the window that does not use the link (build, promote).",
                ),
                prop(
                    "cutover",
                    Kind::Duration,
                    "The final switch inside the window.",
                ),
                prop("driver-injection", Kind::Duration, "Driver injection."),
                prop("first-boot", Kind::Duration, "First boot and guest tools."),
                prop("tests", Kind::Duration, "Service tests."),
                prop(
                    "rollback",
                    Kind::Duration,
                    "Time to undo the move until the old server answers again.",
                ),
            ],
            &[],
        )),
        repeated(node(
            "exclude",
            "Days no migration window may touch (holidays, change freezes).",
            arg(Kind::Str, "first day, \"YYYY-MM-DD\""),
            &[
                prop(
                    "to",
                    Kind::Str,
                    "Last excluded day, \"YYYY-MM-DD\" (default: the first day only).",
                ),
                prop("reason", Kind::Str, "Why, shown in the runbook."),
            ],
            &[],
        )),
        repeated(node(
            "allow-together",
            "Redundant servers that may nevertheless be down at the same time.",
            args(Kind::Ref(RefKind::Server), 2, "servers"),
            &[],
            &[],
        )),
    ],
);

/// The root of a document: the nodes allowed at the top level of a file.
pub const ROOT: NodeSpec = node(
    "(document)",
    "A virtplan file.",
    None,
    &[],
    &[
        PROJECT,
        repeated(node(
            "include",
            "Loads more files: a path or a glob, relative to this file.",
            arg(Kind::Path, "path or glob"),
            &[],
            &[],
        )),
        repeated(node(
            "metrics",
            "Measurement files carrying a `server` column: a path or a glob.",
            arg(Kind::Path, "path or glob"),
            &[prop(
                "format",
                Kind::Enum(METRIC_FORMATS),
                "File format; when left out, recognised from the file's first line: perfmon's `\"(PDH-CSV`, sadf -d's `# hostname;`, anything else `\"virtplan\"`.",
            )],
            &[],
        )),
        PLATFORM,
        HOST_MODEL,
        CLUSTER,
        DEFAULTS,
        CLASS,
        SERVER,
        LICENSE,
        AFFINITY,
        ANTI_AFFINITY,
        SEPARATE_BY,
        PIN,
        COSTS,
        MIGRATION,
    ],
);

/// Every node spec with its path (`server/os`), depth first, for docs and schema.
pub fn walk() -> Vec<(String, &'static NodeSpec)> {
    fn go(prefix: &str, spec: &'static NodeSpec, out: &mut Vec<(String, &'static NodeSpec)>) {
        for child in spec.children {
            let path = if prefix.is_empty() {
                child.name.to_string()
            } else {
                format!("{prefix}/{}", child.name)
            };
            out.push((path.clone(), child));
            go(&path, child, out);
        }
    }
    let mut out = Vec::new();
    go("", &ROOT, &mut out);
    out
}
