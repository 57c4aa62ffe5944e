//! C-Score of Knoche et al. 2022 ("Explainable Model-Agnostic Similarity and
//! Confidence in Face Verification", §3.1): a logistic sigmoid fitted to the
//! per-bin genuine ratio of the distance histograms, clipped to [0, 1] and
//! flipped for non-match decisions.
//!
//! Fitting the sigmoid lives in [`super::fit::cscore`].

use crate::record::Decision;
use serde::{Deserialize, Serialize};

/// The C-Score sigmoid c(d) = L / (1 + e^(−k(d − d0))) + b (Knoche eq. 2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sigmoid {
    pub l: f64,
    pub d0: f64,
    pub k: f64,
    pub b: f64,
}

/// Numerically stable logistic function.
pub fn logistic(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Sigmoid {
    pub fn from_array(p: [f64; 4]) -> Sigmoid {
        Sigmoid {
            l: p[0],
            d0: p[1],
            k: p[2],
            b: p[3],
        }
    }
    pub fn to_array(self) -> [f64; 4] {
        [self.l, self.d0, self.k, self.b]
    }

    /// c(d), unclipped.
    pub fn eval(&self, d: f64) -> f64 {
        self.l * logistic(self.k * (d - self.d0)) + self.b
    }

    /// The C-Score C (Knoche eq. 3) for cosine distance `d` and the decision
    /// taken: c(d) clipped to [0, 1] for a match, 1 − c(d) for a non-match.
    pub fn c_score(&self, d: f64, decision: Decision) -> f64 {
        let c = self.eval(d).clamp(0.0, 1.0);
        match decision {
            Decision::Match => c,
            Decision::NonMatch => 1.0 - c,
        }
    }
}

/// What the fit found and how it got there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigmoidFit {
    pub params: Sigmoid,
    /// Start values (L, d0, k, b).
    pub start: [f64; 4],
    pub lower: [f64; 4],
    pub upper: [f64; 4],
    /// Root-mean-square residual over the bins.
    pub rms: f64,
    /// The optimiser's termination reason.
    pub termination: String,
    pub evaluations: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_c_score_and_clipping() {
        // c(d) exceeds 1 for small d and goes below 0 for large d: both are clipped.
        let s = Sigmoid {
            l: 1.2,
            d0: 0.5,
            k: -30.0,
            b: -0.1,
        };
        assert!(s.eval(0.0) > 1.0 && s.eval(2.0) < 0.0);
        assert_eq!(s.c_score(0.0, Decision::Match), 1.0);
        assert_eq!(s.c_score(2.0, Decision::NonMatch), 1.0);
        assert_eq!(s.c_score(2.0, Decision::Match), 0.0);
        // Between: C = c(d) for a match, 1 − c(d) for a non-match.
        let c = s.eval(0.45);
        assert!((s.c_score(0.45, Decision::Match) - c).abs() < 1e-15);
        assert!((s.c_score(0.45, Decision::NonMatch) - (1.0 - c)).abs() < 1e-15);
        // At d0 the sigmoid is L/2 + b.
        assert!((s.eval(0.5) - 0.5).abs() < 1e-15);
    }
}
