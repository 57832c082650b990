//! Migration: dependencies and placement → waves, timings and steps.
//!
//! In: the [`Model`], the [`Assessment`] and the [`Placement`]. Out: a
//! [`Runbook`] of waves, each fitted to a maintenance window, with every
//! server's method, estimated downtime, target host and steps.
//!
//! Algorithm: the servers that move form a dependency graph (petgraph).
//! Strongly connected components (servers that depend on each other in a
//! circle) become one move group. Groups are levelled over the condensed
//! graph: a group's level is one more than the highest level of the groups
//! it depends on, so dependencies move first. One wave per level, split by
//! `max-wave-size`; an optional pilot wave takes the least critical groups
//! of level 0 first. Dependencies on servers that stay physical are noted.
//!
//! Timing: a copy moves `disk-used` at the link × efficiency, shared by the
//! parallel streams (72 GB take 30 min at 1 Gbps × 32%). A cold P2V is down
//! for copy + driver injection + first boot + tests; a live P2V only for the
//! cut-over + driver injection + first boot + tests. A wave's length is a
//! list schedule of its servers over the streams, longest first.

use std::collections::BTreeMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use schemars::JsonSchema;
use serde::Serialize;

use crate::assess::Assessment;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Id, Method, Model};
use crate::place::Placement;
use crate::round;
use crate::units::{Window, fmt_minutes};

/// One step of a server's migration.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Step {
    pub name: String,
    /// Its duration (0.01 minute).
    #[serde(serialize_with = "round::minutes")]
    pub minutes: f64,
}

/// One server's migration in its wave.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServerMove {
    #[serde(skip)]
    pub id: Id,
    pub server: String,
    pub method: Method,
    pub target_host: String,
    /// Disk to copy, in GB (0.01).
    #[serde(serialize_with = "round::gb")]
    pub disk_gb: f64,
    /// (0.01 minute.)
    #[serde(serialize_with = "round::minutes")]
    pub copy_minutes: f64,
    /// (0.01 minute.)
    #[serde(serialize_with = "round::minutes")]
    pub downtime_minutes: f64,
    /// Start offset from the wave's start, in minutes (0.01).
    #[serde(serialize_with = "round::minutes")]
    pub start_minute: f64,
    pub stream: u32,
    pub move_group: usize,
    pub depends_on: Vec<String>,
    pub steps: Vec<Step>,
    pub rollback: String,
}

/// One migration wave, in one window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Wave {
    pub number: usize,
    pub pilot: bool,
    pub window: Option<String>,
    pub week: usize,
    pub window_minutes: Option<u32>,
    /// (0.01 minute.)
    #[serde(serialize_with = "round::minutes")]
    pub duration_minutes: f64,
    pub fits_window: bool,
    pub servers: Vec<ServerMove>,
}

/// Servers that depend on each other in a circle, so move together.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MoveGroup {
    pub id: usize,
    pub servers: Vec<String>,
}

/// A moving server's dependency on a server that stays physical.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct PhysicalDependency {
    pub server: String,
    pub depends_on: String,
}

/// The migration runbook: waves of server moves.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Runbook {
    pub waves: Vec<Wave>,
    /// Groups of servers that depend on each other in a circle.
    pub cycles: Vec<MoveGroup>,
    /// Dependencies on servers that stay physical.
    pub physical_dependencies: Vec<PhysicalDependency>,
    /// (0.01 Mbit/s.)
    #[serde(serialize_with = "round::rate")]
    pub copy_rate_mbit_s: f64,
    pub parallel_streams: u32,
}

/// A move group (servers that depend on each other in a circle) moves in
/// one wave, so one larger than `max-wave-size` breaks that limit: an error
/// that names every member, since one of their `depends-on` is usually wrong.
fn report_oversized_groups(model: &Model, sccs: &[Vec<Id>], diags: &mut Diagnostics) {
    let Some(max) = model.migration.max_wave_size else {
        return;
    };
    for ids in sccs.iter().filter(|ids| ids.len() > max as usize) {
        let names: Vec<&str> = ids
            .iter()
            .take(5)
            .map(|id| model.servers[*id].name.as_str())
            .collect();
        let more = ids.len().saturating_sub(names.len());
        let mut d = Diagnostic::error(
            "virtplan::migrate::cycle-too-large",
            format!(
                "{} servers depend on each other in a circle ({}{}), so they must move in one wave, \
                 larger than max-wave-size {max}",
                ids.len(),
                names.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
            ),
        )
        .at(model.servers[ids[0]].span, "the first server of the circle")
        .help(format!(
            "check these servers' `depends-on`: a circle usually means one dependency points the \
             wrong way; or raise `max-wave-size` to {}",
            ids.len()
        ));
        for id in ids.iter().skip(1).take(4) {
            d = d.related(model.servers[*id].span, "also in the circle");
        }
        diags.push(d);
    }
}

pub fn migrate(
    model: &Model,
    assessment: &Assessment,
    placement: &Placement,
    diags: &mut Diagnostics,
) -> Runbook {
    let mig = &model.migration;
    let moving: Vec<Id> = (0..model.servers.len())
        .filter(|i| {
            placement.assignments.contains_key(&model.servers[*i].name)
                && assessment.servers[*i].verdict.moves()
        })
        .collect();
    let mut graph: DiGraph<Id, ()> = DiGraph::new();
    let index: BTreeMap<Id, NodeIndex> =
        moving.iter().map(|id| (*id, graph.add_node(*id))).collect();
    let mut physical_dependencies = Vec::new();
    for id in &moving {
        for dep in &model.servers[*id].depends_on {
            match index.get(dep) {
                Some(d) => {
                    graph.add_edge(index[id], *d, ());
                }
                None => physical_dependencies.push(PhysicalDependency {
                    server: model.servers[*id].name.clone(),
                    depends_on: model.servers[*dep].name.clone(),
                }),
            }
        }
    }
    // Move groups: strongly connected components, named by their members.
    let mut sccs: Vec<Vec<Id>> = tarjan_scc(&graph)
        .into_iter()
        .map(|c| {
            let mut ids: Vec<Id> = c.iter().map(|n| graph[*n]).collect();
            ids.sort_by(|a, b| model.servers[*a].name.cmp(&model.servers[*b].name));
            ids
        })
        .collect();
    sccs.sort_by(|a, b| model.servers[a[0]].name.cmp(&model.servers[b[0]].name));
    report_oversized_groups(model, &sccs, diags);
    let mut group_of: BTreeMap<Id, usize> = BTreeMap::new();
    for (g, ids) in sccs.iter().enumerate() {
        for id in ids {
            group_of.insert(*id, g);
        }
    }
    // Level each group: 1 + the highest level of what it depends on.
    let mut level: Vec<Option<usize>> = vec![None; sccs.len()];
    fn level_of(
        g: usize,
        sccs: &[Vec<Id>],
        model: &Model,
        group_of: &BTreeMap<Id, usize>,
        level: &mut Vec<Option<usize>>,
        depth: usize,
    ) -> usize {
        if let Some(l) = level[g] {
            return l;
        }
        // The condensation is acyclic, so depth is bounded by the group count.
        let mut l = 0;
        if depth <= sccs.len() {
            for id in &sccs[g] {
                for dep in &model.servers[*id].depends_on {
                    if let Some(&dg) = group_of.get(dep)
                        && dg != g
                    {
                        l = l.max(1 + level_of(dg, sccs, model, group_of, level, depth + 1));
                    }
                }
            }
        }
        level[g] = Some(l);
        l
    }
    for g in 0..sccs.len() {
        level_of(g, &sccs, model, &group_of, &mut level, 0);
    }
    let max_level = level.iter().flatten().copied().max().unwrap_or(0);
    let mut wave_groups: Vec<(bool, Vec<usize>)> = Vec::new();
    let mut taken = vec![false; sccs.len()];
    if mig.pilot > 0 {
        let mut level0: Vec<usize> = (0..sccs.len()).filter(|g| level[*g] == Some(0)).collect();
        let crit = |g: &usize| sccs[*g].iter().map(|i| model.servers[*i].criticality).max();
        level0.sort_by(|a, b| crit(a).cmp(&crit(b)).then(a.cmp(b)));
        let mut pilot = Vec::new();
        let mut count = 0;
        for g in level0 {
            if count >= mig.pilot as usize {
                break;
            }
            count += sccs[g].len();
            taken[g] = true;
            pilot.push(g);
        }
        if !pilot.is_empty() {
            wave_groups.push((true, pilot));
        }
    }
    for l in 0..=max_level {
        let groups: Vec<usize> = (0..sccs.len())
            .filter(|g| level[*g] == Some(l) && !taken[*g])
            .collect();
        if groups.is_empty() {
            continue;
        }
        match mig.max_wave_size {
            Some(max) => {
                let mut cur = Vec::new();
                let mut size = 0;
                for g in groups {
                    if size > 0 && size + sccs[g].len() > max as usize {
                        wave_groups.push((false, std::mem::take(&mut cur)));
                        size = 0;
                    }
                    size += sccs[g].len();
                    cur.push(g);
                }
                if !cur.is_empty() {
                    wave_groups.push((false, cur));
                }
            }
            None => wave_groups.push((false, groups)),
        }
    }

    let rate_mbit = mig.network.0 * mig.efficiency.0 / 1e6;
    let streams = mig.parallel_streams.max(1);
    let per_stream_mbit = rate_mbit / f64::from(streams);
    // Waves are cut further so that each fits a window its servers accept,
    // keeping move groups whole: groups go in, longest first, while some
    // migration window is accepted by every server so far and is long
    // enough for the schedule; a group that fits no window alone gets a
    // wave of its own (and a warning below).
    let count = mig.windows.len();
    let accepted = |moves: &[ServerMove]| -> Vec<bool> {
        mig.windows
            .iter()
            .map(|w| moves.iter().all(|m| room(model, m, w).is_some()))
            .collect()
    };
    let mut cut: Vec<(bool, Vec<ServerMove>)> = Vec::new();
    for (pilot, groups) in &wave_groups {
        let mut groups: Vec<Vec<ServerMove>> = groups
            .iter()
            .map(|g| {
                sccs[*g]
                    .iter()
                    .map(|id| server_move(model, placement, *id, *g, per_stream_mbit))
                    .collect()
            })
            .collect();
        let total = |g: &Vec<ServerMove>| g.iter().map(|m| m.downtime_minutes).sum::<f64>();
        groups.sort_by(|a, b| {
            total(b)
                .total_cmp(&total(a))
                .then(a[0].server.cmp(&b[0].server))
        });
        // Open waves of this level; each group goes into the first that takes it.
        let mut open: Vec<Vec<ServerMove>> = Vec::new();
        for group in groups {
            let takes = |wave: &Vec<ServerMove>| {
                let mut trial = wave.clone();
                trial.extend(group.iter().cloned());
                if count == 0 {
                    return Some(trial);
                }
                let ok = accepted(&trial);
                let duration = schedule(&mut trial, streams);
                let fits =
                    (0..count).any(|i| ok[i] && duration <= f64::from(mig.windows[i].minutes()));
                fits.then_some(trial)
            };
            match open
                .iter()
                .enumerate()
                .find_map(|(i, w)| takes(w).map(|t| (i, t)))
            {
                Some((i, trial)) => open[i] = trial,
                None => open.push(group),
            }
        }
        cut.extend(open.into_iter().map(|w| (*pilot, w)));
    }
    let mut waves = Vec::new();
    let mut next_slot = 0usize;
    for (n, (pilot, mut moves)) in cut.into_iter().enumerate() {
        let mut duration = schedule(&mut moves, streams);
        // The wave takes the next migration window, searching one week of
        // windows ahead, that every one of its servers accepts (one of its
        // own `window`s overlaps it for at least its downtime) and that is
        // long enough; else the next one its servers accept; else simply the
        // next, with warnings.
        let count = mig.windows.len();
        let accepts = |w: &Window, m: &ServerMove| room(model, m, w).is_some();
        let (window, week, window_minutes, window_span) = if count == 0 {
            (None, n + 1, None, None)
        } else {
            let suits = |t: &usize| moves.iter().all(|m| accepts(&mig.windows[t % count], m));
            let long_enough = |t: &usize| duration <= f64::from(mig.windows[t % count].minutes());
            let t = (next_slot..next_slot + count)
                .find(|t| suits(t) && long_enough(t))
                .or_else(|| (next_slot..next_slot + count).find(suits))
                .unwrap_or(next_slot);
            next_slot = t + 1;
            let w = mig.windows[t % count];
            // Within the window, each server starts no earlier than its own
            // window opens.
            let release = |m: &ServerMove| room(model, m, &w).map_or(0.0, |(start, _)| start);
            duration = schedule_from(&mut moves, streams, release);
            // Only servers with windows of their own can be late for them;
            // a wave longer than its window is reported below.
            let late = |m: &ServerMove| {
                !model.servers[m.id].windows.is_empty()
                    && room(model, m, &w)
                        .is_none_or(|(_, end)| m.start_minute + m.downtime_minutes > end + 1e-9)
            };
            for m in moves.iter().filter(|m| late(m)) {
                diags.push(
                    Diagnostic::warning(
                        "virtplan::migrate::window",
                        format!(
                            "server `{}` would be down outside its own windows in wave {} ({w})",
                            m.server,
                            n + 1
                        ),
                    )
                    .at(model.servers[m.id].span, "may not be down then")
                    .help("widen the server's `window`, or add a migration window inside it"),
                );
            }
            (
                Some(w.to_string()),
                t / count + 1,
                Some(w.minutes()),
                mig.window_spans.get(t % count).copied(),
            )
        };
        let fits = window_minutes.is_none_or(|m| duration <= f64::from(m));
        if !fits {
            let mut d = Diagnostic::warning(
                "virtplan::migrate::window",
                format!(
                    "wave {} takes {}, longer than its window {}",
                    n + 1,
                    fmt_minutes(duration),
                    window.clone().unwrap_or_default()
                ),
            )
            .help(
                "add parallel streams, set max-wave-size, use live conversion, or a longer window",
            );
            if let Some(span) = window_span {
                d = d.at(span, format!("wave {} does not fit", n + 1));
            }
            diags.push(d);
        }
        waves.push(Wave {
            number: n + 1,
            pilot,
            window,
            week,
            window_minutes,
            duration_minutes: duration,
            fits_window: fits,
            servers: moves,
        });
    }
    let cycles = sccs
        .iter()
        .enumerate()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(g, ids)| MoveGroup {
            id: g,
            servers: ids.iter().map(|i| model.servers[*i].name.clone()).collect(),
        })
        .collect();
    physical_dependencies.sort();
    Runbook {
        waves,
        cycles,
        physical_dependencies,
        copy_rate_mbit_s: rate_mbit,
        parallel_streams: streams,
    }
}

/// One server's move: method, timings, target and steps.
fn server_move(
    model: &Model,
    placement: &Placement,
    id: Id,
    group: usize,
    per_stream_mbit: f64,
) -> ServerMove {
    let mig = &model.migration;
    let s = &model.servers[id];
    let method = s.method.unwrap_or(mig.method);
    let disk_gb = s.disk_used.gb();
    let copy_minutes = disk_gb * 8000.0 / per_stream_mbit / 60.0;
    let fixed = (mig.driver_injection.0 + mig.first_boot.0 + mig.tests.0) / 60.0;
    let (copy_down, conversion) = match method {
        Method::P2vLive => (
            mig.cutover.0 / 60.0,
            "live conversion (copy while running), then final sync at cut-over",
        ),
        Method::V2v => (
            copy_minutes,
            "export from the source hypervisor and import (V2V)",
        ),
        Method::V2p => (copy_minutes, "restore onto physical hardware (V2P)"),
        Method::P2vCold => (
            copy_minutes,
            "cold conversion: shut down, boot the converter, copy the disks",
        ),
    };
    let target = placement
        .assignments
        .get(&s.name)
        .cloned()
        .unwrap_or_default();
    let step = |name: &str, minutes: f64| Step {
        name: name.to_string(),
        minutes,
    };
    let steps = vec![
        step(
            "pre-checks: verified backup, vendor support, drivers for the target platform",
            0.0,
        ),
        step(conversion, copy_down),
        step("driver injection", mig.driver_injection.0 / 60.0),
        step("first boot and guest tools", mig.first_boot.0 / 60.0),
        step("re-addressing: NICs, IP addresses, DNS records", 0.0),
        step("service tests", mig.tests.0 / 60.0),
        step(&format!("hand-over: VM runs on {target}"), 0.0),
        step(
            "decommission the physical server after the acceptance period",
            0.0,
        ),
    ];
    let mut depends_on: Vec<String> = s
        .depends_on
        .iter()
        .map(|d| model.servers[*d].name.clone())
        .collect();
    depends_on.sort();
    ServerMove {
        id,
        server: s.name.clone(),
        method,
        target_host: target,
        disk_gb,
        copy_minutes,
        downtime_minutes: copy_down + fixed,
        start_minute: 0.0,
        stream: 0,
        move_group: group,
        depends_on,
        steps,
        rollback: "power the physical server back on (its disks are untouched by a P2V copy); for a later rollback, V2P restore".to_string(),
    }
}

/// List-schedules moves over the streams, longest first (ties by name),
/// sets each move's start and stream, sorts them by start, and returns the
/// wave's length in minutes.
fn schedule(moves: &mut [ServerMove], streams: u32) -> f64 {
    schedule_from(moves, streams, |_| 0.0)
}

/// List-schedules moves over the streams: earliest release first, then
/// longest first (ties by name), each on the stream free soonest but not
/// before its release; sets starts and streams, sorts the moves by start,
/// and returns when the last one ends, in minutes from the wave's start.
fn schedule_from(
    moves: &mut [ServerMove],
    streams: u32,
    release: impl Fn(&ServerMove) -> f64,
) -> f64 {
    let mut keyed: Vec<(f64, usize)> = moves.iter().map(&release).zip(0..).collect();
    keyed.sort_by(|(ra, a), (rb, b)| {
        ra.total_cmp(rb)
            .then(
                moves[*b]
                    .downtime_minutes
                    .total_cmp(&moves[*a].downtime_minutes),
            )
            .then(moves[*a].server.cmp(&moves[*b].server))
    });
    let mut lanes = vec![0.0f64; streams.max(1) as usize];
    let mut end = 0.0f64;
    for (rel, i) in keyed {
        let (lane, start) = lanes
            .iter()
            .enumerate()
            .map(|(k, free)| (k, free.max(rel)))
            .fold(
                (0, f64::INFINITY),
                |(bk, bs), (k, s)| if s < bs { (k, s) } else { (bk, bs) },
            );
        moves[i].start_minute = start;
        moves[i].stream = lane as u32 + 1;
        lanes[lane] = start + moves[i].downtime_minutes;
        end = end.max(lanes[lane]);
    }
    moves.sort_by(|a, b| {
        a.start_minute
            .total_cmp(&b.start_minute)
            .then(a.stream.cmp(&b.stream))
    });
    end
}

/// Where a server may be down within a migration window: (from, to) in
/// minutes from the window's start. The whole window when the server states
/// no `window` of its own; else the longest overlap with one of them, if it
/// is long enough for the server's downtime.
fn room(model: &Model, m: &ServerMove, w: &Window) -> Option<(f64, f64)> {
    let own = &model.servers[m.id].windows;
    if own.is_empty() {
        return Some((0.0, f64::from(w.minutes())));
    }
    own.iter()
        .filter_map(|o| w.overlap(o))
        .filter(|(_, len)| f64::from(*len) + 1e-9 >= m.downtime_minutes)
        .max_by_key(|(start, len)| (*len, std::cmp::Reverse(*start)))
        .map(|(start, len)| (f64::from(start), f64::from(start + len)))
}

#[cfg(test)]
mod tests {
    use crate::source::MemorySource;

    /// A server whose own window opens two hours into the migration window
    /// starts then; one without a window of its own starts at once.
    #[test]
    fn servers_start_inside_their_own_windows() {
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
    disk-used "36GB"
}
server "dc01" {
    window "sun 00:00-sun 04:00"
}
server "app01"
migration {
    network "1Gbps"
    parallel-streams 2
    window "sat 22:00-sun 06:00"
}
"#;
        let compiled = crate::compile(&MemorySource::new().with("p.kdl", kdl));
        let plan = compiled.plan.expect("a plan");
        let wave = &plan.runbook.waves[0];
        let start = |name: &str| {
            wave.servers
                .iter()
                .find(|m| m.server == name)
                .map(|m| m.start_minute)
        };
        // sun 00:00 is 120 minutes after sat 22:00.
        assert_eq!(start("dc01"), Some(120.0));
        assert_eq!(start("app01"), Some(0.0));
        // 36 GB over one of two streams of 1 Gbps × 32%: 36 × 8000 / 160 / 60
        // = 30 min of copy, plus 15 + 15 + 30 min of fixed steps.
        let dc = wave
            .servers
            .iter()
            .find(|m| m.server == "dc01")
            .expect("dc01");
        assert!(
            (dc.downtime_minutes - 90.0).abs() < 1e-9,
            "{}",
            dc.downtime_minutes
        );
        assert!(
            (wave.duration_minutes - 210.0).abs() < 1e-9,
            "{}",
            wave.duration_minutes
        );
        assert!(
            !compiled
                .diags
                .items
                .iter()
                .any(|d| d.code == "virtplan::migrate::window")
        );
    }
}
