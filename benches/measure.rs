//! Benchmark: importing and profiling the Bitbrains trace in virtplan's CSV.
//!
//! Run `python3 bench/convert_trace.py` once (it converts `../shared/data` into
//! `target/bitbrains`), then `cargo bench --bench measure`. Prints the
//! median throughput over several runs of `virtplan::check` (load, lower,
//! import, fold into profiles, assess) and the process's peak resident
//! memory. Skips with a message when the converted trace is not there.
//!
//! `cargo bench --bench measure -- --generated MB` instead writes one CSV
//! file of about MB megabytes for 2000 servers (5-minute samples, all five
//! resources, named by a top-level `metrics` glob) to a temporary
//! directory, runs `virtplan::check` on it once through a `FileSource` that
//! streams from the disk, and prints the time and the peak resident memory
//! (VmHWM), then removes the directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod common;
use common::Disk;
use virtplan::source::{FileSource, ReadError};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Files on disk, streamed by `open` as the CLI's disk source does.
struct Streamed(PathBuf);

impl FileSource for Streamed {
    fn list(&self) -> Vec<String> {
        Disk(self.0.clone()).list()
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        std::fs::read(self.0.join(path)).map_err(|e| ReadError::Io(e.to_string()))
    }
    fn open(&self, path: &str) -> Result<Box<dyn std::io::Read + Send + '_>, ReadError> {
        let f = std::fs::File::open(self.0.join(path)).map_err(|e| ReadError::Io(e.to_string()))?;
        Ok(Box::new(f))
    }
}

const SERVERS: usize = 2000;

/// Writes the estate and about `mb` megabytes of rows; returns the bytes
/// of CSV written and the rows.
fn generate(root: &Path, mb: usize) -> std::io::Result<(u64, u64)> {
    std::fs::create_dir_all(root.join("metrics"))?;
    let mut kdl =
        String::from("project \"gen\" {\n    currency \"EUR\"\n}\nmetrics \"metrics/*.csv\"\n");
    kdl.push_str("defaults {\n    sockets 2\n    cores-per-socket 8\n    clock \"2.5GHz\"\n    memory \"64GiB\"\n}\n");
    for s in 0..SERVERS {
        kdl.push_str(&format!("server \"srv{s:04}\"\n"));
    }
    std::fs::write(root.join("estate.kdl"), kdl)?;
    let file = std::fs::File::create(root.join("metrics/all.csv"))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let header = "timestamp,server,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n";
    w.write_all(header.as_bytes())?;
    let (mut bytes, mut rows) = (header.len() as u64, 0u64);
    let target = (mb as u64) << 20;
    // 2026-03-02 00:00 UTC, then every 5 minutes; every server at each time.
    let mut t: u64 = 1_772_409_600;
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while bytes < target {
        for s in 0..SERVERS {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let line = format!(
                "{t},srv{s:04},{}.{},{}.{},{},{}.{},{}.{}\n",
                x % 100,
                x % 10,
                x % 60,
                (x >> 8) % 10,
                (x >> 16) % 5000,
                (x >> 24) % 400,
                (x >> 32) % 10,
                (x >> 40) % 1000,
                (x >> 48) % 10
            );
            w.write_all(line.as_bytes())?;
            bytes += line.len() as u64;
            rows += 1;
        }
        t += 300;
    }
    w.flush()?;
    Ok((bytes, rows))
}

fn generated(mb: usize) {
    let root = std::env::temp_dir().join(format!("virtplan-measure-bench-{}", std::process::id()));
    let start = Instant::now();
    let (bytes, rows) = match generate(&root, mb) {
        Ok(r) => r,
        Err(e) => {
            println!("skipped: cannot write {}: {e}", root.display());
            return;
        }
    };
    println!(
        "generated {:.1} MB, {rows} rows for {SERVERS} servers in {:.1} s; peak RSS so far {:.0} MB",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    let fs = Streamed(root.clone());
    let start = Instant::now();
    let compiled = virtplan::check(&fs);
    let secs = start.elapsed().as_secs_f64();
    let errors = compiled.diags.errors();
    println!(
        "measure --generated: {:.1} MB of CSV ({rows} rows) in {secs:.2} s ({:.0} MB/s); {errors} errors, {} warnings; peak RSS {:.0} MB",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        compiled.diags.warnings(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    let _ = std::fs::remove_dir_all(&root);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--generated") {
        let mb = args.get(i + 1).and_then(|a| a.parse().ok()).unwrap_or(300);
        generated(mb);
        return;
    }
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
