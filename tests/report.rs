//! `facexplain report`: the HTML report of a real analysis (real models, real
//! photographs, a cheap explanation) embeds every image, states the facts
//! exactly as the JSON has them, is reproducible, and refuses bad input.

use facexplain::calibration::Calibration;
use facexplain::explain::mery::MeryParams;
use facexplain::explain::xmap::XMapParams;
use facexplain::explain::{self, ExplainParams, output};
use facexplain::pipeline::Pipeline;
use facexplain::pipeline::facemesh::FaceMesh;
use facexplain::progress::Ctl;
use facexplain::record::{Analysis, PerFace};
use facexplain::report::{self, ReportOptions, html::base64};
use facexplain::resources::hash::sha256_hex;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod common;
use common::{data, facexplain};

/// A real analysis of obama.jpg vs obama2.jpg with X-Maps (p = 28, stride 10)
/// and Mery maps of face A only (coarse grid), written as `compare --explain`
/// writes it: `analysis.json` beside `explain-obama-obama2/`.
fn analysis() -> &'static (tempfile::TempDir, PathBuf) {
    static A: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    A.get_or_init(|| {
        let p = Pipeline::load().expect("models (run scripts/setup.sh)");
        let fm = FaceMesh::load(&p.store).expect("FaceMesh");
        let calibration = Calibration::default_for(&p.model).expect("built-in calibration");
        let fa = p
            .analyze_file(&data("face_recognition/obama.jpg"), None)
            .unwrap();
        let fb = p
            .analyze_file(&data("face_recognition/obama2.jpg"), None)
            .unwrap();
        let mut a = Analysis::of_pair(&p, Some(&calibration), &fa, &fb, None);
        let params = ExplainParams {
            xmap: Some(XMapParams {
                patch_sizes: vec![28],
                stride: 10,
                ..XMapParams::default()
            }),
            mery: Some(MeryParams {
                d: 28,
                tmax: 2,
                faces: vec![0],
                ..MeryParams::default()
            }),
            ..ExplainParams::default()
        };
        let ex = explain::explain(
            &p.embedder,
            Some(&fm),
            [&fa, &fb],
            &params,
            Ctl::none(),
            &mut |_| {},
        )
        .expect("explanation");
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("analysis.json");
        let maps = output::default_dir(Some(&json), [&fa, &fb]);
        output::write(&maps, &ex, &mut a).unwrap();
        a.write(&json).unwrap();
        (dir, json)
    })
}

/// The token the JSON file writes for `"key": value`.
fn json_token(json: &str, key: &str) -> String {
    let start = json.find(&format!("\"{key}\": ")).expect(key) + key.len() + 4;
    json[start..]
        .split([',', '\n'])
        .next()
        .unwrap()
        .trim()
        .to_string()
}

/// The positions of `<td>region</td>` after `heading`, for the rows of its table.
fn row_positions(html: &str, heading: &str, regions: &[String]) -> Vec<usize> {
    let from = html.find(heading).expect(heading);
    let section = &html[from..];
    let end = section.find("</table>").unwrap();
    regions
        .iter()
        .map(|r| {
            section[..end]
                .find(&format!("<td>{r}</td>"))
                .unwrap_or_else(|| panic!("{r} not in the table under {heading}"))
        })
        .collect()
}

fn render_cli(json: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "report",
        "--analysis",
        json.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = facexplain(&args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn report_of_a_real_analysis_embeds_everything_and_is_reproducible() {
    let (dir, json) = analysis();
    let text = std::fs::read_to_string(json).unwrap();
    let a = Analysis::read(json).unwrap();
    let html = render_cli(json, &dir.path().join("r1.html"), &["--no-timestamp"]);

    assert!(html.contains(&format!("<span class=\"decision\">{}</span>", a.decision)));
    for key in ["similarity", "threshold"] {
        let token = json_token(&text, key);
        assert!(
            html.contains(&format!("<b>{token}</b>"))
                || html.contains(&format!("<td>{token}</td>")),
            "{key} {token}"
        );
    }
    for img in &a.images {
        assert!(html.contains(&img.sha256), "{}", img.path);
    }
    assert!(html.contains(&a.model.sha256));
    let c = a.confidence.as_ref().expect("confidences");
    assert!(html.contains(&c.calibration.sha256));
    // Every written map file is recorded with the SHA-256 of its bytes.
    let folder = dir.path().join("explain-obama-obama2");
    assert!(!a.maps.is_empty());
    for m in &a.maps {
        let kinds: Vec<_> = m.sha256.keys().collect();
        assert_eq!(kinds, ["blend", "npy", "overlay"], "{}", m.name);
        for (kind, name) in &m.files {
            let bytes = std::fs::read(folder.join(name)).unwrap();
            assert_eq!(m.sha256[kind], sha256_hex(&bytes), "{name}");
        }
    }

    // Both photographs (SHA-256 matches), both crops and every map's blend PNG.
    assert_eq!(a.maps.len(), 3 * 2 + 5);
    assert_eq!(
        html.matches("data:image/png;base64,").count(),
        2 + 2 + a.maps.len()
    );
    let folder = json.parent().unwrap().join("explain-obama-obama2");
    for m in &a.maps {
        let bytes = std::fs::read(folder.join(&m.files["blend"])).unwrap();
        assert!(html.contains(&base64(&bytes)), "{} not embedded", m.name);
    }
    // Nothing outside the file: no links, no scripts, every src a data URI.
    for bad in ["http://", "https://", "<script", "url(", "<link"] {
        assert!(!html.contains(bad), "{bad}");
    }
    assert_eq!(
        html.matches("src=\"").count(),
        html.matches("src=\"data:image/png;base64,").count()
    );
    assert!(html.contains("@media print"));
    assert!(html.contains("not computed for face B"));

    // Tables in the ranked order, left/right note.
    for (heading, table) in [
        ("Facial regions by importance", &a.explainability_table),
        ("Facial regions by similarity", &a.xmap_table),
    ] {
        let regions: Vec<String> = table
            .as_ref()
            .unwrap()
            .rows
            .iter()
            .map(|r| r.region.clone())
            .collect();
        assert_eq!(regions.len(), 9);
        let pos = row_positions(&html, heading, &regions);
        assert!(
            pos.windows(2).all(|w| w[0] < w[1]),
            "{heading}: {regions:?}"
        );
    }
    assert!(html.contains("the subject's own"));

    // Reproducible: the same inputs give the same bytes; a time stamp is printed as given.
    let again = render_cli(json, &dir.path().join("r2.html"), &["--no-timestamp"]);
    assert!(html == again, "two renderings differ");
    let stamped = render_cli(
        json,
        &dir.path().join("r3.html"),
        &["--timestamp", "2025-01-02 03:04:05 UTC <x>"],
    );
    assert!(stamped.contains("2025-01-02 03:04:05 UTC &lt;x&gt;"));
}

#[test]
fn absent_parts_are_stated_not_errors() {
    let (dir, json) = analysis();
    let mut a = Analysis::read(json).unwrap();
    a.maps.clear();
    a.parameters.clear();
    a.explainability_table = None;
    a.xmap_table = None;
    a.confidence = None;
    a.images[1].path = "/nonexistent/obama2.jpg".into();
    let html = report::render(&a, dir.path(), &ReportOptions::default()).unwrap();
    assert!(html.contains("no explanation was run"));
    assert!(html.contains("no calibrated confidences"));
    assert!(html.contains("no explainability table"));
    assert!(html.contains("Photograph not embedded: the file is no longer readable"));
    assert_eq!(html.matches("data:image/png;base64,").count(), 1);

    // A file at the recorded path with another SHA-256 is not embedded either.
    a.images[1].path = data("face_recognition/obama.jpg").display().to_string();
    let html = report::render(&a, dir.path(), &ReportOptions::default()).unwrap();
    assert!(html.contains("not the recorded one"));
    assert_eq!(html.matches("data:image/png;base64,").count(), 1);
}

/// Copy the analysis and its map folder into a fresh folder, with the crops'
/// paths recorded relative to it (as when the pair is moved elsewhere).
fn moved_copy() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, json) = analysis();
    let to = tempfile::tempdir().unwrap();
    let folder = to.path().join("explain-obama-obama2");
    std::fs::create_dir(&folder).unwrap();
    for e in std::fs::read_dir(dir.path().join("explain-obama-obama2")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), folder.join(e.file_name())).unwrap();
    }
    let mut a = Analysis::read(json).unwrap();
    a.parameters.aligned_crops = Some(PerFace::from_array(
        ["A", "B"].map(|f| format!("explain-obama-obama2/face_{f}.png")),
    ));
    let moved = to.path().join("moved.json");
    a.write(&moved).unwrap();
    (to, moved, folder)
}

#[test]
fn moved_analysis_finds_its_maps_and_bad_input_exits_2_naming_the_file() {
    let (to, moved, folder) = moved_copy();
    let html = render_cli(&moved, &to.path().join("ok.html"), &["--no-timestamp"]);
    assert_eq!(html.matches("data:image/png;base64,").count(), 2 + 2 + 11);

    // A referenced map missing, then one altered (truncated).
    let a = Analysis::read(&moved).unwrap();
    let blend = &a.maps[0].files["blend"];
    let bytes = std::fs::read(folder.join(blend)).unwrap();
    let out = to.path().join("bad.html");
    std::fs::remove_file(folder.join(blend)).unwrap();
    let args = [
        "report",
        "--analysis",
        moved.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let (code, _, err) = facexplain(&args);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(blend.as_str()) && err.contains("cannot read"),
        "{err}"
    );
    // Another map's valid PNG of the same size in its place: caught by the recorded SHA-256.
    let other = std::fs::read(folder.join(&a.maps[1].files["blend"])).unwrap();
    std::fs::write(folder.join(blend), &other).unwrap();
    let (code, _, err) = facexplain(&args);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(blend.as_str()) && err.contains(&a.maps[0].sha256["blend"]),
        "{err}"
    );
    // An analysis from before hashes were recorded: a truncated file still fails to decode.
    let mut old = a.clone();
    for m in &mut old.maps {
        m.sha256.clear();
    }
    old.parameters.aligned_crops_sha256 = None;
    old.write(&moved).unwrap();
    std::fs::write(folder.join(blend), &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, err) = facexplain(&args);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(blend.as_str()) && err.contains("not a valid PNG"),
        "{err}"
    );
    assert!(!out.exists());

    // Malformed JSON and a foreign schema.
    let bad = to.path().join("broken.json");
    std::fs::write(&bad, "{ \"schema\": ").unwrap();
    let (code, _, err) = facexplain(&["report", "--analysis", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("broken.json") && err.contains("not a valid analysis JSON"),
        "{err}"
    );
    let text = std::fs::read_to_string(&moved).unwrap();
    let foreign = to.path().join("foreign.json");
    std::fs::write(&foreign, text.replace("facexplain.analysis/1", "other/9")).unwrap();
    let (code, _, err) = facexplain(&["report", "--analysis", foreign.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("foreign.json") && err.contains("schema"),
        "{err}"
    );
    let (code, _, err) = facexplain(&["report", "--analysis", "/nonexistent/a.json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/a.json"), "{err}");
}

/// Run the binary, killing it after `limit`: (exit code, stderr), or `None` on a hang.
fn facexplain_within(args: &[&str], limit: std::time::Duration) -> Option<(i32, String)> {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_facexplain"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run facexplain");
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return Some((status.code().unwrap_or(-1), err));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Regression (issue 20): a face box edited to a width of 1e30, with the real
/// photograph at its recorded path, made `report` loop forever drawing it.
/// Reading the analysis now refuses it at once, naming the file and the field;
/// and the drawing itself stays within the image whatever the record says.
#[test]
fn a_face_box_edited_to_a_width_of_1e30_is_refused_at_once_naming_the_field() {
    let (dir, json) = analysis();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    v["images"][0]["face"]["box"][2] = serde_json::json!(1e30);
    let edited = dir.path().join("huge_box.json");
    std::fs::write(&edited, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let out = dir.path().join("huge_box.html");
    let args = [
        "report",
        "--analysis",
        edited.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let (code, err) = facexplain_within(&args, std::time::Duration::from_secs(30))
        .expect("report still running after 30 s");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("huge_box.json") && err.contains("images[0].face.box[2]"),
        "{err}"
    );
    assert!(!out.exists());

    // The same box handed to the library past the file checks: drawn clipped, at once.
    let mut a = Analysis::read(json).unwrap();
    a.images[0].face.bbox = [10.0, 10.0, 1e30, 1e30];
    a.images[1].face.bbox = [-1e30, f32::NAN, f32::INFINITY, 1e30];
    let start = std::time::Instant::now();
    let html = report::render(&a, dir.path(), &ReportOptions::default()).unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(html.matches("data:image/png;base64,").count(), 2 + 2 + 11);
}

/// Issue 21: the report states the strength of evidence as the analysis
/// records it — propositions, the bounded LR, its verbal equivalent, the
/// bounds — and never a certainty the calibration data cannot support.
#[test]
fn report_states_the_bounded_likelihood_ratio_and_no_certainty() {
    let (_dir, json) = analysis();
    let a = Analysis::read(json).unwrap();
    let e = a
        .evidence
        .as_ref()
        .expect("the built-in calibration gives an LR");
    let dir = tempfile::tempdir().unwrap();
    let html = render_cli(json, &dir.path().join("r.html"), &["--no-timestamp"]);
    let from = html.find("<h2>Strength of evidence</h2>").expect("section");
    let section = &html[from..from + html[from..].find("</section>").unwrap()];
    for must in [&e.hp, &e.hd, &e.lr_text(), &e.verbal, &e.bounds_text()] {
        assert!(
            section.contains(must.as_str()),
            "{must} missing in:\n{section}"
        );
    }
    assert_eq!(
        section.contains("bounded at the limit of the data"),
        e.clipped,
        "the clipping is said exactly when the LR was clipped"
    );
    let conf = html
        .find(">Decision confidence<")
        .expect("decision confidence row");
    let row = &html[conf..conf + html[conf..].find("</tr>").unwrap()];
    assert!(
        !row.contains("100.0 %") && !row.contains("100.00 %") && !section.contains("100.0 %"),
        "the decision confidence and the posterior never read as certainty: {row}"
    );
}

/// Issue 13: the report opens with the initial assessment — a non-human face
/// that YuNet detects is reported unfit with its reason, before the result.
#[test]
fn report_starts_with_the_initial_assessment_of_each_image() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("a.json");
    let squirrel = data("opencv/squirrel_cls.jpg");
    let obama = data("face_recognition/obama.jpg");
    let (code, out, err) = facexplain(&[
        "compare",
        squirrel.to_str().unwrap(),
        obama.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let a = Analysis::read(&json).unwrap();
    let q = a.images[0]
        .quality
        .as_ref()
        .expect("compare records quality");
    let html = render_cli(&json, &dir.path().join("r.html"), &["--no-timestamp"]);
    let from = html.find("<h2>Initial assessment</h2>").expect("section");
    assert!(
        from < html.find("<h2>Result</h2>").expect("result"),
        "assessment comes first"
    );
    let section = &html[from..from + html[from..].find("</section>").unwrap()];
    assert!(section.contains("Face A: unfit"), "{section}");
    assert!(section.contains("is unfit for comparison"), "{section}");
    for r in &q.reasons {
        assert!(section.contains(&maud_escape(r)), "reason {r} missing");
    }
}

/// Text as maud escapes it in the page.
fn maud_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
