//! Sorting, filtering and the summary strip of the explorer's table.

use super::{Row, Table};
use crate::calibration::fit::ScoreSet;
use crate::calibration::fit::evaluate::{FnmrAtFmr, fnmr_at_fmrs};
use serde::Serialize;
use std::cmp::Ordering;

/// A column to sort by; `--sort NAME` takes [`Column::name`], `-NAME` descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Id,
    FileA,
    FileB,
    IdentityA,
    IdentityB,
    Label,
    Similarity,
    Decision,
    Correct,
    CScore,
    PicScore,
    Lr,
}

impl Column {
    pub const ALL: [Column; 12] = [
        Column::Id,
        Column::FileA,
        Column::FileB,
        Column::IdentityA,
        Column::IdentityB,
        Column::Label,
        Column::Similarity,
        Column::Decision,
        Column::Correct,
        Column::CScore,
        Column::PicScore,
        Column::Lr,
    ];

    /// The column's name in exports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Column::Id => "pair",
            Column::FileA => "file_a",
            Column::FileB => "file_b",
            Column::IdentityA => "identity_a",
            Column::IdentityB => "identity_b",
            Column::Label => "label",
            Column::Similarity => "similarity",
            Column::Decision => "decision",
            Column::Correct => "correct",
            Column::CScore => "c_score",
            Column::PicScore => "pic_score",
            Column::Lr => "log10_lr",
        }
    }

    /// The column named `name`, or a message listing the names.
    pub fn parse(name: &str) -> Result<Column, String> {
        Column::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
                format!("no column {name:?}; one of {}", names.join(", "))
            })
    }

    /// Order of two rows by this column, ascending; a missing value sorts last.
    fn compare(self, a: &Row, b: &Row) -> Ordering {
        let opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        match self {
            Column::Id => a.id.cmp(&b.id),
            Column::FileA => a.file_a.cmp(&b.file_a),
            Column::FileB => a.file_b.cmp(&b.file_b),
            Column::IdentityA => a.identity_a.cmp(&b.identity_a),
            Column::IdentityB => a.identity_b.cmp(&b.identity_b),
            Column::Label => a.label().cmp(b.label()),
            Column::Similarity => a.similarity.total_cmp(&b.similarity),
            Column::Decision => (a.decision as u8).cmp(&(b.decision as u8)),
            Column::Correct => a.correct.cmp(&b.correct),
            Column::CScore => opt(a.c_score, b.c_score),
            Column::PicScore => opt(a.pic_score, b.pic_score),
            Column::Lr => opt(a.log10_lr, b.log10_lr),
        }
    }
}

/// Which rows to show. The default keeps every row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Only genuine (`Some(true)`) or only impostor (`Some(false)`) pairs.
    pub genuine: Option<bool>,
    /// Only the errors at the threshold: false matches and false non-matches.
    pub errors_only: bool,
    /// Only rows whose identity or file contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only rows with similarity in `[min, max]`.
    pub min_similarity: Option<f64>,
    pub max_similarity: Option<f64>,
}

impl Filter {
    pub fn keeps(&self, r: &Row) -> bool {
        let text_ok = self.text.as_deref().is_none_or(|t| {
            let t = t.to_lowercase();
            [&r.file_a, &r.file_b, &r.identity_a, &r.identity_b]
                .iter()
                .any(|s| s.to_lowercase().contains(&t))
        });
        self.genuine.is_none_or(|g| r.genuine == g)
            && (!self.errors_only || !r.correct)
            && text_ok
            && self.min_similarity.is_none_or(|m| r.similarity >= m)
            && self.max_similarity.is_none_or(|m| r.similarity <= m)
    }
}

/// Counts and error rates of the whole table at its threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub genuine: usize,
    pub impostor: usize,
    /// Equal error rate and its threshold (`None` without both classes).
    pub eer: Option<f64>,
    pub eer_threshold: Option<f64>,
    /// FNMR at FMR 1 % and 0.1 % (marked unmeasurable when too few impostors).
    pub fnmr_at_fmr: Vec<FnmrAtFmr>,
    pub threshold: f64,
    /// Impostor pairs at or above the threshold.
    pub false_matches: usize,
    /// Genuine pairs below the threshold.
    pub false_non_matches: usize,
}

impl Table {
    /// The similarities split by label, as `eval` measures them.
    pub fn scores(&self) -> ScoreSet {
        let mut s = ScoreSet::default();
        for r in &self.rows {
            if r.genuine {
                s.genuine.push(r.similarity);
            } else {
                s.impostor.push(r.similarity);
            }
        }
        s
    }

    /// The rows `filter` keeps, sorted by `column` (stable: ties keep pair order).
    pub fn view(&self, filter: &Filter, column: Column, descending: bool) -> Vec<&Row> {
        let mut rows: Vec<&Row> = self.rows.iter().filter(|r| filter.keeps(r)).collect();
        rows.sort_by(|a, b| {
            let o = column.compare(a, b);
            if descending { o.reverse() } else { o }
        });
        rows
    }

    /// Counts, EER, FNMR at FMR 1 % and 0.1 %, and the errors at the threshold.
    pub fn summary(&self) -> Summary {
        let s = self.scores();
        let eer = s.eer();
        let errors = |genuine: bool| {
            self.rows
                .iter()
                .filter(|r| r.genuine == genuine && !r.correct)
                .count()
        };
        Summary {
            genuine: s.genuine.len(),
            impostor: s.impostor.len(),
            eer: eer.as_ref().map(|e| e.eer),
            eer_threshold: eer.as_ref().map(|e| e.at.threshold),
            fnmr_at_fmr: fnmr_at_fmrs(&s, &[0.01, 0.001]),
            threshold: self.threshold,
            false_matches: errors(false),
            false_non_matches: errors(true),
        }
    }
}
