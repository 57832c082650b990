//! `virtplan diff` on plans whose differences are worked out by hand: two
//! one-cluster projects that differ by one server, a moved VM with its
//! reason, identical plans, bad input; and the rounding of `plan.json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use virtplan::cost::Category;
use virtplan::diff::{self, PlanView};
use virtplan::model::Verdict;
use virtplan::source::MemorySource;

mod common;

/// One cluster of hosts "h" (32 cores, 512 GiB, 10,000 EUR, nothing else
/// costs anything), N+1, and every cost zero except administration: 10 h ×
/// 100 EUR = 1,000 EUR a year per physical server, 0 per VM and per host.
/// No discounting, 5 years. Servers are 4 cores, 8 GiB, unmeasured.
const PAIR: &str = r#"
project "Pair" {
    currency "EUR"
    horizon-years 5
    discount-rate "0%"
}

costs {
    energy-price 0
    pue 1.0
    rack-unit-per-year 0
    network-port-per-year 0
    admin-hour 100
    server-admin-hours-per-year 10
    host-admin-hours-per-year 0
    vm-admin-hours-per-year 0
    server-support-per-year 0
    server-refresh-price 0
    failure-rate "0%"
    spare-parts-per-year 0
    shared-storage 0
    shared-storage-per-year 0
    new-servers-per-year 0
    adoption recognition-hours=0 planning-hours=0 roi-hours=0 migration-hours-per-server=0 training=0 tools=0
}

platform "kvm" {
    hypervisor "kvm"
}

host-model "h" {
    sockets 2
    cores-per-socket 16
    clock "2.5GHz"
    memory "512GiB"
    price 10000
    power-idle "100W"
    power-peak "100W"
    rack-units 1
    support-per-year 0
}

cluster "c" {
    platform "kvm"
    host-model "h"
    failures-to-tolerate 1
}

defaults {
    cluster "c"
    sockets 1
    cores-per-socket 4
    clock "2.0GHz"
    memory "8GiB"
    disk-used "50GB"
    window "sat 22:00-sun 06:00"
}

server "a"
"#;

fn with_b() -> String {
    format!("{PAIR}server \"b\"\n")
}

fn view(text: &str) -> PlanView {
    let compiled = virtplan::compile(&MemorySource::new().with("estate.kdl", text));
    assert!(!compiled.diags.has_errors(), "{:#?}", compiled.diags.items);
    PlanView::from_plan(&compiled.plan.expect("a plan")).expect("a plan view")
}

fn plan_json(text: &str) -> serde_json::Value {
    let compiled = virtplan::compile(&MemorySource::new().with("estate.kdl", text));
    serde_json::to_value(compiled.plan.expect("a plan")).expect("json")
}

#[test]
fn one_server_added_gives_the_exact_headline() {
    let d = diff::diff(&view(PAIR), &view(&with_b()));
    // Both VMs fit one host; N+1 adds one: 2 hosts either way.
    // NPV at 0%: −2 × 10,000 + 5 × 1,000 = −15,000 before,
    // −20,000 + 5 × 2,000 = −10,000 after: +5,000, less the migration
    // period: each server runs physical until its wave, week 1 (no start
    // date), so 1,000 ÷ 52 = 19.23 more to-be cost per server: −15,019.23
    // before, −10,038.46 after, +4,980.77.
    // b is unmeasured: one new no-data warning.
    assert_eq!(
        d.headline,
        "Plan: 1 VM added, hosts 2 → 2, NPV +4,981 EUR, 1 new warning"
    );
    assert!(d.changed);
    assert_eq!(d.vms.added.len(), 1);
    assert_eq!(d.vms.added[0].server, "b");
    assert_eq!(d.vms.added[0].cluster, "c");
    assert!(d.vms.removed.is_empty() && d.vms.moved.is_empty() && d.vms.resized.is_empty());
    assert_eq!(d.servers.added.len(), 1);
    assert_eq!(d.servers.added[0].verdict, Verdict::Virtualize);
    assert!(d.verdicts.is_empty());
    assert_eq!((d.hosts.before, d.hosts.after), (2, 2));
    assert_eq!(
        (d.costs.npv.before, d.costs.npv.after),
        (-15019.23, -10038.46)
    );
    assert!((d.costs.npv.delta - 4980.77).abs() < 1e-6);
    assert_eq!(d.costs.as_is_tco.delta, 5000.0);
    assert!((d.costs.to_be_tco.delta - 19.23).abs() < 1e-6);
    assert!(!d.costs.investment_total.changed());
    // The yearly items that moved: administration, 1,000 → 2,000 as-is,
    // and the migration period, one server-week more.
    assert_eq!(d.costs.yearly.len(), 2);
    let overlap = d
        .costs
        .yearly
        .iter()
        .find(|i| i.key == Category::MigrationOverlap)
        .expect("the migration period moved");
    assert!((overlap.to_be.after - 2.0 * overlap.to_be.before).abs() < 0.02);
    let admin = d
        .costs
        .yearly
        .iter()
        .find(|i| i.key == Category::Administration)
        .expect("administration moved");
    assert_eq!(admin.key, Category::Administration);
    assert_eq!((admin.as_is.before, admin.as_is.after), (1000.0, 2000.0));
    assert!(!admin.to_be.changed());
    assert_eq!(d.diagnostics.new.len(), 1);
    assert_eq!(d.diagnostics.new[0].code, "virtplan::metrics::no-data");
    assert!(d.diagnostics.new[0].message.contains("`b`"));
    assert!(d.diagnostics.resolved.is_empty());

    let md = diff::markdown(&d);
    assert!(md.starts_with("**Plan: 1 VM added, hosts 2 → 2, NPV +4,981 EUR, 1 new warning**\n"));
    assert!(
        md.contains("<summary>Costs: NPV +4,981 EUR</summary>"),
        "{md}"
    );
    assert!(md.contains("| NPV | −15,019 | −10,038 | +4,981 |"), "{md}");
    assert!(
        md.contains("| administration | 1,000 → 2,000 (+1,000) | 0 |"),
        "{md}"
    );
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    assert!(
        !md.contains("\n\n\n"),
        "no double blank line (MD012):\n{md}"
    );

    // The other way round: removed, and the warning resolved.
    let back = diff::diff(&view(&with_b()), &view(PAIR));
    assert_eq!(
        back.headline,
        "Plan: 1 VM removed, hosts 2 → 2, NPV \u{2212}4,981 EUR, 1 warning resolved"
    );
}

#[test]
fn identical_plans_have_no_changes() {
    let d = diff::diff(&view(PAIR), &view(PAIR));
    assert!(!d.changed);
    assert!(d.parts.is_empty());
    assert_eq!(d.headline, "No changes: the plans are the same.");
    assert_eq!(
        diff::markdown(&d),
        "**No changes: the plans are the same.**\n"
    );
}

#[test]
fn a_moved_vm_shows_its_hosts_and_the_plans_reason() {
    let old = plan_json(&with_b());
    let mut new = old.clone();
    let hosts: Vec<String> = new["capacity"]["clusters"][0]["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|h| h["name"].as_str().expect("name").to_string())
        .collect();
    let from = new["capacity"]["assignments"]["a"]
        .as_str()
        .expect("a placed")
        .to_string();
    let to = hosts
        .iter()
        .find(|h| **h != from)
        .expect("another host")
        .clone();
    new["capacity"]["assignments"]["a"] = to.clone().into();
    new["capacity"]["clusters"][0]["moves"] = serde_json::json!([
        {"server": "a", "from": from, "to": to, "reason": "host c-01 over memory"}
    ]);
    let d = diff::diff(
        &PlanView::from_json(&old.to_string()).expect("old"),
        &PlanView::from_json(&new.to_string()).expect("new"),
    );
    assert_eq!(d.headline, "Plan: 1 VM moved, hosts 2 → 2, NPV unchanged");
    assert_eq!(d.vms.moved.len(), 1);
    let m = &d.vms.moved[0];
    assert_eq!((m.server.as_str(), &m.from, &m.to), ("a", &from, &to));
    assert_eq!(m.reason.as_deref(), Some("host c-01 over memory"));
    assert_eq!(d.parts, vec!["capacity.assignments", "capacity.clusters"]);
    let md = diff::markdown(&d);
    assert!(
        md.contains(&format!("| a | {from} | {to} | host c-01 over memory |")),
        "{md}"
    );
}

#[test]
fn a_bigger_server_is_resized_and_copies_longer() {
    let bigger = PAIR.replace(
        "server \"a\"",
        "server \"a\" {\n    memory \"16GiB\"\n    disk-used \"100GB\"\n}",
    );
    let d = diff::diff(&view(PAIR), &view(&bigger));
    assert_eq!(d.vms.resized.len(), 1);
    let r = &d.vms.resized[0];
    assert_eq!(r.server, "a");
    assert!(
        r.shape.after.memory_gib > r.shape.before.memory_gib,
        "{r:?}"
    );
    assert!(
        d.headline.starts_with("Plan: 1 VM resized, hosts 2 → 2"),
        "{}",
        d.headline
    );
    // The copy takes disk-used × 8,000 ÷ Mbit/s ÷ 60 minutes: twice the
    // disk, twice the copy (each side rounded to 0.01 minute).
    assert_eq!(d.waves.server_timings.len(), 1, "{:?}", d.waves);
    let t = &d.waves.server_timings[0];
    assert_eq!(t.server, "a");
    let (before, after) = (t.copy_minutes.before, t.copy_minutes.after);
    assert!(
        before > 0.0 && (after - 2.0 * before).abs() <= 0.011,
        "{t:?}"
    );
    let md = diff::markdown(&d);
    assert!(md.contains("| server | copy | downtime |"), "{md}");
}

#[test]
fn a_plan_of_another_format_or_layout_is_refused() {
    use virtplan::diff::InputError;
    let mut json = plan_json(PAIR);
    assert!(PlanView::from_json(&json.to_string()).is_ok());
    assert_eq!(
        PlanView::from_json("{").map(|_| ()),
        Err(InputError::NotJson(
            "EOF while parsing an object at line 1 column 1".into()
        ))
    );
    assert_eq!(
        PlanView::from_json("{}").map(|_| ()),
        Err(InputError::NoFormat)
    );
    json["format"] = 1.into();
    assert_eq!(
        PlanView::from_json(&json.to_string()).map(|_| ()),
        Err(InputError::Format("1".into()))
    );
    json["format"] = virtplan::plan::FORMAT.into();
    json.as_object_mut().expect("object").remove("diagnostics");
    let err = PlanView::from_json(&json.to_string())
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("`diagnostics`"), "{err}");
}

// ------------------------------------------------------------------ the CLI

fn virtplan(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_virtplan"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run virtplan")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("diff-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn project(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::create_dir_all(&p).expect("mkdir");
    fs::write(p.join("estate.kdl"), text).expect("write");
    p
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn exit_codes_say_whether_the_plan_changed() {
    let dir = scratch("exit");
    let a = project(&dir, "a", PAIR);
    let b = project(&dir, "b", &with_b());
    let out = dir.join("out");
    let planned = virtplan(&[Path::new("plan"), &a, Path::new("--out"), &out]);
    assert!(planned.status.success(), "{planned:?}");
    let a_json = out.join("plan.json");

    // A project folder and the plan.json it wrote are the same plan.
    for (x, y) in [(&a, &a), (&a, &a_json), (&a_json, &a)] {
        let o = virtplan(&[Path::new("diff"), x, y]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        assert_eq!(stdout(&o), "**No changes: the plans are the same.**\n");
    }

    let o = virtplan(&[Path::new("diff"), &a_json, &b]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(
        stdout(&o)
            .starts_with("**Plan: 1 VM added, hosts 2 → 2, NPV +4,981 EUR, 1 new warning**\n")
    );

    let o = virtplan(&[
        Path::new("diff"),
        &a,
        &b,
        Path::new("--format"),
        Path::new("json"),
    ]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(json["changed"], true);
    // +5,000 less b's week of administration during the migration, 19.23.
    assert_eq!(json["costs"]["npv"]["delta"], 4980.77);
    assert_eq!(json["vms"]["added"][0]["server"], "b");
    assert_eq!(json["costs"]["yearly"][0]["key"], "administration");

    // Bad input: exit 2 with a message, nothing on stdout.
    let broken = project(&dir, "broken", "project {");
    let not_plan = dir.join("not-plan.json");
    fs::write(&not_plan, r#"{"servers": []}"#).expect("write");
    let missing = dir.join("missing.json");
    for (bad, says) in [
        (&broken, "the project has errors"),
        (&not_plan, "no `format`"),
        (&missing, "cannot read"),
    ] {
        let o = virtplan(&[Path::new("diff"), &a, bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {o:?}");
        assert!(stdout(&o).is_empty(), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(says),
            "{bad:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

// ---------------------------------------------------------------- rounding

#[test]
fn plan_json_numbers_are_rounded_per_unit_without_negative_zero() {
    let info = virtplan::plan::ProjectInfo {
        name: "P".into(),
        currency: "EUR".into(),
        timezone: "UTC".into(),
        horizon_years: 5,
        sizing_horizon_years: 5,
        // 143.36 has no exact f64: this is the one just below it.
        discount_rate_pct: 143.35999999999999,
        profile_slots: 168,
        profile_percentile: 95.0,
        slot_minutes: -0.0,
        period_minutes: 10079.996,
        hypervisors: Default::default(),
    };
    let json = serde_json::to_string(&info).expect("json");
    assert!(json.contains(r#""discount_rate_pct":143.36,"#), "{json}");
    assert!(json.contains(r#""slot_minutes":0.0,"#), "{json}");
    assert!(json.contains(r#""period_minutes":10080.0,"#), "{json}");
    assert!(!json.contains("-0"), "{json}");
}

#[test]
fn amounts_are_rounded_to_cents_in_the_plan() {
    let json = plan_json(PAIR);
    // Every amount is a whole number of cents.
    for year in json["costs"]["years"].as_array().expect("years") {
        for field in ["as_is", "to_be", "cash_flow", "cumulative", "discounted"] {
            let v = year[field].as_f64().expect("number");
            assert_eq!(v, (v * 100.0).round() / 100.0, "{field}: {v}");
            assert!(!year[field].to_string().starts_with("-0"), "{year}");
        }
    }
    // −15,000 less one week of a's administration (1,000 ÷ 52), in cents.
    assert_eq!(json["costs"]["npv"], -15019.23);
}

/// Two folders of one project: the new side is planned against the old
/// one, as `plan --previous` would, so one server added to the realistic
/// example moves no existing VM in the diff, where a fresh plan of the new
/// side puts some of them on other hosts.
#[test]
fn a_folder_is_planned_against_the_old_side() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = root.join("examples/realistic");
    let head = scratch("replan").join("head");
    common::copy_dir(&base, &head);
    let app = head.join("servers/app.kdl");
    let text = fs::read_to_string(&app).expect("servers/app.kdl");
    fs::write(
        &app,
        format!("{text}\nserver \"app08\" class=\"app-dotnet\" {{\n    disk-used \"60GB\"\n}}\n"),
    )
    .expect("write");
    let o = virtplan(&[
        Path::new("diff"),
        &base,
        &head,
        Path::new("--format"),
        Path::new("json"),
    ]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(json["vms"]["added"][0]["server"], "app08");
    assert_eq!(
        json["vms"]["moved"].as_array().map(Vec::len),
        Some(0),
        "{json:#}"
    );

    // Planned fresh, the same head moves VMs: the re-plan is what kept them.
    let assignments = |dir: &Path| {
        let fs = common::files_under(dir)
            .into_iter()
            .fold(MemorySource::new(), |src, (path, bytes)| {
                src.with(&path, bytes)
            });
        let plan = virtplan::compile(&fs).plan.expect("a plan");
        serde_json::to_value(&plan).expect("json")["capacity"]["assignments"].clone()
    };
    let (before, after) = (assignments(&base), assignments(&head));
    let moved = before
        .as_object()
        .expect("assignments")
        .iter()
        .filter(|(server, host)| after.get(server.as_str()).is_some_and(|h| h != *host))
        .count();
    assert!(
        moved > 0,
        "a fresh plan of the head moves nothing: the test shows nothing"
    );
}

/// The realistic example, planned, then re-planned against itself so both
/// sides carry the same re-plan notes. Then 24 GiB more measured memory for
/// fs03 in every row of its metrics file, re-planned with `--previous`.
/// Every line that changes in the output folder describes fs03, the host it
/// stays on, or a total: no other server's entry and no other host's entry
/// changes, in `plan.json`, the Markdown, the inventory or the host charts.
/// The same change planned without `--previous` moves other VMs, and the
/// check finds their lines.
#[test]
fn a_memory_change_rewrites_only_its_server_its_host_and_totals() {
    let work = scratch("memory-change");
    let project = work.join("project");
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/realistic"),
        &project,
    );
    let plan = |out: &Path, previous: Option<&Path>| {
        let mut args = vec![
            Path::new("plan"),
            project.as_path(),
            Path::new("--out"),
            out,
            Path::new("--quiet"),
        ];
        if let Some(p) = previous {
            args.extend([Path::new("--previous"), p]);
        }
        let o = virtplan(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        common::files_under(out)
    };
    let fresh = work.join("fresh");
    plan(&fresh, None);
    let previous = work.join("before").join("plan.json");
    let before = plan(&work.join("before"), Some(&fresh.join("plan.json")));

    let metrics = project.join("metrics/fs03.csv");
    let text = fs::read_to_string(&metrics).expect("fs03.csv");
    let mut lines = text.lines();
    let mut raised = format!("{}\n", lines.next().expect("a header"));
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        let gib: f64 = cells[2].parse().expect("mem_gib");
        cells[2] = format!("{:.1}", gib + 24.0);
        raised.push_str(&cells.join(","));
        raised.push('\n');
    }
    fs::write(&metrics, raised).expect("write fs03.csv");

    let after = plan(&work.join("after"), Some(&previous));
    let (found, files) = foreign_changes(&before, &after, "fs03");
    eprintln!("memory change: files changed: {files:?}");
    assert!(found.is_empty(), "{}", found.join("\n"));
    assert!(files.iter().any(|f| f == "plan.json"), "nothing changed");

    let unkept = plan(&work.join("unkept"), None);
    let (found, _) = foreign_changes(&before, &unkept, "fs03");
    assert!(
        found.iter().any(|f| f.starts_with("plan.json: capacity")),
        "a fresh plan changes nothing else: the test shows nothing"
    );
    eprintln!(
        "memory change without --previous: {} lines of other servers or hosts",
        found.len()
    );
}

/// What changed from `before` to `after` (two output folders) that belongs
/// to a server or host other than `server` and the host it is placed on,
/// and the files that changed.
fn foreign_changes(
    before: &std::collections::BTreeMap<String, Vec<u8>>,
    after: &std::collections::BTreeMap<String, Vec<u8>>,
    server: &str,
) -> (Vec<String>, Vec<String>) {
    let json = |files: &std::collections::BTreeMap<String, Vec<u8>>| -> serde_json::Value {
        serde_json::from_slice(&files["plan.json"]).expect("plan.json")
    };
    let (old, new) = (json(before), json(after));
    let host = old["capacity"]["assignments"][server]
        .as_str()
        .expect("the server is placed")
        .to_string();
    let mut names = std::collections::BTreeSet::new();
    for s in old["assessment"]["servers"].as_array().expect("servers") {
        names.insert(s["name"].as_str().expect("a name").to_string());
    }
    for c in old["capacity"]["clusters"].as_array().expect("clusters") {
        for h in c["hosts"].as_array().expect("hosts") {
            names.insert(h["name"].as_str().expect("a name").to_string());
        }
    }
    let theirs = |name: &str| names.contains(name) && name != server && name != host;
    let mut found = Vec::new();
    if before.keys().ne(after.keys()) {
        found.push("files added or removed".to_string());
    }

    // plan.json: a changed value under another server's or host's name.
    let mut changed = Vec::new();
    json_changes(&old, &new, &mut Vec::new(), &mut changed);
    for path in changed.iter().filter(|p| p.iter().any(|s| theirs(s))) {
        found.push(format!("plan.json: {}", path.join(".")));
    }

    // Text: a changed table row keyed by another server or host; a changed
    // inventory line in another server's entry; another host's chart.
    let mut files = Vec::new();
    for (file, bytes) in after {
        let Some(was) = before.get(file).filter(|was| *was != bytes) else {
            continue;
        };
        files.push(file.clone());
        if let Some(chart) = file
            .strip_prefix("capacity-")
            .and_then(|f| f.strip_suffix(".svg"))
            && theirs(chart)
        {
            found.push(format!("{file}: the chart of {chart}"));
        }
        if !(file.ends_with(".md") || file.ends_with(".yml")) {
            continue;
        }
        let (was, is) = (String::from_utf8_lossy(was), String::from_utf8_lossy(bytes));
        for (side, text, line) in changed_lines(&was, &is) {
            let key = if file.ends_with(".yml") {
                yaml_owner(text, line, &names)
            } else {
                row_key(text.lines().nth(line).unwrap_or(""))
            };
            if let Some(key) = key.filter(|k| theirs(k)) {
                found.push(format!("{file}: {side} line {} belongs to {key}", line + 1));
            }
        }
    }
    (found, files)
}

/// The paths (object keys, and array elements labelled by their `name` or
/// `server`) of every value that differs between `a` and `b`.
fn json_changes(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.keys().eq(y.keys()) => {
            for (k, v) in x {
                path.push(k.clone());
                json_changes(v, &y[k], path, out);
                path.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                let label = ["name", "server"]
                    .iter()
                    .find_map(|f| u.get(f).and_then(Value::as_str))
                    .map_or_else(|| i.to_string(), str::to_string);
                path.push(label);
                json_changes(u, v, path, out);
                path.pop();
            }
        }
        _ if a == b => {}
        _ => out.push(path.clone()),
    }
}

/// Each line removed from `was` or added in `is`: which side, its text, the
/// line's index in it.
fn changed_lines<'a>(was: &'a str, is: &'a str) -> Vec<(&'static str, &'a str, usize)> {
    let diff = similar::TextDiff::from_lines(was, is);
    let mut out = Vec::new();
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Delete => {
                out.push(("old", was, change.old_index().expect("an old line")));
            }
            similar::ChangeTag::Insert => {
                out.push(("new", is, change.new_index().expect("a new line")));
            }
            similar::ChangeTag::Equal => {}
        }
    }
    out
}

/// The first cell of a Markdown table row, without a link around it.
fn row_key(line: &str) -> Option<String> {
    let cell = line.strip_prefix('|')?.split('|').next()?.trim();
    let cell = cell
        .strip_prefix('[')
        .and_then(|c| c.split_once(']'))
        .map_or(cell, |(text, _)| text);
    Some(cell.to_string())
}

/// The nearest enclosing YAML key of line `index` that is a server or host
/// name.
fn yaml_owner(
    text: &str,
    index: usize,
    names: &std::collections::BTreeSet<String>,
) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut level = indent(lines[index]);
    for l in lines[..index].iter().rev() {
        if l.trim().is_empty() || indent(l) >= level {
            continue;
        }
        level = indent(l);
        if let Some(key) = l.trim().strip_suffix(':')
            && names.contains(key)
        {
            return Some(key.to_string());
        }
    }
    None
}
