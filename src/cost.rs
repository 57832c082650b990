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

use schemars::JsonSchema;
use serde::Serialize;

use crate::assess::Assessment;
use crate::license::{HostMix, Licensing, Metric, Need, Product, cluster_licences, host_units};
use crate::model::{HOST_PORTS, HostYearly, Id, Model, Scope, energy_cost};
use crate::place::Placement;
use crate::round;

mod keys;
pub use keys::{Category, InvestmentKind};

/// Power of a physical server that states none.
pub const DEFAULT_SERVER_WATTS: f64 = 300.0;

/// A yearly cost, as-is against to-be.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LineItem {
    /// Stable key; with `license`, it identifies the item.
    pub key: Category,
    /// The licence of a `licence-support` item.
    pub license: Option<String>,
    /// The item in words, as the reports print it.
    pub item: String,
    /// The inputs the amounts come from, in words.
    pub basis: String,
    /// Per year, in the project's currency (cents).
    #[serde(serialize_with = "round::money")]
    pub as_is: f64,
    /// Per year, in the project's currency (cents).
    #[serde(serialize_with = "round::money")]
    pub to_be: f64,
}

/// One year of the cash flow; year 0 is the investment.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Year {
    pub year: u32,
    #[serde(serialize_with = "round::money")]
    pub as_is: f64,
    #[serde(serialize_with = "round::money")]
    pub to_be: f64,
    /// as-is − to-be (cents).
    #[serde(serialize_with = "round::money")]
    pub cash_flow: f64,
    #[serde(serialize_with = "round::money")]
    pub cumulative: f64,
    /// `cash_flow` discounted to year 0 (cents).
    #[serde(serialize_with = "round::money")]
    pub discounted: f64,
}

/// A one-off investment.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Investment {
    /// Stable key; with `host_model`, it identifies the item.
    pub key: InvestmentKind,
    /// The host model of a `hosts` item.
    pub host_model: Option<String>,
    /// The item in words, as the reports print it.
    pub item: String,
    /// The inputs the amount comes from, in words.
    pub basis: String,
    /// In the project's currency (cents).
    #[serde(serialize_with = "round::money")]
    pub amount: f64,
}

/// Units of one licence needed as-is and to-be.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LicenseCount {
    pub license: String,
    pub metric: Metric,
    #[serde(serialize_with = "round::units")]
    pub as_is_units: f64,
    #[serde(serialize_with = "round::units")]
    pub to_be_units: f64,
}

/// The cost report: yearly items, investment, cash flow and its measures.
/// Amounts are in `currency`, rounded to cents.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CostReport {
    pub currency: String,
    pub horizon_years: u32,
    pub servers_moved: usize,
    pub hosts: usize,
    pub yearly: Vec<LineItem>,
    pub investment: Vec<Investment>,
    #[serde(serialize_with = "round::money")]
    pub investment_total: f64,
    pub licenses: Vec<LicenseCount>,
    /// Per host, the licences bought and the mix they were priced against.
    pub host_licenses: Vec<HostLicensing>,
    pub years: Vec<Year>,
    #[serde(serialize_with = "round::money")]
    pub as_is_tco: f64,
    #[serde(serialize_with = "round::money")]
    pub to_be_tco: f64,
    /// Net present value at the project's discount rate.
    #[serde(serialize_with = "round::money")]
    pub npv: f64,
    /// Internal rate of return, percent; `None` when there is none.
    #[serde(serialize_with = "round::percent_opt")]
    pub irr_pct: Option<f64>,
    /// Undiscounted return over the horizon, percent; `None` without investment.
    #[serde(serialize_with = "round::percent_opt")]
    pub roi_pct: Option<f64>,
    /// Undiscounted payback month; `None` without investment, or never.
    pub payback_month: Option<u32>,
    /// Discounted payback month; `None` without investment, or never.
    pub discounted_payback_month: Option<u32>,
}

pub fn cost(model: &Model, assessment: &Assessment, placement: &Placement) -> CostReport {
    let c = &model.costs;
    let moved: Vec<Id> = assessment
        .servers
        .iter()
        .enumerate()
        .filter(|(_, s)| s.scope == Scope::Moves && placement.assignments.contains_key(&s.name))
        .map(|(i, _)| i)
        .collect();
    // The as-is side is the whole estate in scope; on the to-be side the
    // servers that stay physical keep their costs beside the hosts.
    let scope_of = |i: Id| assessment.servers[i].scope;
    let estate: Vec<Id> = (0..model.servers.len())
        .filter(|i| scope_of(*i).in_as_is())
        .collect();
    let staying: Vec<Id> = (0..model.servers.len())
        .filter(|i| scope_of(*i).stays_physical())
        .collect();
    let sum_over = |ids: &[Id], f: &dyn Fn(&crate::model::Server) -> f64| -> f64 {
        ids.iter()
            .map(|i| f(&model.servers[*i]))
            .fold(0.0, |a, b| a + b)
    };
    let (n, ns) = (estate.len() as f64, staying.len() as f64);
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
    let per_host = |f: &dyn Fn(&crate::model::HostModel) -> f64| -> f64 {
        hosts
            .iter()
            .map(|(h, k)| f(h) * *k as f64)
            .fold(0.0, |a, b| a + b)
    };
    let kwh = |watts: f64| energy_cost(watts, c);
    // Each host's yearly costs, from the one function placement uses too.
    let host_year = |f: fn(&HostYearly) -> f64| per_host(&|h| f(&h.yearly(c)));

    let mut yearly = Vec::new();
    let mut line = |key: Category, basis: String, as_is: f64, to_be: f64| {
        yearly.push(LineItem {
            key,
            license: None,
            item: key.label().to_string(),
            basis,
            as_is,
            to_be,
        });
    };
    let who = format!("{n} servers vs {hn} hosts + {ns} servers staying physical");
    let watts = |s: &crate::model::Server| s.power.map_or(DEFAULT_SERVER_WATTS, |p| p.0);
    let (server_watts, staying_watts) = (sum_over(&estate, &watts), sum_over(&staying, &watts));
    let host_watts = per_host(&|h| h.mean_watts());
    line(
        Category::Energy,
        format!(
            "{} W servers vs {} W hosts + {} W staying × 8760 h × PUE {} × {} per kWh",
            server_watts.round(),
            host_watts.round(),
            staying_watts.round(),
            c.pue,
            c.energy_price
        ),
        kwh(server_watts),
        host_year(|y| y.energy) + kwh(staying_watts),
    );
    let ru = |s: &crate::model::Server| f64::from(s.rack_units);
    let (server_ru, staying_ru) = (sum_over(&estate, &ru), sum_over(&staying, &ru));
    let host_ru = per_host(&|h| f64::from(h.rack_units));
    line(
        Category::RackSpace,
        format!(
            "{server_ru} U vs {host_ru} U + {staying_ru} U staying × {} per U",
            c.rack_unit_per_year
        ),
        server_ru * c.rack_unit_per_year,
        host_year(|y| y.space) + staying_ru * c.rack_unit_per_year,
    );
    let nics = |s: &crate::model::Server| f64::from(s.nics);
    let (ports, staying_ports) = (sum_over(&estate, &nics), sum_over(&staying, &nics));
    line(
        Category::NetworkPorts,
        format!(
            "{ports} server NICs vs {HOST_PORTS} per host + {staying_ports} staying × {} per port",
            c.network_port_per_year
        ),
        ports * c.network_port_per_year,
        host_year(|y| y.ports) + staying_ports * c.network_port_per_year,
    );
    let support =
        |s: &crate::model::Server| s.support_per_year.unwrap_or(c.server_support_per_year);
    line(
        Category::HardwareSupport,
        "support-per-year of each server vs each host and each server staying".to_string(),
        sum_over(&estate, &support),
        host_year(|y| y.support) + sum_over(&staying, &support),
    );
    line(
        Category::HardwareRefresh,
        format!(
            "{} per server every {} years ({who})",
            c.server_refresh_price, c.refresh_cycle_years
        ),
        n * c.server_refresh_price / c.refresh_cycle_years,
        ns * c.server_refresh_price / c.refresh_cycle_years,
    );
    line(
        Category::SpareParts,
        format!("{} per physical server ({who})", c.spare_parts_per_year),
        n * c.spare_parts_per_year,
        ns * c.spare_parts_per_year,
    );
    let moved_n = moved.len() as f64;
    line(
        Category::Downtime,
        format!(
            "{}% failing × ({} h repair vs {} h restart for the {moved_n} VMs) × {} per hour",
            c.failure_rate.0 * 100.0,
            c.repair_hours,
            c.restart_hours,
            c.downtime_hour
        ),
        n * c.failure_rate.0 * c.repair_hours * c.downtime_hour,
        (moved_n * c.restart_hours + ns * c.repair_hours) * c.failure_rate.0 * c.downtime_hour,
    );
    line(
        Category::Administration,
        format!(
            "{} h per server vs {} h per host + {} h per VM + {} h per server staying, × {} per hour",
            c.server_admin_hours_per_year,
            c.host_admin_hours_per_year,
            c.vm_admin_hours_per_year,
            c.server_admin_hours_per_year,
            c.admin_hour
        ),
        n * c.server_admin_hours_per_year * c.admin_hour,
        host_year(|y| y.admin)
            + (moved_n * c.vm_admin_hours_per_year + ns * c.server_admin_hours_per_year)
                * c.admin_hour,
    );
    line(
        Category::Deployment,
        format!(
            "{} a year × ({} h physical vs {} h virtual) × {} per hour",
            c.new_servers_per_year, c.deploy_hours_physical, c.deploy_hours_virtual, c.admin_hour
        ),
        c.new_servers_per_year * c.deploy_hours_physical * c.admin_hour,
        c.new_servers_per_year * c.deploy_hours_virtual * c.admin_hour,
    );
    line(
        Category::SharedStorageSupport,
        "shared-storage-per-year".to_string(),
        0.0,
        if host_count > 0 {
            c.shared_storage_per_year
        } else {
            0.0
        },
    );

    // Licences.
    let sides = Sides {
        estate: &estate,
        staying: &staying,
        moved: &moved,
    };
    let (counts, host_licenses) = license_counts(model, assessment, placement, &sides);
    let mut licence_purchase = 0.0;
    for lc in &counts {
        let Some(lic) = model.licenses.iter().find(|l| l.name == lc.license) else {
            continue;
        };
        yearly.push(LineItem {
            key: Category::LicenceSupport,
            license: Some(lic.name.clone()),
            item: format!("licence support: {}", lic.name),
            basis: format!(
                "{} vs {} units ({}) × {} per unit",
                lc.as_is_units,
                lc.to_be_units,
                lic.product.metric.word(),
                lic.product.support_per_year
            ),
            as_is: lc.as_is_units * lic.product.support_per_year,
            to_be: lc.to_be_units * lic.product.support_per_year,
        });
        licence_purchase += (lc.to_be_units - lc.as_is_units).max(0.0) * lic.product.price;
    }

    let mut investment = Vec::new();
    for (h, k) in &hosts {
        investment.push(Investment {
            key: InvestmentKind::Hosts,
            host_model: Some(h.name.clone()),
            item: format!("hosts: {}", h.name),
            basis: format!("{k} × {}", h.price),
            amount: *k as f64 * h.price,
        });
    }
    if host_count > 0 && c.shared_storage > 0.0 {
        investment.push(Investment {
            key: InvestmentKind::SharedStorage,
            host_model: None,
            item: "shared storage".to_string(),
            basis: "shared-storage".to_string(),
            amount: c.shared_storage,
        });
    }
    investment.push(Investment {
        key: InvestmentKind::LicencesBought,
        host_model: None,
        item: "licences bought".to_string(),
        basis: "to-be units beyond the as-is units × price (the as-is licences are assumed owned and transferable)".to_string(),
        amount: licence_purchase,
    });
    let a = &c.adoption;
    let hours = a.recognition_hours
        + a.planning_hours
        + a.roi_hours
        + a.migration_hours_per_server * moved_n;
    investment.push(Investment {
        key: InvestmentKind::AdoptionWork,
        host_model: None,
        item: "adoption work".to_string(),
        basis: format!(
            "({} + {} + {} h + {} h × {moved_n} servers moved) × {} per hour",
            a.recognition_hours,
            a.planning_hours,
            a.roi_hours,
            a.migration_hours_per_server,
            c.admin_hour
        ),
        amount: hours * c.admin_hour,
    });
    investment.push(Investment {
        key: InvestmentKind::TrainingAndTools,
        host_model: None,
        item: "training and tools".to_string(),
        basis: "training + tools".to_string(),
        amount: a.training + a.tools,
    });
    let investment_total: f64 = investment.iter().map(|i| i.amount).sum();

    let as_is_year: f64 = yearly.iter().map(|l| l.as_is).fold(0.0, |a, b| a + b);
    let to_be_year: f64 = yearly.iter().map(|l| l.to_be).fold(0.0, |a, b| a + b);
    let horizon = model.project.horizon_years;
    let saving = as_is_year - to_be_year;
    let flows = cash_flows(investment_total, saving, horizon);
    let measures = Measures::of(&flows, model.project.discount_rate.0);
    let discounted = discount(&flows, model.project.discount_rate.0);
    let mut cumulative = 0.0;
    let years = flows
        .iter()
        .zip(&discounted)
        .enumerate()
        .map(|(y, (flow, discounted))| {
            cumulative += flow;
            Year {
                year: y as u32,
                as_is: if y == 0 { 0.0 } else { as_is_year },
                to_be: if y == 0 { investment_total } else { to_be_year },
                cash_flow: *flow,
                cumulative,
                discounted: *discounted,
            }
        })
        .collect();
    let h = f64::from(horizon);
    CostReport {
        currency: model.project.currency.clone(),
        horizon_years: horizon,
        servers_moved: moved.len(),
        hosts: host_count,
        yearly,
        investment,
        investment_total,
        licenses: counts,
        host_licenses,
        as_is_tco: as_is_year * h,
        to_be_tco: to_be_year * h + investment_total,
        npv: measures.npv,
        irr_pct: measures.irr.map(|r| r * 100.0),
        roi_pct: measures.roi.map(|r| r * 100.0),
        years,
        payback_month: measures.payback_month,
        discounted_payback_month: measures.discounted_payback_month,
    }
}

/// Yearly cash flows: year 0 is minus the investment, each later year of
/// the horizon the yearly saving.
pub fn cash_flows(investment: f64, saving: f64, horizon: u32) -> Vec<f64> {
    std::iter::once(-investment)
        .chain(std::iter::repeat_n(saving, horizon as usize))
        .collect()
}

/// The investment measures of a series of yearly cash flows, each with its
/// convention. Year 0 is the investment, undiscounted; year y is discounted
/// by (1 + rate)^y (end-of-year flows).
#[derive(Debug, Clone, PartialEq)]
pub struct Measures {
    /// Net present value at the discount rate.
    pub npv: f64,
    /// Internal rate of return: the rate at which the NPV is zero. `None`
    /// when there is none (no investment, or flows that never change sign
    /// from negative to positive).
    pub irr: Option<f64>,
    /// Undiscounted: (sum of later flows − investment) ÷ investment. `None`
    /// when nothing is invested.
    pub roi: Option<f64>,
    /// Undiscounted payback: the month in which the cumulative flow first
    /// reaches zero, savings spread evenly over each year's months. `None`
    /// when nothing is invested (nothing to pay back) or never.
    pub payback_month: Option<u32>,
    /// The same on discounted flows.
    pub discounted_payback_month: Option<u32>,
}

impl Measures {
    pub fn of(flows: &[f64], rate: f64) -> Measures {
        let discounted = discount(flows, rate);
        let npv = discounted.iter().fold(0.0, |a, b| a + b);
        let investment = -flows.first().copied().unwrap_or(0.0);
        let later = flows.iter().skip(1).fold(0.0, |a, b| a + b);
        let invested = investment > 0.0;
        Measures {
            npv,
            irr: if invested { irr(flows) } else { None },
            roi: invested.then(|| (later - investment) / investment),
            payback_month: if invested { payback(flows) } else { None },
            discounted_payback_month: if invested { payback(&discounted) } else { None },
        }
    }
}

/// Each year's flow at its present value: year y divided by (1 + rate)^y.
fn discount(flows: &[f64], rate: f64) -> Vec<f64> {
    flows
        .iter()
        .enumerate()
        .map(|(y, f)| f / (1.0 + rate).powi(y as i32))
        .collect()
}

/// The first month in which the cumulative flow reaches zero, each year's
/// flow spread evenly over its 12 months.
fn payback(flows: &[f64]) -> Option<u32> {
    let mut cumulative = flows.first().copied()?;
    if cumulative >= 0.0 {
        return None;
    }
    for (y, flow) in flows.iter().enumerate().skip(1) {
        if *flow > 0.0 && cumulative + flow >= 0.0 {
            let months = (-cumulative / (flow / 12.0)).ceil().clamp(1.0, 12.0) as u32;
            return Some((y as u32 - 1) * 12 + months);
        }
        cumulative += flow;
    }
    None
}

/// The rate r > −1 at which the NPV of `flows` is zero, by bisection, when
/// the NPV changes sign between −99% and 1000%.
fn irr(flows: &[f64]) -> Option<f64> {
    let npv = |r: f64| discount(flows, r).iter().fold(0.0, |a, b| a + b);
    let (mut lo, mut hi) = (-0.99, 10.0);
    let (f_lo, f_hi) = (npv(lo), npv(hi));
    if f_lo.signum() == f_hi.signum() {
        return None;
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if npv(mid).signum() == f_lo.signum() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((lo + hi) / 2.0)
}

/// The servers on each side of the comparison.
struct Sides<'a> {
    /// Every server in scope: the as-is estate.
    estate: &'a [Id],
    /// Servers that stay physical in the to-be estate.
    staying: &'a [Id],
    /// Servers that become VMs.
    moved: &'a [Id],
}

/// Units of every licence the given physical servers need.
fn physical_licences(model: &Model, products: &[Product], ids: &[Id]) -> Vec<f64> {
    let mut units = vec![0.0; products.len()];
    for id in ids {
        let s = &model.servers[*id];
        let m = s.machine();
        for l in model.own_licences(*id) {
            units[l] += host_units(&products[l], m);
        }
    }
    units
}

/// Counts every licence as-is (per physical server) and to-be (the
/// cheapest compliant mix per host, whole clusters for cluster metrics,
/// and the servers that stay physical as they are).
fn license_counts(
    model: &Model,
    assessment: &Assessment,
    placement: &Placement,
    sides: &Sides,
) -> (Vec<LicenseCount>, Vec<HostLicensing>) {
    let products = model.products();
    let years = f64::from(model.project.horizon_years);
    let moved = sides.moved;
    let as_is = physical_licences(model, &products, sides.estate);
    let mut to_be = physical_licences(model, &products, sides.staying);
    let mut hosts_out = Vec::new();
    for cp in &placement.clusters {
        let Some(cluster) = model.clusters.iter().find(|c| c.name == cp.name) else {
            continue;
        };
        let Some(hm) = model.host_models.iter().find(|h| h.name == cp.host_model) else {
            continue;
        };
        let machine = hm.machine();
        let per_host: Vec<BTreeMap<Id, Vec<u32>>> = cp
            .hosts
            .iter()
            .map(|h| {
                model.licence_needs(
                    h.vms
                        .iter()
                        .filter_map(|vm| model.servers.iter().position(|s| &s.name == vm))
                        .filter(|id| moved.contains(id))
                        .map(|id| (id, assessment.servers[id].vm.vcpus)),
                )
            })
            .collect();
        let platform = model.platforms[cluster.platform].license;
        let licences = cluster_licences(
            &products,
            machine,
            &per_host,
            cluster.failures_to_tolerate as usize,
            platform,
            years,
        );
        for (t, u) in to_be.iter_mut().zip(&licences.units) {
            *t += u;
        }
        for ((h, load), mix) in cp.hosts.iter().zip(&licences.loads).zip(&licences.mixes) {
            hosts_out.push(HostLicensing::new(model, &cp.name, &h.name, load, mix));
        }
    }
    let counts = model
        .licenses
        .iter()
        .enumerate()
        .filter(|(l, _)| as_is[*l] > 0.0 || to_be[*l] > 0.0)
        .map(|(l, lic)| LicenseCount {
            license: lic.name.clone(),
            metric: lic.product.metric,
            as_is_units: as_is[l],
            to_be_units: to_be[l],
        })
        .collect();
    (counts, hosts_out)
}

/// The licences of one host: what was bought and what it was priced against.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostLicensing {
    pub cluster: String,
    pub host: String,
    pub choices: Vec<HostChoice>,
    /// Over the horizon (cents).
    #[serde(serialize_with = "round::money")]
    pub cost: f64,
    /// The cheapest mix not chosen, when there was a choice.
    pub runner_up: Option<RunnerUp>,
}

/// One licence bought for a host.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostChoice {
    pub license: String,
    /// VMs of this licence and of those it covers, on the host.
    pub vms: usize,
    /// VMs that may restart on the host after failures.
    pub failover_vms: usize,
    pub licensing: Licensing,
    #[serde(serialize_with = "round::units")]
    pub units: f64,
    /// Over the horizon (cents).
    #[serde(serialize_with = "round::money")]
    pub cost: f64,
}

/// The cheapest licence mix not chosen for a host.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunnerUp {
    /// Which licence licenses each needed one.
    pub assignment: Vec<LicensedBy>,
    /// Over the horizon (cents).
    #[serde(serialize_with = "round::money")]
    pub cost: f64,
}

/// A needed licence and the licence that covers it (itself, or one whose
/// `covers` lists it).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LicensedBy {
    pub license: String,
    pub by: String,
}

impl HostLicensing {
    fn new(
        model: &Model,
        cluster: &str,
        host: &str,
        load: &BTreeMap<Id, Need>,
        mix: &HostMix,
    ) -> HostLicensing {
        let name = |l: Id| model.licenses[l].name.clone();
        let choices = mix
            .choices
            .iter()
            .map(|c| HostChoice {
                license: name(c.product),
                vms: c.vms,
                failover_vms: load
                    .iter()
                    .filter(|(p, _)| {
                        **p == c.product || model.licenses[c.product].product.covers.contains(p)
                    })
                    .map(|(_, n)| n.extra)
                    .sum(),
                licensing: c.licensing.clone(),
                units: c.licensing.units(),
                cost: c.cost,
            })
            .collect();
        let runner_up = mix
            .alternatives
            .iter()
            .filter(|(_, cost)| *cost > mix.cost + 1e-9)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(assignment, cost)| RunnerUp {
                assignment: assignment
                    .iter()
                    .map(|(p, by)| LicensedBy {
                        license: name(*p),
                        by: name(*by),
                    })
                    .collect(),
                cost: *cost,
            });
        HostLicensing {
            cluster: cluster.to_string(),
            host: host.to_string(),
            choices,
            cost: mix.cost,
            runner_up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn measures_of_a_simple_project() {
        // Invest 1,000, save 400 a year for 3 years at 10%.
        let m = Measures::of(&cash_flows(1000.0, 400.0, 3), 0.10);
        // NPV = −1000 + 400/1.1 + 400/1.21 + 400/1.331 = −5.259…
        let npv = -1000.0 + 400.0 / 1.1 + 400.0 / 1.21 + 400.0 / 1.331;
        assert!(close(m.npv, npv), "{}", m.npv);
        // ROI = (1200 − 1000) / 1000 = 20%.
        assert!(close(m.roi.unwrap(), 0.2));
        // Undiscounted: after year 2 the cumulative is −200, and year 3
        // saves 33.33 a month: 6 months into year 3, month 30.
        assert_eq!(m.payback_month, Some(30));
        // Discounted, the cumulative stays below zero: never.
        assert_eq!(m.discounted_payback_month, None);
        // The IRR is just under 10% since the NPV at 10% is slightly
        // negative; it solves 400/(1+r) + 400/(1+r)² + 400/(1+r)³ = 1000.
        let r = m.irr.unwrap();
        let at = |r: f64| 400.0 / (1.0 + r) + 400.0 / (1.0 + r).powi(2) + 400.0 / (1.0 + r).powi(3);
        assert!(close(at(r), 1000.0));
        assert!(r > 0.09 && r < 0.10, "{r}");
    }

    #[test]
    fn nothing_invested_reads_not_applicable() {
        // No investment and a yearly loss: the NPV is negative, and there
        // is no ROI, IRR or payback, never a 0.
        let m = Measures::of(&cash_flows(0.0, -100.0, 5), 0.05);
        assert!(m.npv < 0.0);
        assert_eq!(m.roi, None);
        assert_eq!(m.irr, None);
        assert_eq!(m.payback_month, None);
        assert_eq!(m.discounted_payback_month, None);
    }

    #[test]
    fn a_project_that_never_pays_back() {
        let m = Measures::of(&cash_flows(1000.0, 100.0, 5), 0.05);
        assert_eq!(m.payback_month, None);
        assert!(close(m.roi.unwrap(), -0.5));
        // Flows −1000 then +100 × 5 still change sign: the IRR is negative.
        let r = m.irr.unwrap();
        assert!(r < 0.0, "{r}");
        let m = Measures::of(&cash_flows(1000.0, -100.0, 5), 0.05);
        assert_eq!(
            m.irr, None,
            "all flows negative: no rate makes the NPV zero"
        );
    }

    #[test]
    fn payback_in_the_first_month() {
        // Saving 12,000 a year pays back 500 within the first month.
        let m = Measures::of(&cash_flows(500.0, 12_000.0, 2), 0.0);
        assert_eq!(m.payback_month, Some(1));
        assert_eq!(m.discounted_payback_month, Some(1));
    }
}
