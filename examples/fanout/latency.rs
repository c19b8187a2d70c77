//! Simulated network latency models and the ideal completion time they imply.
//!
//! A model is written on the command line as:
//! - `1s` or `fixed:1s` — every fetch takes exactly that long;
//! - `uniform:500ms..1500ms` — uniform between the two bounds (inclusive low, exclusive high);
//! - `lognormal:100ms,1.0` — heavy-tailed: median 100 ms, and the natural logarithm of the latency has
//!   standard deviation 1.0 (the "spread"); draws are capped at [`MAX_LATENCY`].
//!
//! Draw number `i` of a run depends only on `(seed, i)`, so each fetch computes its own latency when it
//! starts (no table of a million durations) and [`ideal_duration`] can recompute the same draws.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::duration::{format_duration, parse_duration};
use super::rng::SplitMix64;

/// The largest latency a heavy-tailed draw may produce; larger draws saturate to it.
pub const MAX_LATENCY: Duration = Duration::from_secs(3600);

/// How long each simulated fetch waits for its "network".
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyModel {
    /// Every fetch waits exactly this long.
    Fixed(Duration),
    /// Uniform in `[low, high)`.
    Uniform {
        /// Smallest latency.
        low: Duration,
        /// Upper bound (exclusive unless equal to `low`).
        high: Duration,
    },
    /// Log-normal: `median * exp(sigma * z)` with `z` standard normal.
    LogNormal {
        /// The median latency.
        median: Duration,
        /// Standard deviation of the latency's natural logarithm.
        sigma: f64,
    },
}

impl LatencyModel {
    /// The latency of draw `index` for a run seeded with `seed`.
    pub fn sample(&self, seed: u64, index: u64) -> Duration {
        match *self {
            LatencyModel::Fixed(latency) => latency,
            LatencyModel::Uniform { low, high } => {
                let mut rng = SplitMix64::for_index(seed, index);
                let span = high.saturating_sub(low).as_nanos() as f64;
                low + Duration::from_nanos((rng.next_f64() * span) as u64)
            }
            LatencyModel::LogNormal { median, sigma } => {
                let mut rng = SplitMix64::for_index(seed, index);
                let factor = (sigma * rng.next_standard_normal()).exp();
                Duration::try_from_secs_f64(median.as_secs_f64() * factor)
                    .unwrap_or(MAX_LATENCY)
                    .min(MAX_LATENCY)
            }
        }
    }
}

impl FromStr for LatencyModel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (kind, args) = text.split_once(':').unwrap_or(("fixed", text));
        match kind {
            "fixed" => Ok(LatencyModel::Fixed(parse_duration(args)?)),
            "uniform" => {
                let (low, high) = args.split_once("..").ok_or_else(|| {
                    format!("latency '{text}': write uniform:LOW..HIGH, e.g. uniform:500ms..1500ms")
                })?;
                let (low, high) = (parse_duration(low)?, parse_duration(high)?);
                if high < low {
                    return Err(format!(
                        "latency '{text}': the high bound is below the low bound"
                    ));
                }
                Ok(LatencyModel::Uniform { low, high })
            }
            "lognormal" => {
                let (median, sigma) = args.split_once(',').ok_or_else(|| {
                    format!(
                        "latency '{text}': write lognormal:MEDIAN,SIGMA, e.g. lognormal:100ms,1.0"
                    )
                })?;
                let median = parse_duration(median)?;
                let sigma: f64 = sigma
                    .trim()
                    .parse()
                    .map_err(|_| format!("latency '{text}': spread '{sigma}' is not a number"))?;
                if !(0.0..=10.0).contains(&sigma) {
                    return Err(format!("latency '{text}': spread must be between 0 and 10"));
                }
                Ok(LatencyModel::LogNormal { median, sigma })
            }
            other => Err(format!(
                "latency model '{other}' is unknown; use fixed:, uniform: or lognormal:"
            )),
        }
    }
}

impl fmt::Display for LatencyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LatencyModel::Fixed(latency) => write!(f, "fixed:{}", format_duration(latency)),
            LatencyModel::Uniform { low, high } => {
                write!(
                    f,
                    "uniform:{}..{}",
                    format_duration(low),
                    format_duration(high)
                )
            }
            LatencyModel::LogNormal { median, sigma } => {
                write!(f, "lognormal:{},{sigma}", format_duration(median))
            }
        }
    }
}

/// The wall time a perfect runtime would need: every fetch sleeps exactly its latency, nothing else
/// costs time. Without a limit that is the largest draw; with "at most `limit` in flight" fetches
/// start in index order, each on the first free slot (what a fair semaphore does).
pub fn ideal_duration(
    model: &LatencyModel,
    seed: u64,
    fetches: u64,
    limit: Option<usize>,
) -> Duration {
    match limit {
        Some(limit) if (limit as u64) < fetches => {
            // Min-heap of the times at which each of the `limit` slots becomes free.
            let mut free_at: BinaryHeap<Reverse<Duration>> =
                (0..limit).map(|_| Reverse(Duration::ZERO)).collect();
            let mut end = Duration::ZERO;
            for index in 0..fetches {
                let Reverse(start) = free_at.pop().unwrap_or(Reverse(Duration::ZERO));
                let done = start.saturating_add(model.sample(seed, index));
                end = end.max(done);
                free_at.push(Reverse(done));
            }
            end
        }
        _ => (0..fetches)
            .map(|index| model.sample(seed, index))
            .max()
            .unwrap_or(Duration::ZERO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_the_three_models_and_prints_them_back() {
        assert_eq!("1s".parse(), Ok(LatencyModel::Fixed(ms(1000))));
        assert_eq!("fixed:10ms".parse(), Ok(LatencyModel::Fixed(ms(10))));
        let uniform: LatencyModel = "uniform:500ms..1500ms".parse().unwrap();
        assert_eq!(
            uniform,
            LatencyModel::Uniform {
                low: ms(500),
                high: ms(1500)
            }
        );
        assert_eq!(uniform.to_string(), "uniform:500.0ms..1.500s");
        let lognormal: LatencyModel = "lognormal:100ms,1.0".parse().unwrap();
        assert_eq!(
            lognormal,
            LatencyModel::LogNormal {
                median: ms(100),
                sigma: 1.0
            }
        );
        assert_eq!(lognormal.to_string().parse::<LatencyModel>(), Ok(lognormal));
    }

    #[test]
    fn refuses_malformed_models() {
        for bad in [
            "",
            "-1s",
            "uniform:1s",
            "uniform:2s..1s",
            "lognormal:1s",
            "lognormal:1s,x",
            "lognormal:1s,-1",
            "pareto:1s",
        ] {
            let err = bad.parse::<LatencyModel>().expect_err(bad);
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn draws_stay_in_range_and_are_reproducible() {
        let uniform = LatencyModel::Uniform {
            low: ms(10),
            high: ms(20),
        };
        for i in 0..10_000 {
            let d = uniform.sample(3, i);
            assert!(d >= ms(10) && d < ms(20), "{d:?}");
            assert_eq!(d, uniform.sample(3, i));
        }
        assert_ne!(uniform.sample(3, 0), uniform.sample(4, 0));
    }

    #[test]
    fn lognormal_median_and_tail() {
        let model = LatencyModel::LogNormal {
            median: ms(100),
            sigma: 1.0,
        };
        let mut draws: Vec<Duration> = (0..20_001).map(|i| model.sample(9, i)).collect();
        draws.sort();
        let median = draws[10_000].as_secs_f64();
        assert!((median - 0.1).abs() < 0.01, "median {median}");
        // exp(2.326) ~ 10.2: the 99th percentile sits about ten medians out.
        let p99 = draws[19_800].as_secs_f64();
        assert!(p99 > 0.7 && p99 < 1.4, "p99 {p99}");
        let capped = LatencyModel::LogNormal {
            median: Duration::from_secs(3000),
            sigma: 10.0,
        };
        assert!((0..1000).all(|i| capped.sample(1, i) <= MAX_LATENCY));
    }

    #[test]
    fn ideal_time_with_and_without_a_limit() {
        let fixed = LatencyModel::Fixed(ms(100));
        assert_eq!(ideal_duration(&fixed, 0, 1000, None), ms(100));
        assert_eq!(ideal_duration(&fixed, 0, 1000, Some(10)), ms(10_000));
        assert_eq!(ideal_duration(&fixed, 0, 1001, Some(10)), ms(10_100));
        assert_eq!(ideal_duration(&fixed, 0, 5, Some(10)), ms(100));
        assert_eq!(ideal_duration(&fixed, 0, 0, None), Duration::ZERO);
        let uniform = LatencyModel::Uniform {
            low: ms(10),
            high: ms(20),
        };
        let max = (0..500).map(|i| uniform.sample(1, i)).max().unwrap();
        assert_eq!(ideal_duration(&uniform, 1, 500, None), max);
        let limited = ideal_duration(&uniform, 1, 500, Some(5));
        // 100 rounds of 10..20 ms each on five slots.
        assert!(limited > ms(1000) && limited < ms(2000), "{limited:?}");
    }
}
