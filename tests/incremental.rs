//! Incremental occlusion inference is exact: on the real SFace (its spatial
//! segments from models/), every occlusion's embedding and every X-Map equals
//! the whole passes' within 1e-5; on a synthetic convolution chain with known
//! receptive fields (built here byte by byte), likewise, and an occlusion far
//! from an output leaves it exactly unchanged; results are bit-stable run to run.

mod common;

use facexplain::explain::incremental::Plan;
use facexplain::explain::occlusion::{Engine, face_tensor};
use facexplain::explain::xmap::{self, XMapParams, XMapSet, positions};
use facexplain::pipeline::embed::Lanes;
use facexplain::pipeline::{Embedder, Pipeline, PipelineError};
use facexplain::progress::Ctl;
use facexplain::resources::ModelStore;
use ndarray::{Array2, Array3};

/// The largest absolute difference of two equally shaped arrays.
fn max_diff<'a>(a: impl IntoIterator<Item = &'a f32>, b: impl IntoIterator<Item = &'a f32>) -> f32 {
    a.into_iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// The X-Maps of `faces` on `e`, with whole passes forced or not; the number of
/// passes run incrementally.
fn xmaps(
    e: &mut Embedder,
    faces: &[Array3<f32>; 2],
    params: &XMapParams,
    whole: bool,
) -> (XMapSet, usize) {
    e.whole_passes = whole;
    let side = faces[0].dim().1;
    let mut engine = Engine::new(e, Ctl::none(), "X-Maps", params.passes(side));
    let o = engine.embed_faces(&[&faces[0], &faces[1]]).unwrap();
    let set = xmap::run(
        &mut engine,
        [&faces[0], &faces[1]],
        [o.row(0), o.row(1)],
        params,
        &mut |_| {},
    )
    .unwrap();
    (set, engine.incremental_passes)
}

/// Every map of `a` within `tol` of `b`'s; returns the largest difference.
fn compare(a: &XMapSet, b: &XMapSet, tol: f32) -> f32 {
    assert_eq!(a.maps.len(), b.maps.len());
    let mut worst = 0.0f32;
    for (m1, m2) in a.maps.iter().zip(&b.maps) {
        assert_eq!((m1.method, m1.face), (m2.method, m2.face));
        let d = max_diff(&m1.values, &m2.values);
        assert!(d <= tol, "{} face {}: max diff {d:e}", m1.name(), m1.face);
        worst = worst.max(d);
    }
    worst
}

fn real_faces(p: &Pipeline) -> [Array3<f32>; 2] {
    let crop = |f: &str| {
        let a = p.analyze_file(&common::data(f), None).unwrap();
        face_tensor(&a.aligned.crop)
    };
    [
        crop("face_recognition/obama.jpg"),
        crop("face_recognition/biden.jpg"),
    ]
}

/// The pipeline with SFace's spatial segments, or `None` (said on stderr)
/// when their files are not installed yet: a checkout whose models/ predates
/// them (scripts/setup.sh, which scripts/test.sh runs first, installs them).
fn pipeline_with_segments() -> Option<Pipeline> {
    let p = Pipeline::load().expect("models (run scripts/setup.sh)");
    if p.embedder.stages().is_empty() {
        let why = p.embedder.stages_missing.clone().unwrap_or_default();
        assert!(why.contains("is missing"), "segments not loaded: {why}");
        eprintln!("SKIPPED: {why}");
        return None;
    }
    Some(p)
}

#[test]
fn real_sface_incremental_occlusions_equal_whole_passes() {
    let Some(mut p) = pipeline_with_segments() else {
        return;
    };
    let faces = real_faces(&p);
    // Every patch size, at a coarser stride than the default (the benchmark
    // compares the full default X-Map and prints its largest difference).
    let params = XMapParams {
        stride: 9,
        ..XMapParams::default()
    };
    let (inc, n_inc) = xmaps(&mut p.embedder, &faces, &params, false);
    let (whole, n_whole) = xmaps(&mut p.embedder, &faces, &params, true);
    assert_eq!(
        n_inc,
        params.passes(112) - 2,
        "every occlusion ran incrementally"
    );
    assert_eq!(n_whole, 0);
    let worst = compare(&inc, &whole, 1e-5);
    eprintln!("real SFace: largest X-Map difference incremental vs whole {worst:e}");

    // The embeddings themselves, at the image's corners and inside.
    let e = &mut p.embedder;
    for p_side in [7, 28] {
        let at: Vec<(usize, usize)> = vec![(0, 0), (0, 105 - p_side), (50, 3), (84, 84)]
            .into_iter()
            .filter(|&(y, x)| y + p_side <= 112 && x + p_side <= 112)
            .collect();
        let run = |e: &mut Embedder, whole: bool| {
            e.whole_passes = whole;
            let mut engine = Engine::new(e, Ctl::none(), "t", 0);
            engine
                .embed_occlusions([&faces[0], &faces[1]], &at, p_side, [0, 0, 0])
                .unwrap()
        };
        let a = run(e, false);
        let b = run(e, true);
        let d = max_diff(&a, &b);
        assert!(d <= 1e-5, "p = {p_side}: embeddings differ by {d:e}");
        // Bit-stable run to run.
        assert_eq!(a, run(e, false));
    }
}

/// A segment file with one byte changed is refused by name and expected
/// hash; without the segment files the embedder loads and says why it runs
/// whole passes only.
#[test]
fn a_tampered_segment_is_refused_and_missing_ones_fall_back_to_whole_passes() {
    let Some(_) = pipeline_with_segments() else {
        return;
    };
    let store = ModelStore::locate().unwrap();
    let base = ["yunet", "sface", "sface-trunk", "sface-head"];
    let inc: Vec<String> = store
        .manifest
        .models
        .iter()
        .filter(|e| e.id.starts_with("sface-inc-"))
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(inc.len(), 6, "five segments and the back: {inc:?}");
    for (case, tamper) in [("tampered", Some(inc[2].as_str())), ("missing", None)] {
        let tmp = tempfile::tempdir().unwrap();
        let ids: Vec<&str> = base
            .iter()
            .copied()
            .chain(inc.iter().map(|s| s.as_str()).filter(|_| tamper.is_some()))
            .collect();
        for id in ids {
            let mut bytes = std::fs::read(store.path(id).unwrap()).unwrap();
            if Some(id) == tamper {
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0x01;
            }
            let file = &store.manifest.entry(id).unwrap().file;
            std::fs::write(tmp.path().join(file), bytes).unwrap();
        }
        let at = ModelStore::at(tmp.path()).unwrap();
        let r = Pipeline::load_from(at);
        match tamper {
            Some(id) => {
                let err = r.err().expect("tampered segment refused");
                let entry = store.manifest.entry(id).unwrap();
                let msg = err.to_string();
                assert!(
                    matches!(err, PipelineError::ModelHash { .. }),
                    "{case}: {msg}"
                );
                assert!(
                    msg.contains(&entry.file) && msg.contains(&entry.sha256),
                    "{msg}"
                );
            }
            None => {
                let p = r.expect("loads without the segments");
                assert!(p.embedder.stages().is_empty());
                let why = p.embedder.stages_missing.unwrap_or_default();
                assert!(
                    why.contains("sface-inc-1.onnx") && why.contains("fetch-models"),
                    "{why}"
                );
            }
        }
    }
    assert_eq!(positions(7, 5, 112).len(), 441);
}

/// Unused-result guard: an all-zero array would pass `max_diff` trivially.
#[test]
fn max_diff_sees_a_difference() {
    let a = Array2::<f32>::zeros((2, 2));
    let mut b = a.clone();
    b[[1, 1]] = 0.5;
    assert_eq!(max_diff(&a, &b), 0.5);
    let _ = Lanes::auto();
}

// ---- a synthetic convolution chain with known receptive fields ----

/// Protobuf fields of ONNX's ModelProto, written by hand (no protobuf crate).
#[derive(Default, Clone)]
struct Msg(Vec<u8>);

impl Msg {
    fn key(&mut self, field: u64, wire: u64) {
        self.varint((field << 3) | wire);
    }
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn i(mut self, field: u64, v: i64) -> Self {
        self.key(field, 0);
        self.varint(v as u64);
        self
    }
    fn b(mut self, field: u64, bytes: &[u8]) -> Self {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
        self
    }
    fn s(self, field: u64, text: &str) -> Self {
        self.b(field, text.as_bytes())
    }
    fn m(self, field: u64, inner: &Msg) -> Self {
        self.b(field, &inner.0)
    }
}

/// A float initializer.
fn init(name: &str, dims: &[usize], data: &[f32]) -> Msg {
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    dims.iter()
        .fold(Msg::default(), |t, &d| t.i(1, d as i64))
        .i(2, 1)
        .s(8, name)
        .b(9, &raw)
}

/// A float tensor's type; `None` dims are symbolic.
fn io(name: &str, dims: &[Option<usize>]) -> Msg {
    let shape = dims.iter().enumerate().fold(Msg::default(), |s, (k, d)| {
        s.m(
            1,
            &match d {
                Some(v) => Msg::default().i(1, *v as i64),
                None => Msg::default().s(2, &format!("d{k}")),
            },
        )
    });
    let ty = Msg::default().i(1, 1).m(2, &shape);
    Msg::default().s(1, name).m(2, &Msg::default().m(1, &ty))
}

/// An INTS attribute.
fn ints(name: &str, v: &[i64]) -> Msg {
    v.iter()
        .fold(Msg::default().s(1, name).i(20, 7), |a, &x| a.i(8, x))
}

/// One layer of the chain: 3×3 convolution (pad 1) then Relu.
struct Layer {
    cin: usize,
    cout: usize,
    stride: usize,
}

/// Deterministic pseudo-random weights in (−0.5, 0.5).
fn weights(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

/// A graph over `layers` (input `x`), then optionally Flatten → MatMul to 8
/// outputs over a `side`-pixel input; `meta`: the custom metadata to store.
fn chain(
    layers: &[(usize, &Layer)],
    cin: usize,
    side: usize,
    back: bool,
    meta: &[(&str, u64)],
) -> Vec<u8> {
    let mut g = Msg::default().s(2, "chain");
    let mut cur = "x".to_string();
    let mut res = side;
    for (k, l) in layers {
        let w = format!("w{k}");
        let (c, r) = (format!("c{k}"), format!("r{k}"));
        g = g.m(
            5,
            &init(
                &w,
                &[l.cout, l.cin, 3, 3],
                &weights(l.cout * l.cin * 9, *k as u64),
            ),
        );
        let conv = Msg::default()
            .s(1, &cur)
            .s(1, &w)
            .s(2, &c)
            .s(3, &c)
            .s(4, "Conv")
            .m(5, &ints("kernel_shape", &[3, 3]))
            .m(5, &ints("pads", &[1, 1, 1, 1]))
            .m(5, &ints("strides", &[l.stride as i64; 2]));
        g = g
            .m(1, &conv)
            .m(1, &Msg::default().s(1, &c).s(2, &r).s(3, &r).s(4, "Relu"));
        cur = r;
        res /= l.stride;
    }
    let out_c = layers.last().map_or(cin, |(_, l)| l.cout);
    let input = |g: Msg, name: &str, c: usize| g.m(11, &io(name, &[None, Some(c), None, None]));
    if back {
        let n = out_c * res * res;
        let name = if layers.is_empty() { "x" } else { cur.as_str() };
        g = g
            .m(
                1,
                &Msg::default()
                    .s(1, name)
                    .s(2, "f")
                    .s(3, "f")
                    .s(4, "Flatten"),
            )
            .m(5, &init("fc", &[n, 8], &weights(n * 8, 99)))
            .m(
                1,
                &Msg::default()
                    .s(1, "f")
                    .s(1, "fc")
                    .s(2, "y")
                    .s(3, "y")
                    .s(4, "MatMul"),
            )
            .m(12, &io("y", &[None, Some(8)]));
    } else {
        g = g.m(12, &io(&cur, &[None, Some(out_c), None, None]));
    }
    g = input(g, "x", cin);
    let mut model = Msg::default()
        .i(1, 8)
        .s(2, "facexplain-test")
        .m(7, &g)
        .m(8, &Msg::default().s(1, "").i(2, 13));
    for (k, v) in meta {
        model = model.m(14, &Msg::default().s(1, k).s(2, &v.to_string()));
    }
    model.0
}

const LAYERS: [Layer; 3] = [
    Layer {
        cin: 3,
        cout: 4,
        stride: 1,
    },
    Layer {
        cin: 4,
        cout: 6,
        stride: 2,
    },
    Layer {
        cin: 6,
        cout: 6,
        stride: 1,
    },
];

/// The chain whole, cut after its first layer (a 3×3 segment: stride 1, pad
/// 1, receptive field 3) and after its last (two layers: stride 2, pad 1 + 2,
/// receptive field 1 + 2 + 4), and the back (Flatten, MatMul) on 2 lanes.
fn synthetic() -> Embedder {
    let all: Vec<(usize, &Layer)> = LAYERS.iter().enumerate().collect();
    let whole = chain(&all, 3, 112, true, &[]);
    let seg1 = chain(
        &all[0..1],
        3,
        112,
        false,
        &[("stride", 1), ("pad", 1), ("rf", 3), ("macs", 4 * 3 * 9)],
    );
    let seg2 = chain(
        &all[1..3],
        4,
        112,
        false,
        &[
            ("stride", 2),
            ("pad", 3),
            ("rf", 7),
            ("macs", 6 * 4 * 9 + 6 * 6 * 9),
        ],
    );
    let back = chain(&[], 6, 56, true, &[("macs", 6 * 56 * 56 * 8)]);
    let mut e =
        Embedder::from_onnx_stages("chain", &whole, &[seg1, seg2], &back, Lanes::split(2, 2))
            .expect("synthetic chain loads");
    e.batch = 32;
    e
}

/// A seeded textured face-sized tensor, raw 0–255.
fn texture(seed: u64) -> Array3<f32> {
    let w = weights(3 * 112 * 112, seed);
    Array3::from_shape_vec((3, 112, 112), w.iter().map(|v| (v + 0.5) * 255.0).collect()).unwrap()
}

#[test]
fn synthetic_segments_have_the_receptive_fields_the_plan_uses() {
    let e = synthetic();
    let st = e.stages();
    assert_eq!((st[0].stride, st[0].pad, st[0].rf), (1, 1, 3));
    assert_eq!((st[1].stride, st[1].pad, st[1].rf), (2, 3, 7));
    // One pixel at (50, 50) changes outputs 49..52 of the first segment and
    // 23..28 of the second (o reads 2o − 3 … 2o + 3).
    let plan = Plan::new(st, 112).unwrap();
    let places = plan.places(50, 1);
    assert_eq!(
        places.iter().map(|p| p.out).collect::<Vec<_>>(),
        vec![(49, 52), (23, 28)]
    );
    let face = texture(5);
    let mut poked = face.clone();
    poked[[1, 50, 50]] = 0.0;
    let through = |f: &Array3<f32>| {
        let a = e
            .run_stage(0, 0, f.view().insert_axis(ndarray::Axis(0)))
            .unwrap();
        let b = e.run_stage(0, 1, a.view()).unwrap();
        (a, b)
    };
    let (a0, b0) = through(&face);
    let (a1, b1) = through(&poked);
    for (out, before, after) in [((49, 52), &a0, &a1), ((23, 28), &b0, &b1)] {
        let mut changed = 0;
        let (_, _, h, w) = before.dim();
        for y in 0..h {
            for x in 0..w {
                let (u, v) = (
                    before.slice(ndarray::s![0, .., y, x]),
                    after.slice(ndarray::s![0, .., y, x]),
                );
                let inside = (out.0..out.1).contains(&y) && (out.0..out.1).contains(&x);
                assert!(inside || u == v, "({y}, {x}) changed, outside {out:?}");
                changed += usize::from(u != v);
            }
        }
        assert!(changed > 0, "nothing changed inside {out:?}");
    }
}

#[test]
fn synthetic_incremental_xmaps_equal_whole_passes_and_are_bit_stable() {
    let mut e = synthetic();
    let faces = [texture(1), texture(2)];
    let params = XMapParams::default();
    let (inc, n) = xmaps(&mut e, &faces, &params, false);
    assert_eq!(n, params.passes(112) - 2);
    let (whole, _) = xmaps(&mut e, &faces, &params, true);
    let worst = compare(&inc, &whole, 1e-5);
    eprintln!("synthetic chain: largest X-Map difference incremental vs whole {worst:e}");
    let (again, _) = xmaps(&mut e, &faces, &params, false);
    for (a, b) in inc.maps.iter().zip(&again.maps) {
        assert_eq!(a.values, b.values);
    }
}

#[test]
fn the_preview_comes_first_and_is_the_coarse_grid_map() {
    let mut e = synthetic();
    let faces = [texture(3), texture(4)];
    let params = XMapParams::default();
    let mut engine = Engine::new(&e, Ctl::none(), "X-Maps", params.passes(112));
    let o = engine.embed_faces(&[&faces[0], &faces[1]]).unwrap();
    let mut updates: Vec<XMapSet> = Vec::new();
    let full = xmap::run(
        &mut engine,
        [&faces[0], &faces[1]],
        [o.row(0), o.row(1)],
        &params,
        &mut |s| updates.push(s.clone()),
    )
    .unwrap();
    // Each occlusion is still embedded once: the preview costs no extra pass.
    assert_eq!(engine.passes, params.passes(112));
    let kinds: Vec<_> = updates
        .iter()
        .map(|u| (u.preview, u.patch_sizes.clone(), u.complete))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Some((81, 289)), vec![28], false),
            (None, vec![28], false),
            (None, vec![28, 14], false),
            (None, vec![28, 14, 7], true),
        ]
    );
    // The preview is the p = 28 map at twice the stride.
    let coarse = XMapParams {
        patch_sizes: vec![28],
        stride: 2 * params.stride,
        ..params.clone()
    };
    let (want, _) = xmaps(&mut e, &faces, &coarse, false);
    compare(&updates[0], &want, 1e-6);
    // The exact maps are the whole passes' as before.
    let (whole, _) = xmaps(&mut e, &faces, &params, true);
    compare(&full, &whole, 1e-5);
}
