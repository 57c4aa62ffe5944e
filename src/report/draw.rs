//! The report's pixels: the photograph's thumbnail with the used face's box.
//! Every loop runs over the image's own pixels, whatever the box says.

use image::{Rgb, RgbImage};

/// `rgb` scaled so its longer side is at most `side` pixels, with the face
/// box `[x, y, w, h]` (original pixels) outlined.
pub fn thumbnail(rgb: RgbImage, bbox: [f32; 4], side: u32) -> RgbImage {
    let scale = (side as f32 / rgb.width().max(rgb.height()).max(1) as f32).min(1.0);
    let (w, h) = (
        ((rgb.width() as f32 * scale).round() as u32).max(1),
        ((rgb.height() as f32 * scale).round() as u32).max(1),
    );
    let mut thumb = if scale < 1.0 {
        image::imageops::resize(&rgb, w, h, image::imageops::FilterType::Triangle)
    } else {
        rgb
    };
    draw_box(&mut thumb, bbox.map(|v| v * scale));
    thumb
}

/// Outline `[x, y, w, h]` in red, 2 px, clipped to the image. Edges outside
/// the image are not drawn, and each edge is walked only over the pixels it
/// shares with the image (a box of any size, even infinite or NaN, costs at
/// most the image's perimeter).
pub fn draw_box(img: &mut RgbImage, bbox: [f32; 4]) {
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    if iw == 0 || ih == 0 || bbox.iter().any(|v| !v.is_finite()) {
        return;
    }
    // Rounded edges in f64, clamped just outside the image before the integer cast.
    let at = |v: f64, n: i64| v.round().clamp(-4.0, n as f64 + 4.0) as i64;
    let [x, y, w, h] = bbox.map(f64::from);
    let (x0, x1) = (at(x, iw), at(x + w, iw));
    let (y0, y1) = (at(y, ih), at(y + h, ih));
    let red = Rgb([255, 0, 0]);
    let mut put = |x: i64, y: i64| {
        if (0..iw).contains(&x) && (0..ih).contains(&y) {
            img.put_pixel(x as u32, y as u32, red);
        }
    };
    let xs = x0.max(0)..=x1.min(iw - 1);
    let ys = y0.max(0)..=y1.min(ih - 1);
    for t in 0..2 {
        for x in xs.clone() {
            put(x, y0 + t);
            put(x, y1 - t);
        }
        for y in ys.clone() {
            put(x0 + t, y);
            put(x1 - t, y);
        }
    }
}

/// PNG bytes of an image.
pub fn encode_png(img: RgbImage) -> Result<Vec<u8>, String> {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the thumbnail: {e}"))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(img: &RgbImage) -> Vec<(u32, u32)> {
        img.enumerate_pixels()
            .filter(|(_, _, p)| p.0 == [255, 0, 0])
            .map(|(x, y, _)| (x, y))
            .collect()
    }

    #[test]
    fn a_box_inside_is_outlined_two_pixels_wide() {
        let mut img = RgbImage::new(20, 20);
        draw_box(&mut img, [2.0, 3.0, 10.0, 8.0]);
        let px = red(&img);
        // Outer ring x 2..=12, y 3..=11 and the ring inside it.
        let ring = |x0: u32, y0: u32, x1: u32, y1: u32| 2 * (x1 - x0 + 1) + 2 * (y1 - y0 - 1);
        assert_eq!(px.len() as u32, ring(2, 3, 12, 11) + ring(3, 4, 11, 10));
        assert!(px.contains(&(2, 3)) && px.contains(&(12, 11)) && px.contains(&(3, 4)));
        assert!(!px.contains(&(4, 5)) && !px.contains(&(1, 3)));
    }

    #[test]
    fn huge_and_non_finite_boxes_finish_at_once_and_stay_inside() {
        let mut img = RgbImage::new(50, 40);
        let start = std::time::Instant::now();
        draw_box(&mut img, [10.0, 5.0, 1e30, 1e30]);
        draw_box(&mut img, [-1e30, -1e30, 2e30, 2e30]);
        draw_box(&mut img, [f32::MAX, 0.0, f32::MAX, 10.0]);
        draw_box(&mut img, [0.0, 0.0, f32::INFINITY, f32::NAN]);
        assert!(start.elapsed().as_secs_f64() < 1.0);
        // The first box's left and top edges are drawn, clipped to the image.
        let px = red(&img);
        assert!(px.contains(&(10, 5)) && px.contains(&(49, 5)) && px.contains(&(10, 39)));
        assert!(px.iter().all(|&(x, _)| x >= 10));
    }
}
