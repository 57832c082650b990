//! Emitting: the [`Plan`] → Markdown, JSON and Ansible files.
//!
//! In: a [`Plan`] and optional template overrides. Out: a list of
//! (relative path, contents) for the CLI to write. Markdown and Ansible are
//! minijinja templates over the serialized plan, embedded in the binary;
//! a user may override any of them by name. JSON is the plan itself.

use std::collections::BTreeMap;

use minijinja::value::Serde;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};

use crate::plan::Plan;
use crate::svg::{self, HeatRow};
use crate::units::{fmt_minutes, num};

/// The embedded templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "assessment.md.j2",
        include_str!("templates/assessment.md.j2"),
    ),
    ("capacity.md.j2", include_str!("templates/capacity.md.j2")),
    ("costs.md.j2", include_str!("templates/costs.md.j2")),
    ("runbook.md.j2", include_str!("templates/runbook.md.j2")),
    (
        "inventory.yml.j2",
        include_str!("templates/inventory.yml.j2"),
    ),
    ("wave.yml.j2", include_str!("templates/wave.yml.j2")),
];

/// Which outputs to write.
#[derive(Debug, Clone, Copy)]
pub struct Formats {
    pub markdown: bool,
    pub json: bool,
    pub ansible: bool,
}

/// Renders the chosen outputs. `overrides` maps a template name to its text.
pub fn emit(
    plan: &Plan,
    formats: Formats,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    env.add_filter("fixed", |v: f64, digits: Option<usize>| {
        format!("{:.*}", digits.unwrap_or(0), v)
    });
    env.add_filter("money", money);
    env.add_filter("minutes", |v: f64| fmt_minutes(v));
    env.add_filter("yaml", |v: String| yaml_string(&v));
    env.add_filter("mermaid", |v: String| {
        v.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
    });
    for (name, text) in TEMPLATES {
        let text = overrides
            .get(*name)
            .cloned()
            .unwrap_or_else(|| (*text).to_string());
        env.add_template_owned(*name, text)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    for name in overrides.keys() {
        if !TEMPLATES.iter().any(|(n, _)| n == name) {
            return Err(format!("there is no template named `{name}` to override"));
        }
    }
    let ctx = Value::from(Serde(plan));
    let render = |name: &str, ctx: Value| -> Result<String, String> {
        env.get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| format!("template {name}: {e:#}"))
    };
    let mut out = Vec::new();
    if formats.markdown {
        for (file, tpl) in [
            ("assessment.md", "assessment.md.j2"),
            ("capacity.md", "capacity.md.j2"),
            ("costs.md", "costs.md.j2"),
            ("runbook.md", "runbook.md.j2"),
        ] {
            out.push((file.to_string(), render(tpl, ctx.clone())?));
        }
    }
    if formats.markdown {
        let rows: Vec<HeatRow> = plan
            .assessment
            .estate_profile
            .iter()
            .map(|r| HeatRow {
                label: r.resource.label(),
                unit: r.unit,
                values: &r.values,
            })
            .collect();
        out.push((
            "assessment-heatmap.svg".to_string(),
            svg::heatmap(
                "Estate demand over the period",
                &rows,
                &day_ticks(plan),
                None,
            ),
        ));
        let ticks = day_ticks(plan);
        for cluster in &plan.capacity.clusters {
            let charts: Vec<_> = plan
                .capacity
                .charts
                .iter()
                .filter(|c| c.cluster == cluster.name)
                .collect();
            let rows: Vec<HeatRow> = charts
                .iter()
                .map(|c| HeatRow {
                    label: &c.host,
                    unit: "% CPU",
                    values: &c.cpu_percent,
                })
                .collect();
            out.push((
                format!("capacity-{}-heatmap.svg", cluster.name),
                svg::heatmap(
                    &format!(
                        "Cluster {}: CPU utilization of each host (% of capacity)",
                        cluster.name
                    ),
                    &rows,
                    &ticks,
                    Some(100.0),
                ),
            ));
            for c in charts {
                let layers: Vec<(&str, Vec<f64>)> = c
                    .cpu_by_vm
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.clone()))
                    .collect();
                out.push((
                    format!("capacity-{}.svg", c.host),
                    svg::stacked(
                        &format!("{}: CPU demand by VM (dashed: usable capacity)", c.host),
                        "GHz",
                        &layers,
                        c.cpu_limit,
                        &ticks,
                    ),
                ));
            }
        }
    }
    if formats.json {
        let mut json = serde_json::to_string_pretty(plan).map_err(|e| e.to_string())?;
        json.push('\n');
        out.push(("plan.json".to_string(), json));
    }
    if formats.ansible {
        out.push((
            "ansible/inventory.yml".to_string(),
            render("inventory.yml.j2", ctx.clone())?,
        ));
        for wave in &plan.runbook.waves {
            let wctx = minijinja::context! { project => Serde(&plan.project), runbook => Serde(&plan.runbook), wave => Serde(wave) };
            out.push((
                format!("ansible/wave-{}.yml", wave.number),
                render("wave.yml.j2", wctx)?,
            ));
        }
    }
    Ok(out)
}

/// Tick marks at each day boundary of the period: day names for a week,
/// "day N" otherwise.
pub fn day_ticks(plan: &Plan) -> Vec<(usize, String)> {
    let per_day = (1440.0 / plan.project.slot_minutes).round().max(1.0) as usize;
    let days = (plan.project.period_minutes / 1440.0).floor() as usize;
    let weekly = days == 7;
    (0..days.max(1))
        .map(|d| {
            let label = if weekly {
                ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d].to_string()
            } else {
                format!("day {}", d + 1)
            };
            (d * per_day, label)
        })
        .collect()
}

/// 1234567.8 → "1,234,568".
fn money(v: f64) -> Result<String, Error> {
    if !v.is_finite() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "amount is not finite",
        ));
    }
    let rounded = num(v.round(), 0);
    let (sign, digits) = match rounded.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", rounded.as_str()),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    Ok(format!("{sign}{out}"))
}

/// A YAML double-quoted string.
fn yaml_string(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if c.is_control() => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_format() {
        assert_eq!(money(1234567.8).ok().as_deref(), Some("1,234,568"));
        assert_eq!(money(-999.4).ok().as_deref(), Some("-999"));
        assert_eq!(money(0.0).ok().as_deref(), Some("0"));
    }

    #[test]
    fn yaml_quoting() {
        assert_eq!(yaml_string("a\"b"), "\"a\\\"b\"");
    }
}
