//! How far the maps can be trusted, as recorded: the parameters of the
//! deletion/insertion test (`explain::faithfulness`) and of the greedy
//! deletion map (`explain::greedy`), each map's curves and AUC ratios
//! against random 8×8 tiles, and the regions where the maps' levels disagree.

use serde::{Deserialize, Serialize};

/// Parameters of the deletion and insertion test (defaults: SPEC-style, see
/// `explain::faithfulness`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaithfulnessParams {
    /// Points of each curve after the start (the curve has `steps + 1`).
    pub steps: usize,
    /// Colour deleted pixels get, and the image insertion starts from.
    pub fill: [u8; 3],
    /// Side of the tiles of the random baseline, pixels.
    pub tile: usize,
    /// Random tile orders averaged into the baseline.
    pub random_orders: usize,
    /// Seed of the first random order (the next use seed + 1, …).
    pub seed: u64,
}

impl Default for FaithfulnessParams {
    fn default() -> Self {
        FaithfulnessParams {
            steps: 16,
            fill: [0, 0, 0],
            tile: 8,
            random_orders: 3,
            seed: 0,
        }
    }
}

/// Parameters of the greedy deletion map (GD).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GreedyParams {
    /// Side of the square tiles removed, pixels (must divide the crop side).
    pub tile: usize,
    /// Greedy steps; the tiles left after them are ranked by the last step's scores.
    pub steps: usize,
    /// Colour of a removed tile.
    pub fill: [u8; 3],
}

impl Default for GreedyParams {
    fn default() -> Self {
        GreedyParams {
            tile: 16,
            steps: 16,
            fill: [0, 0, 0],
        }
    }
}

/// One map's (or the baseline's) deletion and insertion curves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvesRecord {
    /// Similarity after deleting fraction k/steps of the pixels, k = 0…steps.
    pub deletion: Vec<f64>,
    /// Similarity after restoring fraction k/steps of the pixels into the fill.
    pub insertion: Vec<f64>,
    /// Area under the deletion curve, similarity × fraction (lower = more faithful).
    pub deletion_auc: Option<f64>,
    /// Area under the insertion curve (higher = more faithful).
    pub insertion_auc: Option<f64>,
}

/// The faithfulness of one map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapFaithfulness {
    /// The map ("xmap-II", "S1-", "GD", …).
    pub name: String,
    /// "A" or "B": the face the map lies on, whose pixels are deleted.
    pub face: String,
    #[serde(flatten)]
    pub curves: CurvesRecord,
    /// Deletion AUC ÷ the random tiles' (below 1 = better than chance).
    pub deletion_ratio: Option<f64>,
    /// Insertion AUC ÷ the random tiles' (above 1 = better than chance).
    pub insertion_ratio: Option<f64>,
}

/// The random-tile baseline of one face.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineRecord {
    /// "A" or "B".
    pub face: String,
    #[serde(flatten)]
    pub curves: CurvesRecord,
}

/// The deletion/insertion test of every map of an explanation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaithfulnessRecord {
    #[serde(flatten)]
    pub params: FaithfulnessParams,
    /// What is measured and its known limits, in words.
    pub method: String,
    pub baselines: Vec<BaselineRecord>,
    pub maps: Vec<MapFaithfulness>,
    /// Forward passes through the embedder.
    pub passes: usize,
}

impl FaithfulnessRecord {
    /// The map with the lowest deletion ratio.
    pub fn most_faithful(&self) -> Option<&MapFaithfulness> {
        self.maps
            .iter()
            .filter(|m| m.deletion_ratio.is_some())
            .min_by(|a, b| {
                a.deletion_ratio
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.deletion_ratio.unwrap_or(f64::MAX))
            })
    }
}

/// The greedy deletion maps as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GreedyRecord {
    #[serde(flatten)]
    pub params: GreedyParams,
    /// Forward passes through the embedder.
    pub passes: usize,
    /// What the values mean.
    pub value_range: String,
}

/// A region whose levels differ by two or more between the maps of one table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    /// "saliency" (the Mery table) or "xmap".
    pub table: String,
    pub region: String,
    /// "A" or "B" when the table's columns name faces, else empty.
    #[serde(default)]
    pub face: String,
    /// Highest level minus lowest.
    pub spread: u8,
    /// Maps at the lowest level (most important / most similar) and that level.
    pub high: Vec<String>,
    pub high_level: u8,
    /// Maps at the highest level and that level.
    pub low: Vec<String>,
    pub low_level: u8,
    /// One sentence saying which maps disagree.
    pub sentence: String,
}

/// One sentence for the whole explanation: agreement, or how many regions disagree.
pub fn agreement_summary(d: &[Disagreement]) -> String {
    if d.is_empty() {
        return "The maps agree: no region's levels differ by two or more between maps of the same face.".into();
    }
    let mut regions: Vec<String> = d
        .iter()
        .map(|x| {
            if x.face.is_empty() {
                x.region.clone()
            } else {
                format!("{} ({})", x.region, x.face)
            }
        })
        .collect();
    regions.dedup();
    format!(
        "The maps disagree by two levels or more on {} region{}: {}.",
        regions.len(),
        if regions.len() == 1 { "" } else { "s" },
        regions.join(", ")
    )
}
