//! `virtplan import metrics DIR --prometheus URL --from T --to T --out OUT`'s
//! I/O: loads the project's servers, asks Prometheus which instances it
//! has, sends the range queries of [`virtplan::prometheus`] on a few
//! threads with retries, and writes one CSV per complete server into
//! `OUT`, all files staged first and renamed together. A server that a
//! failed request leaves incomplete gets no file: the run names it and the
//! missing ranges, and exits 1.
//!
//! Credentials come from the environment only: `VIRTPLAN_PROMETHEUS_TOKEN`
//! (a bearer token), or `VIRTPLAN_PROMETHEUS_USER` and
//! `VIRTPLAN_PROMETHEUS_PASSWORD` (basic auth).

use std::collections::{BTreeMap, VecDeque};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use virtplan::diag::{Diagnostic, Diagnostics};
use virtplan::import::{format_utc, parse_timestamp};
use virtplan::model::{Id, Model};
use virtplan::prometheus::{self as prom, Collected, Matcher, Range, Request, Strip};
use virtplan::source::SourceMap;

use super::disk::ReadArgs;
use super::output;
use super::report::Reporter;

/// How an instance label value becomes a server name, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum StripArg {
    /// `web01.example.com:9100` → `web01.example.com` (then matched as
    /// measurement files' names are: exactly, in any case, or by the part
    /// before the first dot).
    #[default]
    Port,
    /// `web01.example.com:9100` → `web01`.
    Domain,
    /// The label value as it is.
    None,
}

impl StripArg {
    fn strip(self) -> Strip {
        match self {
            StripArg::Port => Strip::Port,
            StripArg::Domain => Strip::Domain,
            StripArg::None => Strip::Nothing,
        }
    }
}

/// `--map INSTANCE=SERVER`.
pub fn parse_map(text: &str) -> Result<(String, String), String> {
    let (instance, server) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("`{text}` is not INSTANCE=SERVER"))?;
    Ok((instance.to_string(), server.to_string()))
}

/// A time on the command line: RFC 3339, Unix seconds, or a date (its
/// midnight UTC).
pub fn parse_time(text: &str) -> Result<i64, String> {
    parse_timestamp(text)
        .or_else(|| parse_timestamp(&format!("{text}T00:00:00Z")))
        .ok_or_else(|| {
            format!(
                "`{text}` is not a time: write 2026-03-02, 2026-03-02T08:00:00Z or Unix seconds"
            )
        })
}

/// `--step` and `--timeout`: a duration such as `5min`, `300s` or `1h`
/// (`5m` is read as minutes), in whole seconds.
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let spelled = match text.strip_suffix('m') {
        Some(n) if !n.ends_with(['m', 'i']) => format!("{n}min"),
        _ => text.to_string(),
    };
    let s = virtplan::units::parse_duration(&spelled)?.0;
    if s < 1.0 || s.fract() != 0.0 || s > 366.0 * 86400.0 {
        return Err(format!(
            "`{text}` must be a whole number of seconds from 1 s to a year"
        ));
    }
    Ok(s as u64)
}

/// The options of `import metrics`.
pub struct Options<'a> {
    pub url: &'a str,
    pub from: i64,
    pub to: i64,
    pub step: u64,
    pub label: &'a str,
    pub strip: StripArg,
    pub map: &'a [(String, String)],
    pub concurrency: usize,
    pub timeout: u64,
    pub retries: u32,
    pub out: &'a Path,
}

pub fn run(dir: &Path, o: &Options, read: &ReadArgs, reporter: &Reporter) -> ExitCode {
    let Some(model) = load_model(dir, read, reporter) else {
        return ExitCode::from(1);
    };
    if o.from >= o.to {
        return crate::usage("--from must be before --to");
    }
    if !prom::is_label_name(o.label) {
        return crate::usage(&format!("`{}` is not a label name", o.label));
    }
    if !(o.url.starts_with("http://") || o.url.starts_with("https://")) {
        return crate::usage("--prometheus must be an http:// or https:// URL");
    }
    let client = match Client::new(o) {
        Ok(c) => c,
        Err(message) => return crate::usage(&message),
    };
    let range = Range {
        from: o.from,
        to: o.to,
        step: o.step as i64,
        label: o.label.to_string(),
    };
    let map: BTreeMap<String, String> = o.map.iter().cloned().collect();
    let matcher = Matcher::new(&model, o.strip.strip(), map);
    let mut diags = Diagnostics::default();

    // 1. The instances, matched to servers.
    let listing = prom::instances_request(&range);
    let instances = match client
        .fetch(&listing)
        .and_then(|body| prom::parse_instances(&body))
    {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: cannot list the instances of `{}`: {e}", o.url);
            return ExitCode::from(1);
        }
    };
    let used = match_instances(&model, &matcher, &instances, &mut diags);

    // 2. The range queries, on a few threads.
    let requests = prom::requests(&range, &used);
    let answers = client.fetch_all(&requests, o.concurrency, reporter);

    // 3. The rows, and what is missing.
    let mut collected = Collected::default();
    let mut missing: BTreeMap<Id, Vec<String>> = BTreeMap::new();
    for (request, answer) in requests.iter().zip(answers) {
        let part = &request.part;
        match answer.and_then(|body| prom::parse_matrix(&body, &range.label)) {
            Ok((series, not_finite)) => {
                collected.not_finite += not_finite;
                collected.add(part.resource, series, &matcher);
            }
            Err(e) => {
                let what = format!(
                    "{} from {} to {} ({e})",
                    part.resource.label(),
                    format_utc(part.from),
                    format_utc(part.to)
                );
                for id in part.instances.iter().filter_map(|i| matcher.server(i)) {
                    missing.entry(id).or_default().push(what.clone());
                }
            }
        }
    }
    report_values(&collected, &mut diags);
    for (id, what) in &missing {
        diags.push(
            Diagnostic::error(
                "virtplan::prometheus::request",
                format!(
                    "`{}` is incomplete, no file written for it: {}",
                    model.servers[*id].name,
                    what.join("; ")
                ),
            )
            .help("the requests failed after every retry; run the import again (a longer --timeout or a lower --concurrency may help)"),
        );
    }

    // 4. One file per complete server, and the file that reads them, all
    // or none.
    let mut files: Vec<(PathBuf, Vec<u8>)> = collected
        .rows
        .keys()
        .filter(|id| !missing.contains_key(id))
        .map(|&id| {
            let name = format!("{}.csv", model.servers[id].name);
            (o.out.join(name), collected.csv(id, &model).into_bytes())
        })
        .collect();
    let rows: usize = collected
        .rows
        .iter()
        .filter(|(id, _)| !missing.contains_key(id))
        .map(|(_, r)| r.len())
        .sum();
    let reader = (!files.is_empty())
        .then(|| reader_file(dir, &model, o.out))
        .flatten();
    if let Some(path) = &reader {
        files.push((path.clone(), prom::metrics_kdl().into_bytes()));
    }
    reporter.diagnostics(&diags, &SourceMap::default(), Path::new("."));
    if !files.is_empty() {
        if let Err(e) = std::fs::create_dir_all(o.out) {
            return crate::usage(&format!("cannot create `{}`: {e}", o.out.display()));
        }
        if let Err(e) = output::replace_files(&mut output::Disk, &files) {
            return crate::usage(&e.to_string());
        }
    }
    let servers = files.len() - usize::from(reader.is_some());
    reporter.status(&format!(
        "imported {servers} servers ({rows} rows, every {} s from {} to {} UTC) into {}",
        o.step,
        format_utc(o.from),
        format_utc(o.to),
        o.out.display()
    ));
    if servers > 0 && !project_reads(dir, read, o.out) {
        reporter.status(&format!(
            "the project does not read them yet: add `include \"{}/{}\"` to its project.kdl \
             (`virtplan init` projects include every folder's .kdl files)",
            relative(dir, o.out).unwrap_or_else(|| o.out.display().to_string()),
            prom::METRICS_KDL_NAME
        ));
    }
    if reporter.fails(&diags) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `OUT/metrics.kdl`, when the import should write it: `OUT` is inside the
/// project, no `metrics` glob of the project reads `OUT`'s CSV files yet
/// (the file would read them twice), and no hand-written file has that
/// name.
fn reader_file(dir: &Path, model: &Model, out: &Path) -> Option<PathBuf> {
    let rel = relative(dir, out)?;
    if model.servers.is_empty() || reads_folder(model, &rel) {
        return None;
    }
    let path = out.join(prom::METRICS_KDL_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.starts_with(prom::GENERATED) => {
            eprintln!(
                "warning: `{}` was not written by an import: left as it is",
                path.display()
            );
            None
        }
        _ => Some(path),
    }
}

/// `out` as a `/`-separated path relative to the project folder `dir`, if
/// it lies inside it.
fn relative(dir: &Path, out: &Path) -> Option<String> {
    let (dir, out) = (
        std::path::absolute(dir).ok()?,
        std::path::absolute(out).ok()?,
    );
    let rel = out.strip_prefix(&dir).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| match c {
            std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Whether the project, loaded again, reads `OUT`'s files: a `metrics`
/// glob of it matches them.
fn project_reads(dir: &Path, read: &ReadArgs, out: &Path) -> bool {
    let Some(rel) = relative(dir, out) else {
        return false;
    };
    lowered(dir, read)
        .and_then(|(model, _, _)| model)
        .is_some_and(|model| reads_folder(&model, &rel))
}

/// The project's model, or `None` after reporting why there is none. Only
/// the input language is checked: measurements may not exist yet.
fn load_model(dir: &Path, read: &ReadArgs, reporter: &Reporter) -> Option<Model> {
    let (model, diags, sources) = lowered(dir, read)?;
    if diags.has_errors() || model.is_none() {
        reporter.diagnostics(&diags, &sources, dir);
        eprintln!("nothing imported: fix the project's errors first");
        return None;
    }
    model
}

/// The project loaded and lowered, with its diagnostics sorted; `None`
/// when `dir` is not a project folder.
fn lowered(dir: &Path, read: &ReadArgs) -> Option<(Option<Model>, Diagnostics, SourceMap)> {
    let fs = crate::project(dir, read).ok()?;
    let loaded = virtplan::load::load(&fs);
    let mut diags = loaded.diags;
    let model = virtplan::lower::lower(&loaded.nodes, &loaded.sources, &mut diags);
    diags.sort(&loaded.sources);
    Some((model, diags, loaded.sources))
}

/// Whether a `metrics` glob of the project reads the CSV files of the
/// project-relative folder `rel`.
fn reads_folder(model: &Model, rel: &str) -> bool {
    model.servers.first().is_some_and(|s| {
        let probe = format!("{rel}/{}.csv", s.name);
        model
            .metrics
            .iter()
            .any(|g| virtplan::source::glob_match(&g.pattern, &probe))
    })
}

/// The instances to query: those naming a server, one per server (the
/// first in order when several name the same one). Reports the servers no
/// instance names and the instances naming no server.
fn match_instances(
    model: &Model,
    matcher: &Matcher,
    instances: &[String],
    diags: &mut Diagnostics,
) -> Vec<String> {
    let mut by_server: BTreeMap<Id, Vec<&String>> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for i in instances {
        match matcher.server(i) {
            Some(id) => by_server.entry(id).or_default().push(i),
            None => unmatched.push(i.as_str()),
        }
    }
    let mut used = Vec::new();
    for (id, names) in &by_server {
        used.push(names[0].clone());
        if names.len() > 1 {
            let others: Vec<&str> = names[1..].iter().map(|s| s.as_str()).collect();
            diags.push(
                Diagnostic::warning(
                    "virtplan::prometheus::instance",
                    format!(
                        "`{}` is named by {} instances; `{}` is used, {} left out",
                        model.servers[*id].name,
                        names.len(),
                        names[0],
                        others.join(", ")
                    ),
                )
                .help("name the right one with --map INSTANCE=SERVER"),
            );
        }
    }
    let unnamed: Vec<&str> = model
        .servers
        .iter()
        .enumerate()
        .filter(|(id, _)| !by_server.contains_key(id))
        .map(|(_, s)| s.name.as_str())
        .collect();
    if !unnamed.is_empty() {
        diags.push(
            Diagnostic::warning(
                "virtplan::prometheus::no-series",
                format!(
                    "{} of {} servers have no CPU series in the range: {}",
                    unnamed.len(),
                    model.servers.len(),
                    unnamed.join(", ")
                ),
            )
            .help("check --label and --strip, or name their instances with --map INSTANCE=SERVER"),
        );
    }
    if !unmatched.is_empty() {
        diags.push(
            Diagnostic::note(
                "virtplan::prometheus::instance",
                format!(
                    "{} instances name no server of the project and are not imported: {}",
                    unmatched.len(),
                    unmatched.join(", ")
                ),
            )
            .help("map one to a server with --map INSTANCE=SERVER"),
        );
    }
    used.sort();
    used
}

/// Values the import changed or left out, counted.
fn report_values(c: &Collected, diags: &mut Diagnostics) {
    if c.not_finite > 0 {
        diags.push(
            Diagnostic::note(
                "virtplan::prometheus::values",
                format!(
                    "{} values Prometheus gave as NaN or infinite were left out",
                    c.not_finite
                ),
            )
            .help("they are usually a division by zero in the first step after an exporter starts"),
        );
    }
    if c.cpu_clamped > 0 {
        diags.push(
            Diagnostic::note(
                "virtplan::prometheus::values",
                format!(
                    "{} CPU values were outside 0–100% and were written as 0 or 100",
                    c.cpu_clamped
                ),
            )
            .help("idle-time counters jitter between scrapes; a longer --step smooths it"),
        );
    }
}

/// Answers larger than this are refused (a 500,000-point answer is about
/// 30 MB).
const MAX_ANSWER_BYTES: u64 = 256 << 20;

struct Client {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
    retries: u32,
}

impl Client {
    fn new(o: &Options) -> Result<Client, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let auth = match (
            env("VIRTPLAN_PROMETHEUS_TOKEN"),
            env("VIRTPLAN_PROMETHEUS_USER"),
            env("VIRTPLAN_PROMETHEUS_PASSWORD"),
        ) {
            (Some(token), None, None) => Some(format!("Bearer {token}")),
            (None, Some(user), password) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{}", password.unwrap_or_default()))
            )),
            (None, None, None) => None,
            _ => {
                return Err(
                    "set either VIRTPLAN_PROMETHEUS_TOKEN or VIRTPLAN_PROMETHEUS_USER (with VIRTPLAN_PROMETHEUS_PASSWORD), not both"
                        .to_string(),
                );
            }
        };
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(o.timeout))
            .build();
        Ok(Client {
            agent,
            base: o.url.trim_end_matches('/').to_string(),
            auth,
            retries: o.retries,
        })
    }

    /// One request's answer, retried on network errors, 429 and 5xx with
    /// a doubling pause (1 s, 2 s, 4 s…).
    fn fetch(&self, r: &Request) -> Result<String, String> {
        let mut attempt = 0;
        loop {
            match self.once(r) {
                Ok(body) => return Ok(body),
                Err((true, _)) if attempt < self.retries => {
                    std::thread::sleep(Duration::from_secs(1 << attempt.min(5)));
                    attempt += 1;
                }
                Err((_, e)) if attempt > 0 => {
                    return Err(format!("{e}, after {} attempts", attempt + 1));
                }
                Err((_, e)) => return Err(e),
            }
        }
    }

    /// One attempt: the body, or whether to retry and why it failed.
    fn once(&self, r: &Request) -> Result<String, (bool, String)> {
        let url = format!("{}{}", self.base, r.path);
        let post = r.path.ends_with("/query_range");
        let mut req = if post {
            self.agent.post(&url)
        } else {
            let mut req = self.agent.get(&url);
            for (k, v) in &r.params {
                req = req.query(k, v);
            }
            req
        };
        if let Some(auth) = &self.auth {
            req = req.set("Authorization", auth);
        }
        let sent = if post {
            let form: Vec<(&str, &str)> = r.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            req.send_form(&form)
        } else {
            req.call()
        };
        let response = match sent {
            Ok(resp) => resp,
            Err(ureq::Error::Status(code, resp)) => {
                let retry = code == 429 || code >= 500;
                let body = read_body(resp).unwrap_or_default();
                let why = prom::error_message(&body).unwrap_or_else(|| "no message".to_string());
                return Err((retry, format!("HTTP {code}: {why}")));
            }
            Err(ureq::Error::Transport(t)) => return Err((true, t.to_string())),
        };
        read_body(response).map_err(|e| (true, e))
    }

    /// Every request's answer, in the requests' order, on `threads`
    /// threads, with a progress bar on a terminal.
    fn fetch_all(
        &self,
        requests: &[Request],
        threads: usize,
        reporter: &Reporter,
    ) -> Vec<Result<String, String>> {
        let bar = if reporter.quiet || !std::io::stderr().is_terminal() {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new(requests.len() as u64)
        };
        let queue = Mutex::new((0..requests.len()).collect::<VecDeque<usize>>());
        let answers: Mutex<Vec<Option<Result<String, String>>>> =
            Mutex::new(vec![None; requests.len()]);
        std::thread::scope(|scope| {
            for _ in 0..threads.clamp(1, 16) {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().map(|mut q| q.pop_front()).ok().flatten();
                        let Some(i) = next else { break };
                        let answer = self.fetch(&requests[i]);
                        if let Ok(mut a) = answers.lock() {
                            a[i] = Some(answer);
                        }
                        bar.inc(1);
                    }
                });
            }
        });
        bar.finish_and_clear();
        answers
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err("not sent".to_string())))
            .collect()
    }
}

fn read_body(response: ureq::Response) -> Result<String, String> {
    let mut body = String::new();
    response
        .into_reader()
        .take(MAX_ANSWER_BYTES + 1)
        .read_to_string(&mut body)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    if body.len() as u64 > MAX_ANSWER_BYTES {
        return Err(format!(
            "the answer is larger than {} MB",
            MAX_ANSWER_BYTES >> 20
        ));
    }
    Ok(body)
}
