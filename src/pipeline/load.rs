//! Image loading: any supported format and colour type to RGB8, EXIF
//! orientation applied, decompression bombs refused, SHA-256 of the bytes kept.

use super::error::{PipelineError, Result};
use crate::resources::hash::sha256_hex;
use image::{ImageDecoder, ImageError, ImageReader, RgbImage};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Largest width or height accepted, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Largest decoder allocation accepted, in bytes.
pub const MAX_ALLOC: u64 = 1 << 30;
/// Longest side of [`LoadedImage::preview`], in pixels.
pub const PREVIEW_SIDE: u32 = 512;

/// A decoded image with the facts a report needs about its file.
#[derive(Clone, Debug)]
pub struct LoadedImage {
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the file bytes.
    pub sha256: String,
    pub file_size: u64,
    /// Upright RGB pixels (EXIF orientation applied).
    pub rgb: RgbImage,
    /// The EXIF orientation turn applied to the pixels, if any (e.g. "rotated 90° clockwise").
    pub exif_turn: Option<String>,
    /// [`LoadedImage::preview`], made on first use.
    preview: std::sync::OnceLock<RgbImage>,
}

impl LoadedImage {
    pub fn width(&self) -> u32 {
        self.rgb.width()
    }
    pub fn height(&self) -> u32 {
        self.rgb.height()
    }
    /// The image at most [`PREVIEW_SIDE`] pixels on its longer side, for
    /// display. Made once, on first use: the app's worker asks for it before
    /// handing the image over, so the UI thread only uploads it.
    pub fn preview(&self) -> &RgbImage {
        self.preview.get_or_init(|| {
            let (w, h) = self.rgb.dimensions();
            if w.max(h) <= PREVIEW_SIDE {
                return self.rgb.clone();
            }
            let s = PREVIEW_SIDE as f32 / w.max(h) as f32;
            let side = |v: u32| ((v as f32 * s) as u32).max(1);
            image::imageops::thumbnail(&self.rgb, side(w), side(h))
        })
    }

    /// File name for display.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Read and decode an image file. Only regular files up to [`MAX_ALLOC`]
/// bytes are read: a device (`/dev/zero`), a pipe or a 50 GB file is refused
/// before a byte of it is held in memory.
pub fn load_image(path: &Path) -> Result<LoadedImage> {
    let read_err = |source| PipelineError::Read {
        path: path.into(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(PipelineError::BadFile {
            path: path.into(),
            reason: "not a regular file (a folder, device or pipe); choose a photo".into(),
        });
    }
    if meta.len() > MAX_ALLOC {
        return Err(too_large(
            path,
            format!("the file is {} MB", meta.len() >> 20),
        ));
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    decode_image(path, bytes)
}

/// Decode image bytes that came from `path` (used for display and errors).
pub fn decode_image(path: &Path, bytes: Vec<u8>) -> Result<LoadedImage> {
    if bytes.is_empty() {
        return Err(PipelineError::Empty { path: path.into() });
    }
    let sha256 = sha256_hex(&bytes);
    let file_size = bytes.len() as u64;
    let corrupt = |e: ImageError| classify(path, e);
    let mut reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| PipelineError::Corrupt {
            path: path.into(),
            reason: e.to_string(),
        })?;
    if reader.format().is_none() {
        return Err(PipelineError::NotAnImage {
            path: path.into(),
            reason: "the file's first bytes match no known image format".into(),
        });
    }
    if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(&bytes) {
        return Err(PipelineError::Corrupt {
            path: path.into(),
            reason: "the JPEG data ends before its end-of-image marker (the file is cut short)"
                .into(),
        });
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(PipelineError::Corrupt {
            path: path.into(),
            reason: format!("zero-size image ({w}×{h})"),
        });
    }
    if w > MAX_SIDE || h > MAX_SIDE || decoder.total_bytes() > MAX_ALLOC {
        return Err(too_large(path, format!("{w}×{h}")));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    Ok(LoadedImage {
        path: path.into(),
        sha256,
        file_size,
        // No copy when the decoder already gave RGB8 (a 16,000² photo is 768 MB).
        rgb: img.into_rgb8(),
        exif_turn: describe_turn(orientation),
        preview: Default::default(),
    })
}

/// What an EXIF orientation does to the stored pixels, in words; `None` when nothing.
fn describe_turn(o: image::metadata::Orientation) -> Option<String> {
    use image::metadata::Orientation::*;
    let s = match o {
        NoTransforms => return None,
        Rotate90 => "rotated 90° clockwise",
        Rotate180 => "rotated 180°",
        Rotate270 => "rotated 90° counter-clockwise",
        FlipHorizontal => "mirrored left to right",
        FlipVertical => "mirrored top to bottom",
        Rotate90FlipH => "rotated 90° clockwise and mirrored",
        Rotate270FlipH => "rotated 90° counter-clockwise and mirrored",
    };
    Some(s.to_string())
}

/// Whether a JPEG's last start-of-scan marker is followed by an end-of-image
/// marker. Decoders fill a cut-short scan with grey silently; a careful tool
/// must not. (Entropy-coded data stuffs every 0xFF, so neither marker can
/// occur inside it; an embedded thumbnail's markers come before the main scan.)
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |m: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == m);
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

fn too_large(path: &Path, detail: String) -> PipelineError {
    PipelineError::TooLarge {
        path: path.into(),
        detail,
        limit: MAX_SIDE,
        max_mb: MAX_ALLOC >> 20,
    }
}

fn classify(path: &Path, e: ImageError) -> PipelineError {
    match e {
        ImageError::Limits(l) => too_large(path, format!("the decoder refused it: {l}")),
        ImageError::Unsupported(u) => PipelineError::NotAnImage {
            path: path.into(),
            reason: u.to_string(),
        },
        other => PipelineError::Corrupt {
            path: path.into(),
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_jpeg_without_its_end_marker_is_incomplete() {
        let mut img = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut img)
            .encode_image(&image::GrayImage::new(16, 16))
            .unwrap();
        assert!(super::jpeg_is_complete(&img));
        assert!(!super::jpeg_is_complete(&img[..img.len() - 2]));
    }
}
