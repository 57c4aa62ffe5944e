//! PNG plots of an evaluation (plotters): the DET curve, genuine/impostor
//! score histograms, and reliability diagrams. Text uses a system TTF
//! (DejaVu Sans or similar) registered at run time; without one the plots
//! are drawn without text rather than failing.

use super::metrics::ScoreSet;
use super::metrics::{OperatingPoint, Reliability};
use crate::calibration::{CalibrationError, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// Fonts tried, in order, for plot text.
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

pub(crate) const SIZE: (u32, u32) = (800, 600);
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const GENUINE: RGBColor = RGBColor(27, 120, 55);
pub(crate) const IMPOSTOR: RGBColor = RGBColor(197, 27, 125);

/// Register the first available font once; false when none could be loaded.
pub fn text_available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        FONT_CANDIDATES.iter().any(|p| match std::fs::read(p) {
            Ok(bytes) => plotters::style::register_font(
                FONT,
                FontStyle::Normal,
                Box::leak(bytes.into_boxed_slice()),
            )
            .is_ok(),
            Err(_) => false,
        })
    })
}

pub(crate) fn perr<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> CalibrationError + '_ {
    move |e| CalibrationError::Plot {
        path: path.into(),
        reason: format!("{e:?}"),
    }
}

pub(crate) fn canvas(path: &Path) -> Result<DrawingArea<BitMapBackend<'_>, Shift>> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(perr(path))?;
    Ok(root)
}

/// Power of ten at or below `v` (v > 0).
fn decade_below(v: f64) -> f64 {
    10f64.powf(v.log10().floor())
}

/// DET curve: FNMR against FMR on log axes, with the EER point.
pub fn det_curve(
    path: &Path,
    points: &[OperatingPoint],
    eer: f64,
    n_gen: usize,
    n_imp: usize,
    text: bool,
) -> Result<()> {
    let e = perr(path);
    let root = canvas(path)?;
    let (xmin, ymin) = (
        decade_below(1.0 / n_imp.max(1) as f64),
        decade_below(1.0 / n_gen.max(1) as f64),
    );
    let mut b = ChartBuilder::on(&root);
    b.margin(20)
        .x_label_area_size(if text { 45 } else { 5 })
        .y_label_area_size(if text { 60 } else { 5 });
    if text {
        b.caption(format!("DET curve (EER {:.2} %)", eer * 100.0), (FONT, 22));
    }
    let mut chart = b
        .build_cartesian_2d((xmin..1.0).log_scale(), (ymin..1.0).log_scale())
        .map_err(&e)?;
    let pct = |v: &f64| format!("{}%", v * 100.0);
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("false match rate (FMR)")
            .y_desc("false non-match rate (FNMR)")
            .x_label_formatter(&pct)
            .y_label_formatter(&pct);
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(&e)?;
    let clamp = |p: &OperatingPoint| (p.fmr.max(xmin), p.fnmr.max(ymin));
    chart
        .draw_series(LineSeries::new(
            points.iter().map(clamp),
            BLUE.stroke_width(2),
        ))
        .map_err(&e)?;
    let diag = (0..=50).map(|i| {
        let v = xmin.max(ymin) * (1.0 / xmin.max(ymin)).powf(i as f64 / 50.0);
        (v, v)
    });
    chart
        .draw_series(LineSeries::new(diag, BLACK.mix(0.3)))
        .map_err(&e)?;
    if eer > 0.0 {
        chart
            .draw_series(std::iter::once(Circle::new(
                (eer.max(xmin), eer.max(ymin)),
                5,
                RED.filled(),
            )))
            .map_err(&e)?;
    }
    root.present().map_err(&e)
}

/// Density histograms of genuine and impostor similarity scores with the threshold.
pub fn score_histograms(
    path: &Path,
    scores: &ScoreSet,
    threshold: f64,
    bins: usize,
    text: bool,
) -> Result<()> {
    let e = perr(path);
    let root = canvas(path)?;
    let all = scores.genuine.iter().chain(&scores.impostor);
    let lo = (all.clone().copied().fold(f64::INFINITY, f64::min) * 10.0).floor() / 10.0;
    let hi = (all.copied().fold(f64::NEG_INFINITY, f64::max) * 10.0).ceil() / 10.0;
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (-1.0, 1.0)
    };
    let width = (hi - lo) / bins as f64;
    let density = |v: &[f64]| {
        let mut h = vec![0.0; bins];
        for &s in v {
            h[(((s - lo) / width) as usize).min(bins - 1)] += 1.0;
        }
        h.iter()
            .map(|c| c / (v.len().max(1) as f64 * width))
            .collect::<Vec<f64>>()
    };
    let (dg, di) = (density(&scores.genuine), density(&scores.impostor));
    let top = dg.iter().chain(&di).copied().fold(0.0, f64::max) * 1.05;
    let mut b = ChartBuilder::on(&root);
    b.margin(20)
        .x_label_area_size(if text { 45 } else { 5 })
        .y_label_area_size(if text { 60 } else { 5 });
    if text {
        b.caption(
            format!(
                "Scores: {} genuine, {} impostor pairs",
                scores.genuine.len(),
                scores.impostor.len()
            ),
            (FONT, 22),
        );
    }
    let mut chart = b
        .build_cartesian_2d(lo..hi, 0.0..top.max(1e-9))
        .map_err(&e)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("cosine similarity").y_desc("density");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(&e)?;
    for (h, colour, label) in [(&di, IMPOSTOR, "impostor"), (&dg, GENUINE, "genuine")] {
        let bars = h
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(i, &v)| {
                let x0 = lo + i as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, v)], colour.mix(0.5).filled())
            });
        let series = chart.draw_series(bars).map_err(&e)?;
        if text {
            series.label(label).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.filled())
            });
        }
    }
    let line = chart
        .draw_series(LineSeries::new(
            [(threshold, 0.0), (threshold, top)],
            BLACK.stroke_width(2),
        ))
        .map_err(&e)?;
    if text {
        line.label(format!("threshold {threshold:.4}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLACK));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(&e)?;
    }
    root.present().map_err(&e)
}

/// Reliability diagram: accuracy per confidence bin against the diagonal.
pub fn reliability_diagram(path: &Path, title: &str, r: &Reliability, text: bool) -> Result<()> {
    let e = perr(path);
    let root = canvas(path)?;
    let mut b = ChartBuilder::on(&root);
    b.margin(20)
        .x_label_area_size(if text { 45 } else { 5 })
        .y_label_area_size(if text { 60 } else { 5 });
    if text {
        b.caption(format!("{title}: ECE {:.4}", r.ece), (FONT, 22));
    }
    let mut chart = b.build_cartesian_2d(0.0..1.0, 0.0..1.0).map_err(&e)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("confidence that the decision is right")
            .y_desc("fraction of decisions right");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(&e)?;
    let bars = r.bins.iter().filter_map(|bin| {
        bin.accuracy.map(|a| {
            Rectangle::new(
                [(bin.lo + 0.005, 0.0), (bin.hi - 0.005, a)],
                BLUE.mix(0.6).filled(),
            )
        })
    });
    chart.draw_series(bars).map_err(&e)?;
    let marks = r.bins.iter().filter_map(|bin| {
        bin.confidence
            .zip(bin.accuracy)
            .map(|(c, a)| Circle::new((c, a), 4, RED.filled()))
    });
    chart.draw_series(marks).map_err(&e)?;
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.5)))
        .map_err(&e)?;
    root.present().map_err(&e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::fit::metrics::{Prediction, reliability};

    fn pixels_differing_from_white(path: &Path) -> usize {
        let img = image::open(path).unwrap().to_rgb8();
        img.pixels().filter(|p| p.0 != [255, 255, 255]).count()
    }

    #[test]
    fn plots_are_drawn_with_and_without_text() {
        let dir = tempfile::tempdir().unwrap();
        let s = ScoreSet::new(
            vec![0.5, 0.7, 0.8, 0.9, 0.62],
            vec![0.1, 0.2, 0.3, 0.65, 0.0, -0.1],
        );
        let points = s.operating_points();
        let r = reliability(
            &[Prediction {
                confidence: 0.8,
                correct: true,
                weight: 1.0,
            }],
            10,
        );
        for text in [false, text_available()] {
            let det = dir.path().join(format!("det-{text}.png"));
            let hist = dir.path().join(format!("hist-{text}.png"));
            let rel = dir.path().join(format!("rel-{text}.png"));
            det_curve(&det, &points, 0.2, 5, 6, text).unwrap();
            score_histograms(&hist, &s, 0.6, 20, text).unwrap();
            reliability_diagram(&rel, "C-Score", &r, text).unwrap();
            for p in [&det, &hist, &rel] {
                assert_eq!(image::image_dimensions(p).unwrap(), SIZE);
                assert!(
                    pixels_differing_from_white(p) > 1000,
                    "{} is nearly blank",
                    p.display()
                );
            }
        }
    }
}
