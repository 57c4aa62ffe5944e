//! The desktop app driven headlessly with egui_kittest, through the same code
//! paths a user triggers (dropped files, clicks, keys), with the real models
//! and images. Image snapshots render with wgpu (lavapipe under
//! `scripts/test.sh`); the status bar (elapsed time, progress) is masked.

mod common;
use common::app::{fast_params, harness, settle, snapshot};
use egui::{Key, Modifiers, pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facexplain::app::maps::{MapChoice, RenderMode};
use facexplain::app::table::{SortColumn, TableKind};
use facexplain::app::{AppOptions, FacexplainApp};
use facexplain::explain::ExplainParams;
use facexplain::explain::mery::MeryMethod;
use facexplain::explain::regions::Region;
use facexplain::explain::xmap::XMapMethod;
use facexplain::record::Analysis;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// A file as the windowing layer hands a drop to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Drop files at `pos` (the pointer position) as a user's drag-and-drop does.
fn drop_files(h: &mut Harness<'_, FacexplainApp>, pos: egui::Pos2, files: &[PathBuf]) {
    h.hover_at(pos);
    for f in files {
        h.input_mut()
            .dropped_files
            .push(Arc::new(Dropped(f.clone())));
    }
    h.step();
}

/// Step the UI until `done` holds, then let the layout settle.
fn wait_for(
    h: &mut Harness<'_, FacexplainApp>,
    what: &str,
    limit_s: u64,
    done: impl Fn(&FacexplainApp) -> bool,
) {
    common::app::wait_until(h, what, limit_s, done);
    settle(h);
}

fn region_order(h: &Harness<'_, FacexplainApp>, names: &[String]) -> Vec<String> {
    let mut with_y: Vec<(f32, String)> = names
        .iter()
        .map(|n| (h.get_by_label(n).rect().top(), n.clone()))
        .collect();
    with_y.sort_by(|a, b| a.0.total_cmp(&b.0));
    with_y.into_iter().map(|(_, n)| n).collect()
}

#[test]
fn dropped_files_fill_the_slots_and_bad_files_fail_inline() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    let mut h = harness(app);
    wait_for(&mut h, "the models", 60, |a| a.models.is_some());
    h.get_by_label_contains("Load two images to compare them");

    // Two files dropped at once fill both slots.
    drop_files(
        &mut h,
        pos2(640.0, 400.0),
        &[
            data("face_recognition/obama.jpg"),
            data("face_recognition/obama2.jpg"),
        ],
    );
    wait_for(&mut h, "the verdict", 120, |a| a.analysis().is_some());
    h.get_by_label_contains("Decision: MATCH");
    h.get_by_label("obama2.jpg");
    let similarity = h.state().analysis().map(|a| a.similarity);
    let c = h.state().analysis().and_then(|a| a.confidence);
    assert!(c.is_some_and(|c| c.decision_confidence > 0.5 && c.c_score > 0.5));
    snapshot(&mut h, "start_screen");

    // An unreadable file dropped on the reference slot: inline error, probe and result kept.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("broken.jpg");
    std::fs::write(&bad, b"not a jpeg").unwrap();
    let reference = h.get_by_label("Reference").rect().center();
    drop_files(&mut h, reference, &[bad]);
    wait_for(&mut h, "the bad file", 60, |a| !a.busy());
    h.get_by_label_contains("broken.jpg: not a supported image");
    assert_eq!(
        h.state().analysis().map(|a| a.similarity),
        similarity,
        "the previous result stays on screen"
    );
    assert!(h.state().slots[0].error.is_none());

    // A readable image without a face: the same, with the reason.
    let blank = tmp.path().join("blank.png");
    image::RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128]))
        .save(&blank)
        .unwrap();
    let reference = h.get_by_label("Reference").rect().center();
    drop_files(&mut h, reference, &[blank]);
    wait_for(&mut h, "the blank image", 60, |a| !a.busy());
    h.get_by_label_contains("blank.png: no face was found in the image");
    assert_eq!(h.state().analysis().map(|a| a.similarity), similarity);

    // Biden dropped on the reference slot: non-match.
    let reference = h.get_by_label("Reference").rect().center();
    drop_files(&mut h, reference, &[data("face_recognition/biden.jpg")]);
    wait_for(&mut h, "biden", 60, |a| {
        !a.busy() && a.slots[1].error.is_none() && a.analysis().is_some()
    });
    h.get_by_label_contains("Decision: NON-MATCH");
    h.get_by_label("biden.jpg");
}

#[test]
fn clicking_a_face_box_picks_that_face() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    app.open_files(
        vec![
            data("face_recognition/obama.jpg"),
            data("insightface/t1.jpg"),
        ],
        None,
    );
    let mut h = harness(app);
    wait_for(&mut h, "the pair", 120, |a| a.analysis().is_some());
    let first = h.state().slots[1].analysis.clone().unwrap();
    assert_eq!(first.faces.len(), 6);
    assert_eq!(first.chosen, 0);
    h.get_by_label_contains("6 face(s), using #1");

    h.get_by_label("Reference face 3").click();
    wait_for(&mut h, "face 3", 60, |a| {
        a.slots[1].analysis.as_ref().is_some_and(|f| f.chosen == 2)
    });
    h.get_by_label_contains("6 face(s), using #3");
    let picked = h.state().slots[1].analysis.clone().unwrap();
    assert_ne!(picked.embedding, first.embedding);
    let an = h.state().analysis().unwrap();
    assert_eq!(an.images[1].face_index, 2);
    assert_eq!(an.images[1].face, first.faces[2]);
}

#[test]
fn explain_view_sort_highlight_ask_and_cancel() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.params = fast_params();
    app.open_sample_pair();
    let mut h = harness(app);
    wait_for(&mut h, "the explanation", 400, |a| {
        a.explanation().is_some()
    });
    let ex = h.state().explanation().cloned().unwrap();
    assert!(ex.xmap_table.is_some() && ex.mery_table.is_some());
    assert_eq!(
        h.state().settings.view.map,
        MapChoice::XMap(XMapMethod::III)
    );
    snapshot(&mut h, "xmap_iii");

    // Export: the same record `facexplain compare --json` writes, plus the map files.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("analysis.json");
    h.state_mut().export_analysis(&out).unwrap();
    let exported = Analysis::read(&out).unwrap();
    let [a, b] = h.state().faces().unwrap().map(|f| f.image.path.clone());
    let cli_out = tmp.path().join("cli.json");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_facexplain"))
        .arg("compare")
        .args([a.as_os_str(), b.as_os_str()])
        .arg("--json")
        .arg(&cli_out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let cli = Analysis::read(&cli_out).unwrap();
    assert_eq!(exported.schema, cli.schema);
    assert_eq!(exported.model, cli.model);
    // Both assess each face's quality (issue 13) the same way.
    assert!(cli.images.iter().all(|i| i.quality.is_some()));
    assert_eq!(exported.images, cli.images);
    assert_eq!(exported.similarity, cli.similarity);
    assert_eq!(exported.threshold, cli.threshold);
    assert_eq!(exported.threshold_source, cli.threshold_source);
    assert_eq!(exported.decision, cli.decision);
    assert_eq!(exported.confidence, cli.confidence);
    assert_eq!(exported.explainability_table, ex.mery_table);
    assert_eq!(exported.xmap_table, ex.xmap_table);
    let dir = tmp.path().join("explain-obama-obama2");
    assert_eq!(
        exported.maps.len(),
        6 + 10,
        "X-Maps and Mery maps of both faces"
    );
    for m in &exported.maps {
        assert_eq!(m.files.len(), 3, "{m:?}");
        assert!(m.files.values().all(|f| dir.join(f).is_file()), "{m:?}");
    }

    // Switch maps and render modes; the hover read-out shows the chosen map's value.
    h.get_by_label("X-Map I").click();
    h.get_by_label("Heat overlay").click();
    settle(&mut h);
    assert_eq!(h.state().settings.view.map, MapChoice::XMap(XMapMethod::I));
    assert_eq!(h.state().settings.view.mode, RenderMode::Heat);
    assert!(h.query_all_by_label("opacity").count() >= 1); // the slider appears with the heat overlay
    let face_a = h.get_by_label_contains("face A (probe)").rect();
    h.hover_at(face_a.left_bottom() + vec2(60.0, 80.0));
    settle(&mut h);
    let (f, x, y, value, _) = h.state().viewer.hover.expect("a read-out");
    assert_eq!(f, 0);
    let xmap_i = ex.xmaps.as_ref().unwrap().get(XMapMethod::I, 0).unwrap();
    assert_eq!(value, Some(xmap_i.values[[y, x]]));

    h.get_by_label("S0−").click();
    h.get_by_label("Map only").click();
    settle(&mut h);
    assert_eq!(
        h.state().settings.view.map,
        MapChoice::Mery(MeryMethod::S0Minus)
    );
    assert_eq!(h.state().settings.view.mode, RenderMode::MapOnly);
    // Both faces have their own Mery maps (each perturbed against the other).
    let face_b = h.get_by_label_contains("face B (reference)").rect();
    for (face, label) in [(0, face_a), (1, face_b)] {
        h.hover_at(label.left_bottom() + vec2(60.0, 80.0));
        settle(&mut h);
        let (f, x, y, value, _) = h.state().viewer.hover.unwrap();
        assert_eq!(f, face);
        let s0 = ex.mery.as_ref().unwrap().get(MeryMethod::S0Minus, face);
        assert_eq!(value, Some(s0.unwrap().values[[y, x]]));
    }
    assert!(h.query_by_label_contains("no Mery map").is_none());
    h.get_by_label("X-Map III").click();
    h.get_by_label("HLS blend").click();

    // The saliency table of face A (the paper's), of face B, of both together.
    assert_eq!(h.state().settings.table, TableKind::Saliency);
    let shown =
        |h: &Harness<'_, FacexplainApp>| facexplain::app::table::current(h.state()).cloned();
    assert_eq!(shown(&h), ex.mery_face_tables[0]);
    h.get_by_label("Face B").click();
    settle(&mut h);
    assert_eq!(shown(&h), ex.mery_face_tables[1]);
    assert!(shown(&h).is_some_and(|t| t.methods == ["S0-", "S1-", "S0+", "S1+", "AVG"]));
    h.get_by_label("A and B").click();
    settle(&mut h);
    assert_eq!(shown(&h), ex.mery_table);
    assert_eq!(ex.mery_table.as_ref().unwrap().methods.len(), 10);
    h.get_by_label("Face A").click();
    settle(&mut h);

    // Sort face A's saliency table by Mean, both ways, and read the row order on screen.
    let table = ex.mery_face_tables[0].clone().unwrap();
    let names: Vec<String> = table.rows.iter().map(|r| r.region.clone()).collect();
    let by_mean = |asc: bool| {
        let mut rows = table.rows.clone();
        rows.sort_by(|a, b| {
            let o = a.mean.total_cmp(&b.mean);
            if asc { o } else { o.reverse() }
        });
        rows.into_iter().map(|r| r.region).collect::<Vec<_>>()
    };
    h.get_by_label("Mean").click();
    settle(&mut h);
    assert_eq!(h.state().settings.sort, Some((SortColumn::Mean, true)));
    assert_eq!(region_order(&h, &names), by_mean(true));
    h.get_by_label("Mean").click();
    settle(&mut h);
    assert_eq!(h.state().settings.sort, Some((SortColumn::Mean, false)));
    assert_eq!(region_order(&h, &names), by_mean(false));
    let means: Vec<f64> = by_mean(false)
        .iter()
        .map(|n| table.rows.iter().find(|r| &r.region == n).unwrap().mean)
        .collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]));
    snapshot(&mut h, "sorted_table");

    // Click a row: its region is highlighted in the viewer.
    h.get_by_label("nose").click();
    settle(&mut h);
    assert_eq!(h.state().viewer.highlight, Some(Region::Nose));
    h.get_by_label("left eye").click();
    settle(&mut h);
    assert_eq!(h.state().viewer.highlight, Some(Region::LeftEye));
    let csv = facexplain::app::table::current_csv(h.state()).unwrap();
    assert!(csv.starts_with("Region,"));
    assert_eq!(csv.lines().count(), 1 + table.rows.len());

    // Ask a suggested question and read the answer.
    h.get_by_label("What is the decision?").click();
    wait_for(&mut h, "the answer", 180, |a| {
        a.chat.turns.first().is_some_and(|t| t.answer.is_some())
    });
    let turn = &h.state().chat.turns[0];
    let answer = turn.answer.clone().unwrap().expect("an answer");
    assert!(
        answer.text.to_lowercase().contains("match"),
        "{}",
        answer.text
    );
    assert!(answer.confidence > 0.0 && answer.confidence <= 1.0);
    h.get_by_label(&answer.text);
    h.get_by_label_contains(&format!("confidence {:.0} %", answer.confidence * 100.0));
    snapshot(&mut h, "answered_chat");
    // With X-Maps, the X-Map questions are offered too and answered from their table.
    h.get_by_label(facexplain::chat::XMAP_QUESTIONS[1]).click();
    wait_for(&mut h, "the X-Map answer", 180, |a| {
        a.chat.turns.get(1).is_some_and(|t| t.answer.is_some())
    });
    let xmap_answer = h.state().chat.turns[1]
        .answer
        .clone()
        .unwrap()
        .expect("an answer");
    assert!(
        xmap_answer
            .text
            .starts_with("In the X-Maps the region that makes the two faces look least alike"),
        "{}",
        xmap_answer.text
    );

    // Recompute with the papers' (slow) parameters, then cancel with Esc:
    // the previous explanation stays on screen.
    h.state_mut().settings.params = ExplainParams::default();
    h.key_press_modifiers(Modifiers::COMMAND, Key::E);
    wait_for(&mut h, "the recompute to start", 120, |a| {
        a.explaining()
            && a.progress
                .as_ref()
                .is_some_and(|p| p.progress.stage == "X-Maps")
    });
    // A question asked meanwhile is answered between batches, not after the explanation.
    h.get_by_label("How sure are you about the decision?")
        .click();
    wait_for(&mut h, "the answer during the explanation", 120, |a| {
        a.chat.turns.get(1).is_some_and(|t| t.answer.is_some())
    });
    assert!(
        h.state().explaining(),
        "answered while the explanation runs"
    );
    let sure = h.state().chat.turns[1]
        .answer
        .clone()
        .unwrap()
        .expect("an answer");
    assert!(!sure.text.is_empty() && sure.confidence > 0.0);
    h.get_by_label("Cancel");
    h.key_press(Key::Escape);
    wait_for(&mut h, "the cancel", 60, |a| !a.explaining());
    let still = h.state().explanation().cloned().unwrap();
    assert!(Arc::ptr_eq(&still, &ex), "the previous explanation is kept");
    assert!(h.state().banner.is_none());
    h.get_by_label("Mean");
    assert!(h.state().shown_maps().is_some_and(|m| m.complete.is_some()));

    // A bad file dropped while explaining: the image job does not wait behind
    // the explanation, the error shows inline, and the same pair's explanation
    // resumes and completes.
    h.state_mut().settings.params = fast_params();
    h.key_press_modifiers(Modifiers::COMMAND, Key::E);
    wait_for(&mut h, "the recompute to start", 120, |a| a.explaining());
    let bad = tmp.path().join("broken.png");
    std::fs::write(&bad, b"\x89PNG but not really").unwrap();
    let reference = h.get_by_label("Reference").rect().center();
    drop_files(&mut h, reference, &[bad]);
    wait_for(&mut h, "the resumed explanation", 300, |a| {
        !a.busy() && !a.explaining() && a.explanation().is_some_and(|e| !Arc::ptr_eq(e, &ex))
    });
    h.get_by_label_contains("broken.png");
    assert!(h.state().slots[1].error.is_some());
    assert_eq!(
        h.state().analysis().map(|a| a.similarity),
        Some(exported.similarity)
    );
}

/// eframe storage in memory.
#[derive(Default)]
struct MemStorage(std::collections::BTreeMap<String, String>);

impl eframe::Storage for MemStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.into(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn settings_persist_between_runs_and_images_do_not() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.open_sample_pair();
    app.settings.view.map = MapChoice::Mery(MeryMethod::Avg);
    app.settings.view.mode = RenderMode::Heat;
    app.settings.view.labels = true;
    app.settings.params = fast_params();
    app.settings.params.render.opacity = 0.8;
    app.settings.sort = Some((SortColumn::Mean, false));
    app.settings.table = TableKind::XMap;
    app.settings.theme = egui::ThemePreference::Light;
    app.settings.threshold_override = Some(0.5);
    let mut storage = MemStorage::default();
    eframe::App::save(&mut app, &mut storage);
    assert!(
        storage.0.values().all(|v| !v.contains("obama")),
        "no image or path is stored"
    );

    let again = FacexplainApp::new(Some(&storage), AppOptions::default());
    let s = &again.settings;
    assert_eq!(s.view.map, MapChoice::Mery(MeryMethod::Avg));
    assert_eq!(s.view.mode, RenderMode::Heat);
    assert!(s.view.labels);
    assert_eq!(s.params, app.settings.params);
    assert_eq!(s.sort, Some((SortColumn::Mean, false)));
    assert_eq!(s.table, TableKind::XMap);
    assert_eq!(s.theme, egui::ThemePreference::Light);
    assert_eq!(s.threshold_override, Some(0.5));
    assert!(again.slots.iter().all(|sl| sl.path.is_none()));

    // Settings saved before Mery maps covered both faces get both faces;
    // a choice of one face made since is kept.
    let mut old = FacexplainApp::new(None, AppOptions::default());
    old.settings.version = 0;
    if let Some(m) = &mut old.settings.params.mery {
        m.faces = vec![0];
    }
    eframe::App::save(&mut old, &mut storage);
    let upgraded = FacexplainApp::new(Some(&storage), AppOptions::default());
    assert_eq!(
        upgraded.settings.params.mery.as_ref().unwrap().faces,
        [0, 1]
    );
    old.settings.version = upgraded.settings.version;
    eframe::App::save(&mut old, &mut storage);
    let kept = FacexplainApp::new(Some(&storage), AppOptions::default());
    assert_eq!(kept.settings.params.mery.as_ref().unwrap().faces, [0]);
}

/// Open `menu` (unless it is open already) and click `item` in it.
fn menu_item(h: &mut Harness<'_, FacexplainApp>, menu: &str, item: &str) {
    if h.query_by_label(item).is_none() {
        h.get_by_label(menu).click();
        settle(h);
    }
    h.get_by_label(item).click();
    settle(h);
}

/// The crop pixel (x, y) of face A the read-out gives under `pos`.
fn crop_at(h: &mut Harness<'_, FacexplainApp>, pos: egui::Pos2) -> (f32, f32) {
    h.hover_at(pos);
    settle(h);
    let (f, x, y, _, _) = h.state().viewer.hover.expect("a read-out");
    assert_eq!(f, 0);
    (x as f32, y as f32)
}

/// The left edge of the viewer's face A (moves when the pair panel is resized).
fn viewer_left(h: &Harness<'_, FacexplainApp>) -> f32 {
    h.get_by_label_contains("face A (probe)").rect().left()
}

#[test]
fn zoom_pan_theme_help_windows_and_reset_layout() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    app.open_sample_pair();
    let mut h = harness(app);
    wait_for(&mut h, "the pair", 120, |a| a.analysis().is_some());
    assert_eq!(h.state().viewer.zoom, 1.0);

    // Scroll over face A to zoom: the same screen distance covers fewer crop pixels.
    let view = h.get_by_label_contains("Map view of face A").rect();
    assert!(view.width() > 200.0, "{view:?}");
    let p = view.left_top() + vec2(60.0, 60.0);
    let step = vec2(80.0, 0.0);
    let fit_at_p = crop_at(&mut h, p);
    let span_fit = crop_at(&mut h, p + step).0 - fit_at_p.0;
    h.hover_at(p);
    for _ in 0..4 {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: vec2(0.0, 100.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    settle(&mut h);
    let zoom = h.state().viewer.zoom;
    assert!(zoom > 1.5 && zoom <= 8.0, "zoom {zoom}");
    let span_zoomed = crop_at(&mut h, p + step).0 - crop_at(&mut h, p).0;
    let ratio = span_fit / span_zoomed;
    assert!(
        (ratio - zoom).abs() < 0.3 * zoom,
        "{span_fit} crop px at 100 %, {span_zoomed} at {zoom}"
    );
    h.get_by_label_contains(&format!("{:.0}%", zoom * 100.0));

    // Drag to pan: dragging up and left brings the lower right of the face under the pointer.
    let before = crop_at(&mut h, p);
    let centre = h.state().viewer.centre;
    h.drag_at(p);
    h.step();
    h.hover_at(p - vec2(40.0, 30.0));
    h.step();
    h.drop_at(p - vec2(40.0, 30.0));
    settle(&mut h);
    let moved = h.state().viewer.centre;
    assert!(
        moved.x > centre.x && moved.y > centre.y,
        "{centre:?} → {moved:?}"
    );
    let after = crop_at(&mut h, p);
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{before:?} → {after:?}"
    );

    // The zoom buttons, then Fit: the whole face again, as before zooming.
    h.get_by_label("Zoom in").click();
    settle(&mut h);
    assert!((h.state().viewer.zoom - (zoom * 1.25).min(8.0)).abs() < 1e-4);
    h.get_by_label("Zoom out").click();
    settle(&mut h);
    assert!((h.state().viewer.zoom - zoom).abs() < 1e-3);
    h.get_by_label("Fit").click();
    settle(&mut h);
    assert_eq!(h.state().viewer.zoom, 1.0);
    assert_eq!(crop_at(&mut h, p), fit_at_p);

    // View → Light / Dark switches the theme of the whole window.
    menu_item(&mut h, "View", "Light");
    assert_eq!(h.state().settings.theme, egui::ThemePreference::Light);
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
    menu_item(&mut h, "View", "Dark");
    assert_eq!(h.state().settings.theme, egui::ThemePreference::Dark);
    assert_eq!(h.ctx.theme(), egui::Theme::Dark);
    h.remove_cursor();
    h.key_press(Key::Escape);
    settle(&mut h);

    // Help → About, closed with its close button.
    menu_item(&mut h, "Help", "About facexplain");
    assert!(h.state().windows.about);
    h.get_by_label_contains("Offline face comparison with explanations.");
    h.get_by_label_contains("Nothing leaves this computer");
    h.get_by_label("Close window").click();
    settle(&mut h);
    assert!(!h.state().windows.about);
    assert!(
        h.query_by_label_contains("Nothing leaves this computer")
            .is_none()
    );

    // Help → Model licences lists every model of the manifest with its licence and source.
    menu_item(&mut h, "Help", "Model licences");
    assert!(h.state().windows.licences);
    let licences = match &h.state().models {
        Some(Ok(m)) => m.licences.clone(),
        _ => panic!("the models are loaded"),
    };
    assert!(licences.len() >= 3, "{licences:?}");
    for [_, name, licence, source] in &licences {
        for text in [name, licence, source] {
            assert!(h.query_all_by_label(text).count() >= 1, "{text} is shown");
        }
    }
    assert!(licences.iter().any(|l| l[2] == "Apache-2.0"));
    h.get_by_label("Close window").click();
    settle(&mut h);
    assert!(!h.state().windows.licences);

    // Change the layout: hide the chat, widen the pair panel, zoom in.
    let left = viewer_left(&h);
    h.get_by_label("What is the decision?");
    menu_item(&mut h, "View", "Chat pane");
    assert!(!h.state().settings.show_chat);
    h.remove_cursor();
    h.key_press(Key::Escape);
    settle(&mut h);
    assert!(h.query_by_label("What is the decision?").is_none());
    let splitter = h
        .query_all_by_label("Resize panel")
        .map(|n| n.rect().center())
        .min_by(|a, b| a.x.total_cmp(&b.x))
        .expect("the pair panel's resize handle");
    h.drag_at(splitter);
    h.step();
    h.hover_at(splitter + vec2(100.0, 0.0));
    h.step();
    h.drop_at(splitter + vec2(100.0, 0.0));
    settle(&mut h);
    let wider = viewer_left(&h);
    assert!(
        wider > left + 60.0,
        "the pair panel was resized: {left} → {wider}"
    );
    h.get_by_label("Zoom in").click();
    settle(&mut h);
    assert!(h.state().viewer.zoom > 1.0);

    // View → Reset layout: panel sizes, chat pane and zoom are back to the defaults.
    menu_item(&mut h, "View", "Reset layout");
    h.remove_cursor();
    settle(&mut h);
    assert!(h.state().settings.show_chat);
    assert_eq!(h.state().viewer.zoom, 1.0);
    h.get_by_label("What is the decision?");
    let reset = viewer_left(&h);
    assert!((reset - left).abs() < 2.0, "{left} → {wider} → {reset}");
}

// ---- What-if occlusion (issue 16): a brush stroke on face A changes the
// similarity the viewer shows; Undo brings the original back; with an
// explanation's regions, a click on a table row hides that region on both
// faces and shows its similarity.

/// The what-if sentence, checked to be on screen.
fn sentence(h: &Harness<'_, FacexplainApp>) -> String {
    let s = h.state().what_if_sentence().expect("a what-if sentence");
    h.get_by_label(&format!("What-if: {s}"));
    s
}

#[test]
fn a_brush_stroke_and_a_table_click_change_the_shown_similarity() {
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.auto_explain = false;
    if let Some(x) = &mut app.settings.params.xmap {
        x.patch_sizes = vec![28];
        x.stride = 14;
    }
    app.settings.params.mery = None;
    app.open_sample_pair();
    let mut h = harness(app);
    wait_for(&mut h, "the pair", 180, |a| a.analysis().is_some());
    let original = h.state().analysis().unwrap().similarity;

    h.get_by_label("What-if").click();
    settle(&mut h);
    assert!(h.state().whatif.active);
    h.get_by_label_contains("What-if: nothing hidden yet");

    // A stroke across the eyes of face A (the upper middle of the crop).
    let view = h.get_by_label_contains("Map view of face A").rect();
    let from = view.left_top() + vec2(view.width() * 0.25, view.height() * 0.4);
    let to = view.left_top() + vec2(view.width() * 0.75, view.height() * 0.4);
    h.drag_at(from);
    h.step();
    for k in 1..=6 {
        h.hover_at(from + (to - from) * (k as f32 / 6.0));
        h.step();
    }
    h.drop_at(to);
    h.run_steps(2);
    assert!(
        h.state().whatif.hidden.count(0) > 500,
        "the stroke painted face A"
    );
    assert_eq!(h.state().whatif.hidden.count(1), 0);
    wait_for(&mut h, "the what-if similarity", 120, |a| {
        a.whatif.similarity().is_some()
    });
    let hidden = h.state().whatif.similarity().unwrap();
    assert!(
        (hidden - original).abs() > 0.01,
        "{original} → {hidden}: hiding the eyes changes the similarity"
    );
    let s = sentence(&h);
    assert!(
        s.contains("painted area of face A hidden")
            && s.contains(&format!("{original:.3} to {hidden:.3}")),
        "{s}"
    );
    // The viewer did not pan while painting.
    assert_eq!(h.state().viewer.centre, vec2(0.5, 0.5));

    // Undo: nothing hidden.
    h.get_by_label("Undo").click();
    settle(&mut h);
    assert!(h.state().whatif.hidden.is_empty());
    h.get_by_label_contains("What-if: nothing hidden yet");

    // With regions (an explanation), a click on a table row hides that region on both faces.
    h.state_mut().run(facexplain::session::Command::SetTable {
        table: TableKind::XMap,
        face: facexplain::session::SaliencyFace::Both,
        sort: None,
    });
    h.state_mut().run(facexplain::session::Command::Explain);
    wait_for(&mut h, "the explanation", 600, |a| {
        a.explanation().is_some()
    });
    h.get_by_label("nose").click();
    h.run_steps(2);
    assert!(h.state().whatif.hidden.count(0) > 100 && h.state().whatif.hidden.count(1) > 100);
    wait_for(&mut h, "the nose's what-if similarity", 120, |a| {
        a.whatif.similarity().is_some()
    });
    let nose = h.state().whatif.similarity().unwrap();
    assert_ne!(nose, original);
    let s = sentence(&h);
    assert!(
        s.contains("nose of face A; nose of face B hidden")
            && s.contains(&format!(" to {nose:.3}")),
        "{s}"
    );
}

// Several recognisers (issue 19): MobileFaceNet enabled from the View menu
// shows its verdict beside SFace's; on an ORL pair where SFace matches two
// different people and MobileFaceNet does not (found with `explore
// --errors-only` of both models, then `compare --models all`), the header
// says so in words; the viewer's selector shows MobileFaceNet's maps and
// switching back to SFace's is instant (kept for the pair).

/// The values of X-Map III on face A of the maps the viewer shows.
fn shown_xmap(h: &Harness<'_, FacexplainApp>) -> ndarray::Array2<f32> {
    h.state()
        .shown_maps()
        .and_then(|m| m.values(MapChoice::XMap(XMapMethod::III), 0))
        .cloned()
        .expect("an X-Map III on screen")
}

#[test]
fn a_second_model_in_the_header_its_disagreement_and_its_maps() {
    use egui::accesskit::Role;
    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.params = fast_params();
    app.settings.params.mery = None;
    app.open_files(vec![data("orl/s21/1.pgm"), data("orl/s5/10.pgm")], None);
    let mut h = harness(app);
    wait_for(&mut h, "SFace's maps", 300, |a| a.explanation().is_some());
    // One model: no side-by-side rows, no selector.
    assert!(h.query_by_label("Model:").is_none());
    assert!(h.query_by_label_contains("The models").is_none());
    h.get_by_label_contains("Decision: MATCH");
    let sface_map = shown_xmap(&h);

    menu_item(&mut h, "View", "MobileFaceNet");
    if h.query_by_label("Reset layout").is_some() {
        h.get_by_label("View").click(); // close the menu
        settle(&mut h);
    }
    assert_eq!(h.state().settings.models, ["mobilefacenet"]);
    wait_for(&mut h, "MobileFaceNet's verdict", 120, |a| {
        a.analysis().is_some_and(|an| an.models.len() == 2)
    });
    let an = h.state().analysis().unwrap();
    let ids: Vec<&str> = an.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["sface", "mobilefacenet"]);
    assert_eq!(an.models[0].similarity, an.similarity);
    assert_eq!(an.models[0].decision, facexplain::record::Decision::Match);
    assert_eq!(
        an.models[1].decision,
        facexplain::record::Decision::NonMatch
    );
    assert!(
        an.models[1].evidence.is_some(),
        "MobileFaceNet is calibrated"
    );
    // Both models in the header, with the disagreement in words.
    h.get_by_label("The models disagree — SFace: match; MobileFaceNet: non-match");
    h.get_by_label(&format!("{:.4}", an.models[1].similarity));
    h.get_by_label_contains(&an.models[1].evidence.as_ref().unwrap().lr_text());
    h.get_by_label("Model:");

    // The selector: MobileFaceNet's maps are computed and shown.
    h.get_by_role_and_label(Role::Button, "MobileFaceNet")
        .click();
    h.run_steps(2);
    assert_eq!(
        h.state().side_by_side.shown.as_deref(),
        Some("mobilefacenet")
    );
    wait_for(&mut h, "MobileFaceNet's maps", 600, |a| {
        a.explanation().is_some()
    });
    let mfn_map = shown_xmap(&h);
    assert_eq!(mfn_map.dim(), sface_map.dim());
    assert_ne!(mfn_map, sface_map, "another model, other maps");
    // The analysis record keeps SFace's tables whichever model is shown.
    assert!(h.state().analysis().unwrap().xmap_table.is_some());
    snapshot(&mut h, "models_side_by_side");

    // What-if with MobileFaceNet shown: a table row hides the nose on its
    // crops, and MobileFaceNet measures it against its own threshold.
    h.get_by_label("What-if").click();
    h.state_mut().run(facexplain::session::Command::SetTable {
        table: TableKind::XMap,
        face: facexplain::session::SaliencyFace::Both,
        sort: None,
    });
    settle(&mut h);
    h.get_by_label("nose").click();
    h.run_steps(2);
    assert_eq!(h.state().whatif.model.as_deref(), Some("mobilefacenet"));
    wait_for(&mut h, "MobileFaceNet's what-if similarity", 120, |a| {
        a.whatif.similarity().is_some()
    });
    let mfn_nose = h.state().whatif.similarity().unwrap();
    let s = sentence(&h);
    let mfn = &an.models[1];
    assert!(
        s.contains(&format!("{:.3} to {mfn_nose:.3}", mfn.similarity))
            && s.contains(&format!("threshold {:.3}", mfn.threshold))
            && s.ends_with("MobileFaceNet's similarity"),
        "{s}"
    );

    // Back to SFace: its maps were kept, nothing is recomputed; the nose is
    // measured again, by SFace.
    h.get_by_role_and_label(Role::Button, "SFace").click();
    h.run_steps(2);
    assert!(h.state().side_by_side.shown.is_none());
    assert!(!h.state().explaining(), "no explanation was started");
    assert_eq!(shown_xmap(&h), sface_map);
    wait_for(&mut h, "SFace's what-if similarity", 120, |a| {
        a.whatif.similarity().is_some()
    });
    let sface_nose = h.state().whatif.similarity().unwrap();
    assert_ne!(sface_nose, mfn_nose);
    let s = sentence(&h);
    assert!(
        s.contains(&format!("{:.3} to {sface_nose:.3}", an.similarity))
            && s.ends_with("SFace's similarity"),
        "{s}"
    );
    // And MobileFaceNet's are kept in turn.
    h.get_by_role_and_label(Role::Button, "MobileFaceNet")
        .click();
    h.run_steps(2);
    assert!(!h.state().explaining());
    assert_eq!(shown_xmap(&h), mfn_map);
}
