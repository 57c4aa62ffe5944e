//! Faithfulness of a map: the deletion and insertion tests (the "causal
//! metrics" of Petsiuk et al., RISE, 2018), adapted to verification.
//!
//! What is measured. A map ranks the pixels of the face it lies on (highest
//! value first; ties in pixel order). *Deletion*: the first k/steps of the
//! ranked pixels are set to the fill colour (black), k = 0…steps, and each
//! image's embedding is compared with the other face's unchanged embedding
//! (cosine similarity). *Insertion*: the same pixels are restored, in the
//! same order, into an image of the fill colour. Each similarity curve runs
//! from the whole face's similarity (`s₁`) to the all-fill image's (`s₀`) or
//! back, and is integrated as it is with the trapezoid rule over the fraction
//! 0…1 (AUC, on the similarity scale). The baseline deletes the same face in a seeded random
//! order of 8×8 tiles (several orders averaged). The *ratio* is the map's AUC
//! over the baseline's: a deletion ratio below 1 means the map found pixels
//! whose loss hurts the similarity sooner than chance; an insertion ratio above
//! 1, pixels that restore it sooner.
//!
//! Known limits. Deleted (black) pixels are out of the distribution the model
//! was trained on: a drop may come from the unusual black patch, not only from
//! the information lost, so the test favours maps that happen to rank
//! black-sensitive areas first. A map ranked by the same deletion it is tested
//! with (the greedy deletion map) is tuned to the test. The area includes the
//! floor `s₀` every order ends at, which pulls every ratio toward 1 when `s₀`
//! is high; a curve may also dip below `s₀` (a partly deleted face can be less
//! like the other than a blank one). Ratios need a baseline AUC of at least
//! [`MIN_AUC`]; below that (a pair the model finds little in common in) they
//! are not given. Pixel ranking ignores the sign of a map beyond "high
//! first": for X-Maps this ranks the areas that make the faces *similar*
//! first, which is what deleting them should destroy.

use super::ExplainError;
use super::occlusion::Engine;
use crate::record::{
    BaselineRecord, CurvesRecord, FaithfulnessParams, FaithfulnessRecord, MapFaithfulness,
    face_label,
};
use ndarray::{Array2, Array3, ArrayView1, ArrayViewMut3};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Smallest baseline AUC a ratio is given against.
pub const MIN_AUC: f64 = 0.05;

/// The text the record carries about what is measured.
pub const METHOD: &str = "Deletion and insertion (Petsiuk et al. 2018): the face's pixels are set to the fill colour (deletion) or restored into it (insertion) in the map's order, highest first, and the similarity to the other face's embedding is read at every step; each similarity curve is integrated over the fraction 0…1 (AUC, trapezoid rule). Baseline: the same face in seeded random orders of tiles. Ratio = map AUC / baseline AUC; deletion below 1 and insertion above 1 are better than chance. Limits: deleted pixels are out of the model's training distribution; the greedy deletion map is tuned to this test; the area includes the all-fill image's similarity, which pulls ratios toward 1 when it is high; no ratio when the baseline AUC is below 0.05.";

/// The validation messages of the parameters.
pub fn validate(p: &FaithfulnessParams, side: usize) -> Result<(), ExplainError> {
    let bad = |m: &str| Err(ExplainError::Params(format!("faithfulness: {m}")));
    if p.steps < 2 || p.steps > 256 {
        return bad("steps must be between 2 and 256");
    }
    if p.tile == 0 || !side.is_multiple_of(p.tile) {
        return bad(&format!("the tile side must divide {side}"));
    }
    if p.random_orders == 0 || p.random_orders > 32 {
        return bad("random orders must be between 1 and 32");
    }
    Ok(())
}

/// Each pixel's position in the map's order (0 = first deleted): highest value first, ties in pixel order.
pub fn ranks_of_map(map: &Array2<f32>) -> Vec<u32> {
    let values: Vec<f32> = map.iter().copied().collect();
    let mut order: Vec<u32> = (0..values.len() as u32).collect();
    order.sort_by(|&a, &b| values[b as usize].total_cmp(&values[a as usize]));
    invert(&order)
}

/// Each pixel's position in a seeded random order of `tile`×`tile` tiles
/// (pixels of one tile in row-major order).
pub fn ranks_of_random_tiles(side: usize, tile: usize, seed: u64) -> Vec<u32> {
    let per_row = side / tile.max(1);
    let mut tiles: Vec<usize> = (0..per_row * per_row).collect();
    tiles.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut order = Vec::with_capacity(side * side);
    for t in tiles {
        let (ty, tx) = (t / per_row * tile, t % per_row * tile);
        for y in ty..ty + tile {
            for x in tx..tx + tile {
                order.push((y * side + x) as u32);
            }
        }
    }
    invert(&order)
}

fn invert(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (i, &p) in order.iter().enumerate() {
        rank[p as usize] = i as u32;
    }
    rank
}

/// Pixels deleted at step `k` of `steps` out of `n`.
fn count_at(k: usize, steps: usize, n: usize) -> u32 {
    ((k * n + steps / 2) / steps) as u32
}

/// Write `face` with the pixels of rank `< cut` set to `fill` (`deleting`), or
/// the fill image with those pixels restored (insertion).
fn write_variant(
    face: &Array3<f32>,
    ranks: &[u32],
    cut: u32,
    deleting: bool,
    fill: [u8; 3],
    mut out: ArrayViewMut3<f32>,
) {
    let side = face.dim().2;
    for (c, &fv) in fill.iter().enumerate() {
        for (i, &r) in ranks.iter().enumerate() {
            let chosen = r < cut;
            let (y, x) = (i / side, i % side);
            out[[c, y, x]] = if chosen == deleting {
                fv as f32
            } else {
                face[[c, y, x]]
            };
        }
    }
}

/// Trapezoid area of a curve sampled evenly over 0…1 (`None` for fewer than two points).
pub fn auc(curve: &[f64]) -> Option<f64> {
    if curve.len() < 2 {
        return None;
    }
    let steps = (curve.len() - 1) as f64;
    Some(curve.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum::<f64>() / steps)
}

/// A map's deletion and insertion curves: similarity after each step.
pub type Curves = (Vec<f64>, Vec<f64>);

/// One face's setting: its tensor, the other face's embedding, and the
/// similarities of the whole face (`s₁`) and of the all-fill image (`s₀`).
pub struct Probe<'a> {
    pub face: usize,
    pub tensor: &'a Array3<f32>,
    pub other: ArrayView1<'a, f32>,
    pub s1: f64,
    pub s0: f64,
}

impl<'a> Probe<'a> {
    /// Face `face` of `faces` against the other's embedding (one pass for `s₀`).
    pub fn new(
        engine: &mut Engine,
        faces: [&'a Array3<f32>; 2],
        originals: [ArrayView1<'a, f32>; 2],
        face: usize,
        fill: [u8; 3],
    ) -> Result<Probe<'a>, ExplainError> {
        let tensor = faces[face];
        let other = originals[1 - face];
        let s1 = originals[face].dot(&other) as f64;
        let blank = Array3::from_shape_fn(tensor.dim(), |(c, _, _)| fill[c] as f32);
        let e = engine.embed_faces(&[&blank])?;
        let s0 = e.row(0).dot(&other) as f64;
        Ok(Probe {
            face,
            tensor,
            other,
            s1,
            s0,
        })
    }

    /// The deletion and insertion curves of each pixel order in `orders`, all
    /// run in one batched job (`2·(steps − 1)` passes per order: the ends are `s₁`, `s₀`).
    pub fn curves(
        &self,
        engine: &mut Engine,
        orders: &[Vec<u32>],
        p: &FaithfulnessParams,
    ) -> Result<Vec<Curves>, ExplainError> {
        let n = self.tensor.dim().1 * self.tensor.dim().2;
        let inner = p.steps - 1;
        let per_order = 2 * inner;
        let emb = engine.embed(orders.len() * per_order, self.tensor.dim(), |i, slot| {
            let (o, j) = (i / per_order, i % per_order);
            let deleting = j < inner;
            let k = j % inner + 1;
            let cut = count_at(k, p.steps, n);
            write_variant(self.tensor, &orders[o], cut, deleting, p.fill, slot);
        })?;
        let sims: Vec<f64> = emb
            .rows()
            .into_iter()
            .map(|r| r.dot(&self.other) as f64)
            .collect();
        Ok(sims
            .chunks(per_order)
            .map(|c| {
                let mut del = vec![self.s1];
                del.extend_from_slice(&c[..inner]);
                del.push(self.s0);
                let mut ins = vec![self.s0];
                ins.extend_from_slice(&c[inner..]);
                ins.push(self.s1);
                (del, ins)
            })
            .collect())
    }

    fn record(&self, (deletion, insertion): (Vec<f64>, Vec<f64>)) -> CurvesRecord {
        CurvesRecord {
            deletion_auc: auc(&deletion),
            insertion_auc: auc(&insertion),
            deletion,
            insertion,
        }
    }

    /// The random-tile baseline: the curves of `random_orders` seeded orders, averaged.
    pub fn baseline(
        &self,
        engine: &mut Engine,
        p: &FaithfulnessParams,
    ) -> Result<CurvesRecord, ExplainError> {
        let side = self.tensor.dim().1;
        let orders: Vec<Vec<u32>> = (0..p.random_orders as u64)
            .map(|r| ranks_of_random_tiles(side, p.tile, p.seed.wrapping_add(r)))
            .collect();
        let curves = self.curves(engine, &orders, p)?;
        let mean = |pick: fn(&Curves) -> &Vec<f64>| -> Vec<f64> {
            let k = curves.len() as f64;
            (0..=p.steps)
                .map(|i| curves.iter().map(|c| pick(c)[i]).sum::<f64>() / k)
                .collect()
        };
        Ok(self.record((mean(|c| &c.0), mean(|c| &c.1))))
    }

    /// One map's curves and its ratios to `baseline`.
    pub fn map(
        &self,
        engine: &mut Engine,
        name: &str,
        values: &Array2<f32>,
        baseline: &CurvesRecord,
        p: &FaithfulnessParams,
    ) -> Result<MapFaithfulness, ExplainError> {
        let mut c = self.curves(engine, &[ranks_of_map(values)], p)?;
        let curves = self.record(c.remove(0));
        let ratio = |m: Option<f64>, b: Option<f64>| match (m, b) {
            (Some(m), Some(b)) if b >= MIN_AUC => Some(m / b),
            _ => None,
        };
        Ok(MapFaithfulness {
            name: name.to_string(),
            face: face_label(self.face).into(),
            deletion_ratio: ratio(curves.deletion_auc, baseline.deletion_auc),
            insertion_ratio: ratio(curves.insertion_auc, baseline.insertion_auc),
            curves,
        })
    }
}

/// Forward passes [`measure`] makes for `maps` maps over `faces` faces.
pub fn passes(p: &FaithfulnessParams, maps: usize, faces: usize) -> usize {
    let per_order = 2 * (p.steps.saturating_sub(1));
    faces * (1 + p.random_orders * per_order) + maps * per_order
}

/// Test every map in `maps` (name, face, values) on the faces `faces` whose
/// unchanged embeddings are `originals`: one baseline per face with maps,
/// then each map. One progress stage, "Faithfulness"; cancellable between batches.
pub fn measure(
    engine: &mut Engine,
    faces: [&Array3<f32>; 2],
    originals: [ArrayView1<f32>; 2],
    maps: &[(String, usize, &Array2<f32>)],
    p: &FaithfulnessParams,
) -> Result<FaithfulnessRecord, ExplainError> {
    validate(p, faces[0].dim().1)?;
    let used: Vec<usize> = (0..2).filter(|f| maps.iter().any(|m| m.1 == *f)).collect();
    let passes_before = engine.passes;
    engine.set_stage("Faithfulness", passes(p, maps.len(), used.len()));
    let mut baselines = Vec::new();
    let mut probes = Vec::new();
    for &f in &used {
        let probe = Probe::new(engine, faces, originals, f, p.fill)?;
        let b = probe.baseline(engine, p)?;
        baselines.push(BaselineRecord {
            face: face_label(f).into(),
            curves: b.clone(),
        });
        probes.push((f, probe, b));
    }
    let mut out = Vec::with_capacity(maps.len());
    for (name, f, values) in maps {
        let Some((_, probe, b)) = probes.iter().find(|(g, _, _)| g == f) else {
            continue;
        };
        out.push(probe.map(engine, name, values, b, p)?);
    }
    engine.finish_stage();
    Ok(FaithfulnessRecord {
        params: p.clone(),
        method: METHOD.into(),
        baselines,
        maps: out,
        passes: engine.passes - passes_before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_ranks_put_high_values_first_and_ties_in_pixel_order() {
        let m = Array2::from_shape_vec((2, 2), vec![0.5, 0.9, 0.5, 0.1]).unwrap();
        assert_eq!(ranks_of_map(&m), vec![1, 0, 2, 3]);
    }

    #[test]
    fn random_tiles_are_a_seeded_permutation_of_whole_tiles() {
        let a = ranks_of_random_tiles(16, 8, 7);
        assert_eq!(a, ranks_of_random_tiles(16, 8, 7));
        assert_ne!(a, ranks_of_random_tiles(16, 8, 8));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..256).collect::<Vec<u32>>());
        // Every tile's 64 pixels take 64 consecutive ranks starting at a multiple of 64.
        for ty in 0..2 {
            for tx in 0..2 {
                let r: Vec<u32> = (0..64)
                    .map(|i| a[(ty * 8 + i / 8) * 16 + tx * 8 + i % 8])
                    .collect();
                assert_eq!(r[0] % 64, 0);
                assert!(r.windows(2).all(|w| w[1] == w[0] + 1));
            }
        }
    }

    #[test]
    fn auc_is_the_trapezoid_area_over_the_fraction() {
        // A straight line from 0.8 to 0.2 has area 0.5; a drop at the first of 3 steps 0.3.
        let line = [0.8, 0.6, 0.4, 0.2];
        assert!((auc(&line).unwrap() - 0.5).abs() < 1e-12);
        let drop = [0.8, 0.2, 0.2, 0.2];
        assert!((auc(&drop).unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(auc(&[0.5]), None);
    }

    #[test]
    fn variants_delete_and_insert_the_same_pixels() {
        let face = Array3::from_elem((3, 2, 2), 100.0f32);
        let ranks = vec![3, 0, 1, 2];
        let mut out = Array3::zeros((3, 2, 2));
        write_variant(&face, &ranks, 2, true, [1, 2, 3], out.view_mut());
        assert_eq!(out[[0, 0, 1]], 1.0);
        assert_eq!(out[[2, 1, 0]], 3.0);
        assert_eq!(out[[1, 0, 0]], 100.0);
        write_variant(&face, &ranks, 2, false, [1, 2, 3], out.view_mut());
        assert_eq!(out[[0, 0, 1]], 100.0);
        assert_eq!(out[[1, 0, 0]], 2.0);
        assert_eq!(count_at(16, 16, 12544), 12544);
        assert_eq!(count_at(0, 16, 12544), 0);
    }
}
