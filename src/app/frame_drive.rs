//! `--frame-stats --drive`: a stand-in examiner for measuring frames. While an
//! explanation runs it moves the pointer over the faces every frame (hover
//! read-outs, region highlights) and switches the map once a second (a new
//! overlay rendered and uploaded), so `--frame-stats` times the frames of
//! someone working with the app, not only the idle repaints of a progress bar.

use crate::session::MapChoice;

/// Frames between two map switches (about a second at 60 frames per second).
const SWITCH_EVERY: u64 = 60;

#[derive(Default)]
pub struct Drive {
    frame: u64,
}

impl Drive {
    /// Add this frame's pointer position to the input: a closed path over the
    /// middle of the window, where the viewer shows the faces.
    pub fn pointer(&mut self, raw: &mut egui::RawInput, fallback: egui::Rect) {
        let r = raw.screen_rect.unwrap_or(fallback);
        let t = self.frame as f32 * 0.05;
        let pos = egui::pos2(
            r.left() + r.width() * (0.42 + 0.2 * t.sin()),
            r.top() + r.height() * (0.47 + 0.16 * (1.7 * t).sin()),
        );
        raw.events.push(egui::Event::PointerMoved(pos));
        self.frame += 1;
    }

    /// The map to switch to on this frame, if it is time: the next of
    /// [`MapChoice::ALL`] after `now`.
    pub fn next_map(&self, now: MapChoice) -> Option<MapChoice> {
        if self.frame == 0 || !self.frame.is_multiple_of(SWITCH_EVERY) {
            return None;
        }
        let i = MapChoice::ALL.iter().position(|&c| c == now).unwrap_or(0);
        Some(MapChoice::ALL[(i + 1) % MapChoice::ALL.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pointer_stays_over_the_window_and_the_maps_cycle() {
        let mut d = Drive::default();
        let r = egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(1280.0, 800.0));
        let mut seen = Vec::new();
        let mut map = MapChoice::ALL[0];
        for _ in 0..SWITCH_EVERY * MapChoice::ALL.len() as u64 {
            let mut raw = egui::RawInput::default();
            d.pointer(&mut raw, r);
            let [egui::Event::PointerMoved(p)] = raw.events.as_slice() else {
                panic!("one pointer move per frame: {:?}", raw.events);
            };
            assert!(r.contains(*p), "{p:?}");
            if let Some(m) = d.next_map(map) {
                map = m;
                seen.push(m);
            }
        }
        // Every map once, the first last (the cycle closes).
        assert_eq!(seen.len(), MapChoice::ALL.len());
        assert_eq!(seen.last(), Some(&MapChoice::ALL[0]));
    }
}
