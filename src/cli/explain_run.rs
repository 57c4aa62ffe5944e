//! `compare … --explain xmap,mery [--out-dir DIR]`: run the explanations with
//! a terminal progress bar (Ctrl-C cancels), write the crops, maps and tables,
//! and add them to the analysis record.

use super::BadInput;
use super::progress::{TermProgress, ctrl_c_flag};
use crate::explain::{self, ExplainError, ExplainParams, output};
use crate::pipeline::facemesh::FaceMesh;
use crate::pipeline::{FaceAnalysis, Pipeline};
use crate::progress::Ctl;
use crate::record::Analysis;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Explanation methods selectable on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainKind {
    /// X-Maps I, II, III (Knoche et al.): similar/dissimilar regions of both faces.
    Xmap,
    /// Mery & Morris S0−, S1−, S0+, S1+, AVG on both faces, with the explainability table.
    Mery,
    /// The greedy deletion map GD of both faces (a column of the saliency table).
    Gd,
}

#[derive(Args, Debug, Default)]
pub struct ExplainArgs {
    /// Explain the decision with these methods (comma-separated): xmap, mery, gd.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub explain: Vec<ExplainKind>,
    /// Also measure every map's faithfulness (deletion and insertion against random 8×8 tiles).
    #[arg(long)]
    pub faithfulness: bool,
    /// Folder for the aligned crops, the maps (.npy and PNG) and the region labels
    /// [default: explain-<A>-<B> beside the JSON, or in the current folder].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

fn to_anyhow(e: ExplainError) -> anyhow::Error {
    match e {
        ExplainError::Pipeline(p) => p.into(),
        e if e.is_bad_input() => BadInput(e.to_string()).into(),
        e => e.into(),
    }
}

/// Explain a compared pair and record the results in `analysis`.
pub fn run(
    args: &ExplainArgs,
    pipeline: &Pipeline,
    faces: [&FaceAnalysis; 2],
    json: Option<&std::path::Path>,
    analysis: &mut Analysis,
) -> anyhow::Result<()> {
    if args.explain.is_empty() {
        return Ok(());
    }
    let mut params = ExplainParams::default();
    if !args.explain.contains(&ExplainKind::Xmap) {
        params.xmap = None;
    }
    if !args.explain.contains(&ExplainKind::Mery) {
        params.mery = None;
    }
    if args.explain.contains(&ExplainKind::Gd) {
        params.greedy = Some(Default::default());
    }
    if args.faithfulness {
        params.faithfulness = Some(Default::default());
    }
    let dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| explain::output::default_dir(json, faces));
    let facemesh = FaceMesh::load(&pipeline.store)?;
    let bar = TermProgress::new();
    let progress = |p| bar.update(p);
    let cancel = ctrl_c_flag();
    let result = explain::explain(
        &pipeline.embedder,
        Some(&facemesh),
        faces,
        &params,
        Ctl::new(&progress, &cancel),
        &mut |_| {},
    );
    bar.finish();
    let ex = result.map_err(to_anyhow)?;
    output::write(&dir, &ex, analysis).map_err(to_anyhow)?;
    // The paper's table for each face on the terminal; the analysis JSON has
    // the table of both faces together (one column per map and face).
    let face_tables = ex.mery_face_tables.iter().enumerate().map(|(f, t)| {
        (
            format!(
                "Explainability table of face {} (Mery & Morris maps; left/right = the subject's own)",
                explain::face_label(f)
            ),
            t,
        )
    });
    let xmap_title =
        "X-Map table (level 1 = most similar; left/right = the subject's own)".to_string();
    for (title, t) in face_tables.chain([(xmap_title, &ex.xmap_table)]) {
        if let Some(t) = t {
            println!("{title}:");
            println!(
                "  {:<14} {}  {:>5}  {:>5}",
                "region",
                t.methods
                    .iter()
                    .map(|m| format!("{m:>6}"))
                    .collect::<String>(),
                "mean",
                "1s"
            );
            for r in &t.rows {
                let lv: String = t
                    .methods
                    .iter()
                    .map(|m| {
                        format!(
                            "{:>6}",
                            r.levels.get(m).map_or("-".into(), |l| l.to_string())
                        )
                    })
                    .collect();
                println!(
                    "  {:<14} {lv}  {:>5.2}  {:>5.2}",
                    r.region, r.mean, r.ratio_of_ones
                );
            }
        }
    }
    println!(
        "explanations written to {} (X-Map {} passes in {:.1} s, Mery {} passes in {:.1} s)",
        dir.display(),
        ex.xmap_stats.passes,
        ex.xmap_stats.total_ms / 1e3,
        ex.mery_stats.passes,
        ex.mery_stats.total_ms / 1e3
    );
    if let Some(f) = &ex.faithfulness {
        println!("{}", super::faithfulness::lines(f));
    }
    for d in &ex.disagreements {
        println!("{}", d.sentence);
    }
    Ok(())
}
