//! Turning RGB images into egui textures.

use egui::{ColorImage, TextureHandle, TextureOptions};
use image::RgbImage;

/// An egui colour image of an RGB image.
pub fn color_image(img: &RgbImage) -> ColorImage {
    ColorImage::from_rgb([img.width() as usize, img.height() as usize], img.as_raw())
}

/// Upload an RGB image as a texture; `thumb_side` > 0 downsizes it first.
pub fn upload(ctx: &egui::Context, name: &str, img: &RgbImage, thumb_side: u32) -> TextureHandle {
    let (w, h) = img.dimensions();
    let img = if thumb_side > 0 && w.max(h) > thumb_side {
        let s = thumb_side as f32 / w.max(h) as f32;
        image::imageops::thumbnail(
            img,
            ((w as f32 * s) as u32).max(1),
            ((h as f32 * s) as u32).max(1),
        )
    } else {
        img.clone()
    };
    ctx.load_texture(name, color_image(&img), TextureOptions::LINEAR)
}
