//! Mery & Morris black-box saliency maps (as used by DeAndres-Tame et al.,
//! "From Pixels to Words"): a Gaussian "hole" `h = 1 − gaussian(nh, σ=nh/8.5)`
//! at grid centres (step d) perturbs the probe face; the score is
//! `cos(x_A, x_Bk)` against the other face.
//! - S0− single removal, S1− greedy removal (S0− is S1−'s first iteration);
//! - S0+ single aggregation, S1+ greedy aggregation from a seeded near-black
//!   noise image, screen-blending Gaussian-windowed patches of the face in;
//! - AVG, the mean of the four normalised maps.
//!
//! Conventions (SPEC §7): centres `range(d, side, d)²` row-major, ties to the
//! first; removal never re-tries a removed centre, aggregation may pick a centre
//! again (its value is overwritten); loops run while the change > th and
//! t < tmax, and the step that ends the loop is recorded; raw maps hold values
//! at the centres and 0 elsewhere, are filtered with the separable nh-tap
//! Gaussian (peak 1, reflect-101) and min-max normalised to [0, 1]. Unlike the
//! reference, images stay in f32 between steps (no rounding to 8 bits).
//! Removal and aggregation searches run in lockstep so each step fills one batch.
//!
//! One file on purpose (over the ~500-line guide): the four searches share
//! their state, the lockstep batching and the filtering/normalisation of the
//! maps, and the conventions above bind them together; split, a reader
//! would have to hold several files open to follow one step of the paper's
//! algorithm.

use super::ExplainError;
use super::filter::{self, KernelNorm};
use super::occlusion::Engine;
pub use crate::record::params::{MeryMethod, MeryParams};
use ndarray::{Array2, Array3, ArrayView1, ArrayViewMut3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

impl MeryParams {
    pub fn validate(&self, side: usize) -> Result<(), ExplainError> {
        let bad = |m: String| Err(ExplainError::Params(format!("Mery maps: {m}")));
        if self.d == 0 || self.d >= side {
            return bad(format!(
                "grid step d = {} must be between 1 and {}",
                self.d,
                side - 1
            ));
        }
        if self.nh < 3 || self.nh.is_multiple_of(2) {
            return bad(format!(
                "mask size nh = {} must be odd and at least 3",
                self.nh
            ));
        }
        if self.tmax == 0 || !self.th.is_finite() {
            return bad("tmax must be at least 1 and th a number".into());
        }
        if self.faces.is_empty() || self.faces.iter().any(|&f| f > 1) {
            return bad("faces must list 0 and/or 1".into());
        }
        Ok(())
    }

    /// Most forward passes one perturbed face can need (removal + aggregation).
    pub fn max_passes(&self, side: usize) -> usize {
        let n = centres(self.d, side).len();
        let removal: usize = (0..self.tmax.min(n)).map(|t| n - t).sum();
        removal + 1 + n * self.tmax
    }
}

/// Grid centres `(row, col)`: `range(d, side, d)` in both axes, row-major.
pub fn centres(d: usize, side: usize) -> Vec<(usize, usize)> {
    let r: Vec<usize> = (d..side).step_by(d.max(1)).collect();
    r.iter()
        .flat_map(|&i| r.iter().map(move |&j| (i, j)))
        .collect()
}

/// The hole mask `1 − gaussian(nh, σ=nh/8.5)` (peak 1) centred exactly at
/// `(ic, jc)` on a `side`×`side` grid; 1 outside the nh×nh window.
pub fn hole(ic: usize, jc: usize, nh: usize, side: usize) -> Array2<f32> {
    let k = filter::gaussian_kernel(nh, nh as f64 / 8.5, KernelNorm::Peak);
    let r = (nh / 2) as isize;
    Array2::from_shape_fn((side, side), |(i, j)| {
        let (di, dj) = (i as isize - ic as isize, j as isize - jc as isize);
        if di.abs() > r || dj.abs() > r {
            1.0
        } else {
            (1.0 - k[(di + r) as usize] * k[(dj + r) as usize]) as f32
        }
    })
}

/// The seeded near-black start image of aggregation: every value 0 or 1.
pub fn noise_image(seed: u64, shape: (usize, usize, usize)) -> Array3<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array3::from_shape_simple_fn(shape, || if rng.random::<bool>() { 1.0 } else { 0.0 })
}

/// Screen blend `255 − (255−a)(255−b)/255` of two raw 0–255 values.
pub fn screen(a: f32, b: f32) -> f32 {
    255.0 - (255.0 - a) * (255.0 - b) / 255.0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Removal,
    Aggregation,
}

/// One greedy search (removal or aggregation) on one face.
struct Greedy<'a> {
    kind: Kind,
    face: usize,
    probe: &'a Array3<f32>,
    image: Array3<f32>,
    score: f32,
    t: usize,
    change: f32,
    used: Vec<bool>,
    single: Vec<f32>,
    greedy: Vec<f32>,
}

impl<'a> Greedy<'a> {
    fn new(
        kind: Kind,
        face: usize,
        probe: &'a Array3<f32>,
        image: Array3<f32>,
        score: f32,
        n: usize,
    ) -> Self {
        Greedy {
            kind,
            face,
            probe,
            image,
            score,
            t: 0,
            change: f32::INFINITY,
            used: vec![false; n],
            single: vec![0.0; n],
            greedy: vec![0.0; n],
        }
    }

    fn candidates(&self, p: &MeryParams) -> Vec<usize> {
        if !(self.change as f64 > p.th && self.t < p.tmax) {
            return Vec::new();
        }
        (0..self.used.len())
            .filter(|&c| self.kind == Kind::Aggregation || !self.used[c])
            .collect()
    }

    /// The image with centre `c` removed (hole) or added (windowed patch screen-blended in).
    fn write(&self, hole: &Array2<f32>, mut out: ArrayViewMut3<f32>) {
        match out.as_slice_mut() {
            Some(o) => self.fill(hole, o),
            None => {
                let mut o = vec![0.0; out.len()];
                self.fill(hole, &mut o);
                out.iter_mut().zip(o).for_each(|(d, v)| *d = v);
            }
        }
    }

    /// [`Self::write`] into a `[3, side, side]` row-major buffer. Plain loops
    /// over contiguous planes: this runs once per candidate, and ndarray's
    /// `Zip` took ~5 % of the Mery time in the dev build.
    fn fill(&self, hole: &Array2<f32>, out: &mut [f32]) {
        let (img, probe, hole) = (
            self.image.as_standard_layout(),
            self.probe.as_standard_layout(),
            hole.as_standard_layout(),
        );
        let (img, probe, hole) = (
            img.as_slice().unwrap_or_default(),
            probe.as_slice().unwrap_or_default(),
            hole.as_slice().unwrap_or_default(),
        );
        let plane = hole.len().max(1);
        for ((o, v), b) in out
            .chunks_exact_mut(plane)
            .zip(img.chunks_exact(plane))
            .zip(probe.chunks_exact(plane))
        {
            match self.kind {
                Kind::Removal => {
                    for ((o, &v), &h) in o.iter_mut().zip(v).zip(hole) {
                        *o = v * h;
                    }
                }
                Kind::Aggregation => {
                    for (((o, &v), &b), &h) in o.iter_mut().zip(v).zip(b).zip(hole) {
                        *o = screen(v, b * (1.0 - h));
                    }
                }
            }
        }
    }

    /// One greedy step from the scores of `cands`.
    fn step(&mut self, cands: &[usize], scores: &[f32], holes: &[Array2<f32>]) {
        let sign = if self.kind == Kind::Removal {
            -1.0
        } else {
            1.0
        };
        self.t += 1;
        let mut best: Option<(usize, f32)> = None;
        for (&c, &s) in cands.iter().zip(scores) {
            if self.t == 1 {
                self.single[c] = sign * (s - self.score);
            }
            if best.is_none_or(|(_, b)| sign * s > sign * b) {
                best = Some((c, s));
            }
        }
        let Some((c, s)) = best else { return };
        self.change = sign * (s - self.score);
        self.greedy[c] = self.change;
        let mut next = self.image.clone();
        self.write(&holes[c], next.view_mut());
        self.image = next;
        self.score = s;
        self.used[c] = true;
    }
}

/// One normalised Mery map on one face.
#[derive(Clone, Debug)]
pub struct MeryMap {
    pub method: MeryMethod,
    /// The face perturbed (0 = first image).
    pub face: usize,
    /// `side`×`side`, smoothed and min-max normalised to [0, 1]; 1 = most important.
    pub values: Array2<f32>,
    /// The value at each grid centre before smoothing (empty for AVG).
    pub centre_values: Vec<f32>,
}

impl MeryMap {
    pub fn name(&self) -> &'static str {
        self.method.name()
    }
}

/// The Mery maps of every perturbed face, with what the greedy loops did.
#[derive(Clone, Debug)]
pub struct MerySet {
    pub maps: Vec<MeryMap>,
    pub params: MeryParams,
    pub centres: Vec<(usize, usize)>,
    /// Greedy iterations run, per face: (removal, aggregation).
    pub iterations: Vec<(usize, usize, usize)>,
}

impl MerySet {
    pub fn get(&self, method: MeryMethod, face: usize) -> Option<&MeryMap> {
        self.maps
            .iter()
            .find(|m| m.method == method && m.face == face)
    }
}

/// Raw centre values → smoothed (nh-tap Gaussian, peak 1) → min-max [0, 1].
pub fn smooth_map(
    values: &[f32],
    centres: &[(usize, usize)],
    nh: usize,
    side: usize,
) -> Array2<f32> {
    let mut raw = Array2::<f32>::zeros((side, side));
    for (&(i, j), &v) in centres.iter().zip(values) {
        raw[[i, j]] = v;
    }
    let mut m = filter::separable(
        &raw,
        &filter::gaussian_kernel(nh, nh as f64 / 8.5, KernelNorm::Peak),
    );
    let (lo, hi) = m
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    if hi > lo {
        m.mapv_inplace(|v| (v - lo) / (hi - lo));
    } else {
        m.fill(0.0);
    }
    m
}

/// Compute S0−, S1−, S0+, S1+ and AVG for each face in `params.faces`, each
/// perturbed against the other face's embedding (`originals`, L2-normalised).
pub fn run(
    engine: &mut Engine,
    faces: [&Array3<f32>; 2],
    originals: [ArrayView1<f32>; 2],
    params: &MeryParams,
) -> Result<MerySet, ExplainError> {
    let shape = faces[0].dim();
    let side = shape.1;
    params.validate(side)?;
    let cs = centres(params.d, side);
    let holes: Vec<Array2<f32>> = cs
        .iter()
        .map(|&(i, j)| hole(i, j, params.nh, side))
        .collect();
    let mut faces_sorted = params.faces.clone();
    faces_sorted.sort_unstable();
    faces_sorted.dedup();
    engine.set_stage("Mery maps", params.max_passes(side) * faces_sorted.len());

    // Starting scores: the unperturbed pair for removal, the noise image for aggregation.
    let noise = noise_image(params.seed, shape);
    let noise_emb = engine.embed_faces(&[&noise])?;
    let mut searches = Vec::new();
    for &f in &faces_sorted {
        let reference = originals[1 - f];
        let s0 = originals[f].dot(&reference);
        let sn = noise_emb.row(0).dot(&reference);
        searches.push(Greedy::new(
            Kind::Removal,
            f,
            faces[f],
            faces[f].clone(),
            s0,
            cs.len(),
        ));
        searches.push(Greedy::new(
            Kind::Aggregation,
            f,
            faces[f],
            noise.clone(),
            sn,
            cs.len(),
        ));
    }
    loop {
        let jobs: Vec<(usize, Vec<usize>)> = searches
            .iter()
            .map(|g| g.candidates(params))
            .enumerate()
            .collect();
        let flat: Vec<(usize, usize)> = jobs
            .iter()
            .flat_map(|(k, cands)| cands.iter().map(move |&c| (*k, c)))
            .collect();
        if flat.is_empty() {
            break;
        }
        let emb = engine.embed(flat.len(), shape, |i, slot| {
            let (k, c) = flat[i];
            searches[k].write(&holes[c], slot)
        })?;
        let mut row = 0;
        for (k, cands) in jobs {
            let reference = originals[1 - searches[k].face];
            let scores: Vec<f32> = (row..row + cands.len())
                .map(|r| emb.row(r).dot(&reference))
                .collect();
            row += cands.len();
            if !cands.is_empty() {
                searches[k].step(&cands, &scores, &holes);
            }
        }
    }
    engine.finish_stage();

    let mut maps = Vec::new();
    let mut iterations = Vec::new();
    for pair in searches.chunks(2) {
        let (rem, agg) = (&pair[0], &pair[1]);
        let f = rem.face;
        iterations.push((f, rem.t, agg.t));
        let parts = [
            (MeryMethod::S0Minus, &rem.single),
            (MeryMethod::S1Minus, &rem.greedy),
            (MeryMethod::S0Plus, &agg.single),
            (MeryMethod::S1Plus, &agg.greedy),
        ];
        let mut sum = Array2::<f32>::zeros((side, side));
        for (method, v) in parts {
            let values = smooth_map(v, &cs, params.nh, side);
            sum += &values;
            maps.push(MeryMap {
                method,
                face: f,
                values,
                centre_values: v.clone(),
            });
        }
        maps.push(MeryMap {
            method: MeryMethod::Avg,
            face: f,
            values: sum / 4.0,
            centre_values: Vec::new(),
        });
    }
    Ok(MerySet {
        maps,
        params: params.clone(),
        centres: cs,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_for_d16_is_six_by_six() {
        let c = centres(16, 112);
        assert_eq!(c.len(), 36);
        assert_eq!(c[0], (16, 16));
        assert_eq!(c[1], (16, 32));
        assert_eq!(c[6], (32, 16));
        assert_eq!(c[35], (96, 96));
    }

    #[test]
    fn hole_is_centred_and_gaussian() {
        let h = hole(48, 64, 161, 112);
        assert_eq!(h[[48, 64]], 0.0);
        let s = 161.0f64 / 8.5;
        let want = 1.0 - (-(10.0f64 * 10.0) / (2.0 * s * s)).exp();
        assert!((h[[58, 64]] as f64 - want).abs() < 1e-6);
        assert_eq!(h[[38, 64]], h[[58, 64]]);
        assert_eq!(h[[48, 54]], h[[48, 74]]);
        // A small hole leaves everything outside its window untouched.
        let small = hole(20, 20, 9, 112);
        assert_eq!(small[[20, 25]], 1.0);
        assert!(small[[20, 24]] < 1.0);
    }

    #[test]
    fn noise_is_seeded_binary_and_reproducible() {
        let a = noise_image(7, (3, 8, 8));
        assert_eq!(a, noise_image(7, (3, 8, 8)));
        assert_ne!(a, noise_image(8, (3, 8, 8)));
        assert!(a.iter().all(|&v| v == 0.0 || v == 1.0));
        assert!(a.iter().any(|&v| v == 1.0) && a.iter().any(|&v| v == 0.0));
    }

    #[test]
    fn screen_blend_values() {
        assert_eq!(screen(0.0, 200.0), 200.0);
        assert_eq!(screen(255.0, 3.0), 255.0);
        assert!((screen(1.0, 100.0) - (255.0 - 254.0 * 155.0 / 255.0)).abs() < 1e-4);
    }

    #[test]
    fn smoothing_peaks_at_the_biggest_centre_and_spans_zero_to_one() {
        let cs = centres(16, 112);
        let mut v = vec![0.0; cs.len()];
        v[14] = 0.3; // (48, 48)
        v[35] = 0.1; // (96, 96)
        let m = smooth_map(&v, &cs, 161, 112);
        let (mut best, mut arg) = (f32::MIN, (0, 0));
        for ((i, j), &x) in m.indexed_iter() {
            if x > best {
                (best, arg) = (x, (i, j));
            }
        }
        assert_eq!(best, 1.0);
        assert!(m.iter().all(|&x| (0.0..=1.0).contains(&x)));
        assert!(
            (arg.0 as i32 - 48).abs() <= 2 && (arg.1 as i32 - 48).abs() <= 2,
            "{arg:?}"
        );
    }

    #[test]
    fn both_faces_by_default() {
        assert_eq!(MeryParams::default().faces, vec![0, 1]);
    }

    #[test]
    fn pass_bound_for_the_defaults() {
        // Removal: 36 + 35 + … + 17 = 530; aggregation: 1 + 36·20 = 721.
        assert_eq!(MeryParams::default().max_passes(112), 1251);
    }
}
