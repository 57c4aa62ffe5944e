//! What-if occlusion's state (issue 16), with no drawing: what is hidden on
//! each aligned face (a mask per face, with undo), the fill, the brush size,
//! and the similarity the worker measured for the current masks. Every change
//! of the masks or the fill sends one [`Job::WhatIf`]; a newer one cancels
//! the older if it has not started, and only the newest answer is shown.

use super::Session;
use super::jobs::{Job, JobKind};
use crate::explain::regions::Region;
use crate::explain::whatif::Fill;
use crate::pipeline::CROP;
use ndarray::Array2;

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

impl Default for Hidden {
    fn default() -> Self {
        let side = CROP as usize;
        Hidden {
            masks: [
                Array2::from_elem((side, side), false),
                Array2::from_elem((side, side), false),
            ],
            what: [Vec::new(), Vec::new()],
            inverted: [false, false],
        }
    }
}

impl Hidden {
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
}

impl Default for WhatIf {
    fn default() -> Self {
        WhatIf {
            active: false,
            brush: 6.0,
            fill: Fill::Grey,
            hidden: Hidden::default(),
            undo: Vec::new(),
            version: 0,
            result: None,
            pending: None,
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

    /// Forget everything hidden (a new pair).
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
    /// Apply a what-if command ([`super::Command::WhatIf`]).
    pub(super) fn what_if(&mut self, cmd: WhatIfCmd) {
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
                    for &f in faces.iter().filter(|&&f| f < 2) {
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
                    w.hidden = Hidden::default();
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

    /// Measure the current masks on the worker (nothing to do when nothing is hidden).
    fn send_what_if(&mut self) {
        let Some(faces) = self.faces() else {
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

    /// The what-if sentence: "left eye of face A hidden (grey fill): 0.745 to 0.612,
    /// still a match (threshold 0.363)" (the UI's fonts have no arrow).
    pub fn what_if_sentence(&self) -> Option<String> {
        let w = &self.whatif;
        if w.hidden.is_empty() {
            return None;
        }
        let cmp = self.comparison()?;
        let (t, _) = self.threshold()?;
        let what = w.hidden.describe();
        let sentence = match &w.result {
            Some((v, Ok(s))) if *v == w.version => {
                let (was, now) = (cmp.similarity >= t, *s >= t);
                let verdict = match (was, now) {
                    (true, true) => "still a match",
                    (true, false) => "now a non-match",
                    (false, true) => "now a match",
                    (false, false) => "still a non-match",
                };
                format!(
                    "{what} ({} fill): {:.3} to {s:.3}, {verdict} (threshold {t:.3})",
                    w.fill.label(),
                    cmp.similarity
                )
            }
            Some((v, Err(e))) if *v == w.version => format!("{what}: could not measure: {e}"),
            _ => format!("{what}: measuring…"),
        };
        // The viewer may show another model's maps: say whose similarity this is.
        Some(
            match (&self.side_by_side.shown, self.enabled_models().first()) {
                (Some(_), Some(own)) => format!("{sentence} — {}'s similarity", own.label()),
                _ => sentence,
            },
        )
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
        let mut h = Hidden::default();
        assert_eq!(h.describe(), "nothing hidden");
        h.masks[0][[1, 1]] = true;
        h.what[0].push("left eye".into());
        assert_eq!(h.describe(), "left eye of face A hidden");
    }
}
