//! Records: the typed facts an analysis found, as written to and read from
//! files (`schema: "facexplain.analysis/1"`). The leaf of the crate: it
//! runs no model and calls no other layer.

pub mod analysis;
pub mod case;
pub mod check;
pub mod embeddings;
pub mod error;
pub mod evidence;
pub mod explanation;
pub mod face;
pub mod faithfulness;
pub mod params;
pub mod quality;
pub mod region;
pub mod safe_write;
pub mod verdicts;

pub use analysis::*;
pub use case::{
    AuditBreak, AuditEntry, Case, CaseParameters, Conclusion, InputFile, ModelFile, OpenedCase,
};
pub use check::FieldError;
pub use error::RecordError;
pub use evidence::{DataSetRef, Evidence};
pub use explanation::*;
pub use face::{Decision, Face, ModelRef};
pub use faithfulness::{
    BaselineRecord, CurvesRecord, Disagreement, FaithfulnessParams, FaithfulnessRecord,
    GreedyParams, GreedyRecord, MapFaithfulness, agreement_summary,
};
pub use quality::{FaceQuality, Measure, Verdict};
pub use region::Region;
pub use verdicts::{ModelVerdict, disagreement, disagreement_by};
