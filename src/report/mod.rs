//! The examiner's report (SPEC §Report): one self-contained, printable HTML
//! file with an analysis's facts, parameters and hashes, the two photographs,
//! the aligned crops and every map embedded as `data:` URIs. No scripts, no
//! external resources. It reproduces the analysis record and recomputes
//! nothing; the only varying content is the optional time stamp.
//! May call: `analysis`, `pipeline` (image decoding, SHA-256), `explain` (labels).

pub mod html;

use crate::explain::face_label;
use crate::pipeline::load::decode_image;
use crate::pipeline::models::sha256_hex;
use crate::record::{Analysis, ExplainabilityTable, ImageRecord, MapRecord};
use html::{code, escape, facts_table, img};
use serde::Serialize;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Longest side of the embedded thumbnails of the original photographs, pixels.
pub const THUMBNAIL_SIDE: u32 = 480;

/// Errors of the report: each names the file or the record at fault.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file the analysis refers to is missing, unreadable or altered.
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// The analysis record itself is inconsistent.
    #[error("the analysis record is inconsistent: {0}")]
    Record(String),
}

/// How to make the report.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// Date and time of the report as printed; `None` prints none, so the same
    /// inputs give a byte-identical file.
    pub timestamp: Option<String>,
    /// Folder holding the crops and maps, when they no longer are where the
    /// analysis says (default: found from the recorded crop paths).
    pub maps_dir: Option<PathBuf>,
    /// The analysis file the report is made from: path as given and SHA-256.
    pub source: Option<(String, String)>,
}

/// A PNG read from disk for embedding.
struct Png {
    path: PathBuf,
    bytes: Vec<u8>,
    sha256: String,
    /// Width and height, pixels.
    size: (u32, u32),
}

impl Png {
    fn figure(&self, alt: &str, caption: &str) -> String {
        format!(
            "<figure>{}<figcaption>{}<br>{}<br>SHA-256 {}</figcaption></figure>",
            img(&self.bytes, alt, "face"),
            escape(caption),
            escape(&file_name(&self.path)),
            code(&self.sha256)
        )
    }
}

fn file_err(path: &Path, reason: impl Into<String>) -> ReportError {
    ReportError::File {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Read a PNG the analysis refers to; it must match the SHA-256 the analysis
/// recorded for it (analyses written before hashes were recorded have none),
/// decode (chunk CRCs checked) and have the size of the aligned crops when
/// `size` is given.
fn read_png(
    path: &Path,
    size: Option<(u32, u32)>,
    recorded: Option<&str>,
) -> Result<Png, ReportError> {
    let bytes = std::fs::read(path).map_err(|e| {
        file_err(
            path,
            format!("cannot read this file the analysis refers to: {e}"),
        )
    })?;
    let sha256 = sha256_hex(&bytes);
    if let Some(want) = recorded.filter(|w| !w.eq_ignore_ascii_case(&sha256)) {
        return Err(file_err(
            path,
            format!(
                "SHA-256 {sha256}, not the {want} the analysis recorded: altered or not this analysis's file"
            ),
        ));
    }
    let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .map_err(|e| file_err(path, format!("not a valid PNG (altered or corrupt): {e}")))?;
    let got = (decoded.width(), decoded.height());
    if let Some(want) = size.filter(|&w| w != got) {
        return Err(file_err(
            path,
            format!(
                "the image is {}×{} pixels, the aligned crops are {}×{}: altered or not this analysis's file",
                got.0, got.1, want.0, want.1
            ),
        ));
    }
    Ok(Png {
        path: path.to_path_buf(),
        bytes,
        sha256,
        size: got,
    })
}

/// The recorded path of face `f`'s aligned crop, if an explanation was run.
fn crop_path(a: &Analysis, f: usize) -> Option<&str> {
    a.parameters
        .aligned_crops
        .as_ref()
        .map(|c| c.get(f).as_str())
}

/// The recorded SHA-256 of face `f`'s aligned crop, if any.
fn crop_sha256(a: &Analysis, f: usize) -> Option<&str> {
    a.parameters
        .aligned_crops_sha256
        .as_ref()
        .map(|c| c.get(f).as_str())
}

/// The folder holding the crops and maps. `compare` records the crops' paths
/// as it wrote them (absolute, or relative to the folder it ran in) and the
/// maps' file names relative to the same folder; when the crop is not there,
/// the folder of the same name beside the analysis, then the analysis's own
/// folder, are tried.
fn maps_folder(a: &Analysis, base_dir: &Path, opts: &ReportOptions) -> PathBuf {
    if let Some(d) = &opts.maps_dir {
        return d.clone();
    }
    let Some(recorded) = crop_path(a, 0).map(Path::new) else {
        return base_dir.to_path_buf();
    };
    let name = recorded.file_name().unwrap_or_default();
    let mut candidates = vec![recorded.to_path_buf()];
    if let Some(dir) = recorded.parent().and_then(Path::file_name) {
        candidates.push(base_dir.join(dir).join(name));
    }
    candidates.push(base_dir.join(name));
    let found = candidates
        .iter()
        .find(|c| c.is_file())
        .unwrap_or(&candidates[0]);
    found.parent().unwrap_or(Path::new("")).to_path_buf()
}

/// Everything embedded from the explanation folder, read and checked up front.
struct Embedded {
    folder: PathBuf,
    crops: Option<[Png; 2]>,
    /// Blend PNG of every map record, in record order.
    maps: Vec<(MapRecord, Png)>,
}

fn read_embedded(
    a: &Analysis,
    base_dir: &Path,
    opts: &ReportOptions,
) -> Result<Embedded, ReportError> {
    let folder = maps_folder(a, base_dir, opts);
    let crop = |f: usize| -> Option<PathBuf> {
        crop_path(a, f).map(|p| folder.join(Path::new(p).file_name().unwrap_or_default()))
    };
    let crops = match (crop(0), crop(1)) {
        (Some(pa), Some(pb)) => {
            let first = read_png(&pa, None, crop_sha256(a, 0))?;
            let second = read_png(&pb, Some(first.size), crop_sha256(a, 1))?;
            Some([first, second])
        }
        (None, None) => None,
        _ => {
            return Err(ReportError::Record(
                "parameters.aligned_crops names only one of the two faces".into(),
            ));
        }
    };
    if crops.is_none() && !a.maps.is_empty() {
        return Err(ReportError::Record(
            "maps are listed but parameters.aligned_crops is missing".into(),
        ));
    }
    let size = crops.as_ref().map(|c| c[0].size);
    let mut maps = Vec::with_capacity(a.maps.len());
    for m in &a.maps {
        if m.image > 1 {
            return Err(ReportError::Record(format!(
                "map {} is of image {}, but there are two images (0 and 1)",
                m.name, m.image
            )));
        }
        let Some(blend) = m.files.get("blend") else {
            return Err(ReportError::Record(format!(
                "map {} of face {} records no blend PNG",
                m.name,
                face_label(m.image)
            )));
        };
        let recorded = m.sha256.get("blend").map(String::as_str);
        maps.push((m.clone(), read_png(&folder.join(blend), size, recorded)?));
    }
    Ok(Embedded {
        folder,
        crops,
        maps,
    })
}

/// A number exactly as the analysis JSON writes it.
fn num<T: Serialize>(v: T) -> String {
    serde_json::to_string(&v).unwrap_or_else(|_| "?".into())
}

/// A probability as its JSON value and a rounded percentage.
fn prob(p: f64) -> String {
    format!("{} (≈ {:.2} %)", num(p), p * 100.0)
}

/// A recorded part as JSON, for [`param_html`].
fn value<T: Serialize>(part: &Option<T>) -> Option<serde_json::Value> {
    part.as_ref().and_then(|p| serde_json::to_value(p).ok())
}

/// A parameter value as HTML: objects as nested tables, strings as they
/// are, the rest as compact JSON.
fn param_html(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(o) => {
            let rows: Vec<(&str, String)> =
                o.iter().map(|(k, v)| (k.as_str(), param_html(v))).collect();
            facts_table(&rows)
        }
        serde_json::Value::String(s) => escape(s),
        v => escape(&v.to_string()),
    }
}

/// Make the report of `analysis`. `base_dir` is the analysis file's folder
/// (where map folders are looked for when not at their recorded paths).
/// A referenced crop or map that is missing or not a valid PNG of the crop's
/// size is an error naming the file; absent parts are stated as absent.
pub fn render(
    analysis: &Analysis,
    base_dir: &Path,
    opts: &ReportOptions,
) -> Result<String, ReportError> {
    let a = analysis;
    if a.images.len() != 2 {
        return Err(ReportError::Record(format!(
            "{} images are recorded, a comparison has 2",
            a.images.len()
        )));
    }
    let embedded = read_embedded(a, base_dir, opts)?;
    let names: Vec<String> = a
        .images
        .iter()
        .map(|i| file_name(Path::new(&i.path)))
        .collect();
    let title = format!("Face comparison report: {} vs {}", names[0], names[1]);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    out.push_str(&header(a, opts));
    out.push_str(&result_section(a));
    out.push_str(&confidence_section(a));
    out.push_str(&images_section(a, base_dir));
    out.push_str(&explanation_section(a, &embedded));
    out.push_str(&tables_section(a));
    out.push_str(&timings_section(a));
    out.push_str(&limits_section(a));
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn header(a: &Analysis, opts: &ReportOptions) -> String {
    let mut rows = vec![
        (
            "Report made by",
            escape(&format!(
                "{} {}, offline",
                crate::SOFTWARE_NAME,
                crate::SOFTWARE_VERSION
            )),
        ),
        (
            "Analysis made by",
            escape(&format!("{} {}", a.software.name, a.software.version)),
        ),
        (
            "Report date and time",
            opts.timestamp.as_deref().map_or_else(
                || "not recorded (made with --no-timestamp, so that the same inputs give the same file)".into(),
                escape,
            ),
        ),
    ];
    if let Some((path, sha)) = &opts.source {
        rows.push(("Analysis file", escape(path)));
        rows.push(("Analysis file SHA-256", code(sha)));
    }
    rows.push(("Analysis schema", escape(&a.schema)));
    format!("<section>\n{}</section>\n", facts_table(&rows))
}

fn result_section(a: &Analysis) -> String {
    let (sim, thr) = (num(a.similarity), num(a.threshold));
    let relation = if a.similarity >= a.threshold {
        "at or above"
    } else {
        "below"
    };
    let rows = [
        (
            "Decision",
            format!(
                "<span class=\"decision\">{}</span>",
                escape(a.decision.as_str())
            ),
        ),
        ("Similarity", format!("<b>{}</b>", escape(&sim))),
        ("Threshold", escape(&thr)),
        ("Threshold source", escape(&a.threshold_source)),
        (
            "Model",
            format!(
                "{}<br>SHA-256 {}",
                escape(&a.model.name),
                code(&a.model.sha256)
            ),
        ),
    ];
    format!(
        "<section>\n<h2>Result</h2>\n{}<p>The similarity is the cosine similarity of the two \
         faces' embeddings by the model above (−1 … 1, higher = more alike). It is {relation} \
         the threshold, so the decision is <b>{}</b>: a match means the model considers both \
         photographs to show the same person.</p>\n</section>\n",
        facts_table(&rows),
        escape(a.decision.as_str())
    )
}

fn confidence_section(a: &Analysis) -> String {
    let mut out = String::from("<section>\n<h2>Calibrated confidence</h2>\n");
    let Some(c) = &a.confidence else {
        out.push_str(
            "<p>Absent: this analysis records no calibrated confidences (no calibration was used).</p>\n</section>\n",
        );
        return out;
    };
    let rows = [
        (
            "C-Score",
            format!(
                "{}<div class=\"note\">Knoche et al. 2022: a sigmoid of the similarity fitted to the \
                 calibration data's genuine and impostor distances; how strongly the score alone \
                 points to the same person.</div>",
                escape(&prob(c.c_score))
            ),
        ),
        (
            "PIC-Score",
            format!(
                "{} with prior {}<div class=\"note\">Neto et al.: the probability that the pair is \
                 genuine, from the likelihood ratio of kernel density estimates of the calibration \
                 data's genuine and impostor scores, given a prior probability of {} that a pair is \
                 genuine.</div>",
                escape(&prob(c.pic_score)),
                escape(&num(c.pic_prior)),
                escape(&num(c.pic_prior))
            ),
        ),
        (
            "Decision confidence",
            format!(
                "{}<div class=\"note\">The probability that this decision ({}) is right: the \
                 PIC-Score for a match, 1 − PIC-Score for a non-match.</div>",
                escape(&prob(c.decision_confidence)),
                escape(a.decision.as_str())
            ),
        ),
        (
            "Calibration",
            format!(
                "{}<br>SHA-256 {}<div class=\"note\">The file both confidences and the calibrated \
                 threshold come from; they are only as representative as its data.</div>",
                escape(&c.calibration.name),
                code(&c.calibration.sha256)
            ),
        ),
    ];
    out.push_str(&facts_table(&rows));
    out.push_str("</section>\n");
    out
}

/// A thumbnail (≤ [`THUMBNAIL_SIDE`] px) of the original photograph with the
/// used face's box, when the file is at its recorded path with its recorded
/// SHA-256; otherwise why it is not embedded.
fn thumbnail(rec: &ImageRecord, base_dir: &Path) -> Result<Vec<u8>, String> {
    let recorded = Path::new(&rec.path);
    let mut candidates = vec![recorded.to_path_buf()];
    if recorded.is_relative() {
        candidates.push(base_dir.join(recorded));
    }
    let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
        format!(
            "the file is no longer readable at its recorded path {}",
            rec.path
        )
    })?;
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{}: cannot read the file: {e}", path.display()))?;
    let sha = sha256_hex(&bytes);
    if sha != rec.sha256 {
        return Err(format!(
            "the file now at {} has SHA-256 {sha}, not the recorded one: it is a different or altered file",
            path.display()
        ));
    }
    let loaded = decode_image(path, bytes).map_err(|e| e.to_string())?;
    let rgb = loaded.rgb;
    let scale = (THUMBNAIL_SIDE as f32 / rgb.width().max(rgb.height()) as f32).min(1.0);
    let (w, h) = (
        ((rgb.width() as f32 * scale).round() as u32).max(1),
        ((rgb.height() as f32 * scale).round() as u32).max(1),
    );
    let mut thumb = if scale < 1.0 {
        image::imageops::resize(&rgb, w, h, image::imageops::FilterType::Triangle)
    } else {
        rgb
    };
    draw_box(&mut thumb, rec.face.bbox.map(|v| v * scale));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(thumb)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the thumbnail: {e}"))?;
    Ok(png)
}

/// Outline `[x, y, w, h]` in red, 2 px, clipped to the image.
fn draw_box(img: &mut image::RgbImage, bbox: [f32; 4]) {
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let x0 = bbox[0].round() as i64;
    let y0 = bbox[1].round() as i64;
    let x1 = (bbox[0] + bbox[2]).round() as i64;
    let y1 = (bbox[1] + bbox[3]).round() as i64;
    let mut put = |x: i64, y: i64| {
        if (0..iw).contains(&x) && (0..ih).contains(&y) {
            img.put_pixel(x as u32, y as u32, image::Rgb([255, 0, 0]));
        }
    };
    for t in 0..2 {
        for x in x0..=x1 {
            put(x, y0 + t);
            put(x, y1 - t);
        }
        for y in y0..=y1 {
            put(x0 + t, y);
            put(x1 - t, y);
        }
    }
}

fn images_section(a: &Analysis, base_dir: &Path) -> String {
    let mut out = String::from("<section>\n<h2>Photographs</h2>\n<div class=\"columns\">\n");
    for (f, rec) in a.images.iter().enumerate() {
        let role = if f == 0 { "probe" } else { "reference" };
        let b = rec.face.bbox;
        let landmarks = rec
            .face
            .landmarks5
            .iter()
            .map(|p| format!("({}, {})", num(p[0]), num(p[1])))
            .collect::<Vec<_>>()
            .join(" ");
        let rows = [
            ("File name", escape(&file_name(Path::new(&rec.path)))),
            ("Path", code(&rec.path)),
            ("SHA-256", code(&rec.sha256)),
            ("File size", format!("{} bytes", rec.file_size)),
            ("Dimensions", format!("{} × {} px", rec.width, rec.height)),
            (
                "Face used",
                format!(
                    "#{} of {} found (#0 = largest)",
                    rec.face_index, rec.faces_found
                ),
            ),
            (
                "Detector box",
                format!(
                    "x {}, y {}, width {}, height {} (px)",
                    num(b[0]),
                    num(b[1]),
                    num(b[2]),
                    num(b[3])
                ),
            ),
            ("Detector score", escape(&num(rec.face.score))),
            (
                "Landmarks",
                format!(
                    "{}<div class=\"note\">image-left eye, image-right eye, nose, mouth corners</div>",
                    escape(&landmarks)
                ),
            ),
        ];
        let _ = write!(
            out,
            "<div>\n<h3>Image {} ({role})</h3>\n{}",
            face_label(f),
            facts_table(&rows)
        );
        match thumbnail(rec, base_dir) {
            Ok(png) => {
                let _ = writeln!(
                    out,
                    "<figure>{}<figcaption>The original file (SHA-256 checked), shown at most \
                     {THUMBNAIL_SIDE} px; the red box is the face used.</figcaption></figure>",
                    img(&png, &format!("Photograph {}", face_label(f)), "thumb")
                );
            }
            Err(why) => {
                let _ = writeln!(
                    out,
                    "<p class=\"absent\">Photograph not embedded: {}.</p>",
                    escape(&why)
                );
            }
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n</section>\n");
    out
}

/// One method's maps: its parameters, then each map of face A beside face B.
fn map_group(
    out: &mut String,
    e: &Embedded,
    title: &str,
    params: Option<serde_json::Value>,
    xmap: bool,
) {
    let maps: Vec<&(MapRecord, Png)> = e
        .maps
        .iter()
        .filter(|(m, _)| m.name.starts_with("xmap-") == xmap)
        .collect();
    if maps.is_empty() && params.is_none() {
        return;
    }
    let _ = writeln!(out, "<h3>{}</h3>", escape(title));
    if let Some(p) = params {
        out.push_str(&param_html(&p));
    }
    let mut names: Vec<&str> = Vec::new();
    for (m, _) in &maps {
        if !names.contains(&m.name.as_str()) {
            names.push(&m.name);
        }
    }
    for name in names {
        out.push_str("<div class=\"pair\">\n");
        for f in 0..2 {
            match maps.iter().find(|(m, _)| m.name == name && m.image == f) {
                Some((_, png)) => out.push_str(&png.figure(
                    &format!("{name} of face {}", face_label(f)),
                    &format!("{name}, face {} (HLS blend)", face_label(f)),
                )),
                None => {
                    let _ = write!(
                        out,
                        "<figure class=\"absent\"><p>{} not computed for face {}</p></figure>",
                        escape(name),
                        face_label(f)
                    );
                }
            }
            out.push('\n');
        }
        out.push_str("</div>\n");
    }
}

fn explanation_section(a: &Analysis, e: &Embedded) -> String {
    let Some(crops) = &e.crops else {
        return String::from(
            "<section>\n<h2>Explanation maps</h2>\n<p>Absent: no explanation was run for this analysis (compare without --explain), \
             so there are no aligned crops, maps or explainability tables.</p>\n</section>\n",
        );
    };
    let mut out = String::from("<section class=\"maps\">\n<h2>Explanation maps</h2>\n");
    let _ = write!(
        out,
        "<p>Maps lie on the aligned 112 × 112 crops the model compared and are drawn as HLS \
         blends (the map's colour, the face's lightness). Files read from {}.</p>\n\
         <h3>Aligned crops</h3>\n<div class=\"pair\">\n{}\n{}\n</div>\n",
        code(&e.folder.display().to_string()),
        crops[0].figure("Aligned face A", "Aligned crop of face A"),
        crops[1].figure("Aligned face B", "Aligned crop of face B")
    );
    let p = &a.parameters;
    map_group(&mut out, e, "X-Maps (Knoche et al.)", value(&p.xmap), true);
    map_group(
        &mut out,
        e,
        "Saliency maps (Mery & Morris)",
        value(&p.mery),
        false,
    );
    let other: Vec<(&str, String)> = [
        ("aligned_crops_sha256", value(&p.aligned_crops_sha256)),
        ("regions", value(&p.regions)),
        ("render", value(&p.render)),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, param_html(&v?))))
    .collect();
    if !other.is_empty() {
        out.push_str("<h3>Other parameters</h3>\n");
        out.push_str(&facts_table(&other));
    }
    out.push_str("</section>\n");
    out
}

/// An explainability table in its ranked order: Rank | Region | levels | Mean | Ratio of 1s.
fn table_html(t: &ExplainabilityTable) -> String {
    let mut out = String::from("<table class=\"ranked\">\n<thead><tr><th>Rank</th><th>Region</th>");
    for m in &t.methods {
        let _ = write!(out, "<th>{}</th>", escape(m));
    }
    out.push_str("<th>Mean</th><th>Ratio of 1s</th></tr></thead>\n<tbody>\n");
    for (i, r) in t.rows.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}</td>",
            i + 1,
            escape(&r.region)
        );
        for m in &t.methods {
            match r.levels.get(m) {
                Some(l) => {
                    let _ = write!(out, "<td class=\"num lv{l}\">{l}</td>");
                }
                None => out.push_str("<td class=\"num\">–</td>"),
            }
        }
        let _ = writeln!(
            out,
            "<td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td></tr>",
            r.mean, r.ratio_of_ones
        );
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn tables_section(a: &Analysis) -> String {
    let mut out = String::from("<section>\n<h2>Explainability tables</h2>\n");
    let tables = [
        (
            "Facial regions by importance (Mery & Morris maps)",
            &a.explainability_table,
            "Level 1 = most important … 5 = least, per map (the map's value range cut into five \
             intervals; a region's level is the dominant one of its pixels).",
        ),
        (
            "Facial regions by similarity (X-Maps)",
            &a.xmap_table,
            "Level 1 = most similar … 5 = most dissimilar, per map.",
        ),
    ];
    if tables.iter().all(|(_, t, _)| t.is_none()) {
        out.push_str("<p>Absent: this analysis has no explainability table.</p>\n</section>\n");
        return out;
    }
    for (title, table, levels) in tables {
        let _ = writeln!(out, "<h3>{}</h3>", escape(title));
        match table {
            Some(t) => {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">{levels} Ranked by lowest Mean first, ties by Ratio of 1s \
                     (the share of maps giving level 1). Left and right are the subject's own \
                     (the subject's left eye is on the image's right).</p>"
                );
                out.push_str(&table_html(t));
            }
            None => out.push_str("<p>Absent from this analysis.</p>\n"),
        }
    }
    out.push_str("</section>\n");
    out
}

fn timings_section(a: &Analysis) -> String {
    let mut out = String::from("<section>\n<h2>Timings</h2>\n");
    if a.timings_ms.is_empty() {
        out.push_str("<p>Absent: no timings recorded.</p>\n");
    } else {
        let rows: Vec<(&str, String)> = a
            .timings_ms
            .iter()
            .map(|(k, v)| (k.as_str(), format!("{v:.1} ms")))
            .collect();
        out.push_str(&facts_table(&rows));
    }
    out.push_str("</section>\n");
    out
}

fn limits_section(a: &Analysis) -> String {
    let calibration = a.confidence.as_ref().map_or_else(
        || "No calibrated confidences are recorded; the similarity alone is not a probability.".to_string(),
        |c| {
            format!(
                "The confidences and the calibrated threshold come from the calibration {}; they hold \
                 for photographs like its data only (pose, lighting, age, image quality, population). \
                 Treat them as indicative and calibrate on data representative of the case.",
                c.calibration.name
            )
        },
    );
    let items = [
        calibration.as_str(),
        "The decision is the model's, at a threshold with a known error rate on the calibration \
         data only; it is an aid to, not a substitute for, an examiner's comparison.",
        "The maps show where occluding or perturbing the aligned faces changes the model's score: \
         they explain the model, not the identity, and not what a human examiner would look at.",
        "Regions come from MediaPipe FaceMesh landmarks mapped into the aligned crops; left and \
         right are the subject's own. Levels are relative within each map.",
        "The photographs are shown downscaled; the analysis used the original files identified by \
         their SHA-256. The crops and maps embedded here are checked to be valid PNGs of the crop \
         size; the analysis records no hashes of them, so their SHA-256 above identifies what was \
         embedded.",
        "This report reproduces the analysis record and recomputes nothing.",
    ];
    let mut out = String::from("<section>\n<h2>Limits</h2>\n<ul>\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", escape(item));
    }
    out.push_str("</ul>\n</section>\n");
    out
}

const CSS: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111;background:#fff;max-width:1040px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 10px}
h2{font-size:18px;border-bottom:2px solid #222;padding-bottom:2px;margin:28px 0 8px}
h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid #888;padding:3px 6px;text-align:left;vertical-align:top}
table.facts th{background:#eee;font-weight:600;min-width:9em}
table.ranked th{background:#eee}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.lv1{font-weight:700;background:#ccc}
td.lv2{background:#e2e2e2}
code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.decision{font-size:20px;font-weight:700;text-transform:uppercase;border:2px solid #111;padding:2px 10px;display:inline-block}
.note{font-size:12px;color:#333}
.absent{font-style:italic}
.columns{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.pair{display:flex;flex-wrap:wrap;gap:16px;margin:6px 0}
figure{margin:6px 0;max-width:480px}
figcaption{font-size:12px}
figure.absent{width:224px;border:1px dashed #888;padding:8px}
img.face{width:224px;height:224px;image-rendering:pixelated;border:1px solid #888;display:block}
img.thumb{max-width:100%;border:1px solid #888;display:block}
@page{size:A4;margin:14mm}
@media print{
body{margin:0;max-width:none;font-size:10pt}
h2,h3{break-after:avoid}
section.maps{break-before:page}
figure,.pair,tr,table.facts{break-inside:avoid}
thead{display:table-header-group}
img.face{width:160px;height:160px}
figure.absent{width:160px}
}
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::TableRow;

    #[test]
    fn table_rows_keep_the_ranked_order_and_print_levels_as_numbers() {
        let row = |region: &str, l: u8| TableRow {
            region: region.into(),
            levels: [("S0-".to_string(), l)].into_iter().collect(),
            mean: l as f64,
            ratio_of_ones: if l == 1 { 1.0 } else { 0.0 },
        };
        let t = ExplainabilityTable {
            methods: vec!["S0-".into(), "S1+".into()],
            rows: vec![row("nose", 1), row("left <eye>", 3)],
        };
        let h = table_html(&t);
        let nose = h.find("<td>nose</td>").unwrap();
        let eye = h.find("<td>left &lt;eye&gt;</td>").unwrap();
        assert!(nose < eye);
        assert!(h.contains("<td class=\"num lv1\">1</td><td class=\"num\">–</td>"));
        assert!(h.contains("<td class=\"num\">3.00</td><td class=\"num\">0.00</td>"));
    }

    #[test]
    fn numbers_are_written_as_the_json_writes_them() {
        assert_eq!(num(0.363_f32), serde_json::to_string(&0.363f32).unwrap());
        assert_eq!(num(0.5f64), "0.5");
        assert_eq!(prob(0.25), "0.25 (≈ 25.00 %)");
    }
}
