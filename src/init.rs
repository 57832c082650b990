//! `virtplan init`: the files of a small, commented starting project that
//! passes `virtplan check`: a project, a platform, a host model, a cluster,
//! costs, migration defaults and two servers. Pure: the binary writes them.

/// The starting project's files: (file name, text), in writing order.
const FILES: [(&str, &str); 2] = [
    ("project.kdl", include_str!("init/project.kdl")),
    ("servers/examples.kdl", include_str!("init/servers.kdl")),
];

/// The project name the files carry unless another is given.
pub const DEFAULT_NAME: &str = "My estate";

/// The starting project's files, named `name` (written as a KDL string).
pub fn files(name: &str) -> Vec<(&'static str, String)> {
    let quoted = kdl_string(name);
    FILES
        .iter()
        .map(|(file, text)| {
            let text = text.replacen(&kdl_string(DEFAULT_NAME), &quoted, 1);
            (*file, text)
        })
        .collect()
}

/// `text` as a quoted KDL string: `"` and `\` escaped, control characters
/// as `\u{…}`.
pub(crate) fn kdl_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` fit for a `//` comment: one line, control characters as spaces.
pub(crate) fn kdl_comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    #[test]
    fn the_starting_project_checks_clean_under_any_name() {
        for name in [DEFAULT_NAME, "Säge & \"Söhne\" \\ AG", "tab\there"] {
            let mut fs = MemorySource::new();
            for (file, text) in files(name) {
                fs = fs.with(file, text);
            }
            let compiled = crate::compile(&fs);
            let errors: Vec<String> = compiled
                .diags
                .items
                .iter()
                .filter(|d| d.severity == crate::diag::Severity::Error)
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:#?}");
            let model = compiled.model.expect("a model");
            assert_eq!(model.project.name, name);
            assert_eq!(model.servers.len(), 2);
            let plan = compiled.plan.expect("a plan");
            // Both servers move, onto one host and its N+1 spare.
            assert_eq!(plan.capacity.assignments.len(), 2);
            assert_eq!(plan.costs.hosts, 2);
        }
    }
}
