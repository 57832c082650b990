//! Lowering and resolution: checked syntax trees → the [`Model`].
//!
//! In: the top-level nodes of every file (already type-checked by `syntax`).
//! Out: a [`Model`] with defaults applied, classes inherited and every
//! reference resolved to an index, plus diagnostics for duplicates across
//! files, unknown references (with a did-you-mean), class cycles, missing
//! required server values and impossible values that need context (zero
//! cores, a slot that does not divide the period).
//!
//! Inheritance: a server's value for a node comes from the first of these
//! that states it: the server itself, its class, that class's `extends`
//! chain, then `defaults`. A stated node replaces the inherited one whole
//! (repeated nodes such as `window` included).

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::license::{Metric, Product};
use crate::model::*;
use crate::schema::RefKind;
use crate::source::{Span, Spanned, resolve_relative};
use crate::syntax::{Node, Val};
use crate::units::{BitsPerSec, Bytes, Fraction, GIB, Hertz, Seconds};

/// Lowers all nodes. Returns `None` only when no model can be built at all
/// (no `project`); every other problem is a diagnostic and a best-effort value.
pub fn lower(
    nodes: &[Node],
    sources: &crate::source::SourceMap,
    diags: &mut Diagnostics,
) -> Option<Model> {
    let parse_failed = diags.has_errors();
    let mut l = Lowerer {
        diags,
        names: BTreeMap::new(),
    };
    let by_kind = |kind: &'static str| nodes.iter().filter(move |n| n.name.value == kind);

    let project_node = l.singleton(by_kind("project"));
    let defaults = l.singleton(by_kind("defaults"));
    let costs_node = l.singleton(by_kind("costs"));
    let migration_node = l.singleton(by_kind("migration"));

    for (kind, node) in [
        (RefKind::Platform, "platform"),
        (RefKind::HostModel, "host-model"),
        (RefKind::Cluster, "cluster"),
        (RefKind::Class, "class"),
        (RefKind::Server, "server"),
        (RefKind::License, "license"),
    ] {
        l.register(kind, by_kind(node));
    }
    for rule in ["affinity", "anti-affinity", "separate-by", "pin"] {
        l.register_rules(by_kind(rule));
    }

    let Some(project_node) = project_node else {
        // A file that failed to parse may hold the project: do not guess.
        if parse_failed {
            return None;
        }
        let span = sources.files().next().map(|(id, _)| Span::new(id, 0, 0));
        let mut d = Diagnostic::error(
            "virtplan::check::missing",
            "the project has no `project` node",
        )
        .help("add `project \"name\" { currency \"EUR\" }` to one of the files");
        if let Some(span) = span {
            d = d.at(span, "no `project` in any file");
        }
        l.diags.push(d);
        return None;
    };
    let project = l.project(project_node);

    // Every name was numbered when registered; a node that turns out
    // invalid is left out of its list, so references are renumbered below.
    let (mut licenses, license_ids) =
        l.lower_all(RefKind::License, by_kind("license"), |l, n| l.license(n));
    for lic in &mut licenses {
        lic.product.covers = lic
            .product
            .covers
            .iter()
            .filter_map(|i| renumber(&license_ids, *i))
            .collect();
    }
    let (mut platforms, platform_ids) =
        l.lower_all(RefKind::Platform, by_kind("platform"), |l, n| l.platform(n));
    let (host_models, host_model_ids) =
        l.lower_all(RefKind::HostModel, by_kind("host-model"), |l, n| {
            l.host_model(n)
        });
    let (mut clusters, mut cluster_ids) =
        l.lower_all(RefKind::Cluster, by_kind("cluster"), |l, n| l.cluster(n));
    let classes: BTreeMap<String, &Node> = by_kind("class")
        .filter_map(|n| n.label().map(|name| (name.value, n)))
        .collect();
    l.check_class_cycles(&classes);
    let cluster_count = clusters.len();
    let (mut servers, server_ids) = l.lower_all(RefKind::Server, by_kind("server"), |l, n| {
        l.server(n, &classes, defaults, &project, cluster_count, sources)
    });
    for p in &mut platforms {
        p.license = p.license.and_then(|i| renumber(&license_ids, i));
    }
    // A cluster whose platform or host models are all invalid goes too.
    let mut kept = Vec::new();
    for (old, mut c) in clusters.drain(..).enumerate() {
        c.host_models = c
            .host_models
            .iter()
            .filter_map(|i| renumber(&host_model_ids, *i))
            .collect();
        match renumber(&platform_ids, c.platform) {
            Some(p) if !c.host_models.is_empty() => {
                c.platform = p;
                cluster_ids = cluster_ids
                    .iter()
                    .map(|id| {
                        if *id == Some(old) {
                            Some(kept.len())
                        } else {
                            *id
                        }
                    })
                    .collect();
                kept.push(c);
            }
            _ => {
                cluster_ids = cluster_ids
                    .iter()
                    .map(|id| if *id == Some(old) { None } else { *id })
                    .collect();
            }
        }
    }
    let clusters = kept;
    for s in &mut servers {
        s.cluster = s.cluster.and_then(|i| renumber(&cluster_ids, i));
        s.depends_on = s
            .depends_on
            .iter()
            .filter_map(|i| renumber(&server_ids, *i))
            .collect();
        s.licenses = s
            .licenses
            .iter()
            .filter_map(|i| renumber(&license_ids, *i))
            .collect();
    }
    let mut rules = l.rules(nodes);
    rules.retain_mut(|r| match &mut r.kind {
        RuleKind::Affinity { servers } | RuleKind::AntiAffinity { servers } => {
            *servers = servers
                .iter()
                .filter_map(|i| renumber(&server_ids, *i))
                .collect();
            true
        }
        RuleKind::Pin { server, .. } => match renumber(&server_ids, *server) {
            Some(s) => {
                *server = s;
                true
            }
            None => false,
        },
        RuleKind::SeparateBy { .. } => true,
    });
    let costs = l.costs(costs_node, project_node.name.span);
    let mut migration = l.migration(migration_node);
    migration.allow_together = migration
        .allow_together
        .iter()
        .map(|set| {
            set.iter()
                .filter_map(|i| renumber(&server_ids, *i))
                .collect::<Vec<Id>>()
        })
        .filter(|set| set.len() > 1)
        .collect();
    let metrics = by_kind("metrics")
        .filter_map(|n| {
            let arg = n.arg()?;
            let from = &sources.get(arg.span.file).name;
            Some(MetricsGlob {
                pattern: l.relative(from, arg)?,
                format: str_prop(n, "format").and_then(crate::import::Format::from_word),
                span: arg.span,
            })
        })
        .collect();

    Some(Model {
        project,
        platforms,
        host_models,
        clusters,
        servers,
        licenses,
        rules,
        costs,
        migration,
        metrics,
    })
}

/// The new index of a registered id, if its node was valid.
fn renumber(ids: &[Option<Id>], id: Id) -> Option<Id> {
    ids.get(id).copied().flatten()
}

struct Lowerer<'a> {
    diags: &'a mut Diagnostics,
    /// Every defined name per kind, with its index among valid ones and span.
    names: BTreeMap<RefKind, BTreeMap<String, (Id, Span)>>,
}

fn str_prop<'n>(n: &'n Node, name: &str) -> Option<&'n str> {
    n.prop(name).and_then(|v| v.value.as_str())
}

/// The layers a server's values are looked up in, most specific first.
struct Layers<'n> {
    layers: Vec<&'n Node>,
}

impl<'n> Layers<'n> {
    fn all(&self, name: &str) -> Vec<&'n Node> {
        for layer in &self.layers {
            let found: Vec<&Node> = layer
                .children
                .iter()
                .filter(|c| c.name.value == name)
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }
    fn node(&self, name: &str) -> Option<&'n Node> {
        self.all(name).into_iter().next()
    }
    fn arg(&self, name: &str) -> Option<&'n Spanned<Val>> {
        self.node(name).and_then(Node::arg)
    }
}

fn count(v: Option<&Spanned<Val>>) -> Option<u64> {
    v.and_then(|v| v.value.as_count())
}
fn number(v: Option<&Spanned<Val>>) -> Option<f64> {
    v.and_then(|v| v.value.as_f64())
}
fn bytes(v: Option<&Spanned<Val>>) -> Option<Bytes> {
    match v.map(|v| &v.value) {
        Some(Val::Bytes(b)) => Some(*b),
        _ => None,
    }
}
fn hertz(v: Option<&Spanned<Val>>) -> Option<Hertz> {
    match v.map(|v| &v.value) {
        Some(Val::Hertz(h)) => Some(*h),
        _ => None,
    }
}
fn bandwidth(v: Option<&Spanned<Val>>) -> Option<BitsPerSec> {
    match v.map(|v| &v.value) {
        Some(Val::Bandwidth(b)) => Some(*b),
        _ => None,
    }
}
fn duration(v: Option<&Spanned<Val>>) -> Option<Seconds> {
    match v.map(|v| &v.value) {
        Some(Val::Duration(d)) => Some(*d),
        _ => None,
    }
}
fn percent(v: Option<&Spanned<Val>>) -> Option<Fraction> {
    match v.map(|v| &v.value) {
        Some(Val::Percent(p)) => Some(*p),
        _ => None,
    }
}
fn power(v: Option<&Spanned<Val>>) -> Option<crate::units::Watts> {
    match v.map(|v| &v.value) {
        Some(Val::Power(p)) => Some(*p),
        _ => None,
    }
}
fn text(v: Option<&Spanned<Val>>) -> Option<String> {
    v.and_then(|v| v.value.as_str()).map(str::to_string)
}
fn strings(n: Option<&Node>) -> Vec<String> {
    n.map(|n| {
        n.args
            .iter()
            .filter_map(|a| a.value.as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

impl Lowerer<'_> {
    /// Lowers the registered nodes of one kind, in registration order.
    /// Returns the valid values and, per registered id, its index among them.
    fn lower_all<'n, T>(
        &mut self,
        kind: RefKind,
        nodes: impl Iterator<Item = &'n Node>,
        mut lower: impl FnMut(&mut Self, &'n Node) -> Option<T>,
    ) -> (Vec<T>, Vec<Option<Id>>) {
        let mut values = Vec::new();
        let mut ids = Vec::new();
        for n in nodes {
            if !self.is_registered(kind, n) {
                continue;
            }
            match lower(self, n) {
                Some(v) => {
                    ids.push(Some(values.len()));
                    values.push(v);
                }
                None => ids.push(None),
            }
        }
        (values, ids)
    }

    fn singleton<'n>(&mut self, mut nodes: impl Iterator<Item = &'n Node>) -> Option<&'n Node> {
        let first = nodes.next()?;
        for again in nodes {
            self.diags.push(
                Diagnostic::error(
                    "virtplan::check::duplicate",
                    format!("`{}` is given twice", first.name.value),
                )
                .at(again.name.span, "given again here")
                .related(first.name.span, "first given here")
                .help(format!(
                    "a project has one `{}`; merge the two",
                    first.name.value
                )),
            );
        }
        Some(first)
    }

    fn register<'n>(&mut self, kind: RefKind, nodes: impl Iterator<Item = &'n Node>) {
        let mut map: BTreeMap<String, (Id, Span)> = BTreeMap::new();
        for n in nodes {
            let Some(name) = n.label() else { continue };
            self.check_name(kind.node(), &name);
            if let Some((_, first)) = map.get(&name.value) {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::duplicate",
                        format!("{} `{}` is defined twice", kind.node(), name.value),
                    )
                    .at(name.span, "defined again here")
                    .related(*first, "first defined here")
                    .help(format!(
                        "rename one of them; {} names are unique in a project",
                        kind.node()
                    )),
                );
                continue;
            }
            let id = map.len();
            map.insert(name.value, (id, name.span));
        }
        self.names.insert(kind, map);
    }

    fn register_rules<'n>(&mut self, nodes: impl Iterator<Item = &'n Node>) {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for n in nodes {
            let Some(name) = n.label() else { continue };
            self.check_name(&format!("{} rule", n.name.value), &name);
            if let Some(first) = seen.get(&name.value) {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::duplicate",
                        format!("{} rule `{}` is defined twice", n.name.value, name.value),
                    )
                    .at(name.span, "defined again here")
                    .related(*first, "first defined here")
                    .help("rule names are unique per kind, so their price can be reported"),
                );
            } else {
                seen.insert(name.value, name.span);
            }
        }
    }

    /// Names become inventory hosts, file names, Mermaid ids and Markdown
    /// words: each must follow [`crate::schema::NAME_RULE`]. The node stays
    /// registered, so references to it do not cascade into more errors.
    fn check_name(&mut self, what: &str, name: &Spanned<String>) {
        if crate::schema::valid_name(&name.value) {
            return;
        }
        self.diags.push(
            Diagnostic::error(
                "virtplan::check::invalid-name",
                format!("{what} name {:?} is not a valid name", name.value),
            )
            .at(name.span, "not a valid name")
            .help(format!(
                "{}, such as `db01` or `web-2.prod`",
                crate::schema::NAME_RULE
            )),
        );
    }

    /// Whether this node is the one registered under its name (not a duplicate).
    fn is_registered(&self, kind: RefKind, n: &Node) -> bool {
        n.label().is_some_and(|name| {
            self.names
                .get(&kind)
                .and_then(|m| m.get(&name.value))
                .is_some_and(|(_, span)| *span == name.span)
        })
    }

    fn resolve(&mut self, kind: RefKind, v: &Spanned<Val>) -> Option<Id> {
        let name = v.value.as_str()?;
        let map = self.names.get(&kind)?;
        if let Some((id, _)) = map.get(name) {
            return Some(*id);
        }
        let help = match did_you_mean(name, map.keys().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`?"),
            None if map.is_empty() => format!("the project defines no {} at all", kind.node()),
            None => format!(
                "define `{} \"{name}\"` or use an existing name",
                kind.node()
            ),
        };
        let mut d = Diagnostic::error(
            "virtplan::resolve::unknown-reference",
            format!("no {} named `{name}`", kind.node()),
        )
        .at(v.span, format!("unknown {}", kind.node()))
        .help(help);
        if let Some(c) = did_you_mean(name, map.keys().map(String::as_str))
            && let Some((_, span)) = map.get(c)
        {
            d = d.related(*span, format!("`{c}` is defined here"));
        }
        self.diags.push(d);
        None
    }

    fn relative(&mut self, from: &str, v: &Spanned<Val>) -> Option<String> {
        let path = v.value.as_str()?;
        let resolved = resolve_relative(from, path);
        if resolved.is_none() {
            self.diags.push(
                Diagnostic::error(
                    "virtplan::load::include",
                    format!("`{path}` leaves the project directory"),
                )
                .at(v.span, "outside the project")
                .help("paths are relative to the file that names them and stay inside the project"),
            );
        }
        resolved
    }

    fn range(&mut self, v: Option<&Spanned<Val>>, ok: bool, message: &str, help: &str) {
        if let (Some(v), false) = (v, ok) {
            self.diags.push(
                Diagnostic::error("virtplan::check::out-of-range", message.to_string())
                    .at(v.span, "impossible value")
                    .help(help.to_string()),
            );
        }
    }

    fn project(&mut self, n: &Node) -> Project {
        let tz = n.child_arg("timezone");
        let timezone = text(tz).unwrap_or_else(|| "UTC".to_string());
        let zone = match crate::zone::Zone::parse(&timezone) {
            Some(z) => z,
            None => {
                if let Some(v) = tz {
                    self.diags.push(
                        Diagnostic::error(
                            "virtplan::check::wrong-type",
                            format!("`{timezone}` is not a time zone virtplan knows"),
                        )
                        .at(v.span, "unknown time zone")
                        .help("write \"UTC\", a fixed offset such as \"+01:00\", or a zone of the tz database such as \"Europe/Berlin\""),
                    );
                }
                crate::zone::Zone::default()
            }
        };
        let profile = n.child("profile");
        let period =
            duration(profile.and_then(|p| p.prop("period"))).unwrap_or(Seconds(7.0 * 86400.0));
        let slot = duration(profile.and_then(|p| p.prop("slot"))).unwrap_or(Seconds(3600.0));
        let percentile = number(profile.and_then(|p| p.prop("percentile"))).unwrap_or(95.0);
        let max_rejected_v = profile.and_then(|p| p.prop("max-rejected"));
        let max_rejected = percent(max_rejected_v).unwrap_or(Fraction(0.5));
        self.range(
            max_rejected_v,
            (0.0..=1.0).contains(&max_rejected.0),
            "max-rejected must be between 0% and 100%",
            "write max-rejected=\"50%\"",
        );
        let mut settings = ProfileSettings {
            period,
            slot,
            percentile,
            max_rejected: Fraction(max_rejected.0.clamp(0.0, 1.0)),
        };
        if let Some(p) = profile {
            let divides = slot.0 >= 1.0 && period.0 >= slot.0 && (period.0 / slot.0).fract() == 0.0;
            let span = p
                .prop("slot")
                .or(p.prop("period"))
                .map_or(p.name.span, |v| v.span);
            if !divides || settings.slots() > 100_000 {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::out-of-range",
                        "the profile slot must divide the period (at most 100000 slots)",
                    )
                    .at(span, "does not divide the period")
                    .help(
                        "e.g. period=\"7d\" slot=\"1h\" (168 slots) or period=\"1d\" slot=\"5min\"",
                    ),
                );
                settings.period = Seconds(7.0 * 86400.0);
                settings.slot = Seconds(3600.0);
            }
            let pv = p.prop("percentile");
            self.range(
                pv,
                percentile > 0.0 && percentile <= 100.0,
                "the percentile must be above 0 and at most 100",
                "write percentile=95 for p95",
            );
            if !(percentile > 0.0 && percentile <= 100.0) {
                settings.percentile = 95.0;
            }
        }
        let sizing = n.child("sizing");
        let headroom_v = sizing.and_then(|s| s.prop("headroom"));
        let headroom = number(headroom_v).unwrap_or(1.3);
        self.range(
            headroom_v,
            headroom > 0.0,
            "headroom must be above zero",
            "1.3 adds 30% to measured demand",
        );
        let gran_v = sizing.and_then(|s| s.prop("memory-granularity"));
        let granularity = bytes(gran_v).unwrap_or(Bytes(GIB));
        self.range(
            gran_v,
            granularity.0 > 0.0,
            "memory granularity must be above zero",
            "e.g. \"1GiB\"",
        );
        let b = n.child("bottleneck");
        let horizon_v = n.child_arg("horizon-years");
        let horizon = count(horizon_v).unwrap_or(5);
        self.range(
            horizon_v,
            (1..=50).contains(&horizon),
            "the horizon must be 1 to 50 years",
            "typical horizons are 3 to 5 years",
        );
        let sizing_v = n.child_arg("sizing-horizon-years");
        let sizing_years = count(sizing_v).unwrap_or(u64::from(horizon.clamp(1, 50) as u32));
        self.range(
            sizing_v,
            (1..=50).contains(&sizing_years),
            "the sizing horizon must be 1 to 50 years",
            "the years of growth the hosts must have room for, often the finance horizon or less",
        );
        let currency_v = n.child_arg("currency");
        let currency = text(currency_v).unwrap_or_else(|| "EUR".to_string());
        if let Some(v) = currency_v
            && iso_currency::Currency::from_code(&currency).is_none()
        {
            let upper = currency.to_ascii_uppercase();
            self.diags.push(
                Diagnostic::error(
                    "virtplan::cost::currency",
                    format!("`{currency}` is not an ISO 4217 currency code"),
                )
                .at(v.span, "not a currency code")
                .help(if iso_currency::Currency::from_code(&upper).is_some() {
                    format!("currency codes are upper case: write \"{upper}\"")
                } else {
                    "write the three-letter ISO 4217 code, such as \"EUR\", \"USD\" or \"CHF\""
                        .to_string()
                }),
            );
        }
        Project {
            name: n.label().map(|l| l.value).unwrap_or_default(),
            currency,
            zone,
            horizon_years: horizon.clamp(1, 50) as u32,
            sizing_years: sizing_years.clamp(1, 50) as u32,
            discount_rate: percent(n.child_arg("discount-rate")).unwrap_or_default(),
            growth_per_year: percent(n.child_arg("growth-per-year")).unwrap_or_default(),
            io_heavy: percent(n.child_arg("io-heavy")).unwrap_or(Fraction(0.10)),
            profile: settings,
            sizing: Sizing {
                headroom: if headroom > 0.0 { headroom } else { 1.3 },
                memory_granularity: if granularity.0 > 0.0 {
                    granularity
                } else {
                    Bytes(GIB)
                },
                min_vcpus: count(sizing.and_then(|s| s.prop("min-vcpus")))
                    .unwrap_or(1)
                    .max(1) as u32,
                min_memory: bytes(sizing.and_then(|s| s.prop("min-memory"))).unwrap_or(Bytes(GIB)),
            },
            bottleneck: Bottleneck {
                cpu: percent(b.and_then(|b| b.prop("cpu"))).unwrap_or(Fraction(0.9)),
                memory: percent(b.and_then(|b| b.prop("memory"))).unwrap_or(Fraction(0.95)),
                disk: percent(b.and_then(|b| b.prop("disk"))).unwrap_or(Fraction(0.9)),
                network: percent(b.and_then(|b| b.prop("network"))).unwrap_or(Fraction(0.9)),
            },
            memory_by_role: n
                .children
                .iter()
                .filter(|c| c.name.value == "memory-by-role")
                .filter_map(|c| self.memory_by_role(c))
                .collect(),
        }
    }

    /// One `memory-by-role`: `share` goes with `rule="share"` and only
    /// with it, and is above 0 and at most 100%.
    fn memory_by_role(&mut self, n: &Node) -> Option<MemoryByRole> {
        let rule = n.prop("rule").and_then(|v| v.value.as_str());
        let share_v = n.prop("share");
        let rule = match (rule, percent(share_v)) {
            (None | Some("declared"), None) => MemoryRule::Declared,
            (Some("share"), Some(share)) => {
                self.range(
                    share_v,
                    share.0 > 0.0 && share.0 <= 1.0,
                    "the share must be above 0% and at most 100%",
                    "the part of the installed memory the VM gets, e.g. \"75%\"",
                );
                MemoryRule::Share(share)
            }
            (Some("share"), None) => {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::missing",
                        "`rule=\"share\"` needs `share`, the part of the installed memory the VM gets",
                    )
                    .at(n.name.span, "no share")
                    .help("add share=\"75%\" (or another part), or use rule=\"declared\""),
                );
                return None;
            }
            (_, Some(_)) => {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::out-of-range",
                        "`share` applies only with `rule=\"share\"`",
                    )
                    .at(
                        share_v.map_or(n.name.span, |v| v.span),
                        "ignored by rule=\"declared\"",
                    )
                    .help("add rule=\"share\", or remove share"),
                );
                return None;
            }
            (Some(_), None) => return None,
        };
        Some(MemoryByRole {
            roles: strings(Some(n)),
            rule,
        })
    }

    fn license(&mut self, n: &Node) -> Option<License> {
        if !self.is_registered(RefKind::License, n) {
            return None;
        }
        let metric = n
            .child_arg("metric")
            .and_then(|v| v.value.as_str())
            .and_then(Metric::from_word)?;
        let vms = n.child_arg("vms-per-license");
        if let Some(v) = vms
            && v.value == Val::Count(0)
        {
            self.diags.push(
                Diagnostic::error(
                    "virtplan::cost::zero-vms-per-license",
                    "vms-per-license 0 covers no VM",
                )
                .at(v.span, "no VM covered")
                .help("write how many VMs one full licensing of a host covers, or \"unlimited\""),
            );
        }
        let factor = n.child_arg("core-factor");
        let core_factor = number(factor).unwrap_or(1.0);
        self.range(
            factor,
            core_factor > 0.0,
            "core-factor must be above zero",
            "Oracle's table gives 0.5 for most x86 processors",
        );
        self.ignored_license_settings(n, metric);
        let covers = n
            .child("covers")
            .map(|c| {
                c.args
                    .iter()
                    .filter_map(|v| self.resolve(RefKind::License, v))
                    .collect()
            })
            .unwrap_or_default();
        let owned = n.child("owned").and_then(|o| {
            let units = number(o.arg())?;
            self.range(
                o.arg(),
                units >= 0.0,
                "owned units cannot be negative",
                "write how many units the organisation owns, or leave `owned` out",
            );
            Some(crate::model::Owned {
                units: units.max(0.0),
                transferable: matches!(
                    o.prop("transferable").map(|p| &p.value),
                    Some(Val::Bool(true))
                ),
            })
        });
        Some(License {
            name: n.label()?.value,
            span: n.name.span,
            owned,
            product: Product {
                metric,
                price: number(n.child_arg("price")).unwrap_or(0.0),
                support_per_year: number(n.child_arg("support-per-year")).unwrap_or(0.0),
                min_cores_per_socket: count(n.child_arg("min-cores-per-socket")).unwrap_or(0)
                    as u32,
                min_cores_per_host: count(n.child_arg("min-cores-per-host")).unwrap_or(0) as u32,
                min_cores_per_vm: count(n.child_arg("min-cores-per-vm")).unwrap_or(0) as u32,
                core_factor,
                pack: count(n.child_arg("pack")).unwrap_or(1).max(1) as u32,
                sockets_per_license: count(n.child_arg("sockets-per-license"))
                    .unwrap_or(1)
                    .max(1) as u32,
                vms_per_license: match vms.map(|v| &v.value) {
                    Some(Val::Unlimited) => None,
                    Some(Val::Count(c)) => Some((*c).max(1)),
                    _ => Some(1),
                },
                per_vm: match n.child_arg("per-vm").map(|v| &v.value) {
                    Some(Val::Bool(b)) => *b,
                    _ => matches!(metric, Metric::PerInstance | Metric::PerVcpu),
                },
                covers,
            },
        })
    }

    /// Warns about licence settings the chosen metric does not use.
    fn ignored_license_settings(&mut self, n: &Node, metric: Metric) {
        let core_only = [
            "min-cores-per-socket",
            "min-cores-per-host",
            "core-factor",
            "pack",
        ];
        for child in &n.children {
            let name = child.name.value.as_str();
            let ignored = match name {
                "sockets-per-license" => metric != Metric::PerSocket,
                "min-cores-per-vm" => !matches!(
                    metric,
                    Metric::PerCore | Metric::PerVcpu | Metric::PerClusterCore
                ),
                _ if core_only.contains(&name) => !matches!(
                    metric,
                    Metric::PerCore | Metric::PerClusterCore | Metric::PerVcpu
                ),
                _ => false,
            };
            if ignored {
                self.diags.push(
                    Diagnostic::warning(
                        "virtplan::cost::ignored-setting",
                        format!("`{name}` has no effect on a `{}` licence", metric.word()),
                    )
                    .at(child.name.span, "ignored")
                    .help(format!(
                        "remove `{name}`, or choose the metric it belongs to"
                    )),
                );
            }
        }
    }

    fn platform(&mut self, n: &Node) -> Option<Platform> {
        if !self.is_registered(RefKind::Platform, n) {
            return None;
        }
        let kind = text(n.child_arg("kind")).unwrap_or_else(|| "bare-metal".to_string());
        let hosted = kind == "hosted";
        let vpc = n.child_arg("vms-per-core");
        let vms_per_core = number(vpc).unwrap_or(if hosted { 4.0 } else { 8.0 });
        self.range(
            vpc,
            vms_per_core > 0.0,
            "vms-per-core must be above zero",
            "e.g. 8 for a bare-metal hypervisor",
        );
        let vcpu = n.child_arg("vcpu-per-core");
        let vcpu_per_core = number(vcpu).unwrap_or(if hosted { 2.0 } else { 4.0 });
        self.range(
            vcpu,
            vcpu_per_core > 0.0,
            "vcpu-per-core must be above zero",
            "e.g. 4 for a 4:1 vCPU:pCPU ratio",
        );
        let license = n
            .child_arg("license")
            .and_then(|v| self.resolve(RefKind::License, v));
        Some(Platform {
            name: n.label()?.value,
            span: n.name.span,
            kind,
            hypervisor: text(n.child_arg("hypervisor")).and_then(|w| Hypervisor::from_word(&w)),
            vms_per_core: vms_per_core.max(f64::MIN_POSITIVE),
            vcpu_per_core: vcpu_per_core.max(f64::MIN_POSITIVE),
            cpu_overhead: percent(n.child_arg("cpu-overhead")).unwrap_or_default(),
            io_overhead: percent(n.child_arg("io-overhead")).unwrap_or_default(),
            memory_overhead_per_vm: bytes(n.child_arg("memory-overhead-per-vm"))
                .unwrap_or_default(),
            license,
        })
    }

    /// Checks a value that must be above zero, reporting zero.
    fn positive(&mut self, v: Option<&Spanned<Val>>, what: &str) -> bool {
        let value = v.map(|v| match &v.value {
            Val::Count(c) => *c as f64,
            Val::Hertz(h) => h.0,
            Val::Bytes(b) => b.0,
            Val::Number(n) => *n,
            _ => 1.0,
        });
        match (v, value) {
            (Some(v), Some(x)) if x <= 0.0 => {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::check::out-of-range",
                        format!("{what} cannot be zero"),
                    )
                    .at(v.span, "zero")
                    .help(format!("{what} must be above zero: write the real value")),
                );
                false
            }
            _ => true,
        }
    }

    fn host_model(&mut self, n: &Node) -> Option<HostModel> {
        if !self.is_registered(RefKind::HostModel, n) {
            return None;
        }
        let mut ok = true;
        for (child, what) in [
            ("sockets", "the number of sockets"),
            ("cores-per-socket", "the number of cores"),
            ("clock", "the clock"),
            ("memory", "the memory"),
            ("cpu-perf", "the CPU performance factor"),
        ] {
            ok &= self.positive(n.child_arg(child), what);
        }
        let sockets = count(n.child_arg("sockets"))? as u32;
        let cores_per_socket = count(n.child_arg("cores-per-socket"))? as u32;
        let clock = hertz(n.child_arg("clock"))?;
        let memory = bytes(n.child_arg("memory"))?;
        if !ok || sockets > 64 || cores_per_socket > 1024 {
            return None;
        }
        let power_peak = power(n.child_arg("power-peak")).unwrap_or_default();
        Some(HostModel {
            name: n.label()?.value,
            span: n.name.span,
            sockets,
            cores_per_socket,
            clock,
            cpu_perf: number(n.child_arg("cpu-perf")).unwrap_or(1.0),
            memory,
            storage_iops: number(n.child_arg("storage-iops")).unwrap_or(f64::INFINITY),
            storage_throughput: bandwidth(n.child_arg("storage-throughput"))
                .unwrap_or(BitsPerSec(f64::INFINITY)),
            network: bandwidth(n.child_arg("network")).unwrap_or(BitsPerSec(f64::INFINITY)),
            price: number(n.child_arg("price")).unwrap_or(0.0),
            power_idle: power(n.child_arg("power-idle")).unwrap_or(power_peak),
            power_peak,
            rack_units: count(n.child_arg("rack-units")).unwrap_or(1) as u32,
            support_per_year: number(n.child_arg("support-per-year")).unwrap_or(0.0),
        })
    }

    fn cluster(&mut self, n: &Node) -> Option<Cluster> {
        if !self.is_registered(RefKind::Cluster, n) {
            return None;
        }
        let platform = n
            .child_arg("platform")
            .and_then(|v| self.resolve(RefKind::Platform, v));
        let models: Vec<Id> = n
            .child("host-model")
            .map(|m| {
                m.args
                    .iter()
                    .filter_map(|v| self.resolve(RefKind::HostModel, v))
                    .collect()
            })
            .unwrap_or_default();
        let t = n.child("target");
        let pct = |name: &str, default: f64| {
            percent(t.and_then(|t| t.prop(name))).unwrap_or(Fraction(default))
        };
        let target = Targets {
            cpu: pct("cpu", 0.8),
            memory: pct("memory", 0.9),
            disk_iops: pct("disk-iops", 0.8),
            disk_throughput: pct("disk-throughput", 0.8),
            network: pct("network", 0.8),
        };
        if let Some(t) = t {
            for (name, v) in &t.props {
                if let Val::Percent(p) = v.value {
                    self.range(
                        Some(v),
                        p.0 > 0.0,
                        &format!("target `{name}` cannot be 0%"),
                        "a target is the share of capacity the planner may use",
                    );
                }
            }
        }
        let max_v = n.child_arg("max-hosts");
        self.positive(max_v, "max-hosts");
        let (platform, models_ok) = (platform?, !models.is_empty());
        if !models_ok {
            return None;
        }
        let positive = |f: Fraction| if f.0 > 0.0 { f } else { Fraction(1.0) };
        Some(Cluster {
            name: n.label()?.value,
            span: n.name.span,
            platform,
            host_models: models,
            max_hosts: count(max_v)
                .filter(|m| *m > 0)
                .map(|m| m.min(100_000) as u32),
            failures_to_tolerate: count(n.child_arg("failures-to-tolerate"))
                .unwrap_or(0)
                .min(1000) as u32,
            target: Targets {
                cpu: positive(target.cpu),
                memory: positive(target.memory),
                disk_iops: positive(target.disk_iops),
                disk_throughput: positive(target.disk_throughput),
                network: positive(target.network),
            },
        })
    }

    fn check_class_cycles(&mut self, classes: &BTreeMap<String, &Node>) {
        for (name, node) in classes {
            let mut seen = vec![name.clone()];
            let mut cur = *node;
            while let Some(parent) = cur.prop("extends") {
                let Some(pname) = parent.value.as_str() else {
                    break;
                };
                if seen.iter().any(|s| s == pname) {
                    // Report each circle once, at its alphabetically first class.
                    if pname == name && seen.iter().all(|s| s >= name) {
                        seen.push(pname.to_string());
                        let span = node.prop("extends").map_or(node.name.span, |e| e.span);
                        self.diags.push(
                            Diagnostic::error(
                                "virtplan::resolve::class-cycle",
                                format!(
                                    "classes extend each other in a circle: {}",
                                    seen.join(" → ")
                                ),
                            )
                            .at(span, "this `extends` closes the circle")
                            .help("remove one `extends` so the chain ends"),
                        );
                    }
                    break;
                }
                seen.push(pname.to_string());
                match classes.get(pname) {
                    Some(next) => cur = next,
                    None => {
                        self.resolve(RefKind::Class, parent);
                        break;
                    }
                }
            }
        }
    }

    /// Reports a server named in its own `depends-on` (directly or through
    /// its class): it could never move, since it would wait for itself.
    fn depends_on_itself(&mut self, server: &str, dep: &Spanned<Val>) -> bool {
        if dep.value.as_str() != Some(server) {
            return false;
        }
        self.diags.push(
            Diagnostic::error(
                "virtplan::resolve::self-dependency",
                format!("server `{server}` depends on itself"),
            )
            .at(dep.span, "the server's own name")
            .help(format!(
                "remove `{server}` from its `depends-on`; list the servers that must move before it"
            )),
        );
        true
    }

    fn server(
        &mut self,
        n: &Node,
        classes: &BTreeMap<String, &Node>,
        defaults: Option<&Node>,
        project: &Project,
        cluster_count: usize,
        sources: &crate::source::SourceMap,
    ) -> Option<Server> {
        if !self.is_registered(RefKind::Server, n) {
            return None;
        }
        let name = n.label()?;
        let mut layers = vec![n];
        let class = n.prop("class");
        if let Some(c) = class
            && self.resolve(RefKind::Class, c).is_some()
        {
            let mut cur = c.value.as_str().and_then(|c| classes.get(c));
            while let Some(node) = cur {
                if layers.iter().any(|l| std::ptr::eq(*l, *node)) || layers.len() > 64 {
                    break;
                }
                layers.push(node);
                cur = node
                    .prop("extends")
                    .and_then(|e| e.value.as_str())
                    .and_then(|c| classes.get(c));
            }
        }
        layers.extend(defaults);
        let get = Layers { layers };

        let mut missing = Vec::new();
        for req in ["sockets", "cores-per-socket", "clock", "memory"] {
            if get.arg(req).is_none() {
                missing.push(req);
            }
        }
        if !missing.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    "virtplan::check::missing",
                    format!("server `{}` has no {}", name.value, missing.join(", ")),
                )
                .at(name.span, "incomplete server")
                .help(format!(
                    "give `{}` in the server, its class or `defaults`",
                    missing.join("`, `")
                )),
            );
        }
        let mut ok = missing.is_empty();
        for (child, what) in [
            ("sockets", "the number of sockets"),
            ("cores-per-socket", "the number of cores"),
            ("clock", "the clock"),
            ("memory", "the memory"),
            ("cpu-perf", "the CPU performance factor"),
        ] {
            ok &= self.positive(get.arg(child), what);
        }

        let disk_size = bytes(get.arg("disk-size"));
        let disk_used_v = get.arg("disk-used");
        let disk_used = bytes(disk_used_v).or(disk_size).unwrap_or_default();
        if let (Some(size), Some(used), Some(v)) = (disk_size, bytes(disk_used_v), disk_used_v)
            && used.0 > size.0
        {
            self.diags.push(
                Diagnostic::error(
                    "virtplan::check::out-of-range",
                    "disk-used is larger than disk-size",
                )
                .at(v.span, "more than installed")
                .help("disk-used is the space in use; it cannot exceed disk-size"),
            );
        }
        let depends_on = get
            .node("depends-on")
            .map(|d| {
                d.args
                    .iter()
                    .filter_map(|v| {
                        if self.depends_on_itself(&name.value, v) {
                            None
                        } else {
                            self.resolve(RefKind::Server, v)
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let cluster = match get.arg("cluster") {
            Some(v) => self.resolve(RefKind::Cluster, v),
            None if cluster_count == 1 => Some(0),
            None if cluster_count == 0 => None,
            None => {
                self.diags.push(
                    Diagnostic::error(
                        "virtplan::resolve::no-cluster",
                        format!(
                            "server `{}` names no cluster, and there are {cluster_count}",
                            name.value
                        ),
                    )
                    .at(name.span, "which cluster?")
                    .help("add `cluster \"name\"` to the server or its class"),
                );
                None
            }
        };
        let licenses = get
            .node("licenses")
            .map(|d| {
                d.args
                    .iter()
                    .filter_map(|v| self.resolve(RefKind::License, v))
                    .collect()
            })
            .unwrap_or_default();
        let metrics = get.node("metrics").and_then(|m| {
            let arg = m.arg()?;
            let from = sources.get(arg.span.file).name.clone();
            Some(MetricsRef {
                path: self.relative(&from, arg)?,
                format: str_prop(m, "format").and_then(crate::import::Format::from_word),
                span: arg.span,
            })
        });
        let os = get.node("os");
        let vendor = get.node("vendor-support");
        let vendor_unsupported =
            vendor.and_then(|v| match v.prop("virtualized").map(|p| &p.value) {
                Some(Val::Bool(false)) => Some(str_prop(v, "note").unwrap_or("").to_string()),
                _ => None,
            });
        let verdict_override = get.node("verdict").and_then(|v| {
            let verdict = match v.arg()?.value.as_str()? {
                "virtualize" => Verdict::Virtualize,
                "virtualize-with-care" => Verdict::VirtualizeWithCare,
                "fix-first" => Verdict::FixFirst,
                _ => Verdict::KeepPhysical,
            };
            Some((verdict, str_prop(v, "reason")?.to_string()))
        });
        let criticality = match text(get.arg("criticality")).as_deref() {
            Some("low") => Criticality::Low,
            Some("high") => Criticality::High,
            Some("critical") => Criticality::Critical,
            _ => Criticality::Medium,
        };
        let status = get
            .arg("status")
            .and_then(|v| v.value.as_str())
            .and_then(Status::from_word)
            .unwrap_or_default();
        let method = text(get.arg("method")).as_deref().map(parse_method);
        if !ok {
            return None;
        }
        Some(Server {
            name: name.value,
            span: name.span,
            class: class.and_then(|c| c.value.as_str()).map(str::to_string),
            sockets: count(get.arg("sockets"))?.min(64) as u32,
            cores_per_socket: count(get.arg("cores-per-socket"))?.min(1024) as u32,
            clock: hertz(get.arg("clock"))?,
            cpu_perf: number(get.arg("cpu-perf")).unwrap_or(1.0),
            memory: bytes(get.arg("memory"))?,
            disk_size: disk_size.unwrap_or(disk_used),
            disk_used,
            disk_iops: number(get.arg("disk-iops")),
            nics: count(get.arg("nics")).unwrap_or(1).min(64) as u32,
            nic_speed: bandwidth(get.arg("nic-speed")).unwrap_or(BitsPerSec(1e9)),
            power: power(get.arg("power")),
            rack_units: count(get.arg("rack-units")).unwrap_or(1).min(64) as u32,
            os: os.and_then(|o| text(o.arg())),
            edition: os.and_then(|o| str_prop(o, "edition")).map(str::to_string),
            roles: strings(get.node("roles")),
            tags: strings(get.node("tags")),
            owner: text(get.arg("owner")),
            criticality,
            status,
            depends_on,
            special_hardware: get
                .all("special-hardware")
                .into_iter()
                .filter_map(|h| {
                    Some(SpecialHardware {
                        kind: text(h.arg())?,
                        note: str_prop(h, "note").map(str::to_string),
                    })
                })
                .collect(),
            vendor_unsupported,
            metrics,
            windows: get
                .all("window")
                .into_iter()
                .filter_map(|w| match w.arg().map(|a| &a.value) {
                    Some(Val::Window(w)) => Some(*w),
                    _ => None,
                })
                .collect(),
            cluster,
            max_host_cpu: percent(get.arg("max-host-cpu")),
            growth_per_year: percent(get.arg("growth-per-year")).unwrap_or(project.growth_per_year),
            licenses,
            method,
            verdict_override,
            support_per_year: number(get.arg("support-per-year")),
            age_years: number(get.arg("age-years")),
        })
    }

    fn members(&mut self, n: &Node) -> Vec<Id> {
        let mut ids: Vec<Id> = n
            .child("servers")
            .map(|m| {
                m.args
                    .iter()
                    .filter_map(|v| self.resolve(RefKind::Server, v))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn rules(&mut self, nodes: &[Node]) -> Vec<Rule> {
        let mut rules = Vec::new();
        for n in nodes {
            let Some(label) = n.label() else {
                continue;
            };
            let (name, span) = (label.value, n.name.span);
            let kind = match n.name.value.as_str() {
                "affinity" => RuleKind::Affinity {
                    servers: self.members(n),
                },
                "anti-affinity" => RuleKind::AntiAffinity {
                    servers: self.members(n),
                },
                "separate-by" => RuleKind::SeparateBy {
                    tags: strings(n.child("tags")),
                },
                "pin" => {
                    let server = n
                        .prop("server")
                        .and_then(|v| self.resolve(RefKind::Server, v));
                    let host_v = n.prop("host");
                    self.positive(host_v, "the host number");
                    let (Some(server), Some(host)) = (server, count(host_v).filter(|h| *h > 0))
                    else {
                        continue;
                    };
                    RuleKind::Pin {
                        server,
                        host: host.min(100_000) as u32,
                    }
                }
                _ => continue,
            };
            rules.push(Rule { name, span, kind });
        }
        rules
    }

    fn costs(&mut self, n: Option<&Node>, project: Span) -> Costs {
        if n.is_none() {
            self.diags.push(
                Diagnostic::warning(
                    "virtplan::cost::defaults",
                    "no `costs` node: every price and hour is 0 (energy, space, ports, \
                     administration, support, refresh, spare parts, downtime, storage), PUE is 1.5 \
                     and the refresh cycle 5 years",
                )
                .at(project, "the project has no costs")
                .help(
                    "add a `costs { … }` node; without it the cost report compares hardware and \
                     licence prices only",
                ),
            );
        }
        let num =
            |name: &str, default: f64| n.and_then(|n| number(n.child_arg(name))).unwrap_or(default);
        let a = n.and_then(|n| n.child("adoption"));
        let adopt = |name: &str| number(a.and_then(|a| a.prop(name))).unwrap_or(0.0);
        let pue_v = n.and_then(|n| n.child_arg("pue"));
        let pue = number(pue_v).unwrap_or(1.5);
        self.range(
            pue_v,
            pue >= 1.0,
            "PUE is at least 1",
            "PUE is facility power divided by IT power, e.g. 1.5",
        );
        let cycle_v = n.and_then(|n| n.child_arg("refresh-cycle-years"));
        if let Some(v) = cycle_v
            && number(Some(v)).is_some_and(|c| c < 1.0)
        {
            self.diags.push(
                Diagnostic::error(
                    "virtplan::cost::refresh-cycle",
                    "a refresh cycle shorter than a year replaces servers more than once a year",
                )
                .at(v.span, "too short")
                .help("write the years between hardware refreshes, typically 4 to 7"),
            );
        }
        Costs {
            energy_price: num("energy-price", 0.0),
            pue: pue.max(1.0),
            rack_unit_per_year: num("rack-unit-per-year", 0.0),
            network_port_per_year: num("network-port-per-year", 0.0),
            admin_hour: num("admin-hour", 0.0),
            server_admin_hours_per_year: num("server-admin-hours-per-year", 0.0),
            host_admin_hours_per_year: num("host-admin-hours-per-year", 0.0),
            vm_admin_hours_per_year: num("vm-admin-hours-per-year", 0.0),
            server_support_per_year: num("server-support-per-year", 0.0),
            server_refresh_price: num("server-refresh-price", 0.0),
            refresh_cycle_years: num("refresh-cycle-years", 5.0).max(1.0),
            failure_rate: n
                .and_then(|n| percent(n.child_arg("failure-rate")))
                .unwrap_or_default(),
            repair_hours: num("repair-hours", 0.0),
            restart_hours: num("restart-hours", 0.0),
            downtime_hour: num("downtime-hour", 0.0),
            spare_parts_per_year: num("spare-parts-per-year", 0.0),
            shared_storage: num("shared-storage", 0.0),
            shared_storage_per_year: num("shared-storage-per-year", 0.0),
            shared_storage_watts: power(n.and_then(|n| n.child_arg("shared-storage-power")))
                .map_or(0.0, |w| w.0),
            shared_storage_rack_units: count(
                n.and_then(|n| n.child_arg("shared-storage-rack-units")),
            )
            .map_or(0, |u| u as u32),
            network_gear_per_host: num("network-gear-per-host", 0.0),
            deploy_hours_physical: num("deploy-hours-physical", 0.0),
            deploy_hours_virtual: num("deploy-hours-virtual", 0.0),
            new_servers_per_year: num("new-servers-per-year", 0.0),
            adoption: Adoption {
                recognition_hours: adopt("recognition-hours"),
                planning_hours: adopt("planning-hours"),
                roi_hours: adopt("roi-hours"),
                migration_hours_per_server: adopt("migration-hours-per-server"),
                training: adopt("training"),
                tools: adopt("tools"),
            },
        }
    }

    fn migration(&mut self, n: Option<&Node>) -> Migration {
        let arg = |name: &str| n.and_then(|n| n.child_arg(name));
        let dur = |name: &str, minutes: f64| duration(arg(name)).unwrap_or(Seconds(minutes * 60.0));
        let streams_v = arg("parallel-streams");
        self.positive(streams_v, "parallel-streams");
        let eff_v = arg("efficiency");
        let efficiency = percent(eff_v).unwrap_or(Fraction(0.32));
        self.range(
            eff_v,
            efficiency.0 > 0.0,
            "efficiency cannot be 0%",
            "the default 32% copies 72GB in 30min over 1Gbps",
        );
        let net_v = arg("network");
        let network = bandwidth(net_v).unwrap_or(BitsPerSec(1e9));
        self.range(
            net_v,
            network.0 > 0.0,
            "the migration network cannot be zero",
            "e.g. \"1Gbps\"",
        );
        let wave_v = arg("max-wave-size");
        self.positive(wave_v, "max-wave-size");
        Migration {
            network: if network.0 > 0.0 {
                network
            } else {
                BitsPerSec(1e9)
            },
            efficiency: if efficiency.0 > 0.0 {
                efficiency
            } else {
                Fraction(0.32)
            },
            parallel_streams: count(streams_v).unwrap_or(2).clamp(1, 1024) as u32,
            windows: n
                .map(|n| {
                    n.children
                        .iter()
                        .filter(|c| c.name.value == "window")
                        .filter_map(|w| match w.arg().map(|a| &a.value) {
                            Some(Val::Window(w)) => Some(*w),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            window_spans: n
                .map(|n| {
                    n.children
                        .iter()
                        .filter(|c| c.name.value == "window")
                        .filter(|w| matches!(w.arg().map(|a| &a.value), Some(Val::Window(_))))
                        .map(|w| w.name.span)
                        .collect()
                })
                .unwrap_or_default(),
            method: text(arg("method"))
                .as_deref()
                .map_or(Method::P2vCold, parse_method),
            driver_injection: dur("driver-injection", 15.0),
            first_boot: dur("first-boot", 15.0),
            tests: dur("tests", 30.0),
            cutover: dur("cutover", 15.0),
            pilot: count(arg("pilot")).unwrap_or(0).min(100_000) as u32,
            max_wave_size: count(wave_v)
                .filter(|m| *m > 0)
                .map(|m| m.min(100_000) as u32),
            timings: self.timings(n, &dur),
            start: n.and_then(|n| n.prop("start")).and_then(|v| self.date(v)),
            excluded: self.excluded(n),
            allow_together: n
                .map(|n| {
                    n.children
                        .iter()
                        .filter(|c| c.name.value == "allow-together")
                        .map(|c| {
                            c.args
                                .iter()
                                .filter_map(|v| self.resolve(RefKind::Server, v))
                                .collect()
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// A calendar day, "YYYY-MM-DD", as days since 1970-01-01.
    fn date(&mut self, v: &Spanned<Val>) -> Option<i64> {
        let text = v.value.as_str()?;
        let day = crate::migrate::calendar::parse_date(text);
        if day.is_none() {
            self.diags.push(
                Diagnostic::error(
                    "virtplan::migrate::date",
                    format!("`{text}` is not a calendar day"),
                )
                .at(v.span, "not a day")
                .help("write a day as \"YYYY-MM-DD\", e.g. \"2027-03-06\""),
            );
        }
        day
    }

    fn excluded(&mut self, n: Option<&Node>) -> Vec<(i64, i64, Option<String>)> {
        let Some(n) = n else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in n.children.iter().filter(|c| c.name.value == "exclude") {
            let Some(from) = e.arg().and_then(|v| self.date(v)) else {
                continue;
            };
            let to = match e.prop("to") {
                Some(v) => match self.date(v) {
                    Some(to) if to < from => {
                        self.diags.push(
                            Diagnostic::error(
                                "virtplan::migrate::date",
                                "the excluded days end before they start",
                            )
                            .at(v.span, "before the first day")
                            .help("`to` is the last excluded day, on or after the first"),
                        );
                        continue;
                    }
                    Some(to) => to,
                    None => continue,
                },
                None => from,
            };
            out.push((from, to, str_prop(e, "reason").map(str::to_string)));
        }
        out
    }

    /// Each method's step durations: the method's defaults (the
    /// `migration` values, or the method's own), then its `timing` node.
    /// A `timing` value for a step the method does not have is an error.
    fn timings(&mut self, n: Option<&Node>, dur: &dyn Fn(&str, f64) -> Seconds) -> [Timing; 6] {
        let min = |m: f64| Seconds(m * 60.0);
        let (inject, boot, tests, cutover) = (
            dur("driver-injection", 15.0),
            dur("first-boot", 15.0),
            dur("tests", 30.0),
            dur("cutover", 15.0),
        );
        let mut timings = Method::ALL.map(|m| match m {
            Method::P2vCold | Method::V2v | Method::V2p => Timing {
                prepare: None,
                cutover: None,
                driver_injection: Some(inject),
                first_boot: Some(boot),
                tests,
                rollback: min(30.0),
            },
            Method::P2vLive => Timing {
                prepare: None,
                cutover: Some(cutover),
                driver_injection: Some(inject),
                first_boot: Some(boot),
                tests,
                rollback: min(30.0),
            },
            Method::Rebuild => Timing {
                prepare: Some(min(240.0)),
                cutover: Some(min(30.0)),
                driver_injection: None,
                first_boot: None,
                tests,
                rollback: min(30.0),
            },
            Method::Restore => Timing {
                prepare: Some(min(120.0)),
                cutover: Some(min(30.0)),
                driver_injection: None,
                first_boot: None,
                tests,
                rollback: min(30.0),
            },
        });
        let Some(n) = n else {
            return timings;
        };
        for t in n.children.iter().filter(|c| c.name.value == "timing") {
            let Some(method) = t.arg().and_then(|v| v.value.as_str()).map(parse_method) else {
                continue;
            };
            let timing = &mut timings[method as usize];
            for (name, v) in &t.props {
                let Val::Duration(d) = v.value else {
                    continue;
                };
                let slot = match name.as_str() {
                    "prepare" => &mut timing.prepare,
                    "cutover" => &mut timing.cutover,
                    "driver-injection" => &mut timing.driver_injection,
                    "first-boot" => &mut timing.first_boot,
                    "tests" => {
                        timing.tests = d;
                        continue;
                    }
                    "rollback" => {
                        timing.rollback = d;
                        continue;
                    }
                    _ => continue,
                };
                if slot.is_some() {
                    *slot = Some(d);
                } else {
                    self.diags.push(
                        Diagnostic::error(
                            "virtplan::migrate::no-such-step",
                            format!("method `{}` has no `{name}` step", method.as_str()),
                        )
                        .at(v.span, "not a step of this method")
                        .help(format!(
                            "`{}` has the steps: {}",
                            method.as_str(),
                            timing.step_names().join(", ")
                        )),
                    );
                }
            }
        }
        timings
    }
}

fn parse_method(s: &str) -> Method {
    Method::from_word(s).unwrap_or(Method::P2vCold)
}
