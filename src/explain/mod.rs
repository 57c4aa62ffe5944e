//! Explanations built on the pipeline: occlusion engine, X-Maps (Knoche et
//! al.), Mery & Morris saliency maps, facial regions and the explainability
//! table. May call: `record`, `progress`, `resources`, `pipeline`,
//! `calibration`.
//!
//! [`explain`] is the one entry point the app's worker and the CLI call: it
//! takes a [`Ctl`] (progress + cancel) and hands each result to a callback as
//! soon as it exists (regions, then the coarse p=28 X-Maps, the finer ones,
//! then the Mery maps), and returns everything at the end. A cancelled job
//! returns [`ExplainError::Cancelled`], never a partial [`Explanation`].

pub mod agreement;
pub mod blend;
pub mod faithfulness;
pub mod filter;
pub mod greedy;
pub mod incremental;
pub mod mery;
pub mod occlusion;
pub mod output;
pub mod regions;
pub mod table;
pub mod whatif;
pub mod xmap;

use crate::pipeline::facemesh::{FaceMesh, Mesh};
use crate::pipeline::{Embedder, FaceAnalysis, PipelineError};
use crate::progress::{Cancelled, Ctl};
pub use crate::record::face_label;
pub use crate::record::params::RenderParams;
use crate::record::{Disagreement, ExplainabilityTable, FaithfulnessParams, FaithfulnessRecord};
use greedy::{GreedyParams, GreedySet};
use image::RgbImage;
use mery::{MeryParams, MerySet};
use occlusion::{Engine, face_tensor};
use regions::RegionMasks;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use xmap::{XMapParams, XMapSet};

/// Errors of the explanation layer.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Pipeline(PipelineError),
    #[error("invalid explanation parameters: {0}")]
    Params(String),
    #[error("cancelled")]
    Cancelled,
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("internal error in the explanation code: {0}")]
    Internal(String),
}

impl From<PipelineError> for ExplainError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Cancelled => ExplainError::Cancelled,
            e => ExplainError::Pipeline(e),
        }
    }
}

impl From<Cancelled> for ExplainError {
    fn from(_: Cancelled) -> Self {
        ExplainError::Cancelled
    }
}

impl ExplainError {
    /// True when the user's input (image or parameters) is at fault.
    pub fn is_bad_input(&self) -> bool {
        match self {
            ExplainError::Pipeline(p) => p.is_bad_input(),
            ExplainError::Params(_) => true,
            _ => false,
        }
    }
}

/// What to explain and how; `None` skips a method. Defaults follow SPEC §7.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExplainParams {
    pub xmap: Option<XMapParams>,
    pub mery: Option<MeryParams>,
    /// The greedy deletion map ([`greedy`]); off unless asked for.
    pub greedy: Option<GreedyParams>,
    /// The deletion/insertion test of every map ([`faithfulness`]); off unless asked for.
    pub faithfulness: Option<FaithfulnessParams>,
    pub render: RenderParams,
}

impl Default for ExplainParams {
    fn default() -> Self {
        ExplainParams {
            xmap: Some(XMapParams::default()),
            mery: Some(MeryParams::default()),
            greedy: None,
            faithfulness: None,
            render: RenderParams::default(),
        }
    }
}

impl ExplainParams {
    /// Check the parameters for face crops of `side` pixels before a job is
    /// sent (the message says what is wrong).
    pub fn validate(&self, side: usize) -> Result<(), ExplainError> {
        if self.xmap.is_none() && self.mery.is_none() && self.greedy.is_none() {
            return Err(ExplainError::Params(
                "choose at least one explanation method".into(),
            ));
        }
        if let Some(x) = &self.xmap {
            x.validate(side)?;
        }
        if let Some(m) = &self.mery {
            m.validate(side)?;
        }
        if let Some(g) = &self.greedy {
            g.validate(side)?;
        }
        if let Some(f) = &self.faithfulness {
            faithfulness::validate(f, side)?;
        }
        Ok(())
    }
}

/// A result handed out while the job runs.
pub enum Update<'a> {
    /// The region masks of both faces (FaceMesh).
    Regions(&'a [RegionMasks; 2]),
    /// X-Maps from the patch sizes done so far (`complete` once all are in).
    XMaps(&'a XMapSet),
    /// All Mery maps.
    Mery(&'a MerySet),
    /// Both greedy deletion maps.
    Greedy(&'a GreedySet),
    /// The deletion/insertion test of every map.
    Faithfulness(&'a FaithfulnessRecord),
}

/// Work done by one part of the job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartStats {
    /// Forward passes through the embedder.
    pub passes: usize,
    /// Time inside the embedder, ms.
    pub model_ms: f64,
    /// Wall time of the part, ms.
    pub total_ms: f64,
}

impl PartStats {
    fn from(
        engine: &Engine,
        passes_before: usize,
        model_before: Duration,
        start: Instant,
    ) -> PartStats {
        PartStats {
            passes: engine.passes - passes_before,
            model_ms: (engine.model_time - model_before).as_secs_f64() * 1e3,
            total_ms: start.elapsed().as_secs_f64() * 1e3,
        }
    }
}

/// Everything the viewer and the report need about one explained pair.
#[derive(Clone, Debug)]
pub struct Explanation {
    pub params: ExplainParams,
    /// The two aligned crops the maps lie on.
    pub crops: [RgbImage; 2],
    pub meshes: Option<[Mesh; 2]>,
    pub regions: Option<[RegionMasks; 2]>,
    pub xmaps: Option<XMapSet>,
    pub mery: Option<MerySet>,
    /// X-Map table: level 1 = most similar, last rows = most dissimilar.
    pub xmap_table: Option<ExplainabilityTable>,
    /// Mery table (the paper's explainability table): one column per map and
    /// perturbed face ("S0- (A)", …) when both faces are, plain names for one.
    pub mery_table: Option<ExplainabilityTable>,
    /// The paper's table of each perturbed face on its own (S0-, S1-, S0+, S1+, AVG).
    pub mery_face_tables: [Option<ExplainabilityTable>; 2],
    pub xmap_stats: PartStats,
    pub mery_stats: PartStats,
    /// FaceMesh wall time, ms.
    pub regions_ms: f64,
    /// The greedy deletion maps (their columns are in the saliency tables).
    pub greedy: Option<GreedySet>,
    pub greedy_stats: PartStats,
    /// The deletion/insertion test of every map, when asked for.
    pub faithfulness: Option<FaithfulnessRecord>,
    pub faithfulness_stats: PartStats,
    /// Regions whose levels differ by two or more between maps of one table.
    pub disagreements: Vec<Disagreement>,
}

impl Explanation {
    /// Every map as (name, face, values), in the order of the map selector.
    pub fn all_maps(&self) -> Vec<(String, usize, &ndarray::Array2<f32>)> {
        let mut out = Vec::new();
        for x in self.xmaps.iter().flat_map(|x| &x.maps) {
            out.push((x.name().to_string(), x.face, &x.values));
        }
        for m in self.mery.iter().flat_map(|m| &m.maps) {
            out.push((m.name().to_string(), m.face, &m.values));
        }
        for g in self.greedy.iter().flat_map(|g| &g.maps) {
            out.push((g.name().to_string(), g.face, &g.values));
        }
        out
    }
}

/// The explainability table of `maps` (column name, values, face), each map
/// read through its own face's regions.
fn region_table<'a>(
    regions: &'a [RegionMasks; 2],
    maps: impl Iterator<Item = (String, &'a ndarray::Array2<f32>, usize)>,
) -> ExplainabilityTable {
    table::build(
        &maps
            .map(|(name, map, f)| table::Column {
                name,
                map,
                regions: &regions[f],
            })
            .collect::<Vec<_>>(),
    )
}

/// Explain the comparison of two analysed faces. `facemesh` gives the regions
/// and tables (skipped when `None`); `on_update` sees each result as it is
/// ready. Checks `ctl` between every batch.
pub fn explain(
    embedder: &Embedder,
    facemesh: Option<&FaceMesh>,
    faces: [&FaceAnalysis; 2],
    params: &ExplainParams,
    ctl: Ctl,
    on_update: &mut dyn FnMut(Update),
) -> Result<Explanation, ExplainError> {
    let crops = [faces[0].aligned.crop.clone(), faces[1].aligned.crop.clone()];
    let side = crops[0].height() as usize;
    if let Some(p) = &params.xmap {
        p.validate(side)?;
    }
    if let Some(p) = &params.mery {
        p.validate(side)?;
    }
    if let Some(p) = &params.greedy {
        p.validate(side)?;
    }
    if let Some(p) = &params.faithfulness {
        faithfulness::validate(p, side)?;
    }

    let t0 = Instant::now();
    let (meshes, regions) = match facemesh {
        Some(fm) => {
            ctl.report("FaceMesh regions", 0, 2);
            let mut meshes = Vec::with_capacity(2);
            for (i, f) in faces.iter().enumerate() {
                ctl.check()?;
                meshes.push(fm.landmarks(&f.image.rgb, f.face(), &f.aligned.transform)?);
                ctl.report("FaceMesh regions", i + 1, 2);
            }
            let regions = [
                RegionMasks::from_mesh(&meshes[0].aligned, side)?,
                RegionMasks::from_mesh(&meshes[1].aligned, side)?,
            ];
            on_update(Update::Regions(&regions));
            let [a, b]: [Mesh; 2] = meshes
                .try_into()
                .map_err(|_| ExplainError::Internal("two meshes expected".into()))?;
            (Some([a, b]), Some(regions))
        }
        None => (None, None),
    };
    let regions_ms = t0.elapsed().as_secs_f64() * 1e3;

    let tensors = [face_tensor(&crops[0]), face_tensor(&crops[1])];
    let xmap_total = params.xmap.as_ref().map_or(2, |p| p.passes(side));
    let mut engine = Engine::new(embedder, ctl, "X-Maps", xmap_total);
    let t1 = Instant::now();
    let originals = engine.embed_faces(&[&tensors[0], &tensors[1]])?;
    let ov = [originals.row(0), originals.row(1)];
    let xmaps = match &params.xmap {
        Some(p) => Some(xmap::run(
            &mut engine,
            [&tensors[0], &tensors[1]],
            ov,
            p,
            &mut |set| on_update(Update::XMaps(set)),
        )?),
        None => None,
    };
    let xmap_stats = PartStats::from(&engine, 0, Duration::ZERO, t1);

    let (p0, m0, t2) = (engine.passes, engine.model_time, Instant::now());
    let mery = match &params.mery {
        Some(p) => {
            let set = mery::run(&mut engine, [&tensors[0], &tensors[1]], ov, p)?;
            on_update(Update::Mery(&set));
            Some(set)
        }
        None => None,
    };
    let mery_stats = PartStats::from(&engine, p0, m0, t2);

    let (p0, m0, t3) = (engine.passes, engine.model_time, Instant::now());
    let greedy = match &params.greedy {
        Some(p) => {
            let set = greedy::run(&mut engine, [&tensors[0], &tensors[1]], ov, p)?;
            on_update(Update::Greedy(&set));
            Some(set)
        }
        None => None,
    };
    let greedy_stats = PartStats::from(&engine, p0, m0, t3);

    let with_face = |name: &str, f: usize| format!("{name} ({})", face_label(f));
    let xmap_table = match (&xmaps, &regions) {
        (Some(x), Some(r)) => Some(region_table(
            r,
            x.maps
                .iter()
                .map(|m| (with_face(m.name(), m.face), &m.values, m.face)),
        )),
        _ => None,
    };
    // Saliency maps (1 = most important): Mery's, then the greedy deletion maps.
    let saliency: Vec<(&str, usize, &ndarray::Array2<f32>)> = mery
        .iter()
        .flat_map(|s| s.maps.iter().map(|m| (m.name(), m.face, &m.values)))
        .chain(
            greedy
                .iter()
                .flat_map(|g| g.maps.iter().map(|m| (m.name(), m.face, &m.values))),
        )
        .collect();
    let (mery_table, mery_face_tables) = match &regions {
        Some(r) if !saliency.is_empty() => {
            let one_face = saliency.iter().all(|m| m.1 == saliency[0].1);
            let all = region_table(
                r,
                saliency.iter().map(|&(name, f, v)| {
                    let name = if one_face {
                        name.to_string()
                    } else {
                        with_face(name, f)
                    };
                    (name, v, f)
                }),
            );
            let of_face = |f: usize| {
                saliency.iter().any(|m| m.1 == f).then(|| {
                    region_table(
                        r,
                        saliency
                            .iter()
                            .filter(|m| m.1 == f)
                            .map(|&(name, _, v)| (name.to_string(), v, f)),
                    )
                })
            };
            (Some(all), [of_face(0), of_face(1)])
        }
        _ => (None, [None, None]),
    };
    let disagreements = agreement::disagreements(mery_table.as_ref(), xmap_table.as_ref());
    let mut ex = Explanation {
        params: params.clone(),
        crops,
        meshes,
        regions,
        xmaps,
        mery,
        xmap_table,
        mery_table,
        mery_face_tables,
        xmap_stats,
        mery_stats,
        regions_ms,
        greedy,
        greedy_stats,
        faithfulness: None,
        faithfulness_stats: PartStats::default(),
        disagreements,
    };
    if let Some(p) = &params.faithfulness {
        let (p0, m0, t4) = (engine.passes, engine.model_time, Instant::now());
        let rec = faithfulness::measure(
            &mut engine,
            [&tensors[0], &tensors[1]],
            ov,
            &ex.all_maps(),
            p,
        )?;
        on_update(Update::Faithfulness(&rec));
        ex.faithfulness = Some(rec);
        ex.faithfulness_stats = PartStats::from(&engine, p0, m0, t4);
    }
    Ok(ex)
}
