//! Costs: as-is against to-be over the horizon, with TCO, NPV, IRR, ROI,
//! payback and the NPV's drivers.
//!
//! In: the [`Model`], the [`Assessment`], the [`Placement`] and the
//! runbook's [`Schedule`] (when each server moves). Out: a
//! [`CostReport`]: yearly line items for the as-is estate (every server in
//! scope) and the to-be estate (hosts, hypervisor and application licences,
//! storage, energy, space, support, admin time, downtime, plus the servers
//! that stay physical, as they are), the one-off investment (hosts, storage,
//! new licences, adoption), and a year-by-year cash flow with its measures
//! ([`Measures`]) and each line's share of the NPV ([`Driver`]).
//!
//! Every line item names the inputs it comes from. Energy is
//! watts × 8760 h × PUE × price per kWh; a host draws the midpoint of its
//! idle and peak power. Licences are counted by the licence engine
//! ([`crate::license`]): per physical server as-is, the cheapest compliant
//! mix per host to-be. The advisor and the sensitivity table
//! ([`crate::advise`], [`crate::sensitivity`]) fill in their fields after.

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
    /// A year's amount (cents); the mean over the horizon when it varies.
    #[serde(serialize_with = "round::money")]
    pub as_is: f64,
    /// Per year, in the project's currency (cents).
    #[serde(serialize_with = "round::money")]
    pub to_be: f64,
    /// Each year's amount, years 1 to the horizon (cents).
    #[serde(serialize_with = "round::money_vec")]
    pub as_is_by_year: Vec<f64>,
    /// Each year's amount, years 1 to the horizon (cents).
    #[serde(serialize_with = "round::money_vec")]
    pub to_be_by_year: Vec<f64>,
    /// Whether the amounts change from year to year (`as_is` and `to_be`
    /// are then means).
    pub varies: bool,
}

fn differs(v: &[f64]) -> bool {
    v.windows(2).any(|w| w[0] != w[1])
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
    /// Units owned already (`owned`), when the project states them.
    #[serde(serialize_with = "round::units_opt")]
    pub owned_units: Option<f64>,
    /// Whether the owned units may move to the new hosts.
    pub transferable: bool,
    /// To-be units bought: beyond the transferable owned units.
    #[serde(serialize_with = "round::units")]
    pub bought_units: f64,
}

/// One line's contribution to the NPV.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Driver {
    pub item: String,
    /// Its share of the NPV (cents).
    #[serde(serialize_with = "round::money")]
    pub npv: f64,
    /// Without this line alone, the NPV would have the other sign.
    pub decides_sign: bool,
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
    /// Every line's share of the NPV, largest in size first: a yearly line
    /// contributes its discounted savings, Σ (as-is − to-be) ÷ (1 + rate)^y
    /// (× the annuity factor when they do not vary), an investment line
    /// minus its amount. They add up to the NPV.
    pub drivers: Vec<Driver>,
    /// Σ 1 ÷ (1 + rate)^y over the years 1..=horizon (4 decimals).
    #[serde(serialize_with = "round::factor")]
    pub annuity_factor: f64,
    /// The licensing advisor's alternatives (filled in by [`crate::advise`]).
    pub advice: Vec<crate::advise::Advice>,
    /// How the NPV moves with each input (filled in by [`crate::sensitivity`]).
    pub sensitivity: Option<crate::sensitivity::Sensitivity>,
}

/// When each server moves, from the runbook: what the cost report needs of
/// the migration (built by [`Schedule::of`]; empty without a runbook).
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    /// Server → the weeks its physical server still runs (its wave's week,
    /// counted from the first week of the migration).
    pub weeks: BTreeMap<String, f64>,
    /// Server → its planned downtime in hours.
    pub downtime_hours: BTreeMap<String, f64>,
}

impl Schedule {
    pub fn of(runbook: &crate::migrate::Runbook) -> Schedule {
        let mut s = Schedule::default();
        for w in &runbook.waves {
            for m in &w.servers {
                s.weeks.insert(m.server.clone(), w.week as f64);
                s.downtime_hours
                    .insert(m.server.clone(), m.downtime_minutes / 60.0);
            }
        }
        s
    }
}

/// Weeks in a year, for the migration period.
const WEEKS_PER_YEAR: f64 = 52.0;

pub fn cost(
    model: &Model,
    assessment: &Assessment,
    placement: &Placement,
    schedule: &Schedule,
) -> CostReport {
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

    let horizon = model.project.horizon_years;
    let years_n = horizon as usize;
    let mut yearly = Vec::new();
    let by_year = |key: Category, basis: String, as_is: Vec<f64>, to_be: Vec<f64>| LineItem {
        key,
        license: None,
        item: key.label().to_string(),
        basis,
        as_is: mean(&as_is),
        to_be: mean(&to_be),
        varies: differs(&as_is) || differs(&to_be),
        as_is_by_year: as_is,
        to_be_by_year: to_be,
    };
    let constant = |key: Category, basis: String, as_is: f64, to_be: f64| {
        by_year(key, basis, vec![as_is; years_n], vec![to_be; years_n])
    };
    let who = format!("{n} servers vs {hn} hosts + {ns} servers staying physical");
    let watts = |s: &crate::model::Server| s.power.map_or(DEFAULT_SERVER_WATTS, |p| p.0);
    let (server_watts, staying_watts) = (sum_over(&estate, &watts), sum_over(&staying, &watts));
    let host_watts = per_host(&|h| h.mean_watts());
    // The shared storage runs beside the hosts, when there are any.
    let (storage_watts, storage_ru) = if host_count > 0 {
        (
            c.shared_storage_watts,
            f64::from(c.shared_storage_rack_units),
        )
    } else {
        (0.0, 0.0)
    };
    yearly.push(constant(
        Category::Energy,
        format!(
            "{} W servers vs {} W hosts{} + {} W staying × 8760 h × PUE {} × {} per kWh",
            server_watts.round(),
            host_watts.round(),
            if storage_watts > 0.0 {
                format!(" + {} W shared storage", storage_watts.round())
            } else {
                String::new()
            },
            staying_watts.round(),
            c.pue,
            c.energy_price
        ),
        kwh(server_watts),
        host_year(|y| y.energy) + kwh(storage_watts) + kwh(staying_watts),
    ));
    let ru = |s: &crate::model::Server| f64::from(s.rack_units);
    let (server_ru, staying_ru) = (sum_over(&estate, &ru), sum_over(&staying, &ru));
    let host_ru = per_host(&|h| f64::from(h.rack_units));
    yearly.push(constant(
        Category::RackSpace,
        format!(
            "{server_ru} U vs {host_ru} U{} + {staying_ru} U staying × {} per U",
            if storage_ru > 0.0 {
                format!(" + {storage_ru} U shared storage")
            } else {
                String::new()
            },
            c.rack_unit_per_year
        ),
        server_ru * c.rack_unit_per_year,
        host_year(|y| y.space) + (storage_ru + staying_ru) * c.rack_unit_per_year,
    ));
    let nics = |s: &crate::model::Server| f64::from(s.nics);
    let (ports, staying_ports) = (sum_over(&estate, &nics), sum_over(&staying, &nics));
    yearly.push(constant(
        Category::NetworkPorts,
        format!(
            "{ports} server NICs vs {HOST_PORTS} per host + {staying_ports} staying × {} per port",
            c.network_port_per_year
        ),
        ports * c.network_port_per_year,
        host_year(|y| y.ports) + staying_ports * c.network_port_per_year,
    ));
    let support =
        |s: &crate::model::Server| s.support_per_year.unwrap_or(c.server_support_per_year);
    yearly.push(constant(
        Category::HardwareSupport,
        "support-per-year of each server vs each host and each server staying".to_string(),
        sum_over(&estate, &support),
        host_year(|y| y.support) + sum_over(&staying, &support),
    ));
    // Refresh: a server is replaced each time its age reaches a multiple of
    // the cycle; one without `age-years` is charged price ÷ cycle a year.
    let cycle = c.refresh_cycle_years;
    let price = c.server_refresh_price;
    let servers_refresh = |ids: &[Id]| -> (Vec<f64>, Vec<f64>, usize) {
        let mut by_year = vec![0.0; years_n];
        let mut residual = 0.0;
        let mut ageless = 0;
        for i in ids {
            match model.servers[*i].age_years {
                Some(age) => {
                    let r = Refresh::of(age, cycle, horizon, false);
                    for (y, k) in by_year.iter_mut().zip(&r.by_year) {
                        *y += k * price;
                    }
                    residual += r.residual * price;
                }
                None => {
                    ageless += 1;
                    for y in by_year.iter_mut() {
                        *y += price / cycle;
                    }
                }
            }
        }
        let mut residual_by_year = vec![0.0; years_n];
        if let Some(last) = residual_by_year.last_mut() {
            *last = -residual;
        }
        (by_year, residual_by_year, ageless)
    };
    let (as_is_refresh, as_is_residual, as_is_ageless) = servers_refresh(&estate);
    let (staying_refresh, staying_residual, staying_ageless) = servers_refresh(&staying);
    yearly.push(by_year(
        Category::ServerRefresh,
        format!(
            "{price} per server when its age (age-years) reaches a multiple of {cycle} years; \
             {} servers without age-years: {price} ÷ {cycle} a year ({who})",
            as_is_ageless + staying_ageless
        ),
        as_is_refresh,
        staying_refresh,
    ));
    // The hosts are new in year 0: bought again each cycle within the
    // horizon; what the last ones are worth at its end comes back.
    let host_refresh = Refresh::of(0.0, cycle, horizon, true);
    let host_price = per_host(&|h| h.price);
    let mut host_residual = staying_residual;
    if let Some(last) = host_residual.last_mut() {
        *last -= host_refresh.residual * host_price;
    }
    yearly.push(by_year(
        Category::HostRefresh,
        format!("the hosts' price, {host_price}, each {cycle} years after year 0"),
        vec![0.0; years_n],
        host_refresh
            .by_year
            .iter()
            .map(|k| k * host_price)
            .collect(),
    ));
    yearly.push(by_year(
        Category::ResidualValue,
        format!(
            "in year {horizon}, what hardware bought within the horizon is still worth: \
             straight line over {cycle} years (hosts and refreshed servers)"
        ),
        as_is_residual,
        host_residual,
    ));
    yearly.push(constant(
        Category::SpareParts,
        format!("{} per physical server ({who})", c.spare_parts_per_year),
        n * c.spare_parts_per_year,
        ns * c.spare_parts_per_year,
    ));
    let moved_n = moved.len() as f64;
    // The migration period: a moving server's physical costs go on until
    // its wave, beside the hosts already bought; and its planned downtime.
    let physical_year = |s: &crate::model::Server| {
        kwh(watts(s))
            + ru(s) * c.rack_unit_per_year
            + nics(s) * c.network_port_per_year
            + support(s)
            + c.spare_parts_per_year
            + c.server_admin_hours_per_year * c.admin_hour
            + c.failure_rate.0 * c.repair_hours * c.downtime_hour
    };
    let mut overlap = vec![0.0; years_n];
    let mut downtime = vec![0.0; years_n];
    let (mut scheduled, mut weeks_total, mut hours_total) = (0usize, 0.0, 0.0);
    for i in &moved {
        let s = &model.servers[*i];
        let Some(weeks) = schedule.weeks.get(&s.name) else {
            continue;
        };
        scheduled += 1;
        weeks_total += weeks;
        let per_week = physical_year(s) / WEEKS_PER_YEAR;
        for (y, amount) in overlap.iter_mut().enumerate() {
            let from = y as f64 * WEEKS_PER_YEAR;
            let running = (weeks - from).clamp(0.0, WEEKS_PER_YEAR);
            *amount += running * per_week;
        }
        let hours = schedule.downtime_hours.get(&s.name).copied().unwrap_or(0.0);
        hours_total += hours;
        let year = ((weeks / WEEKS_PER_YEAR).ceil() as usize).clamp(1, years_n.max(1));
        if let Some(d) = downtime.get_mut(year - 1) {
            *d += hours * c.downtime_hour;
        }
    }
    yearly.push(by_year(
        Category::MigrationOverlap,
        format!(
            "{scheduled} servers run physical until their wave: {weeks_total} server-weeks × \
             each one's yearly physical costs ÷ {WEEKS_PER_YEAR}"
        ),
        vec![0.0; years_n],
        overlap,
    ));
    yearly.push(by_year(
        Category::MigrationDowntime,
        format!(
            "{} h of planned downtime in the runbook × {} per hour, in the year of each wave",
            crate::units::num(hours_total, 1),
            c.downtime_hour
        ),
        vec![0.0; years_n],
        downtime,
    ));
    yearly.push(constant(
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
    ));
    yearly.push(constant(
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
    ));
    yearly.push(constant(
        Category::Deployment,
        format!(
            "{} a year × ({} h physical vs {} h virtual) × {} per hour",
            c.new_servers_per_year, c.deploy_hours_physical, c.deploy_hours_virtual, c.admin_hour
        ),
        c.new_servers_per_year * c.deploy_hours_physical * c.admin_hour,
        c.new_servers_per_year * c.deploy_hours_virtual * c.admin_hour,
    ));
    yearly.push(constant(
        Category::SharedStorageSupport,
        "shared-storage-per-year".to_string(),
        0.0,
        if host_count > 0 {
            c.shared_storage_per_year
        } else {
            0.0
        },
    ));

    // Licences.
    let sides = Sides {
        estate: &estate,
        staying: &staying,
        moved: &moved,
    };
    let (counts, host_licenses) = license_counts(model, assessment, placement, &sides);
    let mut licence_purchase = 0.0;
    let mut bought: Vec<String> = Vec::new();
    for lc in &counts {
        let Some(lic) = model.licenses.iter().find(|l| l.name == lc.license) else {
            continue;
        };
        let mut support = constant(
            Category::LicenceSupport,
            format!(
                "{} vs {} units ({}) × {} per unit",
                lc.as_is_units,
                lc.to_be_units,
                lic.product.metric.word(),
                lic.product.support_per_year
            ),
            lc.as_is_units * lic.product.support_per_year,
            lc.to_be_units * lic.product.support_per_year,
        );
        support.license = Some(lic.name.clone());
        support.item = format!("licence support: {}", lic.name);
        yearly.push(support);
        let amount = lc.bought_units * lic.product.price;
        licence_purchase += amount;
        if amount > 0.0 {
            let owned = match lic.owned {
                Some(o) if o.transferable => format!(" − {} owned", crate::units::num(o.units, 0)),
                Some(_) => " (the owned units are not transferable)".to_string(),
                None => " (no `owned` stated: all bought)".to_string(),
            };
            bought.push(format!(
                "{}: ({}{owned}) × {}",
                lic.name,
                crate::units::num(lc.to_be_units, 0),
                lic.product.price
            ));
        }
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
    if host_count > 0 && c.network_gear_per_host > 0.0 {
        investment.push(Investment {
            key: InvestmentKind::NetworkGear,
            host_model: None,
            item: "network gear for the hosts".to_string(),
            basis: format!(
                "{host_count} host{} × {}",
                if host_count == 1 { "" } else { "s" },
                c.network_gear_per_host
            ),
            amount: hn * c.network_gear_per_host,
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
        basis: if bought.is_empty() {
            "none: the transferable owned units cover the to-be units".to_string()
        } else {
            format!(
                "to-be units beyond the transferable owned ones × price: {}",
                bought.join("; ")
            )
        },
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

    let year_sum = |f: fn(&LineItem) -> &Vec<f64>| -> Vec<f64> {
        (0..years_n)
            .map(|y| yearly.iter().map(|l| f(l)[y]).fold(0.0, |a, b| a + b))
            .collect()
    };
    let (as_is_years, to_be_years) = (
        year_sum(|l| &l.as_is_by_year),
        year_sum(|l| &l.to_be_by_year),
    );
    let flows: Vec<f64> = std::iter::once(-investment_total)
        .chain(as_is_years.iter().zip(&to_be_years).map(|(a, t)| a - t))
        .collect();
    let rate = model.project.discount_rate.0;
    let measures = Measures::of(&flows, rate);
    let discounted = discount(&flows, rate);
    let mut cumulative = 0.0;
    let years = flows
        .iter()
        .zip(&discounted)
        .enumerate()
        .map(|(y, (flow, discounted))| {
            cumulative += flow;
            Year {
                year: y as u32,
                as_is: if y == 0 { 0.0 } else { as_is_years[y - 1] },
                to_be: if y == 0 {
                    investment_total
                } else {
                    to_be_years[y - 1]
                },
                cash_flow: *flow,
                cumulative,
                discounted: *discounted,
            }
        })
        .collect();
    let annuity_factor = (1..=horizon)
        .map(|y| 1.0 / (1.0 + rate).powi(y as i32))
        .fold(0.0, |a, b| a + b);
    let drivers = drivers(&yearly, &investment, rate, measures.npv);
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
        as_is_tco: as_is_years.iter().fold(0.0, |a, b| a + b),
        to_be_tco: to_be_years.iter().fold(0.0, |a, b| a + b) + investment_total,
        npv: measures.npv,
        irr_pct: measures.irr.map(|r| r * 100.0),
        roi_pct: measures.roi.map(|r| r * 100.0),
        years,
        payback_month: measures.payback_month,
        discounted_payback_month: measures.discounted_payback_month,
        drivers,
        annuity_factor,
        advice: Vec::new(),
        sensitivity: None,
    }
}

/// Each line's contribution to the NPV, largest in size first.
fn drivers(yearly: &[LineItem], investment: &[Investment], rate: f64, npv: f64) -> Vec<Driver> {
    let present = |l: &LineItem| -> f64 {
        l.as_is_by_year
            .iter()
            .zip(&l.to_be_by_year)
            .enumerate()
            .map(|(y, (a, t))| (a - t) / (1.0 + rate).powi(y as i32 + 1))
            .fold(0.0, |a, b| a + b)
    };
    let mut out: Vec<Driver> = yearly
        .iter()
        .map(|l| (l.item.clone(), present(l)))
        .chain(
            investment
                .iter()
                .map(|i| (format!("investment: {}", i.item), -i.amount)),
        )
        .filter(|(_, v)| *v != 0.0)
        .map(|(item, v)| Driver {
            item,
            npv: v,
            decides_sign: npv != 0.0 && (npv - v).signum() != npv.signum() && npv - v != 0.0,
        })
        .collect();
    out.sort_by(|a, b| {
        b.npv
            .abs()
            .total_cmp(&a.npv.abs())
            .then(a.item.cmp(&b.item))
    });
    out
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().fold(0.0, |a, b| a + b) / v.len() as f64
    }
}

/// When one machine is replaced within the horizon, and what the last one
/// bought is worth at its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    /// Replacements in each year 1..=horizon (0 or 1, more for a cycle
    /// under a year).
    pub by_year: Vec<f64>,
    /// Share of a new machine's price the last one bought within the
    /// horizon is worth at its end (straight line over the cycle); 0 when
    /// none was bought within it.
    pub residual: f64,
}

impl Refresh {
    /// A machine `age` years old at the start, replaced whenever its age
    /// reaches a multiple of `cycle` years: at time c·k − age for k ≥ 1
    /// (one already past a multiple was replaced then). A replacement due
    /// at time t is paid at the end of year ⌈t⌉, year 1 at the earliest;
    /// one due at the end of the horizon or later is outside it.
    /// `bought_now` says the machine itself is new at the start (a host,
    /// in the investment): its value at the end counts when it is not
    /// replaced within the horizon.
    pub fn of(age: f64, cycle: f64, horizon: u32, bought_now: bool) -> Refresh {
        let cycle = cycle.max(f64::MIN_POSITIVE);
        let h = f64::from(horizon);
        let mut by_year = vec![0.0; horizon as usize];
        let mut last = bought_now.then_some(0.0);
        let mut k = (age / cycle - 1e-9).ceil().max(1.0);
        loop {
            let t = k * cycle - age;
            if t >= h - 1e-9 {
                break;
            }
            let paid = (t - 1e-9).ceil().max(1.0);
            if paid > h {
                break;
            }
            by_year[paid as usize - 1] += 1.0;
            last = Some(paid);
            k += 1.0;
        }
        let residual = last.map_or(0.0, |t| (1.0 - (h - t) / cycle).clamp(0.0, 1.0));
        Refresh { by_year, residual }
    }
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
    /// Undiscounted payback: the month in which the cumulative flow reaches
    /// zero for good, savings spread evenly over each year's months. `None`
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

/// The month in which the cumulative flow reaches zero for good (it stays
/// at or above zero to the horizon's end), each year's flow spread evenly
/// over its 12 months; `None` when it never does.
fn payback(flows: &[f64]) -> Option<u32> {
    let first = *flows.first()?;
    if first >= 0.0 {
        return None;
    }
    let mut cumulative = first;
    let mut found = None;
    for (y, flow) in flows.iter().enumerate().skip(1) {
        let before = cumulative;
        cumulative += flow;
        if before < 0.0 && cumulative >= 0.0 {
            let months = (-before / (flow / 12.0)).ceil().clamp(1.0, 12.0) as u32;
            found = Some((y as u32 - 1) * 12 + months);
        } else if cumulative < 0.0 {
            // Below zero again: what was paid back is lost.
            found = None;
        }
    }
    found
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
            owned_units: lic.owned.map(|o| o.units),
            transferable: lic.owned.is_some_and(|o| o.transferable),
            bought_units: (to_be[l] - lic.usable_owned()).max(0.0),
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

    /// Yearly cash flows: year 0 is minus the investment, each later year of
    /// the horizon the yearly saving.
    fn cash_flows(investment: f64, saving: f64, horizon: u32) -> Vec<f64> {
        std::iter::once(-investment)
            .chain(std::iter::repeat_n(saving, horizon as usize))
            .collect()
    }

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

    #[test]
    fn refresh_by_age_and_residual_value() {
        let r = |age, cycle, horizon, now| Refresh::of(age, cycle, horizon, now);
        // Hosts bought now, cycle = horizon: no replacement, worth nothing
        // at the end.
        assert_eq!(r(0.0, 5.0, 5, true).by_year, vec![0.0; 5]);
        assert_eq!(r(0.0, 5.0, 5, true).residual, 0.0);
        // Horizon 7: replaced in year 5, 2 of 5 years used at the end.
        let h = r(0.0, 5.0, 7, true);
        assert_eq!(h.by_year, vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        assert!((h.residual - 0.6).abs() < 1e-12);
        // A 2-year-old server: replaced in year 3, worth 3/5 at year 5.
        let s = r(2.0, 5.0, 5, false);
        assert_eq!(s.by_year, vec![0.0, 0.0, 1.0, 0.0, 0.0]);
        assert!((s.residual - 0.6).abs() < 1e-12);
        // 7 years old: replaced at 5, due again at 10, in year 3.
        assert_eq!(r(7.0, 5.0, 5, false).by_year, vec![0.0, 0.0, 1.0, 0.0, 0.0]);
        // Exactly 5: due now, paid in year 1, worth 1/5 at year 5.
        let d = r(5.0, 5.0, 5, false);
        assert_eq!(d.by_year, vec![1.0, 0.0, 0.0, 0.0, 0.0]);
        assert!((d.residual - 0.2).abs() < 1e-12);
        // Not due within a 3-year horizon: nothing, and no residual value
        // (the server was bought before the horizon).
        let n = r(1.0, 5.0, 3, false);
        assert_eq!(n.by_year, vec![0.0; 3]);
        assert_eq!(n.residual, 0.0);
    }

    #[test]
    fn payback_counts_only_for_good() {
        // Cumulative −100, 20, −30: paid back in year 1, lost in year 2.
        assert_eq!(payback(&[-100.0, 120.0, -50.0]), None);
        // −100, 20, 10, 60: stays above zero from month 10 of year 1
        // (100 ÷ (120 ÷ 12) = 10).
        assert_eq!(payback(&[-100.0, 120.0, -10.0, 50.0]), Some(10));
        // −100, −130, 10: back above zero in year 2, month ⌈130 ÷ 140 × 12⌉ = 12.
        assert_eq!(payback(&[-100.0, -30.0, 140.0]), Some(24));
    }
}
