//! Gaussian kernel density estimate with Scott's bandwidth (as scipy's
//! `gaussian_kde`, which the PIC-Score reference uses), and its log-density
//! tabulated on a fine grid ([`crate::calibration::kde::LogDensityGrid`]) for
//! storage in a calibration file.

use crate::calibration::CalibrationError;
use crate::calibration::kde::LogDensityGrid;

/// Scott's rule in one dimension: h = σ̂ · n^(−1/5), σ̂ the sample standard
/// deviation with n − 1 in the denominator (scipy's `gaussian_kde` default).
pub fn scott_bandwidth(samples: &[f64]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean = samples.iter().sum::<f64>() / n;
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    var.sqrt() * n.powf(-0.2)
}

/// A 1-D Gaussian KDE over sorted samples.
#[derive(Clone, Debug)]
pub struct Kde {
    samples: Vec<f64>,
    bandwidth: f64,
}

impl Kde {
    /// KDE with Scott's bandwidth; `what` names the samples in errors.
    pub fn scott(samples: &[f64], what: &str) -> Result<Kde, CalibrationError> {
        let bandwidth = scott_bandwidth(samples);
        if samples.len() < 2
            || bandwidth.is_nan()
            || bandwidth <= 0.0
            || samples.iter().any(|x| !x.is_finite())
        {
            return Err(CalibrationError::TooFewPairs(format!(
                "the {what} scores need at least two different finite values for a density estimate (got {})",
                samples.len()
            )));
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        Ok(Kde {
            samples: s,
            bandwidth,
        })
    }

    pub fn bandwidth(&self) -> f64 {
        self.bandwidth
    }

    /// ln of the density at x. Computed as a log-sum-exp over the samples
    /// within (nearest distance + 10 h) of x: every sample left out weighs
    /// less than e^−50 times the nearest one, so the result is exact to
    /// double precision even far in the tails.
    pub fn log_pdf(&self, x: f64) -> f64 {
        let s = &self.samples;
        let h = self.bandwidth;
        let at = s.partition_point(|&v| v < x);
        let nearest = [at.checked_sub(1), (at < s.len()).then_some(at)]
            .into_iter()
            .flatten()
            .map(|i| (s[i] - x).abs())
            .fold(f64::INFINITY, f64::min);
        let reach = nearest + 10.0 * h;
        let lo = s.partition_point(|&v| v < x - reach);
        let hi = s.partition_point(|&v| v <= x + reach);
        let zmin = nearest / h;
        let sum: f64 = s[lo..hi]
            .iter()
            .map(|&v| (-0.5 * (((v - x) / h).powi(2) - zmin * zmin)).exp())
            .sum();
        let norm = (s.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt()).ln();
        sum.ln() - 0.5 * zmin * zmin - norm
    }

    /// Density at x.
    pub fn pdf(&self, x: f64) -> f64 {
        self.log_pdf(x).exp()
    }

    /// The log-density on `n` points from `start` with spacing `step`,
    /// rounded to 4 decimals (0.01 % of the density) to keep files small.
    pub fn log_grid(&self, start: f64, step: f64, n: usize) -> LogDensityGrid {
        let values = (0..n)
            .map(|i| (self.log_pdf(start + step * i as f64) * 1e4).round() / 1e4)
            .collect();
        LogDensityGrid {
            start,
            step,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scott_bandwidth_matches_the_rule() {
        // Samples 1..=5: mean 3, unbiased variance 2.5, n^(−1/5) = 5^(−0.2).
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        let want = 2.5f64.sqrt() * 5f64.powf(-0.2);
        assert!((scott_bandwidth(&s) - want).abs() < 1e-15);
        assert!((Kde::scott(&s, "test").unwrap().bandwidth() - want).abs() < 1e-15);
    }

    #[test]
    fn log_pdf_equals_the_direct_sum() {
        let s = [0.1, 0.15, 0.3, 0.32, 0.5, 0.9];
        let k = Kde::scott(&s, "test").unwrap();
        let h = k.bandwidth();
        for x in [-0.5, 0.0, 0.2, 0.31, 0.7, 1.0, 3.0] {
            let direct: f64 = s
                .iter()
                .map(|v| (-0.5 * ((x - v) / h).powi(2)).exp())
                .sum::<f64>()
                / (s.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
            assert!(
                (k.pdf(x) - direct).abs() <= 1e-12 * direct.max(1e-300),
                "x={x}: {} vs {direct}",
                k.pdf(x)
            );
        }
        // Far in the tail the density underflows but its log stays finite and exact.
        let far = 50.0;
        let want =
            -0.5 * ((far - 0.9) / h).powi(2) - (6.0 * h * (2.0 * std::f64::consts::PI).sqrt()).ln();
        assert!((k.log_pdf(far) - want).abs() < 1e-9 * want.abs());
    }

    #[test]
    fn constant_samples_are_refused() {
        assert!(Kde::scott(&[0.5, 0.5, 0.5], "genuine").is_err());
        assert!(Kde::scott(&[0.5], "genuine").is_err());
    }
}
