//! virtplan: a declarative plan compiler for server virtualization projects.
//!
//! The pipeline (see ARCHITECTURE.md): [`load`] (files, includes) →
//! [`syntax`] (KDL → checked tree) → [`lower`] (→ [`model::Model`]) →
//! [`measure`] → [`assess`] → [`place`] → [`migrate`] → [`cost`] (with the
//! what-ifs of [`advise`] and [`sensitivity`]), gathered
//! in a [`plan::Plan`] that [`emit`] renders as Markdown, JSON and Ansible.
//! The library does no I/O of its own: files come through a
//! [`source::FileSource`], and outputs go back as strings to the CLI.

#![deny(
    clippy::unwrap_used,
    clippy::todo,
    clippy::unimplemented,
    clippy::dbg_macro
)]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod advise;
pub mod assess;
pub mod cost;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod fmt;
pub mod import;
pub mod init;
pub mod inventory;
pub mod kdl_schema;
pub mod license;
pub mod load;
pub mod lower;
pub mod measure;
pub mod migrate;
pub mod model;
pub mod place;
pub mod plan;
pub mod prometheus;
pub mod round;
pub mod schema;
pub mod sensitivity;
pub mod source;
pub mod svg;
pub mod syntax;
pub mod units;
pub mod zone;

use diag::Diagnostics;
use model::Model;
use plan::{Plan, ProjectInfo};
use source::{FileSource, SourceMap};

/// The result of compiling a project: whatever could be computed, and every
/// diagnostic found on the way.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub sources: SourceMap,
    pub diags: Diagnostics,
    pub model: Option<Model>,
    pub plan: Option<Plan>,
}

/// Loads, checks and plans a project. Diagnostics are sorted. A plan is
/// computed whenever a model could be built, even with errors elsewhere, so
/// later stages still report their own problems in the same run.
pub fn compile(fs: &dyn FileSource) -> Compiled {
    compile_with(fs, &place::Options::default())
}

/// [`compile`] with placement options (a previous plan, a search budget).
pub fn compile_with(fs: &dyn FileSource, options: &place::Options) -> Compiled {
    let loaded = load::load(fs);
    let mut sources = loaded.sources;
    let mut diags = loaded.diags;
    let model = lower::lower(&loaded.nodes, &sources, &mut diags);
    let plan = model
        .as_ref()
        .map(|m| build_plan(m, fs, options, &mut sources, &mut diags));
    diags.sort(&sources);
    let plan = plan.map(|mut p| {
        p.diagnostics = plan::PlanDiagnostic::of(&diags.items, &sources);
        p
    });
    Compiled {
        sources,
        diags,
        model,
        plan,
    }
}

/// Loads and checks a project without planning: the input language, the
/// references, the measurements and the assessment. Placement problems (a
/// VM that fits no host, `max-hosts`) and migration windows need `compile`,
/// which is what `virtplan check` runs.
pub fn check(fs: &dyn FileSource) -> Compiled {
    let loaded = load::load(fs);
    let mut sources = loaded.sources;
    let mut diags = loaded.diags;
    let model = lower::lower(&loaded.nodes, &sources, &mut diags);
    if let Some(m) = &model {
        let measurements = measure::measure(m, fs, &mut sources, &mut diags);
        assess::assess(m, &measurements, &mut diags);
    }
    diags.sort(&sources);
    Compiled {
        sources,
        diags,
        model,
        plan: None,
    }
}

fn build_plan(
    model: &Model,
    fs: &dyn FileSource,
    options: &place::Options,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Plan {
    let measurements = measure::measure(model, fs, sources, diags);
    let assessment = assess::assess(model, &measurements, diags);
    let mut capacity = place::place(model, &assessment, options, diags);
    let runbook = migrate::migrate(model, &assessment, &capacity, diags);
    // The what-ifs keep the plan's migration schedule: each changes hosts
    // or prices, not when servers move.
    let schedule = cost::Schedule::of(&runbook);
    let mut costs = cost::cost(model, &assessment, &capacity, &schedule);
    if !options.skip_what_ifs {
        let what_if = advise::WhatIf {
            measurements: &measurements,
            options,
            schedule: &schedule,
        };
        costs.advice = advise::advise(model, &what_if, &costs);
        capacity.once_fixed = advise::once_fixed(model, &what_if, &capacity, &costs);
        costs.sensitivity = Some(sensitivity::sensitivity(
            model,
            &what_if,
            &assessment,
            &capacity,
            &costs,
        ));
    }
    warn_missing_hypervisors(model, &capacity, &runbook, diags);
    let p = &model.project;
    Plan {
        format: plan::FORMAT,
        project: ProjectInfo {
            name: p.name.clone(),
            currency: p.currency.clone(),
            timezone: p.zone.name(),
            horizon_years: p.horizon_years,
            sizing_horizon_years: p.sizing_years,
            discount_rate_pct: p.discount_rate.0 * 100.0,
            profile_slots: p.profile.slots(),
            profile_percentile: p.profile.percentile,
            slot_minutes: p.profile.slot.0 / 60.0,
            period_minutes: p.profile.period.0 / 60.0,
            hypervisors: model
                .platforms
                .iter()
                .map(|pl| (pl.name.clone(), pl.hypervisor))
                .collect(),
        },
        assessment,
        capacity,
        costs,
        runbook,
        diagnostics: Vec::new(),
    }
}

/// A platform that servers of the runbook move onto but that states no
/// `hypervisor`: the generated playbooks cannot convert onto it or read its
/// VMs' facts, so their preflight stops; said here, at plan time.
fn warn_missing_hypervisors(
    model: &Model,
    capacity: &place::Placement,
    runbook: &migrate::Runbook,
    diags: &mut Diagnostics,
) {
    let mut moving: std::collections::BTreeMap<usize, usize> = Default::default();
    for m in runbook.waves.iter().flat_map(|w| &w.servers) {
        let platform = capacity
            .clusters
            .iter()
            .find(|c| c.hosts.iter().any(|h| h.name == m.target_host))
            .and_then(|c| model.clusters.iter().find(|mc| mc.name == c.name))
            .map(|c| c.platform);
        if let Some(p) = platform.filter(|p| model.platforms[*p].hypervisor.is_none()) {
            *moving.entry(p).or_default() += 1;
        }
    }
    for (p, count) in moving {
        let platform = &model.platforms[p];
        diags.push(
            diag::Diagnostic::warning(
                "virtplan::migrate::no-hypervisor",
                format!(
                    "platform `{}` states no `hypervisor`, so the Ansible playbooks cannot convert \
                     its {count} moving server(s) or check their VMs, and stop before converting",
                    platform.name
                ),
            )
            .at(platform.span, "which hypervisor?")
            .help("add `hypervisor \"vcenter\"`, \"esxi\", \"proxmox\" or \"kvm\" to the platform"),
        );
    }
}
