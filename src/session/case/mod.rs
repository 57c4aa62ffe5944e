//! The examiner's case in the app (issue 15): the open case, its notes and
//! conclusion, blind mode (ACE-V), saving, and autosave with recovery.
//!
//! A new case is a [`Draft`] (header and notes) until two images are
//! compared; from then on it is the [`Case`] record of `record::case`, which
//! follows the pair on screen: every change of file, face, threshold,
//! calibration or explanation, every note and the conclusion is appended to
//! its hash-chained audit trail. Notes change on every keystroke but are
//! logged once an edit is committed (focus leaves the field, a save, or any
//! other logged action), so the trail holds one entry per edit, not per key.
//!
//! Nothing is lost: the open case is autosaved to a recovery file (beside
//! the case, or in the user data folder for a case never saved) at most once
//! a second while it has unsaved changes, by a writer thread of its own (the
//! UI never waits for the disk; the newest state wins), a failed save leaves
//! the previous file whole and says so, and the next start offers the
//! recovery file.

mod follow;
mod recovery;
mod writer;

pub use recovery::{Recovery, read_recovery};

use super::Session;
use super::jobs::{JobKind, ReportCase, Slot};
use crate::record::case::now_utc;
use crate::record::{Case, Conclusion};
use crate::resources::hash::sha256_hex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How many recent cases the File menu lists.
pub const RECENT_CASES: usize = 8;
/// Least time between two autosaves of a changing case.
pub const AUTOSAVE_EVERY: Duration = Duration::from_secs(1);
/// Schema of recovery files.
pub const RECOVERY_SCHEMA: &str = "facexplain.case-recovery/1";

/// What a new case starts with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseHeader {
    /// Empty: `FX-` and 12 hex digits made from the time.
    pub case_id: String,
    pub title: String,
    pub examiner: String,
    /// Blind mode (ACE-V): hide the machine's result until the examiner concludes.
    pub blind: bool,
}

/// A case before its comparison: header and notes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub header: CaseHeader,
    /// UTC time the case was started.
    pub created: String,
    pub notes: String,
    pub image_notes: [String; 2],
}

/// The case's content: a draft until two images are compared, then the record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CaseBody {
    Draft(Draft),
    Record(Box<Case>),
}

/// Which notes: the case's, or one image's (0 = A, 1 = B).
pub type NoteTarget = Option<usize>;

/// The case open in the app.
pub struct OpenCase {
    pub body: CaseBody,
    /// Where it is saved (`None`: never saved).
    pub path: Option<PathBuf>,
    /// Why it must not be changed (a broken audit trail), if so.
    pub read_only: Option<String>,
    /// Changed since it was last saved.
    pub dirty: bool,
    /// Changed since the last autosave.
    unsaved: bool,
    /// The notes as the audit trail last logged them (case, image A, image B).
    logged_notes: [String; 3],
    /// The slot generations the pair must reach before the case follows it
    /// (the originals of an opened case being loaded).
    min_loaded: [u64; 2],
    /// Faces still to pick once an opened case's originals are loaded.
    want_faces: [Option<usize>; 2],
    /// The analysis version the case last followed.
    seen_analysis: u64,
    /// The threshold override in force before the case was opened: a
    /// threshold the case brought or that was set while it was open applies
    /// to the case only, and closing it puts this one back.
    threshold_before: Option<f32>,
}

/// The case part of the session.
#[derive(Default)]
pub struct CaseBook {
    pub open: Option<OpenCase>,
    /// Where unsaved cases are autosaved (`None`: no user data folder).
    pub recovery_dir: Option<PathBuf>,
    /// A recovery file found at start, offered to the examiner: (file, content).
    pub recovery: Option<(PathBuf, Recovery)>,
    /// The last message about the case (saved, save failed, …).
    pub message: Option<String>,
    last_autosave: Option<Instant>,
    /// Writes and removes the recovery files off the UI thread.
    writer: writer::Writer,
    /// The report being written: its job's generation and the id of the
    /// case that logs it once written.
    pub exporting: Option<(u64, Option<String>)>,
}

/// A change to the case.
#[derive(Clone, Debug)]
pub enum CaseCommand {
    /// Start a new case (blind: the pair on screen is closed first).
    New(CaseHeader),
    /// Open a case file and load its originals.
    Open(PathBuf),
    /// Save to this file, or (`None`) where it was saved.
    Save(Option<PathBuf>),
    /// Close the case (unsaved changes stay in the recovery file).
    Close,
    /// Title and examiner.
    SetHeader { title: String, examiner: String },
    /// New text of the case's or an image's notes (logged on commit).
    SetNotes(NoteTarget, String),
    /// Log the notes edited since the last entry.
    CommitNotes,
    /// Record the examiner's own conclusion.
    Conclude(String),
    /// Restore the recovery file found at start.
    Restore,
    /// Delete the recovery file found at start.
    DiscardRecovery,
}

impl CaseBook {
    /// A book autosaving unsaved cases into `recovery_dir`.
    pub fn new(recovery_dir: Option<PathBuf>) -> CaseBook {
        CaseBook {
            recovery_dir,
            ..Default::default()
        }
    }

    /// Whether the open case has changes not yet saved.
    pub fn dirty(&self) -> bool {
        self.open.as_ref().is_some_and(|o| o.dirty)
    }

    /// The open case as a report shows it: the record, and its file named
    /// with the SHA-256 of the case as it stands (the saved file's own when
    /// nothing changed since the save). `None` before the comparison is recorded.
    pub fn report_case(&self) -> Option<ReportCase> {
        let o = self.open.as_ref()?;
        let case = o.record()?.clone();
        let text = serde_json::to_string_pretty(&case).ok()? + "\n";
        let name = match (&o.path, o.dirty) {
            (Some(p), false) => p.display().to_string(),
            (Some(p), true) => format!(
                "{} with changes not saved yet (the case as open in the app)",
                p.display()
            ),
            (None, _) => "not saved yet (the case as open in the app)".into(),
        };
        Some(ReportCase {
            case,
            source: (name, sha256_hex(text.as_bytes())),
        })
    }
}

impl OpenCase {
    fn new(body: CaseBody, path: Option<PathBuf>) -> OpenCase {
        let logged_notes = notes_of(&body);
        OpenCase {
            body,
            path,
            read_only: None,
            dirty: false,
            unsaved: false,
            logged_notes,
            min_loaded: [0, 0],
            want_faces: [None, None],
            seen_analysis: 0,
            threshold_before: None,
        }
    }

    /// The record, once the comparison is recorded.
    pub fn record(&self) -> Option<&Case> {
        match &self.body {
            CaseBody::Record(c) => Some(c),
            CaseBody::Draft(_) => None,
        }
    }

    /// Case id, title, examiner and blind mode.
    pub fn header(&self) -> CaseHeader {
        match &self.body {
            CaseBody::Draft(d) => d.header.clone(),
            CaseBody::Record(c) => CaseHeader {
                case_id: c.case_id.clone(),
                title: c.title.clone(),
                examiner: c.examiner.clone(),
                blind: c.blind,
            },
        }
    }

    /// The notes: the case's (`None`) or an image's.
    pub fn notes(&self, target: NoteTarget) -> &str {
        match (&self.body, target) {
            (CaseBody::Draft(d), None) => &d.notes,
            (CaseBody::Draft(d), Some(i)) => &d.image_notes[i.min(1)],
            (CaseBody::Record(c), None) => &c.notes,
            (CaseBody::Record(c), Some(i)) => c.inputs.get(i).map_or("", |f| &f.notes),
        }
    }

    fn notes_mut(&mut self, target: NoteTarget) -> Option<&mut String> {
        match (&mut self.body, target) {
            (CaseBody::Draft(d), None) => Some(&mut d.notes),
            (CaseBody::Draft(d), Some(i)) => d.image_notes.get_mut(i),
            (CaseBody::Record(c), None) => Some(&mut c.notes),
            (CaseBody::Record(c), Some(i)) => c.inputs.get_mut(i).map(|f| &mut f.notes),
        }
    }

    /// Whether the machine's result is hidden: blind mode before the
    /// examiner's conclusion.
    pub fn hides_result(&self) -> bool {
        match &self.body {
            CaseBody::Draft(d) => d.header.blind,
            CaseBody::Record(c) => c.blind && c.conclusion.is_none(),
        }
    }

    fn changed(&mut self) {
        self.dirty = true;
        self.unsaved = true;
    }

    /// Log the notes edited since the last entry, one entry per field.
    fn commit_notes(&mut self) {
        let now = notes_of(&self.body);
        let CaseBody::Record(case) = &mut self.body else {
            return;
        };
        for (i, what) in ["case note", "note on image A", "note on image B"]
            .iter()
            .enumerate()
        {
            if now[i] != self.logged_notes[i] {
                case.log(
                    &now_utc(),
                    "note edited",
                    &format!("{what}: {}", now[i]),
                    BTreeMap::new(),
                );
            }
        }
        self.logged_notes = now;
    }
}

fn notes_of(body: &CaseBody) -> [String; 3] {
    match body {
        CaseBody::Draft(d) => [
            d.notes.clone(),
            d.image_notes[0].clone(),
            d.image_notes[1].clone(),
        ],
        CaseBody::Record(c) => [
            c.notes.clone(),
            c.inputs.first().map_or(String::new(), |f| f.notes.clone()),
            c.inputs.get(1).map_or(String::new(), |f| f.notes.clone()),
        ],
    }
}

/// A new case id: `FX-` and 12 hex digits of the time and process.
fn new_case_id(created: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{created}|{nanos}|{}", std::process::id());
    let hex = crate::resources::hash::sha256_hex(seed.as_bytes());
    format!("FX-{}", &hex[..12])
}

impl Session {
    /// Whether the machine's decision, scores, maps, table and chat answers
    /// are hidden (blind mode before the examiner's conclusion).
    pub fn result_hidden(&self) -> bool {
        self.case.open.as_ref().is_some_and(OpenCase::hides_result)
    }

    /// The settings to keep for the next start: those in force, except that
    /// an open case's threshold override stays with the case (the one in
    /// force before it was opened is kept instead).
    pub fn persistent_settings(&self) -> super::Settings {
        let mut settings = self.settings.clone();
        if let Some(o) = &self.case.open {
            settings.threshold_override = o.threshold_before;
        }
        settings
    }

    /// Apply a case command.
    pub fn case_command(&mut self, cmd: CaseCommand) {
        let writable = |s: &mut Session| -> Option<()> {
            let o = s.case.open.as_ref()?;
            if let Some(w) = &o.read_only {
                s.case.message = Some(format!("Not changed: {w}"));
                return None;
            }
            Some(())
        };
        match cmd {
            CaseCommand::New(h) => self.new_case(h),
            CaseCommand::Open(p) => self.open_case(&p),
            CaseCommand::Save(p) => self.save_case(p),
            CaseCommand::Close => self.close_case(),
            CaseCommand::SetHeader { title, examiner } => {
                if writable(self).is_none() {
                    return;
                }
                self.set_header(title, examiner);
            }
            CaseCommand::SetNotes(target, text) => {
                if writable(self).is_none() {
                    return;
                }
                if let Some(o) = &mut self.case.open
                    && let Some(n) = o.notes_mut(target)
                    && *n != text
                {
                    *n = text;
                    o.changed();
                }
            }
            CaseCommand::CommitNotes => {
                if let Some(o) = &mut self.case.open
                    && o.read_only.is_none()
                {
                    o.commit_notes();
                }
            }
            CaseCommand::Conclude(text) => {
                if writable(self).is_none() {
                    return;
                }
                self.conclude(text.trim());
            }
            CaseCommand::Restore => self.restore_case(),
            CaseCommand::DiscardRecovery => {
                if let Some((p, _)) = self.case.recovery.take() {
                    self.case.writer.remove(p);
                    self.case.writer.settle();
                }
            }
        }
    }

    fn new_case(&mut self, mut header: CaseHeader) {
        self.set_aside_open_case();
        let created = now_utc();
        if header.case_id.trim().is_empty() {
            header.case_id = new_case_id(&created);
        }
        if header.blind {
            // The examiner must not have seen the result: start from no pair.
            self.clear_pair();
        }
        let draft = Draft {
            header,
            created,
            notes: String::new(),
            image_notes: Default::default(),
        };
        let mut open = OpenCase::new(CaseBody::Draft(draft), None);
        open.changed();
        open.threshold_before = self.settings.threshold_override;
        self.case.open = Some(open);
    }

    /// Close the pair on screen (its jobs cancelled, results and chat dropped).
    fn clear_pair(&mut self) {
        self.jobs
            .cancel(&[JobKind::Image, JobKind::Explain, JobKind::Ask]);
        self.slots = Default::default();
        self.pair_key = None;
        self.explained = None;
        self.explaining = None;
        self.side_by_side_new_pair();
        self.progress = None;
        self.resume_explain = false;
        self.chat.clear();
    }

    /// Before another case replaces the open one: unsaved changes go to its
    /// recovery file (offered at the next start); a saved case's is removed.
    /// The threshold override in force before the case comes back (the
    /// default, unless the examiner had set one of their own).
    fn set_aside_open_case(&mut self) {
        let Some(o) = &self.case.open else {
            return;
        };
        let id = o.header().case_id;
        self.case.message = None;
        self.settings.threshold_override = o.threshold_before;
        if o.dirty {
            self.case.message = self.write_recovery().map(|p| {
                format!(
                    "Case {id} had unsaved changes: they are kept in {} and offered at the next start",
                    p.display()
                )
            });
        } else if let Some(p) = o.recovery_file(&self.case) {
            self.case.writer.remove(p);
            self.case.writer.settle();
        }
        self.case.open = None;
    }

    fn open_case(&mut self, path: &Path) {
        let opened = match Case::read(path) {
            Ok(o) => o,
            Err(e) => {
                self.case.message = Some(format!("Cannot open the case: {e}"));
                return;
            }
        };
        self.set_aside_open_case();
        let warning = opened.warning();
        let mut open = OpenCase::new(CaseBody::Record(Box::new(opened.case)), Some(path.into()));
        open.read_only = warning.clone();
        open.threshold_before = self.settings.threshold_override;
        if let Some(w) = warning {
            self.case.message = Some(format!("{}: {w}", path.display()));
        }
        self.remember_recent(path);
        self.case.open = Some(open);
        self.load_originals(path);
    }

    /// Load the open case's originals into the slots (as given, else beside
    /// the case file), with its threshold; the case follows the slots again
    /// once both are loaded and its faces picked.
    fn load_originals(&mut self, case_path: &Path) {
        let Some(case) = self.case.open.as_ref().and_then(|o| o.record()).cloned() else {
            return;
        };
        self.settings.threshold_override = case.parameters.threshold;
        let mut gens = [u64::MAX, u64::MAX];
        let mut missing = Vec::new();
        for (i, (slot, f)) in Slot::BOTH.into_iter().zip(&case.inputs).enumerate() {
            let given = PathBuf::from(&f.path);
            let beside = case_path.parent().map(|d| d.join(&given));
            let found = if given.is_file() {
                Some(given)
            } else {
                beside.filter(|b| given.is_relative() && b.is_file())
            };
            match found {
                Some(p) => {
                    self.open_in_slot(slot, p);
                    gens[i] = self.slots[i].pending.unwrap_or(u64::MAX);
                }
                None => missing.push(format!("original {} is missing: {}", slot.label(), f.path)),
            }
        }
        if let Some(o) = &mut self.case.open {
            o.min_loaded = gens;
            o.want_faces = [
                Some(case.inputs[0].face_index),
                Some(case.inputs[1].face_index),
            ];
            o.seen_analysis = self.analysis_version;
        }
        if !missing.is_empty() {
            self.case.message = Some(format!(
                "{}; the case keeps its recorded analysis",
                missing.join("; ")
            ));
        }
    }

    fn remember_recent(&mut self, path: &Path) {
        let p = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let recent = &mut self.settings.recent_cases;
        recent.retain(|r| *r != p);
        recent.insert(0, p);
        recent.truncate(RECENT_CASES);
    }

    fn save_case(&mut self, to: Option<PathBuf>) {
        let Some(o) = &mut self.case.open else {
            return;
        };
        if o.read_only.is_none() {
            o.commit_notes();
        }
        let Some(target) = to.or_else(|| o.path.clone()) else {
            self.case.message = Some("Choose where to save the case (Save case as…)".into());
            return;
        };
        let CaseBody::Record(case) = &o.body else {
            self.case.message = Some(
                "A case records one comparison: load two images before saving it \
                 (your notes are autosaved meanwhile)"
                    .into(),
            );
            return;
        };
        if o.read_only.is_some() && o.path.as_deref() == Some(target.as_path()) {
            self.case.message = Some("The case is read-only: its file is left as it is".into());
            return;
        }
        match case.write(&target) {
            Ok(()) => {
                let old = o.path.replace(target.clone());
                o.dirty = false;
                o.unsaved = false;
                let id = case.case_id.clone();
                for p in [old.as_deref(), None, Some(target.as_path())] {
                    if let Some(r) = self.case.recovery_path(p, &id) {
                        self.case.writer.remove(r);
                    }
                }
                self.case.writer.settle();
                self.case.message = Some(format!("Case saved to {}", target.display()));
                self.remember_recent(&target);
            }
            Err(e) => {
                let kept = self.write_recovery();
                self.case.message = Some(format!(
                    "Save failed: {e}. The previous file is unchanged{}",
                    kept.map_or(String::new(), |p| format!(
                        "; the case is kept in {}",
                        p.display()
                    ))
                ));
            }
        }
    }

    fn close_case(&mut self) {
        self.set_aside_open_case();
    }

    fn set_header(&mut self, title: String, examiner: String) {
        let Some(o) = &mut self.case.open else {
            return;
        };
        let old = o.header();
        if old.title == title && old.examiner == examiner {
            return;
        }
        match &mut o.body {
            CaseBody::Draft(d) => {
                d.header.title = title;
                d.header.examiner = examiner;
            }
            CaseBody::Record(c) => {
                c.title = title.clone();
                c.examiner = examiner.clone();
                c.log(
                    &now_utc(),
                    "case details edited",
                    &format!("title: {title}; examiner: {examiner}"),
                    BTreeMap::new(),
                );
            }
        }
        o.changed();
    }

    /// A report was written (or not): say so and, when the case it was
    /// made for is still open and writable, log "report exported" with the
    /// report's SHA-256, as `facexplain report --case` does.
    pub(crate) fn report_exported(
        &mut self,
        generation: u64,
        result: Result<(PathBuf, String), String>,
    ) {
        let for_case = match self.case.exporting.take_if(|(g, _)| *g == generation) {
            Some((_, id)) => id,
            None => return, // superseded by a later export
        };
        let (path, sha) = match result {
            Ok(r) => r,
            Err(e) => {
                self.notice = None;
                self.banner = Some(format!("Report not written: {e}"));
                return;
            }
        };
        self.notice = Some(format!("report written to {}", path.display()));
        let Some(id) = for_case else {
            return;
        };
        let Some(o) = self.case.open.as_mut().filter(|o| o.header().case_id == id) else {
            self.case.message = Some(format!(
                "Report written to {}; case {id} was closed meanwhile, so its trail does not log it",
                path.display()
            ));
            return;
        };
        if let Some(w) = &o.read_only {
            self.case.message = Some(format!(
                "Report written to {}; not logged in the case: {w}",
                path.display()
            ));
            return;
        }
        o.commit_notes();
        let CaseBody::Record(case) = &mut o.body else {
            return;
        };
        let details = format!("HTML report written to {}", path.display());
        case.log(
            &now_utc(),
            "report exported",
            &details,
            [("report".to_string(), sha)].into(),
        );
        o.changed();
        self.case.message = Some(format!(
            "Report written to {}; the export is logged in the case's audit trail",
            path.display()
        ));
    }

    fn conclude(&mut self, text: &str) {
        let Some(o) = &mut self.case.open else {
            return;
        };
        if text.is_empty() {
            self.case.message = Some("Write the conclusion first".into());
            return;
        }
        o.commit_notes();
        let CaseBody::Record(case) = &mut o.body else {
            self.case.message =
                Some("Load and compare the two images before recording a conclusion".into());
            return;
        };
        let time = now_utc();
        let mut action = match &case.conclusion {
            Some(old) => format!("conclusion changed (was {:?} at {})", old.text, old.time),
            None => "examiner's conclusion recorded".into(),
        };
        let mut details = text.to_string();
        if case.blind && case.machine_shown.is_none() {
            case.machine_shown = Some(time.clone());
            action.push_str("; blind mode: the machine's result is shown from now on");
            if let Some(m) = &case.machine {
                details.push_str(&format!(" — machine, hidden until now: {}", m.text));
            }
        }
        case.conclusion = Some(Conclusion {
            text: text.into(),
            time: time.clone(),
        });
        case.log(&time, &action, &details, BTreeMap::new());
        o.changed();
    }
}
