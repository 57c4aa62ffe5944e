//! Dense landmarks with MediaPipe FaceMesh (468 points), converted to ONNX.
//! Input `input_1` [1,192,192,3] NHWC RGB /255: a square crop of 1.5× the face
//! box. Outputs: 468×(x, y, z) in crop pixels and a face-presence logit.
//!
//! The crop is cut upright in the frame of the face's alignment transform
//! (so a tilted head is straightened the way FaceMesh expects), which also
//! carries the points straight into the aligned crop (any recogniser's size and template).

use super::align::{Similarity, warp};
use super::error::{PipelineError, Result};
use super::{Face, runtime};
use crate::resources::ModelStore;
use image::RgbImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;
use std::sync::Mutex;

/// FaceMesh's input side in pixels.
pub const MESH_INPUT: u32 = 192;
/// Number of landmarks.
pub const MESH_POINTS: usize = 468;
/// Side of the square crop relative to the larger side of the face box.
pub const CROP_FACTOR: f64 = 1.5;

/// FaceMesh landmarks of one face.
#[derive(Clone, Debug, PartialEq)]
pub struct Mesh {
    /// The 468 points in the original image, pixels.
    pub image: Vec<[f32; 2]>,
    /// The same points in the aligned crop, pixels.
    pub aligned: Vec<[f32; 2]>,
    /// Relative depth from the model (crop pixels, unscaled).
    pub z: Vec<f32>,
    /// Face-presence probability (sigmoid of the model's logit).
    pub presence: f32,
}

/// The FaceMesh landmark model.
pub struct FaceMesh {
    session: Mutex<Session>,
}

/// The transform aligned-crop pixels → FaceMesh input pixels: a square of
/// `CROP_FACTOR`× the face box's larger side, centred on the box centre.
pub fn crop_transform(face: &Face, alignment: &Similarity) -> Similarity {
    let [x, y, w, h] = face.bbox;
    let c = alignment.apply([x + w / 2.0, y + h / 2.0]);
    let side = CROP_FACTOR * w.max(h).max(1.0) as f64 * alignment.scale();
    let k = MESH_INPUT as f64 / side;
    let (ox, oy) = (c[0] as f64 - side / 2.0, c[1] as f64 - side / 2.0);
    Similarity {
        m: [[k, 0.0, -k * ox], [0.0, k, -k * oy]],
    }
}

impl FaceMesh {
    pub fn load(store: &ModelStore) -> Result<FaceMesh> {
        Self::load_threads(store, runtime::cores())
    }

    /// FaceMesh with `threads` intra-op threads.
    pub fn load_threads(store: &ModelStore, threads: usize) -> Result<FaceMesh> {
        Ok(FaceMesh {
            session: Mutex::new(runtime::session_threads(store, "facemesh", threads)?),
        })
    }

    /// Landmarks of `face` in `img`, whose alignment transform (image → crop) is `alignment`.
    pub fn landmarks(&self, img: &RgbImage, face: &Face, alignment: &Similarity) -> Result<Mesh> {
        let to_crop = crop_transform(face, alignment);
        let patch = warp(img, &to_crop.after(alignment), MESH_INPUT, MESH_INPUT);
        let side = MESH_INPUT as usize;
        let mut input = Array4::<f32>::zeros((1, side, side, 3));
        for (x, y, p) in patch.enumerate_pixels() {
            for c in 0..3 {
                input[[0, y as usize, x as usize, c]] = p[c] as f32 / 255.0;
            }
        }
        let err = |e: ort::Error| PipelineError::Inference {
            model: "facemesh".into(),
            reason: e.to_string(),
        };
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs!["input_1" => TensorRef::from_array_view(&input).map_err(err)?])
            .map_err(err)?;
        let (mut points, mut logit) = (None, None);
        for (_, v) in outputs.iter() {
            let (_, data) = v.try_extract_tensor::<f32>().map_err(err)?;
            match data.len() {
                n if n == 3 * MESH_POINTS => points = Some(data.to_vec()),
                1 => logit = Some(data[0]),
                _ => {}
            }
        }
        let bad = |what: &str| PipelineError::Inference {
            model: "facemesh".into(),
            reason: format!("no {what} output"),
        };
        let points = points.ok_or_else(|| bad("1404-value landmark"))?;
        let logit = logit.ok_or_else(|| bad("face-presence"))?;
        let back = to_crop.inverse();
        let to_image = alignment.inverse();
        let aligned: Vec<[f32; 2]> = points
            .chunks_exact(3)
            .map(|p| back.apply([p[0], p[1]]))
            .collect();
        Ok(Mesh {
            image: aligned.iter().map(|&p| to_image.apply(p)).collect(),
            aligned,
            z: points.chunks_exact(3).map(|p| p[2]).collect(),
            presence: 1.0 / (1.0 + (-logit).exp()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_is_a_square_of_one_and_a_half_boxes_around_the_centre() {
        let face = Face {
            bbox: [100.0, 50.0, 80.0, 100.0],
            landmarks5: [[0.0; 2]; 5],
            score: 1.0,
        };
        // Alignment: scale 0.5, shift (−10, 5).
        let al = Similarity {
            m: [[0.5, 0.0, -10.0], [0.0, 0.5, 5.0]],
        };
        let t = crop_transform(&face, &al);
        // Box centre (140, 100) → aligned (60, 55) → crop centre (96, 96).
        let c = t.apply(al.apply([140.0, 100.0]));
        assert!((c[0] - 96.0).abs() < 1e-4 && (c[1] - 96.0).abs() < 1e-4);
        // The crop spans 1.5 × 100 image px = 75 aligned px → 192 crop px.
        assert!((t.scale() - 192.0 / 75.0).abs() < 1e-9);
        let comp = t.after(&al);
        let p = comp.apply([140.0 + 75.0, 100.0]);
        assert!((p[0] - 192.0).abs() < 1e-3 && (p[1] - 96.0).abs() < 1e-3);
    }
}
