//! Commands: every change a person makes to the session. Panels emit them;
//! the app applies them in one place with [`Session::run`].

use super::Session;
use super::jobs::{ExplainedPair, Job, JobKind, ReportJob, Slot};
use super::maps::Maps;
use super::settings::{SaliencyFace, Settings, SortColumn, TableKind, ViewSettings};
use crate::explain::ExplainParams;
use crate::pipeline::DetectedImage;
use crate::record::Analysis;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A change to the session.
#[derive(Clone, Debug)]
pub enum Command {
    /// Files dropped or chosen: two fill both slots; one goes into `target`,
    /// else the first empty slot.
    OpenFiles {
        paths: Vec<PathBuf>,
        target: Option<Slot>,
    },
    /// Load one file into one slot.
    OpenInSlot(Slot, PathBuf),
    /// Use another detected face of a slot's image.
    PickFace(Slot, usize),
    /// Explain the current pair with the parameters in the settings.
    Explain,
    /// Cancel every running job; the results on screen stay.
    Cancel,
    /// Ask the chat about the current analysis.
    Ask(String),
    /// Clear the chat: its history goes and the next question starts a new conversation.
    StartOverChat,
    /// Write the analysis JSON (and the maps beside it) to this file.
    Export(PathBuf),
    /// Write the HTML report (and the maps beside it) to this file, on the
    /// worker; an open case logs the export.
    ExportReport(PathBuf),
    /// New explanation parameters (used by the next Explain).
    SetParams(Box<ExplainParams>),
    /// New viewer settings (map, render mode, overlays).
    SetView(ViewSettings),
    /// Which explainability table is shown and how it is sorted.
    SetTable {
        table: TableKind,
        face: SaliencyFace,
        sort: Option<(SortColumn, bool)>,
    },
    /// The whole settings (the menu's choices: theme, panes, threshold override).
    SetSettings(Box<Settings>),
    /// Hide the error banner.
    DismissBanner,
    /// A change to the examiner's case ([`super::case`]).
    Case(super::case::CaseCommand),
    /// What-if occlusion: paint, hide a region, undo, clear, invert, fill (issue 16).
    WhatIf(super::whatif::WhatIfCmd),
    /// A change to the explorer page.
    Explorer(super::ExplorerCommand),
    /// Enable these face recognisers beside the analysis's own (ids; issue 19).
    SetModels(Vec<String>),
    /// Show the maps of this recogniser in the viewer (`None`: the analysis's own).
    ShowModel(Option<String>),
}

impl Session {
    /// Apply one command.
    pub fn run(&mut self, cmd: Command) {
        if matches!(
            cmd,
            Command::OpenFiles { .. }
                | Command::OpenInSlot(..)
                | Command::PickFace(..)
                | Command::Explain
                | Command::Ask(_)
        ) {
            self.fault = None;
        }
        match cmd {
            Command::OpenFiles { paths, target } => self.open_files(paths, target),
            Command::OpenInSlot(slot, path) => self.open_in_slot(slot, path),
            Command::PickFace(slot, face) => self.pick_face(slot, face),
            Command::Explain => self.explain(),
            Command::Cancel => self.cancel(),
            Command::Ask(q) => self.ask(&q),
            Command::StartOverChat => {
                self.jobs.cancel(&[JobKind::Ask]);
                self.chat.start_over();
            }
            Command::Export(path) => {
                if let Err(e) = self.export_analysis(&path) {
                    self.banner = Some(format!("Export failed: {e}"));
                }
            }
            Command::ExportReport(path) => {
                if let Err(e) = self.export_report(path) {
                    self.banner = Some(format!("Report not written: {e}"));
                }
            }
            Command::SetParams(p) => self.settings.params = *p,
            Command::SetView(v) => self.settings.view = v,
            Command::SetTable { table, face, sort } => {
                self.settings.table = table;
                self.settings.saliency_face = face;
                self.settings.sort = sort;
            }
            Command::SetSettings(s) => self.settings = *s,
            Command::DismissBanner => self.banner = None,
            Command::Case(c) => self.case_command(c),
            Command::WhatIf(c) => self.what_if(c),
            Command::Explorer(c) => self.explorer_command(c),
            Command::SetModels(ids) => self.set_models(ids),
            Command::ShowModel(m) => self.show_model(m),
        }
        self.refresh();
    }

    /// Load files as a drop does ([`Command::OpenFiles`]).
    pub fn open_files(&mut self, paths: Vec<PathBuf>, target: Option<Slot>) {
        if let Some((dir, pairs)) = super::explorer::dropped_dataset(&paths) {
            return self.open_dataset(&dir, pairs);
        }
        match paths.as_slice() {
            [] => {}
            [one] => {
                let slot = target.unwrap_or_else(|| {
                    Slot::BOTH
                        .into_iter()
                        .find(|s| self.slots[s.index()].path.is_none())
                        .unwrap_or(Slot::Probe)
                });
                self.open_in_slot(slot, one.clone());
            }
            [a, b, ..] => {
                self.open_in_slot(Slot::Probe, a.clone());
                self.open_in_slot(Slot::Reference, b.clone());
            }
        }
    }

    /// Stop explaining and answering so an image job does not wait behind
    /// them on the worker; the explanation resumes if the pair stays the same.
    fn interrupt_for_image_job(&mut self) {
        if self.explaining.is_some() {
            self.resume_explain = true;
        }
        self.jobs.cancel(&[JobKind::Explain, JobKind::Ask]);
    }

    pub(super) fn open_in_slot(&mut self, slot: Slot, path: PathBuf) {
        self.interrupt_for_image_job();
        let generation = self.jobs.send(Job::LoadImage {
            slot,
            path: path.clone(),
            face: None,
        });
        let s = &mut self.slots[slot.index()];
        s.path = Some(path);
        s.pending = Some(generation);
    }

    pub(super) fn pick_face(&mut self, slot: Slot, face: usize) {
        let Some(a) = self.slots[slot.index()].analysis.clone() else {
            return;
        };
        if a.chosen == face || face >= a.faces.len() {
            return;
        }
        let detected = Arc::new(DetectedImage {
            image: a.image.clone(),
            faces: a.faces.clone(),
        });
        self.interrupt_for_image_job();
        let generation = self.jobs.send(Job::PickFace {
            slot,
            detected,
            face,
        });
        self.slots[slot.index()].pending = Some(generation);
    }

    /// Start explaining the current pair with the parameters in the settings;
    /// a running explanation is cancelled.
    /// The shown model's faces are explained (`SideBySide::shown`); if they
    /// are still being computed, the explanation starts when they arrive.
    pub(super) fn explain(&mut self) {
        let Some(faces) = self.faces_to_explain() else {
            return;
        };
        let params = self.settings.params.clone();
        if let Err(e) = params.validate(faces[0].aligned.crop.height() as usize) {
            self.banner = Some(e.to_string());
            return;
        }
        self.jobs.cancel(&[JobKind::Explain]);
        let model = self.side_by_side.shown.clone();
        let generation = self.jobs.send(Job::Explain {
            faces,
            params: Box::new(params),
            model,
        });
        self.explaining = Some((generation, Maps::default()));
    }

    fn cancel(&mut self) {
        self.jobs.cancel(&[
            JobKind::Image,
            JobKind::Explain,
            JobKind::Ask,
            JobKind::Explore,
            JobKind::Models,
        ]);
    }

    fn ask(&mut self, question: &str) {
        let question = question.trim();
        if question.is_empty() || self.result_hidden() {
            return;
        }
        let Some(analysis) = self.analysis() else {
            return;
        };
        let generation = self.jobs.send(Job::Ask {
            analysis: Box::new(analysis),
            question: question.into(),
            start_over: std::mem::take(&mut self.chat.start_over_pending),
        });
        self.chat.asked(generation, question);
    }

    /// Write the analysis JSON to `path` exactly as `compare --json` does; with
    /// a finished explanation the maps go into `explain-<A>-<B>/` beside it
    /// ([`Command::Export`]).
    pub fn export_analysis(&mut self, path: &Path) -> Result<PathBuf, String> {
        let (mut an, explanation) = self.exportable()?;
        if let Some((ex, [a, b])) = explanation {
            let dir = crate::explain::output::default_dir(Some(path), [&a, &b]);
            an.maps.clear();
            an.timings_ms.clear();
            crate::explain::output::write(&dir, &ex, &mut an).map_err(|e| e.to_string())?;
        }
        an.write(path).map_err(|e| e.to_string())?;
        self.notice = Some(format!("analysis written to {}", path.display()));
        Ok(path.to_path_buf())
    }

    /// What an export writes: the analysis and, when finished, the
    /// explanation drawn with the colormaps and opacity in use now, with its
    /// faces. Refused in blind mode and before there is an analysis.
    fn exportable(&self) -> Result<(Analysis, Option<ExplainedPair>), String> {
        if self.result_hidden() {
            return Err("blind mode: record your conclusion before exporting the result".into());
        }
        let an = self
            .analysis()
            .ok_or("there is no analysis to export yet: load two images")?;
        let explanation = match (self.primary_explanation(), self.faces()) {
            (Some(ex), Some(faces)) => {
                let mut ex = (**ex).clone();
                ex.params.render = self.settings.params.render.clone();
                Some((ex, faces))
            }
            _ => None,
        };
        Ok((an, explanation))
    }

    /// Send the report of the analysis on screen to the worker, which writes
    /// it to `path` as `facexplain report` does (maps beside it; with the
    /// open case's header, notes, conclusions and audit trail); the case logs
    /// the export when it is written ([`Command::ExportReport`]).
    pub fn export_report(&mut self, path: PathBuf) -> Result<u64, String> {
        let (analysis, explanation) = self.exportable()?;
        let case = self.case.report_case();
        let case_id = case.as_ref().map(|c| c.case.case_id.clone());
        let generation = self.jobs.send(Job::ExportReport(Box::new(ReportJob {
            path: path.clone(),
            analysis,
            explanation,
            case,
            timestamp: Some(crate::record::case::now_utc()),
        })));
        self.case.exporting = Some((generation, case_id));
        self.notice = Some(format!("writing the report to {}…", path.display()));
        Ok(generation)
    }
}
