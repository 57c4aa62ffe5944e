//! The menu bar (File, View, Help), the keyboard shortcuts and the Help windows.

use super::pair_panel::pick_file;
use super::{Cx, UiCommand};
use crate::explain::output::pair_stems;
use crate::session::{Command, Session, Slot};
use egui::{Key, KeyboardShortcut, Modifiers};

const OPEN_PROBE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const OPEN_REFERENCE: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::O);
const EXPLAIN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);

/// The menu bar; it owns which Help windows are open.
#[derive(Default)]
pub struct Windows {
    pub about: bool,
    pub licences: bool,
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
