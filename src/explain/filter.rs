//! Separable Gaussian filtering of 2-D maps with OpenCV's default border
//! (reflect-101), used by the X-Maps (blur k=5, σ=5) and the Mery & Morris maps
//! (nh-tap Gaussian, peak 1, σ=nh/8.5).

use ndarray::Array2;

/// How a Gaussian kernel is scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelNorm {
    /// Taps sum to 1 (OpenCV `GaussianBlur`).
    Sum,
    /// Centre tap is 1 (Mery's `gaussian_kernel(..., type='Max')`).
    Peak,
}

/// A 1-D Gaussian of `n` taps (centred; `n` odd) with standard deviation `sigma`.
pub fn gaussian_kernel(n: usize, sigma: f64, norm: KernelNorm) -> Vec<f64> {
    let c = (n as f64 - 1.0) / 2.0;
    let mut k: Vec<f64> = (0..n)
        .map(|i| (-((i as f64 - c).powi(2)) / (2.0 * sigma * sigma)).exp())
        .collect();
    let scale = match norm {
        KernelNorm::Sum => k.iter().sum::<f64>(),
        KernelNorm::Peak => k.iter().cloned().fold(f64::MIN, f64::max),
    };
    if scale > 0.0 {
        k.iter_mut().for_each(|v| *v /= scale);
    }
    k
}

/// Index `i` reflected into `0..n` without repeating the edge (`dcb|abcd|cba`).
pub fn reflect101(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let m = i.rem_euclid(period);
    (if m < n as isize { m } else { period - m }) as usize
}

/// Correlate `map` with `kernel` along rows and then columns (reflect-101 border).
pub fn separable(map: &Array2<f32>, kernel: &[f64]) -> Array2<f32> {
    let (h, w) = map.dim();
    let r = (kernel.len() / 2) as isize;
    let mut tmp = Array2::<f64>::zeros((h, w));
    for y in 0..h {
        for x in 0..w {
            tmp[[y, x]] = kernel
                .iter()
                .enumerate()
                .map(|(k, kv)| kv * map[[y, reflect101(x as isize + k as isize - r, w)]] as f64)
                .sum();
        }
    }
    let mut out = Array2::<f32>::zeros((h, w));
    for y in 0..h {
        for x in 0..w {
            out[[y, x]] = kernel
                .iter()
                .enumerate()
                .map(|(k, kv)| kv * tmp[[reflect101(y as isize + k as isize - r, h), x]])
                .sum::<f64>() as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect101_matches_opencv() {
        let got: Vec<usize> = (-3..8).map(|i| reflect101(i, 5)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
    }

    #[test]
    fn kernels_are_normalised_and_centred() {
        let k = gaussian_kernel(5, 5.0, KernelNorm::Sum);
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(k[0], k[4]);
        let p = gaussian_kernel(161, 161.0 / 8.5, KernelNorm::Peak);
        assert_eq!(p[80], 1.0);
        assert!(
            (p[0] - (-(80.0f64.powi(2)) / (2.0 * (161.0f64 / 8.5).powi(2))).exp()).abs() < 1e-12
        );
    }

    #[test]
    fn a_constant_map_stays_constant_under_a_sum_kernel() {
        let m = Array2::from_elem((9, 7), 2.5f32);
        let out = separable(&m, &gaussian_kernel(5, 5.0, KernelNorm::Sum));
        assert!(out.iter().all(|v| (v - 2.5).abs() < 1e-5));
    }

    #[test]
    fn an_impulse_spreads_into_the_outer_product_of_the_kernel() {
        let mut m = Array2::<f32>::zeros((11, 11));
        m[[5, 5]] = 1.0;
        let k = gaussian_kernel(5, 1.0, KernelNorm::Sum);
        let out = separable(&m, &k);
        assert!((out[[4, 7]] as f64 - k[1] * k[4]).abs() < 1e-7);
        assert_eq!(out[[0, 0]], 0.0);
    }
}
