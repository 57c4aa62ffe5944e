//! Lexical features of a question: a bag of MiniLM's own wordpieces, weighted
//! by tf-idf and L2-normalised, over the vocabulary of the example phrasings.
//! The intent head reads them beside the sentence embedding (sparse and dense
//! features side by side, as in Rasa's DIET classifier): the embedding carries
//! what a question means as a whole, the wordpieces what it literally names,
//! which the embedding of a long question can drown ("how was the outcome
//! determined?" sits close to the outcome itself). Nothing is hand-picked: the
//! vocabulary is every wordpiece of the examples, each weighed by how few
//! examples use it, and the head learns from the examples what each one is
//! evidence for. A wordpiece no example uses carries nothing.

use std::collections::HashMap;

/// Sparse features: (column, value), columns ascending.
pub type Sparse = Vec<(usize, f32)>;

/// The examples' wordpieces and their inverse document frequencies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lexicon {
    /// Wordpiece id → column.
    column: HashMap<u32, usize>,
    /// Inverse document frequency per column: ln((1 + n) / (1 + df)) + 1.
    idf: Vec<f32>,
    /// Scale of the L2-normalised vector (the data file's `lexical_weight`; 0 = no lexical features).
    weight: f32,
}

impl Lexicon {
    /// The vocabulary of the examples (each a list of wordpiece ids).
    pub fn new(examples: &[Vec<u32>], weight: f32) -> Lexicon {
        let mut df: HashMap<u32, usize> = HashMap::new();
        for ex in examples {
            let mut seen = ex.clone();
            seen.sort_unstable();
            seen.dedup();
            for p in seen {
                *df.entry(p).or_default() += 1;
            }
        }
        let mut pieces: Vec<(u32, usize)> = df.into_iter().collect();
        pieces.sort_unstable();
        let n = examples.len() as f32;
        Lexicon {
            column: pieces
                .iter()
                .enumerate()
                .map(|(c, (p, _))| (*p, c))
                .collect(),
            idf: pieces
                .iter()
                .map(|(_, d)| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0)
                .collect(),
            weight,
        }
    }

    /// Columns (one per wordpiece of the examples).
    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// The features of one text's wordpieces: term counts × idf, L2-normalised, × weight.
    pub fn features(&self, pieces: &[u32]) -> Sparse {
        if self.weight == 0.0 {
            return Vec::new();
        }
        let mut counts: HashMap<usize, f32> = HashMap::new();
        for p in pieces {
            if let Some(&c) = self.column.get(p) {
                *counts.entry(c).or_default() += 1.0;
            }
        }
        let mut v: Sparse = counts
            .into_iter()
            .map(|(c, tf)| (c, tf * self.idf[c]))
            .collect();
        v.sort_unstable_by_key(|e| e.0);
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, x)| *x *= self.weight / norm);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_pieces_weigh_more_and_unknown_ones_nothing() {
        // Piece 1 is in every example, piece 2 in one of three.
        let lex = Lexicon::new(&[vec![1, 2], vec![1], vec![1, 3]], 2.0);
        assert_eq!(lex.len(), 3);
        let f = lex.features(&[1, 2, 9]);
        assert_eq!(f.len(), 2, "{f:?}");
        let norm: f32 = f.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        assert!((norm - 2.0).abs() < 1e-5);
        // idf(1) = ln(4/4) + 1 = 1, idf(2) = ln(4/2) + 1.
        let ratio = f[1].1 / f[0].1;
        assert!((ratio - (2f32.ln() + 1.0)).abs() < 1e-5, "{ratio}");
        assert!(lex.features(&[9, 10]).is_empty());
        assert!(Lexicon::new(&[vec![1]], 0.0).features(&[1]).is_empty());
        // A repeated piece counts twice before normalising.
        let twice = lex.features(&[2, 2, 1]);
        assert!((twice[1].1 / twice[0].1 - 2.0 * ratio).abs() < 1e-4);
    }
}
