use virtplan::schema::*;
fn ty(k: Kind) -> String {
    match k {
        Kind::Str => "string".into(),
        Kind::Ref(r) => format!("name of a `{}`", r.node()),
        Kind::Count => "whole number".into(),
        Kind::Number => "number".into(),
        Kind::Bool => "`#true` or `#false`".into(),
        Kind::Bytes => "size".into(),
        Kind::Frequency => "clock".into(),
        Kind::Bandwidth => "bandwidth".into(),
        Kind::Duration => "duration".into(),
        Kind::Percent => "percentage".into(),
        Kind::Money => "money".into(),
        Kind::Power => "power".into(),
        Kind::Window => "window".into(),
        Kind::CountOrUnlimited => "whole number or `\"unlimited\"`".into(),
        Kind::Enum(w) => format!("one of {}", w.iter().map(|w| format!("`\"{w}\"`")).collect::<Vec<_>>().join(", ")),
        Kind::Path => "path".into(),
    }
}
fn show(path: &str, spec: &NodeSpec) {
    println!("\n### {path}  args={:?} req={} rep={}", spec.args.map(|a| (ty(a.kind), a.min, a.max, a.meaning)), spec.required, spec.repeat);
    println!("{}", spec.doc);
    if !spec.props.is_empty() {
        println!("| Property | Value | Meaning |\n|---|---|---|");
        for p in spec.props { println!("| `{}`{} | {} | {} |", p.name, if p.required {" (required)"} else {""}, ty(p.kind), p.doc); }
    }
    if !spec.children.is_empty() {
        println!("| Node | Value | Meaning |\n|---|---|---|");
        for c in spec.children {
            let v = match c.args { None => "—".to_string(), Some(a) => format!("{}{}", if a.max == 1 {""} else {"1+ "}, ty(a.kind)) };
            println!("| `{}`{}{} | {} | {} |", c.name, if c.required {" (required)"} else {""}, if c.repeat {" (repeatable)"} else {""}, v, c.doc);
        }
    }
}
#[test]
fn dump() {
    for (path, spec) in walk() { if !spec.children.is_empty() || !spec.props.is_empty() || !path.contains('/') { show(&path, spec); } }
}
