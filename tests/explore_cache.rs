//! The explorer's on-disk embedding cache and its failed images, through
//! the real binary with the real models and ORL faces, each run with its own
//! cache folder (`XDG_CACHE_HOME`): a second open runs no model, an edited
//! image (new SHA-256) is embedded again, a corrupt entry is warned about and
//! recomputed, and pairs of an image without a face or an unreadable one
//! stay in the table marked with the reason.

mod common;

use common::data;
use facexplain::calibration::fit::dataset::Dataset;
use facexplain::calibration::fit::embedding::{EmbeddingCache, Sources, embed_images};
use facexplain::pipeline::Pipeline;
use facexplain::progress::Ctl;
use facexplain::quality::{Assessor, Thresholds};
use facexplain::resources::hash::sha256_file;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// `facexplain explore --dataset DIR --json OUT` with `cache` as the user cache folder.
fn explore(dir: &Path, cache: &Path, json: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_facexplain"))
        .args(["explore", "--dataset"])
        .arg(dir)
        .arg("--json")
        .arg(json)
        .env("XDG_CACHE_HOME", cache)
        .env("FACEXPLAIN_LOG", "facexplain=warn")
        .output()
        .expect("run facexplain");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    (stdout, stderr)
}

/// (from the cache, computed) as `explore` reports them.
fn counts(stdout: &str) -> (usize, usize) {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("embeddings: "))
        .unwrap_or_else(|| panic!("no embeddings line in {stdout}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    (n[0], n[1])
}

/// file_a|file_b → similarity (None for a failed pair), the failure and
/// the faces' quality verdicts.
type Listed = (String, Option<f64>, Option<String>, [Option<String>; 2]);

fn rows(json: &Path) -> Vec<Listed> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}|{}",
                    r["file_a"].as_str().unwrap(),
                    r["file_b"].as_str().unwrap()
                ),
                r["similarity"].as_f64(),
                r["failed"].as_str().map(str::to_string),
                ["quality_a", "quality_b"].map(|k| r[k].as_str().map(str::to_string)),
            )
        })
        .collect()
}

/// A grey 92×112 PGM: an image without a face.
fn grey_pgm() -> Vec<u8> {
    let mut b = b"P5\n92 112\n255\n".to_vec();
    b.extend(std::iter::repeat_n(128u8, 92 * 112));
    b
}

/// Two ORL identities of four faces each, plus a faceless image in s2.
fn small_set(root: &Path) {
    for id in ["s1", "s2"] {
        std::fs::create_dir_all(root.join(id)).unwrap();
        for n in 1..=4 {
            let f = format!("{n}.pgm");
            std::fs::copy(data("orl").join(id).join(&f), root.join(id).join(&f)).unwrap();
        }
    }
    std::fs::write(root.join("s2/grey.pgm"), grey_pgm()).unwrap();
}

#[test]
fn reopening_is_served_from_the_cache_and_edits_are_reembedded() {
    let tmp = tempfile::tempdir().unwrap();
    let (set, cache) = (tmp.path().join("set"), tmp.path().join("cache"));
    small_set(&set);
    let j = |n: &str| tmp.path().join(format!("{n}.json"));

    let (out, _) = explore(&set, &cache, &j("first"));
    assert_eq!(counts(&out), (0, 9), "{out}");
    let first = rows(&j("first"));
    // 2·C(4,2) genuine + 4·4 impostor scored; the grey image's 4 genuine and 4 impostor pairs failed.
    assert_eq!(first.len(), 12 + 16 + 8);
    let failed: Vec<_> = first.iter().filter(|r| r.1.is_none()).collect();
    assert_eq!(failed.len(), 8);
    // Every face has its quality verdict; the faceless image none.
    for (pair, sim, _, q) in &first {
        let [a, b] = q;
        assert_eq!(a.is_some(), !pair.starts_with("s2/grey.pgm"), "{pair}");
        assert_eq!(b.is_some(), !pair.ends_with("s2/grey.pgm"), "{pair}");
        assert!(sim.is_none() || (a.is_some() && b.is_some()), "{pair}");
    }
    for (pair, _, why, _) in &failed {
        assert!(pair.contains("s2/grey.pgm"), "{pair}");
        let why = why.as_deref().unwrap();
        assert!(
            why.starts_with("s2/grey.pgm: ") && why.contains("face"),
            "{why}"
        );
    }
    assert!(out.contains("8 pairs without a score"), "{out}");

    // Reopened: every image (the faceless one too) from the cache, no model
    // run, the same table (quality verdicts included).
    let (out, _) = explore(&set, &cache, &j("second"));
    assert_eq!(counts(&out), (9, 0), "{out}");
    assert_eq!(rows(&j("second")), first);

    // An edited image has a new SHA-256: it alone is embedded again, and only its pairs move.
    let f = set.join("s1/1.pgm");
    let mut bytes = std::fs::read(&f).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n - 2000..n - 1000] {
        *b = b.saturating_add(25);
    }
    std::fs::write(&f, &bytes).unwrap();
    let (out, _) = explore(&set, &cache, &j("edited"));
    assert_eq!(counts(&out), (8, 1), "{out}");
    let edited = rows(&j("edited"));
    for (a, b) in first.iter().zip(&edited) {
        assert_eq!(a.0, b.0);
        if a.0.contains("s1/1.pgm") && a.1.is_some() {
            assert_ne!(a.1, b.1, "{} kept its old score", a.0);
        } else {
            assert_eq!(a.1, b.1, "{} changed", a.0);
        }
    }

    // A corrupt entry (the right size for a few floats, not an embedding) is
    // warned about and recomputed; the scores are those of a clean run.
    let sha = sha256_file(&set.join("s2/1.pgm")).unwrap();
    let entry = walk(&cache)
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy() == format!("{sha}.json"))
        })
        .expect("the cache entry of s2/1.pgm");
    std::fs::write(&entry, [0u8, 0, 128, 63, 0, 0, 128, 63]).unwrap();
    let (out, err) = explore(&set, &cache, &j("repaired"));
    assert_eq!(counts(&out), (8, 1), "{out}");
    assert!(err.contains("corrupt entry") && err.contains(&sha), "{err}");
    assert_eq!(rows(&j("repaired")), edited);
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn an_unreadable_image_marks_its_pairs_and_the_rest_are_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    small_set(&set);
    std::fs::write(set.join("s1/broken.pgm"), b"P5\n92 112\n255\nshort").unwrap();
    let json = tmp.path().join("t.json");
    let (out, _) = explore(&set, &tmp.path().join("cache"), &json);
    assert!(out.contains("skipped s1/broken.pgm: "), "{out}");
    let r = rows(&json);
    let broken: Vec<_> = r.iter().filter(|r| r.0.contains("s1/broken.pgm")).collect();
    assert!(out.contains("quality verdicts by thresholds"), "{out}");
    // With each of the 8 other faces and with the grey image (listed once).
    assert_eq!(broken.len(), 9);
    assert!(broken.iter().all(|r| r.1.is_none()));
    let why = broken[0].2.as_deref().unwrap();
    assert!(why.contains("s1/broken.pgm: "), "{why}");
    // The faces' pairs are all scored.
    assert_eq!(r.iter().filter(|r| r.1.is_some()).count(), 28);
}

#[test]
fn an_older_cache_format_is_ignored_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let (set, cache) = (tmp.path().join("set"), tmp.path().join("cache"));
    small_set(&set);
    // A format-1 entry (raw unit-length floats) for every image, in the
    // folder format 1 used for these models.
    let p = Pipeline::load().expect("models");
    let old = cache
        .join("facexplain/embeddings")
        .join(EmbeddingCache::folder_name(&p, 1));
    std::fs::create_dir_all(&old).unwrap();
    let unit: Vec<u8> = (0..128)
        .flat_map(|i| if i == 0 { 1f32 } else { 0f32 }.to_le_bytes())
        .collect();
    for f in walk(&set) {
        let sha = sha256_file(&f).unwrap();
        std::fs::write(old.join(format!("{sha}.f32")), &unit).unwrap();
    }
    assert_ne!(
        EmbeddingCache::folder_name(&p, 1),
        EmbeddingCache::folder_name(&p, 3)
    );
    let json = tmp.path().join("t.json");
    let (out, err) = explore(&set, &cache, &json);
    assert_eq!(counts(&out), (0, 9), "{out}");
    assert!(
        err.contains("older format") && err.contains(old.to_str().unwrap()),
        "{err}"
    );
    // Warned once, not once per entry.
    assert_eq!(err.matches("older format").count(), 1, "{err}");
    // The scores are real ones, not the old entries' (all equal to 1 there).
    assert!(rows(&json).iter().any(|r| r.1.is_some_and(|s| s < 0.99)));
}

#[test]
fn entries_without_quality_are_assessed_again_when_verdicts_are_wanted() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    small_set(&set);
    let p = Pipeline::load().expect("models");
    let a = Assessor::load(&p.store, Thresholds::builtin()).expect("FaceMesh");
    let cache = EmbeddingCache::at(tmp.path().join("cache"));
    let d = Dataset::scan(&set, Ctl::none()).unwrap();
    let all: BTreeSet<usize> = (0..d.images.len()).collect();
    // As `calibrate` embeds: no quality.
    let plain = embed_images(&p, &d, &all, Sources::from(&cache), None, Ctl::none()).unwrap();
    assert_eq!(plain.cache_hits, 0);
    assert!(plain.quality.iter().all(Option::is_none));
    // The faces are assessed (and embedded) again; the faceless image is a hit.
    let q = embed_images(&p, &d, &all, Sources::from(&cache), Some(&a), Ctl::none()).unwrap();
    assert_eq!(q.cache_hits, 1);
    assert_eq!(q.embeddings, plain.embeddings);
    for (i, im) in d.images.iter().enumerate() {
        assert_eq!(
            q.quality[i].is_some(),
            im.rel != "s2/grey.pgm",
            "{}",
            im.rel
        );
    }
    // Now every entry serves both.
    let again = embed_images(&p, &d, &all, Sources::from(&cache), Some(&a), Ctl::none()).unwrap();
    assert_eq!(again.cache_hits, 9);
    assert_eq!(again.quality, q.quality);
    let plain2 = embed_images(&p, &d, &all, Sources::from(&cache), None, Ctl::none()).unwrap();
    assert_eq!(plain2.cache_hits, 9);
    assert!(plain2.quality.iter().all(Option::is_none));
    // Other thresholds: the verdicts are decided again.
    // (The same rules under another name: another identity.)
    let path = tmp.path().join("strict.json");
    std::fs::write(&path, facexplain::quality::verdict::BUILTIN_THRESHOLDS).unwrap();
    let strict = Assessor::load(&p.store, Thresholds::read(&path).unwrap()).unwrap();
    assert_ne!(strict.thresholds.identity, a.thresholds.identity);
    let other = embed_images(
        &p,
        &d,
        &all,
        Sources::from(&cache),
        Some(&strict),
        Ctl::none(),
    )
    .unwrap();
    assert_eq!(other.cache_hits, 1);
}
