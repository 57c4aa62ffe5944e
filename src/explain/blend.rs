//! Drawing maps onto faces: colormaps built from their published anchor
//! colours, the X-Map HLS colour blend (Knoche et al., Algorithm 2) and a plain
//! heat overlay with opacity.

pub use crate::record::params::Colormap;
use image::{Rgb, RgbImage};
use ndarray::Array2;

const PIYG: [u32; 11] = [
    0x8e0152, 0xc51b7d, 0xde77ae, 0xf1b6da, 0xfde0ef, 0xf7f7f7, 0xe6f5d0, 0xb8e186, 0x7fbc41,
    0x4d9221, 0x276419,
];
const RDBU: [u32; 11] = [
    0x67001f, 0xb2182b, 0xd6604d, 0xf4a582, 0xfddbc7, 0xf7f7f7, 0xd1e5f0, 0x92c5de, 0x4393c3,
    0x2166ac, 0x053061,
];
const VIRIDIS: [u32; 11] = [
    0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c, 0x22a884, 0x44bf70, 0x7ad151,
    0xbddf26, 0xfde725,
];

impl Colormap {
    fn anchors(self) -> &'static [u32; 11] {
        match self {
            Colormap::PiYG => &PIYG,
            Colormap::RdBu => &RDBU,
            Colormap::Viridis => &VIRIDIS,
        }
    }

    /// Colour at `t` ∈ [0, 1] (clamped; NaN maps to the midpoint), RGB in [0, 1].
    pub fn at(self, t: f32) -> [f32; 3] {
        let a = self.anchors();
        let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
        let pos = t * (a.len() - 1) as f32;
        let i = (pos.floor() as usize).min(a.len() - 2);
        let f = pos - i as f32;
        let c = |hex: u32, s: u32| ((hex >> s) & 0xff) as f32 / 255.0;
        let mut out = [0.0; 3];
        for (k, s) in [16u32, 8, 0].into_iter().enumerate() {
            out[k] = c(a[i], s) * (1.0 - f) + c(a[i + 1], s) * f;
        }
        out
    }
}

/// RGB (each in [0,1]) → (hue in [0,1), lightness, HLS saturation), as Python's `colorsys`.
pub fn rgb_to_hls(c: [f32; 3]) -> (f32, f32, f32) {
    let (max, min) = (c[0].max(c[1]).max(c[2]), c[0].min(c[1]).min(c[2]));
    let l = (max + min) / 2.0;
    if max == min {
        return (0.0, l, 0.0);
    }
    let d = max - min;
    let s = if l <= 0.5 {
        d / (max + min)
    } else {
        d / (2.0 - max - min)
    };
    (hue(c, max, d), l, s)
}

/// HSV saturation `(max−min)/max` of an RGB colour.
pub fn hsv_saturation(c: [f32; 3]) -> f32 {
    let (max, min) = (c[0].max(c[1]).max(c[2]), c[0].min(c[1]).min(c[2]));
    if max > 0.0 { (max - min) / max } else { 0.0 }
}

fn hue(c: [f32; 3], max: f32, d: f32) -> f32 {
    let h = if max == c[0] {
        (c[1] - c[2]) / d
    } else if max == c[1] {
        2.0 + (c[2] - c[0]) / d
    } else {
        4.0 + (c[0] - c[1]) / d
    };
    (h / 6.0).rem_euclid(1.0)
}

/// (hue, lightness, saturation) → RGB in [0,1].
pub fn hls_to_rgb(h: f32, l: f32, s: f32) -> [f32; 3] {
    if s == 0.0 {
        return [l; 3];
    }
    let q = if l <= 0.5 {
        l * (1.0 + s)
    } else {
        l + s - l * s
    };
    let p = 2.0 * l - q;
    let channel = |t: f32| {
        let t = t.rem_euclid(1.0);
        if t < 1.0 / 6.0 {
            p + (q - p) * 6.0 * t
        } else if t < 0.5 {
            q
        } else if t < 2.0 / 3.0 {
            p + (q - p) * (2.0 / 3.0 - t) * 6.0
        } else {
            p
        }
    };
    [channel(h + 1.0 / 3.0), channel(h), channel(h - 1.0 / 3.0)]
}

/// Algorithm 2 of Knoche et al. for one pixel: lightness from the face (HLS),
/// hue from the map colour (HLS) and saturation from the map colour (HSV).
pub fn blend_pixel(face: [u8; 3], map_colour: [f32; 3]) -> [u8; 3] {
    let f = face.map(|v| v as f32 / 255.0);
    let (_, l, _) = rgb_to_hls(f);
    let (h, _, _) = rgb_to_hls(map_colour);
    let s = hsv_saturation(map_colour);
    hls_to_rgb(h, l, s).map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// Map value under pixel (x, y); outside the map (a size mismatch) counts as the midpoint.
fn value(t: &Array2<f32>, x: u32, y: u32) -> f32 {
    t.get([y as usize, x as usize]).copied().unwrap_or(0.5)
}

/// X-Map colour blend of a face with a map already scaled to [0,1] (`t`).
pub fn hls_blend(face: &RgbImage, t: &Array2<f32>, cmap: Colormap) -> RgbImage {
    RgbImage::from_fn(face.width(), face.height(), |x, y| {
        Rgb(blend_pixel(face.get_pixel(x, y).0, cmap.at(value(t, x, y))))
    })
}

/// Heat overlay: `(1−α)·face + α·colormap(t)`.
pub fn heat_overlay(face: &RgbImage, t: &Array2<f32>, cmap: Colormap, opacity: f32) -> RgbImage {
    let a = opacity.clamp(0.0, 1.0);
    RgbImage::from_fn(face.width(), face.height(), |x, y| {
        let f = face.get_pixel(x, y).0;
        let c = cmap.at(value(t, x, y));
        Rgb(std::array::from_fn(|k| {
            ((1.0 - a) * f[k] as f32 + a * c[k] * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8
        }))
    })
}

/// The colormap applied to the map alone (no face), e.g. for a legend or export.
pub fn colorize(t: &Array2<f32>, cmap: Colormap) -> RgbImage {
    let (h, w) = t.dim();
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        Rgb(cmap
            .at(t[[y as usize, x as usize]])
            .map(|v| (v * 255.0).round() as u8))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blend_of_a_known_pixel_matches_the_hand_computation() {
        // Face (200,100,50): L = (200/255 + 50/255)/2 = 0.490196.
        // Map (0.3,0.6,0.9): HLS hue = (4 + (0.3−0.6)/0.6)/6 = 210°, HSV saturation = 0.6/0.9 = 2/3.
        // HLS→RGB: q = L(1+S) = 0.816993, p = 2L − q = 0.163399;
        // R = p, G = p + (q−p)·(2/3 − 7/12)·6 = 0.490196, B = q → ×255 = (41.67, 125.0, 208.33).
        assert_eq!(blend_pixel([200, 100, 50], [0.3, 0.6, 0.9]), [42, 125, 208]);
    }

    #[test]
    fn a_grey_map_colour_gives_a_grey_of_the_face_lightness() {
        // Face (10,250,90): L = (250+10)/2/255 → grey 130.
        assert_eq!(blend_pixel([10, 250, 90], [0.5, 0.5, 0.5]), [130, 130, 130]);
    }

    #[test]
    fn pure_green_on_mid_grey() {
        // Face (128,128,128): L = 128/255 (> 0.5); map (0,1,0): hue 120°, S_hsv = 1.
        // q = L + 1 − L = 1, p = 2L − 1 = 1/255 → (1, 255, 1).
        assert_eq!(blend_pixel([128, 128, 128], [0.0, 1.0, 0.0]), [1, 255, 1]);
    }

    #[test]
    fn hls_round_trip() {
        for c in [
            [0.1, 0.7, 0.3],
            [0.9, 0.2, 0.6],
            [0.5, 0.5, 0.9],
            [1.0, 0.0, 0.0],
        ] {
            let (h, l, s) = rgb_to_hls(c);
            let back = hls_to_rgb(h, l, s);
            for k in 0..3 {
                assert!((back[k] - c[k]).abs() < 1e-5, "{c:?} → {back:?}");
            }
        }
    }

    #[test]
    fn colormaps_hit_their_anchors() {
        let hex = |v: u32| {
            [
                (v >> 16) as f32 / 255.0,
                ((v >> 8) & 0xff) as f32 / 255.0,
                (v & 0xff) as f32 / 255.0,
            ]
        };
        assert_eq!(Colormap::PiYG.at(0.0), hex(0x8e0152));
        assert_eq!(Colormap::PiYG.at(1.0), hex(0x276419));
        assert_eq!(Colormap::PiYG.at(0.5), hex(0xf7f7f7));
        assert_eq!(Colormap::Viridis.at(0.1), hex(0x482475));
        // Halfway between the first two RdBu anchors.
        let mid = Colormap::RdBu.at(0.05);
        let (a, b) = (hex(0x67001f), hex(0xb2182b));
        for k in 0..3 {
            assert!((mid[k] - (a[k] + b[k]) / 2.0).abs() < 1e-6);
        }
        // PiYG: green is the high end (similar), magenta the low end.
        let hi = Colormap::PiYG.at(0.95);
        assert!(hi[1] > hi[0] && hi[1] > hi[2]);
    }

    #[test]
    fn overlay_mixes_linearly() {
        let face = RgbImage::from_pixel(1, 1, Rgb([100, 100, 100]));
        let t = Array2::from_elem((1, 1), 1.0f32); // PiYG end: 0x276419 = (39,100,25)
        let out = heat_overlay(&face, &t, Colormap::PiYG, 0.25);
        assert_eq!(out.get_pixel(0, 0).0, [85, 100, 81]); // 0.75·100 + 0.25·(39, 100, 25) = (84.75, 100, 81.25)
    }
}
