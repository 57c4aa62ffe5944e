//! Logistic-regression calibration (Brümmer's linear calibration of scores
//! to log LRs): ln LR(s) = a + b·s, fitted by maximum likelihood with the two
//! classes weighted equally in total, so the fitted log-odds is a log LR at
//! even prior odds. No regularisation; Newton–Raphson to machine precision.

use crate::calibration::{CalibrationError, Result};

/// ln LR = intercept + slope · score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Logistic {
    pub intercept: f64,
    pub slope: f64,
}

/// ln(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Logistic {
    /// Fit on Hp (`hp`) and Hd (`hd`) scores. Refused when the classes are
    /// separable (the slope would grow without bound) or a class is empty.
    pub fn fit(hp: &[f64], hd: &[f64]) -> Result<Logistic> {
        if hp.is_empty() || hd.is_empty() {
            return Err(CalibrationError::TooFewPairs(
                "logistic regression needs scores of both classes".into(),
            ));
        }
        let (wp, wd) = (0.5 / hp.len() as f64, 0.5 / hd.len() as f64);
        // Centre and scale the score for a well-conditioned Hessian.
        let all = || hp.iter().chain(hd);
        let n = (hp.len() + hd.len()) as f64;
        let mean = all().sum::<f64>() / n;
        let sd = (all().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
        if !(sd > 0.0) {
            return Err(CalibrationError::LrFit(
                "logistic regression: every score is the same".into(),
            ));
        }
        let z = |s: f64| (s - mean) / sd;
        let loss = |a: f64, b: f64| {
            hp.iter()
                .map(|&s| wp * softplus(-(a + b * z(s))))
                .sum::<f64>()
                + hd.iter().map(|&s| wd * softplus(a + b * z(s))).sum::<f64>()
        };
        let (mut a, mut b) = (0.0f64, 0.0f64);
        let mut cur = loss(a, b);
        for _ in 0..200 {
            // Gradient and Hessian of the weighted negative log-likelihood.
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            let mut add = |s: f64, y: f64, w: f64| {
                let x = z(s);
                let p = sigmoid(a + b * x);
                let r = w * (p - y);
                let v = w * p * (1.0 - p);
                ga += r;
                gb += r * x;
                haa += v;
                hab += v * x;
                hbb += v * x * x;
            };
            hp.iter().for_each(|&s| add(s, 1.0, wp));
            hd.iter().for_each(|&s| add(s, 0.0, wd));
            let det = haa * hbb - hab * hab;
            if !(det > 0.0) {
                return Err(separable());
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            // Halve the step until the loss does not grow.
            let mut t = 1.0;
            let mut next = loss(a - t * da, b - t * db);
            while next > cur && t > 1e-10 {
                t *= 0.5;
                next = loss(a - t * da, b - t * db);
            }
            a -= t * da;
            b -= t * db;
            let done = (t * da).abs() < 1e-13 * (1.0 + a.abs())
                && (t * db).abs() < 1e-13 * (1.0 + b.abs());
            cur = next;
            if b.abs() > 1e6 {
                return Err(separable());
            }
            if done {
                return Ok(Logistic {
                    intercept: a - b * mean / sd,
                    slope: b / sd,
                });
            }
        }
        Err(separable())
    }

    /// log10 LR at a score.
    pub fn log10_lr(&self, s: f64) -> f64 {
        (self.intercept + self.slope * s) * std::f64::consts::LOG10_E
    }
}

fn separable() -> CalibrationError {
    CalibrationError::LrFit(
        "logistic regression does not converge: the genuine and impostor scores do not overlap"
            .into(),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// n draws of N(0, 1) by the Box–Muller transform.
    pub(crate) fn std_normal(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
                (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
            })
            .collect()
    }

    #[test]
    fn two_gaussians_of_equal_spread_give_the_linear_log_lr() {
        // Hp ~ N(1, 1), Hd ~ N(−1, 1): ln LR(s) = 2s. Hd mirrors Hp, so the
        // intercept is 0 by symmetry; the slope is 2 up to sampling error.
        let q = std_normal(5, 20_000);
        let hp: Vec<f64> = q.iter().map(|v| v + 1.0).collect();
        let hd: Vec<f64> = hp.iter().map(|v| -v).collect();
        let f = Logistic::fit(&hp, &hd).unwrap();
        assert!(f.intercept.abs() < 1e-9, "{f:?}");
        assert!((f.slope - 2.0).abs() < 0.05, "{f:?}");
        // Doubling a class does not move it: the classes weigh the same.
        let hd2: Vec<f64> = hd.iter().chain(&hd).copied().collect();
        let g = Logistic::fit(&hp, &hd2).unwrap();
        assert!((g.intercept - f.intercept).abs() < 1e-9 && (g.slope - f.slope).abs() < 1e-9);
        assert!((f.log10_lr(0.5) - f.slope * 0.5 * std::f64::consts::LOG10_E).abs() < 1e-9);
    }

    #[test]
    fn separable_classes_are_refused() {
        let e = Logistic::fit(&[0.8, 0.9], &[0.1, 0.2]).unwrap_err();
        assert!(e.to_string().contains("do not overlap"), "{e}");
        assert!(e.to_string().starts_with("likelihood-ratio fit"), "{e}");
    }
}
