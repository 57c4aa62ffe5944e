//! Files the program ships with or fetches, and how they are identified:
//! SHA-256 helpers ([`hash`]). At the bottom of the crate with `record` and
//! `progress`: it calls no other layer.

pub mod hash;

pub use hash::{sha256_file, sha256_hex};
