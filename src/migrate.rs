//! Migration: dependencies, redundancy and placement → dated waves, clock
//! times and steps.
//!
//! In: the [`Model`], the [`Assessment`] and the [`Placement`]. Out: a
//! [`Runbook`] of waves, each on a dated maintenance window, with every
//! server's method, steps with clock times, service tests, owner and
//! rollback.
//!
//! Waves: the servers that move form a dependency graph (petgraph).
//! Strongly connected components (servers that depend on each other in a
//! circle) become one move group, named after its first server. Groups go,
//! dependencies first (by level, then longest first, then name), into the
//! earliest wave after the waves of what they depend on that takes them:
//! no more than `max-wave-size` servers, no redundant member of a server
//! already there (anti-affinity groups and redundant roles, unless
//! `allow-together`), and a schedule that fits a window all its servers
//! accept with room to roll back. An optional pilot wave takes the least
//! critical groups without dependencies first. The plan with the fewest
//! waves over every size up to `max-wave-size` is kept (see
//! [`MONOTONE_SIZES`]; sizes past the first that never refused a group give
//! the same waves), so a larger size never gives more waves.
//!
//! Transfer: copies share the effective rate `network` × `efficiency`:
//! one copy alone gets all of it, `k` copies at once a `k`-th each (72 GB
//! alone take 30 min at 1 Gbps × 32%). At most `parallel-streams`
//! conversions run at once. Live methods (`p2v-live`, `restore`) copy
//! before the window: their copies run back to back at the full rate and
//! end when the window opens, each with a "start the copy by" time; a wave
//! waits for a window far enough from the previous wave for them.
//!
//! Calendar: `migration start=` and the weekly windows give each wave a
//! date; windows touching an excluded day are skipped.

pub mod calendar;

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use schemars::JsonSchema;
use serde::Serialize;

use crate::assess::Assessment;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Criticality, Id, Method, Model, RuleKind, Scope, Status, Timing};
use crate::place::Placement;
use crate::round;
use crate::units::{Window, fmt_minutes, num};
use calendar::{DAY, WEEK, fmt_iso, fmt_moment};

/// Sizes up to which [`migrate`] tries every smaller `max-wave-size` and
/// keeps the plan with the fewest waves. Above it only the given size is
/// planned (the search would cost a plan per size).
pub const MONOTONE_SIZES: u32 = 64;

/// When a step happens relative to the server's downtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Before the window (pre-copy, building the new server).
    Before,
    /// While the service is down.
    Down,
    /// After the hand-over.
    After,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Step {
    pub name: String,
    #[serde(serialize_with = "round::minutes")]
    pub minutes: f64,
    /// A short label without punctuation, for the gantt chart.
    pub short: &'static str,
    pub phase: Phase,
    /// Start, in minutes from the wave's start (negative before it).
    #[serde(serialize_with = "round::minutes")]
    pub start_minute: f64,
    /// Start as a clock time ("Sat 2027-03-06 22:00").
    pub at: String,
    /// Start as Mermaid's gantt reads it ("2027-03-06 22:00").
    pub at_iso: String,
    /// Whether the step uses the migration link.
    pub link: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServerMove {
    #[serde(skip)]
    pub id: Id,
    pub server: String,
    pub method: Method,
    pub target_host: String,
    #[serde(serialize_with = "round::gb")]
    pub disk_gb: f64,
    /// Minutes of copy on the link: inside the window for copy methods (as
    /// scheduled, sharing the link), before it for live methods (alone at
    /// the full rate); 0 for `rebuild`.
    #[serde(serialize_with = "round::minutes")]
    pub copy_minutes: f64,
    #[serde(serialize_with = "round::minutes")]
    pub downtime_minutes: f64,
    /// Start offset from the wave's start, in minutes.
    #[serde(serialize_with = "round::minutes")]
    pub start_minute: f64,
    pub stream: u32,
    /// Index of the move group in name order (see `group` for its name).
    pub move_group: usize,
    /// The move group's name: its first server.
    pub group: String,
    pub depends_on: Vec<String>,
    pub steps: Vec<Step>,
    pub rollback: String,
    #[serde(serialize_with = "round::minutes")]
    pub rollback_minutes: f64,
    pub owner: Option<String>,
    pub criticality: Criticality,
    pub roles: Vec<String>,
    /// Service tests after the move, from the roles.
    pub tests: Vec<String>,
    /// Clock times of the downtime.
    pub start: String,
    pub end: String,
    /// The latest clock time to decide to roll this server back.
    pub rollback_by: String,
    /// Minutes of copy before the window (live methods), and when it must
    /// start at the latest.
    #[serde(serialize_with = "round::minutes")]
    pub precopy_minutes: f64,
    pub precopy_start_by: Option<String>,
    /// The redundancy groups the server belongs to.
    pub redundancy: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Wave {
    pub number: usize,
    pub pilot: bool,
    pub window: Option<String>,
    pub week: usize,
    pub window_minutes: Option<u32>,
    #[serde(serialize_with = "round::minutes")]
    pub duration_minutes: f64,
    pub fits_window: bool,
    pub servers: Vec<ServerMove>,
    /// The day the window opens ("2027-03-06"); `None` without a start date.
    pub date: Option<String>,
    /// When the window opens and closes, as clock times.
    pub opens: Option<String>,
    pub closes: Option<String>,
    pub opens_iso: Option<String>,
    /// The go/no-go time: the last moment from which the longest rollback
    /// of the wave still ends before the window closes.
    pub go_no_go: Option<String>,
    #[serde(serialize_with = "round::minutes_opt")]
    pub go_no_go_minute: Option<f64>,
    /// When the window opens, and the go/no-go time, in UTC
    /// ("2027-03-06T21:00:00Z"), for a dated migration only: the playbooks
    /// refuse to start a conversion outside them.
    pub opens_utc: Option<String>,
    pub go_no_go_utc: Option<String>,
    pub rollback_triggers: Vec<String>,
    /// Minutes of link the wave's pre-copies take before its window.
    #[serde(serialize_with = "round::minutes")]
    pub precopy_minutes: f64,
    /// Why the wave does not fit, with numbers; empty when it fits.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MoveGroup {
    pub id: usize,
    /// The group's name: its first server.
    pub name: String,
    pub servers: Vec<String>,
}

/// Servers never down at the same time.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RedundancyGroup {
    pub name: String,
    /// Where it comes from: "anti-affinity" or "role".
    pub source: &'static str,
    pub servers: Vec<String>,
}

/// A server that does not move, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotMoving {
    pub server: String,
    pub scope: Scope,
    pub reason: String,
}

/// One day's use of the migration link.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LinkDay {
    pub date: String,
    #[serde(serialize_with = "round::minutes")]
    pub busy_minutes: f64,
    pub precopy: Vec<String>,
    pub in_window: Vec<String>,
}

/// A window left out because it touches an excluded day.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Skipped {
    pub window: String,
    pub reason: String,
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
    #[serde(serialize_with = "round::rate")]
    pub copy_rate_mbit_s: f64,
    pub parallel_streams: u32,
    pub start_date: Option<String>,
    pub timezone: String,
    pub redundancy: Vec<RedundancyGroup>,
    pub not_moving: Vec<NotMoving>,
    pub link_plan: Vec<LinkDay>,
    pub skipped_windows: Vec<Skipped>,
    /// Every migration diagnostic's message and help, for `runbook.md`.
    pub warnings: Vec<String>,
}

/// Roles whose servers are redundant members of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RedundantRole {
    DomainControllers,
    ExchangeDag,
    ClusterNodes,
    FarmMembers,
}

impl RedundantRole {
    const ALL: [RedundantRole; 4] = [
        RedundantRole::DomainControllers,
        RedundantRole::ExchangeDag,
        RedundantRole::ClusterNodes,
        RedundantRole::FarmMembers,
    ];
    /// The `roles` word that makes a server a member.
    fn word(self) -> &'static str {
        match self {
            RedundantRole::DomainControllers => "active-directory",
            RedundantRole::ExchangeDag => "exchange-mailbox",
            RedundantRole::ClusterNodes => "failover-cluster",
            RedundantRole::FarmMembers => "web-farm",
        }
    }
    fn label(self) -> &'static str {
        match self {
            RedundantRole::DomainControllers => "domain controllers",
            RedundantRole::ExchangeDag => "Exchange DAG members",
            RedundantRole::ClusterNodes => "failover cluster nodes",
            RedundantRole::FarmMembers => "web farm members",
        }
    }
}

/// The role that makes a server a directory server: `rebuild` by default.
const DIRECTORY_ROLE: &str = "active-directory";

/// Service tests by role word; a role not listed gets the owner's check.
const ROLE_TESTS: &[(&str, &str)] = &[
    (
        "active-directory",
        "directory: dcdiag passes and repadmin /replsummary shows no errors",
    ),
    (
        "global-catalog",
        "global catalog: a universal group lookup answers (port 3268)",
    ),
    (
        "pdc-emulator",
        "PDC emulator: w32tm /monitor shows the time source in sync",
    ),
    ("dns", "DNS: the server resolves a known name (nslookup)"),
    ("bind", "DNS: the server resolves a known name (dig)"),
    ("external-dns", "DNS: the public zone answers from outside"),
    ("dhcp", "DHCP: a test client gets a lease"),
    ("sql-server", "SQL Server: a login and SELECT 1 succeed"),
    (
        "postgresql",
        "PostgreSQL: psql connects and SELECT 1 succeeds",
    ),
    ("oracle-database", "Oracle: tnsping and a login succeed"),
    (
        "exchange-mailbox",
        "Exchange: a test mailbox opens and the DAG copy is healthy",
    ),
    (
        "exchange-transport",
        "SMTP: port 25 answers with the server's banner",
    ),
    ("postfix", "SMTP: port 25 answers with the server's banner"),
    ("smtp-relay", "SMTP: a test message is relayed"),
    ("iis", "HTTP: the site answers 200"),
    ("nginx", "HTTP: the site answers 200"),
    ("tomcat", "HTTP: the application answers 200"),
    (
        "file-server",
        "files: a share opens and a test file is written",
    ),
    ("samba", "files: a share opens and a test file is written"),
    ("nfs", "files: an export mounts on a client"),
    ("print-server", "print: a test page prints"),
    ("remote-desktop-session-host", "RDP: a test user logs on"),
    (
        "certificate-authority",
        "PKI: the CRL is published and a test certificate is issued",
    ),
    ("veeam-backup", "backup: a test job runs"),
    (
        "zabbix-server",
        "monitoring: the dashboard shows fresh data",
    ),
    ("wsus", "updates: a client reports to the server"),
];

fn role_tests(roles: &[String]) -> Vec<String> {
    let mut tests: Vec<String> = Vec::new();
    for role in roles {
        let test = ROLE_TESTS.iter().find(|(r, _)| r == role).map_or_else(
            || format!("{role}: the owner's check"),
            |(_, t)| (*t).to_string(),
        );
        if !tests.contains(&test) {
            tests.push(test);
        }
    }
    if tests.is_empty() {
        tests.push("the server answers on its address and the owner confirms".to_string());
    }
    tests
}

/// One server's move before scheduling.
#[derive(Debug, Clone)]
struct Job {
    /// GB copied inside the window over the link.
    link_gb: f64,
    /// Fixed minutes of downtime after the copy.
    fixed: f64,
    /// GB copied before the window.
    precopy_gb: f64,
    rollback: f64,
    /// Downtime if the copy ran alone, for ordering.
    estimate: f64,
}

/// A job's place in a wave's schedule.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    start: f64,
    copy_end: f64,
    end: f64,
    lane: u32,
}

/// Everything the planner needs, computed once.
struct Ctx<'a> {
    model: &'a Model,
    /// GB per minute over the link.
    rate: f64,
    streams: usize,
    jobs: BTreeMap<Id, Job>,
    /// Pairs of servers that may not be down together.
    conflicts: BTreeSet<(Id, Id)>,
}

impl Ctx<'_> {
    fn conflict(&self, a: Id, b: Id) -> bool {
        self.conflicts.contains(&(a.min(b), a.max(b)))
    }

    /// Schedules a wave's servers: at most `streams` at once; copies
    /// share the link equally; a server starts no earlier than its release
    /// and never while a redundant member is down. Earliest release first,
    /// then longest first, then name. Returns the slots, in `ids` order.
    fn schedule(&self, ids: &[Id], release: &dyn Fn(Id) -> f64) -> Vec<Slot> {
        let name = |i: Id| &self.model.servers[i].name;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by(|&a, &b| {
            release(ids[a])
                .total_cmp(&release(ids[b]))
                .then(
                    self.jobs[&ids[b]]
                        .estimate
                        .total_cmp(&self.jobs[&ids[a]].estimate),
                )
                .then(name(ids[a]).cmp(name(ids[b])))
        });
        let mut slots = vec![Slot::default(); ids.len()];
        let mut started = vec![false; ids.len()];
        // Running: (index, remaining GB, end of the fixed part once copied).
        let mut running: Vec<(usize, f64, Option<f64>)> = Vec::new();
        let mut lanes_busy = vec![false; self.streams];
        let mut t = 0.0f64;
        let mut left = ids.len();
        let eps = 1e-9;
        while left > 0 {
            // Start what can start now, in priority order.
            for &k in &order {
                if started[k] || release(ids[k]) > t + eps {
                    continue;
                }
                let Some(lane) = lanes_busy.iter().position(|b| !b) else {
                    break;
                };
                if running
                    .iter()
                    .any(|(r, _, _)| self.conflict(ids[*r], ids[k]))
                {
                    continue;
                }
                started[k] = true;
                lanes_busy[lane] = true;
                let job = &self.jobs[&ids[k]];
                slots[k] = Slot {
                    start: t,
                    copy_end: t,
                    end: t,
                    lane: lane as u32 + 1,
                };
                let fixed_end = (job.link_gb <= eps).then_some(t + job.fixed);
                running.push((k, job.link_gb, fixed_end));
            }
            let copying = running.iter().filter(|r| r.2.is_none()).count();
            let share = if copying > 0 {
                self.rate / copying as f64
            } else {
                0.0
            };
            let next_release = order
                .iter()
                .filter(|k| !started[**k])
                .map(|k| release(ids[*k]))
                .filter(|r| *r > t + eps)
                .fold(f64::INFINITY, f64::min);
            let next = running
                .iter()
                .map(|(_, rem, fixed_end)| match fixed_end {
                    Some(e) => *e,
                    None => t + rem / share,
                })
                .fold(next_release, f64::min);
            if !next.is_finite() {
                // Nothing runs and nothing is released later: cannot
                // happen (a blocked job waits for a running one), but never
                // loop forever.
                break;
            }
            let dt = next - t;
            let before = t;
            t = next;
            let mut i = 0;
            while i < running.len() {
                let (k, rem, fixed_end) = &mut running[i];
                match fixed_end {
                    None => {
                        // The copy that set `next` ends now, even where
                        // floating point would leave a crumb (so every
                        // round ends at least one event).
                        let ends = before + *rem / share <= next;
                        *rem -= dt * share;
                        if ends || *rem <= eps * self.rate.max(1.0) {
                            slots[*k].copy_end = t;
                            *fixed_end = Some(t + self.jobs[&ids[*k]].fixed);
                        }
                        i += 1;
                    }
                    Some(e) if *e <= t + eps => {
                        slots[*k].end = t;
                        lanes_busy[slots[*k].lane as usize - 1] = false;
                        left -= 1;
                        running.swap_remove(i);
                    }
                    Some(_) => i += 1,
                }
            }
            // A copy that ended this instant with no fixed part ends too.
            let mut i = 0;
            while i < running.len() {
                let (k, _, fixed_end) = running[i];
                if fixed_end.is_some_and(|e| e <= t + eps) {
                    slots[k].end = t;
                    lanes_busy[slots[k].lane as usize - 1] = false;
                    left -= 1;
                    running.swap_remove(i);
                } else {
                    i += 1;
                }
            }
        }
        slots
    }

    /// Whether the servers fit `w`: every one accepts it, and each can be
    /// rolled back before it closes. Returns the slots when they fit.
    fn fits(&self, ids: &[Id], w: &Window) -> Option<Vec<Slot>> {
        let rooms: Vec<(f64, f64)> = ids
            .iter()
            .map(|i| room(self.model, *i, self.jobs[i].estimate, w))
            .collect::<Option<_>>()?;
        let release = |id: Id| {
            ids.iter()
                .position(|i| *i == id)
                .map_or(0.0, |k| rooms[k].0)
        };
        let slots = self.schedule(ids, &release);
        let len = f64::from(w.minutes());
        slots
            .iter()
            .zip(&rooms)
            .zip(ids)
            .all(|((s, room), i)| {
                s.end <= room.1 + 1e-9 && s.end + self.jobs[i].rollback <= len + 1e-9
            })
            .then_some(slots)
    }

    fn fits_any(&self, ids: &[Id]) -> bool {
        let windows = &self.model.migration.windows;
        if windows.is_empty() {
            return true;
        }
        // A lower bound of the schedule's length, to refuse a full wave
        // without simulating it: the link's work, the streams' work, the
        // longest server.
        let jobs = || ids.iter().map(|i| &self.jobs[i]);
        let bound = (jobs().map(|j| j.link_gb).sum::<f64>() / self.rate)
            .max(jobs().map(|j| j.estimate).sum::<f64>() / self.streams as f64)
            .max(jobs().map(|j| j.estimate).fold(0.0, f64::max));
        let longest = windows.iter().map(Window::minutes).max().unwrap_or(0);
        bound <= f64::from(longest) + 1e-9 && windows.iter().any(|w| self.fits(ids, w).is_some())
    }
}

/// Where a server may be down within a migration window: (from, to) in
/// minutes from the window's start. The whole window when the server states
/// no `window` of its own; else the longest overlap with one of them, if it
/// is long enough for the server's downtime.
fn room(model: &Model, id: Id, downtime: f64, w: &Window) -> Option<(f64, f64)> {
    let own = &model.servers[id].windows;
    if own.is_empty() {
        return Some((0.0, f64::from(w.minutes())));
    }
    own.iter()
        .filter_map(|o| w.overlap(o))
        .filter(|(_, len)| f64::from(*len) + 1e-9 >= downtime)
        .max_by_key(|(start, len)| (*len, std::cmp::Reverse(*start)))
        .map(|(start, len)| (f64::from(start), f64::from(start + len)))
}

/// The method a server moves by: its own, `rebuild` for a directory
/// server, else the project's.
fn method_of(model: &Model, id: Id) -> Method {
    let s = &model.servers[id];
    s.method
        .unwrap_or(if s.roles.iter().any(|r| r == DIRECTORY_ROLE) {
            Method::Rebuild
        } else {
            model.migration.method
        })
}

fn minutes(s: Option<crate::units::Seconds>) -> f64 {
    s.map_or(0.0, |s| s.0 / 60.0)
}

fn job(model: &Model, id: Id, rate: f64) -> Job {
    let method = method_of(model, id);
    let t = model.migration.timing(method);
    let gb = model.servers[id].disk_used.gb();
    let fixed =
        minutes(t.cutover) + minutes(t.driver_injection) + minutes(t.first_boot) + t.tests.0 / 60.0;
    let (link_gb, precopy_gb) = match method {
        Method::P2vCold | Method::V2v | Method::V2p => (gb, 0.0),
        Method::P2vLive | Method::Restore => (0.0, gb),
        Method::Rebuild => (0.0, 0.0),
    };
    Job {
        link_gb,
        fixed,
        precopy_gb,
        rollback: t.rollback.0 / 60.0,
        estimate: link_gb / rate + fixed,
    }
}

/// A wave being built: its groups and servers.
#[derive(Debug, Clone, Default)]
struct Draft {
    pilot: bool,
    groups: Vec<usize>,
    ids: Vec<Id>,
}

/// Builds waves with at most `cap` servers each (see the module doc), and
/// tells whether the size ever refused a group: when it did not, any
/// larger size gives the same waves.
fn build_waves(
    ctx: &Ctx,
    sccs: &[Vec<Id>],
    level: &[usize],
    deps: &[BTreeSet<usize>],
    cap: usize,
) -> (Vec<Draft>, bool) {
    let model = ctx.model;
    let mig = &model.migration;
    let mut waves: Vec<Draft> = Vec::new();
    let mut wave_of: Vec<Option<usize>> = vec![None; sccs.len()];
    let conflicts = |a: &[Id], b: &[Id]| a.iter().any(|x| b.iter().any(|y| ctx.conflict(*x, *y)));
    let capped = std::cell::Cell::new(false);
    let fits = |draft: &Draft, g: usize| -> bool {
        if !draft.ids.is_empty() && draft.ids.len() + sccs[g].len() > cap {
            capped.set(true);
            return false;
        }
        if conflicts(&draft.ids, &sccs[g]) {
            return false;
        }
        let mut ids = draft.ids.clone();
        ids.extend(&sccs[g]);
        draft.ids.is_empty() || ctx.fits_any(&ids)
    };
    let estimate = |g: usize| sccs[g].iter().map(|i| ctx.jobs[i].estimate).sum::<f64>();
    if mig.pilot > 0 {
        let mut level0: Vec<usize> = (0..sccs.len()).filter(|g| level[*g] == 0).collect();
        let crit = |g: &usize| sccs[*g].iter().map(|i| model.servers[*i].criticality).max();
        level0.sort_by(|a, b| crit(a).cmp(&crit(b)).then(a.cmp(b)));
        let mut pilot = Draft {
            pilot: true,
            ..Draft::default()
        };
        for g in level0 {
            if pilot.ids.len() >= mig.pilot as usize {
                break;
            }
            if fits(&pilot, g) {
                pilot.ids.extend(&sccs[g]);
                pilot.groups.push(g);
                wave_of[g] = Some(0);
            }
        }
        if !pilot.groups.is_empty() {
            waves.push(pilot);
        }
    }
    let first = waves.len();
    let mut order: Vec<usize> = (0..sccs.len()).filter(|g| wave_of[*g].is_none()).collect();
    order.sort_by(|a, b| {
        level[*a]
            .cmp(&level[*b])
            .then(estimate(*b).total_cmp(&estimate(*a)))
            .then(a.cmp(b))
    });
    for g in order {
        let lo = deps[g]
            .iter()
            .filter_map(|d| wave_of[*d])
            .map(|w| w + 1)
            .max()
            .unwrap_or(0)
            .max(first);
        let w = (lo..waves.len())
            .find(|w| fits(&waves[*w], g))
            .unwrap_or_else(|| {
                waves.push(Draft::default());
                waves.len() - 1
            });
        waves[w].ids.extend(&sccs[g]);
        waves[w].groups.push(g);
        wave_of[g] = Some(w);
    }
    (waves, capped.get())
}

/// The project's windows, in time order from the start, skipping those
/// that touch an excluded day.
struct Slots<'a> {
    model: &'a Model,
    /// Monday of the first week, as a day.
    monday: i64,
    /// No window starts before this minute.
    from: i64,
    /// Window indices sorted by their start in the week.
    order: Vec<usize>,
}

impl Slots<'_> {
    /// The `k`-th window occurrence: (start minute, window index), and
    /// whether an excluded day stops it (with the reason).
    fn nth(&self, k: usize) -> (i64, usize) {
        let count = self.order.len();
        // Occurrences before `from` in the first week are not counted.
        let skip = self
            .order
            .iter()
            .filter(|i| self.abs(0, **i) < self.from)
            .count();
        let k = k + skip;
        let (week, i) = (k / count, self.order[k % count]);
        (self.abs(week as i64, i), i)
    }
    fn abs(&self, week: i64, i: usize) -> i64 {
        (self.monday + 7 * week) * DAY + i64::from(self.model.migration.windows[i].start.0)
    }
    /// Why a window occurrence is skipped, if it is.
    fn excluded(&self, start: i64, len: i64) -> Option<String> {
        let (first, last) = (start.div_euclid(DAY), (start + len - 1).div_euclid(DAY));
        self.model
            .migration
            .excluded
            .iter()
            .find(|(a, b, _)| *a <= last && first <= *b)
            .map(|(a, b, reason)| {
                let days = if a == b {
                    calendar::fmt_date(*a)
                } else {
                    format!("{} to {}", calendar::fmt_date(*a), calendar::fmt_date(*b))
                };
                match reason {
                    Some(r) => format!("{days} excluded: {r}"),
                    None => format!("{days} excluded"),
                }
            })
    }
}

pub fn migrate(
    model: &Model,
    assessment: &Assessment,
    placement: &Placement,
    diags: &mut Diagnostics,
) -> Runbook {
    let mig = &model.migration;
    let mut notes: Vec<Diagnostic> = Vec::new();
    let moving: Vec<Id> = (0..model.servers.len())
        .filter(|i| {
            model.servers[*i].status != Status::Migrated
                && placement.assignments.contains_key(&model.servers[*i].name)
                && assessment.servers[*i].scope == Scope::Moves
        })
        .collect();
    let rate_mbit = mig.network.0 * mig.efficiency.0 / 1e6;
    let rate = rate_mbit * 60.0 / 8000.0;
    let streams = mig.parallel_streams.max(1);
    let moving_set: BTreeSet<Id> = moving.iter().copied().collect();

    // Redundancy: anti-affinity rules and redundant roles, among servers
    // that move; `allow-together` lifts the pairs it names.
    let mut redundancy: Vec<(RedundancyGroup, Vec<Id>)> = Vec::new();
    for r in &model.rules {
        if let RuleKind::AntiAffinity { servers } = &r.kind {
            redundancy.push((
                RedundancyGroup {
                    name: r.name.clone(),
                    source: "anti-affinity",
                    servers: Vec::new(),
                },
                servers.clone(),
            ));
        }
    }
    for role in RedundantRole::ALL {
        let ids: Vec<Id> = (0..model.servers.len())
            .filter(|i| model.servers[*i].roles.iter().any(|r| r == role.word()))
            .collect();
        if ids.len() > 1 {
            redundancy.push((
                RedundancyGroup {
                    name: role.label().to_string(),
                    source: "role",
                    servers: Vec::new(),
                },
                ids,
            ));
        }
    }
    let allowed = |a: Id, b: Id| {
        mig.allow_together
            .iter()
            .any(|set| set.contains(&a) && set.contains(&b))
    };
    let mut conflicts = BTreeSet::new();
    for (g, ids) in &mut redundancy {
        ids.retain(|i| moving_set.contains(i));
        ids.sort_by(|a, b| model.servers[*a].name.cmp(&model.servers[*b].name));
        g.servers = ids.iter().map(|i| model.servers[*i].name.clone()).collect();
        for (k, a) in ids.iter().enumerate() {
            for b in &ids[k + 1..] {
                if !allowed(*a, *b) {
                    conflicts.insert(((*a).min(*b), (*a).max(*b)));
                }
            }
        }
    }
    redundancy.retain(|(_, ids)| ids.len() > 1);
    let ctx = Ctx {
        model,
        rate,
        streams: streams as usize,
        jobs: moving.iter().map(|i| (*i, job(model, *i, rate))).collect(),
        conflicts,
    };

    // Dependencies and move groups.
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
                None if assessment.servers[*dep].scope.stays_physical() => physical_dependencies
                    .push(PhysicalDependency {
                        server: model.servers[*id].name.clone(),
                        depends_on: model.servers[*dep].name.clone(),
                    }),
                None => {}
            }
        }
    }
    let mut sccs: Vec<Vec<Id>> = tarjan_scc(&graph)
        .into_iter()
        .map(|c| {
            let mut ids: Vec<Id> = c.iter().map(|n| graph[*n]).collect();
            ids.sort_by(|a, b| model.servers[*a].name.cmp(&model.servers[*b].name));
            ids
        })
        .collect();
    sccs.sort_by(|a, b| model.servers[a[0]].name.cmp(&model.servers[b[0]].name));
    report_oversized_groups(model, &sccs, &mut notes);
    let mut group_of: BTreeMap<Id, usize> = BTreeMap::new();
    for (g, ids) in sccs.iter().enumerate() {
        for id in ids {
            group_of.insert(*id, g);
        }
    }
    let deps: Vec<BTreeSet<usize>> = sccs
        .iter()
        .enumerate()
        .map(|(g, ids)| {
            ids.iter()
                .flat_map(|i| &model.servers[*i].depends_on)
                .filter_map(|d| group_of.get(d).copied())
                .filter(|d| *d != g)
                .collect()
        })
        .collect();
    // Levels over the condensation (acyclic), in topological order:
    // tarjan_scc returns components in reverse topological order of the
    // edges (dependent → dependency), i.e. dependencies first.
    let mut level = vec![0usize; sccs.len()];
    let mut done = vec![false; sccs.len()];
    for _ in 0..sccs.len() {
        let mut progress = false;
        for g in 0..sccs.len() {
            if !done[g] && deps[g].iter().all(|d| done[*d]) {
                level[g] = deps[g].iter().map(|d| level[*d] + 1).max().unwrap_or(0);
                done[g] = true;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }

    // Waves: the fewest over every size up to max-wave-size.
    let n = moving.len().max(1);
    let cap = mig.max_wave_size.map_or(n, |m| (m as usize).min(n)).max(1);
    // Smallest size first; ties go to the larger size. A size that never
    // refused a group gives the same waves as every larger one: stop there.
    let sizes: Vec<usize> = if cap as u32 <= MONOTONE_SIZES {
        (1..=cap).collect()
    } else {
        vec![cap]
    };
    let mut drafts: Vec<Draft> = Vec::new();
    for size in sizes {
        let (plan, capped) = build_waves(&ctx, &sccs, &level, &deps, size);
        if drafts.is_empty() || plan.len() <= drafts.len() {
            drafts = plan;
        }
        if !capped {
            break;
        }
    }

    // Calendar.
    let count = mig.windows.len();
    let origin_day = mig.start.unwrap_or(4); // 1970-01-05, a Monday
    let monday = origin_day - calendar::weekday(origin_day);
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|i| (mig.windows[*i].start, *i));
    let slots = Slots {
        model,
        monday,
        from: origin_day * DAY,
        order,
    };
    let dated = mig.start.is_some();
    // A wave's times are minutes after its window opened at the local
    // minute `open`: real minutes, so when the clocks change during the
    // window the wall clock jumps with them (with dates only: an undated
    // runbook has no clock changes).
    let zone = model.project.zone;
    let open_utc = move |open: f64| zone.to_utc(open.round() as i64 * 60).compatible();
    // Whole minutes after the opening, halves rounded up (as `m.round()`
    // rounds the positive minute `m`: the opening is a whole minute).
    let wall = move |open: f64, m: f64| -> i64 {
        if !dated {
            return m.round() as i64;
        }
        let after = (m - open + 0.5).floor() as i64 * 60;
        zone.to_local(open_utc(open) + after).div_euclid(60)
    };
    let moment_at = |open: f64, m: f64| fmt_moment(wall(open, m), dated, monday);
    let utc_at = |open: f64, m: f64| {
        let after = (m - open + 0.5).floor() as i64 * 60;
        calendar::fmt_utc((open_utc(open) + after).div_euclid(60))
    };
    let mut skipped_windows: Vec<(i64, Skipped)> = Vec::new();
    let mut skipped_seen: BTreeSet<i64> = BTreeSet::new();
    let mut next_slot = 0usize;
    // Live copies of the first wave start on the start day at the earliest.
    let mut prev_end: Option<i64> = mig.start.map(|d| d * DAY);
    let mut last_start: Option<i64> = None;
    let mut waves = Vec::new();
    let mut link_use: Vec<(i64, i64, String, bool)> = Vec::new();
    for (n, draft) in drafts.iter().enumerate() {
        let number = n + 1;
        let ids = &draft.ids;
        let precopy: f64 = ids.iter().map(|i| ctx.jobs[i].precopy_gb / rate).sum();
        let mut problems: Vec<String> = Vec::new();
        let (start_abs, w, slot_slots) = if count == 0 {
            (None, None, ctx.schedule(ids, &|_| 0.0))
        } else {
            // The next window every server accepts, long enough, and far
            // enough from the previous wave for the pre-copies; searching
            // as many weeks ahead as the pre-copies and exclusions need.
            // At most a century of windows: past that the wave takes the
            // next window and its problems say why.
            let weeks = (2.0 + (precopy / WEEK as f64).ceil()).min(5200.0) as usize
                + mig
                    .excluded
                    .iter()
                    .map(|(a, b, _)| ((b - a) / 7 + 2) as usize)
                    .sum::<usize>()
                    .min(5200);
            let limit = next_slot + count * weeks;
            let mut found = None;
            let mut fallback = None;
            let mut first_free = None;
            for k in next_slot..limit {
                let (abs, i) = slots.nth(k);
                let win = mig.windows[i];
                if let Some(why) = slots.excluded(abs, i64::from(win.minutes())) {
                    if skipped_seen.insert(abs) {
                        skipped_windows.push((
                            abs,
                            Skipped {
                                window: format!("{} ({win})", moment_at(abs as f64, abs as f64)),
                                reason: why,
                            },
                        ));
                    }
                    continue;
                }
                first_free = first_free.or(Some((k, abs, i)));
                let gap_ok = prev_end.is_none_or(|e| (abs - e) as f64 + 1e-9 >= precopy);
                match ctx.fits(ids, &win) {
                    Some(s) if gap_ok => {
                        found = Some((k, abs, i, s));
                        break;
                    }
                    _ => {
                        if fallback.is_none() && gap_ok {
                            fallback = Some((k, abs, i));
                        }
                    }
                }
            }
            let (k, abs, i, sched) = match found {
                Some(f) => f,
                None => {
                    let (k, abs, i) = fallback.or(first_free).unwrap_or_else(|| {
                        problems.push(format!(
                            "every window of the next {weeks} weeks touches an excluded day, so \
                             it takes an excluded one"
                        ));
                        let (abs, i) = slots.nth(next_slot);
                        (next_slot, abs, i)
                    });
                    let win = mig.windows[i];
                    let release =
                        |id: Id| room(model, id, ctx.jobs[&id].estimate, &win).map_or(0.0, |r| r.0);
                    (k, abs, i, ctx.schedule(ids, &release))
                }
            };
            next_slot = k + 1;
            last_start = Some(abs);
            (Some(abs), Some(i), sched)
        };
        let sched = slot_slots;
        let duration = sched.iter().map(|s| s.end).fold(0.0, f64::max);
        let window_minutes = w.map(|i| mig.windows[i].minutes());
        // The window's real length: an hour less or more on the night the
        // clocks change.
        let len = window_minutes.map(f64::from).map(|l| match start_abs {
            Some(a) if dated => {
                let a = a as f64;
                ((open_utc(a + l) - open_utc(a)) / 60) as f64
            }
            _ => l,
        });
        // Servers, in start order.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by(|a, b| {
            sched[*a]
                .start
                .total_cmp(&sched[*b].start)
                .then(sched[*a].lane.cmp(&sched[*b].lane))
        });
        let base = start_abs.map_or(0.0, |a| a as f64);
        let moment = |m: f64| moment_at(base, m);
        let mut moves: Vec<ServerMove> = Vec::new();
        // Pre-copies back to back, ending when the window opens: the
        // largest starts first.
        let mut pre: Vec<Id> = ids
            .iter()
            .copied()
            .filter(|i| ctx.jobs[i].precopy_gb > 0.0)
            .collect();
        pre.sort_by(|a, b| {
            ctx.jobs[b]
                .precopy_gb
                .total_cmp(&ctx.jobs[a].precopy_gb)
                .then(model.servers[*a].name.cmp(&model.servers[*b].name))
        });
        let mut pre_start: BTreeMap<Id, f64> = BTreeMap::new();
        let mut t = -precopy;
        for i in &pre {
            pre_start.insert(*i, t);
            let d = ctx.jobs[i].precopy_gb / rate;
            link_use.push((
                (base + t).round() as i64,
                (base + t + d).round() as i64,
                model.servers[*i].name.clone(),
                true,
            ));
            t += d;
        }
        for k in order {
            let id = ids[k];
            let slot = sched[k];
            if slot.copy_end > slot.start {
                link_use.push((
                    (base + slot.start).round() as i64,
                    (base + slot.copy_end).round() as i64,
                    model.servers[id].name.clone(),
                    false,
                ));
            }
            let g = group_of[&id];
            let mut m = server_move(
                &ctx,
                placement,
                id,
                (g, &sccs[g]),
                slot,
                pre_start.get(&id).copied(),
                base,
                len,
                &moment,
            );
            m.redundancy = redundancy
                .iter()
                .filter(|(_, members)| members.contains(&id))
                .map(|(g, _)| g.name.clone())
                .collect();
            moves.push(m);
        }
        // Problems, with numbers and a way out.
        if let (Some(l), Some(i)) = (len, w) {
            let win = mig.windows[i];
            if duration > l + 1e-9 {
                let change = match f64::from(win.minutes()) - l {
                    d if d > 0.0 => ", shorter than usual: the clocks go forward that night",
                    d if d < 0.0 => ", longer than usual: the clocks go back that night",
                    _ => "",
                };
                problems.push(format!(
                    "the wave takes {}, longer than its window {win} ({}{change})",
                    fmt_minutes(duration),
                    fmt_minutes(l)
                ));
            }
            for m in &moves {
                let end = m.start_minute + m.downtime_minutes;
                if end + m.rollback_minutes > l + 1e-9 && end <= l + 1e-9 {
                    problems.push(format!(
                        "`{}` is handed over at +{}, too late to roll back ({}) before the window closes at +{}",
                        m.server,
                        fmt_minutes(end),
                        fmt_minutes(m.rollback_minutes),
                        fmt_minutes(l)
                    ));
                }
                if !model.servers[m.id].windows.is_empty()
                    && room(model, m.id, m.downtime_minutes, &win)
                        .is_none_or(|(_, e)| end > e + 1e-9)
                {
                    problems.push(format!(
                        "`{}` would be down outside its own windows ({})",
                        m.server,
                        model.servers[m.id]
                            .windows
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            if let (Some(e), Some(a)) = (prev_end, start_abs)
                && ((a - e) as f64) + 1e-9 < precopy
            {
                problems.push(format!(
                    "its live copies need {} of link at {} Mbit/s before the window, but only {} pass since {}",
                    fmt_minutes(precopy),
                    num(rate_mbit, 0),
                    fmt_minutes((a - e) as f64),
                    if n == 0 { "the migration start" } else { "the previous wave" }
                ));
            }
            if !problems.is_empty() {
                let mut d = Diagnostic::warning(
                    "virtplan::migrate::window",
                    format!("wave {number} does not fit its window: {}", problems.join("; ")),
                )
                .help(
                    "add parallel streams or a faster link, set a smaller max-wave-size, use a live method \
                     (`p2v-live`, `restore`), widen the servers' own windows, or add a longer window",
                );
                if let Some(span) = mig.window_spans.get(i) {
                    d = d.at(*span, format!("wave {number} does not fit"));
                }
                if let Some(m) = moves.first() {
                    d = d.related(model.servers[m.id].span, "a server of the wave");
                }
                notes.push(d);
            }
        }
        let longest_rollback = moves.iter().map(|m| m.rollback_minutes).fold(0.0, f64::max);
        let go = len.map(|l| l - longest_rollback);
        prev_end = start_abs.map(|a| a.saturating_add(duration.ceil() as i64));
        let mut methods: Vec<Method> = moves.iter().map(|m| m.method).collect();
        methods.sort();
        methods.dedup();
        waves.push(Wave {
            number,
            pilot: draft.pilot,
            window: w.map(|i| mig.windows[i].to_string()),
            week: match start_abs {
                Some(a) => ((a.div_euclid(DAY) - monday).div_euclid(7) + 1) as usize,
                None => number,
            },
            window_minutes,
            duration_minutes: duration,
            fits_window: problems.is_empty(),
            date: start_abs
                .filter(|_| dated)
                .map(|a| calendar::fmt_date(a.div_euclid(DAY))),
            opens: start_abs.map(|a| moment(a as f64)),
            // A window closes at its wall-clock time, whatever the clocks do.
            closes: start_abs
                .zip(window_minutes)
                .map(|(a, l)| fmt_moment(a + i64::from(l), dated, monday)),
            opens_iso: start_abs.map(fmt_iso),
            go_no_go: go.map(|g| moment(base + g)),
            go_no_go_minute: go,
            opens_utc: start_abs.filter(|_| dated).map(|a| utc_at(base, a as f64)),
            go_no_go_utc: go.filter(|_| dated).map(|g| utc_at(base, base + g)),
            rollback_triggers: triggers(&methods, go.map(|g| moment(base + g))),
            precopy_minutes: precopy,
            problems,
            servers: moves,
        });
    }

    // Diagnostics that concern single servers.
    for id in &moving {
        let s = &model.servers[*id];
        let method = method_of(model, *id);
        if s.roles.iter().any(|r| r == DIRECTORY_ROLE)
            && matches!(
                method,
                Method::P2vCold | Method::P2vLive | Method::V2v | Method::V2p
            )
        {
            notes.push(
                Diagnostic::warning(
                    "virtplan::migrate::directory-copy",
                    format!(
                        "domain controller `{}` is moved by copy ({}): once its copy has run on the \
                         network, powering the old server back on causes a USN rollback",
                        s.name,
                        method.as_str()
                    ),
                )
                .at(s.span, "a domain controller")
                .help(
                    "use method \"rebuild\" (promote a new domain controller, demote the old one); \
                     see Microsoft's \"Detect and recover from USN rollback\" (KB 875495)",
                ),
            );
        }
    }

    let cycles = sccs
        .iter()
        .enumerate()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(g, ids)| MoveGroup {
            id: g,
            name: model.servers[ids[0]].name.clone(),
            servers: ids.iter().map(|i| model.servers[*i].name.clone()).collect(),
        })
        .collect();
    physical_dependencies.sort();
    let not_moving = (0..model.servers.len())
        .filter(|i| !moving_set.contains(i))
        .map(|i| {
            let s = &model.servers[i];
            let a = &assessment.servers[i];
            let reason = if s.status == Status::Migrated {
                "already migrated (status \"migrated\")".to_string()
            } else if a.scope == Scope::Moves {
                "not placed on any host (see the capacity plan)".to_string()
            } else {
                a.override_reason
                    .clone()
                    .or_else(|| a.reasons.first().cloned())
                    .unwrap_or_else(|| format!("status {}", Status::WORDS[s.status as usize]))
            };
            NotMoving {
                server: s.name.clone(),
                scope: a.scope,
                reason,
            }
        })
        .collect();
    let warnings = notes
        .iter()
        .map(|d| {
            if d.help.is_empty() {
                d.message.clone()
            } else {
                format!("{} — {}", d.message, d.help)
            }
        })
        .collect();
    for d in notes {
        diags.push(d);
    }
    Runbook {
        waves,
        cycles,
        physical_dependencies,
        copy_rate_mbit_s: rate_mbit,
        parallel_streams: streams,
        start_date: mig.start.map(calendar::fmt_date),
        timezone: model.project.zone.name(),
        redundancy: redundancy.into_iter().map(|(g, _)| g).collect(),
        not_moving,
        link_plan: link_plan(&link_use, dated, monday),
        skipped_windows: skipped_windows
            .into_iter()
            .filter(|(at, _)| last_start.is_some_and(|l| *at < l))
            .map(|(_, s)| s)
            .collect(),
        warnings,
    }
}

/// Minutes of link use per day, from intervals (start, end, server,
/// pre-copy) in local minutes.
fn link_plan(uses: &[(i64, i64, String, bool)], dated: bool, monday: i64) -> Vec<LinkDay> {
    /// One day: busy spans, servers pre-copying, servers copying in a window.
    type Day = (Vec<(i64, i64)>, BTreeSet<String>, BTreeSet<String>);
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    for (a, b, name, pre) in uses {
        let mut t = *a;
        // A copy longer than a year is shown over its first year only: its
        // wave's problems already say it does not fit.
        let b = &(*b).min(a.saturating_add(366 * DAY));
        while t < *b {
            let day = t.div_euclid(DAY);
            let end = (*b).min((day + 1) * DAY);
            let e = days.entry(day).or_default();
            e.0.push((t, end));
            if *pre {
                e.1.insert(name.clone());
            } else {
                e.2.insert(name.clone());
            }
            t = end;
        }
    }
    days.into_iter()
        .map(|(day, (mut spans, pre, inw))| {
            // The link is busy whenever one copy runs: merge the spans.
            spans.sort();
            let mut busy = 0;
            let mut cur: Option<(i64, i64)> = None;
            for (a, b) in spans {
                cur = match cur {
                    Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
                    Some((ca, cb)) => {
                        busy += cb - ca;
                        Some((a, b))
                    }
                    None => Some((a, b)),
                };
            }
            if let Some((a, b)) = cur {
                busy += b - a;
            }
            let date = if dated {
                calendar::fmt_date(day)
            } else {
                let m = fmt_moment(day * DAY, false, monday);
                m.trim_end_matches(" 00:00").to_string()
            };
            LinkDay {
                date,
                busy_minutes: busy as f64,
                precopy: pre.into_iter().collect(),
                in_window: inw.into_iter().collect(),
            }
        })
        .collect()
}

/// When to roll back, for the methods of a wave.
fn triggers(methods: &[Method], go: Option<String>) -> Vec<String> {
    let mut t = vec![
        "a server's service tests fail and cannot be fixed within 15 minutes".to_string(),
        "a VM does not boot, or boots without its network or disks".to_string(),
        "a step runs more than 30 minutes late against this schedule".to_string(),
    ];
    if let Some(go) = go {
        t.push(format!(
            "the go/no-go time ({go}) passes with a server not yet handed over: roll it back"
        ));
    }
    for m in methods {
        match m {
            Method::P2vCold | Method::V2v | Method::V2p => t.push(format!(
                "{}: the copy fails or its size differs from the source",
                m.as_str()
            )),
            Method::P2vLive => t.push(
                "p2v-live: the final sync fails or the pre-copy did not finish before the window"
                    .to_string(),
            ),
            Method::Rebuild => t.push(
                "rebuild: repadmin /replsummary shows errors on the new domain controller, or \
                 clients cannot authenticate against it"
                    .to_string(),
            ),
            Method::Restore => t.push(
                "restore: the restored database does not open, or its last transaction is older \
                 than the cut-over"
                    .to_string(),
            ),
        }
    }
    t
}

/// One server's move: steps with times, tests, rollback.
#[allow(clippy::too_many_arguments)]
fn server_move(
    ctx: &Ctx,
    placement: &Placement,
    id: Id,
    (group, members): (usize, &[Id]),
    slot: Slot,
    pre_start: Option<f64>,
    base: f64,
    window_len: Option<f64>,
    moment: &dyn Fn(f64) -> String,
) -> ServerMove {
    let model = ctx.model;
    let s = &model.servers[id];
    let method = method_of(model, id);
    let t: &Timing = model.migration.timing(method);
    let job = &ctx.jobs[&id];
    let target = placement
        .assignments
        .get(&s.name)
        .cloned()
        .unwrap_or_default();
    let gb = s.disk_used.gb();
    let directory = s.roles.iter().any(|r| r == DIRECTORY_ROLE);
    let tests = role_tests(&s.roles);
    let mut steps: Vec<Step> = Vec::new();
    let mut push =
        |name: String, short: &'static str, phase: Phase, at: f64, minutes: f64, link: bool| {
            steps.push(Step {
                name,
                minutes,
                short,
                phase,
                start_minute: at,
                at: moment(base + at),
                at_iso: fmt_iso((base + at).round() as i64),
                link,
            });
        };
    let precopy = job.precopy_gb / ctx.rate;
    // Before the window.
    match method {
        Method::P2vLive => {
            let at = pre_start.unwrap_or(-precopy);
            push(
                format!(
                    "start the live copy ({} GB) by this time at the latest; the server keeps running",
                    num(gb, 0)
                ),
                "live copy",
                Phase::Before,
                at,
                precopy,
                true,
            );
        }
        Method::Restore => {
            let at = pre_start.unwrap_or(-precopy);
            let prep = minutes(t.prepare);
            push(
                format!("build the VM on {target} and install the database or mail engine"),
                "build VM",
                Phase::Before,
                at - prep,
                prep,
                false,
            );
            push(
                format!(
                    "start restoring the last full backup ({} GB) by this time at the latest, then keep shipping logs",
                    num(gb, 0)
                ),
                "restore backup",
                Phase::Before,
                at,
                precopy,
                true,
            );
        }
        Method::Rebuild => {
            let prep = minutes(t.prepare);
            push(
                format!(
                    "build the new VM on {target}, promote it to domain controller and wait until \
                     repadmin /replsummary shows no errors"
                ),
                "build and promote",
                Phase::Before,
                -prep,
                prep,
                false,
            );
        }
        Method::P2vCold | Method::V2v | Method::V2p => {}
    }
    // The downtime.
    let mut at = slot.start;
    let owner = s.owner.clone();
    push(
        format!(
            "go: verified backup, vendor support and target drivers confirmed; {} informed",
            owner.as_deref().unwrap_or("the owner")
        ),
        "go",
        Phase::Down,
        at,
        0.0,
        false,
    );
    let copy = slot.copy_end - slot.start;
    let fixed = |push: &mut dyn FnMut(String, &'static str, Phase, f64, f64, bool),
                 at: &mut f64,
                 name: String,
                 short: &'static str,
                 d: Option<crate::units::Seconds>| {
        if let Some(d) = d {
            let m = d.0 / 60.0;
            push(name, short, Phase::Down, *at, m, false);
            *at += m;
        }
    };
    // A copied server's first steps as a VM, after the copy or the final sync.
    let boot = |push: &mut dyn FnMut(String, &'static str, Phase, f64, f64, bool), at: &mut f64| {
        fixed(
            push,
            at,
            "driver injection".into(),
            "drivers",
            t.driver_injection,
        );
        fixed(
            push,
            at,
            "first boot and guest tools".into(),
            "first boot",
            t.first_boot,
        );
    };
    match method {
        Method::P2vCold | Method::V2v | Method::V2p => {
            let what = match method {
                Method::V2v => "export from the source hypervisor and import",
                Method::V2p => "restore onto the physical hardware",
                _ => "shut down, boot the converter and copy the disks",
            };
            push(
                format!("{what} ({} GB)", num(gb, 0)),
                "copy",
                Phase::Down,
                at,
                copy,
                true,
            );
            at += copy;
            boot(&mut push, &mut at);
        }
        Method::P2vLive => {
            fixed(
                &mut push,
                &mut at,
                "stop the services, final sync, power the physical server off".into(),
                "final sync",
                t.cutover,
            );
            boot(&mut push, &mut at);
        }
        Method::Rebuild => {
            fixed(
                &mut push,
                &mut at,
                format!(
                    "move any FSMO roles to the new domain controller, point DNS and DHCP options at it, demote `{}`",
                    s.name
                ),
                "switch roles",
                t.cutover,
            );
        }
        Method::Restore => {
            fixed(
                &mut push,
                &mut at,
                "stop the application, back up and restore the tail of the log, bring the new database online".into(),
                "tail-log restore",
                t.cutover,
            );
        }
    }
    if method != Method::Rebuild {
        push(
            "re-addressing: NICs, IP addresses, DNS records, clients pointed at the VM".into(),
            "re-address",
            Phase::Down,
            at,
            0.0,
            false,
        );
    }
    let test_minutes = t.tests.0 / 60.0;
    push(
        format!("service tests: {}", tests.join("; ")),
        "tests",
        Phase::Down,
        at,
        test_minutes,
        false,
    );
    at += test_minutes;
    push(
        format!(
            "hand-over to {}: runs on {target}",
            owner.as_deref().unwrap_or("the owner")
        ),
        "hand-over",
        Phase::After,
        at,
        0.0,
        false,
    );
    push(
        if method == Method::Rebuild {
            "remove the old server after the acceptance period (metadata clean-up done by the demotion)".into()
        } else {
            "decommission the physical server after the acceptance period".into()
        },
        "decommission",
        Phase::After,
        at,
        0.0,
        false,
    );
    let rollback = match method {
        Method::Rebuild => "until the old domain controller is demoted: move the roles back and demote the \
             new one. After the demotion the new domain controller serves; the old one is never \
             restored from an image (USN rollback)"
            .to_string(),
        Method::Restore => "point the clients back at the old server, which still holds the data as of the \
             cut-over, and set its databases read-write again"
            .to_string(),
        _ if directory => "only before the VM has booted on the network: power it off and the physical \
             domain controller back on. After that, never power the old server on again (USN \
             rollback, Microsoft KB 875495): repair the VM, or demote it and promote another \
             domain controller"
            .to_string(),
        Method::P2vLive => "power the VM off and the physical server back on (its disks are untouched by \
             the copy); changes made on the VM since the final sync are lost"
            .to_string(),
        _ => "power the VM off and the physical server back on (its disks are untouched by the copy); for \
             a later rollback, V2P restore"
            .to_string(),
    };
    let mut depends_on: Vec<String> = s
        .depends_on
        .iter()
        .map(|d| model.servers[*d].name.clone())
        .collect();
    depends_on.sort();
    let redundancy = Vec::new();
    ServerMove {
        id,
        server: s.name.clone(),
        method,
        target_host: target,
        disk_gb: gb,
        copy_minutes: if job.link_gb > 0.0 { copy } else { precopy },
        downtime_minutes: slot.end - slot.start,
        start_minute: slot.start,
        stream: slot.lane,
        move_group: group,
        group: model.servers[members[0]].name.clone(),
        depends_on,
        steps,
        rollback,
        rollback_minutes: job.rollback,
        owner,
        criticality: s.criticality,
        roles: s.roles.clone(),
        tests,
        start: moment(base + slot.start),
        end: moment(base + slot.end),
        rollback_by: window_len.map_or_else(
            || moment(base + slot.end),
            |l| moment(base + l - job.rollback),
        ),
        precopy_minutes: precopy,
        precopy_start_by: pre_start.map(|p| moment(base + p)),
        redundancy,
    }
}

/// A move group (servers that depend on each other in a circle) moves in
/// one wave, so one larger than `max-wave-size` breaks that limit: an error
/// that names every member, since one of their `depends-on` is usually wrong.
fn report_oversized_groups(model: &Model, sccs: &[Vec<Id>], diags: &mut Vec<Diagnostic>) {
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
        // app01 copies alone from 0 and is done at 75 min, so dc01's copy
        // runs alone too: 36 GB at the whole 1 Gbps × 32% = 320 Mbit/s,
        // 36 × 8000 / 320 / 60 = 15 min, plus 15 + 15 + 30 min of fixed steps.
        let dc = wave
            .servers
            .iter()
            .find(|m| m.server == "dc01")
            .expect("dc01");
        assert!(
            (dc.downtime_minutes - 75.0).abs() < 1e-9,
            "{}",
            dc.downtime_minutes
        );
        assert!(
            (wave.duration_minutes - 195.0).abs() < 1e-9,
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
