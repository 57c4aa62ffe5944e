//! The examiner's case in the session (issue 15): a case follows the pair on
//! screen and logs each change, notes are logged once per edit, a failed save
//! keeps the old file and the case, autosave and recovery bring back unsaved
//! notes, and an opened case loads its originals and keeps its trail. Jobs
//! run synchronously on the real models and images.

mod common;
use common::data;
use facexplain::pipeline::{FaceAnalysis, Pipeline};
use facexplain::record::Case;
use facexplain::session::case::{CaseBody, CaseBook, read_recovery};
use facexplain::session::{
    CaseCommand, CaseHeader, Command, Event, Job, JobKind, JobQueue, ModelInfo, Session, Settings,
    Slot,
};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| Pipeline::load().expect("the models"))
}

/// Runs image jobs at once with the real models, and report exports with
/// the app worker's own code; explanation and chat jobs are never sent
/// (auto-explain is off).
#[derive(Default)]
struct Now {
    next: u64,
    events: Vec<Event>,
}

impl JobQueue for Now {
    fn start(&mut self) {}
    fn send(&mut self, job: Job) -> u64 {
        self.next += 1;
        let p = pipeline();
        if let Job::ExportReport(r) = job {
            self.events.push(Event::ReportExported {
                generation: self.next,
                result: facexplain::app::report_export::write(*r),
            });
            return self.next;
        }
        let (slot, result): (Slot, Result<FaceAnalysis, String>) = match job {
            Job::LoadImage { slot, path, face } => (
                slot,
                p.detect_file(&path)
                    .and_then(|d| p.analyze(d, face))
                    .map_err(|e| e.to_string()),
            ),
            Job::PickFace {
                slot,
                detected,
                face,
            } => (
                slot,
                p.analyze((*detected).clone(), Some(face))
                    .map_err(|e| e.to_string()),
            ),
            other => panic!("unexpected job {:?}", other.kind()),
        };
        self.events.push(Event::SlotDone {
            generation: self.next,
            slot,
            result: result.map(Arc::new),
            quality: None,
        });
        self.next
    }
    fn cancel(&self, _: &[JobKind]) {}
    fn in_flight(&self) -> usize {
        0
    }
    fn poll(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

fn session(recovery: &Path) -> Session {
    let settings = Settings {
        auto_explain: false,
        ..Settings::default()
    };
    let mut s = Session::new(Box::new(Now::default()), settings);
    s.case = CaseBook::new(Some(recovery.to_path_buf()));
    s.apply(Event::ModelsReady(Ok(Box::new(ModelInfo::of(pipeline())))));
    s
}

fn case_cmd(s: &mut Session, c: CaseCommand) {
    s.run(Command::Case(c));
    s.poll();
}

fn open_pair(s: &mut Session, a: &str, b: &str) {
    s.run(Command::OpenFiles {
        paths: vec![data(a), data(b)],
        target: None,
    });
    s.poll();
}

fn record(s: &Session) -> Case {
    s.case
        .open
        .as_ref()
        .and_then(|o| o.record())
        .cloned()
        .expect("a recorded case")
}

fn actions(c: &Case) -> Vec<String> {
    c.audit.iter().map(|e| e.action.clone()).collect()
}

const A: &str = "face_recognition/obama.jpg";
const B: &str = "face_recognition/obama2.jpg";
const C: &str = "face_recognition/biden.jpg";

#[test]
fn a_case_follows_the_pair_logs_each_change_and_survives_a_failed_save() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = session(&tmp.path().join("recovery"));
    open_pair(&mut s, A, B);
    let shown = s.analysis().expect("the pair is compared");
    case_cmd(
        &mut s,
        CaseCommand::New(CaseHeader {
            title: "Obama pair".into(),
            examiner: "E. Xaminer".into(),
            ..Default::default()
        }),
    );
    let c = record(&s);
    assert_eq!(
        c.analysis, shown,
        "the case records the comparison on screen"
    );
    assert!(
        c.case_id.starts_with("FX-") && c.case_id.len() == 15,
        "{}",
        c.case_id
    );
    assert_eq!(c.inputs[0].sha256, shown.images[0].sha256);
    assert!(
        c.machine
            .as_ref()
            .unwrap()
            .text
            .contains(&shown.decision.to_string())
    );
    assert!(c.machine_shown.is_some(), "not blind: the result was shown");

    // Notes: many keystrokes, one entry per committed edit.
    for text in ["N", "No", "Note on the ear"] {
        case_cmd(&mut s, CaseCommand::SetNotes(Some(0), text.into()));
    }
    case_cmd(&mut s, CaseCommand::SetNotes(None, "case note".into()));
    case_cmd(&mut s, CaseCommand::CommitNotes);
    let c = record(&s);
    assert_eq!(c.inputs[0].notes, "Note on the ear");
    let notes: Vec<_> = c
        .audit
        .iter()
        .filter(|e| e.action == "note edited")
        .collect();
    assert_eq!(notes.len(), 2, "{:?}", actions(&c));
    assert!(
        notes
            .iter()
            .any(|e| e.details == "note on image A: Note on the ear")
    );

    // Another image and another threshold are logged with what changed.
    s.run(Command::OpenInSlot(Slot::Reference, data(C)));
    s.poll();
    let mut settings = s.settings.clone();
    settings.threshold_override = Some(0.5);
    s.run(Command::SetSettings(Box::new(settings)));
    s.poll();
    let c = record(&s);
    assert_eq!(
        actions(&c)[1..],
        [
            "note edited",
            "note edited",
            "file opened",
            "threshold changed"
        ]
    );
    assert!(
        c.audit[3].details.ends_with("biden.jpg"),
        "{}",
        c.audit[3].details
    );
    assert_eq!(c.audit[3].hashes["input B"], c.inputs[1].sha256);
    assert_eq!(c.parameters.threshold, Some(0.5));
    assert_eq!(
        c.inputs[0].notes, "Note on the ear",
        "notes stay with their image"
    );
    assert!(c.check_audit().is_none());

    // Save, reopen: every field equal and the trail intact.
    let path = tmp.path().join("one.fxcase");
    case_cmd(&mut s, CaseCommand::Save(Some(path.clone())));
    assert!(s.case.message.as_deref().unwrap().starts_with("Case saved"));
    let read = Case::read(&path).unwrap();
    assert!(read.broken.is_none());
    assert_eq!(read.case, c);
    assert_eq!(
        s.settings.recent_cases[0],
        std::path::absolute(&path).unwrap()
    );

    // A save that fails (its folder is gone) keeps the case, says so, and
    // the notes reach the recovery file.
    case_cmd(
        &mut s,
        CaseCommand::SetNotes(None, "more after saving".into()),
    );
    let gone = tmp.path().join("missing-folder").join("two.fxcase");
    case_cmd(&mut s, CaseCommand::Save(Some(gone.clone())));
    let msg = s.case.message.clone().unwrap();
    assert!(
        msg.starts_with("Save failed:") && msg.contains("previous file is unchanged"),
        "{msg}"
    );
    assert!(!gone.exists());
    assert!(s.case.dirty());
    assert_eq!(
        Case::read(&path).unwrap().case,
        c,
        "the saved file is untouched"
    );
    let rec = s.case.recovery_path(Some(&path), "").unwrap();
    let r = read_recovery(&rec).unwrap();
    let CaseBody::Record(rc) = &r.body else {
        panic!("a record")
    };
    assert_eq!(rc.notes, "more after saving");
}

#[test]
fn unsaved_notes_are_autosaved_and_restored_and_an_opened_case_reloads_its_pair() {
    let tmp = tempfile::tempdir().unwrap();
    let recovery = tmp.path().join("recovery");
    let path = tmp.path().join("case.fxcase");
    let saved = {
        let mut s = session(&recovery);
        open_pair(&mut s, A, C);
        case_cmd(&mut s, CaseCommand::New(CaseHeader::default()));
        case_cmd(&mut s, CaseCommand::Save(Some(path.clone())));
        let saved = record(&s);
        // Typed after saving, never saved: autosave keeps it.
        case_cmd(
            &mut s,
            CaseCommand::SetNotes(None, "seen at the border".into()),
        );
        // The autosave is handed to the writer thread; once it has written
        // the file, the app is killed (nothing flushed on exit).
        assert_eq!(
            s.autosave_case(Instant::now() + Duration::from_secs(5)),
            None
        );
        s.settle_case_recovery();
        assert!(
            s.case
                .message
                .as_deref()
                .is_none_or(|m| !m.contains("Autosave failed"))
        );
        std::mem::forget(s);
        saved
    };
    let mut s = session(&recovery);
    s.settings.recent_cases = vec![path.clone()];
    let recent = s.settings.recent_cases.clone();
    s.case.find_recovery(&recent);
    let (file, r) = s.case.recovery.clone().expect("the recovery file is found");
    assert_eq!(r.path.as_deref(), Some(path.as_path()));
    case_cmd(&mut s, CaseCommand::Restore);
    let c = record(&s);
    assert_eq!(c.notes, "seen at the border");
    assert_eq!(c.audit.last().unwrap().action, "note edited");
    assert!(c.check_audit().is_none());
    // The originals are loaded again and the pair is the recorded one, so
    // nothing but the note is logged.
    assert_eq!(
        s.analysis().unwrap().images[1].sha256,
        saved.inputs[1].sha256
    );
    assert_eq!(record(&s).audit.len(), saved.audit.len() + 1);
    case_cmd(&mut s, CaseCommand::Save(None));
    assert!(
        !file.exists(),
        "the recovery file goes once the case is saved"
    );
    assert_eq!(Case::read(&path).unwrap().case.notes, "seen at the border");

    // A tampered file opens read-only and refuses changes.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("seen at the border", "seen elsewhere")).unwrap();
    case_cmd(&mut s, CaseCommand::Open(path.clone()));
    let o = s.case.open.as_ref().unwrap();
    assert!(o.read_only.as_deref().unwrap().contains("read-only"));
    case_cmd(&mut s, CaseCommand::Conclude("identification".into()));
    assert!(record(&s).conclusion.is_none());
    assert!(
        s.case
            .message
            .as_deref()
            .unwrap()
            .starts_with("Not changed")
    );
}

#[test]
fn blind_mode_hides_the_result_until_the_conclusion_and_keeps_both_with_times() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = session(&tmp.path().join("recovery"));
    open_pair(&mut s, A, B);
    case_cmd(
        &mut s,
        CaseCommand::New(CaseHeader {
            blind: true,
            ..Default::default()
        }),
    );
    assert!(s.analysis().is_none(), "the pair seen before is closed");
    assert!(s.result_hidden());
    open_pair(&mut s, A, B);
    assert!(s.result_hidden());
    let c = record(&s);
    assert!(c.blind && c.machine.is_some() && c.machine_shown.is_none());
    // The chat does not answer and nothing is exported while blind.
    s.run(Command::Ask("what is the similarity?".into()));
    assert!(s.chat.turns.is_empty());
    let err = s.export_analysis(&tmp.path().join("a.json")).unwrap_err();
    assert!(err.contains("blind mode"), "{err}");
    let err = s.export_report(tmp.path().join("r.html")).unwrap_err();
    assert!(err.contains("blind mode"), "{err}");
    case_cmd(&mut s, CaseCommand::Conclude("identification".into()));
    assert!(!s.result_hidden());
    let c = record(&s);
    let k = c.conclusion.clone().unwrap();
    assert_eq!(k.text, "identification");
    assert_eq!(c.machine_shown.as_deref(), Some(k.time.as_str()));
    let last = c.audit.last().unwrap();
    assert!(
        last.action
            .starts_with("examiner's conclusion recorded; blind mode")
    );
    assert!(
        last.details.contains(&c.machine.as_ref().unwrap().text),
        "{}",
        last.details
    );
}

/// File → Export report… through the session: the command sends the job,
/// its event logs "report exported" with the report's SHA-256 in the open
/// case, and the report holds the case's header and notes.
#[test]
fn an_exported_report_is_logged_in_the_open_case_with_its_sha256() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = session(&tmp.path().join("recovery"));
    // Without a case: the report is written and nothing is logged.
    open_pair(&mut s, A, B);
    let plain = tmp.path().join("plain.html");
    s.run(Command::ExportReport(plain.clone()));
    s.poll();
    assert!(s.banner.is_none(), "{:?}", s.banner);
    let html = std::fs::read_to_string(&plain).expect("the report is written");
    assert!(html.contains("obama2.jpg") && !html.contains("Examiner's notes"));

    case_cmd(
        &mut s,
        CaseCommand::New(CaseHeader {
            case_id: "FX-REPORTED".into(),
            title: "Obama pair".into(),
            examiner: "E. Xaminer".into(),
            blind: false,
        }),
    );
    case_cmd(
        &mut s,
        CaseCommand::SetNotes(Some(1), "taken at the border".into()),
    );
    let before = record(&s).audit.len();
    let out = tmp.path().join("reports").join("case.html");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    s.run(Command::ExportReport(out.clone()));
    s.poll();
    let bytes = std::fs::read(&out).expect("the report is written");
    let c = record(&s);
    // The note typed before the export is logged first, then the export.
    assert_eq!(
        actions(&c)[before..],
        ["note edited".to_string(), "report exported".to_string()]
    );
    let last = c.audit.last().unwrap();
    assert_eq!(
        last.hashes["report"],
        facexplain::resources::hash::sha256_hex(&bytes)
    );
    assert!(last.details.contains(&out.display().to_string()));
    assert!(c.check_audit().is_none());
    assert!(s.case.dirty(), "the logged export is a change to save");
    let html = String::from_utf8(bytes).unwrap();
    for text in [
        "FX-REPORTED",
        "Obama pair",
        "E. Xaminer",
        "taken at the border",
    ] {
        assert!(html.contains(text), "the report lacks {text:?}");
    }
    assert!(s.case.message.as_deref().unwrap().contains("logged"));

    // A report that cannot be written says so and logs nothing.
    let n = record(&s).audit.len();
    s.run(Command::ExportReport(
        tmp.path().join("gone").join("r.html"),
    ));
    s.poll();
    assert!(
        s.banner
            .as_deref()
            .unwrap()
            .starts_with("Report not written")
    );
    assert_eq!(record(&s).audit.len(), n);
}

fn set_threshold_override(s: &mut Session, t: Option<f32>) {
    let mut settings = s.settings.clone();
    settings.threshold_override = t;
    s.run(Command::SetSettings(Box::new(settings)));
    s.poll();
}

/// A threshold override that belongs to a case (set while it was open, or
/// brought by the case file) ends with the case: closing it puts back the
/// default, or the examiner's own override from before the case.
#[test]
fn closing_a_case_resets_its_threshold_override() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = session(&tmp.path().join("recovery"));
    open_pair(&mut s, A, B);
    let (default, source) = s.threshold().unwrap();
    assert_ne!(source, "user override");
    case_cmd(&mut s, CaseCommand::New(CaseHeader::default()));
    set_threshold_override(&mut s, Some(0.5));
    assert_eq!(record(&s).parameters.threshold, Some(0.5));
    assert!(actions(&record(&s)).contains(&"threshold changed".to_string()));
    let path = tmp.path().join("t.fxcase");
    case_cmd(&mut s, CaseCommand::Save(Some(path.clone())));
    case_cmd(&mut s, CaseCommand::Close);
    assert_eq!(s.settings.threshold_override, None);
    assert_eq!(s.threshold().unwrap(), (default, source.clone()));
    assert_eq!(s.analysis().unwrap().threshold, default);

    // Opened again, the case brings its override; closed, the default is back.
    case_cmd(&mut s, CaseCommand::Open(path.clone()));
    assert_eq!(s.settings.threshold_override, Some(0.5));
    case_cmd(&mut s, CaseCommand::Close);
    assert_eq!(s.settings.threshold_override, None);

    // The examiner's own override from before the case comes back, also when
    // another case replaces this one.
    set_threshold_override(&mut s, Some(0.3));
    case_cmd(&mut s, CaseCommand::Open(path.clone()));
    assert_eq!(s.settings.threshold_override, Some(0.5));
    // Quit with the case open: the settings kept for the next start carry the
    // examiner's own override, not the case's.
    assert_eq!(s.persistent_settings().threshold_override, Some(0.3));
    assert_eq!(s.settings.threshold_override, Some(0.5));
    case_cmd(&mut s, CaseCommand::New(CaseHeader::default()));
    assert_eq!(s.settings.threshold_override, Some(0.3));
    case_cmd(&mut s, CaseCommand::Close);
    assert_eq!(s.settings.threshold_override, Some(0.3));
}

#[test]
fn a_case_replaced_before_saving_is_kept_for_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let recovery = tmp.path().join("recovery");
    let mut s = session(&recovery);
    let header = |id: &str| CaseHeader {
        case_id: id.into(),
        ..Default::default()
    };
    case_cmd(&mut s, CaseCommand::New(header("FX-one")));
    case_cmd(
        &mut s,
        CaseCommand::SetNotes(None, "first case's note".into()),
    );
    case_cmd(&mut s, CaseCommand::New(header("FX-two")));
    let msg = s.case.message.clone().unwrap();
    assert!(msg.contains("Case FX-one had unsaved changes"), "{msg}");
    case_cmd(
        &mut s,
        CaseCommand::SetNotes(None, "second case's note".into()),
    );
    assert_eq!(
        s.autosave_case(Instant::now() + Duration::from_secs(5)),
        None
    );
    s.settle_case_recovery();
    let read = |id: &str| {
        let r = read_recovery(&recovery.join(format!("unsaved-{id}.fxcase.recovery"))).unwrap();
        match r.body {
            CaseBody::Draft(d) => d.notes,
            CaseBody::Record(c) => c.notes,
        }
    };
    assert_eq!(read("FX-one"), "first case's note");
    assert_eq!(read("FX-two"), "second case's note");
    // The next start offers the newest.
    let mut later = session(&recovery);
    later.case.find_recovery(&[]);
    let (file, _) = later.case.recovery.clone().unwrap();
    assert!(
        file.ends_with("unsaved-FX-two.fxcase.recovery"),
        "{}",
        file.display()
    );
}
