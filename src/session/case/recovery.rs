//! Autosave and recovery of the open case: a recovery file beside the case
//! (hidden, `.<name>.recovery`), or in the user data folder for a case never
//! saved, written at most once every [`AUTOSAVE_EVERY`] while the case has
//! changes it lacks, found at the next start and offered for restoring.
//! Every recovery file is written and removed by the case book's writer
//! thread (`writer`): an autosave only hands it the case's bytes.

use super::{AUTOSAVE_EVERY, CaseBody, CaseBook, OpenCase, RECOVERY_SCHEMA};
use crate::record::case::now_utc;
use crate::session::Session;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

impl CaseBook {
    /// The user data folder's recovery folder (`~/.local/share/facexplain/recovery`).
    pub fn default_recovery_dir() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("facexplain").join("recovery"))
    }

    /// The recovery file of a case saved at `path` (hidden, beside it), or
    /// of the unsaved case `case_id` (in the recovery folder).
    pub fn recovery_path(&self, path: Option<&Path>, case_id: &str) -> Option<PathBuf> {
        match path {
            Some(p) => {
                let name = p.file_name()?.to_string_lossy();
                Some(p.with_file_name(format!(".{name}.recovery")))
            }
            None => {
                let id: String = (case_id.chars())
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    .take(64)
                    .collect();
                Some((self.recovery_dir.as_ref()?).join(format!("unsaved-{id}{UNSAVED_SUFFIX}")))
            }
        }
    }

    /// Look for cases left unsaved: every unsaved case's file in the
    /// recovery folder and those beside the recent cases; the newest is
    /// offered ([`Self::recovery`]), the others at the following starts.
    pub fn find_recovery(&mut self, recent: &[PathBuf]) {
        let unsaved = (self.recovery_dir.iter())
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(UNSAVED_SUFFIX));
        let candidates = unsaved.chain(
            recent
                .iter()
                .filter_map(|p| self.recovery_path(Some(p), "")),
        );
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
}

/// How the recovery files of unsaved cases end.
const UNSAVED_SUFFIX: &str = ".fxcase.recovery";

impl OpenCase {
    /// This case's recovery file.
    pub fn recovery_file(&self, book: &CaseBook) -> Option<PathBuf> {
        book.recovery_path(self.path.as_deref(), &self.header().case_id)
    }

    pub(super) fn recovery(&self) -> Recovery {
        Recovery {
            schema: RECOVERY_SCHEMA.into(),
            path: self.path.clone(),
            saved: now_utc(),
            body: self.body.clone(),
            logged_notes: self.logged_notes.clone(),
        }
    }
}

impl Session {
    pub(super) fn restore_case(&mut self) {
        let Some((file, r)) = self.case.recovery.take() else {
            return;
        };
        self.set_aside_open_case();
        let mut open = OpenCase::new(r.body, r.path.clone());
        open.threshold_before = self.settings.threshold_override;
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
        let own = (self.case.open.as_ref()).and_then(|o| o.recovery_file(&self.case));
        if own.as_ref() != Some(&file) {
            self.case.writer.remove(file);
            self.case.writer.settle();
        }
    }

    /// Hand the open case to the writer for its recovery file; the file.
    fn queue_recovery(&mut self) -> Option<PathBuf> {
        let path = self.case.open.as_ref()?.recovery_file(&self.case)?;
        let o = self.case.open.as_mut()?;
        let text = serde_json::to_string(&o.recovery()).ok()?;
        self.case.writer.write(path.clone(), text.into_bytes());
        o.unsaved = false;
        self.case.last_autosave = Some(Instant::now());
        Some(path)
    }

    /// Say that autosaves failed, and autosave again once due.
    fn autosave_failed(&mut self, failures: Vec<String>) {
        if failures.is_empty() {
            return;
        }
        self.case.message = Some(format!(
            "Autosave failed: {} — save the case (Ctrl+S)",
            failures.join("; ")
        ));
        if let Some(o) = &mut self.case.open {
            o.unsaved = true;
        }
    }

    /// Write the open case to its recovery file now (waiting for the
    /// writer); the file written, if it was.
    pub(super) fn write_recovery(&mut self) -> Option<PathBuf> {
        let path = self.queue_recovery()?;
        let failures = self.case.writer.settle();
        let ok = failures.is_empty();
        self.autosave_failed(failures);
        ok.then_some(path)
    }

    /// Wait until the recovery files handed to the writer are written
    /// (tests, and before the app exits); failures are reported as autosaves'.
    pub fn settle_case_recovery(&mut self) {
        let failures = self.case.writer.settle();
        self.autosave_failed(failures);
    }

    /// Autosave the open case if it changed and the last autosave is at
    /// least [`AUTOSAVE_EVERY`] old: its bytes go to the writer thread, so
    /// the UI thread never waits for the disk. Returns how long until it is
    /// due when a change waits, so the app can wake up for it.
    pub fn autosave_case(&mut self, now: Instant) -> Option<Duration> {
        let failures = self.case.writer.failures();
        self.autosave_failed(failures);
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
        self.queue_recovery();
        None
    }

    /// Write the recovery file now if the case has changes it lacks, and
    /// wait for the writer (on exit).
    pub fn flush_case_recovery(&mut self) {
        if self.case.open.as_ref().is_some_and(|o| o.unsaved) {
            self.queue_recovery();
        }
        self.settle_case_recovery();
    }
}
