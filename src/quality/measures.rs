//! The raw quality measures of one face, computed from the detection, the
//! five landmarks, the 468 FaceMesh points and the pixels. No model runs
//! here: the caller brings the mesh. Names follow ISO/IEC 29794-5 as BSI's
//! OFIQ implements it where the standard has the measure; the computations
//! are this project's own (OFIQ's trained sharpness and compression models
//! are not used; compression artefacts are measured as JPEG blockiness).

use crate::pipeline::align::{AlignedFace, Similarity};
use crate::pipeline::facemesh::{Mesh, crop_transform};
use crate::record::Face;
use image::RgbImage;

/// FaceMesh indices: outer eye corners (subject's right, left), mouth
/// corners (right, left), top of the forehead and the chin.
const RIGHT_EYE_OUTER: usize = 33;
const LEFT_EYE_OUTER: usize = 263;
const MOUTH_RIGHT: usize = 61;
const MOUTH_LEFT: usize = 291;
const FOREHEAD: usize = 10;
const CHIN: usize = 152;

/// Luminance at or below this is under-exposed (OFIQ's dark range 0–25).
pub const DARK_MAX: u8 = 25;
/// Luminance at or above this is over-exposed (OFIQ's bright range 247–255).
pub const BRIGHT_MIN: u8 = 247;

/// Raw values of every measure of one face.
#[derive(Clone, Debug, PartialEq)]
pub struct RawMeasures {
    /// Distance between the two eye centres of the five landmarks, in pixels of the original image.
    pub inter_eye_px: f64,
    /// Head yaw, degrees; positive = turned to the subject's left (face points to image right).
    pub yaw_deg: f64,
    /// Head pitch, degrees; positive = chin up.
    pub pitch_deg: f64,
    /// Head roll, degrees; positive = clockwise in the image.
    pub roll_deg: f64,
    /// Variance of the Laplacian of the luminance over the face in the aligned crop.
    pub sharpness: f64,
    /// Fraction of face pixels with luminance ≤ [`DARK_MAX`].
    pub dark_fraction: f64,
    /// Fraction of face pixels with luminance ≥ [`BRIGHT_MIN`].
    pub bright_fraction: f64,
    /// Entropy of the face's luminance histogram, bits (0–8).
    pub dynamic_range_bits: f64,
    /// Fraction of the face (FaceMesh hull area) outside the image.
    pub crop_fraction: f64,
    /// Image borders that cut the face ("top", "bottom", "left", "right").
    pub cut_sides: Vec<&'static str>,
    /// Face box height relative to the image height.
    pub face_height_ratio: f64,
    /// YuNet's detection score.
    pub detector_score: f64,
    /// FaceMesh's face-presence probability.
    pub face_presence: f64,
    /// JPEG blockiness of the face box: see [`blockiness`] (1 = none).
    pub blockiness: f64,
}

type P3 = [f64; 3];

fn sub(a: P3, b: P3) -> P3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: P3, b: P3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn unit(a: P3) -> P3 {
    let n = dot(a, a).sqrt().max(1e-12);
    [a[0] / n, a[1] / n, a[2] / n]
}

/// Yaw, pitch and roll in degrees from the mesh in image coordinates with
/// depth. The face's across axis X runs from the subject's right eye and
/// mouth corners to the left ones, its down axis Y from forehead to chin
/// (made orthogonal to X). Roll is X's angle in the image plane, yaw the
/// angle X leaves the image plane by (the subject's left side further from
/// the camera), pitch the angle Y leaves it by (chin nearer = chin up).
pub fn head_pose(points: &[[f64; 3]]) -> (f64, f64, f64) {
    let mid = |a: usize, b: usize| {
        let (p, q) = (points[a], points[b]);
        [
            (p[0] + q[0]) / 2.0,
            (p[1] + q[1]) / 2.0,
            (p[2] + q[2]) / 2.0,
        ]
    };
    let x = unit(sub(
        mid(LEFT_EYE_OUTER, MOUTH_LEFT),
        mid(RIGHT_EYE_OUTER, MOUTH_RIGHT),
    ));
    let d = sub(points[CHIN], points[FOREHEAD]);
    let k = dot(d, x);
    let y = unit([d[0] - k * x[0], d[1] - k * x[1], d[2] - k * x[2]]);
    let yaw = x[2].clamp(-1.0, 1.0).asin().to_degrees();
    let pitch = (-y[2]).clamp(-1.0, 1.0).asin().to_degrees();
    let roll = x[1].atan2(x[0]).to_degrees();
    (yaw, pitch, roll)
}

/// The mesh as 3-D points in original-image pixels: depth is scaled from
/// FaceMesh's input pixels by the same factor as x and y.
pub fn mesh_points_3d(mesh: &Mesh, face: &Face, alignment: &Similarity) -> Vec<[f64; 3]> {
    let s = crop_transform(face, alignment).scale() * alignment.scale();
    mesh.image
        .iter()
        .zip(&mesh.z)
        .map(|(p, &z)| [p[0] as f64, p[1] as f64, z as f64 / s])
        .collect()
}

/// Convex hull (counter-clockwise in a y-up frame, Andrew's monotone chain).
pub fn convex_hull(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut p: Vec<[f64; 2]> = points.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f64; 2]>> = if pass == 0 {
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

/// Area of a simple polygon (absolute, shoelace formula).
pub fn polygon_area(poly: &[[f64; 2]]) -> f64 {
    let n = poly.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum();
    twice.abs() / 2.0
}

/// Clip a convex polygon to the rectangle `[0, w] × [0, h]` (Sutherland–Hodgman).
pub fn clip_to_rect(poly: &[[f64; 2]], w: f64, h: f64) -> Vec<[f64; 2]> {
    // Each edge: inside test and intersection along one axis.
    let edges: [(usize, f64, bool); 4] =
        [(0, 0.0, true), (0, w, false), (1, 0.0, true), (1, h, false)];
    let mut out = poly.to_vec();
    for (axis, v, keep_above) in edges {
        let inside = |p: &[f64; 2]| {
            if keep_above {
                p[axis] >= v
            } else {
                p[axis] <= v
            }
        };
        let input = std::mem::take(&mut out);
        for i in 0..input.len() {
            let (a, b) = (input[i], input[(i + 1) % input.len()]);
            let (ia, ib) = (inside(&a), inside(&b));
            if ia {
                out.push(a);
            }
            if ia != ib {
                let t = (v - a[axis]) / (b[axis] - a[axis]);
                out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
            }
        }
    }
    out
}

/// Fraction of the hull of `points` outside a `w`×`h` image, and the sides that cut it.
pub fn crop_outside(points: &[[f64; 2]], w: f64, h: f64) -> (f64, Vec<&'static str>) {
    let hull = convex_hull(points);
    let area = polygon_area(&hull);
    if area <= 0.0 {
        return (0.0, Vec::new());
    }
    let inside = polygon_area(&clip_to_rect(&hull, w, h));
    let mut sides = Vec::new();
    let (minx, maxx, miny, maxy) = hull.iter().fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(a, b, c, d), p| (a.min(p[0]), b.max(p[0]), c.min(p[1]), d.max(p[1])),
    );
    for (cut, name) in [
        (miny < 0.0, "top"),
        (maxy > h, "bottom"),
        (minx < 0.0, "left"),
        (maxx > w, "right"),
    ] {
        if cut {
            sides.push(name);
        }
    }
    (((area - inside) / area).clamp(0.0, 1.0), sides)
}

/// Luminance (ITU-R BT.601 weights) of an RGB pixel.
fn luma(p: &image::Rgb<u8>) -> f64 {
    0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64
}

/// The face pixels of the aligned crop: inside the hull of the mesh points
/// (aligned coordinates), one pixel in from its edge so the Laplacian never
/// reaches the background, and taken from inside the image (`in_image` of
/// a crop pixel), so a face cut by the border is measured on what is left.
/// Row-major, one entry per crop pixel.
pub fn face_mask(
    crop: &RgbImage,
    aligned_points: &[[f64; 2]],
    in_image: impl Fn(f64, f64) -> bool,
) -> Vec<bool> {
    let hull = convex_hull(aligned_points);
    let (w, h) = (crop.width() as usize, crop.height() as usize);
    let n = hull.len();
    let inside = |x: f64, y: f64| {
        n >= 3
            && (0..n).all(|i| {
                let (a, b) = (hull[i], hull[(i + 1) % n]);
                (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) >= 0.0
            })
    };
    let mut mask = vec![false; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let (fx, fy) = (x as f64, y as f64);
            mask[y * w + x] = [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)]
                .iter()
                .all(|(dx, dy)| inside(fx + dx, fy + dy) && in_image(fx + dx, fy + dy));
        }
    }
    mask
}

/// Pixel measures over the masked face: Laplacian variance, dark and
/// bright fractions, histogram entropy.
pub fn pixel_measures(crop: &RgbImage, mask: &[bool]) -> (f64, f64, f64, f64) {
    let (w, h) = (crop.width() as usize, crop.height() as usize);
    let lum: Vec<f64> = crop.pixels().map(luma).collect();
    let mut hist = [0u64; 256];
    let (mut n, mut dark, mut bright) = (0u64, 0u64, 0u64);
    let (mut sum, mut sum2) = (0.0, 0.0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !mask[i] {
                continue;
            }
            let v = lum[i];
            let b = v.round().clamp(0.0, 255.0) as u8;
            hist[b as usize] += 1;
            n += 1;
            dark += (b <= DARK_MAX) as u64;
            bright += (b >= BRIGHT_MIN) as u64;
            let lap = lum[i - 1] + lum[i + 1] + lum[i - w] + lum[i + w] - 4.0 * v;
            sum += lap;
            sum2 += lap * lap;
        }
    }
    if n == 0 {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let nf = n as f64;
    let mean = sum / nf;
    let entropy: f64 = hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / nf;
            -p * p.log2()
        })
        .sum();
    (
        (sum2 / nf - mean * mean).max(0.0),
        dark as f64 / nf,
        bright as f64 / nf,
        entropy,
    )
}

/// JPEG block size: the 8×8 DCT blocks of the luminance.
const BLOCK: usize = 8;

/// Blocking artefacts of JPEG-style compression in the face box `[x, y, w, h]`
/// of the original image (ISO/IEC 29794-5 "CompressionArtifacts"; OFIQ uses
/// a trained network, this is the classic block-edge measure after Wu & Yuen's
/// GBIM, 1997, and Wang, Bovik & Evans, 2000). A coarsely quantised 8×8 DCT
/// block is smooth inside and steps at its edges, so the mean absolute
/// luminance step between neighbouring pixels is larger across block edges
/// than inside blocks. For each direction, the steps are averaged per grid
/// phase (column x mod 8, row y mod 8); the phase with the largest mean is
/// the block edge (found rather than assumed at 0, so a JPEG cropped at an
/// odd offset and saved losslessly is still seen), and the measure is the
/// mean of the two directions' ratios of that phase's mean to the mean of
/// the other seven phases, each mean plus one grey level so flat faces
/// stay near 1. About 1 without compression, rising with coarser
/// quantisation. It only sees blocks in the original pixel grid: an image
/// resized or rotated after compression hides them.
pub fn blockiness(img: &RgbImage, bbox: [f32; 4]) -> f64 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let x0 = (bbox[0].floor() as i64).clamp(0, w);
    let y0 = (bbox[1].floor() as i64).clamp(0, h);
    let x1 = ((bbox[0] + bbox[2]).ceil() as i64).clamp(0, w);
    let y1 = ((bbox[1] + bbox[3]).ceil() as i64).clamp(0, h);
    if x1 - x0 < 2 * BLOCK as i64 || y1 - y0 < 2 * BLOCK as i64 {
        return 1.0;
    }
    // Luminance of the box, row-major, computed once.
    let bw = (x1 - x0) as usize;
    let lum: Vec<f64> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| luma(img.get_pixel(x as u32, y as u32)))
        .collect();
    let bh = lum.len() / bw;
    // Sums and counts of |step| per phase, across columns (dx) and rows (dy);
    // phases are taken in image coordinates, where JPEG's grid starts.
    let mut sums = [[0.0f64; BLOCK]; 2];
    let mut counts = [[0u64; BLOCK]; 2];
    for r in 0..bh {
        for c in 0..bw {
            let v = lum[r * bw + c];
            if c + 1 < bw {
                let p = (x0 as usize + c + 1) % BLOCK;
                sums[0][p] += (lum[r * bw + c + 1] - v).abs();
                counts[0][p] += 1;
            }
            if r + 1 < bh {
                let p = (y0 as usize + r + 1) % BLOCK;
                sums[1][p] += (lum[(r + 1) * bw + c] - v).abs();
                counts[1][p] += 1;
            }
        }
    }
    let ratio = |d: usize| {
        let means: Vec<f64> = (0..BLOCK)
            .map(|p| sums[d][p] / counts[d][p].max(1) as f64 + 1.0)
            .collect();
        let edge = (0..BLOCK)
            .max_by(|&a, &b| means[a].total_cmp(&means[b]))
            .unwrap_or(0);
        let inside = means
            .iter()
            .enumerate()
            .filter(|&(p, _)| p != edge)
            .map(|(_, m)| m)
            .sum::<f64>()
            / (BLOCK - 1) as f64;
        means[edge] / inside
    };
    (ratio(0) + ratio(1)) / 2.0
}

/// Every raw measure of one face of an image.
pub fn measure(img: &RgbImage, face: &Face, aligned: &AlignedFace, mesh: &Mesh) -> RawMeasures {
    let lm = &face.landmarks5;
    let inter_eye_px = ((lm[1][0] - lm[0][0]) as f64).hypot((lm[1][1] - lm[0][1]) as f64);
    let (yaw_deg, pitch_deg, roll_deg) = head_pose(&mesh_points_3d(mesh, face, &aligned.transform));
    let aligned_pts: Vec<[f64; 2]> = mesh
        .aligned
        .iter()
        .map(|p| [p[0] as f64, p[1] as f64])
        .collect();
    let back = aligned.transform.inverse();
    let (iw, ih) = (img.width() as f64, img.height() as f64);
    let mask = face_mask(&aligned.crop, &aligned_pts, |x, y| {
        let p = back.apply([x as f32, y as f32]);
        let (px, py) = (p[0] as f64, p[1] as f64);
        px >= 0.0 && py >= 0.0 && px <= iw - 1.0 && py <= ih - 1.0
    });
    let (sharpness, dark_fraction, bright_fraction, dynamic_range_bits) =
        pixel_measures(&aligned.crop, &mask);
    let image_pts: Vec<[f64; 2]> = mesh
        .image
        .iter()
        .map(|p| [p[0] as f64, p[1] as f64])
        .collect();
    let (crop_fraction, cut_sides) =
        crop_outside(&image_pts, img.width() as f64, img.height() as f64);
    RawMeasures {
        inter_eye_px,
        yaw_deg,
        pitch_deg,
        roll_deg,
        sharpness,
        dark_fraction,
        bright_fraction,
        dynamic_range_bits,
        crop_fraction,
        cut_sides,
        face_height_ratio: face.bbox[3] as f64 / img.height().max(1) as f64,
        detector_score: face.score as f64,
        face_presence: mesh.presence as f64,
        blockiness: blockiness(img, face.bbox),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hull_area_and_clipping_of_a_square() {
        let pts = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [2.0, 2.0]];
        let hull = convex_hull(&pts);
        assert_eq!(hull.len(), 4);
        assert!((polygon_area(&hull) - 16.0).abs() < 1e-12);
        // Shifted so a quarter sticks out on the left and the top: 7/16 outside.
        let moved: Vec<[f64; 2]> = pts.iter().map(|p| [p[0] - 1.0, p[1] - 1.0]).collect();
        let (f, sides) = crop_outside(&moved, 100.0, 100.0);
        assert!((f - 7.0 / 16.0).abs() < 1e-12, "{f}");
        assert_eq!(sides, vec!["top", "left"]);
        assert_eq!(crop_outside(&pts, 100.0, 100.0).0, 0.0);
    }

    #[test]
    fn pose_of_a_known_rotated_frame() {
        // A flat face: eyes/mouth at x = ±1, forehead y = −2, chin y = +2,
        // turned 30° about the vertical axis (the left side further away).
        let mut pts = vec![[0.0; 3]; 468];
        let a = 30f64.to_radians();
        let turn = |x: f64, y: f64| [x * a.cos(), y, x * a.sin()];
        pts[RIGHT_EYE_OUTER] = turn(-1.0, -1.0);
        pts[LEFT_EYE_OUTER] = turn(1.0, -1.0);
        pts[MOUTH_RIGHT] = turn(-1.0, 1.0);
        pts[MOUTH_LEFT] = turn(1.0, 1.0);
        pts[FOREHEAD] = turn(0.0, -2.0);
        pts[CHIN] = turn(0.0, 2.0);
        let (yaw, pitch, roll) = head_pose(&pts);
        assert!((yaw - 30.0).abs() < 1e-9 && pitch.abs() < 1e-9 && roll.abs() < 1e-9);
    }

    #[test]
    fn blockiness_sees_steps_on_an_eight_pixel_grid_at_any_offset() {
        // Smooth ramp: no blocks. The same ramp quantised per 8×8 block
        // (constant inside, steps at the edges) and shifted by 3 pixels.
        let ramp = RgbImage::from_fn(64, 64, |x, y| {
            let v = (2 * x + y) as u8;
            image::Rgb([v, v, v])
        });
        let blocky = RgbImage::from_fn(64, 64, |x, y| {
            let (bx, by) = ((x + 3) / 8, (y + 3) / 8);
            let v = (16 * bx + 8 * by) as u8;
            image::Rgb([v, v, v])
        });
        let face = [0.0, 0.0, 64.0, 64.0];
        let r = blockiness(&ramp, face);
        assert!((r - 1.0).abs() < 1e-9, "{r}");
        // Steps of 16 and 8 grey levels on one phase in eight, 0 elsewhere:
        // ratios (16 + 1) / 1 and (8 + 1) / 1.
        let b = blockiness(&blocky, face);
        assert!((b - (17.0 + 9.0) / 2.0).abs() < 1e-9, "{b}");
        // A box too small to hold two blocks says nothing.
        assert_eq!(blockiness(&blocky, [0.0, 0.0, 10.0, 64.0]), 1.0);
    }

    #[test]
    fn laplacian_and_exposure_on_known_pixels() {
        // A checkerboard of 0/255: Laplacian ±1020 everywhere inside.
        let img = RgbImage::from_fn(8, 8, |x, y| {
            let v = if (x + y) % 2 == 0 { 0 } else { 255 };
            image::Rgb([v, v, v])
        });
        let mut mask = vec![false; 64];
        for y in 1..7 {
            for x in 1..7 {
                mask[y * 8 + x] = true;
            }
        }
        let (var, dark, bright, bits) = pixel_measures(&img, &mask);
        assert!((var - 1020.0f64.powi(2)).abs() < 1e-6, "{var}");
        assert_eq!((dark, bright), (0.5, 0.5));
        assert!((bits - 1.0).abs() < 1e-12);
    }
}
