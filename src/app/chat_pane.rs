//! The chat pane (Pixels-to-Words §2.3): question/answer history, an input
//! line (Enter sends), the paper's suggested questions, each answer with its
//! confidence and its source sentences, and "Start over" (clears the history;
//! the next question is read without the earlier ones). Questions run on the
//! worker; the pane is disabled until an analysis exists.

use super::{Cx, UiCommand};
use crate::chat::Answer;
use crate::session::Command;
use egui::{Color32, RichText};

pub use crate::chat::SUGGESTED_QUESTIONS as SUGGESTED;

/// The chat pane; it owns the question being typed (the conversation is the session's).
#[derive(Default)]
pub struct ChatPane {
    pub input: String,
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

impl ChatPane {
    /// The pane.
    pub fn ui(&mut self, cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
        let app = cx.session;
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.heading("Ask about this comparison");
            if !app.chat.turns.is_empty()
                && ui
                    .button("Start over")
                    .on_hover_text(
                        "Clear the conversation: the next question is read on its own, \
                         not as a follow-up to the earlier ones",
                    )
                    .clicked()
            {
                out.push(Command::StartOverChat.into());
            }
        });
        let ready = app.current_analysis().is_some();
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
                let edit = egui::TextEdit::singleline(&mut self.input)
                    .hint_text("Type a question and press Enter")
                    .desired_width(ui.available_width() - 48.0);
                let resp = ui.add(edit).labelled_by(label.id);
                let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button("Ask").clicked() || enter) && !self.input.trim().is_empty() {
                    ask = Some(std::mem::take(&mut self.input));
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
            out.push(Command::Ask(q).into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::textures::SlotTextures;
    use crate::session::{Event, Job, JobKind, JobQueue, Session, Settings, Turn};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    /// A job queue that runs nothing.
    struct Idle;

    impl JobQueue for Idle {
        fn start(&mut self) {}
        fn send(&mut self, _: Job) -> u64 {
            1
        }
        fn cancel(&self, _: &[JobKind]) {}
        fn in_flight(&self) -> usize {
            0
        }
        fn poll(&mut self) -> Vec<Event> {
            Vec::new()
        }
    }

    struct State {
        session: Session,
        pane: ChatPane,
    }

    #[test]
    fn start_over_clears_the_conversation() {
        let mut session = Session::new(Box::new(Idle), Settings::default());
        session.chat.turns.push(Turn {
            generation: 1,
            question: "Which region mattered most?".into(),
            answer: Some(Err("no analysis".into())),
        });
        let state = State {
            session,
            pane: ChatPane::default(),
        };
        let mut h = Harness::new_ui_state(
            |ui, s: &mut State| {
                let textures = SlotTextures::default();
                let cx = Cx {
                    session: &s.session,
                    textures: &textures,
                    highlight: None,
                };
                let mut out = Vec::new();
                s.pane.ui(&cx, ui, &mut out);
                for c in out {
                    if let UiCommand::Session(c) = c {
                        s.session.run(c);
                    }
                }
            },
            state,
        );
        h.run();
        h.get_by_label("Which region mattered most?");
        h.get_by_label("Start over").click();
        h.run();
        assert!(h.state().session.chat.turns.is_empty());
        assert!(h.state().session.chat.start_over_pending);
        assert!(
            h.query_by_label("Start over").is_none(),
            "nothing to clear any more"
        );
    }
}
