//! The explanation's part of an analysis (`parameters` in the JSON): where
//! the aligned crops and region labels were written with their SHA-256, and
//! the parameters each method ran with. `explain::output` writes it, `report`
//! and the chat read it. The JSON keys are those of the first analysis files
//! (written when this part was an untyped map), so those files still load.

use super::params::{MeryParams, RenderParams, XMapParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// "A" or "B" for face 0 or 1.
pub fn face_label(face: usize) -> &'static str {
    if face == 0 { "A" } else { "B" }
}

/// One value per face, written `{"A": …, "B": …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerFace<T> {
    #[serde(rename = "A")]
    pub a: T,
    #[serde(rename = "B")]
    pub b: T,
}

impl<T> PerFace<T> {
    /// Face 0's value, else face 1's.
    pub fn get(&self, face: usize) -> &T {
        if face == 0 { &self.a } else { &self.b }
    }

    /// Both values in face order.
    pub fn both(&self) -> [&T; 2] {
        [&self.a, &self.b]
    }

    /// Build from the values of face 0 and 1.
    pub fn from_array([a, b]: [T; 2]) -> PerFace<T> {
        PerFace { a, b }
    }
}

/// The region label images (uint8 `.npy`, one per face).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionsRecord {
    /// Where the regions come from (FaceMesh points mapped into the crop).
    pub source: String,
    /// Whose left and right the region names mean.
    pub left_right: String,
    /// Label code in the images → region name.
    pub label_codes: BTreeMap<String, String>,
    /// Paths of the label images as written.
    pub files: PerFace<String>,
    pub sha256: PerFace<String>,
}

/// The X-Map parameters a run used, and what it measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct XMapRecord {
    #[serde(flatten)]
    pub params: XMapParams,
    /// Distance of the two unoccluded faces' embeddings.
    pub d_orig: f64,
    /// Forward passes through the embedder.
    pub passes: usize,
    /// What the values mean ("[-1, 1], positive (green) = similar").
    pub value_range: String,
}

/// Greedy iterations the Mery maps of one perturbed face ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeryIterations {
    /// "A" or "B".
    pub face: String,
    /// Steps of greedy removal (S1−).
    pub removal: usize,
    /// Steps of greedy aggregation (S1+).
    pub aggregation: usize,
}

/// The Mery & Morris parameters a run used, and what it measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeryRecord {
    #[serde(flatten)]
    pub params: MeryParams,
    /// Forward passes through the embedder.
    pub passes: usize,
    pub iterations: Vec<MeryIterations>,
    /// What the values mean ("[0, 1], 1 = most important").
    pub value_range: String,
}

/// Everything an explanation recorded besides its maps and tables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExplanationRecord {
    /// Paths of the aligned crops (lossless PNG) as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aligned_crops: Option<PerFace<String>>,
    /// Their SHA-256 (absent from analyses written before hashes were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aligned_crops_sha256: Option<PerFace<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mery: Option<MeryRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<RegionsRecord>,
    /// How the maps were drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render: Option<RenderParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmap: Option<XMapRecord>,
    /// The greedy deletion maps' parameters (issue 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greedy: Option<super::GreedyRecord>,
    /// Deletion/insertion curves and AUC ratios of every map (issue 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faithfulness: Option<super::FaithfulnessRecord>,
    /// Regions whose levels differ by two or more between maps of one table
    /// (`None`: not checked, as in analyses without tables; empty: the maps agree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagreements: Option<Vec<super::Disagreement>>,
}

impl ExplanationRecord {
    /// True when no explanation was recorded.
    pub fn is_empty(&self) -> bool {
        *self == ExplanationRecord::default()
    }

    /// Forget every part (as if no explanation had run).
    pub fn clear(&mut self) {
        *self = ExplanationRecord::default();
    }
}
