//! The menu bar (File, View, Help), the keyboard shortcuts and the Help windows.

use super::pair_panel::pick_file;
use super::{Cx, UiCommand};
use crate::explain::output::pair_stems;
use crate::session::{Command, Session, Slot};
use egui::{Key, KeyboardShortcut, Modifiers};
use std::path::PathBuf;

const OPEN_PROBE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const OPEN_REFERENCE: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::O);
const EXPLAIN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);

/// The menu bar; it owns which Help windows are open and the report's save dialog.
#[derive(Default)]
pub struct Windows {
    pub about: bool,
    pub licences: bool,
    report_dialog: SaveDialog,
}

/// A native save dialog asked on a thread of its own, so the window keeps
/// drawing while it is open; a later frame takes the answer.
#[derive(Default)]
pub struct SaveDialog {
    answer: Option<std::sync::mpsc::Receiver<Option<PathBuf>>>,
}

impl SaveDialog {
    /// Open the dialog (titled `title`, offering `name`, files ending in
    /// `ext`) unless one is open already.
    pub fn ask(
        &mut self,
        ctx: &egui::Context,
        title: &str,
        name: String,
        (what, ext): (&str, &str),
    ) {
        if self.answer.is_some() {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (ctx, title, what, ext) = (
            ctx.clone(),
            title.to_string(),
            what.to_string(),
            ext.to_string(),
        );
        let spawned = std::thread::Builder::new()
            .name("facexplain-save-dialog".into())
            .spawn(move || {
                let chosen = rfd::FileDialog::new()
                    .set_title(title)
                    .set_file_name(name)
                    .add_filter(what, &[ext])
                    .save_file();
                let _ = tx.send(chosen);
                ctx.request_repaint();
            });
        if spawned.is_ok() {
            self.answer = Some(rx);
        }
    }

    /// The file chosen, once the dialog has closed with one.
    pub fn take(&mut self) -> Option<PathBuf> {
        use std::sync::mpsc::TryRecvError;
        match self.answer.as_ref()?.try_recv() {
            Ok(chosen) => {
                self.answer = None;
                chosen
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.answer = None;
                None
            }
        }
    }
}

/// Ctrl+O, Ctrl+Shift+O, Ctrl+E and Esc.
pub fn shortcuts(ctx: &egui::Context, out: &mut Vec<UiCommand>) {
    // The longer combination first: Ctrl+O would also match Ctrl+Shift+O.
    if ctx.input_mut(|i| i.consume_shortcut(&OPEN_REFERENCE)) {
        open_dialog(Slot::Reference, out);
    } else if ctx.input_mut(|i| i.consume_shortcut(&OPEN_PROBE)) {
        open_dialog(Slot::Probe, out);
    }
    if ctx.input_mut(|i| i.consume_shortcut(&EXPLAIN)) {
        out.push(Command::Explain.into());
    }
    if ctx.input(|i| i.key_pressed(Key::Escape)) {
        out.push(Command::Cancel.into());
    }
}

fn open_dialog(slot: Slot, out: &mut Vec<UiCommand>) {
    if let Some(p) = pick_file(slot) {
        out.push(Command::OpenInSlot(slot, p).into());
    }
}

fn with_html_extension(mut p: PathBuf) -> PathBuf {
    if p.extension().is_none() {
        p.set_extension("html");
    }
    p
}

fn export_dialog(session: &Session, out: &mut Vec<UiCommand>) {
    let name = session
        .faces()
        .map(|[a, b]| format!("analysis-{}.json", pair_stems([&a, &b])))
        .unwrap_or_else(|| "analysis.json".into());
    if let Some(p) = rfd::FileDialog::new()
        .set_title("Export analysis JSON")
        .set_file_name(name)
        .add_filter("Analysis JSON", &["json"])
        .save_file()
    {
        out.push(Command::Export(p).into());
    }
}

impl Windows {
    /// The menu bar.
    pub fn menu_ui(&mut self, cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
        let app = cx.session;
        if let Some(p) = self.report_dialog.take() {
            out.push(Command::ExportReport(with_html_extension(p)).into());
        }
        let report_dialog = &mut self.report_dialog;
        let mut settings = app.settings.clone();
        let ctx = ui.ctx().clone();
        egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            for (slot, sc) in [(Slot::Probe, OPEN_PROBE), (Slot::Reference, OPEN_REFERENCE)] {
                let b = egui::Button::new(format!("Open {}…", slot.label().to_lowercase()))
                    .shortcut_text(ctx.format_shortcut(&sc));
                if ui.add(b).clicked() {
                    open_dialog(slot, out);
                }
            }
            if ui
                .add(egui::Button::new("Open sample pair"))
                .on_hover_text("The built-in sample: two photographs of the same person")
                .clicked()
                && let Some([a, b]) = crate::resources::sample_pair()
            {
                out.push(Command::OpenFiles { paths: vec![a, b], target: None }.into());
            }
            super::explorer::menu_items(ui, out);
            ui.separator();
            super::case_pane::file_menu(cx, ui, out);
            ui.separator();
            let can_explain = app.faces().is_some();
            if ui
                .add_enabled(
                    can_explain,
                    egui::Button::new("Explain").shortcut_text(ctx.format_shortcut(&EXPLAIN)),
                )
                .clicked()
            {
                out.push(Command::Explain.into());
            }
            if ui
                .add_enabled(
                    app.current_analysis().is_some(),
                    egui::Button::new("Export analysis JSON…"),
                )
                .on_hover_text("The same file `facexplain compare --json` writes; maps go into a folder beside it")
                .clicked()
            {
                export_dialog(app, out);
            }
            if ui
                .add_enabled(
                    app.current_analysis().is_some() && !app.result_hidden(),
                    egui::Button::new("Export report…"),
                )
                .on_hover_text(
                    "The self-contained printable HTML report `facexplain report` writes (maps go into a \
                     folder beside it); with a case open, its header, notes and audit trail, and the \
                     export is logged in the case",
                )
                .clicked()
            {
                let name = app
                    .faces()
                    .map(|[a, b]| format!("report-{}.html", pair_stems([&a, &b])))
                    .unwrap_or_else(|| "report.html".into());
                report_dialog.ask(&ctx, "Export report", name, ("HTML report", "html"));
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("View", |ui| {
            ui.label("Theme");
            for (t, name) in [
                (egui::ThemePreference::Dark, "Dark"),
                (egui::ThemePreference::Light, "Light"),
                (egui::ThemePreference::System, "Follow the system"),
            ] {
                ui.radio_value(&mut settings.theme, t, name);
            }
            ui.separator();
            ui.checkbox(&mut settings.show_chat, "Chat pane");
            ui.checkbox(&mut settings.auto_explain, "Explain every new pair at once")
                .on_hover_text("Off: press Explain (Ctrl+E) to compute the maps");
            ui.separator();
            let mut overriding = settings.threshold_override.is_some();
            if ui
                .checkbox(&mut overriding, "Override the decision threshold")
                .changed()
            {
                settings.threshold_override =
                    overriding.then(|| app.threshold().map_or(0.363, |(t, _)| t));
            }
            if let Some(t) = &mut settings.threshold_override {
                ui.add(
                    egui::Slider::new(t, -1.0..=1.0)
                        .step_by(0.001)
                        .text("threshold"),
                );
            }
            ui.separator();
            super::models::menu_section(app, ui, out);
            ui.separator();
            if ui.button("Reset layout").clicked() {
                out.push(UiCommand::ResetLayout);
            }
        });
        ui.menu_button("Help", |ui| {
            if ui.button("About facexplain").clicked() {
                self.about = true;
            }
            if ui.button("Model licences").clicked() {
                self.licences = true;
            }
        });
        super::explorer::tabs(cx, ui, out);
    });
        if settings != app.settings {
            out.push(Command::SetSettings(Box::new(settings)).into());
        }
    }

    /// The About and Model licences windows.
    pub fn windows_ui(&mut self, cx: &Cx, ctx: &egui::Context) {
        let app = cx.session;
        egui::Window::new("About facexplain")
        .open(&mut self.about)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.heading(format!(
                "{} {}",
                crate::SOFTWARE_NAME,
                crate::SOFTWARE_VERSION
            ));
            ui.label("Offline face comparison with explanations.");
            ui.label("Similarity and decision: SFace embeddings, cosine similarity.");
            ui.label("Confidence: C-Score (Knoche et al.) and PIC-Score (Neto et al.).");
            ui.label("Maps: X-Maps I–III (Knoche et al.); S0−, S1−, S0+, S1+, AVG (Mery & Morris).");
            ui.label("Chat: Pixels-to-Words (DeAndres-Tame et al.) question answering over the analysis.");
            ui.label("Nothing leaves this computer: no network is used.");
        });
        egui::Window::new("Model licences")
            .open(&mut self.licences)
            .collapsible(false)
            .show(ctx, |ui| match &app.models {
                Some(Ok(m)) => {
                    egui::Grid::new("licences").striped(true).show(ui, |ui| {
                        ui.strong("Model");
                        ui.strong("Licence");
                        ui.strong("Source");
                        ui.end_row();
                        for [_, name, licence, source] in &m.licences {
                            ui.label(name);
                            ui.label(licence);
                            ui.label(source);
                            ui.end_row();
                        }
                    });
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                None => {
                    ui.label("The models are still loading.");
                }
            });
    }
}
