//! Lateness statistics: percentiles over compact microsecond samples.
//!
//! Samples are `u32` microseconds (4 bytes per task; 71 minutes of range, saturating beyond), so a
//! million samples cost 4 MB. Percentiles use the nearest-rank method on a sorted copy: the `p`
//! percentile is the smallest sample such that at least `p` of all samples are at or below it.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Converts a duration to whole microseconds, saturating at `u32::MAX`.
pub fn micros_u32(duration: Duration) -> u32 {
    u32::try_from(duration.as_micros()).unwrap_or(u32::MAX)
}

/// The nearest-rank percentile `p` (in `0.0..=1.0`) of an ascending slice; `0` when empty.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How late tasks resumed after their deadlines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatenessSummary {
    /// Number of samples.
    pub count: u64,
    /// Median lateness, microseconds.
    pub p50_us: u32,
    /// 99th percentile, microseconds.
    pub p99_us: u32,
    /// 99.9th percentile, microseconds.
    pub p999_us: u32,
    /// Largest lateness, microseconds.
    pub max_us: u32,
    /// Tasks that resumed *before* their deadline (a timer bug if non-zero).
    pub early: u64,
}

impl LatenessSummary {
    /// Summarises samples (sorting them in place) given how many woke early.
    pub fn from_samples(samples: &mut [u32], early: u64) -> Self {
        samples.sort_unstable();
        Self {
            count: samples.len() as u64,
            p50_us: percentile(samples, 0.50),
            p99_us: percentile(samples, 0.99),
            p999_us: percentile(samples, 0.999),
            max_us: samples.last().copied().unwrap_or(0),
            early,
        }
    }
}

/// Up to `points` points `(lateness_us, fraction at or below)` of the empirical CDF of an ascending
/// slice, for plotting; always includes the maximum.
pub fn cdf_points(sorted: &[u32], points: usize) -> Vec<(u32, f64)> {
    if sorted.is_empty() || points == 0 {
        return Vec::new();
    }
    let n = sorted.len();
    let mut out: Vec<(u32, f64)> = (1..=points)
        .map(|k| {
            let rank = (k * n).div_ceil(points).max(1);
            (sorted[rank - 1], rank as f64 / n as f64)
        })
        .collect();
    out.dedup();
    out
}

/// The median of some measurements (the mean of the middle two for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 0.5), 50);
        assert_eq!(percentile(&sorted, 0.99), 99);
        assert_eq!(percentile(&sorted, 0.999), 100);
        assert_eq!(percentile(&sorted, 0.0), 1);
        assert_eq!(percentile(&sorted, 1.0), 100);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.99), 7);
    }

    #[test]
    fn summary_sorts_and_counts() {
        let mut samples = vec![30, 10, 20, 1000, 40];
        let summary = LatenessSummary::from_samples(&mut samples, 2);
        assert_eq!(
            summary,
            LatenessSummary {
                count: 5,
                p50_us: 30,
                p99_us: 1000,
                p999_us: 1000,
                max_us: 1000,
                early: 2
            }
        );
        assert_eq!(LatenessSummary::from_samples(&mut [], 0).max_us, 0);
    }

    #[test]
    fn micros_saturate() {
        assert_eq!(micros_u32(Duration::from_micros(12)), 12);
        assert_eq!(micros_u32(Duration::from_secs(1 << 40)), u32::MAX);
    }

    #[test]
    fn cdf_is_monotone_and_ends_at_one() {
        let sorted: Vec<u32> = (0..1000).collect();
        let cdf = cdf_points(&sorted, 50);
        assert_eq!(cdf.len(), 50);
        assert!(cdf.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
        assert_eq!(cdf.last(), Some(&(999, 1.0)));
        assert_eq!(
            cdf_points(&[5, 5, 5], 10),
            vec![(5, 1.0 / 3.0), (5, 2.0 / 3.0), (5, 1.0)]
        );
        assert!(cdf_points(&[], 10).is_empty());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
    }
}
