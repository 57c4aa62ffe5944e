//! The intents' example embeddings cached on disk, so that loading the chat
//! does not embed a thousand phrasings with MiniLM every time.
//!
//! One file per (intents file, MiniLM) pair in the user cache folder:
//! `$FACEXPLAIN_CHAT_CACHE/` when set, else `$XDG_CACHE_HOME/facexplain/chat/`
//! (`~/.cache/...`), named by a hash of the intents file's SHA-256 and
//! MiniLM's, since both decide the vectors. The file is a header line
//! (`facexplain-chat-embeddings/1 <count> <dim>`) and then the vectors as
//! little-endian f32s, in the file's order of examples. A file that does not
//! read back as that many unit-length vectors is corrupt: warned about,
//! ignored and written again.

use super::embed::SentenceEmbedder;
use super::error::Result;
use crate::resources::hash::sha256_hex;
use std::path::{Path, PathBuf};

const MAGIC: &str = "facexplain-chat-embeddings/1";

/// Where the example embeddings of one intents file and one MiniLM are cached (`None`: no cache).
#[derive(Clone, Debug, PartialEq)]
pub struct ExampleCache {
    pub path: Option<PathBuf>,
}

impl ExampleCache {
    /// The cache file for an intents file and a MiniLM, both named by their SHA-256.
    pub fn new(intents_sha256: &str, minilm_sha256: &str) -> ExampleCache {
        let dir = std::env::var_os("FACEXPLAIN_CHAT_CACHE")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|c| c.join("facexplain").join("chat")));
        Self::in_dir(dir.as_deref(), intents_sha256, minilm_sha256)
    }

    /// The cache file in `dir` (`None`: caching off).
    pub fn in_dir(dir: Option<&Path>, intents_sha256: &str, minilm_sha256: &str) -> ExampleCache {
        let key = sha256_hex(format!("{MAGIC}\n{intents_sha256}\n{minilm_sha256}\n").as_bytes());
        ExampleCache {
            path: dir.map(|d| d.join(format!("examples-{}.f32", &key[..16]))),
        }
    }

    /// The `count` cached vectors of length `dim`, or `None` (missing, or corrupt: warned).
    pub fn get(&self, count: usize, dim: usize) -> Option<Vec<Vec<f32>>> {
        let path = self.path.as_ref()?;
        let bytes = std::fs::read(path).ok()?;
        match decode(&bytes, count, dim) {
            Ok(v) => Some(v),
            Err(why) => {
                tracing::warn!(
                    "chat example cache {}: corrupt ({why}); embedding the examples again",
                    path.display()
                );
                None
            }
        }
    }

    /// Store the vectors; a failure only costs embedding them again next time (warned).
    pub fn put(&self, vecs: &[Vec<f32>]) {
        let Some(path) = &self.path else { return };
        let tmp = path.with_extension(format!("{}.part", std::process::id()));
        let done = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&tmp, encode(vecs)))
            .and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = done {
            tracing::warn!("chat example cache {}: {e}", path.display());
        }
    }

    /// The embeddings of `texts`: from the cache when it holds them, else
    /// embedded with MiniLM and stored.
    pub fn embed(&self, embedder: &SentenceEmbedder, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if let Some(v) = self.get(texts.len(), embedder.dim()) {
            return Ok(v);
        }
        let v = embedder.embed(texts)?;
        self.put(&v);
        Ok(v)
    }
}

fn encode(vecs: &[Vec<f32>]) -> Vec<u8> {
    let dim = vecs.first().map_or(0, Vec::len);
    let mut out = format!("{MAGIC} {} {dim}\n", vecs.len()).into_bytes();
    out.extend(vecs.iter().flatten().flat_map(|x| x.to_le_bytes()));
    out
}

/// Why the bytes are not `count` unit vectors of length `dim`, or the vectors.
fn decode(bytes: &[u8], count: usize, dim: usize) -> std::result::Result<Vec<Vec<f32>>, String> {
    let nl = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or("no header line")?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| "header is not text")?;
    let want = format!("{MAGIC} {count} {dim}");
    if header != want {
        return Err(format!("header {header:?}, expected {want:?}"));
    }
    let body = &bytes[nl + 1..];
    if body.len() != count * dim * 4 {
        return Err(format!(
            "{} bytes of vectors, expected {}",
            body.len(),
            count * dim * 4
        ));
    }
    let flat: Vec<f32> = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let vecs: Vec<Vec<f32>> = flat.chunks(dim.max(1)).map(<[f32]>::to_vec).collect();
    // MiniLM's vectors are L2-normalised: anything else was not written by us.
    // (A NaN length is not of unit length either.)
    let unit = |v: &Vec<f32>| (v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-3;
    if let Some(i) = vecs.iter().position(|v| !unit(v)) {
        return Err(format!("vector {i} is not of unit length"));
    }
    Ok(vecs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(i: usize) -> Vec<f32> {
        let a = i as f32 * 0.7;
        vec![a.cos(), a.sin(), 0.0]
    }

    #[test]
    fn vectors_round_trip_and_corrupt_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let c = ExampleCache::in_dir(Some(dir.path()), "intents", "minilm");
        assert_eq!(c.get(4, 3), None, "nothing cached yet");
        let v: Vec<Vec<f32>> = (0..4).map(unit).collect();
        c.put(&v);
        assert_eq!(c.get(4, 3), Some(v.clone()));
        // Another count or dimension than the file holds: not these examples.
        assert_eq!(c.get(5, 3), None);
        assert_eq!(c.get(4, 4), None);
        let path = c.path.clone().unwrap();
        let good = std::fs::read(&path).unwrap();
        // Cut short, garbage, or a vector that is not unit length: ignored.
        std::fs::write(&path, &good[..good.len() - 5]).unwrap();
        assert_eq!(c.get(4, 3), None);
        std::fs::write(&path, b"not a cache").unwrap();
        assert_eq!(c.get(4, 3), None);
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 4..].copy_from_slice(&2.0f32.to_le_bytes());
        std::fs::write(&path, &bad).unwrap();
        assert!(decode(&bad, 4, 3).unwrap_err().contains("vector 3"));
        // Another intents file or another MiniLM: another file.
        let other = ExampleCache::in_dir(Some(dir.path()), "intents2", "minilm");
        assert_ne!(other.path, c.path);
        assert_ne!(
            ExampleCache::in_dir(Some(dir.path()), "intents", "minilm2").path,
            c.path
        );
        assert_eq!(ExampleCache::in_dir(None, "a", "b").get(1, 1), None);
    }
}
