//! Face embeddings (SFace, or any ONNX model with input `[N,3,112,112]` RGB
//! raw 0–255 and output `[N,D]`), batched and L2-normalised.

use super::error::{PipelineError, Result};
use super::models::ModelStore;
use super::runtime;
use crate::progress::Ctl;
use image::RgbImage;
use ndarray::{Array2, Array4, ArrayView4, ArrayViewD, Axis, s};
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
    /// Most faces one lane runs in one session call: a lane's share of a
    /// batch is run in pieces this big, which keeps the activations of a
    /// single-threaded pass in the core's own cache.
    pub lane_batch: usize,
}

/// One lane's sessions: the model, or its trunk and head when it is cut
/// before the final fully connected layer (SFace ships cut by
/// `scripts/split_head.py`: the trunk runs [`Embedder::lane_batch`] faces per
/// call, the head once over the lane's whole share, so its 25 MB weight matrix
/// is read once per share instead of once per call).
struct Lane {
    trunk: Graph,
    head: Option<Graph>,
}

/// A session with the name of its single input.
struct Graph {
    session: Session,
    input: String,
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
        Ok(Graph { session, input })
    }

    /// One call on `batch` (`[N, …]`); the output as `[N, rest]` rows.
    fn run(&mut self, model: &str, batch: ArrayViewD<f32>) -> Result<Array2<f32>> {
        let err = |e: ort::Error| PipelineError::Inference {
            model: model.into(),
            reason: e.to_string(),
        };
        let outputs = self
            .session
            .run(ort::inputs![self.input.as_str() => TensorRef::from_array_view(batch.view()).map_err(err)?])
            .map_err(err)?;
        let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(err)?;
        let n = batch.len_of(Axis(0));
        Array2::from_shape_vec((n, data.len() / n.max(1)), data.to_vec()).map_err(|e| {
            PipelineError::Inference {
                model: model.into(),
                reason: format!("unexpected output shape {shape:?}: {e}"),
            }
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
        store.verify_file("sface")?;
        let (_, trunk) = store.read_verified("sface-trunk")?;
        let (_, head) = store.read_verified("sface-head")?;
        Self::build("sface", &trunk, Some(&head), lanes, level)
    }

    /// Any embedder graph given as ONNX bytes (tests build small ones).
    pub fn from_onnx_bytes(name: &str, bytes: &[u8]) -> Result<Embedder> {
        Self::build(name, bytes, None, Lanes::auto(), runtime::DEFAULT_OPT_LEVEL)
    }

    fn build(
        name: &str,
        trunk: &[u8],
        head: Option<&[u8]>,
        lanes: Lanes,
        level: usize,
    ) -> Result<Embedder> {
        let lane = || -> Result<Mutex<Lane>> {
            Ok(Mutex::new(Lane {
                trunk: Graph::new(name, trunk, lanes, level)?,
                head: head
                    .map(|h| Graph::new(name, h, lanes, level))
                    .transpose()?,
            }))
        };
        Ok(Embedder {
            name: name.into(),
            lanes: (0..lanes.lanes).map(|_| lane()).collect::<Result<_>>()?,
            batch: DEFAULT_BATCH,
            lane_batch: DEFAULT_LANE_BATCH,
        })
    }

    /// The number of sessions a batch is split across.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// One forward pass over a batch `[N,3,112,112]`; rows L2-normalised.
    /// The batch is cut into one contiguous chunk per lane; the chunks run
    /// side by side and their rows are put back in order, so the result does
    /// not depend on timing.
    pub fn embed_tensor(&self, batch: ArrayView4<f32>) -> Result<Array2<f32>> {
        let per = batch.len_of(Axis(0)).div_ceil(self.lanes.len());
        let chunks = pieces(batch, per);
        if chunks.len() <= 1 {
            return self.run_lane(0, batch);
        }
        let parts: Vec<Result<Array2<f32>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks[1..]
                .iter()
                .enumerate()
                .map(|(i, c)| scope.spawn(move || self.run_lane(i + 1, c.view())))
                .collect();
            let mut parts = vec![self.run_lane(0, chunks[0].view())];
            parts.extend(handles.into_iter().map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(PipelineError::Inference {
                        model: self.name.clone(),
                        reason: "an inference thread panicked".into(),
                    })
                })
            }));
            parts
        });
        self.stack(parts.into_iter().collect::<Result<Vec<_>>>()?)
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

    /// Run `batch` on lane `lane`: the trunk in pieces of at most
    /// `self.lane_batch` faces, then the head (if any) over all of them; rows
    /// L2-normalised.
    fn run_lane(&self, lane: usize, batch: ArrayView4<f32>) -> Result<Array2<f32>> {
        let mut guard = self.lanes[lane].lock().unwrap_or_else(|p| p.into_inner());
        let Lane { trunk, head } = &mut *guard;
        let parts = pieces(batch, self.lane_batch)
            .into_iter()
            .map(|c| trunk.run(&self.name, c.into_dyn()))
            .collect::<Result<Vec<_>>>()?;
        let features = self.stack(parts)?;
        let mut out = match head {
            Some(h) => h.run(&self.name, features.view().into_dyn())?,
            None => features,
        };
        for mut row in out.rows_mut() {
            let norm = row.dot(&row).sqrt();
            if norm > 0.0 {
                row /= norm;
            }
        }
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

    /// Embed aligned crops (one pass per `self.batch` faces).
    pub fn embed_faces(&self, faces: &[&RgbImage]) -> Result<Array2<f32>> {
        self.embed_all(faces_to_tensor(faces).view(), "embed", Ctl::none())
    }
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
