//! Face embeddings, batched and L2-normalised, from any recogniser the
//! manifest describes ([`super::recogniser`]): crops go in as `[N,3,H,W]`
//! RGB raw 0–255 and are converted to the model's own input conventions.

use super::error::{PipelineError, Result};
use super::recogniser::{Prep, Recogniser};
use super::runtime;
use crate::progress::Ctl;
use crate::resources::ModelStore;
use image::RgbImage;
use ndarray::{Array2, Array4, ArrayView4, ArrayViewD, Axis, IxDyn, s};
use ort::session::Session;
use ort::value::TensorRef;
use std::sync::Mutex;

/// Default number of faces per forward pass: the fastest per pass on a
/// 2-core machine (`facexplain bench-explain` sweeps it) and small in memory.
pub const DEFAULT_BATCH: usize = 16;

/// A face embedder over one or more ONNX sessions of the same model
/// ("lanes"): a batch is split across the lanes, which run side by side, one
/// thread each by default — on few cores this beats one session whose
/// operators are split across threads (`facexplain bench-explain` measures both).
pub struct Embedder {
    name: String,
    lanes: Vec<Mutex<Lane>>,
    /// Faces per forward pass for long jobs.
    pub batch: usize,
    /// The spatial segments of the model for incremental occlusion inference
    /// (see [`Stages`]); empty when the derived files are not installed.
    stages: Vec<Stage>,
    /// Why incremental inference is unavailable, when it is.
    pub stages_missing: Option<String>,
    /// Multiply-adds per face of the back (after the last segment) and of the head.
    pub back_macs: u64,
    pub head_macs: u64,
    /// Force whole forward passes where incremental inference would apply
    /// (for validation; `FACEXPLAIN_WHOLE_PASSES=1` sets it at load).
    pub whole_passes: bool,
    /// Most faces one lane runs in one session call: a lane's share of a
    /// batch is run in pieces this big, which keeps the activations of a
    /// single-threaded pass in the core's own cache.
    pub lane_batch: usize,
    /// The model's input conversion (`None`: the crop tensor as it is).
    prep: Option<Prep>,
    /// Intra-op threads of each lane's sessions.
    lane_threads: usize,
    /// The graph takes exactly one face per call.
    single: bool,
}

/// One lane's sessions: the model, or its trunk and head when it is cut
/// before the final fully connected layer (SFace ships cut by
/// `scripts/split_head.py`: the trunk runs [`Embedder::lane_batch`] faces per
/// call, the head once over the lane's whole share, so its 25 MB weight matrix
/// is read once per share instead of once per call).
struct Lane {
    trunk: Graph,
    head: Option<Graph>,
    /// The trunk again in spatial segments, then the back (see [`Stage`]).
    stages: Vec<Graph>,
    back: Option<Graph>,
}

/// One spatial segment of the trunk, run on crops of its input for
/// incremental occlusion inference (Krypton-style, Nakandala et al. 2019):
/// output position `o` reads input rows `o·stride − pad … o·stride − pad + rf − 1`
/// (and the same columns). Cut from SFace by `scripts/split_incremental.py`,
/// which stores the geometry in each file's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    pub stride: usize,
    pub pad: usize,
    pub rf: usize,
    /// Multiply-adds per output position.
    pub macs: u64,
}

/// A session with the name of its single input (and of the output read, when named).
struct Graph {
    session: Session,
    input: String,
    output: Option<String>,
}

impl Graph {
    fn new(name: &str, bytes: &[u8], lanes: Lanes, level: usize) -> Result<Graph> {
        let session = runtime::session_tuned(name, bytes, lanes.threads, level)?;
        let input = session
            .inputs()
            .first()
            .map(|i| i.name().to_string())
            .ok_or_else(|| PipelineError::Inference {
                model: name.into(),
                reason: "the graph has no input".into(),
            })?;
        Ok(Graph {
            session,
            input,
            output: None,
        })
    }

    /// One call on `batch` (`[N, …]`); the output as `[N, rest]` rows.
    fn run(&mut self, model: &str, batch: ArrayViewD<f32>) -> Result<Array2<f32>> {
        let n = batch.len_of(Axis(0));
        let out = self.run_dyn(model, batch)?;
        let len = out.len();
        out.into_shape_with_order((n, len / n.max(1)))
            .map_err(|e| PipelineError::Inference {
                model: model.into(),
                reason: format!("unexpected output shape: {e}"),
            })
    }

    /// One call on `batch`; the output as it is.
    fn run_dyn(&mut self, model: &str, batch: ArrayViewD<f32>) -> Result<ndarray::ArrayD<f32>> {
        let err = |e: ort::Error| PipelineError::Inference {
            model: model.into(),
            reason: e.to_string(),
        };
        let outputs = self
            .session
            .run(ort::inputs![self.input.as_str() => TensorRef::from_array_view(batch.view()).map_err(err)?])
            .map_err(err)?;
        let out = match &self.output {
            Some(name) => outputs
                .get(name.as_str())
                .ok_or_else(|| PipelineError::Inference {
                    model: model.into(),
                    reason: format!("the graph has no output {name:?}"),
                })?,
            None => &outputs[0],
        };
        let (shape, data) = out.try_extract_tensor::<f32>().map_err(err)?;
        let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
        ndarray::ArrayD::from_shape_vec(IxDyn(&dims), data.to_vec()).map_err(|e| {
            PipelineError::Inference {
                model: model.into(),
                reason: format!("unexpected output shape {shape:?}: {e}"),
            }
        })
    }

    /// An integer from the model's custom metadata.
    fn meta(&self, model: &str, key: &str) -> Result<u64> {
        self.session
            .metadata()
            .ok()
            .and_then(|m| m.custom(key))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| PipelineError::Inference {
                model: model.into(),
                reason: format!("metadata key {key:?} missing or not a number"),
            })
    }
}

/// Default [`Embedder::lane_batch`]: on one thread the whole SFace took
/// 14–15 ms per face at 1–2 faces per call and 17–19 ms at 8–16; with the
/// trunk cut from the head, 2 lanes ran 6.2–6.6 ms per pass at 1–2 faces per
/// call and 7.3 ms at 4 (`facexplain bench-explain --lane-batches` compares them).
pub const DEFAULT_LANE_BATCH: usize = 2;

/// How the embedder uses the cores: `lanes` sessions side by side with
/// `threads` intra-op threads each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lanes {
    pub lanes: usize,
    pub threads: usize,
}

impl Lanes {
    /// One single-threaded lane per core (at most 8), unless
    /// `FACEXPLAIN_LANES` gives the number of lanes (the cores are shared
    /// out among them).
    pub fn auto() -> Lanes {
        let cores = runtime::cores();
        let lanes = std::env::var("FACEXPLAIN_LANES")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(cores.min(8));
        Lanes::split(cores, lanes)
    }

    /// `lanes` lanes sharing `cores` cores.
    pub fn split(cores: usize, lanes: usize) -> Lanes {
        let lanes = lanes.clamp(1, cores.max(1));
        Lanes {
            lanes,
            threads: (cores / lanes).max(1),
        }
    }
}

impl Embedder {
    /// SFace from the verified model store, on [`Lanes::auto`].
    pub fn load(store: &ModelStore) -> Result<Embedder> {
        Self::load_with(store, Lanes::auto())
    }

    /// SFace from the verified model store on the given lanes.
    pub fn load_with(store: &ModelStore, lanes: Lanes) -> Result<Embedder> {
        Self::load_tuned(store, lanes, runtime::DEFAULT_OPT_LEVEL)
    }

    /// SFace on the given lanes at graph optimisation level `level`
    /// (0–3, see [`runtime::OPT_LEVELS`]; benchmarks compare them). The
    /// whole model's file is verified too: it is the model the analysis names,
    /// and the trunk and head are cut from it.
    pub fn load_tuned(store: &ModelStore, lanes: Lanes, level: usize) -> Result<Embedder> {
        Self::for_recogniser(&Recogniser::in_store(store, "sface")?, lanes, level)
    }

    /// The embedder of recogniser `r` on the given lanes at graph
    /// optimisation level `level`: its file verified against its manifest,
    /// run whole, as the trunk and head its spec names, or as the derived
    /// file it names to run instead, with its spatial segments when it lists
    /// them and they are installed.
    pub fn for_recogniser(r: &Recogniser, lanes: Lanes, level: usize) -> Result<Embedder> {
        let store = &r.store;
        let id = r.id();
        let (trunk, head) = match (&r.spec.split, &r.spec.run) {
            (Some([t, h]), _) => {
                store.verify_file(id)?;
                (store.read_verified(t)?.1, Some(store.read_verified(h)?.1))
            }
            (None, Some(derived)) => {
                store.verify_file(id)?;
                (store.read_verified(derived)?.1, None)
            }
            (None, None) => (store.read_verified(id)?.1, None),
        };
        let (stages, missing) = match read_stages(store, r.spec.incremental.as_deref()) {
            Ok(Some(s)) => (Some(s), None),
            Ok(None) => (None, Some("no spatial segments in the manifest".into())),
            Err(PipelineError::ModelMissing { file, .. }) => (
                None,
                Some(format!(
                    "{} is missing (run scripts/fetch-models.sh): whole passes only",
                    file.display()
                )),
            ),
            Err(e) => return Err(e),
        };
        let mut e = Self::build(id, &trunk, head.as_deref(), stages.as_ref(), lanes, level)?;
        e.stages_missing = missing;
        e.set_output(&r.spec.output);
        let prep = r.prep();
        e.prep = (!prep.is_identity()).then_some(prep);
        e.single = r.spec.fixed_batch == Some(1);
        Ok(e)
    }

    /// Read the embedding from output `name` (of the head when there is one).
    fn set_output(&mut self, name: &str) {
        for lane in &self.lanes {
            let mut l = lane.lock().unwrap_or_else(|p| p.into_inner());
            let last = match &mut l.head {
                Some(h) => h,
                None => &mut l.trunk,
            };
            last.output = Some(name.to_string());
        }
    }

    /// Any embedder graph given as ONNX bytes (tests build small ones).
    pub fn from_onnx_bytes(name: &str, bytes: &[u8]) -> Result<Embedder> {
        Self::build(
            name,
            bytes,
            None,
            None,
            Lanes::auto(),
            runtime::DEFAULT_OPT_LEVEL,
        )
    }

    /// An embedder graph with its spatial segments and back (ONNX bytes, in
    /// order; segments one after the other, then the back, are the graph) on
    /// `lanes` (tests build small ones with known receptive fields).
    pub fn from_onnx_stages(
        name: &str,
        whole: &[u8],
        segments: &[Vec<u8>],
        back: &[u8],
        lanes: Lanes,
    ) -> Result<Embedder> {
        let stages = (segments.to_vec(), back.to_vec());
        Self::build(
            name,
            whole,
            None,
            Some(&stages),
            lanes,
            runtime::DEFAULT_OPT_LEVEL,
        )
    }

    fn build(
        name: &str,
        trunk: &[u8],
        head: Option<&[u8]>,
        stages: Option<&StageBytes>,
        lanes: Lanes,
        level: usize,
    ) -> Result<Embedder> {
        let lane_threads = lanes;
        let lane = || -> Result<Mutex<Lane>> {
            let graph = |b: &[u8]| Graph::new(name, b, lanes, level);
            Ok(Mutex::new(Lane {
                trunk: graph(trunk)?,
                head: head.map(graph).transpose()?,
                stages: stages
                    .map(|(s, _)| s.iter().map(|b| graph(b)).collect::<Result<Vec<_>>>())
                    .transpose()?
                    .unwrap_or_default(),
                back: stages.map(|(_, b)| graph(b)).transpose()?,
            }))
        };
        let lanes: Vec<Mutex<Lane>> = (0..lanes.lanes).map(|_| lane()).collect::<Result<_>>()?;
        let (mut geometry, mut back_macs) = (Vec::new(), 0);
        if let Some(first) = lanes.first() {
            let first = first.lock().unwrap_or_else(|p| p.into_inner());
            for g in &first.stages {
                let m = |k: &str| g.meta(name, k);
                geometry.push(Stage {
                    stride: m("stride")? as usize,
                    pad: m("pad")? as usize,
                    rf: m("rf")? as usize,
                    macs: m("macs")?,
                });
            }
            if let Some(b) = &first.back {
                back_macs = b.meta(name, "macs").unwrap_or(0);
            }
        }
        let head_macs = lanes
            .first()
            .and_then(|l| {
                let l = l.lock().unwrap_or_else(|p| p.into_inner());
                l.back.as_ref().and_then(|b| b.meta(name, "head_macs").ok())
            })
            .unwrap_or(0);
        Ok(Embedder {
            name: name.into(),
            lanes,
            batch: DEFAULT_BATCH,
            lane_batch: DEFAULT_LANE_BATCH,
            stages: geometry,
            stages_missing: None,
            back_macs,
            head_macs,
            whole_passes: std::env::var("FACEXPLAIN_WHOLE_PASSES").is_ok_and(|v| v.trim() == "1"),
            prep: None,
            single: false,
            lane_threads: lane_threads.threads,
        })
    }

    /// The spatial segments for incremental inference, empty when they are
    /// not installed or whole passes are forced.
    pub fn stages(&self) -> &[Stage] {
        if self.whole_passes { &[] } else { &self.stages }
    }

    /// Run spatial segment `k` on lane `lane` over `batch` (`[N, C, H, W]`, any
    /// H and W the segment's stride divides).
    pub fn run_stage(&self, lane: usize, k: usize, batch: ArrayView4<f32>) -> Result<Array4<f32>> {
        let mut guard = self.lane(lane)?.lock().unwrap_or_else(|p| p.into_inner());
        let g = guard
            .stages
            .get_mut(k)
            .ok_or_else(|| self.internal(format!("no spatial segment {k}")))?;
        g.run_dyn(&self.name, batch.into_dyn())?
            .into_dimensionality()
            .map_err(|e| self.internal(e.to_string()))
    }

    /// The back and head over the last segment's outputs `batch` on lane
    /// `lane` (in pieces like the trunk); rows L2-normalised.
    pub fn run_back(&self, lane: usize, batch: ArrayView4<f32>) -> Result<Array2<f32>> {
        self.run_on(lane, batch, true)
    }

    fn lane(&self, lane: usize) -> Result<&Mutex<Lane>> {
        self.lanes
            .get(lane)
            .ok_or_else(|| self.internal(format!("no lane {lane}")))
    }

    fn internal(&self, reason: String) -> PipelineError {
        PipelineError::Inference {
            model: self.name.clone(),
            reason,
        }
    }

    /// `f(lane, range)` for contiguous ranges of `0..n`, one per lane, side by
    /// side on scoped threads; results in order, so they do not depend on timing.
    pub fn on_lanes<T: Send>(
        &self,
        n: usize,
        f: impl Fn(usize, std::ops::Range<usize>) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let per = n.div_ceil(self.lanes.len()).max(1);
        let ranges: Vec<_> = (0..n).step_by(per).map(|a| a..(a + per).min(n)).collect();
        if ranges.len() <= 1 {
            return ranges.into_iter().map(|r| f(0, r)).collect();
        }
        let f = &f;
        std::thread::scope(|scope| {
            let handles: Vec<_> = ranges[1..]
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, r)| scope.spawn(move || f(i + 1, r)))
                .collect();
            let mut parts = vec![f(0, ranges[0].clone())];
            parts.extend(handles.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(self.internal("an inference thread panicked".into())))
            }));
            parts.into_iter().collect()
        })
    }

    /// The number of sessions a batch is split across.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// One forward pass over a batch `[N,3,H,W]` of crops at the model's input size; rows L2-normalised.
    /// The batch is cut into one contiguous chunk per lane; the chunks run
    /// side by side and their rows are put back in order, so the result does
    /// not depend on timing.
    pub fn embed_tensor(&self, batch: ArrayView4<f32>) -> Result<Array2<f32>> {
        let parts = self.on_lanes(batch.len_of(Axis(0)), |lane, r| {
            self.run_on(lane, batch.slice(s![r, .., .., ..]), false)
        })?;
        self.stack(parts)
    }

    /// Rows of `parts` one after the other (a single part as it is, uncopied).
    fn stack(&self, mut parts: Vec<Array2<f32>>) -> Result<Array2<f32>> {
        if parts.len() == 1 {
            return Ok(parts.swap_remove(0));
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        ndarray::concatenate(Axis(0), &views).map_err(|e| PipelineError::Inference {
            model: self.name.clone(),
            reason: e.to_string(),
        })
    }

    /// Run `batch` on lane `lane`: the trunk (or the back, after the spatial
    /// segments) in pieces of at most `self.lane_batch` faces, then the head
    /// (if any) over all of them; rows L2-normalised.
    fn run_on(&self, lane: usize, batch: ArrayView4<f32>, back: bool) -> Result<Array2<f32>> {
        let mut guard = self.lane(lane)?.lock().unwrap_or_else(|p| p.into_inner());
        let Lane {
            trunk,
            head,
            back: back_graph,
            ..
        } = &mut *guard;
        let first = match (back, back_graph) {
            (false, _) => trunk,
            (true, Some(g)) => g,
            (true, None) => return Err(self.internal("no spatial segments loaded".into())),
        };
        let converted;
        let batch = match (&self.prep, back) {
            (Some(p), false) => {
                converted = p.apply(batch);
                converted.view()
            }
            _ => batch,
        };
        let per = if self.single { 1 } else { self.lane_batch };
        let parts = pieces(batch, per)
            .into_iter()
            .map(|c| first.run(&self.name, c.into_dyn()))
            .collect::<Result<Vec<_>>>()?;
        let features = self.stack(parts)?;
        let mut out = match head {
            Some(h) => h.run(&self.name, features.view().into_dyn())?,
            None => features,
        };
        normalise_rows(&mut out);
        Ok(out)
    }

    /// Embed many faces in batches of `self.batch`, reporting progress under
    /// `stage` and stopping between batches when cancelled.
    pub fn embed_all(&self, faces: ArrayView4<f32>, stage: &str, ctl: Ctl) -> Result<Array2<f32>> {
        let n = faces.len_of(Axis(0));
        let mut rows = Vec::with_capacity(n);
        let mut d = 0;
        let mut start = 0;
        ctl.report(stage, 0, n);
        while start < n {
            ctl.check()?;
            let end = (start + self.batch.max(1)).min(n);
            let e = self.embed_tensor(faces.slice(s![start..end, .., .., ..]))?;
            d = e.ncols();
            rows.extend(e);
            start = end;
            ctl.report(stage, end, n);
        }
        Array2::from_shape_vec((n, d), rows).map_err(|e| PipelineError::Inference {
            model: self.name.clone(),
            reason: e.to_string(),
        })
    }

    /// Embed aligned crops on lane `lane` alone (for a caller that keeps
    /// the other lanes busy with other images); rows L2-normalised.
    pub fn embed_on_lane(&self, lane: usize, faces: &[&RgbImage]) -> Result<Array2<f32>> {
        self.run_on(lane, faces_to_tensor(faces).view(), false)
    }

    /// How many threads each lane's session runs.
    pub fn lane_threads(&self) -> usize {
        self.lane_threads
    }

    /// Embed aligned crops (one pass per `self.batch` faces).
    pub fn embed_faces(&self, faces: &[&RgbImage]) -> Result<Array2<f32>> {
        self.embed_all(faces_to_tensor(faces).view(), "embed", Ctl::none())
    }
}

/// Scale every row to unit L2 norm (rows of zeros stay zero).
pub fn normalise_rows(out: &mut Array2<f32>) {
    for mut row in out.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
}

/// The spatial segments `<prefix>1 …` and the back `<prefix>back` listed
/// in the manifest, read and verified (`None` when none is listed).
type StageBytes = (Vec<Vec<u8>>, Vec<u8>);
fn read_stages(store: &ModelStore, prefix: Option<&str>) -> Result<Option<StageBytes>> {
    let Some(prefix) = prefix else {
        return Ok(None);
    };
    let mut ids: Vec<(usize, String)> = store
        .manifest
        .models
        .iter()
        .filter_map(|e| {
            let k = e.id.strip_prefix(prefix)?.parse().ok()?;
            Some((k, e.id.clone()))
        })
        .collect();
    ids.sort();
    if ids.is_empty() {
        return Ok(None);
    }
    let segments = ids
        .iter()
        .map(|(_, id)| Ok(store.read_verified(id)?.1))
        .collect::<Result<Vec<_>>>()?;
    let back = format!("{prefix}back");
    Ok(Some((segments, store.read_verified(&back)?.1)))
}

/// `batch` cut along its first axis into contiguous pieces of at most `per`
/// rows (at least one row each), in order.
fn pieces(batch: ArrayView4<f32>, per: usize) -> Vec<ArrayView4<f32>> {
    let n = batch.len_of(Axis(0));
    let per = per.max(1);
    (0..n)
        .step_by(per)
        .map(|a| batch.slice_move(s![a..(a + per).min(n), .., .., ..]))
        .collect()
}

/// Stack aligned RGB crops into an NCHW float tensor, raw 0–255.
pub fn faces_to_tensor(faces: &[&RgbImage]) -> Array4<f32> {
    let (w, h) = faces.first().map(|f| f.dimensions()).unwrap_or((112, 112));
    let mut t = Array4::<f32>::zeros((faces.len(), 3, h as usize, w as usize));
    for (i, f) in faces.iter().enumerate() {
        for (x, y, p) in f.enumerate_pixels() {
            for c in 0..3 {
                t[[i, c, y as usize, x as usize]] = p[c] as f32;
            }
        }
    }
    t
}

/// Cosine similarity of two embeddings.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}
