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
//! a second while it has unsaved changes, a failed save leaves the previous
//! file whole and says so, and the next start offers the recovery file.

use super::Session;
use super::jobs::{JobKind, Slot};
use crate::record::case::{CASE_SCHEMA, machine_decision_text, now_utc};
use crate::record::{Analysis, Case, CaseParameters, Conclusion, InputFile, ModelFile, Software};
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
}

/// A recovery file: an unsaved case as it stood at its last autosave.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recovery {
    pub schema: String,
    /// The case file it belongs to (`None`: never saved).
    pub path: Option<PathBuf>,
    /// UTC time of the autosave.
    pub saved: String,
    pub body: CaseBody,
    /// The notes the trail had logged (case, A, B).
    pub logged_notes: [String; 3],
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

    /// The user data folder's recovery folder (`~/.local/share/facexplain/recovery`).
    pub fn default_recovery_dir() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("facexplain").join("recovery"))
    }

    /// The recovery file of a case saved at `path`, or of an unsaved case.
    pub fn recovery_path(&self, path: Option<&Path>) -> Option<PathBuf> {
        match path {
            Some(p) => {
                let name = p.file_name()?.to_string_lossy();
                Some(p.with_file_name(format!(".{name}.recovery")))
            }
            None => Some(self.recovery_dir.as_ref()?.join("unsaved.fxcase.recovery")),
        }
    }

    /// Look for a case left unsaved: the unsaved-case file, then those
    /// beside the recent cases; the newest is offered ([`Self::recovery`]).
    pub fn find_recovery(&mut self, recent: &[PathBuf]) {
        let candidates = std::iter::once(self.recovery_path(None))
            .chain(recent.iter().map(|p| self.recovery_path(Some(p))))
            .flatten();
        let mut found: Vec<(std::time::SystemTime, PathBuf, Recovery)> = candidates
            .filter_map(|p| {
                let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
                let r = read_recovery(&p).ok()?;
                Some((modified, p, r))
            })
            .collect();
        found.sort_by_key(|(t, ..)| std::cmp::Reverse(*t));
        self.recovery = found.into_iter().next().map(|(_, p, r)| (p, r));
    }

    /// Whether the open case has changes not yet saved.
    pub fn dirty(&self) -> bool {
        self.open.as_ref().is_some_and(|o| o.dirty)
    }
}

/// Read a recovery file.
pub fn read_recovery(path: &Path) -> Result<Recovery, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let r: Recovery = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a recovery file: {e}", path.display()))?;
    if r.schema != RECOVERY_SCHEMA {
        return Err(format!("{}: schema {:?}", path.display(), r.schema));
    }
    Ok(r)
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

    fn recovery(&self) -> Recovery {
        Recovery {
            schema: RECOVERY_SCHEMA.into(),
            path: self.path.clone(),
            saved: now_utc(),
            body: self.body.clone(),
            logged_notes: self.logged_notes.clone(),
        }
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

/// What changed between the recorded analysis and the one on screen, as an
/// audit action; `None` when nothing the case records changed (an analysis
/// without explanation tables keeps the recorded tables of the same pair).
fn change_of(old: &Analysis, new: &Analysis) -> Option<(&'static str, String)> {
    let image = |a: &Analysis, i: usize| a.images.get(i).map(|r| (r.sha256.clone(), r.face_index));
    for (i, label) in ["A", "B"].iter().enumerate() {
        let (o, n) = (image(old, i), image(new, i));
        if o.as_ref().map(|x| &x.0) != n.as_ref().map(|x| &x.0) {
            let path = new.images.get(i).map_or("", |r| r.path.as_str());
            return Some(("file opened", format!("image {label}: {path}")));
        }
        if o != n {
            let face = n.map_or(0, |x| x.1);
            return Some(("face picked", format!("image {label}: face {face}")));
        }
    }
    if old.threshold != new.threshold || old.threshold_source != new.threshold_source {
        return Some((
            "threshold changed",
            format!(
                "threshold {} ({}) → {} ({})",
                old.threshold, old.threshold_source, new.threshold, new.threshold_source
            ),
        ));
    }
    if old.confidence != new.confidence || old.evidence != new.evidence {
        return Some(("calibration changed", "confidence recomputed".into()));
    }
    let tables = |a: &Analysis| (a.explainability_table.clone(), a.xmap_table.clone());
    let has_tables = new.explainability_table.is_some() || new.xmap_table.is_some();
    if has_tables && tables(old) != tables(new) {
        let maps: Vec<&str> = new.maps.iter().map(|m| m.name.as_str()).collect();
        return Some(("explanation run", format!("maps: {}", maps.join(", "))));
    }
    None
}

impl Session {
    /// Whether the machine's decision, scores, maps, table and chat answers
    /// are hidden (blind mode before the examiner's conclusion).
    pub fn result_hidden(&self) -> bool {
        self.case.open.as_ref().is_some_and(OpenCase::hides_result)
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
                    let _ = std::fs::remove_file(p);
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
        self.case.open = Some(open);
        self.case.message = None;
    }

    /// Close the pair on screen (its jobs cancelled, results and chat dropped).
    fn clear_pair(&mut self) {
        self.jobs
            .cancel(&[JobKind::Image, JobKind::Explain, JobKind::Ask]);
        self.slots = Default::default();
        self.pair_key = None;
        self.explained = None;
        self.explaining = None;
        self.progress = None;
        self.resume_explain = false;
        self.chat.clear();
    }

    /// Before another case replaces the open one: unsaved changes go to its
    /// recovery file (offered at the next start); a saved case's is removed.
    fn set_aside_open_case(&mut self) {
        let Some(o) = &self.case.open else {
            return;
        };
        if o.dirty {
            self.write_recovery();
        } else if let Some(p) = self.case.recovery_path(o.path.as_deref()) {
            let _ = std::fs::remove_file(p);
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
        self.case.message = warning.map(|w| format!("{}: {w}", path.display()));
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
                for p in [old.as_deref(), None, Some(target.as_path())] {
                    if let Some(r) = self.case.recovery_path(p) {
                        let _ = std::fs::remove_file(r);
                    }
                }
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
        self.case.message = None;
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

    fn restore_case(&mut self) {
        let Some((file, r)) = self.case.recovery.take() else {
            return;
        };
        self.set_aside_open_case();
        let mut open = OpenCase::new(r.body, r.path.clone());
        open.logged_notes = r.logged_notes;
        open.commit_notes();
        open.changed();
        if let CaseBody::Record(c) = &open.body
            && let Some(b) = c.check_audit()
        {
            open.read_only = Some(format!(
                "the audit trail is broken at {b}; the case is opened read-only"
            ));
        }
        self.case.message = Some(format!(
            "Restored the case autosaved at {} from {}; save it to keep it",
            r.saved,
            file.display()
        ));
        let is_record = open.record().is_some();
        self.case.open = Some(open);
        if is_record {
            let base = r.path.unwrap_or_else(|| file.clone());
            self.load_originals(&base);
        }
        // The file stays until the case is saved.
        self.write_recovery();
        let own =
            (self.case.open.as_ref()).and_then(|o| self.case.recovery_path(o.path.as_deref()));
        if own.as_ref() != Some(&file) {
            let _ = std::fs::remove_file(file);
        }
    }

    /// Write the open case to its recovery file; the file written, if any.
    fn write_recovery(&mut self) -> Option<PathBuf> {
        let path = self
            .case
            .recovery_path(self.case.open.as_ref()?.path.as_deref())?;
        let o = self.case.open.as_mut()?;
        let text = serde_json::to_string(&o.recovery()).ok()?;
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match crate::record::safe_write::write_atomic(&path, text.as_bytes()) {
            Ok(()) => {
                o.unsaved = false;
                self.case.last_autosave = Some(Instant::now());
                Some(path)
            }
            Err(e) => {
                self.case.message = Some(format!(
                    "Autosave failed: {}: {e} — save the case (Ctrl+S)",
                    path.display()
                ));
                None
            }
        }
    }

    /// Autosave the open case if it changed and the last autosave is at
    /// least [`AUTOSAVE_EVERY`] old. Returns how long until it is due when
    /// a change waits, so the app can wake up for it.
    pub fn autosave_case(&mut self, now: Instant) -> Option<Duration> {
        let o = self.case.open.as_ref()?;
        if !o.unsaved {
            return None;
        }
        let since = self
            .case
            .last_autosave
            .map_or(AUTOSAVE_EVERY, |t| now.saturating_duration_since(t));
        if since < AUTOSAVE_EVERY {
            return Some(AUTOSAVE_EVERY - since);
        }
        self.write_recovery();
        None
    }

    /// Write the recovery file now if the case has changes it lacks (on exit).
    pub fn flush_case_recovery(&mut self) {
        if self.case.open.as_ref().is_some_and(|o| o.unsaved) {
            self.write_recovery();
        }
    }

    /// Follow the pair on screen: a draft becomes the record once two images
    /// are compared; a record takes each changed analysis and logs why
    /// (called whenever the session refreshes).
    pub(super) fn sync_case(&mut self) {
        let Some(o) = &self.case.open else {
            return;
        };
        if o.read_only.is_some() {
            return;
        }
        self.pick_wanted_faces();
        let Some(o) = &self.case.open else {
            return;
        };
        let settled = (0..2)
            .all(|i| self.slots[i].pending.is_none() && self.slots[i].loaded >= o.min_loaded[i])
            && o.want_faces.iter().all(Option::is_none);
        if !settled
            || o.seen_analysis == self.analysis_version
            || self.explaining.is_some()
            || self.busy()
        {
            return;
        }
        let version = self.analysis_version;
        let Some(an) = self.current_analysis().cloned() else {
            return;
        };
        let paths: Vec<String> = (self.slots.iter())
            .map(|s| {
                s.path
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            })
            .collect();
        let models = self.case_models();
        let explain = self.explain_methods();
        let threshold = self.settings.threshold_override;
        let Some(o) = &mut self.case.open else {
            return;
        };
        o.seen_analysis = version;
        o.commit_notes();
        let now = now_utc();
        let (action, details) = match &o.body {
            CaseBody::Draft(d) => (
                "case created",
                format!(
                    "case started at {}{}; compared {} with {}",
                    d.created,
                    if d.header.blind {
                        " in blind mode (ACE-V)"
                    } else {
                        ""
                    },
                    paths[0],
                    paths[1]
                ),
            ),
            CaseBody::Record(c) => match change_of(&c.analysis, &an) {
                Some((a, d)) => (a, d),
                None => return,
            },
        };
        let inputs: Vec<InputFile> = (an.images.iter().zip(&paths).enumerate())
            .map(|(i, (im, path))| InputFile {
                path: path.clone(),
                sha256: im.sha256.clone(),
                file_size: im.file_size,
                width: im.width,
                height: im.height,
                face_index: im.face_index,
                notes: o.logged_notes[i + 1].clone(),
            })
            .collect();
        let parameters = CaseParameters {
            face_a: Some(inputs[0].face_index),
            face_b: Some(inputs[1].face_index),
            threshold,
            threshold_source: an.threshold_source.clone(),
            calibration_path: None,
            calibration: an.confidence.as_ref().map(|c| c.calibration.clone()),
            quality_thresholds: None,
            explain: if an.explainability_table.is_some() || an.xmap_table.is_some() {
                explain
            } else {
                Vec::new()
            },
        };
        let mut hashes = BTreeMap::new();
        for (label, f) in ["A", "B"].iter().zip(&inputs) {
            hashes.insert(format!("input {label}"), f.sha256.clone());
        }
        for m in &models {
            hashes.insert(format!("model {}", m.id), m.sha256.clone());
        }
        if let Some(c) = &parameters.calibration {
            hashes.insert("calibration".into(), c.sha256.clone());
        }
        let machine = Some(Conclusion {
            text: machine_decision_text(&an),
            time: now.clone(),
        });
        let case = match &mut o.body {
            CaseBody::Draft(d) => {
                let d = d.clone();
                o.body = CaseBody::Record(Box::new(Case {
                    schema: CASE_SCHEMA.into(),
                    case_id: d.header.case_id,
                    title: d.header.title,
                    examiner: d.header.examiner,
                    created: d.created,
                    inputs,
                    parameters,
                    software: Software::default(),
                    models,
                    analysis: an,
                    notes: d.notes,
                    conclusion: None,
                    blind: d.header.blind,
                    machine,
                    machine_shown: (!d.header.blind).then(|| now.clone()),
                    audit: Vec::new(),
                }));
                match &mut o.body {
                    CaseBody::Record(c) => c,
                    CaseBody::Draft(_) => return,
                }
            }
            CaseBody::Record(c) => {
                c.inputs = inputs;
                c.parameters = parameters;
                c.models = models;
                c.analysis = an;
                c.machine = machine;
                if c.machine_shown.is_none() && !(c.blind && c.conclusion.is_none()) {
                    c.machine_shown = Some(now.clone());
                }
                c
            }
        };
        case.log(&now, action, &details, hashes);
        o.changed();
    }

    /// Pick the recorded faces of an opened case once its originals are loaded.
    fn pick_wanted_faces(&mut self) {
        for (i, slot) in Slot::BOTH.into_iter().enumerate() {
            let Some(o) = &self.case.open else {
                return;
            };
            let Some(want) = o.want_faces[i] else {
                continue;
            };
            let s = &self.slots[i];
            if s.pending.is_some() || s.loaded < o.min_loaded[i] {
                continue;
            }
            let chosen = s.analysis.as_ref().map(|a| (a.chosen, a.faces.len()));
            if let Some(o) = &mut self.case.open {
                o.want_faces[i] = None;
            }
            if let Some((c, n)) = chosen
                && c != want
                && want < n
            {
                self.pick_face(slot, want);
                if let (Some(o), Some(g)) = (&mut self.case.open, self.slots[i].pending) {
                    o.min_loaded[i] = g;
                }
            }
        }
    }

    /// The face model the analysis used, by name and SHA-256.
    fn case_models(&self) -> Vec<ModelFile> {
        match &self.models {
            Some(Ok(m)) => vec![ModelFile {
                id: "face".into(),
                file: m.name.clone(),
                sha256: m.sha256.clone(),
            }],
            _ => Vec::new(),
        }
    }

    /// The explanation methods the settings run.
    fn explain_methods(&self) -> Vec<String> {
        let p = &self.settings.params;
        [("xmap", p.xmap.is_some()), ("mery", p.mery.is_some())]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| n.to_string())
            .collect()
    }
}
