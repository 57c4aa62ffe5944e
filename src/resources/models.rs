//! The model manifest (`models/manifest.json`), the models folder in use
//! (found by [`super::locate`]), and the SHA-256 check every model passes
//! before it is loaded.

use super::error::{ResourceError, Result};
use super::hash::{sha256_file, sha256_hex};
use super::locate::{Kind, find_dir};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The command that fetches and verifies every model.
pub const SETUP_COMMAND: &str = "scripts/setup.sh";
/// The manifest schema this build reads.
pub const MANIFEST_SCHEMA: &str = "facexplain.models/1";

/// Where a model came from: registry package, path inside it, its hash as shipped.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    pub package: String,
    pub path: String,
    pub sha256: String,
}

/// Input tensor description of a model.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInput {
    pub name: String,
    pub shape: Vec<i64>,
    pub layout: String,
    pub colour: String,
    pub normalisation: String,
}

/// One file of `models/manifest.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub file: String,
    pub sha256: String,
    pub name: String,
    pub source: ModelSource,
    pub conversion: Option<String>,
    pub licence: String,
    pub input: Option<ModelInput>,
    pub outputs: Option<Vec<String>>,
    pub embedding_size: Option<usize>,
    pub default_threshold: Option<f32>,
    /// How to run the model as a face recogniser (only recognisers have it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recogniser: Option<RecogniserSpec>,
}

/// A face recogniser described as data: what the pipeline needs to align a
/// face for it, turn the crop into its input tensor and read its embedding.
/// Pixel values are taken in `colour` order and become `(x − mean) / std`
/// per channel (in that order); `alignment` is the five-point template
/// (eyes, nose, mouth corners) in input pixels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecogniserSpec {
    /// Input width and height in pixels.
    pub input_size: [u32; 2],
    /// Channel order the model expects: "RGB" or "BGR".
    pub colour: String,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// "NCHW" or "NHWC".
    pub layout: String,
    /// The output holding the embedding.
    pub output: String,
    pub alignment: [[f32; 2]; 5],
    /// Faces per call the graph takes when its batch dimension is fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_batch: Option<usize>,
    /// Ids of the same model cut before its last layer (trunk, head), run in its place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<[String; 2]>,
    /// Id of a file derived from it that gives the same embeddings faster
    /// (MobileFaceNet with its denormal weights flushed to zero), run in its place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Id prefix of the spatial segments for incremental occlusion (`<prefix>1 …`, `<prefix>back`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<String>,
    /// Calibration file shipped for it, under the assets folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<String>,
    /// How its input conventions were established.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub determined: Option<String>,
}

/// `models/manifest.json`: every model file with its hash and provenance.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub setup_command: String,
    pub models: Vec<ModelEntry>,
}

/// The committed manifest, compiled in so a binary always knows which hashes to expect.
pub const MANIFEST_JSON: &str = include_str!("../../models/manifest.json");

impl Manifest {
    /// The manifest compiled into this binary.
    pub fn builtin() -> Result<Manifest> {
        Self::parse(MANIFEST_JSON, Path::new("models/manifest.json"))
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Manifest> {
        Self::parse_schema(text, origin, MANIFEST_SCHEMA)
    }

    /// Parse a manifest that must declare `schema` (the user manifest has its own).
    pub fn parse_schema(text: &str, origin: &Path, schema: &str) -> Result<Manifest> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| ResourceError::Manifest {
            file: origin.to_path_buf(),
            reason: e.to_string(),
        })?;
        if m.schema != schema {
            return Err(ResourceError::Manifest {
                file: origin.to_path_buf(),
                reason: format!("schema is {:?}, this build reads {schema:?}", m.schema),
            });
        }
        Ok(m)
    }

    pub fn entry(&self, id: &str) -> Result<&ModelEntry> {
        self.models
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ResourceError::Manifest {
                file: PathBuf::from("models/manifest.json"),
                reason: format!("no model with id {id:?}"),
            })
    }
}

/// The models folder in use: the first search folder holding the SFace model
/// (or the first candidate, so errors name a sensible path).
pub fn models_dir() -> PathBuf {
    find_dir(Kind::Models, &["sface.onnx"])
}

/// A model folder plus the manifest that says what must be in it.
#[derive(Clone, Debug)]
pub struct ModelStore {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The command that puts a missing or altered file right (named in errors).
    pub fix: String,
}

impl ModelStore {
    /// The store in the first folder of the search order that has the models.
    pub fn locate() -> Result<ModelStore> {
        Ok(ModelStore {
            dir: models_dir(),
            manifest: Manifest::builtin()?,
            fix: SETUP_COMMAND.into(),
        })
    }

    pub fn at(dir: impl Into<PathBuf>) -> Result<ModelStore> {
        Ok(ModelStore {
            dir: dir.into(),
            manifest: Manifest::builtin()?,
            fix: SETUP_COMMAND.into(),
        })
    }

    pub fn path(&self, id: &str) -> Result<PathBuf> {
        Ok(self.dir.join(&self.manifest.entry(id)?.file))
    }

    /// Read a model file and check its SHA-256 against the manifest; a missing
    /// or altered file is refused with the expected hash and the fix.
    pub fn read_verified(&self, id: &str) -> Result<(ModelEntry, Vec<u8>)> {
        let entry = self.manifest.entry(id)?.clone();
        let path = self.dir.join(&entry.file);
        check_model_file(&path, &entry.sha256, &self.fix)?;
        let bytes = std::fs::read(&path).map_err(|_| ResourceError::ModelMissing {
            file: path.clone(),
            expected: entry.sha256.clone(),
            fix: self.fix.clone(),
        })?;
        verify_bytes(&path, &bytes, &entry.sha256).map_err(|e| with_fix(e, &self.fix))?;
        Ok((entry, bytes))
    }

    /// Check a model file's hash without keeping its bytes (for big files read elsewhere).
    pub fn verify_file(&self, id: &str) -> Result<PathBuf> {
        let entry = self.manifest.entry(id)?;
        let path = self.dir.join(&entry.file);
        check_model_file(&path, &entry.sha256, &self.fix)?;
        let actual = sha256_file(&path).map_err(|_| ResourceError::ModelMissing {
            file: path.clone(),
            expected: entry.sha256.clone(),
            fix: self.fix.clone(),
        })?;
        if actual != entry.sha256 {
            return Err(ResourceError::ModelHash {
                file: path,
                expected: entry.sha256.clone(),
                actual,
                fix: self.fix.clone(),
            });
        }
        Ok(path)
    }
}

/// Largest model file read (SFace is 37 MB, MiniLM 90 MB).
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// Refuse a model path that is not a regular file of sane size before it is
/// read or hashed: a models folder with `/dev/zero` or a pipe in place of a
/// model would otherwise hang or exhaust memory instead of failing its hash.
fn check_model_file(path: &Path, expected: &str, fix: &str) -> Result<()> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Err(ResourceError::ModelMissing {
            file: path.to_path_buf(),
            expected: expected.to_string(),
            fix: fix.into(),
        });
    };
    if !meta.is_file() || meta.len() > MAX_MODEL_BYTES {
        return Err(ResourceError::ModelHash {
            file: path.to_path_buf(),
            expected: expected.to_string(),
            actual: format!(
                "not computed: not a regular file of at most {} MB",
                MAX_MODEL_BYTES >> 20
            ),
            fix: fix.into(),
        });
    }
    Ok(())
}

/// Refuse bytes whose SHA-256 is not `expected`.
pub fn verify_bytes(path: &Path, bytes: &[u8], expected: &str) -> Result<()> {
    let actual = sha256_hex(bytes);
    if actual != expected {
        return Err(ResourceError::ModelHash {
            file: path.to_path_buf(),
            expected: expected.to_string(),
            actual,
            fix: SETUP_COMMAND.into(),
        });
    }
    Ok(())
}

/// `e` with its fix replaced by `fix`.
fn with_fix(e: ResourceError, fix: &str) -> ResourceError {
    match e {
        ResourceError::ModelHash {
            file,
            expected,
            actual,
            ..
        } => ResourceError::ModelHash {
            file,
            expected,
            actual,
            fix: fix.into(),
        },
        other => other,
    }
}
