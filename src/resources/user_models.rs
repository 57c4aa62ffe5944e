//! Face recognisers the user adds (`facexplain models add`): their files and
//! a manifest of the same form as `models/manifest.json`, in the user data
//! folder; every file is pinned by SHA-256 when it is added and refused when
//! it no longer matches, like the shipped models.

use super::error::{ResourceError, Result};
use super::models::{Manifest, ModelStore};
use std::path::{Path, PathBuf};

/// Schema of the user manifest.
pub const USER_SCHEMA: &str = "facexplain.user-models/1";
/// File name of the user manifest inside [`user_models_dir`].
pub const USER_MANIFEST: &str = "user-models.json";
/// Overrides the user models folder (tests, portable installs).
pub const USER_MODELS_VAR: &str = "FACEXPLAIN_USER_MODELS";

/// `$FACEXPLAIN_USER_MODELS`, else `<user data dir>/facexplain/user-models`.
pub fn user_models_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(USER_MODELS_VAR).filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::data_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("facexplain")
        .join("user-models")
}

/// An empty user manifest.
pub fn empty_user_manifest() -> Manifest {
    Manifest {
        schema: USER_SCHEMA.into(),
        setup_command: "facexplain models add".into(),
        models: Vec::new(),
    }
}

/// The user's model store in `dir` (an empty one when nothing was added yet).
pub fn user_store_in(dir: &Path) -> Result<ModelStore> {
    let path = dir.join(USER_MANIFEST);
    let manifest = match std::fs::read_to_string(&path) {
        Ok(text) => Manifest::parse_schema(&text, &path, USER_SCHEMA)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => empty_user_manifest(),
        Err(e) => {
            return Err(ResourceError::Manifest {
                file: path,
                reason: e.to_string(),
            });
        }
    };
    Ok(ModelStore {
        dir: dir.to_path_buf(),
        manifest,
        fix: "facexplain models add FILE --name NAME --replace".into(),
    })
}

/// The user's model store in [`user_models_dir`].
pub fn user_store() -> Result<ModelStore> {
    user_store_in(&user_models_dir())
}

/// Write the user manifest of `store` (to a temporary file, then renamed).
pub fn save_user_store(store: &ModelStore) -> Result<PathBuf> {
    let path = store.dir.join(USER_MANIFEST);
    let err = |e: std::io::Error| ResourceError::Manifest {
        file: path.clone(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(&store.dir).map_err(err)?;
    let text =
        serde_json::to_string_pretty(&store.manifest).map_err(|e| ResourceError::Manifest {
            file: path.clone(),
            reason: e.to_string(),
        })?;
    let tmp = store.dir.join(format!(".{USER_MANIFEST}.tmp"));
    std::fs::write(&tmp, text + "\n").map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(path)
}
