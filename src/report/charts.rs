//! Charts: line charts over virtual time, as SVG text and PNG files.
//!
//! Faults are shaded bands (a crash until its restart, a pause or a network
//! partition for its length) labelled along the top of the plot; starts and
//! stops are dashed lines; elections, ISR shrinks and expansions and
//! rebalances are glyphs on the time axis. The legend sits in its own strip
//! under the plot, so nothing it says hides a label. Colours are Okabe and
//! Ito's colour-blind-safe set; lines that may lie on top of each other
//! differ by dash and marker too; a gap in the data (NaN) breaks the line.
//! The PNG is drawn at twice the SVG's size (1920×960).
//!
//! Text is laid out with a bundled font (Noto Sans, OFL) registered with
//! plotters, so charts build and render the same on a machine without
//! system font libraries, byte for byte.

use std::io;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

pub use crate::oracle::series::Mark;

/// How a line is stroked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// A glyph drawn along a line, every few points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Glyph {
    Circle,
    Square,
    Triangle,
}

/// One line of a chart: points (x in seconds, y in the chart's unit; a NaN
/// y is a gap the line does not cross).
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    /// Thick lines are the headline series; thin ones give detail (per partition).
    pub thick: bool,
    pub dash: Dash,
    pub glyph: Option<Glyph>,
    /// Listed in the legend.
    pub legend: bool,
}

impl Line {
    /// A solid line, thick and in the legend or thin and not.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor, thick: bool) -> Line {
        Line { label: label.into(), points, color, thick, dash: Dash::Solid, glyph: None, legend: thick }
    }
}

/// A lower panel on the same time axis (e.g. throughput under lag).
#[derive(Clone, Debug)]
pub struct Panel {
    pub y_label: String,
    pub lines: Vec<Line>,
}

/// A chart over virtual time.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    /// Fault intervals: (from s, to s, label such as "crash analytics-1").
    pub bands: Vec<(f64, f64, String)>,
    /// Faults at an instant (start, stop, scale): (s, label).
    pub instants: Vec<(f64, String)>,
    /// Elections, ISR changes, rebalances: (s, kind).
    pub marks: Vec<(f64, Mark)>,
    /// The end of the time axis (seconds).
    pub x_end: f64,
    /// The y values are counts: whole-number ticks.
    pub integer_y: bool,
    pub panel: Option<Panel>,
}

/// Okabe & Ito (2008), "Color Universal Design": blue, vermillion, bluish
/// green, orange, reddish purple, sky blue, black, yellow.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// The SVG's size; the PNG is twice this.
const WIDTH: u32 = 960;
const HEIGHT: u32 = 480;
const BAND: RGBColor = RGBColor(160, 160, 160);
const INK: RGBColor = RGBColor(60, 60, 60);

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font bytes are valid TrueType; registration only fails on bad bytes.
        let _ = register_font("sans-serif", FontStyle::Normal, notosans::REGULAR_TTF);
        let _ = register_font("sans-serif", FontStyle::Bold, notosans::BOLD_TTF);
    });
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart) -> String {
    fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        // Drawing into a string cannot fail for I/O reasons; a layout error leaves a blank chart.
        let _ = draw(&root, chart, 1);
        let _ = root.present();
    }
    out.push('\n');
    out
}

/// Writes the chart as a PNG file at `path`, 1920×960 (through a temporary
/// file, renamed into place).
pub fn png(chart: &Chart, path: &Path) -> io::Result<()> {
    fonts();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("chart.png");
    let tmp = path.with_file_name(format!(".{name}.tmp.png"));
    {
        let root = BitMapBackend::new(&tmp, (2 * WIDTH, 2 * HEIGHT)).into_drawing_area();
        draw(&root, chart, 2).map_err(|e| io::Error::other(e.to_string()))?;
        root.present().map_err(|e| io::Error::other(e.to_string()))?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// What the legend lists: the lines, then the kinds of marks present.
enum Entry<'a> {
    Line(&'a Line),
    Mark(Mark),
    Band,
}

fn legend_entries(chart: &Chart) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry> = chart.lines.iter().filter(|l| l.legend).map(Entry::Line).collect();
    if let Some(p) = &chart.panel {
        out.extend(p.lines.iter().filter(|l| l.legend).map(Entry::Line));
    }
    if !chart.bands.is_empty() {
        out.push(Entry::Band);
    }
    for m in [Mark::Rebalance, Mark::Election, Mark::IsrShrink, Mark::IsrExpand] {
        if chart.marks.iter().any(|(_, k)| *k == m) {
            out.push(Entry::Mark(m));
        }
    }
    out
}

/// Legend entries per row.
const PER_ROW: usize = 5;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart, s: u32) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let entries = legend_entries(chart);
    let rows = entries.len().div_ceil(PER_ROW) as u32;
    let (_, h) = root.dim_in_pixel();
    let (plots, legend) = root.split_vertically(h - (rows * 22 + 8) * s);
    let plots = plots.titled(&chart.title, ("sans-serif", 22 * s as i32).into_font().style(FontStyle::Bold))?;
    match &chart.panel {
        None => plot(&plots, chart, &chart.lines, &chart.y_label, true, s)?,
        Some(p) => {
            let (_, ph) = plots.dim_in_pixel();
            let (top, bottom) = plots.split_vertically(ph * 64 / 100);
            plot(&top, chart, &chart.lines, &chart.y_label, true, s)?;
            plot(&bottom, chart, &p.lines, &p.y_label, false, s)?;
        }
    }
    draw_legend(&legend, &entries, s)
}

/// A y axis top and its tick count: round, and whole numbers for counts.
fn y_axis(lines: &[Line], integer: bool) -> (f64, usize) {
    let y_max =
        lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let top = nice_ceiling(y_max);
    if integer && top <= 10.0 {
        let top = top.max(1.0);
        return (top, top as usize + 1);
    }
    (top, 10)
}

/// One plot: bands, instants, lines, marks (the marks and band labels on the headline plot only).
fn plot<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    lines: &[Line],
    y_label: &str,
    headline: bool,
    s: u32,
) -> DrawResult<DB> {
    let (y_top, y_ticks) = y_axis(lines, chart.integer_y || !headline);
    let x_end = if chart.x_end > 0.0 { chart.x_end } else { 1.0 };
    let px = |v: u32| (v * s) as i32;
    let mut ctx = ChartBuilder::on(area)
        .margin(px(10))
        .x_label_area_size(px(40))
        .y_label_area_size(px(74))
        .build_cartesian_2d(0f64..x_end, 0f64..y_top)?;
    let whole = |v: &f64| format!("{v:.0}");
    let fine = |v: &f64| format!("{v:.1}");
    let x_fmt: &dyn Fn(&f64) -> String = if x_end >= 10.0 { &whole } else { &fine };
    let integer = chart.integer_y || !headline || y_top >= 10.0;
    let y_fmt: &dyn Fn(&f64) -> String = if integer { &whole } else { &fine };
    ctx.configure_mesh()
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .y_labels(y_ticks)
        .x_desc("virtual time (s)")
        .y_desc(y_label)
        .label_style(("sans-serif", px(14)))
        .axis_desc_style(("sans-serif", px(15)))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(218, 218, 218))
        .draw()?;
    for (from, to, _) in &chart.bands {
        let to = if to > from { *to } else { from + x_end / 400.0 };
        ctx.draw_series(std::iter::once(Rectangle::new(
            [(*from, 0.0), (to.min(x_end), y_top)],
            BAND.mix(0.22).filled(),
        )))?;
    }
    for (x, _) in &chart.instants {
        ctx.draw_series(DashedLineSeries::new([(*x, 0.0), (*x, y_top)], 6 * s, 5 * s, BAND.stroke_width(s)))?;
    }
    for line in lines {
        draw_line(&mut ctx, line, s)?;
    }
    if headline {
        band_labels(&mut ctx, chart, y_top, x_end, s)?;
        for &(x, m) in &chart.marks {
            let (shape, color) = mark_shape(m, s);
            ctx.draw_series(std::iter::once(EmptyElement::at((x, 0.0)) + Polygon::new(shape, color.filled())))?;
        }
    }
    Ok(())
}

type Ctx<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// A line, split at its gaps, with its dash and glyphs.
fn draw_line<DB: DrawingBackend>(ctx: &mut Ctx<DB>, line: &Line, s: u32) -> DrawResult<DB> {
    let width = if line.thick { 3 * s } else { s };
    let style = line.color.stroke_width(width);
    for run in line.points.split(|p| !p.1.is_finite()).filter(|r| !r.is_empty()) {
        let pts = run.iter().copied();
        match line.dash {
            Dash::Solid => ctx.draw_series(LineSeries::new(pts, style))?,
            Dash::Dashed => ctx.draw_series(DashedLineSeries::new(pts, 10 * s, 6 * s, style))?,
            Dash::Dotted => ctx.draw_series(DashedLineSeries::new(pts, 3 * s, 4 * s, style))?,
        };
    }
    if let Some(g) = line.glyph {
        let every = (line.points.len() / 14).max(1);
        // Each glyph kind starts a third of a step after the one before, so coinciding lines show all of theirs.
        let phase = match g {
            Glyph::Circle => 0,
            Glyph::Square => every / 3,
            Glyph::Triangle => 2 * every / 3,
        };
        let finite = line.points.iter().copied().filter(|p| p.1.is_finite());
        let pts: Vec<(f64, f64)> = finite.skip(phase).step_by(every).collect();
        for p in pts {
            ctx.draw_series(std::iter::once(
                EmptyElement::at(p) + Polygon::new(glyph_shape(g, s), line.color.filled()),
            ))?;
        }
    }
    Ok(())
}

/// The points of a glyph around (0, 0), in pixels.
fn glyph_shape(g: Glyph, s: u32) -> Vec<(i32, i32)> {
    let r = (4 * s) as i32;
    match g {
        Glyph::Circle => (0..24)
            .map(|i| {
                let a = f64::from(i) * std::f64::consts::PI / 12.0;
                ((f64::from(r) * a.cos()).round() as i32, (f64::from(r) * a.sin()).round() as i32)
            })
            .collect(),
        Glyph::Square => vec![(-r, -r), (r, -r), (r, r), (-r, r)],
        Glyph::Triangle => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
    }
}

/// A mark on the time axis, its points above (0, 0) and its colour: ▼ ISR
/// shrink (vermillion), ▲ expand (bluish green), ◆ election (black), ●
/// rebalance (blue).
fn mark_shape(m: Mark, s: u32) -> (Vec<(i32, i32)>, RGBColor) {
    let r = (5 * s) as i32;
    match m {
        Mark::IsrShrink => (vec![(-r, -2 * r), (r, -2 * r), (0, 0)], PALETTE[1]),
        Mark::IsrExpand => (vec![(-r, 0), (r, 0), (0, -2 * r)], PALETTE[2]),
        Mark::Election => (vec![(0, -2 * r), (r, -r), (0, 0), (-r, -r)], PALETTE[6]),
        Mark::Rebalance => {
            let circle = glyph_shape(Glyph::Circle, s);
            (circle.into_iter().map(|(x, y)| (x * 5 / 4, y * 5 / 4 - r)).collect(), PALETTE[0])
        }
    }
}

/// Band labels along the top of the plot, each on the first of four rows
/// where it does not run into the label before it.
fn band_labels<DB: DrawingBackend>(ctx: &mut Ctx<DB>, chart: &Chart, y_top: f64, x_end: f64, s: u32) -> DrawResult<DB> {
    let mut row_end = [f64::NEG_INFINITY; 4];
    let labels = chart.bands.iter().map(|(x, _, l)| (*x, l)).chain(chart.instants.iter().map(|(x, l)| (*x, l)));
    let mut labels: Vec<(f64, &String)> = labels.filter(|(x, _)| *x >= 0.0 && *x <= x_end).collect();
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    // About 7 px per character at 13 px, as a share of the axis.
    let per_char = x_end * 7.0 / f64::from(WIDTH - 100);
    for (x, label) in labels {
        let row = row_end.iter().position(|&e| e < x).unwrap_or(3);
        row_end[row] = x + per_char * (label.chars().count() + 1) as f64;
        let y = y_top * (0.985 - 0.06 * row as f64);
        let font = ("sans-serif", (13 * s) as i32).into_font().color(&INK);
        ctx.draw_series(std::iter::once(Text::new(format!(" {label}"), (x, y), font)))?;
    }
    Ok(())
}

/// The legend strip: a sample of each line's stroke, the band and the marks.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry], s: u32) -> DrawResult<DB> {
    let (w, _) = area.dim_in_pixel();
    let col = (w as i32 - 40 * s as i32) / PER_ROW as i32;
    let font = ("sans-serif", (14 * s) as i32).into_font().color(&INK);
    for (i, e) in entries.iter().enumerate() {
        let x = 30 * s as i32 + (i % PER_ROW) as i32 * col;
        let y = (4 + 22 * (i / PER_ROW) as u32 + 11) as i32 * s as i32;
        let k = s as i32;
        let label = match e {
            Entry::Line(l) => {
                let width = if l.thick { 3 * s } else { 2 * s };
                let pts = vec![(x, y), (x + 30 * k, y)];
                match l.dash {
                    Dash::Solid => area.draw(&PathElement::new(pts, l.color.stroke_width(width)))?,
                    Dash::Dashed => {
                        area.draw(&DashedPathElement::new(pts, 8 * s, 5 * s, l.color.stroke_width(width)))?
                    }
                    Dash::Dotted => {
                        area.draw(&DashedPathElement::new(pts, 3 * s, 4 * s, l.color.stroke_width(width)))?
                    }
                }
                if let Some(g) = l.glyph {
                    area.draw(
                        &(EmptyElement::at((x + 15 * k, y)) + Polygon::new(glyph_shape(g, s), l.color.filled())),
                    )?;
                }
                l.label.clone()
            }
            Entry::Band => {
                area.draw(&Rectangle::new([(x, y - 7 * k), (x + 30 * k, y + 7 * k)], BAND.mix(0.22).filled()))?;
                "fault interval".into()
            }
            Entry::Mark(m) => {
                let (shape, color) = mark_shape(*m, s);
                area.draw(&(EmptyElement::at((x + 15 * k, y + 5 * k)) + Polygon::new(shape, color.filled())))?;
                match m {
                    Mark::Rebalance => "rebalance completed",
                    Mark::Election => "leader election",
                    Mark::IsrShrink => "ISR shrink",
                    Mark::IsrExpand => "ISR expand",
                }
                .into()
            }
        };
        area.draw(&Text::new(label, (x + 38 * k, y - 8 * k), font.clone()))?;
    }
    Ok(())
}

/// A round upper bound for the y axis: 1, 2 or 5 times a power of ten, at
/// least 10% above the data (and 1 when there is none).
pub fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let target = max * 1.1;
    let mut step = 1.0;
    while step * 10.0 <= target {
        step *= 10.0;
    }
    for m in [1.0, 2.0, 5.0, 10.0] {
        if step * m >= target {
            return step * m;
        }
    }
    step * 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            title: "lag".into(),
            y_label: "records".into(),
            lines: vec![Line::new(
                "total",
                vec![(0.0, 0.0), (1.0, 5.0), (1.2, f64::NAN), (2.0, 3.0)],
                PALETTE[0],
                true,
            )],
            bands: vec![(1.5, 1.8, "crash analytics-1".into())],
            instants: vec![(0.5, "start analytics-3".into())],
            marks: vec![(1.6, Mark::Rebalance), (1.7, Mark::IsrShrink)],
            x_end: 2.0,
            integer_y: true,
            panel: None,
        }
    }

    #[test]
    fn svg_is_a_document_with_the_labels_and_is_deterministic() {
        let a = svg(&chart());
        assert!(a.starts_with("<svg") && a.trim_end().ends_with("</svg>"), "{}", &a[..80.min(a.len())]);
        assert!(a.contains("crash analytics-1") && a.contains("virtual time (s)") && a.contains("records"));
        assert!(a.contains("rebalance completed") && a.contains("ISR shrink") && a.contains("start analytics-3"));
        assert_eq!(a, svg(&chart()));
    }

    /// The text of every `<text>` element.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
            .collect()
    }

    /// Counts get whole-number ticks: a top of 2 gets 0, 1, 2, never 0.5 steps;
    /// a short time axis gets tenths, not repeated whole seconds.
    #[test]
    fn count_axes_have_whole_ticks() {
        let mut c = chart();
        c.lines[0].points = vec![(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)];
        let t = texts(&svg(&c));
        let ticks: Vec<&str> = t.iter().map(String::as_str).filter(|s| s.parse::<f64>().is_ok()).collect();
        assert!(ticks.starts_with(&["0", "1", "2", "3", "4", "5"]), "{ticks:?}");
        assert!(ticks.contains(&"0.2") && ticks.contains(&"1.8"), "time in tenths: {ticks:?}");
        assert!(!ticks.iter().any(|s| *s == "0.5" || *s == "2.5"), "{ticks:?}");
    }

    /// A gap (NaN) breaks the line: two polylines, none crossing it.
    #[test]
    fn a_gap_breaks_the_line() {
        let a = svg(&chart());
        let blue = a.matches("stroke=\"#0072B2\"").count();
        let mut whole = chart();
        whole.lines[0].points.retain(|p| p.1.is_finite());
        let b = svg(&whole);
        assert_eq!(blue, b.matches("stroke=\"#0072B2\"").count() + 1, "one more path with the gap");
    }

    #[test]
    fn png_is_written_at_twice_the_size_and_identical_twice() {
        let dir = std::env::temp_dir().join(format!("streamsim-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.png"), dir.join("b.png"));
        png(&chart(), &a).unwrap();
        png(&chart(), &b).unwrap();
        let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(&x[1..4], b"PNG");
        let be = |i: usize| u32::from_be_bytes([x[i], x[i + 1], x[i + 2], x[i + 3]]);
        assert_eq!((be(16), be(20)), (1920, 960), "IHDR width and height");
        assert_eq!(x, y);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(9.0), 10.0);
        assert_eq!(nice_ceiling(95.0), 200.0);
        assert_eq!(nice_ceiling(1234.0), 2000.0);
        assert_eq!(nice_ceiling(4400.0), 5000.0);
    }
}
