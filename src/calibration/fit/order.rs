//! Sorting the tens of thousands of scores and log10 LRs of a validation
//! (PAV, ELUB, Tippett, ECE) by a least-significant-digit radix sort on `f64::total_cmp`'s integer key: linear in
//! their number and stable, so equal values keep the order of their
//! positions — the very order `sort_by(f64::total_cmp)` gives.

/// An unsigned key whose integer order is `f64::total_cmp`'s order: the
/// bits, the magnitude bits flipped for negative values, the sign bit
/// flipped so that negative values come first.
pub fn total_key(x: f64) -> u64 {
    let b = x.to_bits() as i64;
    ((b ^ ((((b >> 63) as u64) >> 1) as i64)) as u64) ^ (1 << 63)
}

/// Positions of `values` in ascending `total_cmp` order, equal values by position.
pub fn order(values: impl Iterator<Item = f64>) -> Vec<usize> {
    let keys: Vec<u64> = values.map(total_key).collect();
    let n = keys.len();
    let mut idx: Vec<usize> = (0..n).collect();
    if n < 1024 {
        // Too few for the buckets to pay.
        idx.sort_by_key(|&i| keys[i]);
        return idx;
    }
    let mut next = vec![0usize; n];
    const BITS: u32 = 16;
    let mask = (1u64 << BITS) - 1;
    let mut count = vec![0usize; (1 << BITS) + 1];
    for pass in 0..64 / BITS {
        let shift = pass * BITS;
        let digit = |i: usize| ((keys[i] >> shift) & mask) as usize;
        count.iter_mut().for_each(|c| *c = 0);
        for &i in &idx {
            count[digit(i) + 1] += 1;
        }
        // A digit every key shares orders nothing.
        if count.contains(&n) {
            continue;
        }
        for d in 1..count.len() {
            count[d] += count[d - 1];
        }
        for &i in &idx {
            let d = digit(i);
            next[count[d]] = i;
            count[d] += 1;
        }
        std::mem::swap(&mut idx, &mut next);
    }
    idx
}

/// `v` sorted ascending in `total_cmp` order.
pub fn sorted(v: &[f64]) -> Vec<f64> {
    order(v.iter().copied()).into_iter().map(|i| v[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_a_stable_sort_by_total_cmp() {
        let v = [
            0.5,
            -0.0,
            2.0,
            f64::NAN,
            0.5,
            f64::NEG_INFINITY,
            0.0,
            -1e-300,
            1e-300,
            f64::INFINITY,
            -f64::NAN,
            -3.25,
            -3.25,
            4.88,
            f64::MIN_POSITIVE,
            -2.0,
        ];
        let mut want: Vec<usize> = (0..v.len()).collect();
        want.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        assert_eq!(order(v.iter().copied()), want);
        // Many values sharing their high digits, with ties.
        let w: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 613) as f64 * 1e-3 - 0.3)
            .collect();
        let mut want: Vec<usize> = (0..w.len()).collect();
        want.sort_by(|&a, &b| w[a].total_cmp(&w[b]));
        assert_eq!(order(w.iter().copied()), want);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut s = w.clone();
        s.sort_by(f64::total_cmp);
        assert_eq!(bits(&sorted(&w)), bits(&s));
    }
}
