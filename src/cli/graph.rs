//! `virtplan graph`: the runbook's dependency graph as Graphviz DOT or a
//! Mermaid flowchart.
//!
//! Nodes are the servers that move, labelled with their wave, and the
//! servers they depend on that do not move (dashed: they stay where they
//! are). An edge `a -> b` means `a` depends on `b`. Move groups (servers
//! that depend on each other in a circle and so move together) are
//! clusters (DOT) or subgraphs (Mermaid). Everything is read from the
//! plan's runbook, sorted by name, so the text is deterministic.

use std::collections::{BTreeMap, BTreeSet};

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use virtplan::migrate::Runbook;

use super::disk::ReadArgs;
use super::report::Reporter;

/// The graph's text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    #[default]
    Dot,
    /// A Mermaid flowchart (Markdown code blocks on GitHub and GitLab).
    Mermaid,
}

/// The graph in plain data, sorted.
#[derive(Debug, Default, PartialEq)]
struct Graph {
    /// Moving servers: name → wave.
    moving: BTreeMap<String, usize>,
    /// Dependencies that do not move.
    staying: BTreeSet<String>,
    /// (server, dependency).
    edges: BTreeSet<(String, String)>,
    /// Move groups of more than one server: id → members.
    groups: BTreeMap<usize, Vec<String>>,
}

impl Graph {
    fn of(runbook: &Runbook) -> Graph {
        let mut g = Graph::default();
        for w in &runbook.waves {
            for s in &w.servers {
                g.moving.insert(s.server.clone(), w.number);
            }
        }
        for w in &runbook.waves {
            for s in &w.servers {
                for d in &s.depends_on {
                    g.edges.insert((s.server.clone(), d.clone()));
                    if !g.moving.contains_key(d) {
                        g.staying.insert(d.clone());
                    }
                }
            }
        }
        for c in &runbook.cycles {
            g.groups.insert(c.id, c.servers.clone());
        }
        g
    }

    fn grouped(&self) -> BTreeSet<&str> {
        self.groups.values().flatten().map(String::as_str).collect()
    }
}

/// `virtplan graph DIR --format F`: compiles the project, reports its
/// diagnostics, and prints the graph unless they fail the run.
pub fn run(dir: &Path, format: GraphFormat, read: &ReadArgs, reporter: &Reporter) -> ExitCode {
    let fs = match crate::project(dir, read) {
        Ok(fs) => fs,
        Err(code) => return code,
    };
    if !reporter.stdout_is_free() {
        return crate::usage(
            "`graph` prints the graph on standard output: use --message-format human",
        );
    }
    let compiled = virtplan::compile(&fs);
    reporter.diagnostics(&compiled.diags, &compiled.sources, dir);
    let (false, Some(plan)) = (reporter.fails(&compiled.diags), &compiled.plan) else {
        eprintln!("no graph: fix the errors above first");
        return ExitCode::from(1);
    };
    print!("{}", render(&plan.runbook, &plan.project.name, format));
    ExitCode::SUCCESS
}

/// The dependency graph of `runbook` in `format`, named after the project.
pub fn render(runbook: &Runbook, project: &str, format: GraphFormat) -> String {
    let g = Graph::of(runbook);
    match format {
        GraphFormat::Dot => dot(&g, project),
        GraphFormat::Mermaid => mermaid(&g, project),
    }
}

/// A DOT quoted string: `"` and `\` escaped, control characters as spaces.
fn q(s: &str) -> String {
    q_lines(&[s])
}

/// A DOT quoted string of several lines, joined by DOT's `\n`.
fn q_lines(lines: &[&str]) -> String {
    let mut out = String::from("\"");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str("\\n");
        }
        for c in line.chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => out.push(' '),
                c => out.push(c),
            }
        }
    }
    out.push('"');
    out
}

fn dot(g: &Graph, project: &str) -> String {
    let mut out = format!("digraph {} {{\n", q(project));
    out.push_str("  rankdir=LR;\n  node [shape=box];\n");
    let node = |name: &str| {
        let wave = g.moving[name];
        format!(
            "{} [label={}]",
            q(name),
            q_lines(&[name, &format!("wave {wave}")])
        )
    };
    for (id, members) in &g.groups {
        out.push_str(&format!(
            "  subgraph {} {{\n    label={};\n    style=rounded;\n",
            q(&format!("cluster_group_{id}")),
            q(&format!("move group {id}"))
        ));
        for m in members {
            out.push_str(&format!("    {};\n", node(m)));
        }
        out.push_str("  }\n");
    }
    let grouped = g.grouped();
    for name in g.moving.keys().filter(|n| !grouped.contains(n.as_str())) {
        out.push_str(&format!("  {};\n", node(name)));
    }
    for name in &g.staying {
        out.push_str(&format!(
            "  {} [label={}, style=dashed];\n",
            q(name),
            q_lines(&[name, "not moving"])
        ));
    }
    for (a, b) in &g.edges {
        out.push_str(&format!("  {} -> {};\n", q(a), q(b)));
    }
    out.push_str("}\n");
    out
}

/// A Mermaid id: the name's ASCII letters and digits, anything else as `_`
/// and its code, so distinct names keep distinct ids (as `emit.rs` does in
/// the runbook).
fn mid(name: &str) -> String {
    let mut id = String::from("n_");
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else {
            id.push_str(&format!("_{:x}_", c as u32));
        }
    }
    id
}

/// A Mermaid label in quotes, with entity codes for characters that end or
/// change it.
fn mlabel(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '#' | '&' | '<' | '>' | '`' => out.push_str(&format!("#{};", c as u32)),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn mermaid(g: &Graph, project: &str) -> String {
    let mut out = format!("---\ntitle: {}\n---\nflowchart LR\n", mlabel(project));
    let node = |name: &str| {
        format!(
            "{}[{}]",
            mid(name),
            mlabel(&format!("{name} (wave {})", g.moving[name]))
        )
    };
    for (id, members) in &g.groups {
        out.push_str(&format!(
            "  subgraph group_{id}[{}]\n",
            mlabel(&format!("move group {id}"))
        ));
        for m in members {
            out.push_str(&format!("    {}\n", node(m)));
        }
        out.push_str("  end\n");
    }
    let grouped = g.grouped();
    for name in g.moving.keys().filter(|n| !grouped.contains(n.as_str())) {
        out.push_str(&format!("  {}\n", node(name)));
    }
    for name in &g.staying {
        out.push_str(&format!(
            "  {}[{}]:::staying\n",
            mid(name),
            mlabel(&format!("{name} (not moving)"))
        ));
    }
    for (a, b) in &g.edges {
        out.push_str(&format!("  {} --> {}\n", mid(a), mid(b)));
    }
    if !g.staying.is_empty() {
        out.push_str("  classDef staying stroke-dasharray: 5 5\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(q(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(q_lines(&["a", "wave 1"]), r#""a\nwave 1""#);
        assert_eq!(mid("dev-pg01"), "n_dev_2d_pg01");
        assert_eq!(mlabel("a\"<b>"), "\"a#34;#60;b#62;\"");
    }
}
