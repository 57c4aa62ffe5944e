//! The batched occlusion engine: builds perturbed variants of aligned
//! 112×112 faces straight into a reused batch tensor, runs them through the
//! embedder, counts every forward pass, streams progress and stops between
//! batches when cancelled. X-Maps and Mery maps both run on it. Square
//! occlusions run incrementally ([`super::incremental`]) when the embedder has
//! spatial segments, unless whole passes are forced.

use super::ExplainError;
use super::incremental::{Cache, Occlusion, Plan, crop_key, embed_on_lane};
use crate::pipeline::Embedder;
use crate::progress::Ctl;
use image::RgbImage;
use ndarray::{Array2, Array3, Array4, ArrayViewMut3, Axis, s};
use std::time::{Duration, Instant};

/// The crop sizes of an incremental occlusion, per segment.
type CropKey = Vec<(usize, usize)>;

/// A face as the embedder sees it: `[3, H, W]`, RGB, raw 0–255.
pub fn face_tensor(crop: &RgbImage) -> Array3<f32> {
    let (w, h) = crop.dimensions();
    let mut t = Array3::<f32>::zeros((3, h as usize, w as usize));
    for (x, y, p) in crop.enumerate_pixels() {
        for c in 0..3 {
            t[[c, y as usize, x as usize]] = p[c] as f32;
        }
    }
    t
}

/// Runs perturbed faces through one embedder for one job (one progress stage,
/// one total), keeping the count of forward passes and the time spent inside
/// the model.
pub struct Engine<'a> {
    embedder: &'a Embedder,
    ctl: Ctl<'a>,
    stage: String,
    total: usize,
    done: usize,
    buffer: Array4<f32>,
    /// Faces embedded so far (one forward pass each).
    pub passes: usize,
    /// Wall time spent inside the embedder.
    pub model_time: Duration,
    /// Faces embedded incrementally (a subset of `passes`).
    pub incremental_passes: usize,
    /// The unoccluded activations of the faces of incremental jobs, with the faces.
    caches: Vec<(Array3<f32>, Cache)>,
}

impl<'a> Engine<'a> {
    /// An engine for a job of `total` forward passes reported under `stage`.
    pub fn new(embedder: &'a Embedder, ctl: Ctl<'a>, stage: &str, total: usize) -> Engine<'a> {
        Engine {
            embedder,
            ctl,
            stage: stage.to_string(),
            total,
            done: 0,
            buffer: Array4::zeros((0, 3, 0, 0)),
            passes: 0,
            model_time: Duration::ZERO,
            incremental_passes: 0,
            caches: Vec::new(),
        }
    }

    /// Switch to a new stage name and total (progress restarts at 0).
    pub fn set_stage(&mut self, stage: &str, total: usize) {
        self.stage = stage.to_string();
        self.total = total;
        self.done = 0;
        self.ctl.report(&self.stage, 0, total);
    }

    /// Report the current stage as finished (greedy searches may stop before
    /// their upper-bound total).
    pub fn finish_stage(&mut self) {
        self.total = self.done;
        self.ctl.report(&self.stage, self.done, self.done);
    }

    /// Embed `n` variants of shape `[3, h, w]`; `write(i, slot)` fills variant
    /// `i` into its batch slot. Returns `[n, D]` L2-normalised embeddings.
    /// Checks for cancellation before every batch.
    pub fn embed(
        &mut self,
        n: usize,
        shape: (usize, usize, usize),
        mut write: impl FnMut(usize, ArrayViewMut3<f32>),
    ) -> Result<Array2<f32>, ExplainError> {
        let batch = self.embedder.batch.max(1);
        let need = batch.min(n.max(1));
        let (have, c, h, w) = self.buffer.dim();
        if (c, h, w) != shape || have < need {
            self.buffer = Array4::zeros((need, shape.0, shape.1, shape.2));
        }
        let mut buffer = std::mem::take(&mut self.buffer);
        let out = self.batched(n, |embedder, r| {
            for i in r.clone() {
                write(i, buffer.index_axis_mut(Axis(0), i - r.start));
            }
            Ok(embedder.embed_tensor(buffer.slice(s![0..r.len(), .., .., ..]))?)
        });
        self.buffer = buffer;
        out
    }

    /// Run `n` items in batches of the embedder's batch size: `run(range)`
    /// embeds one batch; checks for cancellation before each, counts passes
    /// and model time and reports progress after each.
    fn batched(
        &mut self,
        n: usize,
        mut run: impl FnMut(&Embedder, std::ops::Range<usize>) -> Result<Array2<f32>, ExplainError>,
    ) -> Result<Array2<f32>, ExplainError> {
        let batch = self.embedder.batch.max(1);
        let mut rows: Vec<f32> = Vec::new();
        let mut dim = 0;
        let mut start = 0;
        while start < n {
            self.ctl.check()?;
            let end = (start + batch).min(n);
            let t0 = Instant::now();
            let e = run(self.embedder, start..end)?;
            self.model_time += t0.elapsed();
            dim = e.ncols();
            rows.extend(e.iter());
            self.passes += end - start;
            self.done += end - start;
            self.ctl
                .report(&self.stage, self.done, self.total.max(self.done));
            start = end;
        }
        Array2::from_shape_vec((n, dim), rows).map_err(|e| ExplainError::Internal(e.to_string()))
    }

    /// Embed `p`×`p` occlusions filled with `fill`: every position of `at` on
    /// `faces[0]`, then every one on `faces[1]` (`[3, side, side]` each).
    /// Incremental when the embedder has spatial segments that tile the face
    /// (exactly the whole passes' result; see [`super::incremental`]), else
    /// whole passes.
    pub fn embed_occlusions(
        &mut self,
        faces: [&Array3<f32>; 2],
        at: &[(usize, usize)],
        p: usize,
        fill: [u8; 3],
    ) -> Result<Array2<f32>, ExplainError> {
        let n = at.len();
        let side = faces[0].dim().1;
        let plan = Plan::new(self.embedder.stages(), side)
            .filter(|_| !self.embedder.stages().is_empty() && faces[0].dim() == faces[1].dim());
        let Some(plan) = plan else {
            return self.embed(2 * n, faces[0].dim(), |i, slot| {
                super::xmap::occlude(faces[i / n], at[i % n], p, fill, slot)
            });
        };
        let ids = [self.cache(faces[0])?, self.cache(faces[1])?];
        // Jobs sorted by crop sizes (stable, so the order is fixed), run in
        // batches of equal sizes, their rows put back in the callers' order.
        let mut jobs: Vec<(CropKey, usize, Occlusion)> = (0..2 * n)
            .map(|i| {
                let (y, x) = at[i % n];
                let key = crop_key(&plan.places(y, p), &plan.places(x, p));
                let job = Occlusion {
                    face: ids[i / n],
                    at: (y, x),
                };
                (key, i, job)
            })
            .collect();
        jobs.sort_by(|a, b| a.0.cmp(&b.0));
        let own = std::mem::take(&mut self.caches);
        let result = {
            let cs: Vec<&Cache> = own.iter().map(|(_, c)| c).collect();
            self.batched(2 * n, |embedder, r| {
                let mut parts = Vec::new();
                let mut a = r.start;
                while a < r.end {
                    let b = (a..r.end)
                        .find(|&b| jobs[b].0 != jobs[a].0)
                        .unwrap_or(r.end);
                    let group: Vec<Occlusion> = jobs[a..b].iter().map(|j| j.2).collect();
                    parts.extend(embedder.on_lanes(group.len(), |lane, rr| {
                        embed_on_lane(embedder, lane, &plan, &cs, &group[rr], p, fill)
                    })?);
                    a = b;
                }
                let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
                ndarray::concatenate(Axis(0), &views)
                    .map_err(|e| ExplainError::Internal(e.to_string()))
            })
        };
        self.caches = own;
        let sorted = result?;
        self.incremental_passes += 2 * n;
        let mut out = Array2::<f32>::zeros(sorted.dim());
        for (row, (_, i, _)) in sorted.rows().into_iter().zip(&jobs) {
            out.row_mut(*i).assign(&row);
        }
        Ok(out)
    }

    /// Drop the cached activations of the faces seen so far (a job whose
    /// faces change at every step, such as the greedy deletion map, calls it
    /// after each step so the caches do not pile up).
    pub fn forget_cached_faces(&mut self) {
        self.caches.clear();
    }

    /// The index of `face`'s cached activations, computed on first use.
    fn cache(&mut self, face: &Array3<f32>) -> Result<usize, ExplainError> {
        if let Some(i) = self.caches.iter().position(|(f, _)| f == face) {
            return Ok(i);
        }
        let t0 = Instant::now();
        let c = Cache::new(self.embedder, face)?;
        self.model_time += t0.elapsed();
        self.caches.push((face.clone(), c));
        Ok(self.caches.len() - 1)
    }

    /// Embed whole faces as they are.
    pub fn embed_faces(&mut self, faces: &[&Array3<f32>]) -> Result<Array2<f32>, ExplainError> {
        let shape = faces.first().map(|f| f.dim()).unwrap_or((3, 112, 112));
        self.embed(faces.len(), shape, |i, mut slot| slot.assign(faces[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn face_tensor_is_planar_rgb() {
        let img = RgbImage::from_fn(4, 3, |x, y| Rgb([x as u8, y as u8, 9]));
        let t = face_tensor(&img);
        assert_eq!(t.dim(), (3, 3, 4));
        assert_eq!(t[[0, 2, 3]], 3.0);
        assert_eq!(t[[1, 2, 3]], 2.0);
        assert_eq!(t[[2, 0, 0]], 9.0);
    }
}
