//! The app with a user model of another input size and alignment template
//! (issue 19), through the window: enabled from the View menu, chosen in the
//! viewer's Model selector, its maps lie on its own 96-pixel crops and the
//! pointer's read-out, the region outlines and the what-if brush are in its
//! crop pixels. The only test of this binary: it points the app at its user
//! models folder through `$FACEXPLAIN_USER_MODELS` before anything starts.

mod common;
use common::app::{fast_params, harness, settle, snapshot, wait_until};
use common::user_models::{add_means, looser_template_96};
use egui::accesskit::Role;
use egui::vec2;
use egui_kittest::kittest::Queryable;
use facexplain::app::maps::MapChoice;
use facexplain::app::{AppOptions, FacexplainApp};
use facexplain::explain::regions::Region;
use facexplain::explain::xmap::XMapMethod;

#[test]
fn a_96_pixel_user_model_in_the_viewer() {
    let (_, template) = looser_template_96();
    let tmp = tempfile::tempdir().unwrap();
    let user = add_means(tmp.path(), 96, &["--template", &template]);
    // SAFETY: set before the app or any other thread of this process starts
    // (this binary has one test), so no thread reads the environment meanwhile.
    unsafe { std::env::set_var("FACEXPLAIN_USER_MODELS", &user) };

    let mut app = FacexplainApp::new(None, AppOptions::default());
    app.settings.params = fast_params();
    app.settings.params.mery = None;
    app.open_sample_pair();
    let mut h = harness(app);
    wait_until(&mut h, "SFace's maps", 300, |a| a.explanation().is_some());

    // View → means: its verdict beside SFace's.
    h.get_by_label("View").click();
    settle(&mut h);
    h.get_by_label("means").click();
    settle(&mut h);
    if h.query_by_label("Reset layout").is_some() {
        h.get_by_label("View").click(); // close the menu
        settle(&mut h);
    }
    wait_until(&mut h, "the user model's verdict", 120, |a| {
        a.analysis().is_some_and(|an| an.models.len() == 2)
    });

    // Its maps, on its crops.
    h.get_by_role_and_label(Role::Button, "means").click();
    h.run_steps(2);
    wait_until(&mut h, "the user model's maps", 300, |a| {
        a.side_by_side.shown.is_some() && a.explanation().is_some()
    });
    settle(&mut h);
    let s = h.state();
    let x3 = (s.shown_maps())
        .and_then(|m| m.values(MapChoice::XMap(XMapMethod::III), 0))
        .unwrap()
        .clone();
    assert_eq!(x3.dim(), (96, 96), "stored at the model's input size");
    let nose = s.shown_maps().unwrap().regions.as_ref().unwrap()[0]
        .centroid(Region::Nose)
        .unwrap();

    // The read-out is in its crop pixels: the view's centre is the crop's
    // centre, its far corner the last pixel, the nose's centroid in the nose.
    let view = h.get_by_label_contains("Map view of face A").rect();
    let read = |h: &mut egui_kittest::Harness<'_, FacexplainApp>, pos| {
        h.hover_at(pos);
        settle(h);
        h.state().viewer.hover.expect("a read-out")
    };
    let (f, x, y, value, _) = read(&mut h, view.center());
    assert_eq!((f, x, y), (0, 48, 48));
    assert_eq!(value, Some(x3[[48, 48]]));
    let (_, x, y, _, _) = read(&mut h, view.max - vec2(0.5, 0.5));
    assert_eq!((x, y), (95, 95));
    let at_nose = view.min + vec2(nose[0] + 0.5, nose[1] + 0.5) / 96.0 * view.size();
    let (_, _, _, _, region) = read(&mut h, at_nose);
    assert_eq!(region, Some(Region::Nose));
    snapshot(&mut h, "user_model_96");

    // The what-if brush paints its crop: a click at the nose hides the nose's pixel.
    h.get_by_label("What-if").click();
    settle(&mut h);
    // The what-if bar's sentence moved the faces down.
    let view = h.get_by_label_contains("Map view of face A").rect();
    let at_nose = view.min + vec2(nose[0] + 0.5, nose[1] + 0.5) / 96.0 * view.size();
    h.drag_at(at_nose);
    h.step();
    h.drop_at(at_nose);
    h.run_steps(2);
    let w = &h.state().whatif;
    assert_eq!(w.hidden.sides(), [96, 96]);
    let [nx, ny] = nose.map(|v| v.round() as usize);
    assert!(
        w.hidden.masks[0][[ny, nx]],
        "the brush hid the nose: active {}, {} pixels hidden, {:?}",
        w.active,
        w.hidden.count(0),
        w.hidden.what
    );
    wait_until(&mut h, "the user model's what-if similarity", 120, |a| {
        a.whatif.similarity().is_some()
    });
    let s = h.state().what_if_sentence().unwrap();
    assert!(s.ends_with("— means' similarity"), "{s}");
    h.get_by_label(&format!("What-if: {s}"));
}
