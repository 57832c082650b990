//! The migration runbook: the transfer model, the calendar, redundancy,
//! methods, and properties of the waves on random estates.
//!
//! Expected values are worked out by hand from the documented model: the
//! effective rate is `network` × `efficiency` (1 Gbps × 32% = 320 Mbit/s,
//! so 72 GB alone take 72 × 8000 / 320 / 60 = 30 min), shared equally by
//! the copies running at the same time.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::Rng;
use virtplan::diag::Severity;
use virtplan::migrate::{Phase, ServerMove, Wave};
use virtplan::model::Method;
use virtplan::plan::Plan;
use virtplan::source::MemorySource;

const HEAD: &str = r#"
project "p" {
    currency "EUR"
}
platform "esxi"
host-model "h" {
    sockets 2
    cores-per-socket 32
    clock "2.5GHz"
    memory "2048GiB"
}
cluster "c" {
    platform "esxi"
    host-model "h"
}
costs
"#;

/// A server of 2 cores and 8 GiB with `disk` GB in use and more nodes.
fn server(name: &str, disk: u32, more: &str) -> String {
    format!(
        "server \"{name}\" {{\n    sockets 1\n    cores-per-socket 2\n    clock \"2.5GHz\"\n    \
         memory \"8GiB\"\n    disk-used \"{disk}GB\"\n{more}}}\n"
    )
}

struct Out {
    plan: Plan,
    diags: Vec<virtplan::diag::Diagnostic>,
}

fn compile(text: &str) -> Out {
    compile_allowing(text, &[])
}

/// Compiles, failing on any error but those with the `allowed` codes.
fn compile_allowing(text: &str, allowed: &[&str]) -> Out {
    let compiled = virtplan::compile(&MemorySource::new().with("p.kdl", text));
    let errors: Vec<String> = compiled
        .diags
        .items
        .iter()
        .filter(|d| d.severity == Severity::Error && !allowed.contains(&d.code))
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "errors: {errors:#?}\n{text}");
    Out {
        plan: compiled.plan.expect("a plan"),
        diags: compiled.diags.items,
    }
}

fn find<'a>(plan: &'a Plan, name: &str) -> (&'a Wave, &'a ServerMove) {
    plan.runbook
        .waves
        .iter()
        .find_map(|w| w.servers.iter().find(|m| m.server == name).map(|m| (w, m)))
        .unwrap_or_else(|| panic!("{name} is in no wave"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn calibration_72gb_alone_take_30_minutes_over_gigabit() {
    let text = format!(
        "{HEAD}{}migration {{\n    window \"sat 22:00-sun 06:00\"\n}}\n",
        server("file01", 72, "")
    );
    let out = compile(&text);
    let (_, m) = find(&out.plan, "file01");
    assert!(close(m.copy_minutes, 30.0), "{}", m.copy_minutes);
    // Cold: copy + driver injection 15 + first boot 15 + tests 30.
    assert!(close(m.downtime_minutes, 90.0), "{}", m.downtime_minutes);
    assert!(close(out.plan.runbook.copy_rate_mbit_s, 320.0));
}

#[test]
fn a_lone_copy_uses_the_whole_rate_whatever_the_streams() {
    // 620 GB alone at 320 Mbit/s: 620 × 8000 / 320 / 60 = 258.33 min,
    // not a quarter of the rate because four streams are allowed.
    let text = format!(
        "{HEAD}{}migration {{\n    parallel-streams 4\n    window \"sat 12:00-sun 12:00\"\n}}\n",
        server("file01", 620, "")
    );
    let out = compile(&text);
    let (w, m) = find(&out.plan, "file01");
    assert!(
        close(m.copy_minutes, 620.0 * 8000.0 / 320.0 / 60.0),
        "{}",
        m.copy_minutes
    );
    assert!(w.fits_window);
}

#[test]
fn concurrent_copies_share_the_link() {
    // 36 and 72 GB start together on two streams. Sharing 320 Mbit/s, each
    // moves 36 GB in 2 × 15 = 30 min; then the 72 GB copy has 36 GB left,
    // alone: 15 more minutes.
    let text = format!(
        "{HEAD}{}{}migration {{\n    parallel-streams 2\n    window \"sat 22:00-sun 06:00\"\n}}\n",
        server("a01", 36, ""),
        server("b01", 72, "")
    );
    let out = compile(&text);
    let (_, a) = find(&out.plan, "a01");
    let (_, b) = find(&out.plan, "b01");
    assert!(close(a.start_minute, 0.0) && close(b.start_minute, 0.0));
    assert!(close(a.copy_minutes, 30.0), "{}", a.copy_minutes);
    assert!(close(b.copy_minutes, 45.0), "{}", b.copy_minutes);
    assert!(close(b.downtime_minutes, 45.0 + 60.0));
}

#[test]
fn live_copies_are_scheduled_before_their_window() {
    // 620 GB live: 258.33 min of copy that must end when the window opens
    // at Sat 2027-03-06 22:00, so it starts by 17:41:40, shown 17:42.
    let text = format!(
        "{HEAD}{}migration start=\"2027-03-06\" {{\n    method \"p2v-live\"\n    window \"sat 22:00-sun 06:00\"\n}}\n",
        server("file01", 620, "")
    );
    let out = compile(&text);
    let (w, m) = find(&out.plan, "file01");
    let copy = 620.0 * 8000.0 / 320.0 / 60.0;
    assert_eq!(w.date.as_deref(), Some("2027-03-06"));
    assert!(close(m.precopy_minutes, copy));
    assert_eq!(m.precopy_start_by.as_deref(), Some("Sat 2027-03-06 17:42"));
    let pre = m
        .steps
        .iter()
        .find(|s| s.phase == Phase::Before)
        .expect("a pre-copy step");
    assert!(pre.link);
    assert!(close(pre.start_minute, -copy), "{}", pre.start_minute);
    assert!(close(pre.start_minute + pre.minutes, 0.0));
    // Down only for cut-over 15 + drivers 15 + boot 15 + tests 30.
    assert!(close(m.downtime_minutes, 75.0), "{}", m.downtime_minutes);
    // The link plan shows the copy on the Saturday.
    let day = &out.plan.runbook.link_plan[0];
    assert_eq!(day.date, "2027-03-06");
    assert_eq!(day.precopy, vec!["file01".to_string()]);
    assert!(close(day.busy_minutes, 258.0), "{}", day.busy_minutes);
}

#[test]
fn a_wave_waits_for_a_window_its_live_copies_can_reach() {
    // Wave 1 (a01) ends Sun 2027-03-07 ~00:30. Wave 2 (b01, which depends on
    // a01) copies 14,000 GB live: 14000 × 8000 / 320 / 60 = 5833 min,
    // 4 days 1h 13min. The Wednesday window 3 days later is too early, the
    // next Saturday (2027-03-13 22:00, 6 days 21h later) is not.
    let text = format!(
        "{HEAD}{}{}migration start=\"2027-03-06\" {{\n    window \"sat 22:00-sun 06:00\"\n    window \"wed 21:00-thu 03:00\"\n}}\n",
        server("a01", 10, ""),
        server(
            "b01",
            14000,
            "    depends-on \"a01\"\n    method \"p2v-live\"\n"
        )
    );
    let out = compile(&text);
    let (w1, _) = find(&out.plan, "a01");
    let (w2, _) = find(&out.plan, "b01");
    assert_eq!(w1.date.as_deref(), Some("2027-03-06"));
    assert_eq!(w2.date.as_deref(), Some("2027-03-13"));
    assert!(w2.fits_window);
}

#[test]
fn windows_recur_weekly_from_the_start_and_skip_excluded_days() {
    // Start on a Monday: the first windows are Wed 10th (excluded) and
    // Sat 13th; the chain of three dependent servers takes Sat 13th,
    // Wed 17th, Sat 20th.
    let text = format!(
        "{HEAD}{}{}{}migration start=\"2027-03-08\" {{\n    window \"sat 22:00-sun 06:00\"\n    window \"wed 21:00-thu 03:00\"\n    exclude \"2027-03-10\" reason=\"audit\"\n}}\n",
        server("a01", 10, ""),
        server("b01", 10, "    depends-on \"a01\"\n"),
        server("c01", 10, "    depends-on \"b01\"\n"),
    );
    let out = compile(&text);
    let dates: Vec<Option<&str>> = out
        .plan
        .runbook
        .waves
        .iter()
        .map(|w| w.date.as_deref())
        .collect();
    assert_eq!(
        dates,
        vec![Some("2027-03-13"), Some("2027-03-17"), Some("2027-03-20")]
    );
    let skipped = &out.plan.runbook.skipped_windows;
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].window.starts_with("Wed 2027-03-10 21:00"),
        "{skipped:?}"
    );
    assert!(skipped[0].reason.contains("audit"));
    let (_, a) = find(&out.plan, "a01");
    assert_eq!(a.start, "Sat 2027-03-13 22:00");
    assert_eq!(a.steps[0].at, "Sat 2027-03-13 22:00");
}

#[test]
fn redundant_members_are_never_down_together_unless_allowed() {
    let servers = format!(
        "{}{}{}anti-affinity \"pair\" {{\n    servers \"sql01\" \"sql02\"\n}}\n",
        server("sql01", 10, ""),
        server("sql02", 10, ""),
        server("dc01", 10, "    roles \"active-directory\"\n"),
    ) + &server("dc02", 10, "    roles \"active-directory\"\n");
    let mig = "migration {\n    parallel-streams 4\n    window \"sat 22:00-sun 06:00\"\n}\n";
    let out = compile(&format!("{HEAD}{servers}{mig}"));
    let wave = |n: &str| find(&out.plan, n).0.number;
    assert_ne!(wave("sql01"), wave("sql02"));
    assert_ne!(wave("dc01"), wave("dc02"));
    // Domain controllers are rebuilt by default.
    assert_eq!(find(&out.plan, "dc01").1.method, Method::Rebuild);
    let allowed = "migration {\n    parallel-streams 4\n    window \"sat 22:00-sun 06:00\"\n    allow-together \"sql01\" \"sql02\"\n}\n";
    let out = compile(&format!("{HEAD}{servers}{allowed}"));
    let wave = |n: &str| find(&out.plan, n).0.number;
    assert_eq!(wave("sql01"), wave("sql02"));
    assert_ne!(wave("dc01"), wave("dc02"));
}

#[test]
fn migrated_servers_stay_out_of_the_waves() {
    let text = format!(
        "{HEAD}{}{}migration {{\n    window \"sat 22:00-sun 06:00\"\n}}\n",
        server("a01", 10, "    status \"migrated\"\n"),
        server("b01", 10, "    depends-on \"a01\"\n"),
    );
    let out = compile(&text);
    assert!(
        out.plan
            .runbook
            .waves
            .iter()
            .all(|w| w.servers.iter().all(|m| m.server != "a01"))
    );
    let (w, _) = find(&out.plan, "b01");
    assert_eq!(w.number, 1);
    let nm = &out.plan.runbook.not_moving;
    assert!(
        nm.iter()
            .any(|n| n.server == "a01" && n.reason.contains("migrated"))
    );
    // a01 is a VM already: not a dependency on a physical server.
    assert!(out.plan.runbook.physical_dependencies.is_empty());
    // It is still planned as a VM.
    assert!(out.plan.capacity.assignments.contains_key("a01"));
}

#[test]
fn timings_per_method_and_the_go_no_go_time() {
    let text = format!(
        "{HEAD}{}migration start=\"2027-03-06\" {{\n    window \"sat 22:00-sun 06:00\"\n    timing \"p2v-cold\" tests=\"45min\" rollback=\"1h\"\n}}\n",
        server("a01", 72, ""),
    );
    let out = compile(&text);
    let (w, m) = find(&out.plan, "a01");
    // 30 copy + 15 + 15 + 45.
    assert!(close(m.downtime_minutes, 105.0), "{}", m.downtime_minutes);
    assert!(close(m.rollback_minutes, 60.0));
    // The window closes Sun 06:00; the longest rollback is 1h.
    assert_eq!(w.go_no_go.as_deref(), Some("Sun 2027-03-07 05:00"));
}

/// Minutes since 1970-01-01 of "YYYY-MM-DD HH:MM", computed independently
/// of the library (days of each year and month summed).
fn minutes_of(iso: &str) -> i64 {
    let p = |r: std::ops::Range<usize>| iso[r].parse::<i64>().expect("a number");
    let (y, mo, d, h, mi) = (p(0..4), p(5..7), p(8..10), p(11..13), p(14..16));
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days: i64 = (1970..y).map(|y| if leap(y) { 366 } else { 365 }).sum();
    let months = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += months[..(mo - 1) as usize].iter().sum::<i64>() + d - 1;
    (days * 24 + h) * 60 + mi
}

/// A random estate: servers with dependencies (mostly on earlier servers,
/// sometimes a circle), redundancy groups, methods and sizes.
struct Estate {
    text: String,
    names: Vec<String>,
    deps: Vec<Vec<usize>>,
    groups: Vec<Vec<usize>>,
}

fn estate(rng: &mut Rng, max_wave: Option<usize>) -> Estate {
    let n = 4 + rng.below(12);
    let names: Vec<String> = (0..n).map(|i| format!("s{i:02}")).collect();
    let mut deps = vec![Vec::new(); n];
    for (i, d) in deps.iter_mut().enumerate() {
        for j in 0..n {
            let back = j > i && rng.chance(2);
            if (j < i && rng.chance(20)) || back {
                d.push(j);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for _ in 0..rng.below(3) {
        let mut g: Vec<usize> = (0..2 + rng.below(2)).map(|_| rng.below(n)).collect();
        g.sort_unstable();
        g.dedup();
        if g.len() > 1 {
            groups.push(g);
        }
    }
    let mut text = HEAD.to_string();
    for i in 0..n {
        let mut more = String::new();
        if !deps[i].is_empty() {
            let d: Vec<String> = deps[i]
                .iter()
                .map(|j| format!("\"{}\"", names[*j]))
                .collect();
            more += &format!("    depends-on {}\n", d.join(" "));
        }
        if rng.chance(30) {
            more += "    method \"p2v-live\"\n";
        } else if rng.chance(10) {
            more += "    roles \"active-directory\"\n";
        }
        text += &server(&names[i], 5 + rng.below(300) as u32, &more);
    }
    for (k, g) in groups.iter().enumerate() {
        let members: Vec<String> = g.iter().map(|i| format!("\"{}\"", names[*i])).collect();
        text += &format!(
            "anti-affinity \"g{k}\" {{\n    servers {}\n}}\n",
            members.join(" ")
        );
    }
    text += "migration start=\"2027-03-06\" {\n";
    text += &format!("    parallel-streams {}\n", 1 + rng.below(3));
    text += "    window \"sat 22:00-sun 06:00\"\n";
    if rng.chance(50) {
        text += "    window \"wed 21:00-thu 03:00\"\n";
    }
    if let Some(m) = max_wave {
        text += &format!("    max-wave-size {m}\n");
    }
    text += "}\n";
    Estate {
        text,
        names,
        deps,
        groups,
    }
}

/// Whether `a` reaches `b` over dependencies.
fn reaches(deps: &[Vec<usize>], a: usize, b: usize) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![a];
    while let Some(x) = stack.pop() {
        if x == b {
            return true;
        }
        if seen.insert(x) {
            stack.extend(&deps[x]);
        }
    }
    false
}

#[test]
fn random_estates_keep_dependencies_redundancy_and_windows() {
    let mut rng = Rng(0x5eed_0009);
    for case in 0..40 {
        let max_wave = rng.chance(50).then(|| 2 + rng.below(5));
        let e = estate(&mut rng, max_wave);
        // A circle larger than max-wave-size is an error that says so; the
        // plan still keeps the other properties.
        let out = compile_allowing(&e.text, &["virtplan::migrate::cycle-too-large"]);
        // Each server's downtime as absolute minutes.
        let mut down: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for w in &out.plan.runbook.waves {
            let base = minutes_of(w.opens_iso.as_deref().expect("dated"));
            let len = f64::from(w.window_minutes.expect("a window"));
            for m in &w.servers {
                let s = base + m.start_minute.round() as i64;
                let prev = down.insert(&m.server, (s, s + m.downtime_minutes.round() as i64));
                assert!(prev.is_none(), "case {case}: {} moves twice", m.server);
                if w.fits_window {
                    let end = m.start_minute + m.downtime_minutes;
                    assert!(
                        end + m.rollback_minutes <= len + 1e-6,
                        "case {case}: wave {} said to fit, {} ends at {end}\n{}",
                        w.number,
                        m.server,
                        e.text
                    );
                }
            }
            if !w.fits_window {
                let said = out.diags.iter().any(|d| {
                    d.code == "virtplan::migrate::window"
                        && d.message.contains(&format!("wave {} ", w.number))
                        && d.message.chars().any(|c| c.is_ascii_digit())
                        && !d.help.is_empty()
                });
                assert!(
                    said,
                    "case {case}: wave {} does not fit, unexplained",
                    w.number
                );
            }
        }
        assert_eq!(down.len(), e.names.len(), "case {case}: every server moves");
        for (i, ds) in e.deps.iter().enumerate() {
            for &j in ds {
                if reaches(&e.deps, j, i) {
                    continue; // same move group
                }
                let (a, b) = (down[e.names[j].as_str()], down[e.names[i].as_str()]);
                assert!(
                    a.1 <= b.0,
                    "case {case}: {} moves before its dependency {}\n{}",
                    e.names[i],
                    e.names[j],
                    e.text
                );
            }
        }
        for g in &e.groups {
            for (k, &x) in g.iter().enumerate() {
                for &y in &g[k + 1..] {
                    let (a, b) = (down[e.names[x].as_str()], down[e.names[y].as_str()]);
                    assert!(
                        a.1 <= b.0 || b.1 <= a.0,
                        "case {case}: redundant {} and {} are down together\n{}",
                        e.names[x],
                        e.names[y],
                        e.text
                    );
                }
            }
        }
    }
}

#[test]
fn a_larger_max_wave_size_never_gives_more_waves() {
    let mut rng = Rng(0xa11_0009);
    for case in 0..15 {
        let seed = rng.next();
        let small = 1 + rng.below(4);
        let large = small + 1 + rng.below(5);
        let waves = |m: usize| {
            let e = estate(&mut Rng(seed), Some(m));
            compile_allowing(&e.text, &["virtplan::migrate::cycle-too-large"])
                .plan
                .runbook
                .waves
                .len()
        };
        let (a, b) = (waves(small), waves(large));
        assert!(
            b <= a,
            "case {case}: max-wave-size {small} gives {a} waves, {large} gives {b}"
        );
    }
}

#[test]
fn move_groups_are_named_after_their_first_server() {
    let circle = |extra: &str| {
        format!(
            "{HEAD}{extra}{}{}migration {{\n    window \"sat 22:00-sun 06:00\"\n}}\n",
            server("app03", 10, "    depends-on \"app05\"\n"),
            server("app05", 10, "    depends-on \"app03\"\n"),
        )
    };
    let before = compile(&circle(""));
    let after = compile(&circle(&server("aaa01", 10, "")));
    for out in [&before, &after] {
        assert_eq!(out.plan.runbook.cycles[0].name, "app03");
        assert_eq!(find(&out.plan, "app05").1.group, "app03");
    }
}

/// Every Mermaid block of the examples' Markdown parses with the `mermaid`
/// npm package under `jsdom` (tests/mermaid/parse.mjs). The packages come
/// from the `node_modules` folder named by `VIRTPLAN_NODE_MODULES`, which
/// `.ci/run` installs; without it the test is skipped outside CI.
#[test]
fn mermaid_blocks_parse() {
    let Some(modules) = node_modules() else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for example in ["small", "realistic"] {
        let out = plan_example(example, "md", "mermaid");
        let md: Vec<std::path::PathBuf> = std::fs::read_dir(&out)
            .expect("the output folder")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        let run = std::process::Command::new("node")
            .arg(root.join("tests/mermaid/parse.mjs"))
            .arg(&modules)
            .args(&md)
            .output()
            .expect("run node");
        let _ = std::fs::remove_dir_all(&out);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{example}: Mermaid blocks that do not parse:\n{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        eprintln!("{example}: {stdout}");
    }
}

/// The `node_modules` folder with mermaid and jsdom that
/// `VIRTPLAN_NODE_MODULES` names (`.ci/run` installs it), or `None` to skip
/// outside CI.
fn node_modules() -> Option<std::path::PathBuf> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let modules = std::env::var_os("VIRTPLAN_NODE_MODULES").map(std::path::PathBuf::from);
    let found = modules.filter(|m| m.join("mermaid").is_dir() && m.join("jsdom").is_dir());
    if found.is_none() {
        assert!(
            !ci,
            "VIRTPLAN_NODE_MODULES must name a node_modules folder with mermaid and jsdom in CI"
        );
        eprintln!(
            "skipped: set VIRTPLAN_NODE_MODULES to a node_modules folder with mermaid and jsdom \
             (npm install mermaid jsdom)"
        );
    }
    found
}

/// Plans `examples/EXAMPLE` with `--format FORMAT` into a fresh temporary
/// folder named after `what`, and returns the folder.
fn plan_example(example: &str, format: &str, what: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out =
        std::env::temp_dir().join(format!("virtplan-{what}-{example}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .args(["plan", "--format", format])
        .arg(root.join("examples").join(example))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run virtplan");
    assert!(
        o.status.success(),
        "virtplan plan {example}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// A gantt task: section, name, start and end (`YYYY-MM-DD HH:mm`, UTC).
type GanttTask = (String, String, String, String);

/// Mermaid reads each wave's gantt as the runbook's steps: for both
/// examples, the tasks Mermaid's own gantt database computes (section, name,
/// start and end, with its date parser) are, wave by wave, the steps of
/// `plan.json` that take the servers down, at their times and for their
/// minutes. A date Mermaid cannot read, a duration it reads otherwise, or a
/// step missing from the chart fails.
#[test]
fn gantt_tasks_are_the_runbooks_steps() {
    let Some(modules) = node_modules() else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let minute = |iso: &str| {
        virtplan::import::parse_timestamp(&format!("{}T{}:00Z", &iso[..10], &iso[11..]))
            .expect("a step time")
    };
    let iso = |t: i64| virtplan::import::format_utc(t)[..16].to_string();
    for example in ["small", "realistic"] {
        let out = plan_example(example, "md,json", "gantt");
        let plan: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("plan.json")).expect("plan.json"))
                .expect("json");
        let run = std::process::Command::new("node")
            .arg(root.join("tests/mermaid/parse.mjs"))
            .arg(&modules)
            .arg(out.join("runbook.md"))
            .env("TZ", "UTC")
            .env("VIRTPLAN_GANTT_TASKS", "1")
            .output()
            .expect("run node");
        let _ = std::fs::remove_dir_all(&out);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stdout)
        );
        // Mermaid's tasks, grouped by block in order.
        let mut charts: Vec<(u64, Vec<GanttTask>)> = Vec::new();
        for line in String::from_utf8_lossy(&run.stdout).lines() {
            let Ok(t) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let block = t["block"].as_u64().expect("a block");
            if charts.last().is_none_or(|(b, _)| *b != block) {
                charts.push((block, Vec::new()));
            }
            let text = |k: &str| t[k].as_str().unwrap_or("").trim().to_string();
            if let Some((_, tasks)) = charts.last_mut() {
                tasks.push((text("section"), text("task"), text("start"), text("end")));
            }
        }
        // The steps that take servers down, as the runbook states them.
        let waves = plan["runbook"]["waves"].as_array().expect("waves");
        assert_eq!(charts.len(), waves.len(), "{example}: one gantt per wave");
        let mut tasks = 0;
        for (w, (_, chart)) in waves.iter().zip(&charts) {
            let mut want = Vec::new();
            for s in w["servers"].as_array().expect("servers") {
                for st in s["steps"].as_array().expect("steps") {
                    let minutes = st["minutes"].as_f64().expect("minutes");
                    if st["phase"] != "down" || minutes < 0.5 {
                        continue;
                    }
                    let at = st["at_iso"].as_str().expect("at_iso");
                    let length: i64 = format!("{minutes:.0}").parse().expect("whole minutes");
                    want.push((
                        s["server"].as_str().expect("a server").to_string(),
                        st["short"].as_str().expect("a name").to_string(),
                        at.to_string(),
                        iso(minute(at) + length * 60),
                    ));
                }
            }
            tasks += want.len();
            assert_eq!(chart, &want, "{example}: wave {}", w["number"]);
        }
        eprintln!("{example}: {tasks} gantt tasks are the runbook's steps");
    }
}

#[test]
fn without_a_start_date_weeks_are_counted() {
    let text = format!(
        "{HEAD}{}{}migration {{\n    window \"wed 21:00-thu 03:00\"\n}}\n",
        server("a01", 10, ""),
        server("b01", 10, "    depends-on \"a01\"\n"),
    );
    let out = compile(&text);
    let waves = &out.plan.runbook.waves;
    assert_eq!(waves[0].date, None);
    assert_eq!(waves[0].opens.as_deref(), Some("week 1 Wed 21:00"));
    assert_eq!(waves[1].opens.as_deref(), Some("week 2 Wed 21:00"));
    assert_eq!(waves[1].closes.as_deref(), Some("week 2 Thu 03:00"));
}

#[test]
fn domain_controllers_are_rebuilt_and_a_copied_one_is_never_powered_back_on() {
    let text = format!(
        "{HEAD}{}{}migration start=\"2027-03-06\" {{\n    window \"sat 22:00-sun 06:00\"\n}}\n",
        server("dc01", 60, "    roles \"active-directory\" \"dns\"\n"),
        server(
            "dc02",
            60,
            "    roles \"active-directory\"\n    method \"p2v-cold\"\n"
        ),
    );
    let out = compile(&text);
    let (w1, dc01) = find(&out.plan, "dc01");
    let (w2, dc02) = find(&out.plan, "dc02");
    assert_ne!(w1.number, w2.number);
    assert_eq!(dc01.method, Method::Rebuild);
    // Nothing copied: 30 min of switching roles and 30 min of tests.
    assert!(close(dc01.copy_minutes, 0.0) && close(dc01.downtime_minutes, 60.0));
    let before = dc01
        .steps
        .iter()
        .find(|s| s.phase == Phase::Before)
        .expect("a step");
    assert!(close(before.minutes, 240.0) && !before.link);
    assert!(dc01.tests.iter().any(|t| t.contains("dcdiag")));
    assert!(dc01.tests.iter().any(|t| t.starts_with("DNS")));
    assert!(!dc01.rollback.contains("back on"));
    assert!(
        dc02.rollback
            .contains("never power the old server on again")
    );
    let warned: Vec<&str> = out
        .diags
        .iter()
        .filter(|d| d.code == "virtplan::migrate::directory-copy")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(warned.len(), 1);
    assert!(warned[0].contains("dc02"));
    assert!(
        out.plan
            .runbook
            .warnings
            .iter()
            .any(|w| w.contains("USN rollback"))
    );
}

/// Europe/Berlin's clocks go forward in the night of 28–29 March 2026 and
/// back in that of 24–25 October. A window "sat 22:00-sun 06:00" lasts 7 h
/// then, and 9 h: a 936 GB cold copy (390 min, 450 min down with drivers,
/// boot and tests) no longer fits the first; a 1,080 GB one (510 min) fits
/// the second though it would not fit an 8-hour window. Step times are the
/// wall clock after the change: 22:00 CET + 390 min is 03:30 UTC, 05:30
/// CEST (not 04:30); 22:00 CEST + 450 min is 03:30 UTC, 04:30 CET.
#[test]
fn windows_on_the_nights_the_clocks_change() {
    let head = HEAD.replace(
        "    currency \"EUR\"\n",
        "    currency \"EUR\"\n    timezone \"Europe/Berlin\"\n",
    );
    let night = |start: &str, disk: u32| {
        compile(&format!(
            "{head}{}migration start=\"{start}\" {{\n    window \"sat 22:00-sun 06:00\"\n}}\n",
            server("big01", disk, "")
        ))
    };

    let spring = night("2026-03-28", 936);
    let (w, m) = find(&spring.plan, "big01");
    assert!(close(m.downtime_minutes, 450.0), "{}", m.downtime_minutes);
    assert_eq!(w.date.as_deref(), Some("2026-03-28"));
    assert_eq!(w.opens_utc.as_deref(), Some("2026-03-28T21:00:00Z"));
    assert_eq!(w.closes.as_deref(), Some("Sun 2026-03-29 06:00"));
    assert!(!w.fits_window, "{:?}", w.problems);
    assert!(
        w.problems[0].contains("the clocks go forward that night"),
        "{:?}",
        w.problems
    );
    let drivers = m
        .steps
        .iter()
        .find(|s| s.short == "drivers")
        .expect("drivers");
    assert_eq!(drivers.at, "Sun 2026-03-29 05:30");

    let autumn = night("2026-10-24", 1080);
    let (w, m) = find(&autumn.plan, "big01");
    assert!(close(m.downtime_minutes, 510.0), "{}", m.downtime_minutes);
    assert_eq!(w.date.as_deref(), Some("2026-10-24"));
    assert_eq!(w.opens_utc.as_deref(), Some("2026-10-24T20:00:00Z"));
    assert!(w.fits_window, "{:?}", w.problems);
    let drivers = m
        .steps
        .iter()
        .find(|s| s.short == "drivers")
        .expect("drivers");
    assert_eq!(drivers.at, "Sun 2026-10-25 04:30");
}
