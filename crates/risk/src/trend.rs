//! Trends of a count series (weekly counts of a cell and category): the Mann–Kendall test for a
//! monotonic trend (with the variance corrected for ties) and Sen's slope (the median of the
//! pairwise slopes), and for sudden rises an EWMA chart and a one-sided CUSUM, both standardised
//! on the series' own history.

/// The Mann–Kendall test and Sen's slope of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Σ sign(xⱼ − xᵢ) over i < j.
    pub s: i64,
    /// The normal score of `s` (continuity corrected).
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Sen's slope, per step.
    pub slope: f64,
}

/// Mann–Kendall and Sen's slope; `None` for fewer than four values. `buffer` is reused for the
/// pairwise slopes' ordered keys, then the values'.
pub fn trend(series: &[f64], buffer: &mut Vec<i64>) -> Option<Trend> {
    let n = series.len();
    if n < 4 {
        return None;
    }
    // Each slope multiplies by 1/lag rather than dividing (it may differ from the quotient in
    // its last bit, far below anything a count series shows).
    let inverse: Vec<f64> = (0..n).map(|k| if k == 0 { 0.0 } else { 1.0 / k as f64 }).collect();
    // The signs of the differences, a row at a time: Mann–Kendall's S, and where the slopes
    // of each sign lie when sorted.
    let (mut below, mut level, mut above) = (0usize, 0usize, 0usize);
    for (i, &here) in series.iter().enumerate() {
        for x in &series[i + 1..] {
            below += usize::from(*x < here);
            level += usize::from(*x == here);
            above += usize::from(*x > here);
        }
    }
    let s = above as i64 - below as i64;
    let pairs = n * (n - 1) / 2;
    // The sides hold for finite values: a level pair of infinities has a NaN slope, not zero.
    let slope = if below + level + above == pairs && series.iter().all(|x| x.is_finite()) {
        median_slope(series, &inverse, Signs { below, level }, buffer)
    } else {
        // Values that do not compare (NaN) or infinite: every slope, in `total_cmp`'s order.
        slopes_where(series, &inverse, buffer, |_, _| true);
        middle_of(buffer)
    };
    // Two middle slopes equal but for their last bit (5/3 and 25/15 by reciprocal) would leave a
    // crumb of ±1e-17 where the median is zero: a slope that small is none.
    let slope = if slope.abs() < 1e-12 { 0.0 } else { slope };
    // Variance with the tie correction: Σ t(t−1)(2t+5) over groups of equal values (the
    // slopes are done with: the buffer holds the values' ordered keys, sorted).
    buffer.clear();
    buffer.extend(series.iter().map(|x| ordered(*x)));
    buffer.sort_unstable();
    let ties: f64 = buffer
        .chunk_by(|a, b| a == b)
        .map(|group| {
            let t = group.len() as f64;
            t * (t - 1.0) * (2.0 * t + 5.0)
        })
        .sum();
    let nf = n as f64;
    let variance = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if variance <= 0.0 || s == 0 { 0.0 } else { (s as f64 - (s.signum() as f64)) / variance.sqrt() };
    Some(Trend { s, z, p_value: 2.0 * normal_upper_tail(z.abs()), slope })
}

/// Where a rank falls among the slopes of finite values sorted: those of the pairs that fall
/// (negative, or −0.0 where a tiny difference vanishes, as `total_cmp` orders it), of the pairs
/// level (±0.0: the later −0.0, the earlier +0.0 give −0.0, which the slope's rounding of
/// crumbs to zero makes +0.0 in the end), of the pairs that rise (positive, or +0.0 where a
/// tiny difference vanishes).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Falling,
    Level,
    Rising,
}

/// How many pairs fall, and how many are level.
#[derive(Debug, Clone, Copy)]
struct Signs {
    below: usize,
    level: usize,
}

/// Sen's slope: the median of the pairwise slopes (of the two middle ones, their mean).
///
/// A weekly count series is mostly equal values (most weeks of most cells have no event), so
/// most of its pairs are level: the counts of the signs, which vectorise, often put the median
/// among the level pairs' zero slopes with no slope computed. Otherwise every slope is
/// computed once more but only those of the median's sign are kept, without a branch (half the
/// pairs of a rising series rise, in no pattern a processor could predict), and the median is
/// selected among them. (When the two middle slopes are the last fall and the first rise, the
/// falling ones are gone through a second time for their largest.) For finite values, the same
/// slope as a selection among them all.
fn median_slope(series: &[f64], inverse: &[f64], signs: Signs, buffer: &mut Vec<i64>) -> f64 {
    let Signs { below, level } = signs;
    let n = series.len();
    let pairs = n * (n - 1) / 2;
    let middle = pairs / 2;
    let side = |rank: usize| match rank {
        r if r < below => Side::Falling,
        r if r < below + level => Side::Level,
        _ => Side::Rising,
    };
    let even = pairs.is_multiple_of(2);
    let (upper_side, lower_side) = (side(middle), if even { side(middle - 1) } else { side(middle) });
    let (upper, lower_within) = match upper_side {
        Side::Level => (0, None),
        Side::Falling => {
            slopes_where(series, inverse, buffer, |x, here| x < here);
            select(buffer, middle)
        }
        Side::Rising => {
            slopes_where(series, inverse, buffer, |x, here| x > here);
            select(buffer, middle - below - level)
        }
    };
    let upper = from_ordered(upper);
    if !even {
        return upper;
    }
    let lower = match lower_side {
        Side::Level => 0,
        _ if lower_side == upper_side => lower_within.unwrap_or(0),
        // The lower middle is the last falling pair's slope, the upper a zero or the first rise.
        _ => {
            slopes_where(series, inverse, buffer, |x, here| x < here);
            buffer.iter().max().copied().unwrap_or(0)
        }
    };
    (from_ordered(lower) + upper) / 2.0
}

/// The ordered keys of the slopes of the pairs for which `wanted(later, earlier)` holds, into
/// `buffer`. Each slope is written at the next free place and the place taken only when
/// wanted: no branch.
fn slopes_where(series: &[f64], inverse: &[f64], buffer: &mut Vec<i64>, wanted: impl Fn(f64, f64) -> bool) {
    let n = series.len();
    buffer.clear();
    buffer.resize(n * (n - 1) / 2, 0);
    let mut kept = 0;
    for (i, &here) in series.iter().enumerate() {
        for (x, inv) in series[i + 1..].iter().zip(&inverse[1..]) {
            buffer[kept] = ordered((x - here) * inv);
            kept += usize::from(wanted(*x, here));
        }
    }
    buffer.truncate(kept);
}

/// The middle of `keys` (of the two middle ones, their mean), as a float.
fn middle_of(keys: &mut [i64]) -> f64 {
    let middle = keys.len() / 2;
    let (upper, lower) = select(keys, middle);
    let upper = from_ordered(upper);
    if keys.len().is_multiple_of(2) { (lower.map_or(upper, from_ordered) + upper) / 2.0 } else { upper }
}

/// The key of rank `rank` among `keys`, and the largest of those ranked before it (if any).
fn select(keys: &mut [i64], rank: usize) -> (i64, Option<i64>) {
    let (before, at, _) = keys.select_nth_unstable(rank);
    let at = *at;
    (at, before.iter().max().copied())
}

/// Series a job takes at the least: below this, a job costs more to hand out than it saves.
const SERIES_PER_JOB: usize = 256;
/// Jobs per core: a core slowed by others (a virtual machine's neighbours) leaves its share to
/// the rest rather than holding up the whole.
const JOBS_PER_CORE: usize = 4;

/// [`trend`] of every series, in order, the series split across the machine's cores: a nightly
/// run has thousands (700 cells × 12 categories), each independent of the others.
pub fn trends<S: AsRef<[f64]> + Sync>(series: &[S]) -> Vec<Option<Trend>> {
    let chunk = series.len().div_ceil(crate::cores::available() * JOBS_PER_CORE).max(SERIES_PER_JOB);
    let parts: Vec<&[S]> = series.chunks(chunk).collect();
    crate::cores::run(parts.len(), |i| {
        let mut buffer = Vec::new();
        parts[i].iter().map(|s| trend(s.as_ref(), &mut buffer)).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// `x` as an integer whose order is `f64::total_cmp`'s: negative floats have their magnitude
/// bits flipped (the transformation `total_cmp` makes at each comparison).
fn ordered(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The float [`ordered`] made `key` from (the transformation is its own inverse).
fn from_ordered(key: i64) -> f64 {
    f64::from_bits((key ^ ((((key >> 63) as u64) >> 1) as i64)) as u64)
}

/// P(Z > z) for a standard normal (Abramowitz and Stegun 7.1.26, error under 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-x * x).exp()
}

/// The mean and standard deviation of a baseline, the latter at least `floor` (a quiet series
/// has none, and one event must not read as infinitely many deviations).
fn baseline(values: &[f64], floor: f64) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt().max(floor))
}

/// EWMA chart: the index of the first value after the `warmup` baseline at which the
/// exponentially weighted mean (weight `lambda`) leaves its upper control limit, `width`
/// standard errors above the baseline mean.
pub fn ewma_alarm(series: &[f64], warmup: usize, lambda: f64, width: f64) -> Option<usize> {
    if series.len() <= warmup || warmup == 0 {
        return None;
    }
    let (mean, sd) = baseline(&series[..warmup], 0.5);
    let mut z = mean;
    for (k, x) in series.iter().enumerate().skip(warmup) {
        z = lambda * x + (1.0 - lambda) * z;
        let steps = (k - warmup + 1) as i32;
        let se = sd * (lambda / (2.0 - lambda) * (1.0 - (1.0 - lambda).powi(2 * steps))).sqrt();
        if z > mean + width * se {
            return Some(k);
        }
    }
    None
}

/// One-sided upper CUSUM on standardised values: the first index after `warmup` at which the
/// sum of (x − μ)/σ − `k` (floored at zero) passes `h`.
pub fn cusum_alarm(series: &[f64], warmup: usize, k: f64, h: f64) -> Option<usize> {
    if series.len() <= warmup || warmup == 0 {
        return None;
    }
    let (mean, sd) = baseline(&series[..warmup], 0.5);
    let mut sum: f64 = 0.0;
    for (i, x) in series.iter().enumerate().skip(warmup) {
        sum = (sum + (x - mean) / sd - k).max(0.0);
        if sum > h {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_known_series() {
        // Hand-computed: 1, 2, 3, 5, 4 → S = 8, Var = 5·4·15/18 = 16.67, Z = 7/4.08 = 1.71.
        let mut buffer = Vec::new();
        let t = trend(&[1.0, 2.0, 3.0, 5.0, 4.0], &mut buffer).unwrap();
        assert_eq!(t.s, 8);
        assert!((t.z - 1.7146).abs() < 1e-3, "{t:?}");
        assert!((t.p_value - 0.0864).abs() < 1e-3, "{t:?}");
        assert!((t.slope - 1.0).abs() < 1e-9, "{t:?}");
        assert_eq!(trend(&[1.0, 2.0, 3.0], &mut buffer), None);
        // All equal: no trend, p = 1.
        let flat = trend(&[2.0; 10], &mut buffer).unwrap();
        assert_eq!((flat.s, flat.z, flat.slope), (0, 0.0, 0.0));
        assert!((flat.p_value - 1.0).abs() < 1e-6);
    }

    #[test]
    fn sudden_rises_are_caught_and_a_steady_series_is_not() {
        let mut series = vec![2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 2.0, 1.0, 2.0, 3.0, 2.0];
        assert_eq!(ewma_alarm(&series, 8, 0.3, 3.0), None);
        assert_eq!(cusum_alarm(&series, 8, 0.5, 4.0), None);
        series.extend([6.0, 7.0, 8.0]);
        assert_eq!(ewma_alarm(&series, 8, 0.3, 3.0), Some(12));
        assert!(cusum_alarm(&series, 8, 0.5, 4.0).is_some_and(|i| i >= 12));
    }

    #[test]
    fn trends_of_many_series_are_each_ones_trend_in_order() {
        // Enough series for several threads, each distinct (a rising, a falling, a flat one…),
        // and one too short for a trend.
        let mut series: Vec<Vec<f64>> = (0..1000)
            .map(|i| {
                (0..26).map(|w| f64::from(((i * 7 + w * (i % 5)) % 11) as u32) + f64::from(w as u32 * (i % 3) as u32)).collect()
            })
            .collect();
        series[517] = vec![1.0, 2.0];
        let all = trends(&series);
        assert_eq!(all.len(), series.len());
        let mut buffer = Vec::new();
        for (s, t) in series.iter().zip(&all) {
            assert_eq!(*t, trend(s, &mut buffer));
        }
        assert_eq!(all[517], None);
        assert!(all.iter().any(|t| t.is_some_and(|t| t.slope > 0.0)) && all.iter().any(|t| t.is_some_and(|t| t.slope == 0.0)));
        assert!(trends::<Vec<f64>>(&[]).is_empty());
    }

    proptest! {
        /// A strictly increasing series has S = n(n−1)/2 and a positive slope; reversing it
        /// flips both; adding a constant changes neither.
        #[test]
        fn trend_is_symmetric_and_shift_invariant(
            steps in proptest::collection::vec(0.1f64..5.0, 4..40),
            shift in -100.0f64..100.0,
        ) {
            let series: Vec<f64> = steps.iter().scan(0.0, |acc, s| { *acc += s; Some(*acc) }).collect();
            let n = series.len() as i64;
            let mut buffer = Vec::new();
            let up = trend(&series, &mut buffer).unwrap();
            prop_assert_eq!(up.s, n * (n - 1) / 2);
            prop_assert!(up.slope > 0.0);
            let reversed: Vec<f64> = series.iter().rev().copied().collect();
            let down = trend(&reversed, &mut buffer).unwrap();
            prop_assert_eq!(down.s, -up.s);
            prop_assert!((down.slope + up.slope).abs() < 1e-9);
            let shifted: Vec<f64> = series.iter().map(|v| v + shift).collect();
            let same = trend(&shifted, &mut buffer).unwrap();
            prop_assert_eq!(same.s, up.s);
            prop_assert!((same.slope - up.slope).abs() < 1e-6);
            prop_assert!((0.0..=1.0).contains(&up.p_value));
        }
    }

    /// Sen's slope by its definition: every pairwise slope (by the reciprocal of the lag, as
    /// [`trend`] computes them), sorted, the middle one or the mean of the middle two.
    fn median_of_sorted_slopes(series: &[f64]) -> f64 {
        let mut slopes: Vec<f64> = Vec::new();
        for (i, here) in series.iter().enumerate() {
            for (lag, x) in series[i + 1..].iter().enumerate() {
                slopes.push((x - here) * (1.0 / (lag + 1) as f64));
            }
        }
        slopes.sort_by(f64::total_cmp);
        let middle = slopes.len() / 2;
        let median = if slopes.len().is_multiple_of(2) { (slopes[middle - 1] + slopes[middle]) / 2.0 } else { slopes[middle] };
        if median.abs() < 1e-12 { 0.0 } else { median }
    }

    proptest! {
        /// The slope is the middle of every pairwise slope sorted, to the bit: for count series
        /// mostly of zeros (the median among the zero slopes, or at their edge), for counts
        /// rising or falling, for any values, and for the edges of the floats (both zeros,
        /// differences that vanish in the slope, overflow, infinities).
        #[test]
        fn the_slope_is_the_middle_of_the_sorted_slopes(
            counts in proptest::collection::vec(prop_oneof![6 => Just(0.0), 3 => 1.0f64..3.0, 1 => 3.0f64..9.0], 4..60),
            drift in -0.3f64..0.3,
            values in proptest::collection::vec(-1e3f64..1e3, 4..40),
            edges in proptest::collection::vec(
                proptest::sample::select(vec![0.0, -0.0, 5e-324, -5e-324, 1e-310, 1.0, 2.0, -1.0, 1e308, -1e308, f64::INFINITY, f64::NEG_INFINITY]),
                4..12,
            ),
        ) {
            let counts: Vec<f64> = counts.iter().map(|c| c.floor()).collect();
            let drifting: Vec<f64> = counts.iter().enumerate().map(|(w, c)| (c + drift * w as f64).max(0.0).round()).collect();
            let mut buffer = Vec::new();
            for series in [&counts, &drifting, &values, &edges] {
                let slope = trend(series, &mut buffer).unwrap().slope;
                let expected = median_of_sorted_slopes(series);
                prop_assert!(slope.to_bits() == expected.to_bits(), "{} against {} for {:?}", slope, expected, series);
            }
        }
    }

    #[test]
    fn the_middle_slopes_either_side_of_zero() {
        let mut buffer = Vec::new();
        // Six pairs each, the middle two either side of a boundary: the last fall and a level
        // pair's zero; a zero and the first rise; the last fall and the first rise.
        for (series, middle) in
            [([0.0, 2.0, 1.0, 0.0], -0.5), ([0.0, 0.0, 0.0, 1.0], 1.0 / 6.0), ([0.0, 3.0, 2.0, 1.0], -1.0 / 3.0)]
        {
            let slope = trend(&series, &mut buffer).unwrap().slope;
            assert_eq!(slope.to_bits(), median_of_sorted_slopes(&series).to_bits(), "{series:?}");
            assert!((slope - middle).abs() < 1e-12, "{series:?}: {slope}");
        }
        // Values that do not compare, and level pairs of infinities (whose slopes are NaN, not
        // zero): every slope in total_cmp's order, as the definition has it.
        let inf = f64::INFINITY;
        let unordered: [&[f64]; 4] =
            [&[1.0, f64::NAN, 2.0, 3.0, 4.0], &[inf, inf, inf, 0.0], &[-inf, -inf, -inf, 0.0], &[0.0, inf, 1.0, -inf, 2.0]];
        for series in unordered {
            let slope = trend(series, &mut buffer).unwrap().slope;
            assert_eq!(slope.to_bits(), median_of_sorted_slopes(series).to_bits(), "{series:?}");
        }
        // Tiny differences that vanish in the slope, and both zeros.
        let series = [0.0, -0.0, 5e-324, 0.0, -5e-324, 1e-310, 0.0];
        assert_eq!(trend(&series, &mut buffer).unwrap().slope.to_bits(), median_of_sorted_slopes(&series).to_bits());
    }

    #[test]
    fn ordered_keys_sort_as_total_cmp_and_round_trip() {
        let mut values = vec![-3.5, -0.0, 0.0, 1e-300, -1e-300, 2.0, f64::INFINITY, f64::NEG_INFINITY, 0.25, -7.0 / 3.0];
        for v in &values {
            assert_eq!(from_ordered(ordered(*v)).to_bits(), v.to_bits());
        }
        let mut by_key = values.clone();
        by_key.sort_by_key(|v| ordered(*v));
        values.sort_by(f64::total_cmp);
        assert_eq!(
            by_key.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}
