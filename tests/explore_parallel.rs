//! Opening a data set on several workers side by side (real models, ORL
//! faces): each worker's single-threaded detector, FaceMesh and embedder
//! lane give the numbers the pipeline's own sessions give, bit for bit.

mod common;

use common::data;
use facexplain::pipeline::Pipeline;
use facexplain::quality::{Assessor, Thresholds};

#[test]
fn every_worker_analyses_and_assesses_as_the_pipeline_does_bit_for_bit() {
    let p = Pipeline::load().expect("models");
    let a = Assessor::load(&p.store, Thresholds::builtin()).expect("FaceMesh");
    let workers = p.workers().expect("workers");
    let threads = p.embedder.lane_threads();
    let copies: Vec<Assessor> = workers
        .iter()
        .map(|_| a.for_worker(&p.store, threads).unwrap())
        .collect();
    let mut n = 0;
    for id in 1..=40 {
        for k in [1, 7] {
            let f = data("orl").join(format!("s{id}")).join(format!("{k}.pgm"));
            let want = p.analyze_file(&f, None).unwrap();
            let q = a.assess(&want).unwrap();
            for (w, c) in workers.iter().zip(&copies) {
                let got = w.analyze_file(&f).unwrap();
                assert_eq!(got.faces, want.faces, "{}", f.display());
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got.embedding),
                    bits(&want.embedding),
                    "{}",
                    f.display()
                );
                assert_eq!(c.assess(&got).unwrap(), q, "{}", f.display());
            }
            n += 1;
        }
    }
    assert_eq!(n, 80);
}
