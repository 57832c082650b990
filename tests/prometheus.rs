//! `virtplan import metrics` against a real Prometheus (Debian's
//! `prometheus` package, which `.ci/run` installs; the tests skip with a
//! message outside CI when it is missing).
//!
//! A week of node_exporter and windows_exporter series for five instances
//! is generated as OpenMetrics text, backfilled into a TSDB with `promtool
//! tsdb create-blocks-from openmetrics`, and served by `prometheus` on a
//! loopback port. Rates are constant within each 10-minute step, so every
//! value the queries give is known exactly; the same values are written
//! straight as virtplan CSV. The import's files must give the same profiles
//! as those. Fault cases go through a proxy in front of Prometheus that
//! answers 500 or stalls.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use virtplan::measure::{self, Measured};
use virtplan::source::{MemorySource, SourceMap};

/// 2026-03-02 00:00:00 UTC, a Monday.
const T0: i64 = 1_772_409_600;
/// Seconds between samples and between the import's rows.
const SAMPLE: i64 = 120;
const STEP: i64 = 600;
/// Steps in the week.
const STEPS: i64 = 7 * 86400 / STEP;
/// app01's exporter is down from the end of step 300 through step 336.
const GAP: (i64, i64) = (300, 336);

// ------------------------------------------------------------------ data

/// What one exporter reports: its kind, instance label and server.
struct Instance {
    instance: &'static str,
    server: &'static str,
    kind: Kind,
    seed: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Linux,
    Windows,
    /// windows_exporter before its memory collector: `cs` and `os` memory.
    OldWindows,
}

const INSTANCES: [Instance; 6] = [
    Instance {
        instance: "web01:9100",
        server: "web01",
        kind: Kind::Linux,
        seed: 1,
    },
    Instance {
        instance: "db01.corp.example:9100",
        server: "db01",
        kind: Kind::Linux,
        seed: 2,
    },
    Instance {
        instance: "app01:9100",
        server: "app01",
        kind: Kind::Linux,
        seed: 3,
    },
    Instance {
        instance: "WIN01:9182",
        server: "win01",
        kind: Kind::Windows,
        seed: 4,
    },
    Instance {
        instance: "win02:9182",
        server: "win02",
        kind: Kind::OldWindows,
        seed: 5,
    },
    Instance {
        instance: "stray:9100",
        server: "",
        kind: Kind::Linux,
        seed: 6,
    },
];

/// One step's load: per-CPU busy fractions, memory used and total (bytes),
/// disk reads and writes a second, bytes read and written a second,
/// network bytes received and sent a second.
#[derive(Clone, Copy)]
struct Load {
    busy: [f64; 2],
    used: f64,
    total: f64,
    ops: [f64; 2],
    bytes: [f64; 2],
    net: [f64; 2],
}

/// The load of every step 0..=STEPS of an instance (step 0 is the one
/// before the range), with a daily rhythm and noise, on round values.
fn loads(seed: u64) -> Vec<Load> {
    let mut rng = common::Rng(seed);
    (0..=STEPS)
        .map(|k| {
            let hour = (k * STEP / 3600) % 24;
            let day = if (8..18).contains(&hour) { 1.0 } else { 0.3 };
            let mut r = |scale: f64| (day * scale * (0.5 + rng.below(500) as f64 / 1000.0)).round();
            Load {
                busy: [r(800.0) / 1000.0, r(600.0) / 1000.0],
                used: r(8192.0) * 1048576.0 + 2.0 * 1073741824.0,
                total: 16.0 * 1073741824.0,
                ops: [r(400.0), r(200.0)],
                bytes: [r(40.0) * 1e6 / 8.0, r(20.0) * 1e6 / 8.0],
                net: [r(100.0) * 1e6 / 8.0, r(60.0) * 1e6 / 8.0],
            }
        })
        .collect()
}

/// The step a sample time belongs to: step k covers (T0 + (k − 1) STEP,
/// T0 + k STEP].
fn step_of(t: i64) -> usize {
    ((t - T0 + STEP - 1) / STEP).max(0) as usize
}

fn sample_times(inst: &Instance) -> Vec<i64> {
    (0..=STEPS * STEP / SAMPLE)
        .map(|i| T0 + i * SAMPLE)
        .filter(|t| inst.server != "app01" || !(T0 + GAP.0 * STEP < *t && *t <= T0 + GAP.1 * STEP))
        .collect()
}

/// One series: its metric, labels and a value per sample time.
type SeriesOf = (&'static str, String, Box<dyn Fn(&Load) -> f64>);

/// The series an instance's exporter has: counters as rates (summed over
/// time below), gauges as values.
fn series(kind: Kind) -> (Vec<SeriesOf>, Vec<SeriesOf>) {
    let mut counters: Vec<SeriesOf> = Vec::new();
    let mut gauges: Vec<SeriesOf> = Vec::new();
    match kind {
        Kind::Linux => {
            for c in 0..2 {
                counters.push((
                    "node_cpu_seconds_total",
                    format!("cpu=\"{c}\",mode=\"idle\""),
                    Box::new(move |l| 1.0 - l.busy[c]),
                ));
                counters.push((
                    "node_cpu_seconds_total",
                    format!("cpu=\"{c}\",mode=\"user\""),
                    Box::new(move |l| l.busy[c]),
                ));
            }
            gauges.push((
                "node_memory_MemTotal_bytes",
                String::new(),
                Box::new(|l| l.total),
            ));
            gauges.push((
                "node_memory_MemAvailable_bytes",
                String::new(),
                Box::new(|l| l.total - l.used),
            ));
            // dm-0 is LVM on sda: the same I/O again, left out.
            for dev in ["sda", "dm-0"] {
                let d = format!("device=\"{dev}\"");
                counters.push((
                    "node_disk_reads_completed_total",
                    d.clone(),
                    Box::new(|l| l.ops[0]),
                ));
                counters.push((
                    "node_disk_writes_completed_total",
                    d.clone(),
                    Box::new(|l| l.ops[1]),
                ));
                counters.push((
                    "node_disk_read_bytes_total",
                    d.clone(),
                    Box::new(|l| l.bytes[0]),
                ));
                counters.push(("node_disk_written_bytes_total", d, Box::new(|l| l.bytes[1])));
            }
            // lo is left out, whatever it carries.
            for (dev, k) in [("eth0", 1.0), ("lo", 50.0)] {
                let d = format!("device=\"{dev}\"");
                counters.push((
                    "node_network_receive_bytes_total",
                    d.clone(),
                    Box::new(move |l| k * l.net[0]),
                ));
                counters.push((
                    "node_network_transmit_bytes_total",
                    d,
                    Box::new(move |l| k * l.net[1]),
                ));
            }
        }
        Kind::Windows | Kind::OldWindows => {
            for c in 0..2 {
                counters.push((
                    "windows_cpu_time_total",
                    format!("core=\"0,{c}\",mode=\"idle\""),
                    Box::new(move |l| 1.0 - l.busy[c]),
                ));
                counters.push((
                    "windows_cpu_time_total",
                    format!("core=\"0,{c}\",mode=\"user\""),
                    Box::new(move |l| l.busy[c]),
                ));
            }
            let (total, free) = if kind == Kind::Windows {
                (
                    "windows_memory_physical_total_bytes",
                    "windows_memory_available_bytes",
                )
            } else {
                (
                    "windows_cs_physical_memory_bytes",
                    "windows_os_physical_memory_free_bytes",
                )
            };
            gauges.push((total, String::new(), Box::new(|l| l.total)));
            gauges.push((free, String::new(), Box::new(|l| l.total - l.used)));
            // HarddiskVolume1 is the unmounted system partition: left out.
            for (vol, k) in [("C:", 1.0), ("HarddiskVolume1", 7.0)] {
                let v = format!("volume=\"{vol}\"");
                counters.push((
                    "windows_logical_disk_reads_total",
                    v.clone(),
                    Box::new(move |l| k * l.ops[0]),
                ));
                counters.push((
                    "windows_logical_disk_writes_total",
                    v.clone(),
                    Box::new(move |l| k * l.ops[1]),
                ));
                counters.push((
                    "windows_logical_disk_read_bytes_total",
                    v.clone(),
                    Box::new(move |l| k * l.bytes[0]),
                ));
                counters.push((
                    "windows_logical_disk_write_bytes_total",
                    v,
                    Box::new(move |l| k * l.bytes[1]),
                ));
            }
            // The team's multiplexor carries its member's traffic again.
            for nic in [
                "Intel_R_Ethernet_10G",
                "Microsoft_Network_Adapter_Multiplexor_Driver",
            ] {
                counters.push((
                    "windows_net_bytes_total",
                    format!("nic=\"{nic}\""),
                    Box::new(|l| l.net[0] + l.net[1]),
                ));
            }
        }
    }
    (counters, gauges)
}

/// The OpenMetrics text of every instance, grouped by metric name.
fn openmetrics() -> String {
    let mut by_metric: BTreeMap<&str, String> = BTreeMap::new();
    for inst in &INSTANCES {
        let load = loads(inst.seed);
        let times = sample_times(inst);
        let (counters, gauges) = series(inst.kind);
        let labels = |extra: &str| {
            let sep = if extra.is_empty() { "" } else { "," };
            format!(
                "{{instance=\"{}\",job=\"node\"{sep}{extra}}}",
                inst.instance
            )
        };
        for (metric, extra, rate) in &counters {
            let out = by_metric.entry(*metric).or_default();
            let lab = labels(extra);
            // Counters start at a large value (uptime before the week).
            let mut value = 1e6;
            let mut last = T0;
            for t in (0..=STEPS * STEP / SAMPLE).map(|i| T0 + i * SAMPLE) {
                if t > T0 {
                    value += rate(&load[step_of(t)]) * (t - last) as f64;
                }
                last = t;
                if times.binary_search(&t).is_ok() {
                    out.push_str(&format!("{metric}{lab} {value} {t}\n"));
                }
            }
        }
        for (metric, extra, gauge) in &gauges {
            let out = by_metric.entry(*metric).or_default();
            let lab = labels(extra);
            for &t in &times {
                out.push_str(&format!("{metric}{lab} {} {t}\n", gauge(&load[step_of(t)])));
            }
        }
    }
    let mut text: String = by_metric.into_values().collect();
    text.push_str("# EOF\n");
    text
}

/// What the import must write for an instance, straight from its loads:
/// one row per step end where every query has data.
fn expected_csv(inst: &Instance) -> String {
    let load = loads(inst.seed);
    let mut out = String::from("timestamp,server,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n");
    for k in 1..=STEPS {
        if inst.server == "app01" && GAP.0 < k && k <= GAP.1 {
            continue;
        }
        let l = &load[k as usize];
        let cpu = 100.0 * (1.0 - ((1.0 - l.busy[0]) + (1.0 - l.busy[1])) / 2.0);
        out.push_str(&format!(
            "{},{},{cpu},{},{},{},{}\n",
            virtplan::prometheus::rfc3339(T0 + k * STEP),
            inst.server,
            l.used / 1073741824.0,
            l.ops[0] + l.ops[1],
            (l.bytes[0] + l.bytes[1]) / 1e6,
            (l.net[0] + l.net[1]) * 8.0 / 1e6,
        ));
    }
    out
}

// ------------------------------------------------------------------ tools

/// `prometheus` and `promtool`, or `None` to skip (outside CI).
fn tools() -> Option<(PathBuf, PathBuf)> {
    let find = |name: &str| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    match (find("prometheus"), find("promtool")) {
        (Some(p), Some(t)) => Some((p, t)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must provide prometheus and promtool (Debian's prometheus package, see .ci/run)"
            );
            eprintln!("skipped: prometheus or promtool is missing (apt-get install prometheus)");
            None
        }
    }
}

/// A Prometheus serving the generated week, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Backfills the week into `dir/tsdb` and starts Prometheus on it.
fn serve(dir: &Path, prometheus: &Path, promtool: &Path) -> Server {
    let om = dir.join("week.om");
    std::fs::write(&om, openmetrics()).expect("write week.om");
    let tsdb = dir.join("tsdb");
    let out = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&tsdb)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").expect("write the config");
    let port = free_port();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg("--storage.tsdb.retention.time=36500d")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let server = Server { child, port };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if get(port, "/-/ready").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("prometheus did not become ready in 60 s");
}

/// A plain GET, the whole response, or `None` when nothing listens.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

// ------------------------------------------------------------------ the proxy

/// What the proxy does with a request.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fault {
    Pass,
    Fail500,
    Stall,
}

/// A proxy in front of Prometheus on its own port: `decide` sees each
/// request (line, headers and body) and how many requests it has seen.
fn proxy(upstream: u16, decide: impl Fn(&str, usize) -> Fault + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let port = listener.local_addr().expect("an address").port();
    let decide = Arc::new(decide);
    let seen = Arc::new(Mutex::new(0usize));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut client) = stream else { continue };
            let decide = Arc::clone(&decide);
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let Some(request) = read_request(&mut client) else {
                    return;
                };
                let n = {
                    let mut s = seen.lock().expect("the count");
                    *s += 1;
                    *s
                };
                match decide(&request, n) {
                    Fault::Fail500 => {
                        let body =
                            r#"{"status":"error","errorType":"internal","error":"injected"}"#;
                        let _ = write!(
                            client,
                            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Fault::Stall => std::thread::sleep(Duration::from_secs(5)),
                    Fault::Pass => {
                        let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                            return;
                        };
                        let _ = up.write_all(request.as_bytes());
                        let mut answer = Vec::new();
                        let _ = up.read_to_end(&mut answer);
                        let _ = client.write_all(&answer);
                    }
                }
            });
        }
    });
    port
}

/// One HTTP request, with `Connection: close` in place of the client's.
fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).ok()?;
    let head: String = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    Some(format!(
        "{head}Connection: close\r\n\r\n{}",
        String::from_utf8_lossy(&body)
    ))
}

// ------------------------------------------------------------------ the project

const PROJECT: &str = r#"
project "prom" {
    currency "EUR"
}

defaults {
    sockets 1
    cores-per-socket 4
    clock "2.5GHz"
    memory "16GiB"
}

server "web01"
server "db01"
server "app01"
server "win01"
server "win02"
server "nomon01"
"#;

fn project(dir: &Path) -> PathBuf {
    let p = dir.join("project");
    std::fs::create_dir_all(&p).expect("mkdir");
    std::fs::write(p.join("estate.kdl"), PROJECT).expect("write estate.kdl");
    p
}

fn import(project: &Path, port: u16, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .args(["import", "metrics"])
        .arg(project)
        .arg("--prometheus")
        .arg(format!("http://127.0.0.1:{port}"))
        .args([
            "--from",
            "2026-03-02T00:10:00Z",
            "--to",
            "2026-03-09T00:00:00Z",
        ])
        .args(["--step", "10m", "--out"])
        .arg(project.join("prom"))
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .expect("run virtplan")
}

/// Each server's measured profile, from the project with `metrics GLOB`.
fn profiles(files: &BTreeMap<String, Vec<u8>>, glob: &str) -> BTreeMap<String, Measured> {
    let fs = files
        .iter()
        .fold(MemorySource::new(), |src, (path, bytes)| {
            src.with(path, bytes.clone())
        })
        .with("estate.kdl", format!("{PROJECT}\nmetrics \"{glob}\"\n"));
    let loaded = virtplan::load::load(&fs);
    let mut sources: SourceMap = loaded.sources;
    let mut diags = loaded.diags;
    let model = virtplan::lower::lower(&loaded.nodes, &sources, &mut diags).expect("a model");
    let m = measure::measure(&model, &fs, &mut sources, &mut diags);
    assert!(!diags.has_errors(), "{:?}", diags.items);
    m.by_server
        .into_iter()
        .map(|(id, m)| (model.servers[id].name.clone(), m))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ------------------------------------------------------------------ tests

/// The import's files give the profiles of the generated data: every slot,
/// percentile and peak of the five resources, for Linux, Windows and old
/// Windows exporters, with app01's six-hour gap left out of both. The
/// stray instance is named, and the server without series.
#[test]
fn imported_profiles_are_those_of_the_generated_data() {
    let Some((prometheus, promtool)) = tools() else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-import");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let server = serve(&dir, &prometheus, &promtool);
    let project = project(&dir);

    let out = import(&project, server.port, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("stray:9100"), "{err}");
    assert!(err.contains("nomon01"), "{err}");

    let mut written = common::files_under(&project.join("prom"));
    // The file that reads them, for projects that include it.
    assert_eq!(
        written.remove("metrics.kdl").map(String::from_utf8),
        Some(Ok(virtplan::prometheus::metrics_kdl()))
    );
    assert_eq!(
        written.keys().cloned().collect::<Vec<_>>(),
        [
            "app01.csv",
            "db01.csv",
            "web01.csv",
            "win01.csv",
            "win02.csv"
        ]
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("add `include \"prom/metrics.kdl\"`"),
        "{stdout}"
    );
    let mut expected = BTreeMap::new();
    for inst in INSTANCES.iter().filter(|i| !i.server.is_empty()) {
        let got =
            String::from_utf8(written[&format!("{}.csv", inst.server)].clone()).expect("UTF-8");
        let want = expected_csv(inst);
        assert_eq!(got.lines().count(), want.lines().count(), "{}", inst.server);
        expected.insert(format!("{}.csv", inst.server), want.into_bytes());
    }
    // app01: 1008 steps less the 36 of its gap.
    assert_eq!(
        String::from_utf8_lossy(&written["app01.csv"])
            .lines()
            .count(),
        1 + 1008 - 36
    );

    let prefixed = |files: &BTreeMap<String, Vec<u8>>, dir: &str| {
        files
            .iter()
            .map(|(k, v)| (format!("{dir}/{k}"), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let got = profiles(&prefixed(&written, "prom"), "prom/*.csv");
    let want = profiles(&prefixed(&expected, "ref"), "ref/*.csv");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (name, w) in &want {
        let g = &got[name];
        assert_eq!(
            (g.samples, g.first, g.last),
            (w.samples, w.first, w.last),
            "{name}"
        );
        assert_eq!(g.present, w.present, "{name}");
        for r in 0..5 {
            assert!(close(g.percentile[r], w.percentile[r]), "{name} {r}");
            assert!(close(g.peak[r], w.peak[r]), "{name} {r}");
            for (a, b) in g.profile[r].iter().zip(&w.profile[r]) {
                assert!(close(*a, *b), "{name} resource {r}: {a} against {b}");
            }
        }
    }
    eprintln!("prometheus: {} servers' profiles match", want.len());
}

/// A request that keeps failing with 500 leaves its servers incomplete:
/// the run names them and the range, exits 1, and the files of the last
/// good import stay as they were. A stall past `--timeout` on the first
/// attempt is retried and the import completes.
#[test]
fn failed_and_slow_requests() {
    let Some((prometheus, promtool)) = tools() else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-faults");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let server = serve(&dir, &prometheus, &promtool);
    let project = project(&dir);

    // The first memory query stalls past the 2-second timeout, then passes.
    let stalled = Arc::new(Mutex::new(false));
    let once = Arc::clone(&stalled);
    let slow = proxy(server.port, move |request, _| {
        let mut done = once.lock().expect("the flag");
        if request.contains("MemTotal") && !*done {
            *done = true;
            Fault::Stall
        } else {
            Fault::Pass
        }
    });
    let started = Instant::now();
    let out = import(&project, slow, &["--timeout", "2s", "--retries", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(*stalled.lock().expect("the flag"), "nothing stalled");
    assert!(started.elapsed() >= Duration::from_secs(2));
    let good = common::files_under(&project.join("prom"));
    assert_eq!(good.len(), 6);

    // Every network query fails: nothing is written, the servers are named.
    let failing = proxy(server.port, |request, _| {
        if request.contains("network_receive") {
            Fault::Fail500
        } else {
            Fault::Pass
        }
    });
    let out = import(
        &project,
        failing,
        &["--retries", "1", "--message-format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let messages: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON diagnostic");
            (
                v["code"].as_str().unwrap_or("").to_string(),
                v["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let incomplete: Vec<&String> = messages
        .iter()
        .filter(|(code, _)| code == "virtplan::prometheus::request")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(incomplete.len(), 5, "{messages:?}");
    for name in ["web01", "db01", "app01", "win01", "win02"] {
        assert!(
            incomplete.contains(&&format!(
                "`{name}` is incomplete, no file written for it: network from 2026-03-02 00:10:00 \
                 to 2026-03-09 00:00:00 (HTTP 500: internal: injected, after 2 attempts)"
            )),
            "{incomplete:?}"
        );
    }
    assert_eq!(common::files_under(&project.join("prom")), good);
}

/// The book's page shows each query exactly as the import sends it (with
/// the default label, a 5-minute step, and without the batch's instance
/// matcher).
#[test]
fn the_book_shows_the_queries() {
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/prometheus.md"),
    )
    .expect("book/src/prometheus.md");
    let mut missing = Vec::new();
    for r in measure::RESOURCES {
        let q = virtplan::prometheus::query(r, "instance", "", "300s");
        if !page.lines().any(|l| l == q) {
            missing.push(format!("{}:\n{q}", virtplan::prometheus::column(r)));
        }
    }
    assert!(
        missing.is_empty(),
        "not in the book:\n{}",
        missing.join("\n\n")
    );
}

/// From an inventory export and a Prometheus URL to a first plan: `init`,
/// then `import inventory`, `import metrics` and `plan`, with no file
/// edited (init's two example servers deleted). Every imported server is
/// measured in the plan.
#[test]
fn an_export_and_a_url_make_a_plan() {
    let Some((prometheus, promtool)) = tools() else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("prometheus-flow");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let server = serve(&dir, &prometheus, &promtool);
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_virtplan"))
            .args(args)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .expect("run virtplan");
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        o
    };
    run(&["init", "estate"]);
    std::fs::remove_file(dir.join("estate/servers/examples.kdl")).expect("rm examples");
    std::fs::write(
        dir.join("cmdb.csv"),
        "name,sockets,cores,clock,memory,disk-used\n\
         web01,1,4,2.5,16,100\ndb01,1,4,2.5,16,100\napp01,1,4,2.5,16,100\n\
         WIN01,1,4,2.5,16,100\nwin02,1,4,2.5,16,100\n",
    )
    .expect("write the export");
    run(&[
        "import",
        "inventory",
        "cmdb.csv",
        "--format",
        "generic",
        "--out",
        "estate/servers",
    ]);
    let url = format!("http://127.0.0.1:{}", server.port);
    let o = run(&[
        "import",
        "metrics",
        "estate",
        "--prometheus",
        &url,
        "--from",
        "2026-03-02T00:10:00Z",
        "--to",
        "2026-03-09T00:00:00Z",
        "--step",
        "10m",
        "--out",
        "estate/prometheus",
    ]);
    // The project reads the files already: no hint to add anything.
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(!said.contains("does not read them"), "{said}");
    // Everything the imports wrote is as `fmt` writes it.
    run(&["fmt", "estate", "--check"]);
    run(&["plan", "estate", "--out", "plan"]);
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("plan/plan.json")).expect("plan.json"))
            .expect("json");
    let servers = plan["assessment"]["servers"].as_array().expect("servers");
    assert_eq!(servers.len(), 5);
    for s in servers {
        assert!(
            s["samples"].as_u64().is_some_and(|n| n >= 1008 - 36),
            "{}: {s}",
            s["name"]
        );
    }
}
