//! Intent classification: a linear softmax head over MiniLM sentence
//! embeddings, trained at start-up on the intents' example phrasings
//! (multinomial logistic regression, partly class-balanced, L2-regularised, full-batch
//! gradient descent with momentum from zero weights: deterministic), blended
//! with the votes of the nearest examples. The head learns the directions that
//! separate intents whose examples sit close together (most vs. least, score
//! vs. threshold); the neighbours keep a question that is close to one
//! particular phrasing with that phrasing's intent, which a linear boundary
//! drawn through hundreds of phrasings can miss. The blend weight is chosen
//! on a held-back part of the examples (every n-th per intent): a head trained
//! on the rest and the rest's neighbours classify each held-back example, and
//! the weight with the most right is kept.
//! One refusal rule: a question whose best probability is below `min_score` is
//! refused. `min_score` is calibrated on the same held-back examples: the
//! threshold that makes the fewest mistakes is kept — a question to be refused
//! that gets answered counts twice an answerable one refused, because a wrong
//! answer misleads while a refusal only costs a rephrasing. The head used then
//! is trained on all examples, and all examples vote.

use super::cache::ExampleCache;
use super::embed::SentenceEmbedder;
use super::error::{ChatError, Result};
use super::intents::{ClassifierSettings, IntentFile};
use candle_core::{DType, Device, Tensor};

/// The intents ranked for one question.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    /// (intent index, probability), best first.
    pub scores: Vec<(usize, f32)>,
    /// Probability of the best intent.
    pub confidence: f32,
}

impl Ranked {
    pub fn best(&self) -> (usize, f32) {
        self.scores[0]
    }
}

/// A trained softmax head: `p = softmax(W x + b)`.
struct Head {
    /// Row-major `[intents][dim]`.
    w: Vec<f32>,
    b: Vec<f32>,
    dim: usize,
}

impl Head {
    fn logits(&self, x: &[f32]) -> Vec<f32> {
        self.b
            .iter()
            .enumerate()
            .map(|(c, b)| b + dot(&self.w[c * self.dim..(c + 1) * self.dim], x))
            .collect()
    }

    /// Train on (intent, embedding) pairs. The two products per step run as
    /// matrix products (candle, CPU): `P = softmax(X W + b)`, `∇W = Xᵀ G`.
    fn train(data: &[(usize, Vec<f32>)], intents: usize, s: &ClassifierSettings) -> Result<Head> {
        let err = |e: candle_core::Error| ChatError::Inference {
            model: "intent head training".into(),
            reason: e.to_string(),
        };
        let dim = data.first().map_or(0, |d| d.1.len());
        let n = data.len();
        let mut counts = vec![0usize; intents];
        for (c, _) in data {
            counts[*c] += 1;
        }
        // An example of an intent with `n` examples weighs `n^-balance` (1: every
        // intent weighs the same in the loss; 0: every example does); the weights sum to 1.
        let mut target = vec![0.0f32; n * intents];
        let mut weight = vec![0.0f32; n];
        for (i, (c, _)) in data.iter().enumerate() {
            target[i * intents + c] = 1.0;
            weight[i] = (counts[*c] as f32).powf(-s.balance);
        }
        let total: f32 = weight.iter().sum();
        weight.iter_mut().for_each(|w| *w /= total);
        let dev = Device::Cpu;
        let flat: Vec<f32> = data.iter().flat_map(|(_, x)| x.iter().copied()).collect();
        let x = Tensor::from_vec(flat, (n, dim), &dev).map_err(err)?;
        let xt = x.t().and_then(|t| t.contiguous()).map_err(err)?;
        let y = Tensor::from_vec(target, (n, intents), &dev).map_err(err)?;
        let wt = Tensor::from_vec(weight, (n, 1), &dev).map_err(err)?;
        let mut w = Tensor::zeros((dim, intents), DType::F32, &dev).map_err(err)?;
        let mut b = Tensor::zeros((1, intents), DType::F32, &dev).map_err(err)?;
        let mut vw = w.zeros_like().map_err(err)?;
        let mut vb = b.zeros_like().map_err(err)?;
        let (lr, mu, l2) = (s.learning_rate as f64, s.momentum as f64, s.l2 as f64);
        for _ in 0..s.epochs {
            let step = || -> candle_core::Result<(Tensor, Tensor)> {
                let logits = x.matmul(&w)?.broadcast_add(&b)?;
                let p = candle_nn::ops::softmax(&logits, 1)?;
                let g = (p - &y)?.broadcast_mul(&wt)?;
                let gw = (xt.matmul(&g)? + (&w * l2)?)?;
                let gb = g.sum_keepdim(0)?;
                Ok((gw, gb))
            };
            let (gw, gb) = step().map_err(err)?;
            vw = ((&vw * mu).map_err(err)? + gw).map_err(err)?;
            vb = ((&vb * mu).map_err(err)? + gb).map_err(err)?;
            w = (&w - (&vw * lr).map_err(err)?).map_err(err)?;
            b = (&b - (&vb * lr).map_err(err)?).map_err(err)?;
        }
        let w: Vec<f32> = w
            .t()
            .and_then(|t| t.contiguous())
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1())
            .map_err(err)?;
        let b: Vec<f32> = b.flatten_all().and_then(|t| t.to_vec1()).map_err(err)?;
        Ok(Head { w, b, dim })
    }
}

/// The mean of the vectors (zeros when there are none).
fn mean_of(vecs: &[Vec<f32>]) -> Vec<f32> {
    let dim = vecs.first().map_or(0, Vec::len);
    let mut m = vec![0.0f32; dim];
    for v in vecs {
        m.iter_mut().zip(v).for_each(|(a, x)| *a += x);
    }
    let n = vecs.len().max(1) as f32;
    m.iter_mut().for_each(|a| *a /= n);
    m
}

/// `v − mean`, L2-normalised. Every question about a face comparison shares
/// a large common direction (MiniLM puts them all close together); taking
/// the examples' mean off leaves the directions that tell intents apart, so
/// cosines between questions and examples spread out.
fn centre(v: &[f32], mean: &[f32]) -> Vec<f32> {
    let mut c: Vec<f32> = v.iter().zip(mean).map(|(x, m)| x - m).collect();
    let n = c.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        c.iter_mut().for_each(|x| *x /= n);
    }
    c
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn softmax(z: &[f32]) -> Vec<f32> {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// Nearest-neighbour votes over the embedded examples: the `k` examples most
/// similar to the question (cosine) vote for their intents, each weighing
/// `exp((cosine − best cosine) / temperature)`; the votes are normalised to
/// a probability per intent.
struct Neighbours {
    examples: Vec<(usize, Vec<f32>)>,
    intents: usize,
    k: usize,
    temperature: f32,
}

impl Neighbours {
    /// The highest cosine between the question and an example.
    fn nearest(&self, q: &[f32]) -> f32 {
        self.examples
            .iter()
            .map(|(_, v)| dot(q, v))
            .fold(f32::NEG_INFINITY, f32::max)
    }

    fn votes(&self, q: &[f32]) -> Vec<f32> {
        let mut sims: Vec<(f32, usize)> =
            self.examples.iter().map(|(c, v)| (dot(q, v), *c)).collect();
        let k = self.k.min(sims.len());
        let mut p = vec![0.0f32; self.intents];
        if k == 0 {
            return p;
        }
        sims.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let top = &sims[..k];
        let best = top.iter().map(|t| t.0).fold(f32::NEG_INFINITY, f32::max);
        for (sim, c) in top {
            p[*c] += ((sim - best) / self.temperature).exp();
        }
        let total: f32 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= total);
        p
    }
}

/// The trained head blended with nearest-neighbour votes, and the calibrated refusal threshold.
pub struct Classifier {
    /// The mean of the examples' embeddings, taken off every vector before it is classified.
    mean: Vec<f32>,
    head: Head,
    neighbours: Neighbours,
    /// Weight of the head's probabilities against the neighbours' votes (1 = head only).
    pub blend: f32,
    /// A question this similar to an example is classified by the neighbours alone.
    pub same_phrasing: f32,
    /// Questions whose best probability is below this are refused.
    pub min_score: f32,
    /// Mistakes on the held-back examples at `min_score`: (wrong answers, needless refusals, held back).
    pub calibration: (usize, usize, usize),
    /// Held-back examples given their own intent with the chosen blend: (right, held back).
    pub held_back_right: (usize, usize),
    /// Held-back examples right with each blend tried: (blend, right).
    pub blends_tried: Vec<(f32, usize)>,
}

impl Classifier {
    /// Embed every example; on the held-back ones (with a head trained and
    /// neighbours taken from the rest) choose the blend of head and neighbours
    /// that classifies most of them right and calibrate the refusal
    /// threshold; then train the head on all examples, which all vote.
    pub fn new(file: &IntentFile, embedder: &SentenceEmbedder) -> Result<Classifier> {
        let texts: Vec<&str> = file
            .intents
            .iter()
            .flat_map(|i| i.examples.iter().map(String::as_str))
            .collect();
        let vecs = ExampleCache::new(&file.sha256, embedder.sha256()).embed(embedder, &texts)?;
        let mean = mean_of(&vecs);
        let vecs: Vec<Vec<f32>> = vecs.iter().map(|v| centre(v, &mean)).collect();
        let labels = file
            .intents
            .iter()
            .enumerate()
            .flat_map(|(n, i)| (0..i.examples.len()).map(move |j| (n, j)));
        let s = &file.classifier;
        let n = file.intents.len();
        let mut train = Vec::new();
        let mut held = Vec::new();
        for ((intent, j), v) in labels.zip(vecs) {
            if j % s.held_out_every == s.held_out_every - 1 {
                held.push((intent, v));
            } else {
                train.push((intent, v));
            }
        }
        let neighbours = |examples| Neighbours {
            examples,
            intents: n,
            k: s.neighbours,
            temperature: s.temperature,
        };
        let mut probe = Classifier {
            mean: mean.clone(),
            head: Head::train(&train, n, s)?,
            neighbours: neighbours(train.clone()),
            blend: 1.0,
            same_phrasing: s.same_phrasing,
            min_score: 0.0,
            calibration: (0, 0, 0),
            held_back_right: (0, 0),
            blends_tried: Vec::new(),
        };
        // The blend with the most held-back examples right; among equals the first listed.
        let mut best = (0usize, s.blends[0]);
        let mut tried = Vec::new();
        for &b in &s.blends {
            probe.blend = b;
            let right = held
                .iter()
                .filter(|(truth, v)| probe.rank_centred(v).best().0 == *truth)
                .count();
            tried.push((b, right));
            if right > best.0 {
                best = (right, b);
            }
        }
        probe.blend = best.1;
        let refusable: Vec<bool> = file.intents.iter().map(|i| i.refused()).collect();
        let outcomes: Vec<(f32, bool, bool)> = held
            .iter()
            .map(|(truth, v)| {
                let (pred, score) = probe.rank_centred(v).best();
                (score, refusable[pred], refusable[*truth])
            })
            .collect();
        let min_score = calibrate(&outcomes);
        let (wrong, refused, _) = mistakes(&outcomes, min_score);
        let held_back = held.len();
        train.extend(held);
        Ok(Classifier {
            mean,
            head: Head::train(&train, n, s)?,
            neighbours: neighbours(train),
            blend: best.1,
            same_phrasing: s.same_phrasing,
            min_score,
            calibration: (wrong, refused, held_back),
            held_back_right: (best.0, held_back),
            blends_tried: tried,
        })
    }

    /// The probability of every intent for an embedded question, best first:
    /// `blend` × the head's softmax + (1 − `blend`) × the neighbours' votes;
    /// for a question that is (nearly) one of the example phrasings, whose
    /// intent is then known, the votes weigh at least half.
    pub fn rank(&self, q: &[f32]) -> Ranked {
        self.rank_centred(&centre(q, &self.mean))
    }

    /// [`Self::rank`] of a vector already centred on the examples' mean.
    fn rank_centred(&self, q: &[f32]) -> Ranked {
        let head = softmax(&self.head.logits(q));
        // Half and half: the phrasing's intent comes first, the head orders the rest.
        let blend = if self.neighbours.nearest(q) >= self.same_phrasing {
            self.blend.min(0.5)
        } else {
            self.blend
        };
        let p: Vec<f32> = if blend >= 1.0 {
            head
        } else {
            let votes = self.neighbours.votes(q);
            head.iter()
                .zip(&votes)
                .map(|(h, v)| blend * h + (1.0 - blend) * v)
                .collect()
        };
        let mut scores: Vec<(usize, f32)> = p.into_iter().enumerate().collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ranked {
            confidence: scores[0].1,
            scores,
        }
    }
}

/// (wrong answers, needless refusals) at threshold `t`. An outcome is
/// (score, best intent is a refusal, true intent is a refusal). The threshold
/// only decides whether a question is in scope at all: a question to be
/// refused that is kept and matched to an answering intent is a wrong answer;
/// an answerable question below the threshold is a needless refusal.
/// (Confusions between answering intents are the classifier's, not the threshold's.)
fn mistakes(outcomes: &[(f32, bool, bool)], t: f32) -> (usize, usize, usize) {
    let mut wrong = 0;
    let mut refused = 0;
    for &(score, pred_refusal, true_refusal) in outcomes {
        let kept = score >= t;
        match (kept, pred_refusal, true_refusal) {
            (true, false, true) => wrong += 1,
            (false, _, false) => refused += 1,
            _ => {}
        }
    }
    (wrong, refused, 0)
}

/// The threshold with the fewest weighted mistakes (a wrong answer weighs 2);
/// among equals the lowest, so nothing is refused without a reason.
fn calibrate(outcomes: &[(f32, bool, bool)]) -> f32 {
    let mut candidates: Vec<f32> = outcomes.iter().map(|o| o.0).collect();
    candidates.push(0.0);
    candidates.sort_by(f32::total_cmp);
    let cost = |t: f32| {
        let (w, r, _) = mistakes(outcomes, t);
        2 * w + r
    };
    let mut best = (usize::MAX, 0.0);
    for t in candidates {
        let c = cost(t);
        if c < best.0 {
            best = (c, t);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_learns_a_direction_nearest_neighbours_blur() {
        // Two classes sharing a large common component, told apart by a small
        // second one (like "most" vs "least" in sentence embeddings).
        let s = ClassifierSettings {
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
        };
        let v = |a: f32| {
            let n = (0.95f32 * 0.95 + a * a).sqrt();
            vec![0.95 / n, a / n]
        };
        let data = vec![(0, v(0.1)), (0, v(0.15)), (1, v(-0.1)), (1, v(-0.15))];
        let head = Head::train(&data, 2, &s).unwrap();
        let c = Classifier {
            mean: vec![0.0, 0.0],
            head,
            neighbours: Neighbours {
                examples: data.clone(),
                intents: 2,
                k: 3,
                temperature: 0.05,
            },
            blend: 1.0,
            same_phrasing: 2.0,
            min_score: 0.0,
            calibration: (0, 0, 0),
            held_back_right: (0, 0),
            blends_tried: Vec::new(),
        };
        assert_eq!(c.rank(&v(0.05)).best().0, 0);
        assert_eq!(c.rank(&v(-0.05)).best().0, 1);
        assert!(c.rank(&v(0.2)).confidence > 0.8);
    }

    #[test]
    fn centring_takes_the_common_direction_off() {
        // Two unit vectors sharing a large common component: nearly parallel
        // before, opposite once their mean is taken off.
        let (a, b) = (vec![0.99f32, 0.141], vec![0.99f32, -0.141]);
        assert!(dot(&a, &b) > 0.95);
        let m = mean_of(&[a.clone(), b.clone()]);
        assert!((m[0] - 0.99).abs() < 1e-6 && m[1].abs() < 1e-6);
        let (ca, cb) = (centre(&a, &m), centre(&b, &m));
        assert!((dot(&ca, &ca) - 1.0).abs() < 1e-5);
        assert!((dot(&ca, &cb) + 1.0).abs() < 1e-5);
    }

    #[test]
    fn neighbours_vote_by_similarity() {
        let ex = vec![
            (0, vec![1.0, 0.0]),
            (0, vec![0.9, 0.436]),
            (1, vec![0.0, 1.0]),
            (2, vec![-1.0, 0.0]),
        ];
        let n = Neighbours {
            examples: ex,
            intents: 3,
            k: 2,
            temperature: 0.1,
        };
        let p = n.votes(&[0.0, 1.0]);
        // The two nearest are intent 1 (cosine 1) and intent 0 (cosine 0.436).
        assert_eq!(p[2], 0.0);
        assert!(p[1] > 0.99 && p[1] < 1.0, "{p:?}");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let p = n.votes(&[1.0, 0.0]);
        assert!(p[0] > 0.999 && p[1] == 0.0, "{p:?}");
    }

    #[test]
    fn calibration_moves_the_threshold_above_wrong_low_scores() {
        // Refusable questions matched to answering intents at low scores,
        // answerable ones higher: refuse below the answerable ones.
        let o = [
            (0.30, false, true),
            (0.35, false, true),
            (0.60, false, false),
            (0.70, false, false),
        ];
        assert_eq!(calibrate(&o), 0.60);
        assert_eq!(mistakes(&o, 0.60), (0, 0, 0));
        // Refusable questions matched to refusal intents need no threshold.
        let o = [(0.30, true, true), (0.70, false, false)];
        assert_eq!(calibrate(&o), 0.0);
    }
}
