//! The cost report recomputed by hand on a small estate: every server is on
//! the as-is side, servers that stay physical stay on the to-be side, and a
//! retired server's costs end.

use virtplan::source::MemorySource;

const PROJECT: &str = r#"
project "Scope" {
    currency "EUR"
    horizon-years 5
    discount-rate "0%"
}

costs {
    energy-price 0.10
    pue 1.0
    rack-unit-per-year 100
    network-port-per-year 10
    server-support-per-year 500
}

platform "esxi" {
    license "hv"
}

host-model "h" {
    sockets 2
    cores-per-socket 16
    clock "2.8GHz"
    memory "512GiB"
    price 10000
    power-idle "200W"
    power-peak "600W"
    rack-units 2
    support-per-year 1000
}

cluster "c" {
    platform "esxi"
    host-model "h"
}

license "hv" {
    metric "per-core"
    price 0
    support-per-year 1
}

license "win" {
    metric "per-core"
    price 10
    min-cores-per-socket 8
    min-cores-per-host 16
    vms-per-license 2
}

class "box" {
    sockets 1
    cores-per-socket 8
    clock "2.0GHz"
    memory "16GiB"
    power "300W"
    rack-units 1
    nics 2
    licenses "win"
}

server "app" class="box"

server "fax" class="box" {
    special-hardware "fax-card" note="ISDN fax card"
}

server "old" class="box" {
    status "retire"
}

server "gone" class="box" {
    status "out-of-scope"
}
"#;

fn plan() -> serde_json::Value {
    plan_of(PROJECT)
}

fn plan_of(text: &str) -> serde_json::Value {
    let fs = MemorySource::new().with("estate.kdl", text);
    let compiled = virtplan::compile(&fs);
    let errors: Vec<String> = compiled
        .diags
        .items
        .iter()
        .filter(|d| d.severity == virtplan::diag::Severity::Error)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    serde_json::to_value(compiled.plan.expect("a plan")).expect("json")
}

fn line<'a>(plan: &'a serde_json::Value, item: &str) -> &'a serde_json::Value {
    plan["costs"]["yearly"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == item)
        .unwrap_or_else(|| panic!("no line item `{item}`"))
}

#[test]
fn every_server_is_accounted_for() {
    let plan = plan();
    let scope = &plan["assessment"]["totals"]["scope"];
    assert_eq!(
        scope,
        &serde_json::json!([
            {"scope": "moves", "servers": 1},
            {"scope": "keep-physical", "servers": 1},
            {"scope": "fix-first", "servers": 0},
            {"scope": "retire", "servers": 1},
            {"scope": "out-of-scope", "servers": 1}
        ])
    );
    let hosts = plan["costs"]["hosts"].as_u64().unwrap();
    assert_eq!(hosts, 1);
    // As-is: app, fax and old (out-of-scope left out): 3 U × 100.
    // To-be: one 2 U host + fax's 1 U staying physical: 3 U × 100.
    let rack = line(&plan, "rack space");
    assert_eq!(rack["as_is"], 300.0);
    assert_eq!(rack["to_be"], 300.0);
    // Energy: 3 × 300 W as-is; (200 + 600) / 2 = 400 W host + 300 W fax
    // to-be; × 8760 h × PUE 1 × 0.10 per kWh.
    let energy = line(&plan, "energy and cooling");
    assert!((energy["as_is"].as_f64().unwrap() - 0.9 * 8760.0 * 0.1).abs() < 1e-6);
    assert!((energy["to_be"].as_f64().unwrap() - 0.7 * 8760.0 * 0.1).abs() < 1e-6);
    // Support: 3 servers × 500 as-is; 1,000 host + 500 fax to-be.
    let support = line(&plan, "hardware support");
    assert_eq!(support["as_is"], 1500.0);
    assert_eq!(support["to_be"], 1500.0);
    // Ports: 3 × 2 NICs as-is; 2 per host + fax's 2 to-be; × 10.
    let ports = line(&plan, "network ports");
    assert_eq!(ports["as_is"], 60.0);
    assert_eq!(ports["to_be"], 40.0);
}

/// The shared storage's power and rack units join the to-be side, and the
/// network gear bought with each host is an investment, and a part of the
/// host's cost over the horizon that placement compares.
#[test]
fn shared_storage_runs_and_network_gear_is_bought_with_the_hosts() {
    let text = PROJECT.replace(
        "    server-support-per-year 500\n",
        "    server-support-per-year 500\n    shared-storage-power \"1200W\"\n    shared-storage-rack-units 4\n    network-gear-per-host 2500\n",
    );
    let plan = plan_of(&text);
    assert_eq!(plan["costs"]["hosts"], 1);
    // To-be: 400 W host + 1200 W storage + 300 W fax = 1.9 kW × 8760 h × 0.10.
    let energy = line(&plan, "energy and cooling");
    assert!((energy["to_be"].as_f64().unwrap() - 1.9 * 8760.0 * 0.1).abs() < 1e-6);
    assert!(
        energy["basis"]
            .as_str()
            .unwrap()
            .contains("+ 1200 W shared storage")
    );
    // To-be: 2 U host + 4 U storage + 1 U fax = 7 U × 100.
    let rack = line(&plan, "rack space");
    assert_eq!(rack["to_be"], 700.0);
    assert!(
        rack["basis"]
            .as_str()
            .unwrap()
            .contains("+ 4 U shared storage")
    );
    let gear = plan["costs"]["investment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "network-gear")
        .expect("a network gear investment");
    assert_eq!(gear["amount"], 2500.0);
    assert_eq!(gear["basis"], "1 host × 2500");
}

#[test]
fn licences_on_both_sides() {
    let plan = plan();
    let lic = plan["costs"]["licenses"].as_array().unwrap();
    let win = lic.iter().find(|l| l["license"] == "win").unwrap();
    // As-is: 3 servers of 1 × 8 cores, 16 per host minimum: 48 units.
    assert_eq!(win["as_is_units"], 48.0);
    // To-be: fax stays physical (16) + the host licensed once for app's VM
    // (2 × 16 = 32 cores, covering 2 VMs): 48.
    assert_eq!(win["to_be_units"], 48.0);
    // The hypervisor: 32 cores of the one host.
    let hv = lic.iter().find(|l| l["license"] == "hv").unwrap();
    assert_eq!(hv["to_be_units"], 32.0);
    assert_eq!(hv["as_is_units"], 0.0);
}

/// Licences owned already count against the to-be units only when they
/// are transferable. "win" is 10 per unit and the to-be estate needs 48
/// units (above): with 40 transferable units owned, 8 are bought (80);
/// with 40 OEM units, or with none stated, all 48 (480). The basis says
/// which.
#[test]
fn owned_licences_count_only_when_transferable() {
    let bought = |owned: &str| {
        let text = PROJECT.replace(
            "license \"win\" {",
            &format!("license \"win\" {{\n    {owned}"),
        );
        let plan = plan_of(&text);
        let win = plan["costs"]["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["license"] == "win")
            .cloned()
            .unwrap();
        let line = plan["costs"]["investment"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item"] == "licences bought")
            .cloned()
            .unwrap();
        (win["bought_units"].as_f64().unwrap(), line)
    };
    let (units, line) = bought("owned 40 transferable=#true");
    assert_eq!(units, 8.0);
    assert_eq!(line["amount"], 80.0);
    assert!(
        line["basis"]
            .as_str()
            .unwrap()
            .contains("win: (48 − 40 owned) × 10"),
        "{line}"
    );
    let (units, line) = bought("owned 40");
    assert_eq!(units, 48.0);
    assert_eq!(line["amount"], 480.0);
    assert!(
        line["basis"].as_str().unwrap().contains("not transferable"),
        "{line}"
    );
    let (units, line) = bought("");
    assert_eq!(units, 48.0);
    assert_eq!(line["amount"], 480.0);
    assert!(
        line["basis"]
            .as_str()
            .unwrap()
            .contains("no `owned` stated"),
        "{line}"
    );
    // More owned than needed buys nothing.
    let (units, line) = bought("owned 60 transferable=#true");
    assert_eq!((units, line["amount"].as_f64().unwrap()), (0.0, 0.0));
}

/// Two Oracle servers beside three large application servers: Oracle
/// counts every core of the cluster, so the advisor prices a dedicated
/// cluster for them.
const ORACLE: &str = r#"
project "Advice" {
    currency "EUR"
    horizon-years 5
    discount-rate "0%"
}

costs {
    energy-price 0.10
}

platform "esxi"

host-model "big" {
    sockets 2
    cores-per-socket 16
    clock "2.8GHz"
    memory "512GiB"
    price 10000
    power-idle "200W"
    power-peak "600W"
}

host-model "small" {
    sockets 2
    cores-per-socket 8
    clock "2.8GHz"
    memory "256GiB"
    price 6000
    power-idle "150W"
    power-peak "400W"
}

cluster "c" {
    platform "esxi"
    host-model "big"
}

license "ora" {
    metric "per-cluster-core"
    price 1000
    core-factor 0.5
}

class "app" {
    sockets 1
    cores-per-socket 4
    clock "2.8GHz"
    memory "300GiB"
}

class "db" {
    sockets 1
    cores-per-socket 4
    clock "2.8GHz"
    memory "64GiB"
    licenses "ora"
}

server "app1" class="app"
server "app2" class="app"
server "app3" class="app"
server "db1" class="db"
server "db2" class="db"
"#;

#[test]
fn the_advisor_prices_a_dedicated_cluster() {
    let fs = MemorySource::new().with("estate.kdl", ORACLE);
    let compiled = virtplan::compile(&fs);
    let plan = serde_json::to_value(compiled.plan.expect("a plan")).expect("json");
    // Three 300 GiB VMs cannot share a 512 GiB host: 3 "big" hosts, and the
    // databases beside them. Oracle: 3 hosts × 32 cores × 0.5 = 48.
    assert_eq!(plan["costs"]["hosts"], 3);
    let advice = plan["costs"]["advice"].as_array().unwrap();
    let ora = advice.iter().find(|a| a["license"] == "ora").unwrap();
    assert_eq!(ora["servers"], serde_json::json!(["db1", "db2"]));
    let alt = |label: &str| {
        ora["alternatives"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["label"] == label)
            .unwrap_or_else(|| panic!("no alternative `{label}` in {ora:#}"))
            .clone()
    };
    assert_eq!(alt("as planned")["units"], 48.0);
    // A dedicated cluster of "small" hosts: both databases (64 GiB each, with
    // headroom well under 256 GiB) on one host of 16 cores: 8 licences;
    // the apps keep their 3 hosts.
    let small = alt("a dedicated cluster on small");
    assert_eq!(small["units"], 8.0);
    assert_eq!(small["hosts"], 4);
    // On one "big" host: 32 × 0.5 = 16.
    let big = alt("a dedicated cluster on big");
    assert_eq!(big["units"], 16.0);
    // Kept physical: 2 servers × 4 cores, Oracle's 0.5 factor: 4.
    let physical = alt("kept physical");
    assert_eq!(physical["units"], 4.0);
    // Licences bought: 48 − 4 owned = 44 as planned, 8 − 4 = 4 in the small
    // cluster: 40 × 1,000 fewer. The small host costs its 6,000 price and
    // yearly costs (energy, space, support, administration) on top, so the
    // NPV gains less than 34,000, and still gains.
    let change = small["npv_change"].as_f64().unwrap();
    assert!(change < 40.0 * 1000.0 - 6000.0 && change > 0.0, "{change}");
}

#[test]
fn drivers_add_up_to_the_npv_and_sensitivity_is_recomputed() {
    let fs = MemorySource::new().with("estate.kdl", PROJECT);
    let compiled = virtplan::compile(&fs);
    let plan = serde_json::to_value(compiled.plan.expect("a plan")).expect("json");
    let costs = &plan["costs"];
    let npv = costs["npv"].as_f64().unwrap();
    let sum: f64 = costs["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["npv"].as_f64().unwrap())
        .sum();
    assert!((sum - npv).abs() < 1e-6, "{sum} vs {npv}");
    // Rate 0%: the annuity factor is the horizon, 5 years.
    assert_eq!(costs["annuity_factor"], 5.0);
    // Energy price ±20%: the NPV moves by 20% of the yearly energy saving
    // × 5 years, less the energy of `app`'s one week beside the host during
    // the migration (262.8 ÷ 52), both ways.
    let energy = line(&plan, "energy and cooling");
    let saving =
        energy["as_is"].as_f64().unwrap() - energy["to_be"].as_f64().unwrap() - 262.8 / 52.0 / 5.0;
    let rows = costs["sensitivity"]["rows"].as_array().unwrap();
    let row = rows.iter().find(|r| r["input"] == "energy price").unwrap();
    let low = row["npv_low"].as_f64().unwrap();
    let high = row["npv_high"].as_f64().unwrap();
    // (Amounts in plan.json are in cents.)
    assert!((low - (npv - 0.2 * saving * 5.0)).abs() < 0.02, "{low}");
    assert!((high - (npv + 0.2 * saving * 5.0)).abs() < 0.02, "{high}");
    // Host price ±20% of the one 10,000 host: ∓2,000.
    let row = rows.iter().find(|r| r["input"] == "host price").unwrap();
    assert!((row["npv_low"].as_f64().unwrap() - (npv + 2000.0)).abs() < 1e-6);
    assert!((row["npv_high"].as_f64().unwrap() - (npv - 2000.0)).abs() < 1e-6);
}

#[test]
fn the_capacity_plan_says_what_fix_first_servers_would_add() {
    // Two weeks of hourly samples at 99% CPU: fix-first (CPU bottleneck),
    // with 290 GiB of memory in use.
    let mut csv = String::from("timestamp,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n");
    for day in 2..16 {
        for hour in 0..24 {
            csv.push_str(&format!(
                "2026-03-{day:02}T{hour:02}:00:00Z,99.0,290,100,5,10\n"
            ));
        }
    }
    // Once fixed, busy's VM holds at least its 290 GiB in use: beside
    // none of the 300 GiB apps on a 512 GiB host, so a host of its own,
    // one more than the 3 of the ORACLE estate.
    let project =
        format!("{ORACLE}\nserver \"busy\" class=\"app\" {{\n    metrics \"busy.csv\"\n}}\n");
    let fs = MemorySource::new()
        .with("estate.kdl", project)
        .with("busy.csv", csv);
    let compiled = virtplan::compile(&fs);
    let plan = serde_json::to_value(compiled.plan.expect("a plan")).expect("json");
    let busy = plan["assessment"]["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "busy")
        .unwrap();
    assert_eq!(busy["scope"], "fix-first");
    let fixed = &plan["capacity"]["once_fixed"];
    assert_eq!(fixed["servers"], serde_json::json!(["busy"]));
    assert_eq!(fixed["hosts_now"], 3);
    assert_eq!(fixed["hosts_fixed"], 4);
}

#[test]
fn the_migration_period_keeps_servers_running_until_their_wave() {
    let plan = plan();
    // `app` moves in wave 1 (no start date: week 1), so its physical costs
    // run one more week beside the host: 300 W × 8760 h × PUE 1 × 0.10
    // = 262.8, 1 U × 100, 2 NICs × 10, support 500 (spare parts,
    // administration and failures are 0 here): 882.8 a year ÷ 52 weeks.
    let wave = plan["runbook"]["waves"][0]["week"].as_u64().unwrap();
    assert_eq!(wave, 1);
    let overlap = line(&plan, "both estates during the migration");
    let year1 = overlap["to_be_by_year"][0].as_f64().unwrap();
    assert!((year1 - 882.8 / 52.0).abs() < 0.01, "{year1}");
    assert_eq!(overlap["to_be_by_year"][1], 0.0);
    assert_eq!(overlap["as_is"], 0.0);
}

#[test]
fn an_empty_cluster_does_not_make_alternatives_infeasible() {
    // An idle cluster with max-hosts 1 listed first holds no VM, so the
    // plans list only the others: no alternative breaks a max-hosts.
    let project = ORACLE.replace(
        "cluster \"c\" {",
        "cluster \"a-idle\" {\n    platform \"esxi\"\n    host-model \"big\"\n    max-hosts 1\n}\n\ndefaults {\n    cluster \"c\"\n}\n\ncluster \"c\" {",
    );
    let fs = MemorySource::new().with("estate.kdl", project);
    let compiled = virtplan::compile(&fs);
    assert!(!compiled.diags.has_errors(), "{:#?}", compiled.diags.items);
    let plan = serde_json::to_value(compiled.plan.expect("a plan")).expect("json");
    let ora = plan["costs"]["advice"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["license"] == "ora")
        .unwrap()
        .clone();
    for alt in ora["alternatives"].as_array().unwrap() {
        assert!(alt["infeasible"].is_null(), "{alt:#}");
    }
}
