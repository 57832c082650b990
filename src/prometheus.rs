//! Measurements from Prometheus' HTTP API (also served by Thanos, Mimir and
//! VictoriaMetrics): the queries, the requests they become, and their
//! answers turned into virtplan's metrics CSV. No I/O here: the CLI sends
//! the requests and writes the files.
//!
//! In: the model's server names, the time range and step, how an instance
//! label names a server. Out: the [`Request`]s to send, and from their
//! answers one CSV text per server, with what is missing.
//!
//! Steps:
//! 1. [`instances_request`] lists the values of the instance label that
//!    carry CPU series; [`Matcher`] maps each to a server (or none).
//! 2. [`requests`] splits the work: five queries (one per resource, Linux's
//!    node_exporter and windows_exporter joined by `or`), times cut so that
//!    no series exceeds [`MAX_POINTS`], instances in batches so that no
//!    answer exceeds [`MAX_ANSWER_POINTS`].
//! 3. [`Collected::add`] folds each answer ([`parse_matrix`]) into rows per
//!    server; [`Collected::csv`] writes them.

use std::collections::{BTreeMap, BTreeSet};

use crate::import::{self, sadf};
use crate::measure::{RESOURCES, Resource};
use crate::model::{Id, Model};

/// Prometheus refuses a range query whose series would have more points.
pub const MAX_POINTS: i64 = 11_000;
/// Points (series × steps) one answer may carry: about 30 MB of JSON.
pub const MAX_ANSWER_POINTS: i64 = 500_000;

/// How an instance label value becomes a server name before it is looked
/// up (exactly, then in any case, then by the part before the first dot,
/// as measurement files' server names are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strip {
    /// `web01.example.com:9100` → `web01.example.com`.
    #[default]
    Port,
    /// `web01.example.com:9100` → `web01`.
    Domain,
    /// The label value as it is.
    Nothing,
}

/// Maps instance label values to servers.
#[derive(Debug, Clone)]
pub struct Matcher<'m> {
    pub strip: Strip,
    /// Label value → server name, tried first.
    pub map: BTreeMap<String, String>,
    pub names: BTreeMap<&'m str, Id>,
}

impl<'m> Matcher<'m> {
    pub fn new(model: &'m Model, strip: Strip, map: BTreeMap<String, String>) -> Self {
        let names = model
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        Matcher { strip, map, names }
    }

    /// The server an instance label value names, if any.
    pub fn server(&self, value: &str) -> Option<Id> {
        if let Some(name) = self.map.get(value) {
            return self.names.get(name.as_str()).copied();
        }
        let host = match self.strip {
            Strip::Nothing => value,
            Strip::Port | Strip::Domain => strip_port(value),
        };
        let host = match self.strip {
            Strip::Domain => host.split_once('.').map_or(host, |(short, _)| short),
            Strip::Port | Strip::Nothing => host,
        };
        import::resolve_server(&self.names, host)
    }
}

/// `host:port` → `host`; `[v6]:port` → `v6`; a value without a port as it is.
fn strip_port(value: &str) -> &str {
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']').map_or(value, |(host, _)| host);
    }
    match value.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => value,
    }
}

/// The CSV column a resource is written in.
pub fn column(r: Resource) -> &'static str {
    match r {
        Resource::Cpu => "cpu_pct",
        Resource::Memory => "mem_gib",
        Resource::DiskIops => "disk_iops",
        Resource::DiskMbs => "disk_mb_s",
        Resource::NetMbit => "net_mbit_s",
    }
}

/// A PromQL regex matching any name that starts with one of `prefixes`.
fn prefix_regex(prefixes: &[&str]) -> String {
    format!("(?i)({}).*", prefixes.join("|"))
}

/// The query of a resource. `label` is the instance label; `sel` more
/// matchers for every selector (the batch's instances), with a leading
/// comma, or empty; `window` the rate window (the step). Linux first, then
/// windows_exporter (with the older `cs`/`os` memory metrics last), joined
/// by `or`: an instance gets whichever its exporter has. The devices left
/// out are those the sadf and perfmon readers leave out, for the same
/// reasons: stacked block devices, layered and pseudo network interfaces.
pub fn query(r: Resource, label: &str, sel: &str, window: &str) -> String {
    let by = format!("sum by ({label})");
    let rate = |metric: &str, matchers: &str| {
        format!("{by} (rate({metric}{{{matchers}{sel}}}[{window}]))")
    };
    let gauge = |metric: &str| match sel.strip_prefix(',') {
        Some(matchers) => format!("{by} ({metric}{{{matchers}}})"),
        None => format!("{by} ({metric})"),
    };
    let disk = format!("device!~\"{}\"", prefix_regex(&sadf::STACKED_PREFIXES));
    let nic = format!(
        "device!~\"{}|.*[.@].*\"",
        prefix_regex(&sadf::LAYERED_PREFIXES)
    );
    let volume = "volume!~\"_Total|HarddiskVolume.*\"";
    let win_nic = format!(
        "nic!~\"(?i).*({}).*\"",
        import::perfmon::PSEUDO_INTERFACES
            .iter()
            .map(|n| n.replace(' ', "."))
            .collect::<Vec<_>>()
            .join("|")
    );
    let busy = |metric: &str| {
        format!("100 * (1 - avg by ({label}) (rate({metric}{{mode=\"idle\"{sel}}}[{window}])))")
    };
    match r {
        Resource::Cpu => format!(
            "({}) or ({})",
            busy("node_cpu_seconds_total"),
            busy("windows_cpu_time_total")
        ),
        Resource::Memory => format!(
            "(({} - {}) / 1073741824) or (({} - {}) / 1073741824) or (({} - {}) / 1073741824)",
            gauge("node_memory_MemTotal_bytes"),
            gauge("node_memory_MemAvailable_bytes"),
            gauge("windows_memory_physical_total_bytes"),
            gauge("windows_memory_available_bytes"),
            gauge("windows_cs_physical_memory_bytes"),
            gauge("windows_os_physical_memory_free_bytes"),
        ),
        Resource::DiskIops => format!(
            "({} + {}) or ({} + {})",
            rate("node_disk_reads_completed_total", &disk),
            rate("node_disk_writes_completed_total", &disk),
            rate("windows_logical_disk_reads_total", volume),
            rate("windows_logical_disk_writes_total", volume),
        ),
        Resource::DiskMbs => format!(
            "(({} + {}) / 1e6) or (({} + {}) / 1e6)",
            rate("node_disk_read_bytes_total", &disk),
            rate("node_disk_written_bytes_total", &disk),
            rate("windows_logical_disk_read_bytes_total", volume),
            rate("windows_logical_disk_write_bytes_total", volume),
        ),
        Resource::NetMbit => format!(
            "(({} + {}) * 8 / 1e6) or ({} * 8 / 1e6)",
            rate("node_network_receive_bytes_total", &nic),
            rate("node_network_transmit_bytes_total", &nic),
            rate("windows_net_bytes_total", &win_nic),
        ),
    }
}

/// What to import: the range, the step and the instance label.
#[derive(Debug, Clone)]
pub struct Range {
    /// Unix seconds of the first and last evaluation.
    pub from: i64,
    pub to: i64,
    /// Seconds between evaluations; also the rate window.
    pub step: i64,
    pub label: String,
}

/// One HTTP GET: a path under the server's URL and its query parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub path: String,
    pub params: Vec<(&'static str, String)>,
    /// What the answer holds, for [`Collected::add`].
    pub part: Part,
}

/// Which resource, times and instances a range request covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub resource: Resource,
    pub from: i64,
    pub to: i64,
    pub instances: Vec<String>,
}

/// Whether `label` is a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_label_name(label: &str) -> bool {
    let mut bytes = label.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The request listing the values of the instance label that carry CPU
/// series in the range. `range.label` must be a label name
/// ([`is_label_name`]).
pub fn instances_request(range: &Range) -> Request {
    Request {
        path: format!("/api/v1/label/{}/values", range.label),
        params: vec![
            (
                "match[]",
                "{__name__=~\"node_cpu_seconds_total|windows_cpu_time_total\"}".to_string(),
            ),
            ("start", range.from.to_string()),
            ("end", range.to.to_string()),
        ],
        part: Part {
            resource: Resource::Cpu,
            from: range.from,
            to: range.to,
            instances: Vec::new(),
        },
    }
}

/// The label values of a `/api/v1/label/…/values` answer, sorted.
pub fn parse_instances(body: &str) -> Result<Vec<String>, String> {
    let data = success(body)?;
    let values = data.as_array().ok_or("the answer's data is not a list")?;
    let set: BTreeSet<String> = values
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    Ok(set.into_iter().collect())
}

/// The range requests for `instances`: each resource, in time chunks of
/// at most [`MAX_POINTS`] evaluations, instances in batches so that an
/// answer holds at most [`MAX_ANSWER_POINTS`] points.
pub fn requests(range: &Range, instances: &[String]) -> Vec<Request> {
    let step = range.step.max(1);
    let steps = ((range.to - range.from) / step + 1).max(1);
    let per_chunk = steps.min(MAX_POINTS);
    let per_batch = (MAX_ANSWER_POINTS / per_chunk).max(1) as usize;
    let window = format!("{step}s");
    let mut out = Vec::new();
    for batch in instances.chunks(per_batch) {
        let pattern = batch
            .iter()
            .map(|i| regex_escape(i))
            .collect::<Vec<_>>()
            .join("|");
        let sel = format!(",{}=~\"{}\"", range.label, promql_string(&pattern));
        for r in RESOURCES {
            let expr = query(r, &range.label, &sel, &window);
            let mut from = range.from;
            while from <= range.to {
                let to = (from + (per_chunk - 1) * step).min(range.to);
                out.push(Request {
                    path: "/api/v1/query_range".to_string(),
                    params: vec![
                        ("query", expr.clone()),
                        ("start", from.to_string()),
                        ("end", to.to_string()),
                        ("step", step.to_string()),
                    ],
                    part: Part {
                        resource: r,
                        from,
                        to,
                        instances: batch.to_vec(),
                    },
                });
                from = to + step;
            }
        }
    }
    out
}

/// `text` as an RE2 regex matching itself.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` inside a PromQL double-quoted string.
fn promql_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The `data` of a successful answer, or the error Prometheus gave.
fn success(body: &str) -> Result<serde_json::Value, String> {
    let mut v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    match v.get("status").and_then(|s| s.as_str()) {
        Some("success") => Ok(v
            .get_mut("data")
            .map(serde_json::Value::take)
            .unwrap_or_default()),
        _ => Err(format!(
            "{}: {}",
            v.get("errorType")
                .and_then(|s| s.as_str())
                .unwrap_or("error"),
            v.get("error")
                .and_then(|s| s.as_str())
                .unwrap_or("no message")
        )),
    }
}

/// The error an answer reports (`errorType: error`), if it is one.
pub fn error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    (v.get("status")?.as_str()? == "error").then(|| success(body).err())?
}

/// One series of a range answer: its instance label value and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub instance: String,
    pub points: Vec<(i64, f64)>,
}

/// The series of a `query_range` answer (`resultType` `matrix`). Times are
/// whole seconds (the requests' are); values that are not finite are left
/// out and counted.
pub fn parse_matrix(body: &str, label: &str) -> Result<(Vec<Series>, usize), String> {
    let data = success(body)?;
    if data.get("resultType").and_then(|t| t.as_str()) != Some("matrix") {
        return Err("the answer is not a range (matrix) result".to_string());
    }
    let result = data
        .get("result")
        .and_then(|r| r.as_array())
        .ok_or("the answer has no result list")?;
    let mut out = Vec::with_capacity(result.len());
    let mut not_finite = 0;
    for s in result {
        let instance = s
            .get("metric")
            .and_then(|m| m.get(label))
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("a series has no `{label}` label"))?
            .to_string();
        let values = s
            .get("values")
            .and_then(|v| v.as_array())
            .ok_or("a series has no values")?;
        let mut points = Vec::with_capacity(values.len());
        for p in values {
            let (Some(t), Some(v)) = (
                p.get(0).and_then(serde_json::Value::as_f64),
                p.get(1).and_then(|v| v.as_str()),
            ) else {
                return Err("a point is not [time, \"value\"]".to_string());
            };
            match v.parse::<f64>() {
                Ok(v) if v.is_finite() => points.push((t.round() as i64, v)),
                Ok(_) => not_finite += 1,
                Err(_) => return Err(format!("`{v}` is not a number")),
            }
        }
        out.push(Series { instance, points });
    }
    Ok((out, not_finite))
}

/// Rows per server gathered from the answers.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// Server → time → value per resource (`NaN` where none).
    pub rows: BTreeMap<Id, BTreeMap<i64, [f64; 5]>>,
    /// Instances whose series were matched to a server.
    pub instances: BTreeMap<Id, BTreeSet<String>>,
    /// Values Prometheus gave as NaN or infinite, left out.
    pub not_finite: usize,
    /// CPU values below 0 or above 100 (counter jitter between scrapes),
    /// written as 0 or 100: the count is reported.
    pub cpu_clamped: usize,
}

impl Collected {
    /// Folds one answer in.
    pub fn add(&mut self, resource: Resource, series: Vec<Series>, matcher: &Matcher) {
        for s in series {
            let Some(id) = matcher.server(&s.instance) else {
                continue;
            };
            self.instances.entry(id).or_default().insert(s.instance);
            let rows = self.rows.entry(id).or_default();
            for (t, mut v) in s.points {
                if resource == Resource::Cpu && !(0.0..=100.0).contains(&v) {
                    self.cpu_clamped += 1;
                    v = v.clamp(0.0, 100.0);
                }
                rows.entry(t).or_insert([f64::NAN; 5])[resource.index()] = v;
            }
        }
    }

    /// A server's rows as virtplan's metrics CSV with a `server` column, so
    /// that one project-level `metrics` glob reads every file.
    pub fn csv(&self, id: Id, model: &Model) -> String {
        let name = &model.servers[id].name;
        let mut out = String::from("timestamp,server");
        for r in RESOURCES {
            out.push(',');
            out.push_str(column(r));
        }
        out.push('\n');
        for (t, values) in self.rows.get(&id).into_iter().flatten() {
            out.push_str(&rfc3339(*t));
            out.push(',');
            out.push_str(name);
            for v in values {
                out.push(',');
                if !v.is_nan() {
                    out.push_str(&v.to_string());
                }
            }
            out.push('\n');
        }
        out
    }
}

/// The file `import metrics` writes beside its CSV files so that a project
/// including it (`include "*/*.kdl"`, as `virtplan init` writes) reads them.
pub const METRICS_KDL_NAME: &str = "metrics.kdl";

/// The first line of [`metrics_kdl`]: a file that starts otherwise was
/// written by hand and is never replaced.
pub const GENERATED: &str = "// Generated by `virtplan import metrics`";

/// The text of [`METRICS_KDL_NAME`].
pub fn metrics_kdl() -> String {
    format!(
        "{GENERATED}: the project reads the measurement files\n\
         // beside this file. Importing again rewrites it.\n\
         metrics \"*.csv\"\n"
    )
}

/// `2026-03-02T08:00:00Z` of Unix seconds.
pub fn rfc3339(ts: i64) -> String {
    import::format_utc(ts).replacen(' ', "T", 1) + "Z"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::testing::model;

    /// web01 and db01.
    fn names_model() -> Model {
        model("UTC")
    }

    #[test]
    fn instances_name_servers_by_the_chosen_rule() {
        let m = names_model();
        let port = Matcher::new(&m, Strip::Port, BTreeMap::new());
        assert_eq!(port.server("web01:9100"), Some(0));
        assert_eq!(port.server("web01.corp.example:9100"), Some(0));
        assert_eq!(port.server("WEB01:9182"), Some(0));
        assert_eq!(port.server("[fe80::1]:9100"), None);
        assert_eq!(port.server("other:9100"), None);
        let exact = Matcher::new(&m, Strip::Nothing, BTreeMap::new());
        assert_eq!(exact.server("web01:9100"), None);
        let map = Matcher::new(
            &m,
            Strip::Port,
            BTreeMap::from([("10.0.0.7:9100".to_string(), "db01".to_string())]),
        );
        assert_eq!(map.server("10.0.0.7:9100"), Some(1));
    }

    #[test]
    fn requests_stay_under_the_point_limits() {
        let range = Range {
            from: 0,
            to: 30 * 86400,
            step: 60,
            label: "instance".to_string(),
        };
        // 43,201 evaluations: 4 chunks of at most 11,000; 500,000 / 11,000
        // = 45 instances a batch, so 100 instances make 3 batches.
        let instances: Vec<String> = (0..100).map(|i| format!("h{i}:9100")).collect();
        let reqs = requests(&range, &instances);
        assert_eq!(reqs.len(), 3 * 5 * 4);
        for r in &reqs {
            let points = (r.part.to - r.part.from) / 60 + 1;
            assert!(points <= MAX_POINTS);
            assert!(points * r.part.instances.len() as i64 <= MAX_ANSWER_POINTS);
        }
        // The chunks of one resource and batch tile the range exactly.
        let cpu: Vec<_> = reqs
            .iter()
            .filter(|r| r.part.resource == Resource::Cpu && r.part.instances[0] == "h0:9100")
            .collect();
        assert_eq!(cpu.first().map(|r| r.part.from), Some(0));
        assert_eq!(cpu.last().map(|r| r.part.to), Some(30 * 86400));
        for w in cpu.windows(2) {
            assert_eq!(w[0].part.to + 60, w[1].part.from);
        }
    }

    #[test]
    fn instance_values_are_matched_literally() {
        assert_eq!(regex_escape("a.b:9100"), "a\\.b:9100");
        assert_eq!(promql_string("a\\.b\"c"), "a\\\\.b\\\"c");
    }

    #[test]
    fn answers_become_rows() {
        let m = names_model();
        let matcher = Matcher::new(&m, Strip::Port, BTreeMap::new());
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"instance":"web01:9100"},"values":[[600,"12.5"],[1200,"NaN"],[1800,"100.0000001"]]},
            {"metric":{"instance":"nobody:9100"},"values":[[600,"1"]]}]}}"#;
        let (series, not_finite) = parse_matrix(body, "instance").expect("a matrix");
        assert_eq!(not_finite, 1);
        let mut c = Collected::default();
        c.add(Resource::Cpu, series, &matcher);
        let (mem, _) = parse_matrix(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"instance":"web01:9100"},"values":[[600,"3.25"]]}]}}"#,
            "instance",
        )
        .expect("a matrix");
        c.add(Resource::Memory, mem, &matcher);
        assert_eq!(c.cpu_clamped, 1);
        assert_eq!(
            c.csv(0, &m),
            "timestamp,server,cpu_pct,mem_gib,disk_iops,disk_mb_s,net_mbit_s\n\
             1970-01-01T00:10:00Z,web01,12.5,3.25,,,\n\
             1970-01-01T00:30:00Z,web01,100,,,,\n"
        );
        let err = parse_matrix(
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
            "instance",
        );
        assert_eq!(err, Err("bad_data: parse error".to_string()));
    }
}
