//! Embedding a data set in shards, on several machines or processes: shard
//! K of N embeds the images whose relative path hashes to K (a stable hash,
//! the same on every machine) into the embedding cache; a final `explore`
//! over the same cache folder then finds every embedding there and runs no
//! model. Each image is embedded on its own, so the merged table equals a
//! single run's bit for bit. `docs/explore-shards.md` shows Slurm and
//! Kubernetes set-ups.

use super::{ExploreError, Models};
use crate::calibration::file::SkippedImage;
use crate::calibration::fit::FitError;
use crate::calibration::fit::calibrate::CollectOptions;
use crate::calibration::fit::dataset::{Dataset, read_pairs};
use crate::calibration::fit::embedding::embed_images;
use crate::calibration::fit::pairs::images_of;
use crate::progress::Ctl;
use crate::resources::hash::sha256_hex;
use std::collections::BTreeSet;
use std::path::Path;

/// Shard `index` of `count` (0-based: Slurm's `SLURM_ARRAY_TASK_ID` with
/// `--array=0-(N-1)`, Kubernetes' `JOB_COMPLETION_INDEX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `K/N` with `0 ≤ K < N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s:?}: expected K/N with 0 ≤ K < N, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard embeds the image at `rel` (its path in the data
    /// set): the first 8 bytes of SHA-256 of the path, modulo N.
    pub fn owns(&self, rel: &str) -> bool {
        let h = sha256_hex(rel.as_bytes());
        let v = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
        (v % self.count as u64) as usize == self.index
    }
}

/// What a shard did.
#[derive(Clone, Debug)]
pub struct ShardReport {
    /// Images the data set (or its pairs list) needs.
    pub images: usize,
    /// Of them, this shard's.
    pub mine: usize,
    pub cache_hits: usize,
    pub computed: usize,
    pub skipped: Vec<SkippedImage>,
}

/// Embed (and with `models.quality` assess) this shard's share of the
/// images into `opts.cache`.
pub fn embed_shard(
    models: Models<'_>,
    dir: &Path,
    opts: &CollectOptions,
    shard: Shard,
    ctl: Ctl,
) -> Result<ShardReport, ExploreError> {
    if opts.cache.dir().is_none() {
        return Err(
            FitError::from(crate::calibration::CalibrationError::Dataset {
                path: dir.into(),
                reason: "no user cache folder to write the embeddings to (set XDG_CACHE_HOME)"
                    .into(),
            })
            .into(),
        );
    }
    let dataset = Dataset::scan(dir, ctl).map_err(FitError::from)?;
    let wanted: BTreeSet<usize> = match &opts.pairs_file {
        Some(p) => images_of(&read_pairs(p, &dataset).map_err(FitError::from)?.pairs),
        None => (0..dataset.images.len()).collect(),
    };
    let mine: BTreeSet<usize> = wanted
        .iter()
        .copied()
        .filter(|&i| shard.owns(&dataset.images[i].rel))
        .collect();
    let e = embed_images(
        models.pipeline,
        &dataset,
        &mine,
        &opts.cache,
        models.quality,
        ctl,
    )?;
    Ok(ShardReport {
        images: wanted.len(),
        mine: mine.len(),
        cache_hits: e.cache_hits,
        computed: mine.len() - e.cache_hits,
        skipped: e.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_every_path_exactly_once() {
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
        for bad in ["8/8", "1/0", "x/2", "3", "-1/2"] {
            assert!(Shard::parse(bad).unwrap_err().contains("K/N"), "{bad}");
        }
        let paths: Vec<String> = (0..400)
            .map(|i| format!("s{}/{}.pgm", i / 10, i % 10))
            .collect();
        let n = 4;
        let mut per = vec![0; n];
        for p in &paths {
            let owners: Vec<usize> = (0..n)
                .filter(|&k| Shard { index: k, count: n }.owns(p))
                .collect();
            assert_eq!(owners.len(), 1, "{p}");
            per[owners[0]] += 1;
        }
        // A hash spreads 400 paths roughly evenly (each shard 60–140).
        assert!(per.iter().all(|&c| (60..=140).contains(&c)), "{per:?}");
        // The same path is owned by the same shard on every run (a fixed value).
        assert!(Shard { index: 0, count: 1 }.owns("anything"));
    }
}
