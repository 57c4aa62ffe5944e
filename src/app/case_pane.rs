//! The case pane (issue 15): the open case's header, examiner, notes (the
//! case's and each image's), the examiner's conclusion beside the machine's
//! decision with their times, and the audit trail; the File menu's case
//! entries (New, Open, Save Ctrl+S, Save as, recent cases, Close); the New
//! case and recovery windows; and what blind mode (ACE-V) shows instead of
//! the result. It draws the session's case and emits [`CaseCommand`]s.

use super::{Cx, UiCommand};
use crate::session::case::{CaseBody, OpenCase};
use crate::session::{CaseCommand, CaseHeader, Command, Session};
use egui::{Key, KeyboardShortcut, Modifiers, RichText};
use std::path::PathBuf;

const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
/// egui memory flag: the File menu asked for the New case window.
const NEW_CASE_FLAG: &str = "facexplain-new-case";

/// UI state of the case pane and its windows.
#[derive(Default)]
pub struct CasePane {
    /// The New case window's fields, while it is open.
    pub new_case: Option<CaseHeader>,
    /// Title and examiner being edited (committed when focus leaves).
    header_edit: Option<(String, String)>,
    /// The conclusion being written.
    pub conclusion: String,
    /// The recovery question was put off for this run.
    recovery_later: bool,
}

fn case_command(c: CaseCommand) -> UiCommand {
    Command::Case(c).into()
}

fn with_extension(mut p: PathBuf) -> PathBuf {
    if p.extension().is_none() {
        p.set_extension("fxcase");
    }
    p
}

/// Ask where to save the case.
fn save_as_dialog(session: &Session, out: &mut Vec<UiCommand>) {
    let name = session
        .case
        .open
        .as_ref()
        .map_or("case".into(), |o| o.header().case_id);
    if let Some(p) = rfd::FileDialog::new()
        .set_title("Save case")
        .set_file_name(format!("{name}.fxcase"))
        .add_filter("facexplain case", &["fxcase"])
        .save_file()
    {
        out.push(case_command(CaseCommand::Save(Some(with_extension(p)))));
    }
}

/// Save where the case was saved, else ask where.
fn save(session: &Session, out: &mut Vec<UiCommand>) {
    match session.case.open.as_ref().map(|o| o.path.is_some()) {
        Some(true) => out.push(case_command(CaseCommand::Save(None))),
        Some(false) => save_as_dialog(session, out),
        None => {}
    }
}

/// Ctrl+S.
pub fn shortcuts(ctx: &egui::Context, session: &Session, out: &mut Vec<UiCommand>) {
    if ctx.input_mut(|i| i.consume_shortcut(&SAVE)) {
        save(session, out);
    }
}

/// The File menu's case entries.
pub fn file_menu(cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let app = cx.session;
    if ui.button("New case…").clicked() {
        ui.ctx()
            .data_mut(|d| d.insert_temp(egui::Id::unique(NEW_CASE_FLAG), true));
    }
    if ui.button("Open case…").clicked()
        && let Some(p) = rfd::FileDialog::new()
            .set_title("Open case")
            .add_filter("facexplain case", &["fxcase"])
            .pick_file()
    {
        out.push(case_command(CaseCommand::Open(p)));
    }
    ui.menu_button("Recent cases", |ui| {
        if app.settings.recent_cases.is_empty() {
            ui.weak("None yet");
        }
        for p in &app.settings.recent_cases {
            let name = p.file_name().map_or(p.display().to_string(), |n| {
                n.to_string_lossy().into_owned()
            });
            if ui
                .button(name)
                .on_hover_text(p.display().to_string())
                .clicked()
            {
                out.push(case_command(CaseCommand::Open(p.clone())));
            }
        }
    });
    let open = app.case.open.is_some();
    let shortcut = ui.ctx().format_shortcut(&SAVE);
    if ui
        .add_enabled(open, egui::Button::new("Save case").shortcut_text(shortcut))
        .clicked()
    {
        save(app, out);
    }
    if ui
        .add_enabled(open, egui::Button::new("Save case as…"))
        .clicked()
    {
        save_as_dialog(app, out);
    }
    if ui
        .add_enabled(open, egui::Button::new("Close case"))
        .clicked()
    {
        out.push(case_command(CaseCommand::Close));
    }
}

/// What the verdict header shows in blind mode.
pub fn blind_notice(ui: &mut egui::Ui) {
    ui.heading("Blind mode (ACE-V): the machine's result is hidden");
    ui.label(
        "Compare the faces and record your own conclusion in the case pane; the decision, \
         scores, likelihood ratio, maps, table and chat answers appear once it is recorded.",
    );
}

/// The central area in blind mode: the two aligned faces, no maps.
pub fn blind_view(cx: &Cx, ui: &mut egui::Ui) {
    let side = ((ui.available_width() - 24.0) / 2.0).clamp(112.0, 420.0);
    ui.horizontal(|ui| {
        for (i, label) in ["Face A", "Face B"].iter().enumerate() {
            ui.vertical(|ui| {
                ui.label(*label);
                match cx.textures.crop(i) {
                    Some(t) => {
                        ui.add(egui::Image::new(t).fit_to_exact_size(egui::vec2(side, side)));
                    }
                    None => {
                        ui.weak("not loaded");
                    }
                }
            });
        }
    });
}

/// What the table and chat side shows in blind mode.
pub fn blind_side(ui: &mut egui::Ui) {
    ui.add_space(8.0);
    ui.weak(
        "Blind mode: the explainability table and the chat open once your conclusion is recorded.",
    );
}

impl CasePane {
    /// The pane (drawn when a case is open).
    pub fn ui(&mut self, cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
        let app = cx.session;
        let Some(o) = &app.case.open else {
            return;
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.header_ui(app, o, ui, out);
            ui.separator();
            notes_ui(o, ui, out);
            ui.separator();
            self.conclusion_ui(app, o, ui, out);
            if let Some(c) = o.record() {
                audit_ui(c, o, ui);
            }
        });
    }

    fn header_ui(
        &mut self,
        app: &Session,
        o: &OpenCase,
        ui: &mut egui::Ui,
        out: &mut Vec<UiCommand>,
    ) {
        let h = o.header();
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Case {}", h.case_id));
            if h.blind {
                ui.label(RichText::new("BLIND (ACE-V)").strong())
                    .on_hover_text(
                        "The machine's result is hidden until your conclusion is recorded",
                    );
            }
            let state = match (&o.path, o.dirty) {
                (_, _) if o.read_only.is_some() => "read-only".to_string(),
                (None, _) => "not saved yet".to_string(),
                (Some(p), true) => format!("unsaved changes ({})", p.display()),
                (Some(p), false) => format!("saved ({})", p.display()),
            };
            ui.weak(state);
        });
        if let Some(w) = &o.read_only {
            ui.colored_label(ui.visuals().error_fg_color, w);
        }
        if let Some(m) = &app.case.message {
            ui.label(m);
        }
        let editing = self
            .header_edit
            .get_or_insert((h.title.clone(), h.examiner.clone()));
        let mut commit = false;
        ui.horizontal(|ui| {
            let l = ui.label("Title");
            let r = ui.add(egui::TextEdit::singleline(&mut editing.0).desired_width(220.0));
            commit |= r.labelled_by(l.id).lost_focus();
            let l = ui.label("Examiner");
            let r = ui.add(egui::TextEdit::singleline(&mut editing.1).desired_width(160.0));
            commit |= r.labelled_by(l.id).lost_focus();
        });
        let focused = ui.ctx().memory(|m| m.focused().is_some());
        if commit && (editing.0 != h.title || editing.1 != h.examiner) {
            out.push(case_command(CaseCommand::SetHeader {
                title: editing.0.clone(),
                examiner: editing.1.clone(),
            }));
        } else if !focused {
            // Follow the session (another case opened, a restore).
            self.header_edit = Some((h.title, h.examiner));
        }
    }

    fn conclusion_ui(
        &mut self,
        app: &Session,
        o: &OpenCase,
        ui: &mut egui::Ui,
        out: &mut Vec<UiCommand>,
    ) {
        let record = o.record();
        match record.and_then(|c| c.conclusion.as_ref()) {
            Some(k) => {
                ui.label(format!("Examiner's conclusion ({}): {}", k.time, k.text));
            }
            None => {
                ui.weak("Examiner's conclusion: not recorded");
            }
        }
        if !app.result_hidden()
            && let Some(m) = record.and_then(|c| c.machine.as_ref())
        {
            ui.label(format!("Machine's decision ({}): {}", m.time, m.text));
        }
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.conclusion)
                    .hint_text("Your conclusion, e.g. identification / exclusion / inconclusive")
                    .desired_width(360.0),
            );
            let label = if record.is_some_and(|c| c.conclusion.is_some()) {
                "Change conclusion"
            } else {
                "Record conclusion"
            };
            let can =
                record.is_some() && o.read_only.is_none() && !self.conclusion.trim().is_empty();
            if ui
                .add_enabled(can, egui::Button::new(label))
                .on_disabled_hover_text("Compare two images and write your conclusion first")
                .clicked()
            {
                out.push(case_command(CaseCommand::Conclude(std::mem::take(
                    &mut self.conclusion,
                ))));
            }
        });
    }

    /// The New case and recovery windows.
    pub fn windows(&mut self, cx: &Cx, ctx: &egui::Context, out: &mut Vec<UiCommand>) {
        let flag = egui::Id::unique(NEW_CASE_FLAG);
        if ctx
            .data_mut(|d| d.remove_temp::<bool>(flag))
            .unwrap_or(false)
        {
            self.new_case = Some(CaseHeader::default());
        }
        if let Some(h) = &mut self.new_case {
            let mut keep = true;
            let mut create = false;
            egui::Window::new("New case")
                .collapsible(false)
                .resizable(false)
                .show(ctx, |ui| {
                    egui::Grid::new("new-case").show(ui, |ui| {
                        ui.label("Case id");
                        ui.add(egui::TextEdit::singleline(&mut h.case_id).hint_text("automatic"));
                        ui.end_row();
                        ui.label("Title");
                        ui.text_edit_singleline(&mut h.title);
                        ui.end_row();
                        ui.label("Examiner");
                        ui.text_edit_singleline(&mut h.examiner);
                        ui.end_row();
                    });
                    ui.checkbox(&mut h.blind, "Blind mode (ACE-V)").on_hover_text(
                        "Hide the machine's decision, scores, maps, table and chat answers until \
                         you record your own conclusion. The pair on screen is closed: load the \
                         two images after creating the case.",
                    );
                    if !h.blind && cx.session.current_analysis().is_some() {
                        ui.weak("The case records the comparison on screen.");
                    }
                    ui.horizontal(|ui| {
                        create = ui.button("Create").clicked();
                        keep = !ui.button("Cancel").clicked();
                    });
                });
            if create {
                out.push(case_command(CaseCommand::New(h.clone())));
                keep = false;
            }
            if !keep {
                self.new_case = None;
            }
        }
        let Some((file, r)) = &cx.session.case.recovery else {
            return;
        };
        if self.recovery_later {
            return;
        }
        egui::Window::new("A case was not saved: restore?")
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                let (id, title) = match &r.body {
                    CaseBody::Draft(d) => (d.header.case_id.clone(), d.header.title.clone()),
                    CaseBody::Record(c) => (c.case_id.clone(), c.title.clone()),
                };
                ui.label(format!("Case {id} {title}, autosaved at {}", r.saved));
                ui.label(match &r.path {
                    Some(p) => format!("Its file: {}", p.display()),
                    None => "It was never saved.".into(),
                });
                ui.weak(format!("Recovery file: {}", file.display()));
                ui.horizontal(|ui| {
                    if ui.button("Restore").clicked() {
                        out.push(case_command(CaseCommand::Restore));
                    }
                    if ui.button("Discard").clicked() {
                        out.push(case_command(CaseCommand::DiscardRecovery));
                    }
                    if ui.button("Later").clicked() {
                        self.recovery_later = true;
                    }
                });
            });
    }
}

/// The case's and each image's notes (committed to the trail when focus leaves).
fn notes_ui(o: &OpenCase, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let editable = o.read_only.is_none();
    ui.columns(3, |cols| {
        for (col, (target, label)) in cols.iter_mut().zip([
            (None, "Case notes"),
            (Some(0), "Notes on image A"),
            (Some(1), "Notes on image B"),
        ]) {
            let l = col.label(label);
            let mut text = o.notes(target).to_string();
            let r = col
                .add_enabled(
                    editable,
                    egui::TextEdit::multiline(&mut text)
                        .desired_rows(3)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(l.id);
            if r.changed() {
                out.push(case_command(CaseCommand::SetNotes(target, text)));
            }
            if r.lost_focus() {
                out.push(case_command(CaseCommand::CommitNotes));
            }
        }
    });
}

/// The audit trail, newest last, and whether it holds.
fn audit_ui(c: &crate::record::Case, o: &OpenCase, ui: &mut egui::Ui) {
    let status = if o.read_only.is_some() {
        "broken"
    } else {
        "intact"
    };
    egui::CollapsingHeader::new(format!("Audit trail: {} entries, {status}", c.audit.len()))
        .id_salt("audit-trail")
        .show(ui, |ui| {
            egui::Grid::new("audit").striped(true).show(ui, |ui| {
                for e in &c.audit {
                    ui.label(e.seq.to_string());
                    ui.label(&e.time);
                    ui.label(&e.action);
                    ui.label(&e.details);
                    ui.end_row();
                }
            });
        });
}
