//! Genuine and impostor pairs over the embedded images of a dataset (all of
//! them, a seeded sample, or the pairs of a list), and their scores.

use super::dataset::{Dataset, Pair, PairList};
use super::embedding::Embedded;
use super::metrics::ScoreSet;
use crate::calibration::file::PairInfo;
use crate::pipeline::embed;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Impostor pairs used at most before sampling (seeded) kicks in.
pub const DEFAULT_MAX_IMPOSTORS: usize = 500_000;

/// All genuine pairs, and all impostor pairs or a seeded sample of
/// `max_impostors` of them, over the images that have an embedding.
pub fn all_pairs(
    dataset: &Dataset,
    embedded: &Embedded,
    max_impostors: usize,
    seed: u64,
) -> (Vec<Pair>, PairInfo) {
    let used: Vec<usize> = (0..dataset.images.len())
        .filter(|&i| embedded.embeddings[i].is_some())
        .collect();
    let id = |i: usize| dataset.images[i].identity;
    let mut per_id: BTreeMap<usize, u64> = BTreeMap::new();
    used.iter()
        .for_each(|&i| *per_id.entry(id(i)).or_default() += 1);
    let n = used.len() as u64;
    let same: u64 = per_id.values().map(|c| c * c.saturating_sub(1) / 2).sum();
    let available = n * n.saturating_sub(1) / 2 - same;
    let mut pairs = Vec::new();
    for (x, &a) in used.iter().enumerate() {
        for &b in &used[x + 1..] {
            if id(a) == id(b) {
                pairs.push(Pair {
                    a,
                    b,
                    genuine: true,
                });
            } else if available <= max_impostors as u64 {
                pairs.push(Pair {
                    a,
                    b,
                    genuine: false,
                });
            }
        }
    }
    let genuine = pairs.iter().filter(|p| p.genuine).count();
    let (selection, seed) = if available <= max_impostors as u64 {
        ("all".to_string(), None)
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut chosen = BTreeSet::new();
        while chosen.len() < max_impostors {
            let (a, b) = (
                used[rng.random_range(0..used.len())],
                used[rng.random_range(0..used.len())],
            );
            if id(a) != id(b) {
                chosen.insert((a.min(b), a.max(b)));
            }
        }
        pairs.extend(chosen.into_iter().map(|(a, b)| Pair {
            a,
            b,
            genuine: false,
        }));
        ("seeded random sample".to_string(), Some(seed))
    };
    let impostor = pairs.len() - genuine;
    (
        pairs,
        PairInfo {
            genuine,
            impostor,
            impostor_available: available,
            selection,
            seed,
            dropped: 0,
        },
    )
}

/// The pairs of a list whose two images both have an embedding (those
/// naming a missing image, or one without a face, are counted as dropped).
pub fn listed_pairs(list: &PairList, embedded: &Embedded) -> (Vec<Pair>, PairInfo) {
    let keep: Vec<Pair> = list
        .pairs
        .iter()
        .copied()
        .filter(|p| embedded.embeddings[p.a].is_some() && embedded.embeddings[p.b].is_some())
        .collect();
    let genuine = keep.iter().filter(|p| p.genuine).count();
    let listed_impostors = (list.pairs.iter().filter(|p| !p.genuine).count()
        + list.unresolved.iter().filter(|u| !u.genuine).count()) as u64;
    let info = PairInfo {
        genuine,
        impostor: keep.len() - genuine,
        impostor_available: listed_impostors,
        selection: "pairs list".into(),
        seed: None,
        dropped: list.pairs.len() + list.unresolved.len() - keep.len(),
    };
    (keep, info)
}

/// Cosine similarity of each pair, split by class.
pub fn score_pairs(pairs: &[Pair], embedded: &Embedded) -> ScoreSet {
    let mut s = ScoreSet::default();
    for p in pairs {
        if let Some(v) = pair_score(p, embedded) {
            if p.genuine {
                s.genuine.push(v)
            } else {
                s.impostor.push(v)
            }
        }
    }
    s
}

/// Cosine similarity of one pair (`None` if an image has no embedding).
pub fn pair_score(p: &Pair, embedded: &Embedded) -> Option<f64> {
    match (&embedded.embeddings[p.a], &embedded.embeddings[p.b]) {
        (Some(a), Some(b)) => Some(embed::cosine(a, b) as f64),
        _ => None,
    }
}

/// Image indices a pair set needs.
pub fn images_of(pairs: &[Pair]) -> BTreeSet<usize> {
    pairs.iter().flat_map(|p| [p.a, p.b]).collect()
}
