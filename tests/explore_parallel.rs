//! Opening a data set on several workers side by side (real models, ORL
//! faces): each worker's single-threaded detector, FaceMesh and embedder
//! lane give the numbers the pipeline's own sessions give, bit for bit, and
//! the images' results reach the caller in the data set's order, as one
//! image after the other with the pipeline's sessions gave them before.

mod common;

use common::data;
use facexplain::calibration::fit::dataset::Dataset;
use facexplain::calibration::fit::embedding::{EmbeddingCache, Origin, Sources};
use facexplain::calibration::fit::image_workers::for_each_image;
use facexplain::pipeline::Pipeline;
use facexplain::progress::Ctl;
use facexplain::quality::{Assessor, Thresholds};
use std::collections::BTreeSet;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn every_worker_analyses_and_assesses_as_the_pipeline_does_bit_for_bit() {
    let p = Pipeline::load().expect("models");
    let a = Assessor::load(&p.store, Thresholds::builtin()).expect("FaceMesh");
    if facexplain::pipeline::runtime::cores() >= 2 && std::env::var_os("FACEXPLAIN_LANES").is_none()
    {
        assert!(p.worker_count() >= 2, "one worker per core");
    }
    let workers: Vec<_> = (0..p.worker_count())
        .map(|k| p.worker(k).unwrap())
        .collect();
    for w in &workers {
        assert_eq!(w.owns_sessions(), p.worker_count() > 1);
    }
    let copies: Vec<Assessor> = workers
        .iter()
        .map(|w| a.for_worker(&p.store, w.threads()).unwrap())
        .collect();
    for id in 1..=40 {
        let f = data("orl")
            .join(format!("s{id}"))
            .join(format!("{}.pgm", 1 + id % 10));
        let want = p.analyze_file(&f, None).unwrap();
        let q = a.assess(&want).unwrap();
        for (w, c) in workers.iter().zip(&copies) {
            let got = w.analyze_file(&f).unwrap();
            assert_eq!(got.faces, want.faces, "{}", f.display());
            assert_eq!(
                bits(&got.embedding),
                bits(&want.embedding),
                "{}",
                f.display()
            );
            assert_eq!(c.assess(&got).unwrap(), q, "{}", f.display());
        }
    }
}

#[test]
fn results_come_in_data_set_order_equal_to_one_image_after_the_other() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    for id in ["s11", "s12", "s13"] {
        std::fs::create_dir_all(set.join(id)).unwrap();
        for n in 1..=6 {
            let f = format!("{n}.pgm");
            std::fs::copy(data("orl").join(id).join(&f), set.join(id).join(&f)).unwrap();
        }
    }
    // An image without a face and an unreadable one, among the faces.
    let mut grey = b"P5\n92 112\n255\n".to_vec();
    grey.extend(std::iter::repeat_n(128u8, 92 * 112));
    std::fs::write(set.join("s12/0grey.pgm"), grey).unwrap();
    std::fs::write(set.join("s13/0broken.pgm"), b"P5\n92 112\n255\nshort").unwrap();
    let p = Pipeline::load().expect("models");
    let a = Assessor::load(&p.store, Thresholds::builtin()).expect("FaceMesh");
    let d = Dataset::scan(&set, Ctl::none()).unwrap();
    let all: BTreeSet<usize> = (0..d.images.len()).collect();
    let cache = EmbeddingCache::at(tmp.path().join("cache"));
    // Every image's (index, result, origin), as handed on.
    let pass = || {
        let mut seen = Vec::new();
        for_each_image(
            &p,
            &d,
            &all,
            Sources::from(&cache),
            Some(&a),
            Ctl::none(),
            &mut |i, r, o| {
                seen.push((i, r.clone(), o));
            },
        )
        .unwrap();
        seen
    };
    let seen = pass();
    assert_eq!(
        seen.iter().map(|s| s.0).collect::<Vec<_>>(),
        (0..d.images.len()).collect::<Vec<_>>()
    );
    assert!(seen.iter().all(|s| s.2 == Origin::Computed));
    // Before the workers: the pipeline's own sessions, one image after the other.
    for (i, r, _) in &seen {
        let im = &d.images[*i];
        match p.analyze_file(&im.path, None) {
            Ok(want) => {
                assert_eq!(r.face.as_ref(), Some(want.face()), "{}", im.rel);
                assert_eq!(r.faces_found, want.faces.len());
                let got = &r.embedding.as_ref().unwrap().0;
                assert_eq!(bits(got), bits(&want.embedding), "{}", im.rel);
                assert_eq!(
                    r.quality.as_ref(),
                    Some(&a.assess(&want).unwrap()),
                    "{}",
                    im.rel
                );
            }
            Err(e) => {
                assert!(
                    im.rel.contains("0grey") || im.rel.contains("0broken"),
                    "{}: {e}",
                    im.rel
                );
                let why = r.failed.as_deref().unwrap();
                assert!(e.to_string().ends_with(why), "{why} / {e}");
            }
        }
    }
    // A second pass reads the cache: the same results (the unreadable image is read again).
    let again = pass();
    for ((i, r, o), (_, first, _)) in again.iter().zip(&seen) {
        assert_eq!(r, first, "{}", d.images[*i].rel);
        assert_eq!(
            *o == Origin::Computed,
            d.images[*i].rel.contains("0broken"),
            "{}",
            d.images[*i].rel
        );
    }
    assert_eq!(again.len(), seen.len());
}
