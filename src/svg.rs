//! SVG pictures for the Markdown reports: heat maps, stacked charts, the
//! sensitivity tornado and the cumulative cash flow.
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

/// One bar of a tornado chart: the value at the input's low and high end.
pub struct Bar<'a> {
    pub label: &'a str,
    pub low_label: &'a str,
    pub high_label: &'a str,
    pub low: f64,
    pub high: f64,
}

/// A tornado chart: one horizontal bar per input, from its low-end value to
/// its high-end value, around a vertical line at `base`; bars in the given
/// order (widest first, as the caller sorts them).
pub fn tornado(title: &str, unit: &str, base: f64, bars: &[Bar]) -> String {
    let plot_w = 460.0;
    let row_h = 24.0;
    let width = LEFT + plot_w + 90.0;
    let height = TOP + 30.0 + row_h * bars.len() as f64 + 20.0;
    let lo = bars
        .iter()
        .flat_map(|b| [b.low, b.high])
        .fold(base, f64::min);
    let hi = bars
        .iter()
        .flat_map(|b| [b.low, b.high])
        .fold(base, f64::max);
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let x_of = |v: f64| LEFT + (v - lo) / span * plot_w;
    let mut s = String::new();
    header(&mut s, width, height, title);
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + 20.0 + row_h * i as f64;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"#,
            LEFT - 6.0,
            y + 14.0,
            escape(b.label)
        );
        // The low end in blue, the high end in orange, each from the base.
        for (v, colour, label) in [
            (b.low, palette(0), b.low_label),
            (b.high, palette(1), b.high_label),
        ] {
            let (x0, x1) = (x_of(v.min(base)), x_of(v.max(base)));
            let _ = writeln!(
                s,
                r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}: {} {}</title></rect>"#,
                y + 2.0,
                (x1 - x0).max(0.5),
                row_h - 6.0,
                escape(label),
                crate::units::num(v, 0),
                escape(unit)
            );
        }
    }
    let _ = writeln!(
        s,
        r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11">{} {}</text>"##,
        TOP + 14.0,
        TOP + 20.0 + row_h * bars.len() as f64,
        TOP + 34.0 + row_h * bars.len() as f64,
        crate::units::num(base, 0),
        escape(unit),
        x = x_of(base)
    );
    s.push_str("</svg>\n");
    s
}

/// The cumulative cash flow by year as a line with a point per year, a zero
/// line, and a marker at the payback month when there is one.
pub fn cash_flow(
    title: &str,
    unit: &str,
    cumulative: &[f64],
    payback_month: Option<u32>,
) -> String {
    let plot_w = 460.0;
    let plot_h = 200.0;
    let width = LEFT + plot_w + 90.0;
    let height = TOP + plot_h + 50.0;
    let lo = cumulative.iter().copied().fold(0.0, f64::min);
    let hi = cumulative.iter().copied().fold(0.0, f64::max);
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let years = cumulative.len().saturating_sub(1).max(1) as f64;
    let x_of = |year: f64| LEFT + year / years * plot_w;
    let y_of = |v: f64| TOP + plot_h - (v - lo) / span * plot_h;
    let mut s = String::new();
    header(&mut s, width, height, title);
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">0 {}</text>"##,
        LEFT + plot_w,
        LEFT - 6.0,
        y_of(0.0) + 4.0,
        escape(unit),
        y = y_of(0.0)
    );
    let points: Vec<String> = cumulative
        .iter()
        .enumerate()
        .map(|(y, v)| format!("{:.1},{:.1}", x_of(y as f64), y_of(*v)))
        .collect();
    let _ = writeln!(
        s,
        r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
        points.join(" "),
        palette(0)
    );
    for (y, v) in cumulative.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>year {y}: {} {}</title></circle><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{y}</text>"#,
            x_of(y as f64),
            y_of(*v),
            palette(0),
            crate::units::num(*v, 0),
            escape(unit),
            x_of(y as f64),
            TOP + plot_h + 18.0
        );
    }
    if let Some(month) = payback_month {
        let x = x_of(f64::from(month) / 12.0);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP:.1}" x2="{x:.1}" y2="{:.1}" stroke="#c00" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#c00">payback: month {month}</text>"##,
            TOP + plot_h,
            x + 4.0,
            TOP + 12.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">year</text>"#,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 36.0
    );
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
    fn tornado_bars_start_at_the_base() {
        let bars = [
            Bar {
                label: "energy",
                low_label: "-20%",
                high_label: "+20%",
                low: 90.0,
                high: 110.0,
            },
            Bar {
                label: "hosts",
                low_label: "one less",
                high_label: "one more",
                low: 120.0,
                high: 80.0,
            },
        ];
        let svg = tornado("t", "EUR", 100.0, &bars);
        // Scale: 80 → LEFT, 120 → LEFT + 460; the base 100 at LEFT + 230.
        // energy's low bar runs from 90 (LEFT + 115) to the base.
        assert!(
            svg.contains(r#"<rect x="365.0" y="56.0" width="115.0""#),
            "{svg}"
        );
        // hosts' high bar (80) runs from LEFT to the base.
        assert!(
            svg.contains(r#"<rect x="250.0" y="80.0" width="230.0""#),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect x=").count(), 4);
        assert!(svg.contains("one more: 80 EUR"));
    }

    #[test]
    fn cash_flow_marks_the_payback_month() {
        let svg = cash_flow("t", "EUR", &[-100.0, -40.0, 20.0], Some(20));
        assert_eq!(svg.matches("<circle").count(), 3);
        // Month 20 of 2 years: 20/24 of the 460 px plot after LEFT.
        let x = 250.0 + 20.0 / 24.0 * 460.0;
        assert!(svg.contains(&format!(r#"<line x1="{x:.1}""#)), "{svg}");
        assert!(svg.contains("payback: month 20"));
        assert!(!cash_flow("t", "EUR", &[-1.0, -1.0], None).contains("payback"));
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
