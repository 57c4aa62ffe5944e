//! The files the program ships with or the set-up fetches, and how they are
//! found and checked: one search-path list for models, data and assets and
//! the ONNX Runtime library ([`locate`]), the model manifest and its
//! verified store ([`models`]), SHA-256 helpers ([`hash`]).
//!
//! At the bottom of the crate with `record` and `progress`: it calls no
//! other layer.

pub mod error;
pub mod hash;
pub mod locate;
pub mod models;
pub mod user_models;

pub use error::ResourceError;
pub use hash::{sha256_file, sha256_hex};
pub use locate::{Kind, find_file, sample_pair};
pub use models::{Manifest, ModelEntry, ModelStore, RecogniserSpec};
