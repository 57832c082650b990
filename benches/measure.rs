//! Benchmark: importing and profiling the Bitbrains trace in virtplan's CSV.
//!
//! Run `python3 bench/convert_trace.py` once (it converts `../shared/data` into
//! `target/bitbrains`), then `cargo bench --bench measure`. Prints the
//! median throughput over several runs of `virtplan::check` (load, lower,
//! import, fold into profiles, assess) and the process's peak resident
//! memory. Skips with a message when the converted trace is not there.

use std::path::Path;
use std::time::Instant;

mod common;
use common::Disk;
use virtplan::source::FileSource;

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bitbrains");
    if !root.join("estate.kdl").exists() {
        println!("skipped: run `python3 bench/convert_trace.py` first (needs ../shared/data)");
        return;
    }
    let fs = Disk(root);
    let bytes: u64 = fs
        .list()
        .iter()
        .filter(|p| p.ends_with(".csv"))
        .filter_map(|p| std::fs::metadata(fs.0.join(p)).ok())
        .map(|m| m.len())
        .sum();
    let runs = 5;
    let mut times = Vec::new();
    let mut warnings = 0;
    let mut servers = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let compiled = virtplan::check(&fs);
        times.push(start.elapsed().as_secs_f64());
        warnings = compiled.diags.warnings();
        servers = compiled.model.map_or(0, |m| m.servers.len());
    }
    times.sort_by(f64::total_cmp);
    let median = times[runs / 2];
    println!(
        "measure: {servers} servers, {:.1} MB of CSV: median {:.3} s ({:.0} MB/s), min {:.3} s, max {:.3} s over {runs} runs; {warnings} warnings; peak RSS {:.0} MB",
        bytes as f64 / 1e6,
        median,
        bytes as f64 / 1e6 / median,
        times[0],
        times[runs - 1],
        peak_rss_mb().unwrap_or(f64::NAN)
    );
}
