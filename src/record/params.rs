//! The explanation methods' parameters as plain data: what `compare
//! --explain`, the app and the analysis record share. The methods themselves
//! (validation, pass counts, drawing) live in `explain` as further `impl`
//! blocks on these types; here are only the fields, their defaults and names.

use serde::{Deserialize, Serialize};

/// Which distances weigh the occlusion masks (Knoche et al. eqs. 6–8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum XMapMethod {
    /// Eq. 6: mean distance of one occluded face to every occlusion of the other.
    I,
    /// Eq. 7: occluded face against the other face unoccluded.
    II,
    /// Eq. 8: co-located occlusions of both faces (same map for both).
    III,
}

impl XMapMethod {
    pub const ALL: [XMapMethod; 3] = [XMapMethod::I, XMapMethod::II, XMapMethod::III];

    /// Name used in files, tables and the analysis (`xmap-I`, …).
    pub fn name(self) -> &'static str {
        match self {
            XMapMethod::I => "xmap-I",
            XMapMethod::II => "xmap-II",
            XMapMethod::III => "xmap-III",
        }
    }
}

/// Every X-Map parameter; the defaults are the paper's (SPEC §7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct XMapParams {
    /// Side of the square occlusions, pixels.
    pub patch_sizes: Vec<usize>,
    /// Step between occlusion positions, pixels.
    pub stride: usize,
    /// Fill colour of the occlusion (RGB, 0–255).
    pub fill: [u8; 3],
    /// Gaussian blur kernel size (odd; 0 or 1 = no blur).
    pub blur_kernel: usize,
    /// Gaussian blur σ.
    pub blur_sigma: f64,
    /// Methods to compute (all share one set of occluded embeddings).
    pub methods: Vec<XMapMethod>,
}

impl Default for XMapParams {
    fn default() -> Self {
        XMapParams {
            patch_sizes: vec![7, 14, 28],
            stride: 5,
            fill: [0, 0, 0],
            blur_kernel: 5,
            blur_sigma: 5.0,
            methods: XMapMethod::ALL.to_vec(),
        }
    }
}

/// The five maps of Mery & Morris used in the explainability table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MeryMethod {
    /// Single removal: `s0 − s(hole at c)`.
    #[serde(rename = "S0-")]
    S0Minus,
    /// Greedy removal: the drop of each greedy step at its centre.
    #[serde(rename = "S1-")]
    S1Minus,
    /// Single aggregation: `s(patch at c on noise) − s(noise)`.
    #[serde(rename = "S0+")]
    S0Plus,
    /// Greedy aggregation: the gain of each greedy step at its centre.
    #[serde(rename = "S1+")]
    S1Plus,
    /// Mean of the four normalised maps.
    #[serde(rename = "AVG")]
    Avg,
}

impl MeryMethod {
    pub const ALL: [MeryMethod; 5] = [
        MeryMethod::S0Minus,
        MeryMethod::S1Minus,
        MeryMethod::S0Plus,
        MeryMethod::S1Plus,
        MeryMethod::Avg,
    ];

    /// Short name (`S0-`, …, `AVG`), as in the table.
    pub fn name(self) -> &'static str {
        match self {
            MeryMethod::S0Minus => "S0-",
            MeryMethod::S1Minus => "S1-",
            MeryMethod::S0Plus => "S0+",
            MeryMethod::S1Plus => "S1+",
            MeryMethod::Avg => "AVG",
        }
    }

    /// File-name-safe name (`S0minus`, …).
    pub fn file_name(self) -> &'static str {
        match self {
            MeryMethod::S0Minus => "S0minus",
            MeryMethod::S1Minus => "S1minus",
            MeryMethod::S0Plus => "S0plus",
            MeryMethod::S1Plus => "S1plus",
            MeryMethod::Avg => "AVG",
        }
    }

    /// The paper's long name ("Single Removal", …).
    pub fn long_name(self) -> &'static str {
        match self {
            MeryMethod::S0Minus => "Single Removal",
            MeryMethod::S1Minus => "Greedy Removal",
            MeryMethod::S0Plus => "Single Aggregation",
            MeryMethod::S1Plus => "Greedy Aggregation",
            MeryMethod::Avg => "Average",
        }
    }
}

/// Every Mery & Morris parameter; the defaults are Mery's MinPlus ones for 112×112.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeryParams {
    /// Grid step d: centres at `range(d, side, d)` in both axes.
    pub d: usize,
    /// Side of the Gaussian hole (odd); σ = nh/8.5.
    pub nh: usize,
    /// Most greedy iterations.
    pub tmax: usize,
    /// Greedy loops stop once a step changes the score by ≤ th.
    pub th: f64,
    /// Seed of the {0,1} noise image aggregation starts from.
    pub seed: u64,
    /// Faces to perturb (0 = first image, 1 = second), each against the
    /// other's embedding; both by default.
    pub faces: Vec<usize>,
}

impl Default for MeryParams {
    fn default() -> Self {
        MeryParams {
            d: 16,
            nh: 161,
            tmax: 20,
            th: 0.01,
            seed: 0,
            faces: vec![0, 1],
        }
    }
}

/// A colormap: anchor colours spaced evenly over [0, 1], interpolated linearly in RGB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Colormap {
    /// Diverging pink–yellow-green (ColorBrewer 11-class PiYG, as in matplotlib);
    /// 0 = magenta (dissimilar), 1 = green (similar). The X-Map reference uses it.
    #[default]
    PiYG,
    /// Diverging red–blue (ColorBrewer 11-class RdBu).
    RdBu,
    /// Perceptually uniform sequential dark purple → yellow (viridis, 11 stops).
    Viridis,
}

impl Colormap {
    pub const ALL: [Colormap; 3] = [Colormap::PiYG, Colormap::RdBu, Colormap::Viridis];
}

/// How maps are drawn onto the faces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderParams {
    /// Colormap of the X-Maps (diverging; green = similar with PiYG).
    pub xmap_colormap: Colormap,
    /// Colormap of the Mery maps (importance 0..1).
    pub mery_colormap: Colormap,
    /// Opacity of the plain heat overlay.
    pub opacity: f32,
}

impl Default for RenderParams {
    fn default() -> Self {
        RenderParams {
            xmap_colormap: Colormap::PiYG,
            mery_colormap: Colormap::Viridis,
            opacity: 0.5,
        }
    }
}
