//! Costs: as-is against to-be over the horizon, with TCO, NPV, ROI, payback.
//!
//! In: the [`Model`], the [`Assessment`] and the [`Placement`]. Out: a
//! [`CostReport`]: yearly line items for the as-is estate (the servers that
//! move; those that stay physical cost the same either way and are left
//! out), the to-be estate (hosts, hypervisor and application licences,
//! storage, energy, space, support, admin time, downtime), the one-off
//! investment (hosts, storage, new licences, adoption), and a year-by-year
//! cash flow with its cumulative sum, payback month, NPV and ROI.
//!
//! Every line item names the inputs it comes from. Energy is
//! watts × 8760 h × PUE × price per kWh; a host draws the midpoint of its
//! idle and peak power. Licences are counted per metric; for core and socket
//! metrics on hosts the cheaper of licensing the whole host (covering
//! `vms-per-license` VMs per full licensing) and licensing each VM is kept.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::assess::Assessment;
use crate::model::{Id, License, Model};
use crate::place::Placement;

/// Network ports counted per host in the to-be estate.
pub const PORTS_PER_HOST: f64 = 2.0;
/// Power of a physical server that states none.
pub const DEFAULT_SERVER_WATTS: f64 = 300.0;

#[derive(Debug, Clone, Serialize)]
pub struct LineItem {
    pub item: String,
    pub basis: String,
    pub as_is: f64,
    pub to_be: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Year {
    pub year: u32,
    pub as_is: f64,
    pub to_be: f64,
    pub cash_flow: f64,
    pub cumulative: f64,
    pub discounted: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Investment {
    pub item: String,
    pub basis: String,
    pub amount: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LicenseCount {
    pub license: String,
    pub metric: String,
    pub as_is_units: f64,
    pub to_be_units: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub currency: String,
    pub horizon_years: u32,
    pub servers_moved: usize,
    pub hosts: usize,
    pub yearly: Vec<LineItem>,
    pub investment: Vec<Investment>,
    pub investment_total: f64,
    pub licenses: Vec<LicenseCount>,
    pub years: Vec<Year>,
    pub as_is_tco: f64,
    pub to_be_tco: f64,
    pub npv: f64,
    pub roi_pct: f64,
    /// First month in which the cumulative cash flow is ≥ 0; `None` if never.
    pub payback_month: Option<u32>,
}

pub fn cost(model: &Model, assessment: &Assessment, placement: &Placement) -> CostReport {
    let c = &model.costs;
    let moved: Vec<Id> = assessment
        .servers
        .iter()
        .enumerate()
        .filter(|(_, s)| s.verdict.moves() && placement.assignments.contains_key(&s.name))
        .map(|(i, _)| i)
        .collect();
    let servers: Vec<_> = moved.iter().map(|i| &model.servers[*i]).collect();
    let n = servers.len() as f64;
    let hosts: Vec<(&crate::model::HostModel, usize)> = placement
        .clusters
        .iter()
        .filter_map(|cp| {
            let hm = model.host_models.iter().find(|h| h.name == cp.host_model)?;
            Some((hm, cp.hosts.len()))
        })
        .collect();
    let host_count: usize = hosts.iter().map(|(_, n)| n).sum();
    let hn = host_count as f64;
    let kwh = |watts: f64| watts / 1000.0 * 8760.0 * c.pue * c.energy_price;

    let mut yearly = Vec::new();
    let mut line = |item: &str, basis: String, as_is: f64, to_be: f64| {
        yearly.push(LineItem {
            item: item.to_string(),
            basis,
            as_is,
            to_be,
        });
    };
    let server_watts: f64 = servers
        .iter()
        .map(|s| s.power.map_or(DEFAULT_SERVER_WATTS, |p| p.0))
        .sum();
    let host_watts: f64 = hosts
        .iter()
        .map(|(h, k)| (h.power_idle.0 + h.power_peak.0) / 2.0 * *k as f64)
        .sum();
    line(
        "energy and cooling",
        format!(
            "{} W servers vs {} W hosts × 8760 h × PUE {} × {} per kWh",
            server_watts.round(),
            host_watts.round(),
            c.pue,
            c.energy_price
        ),
        kwh(server_watts),
        kwh(host_watts),
    );
    let server_ru: f64 = servers.iter().map(|s| f64::from(s.rack_units)).sum();
    let host_ru: f64 = hosts
        .iter()
        .map(|(h, k)| f64::from(h.rack_units) * *k as f64)
        .sum();
    line(
        "rack space",
        format!(
            "{server_ru} U vs {host_ru} U × {} per U",
            c.rack_unit_per_year
        ),
        server_ru * c.rack_unit_per_year,
        host_ru * c.rack_unit_per_year,
    );
    let ports: f64 = servers.iter().map(|s| f64::from(s.nics)).sum();
    line(
        "network ports",
        format!(
            "{ports} server NICs vs {PORTS_PER_HOST} per host × {} per port",
            c.network_port_per_year
        ),
        ports * c.network_port_per_year,
        hn * PORTS_PER_HOST * c.network_port_per_year,
    );
    let server_support: f64 = servers
        .iter()
        .map(|s| s.support_per_year.unwrap_or(c.server_support_per_year))
        .sum();
    let host_support: f64 = hosts
        .iter()
        .map(|(h, k)| h.support_per_year * *k as f64)
        .sum();
    line(
        "hardware support",
        "support-per-year of each server vs each host".to_string(),
        server_support,
        host_support,
    );
    line(
        "hardware refresh",
        format!(
            "{} per server every {} years",
            c.server_refresh_price, c.refresh_cycle_years
        ),
        n * c.server_refresh_price / c.refresh_cycle_years,
        0.0,
    );
    line(
        "spare parts",
        format!("{} per physical server", c.spare_parts_per_year),
        n * c.spare_parts_per_year,
        0.0,
    );
    line(
        "downtime from hardware failures",
        format!(
            "{}% failing × ({} h repair vs {} h restart) × {} per hour",
            c.failure_rate.0 * 100.0,
            c.repair_hours,
            c.restart_hours,
            c.downtime_hour
        ),
        n * c.failure_rate.0 * c.repair_hours * c.downtime_hour,
        n * c.failure_rate.0 * c.restart_hours * c.downtime_hour,
    );
    line(
        "administration",
        format!(
            "{} h per server vs {} h per host + {} h per VM, × {} per hour",
            c.server_admin_hours_per_year,
            c.host_admin_hours_per_year,
            c.vm_admin_hours_per_year,
            c.admin_hour
        ),
        n * c.server_admin_hours_per_year * c.admin_hour,
        (hn * c.host_admin_hours_per_year + n * c.vm_admin_hours_per_year) * c.admin_hour,
    );
    line(
        "deploying new servers",
        format!(
            "{} a year × ({} h physical vs {} h virtual) × {} per hour",
            c.new_servers_per_year, c.deploy_hours_physical, c.deploy_hours_virtual, c.admin_hour
        ),
        c.new_servers_per_year * c.deploy_hours_physical * c.admin_hour,
        c.new_servers_per_year * c.deploy_hours_virtual * c.admin_hour,
    );
    line(
        "shared storage support",
        "shared-storage-per-year".to_string(),
        0.0,
        if host_count > 0 {
            c.shared_storage_per_year
        } else {
            0.0
        },
    );

    // Licences.
    let counts = license_counts(model, assessment, placement, &moved);
    let mut licence_purchase = 0.0;
    for lc in &counts {
        let Some(lic) = model.licenses.iter().find(|l| l.name == lc.license) else {
            continue;
        };
        yearly.push(LineItem {
            item: format!("licence support: {}", lic.name),
            basis: format!(
                "{} vs {} units ({}) × {} per unit",
                lc.as_is_units, lc.to_be_units, lic.metric, lic.support_per_year
            ),
            as_is: lc.as_is_units * lic.support_per_year,
            to_be: lc.to_be_units * lic.support_per_year,
        });
        licence_purchase += (lc.to_be_units - lc.as_is_units).max(0.0) * lic.price;
    }

    let mut investment = Vec::new();
    for (h, k) in &hosts {
        investment.push(Investment {
            item: format!("hosts: {}", h.name),
            basis: format!("{k} × {}", h.price),
            amount: *k as f64 * h.price,
        });
    }
    if host_count > 0 && c.shared_storage > 0.0 {
        investment.push(Investment {
            item: "shared storage".to_string(),
            basis: "shared-storage".to_string(),
            amount: c.shared_storage,
        });
    }
    investment.push(Investment {
        item: "licences bought".to_string(),
        basis: "units needed beyond those owned × price".to_string(),
        amount: licence_purchase,
    });
    let a = &c.adoption;
    let hours =
        a.recognition_hours + a.planning_hours + a.roi_hours + a.migration_hours_per_server * n;
    investment.push(Investment {
        item: "adoption work".to_string(),
        basis: format!(
            "({} + {} + {} h + {} h × {n} servers) × {} per hour",
            a.recognition_hours,
            a.planning_hours,
            a.roi_hours,
            a.migration_hours_per_server,
            c.admin_hour
        ),
        amount: hours * c.admin_hour,
    });
    investment.push(Investment {
        item: "training and tools".to_string(),
        basis: "training + tools".to_string(),
        amount: a.training + a.tools,
    });
    let investment_total: f64 = investment.iter().map(|i| i.amount).sum();

    let as_is_year: f64 = yearly.iter().map(|l| l.as_is).sum();
    let to_be_year: f64 = yearly.iter().map(|l| l.to_be).sum();
    let rate = model.project.discount_rate.0;
    let mut years = vec![Year {
        year: 0,
        as_is: 0.0,
        to_be: investment_total,
        cash_flow: -investment_total,
        cumulative: -investment_total,
        discounted: -investment_total,
    }];
    let mut cumulative = -investment_total;
    let mut npv = -investment_total;
    let mut payback_month = if investment_total <= 0.0 {
        Some(0)
    } else {
        None
    };
    let saving = as_is_year - to_be_year;
    for y in 1..=model.project.horizon_years {
        let before = cumulative;
        cumulative += saving;
        let discounted = saving / (1.0 + rate).powi(y as i32);
        npv += discounted;
        if payback_month.is_none() && cumulative >= 0.0 && saving > 0.0 {
            let months_into_year = ((-before) / (saving / 12.0)).ceil().max(1.0) as u32;
            payback_month = Some((y - 1) * 12 + months_into_year.min(12));
        }
        years.push(Year {
            year: y,
            as_is: as_is_year,
            to_be: to_be_year,
            cash_flow: saving,
            cumulative,
            discounted,
        });
    }
    let horizon = f64::from(model.project.horizon_years);
    CostReport {
        currency: model.project.currency.clone(),
        horizon_years: model.project.horizon_years,
        servers_moved: moved.len(),
        hosts: host_count,
        yearly,
        investment,
        investment_total,
        licenses: counts,
        as_is_tco: as_is_year * horizon,
        to_be_tco: to_be_year * horizon + investment_total,
        npv,
        roi_pct: if investment_total > 0.0 {
            (saving * horizon - investment_total) / investment_total * 100.0
        } else {
            0.0
        },
        years,
        payback_month,
    }
}

/// Units of one licence a physical server needs.
fn physical_units(lic: &License, cores: u32, sockets: u32) -> f64 {
    match lic.metric.as_str() {
        "per-core" | "per-cluster-core" => f64::from(
            cores
                .max(sockets * lic.min_cores_per_socket)
                .max(lic.min_cores_per_host),
        ),
        "per-vcpu" => f64::from(cores),
        "per-socket" => f64::from(sockets),
        _ => 1.0,
    }
}

fn license_counts(
    model: &Model,
    assessment: &Assessment,
    placement: &Placement,
    moved: &[Id],
) -> Vec<LicenseCount> {
    let mut out = Vec::new();
    // VMs per host per licence: host name → (licence → [vcpus of each VM]).
    let mut per_host: BTreeMap<&str, BTreeMap<Id, Vec<u32>>> = BTreeMap::new();
    for id in moved {
        let s = &model.servers[*id];
        let Some(host) = placement.assignments.get(&s.name) else {
            continue;
        };
        for l in &s.licenses {
            per_host
                .entry(host.as_str())
                .or_default()
                .entry(*l)
                .or_default()
                .push(assessment.servers[*id].vm.vcpus);
        }
    }
    let host_model_of = |host: &str| {
        placement
            .clusters
            .iter()
            .find(|c| c.hosts.iter().any(|h| h.name == host))
            .and_then(|c| {
                model
                    .host_models
                    .iter()
                    .find(|h| h.name == c.host_model)
                    .map(|hm| (c, hm))
            })
    };
    let mut platform_licences: BTreeMap<Id, f64> = BTreeMap::new();
    for cp in &placement.clusters {
        let Some(cluster) = model.clusters.iter().find(|c| c.name == cp.name) else {
            continue;
        };
        let Some(hm) = model.host_models.iter().find(|h| h.name == cp.host_model) else {
            continue;
        };
        if let Some(l) = model.platforms[cluster.platform].license {
            let lic = &model.licenses[l];
            *platform_licences.entry(l).or_default() +=
                physical_units(lic, hm.cores(), hm.sockets) * cp.hosts.len() as f64;
        }
    }
    for (lid, lic) in model.licenses.iter().enumerate() {
        let users: Vec<Id> = moved
            .iter()
            .copied()
            .filter(|i| model.servers[*i].licenses.contains(&lid))
            .collect();
        let as_is: f64 = users
            .iter()
            .map(|i| physical_units(lic, model.servers[*i].cores(), model.servers[*i].sockets))
            .sum();
        let mut to_be = platform_licences.get(&lid).copied().unwrap_or(0.0);
        let mut cluster_cores: BTreeMap<&str, f64> = BTreeMap::new();
        for (host, lics) in &per_host {
            let Some(vcpus) = lics.get(&lid) else {
                continue;
            };
            let Some((cp, hm)) = host_model_of(host) else {
                continue;
            };
            let vms = vcpus.len() as f64;
            let host_units = physical_units(lic, hm.cores(), hm.sockets);
            let per_vm: f64 = vcpus
                .iter()
                .map(|v| match lic.metric.as_str() {
                    "per-core" | "per-vcpu" => f64::from(*v),
                    // A socket cannot be licensed per VM.
                    _ => f64::INFINITY,
                })
                .sum();
            match lic.metric.as_str() {
                "per-instance" => to_be += vms,
                "per-vcpu" => to_be += vcpus.iter().map(|v| f64::from(*v)).sum::<f64>(),
                "per-cluster-core" => {
                    cluster_cores.insert(cp.name.as_str(), host_units * cp.hosts.len() as f64);
                }
                _ => {
                    let whole_host = match lic.vms_per_license {
                        None => host_units,
                        Some(k) => host_units * (vms / k.max(1) as f64).ceil(),
                    };
                    to_be += whole_host.min(per_vm);
                }
            }
        }
        to_be += cluster_cores.values().sum::<f64>();
        if as_is > 0.0 || to_be > 0.0 {
            out.push(LicenseCount {
                license: lic.name.clone(),
                metric: lic.metric.clone(),
                as_is_units: as_is,
                to_be_units: to_be,
            });
        }
    }
    out
}
