//! Explanations with known answers: a synthetic ONNX embedder (written here
//! byte by byte) whose output depends only on two fixed pixel blocks, so every
//! X-Map and Mery map must peak inside them and the region tables must rank
//! their region first; cancellation; and, on a real face with the real
//! models, the anatomy of the FaceMesh regions and reproducible maps.

use facexplain::explain::mery::{self, MeryMethod, MeryParams};
use facexplain::explain::occlusion::{Engine, face_tensor};
use facexplain::explain::regions::{Region, RegionMasks};
use facexplain::explain::xmap::{self, XMapMethod, XMapParams, XMapSet};
use facexplain::explain::{self, ExplainError, ExplainParams, Update, table};
use facexplain::pipeline::facemesh::FaceMesh;
use facexplain::pipeline::{Embedder, Pipeline};
use facexplain::progress::{Ctl, Progress};
use ndarray::{Array2, Array3};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::onnx::{B, BLOCKS, SIDE, block_embedder, in_block, synthetic_face};

/// Two faces that differ everywhere outside the blocks; inside, A is at 250
/// and B at `b_level`.
fn pair(b_level: u8) -> [Array3<f32>; 2] {
    [
        face_tensor(&synthetic_face(1, 250)),
        face_tensor(&synthetic_face(2, b_level)),
    ]
}

fn argmax(m: &Array2<f32>) -> (usize, usize) {
    let mut best = (f32::MIN, (0, 0));
    for ((y, x), &v) in m.indexed_iter() {
        if v > best.0 {
            best = (v, (y, x));
        }
    }
    best.1
}

/// The "nose" is exactly the two blocks; the other regions are small squares elsewhere.
fn block_regions() -> RegionMasks {
    let sq = |r: f32, c: f32, s: f32| {
        vec![
            [c - 0.5, r - 0.5],
            [c + s - 0.5, r - 0.5],
            [c + s - 0.5, r + s - 0.5],
            [c - 0.5, r + s - 0.5],
        ]
    };
    let mut polys = Vec::new();
    for &(r, c) in &BLOCKS {
        polys.push((Region::Nose, sq(r as f32, c as f32, B as f32)));
    }
    let others = [
        (4.0, 4.0),
        (4.0, 54.0),
        (4.0, 100.0),
        (54.0, 4.0),
        (54.0, 100.0),
        (100.0, 4.0),
        (100.0, 54.0),
        (54.0, 54.0),
    ];
    for (r, (y, x)) in Region::ALL
        .iter()
        .filter(|&&r| r != Region::Nose)
        .zip(others)
    {
        polys.push((*r, sq(y, x, 8.0)));
    }
    RegionMasks::from_polygons(SIDE, polys)
}

fn run_xmaps(
    e: &Embedder,
    params: &XMapParams,
    ctl: Ctl,
    updates: &mut Vec<XMapSet>,
) -> (Result<XMapSet, ExplainError>, usize) {
    // Different block levels, so co-located occlusions (method III) change the distance too.
    let faces = pair(150);
    let mut engine = Engine::new(e, ctl, "X-Maps", params.passes(SIDE));
    let result = engine.embed_faces(&[&faces[0], &faces[1]]).and_then(|o| {
        xmap::run(
            &mut engine,
            [&faces[0], &faces[1]],
            [o.row(0), o.row(1)],
            params,
            &mut |s| updates.push(s.clone()),
        )
    });
    (result, engine.passes)
}

#[test]
fn synthetic_onnx_embedder_sees_only_its_blocks() {
    let e = block_embedder(true);
    let faces = pair(150);
    let mut other = faces[0].clone();
    // Changing pixels outside the blocks changes nothing; inside, it does.
    other.slice_mut(ndarray::s![.., 0..20, ..]).fill(0.0);
    let a = e
        .embed_tensor(ndarray::stack![ndarray::Axis(0), faces[0], other].view())
        .unwrap();
    assert_eq!(a.row(0), a.row(1));
    let want = [100.0f32, 250.0, 250.0];
    let n = want.iter().map(|v| v * v).sum::<f32>().sqrt();
    for k in 0..3 {
        assert!((a[[0, k]] - want[k] / n).abs() < 1e-5, "{:?}", a.row(0));
    }
}

#[test]
fn every_xmap_peaks_inside_the_blocks_and_the_table_ranks_them_first() {
    let e = block_embedder(true);
    let params = XMapParams::default();
    let mut updates = Vec::new();
    let (result, passes) = run_xmaps(&e, &params, Ctl::none(), &mut updates);
    let set = result.expect("X-Maps");
    assert_eq!(passes, 2262, "exactly 2 originals + 2 × 1130 occlusions");
    // Progressive: a p=28 preview, p=28, then 28+14, then all three.
    let sizes: Vec<Vec<usize>> = updates.iter().map(|u| u.patch_sizes.clone()).collect();
    assert_eq!(
        sizes,
        vec![vec![28], vec![28], vec![28, 14], vec![28, 14, 7]]
    );
    assert_eq!(
        updates
            .iter()
            .map(|u| (u.preview, u.complete))
            .collect::<Vec<_>>(),
        vec![
            (Some((81, 289)), false),
            (None, false),
            (None, false),
            (None, true)
        ]
    );
    assert!(set.complete && set.maps.len() == 6);
    for u in [&updates[0], &updates[1], &set] {
        for m in &u.maps {
            let (y, x) = argmax(&m.values);
            assert!(
                in_block(y, x),
                "{} face {} sizes {:?} peaks at ({y},{x})",
                m.name(),
                m.face,
                u.patch_sizes
            );
            assert_eq!(m.values[[y, x]], 1.0);
            assert!(m.values.iter().all(|v| (-1.0..=1.0).contains(v)));
            // Positive = similar: occluding the blocks pushes the faces apart.
            assert!(m.scale > 0.0);
        }
    }
    // III is the same map on both faces.
    assert_eq!(
        set.get(XMapMethod::III, 0).unwrap().values,
        set.get(XMapMethod::III, 1).unwrap().values
    );
    let r = block_regions();
    let columns: Vec<table::Column> = set
        .maps
        .iter()
        .map(|m| table::Column {
            name: format!("{} {}", m.name(), m.face),
            map: &m.values,
            regions: &r,
        })
        .collect();
    let t = table::build(&columns);
    assert_eq!(t.rows[0].region, "nose", "{t:#?}");
    assert_eq!(t.rows[0].ratio_of_ones, 1.0, "{t:#?}");
    // Reproducible: the same inputs give identical numbers.
    let mut again = Vec::new();
    let (second, _) = run_xmaps(&e, &params, Ctl::none(), &mut again);
    for (a, b) in set.maps.iter().zip(&second.unwrap().maps) {
        assert_eq!(a.values, b.values);
    }
}

#[test]
fn every_mery_map_peaks_inside_the_blocks_and_the_table_ranks_them_first() {
    let e = block_embedder(false);
    let faces = pair(250);
    // One perturbed face: the pass count below is per face.
    let params = MeryParams {
        faces: vec![0],
        ..MeryParams::default()
    };
    let run = || {
        let mut engine = Engine::new(&e, Ctl::none(), "Mery", 0);
        let o = engine.embed_faces(&[&faces[0], &faces[1]]).unwrap();
        let set = mery::run(
            &mut engine,
            [&faces[0], &faces[1]],
            [o.row(0), o.row(1)],
            &params,
        )
        .expect("Mery maps");
        (set, engine.passes - 2)
    };
    let (set, passes) = run();
    assert_eq!(set.centres.len(), 36);
    let (_, removal, aggregation) = set.iterations[0];
    assert!(
        removal >= 2 && aggregation >= 2,
        "both blocks are found: {:?}",
        set.iterations
    );
    // Passes: removal 36 + 35 + …, aggregation 1 + 36 per step.
    let want: usize = (0..removal).map(|t| 36 - t).sum::<usize>() + 1 + 36 * aggregation;
    assert_eq!(passes, want);
    assert_eq!(set.maps.len(), 5);
    for m in &set.maps {
        let (y, x) = argmax(&m.values);
        assert!(in_block(y, x), "{} peaks at ({y},{x})", m.name());
        assert!(m.values.iter().all(|v| (0.0..=1.0).contains(v)));
    }
    // Greedy removal takes the blocks' centres first (ties to the first in row-major order).
    let s1 = set.get(MeryMethod::S1Minus, 0).unwrap();
    let top = s1.centre_values.iter().cloned().fold(f32::MIN, f32::max);
    assert!(
        [7usize, 28].iter().any(|&i| s1.centre_values[i] == top),
        "{:?}",
        s1.centre_values
    );
    let r = block_regions();
    let cols: Vec<table::Column> = set
        .maps
        .iter()
        .map(|m| table::Column {
            name: m.name().into(),
            map: &m.values,
            regions: &r,
        })
        .collect();
    let t = table::build(&cols);
    assert_eq!(t.methods, vec!["S0-", "S1-", "S0+", "S1+", "AVG"]);
    assert_eq!(t.rows[0].region, "nose", "{t:#?}");
    assert_eq!(
        t.rows[0].levels.values().filter(|&&l| l == 1).count(),
        5,
        "{t:#?}"
    );
    // Seeded: identical numbers on a second run.
    let (again, _) = run();
    for (a, b) in set.maps.iter().zip(&again.maps) {
        assert_eq!(a.values, b.values);
    }
}

#[test]
fn cancelling_mid_way_stops_within_a_batch_with_no_complete_result() {
    let e = block_embedder(true);
    let cancel = AtomicBool::new(false);
    let seen = AtomicUsize::new(0);
    let progress = |p: Progress| {
        seen.store(p.done, Ordering::SeqCst);
        if p.done >= 700 {
            cancel.store(true, Ordering::SeqCst);
        }
    };
    let mut updates = Vec::new();
    let (result, passes) = run_xmaps(
        &e,
        &XMapParams::default(),
        Ctl::new(&progress, &cancel),
        &mut updates,
    );
    assert!(matches!(result, Err(ExplainError::Cancelled)), "{result:?}");
    assert!(
        passes >= 700 && passes < 700 + e.batch,
        "stopped after {passes} passes"
    );
    // The p=28 preview and maps had arrived (and say they are not complete); nothing complete did.
    assert_eq!(updates.len(), 2);
    assert!(updates.iter().all(|u| !u.complete));
}

// ---- real models and a real face ----

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn models() -> &'static (Pipeline, FaceMesh) {
    static M: OnceLock<(Pipeline, FaceMesh)> = OnceLock::new();
    M.get_or_init(|| {
        let p = Pipeline::load().expect("models (run scripts/setup.sh)");
        let fm = FaceMesh::load(&p.store).expect("FaceMesh");
        (p, fm)
    })
}

#[test]
fn facemesh_regions_on_a_real_face_are_anatomical() {
    let (p, fm) = models();
    for file in [
        "face_recognition/obama.jpg",
        "grace_hopper.jpg",
        "astronaut.png",
    ] {
        let f = p.analyze_file(&data(file), None).unwrap();
        let mesh = fm
            .landmarks(&f.image.rgb, f.face(), &f.aligned.transform)
            .unwrap();
        assert!(mesh.presence > 0.5, "{file}: presence {}", mesh.presence);
        // The mesh agrees with the detector: eye corners bracket YuNet's eye centres.
        let al = &mesh.aligned;
        let mid = |a: usize, b: usize| [(al[a][0] + al[b][0]) / 2.0, (al[a][1] + al[b][1]) / 2.0];
        let (right_eye, left_eye) = (mid(33, 133), mid(362, 263));
        assert!(
            (right_eye[0] - 38.3).abs() < 6.0 && (right_eye[1] - 51.7).abs() < 6.0,
            "{file}: {right_eye:?}"
        );
        assert!(
            (left_eye[0] - 73.5).abs() < 6.0 && (left_eye[1] - 51.5).abs() < 6.0,
            "{file}: {left_eye:?}"
        );
        let r = RegionMasks::from_mesh(al, SIDE).unwrap();
        let c = |reg: Region| {
            r.centroid(reg)
                .unwrap_or_else(|| panic!("{file}: {} is empty", reg.name()))
        };
        for reg in Region::ALL {
            assert!(r.area(reg) > 0, "{file}: {} empty", reg.name());
        }
        let y = |reg| c(reg)[1];
        let x = |reg| c(reg)[0];
        for (upper, lower) in [
            (Region::LeftEyebrow, Region::LeftEye),
            (Region::RightEyebrow, Region::RightEye),
            (Region::LeftEye, Region::Nose),
            (Region::RightEye, Region::Nose),
            (Region::Nose, Region::Lips),
            (Region::Lips, Region::Chin),
        ] {
            assert!(
                y(upper) < y(lower),
                "{file}: {} ({}) not above {} ({})",
                upper.name(),
                y(upper),
                lower.name(),
                y(lower)
            );
        }
        // Subject's left is on the image's right; pairs are mirrored about the nose.
        for (left, right) in [
            (Region::LeftEyebrow, Region::RightEyebrow),
            (Region::LeftEye, Region::RightEye),
            (Region::LeftCheek, Region::RightCheek),
        ] {
            assert!(
                x(left) > x(right),
                "{file}: {} not right of {}",
                left.name(),
                right.name()
            );
            assert!(
                ((x(left) + x(right)) / 2.0 - x(Region::Nose)).abs() < 6.0,
                "{file}: {} / {} not mirrored",
                left.name(),
                right.name()
            );
            assert!(
                (y(left) - y(right)).abs() < 6.0,
                "{file}: {} / {} at different heights",
                left.name(),
                right.name()
            );
        }
        // Masks do not overlap: every pixel has at most one label, and the per-region
        // areas add up to the labelled pixels.
        let labelled = r.label.iter().filter(|&&l| l > 0).count();
        assert_eq!(
            Region::ALL.iter().map(|&g| r.area(g)).sum::<usize>(),
            labelled
        );
    }
}

#[test]
fn real_pair_explained_end_to_end_reproducibly_and_cancellable() {
    let (p, fm) = models();
    explained_end_to_end(p, fm);
}

/// The second shipped recogniser (issue 19) passes the same checks as SFace:
/// the order of the results, the passes, the tables, reproducibility and a
/// prompt cancel.
#[test]
fn mobilefacenet_pair_explained_like_sface() {
    let (_, fm) = models();
    let p = Pipeline::load_model("mobilefacenet").expect("MobileFaceNet (scripts/setup.sh)");
    assert_eq!(p.recogniser.id(), "mobilefacenet");
    explained_end_to_end(&p, fm);
}

/// The sample pair explained with `p`'s recogniser: every structural check.
fn explained_end_to_end(p: &Pipeline, fm: &FaceMesh) {
    let a = p
        .analyze_file(&data("face_recognition/obama.jpg"), None)
        .unwrap();
    let b = p
        .analyze_file(&data("face_recognition/obama2.jpg"), None)
        .unwrap();
    let params = ExplainParams {
        xmap: Some(XMapParams {
            patch_sizes: vec![28],
            stride: 10,
            ..XMapParams::default()
        }),
        mery: Some(MeryParams {
            tmax: 3,
            ..MeryParams::default()
        }),
        ..ExplainParams::default()
    };
    let run = |ctl: Ctl| {
        let mut kinds = Vec::new();
        let r = explain::explain(&p.embedder, Some(fm), [&a, &b], &params, ctl, &mut |u| {
            kinds.push(match u {
                Update::Regions(_) => "regions",
                Update::XMaps(_) => "xmaps",
                Update::Mery(_) => "mery",
                Update::Greedy(_) => "greedy",
                Update::Faithfulness(_) => "faithfulness",
            })
        });
        (r, kinds)
    };
    let (ex, kinds) = run(Ctl::none());
    let ex = ex.expect("explanation");
    // The X-Maps arrive twice: their preview (every other position), then the map.
    assert_eq!(kinds, vec!["regions", "xmaps", "xmaps", "mery"]);
    assert_eq!(ex.xmap_stats.passes, 2 + 2 * 81);
    let xt = ex.xmap_table.as_ref().unwrap();
    let mt = ex.mery_table.as_ref().unwrap();
    assert_eq!(xt.rows.len(), 9);
    // Mery maps of both faces by default, one column per map and face.
    let want: Vec<String> = ["A", "B"]
        .iter()
        .flat_map(|f| ["S0-", "S1-", "S0+", "S1+", "AVG"].map(|m| format!("{m} ({f})")))
        .collect();
    assert_eq!(mt.methods, want);
    assert_eq!(ex.mery.as_ref().unwrap().maps.len(), 10);
    assert!(mt.rows.windows(2).all(|w| w[0].mean <= w[1].mean));
    let (again, _) = run(Ctl::none());
    let again = again.unwrap();
    for (m1, m2) in ex
        .mery
        .as_ref()
        .unwrap()
        .maps
        .iter()
        .zip(&again.mery.unwrap().maps)
    {
        assert_eq!(m1.values, m2.values);
    }
    for (m1, m2) in ex
        .xmaps
        .as_ref()
        .unwrap()
        .maps
        .iter()
        .zip(&again.xmaps.unwrap().maps)
    {
        assert_eq!(m1.values, m2.values);
    }
    assert_eq!(ex.mery_table, again.mery_table);

    // Cancel as soon as the X-Maps start: the job returns promptly with an error.
    let cancel = AtomicBool::new(false);
    let at = std::sync::Mutex::new(None::<Instant>);
    let progress = |pr: Progress| {
        if pr.stage == "X-Maps" && pr.done >= 2 && !cancel.swap(true, Ordering::SeqCst) {
            *at.lock().unwrap() = Some(Instant::now());
        }
    };
    let (r, kinds) = run(Ctl::new(&progress, &cancel));
    let waited = at.lock().unwrap().expect("cancel was requested").elapsed();
    assert!(matches!(r, Err(ExplainError::Cancelled)), "{:?}", r.err());
    assert!(
        !kinds.contains(&"xmaps") && !kinds.contains(&"mery"),
        "{kinds:?}"
    );
    assert!(waited < Duration::from_secs(3), "took {waited:?} to stop");
}
