//! What the viewer can show of an explanation, with no drawing: the maps
//! that exist so far (they arrive progressively, coarse p=28 X-Maps first)
//! or the finished [`Explanation`], and the map and render-mode choices.
//! Drawing a map onto a face is `app::maps::render`.

use super::jobs::Partial;
use crate::explain::Explanation;
use crate::explain::mery::{MeryMethod, MerySet};
use crate::explain::regions::RegionMasks;
use crate::explain::xmap::{XMapMethod, XMapSet};
use crate::pipeline::facemesh::Mesh;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One of the eight maps the viewer can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MapChoice {
    /// X-Map I, II or III of Knoche et al. (both faces; green = similar).
    XMap(XMapMethod),
    /// S0−, S1−, S0+, S1+ or AVG of Mery & Morris (1 = most important).
    Mery(MeryMethod),
    /// The greedy deletion map GD (`explain::greedy`; 1 = removed first).
    Greedy,
}

impl Default for MapChoice {
    fn default() -> Self {
        MapChoice::XMap(XMapMethod::III)
    }
}

impl MapChoice {
    pub const ALL: [MapChoice; 9] = [
        MapChoice::XMap(XMapMethod::I),
        MapChoice::XMap(XMapMethod::II),
        MapChoice::XMap(XMapMethod::III),
        MapChoice::Mery(MeryMethod::S0Minus),
        MapChoice::Mery(MeryMethod::S1Minus),
        MapChoice::Mery(MeryMethod::S0Plus),
        MapChoice::Mery(MeryMethod::S1Plus),
        MapChoice::Mery(MeryMethod::Avg),
        MapChoice::Greedy,
    ];

    /// Label in the selector ("X-Map III", "S0−", …).
    pub fn label(self) -> String {
        match self {
            MapChoice::XMap(m) => format!("X-Map {}", &m.name()["xmap-".len()..]),
            MapChoice::Mery(m) => m.name().replace('-', "−"),
            MapChoice::Greedy => crate::explain::greedy::NAME.into(),
        }
    }

    /// What the map means, for its tooltip.
    pub fn description(self) -> String {
        match self {
            MapChoice::XMap(XMapMethod::I) => "X-Map I (Knoche et al., eq. 6): each occlusion of one face against every occlusion of the other, averaged.".into(),
            MapChoice::XMap(XMapMethod::II) => "X-Map II (Knoche et al., eq. 7): each occlusion of one face against the other face unoccluded.".into(),
            MapChoice::XMap(XMapMethod::III) => "X-Map III (Knoche et al., eq. 8): the same square occluded in both faces; one map for both.".into(),
            MapChoice::Mery(m) => format!(
                "{} — {} (Mery & Morris): importance of each area of a face for its similarity to the other face, 0 … 1.",
                m.name(),
                m.long_name()
            ),
            MapChoice::Greedy => "GD — greedy deletion map: 16×16 tiles in the order whose removal lowers the similarity most, given the tiles already removed; 1 = removed first. Tick it under Explanation parameters.".into(),
        }
    }

    pub fn is_xmap(self) -> bool {
        matches!(self, MapChoice::XMap(_))
    }

    /// The map's name in the analysis record ("xmap-II", "S1-", "GD").
    pub fn record_name(self) -> &'static str {
        match self {
            MapChoice::XMap(m) => m.name(),
            MapChoice::Mery(m) => m.name(),
            MapChoice::Greedy => crate::explain::greedy::NAME,
        }
    }
}

/// How a map is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RenderMode {
    /// Lightness from the face, hue and saturation from the map (Knoche et al., Algorithm 2).
    #[default]
    HlsBlend,
    /// The coloured map laid over the face with an opacity.
    Heat,
    /// The coloured map alone.
    MapOnly,
}

impl RenderMode {
    pub const ALL: [RenderMode; 3] = [RenderMode::HlsBlend, RenderMode::Heat, RenderMode::MapOnly];
    pub fn label(self) -> &'static str {
        match self {
            RenderMode::HlsBlend => "HLS blend",
            RenderMode::Heat => "Heat overlay",
            RenderMode::MapOnly => "Map only",
        }
    }
}

/// The explanation results shown for the current pair.
#[derive(Clone, Default)]
pub struct Maps {
    pub regions: Option<[RegionMasks; 2]>,
    pub meshes: Option<[Mesh; 2]>,
    pub xmaps: Option<XMapSet>,
    pub mery: Option<MerySet>,
    pub greedy: Option<crate::explain::greedy::GreedySet>,
    /// The deletion/insertion test of the maps, once measured.
    pub faithfulness: Option<crate::record::FaithfulnessRecord>,
    /// The finished explanation, once it is.
    pub complete: Option<Arc<Explanation>>,
    /// Changes whenever any map changes (texture cache key).
    pub version: u64,
}

impl Maps {
    /// The maps of a finished explanation.
    pub fn finished(ex: Arc<Explanation>, version: u64) -> Maps {
        Maps {
            regions: ex.regions.clone(),
            meshes: ex.meshes.clone(),
            xmaps: ex.xmaps.clone(),
            mery: ex.mery.clone(),
            greedy: ex.greedy.clone(),
            faithfulness: ex.faithfulness.clone(),
            complete: Some(ex),
            version,
        }
    }

    /// Add a part that just arrived.
    pub fn add(&mut self, part: Partial, version: u64) {
        match part {
            Partial::Regions(r) => self.regions = Some(*r),
            Partial::XMaps(x) => self.xmaps = Some(*x),
            Partial::Mery(m) => self.mery = Some(*m),
            Partial::Greedy(g) => self.greedy = Some(*g),
            Partial::Faithfulness(f) => self.faithfulness = Some(*f),
        }
        self.version = version;
    }

    /// The values of `choice` on `face` and whether they are X-Map values in [−1, 1]
    /// (else Mery values in [0, 1]).
    pub fn values(&self, choice: MapChoice, face: usize) -> Option<&Array2<f32>> {
        match choice {
            MapChoice::XMap(m) => self.xmaps.as_ref()?.get(m, face).map(|x| &x.values),
            MapChoice::Mery(m) => self.mery.as_ref()?.get(m, face).map(|x| &x.values),
            MapChoice::Greedy => self.greedy.as_ref()?.get(face).map(|x| &x.values),
        }
    }

    /// A short note on how far the maps are, e.g. "X-Maps from p = 28 so far".
    pub fn status(&self) -> String {
        match (&self.complete, &self.xmaps) {
            (Some(_), _) => "complete".into(),
            (None, Some(x)) if let Some((used, all)) = x.preview => format!(
                "X-Map preview: patch size {} at {used} of its {all} positions",
                x.patch_sizes.first().copied().unwrap_or_default()
            ),
            (None, Some(x)) => format!(
                "X-Maps from patch size{} {} so far",
                if x.patch_sizes.len() > 1 { "s" } else { "" },
                x.patch_sizes
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, None) => "computing".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::xmap::XMapParams;

    #[test]
    fn the_status_tells_the_preview_from_the_maps() {
        let set = |sizes: Vec<usize>, preview| XMapSet {
            maps: Vec::new(),
            patch_sizes: sizes,
            complete: false,
            d_orig: 0.5,
            params: XMapParams::default(),
            preview,
        };
        let mut m = Maps::default();
        assert_eq!(m.status(), "computing");
        m.add(Partial::XMaps(Box::new(set(vec![28], Some((81, 289))))), 1);
        assert_eq!(
            m.status(),
            "X-Map preview: patch size 28 at 81 of its 289 positions"
        );
        m.add(Partial::XMaps(Box::new(set(vec![28], None))), 2);
        assert_eq!(m.status(), "X-Maps from patch size 28 so far");
        m.add(Partial::XMaps(Box::new(set(vec![28, 14], None))), 3);
        assert_eq!(m.status(), "X-Maps from patch sizes 28, 14 so far");
    }
}
