//! Benchmark: placement at scale, and its quality on the Bitbrains trace.
//!
//! `cargo bench --bench place` places 10,000 VMs with weekly profiles
//! (168 slots × 5 resources) generated from a fixed seed, with N+1 verified
//! and its price computed, and prints the time, hosts, lower bound and
//! baselines. `cargo bench --bench place -- 100000` does the same for
//! 100,000 VMs. When `target/bitbrains` exists (see `bench/convert_trace.py`),
//! it also plans the real trace and prints hosts against the lower bound
//! and the naive baselines.

use std::path::Path;
use std::time::Instant;

mod common;
use common::Disk;

use virtplan::diag::Diagnostics;
use virtplan::measure::Measurements;
use virtplan::source::MemorySource;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn estate(n: usize) -> MemorySource {
    let mut text = String::from(
        "project \"scale\" {\n    currency \"EUR\"\n}\n\
         platform \"esxi\" {\n    vms-per-core 8\n    vcpu-per-core 6\n    cpu-overhead \"8%\"\n    io-overhead \"10%\"\n    memory-overhead-per-vm \"256MiB\"\n}\n\
         host-model \"r760\" {\n    sockets 2\n    cores-per-socket 32\n    clock \"2.6GHz\"\n    memory \"1TiB\"\n    storage-iops 250000\n    storage-throughput \"8000MB/s\"\n    network \"25Gbps\"\n    price 32000\n}\n\
         cluster \"main\" {\n    platform \"esxi\"\n    host-model \"r760\"\n    failures-to-tolerate 1\n}\n\
         defaults {\n    sockets 2\n    cores-per-socket 8\n    clock \"2.4GHz\"\n    memory \"64GiB\"\n}\n",
    );
    for i in 0..n {
        text.push_str(&format!("server \"vm{i:06}\"\n"));
    }
    MemorySource::new().with("estate.kdl", text)
}

/// Weekly profiles: office-hours, night-batch and flat workloads with noise.
fn synthetic(assessment: &mut virtplan::assess::Assessment, seed: u64) {
    let mut rng = Rng(seed);
    for vm in &mut assessment.vms {
        let kind = (rng.next() * 3.0) as usize;
        let base = 0.3 + rng.next() * 2.0;
        let amp = 1.0 + rng.next() * 6.0;
        let mem = 4.0 + (rng.next() * 15.0).floor() * 4.0;
        let slots = vm.profile[0].len();
        for s in 0..slots {
            let hour = s % 24;
            let day = s / 24;
            let active = match kind {
                0 => day < 5 && (8..18).contains(&hour),
                1 => !(6..22).contains(&hour),
                _ => true,
            };
            let load = if active { base + amp } else { base } * (0.85 + 0.3 * rng.next());
            vm.profile[0][s] = load;
            vm.profile[1][s] = mem;
            vm.profile[2][s] = load * 40.0;
            vm.profile[3][s] = load * 2.0;
            vm.profile[4][s] = load * 10.0;
        }
        vm.vcpus = ((base + amp) / 2.6 * 1.3).ceil() as u32;
    }
}

fn scale(n: usize) {
    let src = estate(n);
    let checked = virtplan::check(&src);
    let Some(model) = checked.model else {
        println!("the generated estate did not check");
        return;
    };
    let mut diags = Diagnostics::default();
    let mut assessment = virtplan::assess::assess(&model, &Measurements::default(), &mut diags);
    synthetic(&mut assessment, 42);
    let start = Instant::now();
    let placement = virtplan::place::place(
        &model,
        &assessment,
        &virtplan::place::Options::default(),
        &mut diags,
    );
    let took = start.elapsed().as_secs_f64();
    for c in &placement.clusters {
        println!(
            "place: {n} VMs × {} slots × 5 resources: {took:.2} s; {} hosts (N+{} verified by {} over {} scenarios, {} added), lower bound {} (gap {:.1}%), sum of peaks {}, price of N+1 {} hosts",
            model.project.profile.slots(),
            c.hosts.len(),
            c.failures_to_tolerate,
            c.failover.method,
            c.failover.scenarios,
            c.failover.hosts_added,
            c.lower_bound,
            c.gap_pct,
            c.baselines.sum_of_peaks,
            c.rule_prices.iter().map(|p| p.extra_hosts).sum::<i64>()
        );
    }
}

fn bitbrains() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bitbrains");
    if !root.join("estate.kdl").exists() {
        println!(
            "bitbrains: skipped: run `python3 bench/convert_trace.py` first (needs ../shared/data)"
        );
        return;
    }
    let start = Instant::now();
    let compiled = virtplan::compile(&Disk(root));
    let took = start.elapsed().as_secs_f64();
    let Some(plan) = compiled.plan else {
        println!("bitbrains: no plan");
        return;
    };
    for c in &plan.capacity.clusters {
        println!(
            "bitbrains: {} VMs placed in {took:.2} s (import included): {} hosts, lower bound {} (gap {:.1}%), sum of peaks {} ({:.0}% more), logical order {}, N+{} worst case {:.0}% {}",
            plan.assessment
                .servers
                .iter()
                .filter(|s| s.verdict.moves())
                .count(),
            c.hosts.len(),
            c.lower_bound,
            c.gap_pct,
            c.baselines.sum_of_peaks,
            (c.baselines.sum_of_peaks as f64 / c.hosts.len() as f64 - 1.0) * 100.0,
            c.baselines.logical_order,
            c.failures_to_tolerate,
            c.failover.worst_percent.unwrap_or(0.0),
            c.failover.worst_resource.map(|r| r.label()).unwrap_or("")
        );
    }
}

fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(10_000);
    scale(n);
    if n == 10_000 {
        bitbrains();
    }
}
