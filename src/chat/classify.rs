//! Intent classification: a linear softmax head ([`super::head`]) over a
//! question's MiniLM sentence embedding and its wordpieces
//! ([`super::lexical`]), trained at start-up on the intents' example
//! phrasings, blended with the votes of the nearest examples. The head learns
//! the directions that separate intents whose examples sit close together
//! (most vs. least, score vs. threshold); the neighbours keep a question that
//! is close to one particular phrasing with that phrasing's intent. The blend
//! weight is chosen on a held-back part of the examples (every n-th per
//! intent): a head trained on the rest and the rest's neighbours classify each
//! held-back example, and the weight with the most right is kept.
//!
//! Refusal. The refusal intents of the data file (identity, the photos,
//! benchmarks, anything else) are one out-of-scope class, split only to give
//! each refusal its reason: a question is refused when their summed
//! probability, times `out_weight`, is at least that of the best answering
//! intent — a question torn between "who is this?" and "where were the photos
//! taken?" is out of scope even though neither reason alone beats "what is the
//! decision?". `out_weight` is a prior in favour of refusing, calibrated on the
//! held-back examples: the examples cover the questions the analysis answers
//! far more densely than the endless ones it cannot (a question unlike every
//! example spreads its probability, and the answering intents, being more,
//! collect most of it), so the refusal class is favoured as far as the
//! held-back answerable examples allow. A question is also refused when the
//! best answering intent's probability is below `min_score`, calibrated on
//! the same held-back examples. Both calibrations keep the setting that makes
//! the fewest mistakes — a question to be refused that gets answered counts
//! twice an answerable one refused, because a wrong answer misleads while a
//! refusal only costs a rephrasing. The head used then is trained on all
//! examples, and all examples vote.

use super::cache::ExampleCache;
use super::embed::{SentenceEmbedder, dot};
use super::error::Result;
use super::head::{Example, Head, softmax_in_place};
use super::intents::IntentFile;
use super::lexical::{Lexicon, Sparse};

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

    fn new(p: Vec<f32>) -> Ranked {
        let mut scores: Vec<(usize, f32)> = p.into_iter().enumerate().collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ranked {
            confidence: scores.first().map_or(0.0, |s| s.1),
            scores,
        }
    }
}

/// What the refusal rule makes of a ranked question.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Answer: the answering intents ranked (the refusal intents left out).
    InScope(Ranked),
    /// Out of scope: the most probable refusal intent (its reason) and the refusal intents' summed probability.
    OutOfScope(usize, f32),
    /// Below the calibrated threshold: the best answering intent's probability.
    Unsure(f32),
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

/// A question as the classifier reads it: its embedding centred on the examples' mean, and its lexical features.
struct Features {
    dense: Vec<f32>,
    sparse: Sparse,
}

/// The trained head blended with nearest-neighbour votes, and the refusal rule.
pub struct Classifier {
    /// The mean of the examples' embeddings, taken off every vector before it is classified.
    mean: Vec<f32>,
    lexicon: Lexicon,
    head: Head,
    neighbours: Neighbours,
    /// Per intent: a refusal intent (part of the out-of-scope class).
    refusable: Vec<bool>,
    /// Weight of the head's probabilities against the neighbours' votes (1 = head only).
    pub blend: f32,
    /// A question this similar to an example is classified by the neighbours alone.
    pub same_phrasing: f32,
    /// The refusal intents' summed probability is multiplied by this before it is set against the best answering intent's.
    pub out_weight: f32,
    /// Questions whose best answering intent's probability is below this are refused.
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
        let pieces = texts
            .iter()
            .map(|t| embedder.pieces(t))
            .collect::<Result<Vec<_>>>()?;
        let mean = mean_of(&vecs);
        let labels = file
            .intents
            .iter()
            .enumerate()
            .flat_map(|(n, i)| (0..i.examples.len()).map(move |j| (n, j)));
        let s = &file.classifier;
        let mut train = Vec::new();
        let mut held = Vec::new();
        for (((intent, j), v), p) in labels.zip(&vecs).zip(pieces) {
            let ex = (intent, centre(v, &mean), p);
            if j % s.held_out_every == s.held_out_every - 1 {
                held.push(ex);
            } else {
                train.push(ex);
            }
        }
        let refusable: Vec<bool> = file.intents.iter().map(|i| i.refused()).collect();
        let mut probe = Self::trained(file, &train, mean.clone(), refusable.clone())?;
        let held: Vec<(usize, Features)> = held
            .into_iter()
            .map(|(intent, dense, p)| {
                let sparse = probe.lexicon.features(&p);
                (intent, Features { dense, sparse })
            })
            .collect();
        // The blend with the most held-back examples right; among equals the first listed.
        let mut best = (0usize, s.blends[0]);
        let mut tried = Vec::new();
        for &b in &s.blends {
            probe.blend = b;
            let right = held
                .iter()
                .filter(|(truth, f)| probe.rank_features(f).best().0 == *truth)
                .count();
            tried.push((b, right));
            if right > best.0 {
                best = (right, b);
            }
        }
        probe.blend = best.1;
        let split: Vec<((f32, f32), bool)> = held
            .iter()
            .map(|(truth, f)| (probe.split(&probe.rank_features(f)), refusable[*truth]))
            .collect();
        let out_weight = calibrate_out_weight(&split);
        let outcomes: Vec<(f32, bool, bool)> = split
            .iter()
            .map(|&((score, mass), truth)| (score, refuses(score, mass, out_weight), truth))
            .collect();
        let min_score = calibrate(&outcomes);
        let (wrong, refused, _) = mistakes(&outcomes, min_score);
        let held_back = held.len();
        // Everything, held-back examples included, trains the final head.
        let all: Vec<(usize, Vec<f32>, Vec<u32>)> = file
            .intents
            .iter()
            .enumerate()
            .flat_map(|(n, i)| std::iter::repeat_n(n, i.examples.len()))
            .zip(vecs.iter().map(|v| centre(v, &mean)))
            .zip(texts.iter().map(|t| embedder.pieces(t)))
            .map(|((n, v), p)| p.map(|p| (n, v, p)))
            .collect::<Result<_>>()?;
        let mut c = Self::trained(file, &all, mean, refusable)?;
        c.blend = best.1;
        c.out_weight = out_weight;
        c.min_score = min_score;
        c.calibration = (wrong, refused, held_back);
        c.held_back_right = (best.0, held_back);
        c.blends_tried = tried;
        Ok(c)
    }

    /// A classifier whose lexicon, head and neighbours come from `examples`
    /// ((intent, centred embedding, wordpieces)); blend 1, no threshold.
    fn trained(
        file: &IntentFile,
        examples: &[(usize, Vec<f32>, Vec<u32>)],
        mean: Vec<f32>,
        refusable: Vec<bool>,
    ) -> Result<Classifier> {
        let s = &file.classifier;
        let n = file.intents.len();
        let pieces: Vec<Vec<u32>> = examples.iter().map(|e| e.2.clone()).collect();
        let lexicon = Lexicon::new(&pieces, s.lexical_weight);
        let data: Vec<Example> = examples
            .iter()
            .map(|(intent, v, p)| Example {
                intent: *intent,
                dense: v.clone(),
                sparse: lexicon.features(p),
            })
            .collect();
        Ok(Classifier {
            mean,
            head: Head::train(&data, n, lexicon.len(), s)?,
            lexicon,
            neighbours: Neighbours {
                examples: examples.iter().map(|e| (e.0, e.1.clone())).collect(),
                intents: n,
                k: s.neighbours,
                temperature: s.temperature,
            },
            refusable,
            blend: 1.0,
            same_phrasing: s.same_phrasing,
            out_weight: 1.0,
            min_score: 0.0,
            calibration: (0, 0, 0),
            held_back_right: (0, 0),
            blends_tried: Vec::new(),
        })
    }

    /// The probability of every intent for a question (its embedding and
    /// wordpieces), best first: `blend` × the head's softmax + (1 − `blend`)
    /// × the neighbours' votes; for a question that is (nearly) one of the
    /// example phrasings, whose intent is then known, the votes weigh at least half.
    pub fn rank(&self, q: &[f32], pieces: &[u32]) -> Ranked {
        self.rank_features(&Features {
            dense: centre(q, &self.mean),
            sparse: self.lexicon.features(pieces),
        })
    }

    fn rank_features(&self, f: &Features) -> Ranked {
        let mut head = self.head.logits(&f.dense, &f.sparse);
        softmax_in_place(&mut head);
        // Half and half: the phrasing's intent comes first, the head orders the rest.
        let blend = if self.neighbours.nearest(&f.dense) >= self.same_phrasing {
            self.blend.min(0.5)
        } else {
            self.blend
        };
        if blend >= 1.0 {
            return Ranked::new(head);
        }
        let votes = self.neighbours.votes(&f.dense);
        Ranked::new(
            head.iter()
                .zip(&votes)
                .map(|(h, v)| blend * h + (1.0 - blend) * v)
                .collect(),
        )
    }

    /// (the best answering intent's probability, the refusal intents' summed probability).
    fn split(&self, r: &Ranked) -> (f32, f32) {
        let answering = r
            .scores
            .iter()
            .find(|(i, _)| !self.refusable[*i])
            .map_or(0.0, |s| s.1);
        let out: f32 = r
            .scores
            .iter()
            .filter(|(i, _)| self.refusable[*i])
            .map(|s| s.1)
            .sum();
        (answering, out)
    }

    /// The refusal rule: out of scope, below the threshold, or the answering intents ranked.
    pub fn judge(&self, r: &Ranked) -> Verdict {
        let (answering, mass) = self.split(r);
        if refuses(answering, mass, self.out_weight) {
            let reason = r.scores.iter().find(|(i, _)| self.refusable[*i]);
            return match reason {
                Some((i, _)) => Verdict::OutOfScope(*i, mass),
                None => Verdict::Unsure(answering),
            };
        }
        if answering < self.min_score {
            return Verdict::Unsure(answering);
        }
        Verdict::InScope(Ranked::new_sorted(
            r.scores
                .iter()
                .filter(|(i, _)| !self.refusable[*i])
                .copied()
                .collect(),
        ))
    }
}

impl Ranked {
    /// From scores already sorted best first.
    fn new_sorted(scores: Vec<(usize, f32)>) -> Ranked {
        Ranked {
            confidence: scores.first().map_or(0.0, |s| s.1),
            scores,
        }
    }
}

/// Whether the refusal intents' summed probability `mass`, weighted by `w`, outweighs the best answering intent's `answering`.
fn refuses(answering: f32, mass: f32, w: f32) -> bool {
    mass > 0.0 && w * mass >= answering
}

/// The out-of-scope weight from held-back outcomes ((best answering
/// intent's probability, refusal intents' summed probability), whether the
/// true intent is a refusal): a question is refused from the weight
/// answering / mass on, so the candidates are 1, the geometric midpoints
/// between consecutive ratios above 1 and the largest ratio. The weight with the fewest weighted
/// mistakes (a wrong answer weighs 2, a needless refusal 1) is kept; among
/// equals the largest — the refusal class is favoured as far as the
/// answerable held-back examples allow.
fn calibrate_out_weight(outcomes: &[((f32, f32), bool)]) -> f32 {
    let mut ratios: Vec<f32> = outcomes
        .iter()
        .filter(|((_, mass), _)| *mass > 0.0)
        .map(|((a, mass), _)| a / mass)
        .filter(|r| *r > 1.0 && r.is_finite())
        .collect();
    ratios.sort_by(f32::total_cmp);
    ratios.dedup();
    let mut candidates = vec![1.0f32];
    candidates.extend(ratios.windows(2).map(|w| (w[0] * w[1]).sqrt()));
    candidates.extend(ratios.last());
    let cost = |w: f32| {
        outcomes
            .iter()
            .map(|&((a, mass), truth)| match (refuses(a, mass, w), truth) {
                (false, true) => 2,
                (true, false) => 1,
                _ => 0,
            })
            .sum::<usize>()
    };
    let mut best = (usize::MAX, 1.0f32);
    for w in candidates {
        let c = cost(w);
        if c <= best.0 {
            best = (c, w);
        }
    }
    best.1
}

/// (wrong answers, needless refusals) at threshold `t`. An outcome is
/// (the best answering intent's probability, the refusal intents outweigh
/// it, the true intent is a refusal). The threshold
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
    use crate::chat::head::test_settings;

    /// A classifier over 2-D vectors with no lexical features.
    fn classifier(data: &[(usize, Vec<f32>)], intents: usize, refusable: Vec<bool>) -> Classifier {
        let s = test_settings(0.0);
        let ex: Vec<Example> = data
            .iter()
            .map(|(intent, v)| Example {
                intent: *intent,
                dense: v.clone(),
                sparse: Vec::new(),
            })
            .collect();
        Classifier {
            mean: vec![0.0, 0.0],
            lexicon: Lexicon::default(),
            head: Head::train(&ex, intents, 0, &s).unwrap(),
            neighbours: Neighbours {
                examples: data.to_vec(),
                intents,
                k: 3,
                temperature: 0.05,
            },
            refusable,
            blend: 1.0,
            same_phrasing: 2.0,
            out_weight: 1.0,
            min_score: 0.0,
            calibration: (0, 0, 0),
            held_back_right: (0, 0),
            blends_tried: Vec::new(),
        }
    }

    #[test]
    fn the_head_learns_a_direction_nearest_neighbours_blur() {
        // Two classes sharing a large common component, told apart by a small
        // second one (like "most" vs "least" in sentence embeddings).
        let v = |a: f32| {
            let n = (0.95f32 * 0.95 + a * a).sqrt();
            vec![0.95 / n, a / n]
        };
        let data = vec![(0, v(0.1)), (0, v(0.15)), (1, v(-0.1)), (1, v(-0.15))];
        let c = classifier(&data, 2, vec![false, false]);
        assert_eq!(c.rank(&v(0.05), &[]).best().0, 0);
        assert_eq!(c.rank(&v(-0.05), &[]).best().0, 1);
        assert!(c.rank(&v(0.2), &[]).confidence > 0.8);
    }

    #[test]
    fn the_refusal_intents_are_weighed_together() {
        // Intent 0 answers; 1 and 2 are two reasons to refuse.
        let c = classifier(&[(0, vec![1.0, 0.0])], 3, vec![false, true, true]);
        let r = |p: [f32; 3]| Ranked::new(p.to_vec());
        // Each refusal alone is below the answer, together they outweigh it: refused with the likelier reason.
        assert_eq!(c.judge(&r([0.4, 0.35, 0.25])), Verdict::OutOfScope(1, 0.6));
        let Verdict::InScope(kept) = c.judge(&r([0.6, 0.3, 0.1])) else {
            panic!("answered")
        };
        assert_eq!(kept.scores, [(0, 0.6)]);
        let mut sure = c;
        sure.min_score = 0.7;
        assert_eq!(sure.judge(&r([0.6, 0.3, 0.1])), Verdict::Unsure(0.6));
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
    fn the_out_of_scope_weight_favours_refusal_as_far_as_answerable_examples_allow() {
        // Ratios answering / mass: refusable questions at 1.5 and 3 (answered
        // at weight 1), answerable ones at 6 and 40.
        let o = [
            ((0.6, 0.4), true),
            ((0.75, 0.25), true),
            ((0.857, 0.143), false),
            ((0.976, 0.0244), false),
        ];
        let w = calibrate_out_weight(&o);
        // Both refusable ones refused, neither answerable one: w in [3, 6), the largest candidate.
        assert!((w - (3.0f32 * 6.0).sqrt()).abs() < 0.05, "{w}");
        // An answerable example among the refusable ones costs less refused than the two wrong answers it would take to keep it.
        let o = [
            ((0.6, 0.4), true),
            ((0.7, 0.3), false),
            ((0.75, 0.25), true),
        ];
        assert!(calibrate_out_weight(&o) >= 3.0);
        // With no refusable example answered, nothing to move: w stays where no answerable one is refused.
        let o = [((0.3, 0.7), true), ((0.9, 0.1), false)];
        assert!(calibrate_out_weight(&o) < 9.0);
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
