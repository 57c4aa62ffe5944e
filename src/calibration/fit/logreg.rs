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

/// ln(1 + e), exactly: below 2^−54 the logarithm rounds to e itself.
fn ln_1p_small(e: f64) -> f64 {
    if e < f64::EPSILON / 4.0 { e } else { e.ln_1p() }
}

/// The weighted negative log-likelihood at (a, b), its gradient and its
/// Hessian, from one pass over the standardised scores. A term's one
/// exponential e^−|η| serves its softplus ln(1 + e^∓η) and its sigmoid.
#[derive(Clone, Copy, Debug, Default)]
struct Pass {
    loss: f64,
    ga: f64,
    gb: f64,
    haa: f64,
    hab: f64,
    hbb: f64,
}

impl Pass {
    /// Loss, gradient and Hessian at (a, b).
    fn at(zp: &[f64], zd: &[f64], w: (f64, f64), a: f64, b: f64) -> Pass {
        Pass::of::<true>(zp, zd, w, a, b)
    }

    /// The loss alone (the rest left at 0), for the line search.
    fn loss_at(zp: &[f64], zd: &[f64], w: (f64, f64), a: f64, b: f64) -> f64 {
        Pass::of::<false>(zp, zd, w, a, b).loss
    }

    fn of<const GRAD: bool>(zp: &[f64], zd: &[f64], (wp, wd): (f64, f64), a: f64, b: f64) -> Pass {
        let mut p = Pass::default();
        let lp = p.add_class::<true, GRAD>(zp, wp, a, b);
        let ld = p.add_class::<false, GRAD>(zd, wd, a, b);
        // Each class's loss is summed apart, then the two added.
        p.loss = lp + ld;
        p
    }

    /// Add one class's gradient and Hessian terms (with `GRAD`); return its loss.
    fn add_class<const HP: bool, const GRAD: bool>(
        &mut self,
        zs: &[f64],
        w: f64,
        a: f64,
        b: f64,
    ) -> f64 {
        let y = if HP { 1.0 } else { 0.0 };
        let mut loss = 0.0;
        for &x in zs {
            let eta = a + b * x;
            let e = (-eta.abs()).exp();
            // Softplus of −η for Hp, of η for Hd: x + ln(1 + e) when x > 0.
            let sp = if HP { -eta } else { eta };
            loss += w * if sp > 0.0 {
                sp + ln_1p_small(e)
            } else {
                ln_1p_small(e)
            };
            if !GRAD {
                continue;
            }
            let q = if eta >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            let r = w * (q - y);
            let v = w * q * (1.0 - q);
            self.ga += r;
            self.gb += r * x;
            self.haa += v;
            self.hab += v * x;
            self.hbb += v * x * x;
        }
        loss
    }
}

impl Logistic {
    /// Fit on Hp (`hp`) and Hd (`hd`) scores. Refused when the classes are
    /// separable (the slope would grow without bound) or a class is empty.
    pub fn fit(hp: &[f64], hd: &[f64]) -> Result<Logistic> {
        Logistic::fit_from(hp, hd, None)
    }

    /// [`Logistic::fit`] with Newton's method started at `start` instead of
    /// LR 1 (a fit on similar scores, such as all of them for each
    /// cross-validation fold): the same optimum in fewer steps.
    pub fn fit_from(hp: &[f64], hd: &[f64], start: Option<Logistic>) -> Result<Logistic> {
        if hp.is_empty() || hd.is_empty() {
            return Err(CalibrationError::TooFewPairs(
                "logistic regression needs scores of both classes".into(),
            ));
        }
        let w = (0.5 / hp.len() as f64, 0.5 / hd.len() as f64);
        // Centre and scale the score for a well-conditioned Hessian.
        let all = || hp.iter().chain(hd);
        let n = (hp.len() + hd.len()) as f64;
        let mean = all().sum::<f64>() / n;
        let sd = (all().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
        // NaN-safe: a NaN spread is refused too.
        if sd.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(CalibrationError::LrFit(
                "logistic regression: every score is the same".into(),
            ));
        }
        let z = |v: &[f64]| v.iter().map(|s| (s - mean) / sd).collect::<Vec<f64>>();
        let (zp, zd) = (z(hp), z(hd));
        let pass = |a: f64, b: f64| Pass::at(&zp, &zd, w, a, b);
        // ln LR = A + B·s = (A + B·mean) + (B·sd)·z.
        let (mut a, mut b) =
            start.map_or((0.0, 0.0), |l| (l.intercept + l.slope * mean, l.slope * sd));
        let mut cur = pass(a, b);
        for _ in 0..200 {
            // Newton step from the gradient and Hessian at (a, b).
            let det = cur.haa * cur.hbb - cur.hab * cur.hab;
            if det.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                return Err(separable());
            }
            let da = (cur.hbb * cur.ga - cur.hab * cur.gb) / det;
            let db = (cur.haa * cur.gb - cur.hab * cur.ga) / det;
            // Halve the step until the loss does not grow (the loss alone
            // while halving, then the gradient where the step ends).
            let mut t = 1.0;
            let mut next = pass(a - t * da, b - t * db);
            if next.loss > cur.loss {
                let mut loss = next.loss;
                while loss > cur.loss && t > 1e-10 {
                    t *= 0.5;
                    loss = Pass::loss_at(&zp, &zd, w, a - t * da, b - t * db);
                }
                next = pass(a - t * da, b - t * db);
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
