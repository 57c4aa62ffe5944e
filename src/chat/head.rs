//! The intent head: multinomial logistic regression `p = softmax(W x + V l + b)`
//! over a question's sentence embedding `x` (dense) and its lexical features
//! `l` (sparse, [`super::lexical`]), trained at start-up on the example
//! phrasings: partly class-balanced, L2-regularised, full-batch gradient
//! descent with momentum from zero weights (deterministic). The dense
//! products run as matrix products (candle, CPU); the sparse ones touch only
//! the few wordpieces of each example.

use super::embed::dot;
use super::error::{ChatError, Result};
use super::intents::ClassifierSettings;
use super::lexical::Sparse;
use candle_core::{DType, Device, Tensor};

/// One training example: its intent, embedding and lexical features.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub intent: usize,
    pub dense: Vec<f32>,
    pub sparse: Sparse,
}

/// A trained head.
pub struct Head {
    /// Dense weights, row-major `[intents][dim]`.
    w: Vec<f32>,
    /// Lexical weights, row-major `[column][intents]`.
    wl: Vec<f32>,
    b: Vec<f32>,
    dim: usize,
    intents: usize,
}

impl Head {
    /// The logits of one question.
    pub fn logits(&self, x: &[f32], lex: &Sparse) -> Vec<f32> {
        let n = self.intents;
        let mut z: Vec<f32> = (0..n)
            .map(|c| self.b[c] + dot(&self.w[c * self.dim..(c + 1) * self.dim], x))
            .collect();
        for &(j, v) in lex {
            if let Some(row) = self.wl.get(j * n..(j + 1) * n) {
                z.iter_mut().zip(row).for_each(|(a, w)| *a += v * w);
            }
        }
        z
    }

    /// Train on the examples (`columns` lexical columns). An example of an
    /// intent with `n` examples weighs `n^-balance` in the loss (1: every
    /// intent weighs the same; 0: every example does); the weights sum to 1.
    pub fn train(
        data: &[Example],
        intents: usize,
        columns: usize,
        s: &ClassifierSettings,
    ) -> Result<Head> {
        let err = |e: candle_core::Error| ChatError::Inference {
            model: "intent head training".into(),
            reason: e.to_string(),
        };
        let dim = data.first().map_or(0, |d| d.dense.len());
        let n = data.len();
        let c = intents;
        let mut counts = vec![0usize; c];
        for d in data {
            counts[d.intent] += 1;
        }
        let mut weight: Vec<f32> = data
            .iter()
            .map(|d| (counts[d.intent] as f32).powf(-s.balance))
            .collect();
        let total: f32 = weight.iter().sum();
        weight.iter_mut().for_each(|w| *w /= total);
        let dev = Device::Cpu;
        let flat: Vec<f32> = data.iter().flat_map(|d| d.dense.iter().copied()).collect();
        let x = Tensor::from_vec(flat, (n, dim), &dev).map_err(err)?;
        let xt = x.t().and_then(|t| t.contiguous()).map_err(err)?;
        let mut w = Tensor::zeros((dim, c), DType::F32, &dev).map_err(err)?;
        let mut vw = w.zeros_like().map_err(err)?;
        let (mut wl, mut vwl) = (vec![0.0f32; columns * c], vec![0.0f32; columns * c]);
        let (mut b, mut vb) = (vec![0.0f32; c], vec![0.0f32; c]);
        let (lr, mu, l2) = (s.learning_rate, s.momentum, s.l2);
        for _ in 0..s.epochs {
            // G = (softmax(X W + L V + b) − Y) × example weight.
            let mut g: Vec<f32> = x
                .matmul(&w)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1())
                .map_err(err)?;
            for (i, d) in data.iter().enumerate() {
                let row = &mut g[i * c..(i + 1) * c];
                row.iter_mut().zip(&b).for_each(|(z, b)| *z += b);
                for &(j, v) in &d.sparse {
                    row.iter_mut()
                        .zip(&wl[j * c..(j + 1) * c])
                        .for_each(|(z, w)| *z += v * w);
                }
                softmax_in_place(row);
                row[d.intent] -= 1.0;
                row.iter_mut().for_each(|z| *z *= weight[i]);
            }
            let gt = Tensor::from_slice(&g, (n, c), &dev).map_err(err)?;
            let step = || -> candle_core::Result<(Tensor, Tensor)> {
                let gw = (xt.matmul(&gt)? + (&w * l2 as f64)?)?;
                let vw = ((&vw * mu as f64)? + gw)?;
                let w = (&w - (&vw * lr as f64)?)?;
                Ok((w, vw))
            };
            (w, vw) = step().map_err(err)?;
            let mut gwl: Vec<f32> = wl.iter().map(|w| l2 * w).collect();
            let mut gb = vec![0.0f32; c];
            for (i, d) in data.iter().enumerate() {
                let row = &g[i * c..(i + 1) * c];
                gb.iter_mut().zip(row).for_each(|(a, g)| *a += g);
                for &(j, v) in &d.sparse {
                    gwl[j * c..(j + 1) * c]
                        .iter_mut()
                        .zip(row)
                        .for_each(|(a, g)| *a += v * g);
                }
            }
            momentum_step(&mut wl, &mut vwl, &gwl, lr, mu);
            momentum_step(&mut b, &mut vb, &gb, lr, mu);
        }
        let w: Vec<f32> = w
            .t()
            .and_then(|t| t.contiguous())
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1())
            .map_err(err)?;
        Ok(Head {
            w,
            wl,
            b,
            dim,
            intents,
        })
    }
}

/// `v ← μ v + g; x ← x − lr v`.
fn momentum_step(x: &mut [f32], v: &mut [f32], g: &[f32], lr: f32, mu: f32) {
    for ((x, v), g) in x.iter_mut().zip(v.iter_mut()).zip(g) {
        *v = mu * *v + g;
        *x -= lr * *v;
    }
}

pub fn softmax_in_place(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    z.iter_mut().for_each(|v| *v = (*v - m).exp());
    let s: f32 = z.iter().sum();
    z.iter_mut().for_each(|v| *v /= s);
}

/// Small, fast training settings for unit tests.
#[cfg(test)]
pub(crate) fn test_settings(lexical_weight: f32) -> ClassifierSettings {
    ClassifierSettings {
        epochs: 150,
        learning_rate: 4.0,
        momentum: 0.9,
        l2: 1e-4,
        held_out_every: 4,
        neighbours: 3,
        temperature: 0.05,
        blends: vec![1.0],
        same_phrasing: 0.98,
        balance: 1.0,
        lexical_weight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wordpiece_decides_when_the_embeddings_cannot() {
        // Identical embeddings; only the lexical column (0 or 1) tells the intents apart.
        let ex = |intent: usize| Example {
            intent,
            dense: vec![1.0, 0.0],
            sparse: vec![(intent, 1.0)],
        };
        let data = vec![ex(0), ex(0), ex(1), ex(1)];
        let head = Head::train(&data, 2, 2, &test_settings(1.0)).unwrap();
        let p = |col: usize| {
            let mut z = head.logits(&[1.0, 0.0], &vec![(col, 1.0)]);
            softmax_in_place(&mut z);
            z
        };
        assert!(p(0)[0] > 0.9 && p(1)[1] > 0.9, "{:?} {:?}", p(0), p(1));
        // An unknown column is ignored: the intents are equally likely.
        let mut z = head.logits(&[1.0, 0.0], &vec![(7, 1.0)]);
        softmax_in_place(&mut z);
        assert!((z[0] - 0.5).abs() < 1e-4, "{z:?}");
    }
}
