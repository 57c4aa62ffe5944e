//! Case files (`facexplain case …`): a case round-trips; an edited or
//! removed audit entry, content changed behind the trail and a changed
//! original are each detected and named; `case verify` reproduces a fresh
//! case bit for bit and names what differs after a parameter or a model
//! hash is changed; a save that fails before the rename leaves the old file.

mod common;
use common::{data, facexplain};
use facexplain::record::Case;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `case new` over obama.jpg / obama2.jpg (or the given images) into `dir`.
fn new_case(dir: &Path, a: &Path, b: &Path) -> PathBuf {
    let case = dir.join("c.fxcase");
    let (code, out, err) = facexplain(&[
        "case",
        "new",
        case.to_str().unwrap(),
        "--a",
        a.to_str().unwrap(),
        "--b",
        b.to_str().unwrap(),
        "--examiner",
        "E. Xaminer",
        "--title",
        "Obama pair",
    ]);
    assert_eq!(code, 0, "case new failed:\n{out}\n{err}");
    case
}

fn obama() -> (PathBuf, PathBuf) {
    (
        data("face_recognition/obama.jpg"),
        data("face_recognition/obama2.jpg"),
    )
}

fn sha256(path: &Path) -> String {
    facexplain::resources::hash::sha256_file(path).unwrap()
}

#[test]
fn a_case_round_trips_with_notes_conclusion_and_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = obama();
    let path = new_case(tmp.path(), &a, &b);
    let p = path.to_str().unwrap();
    assert_eq!(facexplain(&["case", "note", p, "case-level note"]).0, 0);
    assert_eq!(
        facexplain(&["case", "note", p, "left ear hidden", "--image", "1"]).0,
        0
    );
    assert_eq!(
        facexplain(&["case", "conclude", p, "same person, moderate support"]).0,
        0
    );

    let opened = Case::read(&path).unwrap();
    assert!(!opened.read_only(), "{:?}", opened.warning());
    let c = opened.case;
    assert_eq!(c.examiner, "E. Xaminer");
    assert_eq!(c.title, "Obama pair");
    assert!(
        c.case_id.starts_with("FX-") && c.case_id.len() == 15,
        "{}",
        c.case_id
    );
    assert_eq!(c.inputs[0].path, a.to_str().unwrap());
    assert_eq!(c.inputs[0].sha256, sha256(&a));
    assert_eq!(c.inputs[1].sha256, sha256(&b));
    assert_eq!(c.inputs[0].file_size, std::fs::metadata(&a).unwrap().len());
    let dims = image::image_dimensions(&b).unwrap();
    assert_eq!((c.inputs[1].width, c.inputs[1].height), dims);
    assert_eq!(c.inputs[1].notes, "left ear hidden");
    assert_eq!(c.notes, "case-level note");
    assert_eq!(
        c.conclusion.as_ref().unwrap().text,
        "same person, moderate support"
    );
    assert!(c.conclusion.as_ref().unwrap().time.ends_with(" UTC"));
    let actions: Vec<&str> = c.audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "case created",
            "note edited",
            "note edited",
            "conclusion recorded"
        ]
    );
    assert_eq!(c.audit[0].hashes["input A"], sha256(&a));
    assert!(c.audit[0].hashes.keys().any(|k| k.starts_with("model ")));
    assert_eq!(c.analysis.images[0].sha256, sha256(&a));
    assert!(c.analysis.confidence.is_some());
    assert_eq!(c.parameters.threshold_source, c.analysis.threshold_source);

    // Written again and read back: every field equal, and the same bytes.
    let again = tmp.path().join("again.fxcase");
    c.write(&again).unwrap();
    let c2 = Case::read(&again).unwrap();
    assert!(!c2.read_only());
    assert_eq!(c2.case, c);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&path).unwrap()
    );

    let (code, out, _) = facexplain(&["case", "show", p]);
    assert_eq!(code, 0);
    assert!(out.contains("audit trail intact"), "{out}");
    assert!(out.contains("same person, moderate support"), "{out}");
}

/// Edit the case file's JSON with `f`, written to `name` beside it.
fn edited(path: &Path, name: &str, f: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    let out = path.with_file_name(name);
    std::fs::write(&out, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    out
}

#[test]
fn tampering_is_detected_and_named_and_the_case_opens_read_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = obama();
    let path = new_case(tmp.path(), &a, &b);
    let p = path.to_str().unwrap();
    for text in ["one", "two", "three"] {
        assert_eq!(facexplain(&["case", "note", p, text]).0, 0);
    }
    assert!(Case::read(&path).unwrap().broken.is_none());

    // An edited entry: entry 2's details changed.
    let tampered = edited(&path, "tampered.fxcase", |v| {
        v["audit"][1]["details"] = "case note: something else".into();
    });
    let o = Case::read(&tampered).unwrap();
    let brk = o.broken.clone().expect("an edited entry is detected");
    assert_eq!(brk.index, 1);
    assert!(brk.reason.contains("edited"), "{}", brk.reason);
    assert!(o.read_only());
    let (code, _, err) = facexplain(&["case", "show", tampered.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        err.contains("audit entry 2") && err.contains("read-only"),
        "{err}"
    );
    let (code, _, err) = facexplain(&["case", "note", tampered.to_str().unwrap(), "x"]);
    assert_eq!(code, 2, "a broken case is not changed: {err}");
    assert!(err.contains("audit entry 2"), "{err}");

    // A removed entry: entry 3 of 4 deleted.
    let removed = edited(&path, "removed.fxcase", |v| {
        v["audit"].as_array_mut().unwrap().remove(2);
    });
    let brk = Case::read(&removed)
        .unwrap()
        .broken
        .expect("a removed entry is detected");
    assert_eq!(brk.index, 2, "{brk}");
    assert!(brk.reason.contains("removed"), "{}", brk.reason);

    // The content changed behind the trail's back (no new entry).
    let behind = edited(&path, "behind.fxcase", |v| {
        v["notes"] = "added by hand".into();
    });
    let brk = Case::read(&behind)
        .unwrap()
        .broken
        .expect("changed content is detected");
    assert_eq!(brk.index, 3);
    assert!(brk.reason.contains("changed after"), "{}", brk.reason);
}

#[test]
fn verify_reproduces_a_fresh_case_and_names_a_changed_original() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = obama();
    let copy_a = tmp.path().join("probe.jpg");
    std::fs::copy(&a, &copy_a).unwrap();
    let path = new_case(tmp.path(), &copy_a, &b);
    let p = path.to_str().unwrap();
    let (code, out, err) = facexplain(&["case", "verify", p]);
    assert_eq!(code, 0, "fresh case not reproduced:\n{out}\n{err}");
    assert!(
        out.contains("reproduced") && out.contains("bit for bit"),
        "{out}"
    );

    // The original replaced by another photograph: exit 3, the file named.
    std::fs::copy(&b, &copy_a).unwrap();
    let (code, out, err) = facexplain(&["case", "verify", p]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        err.contains("original A changed") && err.contains("probe.jpg"),
        "{err}"
    );

    // Missing: bad input (exit 2), named.
    std::fs::remove_file(&copy_a).unwrap();
    let (code, _, err) = facexplain(&["case", "verify", p]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("original A is missing") && err.contains("probe.jpg"),
        "{err}"
    );
}

#[test]
fn verify_names_a_changed_parameter_and_a_changed_model_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = obama();
    let path = new_case(tmp.path(), &a, &b);
    let mut case = Case::read(&path).unwrap().case;

    // The recorded threshold changed and the trail re-chained over it.
    let mut changed = case.clone();
    changed.parameters.threshold = Some(0.95);
    changed.log(
        "2026-12-02 00:00:00 UTC",
        "parameter changed",
        "threshold 0.95",
        BTreeMap::new(),
    );
    let p1 = tmp.path().join("threshold.fxcase");
    changed.write(&p1).unwrap();
    assert!(Case::read(&p1).unwrap().broken.is_none());
    let (code, out, err) = facexplain(&["case", "verify", p1.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(err.contains("analysis.threshold: recorded"), "{err}");
    assert!(
        err.contains("re-run 0.9499999") && err.contains("user override"),
        "{err}"
    );

    // The recorded hash of the recognition model changed.
    let m = case
        .models
        .iter_mut()
        .find(|m| m.id == "sface")
        .expect("sface recorded");
    m.sha256 = "0".repeat(64);
    case.log(
        "2026-12-02 00:00:00 UTC",
        "model changed",
        "test",
        BTreeMap::new(),
    );
    let p2 = tmp.path().join("model.fxcase");
    case.write(&p2).unwrap();
    let (code, out, err) = facexplain(&["case", "verify", p2.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        err.contains("model sface") && err.contains(&"0".repeat(64)),
        "{err}"
    );
}

#[test]
fn a_save_that_fails_before_the_rename_leaves_the_previous_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = obama();
    let path = new_case(tmp.path(), &a, &b);
    let before = std::fs::read(&path).unwrap();
    let mut case = Case::read(&path).unwrap().case;
    case.notes = "a long note that never reaches the disk ".repeat(1000);
    case.log(
        "2026-12-02 00:00:00 UTC",
        "note edited",
        "x",
        BTreeMap::new(),
    );
    let err = case.write_with(&path, || Err(std::io::Error::other("simulated crash")));
    let msg = err
        .expect_err("the injected failure is reported")
        .to_string();
    assert!(
        msg.contains("c.fxcase") && msg.contains("simulated crash"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");
    let reread = Case::read(&path).unwrap();
    assert!(reread.broken.is_none());
    assert!(reread.case.notes.is_empty());
}

/// `report --case P --out OUT --no-timestamp`.
fn report_of_case(p: &str, out: &Path) -> (i32, String, String) {
    facexplain(&[
        "report",
        "--case",
        p,
        "--out",
        out.to_str().unwrap(),
        "--no-timestamp",
    ])
}

/// The report of a case (`report --case`): the case header, the notes, the
/// examiner's conclusion beside the machine's decision with their times, the
/// audit trail and its status; the export is logged with the report's SHA-256;
/// a tampered case is reported as broken and left untouched.
#[test]
fn a_case_report_holds_the_case_sections_and_the_export_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = obama();
    let case = new_case(tmp.path(), &a, &b);
    let p = case.to_str().unwrap();
    assert_eq!(facexplain(&["case", "note", p, "ears match <b>"]).0, 0);
    assert_eq!(
        facexplain(&["case", "note", p, "glasses", "--image", "1"]).0,
        0
    );
    assert_eq!(facexplain(&["case", "conclude", p, "identification"]).0, 0);
    let before = Case::read(&case).unwrap().case;
    let k = before.conclusion.clone().unwrap();
    let machine = before.machine.clone().unwrap();

    let html_path = tmp.path().join("r.html");
    let (code, out, err) = report_of_case(p, &html_path);
    assert_eq!(code, 0, "{out}\n{err}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    for needle in [
        "<h2>Case</h2>",
        &before.case_id,
        "Obama pair",
        "E. Xaminer",
        "ears match &lt;b&gt;",
        "glasses",
        "identification",
        &k.time,
        &machine.text,
        &machine.time,
        "<h2>Audit trail</h2>",
        "<strong>intact</strong>",
        &before.audit.last().unwrap().hash,
        "conclusion recorded",
    ] {
        assert!(html.contains(needle), "the report lacks {needle:?}");
    }
    let after = Case::read(&case).unwrap();
    assert!(after.broken.is_none());
    let last = after.case.audit.last().unwrap();
    assert_eq!(last.action, "report exported");
    assert_eq!(after.case.audit.len(), before.audit.len() + 1);
    assert_eq!(
        last.hashes["report"],
        facexplain::resources::hash::sha256_file(&html_path).unwrap()
    );

    // Tampered: reported as broken, the case file is not changed.
    let text = std::fs::read_to_string(&case).unwrap();
    let tampered = text.replace("identification", "exclusion");
    std::fs::write(&case, &tampered).unwrap();
    let (code, out, err) = report_of_case(p, &html_path);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("not logged"), "{err}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        html.contains("<strong>BROKEN</strong>"),
        "the report hides the broken trail"
    );
    assert_eq!(std::fs::read_to_string(&case).unwrap(), tampered);

    // --analysis and --case together are refused.
    let (code, ..) = facexplain(&["report", "--case", p, "--analysis", p]);
    assert_eq!(code, 2);
}
