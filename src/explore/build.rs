//! Building the explorer's rows: the data set scanned, its images embedded
//! (from embeddings files, the cache, or on the workers side by side) and
//! handed on in order so rows can be shown as they arrive, the pairs formed
//! as `calibrate` and `eval` form them, and the pairs whose image failed
//! kept as marked rows.

use super::{ExploreError, Models, Row};
use crate::calibration::fit::FitError;
use crate::calibration::fit::calibrate::{CollectOptions, Paired};
use crate::calibration::fit::dataset::{Dataset, Pair, PairList, read_pairs};
use crate::calibration::fit::embedding::Embedded;
use crate::calibration::fit::image_workers::for_each_image;
use crate::calibration::fit::pairs::{all_pairs, images_of, listed_pairs, pair_score};
use crate::calibration::fit::pairs_list::{Listed, Unresolved};
use crate::progress::Ctl;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Images between two batches of preview rows.
pub const CHUNK: usize = 8;

/// A data set scanned, embedded and paired, and how its pairs were chosen.
pub struct Built {
    pub paired: Paired,
    /// The images asked for (all, or those a pairs list names).
    pub wanted: BTreeSet<usize>,
}

/// Scan `dir`, embed (and with `models.quality` assess) the images needed
/// (the same numbers however they are run or where they come from: each
/// image is embedded on its own), form the pairs. After every [`CHUNK`]
/// images `emit` gets the pairs they completed (unscored rows with
/// provisional ids): all pairs when every impostor pair will be used,
/// genuine pairs only when impostors are to be sampled, the list's pairs
/// with a pairs file.
pub fn build_paired(
    models: Models<'_>,
    dir: &Path,
    opts: &CollectOptions,
    ctl: Ctl,
    emit: &mut dyn FnMut(Vec<Row>),
) -> Result<Built, ExploreError> {
    let dataset = Dataset::scan(dir, ctl).map_err(FitError::from)?;
    let list = opts
        .pairs_file
        .as_deref()
        .map(|p| read_pairs(p, &dataset))
        .transpose()
        .map_err(FitError::from)?;
    let wanted: BTreeSet<usize> = match &list {
        Some(l) => images_of(&l.pairs),
        None => (0..dataset.images.len()).collect(),
    };
    let mut rows = Preview {
        all_impostors: list.is_none() && impostors_upper_bound(&dataset) <= opts.max_impostors,
        list: list.as_ref(),
        dataset: &dataset,
        embedded: Embedded::empty(dataset.images.len()),
        pending: Vec::new(),
        done: Vec::new(),
        emitted: vec![false; list.as_ref().map_or(0, |l| l.pairs.len())],
        next_id: 0,
    };
    // Listed pairs naming a missing image: shown, marked, at once.
    if let Some(l) = &list {
        rows.next_id = l.unresolved.len();
        let marked: Vec<Row> = l
            .unresolved
            .iter()
            .enumerate()
            .map(|(id, u)| unresolved_row(id, u))
            .collect();
        if !marked.is_empty() {
            emit(marked);
        }
    }
    let quality = models.quality.is_some();
    for_each_image(
        models.pipeline,
        &dataset,
        &wanted,
        opts.sources(),
        models.quality,
        ctl,
        &mut |i, r, o| {
            rows.embedded.add(i, &dataset.images[i], r, o, quality);
            rows.pending.push(i);
            if rows.pending.len() == CHUNK {
                rows.flush(emit);
            }
        },
    )?;
    rows.flush(emit);
    let embedded = rows.embedded;
    let (pairs, info) = match &list {
        Some(l) => listed_pairs(l, &embedded),
        None => all_pairs(&dataset, &embedded, opts.max_impostors, opts.seed),
    };
    Ok(Built {
        paired: Paired {
            dataset,
            list,
            embedded,
            pairs,
            info,
        },
        wanted,
    })
}

/// The rows shown while the images are embedded.
struct Preview<'a> {
    all_impostors: bool,
    list: Option<&'a PairList>,
    dataset: &'a Dataset,
    embedded: Embedded,
    /// Images embedded since the last batch of rows.
    pending: Vec<usize>,
    /// Images already paired with each other (no pairs list).
    done: Vec<usize>,
    /// Listed pairs already shown.
    emitted: Vec<bool>,
    next_id: usize,
}

impl Preview<'_> {
    /// Emit the pairs the pending images completed.
    fn flush(&mut self, emit: &mut dyn FnMut(Vec<Row>)) {
        let (d, e) = (self.dataset, &self.embedded);
        let mut pairs = Vec::new();
        match self.list {
            Some(l) => {
                for (k, p) in l.pairs.iter().enumerate() {
                    let ready = |i: usize| e.embeddings[i].is_some();
                    if !self.emitted[k] && ready(p.a) && ready(p.b) {
                        self.emitted[k] = true;
                        pairs.push(*p);
                    }
                }
            }
            None => {
                for &b in &self.pending {
                    if e.embeddings[b].is_none() {
                        continue;
                    }
                    for &a in &self.done {
                        let genuine = d.images[a].identity == d.images[b].identity;
                        if e.embeddings[a].is_some() && (genuine || self.all_impostors) {
                            pairs.push(Pair { a, b, genuine });
                        }
                    }
                    self.done.push(b);
                }
            }
        }
        self.pending.clear();
        let rows: Vec<Row> = pairs
            .iter()
            .map(|p| {
                self.next_id += 1;
                row(self.next_id - 1, p, d, e)
            })
            .collect();
        if !rows.is_empty() {
            emit(rows);
        }
    }
}

/// Impostor pairs if every image has a face (the most there can be).
fn impostors_upper_bound(d: &Dataset) -> usize {
    let n = d.images.len();
    let mut per_id = vec![0usize; d.identities.len()];
    d.images.iter().for_each(|im| per_id[im.identity] += 1);
    let same: usize = per_id.iter().map(|c| c * c.saturating_sub(1) / 2).sum();
    n * n.saturating_sub(1) / 2 - same
}

/// An unscored row of pair `p` (similarity `None` if an image has no embedding).
pub(super) fn row(id: usize, p: &Pair, d: &Dataset, e: &Embedded) -> Row {
    let (a, b) = (&d.images[p.a], &d.images[p.b]);
    let identity = |i: usize| d.identities[i].clone();
    Row {
        quality_a: e.quality[p.a],
        quality_b: e.quality[p.b],
        similarity: pair_score(p, e),
        ..Row::unscored(
            id,
            [a.rel.clone(), b.rel.clone()],
            [identity(a.identity), identity(b.identity)],
            p.genuine,
        )
    }
}

/// The row of a listed pair naming an image the data set does not have.
fn unresolved_row(id: usize, u: &Unresolved) -> Row {
    Row {
        failed: Some(format!("pairs file line {}: {}", u.line, u.reason)),
        ..Row::unscored(
            id,
            [u.file_a.clone(), u.file_b.clone()],
            [u.identity_a.clone(), u.identity_b.clone()],
            u.genuine,
        )
    }
}

/// The rows of the final table, unscored: with a pairs list every listed
/// pair in list order (those naming a missing image marked); else the pairs `all_pairs` formed, then the pairs an
/// image without an embedding would have been in (genuine ones always,
/// impostor ones when all impostor pairs are used), each marked with why.
pub fn rows_of(b: &Built) -> Vec<Row> {
    let p = &b.paired;
    let (d, e) = (&p.dataset, &p.embedded);
    let reasons: HashMap<&str, &str> = e
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    let why = |pair: &Pair| {
        let names: Vec<String> = [pair.a, pair.b]
            .iter()
            .filter(|&&i| e.embeddings[i].is_none())
            .map(|&i| {
                let rel = d.images[i].rel.as_str();
                format!(
                    "{rel}: {}",
                    reasons.get(rel).copied().unwrap_or("not embedded")
                )
            })
            .collect();
        names.join("; ")
    };
    let mark = |id: usize, pair: &Pair| {
        let mut r = row(id, pair, d, e);
        if r.similarity.is_none() {
            r.failed = Some(why(pair));
        }
        r
    };
    if let Some(l) = &p.list {
        return l
            .entries()
            .enumerate()
            .map(|(id, entry)| match entry {
                Listed::Pair(q) => mark(id, q),
                Listed::Unresolved(u) => unresolved_row(id, u),
            })
            .collect();
    }
    let mut rows: Vec<Row> = p
        .pairs
        .iter()
        .enumerate()
        .map(|(id, q)| mark(id, q))
        .collect();
    let all_impostors = p.info.seed.is_none();
    let failed: Vec<usize> = b
        .wanted
        .iter()
        .copied()
        .filter(|&i| e.embeddings[i].is_none())
        .collect();
    let is_failed = |i: usize| e.embeddings[i].is_none();
    for &s in &failed {
        for &t in &b.wanted {
            // A pair of two failed images is listed once, from its first.
            if t == s || (is_failed(t) && t < s) {
                continue;
            }
            let genuine = d.images[s].identity == d.images[t].identity;
            if genuine || all_impostors {
                let pair = Pair {
                    a: s.min(t),
                    b: s.max(t),
                    genuine,
                };
                rows.push(mark(rows.len(), &pair));
            }
        }
    }
    rows
}
