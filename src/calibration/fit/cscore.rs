//! Fitting the C-Score sigmoid ([`crate::calibration::cscore`]) to the
//! per-bin genuine ratio of the distance histograms (Knoche et al. 2022, §3.1).
//!
//! Bounded non-linear least squares with the `levenberg-marquardt` crate.
//! The reference used scipy `curve_fit(method="dogbox")`; here each parameter
//! is kept inside its box by the transform p = lo + (hi − lo)·σ(u) (σ the
//! logistic function) and Levenberg–Marquardt runs on the unbounded u. The
//! start is the reference's p0 = [max(ratio), threshold, −20, min(ratio)],
//! moved just inside the box where it lies on a bound.

use crate::calibration::CalibrationError;
use crate::calibration::cscore::{Sigmoid, SigmoidFit, logistic};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::storage::Owned;
use nalgebra::{DVector, Dyn, OMatrix, U4, Vector4};

/// Histogram bins on distances [0, 2] (the paper's choice).
pub const DEFAULT_BINS: usize = 400;
/// Starting slope of the fit (the reference's p0k).
pub const START_K: f64 = -20.0;
/// Lower bounds of (L, d0, k, b).
pub const LOWER: [f64; 4] = [0.0, 0.0, -1000.0, -0.5];
/// Upper bounds of (L, d0, k, b).
pub const UPPER: [f64; 4] = [1.5, 2.0, 0.0, 1.0];

/// The per-bin genuine ratio of Knoche Fig. 2: for each of `bins` bins of
/// distances on [0, 2], pos/(pos + neg) of the two class-normalised density
/// histograms; empty bins are 1 below the bin holding the threshold and 0
/// from that bin on (as the reference's `int(threshold / width)` split).
/// Returns (bin centres, ratios).
pub fn ratio_histogram(
    genuine_d: &[f64],
    impostor_d: &[f64],
    threshold_d: f64,
    bins: usize,
) -> (Vec<f64>, Vec<f64>) {
    let width = 2.0 / bins as f64;
    let density = |v: &[f64]| {
        let mut h = vec![0.0; bins];
        let inside = v.iter().filter(|d| (0.0..=2.0).contains(*d)).count().max(1) as f64;
        for &d in v.iter().filter(|d| (0.0..=2.0).contains(*d)) {
            h[((d / width) as usize).min(bins - 1)] += 1.0;
        }
        h.iter_mut().for_each(|c| *c /= inside * width);
        h
    };
    let (pos, neg) = (density(genuine_d), density(impostor_d));
    let split = (threshold_d / width).max(0.0) as usize;
    let ratios = (0..bins)
        .map(|i| {
            let total = pos[i] + neg[i];
            if total > 0.0 {
                pos[i] / total
            } else if i < split {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let centres = (0..bins).map(|i| (i as f64 + 0.5) * width).collect();
    (centres, ratios)
}

/// ∂c/∂(L, d0, k, b) of the sigmoid `s` at d.
fn gradient(s: &Sigmoid, d: f64) -> [f64; 4] {
    let e = logistic(s.k * (d - s.d0));
    let ds = s.l * e * (1.0 - e);
    [e, -ds * s.k, ds * (d - s.d0), 1.0]
}

/// Least-squares problem over the transformed parameters u.
struct Problem<'a> {
    x: &'a [f64],
    y: &'a [f64],
    u: Vector4<f64>,
}

fn to_bounded(u: &Vector4<f64>) -> [f64; 4] {
    std::array::from_fn(|j| LOWER[j] + (UPPER[j] - LOWER[j]) * logistic(u[j]))
}

fn to_unbounded(p: [f64; 4]) -> Vector4<f64> {
    Vector4::from_fn(|j, _| {
        let span = UPPER[j] - LOWER[j];
        let t = ((p[j] - LOWER[j]) / span).clamp(1e-6, 1.0 - 1e-6);
        (t / (1.0 - t)).ln()
    })
}

impl LeastSquaresProblem<f64, Dyn, U4> for Problem<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, U4>;
    type ParameterStorage = Owned<f64, U4>;

    fn set_params(&mut self, u: &Vector4<f64>) {
        self.u.copy_from(u);
    }
    fn params(&self) -> Vector4<f64> {
        self.u
    }
    fn residuals(&self) -> Option<DVector<f64>> {
        let s = Sigmoid::from_array(to_bounded(&self.u));
        Some(DVector::from_iterator(
            self.x.len(),
            self.x.iter().zip(self.y).map(|(&x, &y)| s.eval(x) - y),
        ))
    }
    fn jacobian(&self) -> Option<OMatrix<f64, Dyn, U4>> {
        let p = to_bounded(&self.u);
        let s = Sigmoid::from_array(p);
        // dp/du of the logistic box transform.
        let dp: [f64; 4] =
            std::array::from_fn(|j| (p[j] - LOWER[j]) * (UPPER[j] - p[j]) / (UPPER[j] - LOWER[j]));
        Some(OMatrix::<f64, Dyn, U4>::from_fn(self.x.len(), |i, j| {
            gradient(&s, self.x[i])[j] * dp[j]
        }))
    }
}

/// Fit the sigmoid to (x, y) from the reference's start for `threshold_d`.
pub fn fit_sigmoid(x: &[f64], y: &[f64], threshold_d: f64) -> Result<SigmoidFit, CalibrationError> {
    if x.is_empty() || x.len() != y.len() {
        return Err(CalibrationError::Fit("no histogram bins to fit".into()));
    }
    let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = y.iter().copied().fold(f64::INFINITY, f64::min);
    let start = [max, threshold_d, START_K, min];
    let problem = Problem {
        x,
        y,
        u: to_unbounded(start),
    };
    let (problem, report) = LevenbergMarquardt::new()
        .with_patience(400)
        .minimize(problem);
    let params = Sigmoid::from_array(to_bounded(&problem.u));
    if !params.to_array().iter().all(|v| v.is_finite()) || report.termination.was_usage_issue() {
        return Err(CalibrationError::Fit(format!(
            "the sigmoid fit failed: {:?}",
            report.termination
        )));
    }
    let sse: f64 = x
        .iter()
        .zip(y)
        .map(|(&x, &y)| (params.eval(x) - y).powi(2))
        .sum();
    Ok(SigmoidFit {
        params,
        start,
        lower: LOWER,
        upper: UPPER,
        rms: (sse / x.len() as f64).sqrt(),
        termination: format!("{:?}", report.termination),
        evaluations: report.number_of_evaluations,
    })
}

/// The whole C-Score calibration from genuine and impostor distances.
pub fn fit_cscore(
    genuine_d: &[f64],
    impostor_d: &[f64],
    threshold_d: f64,
    bins: usize,
) -> Result<SigmoidFit, CalibrationError> {
    let (x, y) = ratio_histogram(genuine_d, impostor_d, threshold_d, bins.max(2));
    fit_sigmoid(&x, &y, threshold_d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn fit_recovers_known_parameters() {
        let truth = Sigmoid {
            l: 0.9,
            d0: 0.62,
            k: -25.0,
            b: 0.05,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x: Vec<f64> = (0..400).map(|i| (i as f64 + 0.5) * 0.005).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|&d| truth.eval(d) + rng.random_range(-0.01..0.01))
            .collect();
        let fit = fit_sigmoid(&x, &y, 0.55).unwrap();
        let p = fit.params;
        assert!((p.l - truth.l).abs() < 0.02, "{p:?}");
        assert!((p.d0 - truth.d0).abs() < 0.005, "{p:?}");
        assert!((p.k - truth.k).abs() < 1.5, "{p:?}");
        assert!((p.b - truth.b).abs() < 0.01, "{p:?}");
        assert!(fit.rms < 0.01, "{}", fit.rms);
    }

    #[test]
    fn fit_stays_inside_the_bounds() {
        // A step too sharp for any k in the box: k ends at (or near) its lower bound.
        let x: Vec<f64> = (0..400).map(|i| (i as f64 + 0.5) * 0.005).collect();
        let y: Vec<f64> = x.iter().map(|&d| if d < 0.7 { 1.0 } else { 0.0 }).collect();
        let fit = fit_sigmoid(&x, &y, 0.7).unwrap();
        for (j, v) in fit.params.to_array().iter().enumerate() {
            assert!(*v >= LOWER[j] && *v <= UPPER[j], "{:?}", fit.params);
        }
        assert!((fit.params.d0 - 0.7).abs() < 0.01, "{:?}", fit.params);
        assert!(fit.params.k < -200.0, "{:?}", fit.params);
    }

    #[test]
    fn ratio_histogram_fills_empty_bins_by_side_of_threshold() {
        // 4 bins of width 0.5; genuine only in bin 0, impostor only in bin 2; bins 1 and 3 empty.
        let (x, r) = ratio_histogram(&[0.1, 0.2], &[1.1, 1.2, 1.3], 1.0, 4);
        assert_eq!(x, vec![0.25, 0.75, 1.25, 1.75]);
        assert_eq!(r, vec![1.0, 1.0, 0.0, 0.0]);
        // The empty bin holding the threshold counts as above it (as in the reference).
        let (_, r) = ratio_histogram(&[0.1, 0.2], &[1.1, 1.2, 1.3], 0.8, 4);
        assert_eq!(r, vec![1.0, 0.0, 0.0, 0.0]);
        // Shared bin: class-normalised densities, so class sizes do not matter:
        // genuine 1 of 2 in bin 1, impostor 1 of 4 in bin 1 → (1/2)/(1/2 + 1/4) = 2/3.
        let (_, r) = ratio_histogram(&[0.1, 0.6], &[0.7, 1.1, 1.2, 1.3], 0.4, 4);
        assert!((r[1] - 2.0 / 3.0).abs() < 1e-12, "{r:?}");
        assert_eq!(r[3], 0.0);
    }
}
