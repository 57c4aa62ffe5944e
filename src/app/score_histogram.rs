//! The explorer's score histogram (egui_plot): genuine and impostor
//! similarities as bars, each class as a fraction of its own pairs, and the
//! threshold in force as a vertical line that follows the slider.

use crate::explore::histogram::Histogram;
use egui::Color32;
use egui_plot::{Bar, BarChart, Legend, Plot, VLine};

/// Size of the plot beside the summary.
pub const WIDTH: f32 = 380.0;
const HEIGHT: f32 = 120.0;

const GENUINE: Color32 = Color32::from_rgb(40, 140, 80);
const IMPOSTOR: Color32 = Color32::from_rgb(200, 80, 60);

/// The histogram with the threshold line at `threshold` (if any).
pub fn ui(ui: &mut egui::Ui, h: &Histogram, threshold: Option<f64>) {
    let bars = |v: &[f64], colour: Color32| -> Vec<Bar> {
        v.iter()
            .enumerate()
            .filter(|(_, f)| **f > 0.0)
            .map(|(k, f)| {
                Bar::new(h.centre(k), *f)
                    .width(h.width)
                    .fill(colour.linear_multiply(0.55))
                    .stroke(egui::Stroke::new(0.5, colour))
            })
            .collect()
    };
    let genuine = BarChart::new(
        format!("genuine ({})", h.genuine_pairs),
        bars(&h.genuine, GENUINE),
    )
    .color(GENUINE);
    let impostor = BarChart::new(
        format!("impostor ({})", h.impostor_pairs),
        bars(&h.impostor, IMPOSTOR),
    )
    .color(IMPOSTOR);
    let line = ui.visuals().strong_text_color();
    let top = h
        .genuine
        .iter()
        .chain(&h.impostor)
        .fold(0.0f64, |m, v| m.max(*v));
    Plot::new("explorer-histogram")
        .width(WIDTH)
        .height(HEIGHT)
        .legend(Legend::default())
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_y(false)
        .include_y(0.0)
        // Headroom above the tallest bar for the legend.
        .include_y(top * 1.6)
        .x_axis_label("similarity (bars: share of each class's pairs)")
        .show(ui, |p| {
            p.add(impostor);
            p.add(genuine);
            if let Some(t) = threshold {
                p.add(
                    VLine::new(format!("threshold {t:.3}"), t)
                        .color(line)
                        .width(1.5),
                );
            }
        })
        .response
        .on_hover_text(
            "Similarity of the genuine and the impostor pairs; the line is the threshold in force",
        );
}
