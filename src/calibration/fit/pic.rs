//! Fitting the PIC-Score model ([`crate::calibration::pic`]): a Gaussian
//! KDE of the genuine and of the impostor similarity scores, tabulated.

use super::kde::Kde;
use crate::calibration::CalibrationError;
use crate::calibration::pic::{EQUAL_PRIOR, GRID_POINTS, GRID_START, GRID_STEP, PicModel};

impl PicModel {
    /// Build both KDEs from the scores and tabulate them.
    pub fn fit(genuine: &[f64], impostor: &[f64]) -> Result<PicModel, CalibrationError> {
        let kg = Kde::scott(genuine, "genuine")?;
        let ki = Kde::scott(impostor, "impostor")?;
        Ok(PicModel {
            prior_genuine: EQUAL_PRIOR,
            bandwidth_rule: "scott".into(),
            bandwidth_genuine: kg.bandwidth(),
            bandwidth_impostor: ki.bandwidth(),
            genuine: kg.log_grid(GRID_START, GRID_STEP, GRID_POINTS),
            impostor: ki.log_grid(GRID_START, GRID_STEP, GRID_POINTS),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::calibration::pic::{PicModel, pic_from_logs};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// n draws of N(mu, sigma²) by the Box–Muller transform.
    fn normal(rng: &mut ChaCha8Rng, mu: f64, sigma: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
                mu + sigma * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
            })
            .collect()
    }

    fn normal_log_pdf(x: f64, mu: f64, sigma: f64) -> f64 {
        -0.5 * ((x - mu) / sigma).powi(2) - (sigma * (2.0 * std::f64::consts::PI).sqrt()).ln()
    }

    #[test]
    fn pic_matches_the_closed_form_likelihood_ratio() {
        // Genuine ~ N(0.6, 0.1), impostor ~ N(0.1, 0.08): the KDE of n samples
        // tends to N(μ, σ² + h²); compare with that and with the true ratio.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (gm, gs, im, is) = (0.6, 0.1, 0.1, 0.08);
        let g = normal(&mut rng, gm, gs, 20_000);
        let i = normal(&mut rng, im, is, 40_000);
        let m = PicModel::fit(&g, &i).unwrap();
        let (hg, hi) = (m.bandwidth_genuine, m.bandwidth_impostor);
        let (sg, si) = ((gs * gs + hg * hg).sqrt(), (is * is + hi * hi).sqrt());
        for s in [0.2, 0.25, 0.3, 0.35, 0.4, 0.45] {
            let smoothed = pic_from_logs(normal_log_pdf(s, gm, sg), normal_log_pdf(s, im, si), 0.5);
            let truth = pic_from_logs(normal_log_pdf(s, gm, gs), normal_log_pdf(s, im, is), 0.5);
            assert!(
                (m.pic(s) - smoothed).abs() < 0.03,
                "s={s}: {} vs {smoothed}",
                m.pic(s)
            );
            assert!(
                (m.pic(s) - truth).abs() < 0.05,
                "s={s}: {} vs {truth}",
                m.pic(s)
            );
        }
        assert!(m.pic(0.9) > 0.999 && m.pic(-0.2) < 0.001);
    }
}
