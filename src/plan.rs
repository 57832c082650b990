//! The plan: everything the stages computed, in one serializable value.
//!
//! `Plan` is the only thing serialized. `plan.json` is `Plan` as JSON, and
//! the Markdown and Ansible outputs are templates over the same value.

use serde::Serialize;

use crate::assess::Assessment;
use crate::cost::CostReport;
use crate::migrate::Runbook;
use crate::place::Placement;

/// Version of the `plan.json` layout. `--previous` reads only this version,
/// and only a plan whose `project.name` is the project being planned.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct ProjectInfo {
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub horizon_years: u32,
    pub discount_rate_pct: f64,
    pub profile_slots: usize,
    pub profile_percentile: f64,
    pub slot_minutes: f64,
    pub period_minutes: f64,
    /// Each platform's hypervisor product, when stated.
    pub hypervisors: std::collections::BTreeMap<String, Option<crate::model::Hypervisor>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// [`FORMAT`], first in `plan.json`.
    pub format: u32,
    pub project: ProjectInfo,
    pub assessment: Assessment,
    pub capacity: Placement,
    pub costs: CostReport,
    pub runbook: Runbook,
}
