//! The explainability table (DeAndres-Tame et al. §2.2, Table 1): each map's
//! value range is cut into five equal intervals (level 1 = the top fifth =
//! most important … 5 = least); a region's level is the dominant level of its
//! pixels. Columns: one per map, then Mean and Ratio of 1s; rows ranked by
//! lowest Mean, ties by highest Ratio of 1s. Fed with X-Maps (high = similar)
//! it ranks the most similar regions first and the most dissimilar last.

use super::regions::{Region, RegionMasks};
use crate::record::{ExplainabilityTable, TableRow};
use ndarray::Array2;
use std::collections::BTreeMap;

/// Quantise a map into levels 1..=5 over its own range (1 = highest values).
/// A flat map is all level 5: it marks nothing as important.
pub fn level_map(values: &Array2<f32>) -> Array2<u8> {
    let (lo, hi) = values
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    // Also true for an empty map (lo = MAX, hi = MIN).
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return values.mapv(|_| 5);
    }
    values.mapv(|v| {
        let k = (((v - lo) / (hi - lo)) * 5.0).floor().clamp(0.0, 4.0) as u8;
        5 - k
    })
}

/// The dominant level of a region's pixels (ties go to the more important
/// level); `None` when the region has no pixel.
pub fn region_level(levels: &Array2<u8>, regions: &RegionMasks, r: Region) -> Option<u8> {
    let code = r.code();
    let mut counts = [0usize; 6];
    for (l, &lab) in levels.iter().zip(regions.label.iter()) {
        if lab == code {
            counts[(*l as usize).min(5)] += 1;
        }
    }
    let best = (1..=5).max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))?;
    (counts[best] > 0).then_some(best as u8)
}

/// One column of the table: a named map and the regions of the face it lies on.
pub struct Column<'a> {
    pub name: String,
    pub map: &'a Array2<f32>,
    pub regions: &'a RegionMasks,
}

/// Build and rank the table. Mean and Ratio of 1s are over the columns where
/// the region has pixels (a region off the crop has no level).
pub fn build(columns: &[Column]) -> ExplainabilityTable {
    let levels: Vec<Array2<u8>> = columns.iter().map(|c| level_map(c.map)).collect();
    let mut rows: Vec<(usize, TableRow)> = Region::ALL
        .iter()
        .enumerate()
        .map(|(order, &r)| {
            let mut lv = BTreeMap::new();
            for (c, l) in columns.iter().zip(&levels) {
                if let Some(v) = region_level(l, c.regions, r) {
                    lv.insert(c.name.clone(), v);
                }
            }
            let n = lv.len();
            let mean = if n > 0 {
                lv.values().map(|&v| v as f64).sum::<f64>() / n as f64
            } else {
                5.0
            };
            let ones = lv.values().filter(|&&v| v == 1).count();
            let ratio = if columns.is_empty() {
                0.0
            } else {
                ones as f64 / columns.len() as f64
            };
            (
                order,
                TableRow {
                    region: r.name().to_string(),
                    levels: lv,
                    mean,
                    ratio_of_ones: ratio,
                },
            )
        })
        .collect();
    rows.sort_by(|(oa, a), (ob, b)| {
        a.mean
            .total_cmp(&b.mean)
            .then(b.ratio_of_ones.total_cmp(&a.ratio_of_ones))
            .then(oa.cmp(ob))
    });
    ExplainabilityTable {
        methods: columns.iter().map(|c| c.name.clone()).collect(),
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_regions() -> RegionMasks {
        // Nose = left half (x 0..=3), chin = right half (x 4..=7) of an 8×8 crop.
        let left = vec![[-0.5, -0.5], [3.5, -0.5], [3.5, 7.5], [-0.5, 7.5]];
        let right = vec![[3.5, -0.5], [7.5, -0.5], [7.5, 7.5], [3.5, 7.5]];
        RegionMasks::from_polygons(8, vec![(Region::Nose, left), (Region::Chin, right)])
    }

    #[test]
    fn levels_split_the_range_into_fifths() {
        let m = Array2::from_shape_vec((1, 6), vec![0.0, 0.19, 0.21, 0.5, 0.81, 1.0]).unwrap();
        assert_eq!(
            level_map(&m).into_raw_vec_and_offset().0,
            vec![5, 5, 4, 3, 1, 1]
        );
        assert!(level_map(&Array2::zeros((2, 2))).iter().all(|&l| l == 5));
    }

    #[test]
    fn dominant_level_and_ranking() {
        let r = two_regions();
        // Map A: nose high (level 1), chin low (level 5); map B: the reverse but only
        // 3 of 4 nose columns low → nose level 5 in B, chin level 1.
        let a = Array2::from_shape_fn((8, 8), |(_, x)| if x < 4 { 1.0 } else { 0.0 });
        let b = Array2::from_shape_fn((8, 8), |(_, x)| {
            if x < 4 {
                if x == 0 { 0.9 } else { 0.0 }
            } else {
                1.0
            }
        });
        let c = Array2::from_shape_fn((8, 8), |(y, x)| {
            if x < 4 {
                1.0
            } else if (y, x) == (7, 7) {
                0.0
            } else {
                0.5
            }
        });
        let t = build(&[
            Column {
                name: "A".into(),
                map: &a,
                regions: &r,
            },
            Column {
                name: "B".into(),
                map: &b,
                regions: &r,
            },
            Column {
                name: "C".into(),
                map: &c,
                regions: &r,
            },
        ]);
        assert_eq!(t.methods, vec!["A", "B", "C"]);
        let nose = t.rows.iter().find(|row| row.region == "nose").unwrap();
        let chin = t.rows.iter().find(|row| row.region == "chin").unwrap();
        assert_eq!(nose.levels["A"], 1);
        assert_eq!(nose.levels["B"], 5);
        assert_eq!(nose.levels["C"], 1);
        assert_eq!(chin.levels["C"], 3);
        assert!(
            (nose.mean - 7.0 / 3.0).abs() < 1e-12 && (nose.ratio_of_ones - 2.0 / 3.0).abs() < 1e-12
        );
        assert!((chin.mean - 3.0).abs() < 1e-12 && (chin.ratio_of_ones - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(t.rows[0].region, "nose");
        assert_eq!(t.rows[1].region, "chin");
        // Regions without pixels rank last with no levels.
        assert!(
            t.rows[2..]
                .iter()
                .all(|row| row.levels.is_empty() && row.mean == 5.0)
        );
    }

    #[test]
    fn ties_on_mean_go_to_more_ones() {
        let r = two_regions();
        // Chin levels (1, 5) and nose levels (3, 3): both mean 3; chin has a 1, so it
        // ranks first although the nose comes first in the region order.
        let a = Array2::from_shape_fn((8, 8), |(y, x)| {
            if x >= 4 {
                1.0
            } else if (y, x) == (0, 0) {
                0.0
            } else {
                0.5
            }
        });
        let b = Array2::from_shape_fn((8, 8), |(y, x)| {
            if x >= 4 {
                0.0
            } else if (y, x) == (0, 0) {
                1.0
            } else {
                0.5
            }
        });
        let t = build(&[
            Column {
                name: "A".into(),
                map: &a,
                regions: &r,
            },
            Column {
                name: "B".into(),
                map: &b,
                regions: &r,
            },
        ]);
        let nose = t.rows.iter().find(|row| row.region == "nose").unwrap();
        let chin = t.rows.iter().find(|row| row.region == "chin").unwrap();
        assert_eq!((chin.levels["A"], chin.levels["B"]), (1, 5));
        assert_eq!((nose.levels["A"], nose.levels["B"]), (3, 3));
        assert_eq!(
            (t.rows[0].region.as_str(), t.rows[1].region.as_str()),
            ("chin", "nose")
        );
    }
}
