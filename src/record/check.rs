//! Bounds on every value of an analysis file that later code trusts, checked
//! when the file is read: face boxes and landmarks against the recorded image
//! size, sizes and counts against sane limits, scores and probabilities in
//! their ranges, map records (face 0/1, plain file names) and table levels
//! 1..5. A crafted or damaged file is refused with the field at fault rather
//! than reaching the report, the chat or the app.

use super::analysis::{Analysis, ExplainabilityTable, ImageRecord};
use super::explanation::PerFace;
use super::face::Decision;
use std::path::{Component, Path};

/// Largest image side an analysis may record, pixels (the JPEG format's
/// limit; the pipeline's own decoding limit is lower).
pub const MAX_IMAGE_SIDE: u32 = 65_535;
/// Most faces one image may record as found.
pub const MAX_FACES: usize = 100_000;
/// Most maps, table rows or table columns an analysis may record.
pub const MAX_ITEMS: usize = 10_000;
/// Largest occlusion size, stride or grid step a parameter may record, pixels.
pub const MAX_PARAM_PIXELS: usize = 4_096;

/// A value out of bounds: which field (JSON path) and why.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

type Check = Result<(), FieldError>;

fn bad(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// `v` finite and within `lo..=hi`.
fn within(field: &str, v: f64, lo: f64, hi: f64) -> Check {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(bad(
            field,
            format!("{v} is not a number between {lo} and {hi}"),
        ))
    }
}

fn at_most(field: &str, v: usize, hi: usize) -> Check {
    if v <= hi {
        Ok(())
    } else {
        Err(bad(field, format!("{v} is more than {hi}")))
    }
}

/// A bare file name: one normal path component (no folder, `..`, root or NUL).
fn plain_name(field: &str, name: &str) -> Check {
    let mut parts = Path::new(name).components();
    let ok = matches!(parts.next(), Some(Component::Normal(_)))
        && parts.next().is_none()
        && !name.contains(['/', '\\', '\0']);
    if ok {
        Ok(())
    } else {
        Err(bad(field, format!("{name:?} is not a plain file name")))
    }
}

/// A recorded path whose last component is a plain file name.
fn path_with_name(field: &str, path: &str) -> Check {
    let name = Path::new(path).file_name().and_then(|n| n.to_str());
    match name {
        Some(n) if !path.contains('\0') => plain_name(field, n),
        _ => Err(bad(field, format!("{path:?} does not end in a file name"))),
    }
}

fn per_face_paths(field: &str, p: &PerFace<String>) -> Check {
    for (f, path) in ["A", "B"].iter().zip(p.both()) {
        path_with_name(&format!("{field}.{f}"), path)?;
    }
    Ok(())
}

fn image(i: usize, rec: &ImageRecord) -> Check {
    let field = |name: &str| format!("images[{i}].{name}");
    for (name, v) in [("width", rec.width), ("height", rec.height)] {
        if v == 0 || v > MAX_IMAGE_SIDE {
            return Err(bad(
                field(name),
                format!("{v} px is not an image size (1 to {MAX_IMAGE_SIDE})"),
            ));
        }
    }
    if rec.faces_found == 0 || rec.faces_found > MAX_FACES {
        return Err(bad(
            field("faces_found"),
            format!("{} is not a face count (1 to {MAX_FACES})", rec.faces_found),
        ));
    }
    if rec.face_index >= rec.faces_found {
        return Err(bad(
            field("face_index"),
            format!(
                "face #{} is used but {} were found",
                rec.face_index, rec.faces_found
            ),
        ));
    }
    // A face may reach past the image's edges, but not further than one image size.
    let (w, h) = (rec.width as f64, rec.height as f64);
    let [x, y, bw, bh] = rec.face.bbox.map(f64::from);
    let size = |name: &str, v: f64, side: f64| {
        if v.is_finite() && v > 0.0 && v <= 2.0 * side {
            Ok(())
        } else {
            Err(bad(
                field(name),
                format!(
                    "{v} px is not a face size in a {side} px image (above 0, at most {})",
                    2.0 * side
                ),
            ))
        }
    };
    size("face.box[2] (width)", bw, w)?;
    size("face.box[3] (height)", bh, h)?;
    let outside = |name: &str, v: f64, lo: f64, hi: f64| {
        within(&field(name), v, lo, hi).map_err(|e| FieldError {
            reason: format!(
                "{v} px puts the face outside the {}×{} px image",
                rec.width, rec.height
            ),
            ..e
        })
    };
    outside("face.box[0] (x)", x, -bw, w)?;
    outside("face.box[1] (y)", y, -bh, h)?;
    for (k, p) in rec.face.landmarks5.iter().enumerate() {
        outside(
            &format!("face.landmarks5[{k}][0]"),
            p[0].into(),
            -w,
            2.0 * w,
        )?;
        outside(
            &format!("face.landmarks5[{k}][1]"),
            p[1].into(),
            -h,
            2.0 * h,
        )?;
    }
    within(&field("face.score"), rec.face.score.into(), 0.0, 1.0)
}

fn table(name: &str, t: &ExplainabilityTable) -> Check {
    at_most(
        &format!("{name}.methods (count)"),
        t.methods.len(),
        MAX_ITEMS,
    )?;
    at_most(&format!("{name}.rows (count)"), t.rows.len(), MAX_ITEMS)?;
    for (i, r) in t.rows.iter().enumerate() {
        let field = |f: &str| format!("{name}.rows[{i}].{f}");
        for (m, &l) in &r.levels {
            if !(1..=5).contains(&l) {
                return Err(bad(
                    field(&format!("levels[{m:?}]")),
                    format!("level {l} is not 1 to 5"),
                ));
            }
        }
        within(&field("mean"), r.mean, 1.0, 5.0)?;
        within(&field("ratio_of_ones"), r.ratio_of_ones, 0.0, 1.0)?;
    }
    Ok(())
}

fn explanation(a: &Analysis) -> Check {
    let p = &a.parameters;
    if let Some(c) = &p.aligned_crops {
        per_face_paths("parameters.aligned_crops", c)?;
    }
    if let Some(r) = &p.regions {
        per_face_paths("parameters.regions.files", &r.files)?;
    }
    if let Some(x) = &p.xmap {
        let f = |n: &str| format!("parameters.xmap.{n}");
        for (i, &s) in x.params.patch_sizes.iter().enumerate() {
            within(
                &f(&format!("patch_sizes[{i}]")),
                s as f64,
                1.0,
                MAX_PARAM_PIXELS as f64,
            )?;
        }
        at_most(
            &f("patch_sizes (count)"),
            x.params.patch_sizes.len(),
            MAX_ITEMS,
        )?;
        within(
            &f("stride"),
            x.params.stride as f64,
            1.0,
            MAX_PARAM_PIXELS as f64,
        )?;
        at_most(&f("blur_kernel"), x.params.blur_kernel, MAX_PARAM_PIXELS)?;
        within(
            &f("blur_sigma"),
            x.params.blur_sigma,
            0.0,
            MAX_PARAM_PIXELS as f64,
        )?;
        within(&f("d_orig"), x.d_orig, 0.0, 4.0)?;
    }
    if let Some(m) = &p.mery {
        let f = |n: &str| format!("parameters.mery.{n}");
        within(&f("d"), m.params.d as f64, 1.0, MAX_PARAM_PIXELS as f64)?;
        at_most(&f("nh"), m.params.nh, MAX_PARAM_PIXELS)?;
        within(&f("th"), m.params.th, f64::MIN, f64::MAX)?;
        for (i, &face) in m.params.faces.iter().enumerate() {
            at_most(&f(&format!("faces[{i}]")), face, 1)?;
        }
        at_most(&f("iterations (count)"), m.iterations.len(), 2)?;
        for (i, it) in m.iterations.iter().enumerate() {
            if !["A", "B"].contains(&it.face.as_str()) {
                return Err(bad(
                    f(&format!("iterations[{i}].face")),
                    format!("{:?} is not A or B", it.face),
                ));
            }
        }
    }
    if let Some(r) = &p.render {
        within("parameters.render.opacity", r.opacity.into(), 0.0, 1.0)?;
    }
    checks(p)
}

/// The faithfulness test, greedy maps and disagreements (issue 16).
fn checks(p: &super::ExplanationRecord) -> Check {
    if let Some(g) = &p.greedy {
        within(
            "parameters.greedy.tile",
            g.params.tile as f64,
            1.0,
            MAX_PARAM_PIXELS as f64,
        )?;
    }
    at_most(
        "parameters.disagreements (count)",
        p.disagreements.as_ref().map_or(0, |d| d.len()),
        MAX_ITEMS,
    )?;
    let Some(fr) = &p.faithfulness else {
        return Ok(());
    };
    let f = |n: &str| format!("parameters.faithfulness.{n}");
    within(&f("steps"), fr.params.steps as f64, 2.0, 256.0)?;
    at_most(&f("maps (count)"), fr.maps.len(), MAX_ITEMS)?;
    let curves = fr
        .baselines
        .iter()
        .map(|b| (format!("baselines[{}]", b.face), &b.curves))
        .chain(
            fr.maps
                .iter()
                .map(|m| (format!("maps[{}]", m.name), &m.curves)),
        );
    for (name, c) in curves {
        for (kind, v) in [("deletion", &c.deletion), ("insertion", &c.insertion)] {
            at_most(&f(&format!("{name}.{kind} (count)")), v.len(), 257)?;
            for x in v {
                within(&f(&format!("{name}.{kind}")), *x, -1.01, 1.01)?;
            }
        }
    }
    Ok(())
}

/// Check every bound of `a`; the first value out of bounds is the error.
pub fn check(a: &Analysis) -> Check {
    if a.images.len() != 2 {
        return Err(bad(
            "images",
            format!("{} images are recorded, a comparison has 2", a.images.len()),
        ));
    }
    for (i, rec) in a.images.iter().enumerate() {
        image(i, rec)?;
    }
    // Cosine similarity, with room for rounding.
    within("similarity", a.similarity.into(), -1.001, 1.001)?;
    within("threshold", a.threshold.into(), -1.001, 1.001)?;
    if a.decision != Decision::at(a.similarity, a.threshold) {
        return Err(bad(
            "decision",
            format!(
                "{} does not follow from similarity {} and threshold {}",
                a.decision, a.similarity, a.threshold
            ),
        ));
    }
    if let Some(c) = &a.confidence {
        within("confidence.c_score", c.c_score, 0.0, 1.0)?;
        within("confidence.pic_score", c.pic_score, 0.0, 1.0)?;
        within(
            "confidence.decision_confidence",
            c.decision_confidence,
            0.0,
            1.0,
        )?;
        within("confidence.pic_prior", c.pic_prior, 0.0, 1.0)?;
    }
    for (name, t) in [
        ("explainability_table", &a.explainability_table),
        ("xmap_table", &a.xmap_table),
    ] {
        if let Some(t) = t {
            table(name, t)?;
        }
    }
    at_most("maps (count)", a.maps.len(), MAX_ITEMS)?;
    for (i, m) in a.maps.iter().enumerate() {
        let field = |f: &str| format!("maps[{i}].{f}");
        if m.name.is_empty() || m.name.len() > 100 {
            return Err(bad(
                field("name"),
                "a map's name must have 1 to 100 characters",
            ));
        }
        at_most(&field("image"), m.image, 1)?;
        for (kind, name) in &m.files {
            plain_name(&field(&format!("files[{kind:?}]")), name)?;
        }
    }
    explanation(a)?;
    for (stage, &ms) in &a.timings_ms {
        within(&format!("timings_ms[{stage:?}]"), ms, 0.0, f64::MAX)?;
    }
    Ok(())
}
