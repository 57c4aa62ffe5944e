//! What-if occlusion in the viewer (issue 16): a bar with the tools (brush
//! with an adjustable size, or region: click a facial region to hide it),
//! the fill, Undo / Clear / Invert and the live sentence ("left eye of face A
//! hidden (grey fill): 0.745 to 0.612, still a match"); painting on the faces,
//! and the hidden areas drawn over them. A stroke is sent when the pointer is
//! released; the worker measures it (one forward pass) and the sentence
//! updates. The state itself is `session::whatif`.

use super::viewer::FaceView;
use super::{Cx, UiCommand};
use crate::explain::regions::Region;
use crate::explain::whatif::Fill;
use crate::session::Command;
use crate::session::whatif::WhatIfCmd;
use egui::{Color32, ColorImage, TextureHandle, TextureOptions};

/// What a click or drag on a face does while what-if is on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tool {
    /// Paint the area to hide.
    #[default]
    Brush,
    /// Click a facial region to hide it.
    Region,
}

type MaskKey = (Option<(u64, u64)>, u64);

/// The panel's own state: the tool, the stroke being drawn, the mask textures.
#[derive(Default)]
pub struct WhatIfPanel {
    pub tool: Tool,
    /// The stroke in progress: face and crop points.
    stroke: Option<(usize, Vec<[f32; 2]>)>,
    /// Keyed by the pair and the masks' version (which starts again with each pair).
    textures: Option<(MaskKey, [Option<TextureHandle>; 2])>,
}

fn send(out: &mut Vec<UiCommand>, c: WhatIfCmd) {
    out.push(Command::WhatIf(c).into());
}

impl WhatIfPanel {
    /// The bar above the faces.
    pub fn bar(&mut self, cx: &Cx, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
        let w = &cx.session.whatif;
        ui.horizontal_wrapped(|ui| {
            let mut active = w.active;
            if ui
                .checkbox(&mut active, "What-if")
                .on_hover_text(
                    "Hide parts of the faces and see the new similarity: paint with the brush, or click a region (on a face or in the table)",
                )
                .changed()
            {
                send(out, WhatIfCmd::SetActive(active));
            }
            if !w.active {
                return;
            }
            ui.selectable_value(&mut self.tool, Tool::Brush, "Brush")
                .on_hover_text("Drag on a face to paint the area to hide");
            ui.selectable_value(&mut self.tool, Tool::Region, "Region")
                .on_hover_text("Click a facial region on a face to hide it (needs the explanation's regions)");
            if self.tool == Tool::Brush {
                let mut b = w.brush;
                if ui
                    .add(egui::Slider::new(&mut b, 1.0..=40.0).text("brush").suffix(" px"))
                    .changed()
                {
                    send(out, WhatIfCmd::SetBrush(b));
                }
            }
            ui.separator();
            ui.label("Fill:");
            for f in Fill::ALL {
                if ui.selectable_label(w.fill == f, f.label()).clicked() && w.fill != f {
                    send(out, WhatIfCmd::SetFill(f));
                }
            }
            ui.separator();
            if ui
                .add_enabled(w.can_undo(), egui::Button::new("Undo"))
                .clicked()
            {
                send(out, WhatIfCmd::Undo);
            }
            let any = !w.hidden.is_empty();
            if ui.add_enabled(any, egui::Button::new("Clear")).clicked() {
                send(out, WhatIfCmd::Clear);
            }
            if ui
                .add_enabled(any, egui::Button::new("Invert"))
                .on_hover_text("Keep only the hidden area visible: hide everything else")
                .clicked()
            {
                send(out, WhatIfCmd::Invert);
            }
        });
        if w.active {
            match cx.session.what_if_sentence() {
                Some(s) => ui.strong(format!("What-if: {s}")),
                None => ui.weak("What-if: nothing hidden yet — paint on a face or click a region."),
            };
        }
    }

    /// Handle the pointer on face `f`'s view; true when what-if used it (the viewer then does not pan).
    pub fn interact(
        &mut self,
        cx: &Cx,
        resp: &egui::Response,
        view: FaceView,
        f: usize,
        out: &mut Vec<UiCommand>,
    ) -> bool {
        let w = &cx.session.whatif;
        if !w.active {
            return false;
        }
        let pos = resp.interact_pointer_pos().or(resp.hover_pos());
        match self.tool {
            Tool::Brush => {
                if (resp.drag_started() || resp.dragged())
                    && let Some(p) = pos
                {
                    let s = self.stroke.get_or_insert((f, Vec::new()));
                    if s.0 == f {
                        s.1.push(view.to_crop(p));
                    }
                }
                if resp.clicked()
                    && let Some(p) = pos
                {
                    self.stroke = Some((f, vec![view.to_crop(p)]));
                }
                if (resp.drag_stopped() || resp.clicked())
                    && let Some((face, points)) = self.stroke.take()
                {
                    send(
                        out,
                        WhatIfCmd::Stroke {
                            face,
                            points,
                            radius: w.brush,
                        },
                    );
                }
            }
            Tool::Region => {
                if resp.clicked()
                    && let Some(p) = pos
                {
                    let (x, y) = view.pixel(p);
                    let region = cx
                        .session
                        .shown_maps()
                        .and_then(|m| m.regions.as_ref())
                        .and_then(|r| r[f].region_at(x, y));
                    if let Some(region) = region {
                        send(
                            out,
                            WhatIfCmd::HideRegion {
                                faces: vec![f],
                                region,
                            },
                        );
                    }
                }
            }
        }
        true
    }

    /// Draw face `f`'s hidden area and the stroke in progress (the masks lie
    /// on the shown model's crops, as `view` does).
    pub fn overlay(&mut self, cx: &Cx, painter: &egui::Painter, view: FaceView, f: usize) {
        let w = &cx.session.whatif;
        if !w.active && w.hidden.is_empty() {
            return;
        }
        let key = (cx.session.pair_key, w.version);
        if self.textures.as_ref().is_none_or(|(k, _)| *k != key) {
            let colour = match w.fill {
                Fill::Grey => Color32::from_rgba_unmultiplied(128, 128, 128, 210),
                Fill::Black => Color32::from_rgba_unmultiplied(0, 0, 0, 210),
                Fill::Blur => Color32::from_rgba_unmultiplied(90, 150, 255, 150),
                Fill::Noise => Color32::from_rgba_unmultiplied(255, 170, 60, 150),
            };
            let tex = [0, 1].map(|g| {
                let m = &w.hidden.masks[g];
                if !m.iter().any(|&b| b) {
                    return None;
                }
                let (h, wd) = m.dim();
                let pixels = m
                    .iter()
                    .map(|&b| if b { colour } else { Color32::TRANSPARENT })
                    .collect();
                let img = ColorImage::new([wd, h], pixels);
                Some(painter.ctx().load_texture(
                    format!("whatif-{g}"),
                    img,
                    TextureOptions::NEAREST,
                ))
            });
            self.textures = Some((key, tex));
        }
        if let Some((_, t)) = &self.textures
            && let Some(t) = &t[f]
        {
            painter.image(t.id(), view.rect, view.uv, Color32::WHITE);
        }
        if let Some((face, pts)) = &self.stroke
            && *face == f
        {
            for p in pts {
                let at = view.to_screen(*p);
                painter.circle_filled(at, w.brush * view.scale(), Color32::from_white_alpha(90));
            }
        }
    }
}

/// The faces a region clicked in the table is hidden on: the table's face, or both.
pub fn table_faces(cx: &Cx) -> Vec<usize> {
    use crate::session::{SaliencyFace, TableKind};
    match (cx.session.settings.table, cx.session.settings.saliency_face) {
        (TableKind::Saliency, SaliencyFace::A) => vec![0],
        (TableKind::Saliency, SaliencyFace::B) => vec![1],
        _ => vec![0, 1],
    }
}

/// The command a table row click sends while what-if is on.
pub fn hide_from_table(cx: &Cx, region: Region) -> Option<UiCommand> {
    cx.session.whatif.active.then(|| {
        Command::WhatIf(WhatIfCmd::HideRegion {
            faces: table_faces(cx),
            region,
        })
        .into()
    })
}
