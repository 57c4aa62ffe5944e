//! The `eframe::App`: owns the app state, the worker handle and the top-level
//! layout (menu bar, pair panel, centre view, status bar).

use super::worker::{Event, Job, ModelInfo, Slot, Worker};
use super::{AppOptions, pair_panel, verdict};
use crate::pipeline::{Comparison, FaceAnalysis, embed::cosine};
use crate::progress::Progress;
use egui::TextureHandle;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What one image slot shows.
#[derive(Default)]
pub struct SlotState {
    /// The file last asked for.
    pub path: Option<PathBuf>,
    /// The last good result (kept when a later load fails).
    pub analysis: Option<Arc<FaceAnalysis>>,
    /// The last problem, shown inline in the slot.
    pub error: Option<String>,
    /// Generation of the job in flight for this slot.
    pub pending: Option<u64>,
    pub thumb: Option<TextureHandle>,
    pub crop: Option<TextureHandle>,
}

/// Settings kept between runs (eframe storage; images are never stored).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// User override of the decision threshold.
    pub threshold_override: Option<f32>,
}

const SETTINGS_KEY: &str = "facexplain-settings";

/// The application.
pub struct FacexplainApp {
    pub worker: Worker,
    pub slots: [SlotState; 2],
    /// Model facts once loaded, or the reason they could not be.
    pub models: Option<Result<ModelInfo, String>>,
    pub settings: Settings,
    /// Progress of the job in flight: (generation, event, started).
    pub progress: Option<(u64, Progress, Instant)>,
    pub opts: AppOptions,
    /// The egui context, known from the first frame on; the worker wakes it.
    repaint: Arc<OnceLock<egui::Context>>,
}

impl FacexplainApp {
    /// Create the app and start its worker (which loads the models off the UI thread).
    pub fn new(storage: Option<&dyn eframe::Storage>, opts: AppOptions) -> Self {
        let repaint: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let cell = repaint.clone();
        let worker = Worker::spawn(move || {
            if let Some(ctx) = cell.get() {
                ctx.request_repaint();
            }
        });
        let settings = storage
            .and_then(|s| eframe::get_value(s, SETTINGS_KEY))
            .unwrap_or_default();
        FacexplainApp {
            worker,
            slots: Default::default(),
            models: None,
            settings,
            progress: None,
            opts,
            repaint,
        }
    }

    /// Open the built-in sample pair if it is installed.
    pub fn open_sample_pair(&mut self) {
        if let Some([a, b]) = super::sample::sample_pair() {
            self.open_files(vec![a, b], None);
        }
    }

    /// Load files as a drop does: two files fill both slots; one file goes
    /// into `target` (the slot it was dropped on), else the first empty slot.
    pub fn open_files(&mut self, paths: Vec<PathBuf>, target: Option<Slot>) {
        match paths.as_slice() {
            [] => {}
            [one] => {
                let slot = target.unwrap_or_else(|| {
                    Slot::BOTH
                        .into_iter()
                        .find(|s| self.slots[s.index()].path.is_none())
                        .unwrap_or(Slot::Probe)
                });
                self.open_in_slot(slot, one.clone());
            }
            [a, b, ..] => {
                self.open_in_slot(Slot::Probe, a.clone());
                self.open_in_slot(Slot::Reference, b.clone());
            }
        }
    }

    /// Load one file into one slot.
    pub fn open_in_slot(&mut self, slot: Slot, path: PathBuf) {
        let generation = self.worker.send(Job::LoadImage {
            slot,
            path: path.clone(),
            face: None,
        });
        let s = &mut self.slots[slot.index()];
        s.path = Some(path);
        s.pending = Some(generation);
    }

    /// Use another detected face of a slot's image.
    pub fn pick_face(&mut self, slot: Slot, face: usize) {
        let Some(a) = self.slots[slot.index()].analysis.clone() else {
            return;
        };
        if a.chosen == face {
            return;
        }
        let detected = Arc::new(crate::pipeline::DetectedImage {
            image: a.image.clone(),
            faces: a.faces.clone(),
        });
        let generation = self.worker.send(Job::PickFace {
            slot,
            detected,
            face,
        });
        self.slots[slot.index()].pending = Some(generation);
    }

    /// Whether any job is still running.
    pub fn busy(&self) -> bool {
        self.slots.iter().any(|s| s.pending.is_some())
    }

    /// The threshold in force and where it comes from.
    pub fn threshold(&self) -> Option<(f32, &'static str)> {
        if let Some(t) = self.settings.threshold_override {
            return Some((t, "user override"));
        }
        match &self.models {
            Some(Ok(m)) => Some((m.default_threshold, "model manifest default")),
            _ => None,
        }
    }

    /// The comparison of the two slots' faces, when both are analysed.
    pub fn comparison(&self) -> Option<Comparison> {
        let (a, b) = (
            self.slots[0].analysis.as_ref()?,
            self.slots[1].analysis.as_ref()?,
        );
        let (t, _) = self.threshold()?;
        Some(Comparison::new(cosine(&a.embedding, &b.embedding), t))
    }

    /// Apply the worker's events to the state (stale generations dropped).
    pub fn poll_worker(&mut self, ctx: &egui::Context) {
        for ev in self.worker.poll() {
            match ev {
                Event::ModelsReady(r) => self.models = Some(r),
                Event::Progress {
                    generation,
                    progress,
                } => {
                    let started = match &self.progress {
                        Some((g, _, t)) if *g == generation => *t,
                        _ => Instant::now(),
                    };
                    self.progress = Some((generation, progress, started));
                }
                Event::SlotDone {
                    generation,
                    slot,
                    result,
                } => {
                    let s = &mut self.slots[slot.index()];
                    if s.pending != Some(generation) {
                        continue; // a newer job for this slot superseded it
                    }
                    s.pending = None;
                    match result {
                        Ok(a) => {
                            let name = format!("{}-{generation}", slot.label());
                            s.thumb = Some(super::textures::upload(
                                ctx,
                                &format!("{name}-thumb"),
                                &a.image.rgb,
                                512,
                            ));
                            s.crop = Some(super::textures::upload(
                                ctx,
                                &format!("{name}-crop"),
                                &a.aligned.crop,
                                0,
                            ));
                            s.analysis = Some(a);
                            s.error = None;
                        }
                        Err(e) => s.error = Some(e),
                    }
                }
                Event::Cancelled { generation } => {
                    for s in &mut self.slots {
                        if s.pending == Some(generation) {
                            s.pending = None;
                        }
                    }
                }
            }
        }
        if !self.busy() {
            self.progress = None;
        }
    }

    fn handle_drops(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            let target = ctx
                .pointer_latest_pos()
                .and_then(|p| pair_panel::slot_at(ctx, p));
            self.open_files(dropped, target);
        }
    }

    /// The whole window's contents (also what the UI tests drive).
    pub fn ui_contents(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.repaint.get_or_init(|| ctx.clone());
        self.poll_worker(&ctx);
        self.handle_drops(&ctx);
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| {
                    for slot in Slot::BOTH {
                        if ui
                            .button(format!("Open {}…", slot.label().to_lowercase()))
                            .clicked()
                        {
                            if let Some(p) = pair_panel::pick_file(slot) {
                                self.open_in_slot(slot, p);
                            }
                        }
                    }
                    if ui.button("Quit").clicked() {
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                });
            });
        });
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("pair")
            .default_size(330.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| pair_panel::ui(self, ui));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            verdict::ui(self, ui);
            ui.separator();
            verdict::aligned_faces(self, ui);
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            match &self.models {
                None => {
                    ui.spinner();
                    ui.label("Loading models…");
                }
                Some(Err(e)) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("Models not loaded: {e}"),
                    );
                }
                Some(Ok(m)) => {
                    ui.label(format!("Model: {}", m.name));
                }
            }
            if let Some((_, p, started)) = &self.progress {
                ui.separator();
                let frac = if p.total > 0 {
                    p.done as f32 / p.total as f32
                } else {
                    0.0
                };
                ui.add(
                    egui::ProgressBar::new(frac)
                        .desired_width(200.0)
                        .text(format!("{} {}/{}", p.stage, p.done, p.total)),
                );
                ui.label(format!("{:.1} s", started.elapsed().as_secs_f32()));
                if ui
                    .button("Cancel")
                    .on_hover_text("Stop the running job (Esc)")
                    .clicked()
                    || ui.input(|i| i.key_pressed(egui::Key::Escape))
                {
                    self.worker.cancel();
                }
            }
        });
    }
}

impl eframe::App for FacexplainApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_contents(ui);
        if self.busy() || self.models.is_none() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}
