//! Emitting: the [`Plan`] → Markdown, JSON and Ansible files.
//!
//! In: a [`Plan`] and optional template overrides. Out: a list of
//! (relative path, contents) for the CLI to write. Markdown and Ansible are
//! minijinja templates over the serialized plan, embedded in the binary;
//! a user may override any of them by name. JSON is the plan itself.

use std::collections::BTreeMap;

use minijinja::value::{Serde, ValueKind};
use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value,
};

use serde::Serialize;

use crate::migrate::{ServerMove, Wave};
use crate::model::{Criticality, Hypervisor, Method};
use crate::plan::Plan;
use crate::schema::valid_name;
use crate::svg::{self, HeatRow};
use crate::units::{fmt_minutes, num};

/// The embedded templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "assessment.md.j2",
        include_str!("templates/assessment.md.j2"),
    ),
    ("capacity.md.j2", include_str!("templates/capacity.md.j2")),
    ("costs.md.j2", include_str!("templates/costs.md.j2")),
    ("runbook.md.j2", include_str!("templates/runbook.md.j2")),
    (
        "inventory.yml.j2",
        include_str!("templates/inventory.yml.j2"),
    ),
    ("wave.yml.j2", include_str!("templates/wave.yml.j2")),
    ("vm-facts.yml.j2", include_str!("templates/vm-facts.yml.j2")),
    ("rollback.yml.j2", include_str!("templates/rollback.yml.j2")),
];

/// The work one render may do, in minijinja fuel (about one instruction,
/// or 64 bytes of data created): [`FUEL_BASE`] plus [`FUEL_PER_SERVER`] for
/// each server of the plan. The embedded templates use at most about 560
/// per server (the runbook, with its steps and gantt chart; see
/// [`fuel_used`] and its test), so this leaves them more than three times
/// that, while a template that loops without end, or over every pair of
/// servers, or builds a huge string stops with an error instead of a hang
/// or an abort: 10,000 servers allow 21,000,000 fuel, about 1.3 GB of data.
pub fn fuel_budget(plan: &Plan) -> u64 {
    FUEL_BASE + FUEL_PER_SERVER * plan.assessment.servers.len() as u64
}

/// The fuel every render may use whatever the size of the plan.
pub const FUEL_BASE: u64 = 1_000_000;

/// The fuel every render may use per server of the plan.
pub const FUEL_PER_SERVER: u64 = 2_000;

/// The largest file one render may write: 256 MiB.
pub const MAX_OUTPUT: usize = 256 << 20;

/// Which outputs to write.
#[derive(Debug, Clone, Copy)]
pub struct Formats {
    pub markdown: bool,
    pub json: bool,
    pub ansible: bool,
}

/// How a template's output is escaped, from its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// `*.md.j2`: every string is Markdown-escaped ([`markdown_escape`]).
    Markdown,
    /// `*.yml.j2`: every string is a `!unsafe` YAML string ([`yaml_unsafe`]).
    Yaml,
}

impl Escape {
    const MARKDOWN: &str = "markdown";
    const YAML: &str = "yaml";

    fn of_template(name: &str) -> AutoEscape {
        if name.ends_with(".md.j2") {
            AutoEscape::Custom(Self::MARKDOWN.into())
        } else if name.ends_with(".yml.j2") {
            AutoEscape::Custom(Self::YAML.into())
        } else {
            AutoEscape::None
        }
    }

    fn of_state(state: &State) -> Option<Escape> {
        match state.auto_escape() {
            AutoEscape::Custom(name) if name == Self::MARKDOWN => Some(Escape::Markdown),
            AutoEscape::Custom(name) if name == Self::YAML => Some(Escape::Yaml),
            _ => None,
        }
    }
}

/// Writes a value printed with `{{ … }}`: strings are escaped for the
/// template's format unless a filter of ours marked them safe (formatted
/// numbers, validated names, already escaped text).
fn format_value(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let Some(escape) = Escape::of_state(state) else {
        return minijinja::escape_formatter(out, state, value);
    };
    let text = if value.is_safe() {
        value.to_string()
    } else {
        match (escape, value.kind()) {
            (_, ValueKind::Number | ValueKind::Bool) => value.to_string(),
            (Escape::Yaml, ValueKind::None) => "null".to_string(),
            (Escape::Markdown, _) => markdown_escape(&value.to_string()),
            (Escape::Yaml, _) => yaml_unsafe(&value.to_string()),
        }
    };
    out.write_str(&text).map_err(Error::from)
}

fn safe(text: String) -> Value {
    Value::from_safe_string(text)
}

/// A name checked against the name rule, safe to print unescaped.
fn checked_name(v: &str) -> Result<Value, Error> {
    if valid_name(v) {
        Ok(safe(v.to_string()))
    } else {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{v:?} is not a valid name"),
        ))
    }
}

/// Markdown as markdownlint wants it: no run of blank lines outside fenced
/// code (MD012; a template's empty loop or section leaves one), blank lines
/// empty, an empty table cell as `| |` (MD060's compact style), and the
/// text ending in one newline (MD047).
fn tidy_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    let mut after_blank = true;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let blank = !fenced && line.trim().is_empty();
        if blank && after_blank {
            continue;
        }
        if blank {
        } else if !fenced && line.starts_with('|') {
            out.push_str(&compact_empty_cells(line));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        after_blank = blank;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A table row with every cell of only spaces written `| |`; an escaped
/// pipe (`\\|`) is cell text, not a border.
fn compact_empty_cells(row: &str) -> String {
    let mut cells: Vec<&str> = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in row.char_indices() {
        match c {
            '|' if !escaped => {
                cells.push(&row[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        escaped = c == '\\' && !escaped;
    }
    cells.push(&row[start..]);
    let last = cells.len() - 1;
    cells
        .iter()
        .enumerate()
        .map(|(k, cell)| {
            let inner = k > 0 && k < last;
            if inner && !cell.is_empty() && cell.trim().is_empty() {
                " "
            } else {
                cell
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// A UTC time as the plan writes it ("2027-03-06T21:00:00Z"), as a plain
/// YAML string: checked, so nothing in it can be templated. Not `!unsafe`,
/// which ansible-core 2.19 reads as a datetime when the text looks like
/// one, and a datetime does not compare with the clock's text.
fn utc_time(v: &str) -> Result<Value, Error> {
    let shape = "dddd-dd-ddTdd:dd:ddZ";
    let fits = v.len() == shape.len()
        && v.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            _ => c == s,
        });
    if fits {
        Ok(safe(format!("\"{v}\"")))
    } else {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{v:?} is not a UTC time"),
        ))
    }
}

/// Renders the chosen outputs. `overrides` maps a template name to its text.
pub fn emit(
    plan: &Plan,
    formats: Formats,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, String> {
    let mut env = environment(fuel_budget(plan))?;
    for (name, text) in TEMPLATES {
        let text = overrides
            .get(*name)
            .cloned()
            .unwrap_or_else(|| (*text).to_string());
        env.add_template_owned(*name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    for name in overrides.keys() {
        if !TEMPLATES.iter().any(|(n, _)| n == name) {
            return Err(format!("there is no template named `{name}` to override"));
        }
    }
    let ctx = Value::from(Serde(plan));
    let render = |name: &str, ctx: Value| render(&env, name, ctx).map(|(text, _)| text);
    let mut out = Vec::new();
    if formats.markdown {
        for (file, tpl) in [
            ("assessment.md", "assessment.md.j2"),
            ("capacity.md", "capacity.md.j2"),
            ("costs.md", "costs.md.j2"),
            ("runbook.md", "runbook.md.j2"),
        ] {
            out.push((file.to_string(), tidy_markdown(&render(tpl, ctx.clone())?)));
        }
    }
    if formats.markdown {
        let rows: Vec<HeatRow> = plan
            .assessment
            .estate_profile
            .iter()
            .map(|r| HeatRow {
                label: r.resource.label(),
                unit: r.unit,
                values: &r.values,
            })
            .collect();
        out.push((
            "assessment-heatmap.svg".to_string(),
            svg::heatmap(
                "Estate demand over the period",
                &rows,
                &day_ticks(plan),
                None,
            ),
        ));
        let c = &plan.costs;
        if let Some(sens) = &c.sensitivity {
            let bars: Vec<svg::Bar> = sens
                .rows
                .iter()
                .filter(|r| r.swing() > 0.0)
                .map(|r| svg::Bar {
                    label: &r.input,
                    low_label: &r.low,
                    high_label: &r.high,
                    low: r.npv_low,
                    high: r.npv_high,
                })
                .collect();
            out.push((
                "costs-tornado.svg".to_string(),
                svg::tornado(
                    "NPV when one input moves (blue: its low value, orange: its high value)",
                    &c.currency,
                    sens.base_npv,
                    &bars,
                ),
            ));
        }
        let cumulative: Vec<f64> = c.years.iter().map(|y| y.cumulative).collect();
        out.push((
            "costs-cash-flow.svg".to_string(),
            svg::cash_flow(
                "Cumulative cash flow (undiscounted)",
                &c.currency,
                &cumulative,
                c.payback_month,
            ),
        ));
        let ticks = day_ticks(plan);
        for cluster in &plan.capacity.clusters {
            let charts: Vec<_> = plan
                .capacity
                .charts
                .iter()
                .filter(|c| c.cluster == cluster.name)
                .collect();
            let rows: Vec<HeatRow> = charts
                .iter()
                .map(|c| HeatRow {
                    label: &c.host,
                    unit: "% CPU",
                    values: &c.cpu_percent,
                })
                .collect();
            out.push((
                file_name("capacity-", &cluster.name, "-heatmap.svg")?,
                svg::heatmap(
                    &format!(
                        "Cluster {}: CPU utilization of each host (% of capacity)",
                        cluster.name
                    ),
                    &rows,
                    &ticks,
                    Some(100.0),
                ),
            ));
            for c in charts {
                let layers: Vec<(&str, Vec<f64>)> = c
                    .cpu_by_vm
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.clone()))
                    .collect();
                out.push((
                    file_name("capacity-", &c.host, ".svg")?,
                    svg::stacked(
                        &format!("{}: CPU demand by VM (dashed: usable capacity)", c.host),
                        "GHz",
                        &layers,
                        c.cpu_limit,
                        &ticks,
                    ),
                ));
            }
        }
    }
    if formats.json {
        let mut json = serde_json::to_string_pretty(plan).map_err(|e| e.to_string())?;
        json.push('\n');
        out.push(("plan.json".to_string(), json));
    }
    if formats.ansible {
        let hosts = ansible_hosts(plan);
        let ictx = minijinja::context! { project => Serde(&plan.project), hosts => Serde(&hosts), waves => Serde(&plan.runbook.waves) };
        out.push((
            "ansible/inventory.yml".to_string(),
            render("inventory.yml.j2", ictx)?,
        ));
        for (file, tpl) in [
            ("ansible/vm-facts.yml", "vm-facts.yml.j2"),
            ("ansible/rollback.yml", "rollback.yml.j2"),
        ] {
            out.push((file.to_string(), render(tpl, Value::from(()))?));
        }
        for wave in &plan.runbook.waves {
            out.push((
                format!("ansible/wave-{}.yml", wave.number),
                render("wave.yml.j2", wave_context(plan, wave))?,
            ));
        }
    }
    Ok(out)
}

/// The fuel each embedded template uses on `plan` (the most of any wave for
/// `wave.yml.j2`): how [`fuel_budget`] was set, kept true by a test on the
/// examples.
pub fn fuel_used(plan: &Plan) -> Result<BTreeMap<String, u64>, String> {
    let mut env = environment(fuel_budget(plan))?;
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    let ctx = Value::from(Serde(plan));
    let mut used = BTreeMap::new();
    let hosts = ansible_hosts(plan);
    for (name, _) in TEMPLATES {
        let ctx = match *name {
            "wave.yml.j2" => continue,
            "inventory.yml.j2" => {
                minijinja::context! { project => Serde(&plan.project), hosts => Serde(&hosts), waves => Serde(&plan.runbook.waves) }
            }
            "vm-facts.yml.j2" | "rollback.yml.j2" => Value::from(()),
            _ => ctx.clone(),
        };
        used.insert(name.to_string(), render(&env, name, ctx)?.1);
    }
    for wave in &plan.runbook.waves {
        let fuel = render(&env, "wave.yml.j2", wave_context(plan, wave))?.1;
        let most = used.entry("wave.yml.j2".to_string()).or_insert(0);
        *most = (*most).max(fuel);
    }
    Ok(used)
}

// ---------------------------------------------------------------- Ansible

/// How the playbooks reach a server's operating system: its inventory group
/// (`os_windows`, `os_linux`, `os_unknown`) and connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OsFamily {
    /// WinRM/PSRP and the `ansible.windows` modules.
    Windows,
    /// SSH and the `ansible.builtin` modules.
    Linux,
    /// No `os`, or one virtplan does not recognize: the wave stops at its
    /// preflight until the operator says how to reach the server.
    Unknown,
}

/// Words that mark an `os` as a Linux distribution (lower case, matched
/// anywhere in the name).
const LINUX_WORDS: &[&str] = &[
    "linux", "debian", "ubuntu", "red hat", "rhel", "centos", "rocky", "alma", "suse", "sles",
    "fedora",
];

/// The family of an `os` name: "Windows …" is Windows; a name holding one
/// of [`LINUX_WORDS`] is Linux; anything else, or none, is unknown.
pub fn os_family(os: Option<&str>) -> OsFamily {
    let Some(os) = os.map(str::to_lowercase) else {
        return OsFamily::Unknown;
    };
    if os.starts_with("windows") {
        OsFamily::Windows
    } else if LINUX_WORDS.iter().any(|w| os.contains(w)) {
        OsFamily::Linux
    } else {
        OsFamily::Unknown
    }
}

/// What runs the conversion in the playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Converter {
    /// The operator's converter (`virtplan_convert_command`), for vCenter
    /// and ESXi, which no Ansible module converts onto.
    Command,
    /// `virt-v2v` through `ansible.builtin.command`, for KVM and Proxmox.
    VirtV2v,
    /// Nobody: the method is done by hand (a pause prints it).
    Manual,
}

/// What the playbook does for one method: whether a converter runs, and
/// the steps it leaves to the operator before the conversion, after it
/// (before the VM is checked) and once the VM runs.
#[derive(Debug, Clone, Copy)]
pub struct MethodSteps {
    pub converts: bool,
    pub before: &'static [&'static str],
    pub converted: &'static [&'static str],
    pub after: &'static [&'static str],
}

const AFTER_STEPS: &[&str] = &[
    "re-addressing: NICs, IP addresses, DNS records",
    "hand-over to the owner; keep the physical server until the acceptance period ends, then decommission it",
];

/// The one place a method word becomes playbook steps.
pub fn method_steps(method: Method) -> MethodSteps {
    match method {
        Method::P2vCold => MethodSteps {
            converts: true,
            before: &[
                "stop the applications cleanly; the converter shuts the server down for the copy",
            ],
            converted: &[
                "check the drivers the converter injected (storage, network) and install the guest tools",
            ],
            after: AFTER_STEPS,
        },
        Method::P2vLive => MethodSteps {
            converts: true,
            before: &[
                "check the live copy has run (see the runbook for when it starts); stop the applications for the final sync",
            ],
            converted: &[
                "check the physical server is powered off after the final sync",
                "check the drivers the converter injected (storage, network) and install the guest tools",
            ],
            after: AFTER_STEPS,
        },
        Method::V2v => MethodSteps {
            converts: true,
            before: &["shut down the source VM on the old hypervisor"],
            converted: &["remove the old hypervisor's guest tools and install the new ones"],
            after: AFTER_STEPS,
        },
        Method::V2p => MethodSteps {
            converts: false,
            before: &[
                "restore the server onto its physical hardware (V2P): there is no converter for this",
            ],
            converted: &[],
            after: AFTER_STEPS,
        },
        Method::Rebuild => MethodSteps {
            converts: false,
            before: &[
                "build the new VM on its target host with its OS, join it to the domain and promote it to a domain controller; check that replication is healthy (repadmin /replsummary): nothing is copied",
            ],
            converted: &[],
            after: &[
                "move any FSMO roles to the new domain controller, then demote the old one and clean up its metadata; never power a copied domain controller back on (USN rollback)",
                "hand-over to the owner; decommission the old server once it is demoted",
            ],
        },
        Method::Restore => MethodSteps {
            converts: false,
            before: &[
                "build the new VM on its target host with its OS and application, then restore the data from backup or bring it up to date by log shipping: nothing is copied by a converter",
            ],
            converted: &[],
            after: &[
                "switch the clients over (DNS names, connection strings, mail routing)",
                "hand-over to the owner; keep the old server until the acceptance period ends, then decommission it",
            ],
        },
    }
}

/// How the playbook converts onto a hypervisor, and what it leaves to the
/// operator after the conversion there.
pub fn hypervisor_converter(hypervisor: Hypervisor) -> (Converter, &'static [&'static str]) {
    match hypervisor {
        Hypervisor::Vcenter | Hypervisor::Esxi => (Converter::Command, &[]),
        Hypervisor::Kvm => (Converter::VirtV2v, &[]),
        Hypervisor::Proxmox => (
            Converter::VirtV2v,
            &[
                "import the disks virt-v2v wrote into a Proxmox VM on the target node (qm importdisk) and start it",
            ],
        ),
    }
}

/// One server as the inventory carries it.
#[derive(Debug, Clone, Serialize)]
pub struct AnsibleHost<'a> {
    pub name: &'a str,
    pub wave: usize,
    pub method: Method,
    /// None when the platform states no hypervisor: the preflight stops.
    pub converter: Option<Converter>,
    pub target_host: &'a str,
    pub cluster: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub hypervisor: Option<Hypervisor>,
    pub os: Option<&'a str>,
    pub os_family: OsFamily,
    pub owner: Option<&'a str>,
    pub criticality: Option<Criticality>,
    pub vcpus: Option<u32>,
    pub memory_gib: Option<f64>,
    pub disk_gb: f64,
    pub window: Option<&'a str>,
    /// The wave's window opening and go/no-go time in UTC, when dated.
    pub opens_utc: Option<&'a str>,
    pub go_no_go_utc: Option<&'a str>,
    pub stream: u32,
    pub start_minute: f64,
    pub downtime_minutes: f64,
    pub rollback: &'a str,
    pub manual_before: Vec<&'static str>,
    pub manual_converted: Vec<&'static str>,
    pub manual_after: Vec<&'static str>,
}

/// Every moving server of the runbook, in wave order, as the inventory
/// carries it.
pub fn ansible_hosts(plan: &Plan) -> Vec<AnsibleHost<'_>> {
    let mut hosts = Vec::new();
    for wave in &plan.runbook.waves {
        for m in &wave.servers {
            let a = plan.assessment.servers.iter().find(|s| s.name == m.server);
            let cluster = a.and_then(|a| a.cluster.as_deref());
            let platform = cluster.and_then(|c| {
                plan.capacity
                    .clusters
                    .iter()
                    .find(|p| p.name == c)
                    .map(|p| p.platform.as_str())
            });
            let hypervisor =
                platform.and_then(|p| plan.project.hypervisors.get(p).copied().flatten());
            let steps = method_steps(m.method);
            let (converter, hyp_steps) = match (steps.converts, hypervisor) {
                (false, _) => (Some(Converter::Manual), &[][..]),
                (true, Some(h)) => {
                    let (c, s) = hypervisor_converter(h);
                    (Some(c), s)
                }
                (true, None) => (None, &[][..]),
            };
            let os = a.and_then(|a| a.os.as_deref());
            hosts.push(AnsibleHost {
                name: &m.server,
                wave: wave.number,
                method: m.method,
                converter,
                target_host: &m.target_host,
                cluster,
                platform,
                hypervisor,
                os,
                os_family: os_family(os),
                owner: a.and_then(|a| a.owner.as_deref()),
                criticality: a.map(|a| a.criticality),
                vcpus: a.map(|a| a.vm.vcpus),
                memory_gib: a.map(|a| a.vm.memory_gib),
                disk_gb: m.disk_gb,
                window: wave.window.as_deref(),
                opens_utc: wave.opens_utc.as_deref(),
                go_no_go_utc: wave.go_no_go_utc.as_deref(),
                stream: m.stream,
                start_minute: m.start_minute,
                downtime_minutes: m.downtime_minutes,
                rollback: &m.rollback,
                manual_before: steps.before.to_vec(),
                manual_converted: steps.converted.iter().chain(hyp_steps).copied().collect(),
                manual_after: steps.after.to_vec(),
            });
        }
    }
    hosts
}

/// One play of a wave: the n-th server of each stream, which run side by
/// side; the plays run in order, so each stream takes its servers in the
/// runbook's order.
#[derive(Debug, Clone, Serialize)]
pub struct Round<'a> {
    pub number: usize,
    pub servers: Vec<&'a ServerMove>,
}

/// A wave's servers as plays: see [`Round`].
pub fn rounds(wave: &Wave) -> Vec<Round<'_>> {
    let mut streams: BTreeMap<u32, Vec<&ServerMove>> = BTreeMap::new();
    for m in &wave.servers {
        streams.entry(m.stream).or_default().push(m);
    }
    for moves in streams.values_mut() {
        moves.sort_by(|a, b| {
            a.start_minute
                .total_cmp(&b.start_minute)
                .then(a.server.cmp(&b.server))
        });
    }
    let count = streams.values().map(Vec::len).max().unwrap_or(0);
    (0..count)
        .map(|k| Round {
            number: k + 1,
            servers: streams.values().filter_map(|s| s.get(k).copied()).collect(),
        })
        .collect()
}

fn wave_context(plan: &Plan, wave: &Wave) -> Value {
    minijinja::context! {
        project => Serde(&plan.project),
        runbook => Serde(&plan.runbook),
        wave => Serde(wave),
        rounds => Serde(rounds(wave)),
    }
}

/// The template environment: strict undefined values, our filters, escaping
/// by template kind, and `fuel` for each render.
fn environment(fuel: u64) -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(fuel));
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    env.set_auto_escape_callback(Escape::of_template);
    env.set_formatter(format_value);
    env.add_filter("fixed", |v: f64, digits: Option<usize>| {
        safe(crate::round::fixed(v, digits.unwrap_or(0)))
    });
    env.add_filter("money", |v: f64| money(v).map(safe));
    env.add_filter("minutes", |v: f64| safe(fmt_minutes(v)));
    env.add_filter("yaml", |v: String| safe(yaml_unsafe(&v)));
    env.add_filter("quoted", |v: String| safe(yaml_string(&v)));
    env.add_filter("name", |v: String| checked_name(&v));
    env.add_filter("utc", |v: Option<String>| match v {
        Some(v) => utc_time(&v),
        None => Ok(safe("null".to_string())),
    });
    env.add_filter("file", |v: String| {
        file_part(&v)
            .map(|()| safe(v))
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, e))
    });
    env.add_filter("mermaid", |v: String| safe(mermaid_node(&v)));
    Ok(env)
}

/// Renders one template into a string of at most [`MAX_OUTPUT`] bytes;
/// returns the text and the fuel used.
fn render(env: &Environment, name: &str, ctx: Value) -> Result<(String, u64), String> {
    render_limited(env, name, ctx, MAX_OUTPUT)
}

fn render_limited(
    env: &Environment,
    name: &str,
    ctx: Value,
    limit: usize,
) -> Result<(String, u64), String> {
    let tpl = env
        .get_template(name)
        .map_err(|e| format!("template {name}: {e:#}"))?;
    let mut buf = Bounded {
        text: Vec::new(),
        limit,
        overflowed: false,
    };
    let fuel = tpl
        .render_captured_to(ctx, &mut buf)
        .map(|c| c.state().fuel_levels().map_or(0, |(used, _)| used))
        .map_err(|e| match e.kind() {
            ErrorKind::OutOfFuel => format!(
                "template {name}: stopped after {} units of work, the most a render may use for this plan (a loop without end, or too much data?): {e}",
                env.fuel().unwrap_or(0)
            ),
            _ if buf.overflowed => format!(
                "template {name}: stopped at {limit} bytes of output, the most one file may hold"
            ),
            _ => format!("template {name}: {e:#}"),
        })?;
    let text = String::from_utf8(buf.text).map_err(|e| format!("template {name}: {e}"))?;
    Ok((text, fuel))
}

/// A writer that refuses to grow past `limit` bytes.
struct Bounded {
    text: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + bytes.len() > self.limit {
            self.overflowed = true;
            return Err(std::io::Error::other("the output is too large"));
        }
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `prefix` + `name` + `suffix` as a file name: the name must be a plain
/// word ([`file_part`]), never a path. Names are checked where they are
/// defined; this is the second line of defence.
pub fn file_name(prefix: &str, name: &str, suffix: &str) -> Result<String, String> {
    file_part(name)?;
    Ok(format!("{prefix}{name}{suffix}"))
}

/// Whether `name` can be part of a file name: ASCII letters, digits, `.`,
/// `_` and `-`, starting with a letter or digit (so no separator, no `..`
/// component, no control character), at most 200 bytes.
fn file_part(name: &str) -> Result<(), String> {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if plain {
        Ok(())
    } else {
        Err(format!("{name:?} cannot be part of a file name"))
    }
}

/// Tick marks at each day boundary of the period: day names for a week,
/// "day N" otherwise.
pub fn day_ticks(plan: &Plan) -> Vec<(usize, String)> {
    let per_day = (1440.0 / plan.project.slot_minutes).round().max(1.0) as usize;
    let days = (plan.project.period_minutes / 1440.0).floor() as usize;
    let weekly = days == 7;
    (0..days.max(1))
        .map(|d| {
            let label = if weekly {
                ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d].to_string()
            } else {
                format!("day {}", d + 1)
            };
            (d * per_day, label)
        })
        .collect()
}

/// 1234567.8 → "1,234,568".
fn money(v: f64) -> Result<String, Error> {
    if !v.is_finite() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "amount is not finite",
        ));
    }
    let rounded = num(v.round(), 0);
    let (sign, digits) = match rounded.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", rounded.as_str()),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    Ok(format!("{sign}{out}"))
}

/// A YAML double-quoted string: `"`, `\\` and every control or line-breaking
/// character escaped, so the value stays on its line.
fn yaml_string(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                s.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A YAML string Ansible never templates: `!unsafe "…"`.
fn yaml_unsafe(v: &str) -> String {
    format!("!unsafe {}", fold(&yaml_string(v)))
}

/// Longest run of a double-quoted string on one line before it is folded.
const FOLD_AT: usize = 100;
/// Indentation of a folded string's next lines: deeper than any key or list
/// item of the generated files (yamllint and ansible-lint want lines of at
/// most 160 characters).
const FOLD_INDENT: &str = "                    ";

/// A double-quoted YAML string broken at spaces into lines of at most
/// [`FOLD_AT`] characters. YAML folds each line break inside double quotes
/// into one space (the space the break replaces), and drops the next
/// line's indentation, so the value is unchanged. Escapes never hold a
/// space, so none is cut.
fn fold(quoted: &str) -> String {
    if quoted.len() <= FOLD_AT {
        return quoted.to_string();
    }
    let mut out = String::with_capacity(quoted.len() + 32);
    let mut line = 0;
    let mut previous = "";
    for (i, word) in quoted.split(' ').enumerate() {
        if i > 0 {
            // A break between two words only: YAML would drop spaces on
            // either side of it.
            if line + 1 + word.len() > FOLD_AT && !word.is_empty() && !previous.is_empty() {
                out.push('\n');
                out.push_str(FOLD_INDENT);
                line = FOLD_INDENT.len();
            } else {
                out.push(' ');
                line += 1;
            }
        }
        out.push_str(word);
        line += word.len();
        previous = word;
    }
    out
}

/// Text for a Markdown line or table cell: every character with a meaning
/// in Markdown (emphasis, code, links, HTML, entities, table pipes, headings)
/// is backslash-escaped, and line breaks and other control characters,
/// which would end the line or the table row, become spaces. One shape is
/// kept: a code span holding only a name (`` `r650` ``, as virtplan's own
/// reasons quote names), which nothing can break out of.
pub fn markdown_escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(c) = rest.chars().next() {
        let code_span = (c == '`')
            .then(|| rest[1..].split_once('`'))
            .flatten()
            .filter(|(inner, _)| file_part(inner).is_ok());
        if let Some((inner, after)) = code_span {
            s.push('`');
            s.push_str(inner);
            s.push('`');
            rest = after;
            continue;
        }
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' => {
                s.push('\\');
                s.push(c);
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => s.push(' '),
            c => s.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    s
}

/// A Mermaid node: an id made of the name's letters and digits (anything
/// else written as `_` and its code, so distinct names keep distinct ids)
/// and the real name as a quoted label with entity codes for `"`, `#`, `&`,
/// `<`, `>` and backticks.
fn mermaid_node(v: &str) -> String {
    let mut id = String::from("n_");
    let mut label = String::new();
    for c in v.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else {
            id.push_str(&format!("_{:x}_", c as u32));
        }
        match c {
            '"' | '#' | '&' | '<' | '>' | '`' => label.push_str(&format!("#{};", c as u32)),
            c if c.is_control() => label.push(' '),
            c => label.push(c),
        }
    }
    format!("{id}[\"{label}\"]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_tidied_outside_code_only() {
        let text = "\n\n# T\n\n\n  \n| a |  |    |\n| b \\|  |\n```mermaid\na\n\n\n|  |\n```\n\n\n";
        assert_eq!(
            tidy_markdown(text),
            "# T\n\n| a | | |\n| b \\|  |\n```mermaid\na\n\n\n|  |\n```\n"
        );
    }

    #[test]
    fn utc_times_are_checked_plain_strings() {
        let ok = utc_time("2027-03-06T21:00:00Z").expect("a UTC time");
        assert_eq!(ok.to_string(), "\"2027-03-06T21:00:00Z\"");
        for bad in [
            "2027-03-06T21:00:00",
            "2027-03-06 21:00:00Z",
            "2027-03-06T21:00:00Z\"",
            "{{ x }}-03-06T21:00:00Z",
            "2027-03-06T21:00:0٣Z",
        ] {
            assert!(utc_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn os_families() {
        assert_eq!(os_family(Some("Windows Server 2019")), OsFamily::Windows);
        assert_eq!(os_family(Some("windows 2012 R2")), OsFamily::Windows);
        assert_eq!(os_family(Some("Debian 12")), OsFamily::Linux);
        assert_eq!(
            os_family(Some("Red Hat Enterprise Linux 8")),
            OsFamily::Linux
        );
        assert_eq!(os_family(Some("SLES 15")), OsFamily::Linux);
        // Not guessed: these stop the wave's preflight.
        assert_eq!(os_family(Some("Solaris 10")), OsFamily::Unknown);
        assert_eq!(os_family(Some("AIX 7.2")), OsFamily::Unknown);
        assert_eq!(os_family(None), OsFamily::Unknown);
    }

    #[test]
    fn hypervisor_words_match_the_enum() {
        for (word, h) in crate::schema::HYPERVISORS.iter().zip(Hypervisor::ALL) {
            assert_eq!(Hypervisor::from_word(word), Some(h));
            assert_eq!(
                serde_json::to_value(h).ok(),
                Some(serde_json::Value::from(*word))
            );
        }
        assert_eq!(crate::schema::HYPERVISORS.len(), Hypervisor::ALL.len());
    }

    /// Rounds take the n-th server of each stream, in start order, so a
    /// stream keeps its order and no more than the streams run at once.
    #[test]
    fn rounds_follow_the_streams() {
        let kdl = r#"
project "p"
platform "esxi"
host-model "h" {
    sockets 2
    cores-per-socket 16
    clock "2.5GHz"
    memory "512GiB"
}
cluster "c" {
    platform "esxi"
    host-model "h"
}
defaults {
    sockets 1
    cores-per-socket 4
    clock "2.5GHz"
    memory "8GiB"
}
server "x"
"#;
        let compiled = crate::compile(&crate::source::MemorySource::new().with("p.kdl", kdl));
        let plan = compiled.plan.expect("a plan");
        let base_wave = plan.runbook.waves[0].clone();
        let base = base_wave.servers[0].clone();
        let mv = |name: &str, stream: u32, start: f64| ServerMove {
            server: name.to_string(),
            stream,
            start_minute: start,
            ..base.clone()
        };
        let wave = Wave {
            servers: vec![
                mv("c", 2, 0.0),
                mv("b", 1, 90.0),
                mv("a", 1, 0.0),
                mv("d", 2, 30.0),
                mv("e", 2, 60.0),
            ],
            ..base_wave
        };
        let names: Vec<Vec<&str>> = rounds(&wave)
            .iter()
            .map(|r| r.servers.iter().map(|m| m.server.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["a", "c"], vec!["b", "d"], vec!["e"]]);
    }

    #[test]
    fn money_format() {
        assert_eq!(money(1234567.8).ok().as_deref(), Some("1,234,568"));
        assert_eq!(money(-999.4).ok().as_deref(), Some("-999"));
        assert_eq!(money(0.0).ok().as_deref(), Some("0"));
    }

    #[test]
    fn long_yaml_strings_fold_at_single_spaces() {
        let text = format!("{} {}  {}", "a".repeat(60), "b".repeat(60), "c".repeat(60));
        let folded = yaml_unsafe(&text);
        // Broken once between the a's and the b's; never at the double
        // space, which a break would lose.
        assert_eq!(
            folded,
            format!(
                "!unsafe \"{}\n{FOLD_INDENT}{}  {}\"",
                "a".repeat(60),
                "b".repeat(60),
                "c".repeat(60)
            )
        );
        assert_eq!(yaml_unsafe("short text"), "!unsafe \"short text\"");
    }

    #[test]
    fn yaml_quoting() {
        assert_eq!(yaml_string("a\"b"), "\"a\\\"b\"");
        // A line break or a closing quote never ends the scalar.
        assert_eq!(
            yaml_unsafe("x\"\n- evil: {{ 1 }}\\\u{2028}"),
            r#"!unsafe "x\"\u000a- evil: {{ 1 }}\\\u2028""#
        );
    }

    #[test]
    fn markdown_escaping() {
        assert_eq!(
            markdown_escape("a | b `c` <img src=x> [l](u) *e* _u_ # &amp; ~s~ \\"),
            r"a \| b `c` \<img src=x\> \[l\](u) \*e\* \_u\_ \# \&amp; \~s\~ \\"
        );
        // Line breaks would end a table row.
        assert_eq!(markdown_escape("a\nb\r\u{2028}c"), "a b  c");
        // A code span holding a name stays; one holding anything else does not.
        assert_eq!(markdown_escape("of a `r650` host"), "of a `r650` host");
        assert_eq!(markdown_escape("`a b` `x"), r"\`a b\` \`x");
    }

    #[test]
    fn mermaid_nodes() {
        assert_eq!(mermaid_node("dev-pg01"), r#"n_dev_2d_pg01["dev-pg01"]"#);
        assert_eq!(mermaid_node("dev_pg01"), r#"n_dev_5f_pg01["dev_pg01"]"#);
        assert_eq!(
            mermaid_node("a\"]; click a call x(); b[\"#`<&>"),
            r#"n_a_22__5d__3b__20_click_20_a_20_call_20_x_28__29__3b__20_b_5b__22__23__60__3c__26__3e_["a#34;]; click a call x(); b[#34;#35;#96;#60;#38;#62;"]"#
        );
    }

    #[test]
    fn file_names_are_never_paths() {
        assert_eq!(
            file_name("capacity-", "main-01", ".svg").as_deref(),
            Ok("capacity-main-01.svg")
        );
        for bad in [
            "", "..", ".hidden", "../x", "a/b", "a\\b", "a\0b", "a\nb", "a b", "é",
        ] {
            assert!(file_name("capacity-", bad, ".svg").is_err(), "{bad:?}");
        }
    }

    /// Renders `text` as a template named `name` (its suffix chooses the escaping).
    fn render_one(
        name: &str,
        text: &str,
        ctx: Value,
        fuel: u64,
        limit: usize,
    ) -> Result<(String, u64), String> {
        let mut env = environment(fuel).expect("environment");
        env.add_template_owned(name.to_string(), text.to_string())
            .expect("template");
        render_limited(&env, name, ctx, limit)
    }

    #[test]
    fn templates_escape_by_kind() {
        let hostile = "{{ lookup('pipe','id') }} | <b>";
        let md = render_one(
            "t.md.j2",
            "{{ v }} {{ n }} {{ 2.5 | fixed(1) }}",
            minijinja::context! { v => hostile, n => 3 },
            10_000,
            1000,
        );
        assert_eq!(
            md.map(|r| r.0).as_deref(),
            Ok(r"{{ lookup('pipe','id') }} \| \<b\> 3 2.5")
        );
        let yml = render_one(
            "t.yml.j2",
            "{{ name | name }}: {{ v }} {{ n }} {{ 2.5 | fixed(1) }}",
            minijinja::context! { name => "web01", v => hostile, n => 3 },
            10_000,
            1000,
        );
        assert_eq!(
            yml.map(|r| r.0).as_deref(),
            Ok(r#"web01: !unsafe "{{ lookup('pipe','id') }} | <b>" 3 2.5"#)
        );
        let key = render_one(
            "t.yml.j2",
            "{{ name | name }}:",
            minijinja::context! { name => "a: b" },
            10_000,
            1000,
        );
        assert!(key.is_err_and(|e| e.contains("is not a valid name")));
    }

    #[test]
    fn renders_are_bounded() {
        let out = render_one(
            "t.md.j2",
            "{% for i in range(1000) %}xxxxxxxxxx{% endfor %}",
            Value::UNDEFINED,
            1_000_000,
            100,
        );
        assert!(out.is_err_and(|e| e.contains("stopped at 100 bytes of output")));
        let out = render_one(
            "t.md.j2",
            "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
            Value::UNDEFINED,
            10_000,
            1 << 20,
        );
        assert!(out.is_err_and(|e| e.contains("stopped after 10000 units of work")));
        let out = render_one(
            "t.md.j2",
            "{% for i in range(10) %}x{% endfor %}",
            Value::UNDEFINED,
            10_000,
            10,
        );
        assert!(out.is_ok_and(|(text, fuel)| text == "xxxxxxxxxx" && fuel > 10));
    }
}
