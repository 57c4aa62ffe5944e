//! PIC-Score of Neto et al. 2023 ("PIC-Score: Probabilistic Interpretable
//! Comparison Score for Optimal Matching Confidence"): the posterior that a
//! similarity score comes from the genuine rather than the impostor score
//! distribution, each estimated by a Gaussian KDE (Scott bandwidth).
//! PIC = p·L_gen / (p·L_gen + (1 − p)·L_imp) with prior p (0.5: equal priors,
//! as in the reference).
//! Fitting the densities lives in [`super::fit::pic`].

use super::kde::LogDensityGrid;
use serde::{Deserialize, Serialize};

/// Grid the densities are stored on: similarity −1 … 1 in steps of 0.002.
pub const GRID_START: f64 = -1.0;
pub const GRID_STEP: f64 = 0.002;
pub const GRID_POINTS: usize = 1001;
/// Prior probability of a genuine pair used by default (equal priors).
pub const EQUAL_PRIOR: f64 = 0.5;

/// The two score densities and the prior: everything the PIC-Score needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PicModel {
    /// Prior probability of a genuine pair.
    pub prior_genuine: f64,
    /// Bandwidth rule of both KDEs.
    pub bandwidth_rule: String,
    pub bandwidth_genuine: f64,
    pub bandwidth_impostor: f64,
    /// ln density of genuine similarity scores.
    pub genuine: LogDensityGrid,
    /// ln density of impostor similarity scores.
    pub impostor: LogDensityGrid,
}

impl PicModel {
    /// PIC-Score of a similarity score: the probability that the pair is genuine.
    pub fn pic(&self, similarity: f64) -> f64 {
        pic_from_logs(
            self.genuine.at(similarity),
            self.impostor.at(similarity),
            self.prior_genuine,
        )
    }

    pub fn check(&self) -> Result<(), String> {
        self.genuine.check()?;
        self.impostor.check()?;
        if !(self.prior_genuine > 0.0 && self.prior_genuine < 1.0) {
            return Err(format!(
                "prior_genuine is {}, expected a value in (0, 1)",
                self.prior_genuine
            ));
        }
        Ok(())
    }
}

/// p·L_gen / (p·L_gen + (1 − p)·L_imp) from log-likelihoods, without overflow.
pub fn pic_from_logs(log_gen: f64, log_imp: f64, prior_genuine: f64) -> f64 {
    let z = (log_imp + (1.0 - prior_genuine).ln()) - (log_gen + prior_genuine.ln());
    if z > 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pic_is_stable_far_in_the_tails_and_uses_the_prior() {
        assert_eq!(pic_from_logs(-1e4, -2e4, 0.5), 1.0);
        assert_eq!(pic_from_logs(-2e4, -1e4, 0.5), 0.0);
        assert!((pic_from_logs(-3.0, -3.0, 0.5) - 0.5).abs() < 1e-15);
        assert!((pic_from_logs(-3.0, -3.0, 0.2) - 0.2).abs() < 1e-15);
        // L_gen = 3 L_imp at equal priors → 0.75.
        assert!((pic_from_logs(3f64.ln(), 0.0, 0.5) - 0.75).abs() < 1e-15);
    }
}
