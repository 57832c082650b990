//! The stable keys of the cost report's items in `plan.json`: a consumer
//! (and `virtplan diff`) matches items by key, never by their English text.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a yearly line item counts: its stable key in `plan.json`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Energy,
    RackSpace,
    NetworkPorts,
    HardwareSupport,
    /// Physical servers replaced by their age (`age-years`).
    ServerRefresh,
    /// Hosts replaced each refresh cycle after year 0.
    HostRefresh,
    /// Hardware bought within the horizon, still worth something at its end.
    ResidualValue,
    SpareParts,
    Downtime,
    Administration,
    Deployment,
    SharedStorageSupport,
    /// Moving servers' physical costs until their wave.
    MigrationOverlap,
    /// Planned downtime of the migration waves.
    MigrationDowntime,
    /// One per licence: the item's `license` names it.
    LicenceSupport,
}

impl Category {
    /// The item's words in the reports.
    pub fn label(self) -> &'static str {
        match self {
            Category::Energy => "energy and cooling",
            Category::RackSpace => "rack space",
            Category::NetworkPorts => "network ports",
            Category::HardwareSupport => "hardware support",
            Category::ServerRefresh => "server refresh",
            Category::HostRefresh => "host refresh",
            Category::ResidualValue => "residual value",
            Category::SpareParts => "spare parts",
            Category::Downtime => "downtime from hardware failures",
            Category::Administration => "administration",
            Category::Deployment => "deploying new servers",
            Category::SharedStorageSupport => "shared storage support",
            Category::MigrationOverlap => "both estates during the migration",
            Category::MigrationDowntime => "planned migration downtime",
            Category::LicenceSupport => "licence support",
        }
    }
}

/// What a one-off investment pays for: its stable key in `plan.json`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum InvestmentKind {
    /// One per host model: the item's `host_model` names it.
    Hosts,
    /// Switch ports, NICs and HBAs bought with the hosts.
    NetworkGear,
    SharedStorage,
    LicencesBought,
    AdoptionWork,
    TrainingAndTools,
}
