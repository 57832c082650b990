//! N+k: does the plan survive the loss of any k hosts?
//!
//! Method. For every set of k hosts (every single host when k = 1), the
//! failed hosts' items are restarted on the surviving hosts, largest first,
//! each on the survivor with the most room left, within the raw capacity
//! (100%, not the target) in every slot and respecting anti-affinity and
//! separate-by. A scenario passes when a restart placement is found, so a
//! pass is a proof. When some scenario fails, the load is first spread more
//! evenly over the hosts and the scenarios checked again; failing that, empty
//! hosts are added one at a time. Once k empty hosts are there the plan is
//! sound whatever the greedy restart finds: the items of each failed host can
//! restart together on one of them, where they fitted before. So at most k
//! hosts are ever added, and the report says whether the last check was a
//! simulation that passed or rests on the empty hosts.
//!
//! When there are more than [`MAX_SCENARIOS`] sets of k hosts, enumerating
//! them is too slow; the plan then keeps k hosts empty, which is sound for
//! any k: the items of each failed host restart together on one empty host
//! of the same model, where they fitted before.

use super::pack::{Host, Problem, R, Solution, add, fits};

/// Most failure scenarios simulated one by one.
pub const MAX_SCENARIOS: usize = 20_000;

/// The worst scenario: the highest utilization of a survivor after restart.
#[derive(Debug, Clone, Default)]
pub struct Worst {
    /// Indices of the failed hosts.
    pub failed: Vec<usize>,
    pub resource: usize,
    pub slot: usize,
    /// Load ÷ raw capacity on the busiest survivor.
    pub utilization: f64,
    pub host: usize,
}

/// A failure scenario whose VMs found no restart placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRestart;

#[derive(Debug, Clone)]
pub struct Verdict {
    pub method: Method,
    pub hosts_added: usize,
    pub scenarios: usize,
    pub worst: Option<Worst>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Simulated,
    EmptySpares,
}

/// Makes `sol` survive any `k` host failures, adding hosts as needed.
pub fn ensure(problem: &Problem, sol: &mut Solution, k: usize) -> Verdict {
    if k == 0 {
        return Verdict {
            method: Method::Simulated,
            hosts_added: 0,
            scenarios: 0,
            worst: None,
        };
    }
    let mut added = 0;
    loop {
        let n = sol.hosts.len();
        let scenarios = combinations(n, k);
        if scenarios > MAX_SCENARIOS as u128 {
            let empty = sol.hosts.iter().filter(|h| h.items.is_empty()).count();
            for _ in empty..k {
                sol.hosts.push(Host::new(problem));
                added += 1;
            }
            return Verdict {
                method: Method::EmptySpares,
                hosts_added: added,
                scenarios: 0,
                worst: None,
            };
        }
        if let Ok(worst) = check(problem, sol, k) {
            return Verdict {
                method: Method::Simulated,
                hosts_added: added,
                scenarios: scenarios as usize,
                worst,
            };
        }
        // Spreading the load evenly may leave each host room enough for a
        // share of a failed one; a balanced plan is kept only if it passes.
        let mut balanced = sol.clone();
        balance(problem, &mut balanced);
        if let Ok(worst) = check(problem, &balanced, k) {
            *sol = balanced;
            return Verdict {
                method: Method::Simulated,
                hosts_added: added,
                scenarios: scenarios as usize,
                worst,
            };
        }
        sol.hosts.push(Host::new(problem));
        added += 1;
        if added >= k {
            // k empty hosts are there now: the VMs of each failed host can
            // restart together on one of them, whatever the greedy restart
            // above managed. One more check names the worst case when the
            // simulation passes; the guarantee holds either way.
            let simulated = check(problem, sol, k);
            return Verdict {
                method: if simulated.is_ok() {
                    Method::Simulated
                } else {
                    Method::EmptySpares
                },
                worst: simulated.ok().flatten(),
                hosts_added: added,
                scenarios: combinations(sol.hosts.len(), k).min(usize::MAX as u128) as usize,
            };
        }
    }
}

/// Moves VMs from the busiest host to the least busy one while that lowers
/// the busier one's peak utilization, within the usable capacity.
fn balance(problem: &Problem, sol: &mut Solution) {
    let util = |h: &Host| {
        (0..R)
            .filter(|r| problem.raw[*r].is_finite() && problem.raw[*r] > 0.0)
            .map(|r| h.peak[r] / problem.raw[r])
            .fold(0.0, f64::max)
    };
    let rounds = sol.hosts.iter().map(|h| h.items.len()).sum::<usize>();
    for _ in 0..rounds {
        let order: Vec<usize> = {
            let mut o: Vec<usize> = (0..sol.hosts.len()).collect();
            o.sort_by(|a, b| {
                util(&sol.hosts[*b])
                    .total_cmp(&util(&sol.hosts[*a]))
                    .then(a.cmp(b))
            });
            o
        };
        let (Some(&a), Some(&b)) = (order.first(), order.last()) else {
            return;
        };
        if a == b {
            return;
        }
        let before = util(&sol.hosts[a]);
        let mut moved = false;
        let mut candidates: Vec<usize> = sol.hosts[a]
            .items
            .iter()
            .copied()
            .filter(|i| problem.items[*i].pin.is_none())
            .collect();
        candidates.sort_by(|x, y| {
            problem.items[*x]
                .total()
                .total_cmp(&problem.items[*y].total())
                .then(x.cmp(y))
        });
        for i in candidates {
            if !super::pack::fits(problem, &sol.hosts[b], &problem.items[i], false) {
                continue;
            }
            let mut to = sol.hosts[b].clone();
            add(problem, &mut to, i);
            if util(&to) >= before {
                continue;
            }
            let rest: Vec<usize> = sol.hosts[a]
                .items
                .iter()
                .copied()
                .filter(|k| *k != i)
                .collect();
            let pinned = sol.hosts[a].pinned;
            sol.hosts[a] = super::pack::rebuild(problem, &rest, pinned);
            sol.hosts[b] = to;
            moved = true;
            break;
        }
        if !moved {
            return;
        }
    }
}

fn combinations(n: usize, k: usize) -> u128 {
    if k > n {
        return 1;
    }
    let mut c: u128 = 1;
    for i in 0..k {
        c = c.saturating_mul((n - i) as u128) / (i as u128 + 1);
    }
    c
}

/// Checks every scenario; the worst one when all pass.
pub fn check(problem: &Problem, sol: &Solution, k: usize) -> Result<Option<Worst>, NoRestart> {
    scan(problem, sol, k).map_err(|_| NoRestart)
}

/// The first set of k failed hosts whose VMs find no restart placement,
/// if any: what a repair must relieve.
pub fn failing(problem: &Problem, sol: &Solution, k: usize) -> Option<Vec<usize>> {
    scan(problem, sol, k).err()
}

/// Every scenario in lexicographic order of the failed hosts: the worst one
/// when all pass, else the first that fails.
fn scan(problem: &Problem, sol: &Solution, k: usize) -> Result<Option<Worst>, Vec<usize>> {
    let n = sol.hosts.len();
    if k >= n {
        return if sol.hosts.iter().all(|h| h.items.is_empty()) {
            Ok(None)
        } else {
            Err((0..n).collect())
        };
    }
    let mut worst: Option<Worst> = None;
    let mut failed: Vec<usize> = (0..k).collect();
    loop {
        let w = scenario(problem, sol, &failed).map_err(|_| failed.clone())?;
        if let Some(w) = w.filter(|w| worst.as_ref().is_none_or(|b| w.utilization > b.utilization))
        {
            worst = Some(w);
        }
        // Next combination in lexicographic order.
        let mut i = k;
        loop {
            if i == 0 {
                return Ok(worst);
            }
            i -= 1;
            if failed[i] < n - k + i {
                failed[i] += 1;
                for j in i + 1..k {
                    failed[j] = failed[j - 1] + 1;
                }
                break;
            }
        }
    }
}

/// One scenario: restart the failed hosts' items on the survivors.
fn scenario(
    problem: &Problem,
    sol: &Solution,
    failed: &[usize],
) -> Result<Option<Worst>, NoRestart> {
    let mut moving: Vec<usize> = failed
        .iter()
        .flat_map(|h| sol.hosts[*h].items.iter().copied())
        .collect();
    if moving.is_empty() {
        return Ok(None);
    }
    moving.sort_by(|a, b| {
        problem.items[*b]
            .total()
            .total_cmp(&problem.items[*a].total())
            .then(a.cmp(b))
    });
    // Copy-on-write survivors: only the hosts that receive items are cloned.
    let mut changed: Vec<(usize, Host)> = Vec::new();
    for i in moving {
        let item = &problem.items[i];
        let mut best: Option<(f64, usize)> = None;
        for h in (0..sol.hosts.len()).filter(|h| !failed.contains(h)) {
            let host = changed
                .iter()
                .find(|(c, _)| *c == h)
                .map_or(&sol.hosts[h], |(_, host)| host);
            if !fits(problem, host, item, true) {
                continue;
            }
            let room: f64 = (0..R)
                .filter(|r| problem.raw[*r].is_finite() && problem.raw[*r] > 0.0)
                .map(|r| 1.0 - host.peak[r] / problem.raw[r])
                .fold(f64::INFINITY, f64::min);
            if best.is_none_or(|(b, _)| room > b) {
                best = Some((room, h));
            }
        }
        let (_, h) = best.ok_or(NoRestart)?;
        match changed.iter_mut().find(|(c, _)| *c == h) {
            Some((_, host)) => add(problem, host, i),
            None => {
                let mut host = sol.hosts[h].clone();
                add(problem, &mut host, i);
                changed.push((h, host));
            }
        }
    }
    // The busiest survivor in any resource and slot: hosts that received
    // items are scanned slot by slot, the others through their peaks.
    let s = problem.slots;
    let mut worst: Option<Worst> = None;
    for h in (0..sol.hosts.len()).filter(|h| !failed.contains(h)) {
        let host = changed
            .iter()
            .find(|(c, _)| *c == h)
            .map_or(&sol.hosts[h], |(_, host)| host);
        for r in 0..R {
            let raw = problem.raw[r];
            if !(raw.is_finite() && raw > 0.0)
                || worst
                    .as_ref()
                    .is_some_and(|w| host.peak[r] / raw <= w.utilization)
            {
                continue;
            }
            let slot = (0..s)
                .max_by(|a, b| {
                    host.load[r * s + a]
                        .total_cmp(&host.load[r * s + b])
                        .then(b.cmp(a))
                })
                .unwrap_or(0);
            worst = Some(Worst {
                failed: failed.to_vec(),
                resource: r,
                slot,
                utilization: host.peak[r] / raw,
                host: h,
            });
        }
    }
    Ok(worst)
}
