//! Packing: items (VMs or affinity groups) with slot profiles onto hosts.
//!
//! A [`Problem`] holds everything one cluster with one host model needs:
//! each item's demand as one flat vector (resource-major: `r * slots + s`),
//! the usable capacity per resource (capacity × target), the platform's
//! per-host VM and vCPU limits, anti-affinity sets, separate-by groups and
//! pins. A [`Solution`] is a list of hosts with their running loads.
//!
//! The construction portfolio is first-fit decreasing by weighted L2 size,
//! best-fit decreasing, and bin-centric dot-product packing (open a host,
//! keep adding the item whose demand vector best matches what the host has
//! left, slot by slot, so peaks that fall at different times are put
//! together). The best result is improved by local search: ruin and
//! recreate (empty the least-loaded hosts, re-insert best-fit elsewhere,
//! keep the result only if hosts were saved), with relocate moves tried
//! before giving up on a host. Randomness comes from a seeded generator and
//! the search stops after a fixed number of iterations, so the result is the
//! same on every machine.

// Loops over resources index several parallel per-resource arrays at once
// (capacity, weights, peaks, sums); an index reads better than zips.
#![allow(clippy::needless_range_loop)]

use std::collections::BTreeSet;

/// Resources per slot vector.
pub const R: usize = 5;
/// Tolerance for floating-point capacity comparisons.
const EPS: f64 = 1e-9;

/// One thing to place: a VM, or an affinity group that moves as one.
#[derive(Debug, Clone)]
pub struct Item {
    /// Server ids of the members, sorted.
    pub members: Vec<usize>,
    /// Name for tie-breaking and messages: the smallest member name.
    pub name: String,
    /// Demand, `r * slots + s`.
    pub demand: Vec<f64>,
    pub peak: [f64; R],
    pub low: [f64; R],
    /// Sum over slots per resource, for quick fullness scores.
    pub sum: [f64; R],
    pub vcpus: u32,
    /// Strictest `max-host-cpu` of the members, as a fraction of raw CPU.
    pub cpu_limit: Option<f64>,
    /// 1-based host number the item is pinned to.
    pub pin: Option<u32>,
    /// Separate-by group: items share a host only with the same group.
    pub group: u32,
    /// Anti-affinity sets the item belongs to.
    pub anti: Vec<u32>,
}

impl Item {
    pub fn count(&self) -> u32 {
        self.members.len() as u32
    }
    /// Total demand over all resources and slots: the size used to order
    /// items for eviction and restart.
    pub fn total(&self) -> f64 {
        self.sum.iter().sum()
    }
}

/// What the rules of the cluster enforce; switched off one by one to price them.
#[derive(Debug, Clone)]
pub struct Problem {
    pub slots: usize,
    /// Usable capacity per resource: capacity × target.
    pub cap: [f64; R],
    /// Raw capacity per resource (100%), for failover.
    pub raw: [f64; R],
    pub max_vms: u32,
    pub max_vcpus: u32,
    pub items: Vec<Item>,
}

/// One host of a solution.
#[derive(Debug, Clone)]
pub struct Host {
    pub items: Vec<usize>,
    pub load: Vec<f64>,
    pub peak: [f64; R],
    pub sum: [f64; R],
    pub vms: u32,
    pub vcpus: u32,
    /// CPU capacity after the strictest `max-host-cpu` of its items.
    pub cpu_cap: f64,
    pub group: Option<u32>,
    pub anti: BTreeSet<u32>,
    /// A host number some item is pinned to: never emptied by the search.
    pub pinned: bool,
}

impl Host {
    pub fn new(problem: &Problem) -> Host {
        Host {
            items: Vec::new(),
            load: vec![0.0; R * problem.slots],
            peak: [0.0; R],
            sum: [0.0; R],
            vms: 0,
            vcpus: 0,
            cpu_cap: problem.cap[0],
            group: None,
            anti: BTreeSet::new(),
            pinned: false,
        }
    }

    /// Weighted fullness: the share of the host's usable capacity in use,
    /// averaged over resources and slots, and of its vCPU and VM limits.
    pub fn fullness(&self, problem: &Problem, w: &Weights) -> f64 {
        w.score(problem, &self.sum, self.vcpus, self.vms)
    }
}

/// Whether the item fits on the host within the usable capacity (or the
/// raw capacity, when `raw` is set, for failover restarts).
pub fn fits(problem: &Problem, host: &Host, item: &Item, raw: bool) -> bool {
    if host.vms + item.count() > problem.max_vms || host.vcpus + item.vcpus > problem.max_vcpus {
        return false;
    }
    if !host.items.is_empty() && host.group != Some(item.group) {
        return false;
    }
    if item.anti.iter().any(|a| host.anti.contains(a)) {
        return false;
    }
    let mut cap = if raw { problem.raw } else { problem.cap };
    if !raw {
        cap[0] = host.cpu_cap;
        if let Some(limit) = item.cpu_limit {
            cap[0] = cap[0].min(problem.raw[0] * limit);
        }
    }
    let mut unsure = [false; R];
    for r in 0..R {
        if host.peak[r] + item.peak[r] <= cap[r] + EPS {
            continue;
        }
        if host.peak[r] + item.low[r] > cap[r] + EPS || item.peak[r] > cap[r] + EPS {
            return false;
        }
        unsure[r] = true;
    }
    let s = problem.slots;
    (0..R).filter(|r| unsure[*r]).all(|r| {
        let c = cap[r] + EPS;
        host.load[r * s..(r + 1) * s]
            .iter()
            .zip(&item.demand[r * s..(r + 1) * s])
            .all(|(l, d)| l + d <= c)
    })
}

/// Why a host does not hold its items within the usable capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overload {
    /// Over a resource's capacity × target, busiest in this slot.
    Resource {
        resource: usize,
        slot: usize,
    },
    Vms,
    Vcpus,
}

/// The first limit a host built without checks (see [`rebuild`]) breaks.
pub fn overload(problem: &Problem, host: &Host) -> Option<Overload> {
    if host.vms > problem.max_vms {
        return Some(Overload::Vms);
    }
    if host.vcpus > problem.max_vcpus {
        return Some(Overload::Vcpus);
    }
    let s = problem.slots;
    (0..R).find_map(|r| {
        let cap = if r == 0 { host.cpu_cap } else { problem.cap[r] };
        (host.peak[r] > cap + EPS).then(|| {
            let slot = (0..s)
                .max_by(|a, b| {
                    host.load[r * s + a]
                        .total_cmp(&host.load[r * s + b])
                        .then(b.cmp(a))
                })
                .unwrap_or(0);
            Overload::Resource { resource: r, slot }
        })
    })
}

/// Adds an item to a host.
pub fn add(problem: &Problem, host: &mut Host, idx: usize) {
    let item = &problem.items[idx];
    let s = problem.slots;
    for r in 0..R {
        let mut peak = 0.0f64;
        for (l, d) in host.load[r * s..(r + 1) * s]
            .iter_mut()
            .zip(&item.demand[r * s..(r + 1) * s])
        {
            *l += d;
            peak = peak.max(*l);
        }
        host.peak[r] = peak;
        host.sum[r] += item.sum[r];
    }
    host.vms += item.count();
    host.vcpus += item.vcpus;
    if let Some(limit) = item.cpu_limit {
        host.cpu_cap = host.cpu_cap.min(problem.raw[0] * limit);
    }
    host.group = Some(item.group);
    host.anti.extend(item.anti.iter().copied());
    host.items.push(idx);
}

/// Rebuilds a host from a list of items (after removals).
pub fn rebuild(problem: &Problem, items: &[usize], pinned: bool) -> Host {
    let mut h = Host::new(problem);
    h.pinned = pinned;
    for &i in items {
        add(problem, &mut h, i);
    }
    h
}

/// A solution: hosts, and for each item its host (or `None` if it fits nowhere).
#[derive(Debug, Clone)]
pub struct Solution {
    pub hosts: Vec<Host>,
    pub unplaced: Vec<usize>,
    /// Pinned items that could not go on their host (it was full).
    pub unpinned: Vec<usize>,
}

impl Solution {
    pub fn used(&self) -> usize {
        self.hosts
            .iter()
            .filter(|h| !h.items.is_empty() || h.pinned)
            .count()
    }
}

/// How scarce each resource is over the whole problem, so that the scarce
/// ones dominate sizes and scores (the "dynamic weights" of FFD). The
/// platform's vCPU and VM limits per host count as resources too: a host
/// full of small VMs can run out of vCPUs long before it runs out of CPU.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub r: [f64; R],
    pub vcpus: f64,
    pub vms: f64,
}

impl Weights {
    /// Weighted fullness of a host holding `sum` per resource, `vcpus` and `vms`.
    fn score(&self, problem: &Problem, sum: &[f64; R], vcpus: u32, vms: u32) -> f64 {
        let mut total: f64 = (0..R)
            .filter(|r| problem.cap[*r].is_finite() && problem.cap[*r] > 0.0)
            .map(|r| self.r[r] * sum[r] / (problem.cap[r] * problem.slots as f64))
            .sum();
        total += self.vcpus * f64::from(vcpus) / f64::from(problem.max_vcpus.max(1));
        total += self.vms * f64::from(vms) / f64::from(problem.max_vms.max(1));
        total
    }

    /// Weighted fullness of the host after taking the item.
    pub fn after(&self, problem: &Problem, host: &Host, item: &Item) -> f64 {
        let mut sum = host.sum;
        for (s, x) in sum.iter_mut().zip(&item.sum) {
            *s += x;
        }
        self.score(
            problem,
            &sum,
            host.vcpus + item.vcpus,
            host.vms + item.count(),
        )
    }
}

pub fn weights(problem: &Problem) -> Weights {
    let mut w = [0.0; R];
    for r in 0..R {
        if problem.cap[r].is_finite() && problem.cap[r] > 0.0 {
            w[r] = problem.items.iter().map(|i| i.sum[r]).sum::<f64>()
                / (problem.cap[r] * problem.slots.max(1) as f64);
        }
    }
    let vcpus = problem
        .items
        .iter()
        .map(|i| f64::from(i.vcpus))
        .sum::<f64>()
        / f64::from(problem.max_vcpus.max(1));
    let vms = problem
        .items
        .iter()
        .map(|i| f64::from(i.count()))
        .sum::<f64>()
        / f64::from(problem.max_vms.max(1));
    let total: f64 = w.iter().sum::<f64>() + vcpus + vms;
    if total > 0.0 {
        Weights {
            r: w.map(|x| x / total),
            vcpus: vcpus / total,
            vms: vms / total,
        }
    } else {
        Weights {
            r: [0.2; R],
            vcpus: 0.0,
            vms: 0.0,
        }
    }
}

/// Weighted L2 size of an item relative to a host's usable capacity.
fn l2_size(problem: &Problem, w: &Weights, item: &Item) -> f64 {
    let s = problem.slots;
    let mut total = 0.0;
    for r in 0..R {
        if !(problem.cap[r].is_finite() && problem.cap[r] > 0.0) {
            continue;
        }
        let sq: f64 = item.demand[r * s..(r + 1) * s]
            .iter()
            .map(|d| (d / problem.cap[r]).powi(2))
            .sum();
        total += w.r[r] * sq / s as f64;
    }
    total += w.vcpus * (f64::from(item.vcpus) / f64::from(problem.max_vcpus.max(1))).powi(2);
    total += w.vms * (f64::from(item.count()) / f64::from(problem.max_vms.max(1))).powi(2);
    total.sqrt()
}

/// Items that cannot go on an empty host at all.
pub fn too_big(problem: &Problem) -> Vec<usize> {
    let empty = Host::new(problem);
    (0..problem.items.len())
        .filter(|i| !fits(problem, &empty, &problem.items[*i], false))
        .collect()
}

/// Starts a solution with the pinned items on their host numbers.
fn with_pins(problem: &Problem, skip: &BTreeSet<usize>) -> (Solution, Vec<usize>) {
    let mut sol = Solution {
        hosts: Vec::new(),
        unplaced: skip.iter().copied().collect(),
        unpinned: Vec::new(),
    };
    let mut rest = Vec::new();
    let mut pinned: Vec<usize> = (0..problem.items.len())
        .filter(|i| !skip.contains(i) && problem.items[*i].pin.is_some())
        .collect();
    pinned.sort_by_key(|i| (problem.items[*i].pin, problem.items[*i].name.clone()));
    for i in pinned {
        let number = problem.items[i].pin.unwrap_or(1).max(1) as usize;
        while sol.hosts.len() < number {
            let mut h = Host::new(problem);
            h.pinned = true;
            sol.hosts.push(h);
        }
        if fits(problem, &sol.hosts[number - 1], &problem.items[i], false) {
            add(problem, &mut sol.hosts[number - 1], i);
        } else {
            // Two pins that cannot share their host: the later one is placed
            // freely, and reported.
            sol.unpinned.push(i);
            rest.push(i);
        }
    }
    for i in 0..problem.items.len() {
        if !skip.contains(&i) && problem.items[i].pin.is_none() {
            rest.push(i);
        }
    }
    (sol, rest)
}

/// Which construction heuristic to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Construction {
    FirstFitDecreasing,
    BestFitDecreasing,
    DotProduct,
}

/// Builds a solution with one construction heuristic.
pub fn construct(problem: &Problem, how: Construction) -> Solution {
    let bad: BTreeSet<usize> = too_big(problem).into_iter().collect();
    let (mut sol, mut rest) = with_pins(problem, &bad);
    let w = weights(problem);
    let sizes: Vec<f64> = problem
        .items
        .iter()
        .map(|i| l2_size(problem, &w, i))
        .collect();
    rest.sort_by(|a, b| {
        sizes[*b]
            .total_cmp(&sizes[*a])
            .then_with(|| problem.items[*a].name.cmp(&problem.items[*b].name))
    });
    match how {
        Construction::FirstFitDecreasing => {
            for i in rest {
                insert_first_fit(problem, &mut sol, i);
            }
        }
        Construction::BestFitDecreasing => {
            for i in rest {
                insert_best_fit(problem, &mut sol, i, &w, None);
            }
        }
        Construction::DotProduct => dot_product(problem, &mut sol, rest, &w),
    }
    sol
}

fn insert_first_fit(problem: &Problem, sol: &mut Solution, i: usize) {
    match sol
        .hosts
        .iter()
        .position(|h| fits(problem, h, &problem.items[i], false))
    {
        Some(h) => add(problem, &mut sol.hosts[h], i),
        None => {
            let mut h = Host::new(problem);
            add(problem, &mut h, i);
            sol.hosts.push(h);
        }
    }
}

/// Puts the item on the feasible host that is fullest after it (ties: lowest
/// index), skipping `except`; opens a host if none fits. Returns the host.
pub fn insert_best_fit(
    problem: &Problem,
    sol: &mut Solution,
    i: usize,
    w: &Weights,
    except: Option<usize>,
) -> usize {
    let item = &problem.items[i];
    let mut best: Option<(f64, usize)> = None;
    for (h, host) in sol.hosts.iter().enumerate() {
        if Some(h) == except || !fits(problem, host, item, false) {
            continue;
        }
        let after = w.after(problem, host, item);
        if best.is_none_or(|(b, _)| after > b + EPS) {
            best = Some((after, h));
        }
    }
    match best {
        Some((_, h)) => {
            add(problem, &mut sol.hosts[h], i);
            h
        }
        None => {
            let mut h = Host::new(problem);
            add(problem, &mut h, i);
            sol.hosts.push(h);
            sol.hosts.len() - 1
        }
    }
}

/// Puts the item on an existing host: best fit, or after moving one other
/// item out of the way. Returns false, changing nothing, if neither works.
pub fn insert_existing(problem: &Problem, sol: &mut Solution, i: usize, w: &Weights) -> bool {
    let item = &problem.items[i];
    let best = sol
        .hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| (!h.items.is_empty() || h.pinned) && fits(problem, h, item, false))
        .map(|(k, h)| {
            let after = w.after(problem, h, item);
            (after, k)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    if let Some((_, h)) = best {
        add(problem, &mut sol.hosts[h], i);
        return true;
    }
    let mut touched = Vec::new();
    match relocate_for(problem, sol, usize::MAX, i, &mut touched) {
        Some(h) => {
            add(problem, &mut sol.hosts[h], i);
            true
        }
        None => false,
    }
}

/// Bin-centric packing: fill one host at a time with the item whose demand
/// best matches the host's remaining capacity, slot by slot (normalised dot
/// product), largest items breaking ties. Quadratic in the item count, so
/// large problems use a window of the largest remaining items.
fn dot_product(problem: &Problem, sol: &mut Solution, mut rest: Vec<usize>, w: &Weights) {
    let window = if problem.items.len() > 3000 { 300 } else { 400 };
    let s = problem.slots;
    // Pinned hosts first take what fits them best.
    let mut current: Option<usize> = if sol.hosts.is_empty() { None } else { Some(0) };
    while !rest.is_empty() {
        let h = match current {
            Some(h) => h,
            None => {
                sol.hosts.push(Host::new(problem));
                current = Some(sol.hosts.len() - 1);
                sol.hosts.len() - 1
            }
        };
        let host = &sol.hosts[h];
        let mut best: Option<(f64, usize)> = None;
        for (pos, &i) in rest.iter().enumerate().take(window) {
            let item = &problem.items[i];
            if !fits(problem, host, item, false) {
                continue;
            }
            let mut score = 0.0;
            for r in 0..R {
                let cap = problem.cap[r];
                // Resources that barely matter are left out of the score.
                if !(cap.is_finite() && cap > 0.0) || w.r[r] < 0.01 {
                    continue;
                }
                // Σ (cap − load) × demand; a flat demand needs only the load's sum.
                let dot: f64 = if item.low[r] == item.peak[r] {
                    (cap * s as f64 - host.sum[r]) * item.peak[r]
                } else {
                    host.load[r * s..(r + 1) * s]
                        .iter()
                        .zip(&item.demand[r * s..(r + 1) * s])
                        .map(|(l, d)| (cap - l) * d)
                        .sum()
                };
                score += w.r[r] * dot / (cap * cap * s as f64);
            }
            // The vCPU and VM limits as one more dimension each.
            let (mv, mc) = (
                f64::from(problem.max_vcpus.max(1)),
                f64::from(problem.max_vms.max(1)),
            );
            score += w.vcpus * (mv - f64::from(host.vcpus)) * f64::from(item.vcpus) / (mv * mv);
            score += w.vms * (mc - f64::from(host.vms)) * f64::from(item.count()) / (mc * mc);
            if best.is_none_or(|(b, _)| score > b + EPS) {
                best = Some((score, pos));
            }
        }
        match best {
            Some((_, pos)) => {
                let i = rest.remove(pos);
                add(problem, &mut sol.hosts[h], i);
            }
            None => {
                // Nothing fits this host any more: move on to the next one.
                current = if h + 1 < sol.hosts.len() {
                    Some(h + 1)
                } else {
                    None
                };
                if current.is_none() && sol.hosts[h].items.is_empty() {
                    // An empty host that takes nothing: the window holds only
                    // items that fit no host; place the first one freely.
                    let i = rest.remove(0);
                    insert_first_fit(problem, sol, i);
                }
            }
        }
    }
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Improves a solution by ruin and recreate: repeatedly try to empty one
/// host (the least full first, then random ones) by re-inserting its items
/// best-fit on the other hosts; a host whose items cannot all move stays as
/// it was. `budget` bounds the attempts.
pub fn improve(problem: &Problem, sol: &mut Solution, budget: usize, seed: u64) {
    let w = weights(problem);
    let mut rng = Rng::new(seed);
    let mut attempts = 0;
    let mut failed_in_a_row = 0;
    while attempts < budget {
        let candidates: Vec<usize> = (0..sol.hosts.len())
            .filter(|h| !sol.hosts[*h].pinned && !sol.hosts[*h].items.is_empty())
            .collect();
        if candidates.len() < 2 {
            break;
        }
        // Least full first; after failures, random hosts for diversity.
        let target = if failed_in_a_row == 0 {
            *candidates
                .iter()
                .min_by(|a, b| {
                    sol.hosts[**a]
                        .fullness(problem, &w)
                        .total_cmp(&sol.hosts[**b].fullness(problem, &w))
                        .then(a.cmp(b))
                })
                .unwrap_or(&candidates[0])
        } else {
            candidates[rng.below(candidates.len())]
        };
        attempts += 1;
        if empty_host(problem, sol, target, &w) {
            failed_in_a_row = 0;
        } else {
            failed_in_a_row += 1;
            // Give up after a run of failures.
            if failed_in_a_row > candidates.len().min(256) {
                break;
            }
        }
    }
    sol.hosts.retain(|h| !h.items.is_empty() || h.pinned);
    // Then larger ruins: empty a few hosts at once and re-insert their
    // items best-fit, keeping the result when it uses fewer hosts or packs
    // the same hosts more unevenly (which is how a host gets emptied later).
    // The number of rounds shrinks as the problem grows, so the work stays
    // bounded.
    let items = problem.items.len().max(1);
    let rounds = (budget / 4).min(20_000_000 / items).max(1);
    let mut idle = 0;
    for round in 0..rounds {
        // Every other round tries a swap instead: cheaper, and it moves
        // load onto fuller hosts where no single relocation fits.
        let gained = if round % 2 == 1 {
            swap(problem, sol, &w, &mut rng)
        } else {
            ruin_and_recreate(problem, sol, &w, &mut rng)
        };
        if gained {
            idle = 0;
        } else {
            idle += 1;
            // A long run without any gain: the search has settled.
            if idle >= 48 {
                break;
            }
        }
    }
    sol.hosts.retain(|h| !h.items.is_empty() || h.pinned);
}

/// A swap move: a small item of a fuller host trades places with a larger
/// item of an emptier host, when both fit, so the fuller host gets fuller.
/// Tries a few random host pairs; returns whether it swapped.
fn swap(problem: &Problem, sol: &mut Solution, w: &Weights, rng: &mut Rng) -> bool {
    let hosts: Vec<usize> = (0..sol.hosts.len())
        .filter(|h| !sol.hosts[*h].items.is_empty())
        .collect();
    if hosts.len() < 2 {
        return false;
    }
    for _ in 0..8 {
        let (mut a, mut b) = (hosts[rng.below(hosts.len())], hosts[rng.below(hosts.len())]);
        if a == b {
            continue;
        }
        if sol.hosts[a].fullness(problem, w) < sol.hosts[b].fullness(problem, w) {
            std::mem::swap(&mut a, &mut b);
        }
        // `a` is the fuller host: it gives a small item and takes a larger one.
        let pairs: Vec<(usize, usize)> = sol.hosts[a]
            .items
            .iter()
            .flat_map(|x| sol.hosts[b].items.iter().map(move |y| (*x, *y)))
            .filter(|(x, y)| {
                problem.items[*x].pin.is_none()
                    && problem.items[*y].pin.is_none()
                    && problem.items[*y].total() > problem.items[*x].total() + EPS
            })
            .collect();
        for (x, y) in pairs {
            if fits_swapped(problem, &sol.hosts[a], x, y)
                && fits_swapped(problem, &sol.hosts[b], y, x)
            {
                let into_a: Vec<usize> = sol.hosts[a]
                    .items
                    .iter()
                    .copied()
                    .filter(|k| *k != x)
                    .chain([y])
                    .collect();
                let into_b: Vec<usize> = sol.hosts[b]
                    .items
                    .iter()
                    .copied()
                    .filter(|k| *k != y)
                    .chain([x])
                    .collect();
                let (pa, pb) = (sol.hosts[a].pinned, sol.hosts[b].pinned);
                sol.hosts[a] = rebuild(problem, &into_a, pa);
                sol.hosts[b] = rebuild(problem, &into_b, pb);
                return true;
            }
        }
    }
    false
}

/// Sum of squared fullness: higher means load is concentrated on fewer hosts.
fn concentration(problem: &Problem, sol: &Solution, w: &Weights) -> f64 {
    sol.hosts
        .iter()
        .map(|h| h.fullness(problem, w).powi(2))
        .sum()
}

/// One ruin-and-recreate step over 2–4 hosts: the least full and random
/// others. Keeps the result if it is better, restores the solution if not;
/// returns whether it kept it.
fn ruin_and_recreate(problem: &Problem, sol: &mut Solution, w: &Weights, rng: &mut Rng) -> bool {
    let candidates: Vec<usize> = (0..sol.hosts.len())
        .filter(|h| !sol.hosts[*h].pinned && !sol.hosts[*h].items.is_empty())
        .collect();
    if candidates.len() < 3 {
        return false;
    }
    let mut ruined = vec![
        *candidates
            .iter()
            .min_by(|a, b| {
                sol.hosts[**a]
                    .fullness(problem, w)
                    .total_cmp(&sol.hosts[**b].fullness(problem, w))
                    .then(a.cmp(b))
            })
            .unwrap_or(&candidates[0]),
    ];
    let extra = 1 + rng.below(3);
    for _ in 0..extra * 4 {
        let h = candidates[rng.below(candidates.len())];
        if !ruined.contains(&h) {
            ruined.push(h);
        }
        if ruined.len() > extra {
            break;
        }
    }
    let before_used = sol.used();
    let before_conc = concentration(problem, sol, w);
    let saved: Vec<(usize, Host)> = ruined.iter().map(|h| (*h, sol.hosts[*h].clone())).collect();
    let mut items: Vec<usize> = ruined
        .iter()
        .flat_map(|h| sol.hosts[*h].items.clone())
        .collect();
    for h in &ruined {
        sol.hosts[*h] = Host::new(problem);
    }
    let sizes: Vec<f64> = items
        .iter()
        .map(|i| l2_size(problem, w, &problem.items[*i]))
        .collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| {
        sizes[*b]
            .total_cmp(&sizes[*a])
            .then(items[*a].cmp(&items[*b]))
    });
    items = order.into_iter().map(|k| items[k]).collect();
    // Changed hosts, to restore on failure: the ruined ones and any that receive.
    let mut touched: Vec<(usize, Host)> = Vec::new();
    let hosts_before = sol.hosts.len();
    for i in items {
        let item = &problem.items[i];
        let best = (0..sol.hosts.len())
            .filter(|h| {
                !sol.hosts[*h].items.is_empty() && fits(problem, &sol.hosts[*h], item, false)
            })
            .map(|h| (w.after(problem, &sol.hosts[h], item), h))
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let h = match best {
            Some((_, h)) => h,
            // Reopen a ruined host (they are empty), or a new one.
            None => match ruined
                .iter()
                .copied()
                .find(|h| sol.hosts[*h].items.is_empty())
            {
                Some(h) => h,
                None => {
                    sol.hosts.push(Host::new(problem));
                    sol.hosts.len() - 1
                }
            },
        };
        if h < hosts_before && !ruined.contains(&h) && !touched.iter().any(|(t, _)| *t == h) {
            touched.push((h, sol.hosts[h].clone()));
        }
        add(problem, &mut sol.hosts[h], i);
    }
    let after_used = sol.used();
    let better = after_used < before_used
        || (after_used == before_used && concentration(problem, sol, w) > before_conc + EPS);
    if !better {
        sol.hosts.truncate(hosts_before);
        for (h, host) in saved.into_iter().chain(touched) {
            sol.hosts[h] = host;
        }
    }
    better
}

/// Tries to move every item of host `target` elsewhere (best fit, largest
/// first, and relocating one blocking item when an item fits nowhere).
/// Commits and returns true on success; leaves the solution as it was on
/// failure.
fn empty_host(problem: &Problem, sol: &mut Solution, target: usize, w: &Weights) -> bool {
    let mut items = sol.hosts[target].items.clone();
    items.sort_by(|a, b| {
        problem.items[*b]
            .total()
            .total_cmp(&problem.items[*a].total())
            .then(a.cmp(b))
    });
    let backup: Vec<(usize, Host)> = Vec::new();
    let mut touched: Vec<(usize, Host)> = backup;
    let hosts_before = sol.hosts.len();
    for &i in &items {
        let item = &problem.items[i];
        let mut best: Option<(f64, usize)> = None;
        for (h, host) in sol.hosts.iter().enumerate() {
            if h == target
                || host.items.is_empty() && !host.pinned
                || !fits(problem, host, item, false)
            {
                continue;
            }
            let after = w.after(problem, host, item);
            if best.is_none_or(|(b, _)| after > b + EPS) {
                best = Some((after, h));
            }
        }
        let dest = match best {
            Some((_, h)) => Some(h),
            None => relocate_for(problem, sol, target, i, &mut touched),
        };
        match dest {
            Some(h) => {
                if !touched.iter().any(|(t, _)| *t == h) {
                    touched.push((h, sol.hosts[h].clone()));
                }
                add(problem, &mut sol.hosts[h], i);
            }
            None => {
                for (h, host) in touched.into_iter().rev() {
                    sol.hosts[h] = host;
                }
                sol.hosts.truncate(hosts_before);
                return false;
            }
        }
    }
    sol.hosts[target] = Host::new(problem);
    true
}

/// Makes room for item `i` by moving one item `j` from some host `h` to
/// another host `g` (neither the target), so that `i` then fits on `h`.
/// Records the hosts changed in `touched` (their state before) and returns
/// `h`. Candidates are checked without rebuilding hosts: `i` on `h` without
/// `j` is a slot-by-slot check of load − demand(j) + demand(i).
fn relocate_for(
    problem: &Problem,
    sol: &mut Solution,
    target: usize,
    i: usize,
    touched: &mut Vec<(usize, Host)>,
) -> Option<usize> {
    const CANDIDATES: usize = 64;
    let n = sol.hosts.len();
    // The emptiest hosts are the likeliest to take `i` once one item leaves.
    let w = weights(problem);
    let mut order: Vec<usize> = (0..n)
        .filter(|h| *h != target && !sol.hosts[*h].items.is_empty())
        .collect();
    order.sort_by(|a, b| {
        sol.hosts[*a]
            .fullness(problem, &w)
            .total_cmp(&sol.hosts[*b].fullness(problem, &w))
            .then(a.cmp(b))
    });
    order.truncate(CANDIDATES);
    for h in order {
        for pos in 0..sol.hosts[h].items.len() {
            let j = sol.hosts[h].items[pos];
            if problem.items[j].pin.is_some() || !fits_swapped(problem, &sol.hosts[h], j, i) {
                continue;
            }
            let dest = (0..n).find(|g| {
                *g != h
                    && *g != target
                    && !sol.hosts[*g].items.is_empty()
                    && fits(problem, &sol.hosts[*g], &problem.items[j], false)
            });
            if let Some(g) = dest {
                for k in [h, g] {
                    if !touched.iter().any(|(t, _)| *t == k) {
                        touched.push((k, sol.hosts[k].clone()));
                    }
                }
                add(problem, &mut sol.hosts[g], j);
                let mut rest = sol.hosts[h].items.clone();
                rest.remove(pos);
                sol.hosts[h] = rebuild(problem, &rest, sol.hosts[h].pinned);
                return Some(h);
            }
        }
    }
    None
}

/// Whether item `i` fits on `host` once item `j` has left it.
fn fits_swapped(problem: &Problem, host: &Host, j: usize, i: usize) -> bool {
    let (out, inn) = (&problem.items[j], &problem.items[i]);
    if host.vms - out.count() + inn.count() > problem.max_vms
        || host.vcpus - out.vcpus + inn.vcpus > problem.max_vcpus
    {
        return false;
    }
    let others = host
        .items
        .iter()
        .filter(|k| **k != j)
        .map(|k| &problem.items[*k]);
    let mut cpu_cap = problem.cap[0];
    for o in others {
        if o.group != inn.group || o.anti.iter().any(|a| inn.anti.contains(a)) {
            return false;
        }
        if let Some(l) = o.cpu_limit {
            cpu_cap = cpu_cap.min(problem.raw[0] * l);
        }
    }
    if let Some(l) = inn.cpu_limit {
        cpu_cap = cpu_cap.min(problem.raw[0] * l);
    }
    let s = problem.slots;
    (0..R).all(|r| {
        let cap = if r == 0 { cpu_cap } else { problem.cap[r] } + EPS;
        if host.peak[r] - out.low[r] + inn.peak[r] <= cap {
            return true;
        }
        (0..s).all(|t| host.load[r * s + t] - out.demand[r * s + t] + inn.demand[r * s + t] <= cap)
    })
}

/// The best of the construction portfolio, improved by local search.
pub fn solve(problem: &Problem, budget: usize) -> Solution {
    let mut best: Option<Solution> = None;
    for how in [
        Construction::DotProduct,
        Construction::FirstFitDecreasing,
        Construction::BestFitDecreasing,
    ] {
        let mut sol = construct(problem, how);
        improve(problem, &mut sol, budget, 0x5EED);
        let better = match &best {
            None => true,
            Some(b) => (sol.unplaced.len(), sol.used()) < (b.unplaced.len(), b.used()),
        };
        if better {
            best = Some(sol);
        }
    }
    best.unwrap_or(Solution {
        hosts: Vec::new(),
        unplaced: Vec::new(),
        unpinned: Vec::new(),
    })
}
