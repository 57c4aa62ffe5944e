//! `facexplain models list|add|probe`: the face recognisers this
//! installation can run, adding the user's own (hash-pinned in the user
//! manifest), and finding a model's input conventions by measurement.

use super::BadInput;
use crate::calibration::fit::dataset::Dataset;
use crate::calibration::fit::metrics::ScoreSet;
use crate::pipeline::align::{Similarity, align_to, warp};
use crate::pipeline::embed::{Embedder, Lanes, cosine, faces_to_tensor};
use crate::pipeline::recogniser::{Prep, Recogniser};
use crate::pipeline::{CROP, Pipeline, align, runtime};
use crate::progress::Ctl;
use crate::record::{ModelVerdict, disagreement};
use crate::resources::user_models::{save_user_store, user_models_dir, user_store_in};
use crate::resources::{ModelEntry, ModelStore, RecogniserSpec, sha256_hex};
use clap::{Args, Subcommand};
use image::RgbImage;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// List every face recogniser (shipped and added), its conventions and whether its file checks out.
    List,
    /// Add an ONNX face recogniser: copied into the user models folder and pinned by SHA-256.
    Add(AddArgs),
    /// Try colour orders, normalisations and alignments on labelled images; genuine vs impostor separation of each.
    Probe(ProbeArgs),
}

/// A model's input conventions, as options.
#[derive(Args, Debug, Clone)]
pub struct Conventions {
    /// Channel order the model expects: RGB or BGR.
    #[arg(long, default_value = "RGB")]
    pub colour: String,
    /// Subtracted from each 0–255 channel value (one value, or three comma-separated).
    #[arg(long, default_value = "127.5")]
    pub mean: String,
    /// The difference is divided by this (one value, or three comma-separated).
    #[arg(long, default_value = "128")]
    pub std: String,
    /// NCHW or NHWC.
    #[arg(long, default_value = "NCHW")]
    pub layout: String,
    /// Input side in pixels (square).
    #[arg(long, default_value_t = CROP)]
    pub size: u32,
    /// The five-point alignment template in input pixels (eyes, nose tip,
    /// mouth corners of the subject as seen: x1,y1,…,x5,y5)
    /// [default: SFace's 112-pixel template scaled to --size].
    #[arg(long, value_name = "X1,Y1,…,X5,Y5")]
    pub template: Option<String>,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The ONNX file (input [N,3,H,W] or [N,H,W,3], output [N,D]).
    pub file: PathBuf,
    /// Name to choose it by (`compare --models NAME`): letters, digits, '-' and '_'.
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub conv: Conventions,
    /// Output holding the embedding (default: the model's first output).
    #[arg(long)]
    pub output: Option<String>,
    /// Decision threshold on cosine similarity until a calibration gives one.
    #[arg(long, default_value_t = 0.3)]
    pub threshold: f32,
    /// The model's licence, as you know it.
    #[arg(long, default_value = "not stated")]
    pub licence: String,
    /// Replace a user model of the same name.
    #[arg(long)]
    pub replace: bool,
    /// User models folder (default: $FACEXPLAIN_USER_MODELS, else <data dir>/facexplain/user-models).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// A recogniser by name (its file; its own conventions are ignored) …
    #[arg(long, conflicts_with = "file")]
    pub model: Option<String>,
    /// … or an ONNX file.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Labelled images: one sub-folder per identity (repeat for several sets; each is reported apart).
    #[arg(long, value_name = "DIR", required = true)]
    pub dataset: Vec<PathBuf>,
    /// Input layout of the model.
    #[arg(long, default_value = "NCHW")]
    pub layout: String,
}

pub fn run(a: ModelsArgs) -> anyhow::Result<()> {
    match a.command {
        ModelsCommand::List => list(),
        ModelsCommand::Add(a) => add(&a),
        ModelsCommand::Probe(a) => probe(&a),
    }
}

fn list() -> anyhow::Result<()> {
    let store = ModelStore::locate()?;
    let all = Recogniser::all_with(&store, None)?;
    println!(
        "{:<16} {:<7} {:>4} {:>9} {:<6} {:<24} {:>9}  file",
        "name", "from", "dim", "input", "colour", "normalisation", "threshold"
    );
    for r in &all {
        let s = &r.spec;
        let status = match r.store.verify_file(r.id()) {
            Ok(p) => format!("{} (sha256 ok)", p.display()),
            Err(e) => format!("REFUSED: {e}"),
        };
        println!(
            "{:<16} {:<7} {:>4} {:>9} {:<6} {:<24} {:>9.4}  {status}",
            r.id(),
            if r.user { "user" } else { "shipped" },
            r.entry.embedding_size.map_or("?".into(), |d| d.to_string()),
            format!("{}x{} {}", s.input_size[0], s.input_size[1], s.layout),
            s.colour,
            norm_text(s.mean, s.std),
            r.default_threshold(),
        );
        println!("{:<16} licence: {}", "", r.entry.licence);
    }
    println!("user models folder: {}", user_models_dir().display());
    Ok(())
}

fn norm_text(mean: [f32; 3], std: [f32; 3]) -> String {
    let one = |v: [f32; 3]| {
        if v[0] == v[1] && v[1] == v[2] {
            format!("{}", v[0])
        } else {
            format!("{},{},{}", v[0], v[1], v[2])
        }
    };
    if mean == [0.0; 3] && std == [1.0; 3] {
        "raw 0-255".into()
    } else {
        format!("(x-{})/{}", one(mean), one(std))
    }
}

fn three(opt: &str, text: &str) -> anyhow::Result<[f32; 3]> {
    let v: Vec<f32> = text
        .split(',')
        .map(|t| t.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|e| BadInput(format!("--{opt} {text:?}: {e}")))?;
    match v[..] {
        [x] => Ok([x; 3]),
        [x, y, z] => Ok([x, y, z]),
        _ => Err(BadInput(format!(
            "--{opt} {text:?}: one value or three, comma-separated"
        ))
        .into()),
    }
}

/// The shipped five-point template scaled to a `size`-pixel square crop.
fn template_for(size: u32) -> [[f32; 2]; 5] {
    let k = size as f32 / CROP as f32;
    align::TEMPLATE.map(|[x, y]| [x * k, y * k])
}

/// `--template`: ten numbers, five points inside the `size`-pixel crop.
fn parse_template(text: &str, size: u32) -> anyhow::Result<[[f32; 2]; 5]> {
    let bad = |why: String| BadInput(format!("--template {text:?}: {why}"));
    let v: Vec<f32> = (text.split(','))
        .map(|t| t.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if v.len() != 10 {
        return Err(bad(format!(
            "{} numbers, expected ten (x,y of five points)",
            v.len()
        ))
        .into());
    }
    if !v
        .iter()
        .all(|x| x.is_finite() && (0.0..=size as f32).contains(x))
    {
        return Err(bad(format!("every coordinate must lie in 0…{size}")).into());
    }
    Ok(std::array::from_fn(|i| [v[2 * i], v[2 * i + 1]]))
}

fn add(a: &AddArgs) -> anyhow::Result<()> {
    let name = a.name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(BadInput(format!(
            "--name {:?}: use letters, digits, '-' and '_'",
            a.name
        ))
        .into());
    }
    let shipped = ModelStore::locate()?;
    if shipped
        .manifest
        .models
        .iter()
        .any(|e| e.id.eq_ignore_ascii_case(name))
    {
        return Err(BadInput(format!("--name {name}: a shipped model has that name")).into());
    }
    let bytes = read_model(&a.file)?;
    let sha = sha256_hex(&bytes);
    let c = &a.conv;
    let mut spec = RecogniserSpec {
        input_size: [c.size, c.size],
        colour: c.colour.to_ascii_uppercase(),
        mean: three("mean", &c.mean)?,
        std: three("std", &c.std)?,
        layout: c.layout.to_ascii_uppercase(),
        output: a.output.clone().unwrap_or_default(),
        alignment: match &c.template {
            Some(t) => parse_template(t, c.size)?,
            None => template_for(c.size),
        },
        fixed_batch: None,
        split: None,
        run: None,
        incremental: None,
        calibration: None,
        determined: Some("given to `facexplain models add`".into()),
    };
    let (batch, outputs) = inspect(&a.file, &bytes)?;
    if batch == Some(1) {
        spec.fixed_batch = Some(1);
    }
    if spec.output.is_empty() {
        spec.output = outputs.first().cloned().unwrap_or_default();
    } else if !outputs.contains(&spec.output) {
        return Err(BadInput(format!(
            "{}: no output {:?} (outputs: {})",
            a.file.display(),
            spec.output,
            outputs.join(", ")
        ))
        .into());
    }
    let dir = a.dir.clone().unwrap_or_else(user_models_dir);
    let mut store = user_store_in(&dir)?;
    let file = format!("{name}.onnx");
    let mut entry = ModelEntry {
        id: name.into(),
        file: file.clone(),
        sha256: sha.clone(),
        name: name.into(),
        source: crate::resources::models::ModelSource {
            package: "added by the user (facexplain models add)".into(),
            path: a.file.display().to_string(),
            sha256: sha.clone(),
        },
        conversion: None,
        licence: a.licence.clone(),
        input: None,
        outputs: Some(outputs),
        embedding_size: None,
        default_threshold: Some(a.threshold),
        recogniser: Some(spec),
    };
    let old = store.manifest.models.iter().position(|e| e.id == name);
    if old.is_some() && !a.replace {
        return Err(BadInput(format!(
            "a user model called {name} exists (in {}): give --replace to replace it",
            dir.display()
        ))
        .into());
    }
    // Try it before anything is written: it must load and give one embedding per face.
    let dim = {
        let r = Recogniser::in_store(
            &ModelStore {
                dir: a.file.parent().unwrap_or(Path::new(".")).to_path_buf(),
                manifest: crate::resources::Manifest {
                    models: vec![ModelEntry {
                        file: a
                            .file
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        ..entry.clone()
                    }],
                    ..store.manifest.clone()
                },
                fix: store.fix.clone(),
            },
            name,
        )?;
        let e = Embedder::for_recogniser(&r, Lanes::split(1, 1), runtime::DEFAULT_OPT_LEVEL)?;
        let grey = RgbImage::from_pixel(c.size, c.size, image::Rgb([128, 128, 128]));
        e.embed_faces(&[&grey])?.ncols()
    };
    entry.embedding_size = Some(dim);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".{file}.tmp"));
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, dir.join(&file))?;
    match old {
        Some(i) => store.manifest.models[i] = entry,
        None => store.manifest.models.push(entry),
    }
    let path = save_user_store(&store)?;
    println!(
        "added {name}: {dim}-D embedding, sha256 {sha}; file {}, manifest {}",
        dir.join(&file).display(),
        path.display()
    );
    Ok(())
}

/// Read a model file the user names (size-limited; errors name the file).
fn read_model(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| BadInput(format!("{}: cannot read the file: {e}", path.display())))?;
    if !meta.is_file() || meta.len() > crate::resources::models::MAX_MODEL_BYTES || meta.len() == 0
    {
        return Err(BadInput(format!(
            "{}: not a model file (a regular file of 1 byte to 1 GB expected)",
            path.display()
        ))
        .into());
    }
    std::fs::read(path).map_err(|e| BadInput(format!("{}: {e}", path.display())).into())
}

/// The fixed batch size of the model's input (`None`: dynamic) and its outputs.
fn inspect(path: &Path, bytes: &[u8]) -> anyhow::Result<(Option<i64>, Vec<String>)> {
    let session = runtime::session_from_bytes("user model", bytes, 1).map_err(|e| {
        BadInput(format!(
            "{}: ONNX Runtime cannot load it: {e}",
            path.display()
        ))
    })?;
    let input = session
        .inputs()
        .first()
        .ok_or_else(|| BadInput(format!("{}: the model has no input", path.display())))?;
    let shape = input.dtype().tensor_shape().map(|s| s.to_vec());
    if shape.as_ref().is_none_or(|s| s.len() != 4) {
        return Err(BadInput(format!(
            "{}: input {:?} is not a 4-D image tensor ({shape:?})",
            path.display(),
            input.name()
        ))
        .into());
    }
    let batch = shape.and_then(|s| (s[0] > 0).then_some(s[0]));
    let outputs = session
        .outputs()
        .iter()
        .map(|o| o.name().to_string())
        .collect();
    Ok((batch, outputs))
}

/// One way of aligning a face for the probe.
struct AlignVariant {
    name: &'static str,
    about: &'static str,
}

const ALIGNMENTS: [AlignVariant; 3] = [
    AlignVariant {
        name: "arcface-112",
        about: "five points onto the 112x112 ArcFace template (SFace's)",
    },
    AlignVariant {
        name: "arcface-loose",
        about: "the same template shrunk to 80% about the crop centre (more background)",
    },
    AlignVariant {
        name: "box",
        about: "the detector's face box squared and resized, no landmarks",
    },
];

fn align_variant(k: usize, img: &RgbImage, face: &crate::pipeline::Face) -> RgbImage {
    match k {
        0 => align_to(img, &face.landmarks5, &align::TEMPLATE, [CROP, CROP]).crop,
        1 => {
            let c = CROP as f32 / 2.0;
            let t = align::TEMPLATE.map(|[x, y]| [c + (x - c) * 0.8, c + (y - c) * 0.8]);
            align_to(img, &face.landmarks5, &t, [CROP, CROP]).crop
        }
        _ => {
            let [x, y, w, h] = face.bbox.map(|v| v as f64);
            let side = w.max(h);
            let (cx, cy) = (x + w / 2.0, y + h / 2.0);
            let s = CROP as f64 / side;
            let t = Similarity {
                m: [
                    [s, 0.0, CROP as f64 / 2.0 - s * cx],
                    [0.0, s, CROP as f64 / 2.0 - s * cy],
                ],
            };
            warp(img, &t, CROP, CROP)
        }
    }
}

/// The input normalisations the probe tries: name, mean, std.
const NORMS: [(&str, f32, f32); 5] = [
    ("raw 0-255", 0.0, 1.0),
    ("(x-127.5)/128", 127.5, 128.0),
    ("(x-127.5)/127.5", 127.5, 127.5),
    ("x/255", 0.0, 255.0),
    ("(x-128)/1", 128.0, 1.0),
];

fn probe(a: &ProbeArgs) -> anyhow::Result<()> {
    let pipeline = Pipeline::load()?;
    let (path, fixed) = match (&a.model, &a.file) {
        (Some(m), _) => {
            let r = Recogniser::find(&pipeline.store, m)?;
            r.store.verify_file(r.id())?;
            (r.store.dir.join(&r.entry.file), r.spec.fixed_batch)
        }
        (None, Some(f)) => (f.clone(), None),
        (None, None) => return Err(BadInput("give --model NAME or --file FILE".into()).into()),
    };
    let bytes = read_model(&path)?;
    let (batch, outputs) = inspect(&path, &bytes)?;
    let fixed = fixed.or((batch == Some(1)).then_some(1));
    let raw = raw_recogniser(&path, &bytes, fixed, outputs.first().cloned())?;
    let embedder = Embedder::for_recogniser(&raw, Lanes::auto(), runtime::DEFAULT_OPT_LEVEL)?;
    println!(
        "probe of {} (sha256 {}): genuine vs impostor cosine similarity per input convention",
        path.display(),
        sha256_hex(&bytes)
    );
    for v in &ALIGNMENTS {
        println!("alignment {}: {}", v.name, v.about);
    }
    for dir in &a.dataset {
        let set = detect_set(&pipeline, dir)?;
        println!(
            "\ndataset {}: {} faces of {} identities, {} genuine / {} impostor pairs",
            dir.display(),
            set.faces.len(),
            set.identities,
            set.genuine_pairs(),
            set.impostor_pairs()
        );
        println!(
            "{:<14} {:<6} {:<16} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
            "alignment",
            "colour",
            "normalisation",
            "gen.mean",
            "gen.min",
            "imp.mean",
            "imp.max",
            "d'",
            "EER"
        );
        let mut rows = Vec::new();
        for (k, v) in ALIGNMENTS.iter().enumerate() {
            let crops: Vec<RgbImage> = set
                .faces
                .iter()
                .map(|(img, face, _)| align_variant(k, img, face))
                .collect();
            let refs: Vec<&RgbImage> = crops.iter().collect();
            let tensor = faces_to_tensor(&refs);
            for bgr in [false, true] {
                for (nname, m, s) in NORMS {
                    let prep = Prep {
                        bgr,
                        mean: [m; 3],
                        std: [s; 3],
                        nhwc: a.layout.eq_ignore_ascii_case("NHWC"),
                    };
                    let x = prep.apply(tensor.view());
                    let e = embedder.embed_all(x.view(), "probe", Ctl::none())?;
                    let scores = set.scores(&e);
                    let row =
                        ProbeRow::new(v.name, if bgr { "BGR" } else { "RGB" }, nname, &scores);
                    println!("{row}");
                    rows.push(row);
                }
            }
        }
        if let Some(best) = rows.iter().max_by(|x, y| x.d_prime.total_cmp(&y.d_prime)) {
            println!("best separation (largest d'): {best}");
        }
    }
    Ok(())
}

/// A recogniser over `path` that takes the tensor as given (the probe converts it).
fn raw_recogniser(
    path: &Path,
    bytes: &[u8],
    fixed: Option<usize>,
    output: Option<String>,
) -> anyhow::Result<Recogniser> {
    let sha = sha256_hex(bytes);
    let entry = ModelEntry {
        id: "probe".into(),
        file: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: sha.clone(),
        name: "probe".into(),
        source: crate::resources::models::ModelSource {
            package: "probe".into(),
            path: path.display().to_string(),
            sha256: sha,
        },
        conversion: None,
        licence: String::new(),
        input: None,
        outputs: None,
        embedding_size: None,
        default_threshold: None,
        recogniser: Some(RecogniserSpec {
            input_size: [CROP, CROP],
            colour: "RGB".into(),
            mean: [0.0; 3],
            std: [1.0; 3],
            // The probe hands the embedder tensors already in the model's layout.
            layout: "NCHW".into(),
            output: output.unwrap_or_default(),
            alignment: align::TEMPLATE,
            fixed_batch: fixed,
            split: None,
            run: None,
            incremental: None,
            calibration: None,
            determined: None,
        }),
    };
    let store = ModelStore {
        dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        manifest: crate::resources::Manifest {
            schema: String::new(),
            setup_command: String::new(),
            models: vec![entry],
        },
        fix: "facexplain models probe".into(),
    };
    Ok(Recogniser::in_store(&store, "probe")?)
}

/// The largest face of every image of a labelled folder.
struct ProbeSet {
    faces: Vec<(RgbImage, crate::pipeline::Face, usize)>,
    identities: usize,
}

fn detect_set(pipeline: &Pipeline, dir: &Path) -> anyhow::Result<ProbeSet> {
    let ds = Dataset::scan(dir, Ctl::none()).map_err(super::calibrate::cli_error)?;
    let mut faces = Vec::new();
    for im in &ds.images {
        match pipeline.detect_file(&im.path) {
            Ok(d) if !d.faces.is_empty() => {
                faces.push((d.image.rgb, d.faces[0].clone(), im.identity))
            }
            Ok(_) => {}
            Err(e) if e.is_bad_input() => eprintln!("  skipped {}: {e}", im.rel),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ProbeSet {
        faces,
        identities: ds.identities.len(),
    })
}

impl ProbeSet {
    fn pairs(&self) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
        let n = self.faces.len();
        (0..n).flat_map(move |i| {
            ((i + 1)..n).map(move |j| (i, j, self.faces[i].2 == self.faces[j].2))
        })
    }

    fn genuine_pairs(&self) -> usize {
        self.pairs().filter(|p| p.2).count()
    }

    fn impostor_pairs(&self) -> usize {
        self.pairs().filter(|p| !p.2).count()
    }

    fn scores(&self, e: &ndarray::Array2<f32>) -> ScoreSet {
        let mut s = ScoreSet::default();
        for (i, j, same) in self.pairs() {
            let c = cosine(
                e.row(i).as_slice().unwrap_or(&[]),
                e.row(j).as_slice().unwrap_or(&[]),
            ) as f64;
            if same {
                s.genuine.push(c)
            } else {
                s.impostor.push(c)
            }
        }
        s
    }
}

/// One convention's separation of genuine from impostor pairs.
struct ProbeRow {
    align: &'static str,
    colour: &'static str,
    norm: &'static str,
    gen_mean: f64,
    gen_min: f64,
    imp_mean: f64,
    imp_max: f64,
    /// (mean_g − mean_i) / sqrt((var_g + var_i) / 2).
    d_prime: f64,
    eer: f64,
}

impl ProbeRow {
    fn new(
        align: &'static str,
        colour: &'static str,
        norm: &'static str,
        s: &ScoreSet,
    ) -> ProbeRow {
        let stats = |v: &[f64]| {
            let n = v.len().max(1) as f64;
            let m = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (m, var, min, max)
        };
        let (gm, gv, gmin, _) = stats(&s.genuine);
        let (im, iv, _, imax) = stats(&s.impostor);
        let sd = ((gv + iv) / 2.0).sqrt();
        ProbeRow {
            align,
            colour,
            norm,
            gen_mean: gm,
            gen_min: gmin,
            imp_mean: im,
            imp_max: imax,
            d_prime: if sd > 0.0 { (gm - im) / sd } else { 0.0 },
            eer: s.eer().map_or(f64::NAN, |e| e.eer),
        }
    }
}

impl std::fmt::Display for ProbeRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<14} {:<6} {:<16} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>7.3} {:>7.4}",
            self.align,
            self.colour,
            self.norm,
            self.gen_mean,
            self.gen_min,
            self.imp_mean,
            self.imp_max,
            self.d_prime,
            self.eer
        )
    }
}

/// The pipeline of the first recogniser of `list` (`compare --models`).
pub(crate) fn first_of(list: &str) -> anyhow::Result<Pipeline> {
    let store = ModelStore::locate()?;
    let first = Recogniser::find_list(&store, list)?
        .into_iter()
        .next()
        .ok_or_else(|| BadInput(format!("--models {list:?}: no model named")))?;
    Ok(Pipeline::with_recogniser(store, first)?)
}

/// Every recogniser of `list` on the pair of `a`: the first is `analysis`
/// itself, the others are run now, each with its own alignment and
/// calibration. Prints one line per model and, when their decisions
/// differ, says so in words.
pub(crate) fn side_by_side(
    pipeline: &Pipeline,
    list: &str,
    a: &super::compare::CompareArgs,
    analysis: &crate::record::Analysis,
) -> anyhow::Result<Vec<ModelVerdict>> {
    let mut out = vec![ModelVerdict::of(pipeline.recogniser.id(), analysis)];
    for r in Recogniser::find_list(&pipeline.store, list)?
        .into_iter()
        .skip(1)
    {
        if r.id() == pipeline.recogniser.id() {
            continue;
        }
        let p = Pipeline::with_recogniser(pipeline.store.clone(), r)?;
        let calibration = super::calibrate::for_compare(&p, None)?;
        let fa = p.analyze_file(&a.a, a.face_a)?;
        let fb = p.analyze_file(&a.b, a.face_b)?;
        let x = crate::record::Analysis::of_pair(&p, calibration.as_ref(), &fa, &fb, None);
        out.push(ModelVerdict::of(p.recogniser.id(), &x));
    }
    println!("side by side ({} models):", out.len());
    for v in &out {
        println!("{}", verdict_line(v));
    }
    match disagreement(&out) {
        Some(d) => println!("the models DISAGREE: {d}"),
        None if out.len() > 1 => println!("the models agree: {}", out[0].decision),
        None => {}
    }
    Ok(out)
}

/// One model's verdict on one line.
pub(crate) fn verdict_line(v: &ModelVerdict) -> String {
    let conf = match &v.confidence {
        Some(c) => format!(
            "  C-Score {:.4}  PIC-Score {:.4}  right with probability {}",
            c.c_score,
            c.pic_score,
            crate::record::evidence::percent_short_of_certain(c.decision_confidence)
        ),
        None => "  (no calibration: no confidences)".into(),
    };
    let lr = match &v.evidence {
        Some(e) => format!("  LR {}", e.lr_text()),
        None => String::new(),
    };
    format!(
        "  {:<14} similarity {:.4}  threshold {:.4}  decision: {}{conf}{lr}",
        v.id, v.similarity, v.threshold, v.decision
    )
}

/// One recogniser's error rates on an `eval` data set.
#[derive(serde::Serialize)]
pub(crate) struct ModelRates {
    pub id: String,
    pub model: crate::record::ModelRef,
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    pub eer: f64,
    pub eer_threshold: f64,
    pub fnmr_at_fmr: Vec<crate::calibration::fit::evaluate::FnmrAtFmr>,
}

fn rates(p: &Pipeline, s: &ScoreSet) -> ModelRates {
    use crate::calibration::fit::evaluate::{FMR_TARGETS, fnmr_at_fmrs};
    let eer = s.eer();
    ModelRates {
        id: p.recogniser.id().to_string(),
        model: p.model.clone(),
        genuine_pairs: s.genuine.len(),
        impostor_pairs: s.impostor.len(),
        eer: eer.map_or(f64::NAN, |e| e.eer),
        eer_threshold: eer.map_or(f64::NAN, |e| e.at.threshold),
        fnmr_at_fmr: fnmr_at_fmrs(s, &FMR_TARGETS),
    }
}

/// `eval --model A,B,…`: the first model's rates (already measured, `first`)
/// beside every other model's on the same data set, one line each.
pub(crate) fn eval_side_by_side(
    pipeline: &Pipeline,
    first: &ScoreSet,
    data: &super::calibrate::DatasetArgs,
    dir: &Path,
) -> anyhow::Result<Vec<ModelRates>> {
    let list = Recogniser::find_list(&pipeline.store, &data.model)?;
    if list.len() < 2 {
        return Ok(Vec::new());
    }
    let mut out = vec![rates(pipeline, first)];
    for r in list.into_iter().skip(1) {
        let p = Pipeline::with_recogniser(pipeline.store.clone(), r)?;
        let c = super::calibrate::collect(&p, &data.options(&p)?, dir, None)?;
        out.push(rates(&p, &c.scores));
    }
    let fmr = |f: f64| format!("FNMR@FMR {} %", f * 100.0);
    let targets: Vec<String> = out[0]
        .fnmr_at_fmr
        .iter()
        .map(|f| fmr(f.fmr_target))
        .collect();
    println!(
        "side by side on {}: {:<14} {:>9} {:>10} {}",
        dir.display(),
        "model",
        "EER",
        "threshold",
        targets
            .iter()
            .map(|t| format!("{t:>18}"))
            .collect::<String>()
    );
    for m in &out {
        let cells: String = m
            .fnmr_at_fmr
            .iter()
            .map(|f| match f.fnmr {
                Some(v) => format!("{:>17.3}%", v * 100.0),
                None => format!("{:>18}", "not measurable"),
            })
            .collect();
        println!(
            "side by side on {}: {:<14} {:>8.3}% {:>10.4} {cells}  ({} genuine / {} impostor pairs)",
            dir.display(),
            m.id,
            m.eer * 100.0,
            m.eer_threshold,
            m.genuine_pairs,
            m.impostor_pairs
        );
    }
    Ok(out)
}
