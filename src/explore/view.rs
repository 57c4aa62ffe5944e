//! Sorting, filtering and the summary strip of the explorer's table.

use super::{Row, Table};
use crate::calibration::fit::ScoreSet;
use crate::calibration::fit::evaluate::{FnmrAtFmr, fnmr_at_fmrs};
use crate::record::{Decision, Verdict};
use serde::Serialize;
use std::cmp::Ordering;

/// A column to sort by; `--sort NAME` takes [`Column::name`], `-NAME` descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Column {
    #[default]
    Id,
    FileA,
    FileB,
    IdentityA,
    IdentityB,
    Label,
    QualityA,
    QualityB,
    Similarity,
    Decision,
    Correct,
    CScore,
    PicScore,
    Lr,
}

impl Column {
    pub const ALL: [Column; 14] = [
        Column::Id,
        Column::FileA,
        Column::FileB,
        Column::IdentityA,
        Column::IdentityB,
        Column::Label,
        Column::QualityA,
        Column::QualityB,
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
            Column::QualityA => "quality_a",
            Column::QualityB => "quality_b",
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

    /// The row's value in a column that is not text, as a number ordered as
    /// [`Column::compare`] orders it (`None`: missing).
    fn number(self, r: &Row) -> Option<f64> {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        match self {
            Column::Id => Some(r.id as f64),
            Column::Label => Some(flag(!r.genuine)),
            Column::QualityA => r.quality_a.map(|v| v as u8 as f64),
            Column::QualityB => r.quality_b.map(|v| v as u8 as f64),
            Column::Similarity => r.similarity,
            Column::Decision => r.decision.map(|d| d as u8 as f64),
            Column::Correct => r.correct.map(flag),
            Column::CScore => r.c_score,
            Column::PicScore => r.pic_score,
            Column::Lr => r.log10_lr,
            Column::FileA | Column::FileB | Column::IdentityA | Column::IdentityB => None,
        }
    }

    /// Order of two rows by this column, ascending; a missing value sorts last.
    pub fn compare(self, a: &Row, b: &Row) -> Ordering {
        fn rank<T: Ord>(x: Option<T>, y: Option<T>) -> Ordering {
            match (x, y) {
                (Some(x), Some(y)) => x.cmp(&y),
                (x, y) => y.is_none().cmp(&x.is_none()).reverse(),
            }
        }
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
            Column::QualityA => rank(a.quality_a, b.quality_a),
            Column::QualityB => rank(a.quality_b, b.quality_b),
            Column::Similarity => opt(a.similarity, b.similarity),
            Column::Decision => rank(a.decision.map(|d| d as u8), b.decision.map(|d| d as u8)),
            Column::Correct => rank(a.correct, b.correct),
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
    /// Only matches (`Some(Match)`) or only non-matches.
    pub decision: Option<Decision>,
    /// Only the pairs whose image failed (no face, unreadable).
    pub failed_only: bool,
    /// Only pairs of this quality verdict (the worse of the two faces').
    pub quality: Option<Verdict>,
    /// Only rows whose identity or file contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only rows with similarity in `[min, max]`.
    pub min_similarity: Option<f64>,
    pub max_similarity: Option<f64>,
}

impl Filter {
    pub fn keeps(&self, r: &Row) -> bool {
        self.keeps_lower(r, self.text.as_deref().map(str::to_lowercase).as_deref())
    }

    /// [`Filter::keeps`] with the search text already lower-cased (once per view).
    fn keeps_lower(&self, r: &Row, text: Option<&str>) -> bool {
        let in_range = |s: Option<f64>| match (self.min_similarity, self.max_similarity) {
            (None, None) => true,
            (lo, hi) => s.is_some_and(|s| lo.is_none_or(|m| s >= m) && hi.is_none_or(|m| s <= m)),
        };
        self.genuine.is_none_or(|g| r.genuine == g)
            && (!self.errors_only || r.is_error())
            && (!self.failed_only || r.failed.is_some())
            && self.decision.is_none_or(|d| r.decision == Some(d))
            && self.quality.is_none_or(|q| r.quality() == Some(q))
            && in_range(r.similarity)
            && text.is_none_or(|t| {
                [&r.file_a, &r.file_b, &r.identity_a, &r.identity_b]
                    .iter()
                    .any(|s| contains_lower(s, t))
            })
    }
}

/// Whether `hay` contains the lower-case `needle`, ignoring case (no
/// allocation for ASCII names, the usual case).
fn contains_lower(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        n.is_empty()
            || h.windows(n.len())
                .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
    } else {
        hay.to_lowercase().contains(needle)
    }
}

/// The positions in `rows` that `filter` keeps, sorted by `column` (stable:
/// ties keep row order; a missing value sorts last either way). The sort
/// runs on (key, position) pairs, not through the rows, which keeps 100,000
/// rows well under 100 ms (`explore --bench`).
pub fn sorted_view(rows: &[Row], filter: &Filter, column: Column, descending: bool) -> Vec<usize> {
    let text = filter.text.as_deref().map(str::to_lowercase);
    let kept = (0..rows.len()).filter(|&i| filter.keeps_lower(&rows[i], text.as_deref()));
    fn text_key(column: Column, r: &Row) -> &str {
        match column {
            Column::FileA => &r.file_a,
            Column::FileB => &r.file_b,
            Column::IdentityA => &r.identity_a,
            _ => &r.identity_b,
        }
    }
    if matches!(
        column,
        Column::FileA | Column::FileB | Column::IdentityA | Column::IdentityB
    ) {
        let mut v: Vec<(&str, usize)> = kept.map(|i| (text_key(column, &rows[i]), i)).collect();
        v.sort_unstable_by(|x, y| {
            let o = x.0.cmp(y.0);
            if descending { o.reverse() } else { o }.then(x.1.cmp(&y.1))
        });
        return v.into_iter().map(|(_, i)| i).collect();
    }
    // Numeric keys; a missing value becomes +infinity after the direction is applied.
    let sign = if descending { -1.0 } else { 1.0 };
    let mut v: Vec<(f64, usize)> = kept
        .map(|i| {
            let k = column.number(&rows[i]).map_or(f64::INFINITY, |k| sign * k);
            (k, i)
        })
        .collect();
    v.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    v.into_iter().map(|(_, i)| i).collect()
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
    /// Pairs without a score (an image failed), not counted above.
    pub failed: usize,
}

/// The similarities of scored rows split by label, as `eval` measures them.
pub fn scores_of(rows: &[Row]) -> ScoreSet {
    let mut s = ScoreSet::default();
    for r in rows {
        match (r.similarity, r.genuine) {
            (Some(v), true) => s.genuine.push(v),
            (Some(v), false) => s.impostor.push(v),
            (None, _) => {}
        }
    }
    s
}

impl Summary {
    /// Counts, EER, FNMR at FMR 1 % and 0.1 %, and the errors at `threshold`
    /// (the rows must be decided at it).
    pub fn of(rows: &[Row], threshold: f64) -> Summary {
        let s = scores_of(rows);
        let eer = s.eer();
        let errors = |genuine: bool| {
            rows.iter()
                .filter(|r| r.genuine == genuine && r.is_error())
                .count()
        };
        Summary {
            genuine: s.genuine.len(),
            impostor: s.impostor.len(),
            eer: eer.as_ref().map(|e| e.eer),
            eer_threshold: eer.as_ref().map(|e| e.at.threshold),
            fnmr_at_fmr: fnmr_at_fmrs(&s, &[0.01, 0.001]),
            threshold,
            false_matches: errors(false),
            false_non_matches: errors(true),
            failed: rows.iter().filter(|r| r.failed.is_some()).count(),
        }
    }
}

impl Table {
    /// The similarities split by label, as `eval` measures them.
    pub fn scores(&self) -> ScoreSet {
        scores_of(&self.rows)
    }

    /// The rows `filter` keeps, sorted by `column` (stable: ties keep pair order).
    pub fn view(&self, filter: &Filter, column: Column, descending: bool) -> Vec<&Row> {
        sorted_view(&self.rows, filter, column, descending)
            .into_iter()
            .map(|i| &self.rows[i])
            .collect()
    }

    /// Counts, EER, FNMR at FMR 1 % and 0.1 %, and the errors at the threshold.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.rows, self.threshold)
    }
}
