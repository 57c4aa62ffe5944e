//! `facexplain case new|show|note|conclude|verify CASE.fxcase`: the
//! examiner's case file over one comparison, its notes and conclusion, its
//! audit trail, and verified reproduction of its numbers from the originals.

use super::BadInput;
use super::compare::{self, CompareArgs};
use super::explain_run::{ExplainArgs, ExplainKind};
use crate::pipeline::Pipeline;
use crate::record::case::now_utc;
use crate::record::{
    Analysis, Case, CaseParameters, Conclusion, InputFile, ModelFile, OpenedCase, Software,
};
use crate::resources::hash::{sha256_file, sha256_hex};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CaseArgs {
    #[command(subcommand)]
    pub command: CaseCommand,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum CaseCommand {
    /// Compare two photographs and record the comparison in a new case file.
    New(NewArgs),
    /// Print the case: header, files, parameters, result, notes, conclusion, audit status.
    Show { case: PathBuf },
    /// Add a note to the case, or to one image (--image 0 or 1); audited.
    Note {
        case: PathBuf,
        text: String,
        /// The image the note is about (0 = A, 1 = B).
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
        image: Option<u8>,
    },
    /// Record the examiner's own conclusion (with the time); audited.
    Conclude { case: PathBuf, text: String },
    /// Re-open the originals, re-run the analysis with the recorded parameters
    /// and models, and compare every number: exit 0 reproduced, 3 differs, 2 bad input.
    Verify { case: PathBuf },
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The case file to create (.fxcase); an existing file is not overwritten.
    pub case: PathBuf,
    /// First image (the probe).
    #[arg(long)]
    pub a: PathBuf,
    /// Second image (the reference).
    #[arg(long)]
    pub b: PathBuf,
    #[arg(long)]
    pub face_a: Option<usize>,
    #[arg(long)]
    pub face_b: Option<usize>,
    /// Examiner's name.
    #[arg(long, default_value = "")]
    pub examiner: String,
    /// Case title.
    #[arg(long, default_value = "")]
    pub title: String,
    /// Case id [default: FX- and 12 hex digits from the time and inputs].
    #[arg(long)]
    pub id: Option<String>,
    /// Decision threshold on cosine similarity (default: the calibration's).
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Calibration JSON (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    #[command(flatten)]
    pub thresholds: super::quality::ThresholdsArg,
    /// Explain the decision with these methods (comma-separated): xmap, mery.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub explain: Vec<ExplainKind>,
}

/// A reproduction that differs (exit code 3); the message names what.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Differs(pub String);

pub fn run(a: CaseArgs) -> anyhow::Result<()> {
    match a.command {
        CaseCommand::New(n) => new(n),
        CaseCommand::Show { case } => show(&case),
        CaseCommand::Note { case, text, image } => note(&case, &text, image.map(usize::from)),
        CaseCommand::Conclude { case, text } => conclude(&case, &text),
        CaseCommand::Verify { case } => verify(&case),
    }
}

fn explain_names(kinds: &[ExplainKind]) -> Vec<String> {
    kinds
        .iter()
        .filter_map(|k| k.to_possible_value().map(|v| v.get_name().to_string()))
        .collect()
}

/// The `compare` arguments a case's parameters stand for.
fn compare_args(a: PathBuf, b: PathBuf, p: &CaseParameters, out_dir: PathBuf) -> CompareArgs {
    CompareArgs {
        a,
        b,
        face_a: p.face_a,
        face_b: p.face_b,
        threshold: p.threshold,
        json: None,
        calibration: p.calibration_path.as_ref().map(PathBuf::from),
        require_fit: false,
        models: None,
        thresholds: super::quality::ThresholdsArg {
            quality_thresholds: p.quality_thresholds.as_ref().map(PathBuf::from),
        },
        explain: ExplainArgs {
            explain: p
                .explain
                .iter()
                .filter_map(|s| ExplainKind::from_str(s, true).ok())
                .collect(),
            out_dir: Some(out_dir),
            faithfulness: false,
        },
    }
}

/// Every model file of the manifest present in the models folder, with the
/// SHA-256 of the file as it is now.
fn model_files(pipeline: &Pipeline) -> anyhow::Result<Vec<ModelFile>> {
    let mut out = Vec::new();
    for m in &pipeline.store.manifest.models {
        let path = pipeline.store.dir.join(&m.file);
        if !path.is_file() {
            continue;
        }
        let sha256 = sha256_file(&path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read the model: {e}", path.display()))?;
        out.push(ModelFile {
            id: m.id.clone(),
            file: m.file.clone(),
            sha256,
        });
    }
    Ok(out)
}

fn new(n: NewArgs) -> anyhow::Result<()> {
    if n.case.exists() {
        return Err(BadInput(format!(
            "{}: already exists; a new case is never written over a file",
            n.case.display()
        ))
        .into());
    }
    let parameters = CaseParameters {
        face_a: n.face_a,
        face_b: n.face_b,
        threshold: n.threshold,
        threshold_source: String::new(),
        calibration_path: n.calibration.as_ref().map(|p| p.display().to_string()),
        calibration: None,
        quality_thresholds: (n.thresholds.quality_thresholds.as_ref())
            .map(|p| p.display().to_string()),
        explain: explain_names(&n.explain),
    };
    let out_dir = n.case.with_extension("explain");
    let args = compare_args(n.a.clone(), n.b.clone(), &parameters, out_dir);
    let (pipeline, analysis) = compare::analyse(&args)?;
    let created = now_utc();
    let given = [&n.a, &n.b];
    let inputs: Vec<InputFile> = (analysis.images.iter().zip(given))
        .map(|(im, path)| InputFile {
            path: path.display().to_string(),
            sha256: im.sha256.clone(),
            file_size: im.file_size,
            width: im.width,
            height: im.height,
            face_index: im.face_index,
            notes: String::new(),
        })
        .collect();
    let case_id = n.id.unwrap_or_else(|| {
        let seed = format!("{created}|{}|{}", inputs[0].sha256, inputs[1].sha256);
        format!("FX-{}", &sha256_hex(seed.as_bytes())[..12])
    });
    let mut hashes = BTreeMap::new();
    for (label, f) in ["A", "B"].iter().zip(&inputs) {
        hashes.insert(format!("input {label}"), f.sha256.clone());
    }
    let models = model_files(&pipeline)?;
    for m in &models {
        hashes.insert(format!("model {}", m.id), m.sha256.clone());
    }
    let calibration = analysis.confidence.as_ref().map(|c| c.calibration.clone());
    if let Some(c) = &calibration {
        hashes.insert("calibration".into(), c.sha256.clone());
    }
    let details = format!(
        "compared {} (face {}) with {} (face {}): similarity {}, threshold {} ({}), {}",
        inputs[0].path,
        inputs[0].face_index,
        inputs[1].path,
        inputs[1].face_index,
        analysis.similarity,
        analysis.threshold,
        analysis.threshold_source,
        analysis.decision
    );
    let machine_text = crate::record::case::machine_decision_text(&analysis);
    let mut case = Case {
        schema: crate::record::case::CASE_SCHEMA.into(),
        case_id,
        title: n.title,
        examiner: n.examiner,
        created: created.clone(),
        inputs,
        parameters: CaseParameters {
            threshold_source: analysis.threshold_source.clone(),
            calibration,
            ..parameters
        },
        software: Software::default(),
        models,
        analysis,
        notes: String::new(),
        conclusion: None,
        blind: false,
        machine: Some(Conclusion {
            text: machine_text,
            time: created.clone(),
        }),
        machine_shown: None,
        audit: Vec::new(),
    };
    case.log(&created, "case created", &details, hashes);
    case.write(&n.case)?;
    println!("case {} written to {}", case.case_id, n.case.display());
    Ok(())
}

/// Open a case to change it: refused (bad input) when its trail is broken.
fn open_writable(path: &Path) -> anyhow::Result<Case> {
    let opened = Case::read(path)?;
    if let Some(w) = opened.warning() {
        return Err(BadInput(format!("{}: {w}; not changed", path.display())).into());
    }
    Ok(opened.case)
}

fn note(path: &Path, text: &str, image: Option<usize>) -> anyhow::Result<()> {
    let mut case = open_writable(path)?;
    let (target, what) = match image {
        Some(i) => (&mut case.inputs[i].notes, format!("note on image {i}")),
        None => (&mut case.notes, "case note".to_string()),
    };
    if !target.is_empty() {
        target.push('\n');
    }
    target.push_str(text);
    case.log(
        &now_utc(),
        "note edited",
        &format!("{what}: {text}"),
        BTreeMap::new(),
    );
    case.write(path)?;
    println!("{what} added to {}", path.display());
    Ok(())
}

fn conclude(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut case = open_writable(path)?;
    let time = now_utc();
    let action = match &case.conclusion {
        Some(old) => format!("conclusion changed (was {:?} at {})", old.text, old.time),
        None => "conclusion recorded".into(),
    };
    case.conclusion = Some(Conclusion {
        text: text.into(),
        time: time.clone(),
    });
    case.log(&time, &action, text, BTreeMap::new());
    case.write(path)?;
    println!("conclusion recorded in {} at {time}", path.display());
    Ok(())
}

fn show(path: &Path) -> anyhow::Result<()> {
    let opened = Case::read(path)?;
    let c = &opened.case;
    println!("case {}: {}", c.case_id, c.title);
    println!("examiner: {}   created: {}", c.examiner, c.created);
    println!("software: {} {}", c.software.name, c.software.version);
    for (label, f) in ["A", "B"].iter().zip(&c.inputs) {
        println!(
            "{label}: {} ({}×{}, {} bytes, face {}) sha256 {}",
            f.path, f.width, f.height, f.file_size, f.face_index, f.sha256
        );
        if !f.notes.is_empty() {
            println!("   notes: {}", f.notes);
        }
    }
    let an = &c.analysis;
    println!(
        "similarity {}  threshold {} ({})  decision: {}",
        an.similarity, an.threshold, an.threshold_source, an.decision
    );
    if let Some(conf) = &an.confidence {
        println!(
            "C-Score {}  PIC-Score {}  calibration {} ({})",
            conf.c_score, conf.pic_score, conf.calibration.name, conf.calibration.sha256
        );
    }
    if !c.parameters.explain.is_empty() {
        println!("explanations: {}", c.parameters.explain.join(", "));
    }
    for m in &c.models {
        println!("model {} ({}) sha256 {}", m.id, m.file, m.sha256);
    }
    if !c.notes.is_empty() {
        println!("notes: {}", c.notes);
    }
    match &c.conclusion {
        Some(k) => println!("examiner's conclusion ({}): {}", k.time, k.text),
        None => println!("examiner's conclusion: not recorded"),
    }
    if let Some(m) = &c.machine {
        println!("machine's decision ({}): {}", m.time, m.text);
    }
    if c.blind {
        match &c.machine_shown {
            Some(t) => println!("blind mode (ACE-V): the machine's result was first shown at {t}"),
            None => println!("blind mode (ACE-V): the machine's result has not been shown"),
        }
    }
    println!("audit trail: {} entries", c.audit.len());
    for e in &c.audit {
        println!("  {:>3} {}  {}: {}", e.seq, e.time, e.action, e.details);
    }
    match opened.warning() {
        Some(w) => eprintln!("WARNING: {}: {w}", path.display()),
        None => println!("audit trail intact"),
    }
    Ok(())
}

/// Where an input given as `given` is now: as given (from the current
/// folder) or, for a relative path, beside the case file.
fn locate_input(case_path: &Path, given: &str) -> Option<PathBuf> {
    let p = PathBuf::from(given);
    if p.is_file() {
        return Some(p);
    }
    let beside = case_path.parent()?.join(&p);
    (p.is_relative() && beside.is_file()).then_some(beside)
}

fn verify(path: &Path) -> anyhow::Result<()> {
    let OpenedCase { case, broken } = Case::read(path)?;
    let mut differs = Vec::new();
    if let Some(b) = &broken {
        differs.push(format!("the audit trail is broken at {b}"));
    }
    let mut originals = Vec::new();
    for (label, f) in ["A", "B"].iter().zip(&case.inputs) {
        let Some(p) = locate_input(path, &f.path) else {
            return Err(BadInput(format!(
                "original {label} is missing: {} (nor beside {})",
                f.path,
                path.display()
            ))
            .into());
        };
        let now = sha256_file(&p)
            .map_err(|e| BadInput(format!("original {label}: {}: {e}", p.display())))?;
        if now != f.sha256 {
            differs.push(format!(
                "original {label} changed: {} has SHA-256 {now}, the case recorded {}",
                p.display(),
                f.sha256
            ));
        }
        originals.push(p);
    }
    let pipeline_check = if differs.iter().any(|d| d.starts_with("original")) {
        None
    } else {
        let out_dir =
            std::env::temp_dir().join(format!("facexplain-verify-{}", std::process::id()));
        let [a, b]: [PathBuf; 2] = originals
            .try_into()
            .map_err(|_| BadInput("two inputs".into()))?;
        let args = compare_args(a, b, &case.parameters, out_dir.clone());
        let rerun = compare::analyse(&args);
        let _ = std::fs::remove_dir_all(&out_dir);
        Some(rerun?)
    };
    if let Some((pipeline, analysis)) = &pipeline_check {
        let now: BTreeMap<_, _> = model_files(pipeline)?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        for m in &case.models {
            match now.get(&m.id) {
                Some(n) if n.sha256 == m.sha256 => {}
                Some(n) => differs.push(format!(
                    "model {} ({}): SHA-256 now {}, the case recorded {}",
                    m.id, m.file, n.sha256, m.sha256
                )),
                None => differs.push(format!("model {} ({}) is missing", m.id, m.file)),
            }
        }
        differs.extend(analysis_differences(&case.analysis, analysis));
        if case.analysis.software != analysis.software {
            println!(
                "note: recorded with {} {}, re-run with {} {}",
                case.analysis.software.name,
                case.analysis.software.version,
                analysis.software.name,
                analysis.software.version
            );
        }
    }
    if differs.is_empty() {
        println!(
            "reproduced: inputs, models and every number of the analysis are identical \
             (bit for bit; wall times and the folder the re-run wrote to are not compared)"
        );
        return Ok(());
    }
    for d in &differs {
        println!("DIFFERS: {d}");
    }
    Err(Differs(format!(
        "{}: not reproduced ({} difference(s)): {}",
        path.display(),
        differs.len(),
        differs.join("; ")
    ))
    .into())
}

/// Keys not compared: wall times, the software identity (reported apart),
/// and the paths the re-run wrote its files to (their SHA-256s are compared).
const NOT_COMPARED: [&str; 4] = ["timings_ms", "software", "files", "aligned_crops"];

/// Every value of `recorded` that `rerun` does not reproduce, by JSON path.
/// Numbers are compared through their JSON text, which round-trips every
/// f32/f64 exactly: equal text ⇔ equal bits.
pub fn analysis_differences(recorded: &Analysis, rerun: &Analysis) -> Vec<String> {
    let (Ok(a), Ok(b)) = (serde_json::to_value(recorded), serde_json::to_value(rerun)) else {
        return vec!["the analysis cannot be serialised".into()];
    };
    let mut out = Vec::new();
    diff_values("analysis", &a, &b, &mut out);
    out
}

fn diff_values(at: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
            for k in keys
                .into_iter()
                .filter(|k| !NOT_COMPARED.contains(&k.as_str()))
            {
                let here = format!("{at}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_values(&here, u, v, out),
                    (Some(_), None) => {
                        out.push(format!("{here}: recorded, absent from the re-run"))
                    }
                    (None, Some(_)) => out.push(format!("{here}: new in the re-run")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff_values(&format!("{at}[{i}]"), u, v, out);
            }
        }
        _ if a != b => out.push(format!("{at}: recorded {a}, re-run {b}")),
        _ => {}
    }
}
