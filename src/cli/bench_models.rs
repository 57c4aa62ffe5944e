//! `facexplain bench-models` (and `bench --models`): the face recognisers
//! side by side (issue 19). Per model: load time, one forward pass (batch 1,
//! and per face at batch 32), an end-to-end compare of the pair, and the full
//! X-Map (I, II, III; p = 7/14/28; both faces) as the app runs it —
//! incremental where the model has spatial segments — and, with
//! `--whole-passes`, with whole forward passes too. Medians of `--reps`;
//! every figure also as a ratio of the first model's, measured in the same
//! run (on a shared host the ratios are what to compare, not the times).

use super::bench::median_ms;
use crate::explain::{self, ExplainParams, PartStats};
use crate::pipeline::embed::faces_to_tensor;
use crate::pipeline::{FaceAnalysis, Pipeline, Recogniser};
use crate::progress::Ctl;
use crate::record::params::XMapParams;
use crate::resources::ModelStore;
use clap::Args;
use image::RgbImage;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchModelsArgs {
    /// First image of the pair.
    #[arg(default_value = "data/face_recognition/obama.jpg")]
    pub a: PathBuf,
    /// Second image of the pair.
    #[arg(default_value = "data/face_recognition/obama2.jpg")]
    pub b: PathBuf,
    /// The recognisers to measure (comma-separated, or `all`); ratios are to the first.
    #[arg(long, default_value = "all")]
    pub models: String,
    /// Repetitions of the pass and compare timings (the median is printed).
    #[arg(long, default_value_t = 15)]
    pub reps: usize,
    /// Leave out the full X-Map (tens of seconds per model).
    #[arg(long)]
    pub no_xmap: bool,
    /// Also run the full X-Map with whole forward passes, for the models
    /// whose X-Map is otherwise incremental (SFace).
    #[arg(long)]
    pub whole_passes: bool,
}

pub fn run(a: BenchModelsArgs) -> anyhow::Result<()> {
    bench(&a.models, &a.a, &a.b, a.reps, !a.no_xmap, a.whole_passes)
}

/// One model's figures: load, pass (batch 1), per face (batch 32), compare, in ms.
struct Times {
    id: String,
    load: f64,
    pass: f64,
    per32: f64,
    compare: f64,
    /// The full X-Map as the app runs it, whether that is incremental, and with whole passes.
    xmap: Option<(PartStats, bool)>,
    whole: Option<PartStats>,
}

/// Measure every recogniser of `list` on the pair `a`, `b` and print the tables.
pub(crate) fn bench(
    list: &str,
    a: &Path,
    b: &Path,
    reps: usize,
    xmap: bool,
    whole_passes: bool,
) -> anyhow::Result<()> {
    let store = ModelStore::locate()?;
    let mut rows = Vec::new();
    for r in Recogniser::find_list(&store, list)? {
        let t0 = Instant::now();
        let mut p = Pipeline::with_recogniser(store.clone(), r)?;
        let load = t0.elapsed().as_secs_f64() * 1e3;
        let fa = p.analyze_file(a, None)?;
        let fb = p.analyze_file(b, None)?;
        let one = faces_to_tensor(&[&fa.aligned.crop]);
        let pass = median_ms(reps, || {
            Ok(p.embedder.embed_tensor(one.view()).map(|_| ())?)
        })?;
        let crops: Vec<&RgbImage> = (0..32).map(|_| &fa.aligned.crop).collect();
        let t32 = faces_to_tensor(&crops);
        let per32 = median_ms(reps.min(7), || {
            Ok(p.embedder.embed_tensor(t32.view()).map(|_| ())?)
        })? / 32.0;
        let compare = median_ms(reps.min(7), || {
            let (x, y) = (p.analyze_file(a, None)?, p.analyze_file(b, None)?);
            p.compare(&x, &y, p.default_threshold);
            Ok(())
        })?;
        let incremental = !p.embedder.stages().is_empty();
        let xmap = match xmap {
            true => Some((full_xmap(&p, [&fa, &fb])?, incremental)),
            false => None,
        };
        let whole = match xmap.is_some() && whole_passes && incremental {
            true => {
                p.embedder.whole_passes = true;
                let s = full_xmap(&p, [&fa, &fb])?;
                p.embedder.whole_passes = false;
                Some(s)
            }
            false => None,
        };
        rows.push(Times {
            id: p.recogniser.id().to_string(),
            load,
            pass,
            per32,
            compare,
            xmap,
            whole,
        });
    }
    print(&rows);
    Ok(())
}

/// The full X-Map of the pair (no regions: FaceMesh is not timed here).
fn full_xmap(p: &Pipeline, faces: [&FaceAnalysis; 2]) -> anyhow::Result<PartStats> {
    let params = ExplainParams {
        xmap: Some(XMapParams::default()),
        mery: None,
        greedy: None,
        faithfulness: None,
        ..ExplainParams::default()
    };
    let ex = explain::explain(&p.embedder, None, faces, &params, Ctl::none(), &mut |_| {})?;
    Ok(ex.xmap_stats)
}

fn print(rows: &[Times]) {
    let Some(first) = rows.first() else {
        return;
    };
    let ratio = |v: f64, base: f64| format!("({:.2}x)", v / base);
    println!(
        "{:<14} {:>8} {:>19} {:>21} {:>19}",
        "model", "load ms", "pass ms (batch 1)", "ms/face (batch 32)", "compare ms"
    );
    for t in rows {
        println!(
            "{:<14} {:>8.0} {:>11.2} {:>7} {:>13.2} {:>7} {:>11.2} {:>7}",
            t.id,
            t.load,
            t.pass,
            ratio(t.pass, first.pass),
            t.per32,
            ratio(t.per32, first.per32),
            t.compare,
            ratio(t.compare, first.compare)
        );
    }
    let Some((base, _)) = first.xmap else {
        return;
    };
    println!(
        "\nfull X-Map (I, II, III; p = 7/14/28; both faces), as the app runs it{}:",
        if rows.iter().any(|t| t.whole.is_some()) {
            ", then with whole passes"
        } else {
            ""
        }
    );
    println!(
        "{:<14} {:<12} {:>7} {:>17} {:>16} {:>7}",
        "model", "X-Map", "passes", "wall s", "ms/pass", "model %"
    );
    let line = |id: &str, how: &str, s: &PartStats| {
        let per = s.total_ms / s.passes.max(1) as f64;
        println!(
            "{id:<14} {how:<12} {:>7} {:>9.2} {:>7} {per:>8.2} {:>7} {:>7.1}",
            s.passes,
            s.total_ms / 1e3,
            ratio(s.total_ms, base.total_ms),
            ratio(per, base.total_ms / base.passes.max(1) as f64),
            100.0 * s.model_ms / s.total_ms.max(1e-9)
        );
    };
    for t in rows {
        if let Some((s, incremental)) = &t.xmap {
            line(&t.id, if *incremental { "incremental" } else { "whole" }, s);
        }
        if let Some(s) = &t.whole {
            line(&t.id, "whole", s);
        }
    }
}
