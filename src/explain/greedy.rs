//! The greedy deletion map (GD), added here (issue 16) as a map built to pass
//! the deletion test of [`super::faithfulness`].
//!
//! Definition. The face is cut into square tiles of side `tile` (16 on a
//! 112-pixel crop: 7×7 = 49 tiles). Starting from the whole face, each step
//! fills every tile not yet removed, one at a time, with `fill` on top of the
//! tiles already removed, embeds each result and removes the tile whose
//! removal leaves the lowest cosine similarity to the other face's (unchanged)
//! embedding (ties: the first tile in row-major order). After `steps` steps
//! the tiles left are ranked by the similarities of the last step (lowest
//! first). A tile's value is `1 − rank/(n − 1)`, n = number of tiles: 1 = removed
//! first = most important for the similarity, 0 = last. Both faces run in
//! lockstep, each against the other's embedding, so every step fills batches.
//!
//! Cost: `Σ_{t<steps} 2·n` passes (a removed tile is embedded again — its
//! result equals the current image — so the occlusions of a step form one
//! square grid and run incrementally like the X-Maps' when the embedder has
//! spatial segments). Limits: the map is as coarse as its tiles, and being
//! ranked by the same kind of deletion that the test measures, its deletion
//! score is tuned to that test (its insertion score is not).

use super::ExplainError;
use super::occlusion::Engine;
pub use crate::record::GreedyParams;
use ndarray::{Array2, Array3, ArrayView1, s};

impl GreedyParams {
    /// Reject parameters that cannot give a map on a `side`×`side` crop.
    pub fn validate(&self, side: usize) -> Result<(), ExplainError> {
        if self.tile == 0 || !side.is_multiple_of(self.tile) || self.tile >= side {
            return Err(ExplainError::Params(format!(
                "greedy deletion: the tile side {} must divide {side} and be smaller",
                self.tile
            )));
        }
        if self.steps == 0 {
            return Err(ExplainError::Params(
                "greedy deletion: at least one step is needed".into(),
            ));
        }
        Ok(())
    }

    /// Number of tiles on a `side` crop.
    pub fn tiles(&self, side: usize) -> usize {
        (side / self.tile.max(1)).pow(2)
    }

    /// Forward passes of both faces.
    pub fn passes(&self, side: usize) -> usize {
        let n = self.tiles(side);
        2 * n * self.steps.min(n)
    }
}

/// Name in files, tables and the analysis.
pub const NAME: &str = "GD";

/// One face's greedy deletion map.
#[derive(Clone, Debug)]
pub struct GreedyMap {
    pub face: usize,
    /// `side`×`side` in [0, 1], 1 = removed first (most important).
    pub values: Array2<f32>,
    /// Tiles in removal order (row-major tile index), then the rest by the last scores.
    pub order: Vec<usize>,
    /// Similarity after each greedy step.
    pub similarities: Vec<f32>,
}

impl GreedyMap {
    pub fn name(&self) -> &'static str {
        NAME
    }
}

/// Both faces' maps.
#[derive(Clone, Debug)]
pub struct GreedySet {
    pub maps: Vec<GreedyMap>,
    pub params: GreedyParams,
    /// Forward passes made.
    pub passes: usize,
}

impl GreedySet {
    pub fn get(&self, face: usize) -> Option<&GreedyMap> {
        self.maps.iter().find(|m| m.face == face)
    }
}

/// Compute the greedy deletion maps of both faces (`[3, side, side]`, raw
/// 0–255) whose unchanged embeddings are `originals`. One progress stage,
/// cancellable between batches.
pub fn run(
    engine: &mut Engine,
    faces: [&Array3<f32>; 2],
    originals: [ArrayView1<f32>; 2],
    params: &GreedyParams,
) -> Result<GreedySet, ExplainError> {
    let side = faces[0].dim().1;
    params.validate(side)?;
    let (t, per_row) = (params.tile, side / params.tile);
    let n = per_row * per_row;
    let at: Vec<(usize, usize)> = (0..n).map(|i| (i / per_row * t, i % per_row * t)).collect();
    let steps = params.steps.min(n);
    let before = engine.passes;
    engine.set_stage("Greedy deletion map", params.passes(side));
    let mut current = [faces[0].clone(), faces[1].clone()];
    let mut removed = [vec![false; n], vec![false; n]];
    let mut order: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut sims: [Vec<f32>; 2] = [Vec::new(), Vec::new()];
    let mut last: [Vec<f32>; 2] = [vec![0.0; n], vec![0.0; n]];
    for _ in 0..steps {
        let all = engine.embed_occlusions([&current[0], &current[1]], &at, t, params.fill)?;
        engine.forget_cached_faces();
        for f in 0..2 {
            let other = originals[1 - f];
            let scores: Vec<f32> = (0..n).map(|i| all.row(f * n + i).dot(&other)).collect();
            let best = (0..n)
                .filter(|&i| !removed[f][i])
                .min_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
            if let Some(b) = best {
                removed[f][b] = true;
                order[f].push(b);
                sims[f].push(scores[b]);
                let (y, x) = at[b];
                for (c, &v) in params.fill.iter().enumerate() {
                    current[f]
                        .slice_mut(s![c, y..y + t, x..x + t])
                        .fill(v as f32);
                }
            }
            last[f] = scores;
        }
    }
    engine.finish_stage();
    let maps = (0..2)
        .map(|f| {
            let mut rest: Vec<usize> = (0..n).filter(|&i| !removed[f][i]).collect();
            rest.sort_by(|&a, &b| last[f][a].total_cmp(&last[f][b]).then(a.cmp(&b)));
            let mut full = order[f].clone();
            full.extend(rest);
            GreedyMap {
                face: f,
                values: tile_values(&full, per_row, t),
                order: full,
                similarities: sims[f].clone(),
            }
        })
        .collect();
    Ok(GreedySet {
        maps,
        params: params.clone(),
        passes: engine.passes - before,
    })
}

/// The map of a tile order: tile at rank r gets `1 − r/(n − 1)`.
pub fn tile_values(order: &[usize], per_row: usize, tile: usize) -> Array2<f32> {
    let n = order.len().max(2);
    let side = per_row * tile;
    let mut v = Array2::<f32>::zeros((side, side));
    for (r, &i) in order.iter().enumerate() {
        let (y, x) = (i / per_row * tile, i % per_row * tile);
        v.slice_mut(s![y..y + tile, x..x + tile])
            .fill(1.0 - r as f32 / (n - 1) as f32);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_values_fall_with_rank() {
        let v = tile_values(&[3, 0, 2, 1], 2, 2);
        assert_eq!(v[[2, 2]], 1.0);
        assert!((v[[0, 0]] - 2.0 / 3.0).abs() < 1e-6);
        assert!((v[[0, 2]]).abs() < 1e-6);
        assert_eq!(GreedyParams::default().tiles(112), 49);
        assert_eq!(GreedyParams::default().passes(112), 2 * 49 * 16);
        assert!(
            GreedyParams {
                tile: 15,
                ..Default::default()
            }
            .validate(112)
            .is_err()
        );
    }
}
