//! The plan: everything the stages computed, in one serializable value.
//!
//! `Plan` is the only thing serialized. `plan.json` is `Plan` as JSON, and
//! the Markdown and Ansible outputs are templates over the same value. Its
//! JSON Schema (`virtplan schema`, `schema/plan.schema.json`) is generated
//! from these types: their doc comments are the schema's descriptions.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use crate::assess::Assessment;
use crate::cost::CostReport;
use crate::diag::{Diagnostic, Severity};
use crate::migrate::Runbook;
use crate::place::Placement;
use crate::round;
use crate::source::SourceMap;

/// Version of the `plan.json` layout. `--previous` reads only this version,
/// and only a plan whose `project.name` is the project being planned.
///
/// 2: numbers rounded per unit; verdict and scope counts, licence
/// assignments and physical dependencies as objects; cost items with stable
/// keys; `diagnostics`.
pub const FORMAT: u32 = 2;

/// The project the plan was made from, and the settings every part of the
/// plan depends on.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectInfo {
    /// The `project` node's name: `--previous` and `diff` compare it.
    pub name: String,
    /// ISO 4217 code of every amount in the plan.
    pub currency: String,
    /// IANA time zone of the measurements and windows.
    pub timezone: String,
    /// Years the costs are compared over.
    pub horizon_years: u32,
    /// Years of growth the hosts are sized for.
    pub sizing_horizon_years: u32,
    /// Yearly discount rate of the NPV, in percent (0.01).
    #[serde(serialize_with = "round::percent")]
    pub discount_rate_pct: f64,
    /// Slots of the profile period.
    pub profile_slots: usize,
    /// Percentile of the measurements each slot keeps (0.01).
    #[serde(serialize_with = "round::percent")]
    pub profile_percentile: f64,
    /// Length of a slot, in minutes (0.01).
    #[serde(serialize_with = "round::minutes")]
    pub slot_minutes: f64,
    /// Length of the profile period, in minutes (0.01).
    #[serde(serialize_with = "round::minutes")]
    pub period_minutes: f64,
    /// Each platform's hypervisor product, when stated.
    pub hypervisors: std::collections::BTreeMap<String, Option<crate::model::Hypervisor>>,
}

/// A warning or note the run reported (a plan is written only without
/// errors), so that `virtplan diff` can tell new warnings from resolved ones.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct PlanDiagnostic {
    /// The stable code, `virtplan::<stage>::<kind>`.
    pub code: String,
    pub severity: Severity,
    /// The message, as the terminal shows it.
    pub message: String,
    /// The project file it points into, relative to the project, if any.
    pub file: Option<String>,
}

impl PlanDiagnostic {
    /// The diagnostics of a run, in their sorted order.
    pub fn of(diags: &[Diagnostic], sources: &SourceMap) -> Vec<PlanDiagnostic> {
        diags
            .iter()
            .map(|d| PlanDiagnostic {
                code: d.code.to_string(),
                severity: d.severity,
                message: d.message.clone(),
                file: d.span.map(|s| sources.get(s.file).name.clone()),
            })
            .collect()
    }
}

/// A virtplan plan: `plan.json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(title = "virtplan plan.json")]
pub struct Plan {
    /// The version of this layout, first in `plan.json`.
    #[schemars(extend("const" = FORMAT))]
    pub format: u32,
    /// The project planned.
    pub project: ProjectInfo,
    /// Verdicts and VM shapes.
    pub assessment: Assessment,
    /// Hosts and where every VM runs.
    pub capacity: Placement,
    /// The cost comparison.
    pub costs: CostReport,
    /// The migration waves.
    pub runbook: Runbook,
    /// The warnings and notes of the run that made the plan.
    pub diagnostics: Vec<PlanDiagnostic>,
}

/// The JSON Schema (draft 2020-12) of `plan.json`, as pretty JSON with a
/// final newline. Objects are closed (`additionalProperties: false`), so a
/// field the types do not describe fails validation.
pub fn json_schema() -> String {
    let generator = SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(close_objects))
        .into_generator();
    let schema = generator.into_root_schema_for::<Plan>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn close_objects(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut()
        && object.contains_key("properties")
    {
        object.insert("additionalProperties".to_string(), false.into());
    }
}
