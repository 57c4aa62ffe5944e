//! X-Maps (Knoche et al. 2022, §3.2): systematic square occlusion of both
//! aligned faces (Algorithm 1), distance deviations chosen by method I, II or
//! III (eqs. 6–8), similarity maps per patch size (eq. 9), combined with 1/p²
//! weights (eq. 10), Gaussian-blurred and normalised to [−1, 1].
//! Positive (green) = similar: occluding it pushes the faces apart.
//! Reference: Martlgap/x-face-verification `src/generate_maps.py`.

use super::ExplainError;
use super::filter::{self, KernelNorm};
use super::occlusion::Engine;
pub use crate::record::params::{XMapMethod, XMapParams};
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayViewMut3, s};

impl XMapParams {
    /// Reject parameters that cannot give a map on a `side`×`side` crop.
    pub fn validate(&self, side: usize) -> Result<(), ExplainError> {
        let bad = |m: String| Err(ExplainError::Params(format!("X-Map: {m}")));
        if self.patch_sizes.is_empty() || self.methods.is_empty() {
            return bad("at least one patch size and one method are needed".into());
        }
        if let Some(p) = self.patch_sizes.iter().find(|&&p| p == 0 || p >= side) {
            return bad(format!("patch size {p} must be between 1 and {}", side - 1));
        }
        if self.stride == 0 {
            return bad("the stride must be at least 1".into());
        }
        if self.blur_kernel > 1 && (self.blur_kernel.is_multiple_of(2) || self.blur_sigma <= 0.0) {
            return bad(format!(
                "blur kernel {} must be odd with σ > 0",
                self.blur_kernel
            ));
        }
        Ok(())
    }

    /// Patch sizes in the order they are computed: largest (coarsest) first.
    pub fn size_order(&self) -> Vec<usize> {
        let mut p = self.patch_sizes.clone();
        p.sort_unstable_by(|a, b| b.cmp(a));
        p.dedup();
        p
    }

    /// Forward passes of the whole job: both originals plus every occlusion of both faces.
    pub fn passes(&self, side: usize) -> usize {
        2 + self
            .size_order()
            .iter()
            .map(|&p| 2 * positions(p, self.stride, side).len())
            .sum::<usize>()
    }
}

/// Top-left corners `(y, x)` of the occlusions: `range(0, side−p, stride)` in
/// both axes, rows outer (the reference's order).
pub fn positions(p: usize, stride: usize, side: usize) -> Vec<(usize, usize)> {
    let r: Vec<usize> = (0..side.saturating_sub(p)).step_by(stride.max(1)).collect();
    r.iter()
        .flat_map(|&y| r.iter().map(move |&x| (y, x)))
        .collect()
}

/// Write `base` with the exact `p`×`p` square `[y:y+p, x:x+p]` set to `fill` into `out`.
pub fn occlude(
    base: &Array3<f32>,
    (y, x): (usize, usize),
    p: usize,
    fill: [u8; 3],
    mut out: ArrayViewMut3<f32>,
) {
    out.assign(base);
    for (c, &v) in fill.iter().enumerate() {
        out.slice_mut(s![c, y..y + p, x..x + p]).fill(v as f32);
    }
}

/// The occluded embeddings of one patch size for both faces, shared by all methods.
#[derive(Clone, Debug)]
pub struct SizeEmbeddings {
    pub p: usize,
    pub positions: Vec<(usize, usize)>,
    /// `[N, D]` per face, rows in `positions` order.
    pub faces: [Array2<f32>; 2],
}

/// Cosine distance of two L2-normalised embeddings.
fn dist(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f32 {
    1.0 - a.dot(&b)
}

/// The distances `D₁`, `D₂` of one method (eqs. 6–8) for one patch size.
pub fn distances(
    method: XMapMethod,
    originals: [ArrayView1<f32>; 2],
    e: &SizeEmbeddings,
) -> [Vec<f32>; 2] {
    let [f1, f2] = &e.faces;
    let rows = |f: &Array2<f32>, other: ArrayView1<f32>| {
        f.rows()
            .into_iter()
            .map(|r| dist(r, other))
            .collect::<Vec<_>>()
    };
    match method {
        XMapMethod::I => {
            // mean_j (1 − f1ᵢ·f2ⱼ) = 1 − f1ᵢ·mean_j f2ⱼ (exact for unit-norm rows).
            let m2: Array1<f32> = f2
                .mean_axis(ndarray::Axis(0))
                .unwrap_or_else(|| Array1::zeros(f2.ncols()));
            let m1: Array1<f32> = f1
                .mean_axis(ndarray::Axis(0))
                .unwrap_or_else(|| Array1::zeros(f1.ncols()));
            [rows(f1, m2.view()), rows(f2, m1.view())]
        }
        XMapMethod::II => [rows(f1, originals[1]), rows(f2, originals[0])],
        XMapMethod::III => {
            let d: Vec<f32> = f1
                .rows()
                .into_iter()
                .zip(f2.rows())
                .map(|(a, b)| dist(a, b))
                .collect();
            [d.clone(), d]
        }
    }
}

/// Eq. 9: `S = Σᵢ (dᵢ − d_orig)·Mᵢ / N` for square masks of side `p`.
pub fn similarity_map(
    d: &[f32],
    d_orig: f32,
    positions: &[(usize, usize)],
    p: usize,
    side: usize,
) -> Array2<f64> {
    let mut s = Array2::<f64>::zeros((side, side));
    let n = positions.len().max(1) as f64;
    for (&(y, x), &di) in positions.iter().zip(d) {
        let w = (di as f64 - d_orig as f64) / n;
        s.slice_mut(s![y..y + p, x..x + p]).mapv_inplace(|v| v + w);
    }
    s
}

/// Eq. 10 plus smoothing: `S̄ = Σ_p S_p / (p²·|P|)`, Gaussian blur, then
/// division by `max|S̄|`. Returns the map in [−1, 1] and the divisor used.
pub fn combine(
    per_size: &[(usize, Array2<f64>)],
    params: &XMapParams,
    side: usize,
) -> (Array2<f32>, f32) {
    let mut acc = Array2::<f64>::zeros((side, side));
    let k = per_size.len().max(1) as f64;
    for (p, s) in per_size {
        acc.scaled_add(1.0 / ((p * p) as f64 * k), s);
    }
    let mut m = acc.mapv(|v| v as f32);
    if params.blur_kernel > 1 {
        m = filter::separable(
            &m,
            &filter::gaussian_kernel(params.blur_kernel, params.blur_sigma, KernelNorm::Sum),
        );
    }
    let scale = m.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    if scale > 0.0 {
        m.mapv_inplace(|v| v / scale);
    }
    (m, scale)
}

/// One X-Map: one method on one face.
#[derive(Clone, Debug)]
pub struct XMap {
    pub method: XMapMethod,
    /// 0 = first image, 1 = second.
    pub face: usize,
    /// The patch sizes it combines.
    pub patch_sizes: Vec<usize>,
    /// `side`×`side`, in [−1, 1]; positive = similar.
    pub values: Array2<f32>,
    /// `max|S̄|` before normalisation (0 when the map is flat).
    pub scale: f32,
}

impl XMap {
    /// Name in files and tables, e.g. `xmap-II`.
    pub fn name(&self) -> &'static str {
        self.method.name()
    }
}

/// The X-Maps from the patch sizes finished so far.
#[derive(Clone, Debug)]
pub struct XMapSet {
    pub maps: Vec<XMap>,
    /// Patch sizes included, in computation order.
    pub patch_sizes: Vec<usize>,
    /// True once every requested patch size is included.
    pub complete: bool,
    /// `d(I₁, I₂)` of the unoccluded faces.
    pub d_orig: f32,
    pub params: XMapParams,
    /// A preview, not yet a map of the paper: the first patch size from only
    /// its positions on a grid of twice the stride, `(used, all)` of them.
    /// The same occlusions' embeddings are reused for the exact map after it.
    pub preview: Option<(usize, usize)>,
}

impl XMapSet {
    pub fn get(&self, method: XMapMethod, face: usize) -> Option<&XMap> {
        self.maps
            .iter()
            .find(|m| m.method == method && m.face == face)
    }
}

/// Build every requested map from the sizes embedded so far.
pub fn maps_from(
    sizes: &[SizeEmbeddings],
    originals: [ArrayView1<f32>; 2],
    params: &XMapParams,
    side: usize,
) -> Vec<XMap> {
    let d_orig = dist(originals[0], originals[1]);
    let mut out = Vec::new();
    for &method in &params.methods {
        let mut per_face: [Vec<(usize, Array2<f64>)>; 2] = [Vec::new(), Vec::new()];
        for e in sizes {
            let d = distances(method, originals, e);
            for f in 0..2 {
                per_face[f].push((e.p, similarity_map(&d[f], d_orig, &e.positions, e.p, side)));
            }
        }
        for (face, per) in per_face.iter().enumerate() {
            let (values, scale) = combine(per, params, side);
            out.push(XMap {
                method,
                face,
                patch_sizes: sizes.iter().map(|e| e.p).collect(),
                values,
                scale,
            });
        }
    }
    out
}

/// The positions of `pos` (from [`positions`]) on a grid of twice the
/// stride, and the others: the preview's occlusions, then the rest's.
pub fn preview_split(pos: &[(usize, usize)], stride: usize) -> (Vec<usize>, Vec<usize>) {
    let on_grid = |v: usize| (v / stride.max(1)).is_multiple_of(2);
    (0..pos.len()).partition(|&i| on_grid(pos[i].0) && on_grid(pos[i].1))
}

/// Compute the X-Maps of two faces (`[3, side, side]` tensors, raw 0–255)
/// whose unoccluded embeddings are `originals`. Patch sizes run largest
/// first; after each one `on_update` receives the maps so far (the p=28 map
/// arrives first). Before that, a preview: the largest patch size from its
/// positions on a grid of twice the stride (about a quarter of them; see
/// [`XMapSet::preview`]). Every occlusion is embedded exactly once.
pub fn run(
    engine: &mut Engine,
    faces: [&Array3<f32>; 2],
    originals: [ArrayView1<f32>; 2],
    params: &XMapParams,
    on_update: &mut dyn FnMut(&XMapSet),
) -> Result<XMapSet, ExplainError> {
    let side = faces[0].dim().1;
    params.validate(side)?;
    let order = params.size_order();
    let d_orig = dist(originals[0], originals[1]);
    let set = |sizes: &[SizeEmbeddings], preview: Option<(usize, usize)>| XMapSet {
        maps: maps_from(sizes, originals, params, side),
        patch_sizes: sizes.iter().map(|e| e.p).collect(),
        complete: preview.is_none() && sizes.len() == order.len(),
        d_orig,
        params: params.clone(),
        preview,
    };
    let mut sizes: Vec<SizeEmbeddings> = Vec::with_capacity(order.len());
    let mut last = None;
    for (k, &p) in order.iter().enumerate() {
        let pos = positions(p, params.stride, side);
        let (first, rest) = if k == 0 {
            preview_split(&pos, params.stride)
        } else {
            ((0..pos.len()).collect(), Vec::new())
        };
        let mut faces_of = |idx: &[usize]| -> Result<[Array2<f32>; 2], ExplainError> {
            let at: Vec<(usize, usize)> = idx.iter().map(|&i| pos[i]).collect();
            // Both faces' occlusions in one list so batches stay full.
            let all = engine.embed_occlusions(faces, &at, p, params.fill)?;
            let n = at.len();
            Ok([
                all.slice(s![0..n, ..]).to_owned(),
                all.slice(s![n.., ..]).to_owned(),
            ])
        };
        let mut emb = faces_of(&first)?;
        if !rest.is_empty() {
            let part = SizeEmbeddings {
                p,
                positions: first.iter().map(|&i| pos[i]).collect(),
                faces: emb,
            };
            on_update(&set(
                std::slice::from_ref(&part),
                Some((first.len(), pos.len())),
            ));
            let more = faces_of(&rest)?;
            // Rows back in `positions` order.
            emb = [0, 1].map(|f| {
                let mut m = Array2::<f32>::zeros((pos.len(), part.faces[f].ncols()));
                for (r, &i) in first.iter().enumerate() {
                    m.row_mut(i).assign(&part.faces[f].row(r));
                }
                for (r, &i) in rest.iter().enumerate() {
                    m.row_mut(i).assign(&more[f].row(r));
                }
                m
            });
        }
        sizes.push(SizeEmbeddings {
            p,
            positions: pos,
            faces: emb,
        });
        let now = set(&sizes, None);
        on_update(&now);
        last = Some(now);
    }
    last.ok_or_else(|| ExplainError::Params("X-Map: no patch size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_match_the_paper() {
        assert_eq!(positions(7, 5, 112).len(), 441);
        assert_eq!(positions(14, 5, 112).len(), 400);
        assert_eq!(positions(28, 5, 112).len(), 289);
        assert_eq!(XMapParams::default().passes(112), 2 + 2 * (441 + 400 + 289));
        assert_eq!(XMapParams::default().passes(112), 2262);
        let p28 = positions(28, 5, 112);
        assert_eq!(p28[0], (0, 0));
        assert_eq!(p28[1], (0, 5));
        assert_eq!(*p28.last().unwrap(), (80, 80));
    }

    #[test]
    fn the_preview_takes_every_other_position_of_each_axis() {
        let pos = positions(28, 5, 112);
        let (first, rest) = preview_split(&pos, 5);
        // 17 positions per axis: 9 on the coarse grid (0, 10, …, 80).
        assert_eq!((first.len(), rest.len()), (81, 289 - 81));
        assert!(
            first
                .iter()
                .all(|&i| pos[i].0.is_multiple_of(10) && pos[i].1.is_multiple_of(10))
        );
        let mut all: Vec<usize> = first.iter().chain(&rest).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..289).collect::<Vec<_>>());
    }

    #[test]
    fn occlusion_covers_exactly_the_square() {
        let base = Array3::from_elem((3, 112, 112), 100.0f32);
        let mut out = Array3::<f32>::zeros((3, 112, 112));
        occlude(&base, (10, 20), 14, [1, 2, 3], out.view_mut());
        for c in 0..3 {
            for y in 0..112 {
                for x in 0..112 {
                    let inside = (10..24).contains(&y) && (20..34).contains(&x);
                    let want = if inside { (c + 1) as f32 } else { 100.0 };
                    assert_eq!(out[[c, y, x]], want, "c{c} y{y} x{x}");
                }
            }
        }
    }

    #[test]
    fn similarity_map_sums_weighted_masks() {
        let pos = vec![(0, 0), (0, 2)];
        let s = similarity_map(&[0.5, 0.3], 0.1, &pos, 3, 6);
        // Overlap columns 2 get both (0.4 + 0.2)/2; columns 0–1 only the first, 3–4 only the second.
        assert!((s[[0, 0]] - 0.2).abs() < 1e-6);
        assert!((s[[1, 2]] - 0.3).abs() < 1e-6);
        assert!((s[[2, 4]] - 0.1).abs() < 1e-6);
        assert_eq!(s[[3, 0]], 0.0);
        assert_eq!(s[[0, 5]], 0.0);
    }

    #[test]
    fn methods_pick_the_right_distances() {
        let e = |v: [[f32; 2]; 2]| Array2::from_shape_vec((2, 2), v.concat()).unwrap();
        let emb = SizeEmbeddings {
            p: 1,
            positions: vec![(0, 0), (0, 1)],
            faces: [e([[1.0, 0.0], [0.0, 1.0]]), e([[0.6, 0.8], [1.0, 0.0]])],
        };
        let o1 = Array1::from(vec![1.0f32, 0.0]);
        let o2 = Array1::from(vec![0.0f32, 1.0]);
        let [a, b] = distances(XMapMethod::II, [o1.view(), o2.view()], &emb);
        assert_eq!(a, vec![1.0, 0.0]);
        assert!((b[0] - 0.4).abs() < 1e-6 && b[1] == 0.0);
        let [a, b] = distances(XMapMethod::III, [o1.view(), o2.view()], &emb);
        assert!((a[0] - 0.4).abs() < 1e-6 && (a[1] - 1.0).abs() < 1e-6 && a == b);
        // I: row 0 of face 1 against both rows of face 2: (0.4 + 0) / 2.
        let [a, b] = distances(XMapMethod::I, [o1.view(), o2.view()], &emb);
        assert!((a[0] - 0.2).abs() < 1e-6 && (a[1] - 0.6).abs() < 1e-6);
        assert!((b[0] - (0.4 + 0.2) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn combine_weights_by_inverse_area_and_normalises() {
        let params = XMapParams {
            blur_kernel: 0,
            ..XMapParams::default()
        };
        let a = Array2::from_elem((4, 4), 4.0);
        let mut b = Array2::from_elem((4, 4), 0.0);
        b[[0, 0]] = -8.0;
        let (m, scale) = combine(&[(2, a), (4, b)], &params, 4);
        // (4/4 + 0)/2 = 0.5 everywhere except [0,0]: (4/4 − 8/16)/2 = 0.25.
        assert!((scale - 0.5).abs() < 1e-6);
        assert!((m[[1, 1]] - 1.0).abs() < 1e-6 && (m[[0, 0]] - 0.5).abs() < 1e-6);
    }
}
