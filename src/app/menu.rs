//! The menu bar (File, View, Help), the keyboard shortcuts and the Help windows.

use super::pair_panel::pick_file;
use super::worker::Slot;
use super::wrap_app::FacexplainApp;
use egui::{Key, KeyboardShortcut, Modifiers};

const OPEN_PROBE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const OPEN_REFERENCE: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::O);
const EXPLAIN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);

/// Which Help windows are open.
#[derive(Default)]
pub struct Windows {
    pub about: bool,
    pub licences: bool,
}

/// Ctrl+O, Ctrl+Shift+O, Ctrl+E and Esc.
pub fn shortcuts(app: &mut FacexplainApp, ctx: &egui::Context) {
    // The longer combination first: Ctrl+O would also match Ctrl+Shift+O.
    if ctx.input_mut(|i| i.consume_shortcut(&OPEN_REFERENCE)) {
        open_dialog(app, Slot::Reference);
    } else if ctx.input_mut(|i| i.consume_shortcut(&OPEN_PROBE)) {
        open_dialog(app, Slot::Probe);
    }
    if ctx.input_mut(|i| i.consume_shortcut(&EXPLAIN)) {
        app.explain();
    }
    if ctx.input(|i| i.key_pressed(Key::Escape)) {
        app.cancel();
    }
}

fn open_dialog(app: &mut FacexplainApp, slot: Slot) {
    if let Some(p) = pick_file(slot) {
        app.open_in_slot(slot, p);
    }
}

fn export_dialog(app: &mut FacexplainApp) {
    let name = app
        .faces()
        .map(|[a, b]| {
            let stem = |f: &crate::pipeline::FaceAnalysis| {
                f.image
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            format!("analysis-{}-{}.json", stem(&a), stem(&b))
        })
        .unwrap_or_else(|| "analysis.json".into());
    if let Some(p) = rfd::FileDialog::new()
        .set_title("Export analysis JSON")
        .set_file_name(name)
        .add_filter("Analysis JSON", &["json"])
        .save_file()
        && let Err(e) = app.export_analysis(&p)
    {
        app.banner = Some(format!("Export failed: {e}"));
    }
}

/// The menu bar.
pub fn ui(app: &mut FacexplainApp, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            for (slot, sc) in [(Slot::Probe, OPEN_PROBE), (Slot::Reference, OPEN_REFERENCE)] {
                let b = egui::Button::new(format!("Open {}…", slot.label().to_lowercase()))
                    .shortcut_text(ctx.format_shortcut(&sc));
                if ui.add(b).clicked() {
                    open_dialog(app, slot);
                }
            }
            if ui
                .add(egui::Button::new("Open sample pair"))
                .on_hover_text("The built-in sample: two photographs of the same person")
                .clicked()
            {
                app.open_sample_pair();
            }
            ui.separator();
            let can_explain = app.faces().is_some();
            if ui
                .add_enabled(
                    can_explain,
                    egui::Button::new("Explain").shortcut_text(ctx.format_shortcut(&EXPLAIN)),
                )
                .clicked()
            {
                app.explain();
            }
            if ui
                .add_enabled(
                    app.analysis().is_some(),
                    egui::Button::new("Export analysis JSON…"),
                )
                .on_hover_text("The same file `facexplain compare --json` writes; maps go into a folder beside it")
                .clicked()
            {
                export_dialog(app);
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
                ui.radio_value(&mut app.settings.theme, t, name);
            }
            ui.separator();
            ui.checkbox(&mut app.settings.show_chat, "Chat pane");
            ui.checkbox(&mut app.settings.auto_explain, "Explain every new pair at once")
                .on_hover_text("Off: press Explain (Ctrl+E) to compute the maps");
            ui.separator();
            let mut overriding = app.settings.threshold_override.is_some();
            if ui
                .checkbox(&mut overriding, "Override the decision threshold")
                .changed()
            {
                app.settings.threshold_override =
                    overriding.then(|| app.threshold().map_or(0.363, |(t, _)| t));
            }
            if let Some(t) = &mut app.settings.threshold_override {
                ui.add(
                    egui::Slider::new(t, -1.0..=1.0)
                        .step_by(0.001)
                        .text("threshold"),
                );
            }
            ui.separator();
            if ui.button("Reset layout").clicked() {
                ctx.memory_mut(|m| {
                    m.reset_areas();
                    m.data.clear();
                });
                app.settings.show_chat = true;
                app.viewer.reset_zoom();
            }
        });
        ui.menu_button("Help", |ui| {
            if ui.button("About facexplain").clicked() {
                app.windows.about = true;
            }
            if ui.button("Model licences").clicked() {
                app.windows.licences = true;
            }
        });
    });
}

/// The About and Model licences windows.
pub fn windows(app: &mut FacexplainApp, ctx: &egui::Context) {
    egui::Window::new("About facexplain")
        .open(&mut app.windows.about)
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
        .open(&mut app.windows.licences)
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
