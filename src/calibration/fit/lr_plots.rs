//! PNG plots of likelihood ratios over a labelled set: the Tippett plot
//! (share of Hp and Hd pairs with log10 LR ≥ x, with the ELUB bounds), the
//! PAV calibration plot (log10 LR against its PAV re-calibration: on the
//! diagonal when well calibrated) and the ECE plot (empirical cross-entropy
//! over prior log10 odds, for the LRs, after PAV, and for the neutral LR 1).

use super::cllr::{EceCurves, tippett_sorted};
use super::plots::{FONT, GENUINE, IMPOSTOR, canvas, perr};
use super::ranked::Ranked;
use crate::calibration::Result;
use plotters::prelude::*;
use std::path::Path;

/// Axis range of log10 LRs shown (±∞ and beyond are drawn at the edge).
fn range(v: &[f64]) -> (f64, f64) {
    let fin = v.iter().copied().filter(|x| x.is_finite());
    let lo = fin.clone().fold(0.0f64, f64::min).max(-12.0).floor() - 0.5;
    let hi = fin.fold(0.0f64, f64::max).min(12.0).ceil() + 0.5;
    (lo, hi)
}

fn chart_area(text: bool) -> (u32, u32) {
    if text { (45, 60) } else { (5, 5) }
}

/// Tippett plot of held-out log10 LRs with the bounds as dashed lines.
pub fn tippett_plot(
    path: &Path,
    title: &str,
    r: &Ranked,
    bounds: (f64, f64),
    text: bool,
) -> Result<()> {
    let e = perr(path);
    let root = canvas(path)?;
    let all: Vec<f64> = r.hp.iter().chain(&r.hd).copied().collect();
    let (hp, hd) = (r.class_sorted(true), r.class_sorted(false));
    let (lo, hi) = range(&all);
    let (xa, ya) = chart_area(text);
    let mut b = ChartBuilder::on(&root);
    b.margin(20).x_label_area_size(xa).y_label_area_size(ya);
    if text {
        b.caption(format!("Tippett plot: {title}"), (FONT, 22));
    }
    let mut chart = b.build_cartesian_2d(lo..hi, 0.0..1.0).map_err(&e)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("log10 LR")
            .y_desc("share of pairs with log10 LR ≥ x");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(&e)?;
    for (v, colour, label) in [
        (&hp, GENUINE, "Hp true (same person)"),
        (&hd, IMPOSTOR, "Hd true (different people)"),
    ] {
        let pts = tippett_sorted(v);
        // A step curve: the share holds until the next value.
        let mut steps = vec![(lo, 1.0)];
        for (x, share) in pts {
            let x = x.clamp(lo, hi);
            steps.push((x, steps.last().map_or(1.0, |p| p.1)));
            steps.push((x, share));
        }
        steps.push((steps.last().map_or(lo, |p| p.0), 0.0));
        steps.push((hi, 0.0));
        let s = chart
            .draw_series(LineSeries::new(steps, colour.stroke_width(2)))
            .map_err(&e)?;
        if text {
            s.label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], colour));
        }
    }
    for bnd in [bounds.0, bounds.1] {
        chart
            .draw_series(DashedLineSeries::new(
                [(bnd, 0.0), (bnd, 1.0)],
                6,
                4,
                BLACK.mix(0.6).into(),
            ))
            .map_err(&e)?;
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(&e)?;
    }
    root.present().map_err(&e)
}

/// PAV calibration plot: each log10 LR against its PAV-transformed value
/// (`pav`, from [`Ranked::pav_log10_lrs`]).
pub fn pav_plot(
    path: &Path,
    title: &str,
    r: &Ranked,
    pav: (&[f64], &[f64]),
    text: bool,
) -> Result<()> {
    let e = perr(path);
    let root = canvas(path)?;
    let mut pts = r.with_pav(pav);
    // Bounded LRs repeat by the thousand: each point once draws the same line.
    pts.dedup();
    let all: Vec<f64> = r.hp.iter().chain(&r.hd).copied().collect();
    let (lo, hi) = range(&all);
    let (xa, ya) = chart_area(text);
    let mut b = ChartBuilder::on(&root);
    b.margin(20).x_label_area_size(xa).y_label_area_size(ya);
    if text {
        b.caption(format!("PAV calibration plot: {title}"), (FONT, 22));
    }
    let mut chart = b.build_cartesian_2d(lo..hi, lo..hi).map_err(&e)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("log10 LR").y_desc("log10 LR after PAV");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(&e)?;
    chart
        .draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK.mix(0.4)))
        .map_err(&e)?;
    chart
        .draw_series(LineSeries::new(
            pts.into_iter()
                .map(|(x, y)| (x.clamp(lo, hi), y.clamp(lo, hi))),
            BLUE.stroke_width(2),
        ))
        .map_err(&e)?;
    root.present().map_err(&e)
}

/// ECE plot of the curves of [`super::cllr::ece_curves`].
pub fn ece_plot(path: &Path, title: &str, c: &EceCurves, text: bool) -> Result<()> {
    let e = perr(path);
    let root = canvas(path)?;
    let top = c
        .lrs
        .iter()
        .chain(&c.neutral)
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .min(2.0)
        * 1.1;
    let x = &c.prior_log10_odds;
    let (x0, x1) = (x[0], x[x.len() - 1]);
    let (xa, ya) = chart_area(text);
    let mut b = ChartBuilder::on(&root);
    b.margin(20).x_label_area_size(xa).y_label_area_size(ya);
    if text {
        b.caption(format!("ECE plot: {title}"), (FONT, 22));
    }
    let mut chart = b
        .build_cartesian_2d(x0..x1, 0.0..top.max(1e-6))
        .map_err(&e)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("prior log10 odds of Hp")
            .y_desc("empirical cross-entropy (bits)");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(&e)?;
    for (ys, colour, label) in [
        (&c.lrs, RED, "LRs"),
        (&c.pav, BLUE, "after PAV (discrimination only)"),
        (&c.neutral, RGBColor(120, 120, 120), "neutral LR = 1"),
    ] {
        let s = chart
            .draw_series(LineSeries::new(
                x.iter().zip(ys).map(|(&a, &b)| (a, b.min(top))),
                colour.stroke_width(2),
            ))
            .map_err(&e)?;
        if text {
            s.label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], colour));
        }
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(&e)?;
    }
    root.present().map_err(&e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::fit::cllr::ece_curves;

    #[test]
    fn lr_plots_are_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let hp = [2.0, 1.5, 0.3, -0.2, 3.0];
        let hd = [-2.0, -1.0, 0.5, -3.0, f64::NEG_INFINITY];
        for text in [false, super::super::plots::text_available()] {
            let t = dir.path().join(format!("t-{text}.png"));
            let p = dir.path().join(format!("p-{text}.png"));
            let c = dir.path().join(format!("c-{text}.png"));
            let r = Ranked::new(&hp, &hd);
            tippett_plot(&t, "test", &r, (-1.5, 2.5), text).unwrap();
            let (php, phd) = r.pav_log10_lrs();
            pav_plot(&p, "test", &r, (&php, &phd), text).unwrap();
            ece_plot(&c, "test", &ece_curves(&r, (&php, &phd)), text).unwrap();
            for f in [&t, &p, &c] {
                let img = image::open(f).unwrap().to_rgb8();
                let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
                assert!(ink > 1000, "{} is nearly blank", f.display());
            }
        }
    }
}
