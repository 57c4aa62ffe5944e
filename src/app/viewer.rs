//! The overlay viewer: the two aligned faces side by side, enlarged, with the
//! chosen map drawn on them (HLS blend, heat overlay or map only), landmarks,
//! region outlines and labels, zoom (scroll) and pan (drag), a hover read-out
//! of the map value and region, and a legend. Maps appear as they are ready.

use super::maps::{MapChoice, Maps, RenderMode, colormap, face_name, render};
use super::{Cx, UiCommand};
use crate::explain::ExplainParams;
use crate::explain::blend::Colormap;
use crate::explain::regions::Region;
use crate::pipeline::FaceAnalysis;
use crate::session::{Command, Session, ViewSettings};
use egui::{Color32, Pos2, Rect, Sense, Stroke, TextureHandle, Vec2};
use std::sync::Arc;

/// The read-out under the pointer: face (0 = A), crop pixel x and y, the
/// shown map's value there and the region.
pub type Hover = (usize, usize, usize, Option<f32>, Option<Region>);

/// What the viewer remembers between frames (not persisted).
pub struct ViewerState {
    /// 1 = whole face; up to 8×.
    pub zoom: f32,
    /// Centre of the view in crop coordinates (0..1).
    pub centre: Vec2,
    /// The region highlighted from the table.
    pub highlight: Option<Region>,
    /// The read-out under the pointer.
    pub hover: Option<Hover>,
    /// What-if occlusion's tools and stroke in progress (issue 16).
    pub whatif: super::whatif::WhatIfPanel,
    cache: Option<(CacheKey, [Option<TextureHandle>; 2])>,
}

impl Default for ViewerState {
    fn default() -> Self {
        ViewerState {
            zoom: 1.0,
            centre: Vec2::splat(0.5),
            highlight: None,
            hover: None,
            whatif: Default::default(),
            cache: None,
        }
    }
}

impl ViewerState {
    pub fn reset_zoom(&mut self) {
        self.zoom = 1.0;
        self.centre = Vec2::splat(0.5);
    }

    /// The part of the crop in view, in 0..1 coordinates.
    fn uv(&self) -> Rect {
        let half = 0.5 / self.zoom;
        let c = Vec2::new(
            self.centre.x.clamp(half, 1.0 - half),
            self.centre.y.clamp(half, 1.0 - half),
        );
        Rect::from_center_size(c.to_pos2(), Vec2::splat(2.0 * half))
    }
}

/// Where one face's crop is drawn: the view's rectangle on screen, the part
/// of the crop in view (0..1) and the crop's side in pixels — the input size
/// of the recogniser whose crops are shown, so maps, regions, landmarks and
/// what-if masks of any model land on the same place of the face.
#[derive(Clone, Copy, Debug)]
pub struct FaceView {
    pub rect: Rect,
    pub uv: Rect,
    pub side: f32,
}

impl FaceView {
    /// Crop pixel → screen.
    pub fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        let u = Vec2::new(p[0], p[1]) / self.side;
        self.rect.min + ((u - self.uv.min.to_vec2()) / self.uv.size()) * self.rect.size()
    }

    /// Screen → crop pixel coordinates.
    pub fn to_crop(&self, pos: Pos2) -> [f32; 2] {
        let u = self.uv.min + (pos - self.rect.min) / self.rect.size() * self.uv.size();
        [u.x * self.side, u.y * self.side]
    }

    /// The crop pixel under `pos` (clamped to the crop).
    pub fn pixel(&self, pos: Pos2) -> (usize, usize) {
        let [x, y] = self.to_crop(pos);
        let last = self.side - 1.0;
        (
            x.floor().clamp(0.0, last) as usize,
            y.floor().clamp(0.0, last) as usize,
        )
    }

    /// Screen points per crop pixel.
    pub fn scale(&self) -> f32 {
        self.rect.width() / (self.side * self.uv.width())
    }
}

#[derive(Clone, PartialEq)]
struct CacheKey {
    pair: Option<(u64, u64)>,
    /// The recogniser whose crops are shown (`None`: the analysis's own).
    model: Option<String>,
    version: u64,
    map: MapChoice,
    mode: RenderMode,
    cmap: Colormap,
    opacity_bits: u32,
}

impl ViewerState {
    /// The viewer with its toolbar, legend and parameters.
    pub fn ui(&mut self, cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
        let app = cx.session;
        let mut view = app.settings.view.clone();
        let mut params = app.settings.params.clone();
        super::models::map_selector(app, ui, out);
        toolbar(self, &mut view, &mut params, ui);
        super::faithfulness::ui(cx, view.map, ui);
        self.whatif.bar(cx, ui, out);
        ui.add_space(4.0);
        let legend_h = 64.0;
        let avail = ui.available_size();
        // The parameters panel's last rows (the greedy map and faithfulness row included).
        let params_h = 52.0;
        let side = ((avail.x - 24.0) / 2.0)
            .min(avail.y - legend_h - params_h - 64.0)
            .max(112.0);
        faces(self, cx, ui, side, out);
        readout(self, app, ui);
        legend(app, ui);
        super::params::ui(cx, &mut params, ui, out);
        if view != app.settings.view {
            out.push(Command::SetView(view).into());
        }
        if params != app.settings.params {
            out.push(Command::SetParams(Box::new(params)).into());
        }
    }
}

fn toolbar(
    z: &mut ViewerState,
    v: &mut ViewSettings,
    params: &mut ExplainParams,
    ui: &mut egui::Ui,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Map:");
        for c in MapChoice::ALL {
            ui.selectable_value(&mut v.map, c, c.label())
                .on_hover_text(c.description());
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("Draw:");
        for m in RenderMode::ALL {
            ui.selectable_value(&mut v.mode, m, m.label());
        }
        if v.mode == RenderMode::Heat {
            ui.add(egui::Slider::new(&mut params.render.opacity, 0.0..=1.0).text("opacity"));
        }
        ui.separator();
        let render = &mut params.render;
        let cmap = if v.map.is_xmap() {
            &mut render.xmap_colormap
        } else {
            &mut render.mery_colormap
        };
        egui::ComboBox::from_label("colours")
            .selected_text(format!("{cmap:?}"))
            .show_ui(ui, |ui| {
                for c in Colormap::ALL {
                    let note = match c {
                        Colormap::PiYG => "PiYG (diverging, the papers')",
                        Colormap::RdBu => "RdBu (diverging)",
                        Colormap::Viridis => "Viridis (perceptual sequential)",
                    };
                    ui.selectable_value(cmap, c, note);
                }
            });
        ui.separator();
        ui.checkbox(&mut v.landmarks, "Landmarks")
            .on_hover_text("The five alignment points (and the 468 FaceMesh points once computed)");
        ui.checkbox(&mut v.outlines, "Regions")
            .on_hover_text("Outlines of the nine facial regions of the table");
        ui.checkbox(&mut v.labels, "Labels")
            .on_hover_text("Region names (left/right = the subject's own)");
        ui.separator();
        if labelled(ui.button("−"), "Zoom out")
            .on_hover_text("Zoom out")
            .clicked()
        {
            z.zoom = (z.zoom / 1.25).max(1.0);
        }
        ui.label(format!("{:.0}%", z.zoom * 100.0))
            .on_hover_text("Scroll over a face to zoom, drag to pan");
        if labelled(ui.button("+"), "Zoom in")
            .on_hover_text("Zoom in")
            .clicked()
        {
            z.zoom = (z.zoom * 1.25).min(8.0);
        }
        if ui
            .button("Fit")
            .on_hover_text("Show the whole faces")
            .clicked()
        {
            z.reset_zoom();
        }
    });
}

/// Give a widget whose text is a symbol an accessible name.
fn labelled(resp: egui::Response, name: &str) -> egui::Response {
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, name));
    resp
}

/// Textures of the chosen map drawn on both faces' crops of the shown model,
/// or its bare crops while it has no map (cached until anything changes);
/// `None` where the slot's own crop is drawn (the analysis's own model, no map).
fn map_textures(
    viewer: &mut ViewerState,
    app: &Session,
    ctx: &egui::Context,
    (faces, model): &([Arc<FaceAnalysis>; 2], Option<String>),
) -> [Option<TextureHandle>; 2] {
    let maps = app.shown_maps();
    if maps.is_none() && model.is_none() {
        return [None, None];
    }
    let v = &app.settings.view;
    let render_params = &app.settings.params.render;
    let key = CacheKey {
        pair: app.pair_key,
        model: model.clone(),
        version: maps.map_or(0, |m| m.version),
        map: v.map,
        mode: v.mode,
        cmap: colormap(v.map, render_params),
        opacity_bits: render_params.opacity.to_bits(),
    };
    if let Some((k, t)) = &viewer.cache
        && *k == key
    {
        return t.clone();
    }
    // The maps lie on the crops of the model they were made with, at its input size.
    let tex = [0, 1].map(|f| {
        let crop = &faces[f].aligned.crop;
        let img = match maps.and_then(|m| m.values(v.map, f)) {
            Some(values) => render(crop, v.map, values, v.mode, render_params),
            None if model.is_some() => crop.clone(),
            None => return None,
        };
        Some(super::textures::upload(ctx, &format!("map-{f}"), &img, 0))
    });
    viewer.cache = Some((key, tex.clone()));
    tex
}

fn faces(
    viewer: &mut ViewerState,
    cx: &Cx,
    ui: &mut egui::Ui,
    side: f32,
    out: &mut Vec<UiCommand>,
) {
    let app = cx.session;
    let Some(shown) = app.view_faces() else {
        ui.weak("The aligned faces appear here once both images are loaded.");
        return;
    };
    let tex = map_textures(viewer, app, ui.ctx(), &shown);
    let faces = &shown.0;
    let uv = viewer.uv();
    let mut hover = None;
    ui.horizontal(|ui| {
        for f in 0..2 {
            ui.vertical(|ui| {
                let map = app.settings.view.map;
                let note = if app.shown_maps().is_some_and(|m| {
                    m.mery.is_some() && !map.is_xmap() && m.values(map, f).is_none()
                }) {
                    " — no Mery map for this face (not chosen in the parameters)"
                } else {
                    ""
                };
                ui.label(format!(
                    "{}: {}{note}",
                    face_name(f),
                    faces[f].image.file_name()
                ));
                let (rect, resp) =
                    ui.allocate_exact_size(Vec2::splat(side), Sense::click_and_drag());
                resp.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::Image,
                        true,
                        format!(
                            "Map view of face {}: scroll to zoom, drag to pan",
                            crate::explain::face_label(f)
                        ),
                    )
                });
                let texture = tex[f].as_ref().or(cx.textures.crop(f));
                let painter = ui.painter_at(rect);
                match texture {
                    Some(t) => painter.image(t.id(), rect, uv, Color32::WHITE),
                    None => painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color),
                };
                let view = FaceView {
                    rect,
                    uv,
                    side: faces[f].aligned.crop.width() as f32,
                };
                overlays(app, viewer.highlight, &painter, view, f, &faces[f]);
                viewer.whatif.overlay(cx, &painter, view, f);
                let painting = viewer.whatif.interact(cx, &resp, view, f, out);
                interact(viewer, app, ui, &resp, view, f, painting, &mut hover);
            });
            ui.add_space(8.0);
        }
    });
    viewer.hover = hover;
}

fn overlays(
    app: &Session,
    highlight: Option<Region>,
    painter: &egui::Painter,
    view: FaceView,
    f: usize,
    face: &FaceAnalysis,
) {
    let v = &app.settings.view;
    let scale = view.scale();
    let maps: Option<&Maps> = app.shown_maps();
    if let Some(regions) = maps.and_then(|m| m.regions.as_ref()).map(|r| &r[f]) {
        for (region, poly) in &regions.outlines {
            let lit = highlight == Some(*region);
            if !(v.outlines || lit) || poly.len() < 2 {
                continue;
            }
            let mut pts: Vec<Pos2> = poly.iter().map(|p| view.to_screen(*p)).collect();
            pts.push(pts[0]);
            let stroke = if lit {
                Stroke::new(3.0, Color32::from_rgb(255, 210, 0))
            } else {
                Stroke::new(1.0, Color32::from_white_alpha(150))
            };
            painter.add(egui::Shape::line(pts, stroke));
        }
        if v.labels || highlight.is_some() {
            for r in Region::ALL {
                if !(v.labels || highlight == Some(r)) {
                    continue;
                }
                if let Some(c) = regions.centroid(r) {
                    let pos = view.to_screen(c);
                    let font = egui::FontId::proportional((9.0 * scale / 3.0).clamp(10.0, 16.0));
                    let galley = painter.layout_no_wrap(r.name().into(), font, Color32::WHITE);
                    let at = pos - galley.size() / 2.0;
                    painter.rect_filled(
                        Rect::from_min_size(at, galley.size()).expand(2.0),
                        2.0,
                        Color32::from_black_alpha(160),
                    );
                    painter.galley(at, galley, Color32::WHITE);
                }
            }
        }
    }
    if v.landmarks {
        if let Some(mesh) = maps.and_then(|m| m.meshes.as_ref()).map(|m| &m[f]) {
            for p in &mesh.aligned {
                painter.circle_filled(view.to_screen(*p), 1.0, Color32::from_rgb(80, 200, 255));
            }
        }
        for lm in &face.face().landmarks5 {
            let p = face.aligned.transform.apply(*lm);
            painter.circle_stroke(
                view.to_screen(p),
                4.0,
                Stroke::new(2.0, Color32::from_rgb(255, 60, 60)),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn interact(
    z: &mut ViewerState,
    app: &Session,
    ui: &egui::Ui,
    resp: &egui::Response,
    view: FaceView,
    f: usize,
    painting: bool,
    hover: &mut Option<Hover>,
) {
    let (rect, uv) = (view.rect, view.uv);
    if resp.dragged() && !painting {
        let d = resp.drag_delta() / rect.size() * uv.size();
        z.centre -= d;
    }
    if resp.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y + (i.zoom_delta() - 1.0) * 200.0);
        if scroll != 0.0 {
            z.zoom = (z.zoom * (1.0 + scroll / 400.0)).clamp(1.0, 8.0);
        }
    }
    let half = 0.5 / z.zoom;
    z.centre = Vec2::new(
        z.centre.x.clamp(half, 1.0 - half),
        z.centre.y.clamp(half, 1.0 - half),
    );
    if let Some(pos) = resp.hover_pos() {
        let (x, y) = view.pixel(pos);
        let maps = app.shown_maps();
        let value = maps
            .and_then(|m| m.values(app.settings.view.map, f))
            .and_then(|v| v.get([y, x]).copied());
        let region = maps
            .and_then(|m| m.regions.as_ref())
            .and_then(|r| r[f].region_at(x, y));
        *hover = Some((f, x, y, value, region));
    }
}

fn readout(viewer: &ViewerState, app: &Session, ui: &mut egui::Ui) {
    let status = match (&app.explaining, app.shown_maps()) {
        (Some((_, m)), _) => format!("Explaining… ({})", m.status()),
        (None, Some(_)) => String::new(),
        (None, None) if app.faces().is_some() => "No maps yet: press Explain (Ctrl+E).".into(),
        _ => String::new(),
    };
    // No spinner here: it repaints every frame for the whole explanation, and
    // each frame painted on a software rasteriser takes CPU from the model.
    // The status bar's progress bar moves with the progress events instead.
    if !status.is_empty() {
        ui.label(status);
    }
    ui.horizontal(|ui| match viewer.hover {
        Some((f, x, y, value, region)) => {
            ui.monospace(format!(
                "{} ({x}, {y})  {}: {}  region: {}",
                face_name(f),
                app.settings.view.map.label(),
                value.map_or("—".into(), |v| format!("{v:+.3}")),
                region.map_or("none", |r| r.name())
            ));
        }
        None => {
            ui.weak("Point at a face to read the map value and region.");
        }
    });
}

fn legend(app: &Session, ui: &mut egui::Ui) {
    let choice = app.settings.view.map;
    let cmap = colormap(choice, &app.settings.params.render);
    let (low, high) = if choice.is_xmap() {
        (
            "−1: dissimilar (occluding it brings the faces closer)",
            "+1: similar (occluding it pushes the faces apart)",
        )
    } else {
        ("0: least important", "1: most important for the similarity")
    };
    let width = ui.available_width().min(520.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, 14.0), Sense::hover());
    let n = 64;
    let mut mesh = egui::Mesh::default();
    for i in 0..n {
        let t = i as f32 / (n - 1) as f32;
        let [r, g, b] = cmap.at(t);
        let c = Color32::from_rgb((r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8);
        let x = rect.left() + t * rect.width();
        mesh.colored_vertex(Pos2::new(x, rect.top()), c);
        mesh.colored_vertex(Pos2::new(x, rect.bottom()), c);
        if i > 0 {
            let k = 2 * i as u32;
            mesh.add_triangle(k - 2, k - 1, k);
            mesh.add_triangle(k - 1, k, k + 1);
        }
    }
    ui.painter().add(mesh);
    ui.allocate_ui(Vec2::new(width, 18.0), |ui| {
        ui.horizontal(|ui| {
            ui.small(low);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.small(high);
            });
        });
    });
}
