//! Alignment: the least-squares similarity transform (Umeyama 1991) of the
//! five detected landmarks onto a recogniser's five-point template (SFace's
//! is the standard 112×112 one), then a bilinear warp.

use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

/// Side of the aligned face crop.
pub const CROP: u32 = 112;

/// The 112×112 five-point template (eyes, nose, mouth corners).
pub const TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// A 2-D similarity transform `p' = s·R·p + t`, stored as the 2×3 matrix
/// `[[a, -b, tx], [b, a, ty]]` with `a = s·cosθ`, `b = s·sinθ`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    pub m: [[f64; 3]; 2],
}

impl Similarity {
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let (x, y) = (p[0] as f64, p[1] as f64);
        let m = &self.m;
        [
            (m[0][0] * x + m[0][1] * y + m[0][2]) as f32,
            (m[1][0] * x + m[1][1] * y + m[1][2]) as f32,
        ]
    }

    pub fn inverse(&self) -> Similarity {
        let (a, b) = (self.m[0][0], self.m[1][0]);
        let (tx, ty) = (self.m[0][2], self.m[1][2]);
        let d = a * a + b * b;
        let (ia, ib) = (a / d, -b / d);
        Similarity {
            m: [
                [ia, -ib, -(ia * tx - ib * ty)],
                [ib, ia, -(ib * tx + ia * ty)],
            ],
        }
    }

    /// `self ∘ first`: apply `first`, then `self`.
    pub fn after(&self, first: &Similarity) -> Similarity {
        let (x, y) = (&self.m, &first.m);
        let mut m = [[0.0; 3]; 2];
        for r in 0..2 {
            m[r][0] = x[r][0] * y[0][0] + x[r][1] * y[1][0];
            m[r][1] = x[r][0] * y[0][1] + x[r][1] * y[1][1];
            m[r][2] = x[r][0] * y[0][2] + x[r][1] * y[1][2] + x[r][2];
        }
        Similarity { m }
    }

    /// Scale factor `s`.
    pub fn scale(&self) -> f64 {
        (self.m[0][0].powi(2) + self.m[1][0].powi(2)).sqrt()
    }
}

/// Least-squares similarity mapping `src` onto `dst` (Umeyama, no reflection).
pub fn umeyama(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Similarity {
    let n = src.len() as f64;
    let mean = |pts: &[[f32; 2]]| {
        let (sx, sy) = pts
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p[0] as f64, b + p[1] as f64));
        (sx / n, sy / n)
    };
    let (mxs, mys) = mean(src);
    let (mxd, myd) = mean(dst);
    // For 2-D similarity the closed form reduces to: a = Σ(x·x' + y·y')/Σ|p|², b = Σ(x·y' − y·x')/Σ|p|².
    let (mut sxx, mut sab, mut sba) = (0.0, 0.0, 0.0);
    for (p, q) in src.iter().zip(dst) {
        let (x, y) = (p[0] as f64 - mxs, p[1] as f64 - mys);
        let (u, v) = (q[0] as f64 - mxd, q[1] as f64 - myd);
        sxx += x * x + y * y;
        sab += x * u + y * v;
        sba += x * v - y * u;
    }
    let (a, b) = if sxx > 0.0 {
        (sab / sxx, sba / sxx)
    } else {
        (1.0, 0.0)
    };
    let tx = mxd - (a * mxs - b * mys);
    let ty = myd - (b * mxs + a * mys);
    Similarity {
        m: [[a, -b, tx], [b, a, ty]],
    }
}

/// The transform taking a face's five landmarks onto the template.
pub fn alignment_transform(landmarks5: &[[f32; 2]; 5]) -> Similarity {
    umeyama(landmarks5, &TEMPLATE)
}

/// Warp `img` into an `out_w`×`out_h` image through `t` (image → output),
/// sampling bilinearly; pixels from outside the image are black.
pub fn warp(img: &RgbImage, t: &Similarity, out_w: u32, out_h: u32) -> RgbImage {
    let inv = t.inverse();
    let (w, h) = (img.width() as i64, img.height() as i64);
    let px = |x: i64, y: i64| -> [f64; 3] {
        if x < 0 || y < 0 || x >= w || y >= h {
            [0.0; 3]
        } else {
            let p = img.get_pixel(x as u32, y as u32);
            [p[0] as f64, p[1] as f64, p[2] as f64]
        }
    };
    RgbImage::from_fn(out_w, out_h, |ox, oy| {
        let m = &inv.m;
        let (fx, fy) = (ox as f64, oy as f64);
        let sx = m[0][0] * fx + m[0][1] * fy + m[0][2];
        let sy = m[1][0] * fx + m[1][1] * fy + m[1][2];
        let (x0, y0) = (sx.floor(), sy.floor());
        let (dx, dy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (p00, p10, p01, p11) = (
            px(x0, y0),
            px(x0 + 1, y0),
            px(x0, y0 + 1),
            px(x0 + 1, y0 + 1),
        );
        let mut out = [0u8; 3];
        for c in 0..3 {
            let v = p00[c] * (1.0 - dx) * (1.0 - dy)
                + p10[c] * dx * (1.0 - dy)
                + p01[c] * (1.0 - dx) * dy
                + p11[c] * dx * dy;
            out[c] = v.round().clamp(0.0, 255.0) as u8;
        }
        Rgb(out)
    })
}

/// An aligned face crop (the recogniser's input size; 112×112 for SFace) with the transform that produced it.
#[derive(Clone, Debug)]
pub struct AlignedFace {
    pub crop: RgbImage,
    pub transform: Similarity,
}

/// Align a face given its five landmarks.
pub fn align(img: &RgbImage, landmarks5: &[[f32; 2]; 5]) -> AlignedFace {
    align_to(img, landmarks5, &TEMPLATE, [CROP, CROP])
}

/// Align a face onto another five-point `template` in a `size` (width,
/// height) crop: a recogniser's own alignment.
pub fn align_to(
    img: &RgbImage,
    landmarks5: &[[f32; 2]; 5],
    template: &[[f32; 2]; 5],
    size: [u32; 2],
) -> AlignedFace {
    let transform = umeyama(landmarks5, template);
    AlignedFace {
        crop: warp(img, &transform, size[0], size[1]),
        transform,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umeyama_recovers_a_known_similarity() {
        let truth = Similarity {
            m: [[0.8, -0.3, 12.0], [0.3, 0.8, -7.0]],
        };
        let src: Vec<[f32; 2]> = TEMPLATE
            .iter()
            .map(|p| [p[0] * 2.0 + 5.0, p[1] * 1.5 - 3.0])
            .collect();
        let dst: Vec<[f32; 2]> = src.iter().map(|p| truth.apply(*p)).collect();
        let est = umeyama(&src, &dst);
        for r in 0..2 {
            for c in 0..3 {
                assert!((est.m[r][c] - truth.m[r][c]).abs() < 1e-4, "{est:?}");
            }
        }
        let back = est.inverse().apply(est.apply([10.0, 20.0]));
        assert!((back[0] - 10.0).abs() < 1e-4 && (back[1] - 20.0).abs() < 1e-4);
    }

    #[test]
    fn warp_with_identity_is_a_copy() {
        let img = RgbImage::from_fn(20, 10, |x, y| Rgb([x as u8 * 10, y as u8 * 20, 7]));
        let id = Similarity {
            m: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        };
        assert_eq!(warp(&img, &id, 20, 10), img);
    }
}
