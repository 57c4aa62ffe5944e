//! Turning RGB images into egui textures.

use egui::{ColorImage, TextureHandle, TextureOptions};
use image::RgbImage;

/// An egui colour image of an RGB image.
pub fn color_image(img: &RgbImage) -> ColorImage {
    ColorImage::from_rgb([img.width() as usize, img.height() as usize], img.as_raw())
}

/// Upload an RGB image as a texture.
pub fn upload(ctx: &egui::Context, name: &str, img: &RgbImage) -> TextureHandle {
    ctx.load_texture(name, color_image(img), TextureOptions::LINEAR)
}

/// The thumbnail and aligned crop of each slot's image, uploaded once per
/// analysed image (keyed by the slot's generation).
#[derive(Default)]
pub struct SlotTextures {
    slots: [Option<(u64, TextureHandle, TextureHandle)>; 2],
}

impl SlotTextures {
    /// Upload the textures of any slot whose image changed since the last call.
    pub fn sync(&mut self, ctx: &egui::Context, session: &crate::session::Session) {
        for slot in crate::session::Slot::BOTH {
            let s = &session.slots[slot.index()];
            let Some(a) = &s.analysis else {
                continue;
            };
            if self.slots[slot.index()]
                .as_ref()
                .is_some_and(|(g, _, _)| *g == s.loaded)
            {
                continue;
            }
            let name = format!("{}-{}", slot.label(), s.loaded);
            let thumb = upload(ctx, &format!("{name}-thumb"), a.image.preview());
            let crop = upload(ctx, &format!("{name}-crop"), &a.aligned.crop);
            self.slots[slot.index()] = Some((s.loaded, thumb, crop));
        }
    }

    /// The thumbnail of a slot's image.
    pub fn thumb(&self, slot: usize) -> Option<&TextureHandle> {
        self.slots[slot].as_ref().map(|(_, t, _)| t)
    }

    /// The aligned face crop of a slot.
    pub fn crop(&self, slot: usize) -> Option<&TextureHandle> {
        self.slots[slot].as_ref().map(|(_, _, c)| c)
    }
}
