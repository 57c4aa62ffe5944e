//! The desktop app (eframe/egui) over a [`Session`]. Each panel draws from a
//! read-only [`Cx`] and emits [`UiCommand`]s, which [`FacexplainApp`] applies
//! in one place after the frame's panels are drawn; a panel with UI state of
//! its own (viewer zoom, chat input, open windows) is a struct that owns it.
//! The [`worker`] owns the background thread and the models.
//!
//! Adding a panel: write `fn ui(cx: &Cx, ui, out: &mut Vec<UiCommand>)` (or a
//! struct with `fn ui(&mut self, cx, ui, out)` if it keeps UI state, stored
//! in [`FacexplainApp`]); read `cx.session`, push `Command::….into()` for any
//! change; call it from `wrap_app::ui_contents`. New state the panel needs
//! goes into `session/` with the command that changes it.
//! May call: `session`, `pipeline`, `quality`, `explain`, `chat`, `record`, `progress`.

pub mod case_pane;
pub mod chat_pane;
pub mod explorer;
pub mod explorer_bench;
pub mod faithfulness;
pub mod frame_drive;
pub mod frame_stats;
pub mod maps;
pub mod menu;
pub mod models;
pub mod pair_panel;
pub mod params;
pub mod quality_badge;
pub mod report_export;
pub mod score_histogram;
pub mod status_bar;
pub mod table;
pub mod textures;
pub mod verdict;
pub mod viewer;
pub mod whatif;
pub mod worker;
pub mod wrap_app;

pub use wrap_app::FacexplainApp;

use crate::explain::regions::Region;
use crate::session::{Command, Session};
use textures::SlotTextures;

/// What every panel reads while drawing (and never changes).
pub struct Cx<'a> {
    pub session: &'a Session,
    /// The slots' thumbnails and aligned crops.
    pub textures: &'a SlotTextures,
    /// The region highlighted in the viewer (from the table).
    pub highlight: Option<Region>,
}

/// A change a panel asks for.
#[derive(Debug)]
pub enum UiCommand {
    /// A change to the session ([`Session::run`]).
    Session(Command),
    /// Highlight a region in the viewer (`None`: no highlight).
    Highlight(Option<Region>),
    /// Panel sizes, the chat pane and the zoom back to their defaults.
    ResetLayout,
}

impl From<Command> for UiCommand {
    fn from(c: Command) -> Self {
        UiCommand::Session(c)
    }
}

/// Options from the command line.
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// Print frame-time statistics to stderr.
    pub frame_stats: bool,
    /// With `frame_stats`: act as an examiner while explaining ([`frame_drive`]).
    pub drive: bool,
}

static LAUNCHED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// When [`run`] was called (for the first-frame time of `--frame-stats`).
pub fn launch_time() -> Option<std::time::Instant> {
    LAUNCHED.get().copied()
}

/// Open the window and run until it is closed.
pub fn run(opts: AppOptions) -> anyhow::Result<()> {
    LAUNCHED.get_or_init(std::time::Instant::now);
    // winit wants a private runtime directory.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        let dir = std::env::temp_dir().join(format!("facexplain-runtime-{}", std::process::id()));
        if std::fs::create_dir_all(&dir).is_ok() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
            }
            // SAFETY: set before any other thread is started.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        }
    }
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("facexplain")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([960.0, 600.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "facexplain",
        native,
        Box::new(move |cc| {
            let mut app = FacexplainApp::new(cc.storage, opts);
            app.open_sample_pair();
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

#[cfg(test)]
mod tests;
