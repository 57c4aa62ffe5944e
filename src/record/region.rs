//! The nine facial regions of the explainability table (DeAndres-Tame et
//! al. §2.2), as records name them; their masks are built in
//! `explain::regions`.

use serde::{Deserialize, Serialize};

/// One facial region; left/right are the subject's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Region {
    LeftEyebrow,
    RightEyebrow,
    LeftEye,
    RightEye,
    Nose,
    LeftCheek,
    RightCheek,
    Chin,
    Lips,
}

impl Region {
    /// The table's row order (the paper's).
    pub const ALL: [Region; 9] = [
        Region::LeftEyebrow,
        Region::RightEyebrow,
        Region::LeftEye,
        Region::RightEye,
        Region::Nose,
        Region::LeftCheek,
        Region::RightCheek,
        Region::Chin,
        Region::Lips,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Region::LeftEyebrow => "left eyebrow",
            Region::RightEyebrow => "right eyebrow",
            Region::LeftEye => "left eye",
            Region::RightEye => "right eye",
            Region::Nose => "nose",
            Region::LeftCheek => "left cheek",
            Region::RightCheek => "right cheek",
            Region::Chin => "chin",
            Region::Lips => "lips",
        }
    }

    /// 1-based code used in `explain::regions::RegionMasks::label` (0 = no region).
    pub fn code(self) -> u8 {
        Region::ALL
            .iter()
            .position(|&r| r == self)
            .map_or(0, |i| i as u8 + 1)
    }

    pub fn from_code(code: u8) -> Option<Region> {
        Region::ALL.get((code as usize).checked_sub(1)?).copied()
    }
}
