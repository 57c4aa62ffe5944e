//! A log-density tabulated on a fine grid, as stored in a calibration file
//! and read back by linear interpolation. The densities are estimated by a
//! Gaussian KDE when fitting ([`super::fit::kde`]).

use serde::{Deserialize, Serialize};

/// A log-density tabulated on an even grid; read back by linear
/// interpolation, clamped to the grid's ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogDensityGrid {
    pub start: f64,
    pub step: f64,
    pub values: Vec<f64>,
}

impl LogDensityGrid {
    /// ln density at x (x outside the grid takes the nearest end's value).
    pub fn at(&self, x: f64) -> f64 {
        let n = self.values.len();
        if n == 0 {
            return f64::NEG_INFINITY;
        }
        let pos = ((x - self.start) / self.step).clamp(0.0, (n - 1) as f64);
        let i = (pos.floor() as usize).min(n.saturating_sub(2));
        if n == 1 {
            return self.values[0];
        }
        let t = pos - i as f64;
        self.values[i] * (1.0 - t) + self.values[i + 1] * t
    }

    /// Problems that make the grid unusable (for reading files).
    pub fn check(&self) -> Result<(), String> {
        if self.values.len() < 2 {
            return Err("a density grid needs at least two values".into());
        }
        if self.step.is_nan() || self.step <= 0.0 || !self.start.is_finite() {
            return Err(format!(
                "a density grid has start {} and step {}",
                self.start, self.step
            ));
        }
        if self.values.iter().any(|v| !v.is_finite()) {
            return Err("a density grid holds a non-finite value".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_interpolates_and_clamps() {
        let g = LogDensityGrid {
            start: 0.0,
            step: 0.5,
            values: vec![0.0, 1.0, 3.0],
        };
        assert_eq!(g.at(0.25), 0.5);
        assert_eq!(g.at(0.75), 2.0);
        assert_eq!(g.at(-1.0), 0.0);
        assert_eq!(g.at(5.0), 3.0);
        assert_eq!(g.at(1.0), 3.0);
    }
}
