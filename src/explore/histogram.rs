//! The score histogram beside the explorer's summary: the similarities of
//! genuine and of impostor pairs in the same bins, each class as a fraction
//! of its own pairs (impostors outnumber genuine pairs 40 to 1 on ORL; as
//! counts the genuine bars would not show). Built when the rows change,
//! not per frame; the threshold line is drawn over it.

use super::Row;

/// Bins of the histogram.
pub const BINS: usize = 60;

/// Genuine and impostor similarities binned over one range.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub lo: f64,
    /// Width of a bin.
    pub width: f64,
    /// Fraction of the genuine (impostor) pairs in each bin.
    pub genuine: Vec<f64>,
    pub impostor: Vec<f64>,
    /// Scored pairs of each class.
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
}

impl Histogram {
    /// The histogram of the scored rows in `bins` bins spanning their
    /// similarities (`None` without a scored row).
    pub fn of(rows: &[Row], bins: usize) -> Option<Histogram> {
        let scored = || rows.iter().filter_map(|r| Some((r.similarity?, r.genuine)));
        let (lo, hi) = scored().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (s, _)| {
            (lo.min(s), hi.max(s))
        });
        if !lo.is_finite() || bins == 0 {
            return None;
        }
        // One bin's width of room when every score is the same.
        let width = ((hi - lo) / bins as f64).max(1e-6);
        let mut h = Histogram {
            lo,
            width,
            genuine: vec![0.0; bins],
            impostor: vec![0.0; bins],
            genuine_pairs: 0,
            impostor_pairs: 0,
        };
        for (s, genuine) in scored() {
            let k = (((s - lo) / width) as usize).min(bins - 1);
            if genuine {
                h.genuine[k] += 1.0;
                h.genuine_pairs += 1;
            } else {
                h.impostor[k] += 1.0;
                h.impostor_pairs += 1;
            }
        }
        let norm = |v: &mut Vec<f64>, n: usize| v.iter_mut().for_each(|x| *x /= n.max(1) as f64);
        norm(&mut h.genuine, h.genuine_pairs);
        norm(&mut h.impostor, h.impostor_pairs);
        Some(h)
    }

    /// The centre of bin `k`.
    pub fn centre(&self, k: usize) -> f64 {
        self.lo + (k as f64 + 0.5) * self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(similarity: Option<f64>, genuine: bool) -> Row {
        Row {
            similarity,
            ..Row::unscored(0, Default::default(), Default::default(), genuine)
        }
    }

    #[test]
    fn classes_are_binned_over_one_range_as_fractions_of_their_own() {
        let rows = [
            row(Some(0.0), false),
            row(Some(0.1), false),
            row(Some(0.1), false),
            row(Some(0.95), false),
            row(Some(0.6), true),
            row(Some(1.0), true),
            row(None, true), // failed: not counted
        ];
        let h = Histogram::of(&rows, 4).unwrap();
        assert_eq!((h.lo, h.width), (0.0, 0.25));
        assert_eq!(h.impostor, [0.75, 0.0, 0.0, 0.25]);
        // 1.0 is the right edge: in the last bin.
        assert_eq!(h.genuine, [0.0, 0.0, 0.5, 0.5]);
        assert_eq!((h.genuine_pairs, h.impostor_pairs), (2, 4));
        assert_eq!(h.centre(1), 0.375);
        assert!(Histogram::of(&[row(None, true)], 4).is_none());
        // One score: one bin holds it all.
        let one = Histogram::of(&[row(Some(0.3), false)], 3).unwrap();
        assert_eq!(one.impostor.iter().sum::<f64>(), 1.0);
        assert_eq!(one.genuine, [0.0; 3]);
    }
}
