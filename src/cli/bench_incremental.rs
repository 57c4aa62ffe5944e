//! `facexplain bench-explain`'s incremental-inference figures (issue 17): in
//! one run on the same pair, the full X-Map with whole passes forced, with
//! incremental inference, and in the independent Python + ONNX Runtime
//! implementation (`scripts/xmap_ort_python.py`, whole passes); their ratios,
//! the time to the first (p = 28) maps, the share of multiply-adds saved and
//! the largest difference between the incremental and whole maps.

use crate::explain::incremental::Plan;
use crate::explain::xmap::{XMapParams, positions};
use crate::explain::{self, ExplainParams, Explanation, Update};
use crate::pipeline::facemesh::FaceMesh;
use crate::pipeline::{Embedder, FaceAnalysis, Pipeline};
use crate::progress::Ctl;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// When the maps of one full X-Map reached the screen, in seconds from the start.
pub struct XMapTimes {
    /// The preview (the largest patch size at every other position).
    pub preview: f64,
    /// The first exact maps (p = 28).
    pub first: f64,
    pub total: f64,
}

/// One full X-Map (no Mery maps): the explanation and its [`XMapTimes`].
pub fn xmap_once(
    p: &Pipeline,
    fm: &FaceMesh,
    faces: [&FaceAnalysis; 2],
) -> anyhow::Result<(Explanation, XMapTimes)> {
    let params = ExplainParams {
        mery: None,
        ..ExplainParams::default()
    };
    let t = Instant::now();
    let (mut preview, mut first) = (None, None);
    let ex = explain::explain(
        &p.embedder,
        Some(fm),
        faces,
        &params,
        Ctl::none(),
        &mut |u| {
            if let Update::XMaps(x) = u {
                let at = t.elapsed().as_secs_f64();
                preview.get_or_insert(at);
                if x.preview.is_none() {
                    first.get_or_insert(at);
                }
            }
        },
    )?;
    let first = first.unwrap_or(0.0);
    let times = XMapTimes {
        preview: preview.unwrap_or(first),
        first,
        total: t.elapsed().as_secs_f64(),
    };
    Ok((ex, times))
}

/// Multiply-adds of the X-Map job incrementally and with whole passes (the
/// two originals, each face's segment activations once, every occlusion).
pub fn xmap_macs(e: &Embedder, params: &XMapParams, side: usize) -> Option<(u64, u64)> {
    let plan = Plan::new(e.stages(), side)?;
    if e.stages().is_empty() {
        return None;
    }
    let rest = e.back_macs + e.head_macs;
    let (mut inc, mut whole, mut per_whole) = (0, 0, 0);
    for &p in &params.size_order() {
        for (y, x) in positions(p, params.stride, side) {
            let (i, w) = plan.macs(&plan.places(y, p), &plan.places(x, p));
            inc += 2 * (i + rest);
            whole += 2 * (w + rest);
            per_whole = w + rest;
        }
    }
    // Originals whole in both; the incremental job also runs the segments whole once per face.
    Some((
        inc + 2 * per_whole + 2 * (per_whole - rest),
        whole + 2 * per_whole,
    ))
}

/// The Python interpreter of the ONNX venv the set-up makes.
fn venv_python() -> PathBuf {
    let cache = std::env::var_os("FACEXPLAIN_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("facexplain")))
        .unwrap_or_else(|| PathBuf::from(".cache/facexplain"));
    cache.join("venv-onnx").join("bin").join("python")
}

/// Run the Python X-Map on the two crops; its total time, s.
fn python_xmap(p: &Pipeline, faces: [&FaceAnalysis; 2]) -> anyhow::Result<f64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/xmap_ort_python.py");
    let tmp = std::env::temp_dir().join(format!("facexplain-xmap-{}.f32", std::process::id()));
    let mut bytes = Vec::with_capacity(2 * 3 * 112 * 112 * 4);
    for f in faces {
        let t = crate::explain::occlusion::face_tensor(&f.aligned.crop);
        bytes.extend(t.iter().flat_map(|v| v.to_le_bytes()));
    }
    std::fs::write(&tmp, &bytes)?;
    let out = std::process::Command::new(venv_python())
        .arg(&script)
        .arg(&tmp)
        .arg("--model")
        .arg(p.store.dir.join("sface.onnx"))
        .arg("--json")
        .output();
    let _ = std::fs::remove_file(&tmp);
    let out = out
        .map_err(|e| anyhow::anyhow!("{}: {e} (run scripts/setup.sh)", venv_python().display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    v["total_s"]
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("{}: no total_s in its output", script.display()))
}

/// Print the issue-17 figures for the pair.
pub fn xmap_against_whole_and_python(
    p: &mut Pipeline,
    fm: &FaceMesh,
    faces: [&FaceAnalysis; 2],
) -> anyhow::Result<()> {
    if let Some(why) = &p.embedder.stages_missing {
        println!("incremental inference unavailable: {why}");
    }
    let was = p.embedder.whole_passes;
    p.embedder.whole_passes = true;
    let (whole, w) = xmap_once(p, fm, faces)?;
    p.embedder.whole_passes = false;
    let (inc, i) = xmap_once(p, fm, faces)?;
    p.embedder.whole_passes = was;
    let python = python_xmap(p, faces);

    let mut worst = 0.0f32;
    if let (Some(a), Some(b)) = (&inc.xmaps, &whole.xmaps) {
        for (m1, m2) in a.maps.iter().zip(&b.maps) {
            for (x, y) in m1.values.iter().zip(&m2.values) {
                worst = worst.max((x - y).abs());
            }
        }
    }
    let xp = XMapParams::default();
    println!(
        "full X-Map (I, II, III; p = 28, 14, 7; both faces), incremental against whole passes, batch {}:",
        p.embedder.batch
    );
    println!(
        "  whole passes          {:>6.2} s   first (p=28) maps at {:.2} s, preview at {:.2} s",
        w.total, w.first, w.preview
    );
    println!(
        "  incremental           {:>6.2} s   first (p=28) maps at {:.2} s, preview at {:.2} s   ({} of {} passes incremental)",
        i.total,
        i.first,
        i.preview,
        inc.xmap_stats.passes.saturating_sub(2),
        inc.xmap_stats.passes
    );
    println!(
        "  ratio incr./whole     {:>6.3}        first maps {:.3}, preview {:.3}",
        i.total / w.total,
        i.first / w.first.max(1e-9),
        i.preview / w.first.max(1e-9)
    );
    if let Some((i, w)) = xmap_macs(&p.embedder, &xp, 112) {
        println!(
            "  multiply-adds         {:.0} G incremental, {:.0} G whole: {:.1} % saved",
            i as f64 / 1e9,
            w as f64 / 1e9,
            100.0 * (1.0 - i as f64 / w as f64)
        );
    }
    println!("  largest |incremental − whole| over the six maps: {worst:.2e}");
    match python {
        Ok(py) => println!(
            "  Python + ONNX Runtime (scripts/xmap_ort_python.py, whole passes) {py:.2} s: incremental/Python {:.3}, whole/Python {:.3}",
            i.total / py,
            w.total / py
        ),
        Err(e) => println!("  Python + ONNX Runtime implementation not run: {e}"),
    }
    println!(
        "  Mery maps: whole passes (the Gaussian hole, nh = 161, changes every pixel of the 112×112 face, so no window is left unchanged)"
    );
    Ok(())
}
