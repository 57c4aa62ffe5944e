//! Property-based attacks on every file facexplain reads (issue 20): mutated
//! analysis JSON, calibration files, the model manifest, case files, pairs lists and image
//! bytes (real JPEG, PNG, PGM files and WebP, TIFF, BMP encodings of a real
//! face) go to the library's readers and to `ask`, `report` and `compare` as
//! subprocesses. Each call must finish within a time limit, never panic, and
//! either succeed (the file was still valid) or fail with exit 2 / an error
//! naming the file.
//!
//! The quick run here takes well under a minute. The long run is
//! `scripts/fuzz.sh MINUTES OUTDIR` (the ignored test `fuzz_for_a_while`): it
//! keeps generating for the given time and writes every failing input, with
//! the failure, to OUTDIR.

#[path = "attack/gen.rs"]
mod generate;

use facexplain::calibration::Calibration;
use facexplain::calibration::fit::dataset::{Dataset, read_pairs};
use facexplain::pipeline::load::decode_image;
use facexplain::progress::Ctl;
use facexplain::record::Analysis;
use facexplain::record::case::Case;
use facexplain::resources::models::Manifest;
use generate::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A reader in the library must answer within this (a hang otherwise).
const READ_LIMIT: Duration = Duration::from_secs(20);

/// Where an attack goes: the library's readers in this process, the CLI as a
/// subprocess.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    AnalysisRead,
    Ask,
    Report,
    CalibrationRead,
    CompareCalibration,
    Manifest,
    Pairs,
    ImageDecode,
    CompareImage,
    CaseRead,
    CaseShow,
    CaseNote,
}

const TARGETS: [Target; 12] = [
    Target::AnalysisRead,
    Target::Ask,
    Target::Report,
    Target::CalibrationRead,
    Target::CompareCalibration,
    Target::Manifest,
    Target::Pairs,
    Target::ImageDecode,
    Target::CompareImage,
    Target::CaseRead,
    Target::CaseShow,
    Target::CaseNote,
];

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::AnalysisRead => "analysis-read",
            Target::Ask => "ask",
            Target::Report => "report",
            Target::CalibrationRead => "calibration-read",
            Target::CompareCalibration => "compare-calibration",
            Target::Manifest => "manifest",
            Target::Pairs => "pairs",
            Target::ImageDecode => "image-decode",
            Target::CompareImage => "compare-image",
            Target::CaseRead => "case-read",
            Target::CaseShow => "case-show",
            Target::CaseNote => "case-note",
        }
    }
}

/// Real files the attacks start from, made once per test binary.
struct Bases {
    _dir: tempfile::TempDir,
    /// Analyses: one `compare --json` wrote now (real photo paths, boxes),
    /// and the chat fixture with an X-Map table.
    analyses: Vec<Value>,
    calibration: Value,
    manifest: Value,
    /// A case made by `case new` with a note (so its audit trail has entries).
    case: Value,
    images: Vec<(&'static str, Vec<u8>)>,
    orl: Arc<Dataset>,
}

fn bases() -> &'static Bases {
    static B: OnceLock<Bases> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("analysis.json");
        let (a, b) = (
            root("data/face_recognition/obama.jpg"),
            root("data/face_recognition/obama2.jpg"),
        );
        let o = run_limited(
            &[
                "compare",
                a.to_str().unwrap(),
                b.to_str().unwrap(),
                "--json",
                out.to_str().unwrap(),
            ],
            &[],
            Duration::from_secs(300),
        );
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        let case = dir.path().join("base.fxcase");
        let c = case.to_str().unwrap();
        for args in [
            vec![
                "case",
                "new",
                c,
                "--a",
                a.to_str().unwrap(),
                "--b",
                b.to_str().unwrap(),
                "--examiner",
                "A. Examiner",
                "--title",
                "attack base",
            ],
            vec!["case", "note", c, "a note on image B", "--image", "1"],
        ] {
            let o = run_limited(&args, &[], Duration::from_secs(300));
            assert_eq!(o.code, Some(0), "{}", o.stderr);
        }
        let json = |p: &Path| -> Value {
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        Bases {
            analyses: vec![
                json(&out),
                json(&root("tests/chat_fixtures/match_xmap.json")),
            ],
            calibration: json(&root("assets/calibration/sface-orl.json")),
            manifest: json(&root("models/manifest.json")),
            case: json(&case),
            images: image_bases(),
            orl: Arc::new(Dataset::scan(&root("data/orl"), Ctl::none()).unwrap()),
            _dir: dir,
        }
    })
}

/// One generated input for a target: the file's bytes and its extension.
#[derive(Clone, Debug)]
enum Input {
    Json(usize, JsonAttack),
    Pairs(PairsAttack),
    Image(ImageAttack),
}

fn input_for(t: Target) -> BoxedStrategy<Input> {
    match t {
        Target::AnalysisRead | Target::Ask | Target::Report => (0..2usize, json_attack())
            .prop_map(|(i, a)| Input::Json(i, a))
            .boxed(),
        Target::CalibrationRead
        | Target::CompareCalibration
        | Target::Manifest
        | Target::CaseRead
        | Target::CaseShow
        | Target::CaseNote => json_attack().prop_map(|a| Input::Json(0, a)).boxed(),
        Target::Pairs => pairs_attack().prop_map(Input::Pairs).boxed(),
        Target::ImageDecode | Target::CompareImage => image_attack().prop_map(Input::Image).boxed(),
    }
}

/// The bytes and file extension of an input for target `t`.
fn render(t: Target, input: &Input) -> (Vec<u8>, &'static str) {
    let b = bases();
    match input {
        Input::Json(i, a) => {
            let base = match t {
                Target::CalibrationRead | Target::CompareCalibration => &b.calibration,
                Target::Manifest => &b.manifest,
                Target::CaseRead | Target::CaseShow | Target::CaseNote => &b.case,
                _ => &b.analyses[*i % b.analyses.len()],
            };
            let ext = match t {
                Target::CaseRead | Target::CaseShow | Target::CaseNote => "fxcase",
                _ => "json",
            };
            (a.apply(base), ext)
        }
        Input::Pairs(p) => (p.render(), "txt"),
        Input::Image(im) => {
            let (ext, bytes) = &b.images[im.base.index(b.images.len())];
            let mut bytes = bytes.clone();
            for e in &im.edits {
                e.apply(&mut bytes);
            }
            (bytes, ext)
        }
    }
}

/// Feed `bytes` (written to a file in `dir`) to target `t`; `limit` bounds a
/// subprocess. `Err` describes the defect.
fn attack(t: Target, bytes: &[u8], ext: &str, dir: &Path, limit: Duration) -> Result<(), String> {
    let file = dir.join(format!("hostile-{}.{ext}", t.name()));
    std::fs::write(&file, bytes).map_err(|e| format!("cannot write the input: {e}"))?;
    let good = root("data/face_recognition/obama.jpg");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let cli = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env = [("XDG_CACHE_HOME", dir), ("XDG_CONFIG_HOME", dir)];
        check_outcome(&run_limited(&args, &env, limit), &file)
    };
    let f = file.clone();
    match t {
        Target::AnalysisRead => within(READ_LIMIT, move || names_file(Analysis::read(&f), &f))?,
        Target::CalibrationRead => {
            within(READ_LIMIT, move || names_file(Calibration::read(&f), &f))?
        }
        Target::Manifest => within(READ_LIMIT, move || {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
            names_file(Manifest::parse(&text, &f), &f)
        })?,
        Target::Pairs => {
            let ds = bases().orl.clone();
            within(READ_LIMIT, move || names_file(read_pairs(&f, &ds), &f))?
        }
        Target::CaseRead => within(READ_LIMIT, move || names_file(Case::read(&f), &f))?,
        Target::ImageDecode => {
            let bytes = bytes.to_vec();
            within(READ_LIMIT, move || names_file(decode_image(&f, bytes), &f))?
        }
        Target::Ask => cli(vec![
            "ask".into(),
            "--analysis".into(),
            s(&file),
            "Which region mattered most?".into(),
        ]),
        Target::Report => cli(vec![
            "report".into(),
            "--analysis".into(),
            s(&file),
            "--out".into(),
            s(&dir.join("report.html")),
            "--no-timestamp".into(),
        ]),
        Target::CompareCalibration => cli(vec![
            "compare".into(),
            s(&good),
            s(&good),
            "--calibration".into(),
            s(&file),
        ]),
        Target::CompareImage => cli(vec!["compare".into(), s(&file), s(&good)]),
        Target::CaseShow => cli(vec!["case".into(), "show".into(), s(&file)]),
        Target::CaseNote => cli(vec![
            "case".into(),
            "note".into(),
            s(&file),
            "a note added to a hostile case".into(),
        ]),
    }
}

/// Run `cases` generated attacks on `t` with shrinking (the quick run).
fn quick(t: Target, cases: u32, limit: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&input_for(t), |input| {
        let (bytes, ext) = render(t, &input);
        attack(t, &bytes, ext, dir.path(), limit).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{}: {e}", t.name());
    }
}

/// Subprocess calls in the quick run (debug build, busy machine).
const CLI_LIMIT: Duration = Duration::from_secs(90);

#[test]
fn readers_survive_hostile_analysis_json() {
    quick(Target::AnalysisRead, 64, CLI_LIMIT);
}

#[test]
fn readers_survive_hostile_calibration_files() {
    quick(Target::CalibrationRead, 64, CLI_LIMIT);
}

#[test]
fn readers_survive_hostile_manifests() {
    quick(Target::Manifest, 64, CLI_LIMIT);
}

#[test]
fn readers_survive_hostile_pairs_lists() {
    quick(Target::Pairs, 64, CLI_LIMIT);
}

#[test]
fn readers_survive_hostile_case_files() {
    quick(Target::CaseRead, 64, CLI_LIMIT);
}

#[test]
fn readers_survive_hostile_image_bytes() {
    quick(Target::ImageDecode, 64, CLI_LIMIT);
}

#[test]
fn cli_survives_hostile_files() {
    for (t, n) in [
        (Target::Ask, 2),
        (Target::Report, 2),
        (Target::CompareCalibration, 2),
        (Target::CompareImage, 2),
        (Target::CaseShow, 2),
        (Target::CaseNote, 2),
    ] {
        quick(t, n, CLI_LIMIT);
    }
}

/// The long run: `FUZZ_SECONDS` (default 60) of attacks on every target in
/// turn, generated without shrinking; every failing input and its failure go
/// to `FUZZ_OUT` (default `fuzz-failures/`). Prints the figures per target and
/// fails if anything failed.
#[test]
#[ignore = "long run: scripts/fuzz.sh MINUTES OUTDIR"]
fn fuzz_for_a_while() {
    let secs: u64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let out = PathBuf::from(std::env::var("FUZZ_OUT").unwrap_or_else(|_| "fuzz-failures".into()));
    std::fs::create_dir_all(&out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let end = Instant::now() + Duration::from_secs(secs);
    let mut runner = TestRunner::new(Config::default());
    let mut runs = [0u64; TARGETS.len()];
    let mut fails = [0u64; TARGETS.len()];
    // In-process readers are ~100× cheaper than a CLI call: more of them.
    let mut round = 0u64;
    while Instant::now() < end {
        for (k, &t) in TARGETS.iter().enumerate() {
            let subprocess = matches!(
                t,
                Target::Ask | Target::Report | Target::CompareCalibration | Target::CompareImage
            );
            if subprocess && !round.is_multiple_of(20) {
                continue;
            }
            let input = input_for(t).new_tree(&mut runner).unwrap().current();
            let (bytes, ext) = render(t, &input);
            runs[k] += 1;
            // A CLI call takes 1–25 s (loading the chat models, on a busy
            // machine); a hang is one that runs on past two minutes.
            if let Err(why) = attack(t, &bytes, ext, dir.path(), Duration::from_secs(120)) {
                fails[k] += 1;
                let stem = out.join(format!("{}-{}", t.name(), fails[k]));
                std::fs::write(stem.with_extension(ext), &bytes).unwrap();
                std::fs::write(
                    stem.with_extension("txt"),
                    format!("{why}\n\ninput: {input:?}\n"),
                )
                .unwrap();
                eprintln!("FAIL {}: {}", t.name(), why.lines().next().unwrap_or(""));
            }
            if Instant::now() >= end {
                break;
            }
        }
        round += 1;
    }
    let mut total = (0, 0);
    for (k, t) in TARGETS.iter().enumerate() {
        println!(
            "fuzz {:<20} {:>8} cases {:>5} failures",
            t.name(),
            runs[k],
            fails[k]
        );
        total.0 += runs[k];
        total.1 += fails[k];
    }
    println!(
        "fuzz total: {} cases, {} failures in {secs} s; failing inputs in {}",
        total.0,
        total.1,
        out.display()
    );
    assert_eq!(total.1, 0, "failing inputs written to {}", out.display());
}

/// Regression: a pairs list of a million lines is read within the reader's
/// limit (every line used to scan every image's name: minutes for this one);
/// a list over 64 MB is refused without being read (a sparse file here).
#[test]
fn long_pairs_lists_are_read_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("million-pairs.txt");
    std::fs::write(&file, "s1 1 2\ns1 3 s2 4\n".repeat(500_000)).unwrap();
    let ds = bases().orl.clone();
    let f = file.clone();
    let n = within(Duration::from_secs(60), move || {
        read_pairs(&f, &ds).map(|l| l.pairs.len())
    })
    .unwrap();
    assert_eq!(n.unwrap(), 1_000_000);

    let big = dir.path().join("huge-pairs.txt");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let e = read_pairs(&big, &bases().orl).unwrap_err().to_string();
    assert!(e.contains("huge-pairs.txt") && e.contains("65 MB"), "{e}");
}

/// Regression (issue 20): the analysis of a real pair with the face box
/// edited to 1e30 made `report` loop for ever drawing the box; it now ends
/// (refused, or drawn clipped to the photo).
#[test]
fn report_on_a_box_of_1e30_ends() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = bases().analyses[0].clone();
    a["images"][0]["face"]["box"] = serde_json::json!([0.0, 0.0, 1e30, 1e30]);
    let bytes = serde_json::to_vec_pretty(&a).unwrap();
    attack(Target::Report, &bytes, "json", dir.path(), CLI_LIMIT).unwrap();
}
