//! What-if occlusion's state (issue 16), with no drawing: what is hidden on
//! each aligned face (a mask per face, with undo), the fill, the brush size,
//! and the similarity the worker measured for the current masks. Every change
//! of the masks or the fill sends one [`Job::WhatIf`]; a newer one cancels
//! the older if it has not started, and only the newest answer is shown.
//!
//! The masks lie on the crops of the recogniser the viewer shows (issue 19):
//! its input size and alignment template, measured with that recogniser.
//! When the viewer switches to another model, what is hidden is carried to
//! that model's crops through the two alignments (the same place of the
//! photograph stays hidden) and measured again with it.

use super::Session;
use super::jobs::{Job, JobKind};
use crate::explain::regions::Region;
use crate::explain::whatif::Fill;
use crate::pipeline::FaceAnalysis;
use crate::pipeline::align::Similarity;
use ndarray::Array2;
use std::sync::Arc;

/// Most undo steps kept.
pub const UNDO_DEPTH: usize = 64;

/// A change to what is hidden.
#[derive(Clone, Debug, PartialEq)]
pub enum WhatIfCmd {
    /// Turn the painting tools on or off in the viewer.
    SetActive(bool),
    /// Brush radius, crop pixels.
    SetBrush(f32),
    SetFill(Fill),
    /// A finished brush stroke on `face`: discs of `radius` at `points` (crop pixels).
    Stroke {
        face: usize,
        points: Vec<[f32; 2]>,
        radius: f32,
    },
    /// Hide a facial region on these faces.
    HideRegion {
        faces: Vec<usize>,
        region: Region,
    },
    Undo,
    Clear,
    /// Keep only what is hidden visible: hide everything else (on faces with something hidden).
    Invert,
}

/// What is hidden on both faces, and a name for it per face.
#[derive(Clone, Debug, PartialEq)]
pub struct Hidden {
    pub masks: [Array2<bool>; 2],
    /// What was hidden, in order (e.g. "left eye", "brush stroke").
    pub what: [Vec<String>; 2],
    /// Whether the masks have been inverted (an odd number of times).
    pub inverted: [bool; 2],
}

impl Hidden {
    /// Nothing hidden on two crops of `sides` pixels (square).
    pub fn new(sides: [usize; 2]) -> Hidden {
        Hidden {
            masks: sides.map(|s| Array2::from_elem((s, s), false)),
            what: [Vec::new(), Vec::new()],
            inverted: [false, false],
        }
    }

    /// The crop side each mask lies on.
    pub fn sides(&self) -> [usize; 2] {
        [self.masks[0].nrows(), self.masks[1].nrows()]
    }

    /// What is hidden, carried from crops aligned by `from` to crops aligned
    /// by `to` (image → crop transforms) of `sides` pixels: each pixel of the
    /// new crop takes the mask at the same point of the photograph.
    fn carried(&self, from: [&Similarity; 2], to: [&Similarity; 2], sides: [usize; 2]) -> Hidden {
        let masks = [0, 1].map(|f| carry_mask(&self.masks[f], from[f], to[f], sides[f]));
        Hidden {
            masks,
            ..self.clone()
        }
    }

    /// Pixels hidden on `face`.
    pub fn count(&self, face: usize) -> usize {
        self.masks[face].iter().filter(|&&b| b).count()
    }

    pub fn is_empty(&self) -> bool {
        self.count(0) == 0 && self.count(1) == 0
    }

    /// "left eye, brush stroke hidden on face A; …", or "nothing hidden".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = (0..2)
            .filter(|&f| self.count(f) > 0)
            .map(|f| {
                let mut names = self.what[f].clone();
                names.dedup();
                let list = if names.is_empty() {
                    "an area".to_string()
                } else {
                    names.join(", ")
                };
                let list = if self.inverted[f] {
                    format!("everything but {list}")
                } else {
                    list
                };
                format!("{list} of face {}", crate::explain::face_label(f))
            })
            .collect();
        if parts.is_empty() {
            "nothing hidden".into()
        } else {
            format!("{} hidden", parts.join("; "))
        }
    }
}

/// `mask` (on a crop aligned by `from`) resampled onto a `side`-pixel crop
/// aligned by `to` (nearest pixel); unchanged when the crops are the same.
pub fn carry_mask(
    mask: &Array2<bool>,
    from: &Similarity,
    to: &Similarity,
    side: usize,
) -> Array2<bool> {
    if from == to && mask.dim() == (side, side) {
        return mask.clone();
    }
    let back = from.after(&to.inverse());
    Array2::from_shape_fn((side, side), |(y, x)| {
        let [px, py] = back.apply([x as f32, y as f32]);
        let (px, py) = (px.round(), py.round());
        px >= 0.0
            && py >= 0.0
            && mask
                .get((py as usize, px as usize))
                .copied()
                .unwrap_or(false)
    })
}

/// The what-if state of the session.
#[derive(Clone, Debug)]
pub struct WhatIf {
    pub active: bool,
    /// Brush radius, crop pixels.
    pub brush: f32,
    pub fill: Fill,
    pub hidden: Hidden,
    undo: Vec<Hidden>,
    /// Changes whenever `hidden` or `fill` changes.
    pub version: u64,
    /// The similarity measured for `version`, or why it could not be.
    pub result: Option<(u64, Result<f32, String>)>,
    /// The job in flight: (generation, version it measures).
    pub pending: Option<(u64, u64)>,
    /// The recogniser whose crops the masks lie on and which measures them
    /// (`None`: the analysis's own).
    pub model: Option<String>,
}

impl Default for WhatIf {
    fn default() -> Self {
        WhatIf {
            active: false,
            brush: 6.0,
            fill: Fill::Grey,
            hidden: Hidden::new([0, 0]),
            undo: Vec::new(),
            version: 0,
            result: None,
            pending: None,
            model: None,
        }
    }
}

impl WhatIf {
    /// Whether there is a step to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// The similarity of the current masks, once measured.
    pub fn similarity(&self) -> Option<f32> {
        match &self.result {
            Some((v, Ok(s))) if *v == self.version => Some(*s),
            _ => None,
        }
    }

    /// Forget everything hidden (a new pair); the masks are sized for the
    /// new pair's crops once they are known ([`Session::sync_what_if`]).
    pub fn reset(&mut self) {
        let (active, brush, fill) = (self.active, self.brush, self.fill);
        *self = WhatIf {
            active,
            brush,
            fill,
            ..WhatIf::default()
        };
    }

    fn push_undo(&mut self) {
        self.undo.push(self.hidden.clone());
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
    }
}

/// Set (or clear) a disc of `radius` around `(x, y)` (crop pixels).
pub fn paint_disc(mask: &mut Array2<bool>, x: f32, y: f32, radius: f32, value: bool) {
    let (h, w) = mask.dim();
    let r = radius.max(0.5);
    let (y0, y1) = (
        (y - r).floor().max(0.0) as usize,
        ((y + r).ceil() as usize).min(h),
    );
    let (x0, x1) = (
        (x - r).floor().max(0.0) as usize,
        ((x + r).ceil() as usize).min(w),
    );
    for yy in y0..y1 {
        for xx in x0..x1 {
            let (dy, dx) = (yy as f32 + 0.5 - y, xx as f32 + 0.5 - x);
            if dy * dy + dx * dx <= r * r {
                mask[[yy, xx]] = value;
            }
        }
    }
}

/// Paint a stroke: discs along the segments between `points`, every half radius.
pub fn paint_stroke(mask: &mut Array2<bool>, points: &[[f32; 2]], radius: f32) {
    let step = (radius / 2.0).max(0.5);
    for (i, p) in points.iter().enumerate() {
        paint_disc(mask, p[0], p[1], radius, true);
        if let Some(q) = points.get(i + 1) {
            let d = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
            let n = (d / step).ceil() as usize;
            for k in 1..n {
                let t = k as f32 / n as f32;
                let (x, y) = (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t);
                paint_disc(mask, x, y, radius, true);
            }
        }
    }
}

impl Session {
    /// The faces the viewer draws and what-if paints on, and their
    /// recogniser (`None`: the analysis's own): the shown model's once they
    /// are computed, the analysis's own until then.
    pub fn view_faces(&self) -> Option<([Arc<FaceAnalysis>; 2], Option<String>)> {
        match (self.shown_faces(), &self.side_by_side.shown) {
            (Some(f), shown) => Some((f, shown.clone())),
            (None, _) => Some((self.faces()?, None)),
        }
    }

    /// Keep the masks on the crops the viewer shows: sized for a new pair's
    /// crops, carried to another model's crops when the viewer switches (and
    /// measured again with it). Called on every refresh; does nothing when
    /// they are there already.
    pub(super) fn sync_what_if(&mut self) {
        let Some((to, model)) = self.view_faces() else {
            return;
        };
        let sides = to.each_ref().map(|f| f.aligned.crop.width() as usize);
        let w = &self.whatif;
        if w.model == model && w.hidden.sides() == sides {
            return;
        }
        let from = match &w.model {
            _ if w.hidden.is_empty() && w.undo.is_empty() => None,
            None => self.faces(),
            Some(id) => self.other_faces(id),
        };
        let w = &mut self.whatif;
        match from {
            Some(from) => {
                let (a, b) = (from.each_ref(), to.each_ref());
                let (from, to) = (
                    a.map(|f| &f.aligned.transform),
                    b.map(|f| &f.aligned.transform),
                );
                w.hidden = w.hidden.carried(from, to, sides);
                for h in &mut w.undo {
                    *h = h.carried(from, to, sides);
                }
            }
            None => {
                w.hidden = Hidden::new(sides);
                w.undo.clear();
            }
        }
        let changed = w.model != model;
        w.model = model;
        if changed {
            w.version += 1;
            self.send_what_if();
        }
    }

    /// Apply a what-if command ([`super::Command::WhatIf`]).
    pub(super) fn what_if(&mut self, cmd: WhatIfCmd) {
        self.sync_what_if();
        let regions = self
            .shown_maps()
            .and_then(|m| m.regions.as_ref())
            .map(|r| [r[0].label.clone(), r[1].label.clone()]);
        let w = &mut self.whatif;
        let before = (w.hidden.clone(), w.fill);
        match cmd {
            WhatIfCmd::SetActive(a) => w.active = a,
            WhatIfCmd::SetBrush(b) => w.brush = b.clamp(1.0, 40.0),
            WhatIfCmd::SetFill(f) => w.fill = f,
            WhatIfCmd::Stroke {
                face,
                points,
                radius,
            } => {
                if face < 2 && !points.is_empty() {
                    w.push_undo();
                    paint_stroke(&mut w.hidden.masks[face], &points, radius);
                    w.hidden.what[face].push("painted area".into());
                }
            }
            WhatIfCmd::HideRegion { faces, region } => {
                if let Some(labels) = &regions {
                    w.push_undo();
                    // The regions lie on the shown model's crops, as the masks do.
                    for &f in faces.iter().filter(|&&f| f < 2) {
                        if labels[f].dim() != w.hidden.masks[f].dim() {
                            continue;
                        }
                        let code = region.code();
                        for (m, &l) in w.hidden.masks[f].iter_mut().zip(labels[f].iter()) {
                            if l == code {
                                *m = true;
                            }
                        }
                        w.hidden.what[f].push(region.name().into());
                    }
                }
            }
            WhatIfCmd::Undo => {
                if let Some(h) = w.undo.pop() {
                    w.hidden = h;
                }
            }
            WhatIfCmd::Clear => {
                if !w.hidden.is_empty() {
                    w.push_undo();
                    w.hidden = Hidden::new(w.hidden.sides());
                }
            }
            WhatIfCmd::Invert => {
                if !w.hidden.is_empty() {
                    w.push_undo();
                    for f in 0..2 {
                        if w.hidden.count(f) > 0 {
                            w.hidden.masks[f].mapv_inplace(|b| !b);
                            w.hidden.inverted[f] = !w.hidden.inverted[f];
                        }
                    }
                }
            }
        }
        if (w.hidden.clone(), w.fill) != before {
            w.version += 1;
            self.send_what_if();
        }
    }

    /// Measure the current masks on the worker with the recogniser whose
    /// crops they lie on (nothing to do when nothing is hidden).
    fn send_what_if(&mut self) {
        let faces = match &self.whatif.model {
            None => self.faces(),
            Some(id) => self.other_faces(id),
        };
        let Some(faces) = faces else {
            return;
        };
        self.jobs.cancel(&[JobKind::WhatIf]);
        let w = &mut self.whatif;
        if w.hidden.is_empty() {
            w.pending = None;
            w.result = None;
            return;
        }
        let masks = [0, 1].map(|f| (w.hidden.count(f) > 0).then(|| w.hidden.masks[f].clone()));
        let version = w.version;
        let generation = self.jobs.send(Job::WhatIf {
            faces,
            masks: Box::new(masks),
            fill: self.whatif.fill,
            model: self.whatif.model.clone(),
        });
        self.whatif.pending = Some((generation, version));
    }

    /// The worker's answer for a what-if job.
    pub(super) fn what_if_done(&mut self, generation: u64, result: Result<f32, String>) {
        let w = &mut self.whatif;
        if let Some((g, v)) = w.pending
            && g == generation
        {
            w.pending = None;
            w.result = Some((v, result));
        }
    }

    /// The similarity and threshold of the pair unoccluded for the
    /// recogniser `model` (`None`: the analysis's own, at the threshold in force).
    fn what_if_baseline(&self, model: Option<&str>) -> Option<(f32, f32)> {
        match model {
            None => Some((self.comparison()?.similarity, self.threshold()?.0)),
            Some(id) => {
                let v = self
                    .current_analysis()?
                    .models
                    .iter()
                    .find(|v| v.id == id)?;
                Some((v.similarity, v.threshold))
            }
        }
    }

    /// The what-if sentence: "left eye of face A hidden (grey fill): 0.745 to 0.612,
    /// still a match (threshold 0.363) — SFace's similarity" (the UI's fonts
    /// have no arrow), naming the recogniser that measured it.
    pub fn what_if_sentence(&self) -> Option<String> {
        let w = &self.whatif;
        if w.hidden.is_empty() {
            return None;
        }
        let what = w.hidden.describe();
        let model = self.model_label(w.model.as_deref());
        let sentence = match (&w.result, self.what_if_baseline(w.model.as_deref())) {
            (Some((v, Ok(s))), Some((was, t))) if *v == w.version => {
                let verdict = match (was >= t, *s >= t) {
                    (true, true) => "still a match",
                    (true, false) => "now a non-match",
                    (false, true) => "now a match",
                    (false, false) => "still a non-match",
                };
                format!(
                    "{what} ({} fill): {was:.3} to {s:.3}, {verdict} (threshold {t:.3})",
                    w.fill.label(),
                )
            }
            (Some((v, Err(e))), _) if *v == w.version => format!("{what}: could not measure: {e}"),
            _ => format!("{what}: measuring…"),
        };
        // English possessive: "SFace's", but "means'" for a name ending in s.
        let apostrophe = if model.ends_with('s') { "'" } else { "'s" };
        Some(format!("{sentence} — {model}{apostrophe} similarity"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_fill_the_segments_between_points() {
        let mut m = Array2::from_elem((40, 40), false);
        paint_stroke(&mut m, &[[5.0, 5.0], [30.0, 5.0]], 2.0);
        assert!((5..30).all(|x| m[[5, x]]));
        assert!(!m[[12, 12]]);
        let mut h = Hidden::new([8, 8]);
        assert_eq!(h.describe(), "nothing hidden");
        h.masks[0][[1, 1]] = true;
        h.what[0].push("left eye".into());
        assert_eq!(h.describe(), "left eye of face A hidden");
    }
}
