//! Worker events applied to the session: results of superseded jobs (older
//! generation ids) are dropped, a failed job leaves the previous result in
//! place, and a new pair starts its explanation.

use super::jobs::{Event, JobKind, Slot};
use super::maps::Maps;
use super::{ProgressState, Session};
use crate::pipeline::FaceAnalysis;
use crate::record::FaceQuality;
use std::sync::Arc;
use std::time::Instant;

impl Session {
    /// Take the worker's events and apply them.
    pub fn poll(&mut self) {
        for ev in self.jobs.poll() {
            self.apply(ev);
        }
        if self.jobs.in_flight() == 0 {
            self.progress = None;
        }
        self.refresh();
    }

    /// Apply one worker event.
    pub fn apply(&mut self, ev: Event) {
        match ev {
            Event::ModelsReady(r) => self.models = Some(r.map(|m| *m)),
            Event::Progress {
                generation,
                progress,
            } => {
                let now = Instant::now();
                self.progress = Some(match self.progress.take() {
                    Some(p) if p.generation == generation => ProgressState {
                        stage_started: if p.progress.stage == progress.stage {
                            p.stage_started
                        } else {
                            now
                        },
                        progress,
                        ..p
                    },
                    _ => ProgressState {
                        generation,
                        progress,
                        started: now,
                        stage_started: now,
                    },
                });
            }
            Event::SlotDone {
                generation,
                slot,
                result,
                quality,
            } => self.slot_done(generation, slot, result, quality),
            Event::ExplainPartial { generation, part } => {
                let v = self.next_version();
                if let Some((g, maps)) = &mut self.explaining
                    && *g == generation
                {
                    maps.add(part, v);
                }
            }
            Event::Explained { generation, result } => {
                if matches!(&self.explaining, Some((g, _)) if *g == generation) {
                    self.explaining = None;
                    match result {
                        Ok(ex) => {
                            let v = self.next_version();
                            self.explained = Some(Maps::finished(ex, v));
                        }
                        Err(e) => self.banner = Some(format!("The explanation failed: {e}")),
                    }
                }
            }
            Event::Answered { generation, result } => {
                if let Err(e) = &result {
                    self.banner = Some(format!("The chat could not answer: {e}"));
                }
                self.chat.answered(generation, result);
            }
            Event::ModelFaces { generation, result } => self.model_faces_done(generation, result),
            Event::ReportExported { generation, result } => {
                self.report_exported(generation, result)
            }
            Event::ExploreRows { generation, rows } => self.explore_rows(generation, rows),
            Event::Explored { generation, result } => self.explored(generation, result),
            Event::Cancelled { generation } => {
                self.explore_cancelled(generation);
                self.model_faces_cancelled(generation);
                for s in &mut self.slots {
                    if s.pending == Some(generation) {
                        s.pending = None;
                    }
                }
                if matches!(&self.explaining, Some((g, _)) if *g == generation) {
                    self.explaining = None;
                }
                self.chat.cancelled(generation);
            }
            Event::WhatIfDone { generation, result } => self.what_if_done(generation, result),
            Event::Panicked { what, cause } => {
                self.fault = Some(format!(
                    "Internal error while {what}: {cause} (stopped; the previous result is kept)"
                ));
            }
        }
        self.update_pair();
        self.refresh();
    }

    fn slot_done(
        &mut self,
        generation: u64,
        slot: Slot,
        result: Result<Arc<FaceAnalysis>, String>,
        quality: Option<Result<FaceQuality, String>>,
    ) {
        let s = &mut self.slots[slot.index()];
        if s.pending != Some(generation) {
            return; // a newer job for this slot superseded it
        }
        s.pending = None;
        match result {
            Ok(a) => {
                s.analysis = Some(a);
                s.quality = quality;
                s.loaded = generation;
                s.error = None;
            }
            Err(e) => s.error = Some(e),
        }
    }

    /// A new pair (both slots analysed, nothing pending): drop the old
    /// explanation and chat, cancel their jobs, explain the new pair.
    fn update_pair(&mut self) {
        if self.busy() || self.faces().is_none() || !matches!(self.models, Some(Ok(_))) {
            return;
        }
        let key = (self.slots[0].loaded, self.slots[1].loaded);
        if self.pair_key == Some(key) {
            // A failed load interrupted the explanation of this same pair: resume it.
            if self.resume_explain && self.explaining.is_none() {
                self.resume_explain = false;
                self.explain();
            }
            return;
        }
        self.resume_explain = false;
        self.pair_key = Some(key);
        self.jobs.cancel(&[JobKind::Explain, JobKind::Ask]);
        self.explained = None;
        self.explaining = None;
        self.chat.clear();
        self.whatif.reset();
        self.side_by_side_new_pair();
        if self.settings.auto_explain {
            self.explain();
        }
    }
}
