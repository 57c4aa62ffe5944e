//! The `eframe::App`: owns the app state, the worker handle and the top-level
//! layout (menu bar, pair panel, verdict and viewer, table and chat, status
//! bar). Worker events are applied here; stale generations are dropped and a
//! failed job leaves the previous result on screen.

use super::chat_pane::ChatState;
use super::frame_stats::FrameStats;
use super::maps::{MapChoice, Maps, RenderMode};
use super::table::{SaliencyFace, SortColumn, TableKind};
use super::viewer::ViewerState;
use super::worker::{Event, Job, JobKind, ModelInfo, Slot, Worker};
use super::{AppOptions, chat_pane, menu, pair_panel, status_bar, table, verdict, viewer};
use crate::explain::{ExplainParams, Explanation};
use crate::pipeline::{Comparison, FaceAnalysis, ModelRef, embed::cosine};
use crate::progress::Progress;
use crate::record::{Analysis, MapRecord};
use egui::TextureHandle;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// What one image slot shows.
#[derive(Default)]
pub struct SlotState {
    /// The file last asked for.
    pub path: Option<PathBuf>,
    /// The last good result (kept when a later load fails).
    pub analysis: Option<Arc<FaceAnalysis>>,
    /// Generation of the job that produced `analysis`.
    pub loaded: u64,
    /// The last problem, shown inline in the slot.
    pub error: Option<String>,
    /// Generation of the job in flight for this slot.
    pub pending: Option<u64>,
    pub thumb: Option<TextureHandle>,
    pub crop: Option<TextureHandle>,
}

/// What the viewer shows, kept between runs.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    pub map: MapChoice,
    pub mode: RenderMode,
    pub landmarks: bool,
    pub outlines: bool,
    pub labels: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings {
            map: MapChoice::default(),
            mode: RenderMode::default(),
            landmarks: false,
            outlines: true,
            labels: false,
        }
    }
}

/// Settings kept between runs (eframe storage; images are never stored).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Version of these settings (older saved settings are brought up to date on load).
    #[serde(default)]
    pub version: u32,
    /// User override of the decision threshold.
    pub threshold_override: Option<f32>,
    pub theme: egui::ThemePreference,
    pub view: ViewSettings,
    /// Explanation parameters (and the colormaps / opacity the maps are drawn with).
    pub params: ExplainParams,
    /// Explain every new pair at once.
    pub auto_explain: bool,
    pub table: TableKind,
    /// Whose Mery maps the saliency table shows.
    pub saliency_face: SaliencyFace,
    /// Column and direction (true = ascending) the table is sorted by; `None` = the ranking.
    pub sort: Option<(SortColumn, bool)>,
    pub show_chat: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: SETTINGS_VERSION,
            threshold_override: None,
            theme: egui::ThemePreference::Dark,
            view: ViewSettings::default(),
            params: ExplainParams::default(),
            auto_explain: true,
            table: TableKind::default(),
            saliency_face: SaliencyFace::default(),
            sort: None,
            show_chat: true,
        }
    }
}

const SETTINGS_KEY: &str = "facexplain-settings";

/// How often the UI repaints on its own while a job runs (progress events
/// repaint it too, at most every [`super::worker::WAKE_EVERY`]).
const TICK: std::time::Duration = super::worker::WAKE_EVERY;

/// 1: Mery maps of both faces by default (saved settings before it have face A only).
const SETTINGS_VERSION: u32 = 1;

impl Settings {
    /// Settings saved by an older version, brought up to date.
    fn upgraded(mut self) -> Settings {
        if self.version < 1
            && let Some(m) = &mut self.params.mery
            && m.faces == [0]
        {
            m.faces = vec![0, 1];
        }
        self.version = SETTINGS_VERSION;
        self
    }
}

/// The job in flight whose progress the status bar shows.
pub struct ProgressState {
    pub generation: u64,
    pub progress: Progress,
    pub started: Instant,
    /// When the current stage started (for the ETA).
    pub stage_started: Instant,
}

/// The application.
pub struct FacexplainApp {
    pub worker: Worker,
    pub slots: [SlotState; 2],
    /// Model facts once loaded, or the reason they could not be.
    pub models: Option<Result<ModelInfo, String>>,
    pub settings: Settings,
    pub progress: Option<ProgressState>,
    pub opts: AppOptions,
    /// The slot generations of the pair compared and explained now.
    pub pair_key: Option<(u64, u64)>,
    /// The finished explanation of the current pair.
    pub explained: Option<Maps>,
    /// The explanation being computed: (generation, maps so far).
    pub explaining: Option<(u64, Maps)>,
    maps_version: u64,
    /// An image job cancelled the running explanation (resume it if the pair stays).
    resume_explain: bool,
    pub chat: ChatState,
    pub viewer: ViewerState,
    /// The last failure of a job, shown as a banner until dismissed.
    pub banner: Option<String>,
    /// The last export, for the status bar.
    pub notice: Option<String>,
    pub frame_stats: FrameStats,
    /// Which windows of the Help menu are open.
    pub windows: menu::Windows,
    /// The egui context, known from the first frame on; the worker wakes it.
    repaint: Arc<OnceLock<egui::Context>>,
}

impl FacexplainApp {
    /// Create the app and its worker (which loads the models after the first frame).
    pub fn new(storage: Option<&dyn eframe::Storage>, opts: AppOptions) -> Self {
        let repaint: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let cell = repaint.clone();
        let worker = Worker::spawn(move || {
            if let Some(ctx) = cell.get() {
                ctx.request_repaint();
            }
        });
        let settings = storage
            .and_then(|s| eframe::get_value::<Settings>(s, SETTINGS_KEY))
            .map(Settings::upgraded)
            .unwrap_or_default();
        FacexplainApp {
            worker,
            slots: Default::default(),
            models: None,
            settings,
            progress: None,
            frame_stats: FrameStats::new(opts.frame_stats),
            opts,
            pair_key: None,
            explained: None,
            explaining: None,
            maps_version: 0,
            resume_explain: false,
            chat: ChatState::default(),
            viewer: ViewerState::default(),
            banner: None,
            notice: None,
            windows: Default::default(),
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

    /// Stop explaining and answering so an image job does not wait behind
    /// them on the worker; the explanation resumes if the pair stays the same.
    fn interrupt_for_image_job(&mut self) {
        if self.explaining.is_some() {
            self.resume_explain = true;
        }
        self.worker.cancel(&[JobKind::Explain, JobKind::Ask]);
    }

    /// Load one file into one slot.
    pub fn open_in_slot(&mut self, slot: Slot, path: PathBuf) {
        self.interrupt_for_image_job();
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
        self.interrupt_for_image_job();
        let generation = self.worker.send(Job::PickFace {
            slot,
            detected,
            face,
        });
        self.slots[slot.index()].pending = Some(generation);
    }

    /// Whether an image job is still running.
    pub fn busy(&self) -> bool {
        self.slots.iter().any(|s| s.pending.is_some())
    }

    /// Whether an explanation is being computed.
    pub fn explaining(&self) -> bool {
        self.explaining.is_some()
    }

    /// The threshold in force and where it comes from (as `compare` decides it).
    pub fn threshold(&self) -> Option<(f32, String)> {
        if let Some(t) = self.settings.threshold_override {
            return Some((t, "user override".into()));
        }
        match &self.models {
            Some(Ok(m)) => Some(match &m.calibration {
                Ok(c) => (c.threshold(), c.threshold_source()),
                Err(_) => (m.default_threshold, "model manifest default".into()),
            }),
            _ => None,
        }
    }

    /// Both slots' faces, when both are analysed.
    pub fn faces(&self) -> Option<[Arc<FaceAnalysis>; 2]> {
        Some([
            self.slots[0].analysis.clone()?,
            self.slots[1].analysis.clone()?,
        ])
    }

    /// The comparison of the two slots' faces, when both are analysed.
    pub fn comparison(&self) -> Option<Comparison> {
        let [a, b] = self.faces()?;
        let (t, _) = self.threshold()?;
        Some(Comparison::new(cosine(&a.embedding, &b.embedding), t))
    }

    /// The analysis record of the current pair, built as `facexplain compare`
    /// builds it (threshold, calibrated confidence, tables of a finished
    /// explanation; map records without files — [`Self::export_analysis`] writes them).
    pub fn analysis(&self) -> Option<Analysis> {
        let [a, b] = self.faces()?;
        let Some(Ok(m)) = &self.models else {
            return None;
        };
        let (threshold, source) = self.threshold()?;
        let cmp = Comparison::new(cosine(&a.embedding, &b.embedding), threshold);
        let model = ModelRef {
            name: m.name.clone(),
            sha256: m.sha256.clone(),
        };
        let mut an = Analysis::new(model, &a, &b, cmp.similarity, threshold, &source);
        an.confidence = m
            .calibration
            .as_ref()
            .ok()
            .map(|c| c.confidence(cmp.similarity, cmp.decision));
        if let Some(ex) = self.explanation() {
            an.explainability_table = ex.mery_table.clone();
            an.xmap_table = ex.xmap_table.clone();
            let names = ex
                .xmaps
                .iter()
                .flat_map(|x| x.maps.iter().map(|m| (m.name(), m.face)))
                .chain(
                    ex.mery
                        .iter()
                        .flat_map(|s| s.maps.iter().map(|m| (m.name(), m.face))),
                );
            an.maps = names
                .map(|(name, image)| MapRecord {
                    name: name.into(),
                    image,
                    files: Default::default(),
                    sha256: Default::default(),
                })
                .collect();
            an.timings_ms.insert("xmap".into(), ex.xmap_stats.total_ms);
            an.timings_ms.insert("mery".into(), ex.mery_stats.total_ms);
            an.timings_ms.insert("regions".into(), ex.regions_ms);
        }
        Some(an)
    }

    /// The finished explanation of the current pair.
    pub fn explanation(&self) -> Option<&Arc<Explanation>> {
        self.explained.as_ref()?.complete.as_ref()
    }

    /// The maps the viewer shows: those of the running explanation once it
    /// has produced any map, else the finished ones, else the regions so far.
    pub fn shown_maps(&self) -> Option<&Maps> {
        match (&self.explaining, &self.explained) {
            (Some((_, m)), _) if m.xmaps.is_some() || m.mery.is_some() => Some(m),
            (_, Some(done)) => Some(done),
            (Some((_, m)), None) => Some(m),
            (None, None) => None,
        }
    }

    /// Write the analysis JSON to `path` exactly as `compare --json` does; with
    /// a finished explanation the maps go into `explain-<A>-<B>/` beside it.
    pub fn export_analysis(&mut self, path: &Path) -> Result<PathBuf, String> {
        let mut an = self
            .analysis()
            .ok_or("there is no analysis to export yet: load two images")?;
        if let (Some(ex), Some([a, b])) = (self.explanation(), self.faces()) {
            let dir = crate::explain::output::default_dir(Some(path), [&a, &b]);
            // The maps are drawn with the colormaps and opacity in use now.
            let mut ex = (**ex).clone();
            ex.params.render = self.settings.params.render.clone();
            an.maps.clear();
            an.timings_ms.clear();
            crate::explain::output::write(&dir, &ex, &mut an).map_err(|e| e.to_string())?;
        }
        an.write(path).map_err(|e| e.to_string())?;
        self.notice = Some(format!("analysis written to {}", path.display()));
        Ok(path.to_path_buf())
    }

    /// Start explaining the current pair with the parameters in the settings;
    /// a running explanation is cancelled.
    pub fn explain(&mut self) {
        let Some(faces) = self.faces() else {
            return;
        };
        let mut params = self.settings.params.clone();
        if let Err(e) = viewer::validate(&params) {
            self.banner = Some(e);
            return;
        }
        params.render = self.settings.params.render.clone();
        self.worker.cancel(&[JobKind::Explain]);
        let generation = self.worker.send(Job::Explain { faces, params });
        self.explaining = Some((generation, Maps::default()));
    }

    /// Cancel every running job (Esc); the results on screen stay.
    pub fn cancel(&mut self) {
        self.worker.cancel_all();
    }

    /// Ask the chat engine about the current analysis.
    pub fn ask(&mut self, question: &str) {
        let question = question.trim();
        if question.is_empty() {
            return;
        }
        let Some(analysis) = self.analysis() else {
            return;
        };
        let generation = self.worker.send(Job::Ask {
            analysis: Box::new(analysis),
            question: question.into(),
        });
        self.chat.asked(generation, question);
    }

    fn next_version(&mut self) -> u64 {
        self.maps_version += 1;
        self.maps_version
    }

    /// Apply the worker's events to the state (stale generations dropped).
    pub fn poll_worker(&mut self, ctx: &egui::Context) {
        for ev in self.worker.poll() {
            match ev {
                Event::ModelsReady(r) => self.models = Some(r.map(|m| *m)),
                Event::Progress {
                    generation,
                    progress,
                } => {
                    let now = Instant::now();
                    self.progress = Some(match self.progress.take() {
                        Some(p) if p.generation == generation => ProgressState {
                            stage_started: if p.progress.stage == progress.stage {
                                p.stage_started
                            } else {
                                now
                            },
                            progress,
                            ..p
                        },
                        _ => ProgressState {
                            generation,
                            progress,
                            started: now,
                            stage_started: now,
                        },
                    });
                }
                Event::SlotDone {
                    generation,
                    slot,
                    result,
                } => self.slot_done(ctx, generation, slot, result),
                Event::ExplainPartial { generation, part } => {
                    let v = self.next_version();
                    if let Some((g, maps)) = &mut self.explaining
                        && *g == generation
                    {
                        maps.add(part, v);
                    }
                }
                Event::Explained { generation, result } => {
                    if !matches!(&self.explaining, Some((g, _)) if *g == generation) {
                        continue; // superseded
                    }
                    self.explaining = None;
                    match result {
                        Ok(ex) => {
                            let v = self.next_version();
                            self.frame_stats.explanation_finished(
                                ex.regions_ms + ex.xmap_stats.total_ms + ex.mery_stats.total_ms,
                            );
                            self.explained = Some(Maps::finished(ex, v));
                        }
                        Err(e) => self.banner = Some(format!("The explanation failed: {e}")),
                    }
                }
                Event::Answered { generation, result } => {
                    if let Err(e) = &result {
                        self.banner = Some(format!("The chat could not answer: {e}"));
                    }
                    self.chat.answered(generation, result);
                }
                Event::Cancelled { generation } => {
                    for s in &mut self.slots {
                        if s.pending == Some(generation) {
                            s.pending = None;
                        }
                    }
                    if matches!(&self.explaining, Some((g, _)) if *g == generation) {
                        self.explaining = None;
                    }
                    self.chat.cancelled(generation);
                }
            }
        }
        if self.worker.in_flight() == 0 {
            self.progress = None;
        }
        self.update_pair();
    }

    fn slot_done(
        &mut self,
        ctx: &egui::Context,
        generation: u64,
        slot: Slot,
        result: Result<Arc<FaceAnalysis>, String>,
    ) {
        let s = &mut self.slots[slot.index()];
        if s.pending != Some(generation) {
            return; // a newer job for this slot superseded it
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
                s.loaded = generation;
                s.error = None;
            }
            Err(e) => s.error = Some(e),
        }
    }

    /// A new pair (both slots analysed, nothing pending): drop the old
    /// explanation and chat, cancel their jobs, explain the new pair.
    fn update_pair(&mut self) {
        if self.busy() || self.faces().is_none() || !matches!(self.models, Some(Ok(_))) {
            return;
        }
        let key = (self.slots[0].loaded, self.slots[1].loaded);
        if self.pair_key == Some(key) {
            // A failed load interrupted the explanation of this same pair: resume it.
            if self.resume_explain && self.explaining.is_none() {
                self.resume_explain = false;
                self.explain();
            }
            return;
        }
        self.resume_explain = false;
        self.pair_key = Some(key);
        self.worker.cancel(&[JobKind::Explain, JobKind::Ask]);
        self.explained = None;
        self.explaining = None;
        self.viewer.highlight = None;
        self.chat.clear();
        if self.settings.auto_explain {
            self.explain();
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
        self.worker.start();
        ctx.set_theme(self.settings.theme);
        self.poll_worker(&ctx);
        self.handle_drops(&ctx);
        menu::shortcuts(self, &ctx);
        egui::Panel::top("menu").show(ui, |ui| menu::ui(self, ui));
        egui::Panel::bottom("status").show(ui, |ui| status_bar::ui(self, ui));
        egui::Panel::left("pair")
            .resizable(true)
            .default_size(250.0)
            .size_range(220.0..=520.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| pair_panel::ui(self, ui));
            });
        egui::Panel::right("explain-side")
            .resizable(true)
            .default_size(450.0)
            .size_range(320.0..=760.0)
            .show(ui, |ui| {
                if self.settings.show_chat {
                    egui::Panel::bottom("chat")
                        .resizable(true)
                        .default_size(330.0)
                        .size_range(160.0..=700.0)
                        .show(ui, |ui| chat_pane::ui(self, ui));
                }
                egui::CentralPanel::default().show(ui, |ui| table::ui(self, ui));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            status_bar::banner(self, ui);
            verdict::ui(self, ui);
            ui.separator();
            viewer::ui(self, ui);
        });
        menu::windows(self, &ctx);
    }
}

impl eframe::App for FacexplainApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let start = Instant::now();
        self.ui_contents(ui);
        if self.busy() || self.models.is_none() || self.progress.is_some() {
            // The elapsed time and ETA in the status bar tick on.
            ui.ctx().request_repaint_after(TICK);
        }
        let explaining = self.explaining();
        self.frame_stats
            .frame(start.elapsed(), frame.info().cpu_usage, explaining);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}
