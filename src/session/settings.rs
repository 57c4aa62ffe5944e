//! Settings kept between runs (eframe storage; images are never stored, and
//! the only paths are the recent case files): what the viewer and the table show, the explanation parameters,
//! the threshold override. The one egui type here is the theme preference,
//! a plain serde enum, so that saved settings keep their format.

use super::maps::{MapChoice, RenderMode};
use crate::explain::ExplainParams;
use serde::{Deserialize, Serialize};

/// What the viewer shows, kept between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    pub map: MapChoice,
    pub mode: RenderMode,
    pub landmarks: bool,
    pub outlines: bool,
    pub labels: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings {
            map: MapChoice::default(),
            mode: RenderMode::default(),
            landmarks: false,
            outlines: true,
            labels: false,
        }
    }
}

/// Settings kept between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Version of these settings (older saved settings are brought up to date on load).
    #[serde(default)]
    pub version: u32,
    /// User override of the decision threshold.
    pub threshold_override: Option<f32>,
    pub theme: egui::ThemePreference,
    pub view: ViewSettings,
    /// Explanation parameters (and the colormaps / opacity the maps are drawn with).
    pub params: ExplainParams,
    /// Explain every new pair at once.
    pub auto_explain: bool,
    pub table: TableKind,
    /// Whose Mery maps the saliency table shows.
    pub saliency_face: SaliencyFace,
    /// Column and direction (true = ascending) the table is sorted by; `None` = the ranking.
    pub sort: Option<(SortColumn, bool)>,
    pub show_chat: bool,
    /// Case files opened or saved lately, newest first (the File menu lists them).
    pub recent_cases: Vec<std::path::PathBuf>,
    /// Face recognisers shown beside the analysis's own (ids, `facexplain models list`).
    pub models: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: SETTINGS_VERSION,
            threshold_override: None,
            theme: egui::ThemePreference::Dark,
            view: ViewSettings::default(),
            params: ExplainParams::default(),
            auto_explain: true,
            table: TableKind::default(),
            saliency_face: SaliencyFace::default(),
            sort: None,
            show_chat: true,
            recent_cases: Vec::new(),
            models: Vec::new(),
        }
    }
}

/// 1: Mery maps of both faces by default (saved settings before it have face A only).
pub const SETTINGS_VERSION: u32 = 1;

impl Settings {
    /// Settings saved by an older version, brought up to date.
    pub fn upgraded(mut self) -> Settings {
        if self.version < 1
            && let Some(m) = &mut self.params.mery
            && m.faces == [0]
        {
            m.faces = vec![0, 1];
        }
        self.version = SETTINGS_VERSION;
        self
    }
}

/// Which table is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableKind {
    /// The paper's explainability table from the Mery & Morris maps (1 = most important).
    #[default]
    Saliency,
    /// The same built from the X-Maps (1 = most similar).
    XMap,
}

/// Whose Mery maps the saliency table is built from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaliencyFace {
    /// Face A alone (the paper's table).
    #[default]
    A,
    /// Face B alone.
    B,
    /// Both faces, one column per map and face (the analysis record's table).
    Both,
}

impl SaliencyFace {
    pub const ALL: [SaliencyFace; 3] = [SaliencyFace::A, SaliencyFace::B, SaliencyFace::Both];
    pub fn label(self) -> &'static str {
        match self {
            SaliencyFace::A => "Face A",
            SaliencyFace::B => "Face B",
            SaliencyFace::Both => "A and B",
        }
    }
}

/// A column to sort by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortColumn {
    Region,
    Method(String),
    Mean,
    RatioOfOnes,
}

impl SortColumn {
    pub fn name(&self) -> &str {
        match self {
            SortColumn::Region => "Region",
            SortColumn::Method(m) => m,
            SortColumn::Mean => "Mean",
            SortColumn::RatioOfOnes => "Ratio of 1s",
        }
    }

    /// The header text: X-Map columns without the `xmap-` prefix.
    pub fn short(&self) -> &str {
        self.name().strip_prefix("xmap-").unwrap_or(self.name())
    }
}
