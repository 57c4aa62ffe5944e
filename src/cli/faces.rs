//! `facexplain faces IMAGE`: list the detected faces.

use crate::pipeline::Pipeline;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct FacesArgs {
    /// The image to search for faces.
    pub image: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: FacesArgs) -> anyhow::Result<()> {
    let pipeline = Pipeline::load()?;
    let detected = pipeline.detect_file(&a.image)?;
    if a.json {
        let out = serde_json::json!({
            "path": a.image.display().to_string(),
            "sha256": detected.image.sha256,
            "width": detected.image.width(),
            "height": detected.image.height(),
            "faces": detected.faces,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{}: {} face(s), largest first",
        a.image.display(),
        detected.faces.len()
    );
    for (i, f) in detected.faces.iter().enumerate() {
        let [x, y, w, h] = f.bbox;
        println!(
            "  #{i}: box x={x:.0} y={y:.0} w={w:.0} h={h:.0}  score {:.3}",
            f.score
        );
    }
    Ok(())
}
