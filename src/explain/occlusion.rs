//! The batched occlusion engine: builds perturbed variants of aligned
//! 112×112 faces straight into a reused batch tensor, runs them through the
//! embedder, counts every forward pass, streams progress and stops between
//! batches when cancelled. X-Maps and Mery maps both run on it.

use super::ExplainError;
use crate::pipeline::Embedder;
use crate::progress::Ctl;
use image::RgbImage;
use ndarray::{Array2, Array3, Array4, ArrayViewMut3, Axis, s};
use std::time::{Duration, Instant};

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
        let mut rows: Vec<f32> = Vec::new();
        let mut dim = 0;
        let mut start = 0;
        while start < n {
            self.ctl.check()?;
            let end = (start + batch).min(n);
            for i in start..end {
                write(i, self.buffer.index_axis_mut(Axis(0), i - start));
            }
            let t0 = Instant::now();
            let e =
                self.embedder
                    .embed_tensor(self.buffer.slice(s![0..end - start, .., .., ..]))?;
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
