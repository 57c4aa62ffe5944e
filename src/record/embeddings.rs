//! The portable embeddings file `facexplain embed --out` writes and
//! `explore`, `eval` and `calibrate --embeddings` read: what the pipeline
//! found in each image of (a shard of) a data set, so the images can be
//! embedded on many machines and the results merged on one.
//!
//! JSON Lines, one object a line:
//! 1. the header ([`EmbeddingsHeader`]): schema, the recogniser's, detector's
//!    and FaceMesh's name and SHA-256, the key of the rest of the recipe,
//!    the quality thresholds, the embedding's length, which shard;
//! 2. one line per image ([`ImageLine`]): its path in the data set, its
//!    SHA-256 and what was found ([`ImageResult`]: the face used and its
//!    index, the embedding as little-endian `f32` in base64, so it reads
//!    back bit for bit, the quality record, or why there is none);
//! 3. the end line (`{"end": {"images": N, "sha256": …}}`): how many image
//!    lines there are and the SHA-256 of the bytes before it (header and
//!    image lines, newlines included).
//!
//! A file without its end line is truncated, one whose lines do not hash to
//! the end line's SHA-256 is damaged: both are refused, naming the
//! file and the line. The embedding cache stores the same [`ImageResult`].

use super::analysis::Software;
use super::error::RecordError;
use super::face::{Face, ModelRef};
use super::quality::FaceQuality;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Schema of an embeddings file (its header line).
pub const EMBEDDINGS_SCHEMA: &str = "facexplain.embeddings/1";

/// An L2-normalised embedding; in files, its little-endian `f32` bytes in
/// standard base64 (exact, and a third of the decimal text's size).
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding(pub Vec<f32>);

impl Serialize for Embedding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self.0.iter().flat_map(|v| v.to_le_bytes()).collect();
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

impl<'de> Deserialize<'de> for Embedding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("embedding: not base64: {e}")))?;
        if bytes.len() % 4 != 0 {
            return Err(serde::de::Error::custom(format!(
                "embedding: {} bytes, not whole 4-byte floats",
                bytes.len()
            )));
        }
        Ok(Embedding(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }
}

/// Which shard of a data set a file holds: the images whose path hashes to
/// `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRef {
    pub index: usize,
    pub count: usize,
}

/// The first line of an embeddings file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsHeader {
    pub schema: String,
    pub tool: Software,
    /// The data set folder's name (for people: images are matched by path and SHA-256).
    pub dataset: String,
    /// The shard this file holds (`None`: every image asked for).
    pub shard: Option<ShardRef>,
    /// The pairs list that chose the images, if one did (name).
    pub pairs_file: Option<String>,
    pub recogniser: ModelRef,
    pub detector: ModelRef,
    pub facemesh: ModelRef,
    /// The rest of what decides an embedding (recipe version, the
    /// recogniser's input conventions), hashed: the embedding cache's key.
    pub pipeline_key: String,
    /// The thresholds that decided the quality verdicts (name and SHA-256;
    /// `None`: the faces were not assessed).
    pub quality_thresholds: Option<String>,
    /// Values per embedding.
    pub dimension: usize,
}

/// What the pipeline found in one image: the face used, its embedding and
/// its quality, or why there is none. Content-addressed (no path): the
/// embedding cache keeps one per image SHA-256.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageResult {
    /// Faces the detector found (0 with no face or an unreadable image).
    pub faces_found: usize,
    /// Index of the face used (0 = the largest).
    pub face_index: usize,
    /// The face used: box, five landmarks, detector score.
    pub face: Option<Face>,
    pub embedding: Option<Embedding>,
    /// The face's quality record, when it was assessed.
    pub quality: Option<FaceQuality>,
    /// Why the face could not be assessed, when it could not.
    pub quality_failed: Option<String>,
    /// Why the image has no embedding (no face, unreadable), as the explorer shows it.
    pub failed: Option<String>,
}

impl ImageResult {
    /// The result of an image without an embedding.
    pub fn failed(faces_found: usize, reason: String) -> ImageResult {
        ImageResult {
            faces_found,
            face_index: 0,
            face: None,
            embedding: None,
            quality: None,
            quality_failed: None,
            failed: Some(reason),
        }
    }

    /// What is wrong with this result, if anything: an embedding of another
    /// length than `dimension` (when given) or not of unit length (the
    /// embedder normalises every one; NaN included), or fields that
    /// contradict each other.
    pub fn problem(&self, dimension: Option<usize>) -> Option<String> {
        match (&self.embedding, &self.face, &self.failed) {
            (Some(e), Some(_), None) => {
                let v = &e.0;
                if let Some(d) = dimension.filter(|&d| d != v.len()) {
                    return Some(format!("embedding of {} values, expected {d}", v.len()));
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                // NaN is not of unit length either.
                let unit = (norm - 1.0).abs() < 1e-3;
                if !unit {
                    return Some(format!("embedding of {} values of norm {norm}", v.len()));
                }
                if self.face_index >= self.faces_found {
                    return Some(format!(
                        "face {} of {} faces found",
                        self.face_index, self.faces_found
                    ));
                }
                None
            }
            (None, None, Some(_)) if self.quality.is_none() => None,
            _ => Some(
                "an embedding needs a face and no failure; a failure neither embedding, face nor quality"
                    .into(),
            ),
        }
    }

    /// Whether this result answers a request for quality verdicts by the
    /// thresholds `quality` (`None`: no verdicts wanted). An image without
    /// a face has no verdict to give.
    pub fn serves(&self, quality: Option<&str>) -> bool {
        match (quality, &self.embedding) {
            (None, _) | (_, None) => true,
            (Some(t), Some(_)) => {
                self.quality_failed.is_some()
                    || self.quality.as_ref().is_some_and(|q| q.thresholds == t)
            }
        }
    }
}

/// One image line of an embeddings file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageLine {
    /// Path in the data set folder, `/`-separated.
    pub path: String,
    /// SHA-256 of the image file.
    pub sha256: String,
    pub result: ImageResult,
}

/// The last line's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    images: usize,
    sha256: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndLine {
    end: End,
}

/// A whole embeddings file, read and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingsFile {
    pub path: PathBuf,
    pub header: EmbeddingsHeader,
    pub images: Vec<ImageLine>,
}

fn bad(path: &Path, reason: impl Into<String>) -> RecordError {
    RecordError::BadFile {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Writes an embeddings file line by line into a temporary file beside the
/// target and renames it over the target at [`EmbeddingsWriter::finish`]:
/// an interrupted writer leaves no file, never half of one.
pub struct EmbeddingsWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: BufWriter<std::fs::File>,
    hash: Sha256,
    images: usize,
}

impl EmbeddingsWriter {
    /// Start `path` with its header.
    pub fn create(path: &Path, header: &EmbeddingsHeader) -> Result<EmbeddingsWriter, RecordError> {
        let tmp = super::safe_write::temp_path(path);
        let file =
            std::fs::File::create(&tmp).map_err(|e| bad(path, format!("cannot write: {e}")))?;
        let mut w = EmbeddingsWriter {
            path: path.into(),
            tmp,
            out: BufWriter::new(file),
            hash: Sha256::new(),
            images: 0,
        };
        let line = w.json(header)?;
        w.hash.update(&line);
        w.write(&line)?;
        Ok(w)
    }

    fn json<T: Serialize>(&self, v: &T) -> Result<Vec<u8>, RecordError> {
        let mut line = serde_json::to_vec(v).map_err(|e| bad(&self.path, e.to_string()))?;
        line.push(b'\n');
        Ok(line)
    }

    fn write(&mut self, line: &[u8]) -> Result<(), RecordError> {
        self.out.write_all(line).map_err(|e| {
            let _ = std::fs::remove_file(&self.tmp);
            bad(&self.path, format!("cannot write: {e}"))
        })
    }

    /// Append one image.
    pub fn push(&mut self, image: &ImageLine) -> Result<(), RecordError> {
        let line = self.json(image)?;
        self.hash.update(&line);
        self.images += 1;
        self.write(&line)
    }

    /// Write the end line, flush to disk and put the file in place; the
    /// number of images written.
    pub fn finish(mut self) -> Result<usize, RecordError> {
        let end = EndLine {
            end: End {
                images: self.images,
                sha256: hex::encode(std::mem::take(&mut self.hash).finalize()),
            },
        };
        let line = self.json(&end)?;
        self.write(&line)?;
        let done = self
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|_| std::fs::rename(&self.tmp, &self.path));
        if let Err(e) = done {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(bad(&self.path, format!("cannot write: {e}")));
        }
        Ok(self.images)
    }
}

impl EmbeddingsFile {
    /// Read and check `path`: the header's schema, every image line
    /// (well-formed, an embedding of the header's length and unit length,
    /// each path once), the end line's count and SHA-256.
    pub fn read(path: &Path) -> Result<EmbeddingsFile, RecordError> {
        let file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let mut lines = std::io::BufReader::new(file).split(b'\n');
        let mut next = |n: usize| -> Result<Option<Vec<u8>>, RecordError> {
            lines
                .next()
                .transpose()
                .map_err(|e| bad(path, format!("line {n}: cannot read: {e}")))
        };
        let first = next(1)?.ok_or_else(|| bad(path, "empty: not an embeddings file"))?;
        let header = read_header(path, &first)?;
        let mut images: Vec<ImageLine> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        let mut hash = Sha256::new();
        hash.update(&first);
        hash.update(b"\n");
        let mut n = 1;
        let end = loop {
            n += 1;
            let Some(line) = next(n)? else {
                return Err(bad(
                    path,
                    format!(
                        "truncated: no end line after {} images (line {n}); was the writer interrupted?",
                        images.len()
                    ),
                ));
            };
            if line.starts_with(b"{\"end\"") {
                let end: EndLine = serde_json::from_slice(&line)
                    .map_err(|e| bad(path, format!("line {n}: the end line: {e}")))?;
                break end.end;
            }
            let image: ImageLine = serde_json::from_slice(&line).map_err(|e| {
                let why = if e.is_eof() {
                    "cut short (truncated file?)".to_string()
                } else {
                    e.to_string()
                };
                bad(path, format!("line {n}: {why}"))
            })?;
            if let Some(p) = image.result.problem(Some(header.dimension)) {
                return Err(bad(path, format!("line {n} ({}): {p}", image.path)));
            }
            if let Some(before) = seen.insert(image.path.clone(), n) {
                return Err(bad(
                    path,
                    format!("line {n}: {} again (first on line {before})", image.path),
                ));
            }
            hash.update(&line);
            hash.update(b"\n");
            images.push(image);
        };
        if next(n + 1)?.is_some_and(|l| !l.is_empty()) {
            return Err(bad(
                path,
                format!("line {}: text after the end line", n + 1),
            ));
        }
        if end.images != images.len() {
            return Err(bad(
                path,
                format!(
                    "damaged: the end line counts {} images, the file holds {}",
                    end.images,
                    images.len()
                ),
            ));
        }
        let sha = hex::encode(hash.finalize());
        if sha != end.sha256 {
            return Err(bad(
                path,
                format!(
                    "damaged: the lines hash to SHA-256 {sha}, the end line says {}",
                    end.sha256
                ),
            ));
        }
        Ok(EmbeddingsFile {
            path: path.into(),
            header,
            images,
        })
    }
}

/// The header line: an embeddings file of this schema, or a clear refusal.
fn read_header(path: &Path, line: &[u8]) -> Result<EmbeddingsHeader, RecordError> {
    let v: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| bad(path, format!("line 1: not an embeddings file ({e})")))?;
    match v.get("schema").and_then(|s| s.as_str()) {
        Some(EMBEDDINGS_SCHEMA) => {}
        Some(other) => {
            return Err(bad(
                path,
                format!("schema {other:?}; this build reads {EMBEDDINGS_SCHEMA:?}"),
            ));
        }
        None => return Err(bad(path, "line 1: not an embeddings file (no schema)")),
    }
    serde_json::from_value(v).map_err(|e| bad(path, format!("line 1 (header): {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> EmbeddingsHeader {
        let m = |n: &str| ModelRef {
            name: n.into(),
            sha256: format!("{n}-sha"),
        };
        EmbeddingsHeader {
            schema: EMBEDDINGS_SCHEMA.into(),
            tool: Software::default(),
            dataset: "set".into(),
            shard: Some(ShardRef { index: 1, count: 3 }),
            pairs_file: None,
            recogniser: m("sface"),
            detector: m("yunet"),
            facemesh: m("facemesh"),
            pipeline_key: "key".into(),
            quality_thresholds: Some("builtin sha256:x".into()),
            dimension: 3,
        }
    }

    fn face_line(path: &str, v: [f32; 3]) -> ImageLine {
        ImageLine {
            path: path.into(),
            sha256: format!("{path}-sha"),
            result: ImageResult {
                faces_found: 2,
                face_index: 0,
                face: Some(Face {
                    bbox: [1.0, 2.0, 30.5, 40.25],
                    landmarks5: [[1.0, 2.0]; 5],
                    score: 0.875,
                }),
                embedding: Some(Embedding(v.to_vec())),
                quality: None,
                quality_failed: Some("no FaceMesh face".into()),
                failed: None,
            },
        }
    }

    fn write(path: &Path, lines: &[ImageLine]) {
        let mut w = EmbeddingsWriter::create(path, &header()).unwrap();
        for l in lines {
            w.push(l).unwrap();
        }
        assert_eq!(w.finish().unwrap(), lines.len());
    }

    #[test]
    fn round_trips_bit_for_bit_and_refuses_every_damage_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.fxemb");
        // A value whose shortest decimal form is awkward, and a negative zero.
        let x = f32::from_bits(0x3f35_04f3);
        let lines = vec![
            face_line("s1/1.pgm", [x, (1.0 - x * x).sqrt(), -0.0]),
            ImageLine {
                path: "s1/2.pgm".into(),
                sha256: "b".into(),
                result: ImageResult::failed(0, "no face found".into()),
            },
        ];
        write(&p, &lines);
        let f = EmbeddingsFile::read(&p).unwrap();
        assert_eq!(f.header, header());
        assert_eq!(f.images, lines);
        let bits = |l: &ImageLine| {
            l.result
                .embedding
                .as_ref()
                .unwrap()
                .0
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&f.images[0]), bits(&lines[0]));
        // No temporary file is left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let text = std::fs::read_to_string(&p).unwrap();
        let refused = |name: &str, body: &str, want: &str| {
            let q = dir.path().join(name);
            std::fs::write(&q, body).unwrap();
            let e = EmbeddingsFile::read(&q).unwrap_err().to_string();
            assert!(e.starts_with(q.to_str().unwrap()), "{e}");
            assert!(e.contains(want), "{name}: {e}");
        };
        // Cut inside the last image line, and before the end line.
        refused("cut.fxemb", &text[..text.len() - 150], "line 3");
        let no_end: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        refused("noend.fxemb", &no_end, "truncated");
        // A value changed in a way that still parses.
        refused("edited.fxemb", &text.replace("0.875", "0.876"), "damaged");
        refused(
            "dropped.fxemb",
            &text
                .lines()
                .enumerate()
                .filter(|(i, _)| *i != 2)
                .map(|(_, l)| format!("{l}\n"))
                .collect::<String>(),
            "damaged",
        );
        refused(
            "other.fxemb",
            &text.replace(EMBEDDINGS_SCHEMA, "facexplain.embeddings/9"),
            "schema",
        );
        refused(
            "json.fxemb",
            "{\"schema\":\"facexplain.analysis/1\"}\n",
            "this build reads",
        );
        refused("empty.fxemb", "", "empty");
        refused("png.fxemb", "\u{89}PNG\r\n", "not an embeddings file");
        // A wrong length is named before the checksum.
        let short = face_line("s2/1.pgm", [1.0, 0.0, 0.0]);
        let mut w = EmbeddingsWriter::create(
            &dir.path().join("len.fxemb"),
            &EmbeddingsHeader {
                dimension: 4,
                ..header()
            },
        )
        .unwrap();
        w.push(&short).unwrap();
        w.finish().unwrap();
        let e = EmbeddingsFile::read(&dir.path().join("len.fxemb"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2 (s2/1.pgm): embedding of 3 values, expected 4"),
            "{e}"
        );
        // The same path twice.
        let twice = dir.path().join("twice.fxemb");
        write(&twice, &[lines[0].clone(), lines[0].clone()]);
        let e = EmbeddingsFile::read(&twice).unwrap_err().to_string();
        assert!(e.contains("s1/1.pgm again (first on line 2)"), "{e}");
    }

    #[test]
    fn results_contradicting_themselves_are_named() {
        let ok = face_line("a", [0.0, 1.0, 0.0]).result;
        assert_eq!(ok.problem(Some(3)), None);
        assert!(ok.problem(Some(4)).unwrap().contains("expected 4"));
        let long = ImageResult {
            embedding: Some(Embedding(vec![1.0, 1.0, 0.0])),
            ..ok.clone()
        };
        assert!(long.problem(None).unwrap().contains("norm"));
        let nan = ImageResult {
            embedding: Some(Embedding(vec![f32::NAN, 0.0, 0.0])),
            ..ok.clone()
        };
        assert!(nan.problem(None).unwrap().contains("norm"));
        let both = ImageResult {
            failed: Some("x".into()),
            ..ok.clone()
        };
        assert!(both.problem(None).is_some());
        let index = ImageResult {
            face_index: 2,
            ..ok
        };
        assert!(index.problem(None).unwrap().contains("face 2 of 2"));
        assert_eq!(
            ImageResult::failed(0, "no face".into()).problem(Some(3)),
            None
        );
    }
}
