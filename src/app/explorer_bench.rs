//! The frame-time half of `facexplain explore --bench`: the whole window on
//! the explorer page over a large table, scrolled by the mouse wheel one
//! notch a frame, headless (no GPU): each frame's CPU work is building the
//! UI and tessellating it, what eframe counts as a frame's CPU time less
//! the painter's upload, timed by the clock on the UI thread (so at least
//! its CPU time). Percentiles as `--frame-stats` prints them.

use super::frame_stats::percentile;
use super::{AppOptions, FacexplainApp};
use crate::explore::Table;
use crate::explore::bench::FrameTimes;
use crate::session::{Command, ExplorerCommand, Page};
use std::time::{Duration, Instant};

/// The window's size (as the app's UI tests use).
const SIZE: egui::Vec2 = egui::vec2(1280.0, 800.0);
/// Longest wait for the worker to load the models (frames are timed after:
/// the load would compete for the CPU).
const LOAD_LIMIT: Duration = Duration::from_secs(120);

/// Show `table` on the explorer page and scroll it for `frames` frames.
pub fn scroll_frames(table: Table, frames: usize) -> FrameTimes {
    let rows = table.rows.len();
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    let ctx = egui::Context::default();
    let mut time = 0.0;
    let centre = egui::pos2(SIZE.x / 2.0, SIZE.y * 0.7);
    let mut frame = |app: &mut FacexplainApp, events: Vec<egui::Event>| -> f64 {
        time += 1.0 / 60.0;
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, SIZE)),
            time: Some(time),
            predicted_dt: 1.0 / 60.0,
            events,
            ..Default::default()
        };
        let start = Instant::now();
        let mut out = ctx.run_ui(input, |ui| app.ui_contents(ui));
        let primitives = ctx.tessellate(out.shapes, out.pixels_per_point);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        std::hint::black_box(primitives);
        // No painter to upload the font atlas to.
        out.textures_delta.clear();
        ms
    };
    let loading = Instant::now();
    while app.models.is_none() && loading.elapsed() < LOAD_LIMIT {
        frame(&mut app, Vec::new());
        std::thread::sleep(Duration::from_millis(20));
    }
    app.show_table(table);
    app.run(Command::Explorer(ExplorerCommand::ShowPage(Page::Explorer)));
    // The first frames lay the page out and make the font atlas.
    for _ in 0..5 {
        frame(&mut app, vec![egui::Event::PointerMoved(centre)]);
    }
    let wheel = || egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Line,
        delta: egui::vec2(0.0, -3.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    };
    let times: Vec<f64> = (0..frames)
        .map(|_| frame(&mut app, vec![egui::Event::PointerMoved(centre), wheel()]))
        .collect();
    let order = app.explorer.order.len();
    FrameTimes {
        frames,
        p50: percentile(&times, 0.5).unwrap_or(f64::NAN),
        p99: percentile(&times, 0.99).unwrap_or(f64::NAN),
        max: percentile(&times, 1.0).unwrap_or(f64::NAN),
        what: format!(
            "scrolling {rows} pairs ({order} shown), 3 lines a frame, {}×{} window, UI + tessellation by the clock, no GPU",
            SIZE.x, SIZE.y
        ),
    }
}
