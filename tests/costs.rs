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
    let fs = MemorySource::new().with("estate.kdl", PROJECT);
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
