//! Extractive question answering (the BERT-QA model of Pixels-to-Words §2.3):
//! any Hugging Face `BertForQuestionAnswering` folder (config.json,
//! model.safetensors, tokenizer.json or vocab.txt) — a BERT encoder plus
//! `qa_outputs` Linear(hidden, 2) giving start/end logits. Long contexts are
//! read through overlapping windows; the answer is the best span of the
//! context with its probability p(start)·p(end).

use super::bert::{batch_tensors, infer_err, load_config, load_tokenizer, special_id};
use super::error::{ChatError, Result};
use candle_core::{D, DType, Device};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::bert::BertModel;
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer;

/// Window layout for long contexts (the usual SQuAD settings).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowParams {
    /// Tokens per window, question and special tokens included.
    pub max_len: usize,
    /// Context tokens shared by consecutive windows.
    pub overlap: usize,
    /// Longest question kept, in tokens.
    pub max_question: usize,
    /// Longest answer span, in tokens.
    pub max_answer: usize,
}

impl Default for WindowParams {
    fn default() -> Self {
        WindowParams {
            max_len: 384,
            overlap: 128,
            max_question: 64,
            max_answer: 30,
        }
    }
}

/// An answer span: text copied from the context, its byte range there and its probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub probability: f32,
}

/// A loaded `BertForQuestionAnswering` model.
pub struct QaModel {
    pub dir: PathBuf,
    bert: BertModel,
    qa_outputs: Linear,
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    pad: u32,
    pub params: WindowParams,
    device: Device,
}

impl QaModel {
    /// Load a Hugging Face QA folder.
    pub fn load(dir: &Path) -> Result<QaModel> {
        let config = load_config(&dir.join("config.json"))?;
        let tokenizer = load_tokenizer(dir)?;
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights).map_err(|e| ChatError::Read {
            file: weights.clone(),
            reason: format!("{e} (only safetensors weights are supported)"),
        })?;
        let device = Device::Cpu;
        let werr = |e: candle_core::Error| ChatError::Weights {
            dir: dir.into(),
            reason: e.to_string(),
        };
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device).map_err(werr)?;
        let encoder_vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb.clone()
        };
        let bert = BertModel::load(encoder_vb, &config).map_err(werr)?;
        let qa_outputs =
            candle_nn::linear(config.hidden_size, 2, vb.pp("qa_outputs")).map_err(werr)?;
        let vocab = dir.join("vocab.txt");
        Ok(QaModel {
            dir: dir.into(),
            cls: special_id(&tokenizer, "[CLS]", &vocab)?,
            sep: special_id(&tokenizer, "[SEP]", &vocab)?,
            pad: special_id(&tokenizer, "[PAD]", &vocab)?,
            bert,
            qa_outputs,
            tokenizer,
            params: WindowParams::default(),
            device,
        })
    }

    /// The best answer span for `question` in `context`; `None` for an empty context.
    pub fn answer(&self, question: &str, context: &str) -> Result<Option<Span>> {
        let tok_err = |e: tokenizers::Error| ChatError::Inference {
            model: "QA tokenizer".into(),
            reason: e.to_string(),
        };
        let q = self.tokenizer.encode(question, false).map_err(tok_err)?;
        let c = self.tokenizer.encode(context, false).map_err(tok_err)?;
        let mut q_ids = q.get_ids().to_vec();
        q_ids.truncate(self.params.max_question);
        let windows = context_windows(c.get_ids().len(), q_ids.len(), &self.params);
        let mut best: Option<Span> = None;
        for &(s, e) in &windows {
            let mut ids = vec![self.cls];
            ids.extend(&q_ids);
            ids.push(self.sep);
            let offset = ids.len();
            ids.extend(&c.get_ids()[s..e]);
            ids.push(self.sep);
            let types: Vec<u32> = (0..ids.len()).map(|i| u32::from(i >= offset)).collect();
            let (start_logits, end_logits) = self.logits(ids, types)?;
            let (i, j, p) = best_span(
                &start_logits[offset..offset + e - s],
                &end_logits[offset..offset + e - s],
                self.params.max_answer,
            );
            if best.as_ref().is_none_or(|b| p > b.probability) {
                let (b0, b1) = (c.get_offsets()[s + i].0, c.get_offsets()[s + j].1);
                best = Some(Span {
                    text: context[b0..b1].to_string(),
                    start: b0,
                    end: b1,
                    probability: p,
                });
            }
        }
        Ok(best)
    }

    fn logits(&self, ids: Vec<u32>, types: Vec<u32>) -> Result<(Vec<f32>, Vec<f32>)> {
        let err = infer_err("BERT-QA");
        let (ids, types, mask) =
            batch_tensors(&[(ids, types)], self.pad, &self.device).map_err(&err)?;
        let hidden = self.bert.forward(&ids, &types, Some(&mask)).map_err(&err)?;
        let logits = self
            .qa_outputs
            .forward(&hidden)
            .map_err(&err)?
            .squeeze(0)
            .map_err(&err)?;
        let start = logits
            .narrow(D::Minus1, 0, 1)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1())
            .map_err(&err)?;
        let end = logits
            .narrow(D::Minus1, 1, 1)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1())
            .map_err(&err)?;
        Ok((start, end))
    }
}

/// Context token ranges [start, end) of the windows covering `n` context
/// tokens next to a `q`-token question: each holds `max_len − q − 3` context
/// tokens and overlaps the previous one by `overlap` tokens.
pub fn context_windows(n: usize, q: usize, p: &WindowParams) -> Vec<(usize, usize)> {
    let cap = p.max_len.saturating_sub(q + 3).max(1);
    let step = cap.saturating_sub(p.overlap).max(1);
    let mut out = Vec::new();
    let mut s = 0;
    while s < n {
        let e = (s + cap).min(n);
        out.push((s, e));
        if e == n {
            break;
        }
        s += step;
    }
    out
}

/// Best (start, end, probability) with start ≤ end < start + max_answer, where
/// the probability is softmax(start)[i] · softmax(end)[j] over the context tokens.
pub fn best_span(
    start_logits: &[f32],
    end_logits: &[f32],
    max_answer: usize,
) -> (usize, usize, f32) {
    let ps = softmax(start_logits);
    let pe = softmax(end_logits);
    let mut best = (0, 0, -1.0f32);
    for (i, p_start) in ps.iter().enumerate() {
        let last = ps.len().min(i + max_answer.max(1));
        for (j, p_end) in pe.iter().enumerate().take(last).skip(i) {
            let p = p_start * p_end;
            if p > best.2 {
                best = (i, j, p);
            }
        }
    }
    best
}

fn softmax(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_everything_with_overlap() {
        let p = WindowParams {
            max_len: 20,
            overlap: 4,
            max_question: 5,
            max_answer: 3,
        };
        // 5 question tokens + 3 specials leave 12 context tokens per window, step 8.
        assert_eq!(
            context_windows(30, 5, &p),
            vec![(0, 12), (8, 20), (16, 28), (24, 30)]
        );
        assert_eq!(context_windows(12, 5, &p), vec![(0, 12)]);
        assert_eq!(context_windows(0, 5, &p), Vec::<(usize, usize)>::new());
    }

    #[test]
    fn span_respects_order_and_length() {
        // Start peaks at 3, end peaks at 1 (before start) and at 4: the span must be 3..=4.
        let s = [0.0, 0.0, 0.0, 5.0, 0.0];
        let e = [0.0, 6.0, 0.0, 0.0, 4.0];
        let (i, j, p) = best_span(&s, &e, 5);
        assert_eq!((i, j), (3, 4));
        let ps = 5f32.exp() / (4.0 + 5f32.exp());
        let pe = 4f32.exp() / (3.0 + 6f32.exp() + 4f32.exp());
        assert!((p - ps * pe).abs() < 1e-6);
        // With one-token spans only i == j counts: e^0·e^6 at 1 beats e^5·e^0 at 3.
        let (i, j, _) = best_span(&s, &e, 1);
        assert_eq!((i, j), (1, 1));
    }
}
