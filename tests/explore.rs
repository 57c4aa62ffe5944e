//! The explorer's table on the real ORL faces with the real models: the
//! same pairs and EER as `eval` (same library calls), sorting and filters on
//! the real table, CSV/JSON from the CLI read back, and bad data sets
//! (an empty folder: a clear error; pairs lists, LFW and CSV, naming missing
//! or unreadable images: those rows marked, the rest scored).

mod common;

use common::{data, facexplain};
use facexplain::calibration::Calibration;
use facexplain::calibration::fit::dataset::Dataset;
use facexplain::calibration::fit::embedding::EmbeddingCache;
use facexplain::calibration::fit::pairs::DEFAULT_MAX_IMPOSTORS;
use facexplain::calibration::fit::{CollectOptions, collect};
use facexplain::explore::{Column, Filter, Models, Table};
use facexplain::pipeline::Pipeline;
use facexplain::progress::Ctl;
use facexplain::quality::{Assessor, Thresholds};
use facexplain::record::{Decision, Verdict};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| Pipeline::load().expect("models (run scripts/setup.sh)"))
}

/// FaceMesh with the built-in thresholds.
fn assessor() -> &'static Assessor {
    static A: OnceLock<Assessor> = OnceLock::new();
    A.get_or_init(|| Assessor::load(&pipeline().store, Thresholds::builtin()).expect("FaceMesh"))
}

/// The pipeline and the assessor: tables with quality verdicts.
fn models() -> Models<'static> {
    Models {
        pipeline: pipeline(),
        quality: Some(assessor()),
    }
}

fn options(pairs_file: Option<&Path>) -> CollectOptions {
    CollectOptions {
        pairs_file: pairs_file.map(Path::to_path_buf),
        max_impostors: DEFAULT_MAX_IMPOSTORS,
        seed: 0,
        cache: EmbeddingCache::for_pipeline(pipeline()),
        files: None,
    }
}

/// ORL's table with the built-in calibration, built once for all tests.
fn orl() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let p = pipeline();
        let cal = Calibration::default_for(&p.model).expect("built-in calibration");
        Table::build(
            models(),
            &data("orl"),
            &options(None),
            Some(cal),
            None,
            Ctl::none(),
        )
        .expect("ORL table")
    })
}

#[test]
fn orl_has_evals_pairs_and_eer() {
    let t = orl();
    let c = collect(pipeline(), &data("orl"), &options(None), None, Ctl::none()).unwrap();
    // 40 identities of 10 faces: 40·45 genuine, C(400,2) − 1800 impostor pairs.
    assert_eq!((c.pairs.genuine, c.pairs.impostor), (1800, 78_000));
    let s = t.summary();
    assert_eq!((s.genuine, s.impostor), (c.pairs.genuine, c.pairs.impostor));
    assert_eq!(t.pairs, c.pairs);
    assert_eq!(t.dataset, c.info);
    let eer = c.scores.eer().unwrap();
    assert_eq!(s.eer, Some(eer.eer));
    assert_eq!(s.failed, 0, "every ORL image has a face");
    assert_eq!(s.eer_threshold, Some(eer.at.threshold));
    // The same similarities, pair for pair in the same order.
    let ts = t.scores();
    assert_eq!(ts.genuine, c.scores.genuine);
    assert_eq!(ts.impostor, c.scores.impostor);
    // FNMR at FMR 1 % is measurable on 78,000 impostors and agrees with the score set.
    let at1 = &s.fnmr_at_fmr[0];
    assert!(at1.measurable);
    assert_eq!(at1.fnmr, c.scores.at_fmr(0.01).map(|p| p.fnmr));
    // Errors at the calibration's threshold are those the rates give.
    let cal = t.calibration.as_ref().unwrap();
    assert_eq!(t.threshold, cal.threshold() as f64);
    let r = c.scores.rates_at(t.threshold);
    assert_eq!(
        s.false_matches,
        (r.fmr * s.impostor as f64).round() as usize
    );
    assert_eq!(
        s.false_non_matches,
        (r.fnmr * s.genuine as f64).round() as usize
    );
    // Every row carries the calibrated scores and an LR with its words.
    assert!(
        t.rows
            .iter()
            .all(|r| r.c_score.is_some() && r.pic_score.is_some())
    );
    assert!(
        t.rows
            .iter()
            .all(|r| r.log10_lr.is_some() && r.verbal.is_some())
    );
    let row = &t.rows[0];
    assert_eq!(
        row.decision,
        Some(cal.file.fitted.decide(row.similarity.unwrap()))
    );
}

#[test]
fn sorting_and_filters_on_the_real_table() {
    let t = orl();
    let all = Filter::default();
    let desc = t.view(&all, Column::Similarity, true);
    assert_eq!(desc.len(), t.rows.len());
    assert!(desc.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    // The hardest impostor: the impostor pair that scores highest.
    let imp = Filter {
        genuine: Some(false),
        ..Filter::default()
    };
    let top = t.view(&imp, Column::Similarity, true)[0];
    let max_imp = t.scores().impostor.into_iter().fold(f64::MIN, f64::max);
    assert_eq!(top.similarity, Some(max_imp));
    assert!(!top.genuine && top.identity_a != top.identity_b);
    // Errors only: exactly the false matches and false non-matches.
    let errors = Filter {
        errors_only: true,
        ..Filter::default()
    };
    let e = t.view(&errors, Column::Id, false);
    let s = t.summary();
    assert_eq!(e.len(), s.false_matches + s.false_non_matches);
    assert!(
        e.iter()
            .all(|r| (r.decision == Some(Decision::Match)) != r.genuine)
    );
    assert!(
        !e.is_empty(),
        "SFace makes some errors on ORL at its threshold"
    );
    // Text: identity s12 (not s1, s120…): rows naming it and only those.
    let text = Filter {
        text: Some("s12/".into()),
        genuine: Some(true),
        ..Filter::default()
    };
    let s12 = t.view(&text, Column::FileA, false);
    assert_eq!(s12.len(), 45);
    assert!(s12.windows(2).all(|w| w[0].file_a <= w[1].file_a));
    // Similarity range, sorted by LR: LR ascends with similarity on one calibration.
    let range = Filter {
        min_similarity: Some(0.3),
        max_similarity: Some(0.5),
        ..Filter::default()
    };
    let mid = t.view(&range, Column::Lr, false);
    let expect = t
        .rows
        .iter()
        .filter(|r| r.similarity.is_some_and(|s| (0.3..=0.5).contains(&s)))
        .count();
    assert_eq!(mid.len(), expect);
    assert!(
        mid.iter()
            .all(|r| r.similarity.is_some_and(|s| (0.3..=0.5).contains(&s)))
    );
    assert!(mid.windows(2).all(|w| w[0].log10_lr <= w[1].log10_lr));
    // Sorting by label then by pair id is stable: genuine rows first, pair order kept.
    let by_label = t.view(&all, Column::Label, false);
    let n_gen = s.genuine;
    assert!(by_label[..n_gen].iter().all(|r| r.genuine));
    assert!(by_label[..n_gen].windows(2).all(|w| w[0].id < w[1].id));
    assert!(Column::parse("nope").unwrap_err().contains("similarity"));
}

#[test]
fn moving_the_threshold_changes_decisions_not_scores() {
    let mut t = orl().clone();
    let before: Vec<Option<f64>> = t.rows.iter().map(|r| r.similarity).collect();
    let lr_before: Vec<Option<f64>> = t.rows.iter().map(|r| r.log10_lr).collect();
    t.set_threshold(1.01, "test".into());
    let s = t.summary();
    assert_eq!((s.false_matches, s.false_non_matches), (0, s.genuine));
    t.set_threshold(-1.01, "test".into());
    let s = t.summary();
    assert_eq!((s.false_matches, s.false_non_matches), (s.impostor, 0));
    assert_eq!(
        t.rows.iter().map(|r| r.similarity).collect::<Vec<_>>(),
        before
    );
    assert_eq!(
        t.rows.iter().map(|r| r.log10_lr).collect::<Vec<_>>(),
        lr_before
    );
}

#[test]
fn cli_writes_csv_and_json_that_read_back() {
    orl(); // the embedding cache is filled
    let tmp = tempfile::tempdir().unwrap();
    let (csv, json) = (tmp.path().join("t.csv"), tmp.path().join("t.json"));
    let orl_dir = data("orl");
    let (code, out, err) = facexplain(&[
        "explore",
        "--dataset",
        orl_dir.to_str().unwrap(),
        "--errors-only",
        "--sort",
        "-similarity",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("pairs: 1800 genuine and 78000 impostor pairs (all"),
        "{out}"
    );
    assert!(out.contains("EER "), "{out}");
    let s = orl().summary();
    let n = s.false_matches + s.false_non_matches;
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["schema"], "facexplain.explore/2");
    assert_eq!(j["pairs"]["selection"], "all");
    assert_eq!(j["summary"]["eer"].as_f64(), s.eer);
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), n);
    let sims: Vec<f64> = rows
        .iter()
        .map(|r| r["similarity"].as_f64().unwrap())
        .collect();
    assert!(sims.windows(2).all(|w| w[0] >= w[1]));
    assert!(rows.iter().all(|r| r["correct"] == false));
    assert!(rows.iter().all(|r| r.get("failed").is_none()));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..3], ["pair", "file_a", "file_b"]);
    let sim_col = header.iter().position(|h| *h == "similarity").unwrap();
    let body: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(body.len(), n);
    for (row, json_row) in body.iter().zip(rows) {
        assert_eq!(row.len(), header.len());
        assert_eq!(
            row[sim_col].parse::<f64>().unwrap(),
            json_row["similarity"].as_f64().unwrap()
        );
        assert_eq!(row[1], json_row["file_a"].as_str().unwrap());
    }
    assert!(text.starts_with("# facexplain explore: orl, 1800 genuine"));
}

#[test]
fn an_empty_folder_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = Table::build(models(), &empty, &options(None), None, None, Ctl::none()).unwrap_err();
    assert!(err.is_bad_input());
    assert!(err.to_string().contains(empty.to_str().unwrap()), "{err}");
    let (code, _, stderr) = facexplain(&["explore", "--dataset", empty.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("empty"), "{stderr}");
}

/// ORL's s1–s3 (faces 1–4) and an unreadable s2/11.pgm, in a temporary folder.
fn small_set_with_a_broken_image() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for id in ["s1", "s2", "s3"] {
        std::fs::create_dir_all(tmp.path().join("set").join(id)).unwrap();
        for n in 1..=4 {
            let f = format!("{id}/{n}.pgm");
            std::fs::copy(data("orl").join(&f), tmp.path().join("set").join(&f)).unwrap();
        }
    }
    std::fs::write(tmp.path().join("set/s2/11.pgm"), b"P5\n92 112\n255\nshort").unwrap();
    tmp
}

#[test]
fn pairs_files_lfw_and_csv_mark_missing_and_unreadable_images() {
    let tmp = small_set_with_a_broken_image();
    let set = tmp.path().join("set");
    let lfw = tmp.path().join("pairs.txt");
    std::fs::write(
        &lfw,
        "4\ns1 1 2\ns1 1 s2 3\ns7 99 s1 1\ns2 1 11\ns1 3 s3 4\n",
    )
    .unwrap();
    let csv = tmp.path().join("pairs.csv");
    std::fs::write(
        &csv,
        "a,b,label\ns1/1.pgm,s1/2.pgm,1\ns1/1.pgm,s2/3.pgm,0\ns7/99.pgm,s1/1.pgm,0\ns2/1.pgm,s2/11.pgm,1\ns1/3.pgm,s3/4.pgm\n",
    )
    .unwrap();
    let build = |pairs: &Path| {
        Table::build(
            models(),
            &set,
            &options(Some(pairs)),
            None,
            None,
            Ctl::none(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", pairs.display()))
    };
    let (a, b) = (build(&lfw), build(&csv));
    for t in [&a, &b] {
        // Every listed pair, in list order; the missing and the unreadable marked.
        assert_eq!(t.rows.len(), 5);
        assert_eq!(t.pairs.selection, "pairs list");
        assert_eq!(t.pairs.dropped, 2);
        let labels: Vec<bool> = t.rows.iter().map(|r| r.genuine).collect();
        assert_eq!(labels, [true, false, false, true, false]);
        let scored: Vec<usize> = t
            .rows
            .iter()
            .filter(|r| r.similarity.is_some())
            .map(|r| r.id)
            .collect();
        assert_eq!(scored, [0, 1, 4]);
        let missing = t.rows[2].failed.as_deref().unwrap();
        assert!(
            missing.contains("line 4") && missing.contains("s7"),
            "{missing}"
        );
        let broken = t.rows[3].failed.as_deref().unwrap();
        assert!(broken.starts_with("s2/11.pgm: "), "{broken}");
        assert_eq!(t.summary().failed, 2);
        assert!(
            t.sampling().contains("2 listed pairs without a score"),
            "{}",
            t.sampling()
        );
    }
    // The two formats name the same pairs: the same files, scores and verdicts.
    for (x, y) in a.rows.iter().zip(&b.rows) {
        if x.id != 2 {
            assert_eq!((&x.file_a, &x.file_b), (&y.file_a, &y.file_b));
        }
        assert_eq!(x.similarity, y.similarity);
        assert_eq!((x.quality_a, x.quality_b), (y.quality_a, y.quality_b));
    }
    assert_eq!(a.rows[2].file_a, "s7/#99");
    assert_eq!(b.rows[2].file_a, "s7/99.pgm");
    // calibrate and eval refuse a list naming a missing image, naming the line.
    let e = match collect(pipeline(), &set, &options(Some(&csv)), None, Ctl::none()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("collect used a list naming a missing image"),
    };
    assert!(
        e.contains("pairs.csv") && e.contains("line 4") && e.contains("s7/99.pgm"),
        "{e}"
    );
    // The CLI writes the same rows.
    let json = tmp.path().join("t.json");
    let (code, out, err) = facexplain(&[
        "explore",
        "--dataset",
        set.to_str().unwrap(),
        "--pairs",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("2 pairs without a score"), "{out}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[2]["file_a"], "s7/99.pgm");
    assert!(rows[2]["failed"].as_str().unwrap().contains("no such file"));
}

#[test]
fn above_the_limit_impostors_are_a_stated_seeded_sample() {
    orl(); // the embedding cache is filled
    let opts = CollectOptions {
        max_impostors: 1000,
        seed: 7,
        ..options(None)
    };
    let build = || Table::build(models(), &data("orl"), &opts, None, None, Ctl::none()).unwrap();
    let (a, b) = (build(), build());
    assert_eq!(a.rows, b.rows, "the same seed gives the same sample");
    assert_eq!((a.pairs.genuine, a.pairs.impostor), (1800, 1000));
    assert_eq!(a.pairs.selection, "seeded random sample");
    assert_eq!(a.pairs.seed, Some(7));
    assert!(a.sampling().contains("seed 7"), "{}", a.sampling());
    assert!(a.csv(&[]).contains("seed 7"));
    let other = Table::build(
        models(),
        &data("orl"),
        &CollectOptions {
            seed: 8,
            ..opts.clone()
        },
        None,
        None,
        Ctl::none(),
    )
    .unwrap();
    assert_ne!(a.rows, other.rows, "another seed, another sample");
}

#[test]
fn csv_quotes_names_with_commas_and_quotes() {
    let mut t = orl().clone();
    t.rows.truncate(1);
    t.rows[0].file_a = "s1/a, \"b\".pgm".into();
    let text = t.csv(&t.rows.iter().collect::<Vec<_>>());
    let line = text.lines().filter(|l| !l.starts_with('#')).nth(1).unwrap();
    assert!(line.starts_with("0,\"s1/a, \"\"b\"\".pgm\","), "{line}");
}

#[test]
fn streamed_rows_are_the_final_tables_pairs_with_the_same_scores() {
    orl(); // the embedding cache is filled
    let p = pipeline();
    let cal = Calibration::default_for(&p.model).unwrap();
    let mut streamed = Vec::new();
    let mut batches = 0;
    let t = Table::build_streaming(
        models(),
        &data("orl"),
        &options(None),
        Some(cal),
        None,
        Ctl::none(),
        &mut |rows| {
            batches += 1;
            streamed.extend(rows)
        },
    )
    .unwrap();
    // 400 images in chunks of CHUNK: the rows arrive in many batches.
    assert!(batches >= 400 / facexplain::explore::CHUNK - 1, "{batches}");
    let key = |r: &facexplain::explore::Row| {
        let (a, b) = if r.file_a <= r.file_b {
            (&r.file_a, &r.file_b)
        } else {
            (&r.file_b, &r.file_a)
        };
        (
            a.clone(),
            b.clone(),
            r.similarity.map(f64::to_bits),
            r.decision.map(|d| d.as_str()),
            r.log10_lr.map(f64::to_bits),
        )
    };
    let mut got: Vec<_> = streamed.iter().map(key).collect();
    let mut want: Vec<_> = t.rows.iter().map(key).collect();
    got.sort();
    want.sort();
    assert_eq!(got.len(), 79_800);
    assert!(got == want, "the preview and the final table differ");
    assert_eq!(t.rows, orl().rows);
}

#[test]
fn the_fast_sort_orders_as_the_column_comparison_does() {
    // Rows of both labels, some failed (no score), some without an LR.
    let mut rows: Vec<_> = orl().rows.iter().step_by(37).cloned().collect();
    for r in rows.iter_mut().step_by(11) {
        r.similarity = None;
        r.decision = None;
        r.correct = None;
        r.c_score = None;
        r.pic_score = None;
        r.log10_lr = None;
        r.failed = Some("test".into());
    }
    // Some faces not assessed (no verdict sorts last).
    for r in rows.iter_mut().skip(3).step_by(7) {
        r.quality_a = None;
    }
    for r in rows.iter_mut().skip(5).step_by(13) {
        r.quality_b = None;
    }
    for col in Column::ALL {
        for desc in [false, true] {
            let got = facexplain::explore::sorted_view(&rows, &Filter::default(), col, desc);
            // The reference: a stable sort by the comparison, missing scores last.
            let missing = |r: &facexplain::explore::Row| match col {
                Column::QualityA => r.quality_a.is_none(),
                Column::QualityB => r.quality_b.is_none(),
                Column::Similarity | Column::Decision | Column::Correct => r.similarity.is_none(),
                Column::CScore => r.c_score.is_none(),
                Column::PicScore => r.pic_score.is_none(),
                Column::Lr => r.log10_lr.is_none(),
                _ => false,
            };
            let mut want: Vec<usize> = (0..rows.len()).collect();
            want.sort_by(|&a, &b| {
                let (x, y) = (&rows[a], &rows[b]);
                match (missing(x), missing(y)) {
                    (false, false) if desc => col.compare(x, y).reverse(),
                    (false, false) => col.compare(x, y),
                    (m, n) => m.cmp(&n),
                }
            });
            assert_eq!(got, want, "{col:?} desc={desc}");
        }
    }
}

#[test]
fn quality_verdicts_are_evals_per_image_and_filter_the_pairs() {
    let t = orl();
    assert_eq!(
        t.quality.as_deref(),
        Some(assessor().thresholds.identity.as_str())
    );
    // eval's verdicts: collected with the embeddings, as eval collects them.
    let c = collect(
        pipeline(),
        &data("orl"),
        &options(None),
        Some(assessor()),
        Ctl::none(),
    )
    .unwrap();
    // And every image detected and assessed again on its own, uncached
    // (the face aligned the default way, not the recogniser's).
    let d = Dataset::scan(&data("orl"), Ctl::none()).unwrap();
    let of: HashMap<&str, Option<Verdict>> = d
        .images
        .iter()
        .enumerate()
        .map(|(i, im)| {
            let det = pipeline().detect_file(&im.path).unwrap();
            let q = assessor()
                .assess_face(&det.image.rgb, &det.faces[0])
                .unwrap();
            assert_eq!(c.quality[i], Some(q.verdict), "{}", im.rel);
            (im.rel.as_str(), Some(q.verdict))
        })
        .collect();
    assert!(c.quality_failed.is_empty() && t.quality_failed.is_empty());
    for r in &t.rows {
        assert_eq!(r.quality_a, of[r.file_a.as_str()], "{}", r.file_a);
        assert_eq!(r.quality_b, of[r.file_b.as_str()], "{}", r.file_b);
    }
    // The quality filter partitions the pairs by the worse face's verdict.
    let mut total = 0;
    for q in [Verdict::Fit, Verdict::Limited, Verdict::Unfit] {
        let f = Filter {
            quality: Some(q),
            ..Filter::default()
        };
        let kept = t.view(&f, Column::Id, false);
        let want = t
            .rows
            .iter()
            .filter(|r| r.quality_a.unwrap().max(r.quality_b.unwrap()) == q)
            .count();
        assert_eq!(kept.len(), want, "{q}");
        // ORL's small faces give pairs of all three verdicts.
        assert!(!kept.is_empty(), "no {q} pair");
        assert!(kept.iter().all(|r| r.quality() == Some(q)));
        total += kept.len();
    }
    assert_eq!(total, t.rows.len());
    // Sorted by quality A, worst first.
    let worst = t.view(&Filter::default(), Column::QualityA, true);
    assert!(worst.windows(2).all(|w| w[0].quality_a >= w[1].quality_a));
    // The exports carry each face's verdict and the pair's.
    let rows: Vec<_> = t.rows.iter().take(3).collect();
    let j: Value = serde_json::from_str(&t.json(&rows)).unwrap();
    assert_eq!(
        j["quality_thresholds"].as_str(),
        Some(assessor().thresholds.identity.as_str())
    );
    for (r, jr) in rows.iter().zip(j["rows"].as_array().unwrap()) {
        assert_eq!(jr["quality_a"].as_str(), r.quality_a.map(|v| v.as_str()));
        assert_eq!(jr["quality"].as_str(), r.quality().map(|v| v.as_str()));
    }
    let csv = t.csv(&rows);
    let mut lines = csv.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    for (r, line) in rows.iter().zip(lines) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[col("quality_b")], r.quality_b.unwrap().as_str());
        assert_eq!(cells[col("quality")], r.quality().unwrap().as_str());
    }
    assert!(csv.contains("# quality verdicts by thresholds "), "{csv}");
}
