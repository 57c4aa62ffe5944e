//! `facexplain faithfulness`: the deletion/insertion test of the greedy
//! deletion map GD (and, with `--xmap` / `--mery`, of those maps in the same
//! run) over genuine pairs, with the distribution of the deletion ratios.
//! Default pairs: the sample pair (used while building GD: a tuning pair),
//! the two other Obama pairs of `face_recognition/`, and ORL subjects s1–s10
//! (photos 1 and 2; never looked at while building GD).

use super::BadInput;
use super::progress::{TermProgress, ctrl_c_flag};
use crate::explain::{self, ExplainParams};
use crate::pipeline::Pipeline;
use crate::progress::Ctl;
use crate::record::FaithfulnessRecord;
use crate::resources::locate::{Kind, find_dir};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct FaithfulnessArgs {
    /// Pairs as `A,B` (image paths); default: 3 Obama pairs and ORL s1–s10.
    #[arg(value_name = "A,B")]
    pub pairs: Vec<String>,
    /// Also test the X-Maps (I, II, III; default parameters) in the same run.
    #[arg(long)]
    pub xmap: bool,
    /// Also test the Mery & Morris maps in the same run.
    #[arg(long)]
    pub mery: bool,
    /// The bar a map's mean deletion ratio must meet.
    #[arg(long, default_value_t = 0.67)]
    pub bar: f64,
    /// Write every pair's faithfulness record (curves included) to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// The default genuine pairs, with whether each was used while building GD.
fn default_pairs() -> Vec<(PathBuf, PathBuf, bool)> {
    let fr = find_dir(Kind::Data, &["face_recognition/obama.jpg"]).join("face_recognition");
    let mut out = vec![
        (fr.join("obama.jpg"), fr.join("obama2.jpg"), true),
        (fr.join("obama.jpg"), fr.join("obama3.jpg"), false),
        (fr.join("obama2.jpg"), fr.join("obama3.jpg"), false),
    ];
    let orl = find_dir(Kind::Data, &["orl/s1/1.pgm"]).join("orl");
    for s in 1..=10 {
        let d = orl.join(format!("s{s}"));
        out.push((d.join("1.pgm"), d.join("2.pgm"), false));
    }
    out
}

/// One line per map: deletion and insertion AUC ratios (the CLI's and `compare`'s summary).
pub fn lines(f: &FaithfulnessRecord) -> String {
    let mut s = String::from(
        "faithfulness (deletion ratio: lower = more faithful; insertion ratio: higher; 1 = random 8×8 tiles)",
    );
    let r = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}×"));
    for m in &f.maps {
        s.push_str(&format!(
            "\n  {:<10} face {}  deletion {:>6}  insertion {:>6}",
            m.name,
            m.face,
            r(m.deletion_ratio),
            r(m.insertion_ratio)
        ));
    }
    s
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (i.floor() as usize, i.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo as f64)
}

pub fn run(a: FaithfulnessArgs) -> anyhow::Result<()> {
    let pairs: Vec<(PathBuf, PathBuf, bool)> = if a.pairs.is_empty() {
        default_pairs()
    } else {
        a.pairs
            .iter()
            .map(|p| match p.split_once(',') {
                Some((x, y)) => Ok((PathBuf::from(x), PathBuf::from(y), false)),
                None => Err(BadInput(format!("{p:?}: a pair is written A,B"))),
            })
            .collect::<Result<_, _>>()?
    };
    let pipeline = Pipeline::load()?;
    let params = ExplainParams {
        xmap: a.xmap.then(Default::default),
        mery: a.mery.then(Default::default),
        greedy: Some(Default::default()),
        faithfulness: Some(Default::default()),
        ..ExplainParams::default()
    };
    let cancel = ctrl_c_flag();
    // name → deletion ratios over every pair and face (untuned pairs only in the second list).
    let mut ratios: std::collections::BTreeMap<String, (Vec<f64>, Vec<f64>)> = Default::default();
    let mut times: std::collections::BTreeMap<&str, f64> = Default::default();
    let mut records = Vec::new();
    for (x, y, tuning) in &pairs {
        let fa = pipeline.analyze_file(x, None)?;
        let fb = pipeline.analyze_file(y, None)?;
        let sim = crate::pipeline::embed::cosine(&fa.embedding, &fb.embedding);
        let bar = TermProgress::new();
        let progress = |p| bar.update(p);
        let ex = explain::explain(
            &pipeline.embedder,
            None,
            [&fa, &fb],
            &params,
            Ctl::new(&progress, &cancel),
            &mut |_| {},
        );
        bar.finish();
        let ex = ex?;
        let Some(f) = &ex.faithfulness else {
            continue;
        };
        *times.entry("xmap").or_default() += ex.xmap_stats.total_ms;
        *times.entry("gd").or_default() += ex.greedy_stats.total_ms;
        *times.entry("faithfulness").or_default() += ex.faithfulness_stats.total_ms;
        let name = format!("{} – {}", x.display(), y.display());
        println!(
            "{name}  similarity {sim:.3}{}",
            if *tuning { "  (tuning pair)" } else { "" }
        );
        println!("{}", lines(f));
        for m in &f.maps {
            if let Some(r) = m.deletion_ratio {
                let e = ratios.entry(m.name.clone()).or_default();
                e.0.push(r);
                if !tuning {
                    e.1.push(r);
                }
            }
        }
        records.push(serde_json::json!({"a": x, "b": y, "similarity": sim, "tuning": tuning, "faithfulness": f}));
    }
    println!(
        "\ndeletion ratio per map over {} pairs (both faces; lower = more faithful; bar {:.2}×)",
        records.len(),
        a.bar
    );
    println!(
        "  {:<10} {:>4} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8}   untuned: n, mean",
        "map", "n", "mean", "min", "median", "p90", "max", "≤ bar"
    );
    for (name, (all, untuned)) in &ratios {
        let mut s = all.clone();
        s.sort_by(f64::total_cmp);
        let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
        let under = s.iter().filter(|&&r| r <= a.bar).count();
        let um = untuned.iter().sum::<f64>() / untuned.len().max(1) as f64;
        println!(
            "  {name:<10} {:>4} {mean:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>4}/{:<3}   {}, {um:.3}",
            s.len(),
            s[0],
            quantile(&s, 0.5),
            quantile(&s, 0.9),
            s[s.len() - 1],
            under,
            s.len(),
            untuned.len()
        );
    }
    println!(
        "time: GD {:.1} s, faithfulness tests {:.1} s{}",
        times.get("gd").copied().unwrap_or(0.0) / 1e3,
        times.get("faithfulness").copied().unwrap_or(0.0) / 1e3,
        if a.xmap {
            format!(
                ", X-Maps {:.1} s (GD/X-Map {:.2}×)",
                times["xmap"] / 1e3,
                times["gd"] / times["xmap"].max(1e-9)
            )
        } else {
            String::new()
        }
    );
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&records)?;
        crate::record::safe_write::write_atomic(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
        println!("records written to {}", path.display());
    }
    Ok(())
}
