//! Intent classification: k nearest neighbours over MiniLM embeddings of the
//! intents' example phrasings. An intent's score is the mean cosine of its
//! `k` examples nearest to the question; the confidence is the softmax of the
//! scores. One refusal rule: a question whose best score is below `min_score`
//! is refused. `min_score` is calibrated at start-up on a held-back part of
//! the examples (every n-th per intent): the classifier is built on the rest,
//! each held-back example is classified, and the threshold that makes the
//! fewest mistakes is kept — a question to be refused that gets answered
//! counts twice an answerable one refused, because a wrong answer misleads
//! while a refusal only costs a rephrasing. The memory then holds all examples.

use super::embed::{SentenceEmbedder, dot};
use super::error::Result;
use super::intents::{ClassifierSettings, IntentFile};

/// The intents ranked for one question.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    /// (intent index, score), best first.
    pub scores: Vec<(usize, f32)>,
    /// Softmax probability of the best intent.
    pub confidence: f32,
}

impl Ranked {
    pub fn best(&self) -> (usize, f32) {
        self.scores[0]
    }
}

/// The nearest-neighbour memory and its calibrated refusal threshold.
pub struct Classifier {
    memory: Vec<(usize, Vec<f32>)>,
    intents: usize,
    settings: ClassifierSettings,
    /// Questions scoring below this are refused.
    pub min_score: f32,
    /// Mistakes on the held-back examples at `min_score` (wrong, needless refusals) and their number.
    pub calibration: (usize, usize, usize),
}

impl Classifier {
    /// Embed every example, calibrate the refusal threshold on the held-back ones.
    pub fn new(file: &IntentFile, embedder: &SentenceEmbedder) -> Result<Classifier> {
        let texts: Vec<&str> = file
            .intents
            .iter()
            .flat_map(|i| i.examples.iter().map(String::as_str))
            .collect();
        let vecs = embedder.embed(&texts)?;
        let labels = file
            .intents
            .iter()
            .enumerate()
            .flat_map(|(n, i)| (0..i.examples.len()).map(move |j| (n, j)));
        let s = file.classifier;
        let mut train = Vec::new();
        let mut held = Vec::new();
        for ((intent, j), v) in labels.zip(vecs) {
            if j % s.held_out_every == s.held_out_every - 1 {
                held.push((intent, v));
            } else {
                train.push((intent, v));
            }
        }
        let mut c = Classifier {
            memory: train,
            intents: file.intents.len(),
            settings: s,
            min_score: 0.0,
            calibration: (0, 0, 0),
        };
        let refusable: Vec<bool> = file.intents.iter().map(|i| i.refused()).collect();
        let outcomes: Vec<(f32, bool, bool)> = held
            .iter()
            .map(|(truth, v)| {
                let (pred, score) = c.rank(v).best();
                (score, refusable[pred], refusable[*truth])
            })
            .collect();
        c.min_score = calibrate(&outcomes);
        c.calibration = mistakes(&outcomes, c.min_score);
        c.calibration.2 = outcomes.len();
        c.memory.extend(held);
        Ok(c)
    }

    /// Score every intent for an embedded question.
    pub fn rank(&self, q: &[f32]) -> Ranked {
        let k = self.settings.k;
        let mut per: Vec<Vec<f32>> = vec![Vec::new(); self.intents];
        for (i, v) in &self.memory {
            per[*i].push(dot(q, v));
        }
        let mut scores: Vec<(usize, f32)> = per
            .into_iter()
            .enumerate()
            .filter(|(_, s)| !s.is_empty())
            .map(|(i, mut s)| {
                s.sort_by(|a, b| b.total_cmp(a));
                let n = k.min(s.len());
                (i, s[..n].iter().sum::<f32>() / n as f32)
            })
            .collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = scores[0].1;
        let t = self.settings.temperature;
        let z: f32 = scores.iter().map(|(_, s)| ((s - top) / t).exp()).sum();
        Ranked {
            scores,
            confidence: 1.0 / z,
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
