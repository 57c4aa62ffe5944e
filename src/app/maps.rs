//! Drawing an explanation's maps onto a face (the choices and the maps
//! themselves are [`crate::session::maps`]).

use crate::explain::blend::{Colormap, colorize, heat_overlay, hls_blend};
use crate::explain::{RenderParams, face_label};
use image::RgbImage;
use ndarray::Array2;

pub use crate::session::maps::{MapChoice, Maps, RenderMode};

/// Map values scaled to [0, 1] for the colormap.
pub fn to_unit(choice: MapChoice, values: &Array2<f32>) -> Array2<f32> {
    if choice.is_xmap() {
        values.mapv(|v| (v + 1.0) / 2.0)
    } else {
        values.clone()
    }
}

/// The colormap in use for `choice`.
pub fn colormap(choice: MapChoice, render: &RenderParams) -> Colormap {
    if choice.is_xmap() {
        render.xmap_colormap
    } else {
        render.mery_colormap
    }
}

/// Draw a map onto its face as the viewer shows it.
pub fn render(
    face: &RgbImage,
    choice: MapChoice,
    values: &Array2<f32>,
    mode: RenderMode,
    render: &RenderParams,
) -> RgbImage {
    let t = to_unit(choice, values);
    let cmap = colormap(choice, render);
    match mode {
        RenderMode::HlsBlend => hls_blend(face, &t, cmap),
        RenderMode::Heat => heat_overlay(face, &t, cmap, render.opacity),
        RenderMode::MapOnly => colorize(&t, cmap),
    }
}

/// "face A" / "face B" with the slot it came from.
pub fn face_name(face: usize) -> String {
    format!(
        "face {} ({})",
        face_label(face),
        if face == 0 { "probe" } else { "reference" }
    )
}
