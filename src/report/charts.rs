//! Charts: line charts over virtual time, as SVG text and PNG files, with
//! every fault marked on the time axis.
//!
//! Text is laid out with a bundled font (Noto Sans, OFL) registered with
//! plotters, so charts build and render the same on a machine without
//! system font libraries, byte for byte.

use std::io;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// One line of a chart: points (x in seconds, y in the chart's unit).
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    /// Thick lines are the headline series; thin ones give detail (per partition).
    pub thick: bool,
}

/// A chart over virtual time.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    /// Faults: (time in seconds, label such as "crash analytics-1").
    pub markers: Vec<(f64, String)>,
    /// The end of the time axis (seconds).
    pub x_end: f64,
}

/// Colours for headline series, chosen to read apart on a slide.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

const WIDTH: u32 = 960;
const HEIGHT: u32 = 480;

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
        let _ = draw(&root, chart);
        let _ = root.present();
    }
    out.push('\n');
    out
}

/// Writes the chart as a PNG file at `path` (through a temporary file, renamed into place).
pub fn png(chart: &Chart, path: &Path) -> io::Result<()> {
    fonts();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("chart.png");
    let tmp = path.with_file_name(format!(".{name}.tmp.png"));
    {
        let root = BitMapBackend::new(&tmp, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart).map_err(|e| io::Error::other(e.to_string()))?;
        root.present().map_err(|e| io::Error::other(e.to_string()))?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let y_max = chart.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(0.0f64, f64::max);
    let y_top = nice_ceiling(y_max);
    let x_end = if chart.x_end > 0.0 { chart.x_end } else { 1.0 };
    let mut ctx = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 22).into_font().style(FontStyle::Bold))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_end, 0f64..y_top)?;
    let whole = |v: &f64| format!("{v:.0}");
    let fine = |v: &f64| format!("{v:.1}");
    let y_fmt: &dyn Fn(&f64) -> String = if y_top >= 10.0 { &whole } else { &fine };
    ctx.configure_mesh()
        .x_label_formatter(&whole)
        .y_label_formatter(y_fmt)
        .x_desc("virtual time (s)")
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    // Fault markers: a dashed vertical line each, labels staggered so neighbours stay readable.
    let marker_color = RGBColor(120, 120, 120);
    for (i, (x, label)) in chart.markers.iter().enumerate() {
        if *x < 0.0 || *x > x_end {
            continue;
        }
        let dashes = 24;
        for d in 0..dashes {
            if d % 2 == 1 {
                continue;
            }
            let y0 = y_top * d as f64 / dashes as f64;
            let y1 = y_top * (d + 1) as f64 / dashes as f64;
            ctx.draw_series(LineSeries::new([(*x, y0), (*x, y1)], marker_color.stroke_width(1)))?;
        }
        let row = (i % 3) as f64;
        let y = y_top * (0.97 - 0.055 * row);
        ctx.draw_series(std::iter::once(Text::new(
            format!(" {label}"),
            (*x, y),
            ("sans-serif", 13).into_font().color(&RGBColor(70, 70, 70)),
        )))?;
    }
    for line in &chart.lines {
        let width = if line.thick { 3 } else { 1 };
        let color = line.color;
        let series = ctx.draw_series(LineSeries::new(line.points.iter().copied(), color.stroke_width(width)))?;
        if line.thick {
            series
                .label(line.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3)));
        }
    }
    if chart.lines.iter().any(|l| l.thick) {
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw()?;
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
            lines: vec![Line {
                label: "total".into(),
                points: vec![(0.0, 0.0), (1.0, 5.0), (2.0, 3.0)],
                color: PALETTE[0],
                thick: true,
            }],
            markers: vec![(1.5, "crash analytics-1".into())],
            x_end: 2.0,
        }
    }

    #[test]
    fn svg_is_a_document_with_the_labels_and_is_deterministic() {
        let a = svg(&chart());
        assert!(a.starts_with("<svg") && a.trim_end().ends_with("</svg>"), "{}", &a[..80.min(a.len())]);
        assert!(a.contains("crash analytics-1") && a.contains("virtual time (s)") && a.contains("records"));
        assert_eq!(a, svg(&chart()));
    }

    #[test]
    fn png_is_written_and_identical_twice() {
        let dir = std::env::temp_dir().join(format!("streamsim-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.png"), dir.join("b.png"));
        png(&chart(), &a).unwrap();
        png(&chart(), &b).unwrap();
        let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(&x[1..4], b"PNG");
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
