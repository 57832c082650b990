//! The assessment end to end: measurement files → workload profiles →
//! verdicts, right-sized VMs and data-confidence grades.
//!
//! Every test builds a tiny project in memory with [`Estate`]: one platform,
//! one host model, one cluster and a few servers, with CSV files written by
//! hand. Expected values are worked out by hand in the comments, from the
//! rules in the `//!` headers of `measure`, `import` and `assess`; they are
//! never copied from the program's output.
//!
//! The base estate, which most tests use as it is:
//! - host model `h`: 2 × 16 cores at 2.5 GHz with cpu-perf 1.2, so one core
//!   is 3.0 reference GHz and the host 96 GHz; 512 GiB; storage 16000 IOPS
//!   and 4000 MB/s; network 25 Gbit/s. Cluster targets are the defaults
//!   (CPU 80%, memory 90%): 76.8 GHz and 460.8 GiB usable.
//! - platform `hv`: CPU overhead 10%, I/O overhead 25%, 512 MiB per VM.
//! - every server (`defaults`): 2 × 8 cores at 2.5 GHz, cpu-perf 1.0, so
//!   40 GHz; 64 GiB; disk 500 GB of which 100 GB used; its disks sustain
//!   2000 IOPS; 2 NICs of 1 Gbit/s, 2000 Mbit/s.
//! - project: UTC, weekly profile of hourly slots at p95, headroom 1.3,
//!   memory granularity 1 GiB, min 1 vCPU and 1 GiB, growth 0%, I/O-heavy
//!   share 10%, bottlenecks CPU 90%, memory 95%, disk 90%, network 90%.

mod common;

use common::Rng;
use virtplan::Compiled;
use virtplan::assess::{ServerAssessment, VerdictCount};
use virtplan::diag::{Diagnostic, Severity};
use virtplan::measure::{self, Measured, Resource};
use virtplan::model::Verdict;
use virtplan::source::{MemorySource, SourceMap};

// ------------------------------------------------------------------ helpers

const PLATFORM: &str = r#"
platform "hv" {
    kind "bare-metal"
    hypervisor "kvm"
    cpu-overhead "10%"
    io-overhead "25%"
    memory-overhead-per-vm "512MiB"
}
"#;

const HOST: &str = r#"
host-model "h" {
    sockets 2
    cores-per-socket 16
    clock "2.5GHz"
    cpu-perf 1.2
    memory "512GiB"
    storage-iops 16000
    storage-throughput "4000MB/s"
    network "25Gbps"
}
"#;

const DEFAULTS: &str = r#"
defaults {
    sockets 2
    cores-per-socket 8
    clock "2.5GHz"
    memory "64GiB"
    disk-size "500GB"
    disk-used "100GB"
    disk-iops 2000
    nics 2
    nic-speed "1Gbps"
}
"#;

/// A tiny project under construction.
struct Estate {
    /// Lines inside the `project` node.
    project: String,
    /// Top-level nodes besides the platform, hosts, cluster and servers.
    top: String,
    /// The host-model nodes.
    hosts: String,
    /// The arguments of the cluster's `host-model`.
    cluster_models: String,
    servers: String,
    files: Vec<(String, String)>,
}

impl Estate {
    fn new() -> Estate {
        Estate {
            project: String::new(),
            top: String::new(),
            hosts: HOST.to_string(),
            cluster_models: "\"h\"".to_string(),
            servers: String::new(),
            files: Vec::new(),
        }
    }
    /// Adds lines to the `project` node.
    fn project(mut self, lines: &str) -> Estate {
        self.project.push_str(lines);
        self.project.push('\n');
        self
    }
    /// Adds a top-level node.
    fn top(mut self, kdl: &str) -> Estate {
        self.top.push_str(kdl);
        self.top.push('\n');
        self
    }
    /// Replaces the host models; `models` are the cluster's, first first.
    fn hosts(mut self, kdl: &str, models: &str) -> Estate {
        self.hosts = kdl.to_string();
        self.cluster_models = models.to_string();
        self
    }
    /// A server without measurements.
    fn server(mut self, name: &str, body: &str) -> Estate {
        self.servers
            .push_str(&format!("server \"{name}\" {{\n{body}\n}}\n"));
        self
    }
    /// A server measured by `m/<name>.csv` in virtplan's own format.
    fn measured(self, name: &str, body: &str, csv: &str) -> Estate {
        let path = format!("m/{name}.csv");
        self.server(name, &format!("metrics \"{path}\"\n{body}"))
            .file(&path, csv)
    }
    fn file(mut self, path: &str, text: &str) -> Estate {
        self.files.push((path.to_string(), text.to_string()));
        self
    }
    fn source(&self) -> MemorySource {
        let kdl = format!(
            "project \"t\" {{\n{}}}\ncosts {{\n    energy-price 0.2\n}}\n{PLATFORM}{}\ncluster \"c\" {{\n    platform \"hv\"\n    host-model {}\n}}\n{DEFAULTS}{}{}",
            self.project, self.hosts, self.cluster_models, self.top, self.servers
        );
        let mut src = MemorySource::new().with("p.kdl", kdl);
        for (path, text) in &self.files {
            src = src.with(path, text.as_str());
        }
        src
    }
    /// Compiles the project; the KDL itself must be free of errors.
    fn compile(&self) -> Compiled {
        let c = virtplan::compile(&self.source());
        let kdl_errors: Vec<&Diagnostic> = c
            .diags
            .items
            .iter()
            .filter(|d| d.severity == Severity::Error && d.code.starts_with("virtplan::check"))
            .collect();
        assert!(
            kdl_errors.is_empty(),
            "the test project is wrong: {kdl_errors:?}"
        );
        assert!(c.plan.is_some(), "no plan: {:?}", c.diags.items);
        c
    }
    /// Runs the measurement stage alone and returns one server's profile.
    fn measure(&self, server: &str) -> Measured {
        let src = self.source();
        let c = virtplan::compile(&src);
        let model = c.model.expect("the test project compiles");
        let id = model
            .servers
            .iter()
            .position(|s| s.name == server)
            .expect("the server exists");
        let mut sources = SourceMap::default();
        let mut diags = virtplan::diag::Diagnostics::default();
        let mut m = measure::measure(&model, &src, &mut sources, &mut diags);
        m.by_server
            .remove(&id)
            .expect("the server has measurements")
    }
}

/// One server's assessment.
fn server<'a>(c: &'a Compiled, name: &str) -> &'a ServerAssessment {
    let plan = c.plan.as_ref().expect("a plan");
    plan.assessment
        .servers
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no assessment of `{name}`"))
}

/// The diagnostics of one code, with their `file:line:col`.
fn diags_of(c: &Compiled, code: &str) -> Vec<(Severity, String, String)> {
    c.diags
        .items
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            let at = d.span.map_or(String::new(), |s| c.sources.position(s));
            (d.severity, at, d.message.clone())
        })
        .collect()
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() < 1e-9,
        "got {got}, expected {want} (hand-computed)"
    );
}

#[track_caller]
fn has_reason(s: &ServerAssessment, parts: &[&str]) {
    assert!(
        s.reasons
            .iter()
            .any(|r| parts.iter().all(|p| r.contains(p))),
        "no reason of {} mentions all of {parts:?}: {:?}",
        s.name,
        s.reasons
    );
}

const CPU: usize = Resource::Cpu as usize;

// ------------------------------------------------------------------ profiles

/// Two Mondays, at 08:00 and 09:00 UTC each (40 GHz server):
/// Mon 2 Mar 08:00 10% = 4 GHz, 09:00 50% = 20 GHz;
/// Mon 9 Mar 08:00 60% = 24 GHz, 09:00 20% = 8 GHz.
fn two_mondays() -> Estate {
    Estate::new().measured(
        "web01",
        "",
        "timestamp,cpu_pct\n\
         2026-03-02T08:00:00Z,10\n\
         2026-03-02T09:00:00Z,50\n\
         2026-03-09T08:00:00Z,60\n\
         2026-03-09T09:00:00Z,20\n",
    )
}

#[test]
fn weekly_slot_is_the_p95_of_the_samples_of_that_hour() {
    let m = two_mondays().measure("web01");
    assert_eq!(m.profile[CPU].len(), 168);
    // Slot 8 (Monday 08:00) holds 4 and 24: rank ⌈0.95 × 2⌉ = 2 → 24.
    close(m.profile[CPU][8], 24.0);
    // Slot 9 holds 20 and 8: rank 2 of (8, 20) → 20.
    close(m.profile[CPU][9], 20.0);
    assert_eq!(m.covered_slots, 2);
    assert_eq!(m.samples, 4);
    close(m.peak[CPU], 24.0);
}

#[test]
fn weekly_empty_slot_takes_the_overall_p95() {
    let m = two_mondays().measure("web01");
    // All four samples sorted: 4, 8, 20, 24; rank ⌈0.95 × 4⌉ = 4 → 24.
    close(m.percentile[CPU], 24.0);
    // Monday 00:00, Tuesday 08:00 and Sunday 23:00 have no sample.
    close(m.profile[CPU][0], 24.0);
    close(m.profile[CPU][24 + 8], 24.0);
    close(m.profile[CPU][167], 24.0);
}

/// A day of four 6-hour slots at p50 (40 GHz server):
/// slot 0 (00–06): 10% = 4 GHz, 30% = 12 (at 05:59:59), 40% = 16 (next day);
/// slot 1 (06–12): 50% = 20 (at 06:00 sharp);
/// slot 2 (12–18): 5% = 2, 15% = 6 (next day);
/// slot 3 (18–24): nothing.
fn daily_p50() -> Estate {
    Estate::new()
        .project(r#"profile period="1d" slot="6h" percentile=50"#)
        .measured(
            "web01",
            "",
            "timestamp,cpu_pct\n\
             2026-03-02T01:00:00Z,10\n\
             2026-03-02T05:59:59Z,30\n\
             2026-03-02T06:00:00Z,50\n\
             2026-03-02T12:00:00Z,5\n\
             2026-03-03T00:30:00Z,40\n\
             2026-03-03T17:00:00Z,15\n",
        )
}

#[test]
fn custom_period_and_slot_fold_at_p50_by_nearest_rank() {
    let m = daily_p50().measure("web01");
    assert_eq!(m.profile[CPU].len(), 4);
    // Slot 0: 4, 12, 16; rank ⌈0.5 × 3⌉ = 2 → 12.
    close(m.profile[CPU][0], 12.0);
    // Slot 1: 20 alone.
    close(m.profile[CPU][1], 20.0);
    // Slot 2: 2, 6; rank ⌈0.5 × 2⌉ = 1 → 2.
    close(m.profile[CPU][2], 2.0);
    assert_eq!(m.covered_slots, 3);
}

#[test]
fn custom_period_empty_slot_takes_the_overall_p50() {
    let m = daily_p50().measure("web01");
    // All six: 2, 4, 6, 12, 16, 20; rank ⌈0.5 × 6⌉ = 3 → 6, a value no
    // slot has: the empty slot 3 really takes the overall percentile.
    close(m.percentile[CPU], 6.0);
    close(m.profile[CPU][3], 6.0);
    close(m.peak[CPU], 20.0);
}

#[test]
fn project_time_zone_shifts_the_slots() {
    // At +02:00, Mon 2 Mar 08:00 UTC is 10:00 local: slot 10, not 8. Sun 8
    // Mar 23:00 UTC is Mon 01:00 local: slot 1, not 167.
    let m = Estate::new()
        .project(r#"timezone "+02:00""#)
        .measured(
            "web01",
            "",
            "timestamp,cpu_pct\n\
             2026-03-02T08:00:00Z,10\n\
             2026-03-08T23:00:00Z,20\n",
        )
        .measure("web01");
    // 10% and 20% of 40 GHz.
    close(m.profile[CPU][10], 4.0);
    close(m.profile[CPU][1], 8.0);
    assert_eq!(m.covered_slots, 2);
    // The UTC hours are empty: the overall p95 of (4, 8) = 8.
    close(m.profile[CPU][8], 8.0);
    close(m.profile[CPU][167], 8.0);
}

#[test]
fn cpu_perf_scales_cpu_pct_to_reference_ghz() {
    // 50% of 2 × 8 × 2.5 GHz × 0.5 = 10 reference GHz (20 with cpu-perf 1).
    let c = Estate::new()
        .measured(
            "old01",
            "cpu-perf 0.5",
            "timestamp,cpu_pct\n2026-03-02T08:00:00Z,50\n2026-03-02T09:00:00Z,50\n",
        )
        .compile();
    let s = server(&c, "old01");
    close(s.demand.cpu_ghz_p, 10.0);
    close(s.demand.cpu_pct_p, 50.0);
    // ⌈10 × 1.3 ÷ 3.0⌉ = ⌈4.33⌉ = 5 vCPUs.
    assert_eq!(s.vm.vcpus, 5);
}

#[test]
fn cpu_ghz_column_is_scaled_by_cpu_perf() {
    // 6 GHz of this server's cores × 0.5 = 3 reference GHz; of its 20
    // reference GHz (40 × 0.5) that is 15%.
    let c = Estate::new()
        .measured(
            "old01",
            "cpu-perf 0.5",
            "timestamp,cpu_ghz\n2026-03-02T08:00:00Z,6\n2026-03-02T09:00:00Z,2\n",
        )
        .compile();
    let s = server(&c, "old01");
    close(s.demand.cpu_ghz_p, 3.0);
    close(s.demand.cpu_pct_p, 15.0);
}

#[test]
fn demand_is_p95_for_cpu_and_io_and_the_peak_for_memory() {
    // Twenty hourly rows whose value k runs through 1..=20 in a shuffled
    // order (k = 7i mod 20 + 1). Sorted, p95 is rank ⌈0.95 × 20⌉ = 19 →
    // k = 19; the memory peak is k = 20.
    let mut csv = "timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n".to_string();
    for i in 0..20 {
        let k = (7 * i) % 20 + 1;
        csv.push_str(&format!(
            "2026-03-02T{i:02}:00:00Z,{k},{k},{},{},{}\n",
            10 * k,
            f64::from(k) / 2.0,
            5 * k
        ));
    }
    let c = Estate::new().measured("web01", "", &csv).compile();
    let s = server(&c, "web01");
    assert_eq!(s.samples, 20);
    // CPU: 19% of 40 GHz = 7.6 GHz.
    close(s.demand.cpu_ghz_p, 7.6);
    close(s.demand.cpu_pct_p, 19.0);
    close(s.demand.memory_gib_peak, 20.0);
    close(s.demand.disk_iops_p, 190.0);
    close(s.demand.disk_mb_s_p, 9.5);
    close(s.demand.net_mbit_s_p, 95.0);
}

// ------------------------------------------------------------------ verdicts

/// A quiet day: 10% CPU (4 GHz), 8 GiB, 100 IOPS, 5 MB/s, 20 Mbit/s.
const QUIET: &str = "timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n\
                     2026-03-02T08:00:00Z,10,8,100,5,20\n\
                     2026-03-02T09:00:00Z,10,8,100,5,20\n";

/// Two identical rows with the given values of
/// `cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s`.
fn steady(values: &str) -> String {
    format!(
        "timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n\
         2026-03-02T08:00:00Z,{values}\n\
         2026-03-02T09:00:00Z,{values}\n"
    )
}

#[test]
fn quiet_server_is_virtualized_without_reasons() {
    let c = Estate::new().measured("web01", "", QUIET).compile();
    let s = server(&c, "web01");
    assert_eq!(s.verdict, Verdict::Virtualize);
    assert_eq!(s.computed, Verdict::Virtualize);
    assert!(s.reasons.is_empty(), "{:?}", s.reasons);
    assert_eq!(s.override_reason, None);
}

#[test]
fn special_hardware_keeps_a_server_physical() {
    let c = Estate::new()
        .measured(
            "cad01",
            r#"special-hardware "usb-dongle" note="licence key of the CAD suite""#,
            QUIET,
        )
        .compile();
    let s = server(&c, "cad01");
    assert_eq!(s.verdict, Verdict::KeepPhysical);
    has_reason(
        s,
        &[
            "special hardware",
            "usb-dongle",
            "licence key of the CAD suite",
        ],
    );
    assert_eq!(s.reasons.len(), 1);
}

#[test]
fn vendor_without_virtualization_support_keeps_a_server_physical() {
    let c = Estate::new()
        .measured(
            "lab01",
            r#"vendor-support virtualized=#false note="certified on bare metal only""#,
            QUIET,
        )
        .compile();
    let s = server(&c, "lab01");
    assert_eq!(s.verdict, Verdict::KeepPhysical);
    has_reason(s, &["vendor", "certified on bare metal only"]);
}

#[test]
fn server_too_large_for_every_host_model_stays_physical() {
    // 4 × 16 cores at 2.5 GHz = 160 GHz, 50% busy = 80 GHz in every slot.
    // As the placement sees it (busiest slot with the platform's CPU
    // overhead, no growth) it needs 80 × 1.1 = 88 GHz; a host offers
    // 96 × 80% = 76.8 GHz. Memory: 20 GiB × 1.3 = 26 GiB,
    // plus 0.5 GiB per VM = 26.5 GiB of 512 × 90% = 460.8 GiB.
    let c = Estate::new()
        .measured(
            "big01",
            "sockets 4\ncores-per-socket 16\nmemory \"256GiB\"",
            &steady("50,20,100,5,20"),
        )
        .compile();
    let s = server(&c, "big01");
    assert_eq!(s.verdict, Verdict::KeepPhysical);
    // Only the limit it exceeds is named; memory fits.
    has_reason(s, &["too large", "CPU 88 GHz against 76.8 GHz"]);
    assert!(
        s.reasons.iter().all(|r| !r.contains("GiB")),
        "{:?}",
        s.reasons
    );
}

/// The check covers every resource the placement packs, not only CPU and
/// memory: 14,000 IOPS in every slot need 14,000 × 1.25 (the platform's
/// I/O overhead) = 17,500 IOPS, where a host offers 16,000 × 80% = 12,800.
/// Judged `virtualize` before, the server then fitted no host.
#[test]
fn server_over_any_hosts_storage_stays_physical() {
    let c = Estate::new()
        .measured("io01", "disk-iops 100000", &steady("10,8,14000,5,20"))
        .compile();
    let s = server(&c, "io01");
    assert_eq!(s.verdict, Verdict::KeepPhysical, "{:?}", s.reasons);
    has_reason(s, &["too large", "disk IOPS 17500 IOPS against 12800 IOPS"]);
    assert!(
        c.plan.as_ref().is_some_and(|p| p
            .capacity
            .clusters
            .iter()
            .all(|cp| cp.unplaced.is_empty())),
        "the placement is not left with a VM it cannot place"
    );
}

#[test]
fn cpu_p95_at_or_above_90_percent_is_fix_first() {
    // 92% of 40 GHz; the reason names the percentage and the threshold.
    let c = Estate::new()
        .measured("busy01", "", &steady("92,8,100,5,20"))
        .compile();
    let s = server(&c, "busy01");
    assert_eq!(s.verdict, Verdict::FixFirst);
    has_reason(s, &["CPU p95", "92%", "threshold 90%"]);
}

#[test]
fn cpu_p95_just_below_90_percent_is_not_a_bottleneck() {
    // 89.9% < 90%. Needs 35.96 × 1.3 × 1.1 = 51.4 GHz of 76.8: it fits.
    let c = Estate::new()
        .measured("busy01", "", &steady("89.9,8,100,5,20"))
        .compile();
    assert_eq!(server(&c, "busy01").verdict, Verdict::Virtualize);
}

#[test]
fn memory_peak_at_or_above_95_percent_of_installed_is_fix_first() {
    // 61 of 64 GiB = 95.3125% → "95.3%".
    let c = Estate::new()
        .measured("mem01", "", &steady("10,61,100,5,20"))
        .compile();
    let s = server(&c, "mem01");
    assert_eq!(s.verdict, Verdict::FixFirst);
    has_reason(s, &["memory", "95.3%", "threshold 95%"]);
}

/// A database holds 61 of its 64 GiB on purpose (its buffer pool): with
/// `memory-by-role` for its role it is not fix-first, and its VM gets the
/// declared 64 GiB (not ⌈61 × 1.3⌉ = 80), or 75% of it, 48 GiB.
#[test]
fn memory_held_by_a_role_is_sized_by_its_rule_and_never_a_bottleneck() {
    let db = |project: &str| {
        Estate::new()
            .project(project)
            .measured("sql01", "roles \"sql-server\"", &steady("10,61,100,5,20"))
            .compile()
    };
    let c = db(r#"memory-by-role "sql-server" "exchange""#);
    let s = server(&c, "sql01");
    assert_eq!(s.verdict, Verdict::Virtualize, "{:?}", s.reasons);
    close(s.vm.memory_gib, 64.0);
    close(s.demand.memory_gib_peak, 61.0);
    has_reason(
        s,
        &[
            "role `sql-server`",
            "the installed 64 GiB",
            "not judged as a bottleneck",
        ],
    );
    assert!(
        !s.reasons.iter().any(|r| r.contains("threshold")),
        "{:?}",
        s.reasons
    );

    let c = db(r#"memory-by-role "sql-server" rule="share" share="75%""#);
    let s = server(&c, "sql01");
    assert_eq!(s.verdict, Verdict::Virtualize);
    close(s.vm.memory_gib, 48.0);
    has_reason(s, &["75% of the installed 64 GiB"]);

    // Another role is judged as before.
    let c = db(r#"memory-by-role "jvm""#);
    let s = server(&c, "sql01");
    assert_eq!(s.verdict, Verdict::FixFirst);
    close(s.vm.memory_gib, 80.0);
}

#[test]
fn memory_by_role_settings_are_checked() {
    for (line, code, says) in [
        (
            r#"memory-by-role "sql-server" rule="share""#,
            "virtplan::check::missing",
            "needs `share`",
        ),
        (
            r#"memory-by-role "sql-server" share="50%""#,
            "virtplan::check::out-of-range",
            "applies only with `rule=\"share\"`",
        ),
        (
            r#"memory-by-role "sql-server" rule="share" share="0%""#,
            "virtplan::check::out-of-range",
            "above 0% and at most 100%",
        ),
    ] {
        let src = Estate::new().project(line).server("a", "").source();
        let c = virtplan::compile(&src);
        assert!(
            c.diags
                .items
                .iter()
                .any(|d| d.code == code && d.message.contains(says)),
            "{line}: {:?}",
            c.diags.items
        );
    }
}

/// A threshold of 100% is met only above it: memory at 64 of 64 GiB is
/// not a bottleneck then (the test is off), while disks at 2100 of their
/// 2000 IOPS still are (beyond their stated capacity).
#[test]
fn a_threshold_of_100_percent_is_met_only_above_it() {
    let c = Estate::new()
        .project(r#"bottleneck memory="100%" disk="100%""#)
        .measured("full", "", &steady("10,64,100,5,20"))
        .measured("disks", "", &steady("10,8,2100,5,20"))
        .compile();
    assert_ne!(
        server(&c, "full").verdict,
        Verdict::FixFirst,
        "{:?}",
        server(&c, "full").reasons
    );
    let s = server(&c, "disks");
    assert_eq!(s.verdict, Verdict::FixFirst);
    has_reason(s, &["disk IOPS", "105%", "threshold 100%"]);
}

#[test]
fn disk_iops_at_or_above_90_percent_of_the_disks_is_fix_first() {
    // 1900 of the disks' 2000 IOPS = 95%. It is also I/O-heavy (1900 ×
    // 1.25 = 2375 ≥ 10% of 16000 = 1600), but fix-first is stronger; both
    // reasons are listed, the stronger first.
    let c = Estate::new()
        .measured("db01", "", &steady("10,8,1900,5,20"))
        .compile();
    let s = server(&c, "db01");
    assert_eq!(s.verdict, Verdict::FixFirst);
    has_reason(s, &["disk IOPS p95", "95%", "2000 IOPS", "threshold 90%"]);
    has_reason(s, &["I/O-heavy", "disk IOPS"]);
    assert!(s.reasons[0].contains("threshold 90%"), "{:?}", s.reasons);
}

#[test]
fn network_at_or_above_90_percent_of_the_nics_is_fix_first() {
    // 1850 of 2 × 1000 Mbit/s = 92.5%. Not I/O-heavy: 1850 × 1.25 =
    // 2312.5 < 10% of 25000 = 2500.
    let c = Estate::new()
        .measured("net01", "", &steady("10,8,100,5,1850"))
        .compile();
    let s = server(&c, "net01");
    assert_eq!(s.verdict, Verdict::FixFirst);
    has_reason(s, &["network p95", "92.5%", "2000 Mbit/s", "threshold 90%"]);
    assert_eq!(s.reasons.len(), 1, "{:?}", s.reasons);
}

#[test]
fn io_heavy_after_platform_overhead_is_virtualize_with_care() {
    // 1400 IOPS alone is under 10% of the host's 16000 (1600), but with the
    // 25% I/O overhead it is 1750 = 10.9375% → "10.9%". 1400 of the
    // server's own 2000 IOPS is 70%: no bottleneck.
    let c = Estate::new()
        .measured("mail01", "", &steady("10,8,1400,5,20"))
        .compile();
    let s = server(&c, "mail01");
    assert_eq!(s.verdict, Verdict::VirtualizeWithCare);
    has_reason(
        s,
        &[
            "I/O-heavy",
            "disk IOPS",
            "1400",
            "1750",
            "25%",
            "10.9%",
            "`h`",
        ],
    );
    assert_eq!(s.reasons.len(), 1, "{:?}", s.reasons);
}

#[test]
fn io_under_the_share_after_overhead_is_virtualized() {
    // 1200 × 1.25 = 1500 < 1600.
    let c = Estate::new()
        .measured("mail01", "", &steady("10,8,1200,5,20"))
        .compile();
    let s = server(&c, "mail01");
    assert_eq!(s.verdict, Verdict::Virtualize);
    assert!(s.reasons.is_empty(), "{:?}", s.reasons);
}

#[test]
fn disk_throughput_io_heavy_is_virtualize_with_care() {
    // 340 MB/s × 1.25 = 425 ≥ 10% of the host's 4000 MB/s = 400. The
    // server has no throughput limit of its own, so no bottleneck.
    let c = Estate::new()
        .measured("backup01", "", &steady("10,8,100,340,20"))
        .compile();
    let s = server(&c, "backup01");
    assert_eq!(s.verdict, Verdict::VirtualizeWithCare);
    has_reason(s, &["I/O-heavy", "disk throughput", "340", "425", "MB/s"]);
}

#[test]
fn cpu_bottleneck_threshold_is_configurable() {
    // 85% is under the default 90% but at or above 80%.
    let csv = steady("85,8,100,5,20");
    let default = Estate::new().measured("app01", "", &csv).compile();
    assert_eq!(server(&default, "app01").verdict, Verdict::Virtualize);
    let strict = Estate::new()
        .project(r#"bottleneck cpu="80%""#)
        .measured("app01", "", &csv)
        .compile();
    let s = server(&strict, "app01");
    assert_eq!(s.verdict, Verdict::FixFirst);
    has_reason(s, &["CPU p95", "85%", "threshold 80%"]);
}

#[test]
fn io_heavy_share_is_configurable() {
    // 700 × 1.25 = 875 IOPS: under 10% of 16000 (1600), over 5% (800);
    // 875 / 16000 = 5.47% → "5.5%".
    let csv = steady("10,8,700,5,20");
    let default = Estate::new().measured("app01", "", &csv).compile();
    assert_eq!(server(&default, "app01").verdict, Verdict::Virtualize);
    let strict = Estate::new()
        .project(r#"io-heavy "5%""#)
        .measured("app01", "", &csv)
        .compile();
    let s = server(&strict, "app01");
    assert_eq!(s.verdict, Verdict::VirtualizeWithCare);
    has_reason(s, &["I/O-heavy", "875", "5.5%"]);
}

#[test]
fn keep_physical_outranks_fix_first_and_both_reasons_are_listed() {
    // A GPU and 95% CPU: keep-physical, the hardware reason first.
    let c = Estate::new()
        .measured(
            "cad02",
            r#"special-hardware "gpu""#,
            &steady("95,8,100,5,20"),
        )
        .compile();
    let s = server(&c, "cad02");
    assert_eq!(s.verdict, Verdict::KeepPhysical);
    assert_eq!(s.reasons.len(), 2, "{:?}", s.reasons);
    assert!(s.reasons[0].contains("gpu"), "{:?}", s.reasons);
    assert!(s.reasons[1].contains("CPU p95") && s.reasons[1].contains("95%"));
}

#[test]
fn verdict_override_shows_the_computed_verdict_and_its_reason() {
    let c = Estate::new()
        .measured(
            "erp01",
            r#"verdict "keep-physical" reason="replaced by SaaS next year""#,
            QUIET,
        )
        .compile();
    let s = server(&c, "erp01");
    assert_eq!(s.verdict, Verdict::KeepPhysical);
    assert_eq!(s.computed, Verdict::Virtualize);
    assert_eq!(
        s.override_reason.as_deref(),
        Some("replaced by SaaS next year")
    );
}

// ------------------------------------------------------------------ right-sizing

#[test]
fn sixteen_core_server_using_one_core_becomes_a_two_vcpu_vm() {
    // One core of 2.5 GHz is 6.25% of 16 cores. 2.5 × 1.3 = 3.25 GHz ÷ 3.0
    // GHz per host core = 1.08 → 2 vCPUs.
    let c = Estate::new()
        .measured("web01", "", &steady("6.25,8,100,5,20"))
        .compile();
    let s = server(&c, "web01");
    assert_eq!(s.old.vcpus, 16);
    close(s.demand.cpu_ghz_p, 2.5);
    assert_eq!(s.vm.vcpus, 2);
}

#[test]
fn vcpus_use_the_core_ghz_of_the_clusters_first_host_model() {
    // First model: 3 GHz × cpu-perf 1.5 = 4.5 GHz a core. 22.5% of 40 GHz
    // = 9 GHz × 1.3 = 11.7 ÷ 4.5 = 2.6 → 3 vCPUs (the second model's 2 GHz
    // cores would give ⌈5.85⌉ = 6).
    let c = Estate::new()
        .hosts(
            r#"
host-model "fast" {
    sockets 2
    cores-per-socket 16
    clock "3GHz"
    cpu-perf 1.5
    memory "512GiB"
}
host-model "slow" {
    sockets 2
    cores-per-socket 16
    clock "2GHz"
    memory "512GiB"
}
"#,
            r#""fast" "slow""#,
        )
        .measured("app01", "", &steady("22.5,8,100,5,20"))
        .compile();
    assert_eq!(server(&c, "app01").vm.vcpus, 3);
}

#[test]
fn min_vcpus_is_the_smallest_vm() {
    // 1% of 40 GHz = 0.4 × 1.3 ÷ 3 = 0.17 → 1, raised to 4.
    let c = Estate::new()
        .project("sizing min-vcpus=4")
        .measured("idle01", "", &steady("1,8,100,5,20"))
        .compile();
    assert_eq!(server(&c, "idle01").vm.vcpus, 4);
}

#[test]
fn vm_memory_is_the_peak_with_headroom_rounded_up_to_the_granularity() {
    // Peak 10.2 GiB × 1.3 = 13.26 GiB: 14 GiB in steps of 1 GiB, 16 GiB
    // in steps of 4 GiB.
    let csv = steady("10,10.2,100,5,20");
    let c = Estate::new().measured("app01", "", &csv).compile();
    close(server(&c, "app01").vm.memory_gib, 14.0);
    let c = Estate::new()
        .project(r#"sizing memory-granularity="4GiB""#)
        .measured("app01", "", &csv)
        .compile();
    close(server(&c, "app01").vm.memory_gib, 16.0);
}

#[test]
fn min_memory_is_the_smallest_vm_memory() {
    // 1 GiB × 1.3 = 1.3 → 2 GiB, raised to 8 GiB.
    let c = Estate::new()
        .project(r#"sizing min-memory="8GiB""#)
        .measured("idle01", "", &steady("1,1,100,5,20"))
        .compile();
    close(server(&c, "idle01").vm.memory_gib, 8.0);
}

#[test]
fn vm_disk_is_the_used_space_grown_over_the_horizon() {
    // 100 GB used × 1.1³ = 133.1 GB; the old box had 500 GB installed.
    let c = Estate::new()
        .project("growth-per-year \"10%\"\nhorizon-years 3")
        .measured("file01", "", QUIET)
        .compile();
    let s = server(&c, "file01");
    close(s.vm.disk_gb, 133.1);
    close(s.old.disk_gb, 500.0);
}

#[test]
fn estate_totals_count_the_servers_that_move() {
    // web01: 16 cores, 64 GiB → 6.25% = 2.5 GHz → 2 vCPUs; 10.2 GiB → 14.
    // app01: 16 cores, 64 GiB → 30% = 12 GHz × 1.3 ÷ 3 = 5.2 → 6 vCPUs;
    //        20 GiB × 1.3 = 26 GiB.
    // cad01: keep-physical, left out of the old and new sizes.
    let c = Estate::new()
        .measured("web01", "", &steady("6.25,10.2,100,5,20"))
        .measured("app01", "", &steady("30,20,100,5,20"))
        .measured("cad01", r#"special-hardware "gpu""#, QUIET)
        .compile();
    let t = &c.plan.as_ref().expect("a plan").assessment.totals;
    assert_eq!(t.servers, 3);
    assert_eq!(t.old_cores, 32);
    close(t.old_memory_gib, 128.0);
    assert_eq!(t.new_vcpus, 8);
    close(t.new_memory_gib, 40.0);
    assert_eq!(
        t.counts,
        vec![
            VerdictCount {
                verdict: Verdict::Virtualize,
                servers: 2
            },
            VerdictCount {
                verdict: Verdict::VirtualizeWithCare,
                servers: 0
            },
            VerdictCount {
                verdict: Verdict::FixFirst,
                servers: 0
            },
            VerdictCount {
                verdict: Verdict::KeepPhysical,
                servers: 1
            },
        ]
    );
}

// ------------------------------------------------------------------ confidence

/// A server measured at the given times of a daily profile of four 6-hour
/// slots (00, 06, 12, 18).
fn daily(times: &[&str]) -> Estate {
    let mut csv = "timestamp,cpu_pct\n".to_string();
    for t in times {
        csv.push_str(&format!("{t},10\n"));
    }
    Estate::new()
        .project(r#"profile period="1d" slot="6h""#)
        .measured("web01", "", &csv)
}

#[test]
fn full_coverage_over_more_than_a_period_is_grade_5() {
    // All 4 slots; history 1 day 18 h plus the last sample's 6 h slot = 2 days ≥ the 1-day period.
    let c = daily(&[
        "2026-03-02T00:00:00Z",
        "2026-03-02T06:00:00Z",
        "2026-03-02T12:00:00Z",
        "2026-03-02T18:00:00Z",
        "2026-03-03T00:00:00Z",
        "2026-03-03T06:00:00Z",
        "2026-03-03T12:00:00Z",
        "2026-03-03T18:00:00Z",
    ])
    .compile();
    let s = server(&c, "web01");
    close(s.coverage_pct, 100.0);
    close(s.history_days, 2.0);
    assert_eq!(s.confidence, 5);
}

#[test]
fn half_coverage_is_grade_3() {
    // Slots 0 and 1 of 4 = 50% → ⌈2.5⌉ = 3; history 1 day 6 h ≥ 1 day.
    let c = daily(&[
        "2026-03-02T00:00:00Z",
        "2026-03-02T06:00:00Z",
        "2026-03-03T00:00:00Z",
        "2026-03-03T06:00:00Z",
    ])
    .compile();
    let s = server(&c, "web01");
    close(s.coverage_pct, 50.0);
    assert_eq!(s.confidence, 3);
}

#[test]
fn history_shorter_than_the_period_lowers_the_grade_by_one() {
    // Slots 0-2 of 4 = 75% → ⌈3.75⌉ = 4; history 12 h + the last 6 h slot
    // = 18 h: shorter than 1 day, not under half → 4 − 1 = 3.
    let c = daily(&[
        "2026-03-02T00:00:00Z",
        "2026-03-02T06:00:00Z",
        "2026-03-02T12:00:00Z",
    ])
    .compile();
    let s = server(&c, "web01");
    close(s.coverage_pct, 75.0);
    close(s.history_days, 0.75);
    assert_eq!(s.confidence, 3);
}

#[test]
fn history_under_half_the_period_lowers_the_grade_by_two() {
    // Two samples in slot 0 only: 25% → ⌈1.25⌉ = 2; history 1 h + the 6 h
    // slot = 7 h, under half a day → 2 − 2 = 0, clamped to 1, the lowest
    // grade of a measured server.
    let c = daily(&["2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z"]).compile();
    let s = server(&c, "web01");
    close(s.history_days, 7.0 / 24.0);
    assert_eq!(s.confidence, 1);
}

#[test]
fn one_full_week_of_hourly_samples_is_grade_5() {
    // 168 hourly samples, Monday 00:00 to Sunday 23:00: every slot of the
    // week is covered once, and the samples span the whole period (the
    // last one stands for Sunday 23:00–24:00). Full coverage over one
    // period is grade 5.
    let mut csv = "timestamp,cpu_pct\n".to_string();
    for h in 0..168 {
        csv.push_str(&format!(
            "2026-03-{:02}T{:02}:00:00Z,10\n",
            2 + h / 24,
            h % 24
        ));
    }
    let c = Estate::new().measured("web01", "", &csv).compile();
    let s = server(&c, "web01");
    assert_eq!(s.samples, 168);
    close(s.coverage_pct, 100.0);
    assert_eq!(s.confidence, 5, "history {} days", s.history_days);
}

#[test]
fn server_without_measurements_is_grade_0_with_a_warning() {
    let c = Estate::new().server("print01", "").compile();
    let s = server(&c, "print01");
    assert_eq!(s.confidence, 0);
    assert_eq!(s.samples, 0);
    close(s.coverage_pct, 0.0);
    has_reason(s, &["no measurements"]);
    let w = diags_of(&c, "virtplan::metrics::no-data");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, Severity::Warning);
    assert!(w[0].1.starts_with("p.kdl:"), "{w:?}");
    assert!(w[0].2.contains("print01"), "{w:?}");
}

// ------------------------------------------------------------------ data quality

/// web01's file with one bad row on line 3 between two good ones on lines
/// 2 and 4: 10% (4 GHz) at 08:00 and 30% (12 GHz) at 10:00.
fn one_bad_row(bad: &str) -> Compiled {
    let csv = format!(
        "timestamp,cpu_pct,mem_gib\n\
         2026-03-02T08:00:00Z,10,8\n\
         {bad}\n\
         2026-03-02T10:00:00Z,30,8\n"
    );
    Estate::new().measured("web01", "", &csv).compile()
}

/// The bad row gives one warning of `code` on line 3, is counted as
/// rejected, and the rest of the file is used: p95 of (4, 12) = 12 GHz.
#[track_caller]
fn rejected_on_line_3(c: &Compiled, code: &str) {
    let found = diags_of(c, code);
    assert_eq!(found.len(), 1, "{:?}", c.diags.items);
    assert_eq!(found[0].0, Severity::Warning, "{found:?}");
    assert_eq!(found[0].1, "m/web01.csv:3:1", "{found:?}");
    assert!(!c.diags.has_errors(), "{:?}", c.diags.items);
    let s = server(c, "web01");
    assert_eq!(s.rejected, 1);
    assert_eq!(s.samples, 2);
    close(s.demand.cpu_ghz_p, 12.0);
}

#[test]
fn malformed_row_is_a_warning_at_its_line_and_left_out() {
    let c = one_bad_row("2026-03-02T09:00:00Z,20");
    rejected_on_line_3(&c, "virtplan::metrics::row");
}

#[test]
fn negative_value_is_a_warning_at_its_line_and_left_out() {
    let c = one_bad_row("2026-03-02T09:00:00Z,20,-1");
    rejected_on_line_3(&c, "virtplan::metrics::row");
}

#[test]
fn cpu_pct_over_100_is_a_warning_at_its_line_and_left_out() {
    let c = one_bad_row("2026-03-02T09:00:00Z,120,8");
    rejected_on_line_3(&c, "virtplan::metrics::row");
}

#[test]
fn unordered_timestamp_is_a_warning_at_its_line_and_left_out() {
    // 07:00 comes after 08:00; had it been used, p95 would be 90% = 36 GHz.
    let c = one_bad_row("2026-03-02T07:00:00Z,90,8");
    rejected_on_line_3(&c, "virtplan::metrics::order");
}

#[test]
fn file_whose_every_row_is_rejected_still_counts_them() {
    // Both rows are bad, so the server has no data (grade 0, sized from its
    // configuration), but the two rejected rows are still counted.
    let c = Estate::new()
        .measured(
            "web01",
            "",
            "timestamp,cpu_pct\n2026-03-02T08:00:00Z,120\n2026-03-02T09:00:00Z,-3\n",
        )
        .compile();
    assert_eq!(diags_of(&c, "virtplan::metrics::row").len(), 2);
    let s = server(&c, "web01");
    assert_eq!(s.samples, 0);
    assert_eq!(s.confidence, 0);
    assert_eq!(s.rejected, 2);
}

#[test]
fn unknown_column_is_a_warning_at_its_header_cell() {
    // `temp_c` starts after "timestamp,cpu_pct," (18 bytes): column 19.
    let c = Estate::new()
        .measured(
            "web01",
            "",
            "timestamp,cpu_pct,temp_c\n2026-03-02T08:00:00Z,10,41\n2026-03-02T09:00:00Z,20,45\n",
        )
        .compile();
    let w = diags_of(&c, "virtplan::metrics::unknown-column");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, Severity::Warning);
    assert_eq!(w[0].1, "m/web01.csv:1:19");
    let s = server(&c, "web01");
    assert_eq!(s.samples, 2);
    // p95 of 4 and 8 GHz.
    close(s.demand.cpu_ghz_p, 8.0);
}

/// A project-level glob: one file with a `server` column for web01 and
/// db01, neither of which names a file of its own, and a row (line 5) for
/// a server not in the inventory.
fn pooled() -> Compiled {
    Estate::new()
        .top(r#"metrics "m/*.csv""#)
        .server("web01", "")
        .server("db01", "")
        .file(
            "m/all.csv",
            "timestamp,server,cpu_pct\n\
             2026-03-02T08:00:00Z,web01,10\n\
             2026-03-02T08:00:00Z,db01,50\n\
             2026-03-02T09:00:00Z,web01,30\n\
             2026-03-02T09:00:00Z,ghost01,99\n",
        )
        .compile()
}

#[test]
fn project_level_glob_feeds_each_server_its_rows() {
    let c = pooled();
    // web01: 10% and 30% of 40 GHz → p95 12 GHz; db01: 50% → 20 GHz.
    let web = server(&c, "web01");
    assert_eq!(web.samples, 2);
    close(web.demand.cpu_ghz_p, 12.0);
    let db = server(&c, "db01");
    assert_eq!(db.samples, 1);
    close(db.demand.cpu_ghz_p, 20.0);
    assert!(diags_of(&c, "virtplan::metrics::no-data").is_empty());
}

#[test]
fn glob_row_for_a_server_not_in_the_inventory_is_a_warning() {
    let c = pooled();
    let w = diags_of(&c, "virtplan::metrics::unknown-server");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, Severity::Warning);
    assert_eq!(w[0].1, "m/all.csv:5:1");
    assert!(w[0].2.contains("ghost01"), "{w:?}");
    assert!(!c.diags.has_errors(), "{:?}", c.diags.items);
}

// ------------------------------------------------------------------ formats

#[test]
fn perfmon_file_gives_the_demand_end_to_end() {
    // Three rows an hour apart; the isatap interface is left out, and so is
    // the NIC team's Multiplexor interface, whose traffic is its members'.
    // CPU 25, 50, 10% of 40 GHz = 10, 20, 4 → p95 20 GHz (50%).
    // Memory used = 64 GiB − available (32768, 16384, 49152 MB = 32, 16, 48
    // GiB) = 32, 48, 16 → peak 48 GiB.
    // IOPS 300, 500, 100 → 500. Disk 5e6, 1e7, 1e6 B/s → 5, 10, 1 → 10 MB/s.
    // Network 2.5e6, 1.25e6, 125000 B/s × 8 = 20, 10, 1 → 20 Mbit/s.
    let text = r#""(PDH-CSV 4.0) (Coordinated Universal Time)(0)","\\WEB01\Processor(_Total)\% Processor Time","\\WEB01\Memory\Available MBytes","\\WEB01\PhysicalDisk(_Total)\Disk Transfers/sec","\\WEB01\PhysicalDisk(_Total)\Disk Bytes/sec","\\WEB01\Network Interface(Intel[R] Ethernet)\Bytes Total/sec","\\WEB01\Network Interface(isatap.{1234})\Bytes Total/sec","\\WEB01\Network Interface(Microsoft Network Adapter Multiplexor Driver)\Bytes Total/sec"
"03/02/2026 08:00:00.000","25","32768","300","5000000","2500000","99999999","2500000"
"03/02/2026 09:00:00.000","50","16384","500","10000000","1250000","99999999","1250000"
"03/02/2026 10:00:00.000","10","49152","100","1000000","125000","99999999","125000"
"#;
    // Stated, or recognised from the file's first line (`"(PDH-CSV`).
    for metrics in [
        r#"metrics "m/web01.csv" format="perfmon""#,
        r#"metrics "m/web01.csv""#,
    ] {
        perfmon_end_to_end(metrics, text);
    }
}

fn perfmon_end_to_end(metrics: &str, text: &str) {
    let c = Estate::new()
        .server("web01", metrics)
        .file("m/web01.csv", text)
        .compile();
    assert!(c.diags.items.is_empty(), "{metrics}: {:?}", c.diags.items);
    let s = server(&c, "web01");
    assert_eq!(s.samples, 3);
    close(s.demand.cpu_ghz_p, 20.0);
    close(s.demand.cpu_pct_p, 50.0);
    close(s.demand.memory_gib_peak, 48.0);
    close(s.demand.disk_iops_p, 500.0);
    close(s.demand.disk_mb_s_p, 10.0);
    close(s.demand.net_mbit_s_p, 20.0);
    // ⌈20 × 1.3 ÷ 3⌉ = ⌈8.67⌉ = 9 vCPUs; ⌈48 × 1.3⌉ = ⌈62.4⌉ = 63 GiB.
    assert_eq!(s.vm.vcpus, 9);
    close(s.vm.memory_gib, 63.0);
    assert_eq!(s.verdict, Verdict::Virtualize);
}

#[test]
fn sadf_file_gives_the_demand_end_to_end() {
    // Two times ten minutes apart, four sections merged per time.
    // CPU 100 − 70 = 30% and 100 − 40 = 60% of 40 GHz → 12, 24 → p95 24.
    // Memory 16777216 and 25165824 kB = 16 and 24 GiB → peak 24.
    // Disks (dm-0 is stacked on sda and left out): IOPS 100, 300 → 300;
    // (976.5625 + 0) and (1953.125 + 976.5625) kB × 1024 = 1e6 and 3e6 B/s
    // → 1 and 3 MB/s → 3.
    // Network without lo: 1220.703125 and 2441.40625 kB × 8192 = 1e7 and
    // 2e7 bit/s → 10 and 20 Mbit/s → 20.
    let text = "\
# hostname;interval;timestamp;CPU;%user;%nice;%system;%iowait;%steal;%idle
db01;600;2026-03-02 08:00:00 UTC;-1;20.00;0.00;10.00;0.00;0.00;70.00
db01;600;2026-03-02 08:10:00 UTC;-1;50.00;0.00;10.00;0.00;0.00;40.00
# hostname;interval;timestamp;kbmemfree;kbavail;kbmemused;%memused
db01;600;2026-03-02 08:00:00 UTC;0;0;16777216;25.00
db01;600;2026-03-02 08:10:00 UTC;0;0;25165824;37.50
# hostname;interval;timestamp;DEV;tps;rkB/s;wkB/s
db01;600;2026-03-02 08:00:00 UTC;sda;100.00;976.5625;0.00
db01;600;2026-03-02 08:00:00 UTC;dm-0;500.00;9765.625;0.00
db01;600;2026-03-02 08:10:00 UTC;sda;300.00;1953.125;976.5625
# hostname;interval;timestamp;IFACE;rxpck/s;txpck/s;rxkB/s;txkB/s
db01;600;2026-03-02 08:00:00 UTC;lo;1.00;1.00;90000.00;90000.00
db01;600;2026-03-02 08:00:00 UTC;eth0;1.00;1.00;1220.703125;0.00
db01;600;2026-03-02 08:10:00 UTC;eth0;1.00;1.00;1220.703125;1220.703125
";
    // Stated, or recognised from the file's first line (`# hostname;`).
    for metrics in [
        r#"metrics "m/db01.sadf" format="sadf""#,
        r#"metrics "m/db01.sadf""#,
    ] {
        sadf_end_to_end(metrics, text);
    }
}

fn sadf_end_to_end(metrics: &str, text: &str) {
    let c = Estate::new()
        .server("db01", metrics)
        .file("m/db01.sadf", text)
        .compile();
    assert!(c.diags.items.is_empty(), "{metrics}: {:?}", c.diags.items);
    let s = server(&c, "db01");
    assert_eq!(s.samples, 2);
    close(s.demand.cpu_ghz_p, 24.0);
    close(s.demand.cpu_pct_p, 60.0);
    close(s.demand.memory_gib_peak, 24.0);
    close(s.demand.disk_iops_p, 300.0);
    close(s.demand.disk_mb_s_p, 3.0);
    close(s.demand.net_mbit_s_p, 20.0);
    // ⌈24 × 1.3 ÷ 3⌉ = ⌈10.4⌉ = 11 vCPUs; ⌈24 × 1.3⌉ = ⌈31.2⌉ = 32 GiB.
    assert_eq!(s.vm.vcpus, 11);
    close(s.vm.memory_gib, 32.0);
}

// ------------------------------------------------------------------ trust in the data

/// `n` hourly rows from Monday 2026-03-02 00:00 UTC, CPU 10% (4 GHz) except
/// where `cpu` says otherwise, as `(timestamp, cpu_pct)`.
fn hourly(n: usize, cpu: impl Fn(usize) -> u32) -> Vec<(String, u32)> {
    (0..n)
        .map(|h| {
            (
                format!("2026-03-{:02}T{:02}:00:00Z", 2 + h / 24, h % 24),
                cpu(h),
            )
        })
        .collect()
}

fn csv_of(rows: &[(String, u32)]) -> String {
    let mut csv = "timestamp,cpu_pct\n".to_string();
    for (t, c) in rows {
        csv.push_str(&format!("{t},{c}\n"));
    }
    csv
}

/// Every diagnostic of a measurement file (codes under `virtplan::metrics`).
fn metric_diags(c: &Compiled) -> Vec<(Severity, String, &'static str)> {
    c.diags
        .items
        .iter()
        .filter(|d| d.code.starts_with("virtplan::metrics"))
        .map(|d| {
            let at = d.span.map_or(String::new(), |s| c.sources.position(s));
            (d.severity, at, d.code)
        })
        .collect()
}

#[test]
fn newest_first_file_is_sorted_and_used_with_a_note() {
    // Two weeks of hourly rows (336), written newest first. Sorted, every
    // row is used: full coverage over two periods is grade 5. The one note
    // points at the second row (line 3), the first that goes back in time.
    let mut rows = hourly(336, |_| 10);
    rows.reverse();
    let c = Estate::new()
        .measured("web01", "", &csv_of(&rows))
        .compile();
    assert_eq!(
        metric_diags(&c),
        vec![(
            Severity::Note,
            "m/web01.csv:3:1".to_string(),
            "virtplan::metrics::sorted"
        )]
    );
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (336, 0));
    close(s.history_days, 14.0);
    assert_eq!(s.confidence, 5);
}

#[test]
fn shuffled_file_is_sorted_and_gives_the_profile_of_its_rows() {
    // 48 hourly rows, CPU 10% except 50% (20 GHz) at hour 30, in an order
    // that no single row explains: swapped pairs. Sorted, the profile is
    // that of the rows: p95 of 47 × 4 GHz and one 20 GHz is 4 GHz in every
    // slot but Tuesday 06:00 (slot 30), whose only sample is 20 GHz.
    let mut rows = hourly(48, |h| if h == 30 { 50 } else { 10 });
    for k in (0..48).step_by(2) {
        rows.swap(k, k + 1);
    }
    let est = Estate::new().measured("web01", "", &csv_of(&rows));
    let c = est.compile();
    let d = metric_diags(&c);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].2, "virtplan::metrics::sorted");
    let m = est.measure("web01");
    assert_eq!((m.samples, m.rejected), (48, 0));
    close(m.profile[CPU][30], 20.0);
    close(m.profile[CPU][29], 4.0);
    close(m.profile[CPU][31], 4.0);
}

#[test]
fn a_row_with_a_typo_in_its_date_is_the_one_reported() {
    // 48 hourly rows on 2 and 3 March; the row on line 21 (hour 19) says
    // 5 March instead of 2 March. Without it the file is in order, so it is
    // the one unordered row, not lines 22 to 49.
    let mut rows = hourly(48, |_| 10);
    rows[19].0 = "2026-03-05T19:00:00Z".to_string();
    let c = Estate::new()
        .measured("web01", "", &csv_of(&rows))
        .compile();
    assert_eq!(
        metric_diags(&c),
        vec![(
            Severity::Warning,
            "m/web01.csv:21:1".to_string(),
            "virtplan::metrics::order"
        )]
    );
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (47, 1));
}

#[test]
fn a_row_with_a_typo_in_its_year_is_the_one_reported() {
    // The same with 2062 for 2026 on line 21: far outside the period the
    // other rows cover, so it is an implausible time, and only it.
    let mut rows = hourly(48, |_| 10);
    rows[19].0 = "2062-03-02T19:00:00Z".to_string();
    let c = Estate::new()
        .measured("web01", "", &csv_of(&rows))
        .compile();
    assert_eq!(
        metric_diags(&c),
        vec![(
            Severity::Warning,
            "m/web01.csv:21:1".to_string(),
            "virtplan::metrics::implausible-time"
        )]
    );
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (47, 1));
}

#[test]
fn rows_far_outside_the_measured_period_are_rejected_each_with_its_line() {
    // One week of hourly rows at 10% (4 GHz), a first row from 1970 at 99%
    // and a last row from 9999 at 99%. Both are rejected with their own
    // line (2 and 171); had they been used the CPU p95 would be 39.6 GHz
    // in slot 0 and 23, the history 2.9 million days. Without them:
    // 4 GHz, one week of history, grade 5.
    let mut rows = vec![("1970-01-01T00:00:00Z".to_string(), 99)];
    rows.extend(hourly(168, |_| 10));
    rows.push(("9999-03-02T23:00:00Z".to_string(), 99));
    let c = Estate::new()
        .measured("web01", "", &csv_of(&rows))
        .compile();
    let d = metric_diags(&c);
    assert_eq!(
        d,
        vec![
            (
                Severity::Warning,
                "m/web01.csv:2:1".to_string(),
                "virtplan::metrics::implausible-time"
            ),
            (
                Severity::Warning,
                "m/web01.csv:171:1".to_string(),
                "virtplan::metrics::implausible-time"
            ),
        ]
    );
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (168, 2));
    close(s.demand.cpu_ghz_p, 4.0);
    close(s.history_days, 7.0);
    assert_eq!(s.confidence, 5);
    assert_eq!(s.verdict, Verdict::Virtualize);
}

#[test]
fn impossible_dates_and_leap_seconds_are_rejected_and_do_not_roll_over() {
    // 30 February and 31 April do not exist and 23:59:60 is a leap second:
    // each row is rejected at its own line (3, 5, 7). Had 2026-02-30 rolled
    // over to 2 March, the rows after it would have been out of order.
    let csv = "timestamp,cpu_pct\n\
               2026-02-28T22:00:00Z,10\n\
               2026-02-30T00:00:00Z,90\n\
               2026-02-28T23:00:00Z,10\n\
               2026-04-31T23:59:59Z,90\n\
               2026-03-01T00:00:00Z,20\n\
               2026-03-01T23:59:60Z,90\n\
               2026-03-02T00:00:00Z,10\n";
    let c = Estate::new().measured("web01", "", csv).compile();
    let d = metric_diags(&c);
    let lines: Vec<(&str, &str)> = d.iter().map(|x| (x.1.as_str(), x.2)).collect();
    assert_eq!(
        lines,
        vec![
            ("m/web01.csv:3:1", "virtplan::metrics::row"),
            ("m/web01.csv:5:1", "virtplan::metrics::row"),
            ("m/web01.csv:7:1", "virtplan::metrics::row"),
        ]
    );
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (4, 3));
    // 10, 10, 20, 10% of 40 GHz: the peak is 8 GHz, never 36.
    close(s.demand.cpu_ghz_p, 8.0);
}

#[test]
fn fully_quoted_file_is_read_as_rfc_4180() {
    // Every field quoted; the ignored `note` column holds a comma and a
    // doubled quote. CPU 10, 30, 20% of 40 GHz → p95 12 GHz.
    let csv = "\"timestamp\",\"cpu_pct\",\"note\"\n\
               \"2026-03-02T08:00:00Z\",\"10\",\"ok, \"\"steady\"\"\"\n\
               \"2026-03-02T09:00:00Z\",\"30\",\"\"\n\
               \"2026-03-02T10:00:00Z\",\"20\",\"a,b,c\"\n";
    let c = Estate::new().measured("web01", "", csv).compile();
    let d = metric_diags(&c);
    // Only the unused column is reported: `note` starts at byte 22, column 23.
    assert_eq!(
        d,
        vec![(
            Severity::Warning,
            "m/web01.csv:1:23".to_string(),
            "virtplan::metrics::unknown-column"
        )]
    );
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (3, 0));
    close(s.demand.cpu_ghz_p, 12.0);
}

#[test]
fn two_files_giving_one_server_the_same_times_are_an_error_naming_both() {
    // web01's own file gives CPU at 08:00 and 09:00; an estate-wide export
    // gives disk IOPS at the same times. That is an error at the second
    // file's first clashing row (line 2 of m/web01.csv, read after the
    // glob's files) naming both files, with the first file's row related.
    let c = Estate::new()
        .top(r#"metrics "x/*.csv""#)
        .measured(
            "web01",
            "",
            "timestamp,cpu_pct\n2026-03-02T08:00:00Z,10\n2026-03-02T09:00:00Z,30\n",
        )
        .file(
            "x/all.csv",
            "timestamp,server,disk_iops\n2026-03-02T08:00:00Z,web01,100\n2026-03-02T09:00:00Z,web01,900\n",
        )
        .compile();
    let errs: Vec<&Diagnostic> = c
        .diags
        .items
        .iter()
        .filter(|d| d.code == "virtplan::metrics::two-sources")
        .collect();
    assert_eq!(errs.len(), 1, "{:?}", c.diags.items);
    let e = errs[0];
    assert_eq!(e.severity, Severity::Error);
    assert!(e.message.contains("x/all.csv") && e.message.contains("m/web01.csv"));
    assert_eq!(c.sources.position(e.span.unwrap()), "m/web01.csv:2:1");
    assert_eq!(c.sources.position(e.related[0].0), "x/all.csv:2:1");
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (2, 2));
}

/// web01 with three of its four rows over 100% CPU, and `profile` lines.
fn mostly_rejected(project: &str) -> Compiled {
    Estate::new()
        .project(project)
        .measured(
            "web01",
            "",
            "timestamp,cpu_pct\n\
             2026-03-02T08:00:00Z,125\n\
             2026-03-02T09:00:00Z,30\n\
             2026-03-02T10:00:00Z,180\n\
             2026-03-02T11:00:00Z,101\n",
        )
        .compile()
}

#[test]
fn a_server_with_most_rows_rejected_is_an_error_naming_file_count_and_share() {
    let c = mostly_rejected("");
    let e = diags_of(&c, "virtplan::metrics::rejected");
    assert_eq!(e.len(), 1, "{:?}", c.diags.items);
    assert_eq!(e[0].0, Severity::Error);
    assert!(e[0].1.starts_with("p.kdl:"), "{e:?}");
    assert!(
        e[0].2.contains("m/web01.csv") && e[0].2.contains("3 of 4") && e[0].2.contains("75.0%"),
        "{e:?}"
    );
}

#[test]
fn the_share_of_rejected_rows_allowed_is_configurable() {
    // 75% rejected is under a limit of 80%, and at a limit of 75% too (only
    // more than the limit is an error).
    for limit in ["80%", "75%"] {
        let c = mostly_rejected(&format!(r#"profile max-rejected="{limit}""#));
        assert!(diags_of(&c, "virtplan::metrics::rejected").is_empty());
        assert!(!c.diags.has_errors(), "{:?}", c.diags.items);
    }
    let c = mostly_rejected(r#"profile max-rejected="74%""#);
    assert_eq!(diags_of(&c, "virtplan::metrics::rejected").len(), 1);
}

#[test]
fn a_repeated_time_keeps_the_first_row_and_points_at_it() {
    // 09:00 twice (lines 3 and 4): the second is rejected with a warning
    // whose related span is the first; the first (30%, 12 GHz) is used.
    let c = Estate::new()
        .measured(
            "web01",
            "",
            "timestamp,cpu_pct\n\
             2026-03-02T08:00:00Z,10\n\
             2026-03-02T09:00:00Z,30\n\
             2026-03-02T09:00:00Z,90\n\
             2026-03-02T10:00:00Z,20\n",
        )
        .compile();
    let d: Vec<&Diagnostic> = c
        .diags
        .items
        .iter()
        .filter(|d| d.code == "virtplan::metrics::order")
        .collect();
    assert_eq!(d.len(), 1, "{:?}", c.diags.items);
    assert_eq!(c.sources.position(d[0].span.unwrap()), "m/web01.csv:4:1");
    assert_eq!(c.sources.position(d[0].related[0].0), "m/web01.csv:3:1");
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (3, 1));
    close(s.demand.cpu_ghz_p, 12.0);
}

// ------------------------------------------------------------------ generated files

/// A generated row: its line text and, when it is valid, what it measures
/// (hour of the week, CPU percent, memory GiB).
struct GenRow {
    text: String,
    valid: Option<(usize, u32, f64)>,
}

/// Writes a field, quoted (with any quote doubled) when `quote` says so.
fn field(s: &str, quote: bool) -> String {
    if quote || s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn stamp(hour: usize) -> String {
    format!("2026-03-{:02}T{:02}:00:00Z", 2 + hour / 24, hour % 24)
}

/// One generated file for web01: distinct valid hours of the week in
/// sorted, reversed or pairwise-swapped order (never fixable by removing
/// one row, so no valid row is taken for an outlier), then bad rows put
/// after them in file order: repeats of a valid time, impossible dates,
/// leap seconds, times decades away, malformed and truncated rows; fields
/// quoted at random, and a `note` column with commas and quotes.
fn generate(rng: &mut Rng) -> (String, Vec<GenRow>) {
    let n = 8 + rng.below(40);
    let mut hours: Vec<usize> = (0..168).collect();
    for i in (1..hours.len()).rev() {
        hours.swap(i, rng.below(i + 1));
    }
    hours.truncate(n);
    hours.sort_unstable();
    match rng.below(3) {
        0 => {}
        1 => hours.reverse(),
        _ => {
            for k in (0..n - 1).step_by(2) {
                hours.swap(k, k + 1);
            }
        }
    }
    let note = rng.chance(50);
    let quote_all = rng.chance(20);
    let row = |rng: &mut Rng, t: &str, cpu: &str, mem: &str| {
        let q = |rng: &mut Rng| quote_all || rng.chance(10);
        let mut cells = vec![field(t, q(rng)), field(cpu, q(rng)), field(mem, q(rng))];
        if note {
            let text = ["ok", "a, b", "say \"hi\"", ""][rng.below(4)];
            cells.push(field(text, q(rng)));
        }
        cells.join(",")
    };
    let mut rows: Vec<GenRow> = hours
        .iter()
        .map(|&h| {
            let cpu = rng.below(101) as u32;
            let mem = rng.below(640) as f64 / 10.0;
            GenRow {
                text: row(rng, &stamp(h), &cpu.to_string(), &mem.to_string()),
                valid: Some((h, cpu, mem)),
            }
        })
        .collect();
    // Mostly a few bad rows; one file in five has up to twice as many bad
    // rows as good ones.
    let bad = if rng.chance(20) {
        rng.below(2 * n)
    } else {
        rng.below(n / 2 + 1)
    };
    let (mut early, mut late) = (0, 0);
    for _ in 0..bad {
        let at = rows.len();
        // After every valid row of its time, so the first row of a time is
        // always a valid one.
        let pos = |rng: &mut Rng, after: usize| after + 1 + rng.below(at - after);
        let kind = rng.below(8);
        let (text, after) = match kind {
            0 => {
                let good: Vec<usize> = (0..at).filter(|&i| rows[i].valid.is_some()).collect();
                let k = good[rng.below(good.len())];
                let h = rows[k].valid.expect("a valid row").0;
                (row(rng, &stamp(h), "99", "63.9"), k)
            }
            1 => (row(rng, "2026-02-30T10:00:00Z", "99", "1"), 0),
            2 => (row(rng, "2026-04-31T10:00:00Z", "99", "1"), 0),
            3 => (row(rng, "2026-03-03T23:59:60Z", "99", "1"), 0),
            4 if early < n / 8 => {
                early += 1;
                (row(rng, "1970-01-01T00:00:00Z", "99", "1"), 0)
            }
            5 if late < n / 8 => {
                late += 1;
                (row(rng, "9999-03-02T10:00:00Z", "99", "1"), 0)
            }
            6 => {
                let t = stamp(rng.below(168));
                let text = [
                    format!("{t},120,1"),
                    format!("{t},-1,1"),
                    format!("{t},5"),
                    format!("\"{t},5,1"),
                ][rng.below(4)]
                .clone();
                let text = if note && !text.starts_with('"') {
                    format!("{text},x")
                } else {
                    text
                };
                (text, 0)
            }
            _ => (stamp(rng.below(168))[..10].to_string(), 0),
        };
        let p = if kind == 0 {
            pos(rng, after)
        } else {
            rng.below(at + 1)
        };
        rows.insert(p.min(rows.len()), GenRow { text, valid: None });
    }
    let mut header = vec!["timestamp", "cpu_pct", "mem_gib"];
    if note {
        header.push("note");
    }
    let header: Vec<String> = header.iter().map(|h| field(h, quote_all)).collect();
    let mut csv = header.join(",");
    csv.push('\n');
    for r in &rows {
        csv.push_str(&r.text);
        csv.push('\n');
    }
    if rng.chance(20) {
        csv.pop();
    }
    (csv, rows)
}

/// p95 by nearest rank, worked out here without the library.
fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = (0.95 * v.len() as f64).ceil().max(1.0) as usize;
    v[rank - 1]
}

#[test]
fn generated_files_give_the_profile_of_their_valid_rows_or_an_error() {
    let mut errors = 0;
    for seed in 0..300u64 {
        let mut rng = Rng(seed);
        let (csv, rows) = generate(&mut rng);
        let src = Estate::new().measured("web01", "", &csv).source();
        // `check` stops before placement, which this test does not need.
        let c = virtplan::check(&src);
        let bad_lines: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.valid.is_none())
            .map(|(i, _)| i + 2)
            .collect();
        // Every row diagnostic points at a row the generator made bad.
        for d in &c.diags.items {
            let Some(span) = d.span else { continue };
            let at = c.sources.position(span);
            if let Some(rest) = at.strip_prefix("m/web01.csv:") {
                let line: usize = rest.split(':').next().unwrap().parse().unwrap();
                let about_file = matches!(
                    d.code,
                    "virtplan::metrics::sorted" | "virtplan::metrics::unknown-column"
                ) || d.message.contains("more problem rows not shown");
                assert!(
                    about_file || bad_lines.contains(&line),
                    "seed {seed}: {} at valid line {line}\n{csv}",
                    d.code
                );
            }
        }
        let valid: Vec<(usize, u32, f64)> = rows.iter().filter_map(|r| r.valid).collect();
        let rejected = rows.len() - valid.len();
        if rejected * 2 > rows.len() {
            // Most rows rejected: an error naming the file.
            let e = diags_of(&c, "virtplan::metrics::rejected");
            assert_eq!(e.len(), 1, "seed {seed}: {:?}", c.diags.items);
            assert!(e[0].2.contains("m/web01.csv"), "seed {seed}: {e:?}");
            errors += 1;
            continue;
        }
        assert!(
            !c.diags.has_errors(),
            "seed {seed}: {:?}\n{csv}",
            c.diags.items
        );
        let model = c.model.as_ref().expect("the project compiles");
        let mut sources = SourceMap::default();
        let mut diags = virtplan::diag::Diagnostics::default();
        let mut all = measure::measure(model, &src, &mut sources, &mut diags);
        let m = all.by_server.remove(&0).expect("web01 has measurements");
        assert_eq!(
            (m.samples, m.rejected),
            (valid.len(), rejected),
            "seed {seed}\n{csv}"
        );
        let cpu = |pct: u32| f64::from(pct) / 100.0 * 40.0;
        let all_cpu = p95(valid.iter().map(|v| cpu(v.1)).collect());
        let all_mem = p95(valid.iter().map(|v| v.2).collect());
        for slot in 0..168 {
            let here: Vec<&(usize, u32, f64)> = valid.iter().filter(|v| v.0 == slot).collect();
            let (want_cpu, want_mem) = if here.is_empty() {
                (all_cpu, all_mem)
            } else {
                (
                    p95(here.iter().map(|v| cpu(v.1)).collect()),
                    p95(here.iter().map(|v| v.2).collect()),
                )
            };
            assert_eq!(
                m.profile[CPU][slot], want_cpu,
                "seed {seed} slot {slot}\n{csv}"
            );
            assert_eq!(
                m.profile[1][slot], want_mem,
                "seed {seed} slot {slot}\n{csv}"
            );
        }
    }
    // The generator reaches both outcomes.
    assert!(errors > 0 && errors < 300, "{errors} cases with an error");
}

/// A source whose measurement files can only be streamed: `read` refuses
/// them, `open` hands them out in slices of 7 bytes (so lines arrive in
/// pieces), as a disk source that never holds a file whole would.
struct StreamOnly(MemorySource);

struct Trickle(std::io::Cursor<Vec<u8>>);

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7);
        self.0.read(&mut buf[..n])
    }
}

impl virtplan::source::FileSource for StreamOnly {
    fn list(&self) -> Vec<String> {
        self.0.list()
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, virtplan::source::ReadError> {
        if path.ends_with(".csv") {
            return Err(virtplan::source::ReadError::Io(
                "measurement files are streamed".to_string(),
            ));
        }
        self.0.read(path)
    }
    fn open(
        &self,
        path: &str,
    ) -> Result<Box<dyn std::io::Read + Send + '_>, virtplan::source::ReadError> {
        Ok(Box::new(Trickle(std::io::Cursor::new(self.0.read(path)?))))
    }
}

#[test]
fn measurement_files_are_streamed_and_diagnostics_still_point_at_their_line() {
    // one_bad_row's file, read only through `open`: the row on line 3 is
    // rejected at its line, and p95 of 4 and 12 GHz is 12.
    let csv = "timestamp,cpu_pct,mem_gib\n\
               2026-03-02T08:00:00Z,10,8\n\
               2026-03-02T09:00:00Z,20\n\
               2026-03-02T10:00:00Z,30,8\n";
    let src = StreamOnly(Estate::new().measured("web01", "", csv).source());
    let c = virtplan::compile(&src);
    assert!(
        diags_of(&c, "virtplan::load::read").is_empty(),
        "{:?}",
        c.diags.items
    );
    let found = diags_of(&c, "virtplan::metrics::row");
    assert_eq!(found.len(), 1, "{:?}", c.diags.items);
    assert_eq!(found[0].1, "m/web01.csv:3:1");
    let s = server(&c, "web01");
    assert_eq!((s.samples, s.rejected), (2, 1));
    close(s.demand.cpu_ghz_p, 12.0);
}

/// The worked example of the book's assessment chapter: the base estate's
/// server (40 GHz, 64 GiB) on 3.0-GHz host cores, measured every hour for
/// six days from Monday 00:00 at 20% CPU and 9.8 GiB. By hand:
/// vCPUs ⌈8 × 1.3 ÷ 3.0⌉ = ⌈3.47⌉ = 4; memory ⌈9.8 × 1.3⌉ = ⌈12.74⌉ = 13 GiB;
/// coverage 144/168 → ⌈4.29⌉ = 5, history 6 days < 7 → grade 4.
#[test]
fn the_books_worked_example() {
    let mut csv = String::from("timestamp,cpu_pct,mem_gib\n");
    for hour in 0..144 {
        let (day, h) = (2 + hour / 24, hour % 24);
        csv.push_str(&format!("2026-03-{day:02}T{h:02}:00:00Z,20,9.8\n"));
    }
    let c = Estate::new().measured("web01", "", &csv).compile();
    let s = server(&c, "web01");
    close(s.demand.cpu_ghz_p, 8.0);
    assert_eq!(s.vm.vcpus, 4);
    close(s.vm.memory_gib, 13.0);
    close(s.coverage_pct, 144.0 / 168.0 * 100.0);
    close(s.history_days, 6.0);
    assert_eq!(s.confidence, 4);
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/assessment.md"),
    )
    .expect("the chapter");
    for claim in ["= **4**", "= **13 GiB**", "grade **4**"] {
        assert!(
            chapter.contains(claim),
            "the chapter no longer says {claim}"
        );
    }
}

/// A stated `format=` that the file's header contradicts is an error that
/// names the format the header shows, at the header.
#[test]
fn a_stated_format_the_header_contradicts_is_named() {
    for (stated, text, shows) in [
        (
            "perfmon",
            "timestamp,cpu_pct\n2026-03-02T08:00:00Z,10\n",
            "its first line is a virtplan CSV header",
        ),
        (
            "virtplan",
            "# hostname;interval;timestamp;CPU;%user\nweb01;600;2026-03-02 08:00:00 UTC;-1;10\n",
            "its first line is a sadf -d header",
        ),
        (
            "sadf",
            "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\\\\\web01\\\\Processor(_Total)\\\\% Processor Time\"\n",
            "its first line is a perfmon header",
        ),
    ] {
        let c = virtplan::compile(
            &Estate::new()
                .server(
                    "web01",
                    &format!("metrics \"m/web01.csv\" format=\"{stated}\""),
                )
                .file("m/web01.csv", text)
                .source(),
        );
        let found = diags_of(&c, "virtplan::metrics::csv");
        assert!(
            found.iter().any(|(sev, at, m)| *sev == Severity::Error
                && at == "m/web01.csv:1:1"
                && m.contains(&format!("stated as format=\"{stated}\""))
                && m.contains(shows)),
            "{stated}: {found:?}"
        );
    }
}

/// The sizing horizon, not the finance horizon, compounds growth: 10% a
/// year over 2 years grows the 100 GB used to 121 GB, where the 5-year
/// finance horizon would give 161.051 GB.
#[test]
fn growth_compounds_over_the_sizing_horizon() {
    let c = Estate::new()
        .project("horizon-years 5\nsizing-horizon-years 2\ngrowth-per-year \"10%\"")
        .server("a", "")
        .compile();
    close(server(&c, "a").vm.disk_gb, 121.0);
    let c = Estate::new()
        .project("horizon-years 5\ngrowth-per-year \"10%\"")
        .server("a", "")
        .compile();
    assert!((server(&c, "a").vm.disk_gb - 161.051).abs() < 1e-6);
    let plan = c.plan.as_ref().expect("a plan");
    assert_eq!(plan.project.sizing_horizon_years, 5);
}
