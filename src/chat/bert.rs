//! Shared BERT plumbing for the chat models (MiniLM sentence embeddings and
//! BERT extractive QA): config, tokenizer with our own padding/truncation, and
//! batching token ids into candle tensors.

use super::error::{ChatError, Result};
use candle_core::{Device, Tensor};
use candle_transformers::models::bert::Config;
use std::path::Path;
use tokenizers::Tokenizer;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;

/// Read a Hugging Face BERT `config.json`.
pub fn load_config(file: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(file).map_err(|e| ChatError::Read {
        file: file.into(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| ChatError::Config {
        file: file.into(),
        reason: e.to_string(),
    })
}

/// The tokenizer of a BERT folder: `tokenizer.json` if present, else a
/// lower-casing WordPiece tokenizer over `vocab.txt`. Padding and truncation
/// are switched off (the all-MiniLM file fixes both at 128); callers pad and
/// window themselves.
pub fn load_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let json = dir.join("tokenizer.json");
    let mut tok = if json.is_file() {
        Tokenizer::from_file(&json).map_err(|e| ChatError::Tokenizer {
            file: json.clone(),
            reason: e.to_string(),
        })?
    } else {
        let vocab = dir.join("vocab.txt");
        let bad = |reason: String| ChatError::Tokenizer {
            file: vocab.clone(),
            reason,
        };
        if !vocab.is_file() {
            return Err(bad(
                "neither tokenizer.json nor vocab.txt is in the model folder".into(),
            ));
        }
        let path = vocab
            .to_str()
            .ok_or_else(|| bad("the path is not valid UTF-8".into()))?;
        let wp = WordPiece::from_file(path)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let mut tok = Tokenizer::new(wp);
        tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
            .map_err(|e| bad(e.to_string()))?;
        tok.with_pre_tokenizer(Some(BertPreTokenizer));
        let cls = special_id(&tok, "[CLS]", &vocab)?;
        let sep = special_id(&tok, "[SEP]", &vocab)?;
        tok.with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )));
        tok
    };
    tok.with_padding(None);
    tok.with_truncation(None)
        .map_err(|e| ChatError::Tokenizer {
            file: dir.into(),
            reason: e.to_string(),
        })?;
    Ok(tok)
}

/// The id of a special token such as `[CLS]`; missing is an error naming the file.
pub fn special_id(tok: &Tokenizer, token: &str, file: &Path) -> Result<u32> {
    tok.token_to_id(token).ok_or_else(|| ChatError::Tokenizer {
        file: file.into(),
        reason: format!("the vocabulary has no {token} token"),
    })
}

/// Token ids, type ids and attention mask of a batch, right-padded with `pad` to the longest row.
pub fn batch_tensors(
    rows: &[(Vec<u32>, Vec<u32>)],
    pad: u32,
    dev: &Device,
) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    let len = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let n = rows.len();
    let (mut ids, mut types, mut mask) = (
        Vec::with_capacity(n * len),
        Vec::with_capacity(n * len),
        Vec::with_capacity(n * len),
    );
    for (row_ids, row_types) in rows {
        for i in 0..len {
            ids.push(row_ids.get(i).copied().unwrap_or(pad));
            types.push(row_types.get(i).copied().unwrap_or(0));
            mask.push(u32::from(i < row_ids.len()));
        }
    }
    Ok((
        Tensor::from_vec(ids, (n, len), dev)?,
        Tensor::from_vec(types, (n, len), dev)?,
        Tensor::from_vec(mask, (n, len), dev)?,
    ))
}

/// Turn a candle error into an inference error naming the model.
pub fn infer_err(model: &str) -> impl Fn(candle_core::Error) -> ChatError + '_ {
    move |e| ChatError::Inference {
        model: model.to_string(),
        reason: e.to_string(),
    }
}
