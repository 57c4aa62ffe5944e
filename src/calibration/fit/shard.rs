//! Shards of a data set: shard K of N holds the images whose path in the
//! data set hashes to K, the same split on every machine, so many machines
//! (a Slurm job array, a Kubernetes Indexed Job) can each embed one shard.

use crate::resources::hash::sha256_hex;

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

    /// The shard of `count` holding the image at `rel` (its path in the
    /// data set): the first 8 bytes of SHA-256 of the path, modulo N.
    pub fn of(rel: &str, count: usize) -> Shard {
        let h = sha256_hex(rel.as_bytes());
        let v = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
        Shard {
            index: (v % count.max(1) as u64) as usize,
            count,
        }
    }

    /// Whether this shard embeds the image at `rel`.
    pub fn owns(&self, rel: &str) -> bool {
        Shard::of(rel, self.count) == *self
    }
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
        // The same path is owned by the same shard on every run: fixed values
        // (the hash may never change, or shards embedded before would be lost).
        assert!(Shard { index: 0, count: 1 }.owns("anything"));
        let fixed: Vec<usize> = [
            "s1/1.pgm",
            "s1/2.pgm",
            "s40/10.pgm",
            "Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
        ]
        .iter()
        .map(|p| Shard::of(p, 7).index)
        .collect();
        // Python: int(hashlib.sha256(p.encode()).hexdigest()[:16], 16) % 7
        assert_eq!(fixed, [4, 6, 2, 0]);
    }
}
