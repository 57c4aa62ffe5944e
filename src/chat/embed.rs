//! Sentence embeddings with all-MiniLM-L6-v2 (the sentence-embedding step of
//! Pixels-to-Words §2.3, MiniLM in place of the paper's MPNet): BERT encoder
//! through candle, mean pooling over real tokens, L2-normalised.

use super::bert::{batch_tensors, infer_err, load_config, load_tokenizer, special_id};
use super::error::{ChatError, Result};
use crate::resources::{ModelStore, sha256_hex};
use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::BertModel;
use std::path::Path;
use tokenizers::Tokenizer;

/// Manifest id of the MiniLM weights; every `minilm-*` entry is verified too.
pub const MINILM_MODEL_ID: &str = "minilm-model";
/// Longest input in tokens (MiniLM was trained on 256-token inputs).
pub const MAX_TOKENS: usize = 256;
const BATCH: usize = 32;

/// A loaded sentence-embedding model.
pub struct SentenceEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    pad: u32,
    sep: u32,
    device: Device,
    /// Length of an embedding (the encoder's hidden size).
    dim: usize,
    /// SHA-256 of the weights (keys the example cache, [`super::cache`]).
    sha256: String,
}

impl SentenceEmbedder {
    /// Load MiniLM from the model store after checking every `minilm-*` file's SHA-256.
    pub fn load(store: &ModelStore) -> Result<SentenceEmbedder> {
        for entry in store
            .manifest
            .models
            .iter()
            .filter(|e| e.id.starts_with("minilm-") && e.id != MINILM_MODEL_ID)
        {
            store.verify_file(&entry.id)?;
        }
        let (entry, bytes) = store.read_verified(MINILM_MODEL_ID)?;
        let weights = store.dir.join(&entry.file);
        let dir = weights.parent().unwrap_or(&store.dir).to_path_buf();
        Self::build(&dir, bytes, entry.sha256)
    }

    /// Load from a folder (config.json, tokenizer.json or vocab.txt) and safetensors bytes.
    pub fn from_parts(dir: &Path, safetensors: Vec<u8>) -> Result<SentenceEmbedder> {
        let sha256 = sha256_hex(&safetensors);
        Self::build(dir, safetensors, sha256)
    }

    fn build(dir: &Path, safetensors: Vec<u8>, sha256: String) -> Result<SentenceEmbedder> {
        let config = load_config(&dir.join("config.json"))?;
        let tokenizer = load_tokenizer(dir)?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(safetensors, DType::F32, &device).map_err(
            |e| ChatError::Weights {
                dir: dir.into(),
                reason: e.to_string(),
            },
        )?;
        let model = BertModel::load(vb, &config).map_err(|e| ChatError::Weights {
            dir: dir.into(),
            reason: e.to_string(),
        })?;
        let vocab = dir.join("vocab.txt");
        let pad = special_id(&tokenizer, "[PAD]", &vocab)?;
        let sep = special_id(&tokenizer, "[SEP]", &vocab)?;
        Ok(SentenceEmbedder {
            model,
            tokenizer,
            pad,
            sep,
            device,
            dim: config.hidden_size,
            sha256,
        })
    }

    /// Length of an embedding.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// SHA-256 of the weights.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// L2-normalised mean-pooled embeddings, one per text, in order. Texts
    /// are batched by length (padding is masked out, so a text's embedding
    /// does not depend on its batch; sorting only saves the padded work).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (texts[i].len(), i));
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (&i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// Embed one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embed(&[text])?.remove(0))
    }

    /// The ids of a text's wordpieces that hold a letter or digit (no
    /// punctuation, no special tokens): the words the lexical features count.
    pub fn pieces(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| ChatError::Inference {
                model: "MiniLM tokenizer".into(),
                reason: e.to_string(),
            })?;
        Ok(enc
            .get_ids()
            .iter()
            .zip(enc.get_tokens())
            .filter(|(_, t)| t.chars().any(char::is_alphanumeric))
            .map(|(id, _)| *id)
            .collect())
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let err = infer_err("MiniLM");
        let mut rows = Vec::with_capacity(texts.len());
        for t in texts {
            let enc = self
                .tokenizer
                .encode(*t, true)
                .map_err(|e| ChatError::Inference {
                    model: "MiniLM tokenizer".into(),
                    reason: e.to_string(),
                })?;
            let mut ids = enc.get_ids().to_vec();
            if ids.len() > MAX_TOKENS {
                ids.truncate(MAX_TOKENS - 1);
                ids.push(self.sep);
            }
            let types = vec![0; ids.len()];
            rows.push((ids, types));
        }
        let (ids, types, mask) = batch_tensors(&rows, self.pad, &self.device).map_err(&err)?;
        let hidden = self
            .model
            .forward(&ids, &types, Some(&mask))
            .map_err(&err)?;
        let pooled = mean_pool(&hidden, &mask).map_err(&err)?;
        let mut vecs: Vec<Vec<f32>> = pooled.to_vec2().map_err(&err)?;
        for v in &mut vecs {
            l2_normalise(v);
        }
        Ok(vecs)
    }
}

/// Mean of the token vectors where the mask is 1: [N,L,H] × [N,L] → [N,H].
fn mean_pool(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let m = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
    let sum = hidden.broadcast_mul(&m)?.sum(1)?;
    let count = m.sum(1)?.clamp(1e-9f32, f32::MAX)?;
    sum.broadcast_div(&count)
}

fn l2_normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Cosine similarity of two L2-normalised vectors (their dot product).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
