//! The `eframe::App`: the [`Session`], the panels that own UI state, and the
//! top-level layout (menu bar, pair panel, verdict and viewer, table and
//! chat, status bar). Each frame: worker events into the session, panels
//! drawn from a read-only [`Cx`], then the commands they emitted applied here.

use super::case_pane::CasePane;
use super::chat_pane::ChatPane;
use super::frame_stats::FrameStats;
use super::textures::SlotTextures;
use super::viewer::ViewerState;
use super::worker::Worker;
use super::{AppOptions, Cx, UiCommand, menu, pair_panel, status_bar, table, verdict};
use crate::session::{Command, Page, Session, Settings, Slot};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

pub use crate::session::{ProgressState, SlotState, ViewSettings};

const SETTINGS_KEY: &str = "facexplain-settings";

/// How often the UI repaints on its own while a job runs (progress events
/// repaint it too, at most every [`super::worker::WAKE_EVERY`]).
const TICK: std::time::Duration = super::worker::WAKE_EVERY;

/// The application. It dereferences to its [`Session`] (state and queries);
/// panels change it only through commands.
pub struct FacexplainApp {
    pub session: Session,
    pub opts: AppOptions,
    pub viewer: ViewerState,
    pub chat_pane: ChatPane,
    /// The case pane and its windows.
    pub case_pane: CasePane,
    /// The menu bar and which of its Help windows are open.
    pub windows: menu::Windows,
    pub frame_stats: FrameStats,
    textures: SlotTextures,
    /// The pair whose highlight and texture caches are current.
    seen_pair: Option<(u64, u64)>,
    /// Version of the last finished explanation counted by the frame statistics.
    seen_explained: u64,
    /// The egui context, known from the first frame on; the worker wakes it.
    repaint: Arc<OnceLock<egui::Context>>,
}

impl std::ops::Deref for FacexplainApp {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl std::ops::DerefMut for FacexplainApp {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.session
    }
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
        let mut session = Session::new(Box::new(worker), settings);
        session.case.find_recovery(&session.settings.recent_cases);
        FacexplainApp {
            session,
            frame_stats: FrameStats::new(opts.frame_stats),
            opts,
            viewer: ViewerState::default(),
            chat_pane: ChatPane::default(),
            case_pane: CasePane::default(),
            windows: Default::default(),
            textures: SlotTextures::default(),
            seen_pair: None,
            seen_explained: 0,
            repaint,
        }
    }

    /// Open the built-in sample pair if it is installed.
    pub fn open_sample_pair(&mut self) {
        if let Some([a, b]) = crate::resources::sample_pair() {
            self.session.run(Command::OpenFiles {
                paths: vec![a, b],
                target: None,
            });
        }
    }

    /// Apply the commands the panels emitted this frame, in order.
    fn apply(&mut self, ctx: &egui::Context, commands: Vec<UiCommand>) {
        for c in commands {
            match c {
                UiCommand::Session(c) => self.session.run(c),
                UiCommand::Highlight(r) => self.viewer.highlight = r,
                UiCommand::ResetLayout => {
                    ctx.memory_mut(|m| {
                        m.reset_areas();
                        m.data.clear();
                    });
                    self.session.settings.show_chat = true;
                    self.viewer.reset_zoom();
                }
            }
        }
    }

    /// Worker events into the session; then what follows from them here.
    fn poll_worker(&mut self, ctx: &egui::Context) {
        self.session.poll();
        if self.session.pair_key != self.seen_pair {
            self.seen_pair = self.session.pair_key;
            self.viewer.highlight = None;
        }
        if let Some(done) = &self.session.explained
            && done.version != self.seen_explained
            && let Some(ex) = &done.complete
        {
            self.seen_explained = done.version;
            self.frame_stats.explanation_finished(
                ex.regions_ms + ex.xmap_stats.total_ms + ex.mery_stats.total_ms,
            );
        }
        self.textures.sync(ctx, &self.session);
    }

    fn dropped_files(ctx: &egui::Context) -> Option<UiCommand> {
        let paths: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if paths.is_empty() {
            return None;
        }
        let target: Option<Slot> = ctx
            .pointer_latest_pos()
            .and_then(|p| pair_panel::slot_at(ctx, p));
        Some(Command::OpenFiles { paths, target }.into())
    }

    /// The whole window's contents (also what the UI tests drive).
    pub fn ui_contents(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.repaint.get_or_init(|| ctx.clone());
        self.session.start();
        ctx.set_theme(self.session.settings.theme);
        let polled = Instant::now();
        self.poll_worker(&ctx);
        self.frame_stats.worker_events(polled.elapsed());
        let mut out: Vec<UiCommand> = Self::dropped_files(&ctx).into_iter().collect();
        menu::shortcuts(&ctx, &mut out);
        super::case_pane::shortcuts(&ctx, &self.session, &mut out);
        let cx = Cx {
            session: &self.session,
            textures: &self.textures,
            highlight: self.viewer.highlight,
        };
        let (viewer, chat, windows) = (&mut self.viewer, &mut self.chat_pane, &mut self.windows);
        let case_pane = &mut self.case_pane;
        let hidden = cx.session.result_hidden();
        egui::Panel::top("menu").show(ui, |ui| windows.menu_ui(&cx, ui, &mut out));
        egui::Panel::bottom("status").show(ui, |ui| status_bar::ui(&cx, ui, &mut out));
        if cx.session.explorer.page == Page::Explorer {
            egui::CentralPanel::default().show(ui, |ui| {
                status_bar::banner(&cx, ui, &mut out);
                super::explorer::ui(&cx, ui, &mut out);
            });
            windows.windows_ui(&cx, &ctx);
            self.apply(&ctx, out);
            return;
        }
        egui::Panel::left("pair")
            .resizable(true)
            .default_size(250.0)
            .size_range(220.0..=520.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| pair_panel::ui(&cx, ui, &mut out));
            });
        egui::Panel::right("explain-side")
            .resizable(true)
            .default_size(450.0)
            .size_range(320.0..=760.0)
            .show(ui, |ui| {
                if hidden {
                    super::case_pane::blind_side(ui);
                    return;
                }
                if cx.session.settings.show_chat {
                    egui::Panel::bottom("chat")
                        .resizable(true)
                        .default_size(330.0)
                        .size_range(160.0..=700.0)
                        .show(ui, |ui| chat.ui(&cx, ui, &mut out));
                }
                egui::CentralPanel::default().show(ui, |ui| table::ui(&cx, ui, &mut out));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if cx.session.case.open.is_some() {
                egui::Panel::bottom("case")
                    .resizable(true)
                    .default_size(230.0)
                    .size_range(120.0..=600.0)
                    .show(ui, |ui| case_pane.ui(&cx, ui, &mut out));
            }
            status_bar::banner(&cx, ui, &mut out);
            verdict::ui(&cx, ui);
            ui.separator();
            if hidden {
                super::case_pane::blind_view(&cx, ui);
            } else {
                viewer.ui(&cx, ui, &mut out);
            }
        });
        windows.windows_ui(&cx, &ctx);
        case_pane.windows(&cx, &ctx, &mut out);
        self.apply(&ctx, out);
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
        if let Some(wait) = self.session.autosave_case(Instant::now()) {
            ui.ctx().request_repaint_after(wait);
        }
        let explaining = self.explaining();
        self.frame_stats
            .frame(start.elapsed(), frame.info().cpu_usage, explaining);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.session.persistent_settings());
        self.session.flush_case_recovery();
    }
}
