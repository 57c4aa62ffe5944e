//! The explorer page's state (no egui): the data set being opened or shown,
//! its rows (a preview while the worker embeds, then the final table), the
//! view (sort, filters, threshold) and the order of the rows it gives, and
//! the summary at the view's threshold. Changed by [`ExplorerCommand`]s and
//! by the worker's explore events; the view survives going to the viewer and
//! back.

use super::Session;
use super::jobs::{Job, JobKind};
use crate::explore::histogram::{BINS, Histogram};
use crate::explore::{Column, Filter, Row, Summary, Table, sorted_view};
use std::path::{Path, PathBuf};

/// Impostor pairs the app uses at most before it samples them (seeded);
/// stated in the view. Keeps the table of a large set responsive.
pub const APP_MAX_IMPOSTORS: usize = 100_000;

/// The seed of the impostor sample.
pub const APP_SEED: u64 = 0;

/// Which page the window shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Page {
    #[default]
    Viewer,
    Explorer,
}

/// A change to the explorer.
#[derive(Clone, Debug)]
pub enum ExplorerCommand {
    /// Open a data set folder (identity sub-folders), with a pairs list or not.
    Open {
        dataset: PathBuf,
        pairs: Option<PathBuf>,
    },
    /// Stop opening the data set; the rows so far stay.
    Cancel,
    /// Sort by a column; the same column again flips the direction.
    Sort(Column),
    SetFilter(Filter),
    /// The view's decision threshold (`None`: the table's own again).
    SetThreshold(Option<f64>),
    /// Open the pair of this position of the rows in the viewer.
    OpenPair(usize),
    ShowPage(Page),
    /// Write the rows shown (view order) as CSV or JSON.
    Export {
        path: PathBuf,
        json: bool,
    },
}

/// The explorer's state.
#[derive(Default)]
pub struct Explorer {
    pub page: Page,
    /// The data set folder asked for and its pairs list.
    pub dataset: Option<PathBuf>,
    pub pairs_file: Option<PathBuf>,
    /// Generation of the explore job in flight.
    pub pending: Option<u64>,
    /// Rows that arrived while the job runs (provisional ids, arrival order).
    pub preview: Vec<Row>,
    /// The finished table.
    pub table: Option<Table>,
    /// Why the last open failed.
    pub error: Option<String>,
    pub sort: (Column, bool),
    pub filter: Filter,
    /// The user's threshold (a view setting: the similarities do not change).
    pub threshold: Option<f64>,
    /// Positions into [`Explorer::rows`] the view shows, in order.
    pub order: Vec<usize>,
    /// Counts and error rates at the threshold in force.
    pub summary: Option<Summary>,
    /// Genuine and impostor similarities binned (rebuilt when the rows change).
    pub histogram: Option<Histogram>,
    /// Id of the row last opened in the viewer.
    pub opened: Option<usize>,
    /// The finished table's own threshold and its source.
    own: Option<(f64, String)>,
}

impl Explorer {
    /// The rows shown: the finished table's, else the preview.
    pub fn rows(&self) -> &[Row] {
        self.table.as_ref().map_or(&self.preview, |t| &t.rows)
    }

    /// Whether a data set is being opened.
    pub fn loading(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the explorer has anything to show (the page tab appears then).
    pub fn active(&self) -> bool {
        self.dataset.is_some()
    }

    /// The threshold in force and where it comes from.
    pub fn threshold_in_force(&self, calibration: Option<f64>) -> Option<(f64, String)> {
        match (self.threshold, &self.table) {
            (Some(t), _) => Some((t, "set in the explorer".into())),
            (None, Some(t)) => Some((t.threshold, t.threshold_source.clone())),
            (None, None) => calibration.map(|t| (t, "calibration".into())),
        }
    }

    /// The rows changed: rebuild the histogram.
    fn rows_changed(&mut self) {
        self.histogram = Histogram::of(self.rows(), BINS);
    }

    /// Re-sort and re-filter (sort and filter changes).
    fn resort(&mut self) {
        let (col, desc) = self.sort;
        self.order = sorted_view(self.rows(), &self.filter, col, desc);
    }

    /// Re-sort, and recompute the summary (rows or threshold changed).
    fn refresh(&mut self, calibration: Option<f64>) {
        self.resort();
        self.summary = self
            .threshold_in_force(calibration)
            .map(|(t, _)| Summary::of(self.rows(), t));
    }
}

/// A dropped data set: a folder, and a pairs list dropped with it.
pub fn dropped_dataset(paths: &[PathBuf]) -> Option<(PathBuf, Option<PathBuf>)> {
    let dir = paths.iter().find(|p| p.is_dir())?;
    let pairs = paths.iter().find(|p| p.is_file()).cloned();
    Some((dir.clone(), pairs))
}

impl Session {
    fn calibration_threshold(&self) -> Option<f64> {
        match &self.models {
            Some(Ok(m)) => m.calibration.as_ref().ok().map(|c| c.threshold() as f64),
            _ => None,
        }
    }

    fn explorer_calibration(&self) -> Option<&crate::calibration::Calibration> {
        match &self.models {
            Some(Ok(m)) => m.calibration.as_ref().ok(),
            _ => None,
        }
    }

    /// Apply an explorer command.
    pub fn explorer_command(&mut self, cmd: ExplorerCommand) {
        let cal_t = self.calibration_threshold();
        match cmd {
            ExplorerCommand::Open { dataset, pairs } => self.open_dataset(&dataset, pairs),
            ExplorerCommand::Cancel => self.jobs.cancel(&[JobKind::Explore]),
            ExplorerCommand::Sort(c) => {
                let e = &mut self.explorer;
                e.sort = match e.sort {
                    (s, desc) if s == c => (c, !desc),
                    // Scores read best from the highest down, quality worst first.
                    _ => (
                        c,
                        matches!(
                            c,
                            Column::Similarity
                                | Column::Lr
                                | Column::PicScore
                                | Column::QualityA
                                | Column::QualityB
                        ),
                    ),
                };
                e.refresh(cal_t);
            }
            ExplorerCommand::SetFilter(f) => {
                self.explorer.filter = f;
                self.explorer.resort();
            }
            ExplorerCommand::SetThreshold(t) => {
                self.explorer.threshold = t;
                self.redecide();
            }
            ExplorerCommand::OpenPair(pos) => self.open_explored_pair(pos),
            ExplorerCommand::ShowPage(p) => self.explorer.page = p,
            ExplorerCommand::Export { path, json } => self.export_explored(&path, json),
        }
    }

    /// Start opening a data set on the worker (a running one is cancelled).
    pub fn open_dataset(&mut self, dataset: &Path, pairs: Option<PathBuf>) {
        self.jobs.cancel(&[JobKind::Explore]);
        let generation = self.jobs.send(Job::Explore {
            dataset: dataset.to_path_buf(),
            pairs: pairs.clone(),
            max_impostors: APP_MAX_IMPOSTORS,
            seed: APP_SEED,
        });
        let e = &mut self.explorer;
        e.dataset = Some(dataset.to_path_buf());
        e.pairs_file = pairs;
        e.pending = Some(generation);
        e.preview.clear();
        e.table = None;
        e.error = None;
        e.opened = None;
        e.own = None;
        e.page = Page::Explorer;
        e.rows_changed();
        e.refresh(None);
    }

    /// Decide every row at the threshold in force and refresh the view.
    fn redecide(&mut self) {
        let cal_t = self.calibration_threshold();
        let cal = self.explorer_calibration().cloned();
        let e = &mut self.explorer;
        let wanted = match (e.threshold, &e.own) {
            (Some(t), _) => Some((t, "set in the explorer".to_string())),
            (None, Some(own)) => Some(own.clone()),
            (None, None) => cal_t.map(|t| (t, "calibration".to_string())),
        };
        if let Some((t, source)) = wanted {
            match &mut e.table {
                Some(table) => table.set_threshold(t, source),
                None => e.preview.iter_mut().for_each(|r| r.decide(t, cal.as_ref())),
            }
        }
        e.refresh(cal_t);
    }

    /// Rows of the running explore job arrived.
    pub(super) fn explore_rows(&mut self, generation: u64, mut rows: Vec<Row>) {
        if self.explorer.pending != Some(generation) {
            return;
        }
        if let Some(t) = self.explorer.threshold {
            let cal = self.explorer_calibration().cloned();
            rows.iter_mut().for_each(|r| r.decide(t, cal.as_ref()));
        }
        self.explorer.preview.extend(rows);
        self.explorer.rows_changed();
        let cal_t = self.calibration_threshold();
        self.explorer.refresh(cal_t);
    }

    /// The explore job finished (or failed: the message says why).
    pub(super) fn explored(&mut self, generation: u64, result: Result<Box<Table>, String>) {
        if self.explorer.pending != Some(generation) {
            return;
        }
        self.explorer.pending = None;
        match result {
            Ok(table) => self.show_table(*table),
            Err(e) => {
                self.explorer.error = Some(e);
                let cal_t = self.calibration_threshold();
                self.explorer.refresh(cal_t);
            }
        }
    }

    /// Show a finished table (the explore job's, or one a benchmark made).
    pub fn show_table(&mut self, table: Table) {
        let e = &mut self.explorer;
        e.dataset.get_or_insert_with(|| table.root.clone());
        e.own = Some((table.threshold, table.threshold_source.clone()));
        e.preview.clear();
        e.table = Some(table);
        e.rows_changed();
        self.redecide();
    }

    /// The explore job was cancelled: the rows so far stay.
    pub(super) fn explore_cancelled(&mut self, generation: u64) {
        if self.explorer.pending == Some(generation) {
            self.explorer.pending = None;
            self.explorer.error = Some(format!(
                "Cancelled: {} pairs were scored before the stop; open the data set again to finish",
                self.explorer.preview.len()
            ));
        }
    }

    /// Write the rows shown, in view order; the status bar or the banner says how it went.
    fn export_explored(&mut self, path: &Path, json: bool) {
        let e = &self.explorer;
        let Some(t) = &e.table else {
            self.banner = Some("Export: the data set is still being opened".into());
            return;
        };
        let rows: Vec<&Row> = e.order.iter().map(|&i| &t.rows[i]).collect();
        let n = rows.len();
        let r = if json {
            t.write_json(&rows, path)
        } else {
            t.write_csv(&rows, path)
        };
        match r {
            Ok(()) => self.notice = Some(format!("{n} rows written to {}", path.display())),
            Err(e) => self.banner = Some(format!("Export failed: {e}")),
        }
    }

    /// Open the pair at position `pos` of the rows in the viewer.
    fn open_explored_pair(&mut self, pos: usize) {
        let e = &self.explorer;
        let Some(row) = e.rows().get(pos) else {
            return;
        };
        let root = match (&e.table, &e.dataset) {
            (Some(t), _) => t.root.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => return,
        };
        let paths = vec![root.join(&row.file_a), root.join(&row.file_b)];
        self.explorer.opened = Some(row.id);
        self.explorer.page = Page::Viewer;
        self.open_files(paths, None);
    }
}
