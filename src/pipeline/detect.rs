//! Face detection with YuNet (box + 5 landmarks), decoded as SPEC §2 says.

use super::error::{PipelineError, Result};
use super::load::LoadedImage;
use super::runtime;
pub use crate::record::Face;
use crate::resources::ModelStore;
use image::RgbImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;
use std::sync::Mutex;

/// YuNet's fixed input side.
pub const INPUT_SIDE: u32 = 640;
const STRIDES: [u32; 3] = [8, 16, 32];
/// Minimum detection score kept.
pub const SCORE_THRESHOLD: f32 = 0.6;
/// Images no larger than this (longest side, px) are treated as tight crops.
pub const SMALL_SIDE: u32 = 320;
/// IoU above which the weaker of two boxes is suppressed.
pub const NMS_IOU: f32 = 0.3;

impl Face {
    pub fn area(&self) -> f32 {
        self.bbox[2] * self.bbox[3]
    }
    fn iou(&self, o: &Face) -> f32 {
        let (ax2, ay2) = (self.bbox[0] + self.bbox[2], self.bbox[1] + self.bbox[3]);
        let (bx2, by2) = (o.bbox[0] + o.bbox[2], o.bbox[1] + o.bbox[3]);
        let iw = (ax2.min(bx2) - self.bbox[0].max(o.bbox[0])).max(0.0);
        let ih = (ay2.min(by2) - self.bbox[1].max(o.bbox[1])).max(0.0);
        let inter = iw * ih;
        let union = self.area() + o.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
    fn map(&self, f: impl Fn(f32, f32) -> (f32, f32), scale: f32) -> Face {
        let (x, y) = f(self.bbox[0], self.bbox[1]);
        let mut lm = self.landmarks5;
        for p in &mut lm {
            let (a, b) = f(p[0], p[1]);
            *p = [a, b];
        }
        Face {
            bbox: [x, y, self.bbox[2] * scale, self.bbox[3] * scale],
            landmarks5: lm,
            score: self.score,
        }
    }
}

/// The YuNet detector.
pub struct Detector {
    session: Mutex<Session>,
}

impl Detector {
    pub fn load(store: &ModelStore) -> Result<Detector> {
        Self::load_threads(store, runtime::cores())
    }

    /// YuNet with `threads` intra-op threads (1 for a worker that shares
    /// the cores with others, see [`super::ImageWorker`]).
    pub fn load_threads(store: &ModelStore, threads: usize) -> Result<Detector> {
        Ok(Detector {
            session: Mutex::new(runtime::session_threads(store, "yunet", threads)?),
        })
    }

    /// All faces in the image, largest first. Tight crops (a face filling the
    /// frame, e.g. 92×112 studio crops) are retried on a padded canvas.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>> {
        // Small images are nearly always tight crops: try the padded canvas first.
        let small = img.width().max(img.height()) <= SMALL_SIDE;
        let passes: [bool; 2] = if small { [true, false] } else { [false, true] };
        for padded in passes {
            let faces = if padded {
                self.detect_padded(img)?
            } else {
                self.detect_once(img)?
            };
            if !faces.is_empty() {
                return Ok(faces);
            }
        }
        Ok(Vec::new())
    }

    /// Detect on a canvas padded by half the image on each side with the
    /// border's mean colour, so a face that fills the frame is seen whole.
    /// The detector sees the canvas at `INPUT_SIDE`, so an image larger than
    /// half of that is shrunk first: a padded canvas of a huge photo would
    /// otherwise take four times its memory (3 GB for 16,000 × 16,000).
    fn detect_padded(&self, img: &RgbImage) -> Result<Vec<Face>> {
        let half = INPUT_SIDE / 2;
        let shrunk;
        let (img, k) = if img.width().max(img.height()) > half {
            let k = half as f32 / img.width().max(img.height()) as f32;
            let (sw, sh) = (
                ((img.width() as f32 * k).round() as u32).clamp(1, half),
                ((img.height() as f32 * k).round() as u32).clamp(1, half),
            );
            shrunk = image::imageops::thumbnail(img, sw, sh);
            (&shrunk, 1.0 / k)
        } else {
            (img, 1.0)
        };
        let (w, h) = img.dimensions();
        let (px, py) = (w / 2, h / 2);
        let fill = mean_border(img);
        let mut canvas = RgbImage::from_pixel(w + 2 * px, h + 2 * py, fill);
        image::imageops::replace(&mut canvas, img, px as i64, py as i64);
        let faces = self.detect_once(&canvas)?;
        Ok(faces
            .iter()
            .map(|f| f.map(|x, y| ((x - px as f32) * k, (y - py as f32) * k), k))
            .collect())
    }

    /// The faces of a loaded image as detected by `detect`, or an error
    /// naming the file (and the EXIF turn, when one was applied, as a likely cause).
    pub fn detect_in(&self, image: &LoadedImage) -> Result<Vec<Face>> {
        let faces = self.detect(&image.rgb)?;
        if faces.is_empty() {
            let hint = image.exif_turn.as_ref().map_or_else(String::new, |turn| {
                format!(
                    " (the photo was turned upright by its EXIF orientation tag: {turn}; \
                     faces are found only when roughly upright, so the tag may be wrong)"
                )
            });
            return Err(PipelineError::NoFace {
                path: image.path.clone(),
                hint,
            });
        }
        Ok(faces)
    }

    fn detect_once(&self, img: &RgbImage) -> Result<Vec<Face>> {
        let (w, h) = img.dimensions();
        let scale = INPUT_SIDE as f32 / w.max(h) as f32;
        let (sw, sh) = (
            ((w as f32 * scale).round() as u32).clamp(1, INPUT_SIDE),
            ((h as f32 * scale).round() as u32).clamp(1, INPUT_SIDE),
        );
        // Downscaling averages pixel areas (fast, no aliasing); upscaling is bilinear.
        let resized = if scale < 1.0 {
            image::imageops::thumbnail(img, sw, sh)
        } else {
            image::imageops::resize(img, sw, sh, image::imageops::FilterType::Triangle)
        };
        let side = INPUT_SIDE as usize;
        let mut input = Array4::<f32>::zeros((1, 3, side, side));
        // BGR planes, raw 0–255, written row by row through plain slices.
        let raw = resized.as_raw();
        let rw = sw as usize;
        if let Some(planes) = input.as_slice_mut() {
            for (c, plane) in planes.chunks_exact_mut(side * side).enumerate() {
                for (y, row) in raw.chunks_exact(rw * 3).enumerate() {
                    let dst = &mut plane[y * side..y * side + rw];
                    for (d, px) in dst.iter_mut().zip(row.chunks_exact(3)) {
                        *d = px[2 - c] as f32;
                    }
                }
            }
        }
        let err = |e: ort::Error| PipelineError::Inference {
            model: "yunet".into(),
            reason: e.to_string(),
        };
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs!["input" => TensorRef::from_array_view(&input).map_err(err)?])
            .map_err(err)?;
        let mut faces = Vec::new();
        for s in STRIDES {
            let get = |name: &str| -> Result<Vec<f32>> {
                let v =
                    outputs
                        .get(format!("{name}_{s}"))
                        .ok_or_else(|| PipelineError::Inference {
                            model: "yunet".into(),
                            reason: format!("output {name}_{s} missing"),
                        })?;
                Ok(v.try_extract_tensor::<f32>().map_err(err)?.1.to_vec())
            };
            let (cls, obj, bbox, kps) = (get("cls")?, get("obj")?, get("bbox")?, get("kps")?);
            decode_stride(s, &cls, &obj, &bbox, &kps, &mut faces);
        }
        let kept = nms(faces, NMS_IOU);
        let inv = 1.0 / scale;
        let mut out: Vec<Face> = kept
            .iter()
            .map(|f| f.map(|x, y| (x * inv, y * inv), inv))
            .collect();
        out.sort_by(|a, b| b.area().total_cmp(&a.area()));
        Ok(out)
    }
}

/// Decode one stride's outputs (index = row·cols + col) into scored faces.
pub fn decode_stride(
    s: u32,
    cls: &[f32],
    obj: &[f32],
    bbox: &[f32],
    kps: &[f32],
    out: &mut Vec<Face>,
) {
    let cols = (INPUT_SIDE / s) as usize;
    let sf = s as f32;
    for idx in 0..cols * cols {
        let score = (cls[idx].clamp(0.0, 1.0) * obj[idx].clamp(0.0, 1.0)).sqrt();
        if score < SCORE_THRESHOLD {
            continue;
        }
        let (r, c) = ((idx / cols) as f32, (idx % cols) as f32);
        let b = &bbox[idx * 4..idx * 4 + 4];
        let (cx, cy) = ((c + b[0]) * sf, (r + b[1]) * sf);
        let (w, h) = (b[2].exp() * sf, b[3].exp() * sf);
        let k = &kps[idx * 10..idx * 10 + 10];
        let mut lm = [[0.0f32; 2]; 5];
        for (j, p) in lm.iter_mut().enumerate() {
            *p = [(k[2 * j] + c) * sf, (k[2 * j + 1] + r) * sf];
        }
        out.push(Face {
            bbox: [cx - w / 2.0, cy - h / 2.0, w, h],
            landmarks5: lm,
            score,
        });
    }
}

/// Greedy non-maximum suppression, highest score first (ties keep input order).
pub fn nms(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| k.iou(&f) <= iou) {
            kept.push(f);
        }
    }
    kept
}

fn mean_border(img: &RgbImage) -> image::Rgb<u8> {
    let (w, h) = img.dimensions();
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for (x, y, p) in img.enumerate_pixels() {
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            for c in 0..3 {
                sum[c] += p[c] as u64;
            }
            n += 1;
        }
    }
    let n = n.max(1);
    image::Rgb([(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_follows_the_spec_formula() {
        // One anchor at row 2, col 3 of stride 8 with known raw outputs.
        let cols = 80;
        let n = cols * cols;
        let idx = 2 * cols + 3;
        let (mut cls, mut obj) = (vec![0.0; n], vec![0.0; n]);
        let (mut bbox, mut kps) = (vec![0.0; n * 4], vec![0.0; n * 10]);
        cls[idx] = 0.81;
        obj[idx] = 1.5; // clipped to 1
        bbox[idx * 4..idx * 4 + 4].copy_from_slice(&[0.5, 0.25, 0.0, 1.0f32.ln()]);
        kps[idx * 10] = 0.5;
        kps[idx * 10 + 1] = -0.5;
        let mut out = Vec::new();
        decode_stride(8, &cls, &obj, &bbox, &kps, &mut out);
        assert_eq!(out.len(), 1);
        let f = &out[0];
        assert!((f.score - 0.9).abs() < 1e-6);
        let (cx, cy) = ((3.0 + 0.5) * 8.0, (2.0 + 0.25) * 8.0);
        assert!((f.bbox[0] - (cx - 4.0)).abs() < 1e-4 && (f.bbox[1] - (cy - 4.0)).abs() < 1e-4);
        assert_eq!(f.bbox[2], 8.0);
        assert_eq!(f.landmarks5[0], [(0.5 + 3.0) * 8.0, (-0.5 + 2.0) * 8.0]);
    }

    #[test]
    fn nms_suppresses_overlaps_only() {
        let f = |x: f32, s: f32| Face {
            bbox: [x, 0.0, 10.0, 10.0],
            landmarks5: [[0.0; 2]; 5],
            score: s,
        };
        let kept = nms(vec![f(0.0, 0.7), f(1.0, 0.9), f(50.0, 0.8)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].score, 0.8);
    }
}
