//! Exact incremental occlusion inference (the idea of Krypton, Nakandala et
//! al., SIGMOD 2019): an occlusion patch changes only a window of each early
//! layer's activations. The unoccluded face's activations are computed once
//! at every cut between the model's spatial segments ([`Stage`]); for each
//! occlusion, each segment runs only on a crop of its input around the
//! changed window (grown by the segment's receptive field), the changed
//! outputs are pasted into a copy of the cached activations, and the rest of
//! the network (the back and head) runs whole. Exact, not an approximation:
//! a crop's own zero padding only touches outputs that are not pasted, or lies
//! on the image's real border, where the whole pass pads the same way.
//!
//! Each occlusion's crops are as small as its position allows (smaller at the
//! image's borders); occlusions with the same crop sizes batch together.
//! Mery's Gaussian hole changes every pixel of the face, so it gains nothing
//! here and stays on whole passes.

use super::ExplainError;
use crate::pipeline::embed::Stage;
use crate::pipeline::{Embedder, PipelineError};
use ndarray::{Array2, Array3, Array4, ArrayView3, Axis, s};

/// Where one segment runs for one occlusion, along one axis: the crop is
/// `start..start + len` (the segment's input coordinates) and the outputs
/// `out.0..out.1` (output coordinates) are the ones the occlusion changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub start: usize,
    pub len: usize,
    pub out: (usize, usize),
}

/// The segments' geometry on a face of a given side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub stages: Vec<Stage>,
    /// Whole input side per segment.
    pub side: Vec<usize>,
}

/// The changed outputs of a segment whose input rows `lo..hi` changed, and the
/// input rows those outputs read (both clamped to the map).
fn reach(st: &Stage, n_in: usize, (lo, hi): (usize, usize)) -> ((usize, usize), (usize, usize)) {
    let (s, p, r) = (st.stride as isize, st.pad as isize, st.rf as isize);
    let n_out = (n_in / st.stride) as isize;
    // Output o reads o·s − p … o·s − p + r − 1.
    let o_lo = ((lo as isize + p - r + 1) as f64 / s as f64).ceil() as isize;
    let o_hi = (hi as isize - 1 + p).div_euclid(s) + 1;
    let (o_lo, o_hi) = (o_lo.clamp(0, n_out), o_hi.clamp(0, n_out));
    let need_lo = (o_lo * s - p).clamp(0, n_in as isize);
    let need_hi = ((o_hi - 1) * s - p + r).clamp(0, n_in as isize);
    (
        (o_lo as usize, o_hi as usize),
        (need_lo as usize, need_hi as usize),
    )
}

impl Plan {
    /// The plan for a `side`-pixel face; `None` when the segments do not tile
    /// it (a side their strides do not divide).
    pub fn new(stages: &[Stage], side: usize) -> Option<Plan> {
        let mut sides = Vec::with_capacity(stages.len());
        let mut n = side;
        for st in stages {
            if st.stride == 0 || !n.is_multiple_of(st.stride) {
                return None;
            }
            sides.push(n);
            n /= st.stride;
        }
        Some(Plan {
            stages: stages.to_vec(),
            side: sides,
        })
    }

    /// The placements, per segment, of an occlusion covering rows `y..y + p`
    /// (one axis; columns alike). Each crop is the input the changed outputs
    /// read, its start rounded down to the segment's stride (so its grid is
    /// the whole map's), its length up, shifted inward at the far border.
    pub fn places(&self, y: usize, p: usize) -> Vec<Place> {
        let mut dirty = (y, (y + p).min(self.side[0]));
        let mut out = Vec::with_capacity(self.stages.len());
        for (k, st) in self.stages.iter().enumerate() {
            let n = self.side[k];
            let (o, need) = reach(st, n, dirty);
            let aligned = need.0 / st.stride * st.stride;
            let len = ((need.1 - aligned).div_ceil(st.stride) * st.stride).min(n);
            out.push(Place {
                start: aligned.min(n - len),
                len,
                out: o,
            });
            dirty = o;
        }
        out
    }

    /// Multiply-adds through the segments of one occlusion placed at `rows` ×
    /// `cols`, and of a whole pass through them.
    pub fn macs(&self, rows: &[Place], cols: &[Place]) -> (u64, u64) {
        let mut inc = 0;
        let mut whole = 0;
        for (k, st) in self.stages.iter().enumerate() {
            let o = |len: usize| (len / st.stride) as u64;
            inc += st.macs * o(rows[k].len) * o(cols[k].len);
            whole += st.macs * o(self.side[k]) * o(self.side[k]);
        }
        (inc, whole)
    }
}

/// The unoccluded activations of one face at the input of every segment and
/// after the last (`[C, H, W]` each; the first is the face itself).
pub struct Cache {
    pub acts: Vec<Array3<f32>>,
}

impl Cache {
    /// Run the segments whole on `face` (`[3, side, side]`, raw 0–255).
    pub fn new(embedder: &Embedder, face: &Array3<f32>) -> Result<Cache, ExplainError> {
        let mut acts = vec![face.clone()];
        for k in 0..embedder.stages().len() {
            let x = acts[k].view().insert_axis(Axis(0));
            let y = embedder.run_stage(0, k, x)?;
            acts.push(y.index_axis_move(Axis(0), 0));
        }
        Ok(Cache { acts })
    }
}

/// One occlusion to embed: which face (index into the caches) and the
/// top-left corner `(y, x)` of its `p`×`p` square.
#[derive(Clone, Copy, Debug)]
pub struct Occlusion {
    pub face: usize,
    pub at: (usize, usize),
}

/// The crop sizes of an occlusion's placements (rows, columns), per segment:
/// occlusions with equal keys batch together.
pub fn crop_key(rows: &[Place], cols: &[Place]) -> Vec<(usize, usize)> {
    rows.iter().zip(cols).map(|(r, c)| (r.len, c.len)).collect()
}

/// Embed occlusions of side `p` filled with `fill` on lane `lane`,
/// incrementally; rows L2-normalised, in order. All of `jobs` must have
/// the same [`crop_key`].
pub fn embed_on_lane(
    embedder: &Embedder,
    lane: usize,
    plan: &Plan,
    caches: &[&Cache],
    jobs: &[Occlusion],
    p: usize,
    fill: [u8; 3],
) -> Result<Array2<f32>, PipelineError> {
    let n = jobs.len();
    let places: Vec<(Vec<Place>, Vec<Place>)> = jobs
        .iter()
        .map(|j| (plan.places(j.at.0, p), plan.places(j.at.1, p)))
        .collect();
    let k_last = plan.stages.len();
    // Segment outputs of the previous step, per job: [C, h, w] crops.
    let mut prev: Option<Array4<f32>> = None;
    for k in 0..k_last {
        let c = caches[0].acts[k].dim().0;
        let (h, w) = (places[0].0[k].len, places[0].1[k].len);
        if places.iter().any(|(r, c)| (r[k].len, c[k].len) != (h, w)) {
            return Err(PipelineError::Inference {
                model: embedder.name().into(),
                reason: "occlusions of different crop sizes in one call".into(),
            });
        }
        let mut input = Array4::<f32>::zeros((n, c, h, w));
        for (i, j) in jobs.iter().enumerate() {
            let (pr, pc) = (&places[i].0, &places[i].1);
            let (ay, ax) = (pr[k].start, pc[k].start);
            let mut slot = input.index_axis_mut(Axis(0), i);
            slot.assign(&caches[j.face].acts[k].slice(s![.., ay..ay + h, ax..ax + w]));
            match &prev {
                None => {
                    let (y, x) = j.at;
                    let (y1, x1) = ((y + p).min(ay + h), (x + p).min(ax + w));
                    for (ch, &v) in fill.iter().enumerate().take(c) {
                        slot.slice_mut(s![ch, y - ay..y1 - ay, x - ax..x1 - ax])
                            .fill(v as f32);
                    }
                }
                Some(out) => paste(
                    out.index_axis(Axis(0), i),
                    (&pr[k - 1], &pc[k - 1]),
                    &plan.stages[k - 1],
                    slot,
                    (ay, ax),
                ),
            }
        }
        prev = Some(embedder.run_stage(lane, k, input.view())?);
    }
    let last = caches[0].acts[k_last].dim();
    let mut input = Array4::<f32>::zeros((n, last.0, last.1, last.2));
    let out = prev.ok_or_else(|| PipelineError::Inference {
        model: embedder.name().into(),
        reason: "no spatial segments".into(),
    })?;
    for (i, j) in jobs.iter().enumerate() {
        let mut slot = input.index_axis_mut(Axis(0), i);
        slot.assign(&caches[j.face].acts[k_last]);
        let (pr, pc) = (&places[i].0, &places[i].1);
        paste(
            out.index_axis(Axis(0), i),
            (&pr[k_last - 1], &pc[k_last - 1]),
            &plan.stages[k_last - 1],
            slot,
            (0, 0),
        );
    }
    embedder.run_back(lane, input.view())
}

/// Paste the changed outputs of a segment's crop output `out` (placed at
/// `places`) into `dst`, a map whose top-left is at `origin` in the same
/// (output) coordinates.
fn paste(
    out: ArrayView3<f32>,
    places: (&Place, &Place),
    st: &Stage,
    mut dst: ndarray::ArrayViewMut3<f32>,
    origin: (usize, usize),
) {
    let (pr, pc) = places;
    let (r0, c0) = (pr.start / st.stride, pc.start / st.stride);
    let ((a, b), (c, d)) = (pr.out, pc.out);
    dst.slice_mut(s![
        ..,
        a - origin.0..b - origin.0,
        c - origin.1..d - origin.1
    ])
    .assign(&out.slice(s![.., a - r0..b - r0, c - c0..d - c0]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv3(stride: usize) -> Stage {
        Stage {
            stride,
            pad: 1,
            rf: 3,
            macs: 1,
        }
    }

    #[test]
    fn reach_grows_by_the_receptive_field() {
        // 3×3, stride 1: rows 10..13 change outputs 9..14, which read 8..15.
        assert_eq!(reach(&conv3(1), 112, (10, 13)), ((9, 14), (8, 15)));
        // At the border the ranges clamp to the map.
        assert_eq!(reach(&conv3(1), 112, (0, 2)), ((0, 3), (0, 4)));
        // 3×3, stride 2: output o reads 2o−1 … 2o+1; rows 10..13 change 5..7.
        assert_eq!(reach(&conv3(2), 112, (10, 13)), ((5, 7), (9, 14)));
    }

    #[test]
    fn crops_cover_every_change_and_stay_inside() {
        let stages = [conv3(1), conv3(2), conv3(2)];
        let plan = Plan::new(&stages, 112).unwrap();
        for y in (0..112 - 7).step_by(5) {
            let mut dirty = (y, y + 7);
            let places = plan.places(y, 7);
            for (k, pl) in places.iter().enumerate() {
                let st = &stages[k];
                let (_, need) = reach(st, plan.side[k], dirty);
                assert!(pl.start <= need.0 && need.1 <= pl.start + pl.len, "{y} {k}");
                assert!(pl.start.is_multiple_of(st.stride) && pl.len.is_multiple_of(st.stride));
                assert!(pl.start + pl.len <= plan.side[k]);
                dirty = pl.out;
            }
            let (inc, whole) = plan.macs(&places, &places);
            assert!(inc < whole);
        }
        assert!(Plan::new(&[conv3(2)], 111).is_none());
    }
}
