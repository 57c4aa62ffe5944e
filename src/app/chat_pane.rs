//! The chat pane (Pixels-to-Words §2.3): question/answer history, an input
//! line (Enter sends), the paper's suggested questions, each answer with its
//! confidence and its source sentences. Questions run on the worker; the pane
//! is disabled until an analysis exists.

use super::wrap_app::FacexplainApp;
use crate::chat::Answer;
use egui::{Color32, RichText};

pub use crate::chat::SUGGESTED_QUESTIONS as SUGGESTED;

/// One question and its answer (once it has arrived).
pub struct Turn {
    pub generation: u64,
    pub question: String,
    pub answer: Option<Result<Answer, String>>,
}

/// The conversation about the current pair.
#[derive(Default)]
pub struct ChatState {
    pub turns: Vec<Turn>,
    pub input: String,
}

impl ChatState {
    pub fn asked(&mut self, generation: u64, question: &str) {
        self.turns.push(Turn {
            generation,
            question: question.into(),
            answer: None,
        });
    }

    pub fn answered(&mut self, generation: u64, result: Result<Answer, String>) {
        if let Some(t) = self.turns.iter_mut().find(|t| t.generation == generation) {
            t.answer = Some(result);
        }
    }

    pub fn cancelled(&mut self, generation: u64) {
        if let Some(t) = self
            .turns
            .iter_mut()
            .find(|t| t.generation == generation && t.answer.is_none())
        {
            t.answer = Some(Err("cancelled".into()));
        }
    }

    /// A new pair: the conversation was about the old one.
    pub fn clear(&mut self) {
        self.turns.clear();
    }

    pub fn waiting(&self) -> bool {
        self.turns.iter().any(|t| t.answer.is_none())
    }
}

fn bubble(ui: &mut egui::Ui, fill: Color32, right: bool, add: impl FnOnce(&mut egui::Ui)) {
    let layout = if right {
        egui::Layout::right_to_left(egui::Align::Min)
    } else {
        egui::Layout::left_to_right(egui::Align::Min)
    };
    ui.with_layout(layout, |ui| {
        egui::Frame::new()
            .fill(fill)
            .corner_radius(6.0)
            .inner_margin(egui::Margin::symmetric(8, 5))
            .show(ui, |ui| {
                ui.set_max_width(ui.available_width() * 0.85);
                ui.with_layout(egui::Layout::top_down(egui::Align::Min), add);
            });
    });
}

fn answer_ui(ui: &mut egui::Ui, i: usize, a: &Option<Result<Answer, String>>) {
    match a {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak("thinking…");
            });
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        Some(Ok(ans)) => {
            ui.label(&ans.text);
            ui.label(
                RichText::new(format!(
                    "confidence {:.0} % · {}",
                    ans.confidence * 100.0,
                    ans.path.as_str()
                ))
                .small()
                .weak(),
            )
            .on_hover_text("How sure the chat is of this answer, and how it was found");
            if !ans.sources.is_empty() {
                egui::CollapsingHeader::new(RichText::new("Source").small())
                    .id_salt(("source", i))
                    .show(ui, |ui| {
                        for s in &ans.sources {
                            ui.label(RichText::new(s).small().italics());
                        }
                    });
            }
        }
    }
}

/// The pane.
pub fn ui(app: &mut FacexplainApp, ui: &mut egui::Ui) {
    ui.add_space(4.0);
    ui.heading("Ask about this comparison");
    let ready = app.analysis().is_some();
    if !ready {
        ui.weak("The chat opens once both images are compared.");
    }
    let mut ask: Option<String> = None;
    ui.add_enabled_ui(ready, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = egui::vec2(4.0, 4.0);
            let has_xmaps = app.explanation().is_some_and(|e| e.xmap_table.is_some());
            for q in crate::chat::suggestions(has_xmaps) {
                let why = if SUGGESTED.contains(&q) {
                    "Ask this question (Pixels-to-Words question types)"
                } else {
                    "Ask this question (answered from the X-Map table)"
                };
                if ui
                    .add(egui::Button::new(RichText::new(q).small()))
                    .on_hover_text(why)
                    .clicked()
                {
                    ask = Some(q.to_string());
                }
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Question:");
            let edit = egui::TextEdit::singleline(&mut app.chat.input)
                .hint_text("Type a question and press Enter")
                .desired_width(ui.available_width() - 48.0);
            let resp = ui.add(edit).labelled_by(label.id);
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Ask").clicked() || enter) && !app.chat.input.trim().is_empty() {
                ask = Some(std::mem::take(&mut app.chat.input));
                resp.request_focus();
            }
        });
    });
    ui.separator();
    let (q_fill, a_fill) = if ui.visuals().dark_mode {
        (
            Color32::from_rgb(40, 70, 110),
            Color32::from_rgb(48, 48, 52),
        )
    } else {
        (
            Color32::from_rgb(200, 220, 245),
            Color32::from_rgb(232, 232, 236),
        )
    };
    egui::ScrollArea::vertical()
        .stick_to_bottom(true)
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (i, t) in app.chat.turns.iter().enumerate() {
                bubble(ui, q_fill, true, |ui| {
                    ui.label(&t.question);
                });
                ui.add_space(2.0);
                bubble(ui, a_fill, false, |ui| answer_ui(ui, i, &t.answer));
                ui.add_space(6.0);
            }
        });
    if let Some(q) = ask {
        app.ask(&q);
    }
}
