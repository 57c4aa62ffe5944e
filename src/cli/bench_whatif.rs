//! `facexplain bench-whatif`: the latency of a what-if occlusion (issue 16)
//! on the sample pair — from a finished mask (a seeded brush stroke, or a
//! facial region) to the new similarity: fill, one forward pass, cosine — per
//! fill, p50 and p99, with a bare single-face pass in the same run as the
//! peer. What the app adds on top (the worker queue, one frame) is not in
//! these figures.

use crate::explain::occlusion::face_tensor;
use crate::explain::whatif::{self, Fill};
use crate::pipeline::Pipeline;
use crate::pipeline::embed::faces_to_tensor;
use clap::Args;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchWhatifArgs {
    /// Strokes per fill.
    #[arg(long, default_value_t = 100)]
    pub reps: usize,
    /// Brush radius, crop pixels.
    #[arg(long, default_value_t = 8)]
    pub radius: usize,
}

/// A seeded stroke: a chain of discs of `radius` along a random walk.
fn stroke(rng: &mut ChaCha8Rng, side: usize, radius: usize) -> Array2<bool> {
    let mut m = Array2::from_elem((side, side), false);
    let (mut y, mut x) = (
        rng.random_range(20..side - 20) as f32,
        rng.random_range(20..side - 20) as f32,
    );
    for _ in 0..12 {
        crate::session::whatif::paint_disc(&mut m, x, y, radius as f32, true);
        y = (y + rng.random_range(-6.0..6.0)).clamp(0.0, side as f32 - 1.0);
        x = (x + rng.random_range(-6.0..6.0)).clamp(0.0, side as f32 - 1.0);
    }
    m
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub fn run(a: BenchWhatifArgs) -> anyhow::Result<()> {
    let [pa, pb] = crate::resources::sample_pair().ok_or_else(|| {
        anyhow::anyhow!("the sample pair is not installed (data/face_recognition)")
    })?;
    let p = Pipeline::load()?;
    let fa = p.analyze_file(&pa, None)?;
    let fb = p.analyze_file(&pb, None)?;
    let t = [face_tensor(&fa.aligned.crop), face_tensor(&fb.aligned.crop)];
    let side = t[0].dim().1;
    let reps = a.reps.max(2);
    let one = faces_to_tensor(&[&fa.aligned.crop]);
    let mut bare = Vec::with_capacity(reps);
    p.embedder.embed_tensor(one.view())?;
    for _ in 0..reps {
        let s = Instant::now();
        p.embedder.embed_tensor(one.view())?;
        bare.push(s.elapsed().as_secs_f64() * 1e3);
    }
    bare.sort_by(f64::total_cmp);
    println!(
        "what-if latency, sample pair, {reps} seeded strokes of radius {} per fill (mask → similarity)",
        a.radius
    );
    println!(
        "bare pass (1 face)   p50 {:>7.2} ms  p99 {:>7.2} ms",
        pct(&bare, 0.5),
        pct(&bare, 0.99)
    );
    for fill in Fill::ALL {
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        let mut ms = Vec::with_capacity(reps);
        for i in 0..reps {
            let m = stroke(&mut rng, side, a.radius);
            // Every fifth stroke hides both faces (two faces in one pass).
            let both = i % 5 == 4;
            let s = Instant::now();
            whatif::similarity(
                &p.embedder,
                [&t[0], &t[1]],
                [&fa.embedding, &fb.embedding],
                [Some(&m), both.then_some(&m)],
                fill,
            )?;
            ms.push(s.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "fill {:<6}          p50 {:>7.2} ms  p99 {:>7.2} ms  ({:.2}× the bare pass at p50; target ≤ 100 ms)",
            fill.label(),
            pct(&ms, 0.5),
            pct(&ms, 0.99),
            pct(&ms, 0.5) / pct(&bare, 0.5)
        );
    }
    Ok(())
}
