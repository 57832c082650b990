//! SVG pictures for the Markdown reports: heat maps and stacked charts.
//!
//! In: plain series of numbers with labels. Out: a self-contained SVG text.
//! Pictures are deterministic: coordinates and colours are printed with
//! fixed precision, and nothing depends on the clock or the environment.

use std::fmt::Write;

/// One row of a heat map: a label and one value per column.
pub struct HeatRow<'a> {
    pub label: &'a str,
    pub unit: &'a str,
    pub values: &'a [f64],
}

const CELL_W: f64 = 5.0;
const CELL_H: f64 = 22.0;
const LEFT: f64 = 250.0;
const TOP: f64 = 34.0;

/// A heat map: one row per series, one column per slot (white = 0, dark
/// red = the top of the scale). Each row is scaled to its own maximum, or
/// all rows to `fixed_max` when given (e.g. 100 for percentages). `ticks`
/// are (column, label) pairs written under the grid.
pub fn heatmap(
    title: &str,
    rows: &[HeatRow],
    ticks: &[(usize, String)],
    fixed_max: Option<f64>,
) -> String {
    let cols = rows.iter().map(|r| r.values.len()).max().unwrap_or(0);
    let width = LEFT + cols as f64 * CELL_W + 20.0;
    let height = TOP + rows.len() as f64 * CELL_H + 40.0;
    let mut s = String::new();
    header(&mut s, width, height, title);
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + i as f64 * CELL_H;
        let peak = row.values.iter().copied().fold(0.0, f64::max);
        let max = fixed_max.unwrap_or(peak);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{} (peak {} {})</text>"#,
            LEFT - 6.0,
            y + CELL_H * 0.65,
            escape(row.label),
            crate::units::num(peak, 1),
            escape(row.unit)
        );
        for (j, v) in row.values.iter().enumerate() {
            let share = if max > 0.0 {
                (v / max).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{CELL_W:.1}" height="{:.1}" fill="{}"><title>{} {}</title></rect>"#,
                LEFT + j as f64 * CELL_W,
                y,
                CELL_H - 2.0,
                heat_colour(share),
                crate::units::num(*v, 2),
                escape(row.unit)
            );
        }
    }
    axis(&mut s, ticks, TOP + rows.len() as f64 * CELL_H);
    s.push_str("</svg>\n");
    s
}

/// A stacked area chart: one layer per series, columns as in [`heatmap`],
/// with a dashed line at `limit` (e.g. capacity × target).
pub fn stacked(
    title: &str,
    unit: &str,
    layers: &[(&str, Vec<f64>)],
    limit: f64,
    ticks: &[(usize, String)],
) -> String {
    let cols = layers.iter().map(|l| l.1.len()).max().unwrap_or(0);
    let plot_h = 160.0;
    let width = LEFT + cols as f64 * CELL_W + 20.0;
    let height = TOP + plot_h + 40.0 + 14.0 * layers.len().min(40) as f64;
    let mut total = vec![0.0; cols];
    for (_, v) in layers {
        for (t, x) in total.iter_mut().zip(v) {
            *t += x;
        }
    }
    let top = total
        .iter()
        .copied()
        .fold(limit, f64::max)
        .max(f64::MIN_POSITIVE);
    let y_of = |v: f64| TOP + plot_h - v / top * plot_h;
    let mut s = String::new();
    header(&mut s, width, height, title);
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{} {}</text>"#,
        LEFT - 6.0,
        TOP + 10.0,
        crate::units::num(top, 1),
        escape(unit)
    );
    let mut base = vec![0.0; cols];
    for (i, (name, values)) in layers.iter().enumerate() {
        let mut points = String::new();
        for (j, b) in base.iter().enumerate() {
            let _ = write!(
                points,
                "{:.1},{:.1} ",
                LEFT + j as f64 * CELL_W,
                y_of(b + values.get(j).copied().unwrap_or(0.0))
            );
            let _ = write!(
                points,
                "{:.1},{:.1} ",
                LEFT + (j + 1) as f64 * CELL_W,
                y_of(b + values.get(j).copied().unwrap_or(0.0))
            );
        }
        for (j, b) in base.iter().enumerate().rev() {
            let _ = write!(
                points,
                "{:.1},{:.1} ",
                LEFT + (j + 1) as f64 * CELL_W,
                y_of(*b)
            );
            let _ = write!(points, "{:.1},{:.1} ", LEFT + j as f64 * CELL_W, y_of(*b));
        }
        let colour = palette(i);
        let _ = writeln!(
            s,
            r#"<polygon points="{}" fill="{colour}" stroke="white" stroke-width="0.3"><title>{}</title></polygon>"#,
            points.trim_end(),
            escape(name)
        );
        if i < 40 {
            let y = TOP + plot_h + 36.0 + 14.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                LEFT,
                y - 9.0,
                LEFT + 14.0,
                y,
                escape(name)
            );
        }
        for (b, v) in base.iter_mut().zip(values) {
            *b += v;
        }
    }
    if limit > 0.0 {
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#c00" stroke-dasharray="4 3"/>"##,
            LEFT + cols as f64 * CELL_W,
            y = y_of(limit)
        );
    }
    axis(&mut s, ticks, TOP + plot_h);
    s.push_str("</svg>\n");
    s
}

fn header(s: &mut String, width: f64, height: f64, title: &str) {
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT:.1}" y="20" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
}

fn axis(s: &mut String, ticks: &[(usize, String)], y: f64) {
    for (col, label) in ticks {
        let x = LEFT + *col as f64 * CELL_W;
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"##,
            y,
            y + 6.0,
            x + 2.0,
            y + 18.0,
            escape(label)
        );
    }
}

/// White through orange to dark red.
fn heat_colour(share: f64) -> String {
    let (r, g, b) = if share < 0.5 {
        let t = share * 2.0;
        (255.0, 255.0 - 90.0 * t, 255.0 - 200.0 * t)
    } else {
        let t = (share - 0.5) * 2.0;
        (255.0 - 115.0 * t, 165.0 - 165.0 * t, 55.0 - 55.0 * t)
    };
    format!(
        "#{:02x}{:02x}{:02x}",
        r.round() as u8,
        g.round() as u8,
        b.round() as u8
    )
}

/// A fixed palette of distinguishable colours, cycled.
fn palette(i: usize) -> &'static str {
    const COLOURS: [&str; 12] = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
        "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c",
    ];
    COLOURS[i % COLOURS.len()]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        assert_eq!(heat_colour(0.0), "#ffffff");
        assert_eq!(heat_colour(1.0), "#8c0000");
    }

    #[test]
    fn heatmap_cells_and_escaping() {
        let values = [0.0, 5.0, 10.0];
        let svg = heatmap(
            "a <b>",
            &[HeatRow {
                label: "cpu",
                unit: "GHz",
                values: &values,
            }],
            &[(0, "mon".into())],
            None,
        );
        assert_eq!(svg.matches("<rect x=").count(), 3);
        assert!(svg.contains("a &lt;b&gt;"));
        assert!(svg.contains("peak 10 GHz"));
        assert!(svg.ends_with("</svg>\n"));
    }

    #[test]
    fn escape_hostile_text() {
        assert_eq!(
            escape(r#"</text><script>alert('x')</script> & "q""#),
            "&lt;/text&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("&lt;"), "&amp;lt;");
        let svg = stacked(
            "t",
            "GHz",
            &[(r#"a"/><script>"#, vec![1.0])],
            1.0,
            &[(0, "<mon>".into())],
        );
        assert!(!svg.contains("<script>") && !svg.contains("<mon>"), "{svg}");
    }
}
