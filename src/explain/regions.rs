//! The nine facial regions of the explainability table (DeAndres-Tame et al.
//! §2.2), built from MediaPipe FaceMesh's 468 landmarks carried into the
//! aligned crop. Left/right are the subject's own (MediaPipe's convention):
//! the subject's left eye appears on the right of a non-mirrored photo.
//!
//! Eyes, eyebrows and lips are the ordered outlines of mediapipe's
//! `FACE_LANDMARKS_*` connection sets (`face_landmarker.py`); nose, cheeks and
//! chin are convex hulls of the index sets below (nose: mediapipe's nose
//! connections; cheeks and chin: our choice). Where shapes overlap, the
//! earlier region in [`PRIORITY`] keeps the pixel, so masks never overlap.

use super::ExplainError;
use ndarray::Array2;

pub use crate::record::Region;

/// Which region keeps a pixel where shapes overlap (small, sharply bounded parts first).
pub const PRIORITY: [Region; 9] = [
    Region::LeftEye,
    Region::RightEye,
    Region::LeftEyebrow,
    Region::RightEyebrow,
    Region::Lips,
    Region::Nose,
    Region::LeftCheek,
    Region::RightCheek,
    Region::Chin,
];

/// Subject's left eyebrow outline (mediapipe `FACE_LANDMARKS_LEFT_EYEBROW`: lower edge outer→inner, upper edge inner→outer).
pub const LEFT_EYEBROW: &[usize] = &[276, 283, 282, 295, 285, 336, 296, 334, 293, 300];
/// Subject's right eyebrow outline (`FACE_LANDMARKS_RIGHT_EYEBROW`).
pub const RIGHT_EYEBROW: &[usize] = &[46, 53, 52, 65, 55, 107, 66, 105, 63, 70];
/// Subject's left eye opening (`FACE_LANDMARKS_LEFT_EYE`, as a loop).
pub const LEFT_EYE: &[usize] = &[
    362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398,
];
/// Subject's right eye opening (`FACE_LANDMARKS_RIGHT_EYE`, as a loop).
pub const RIGHT_EYE: &[usize] = &[
    33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
];
/// Outer lip contour (`FACE_LANDMARKS_LIPS`, outer loop).
pub const LIPS: &[usize] = &[
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
];
/// Nose (hull of mediapipe's nose connections: bridge 168–6–197–195–5, tip 4–1–19–94–2, wings and alar base).
pub const NOSE: &[usize] = &[
    168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 294, 278, 344, 440, 275, 45, 220, 115,
    48, 64,
];
/// Subject's left cheek (hull): below the eye (345–349, 329), along the nose (371, 423),
/// beside the mouth (426, 436, 427), the outer cheek (411, 376, 352, 280, 425, 266, 330, 416, 433).
pub const LEFT_CHEEK: &[usize] = &[
    345, 346, 347, 348, 349, 329, 371, 423, 426, 436, 427, 411, 376, 352, 280, 425, 266, 330, 416,
    433,
];
/// Subject's right cheek: the mirror of [`LEFT_CHEEK`].
pub const RIGHT_CHEEK: &[usize] = &[
    116, 117, 118, 119, 120, 100, 142, 203, 206, 216, 207, 187, 147, 123, 50, 205, 36, 101, 192,
    213,
];
/// Chin (hull): below the lower lip (18, 83, 313, 182, 406, 106, 335, 43, 273) down to the jaw
/// (204, 424, 32, 262, 140, 369, 171, 396, 148, 377, 175, 152, 199, 200, 208, 428).
pub const CHIN: &[usize] = &[
    43, 106, 182, 83, 18, 313, 406, 335, 273, 204, 424, 32, 262, 140, 369, 148, 377, 152, 171, 396,
    175, 199, 200, 208, 428,
];

/// How a region's shape is made from its landmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The landmarks in order form the outline.
    Outline,
    /// The convex hull of the landmarks.
    Hull,
}

/// The landmark indices of a region and how they form its shape.
pub fn landmarks(r: Region) -> (&'static [usize], Shape) {
    match r {
        Region::LeftEyebrow => (LEFT_EYEBROW, Shape::Outline),
        Region::RightEyebrow => (RIGHT_EYEBROW, Shape::Outline),
        Region::LeftEye => (LEFT_EYE, Shape::Outline),
        Region::RightEye => (RIGHT_EYE, Shape::Outline),
        Region::Lips => (LIPS, Shape::Outline),
        Region::Nose => (NOSE, Shape::Hull),
        Region::LeftCheek => (LEFT_CHEEK, Shape::Hull),
        Region::RightCheek => (RIGHT_CHEEK, Shape::Hull),
        Region::Chin => (CHIN, Shape::Hull),
    }
}

/// Convex hull (Andrew's monotone chain), counter-clockwise in image coordinates.
pub fn convex_hull(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut p: Vec<[f32; 2]> = points.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f32; 2]>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Even-odd test: is `(x, y)` inside the closed polygon?
pub fn inside(poly: &[[f32; 2]], x: f32, y: f32) -> bool {
    let mut c = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0] {
            c = !c;
        }
    }
    c
}

/// The nine region masks of one aligned face, as a label image plus outlines.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionMasks {
    /// `side`×`side`; 0 = no region, else [`Region::code`].
    pub label: Array2<u8>,
    /// Each region's outline polygon in crop pixels (for drawing).
    pub outlines: Vec<(Region, Vec<[f32; 2]>)>,
}

impl RegionMasks {
    /// Rasterise polygons (pixel centres at integer coordinates); a pixel
    /// claimed by an earlier polygon stays with it. A polygon too thin to
    /// contain a pixel centre (e.g. a closed eye) gets the free pixels under
    /// its vertices instead, so no region that lies on the crop is empty.
    pub fn from_polygons(side: usize, polygons: Vec<(Region, Vec<[f32; 2]>)>) -> RegionMasks {
        let mut label = Array2::<u8>::zeros((side, side));
        for (r, poly) in &polygons {
            let mut n = 0;
            for ((y, x), l) in label.indexed_iter_mut() {
                if *l == 0 && inside(poly, x as f32, y as f32) {
                    *l = r.code();
                    n += 1;
                }
            }
            if n == 0 {
                for p in poly {
                    let (x, y) = (p[0].round(), p[1].round());
                    if x >= 0.0
                        && y >= 0.0
                        && let Some(l) =
                            label.get_mut([y as usize, x as usize]).filter(|l| **l == 0)
                    {
                        *l = r.code();
                    }
                }
            }
        }
        RegionMasks {
            label,
            outlines: polygons,
        }
    }

    /// The regions from 468 FaceMesh points already in crop coordinates.
    pub fn from_mesh(points: &[[f32; 2]], side: usize) -> Result<RegionMasks, ExplainError> {
        if points.len() < 468 {
            return Err(ExplainError::Internal(format!(
                "FaceMesh gave {} points, expected 468",
                points.len()
            )));
        }
        let polys = PRIORITY
            .iter()
            .map(|&r| {
                let (idx, shape) = landmarks(r);
                let pts: Vec<[f32; 2]> = idx.iter().map(|&i| points[i]).collect();
                (
                    r,
                    if shape == Shape::Hull {
                        convex_hull(&pts)
                    } else {
                        pts
                    },
                )
            })
            .collect();
        Ok(Self::from_polygons(side, polys))
    }

    /// The region under pixel `(x, y)`, if any (hover read-out).
    pub fn region_at(&self, x: usize, y: usize) -> Option<Region> {
        self.label.get([y, x]).and_then(|&c| Region::from_code(c))
    }

    /// Boolean mask of one region.
    pub fn mask(&self, r: Region) -> Array2<bool> {
        let c = r.code();
        self.label.mapv(|l| l == c)
    }

    /// Pixels in a region.
    pub fn area(&self, r: Region) -> usize {
        let c = r.code();
        self.label.iter().filter(|&&l| l == c).count()
    }

    /// Mean `(x, y)` of a region's pixels.
    pub fn centroid(&self, r: Region) -> Option<[f32; 2]> {
        let c = r.code();
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0usize);
        for ((y, x), &l) in self.label.indexed_iter() {
            if l == c {
                sx += x as f64;
                sy += y as f64;
                n += 1;
            }
        }
        (n > 0).then(|| [(sx / n as f64) as f32, (sy / n as f64) as f32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hull_of_a_square_with_an_inner_point() {
        let h = convex_hull(&[[0.0, 0.0], [2.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 2.0]]);
        assert_eq!(h.len(), 4);
        assert!(!h.contains(&[1.0, 1.0]));
    }

    #[test]
    fn rasterised_rectangle_has_the_expected_pixels() {
        let rect = vec![[1.5, 2.5], [5.5, 2.5], [5.5, 4.5], [1.5, 4.5]];
        let m = RegionMasks::from_polygons(8, vec![(Region::Nose, rect)]);
        assert_eq!(m.area(Region::Nose), 4 * 2); // x 2..=5, y 3..=4
        assert_eq!(m.region_at(2, 3), Some(Region::Nose));
        assert_eq!(m.region_at(1, 3), None);
        assert_eq!(m.region_at(100, 3), None);
    }

    #[test]
    fn earlier_polygons_keep_overlapping_pixels() {
        let a = vec![[-0.5, -0.5], [3.5, -0.5], [3.5, 3.5], [-0.5, 3.5]];
        let b = vec![[1.5, 1.5], [5.5, 1.5], [5.5, 5.5], [1.5, 5.5]];
        let m = RegionMasks::from_polygons(6, vec![(Region::LeftEye, a), (Region::Chin, b)]);
        assert_eq!(m.area(Region::LeftEye), 16);
        assert_eq!(m.area(Region::Chin), 16 - 4);
        assert!(
            m.mask(Region::LeftEye)
                .iter()
                .zip(m.mask(Region::Chin).iter())
                .all(|(a, b)| !(*a && *b))
        );
    }

    #[test]
    fn codes_round_trip() {
        for r in Region::ALL {
            assert_eq!(Region::from_code(r.code()), Some(r));
        }
        assert_eq!(Region::from_code(0), None);
    }
}
