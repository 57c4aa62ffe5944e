//! What-if occlusion (issue 16): hide any area of either aligned face — a
//! brush stroke, a facial region — fill it (grey, black, blurred or noise:
//! the patch colours the X-Map paper compares), and embed the result again to
//! read the pair's new similarity. One forward pass for the faces that are
//! hidden (the other keeps its embedding). Same masks and fill → same number
//! (the noise is seeded).

use crate::pipeline::{Embedder, FaceAnalysis, PipelineError};
use ndarray::{Array2, Array3, Axis, stack};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What a hidden area is filled with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fill {
    /// Mid grey (128).
    #[default]
    Grey,
    /// Black (0), as the X-Maps and the deletion test.
    Black,
    /// The face itself blurred (Gaussian, σ = [`BLUR_SIGMA`]).
    Blur,
    /// Seeded uniform noise.
    Noise,
}

/// σ of the blur fill, pixels: enough to remove the detail of an eye.
pub const BLUR_SIGMA: f64 = 6.0;

/// Seed of the noise fill.
pub const NOISE_SEED: u64 = 16;

impl Fill {
    pub const ALL: [Fill; 4] = [Fill::Grey, Fill::Black, Fill::Blur, Fill::Noise];

    pub fn label(self) -> &'static str {
        match self {
            Fill::Grey => "grey",
            Fill::Black => "black",
            Fill::Blur => "blur",
            Fill::Noise => "noise",
        }
    }
}

/// The fill image of a face (`[3, h, w]`, raw 0–255) for `fill`.
pub fn fill_image(face: &Array3<f32>, fill: Fill) -> Array3<f32> {
    match fill {
        Fill::Grey => Array3::from_elem(face.dim(), 128.0),
        Fill::Black => Array3::zeros(face.dim()),
        Fill::Noise => {
            let mut rng = ChaCha8Rng::seed_from_u64(NOISE_SEED);
            Array3::from_shape_simple_fn(face.dim(), || rng.random_range(0..=255u8) as f32)
        }
        Fill::Blur => {
            let n = (6.0 * BLUR_SIGMA).ceil() as usize | 1;
            let k = super::filter::gaussian_kernel(n, BLUR_SIGMA, super::filter::KernelNorm::Sum);
            let planes: Vec<Array2<f32>> = face
                .axis_iter(Axis(0))
                .map(|p| super::filter::separable(&p.to_owned(), &k))
                .collect();
            let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
            stack(Axis(0), &views).unwrap_or_else(|_| face.clone())
        }
    }
}

/// `face` with the pixels where `mask` is true taken from `fill`.
pub fn apply(face: &Array3<f32>, mask: &Array2<bool>, fill: &Array3<f32>) -> Array3<f32> {
    let mut out = face.clone();
    for (c, mut plane) in out.axis_iter_mut(Axis(0)).enumerate() {
        for ((y, x), v) in plane.indexed_iter_mut() {
            if mask.get((y, x)).copied().unwrap_or(false) {
                *v = fill[[c, y, x]];
            }
        }
    }
    out
}

/// The similarity of the pair with the masked areas of each face filled:
/// faces whose mask is empty (or `None`) keep their embedding `originals`.
/// One forward pass over the changed faces.
pub fn similarity(
    embedder: &Embedder,
    faces: [&Array3<f32>; 2],
    originals: [&[f32]; 2],
    masks: [Option<&Array2<bool>>; 2],
    fill: Fill,
) -> Result<f32, PipelineError> {
    let changed: Vec<usize> = (0..2)
        .filter(|&f| masks[f].is_some_and(|m| m.iter().any(|&b| b)))
        .collect();
    let mut e: [Vec<f32>; 2] = [originals[0].to_vec(), originals[1].to_vec()];
    if !changed.is_empty() {
        let images: Vec<Array3<f32>> = changed
            .iter()
            .map(|&f| {
                let mask = masks[f].expect("changed faces have masks");
                apply(faces[f], mask, &fill_image(faces[f], fill))
            })
            .collect();
        let views: Vec<_> = images.iter().map(|i| i.view()).collect();
        let batch = stack(Axis(0), &views).map_err(|e| PipelineError::Inference {
            model: embedder.name().into(),
            reason: e.to_string(),
        })?;
        let out = embedder.embed_tensor(batch.view())?;
        for (row, &f) in out.rows().into_iter().zip(&changed) {
            e[f] = row.to_vec();
        }
    }
    Ok(e[0].iter().zip(&e[1]).map(|(a, b)| a * b).sum())
}

/// [`similarity`] of two analysed faces (their aligned crops and
/// embeddings, from the recogniser `embedder` runs): what the app's worker
/// answers to a what-if job.
pub fn of_faces(
    embedder: &Embedder,
    faces: [&FaceAnalysis; 2],
    masks: [Option<&Array2<bool>>; 2],
    fill: Fill,
) -> Result<f32, PipelineError> {
    let t = faces.map(|f| super::occlusion::face_tensor(&f.aligned.crop));
    similarity(
        embedder,
        [&t[0], &t[1]],
        [&faces[0].embedding, &faces[1].embedding],
        masks,
        fill,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_replace_only_the_mask() {
        let face = Array3::from_shape_fn((3, 8, 8), |(c, y, x)| (c * 64 + y * 8 + x) as f32);
        let mut mask = Array2::from_elem((8, 8), false);
        mask[[2, 3]] = true;
        for fill in Fill::ALL {
            let f = fill_image(&face, fill);
            let out = apply(&face, &mask, &f);
            for c in 0..3 {
                for y in 0..8 {
                    for x in 0..8 {
                        let want = if (y, x) == (2, 3) {
                            f[[c, y, x]]
                        } else {
                            face[[c, y, x]]
                        };
                        assert_eq!(out[[c, y, x]], want);
                    }
                }
            }
        }
        assert_eq!(fill_image(&face, Fill::Grey)[[1, 0, 0]], 128.0);
        assert_eq!(
            fill_image(&face, Fill::Noise),
            fill_image(&face, Fill::Noise)
        );
        // The blur keeps a flat image flat.
        let flat = Array3::from_elem((3, 8, 8), 77.0f32);
        assert!(
            fill_image(&flat, Fill::Blur)
                .iter()
                .all(|v| (v - 77.0).abs() < 1e-3)
        );
    }
}
