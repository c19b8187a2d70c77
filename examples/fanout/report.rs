//! The fan-out report: what one run measured, as text for people and as JSON for tools.
//!
//! Every field is a measurement of the run it describes (or its configuration); nothing is estimated
//! except `ideal_s`, which is computed from the same latency draws the run used.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::duration::format_micros;
use super::stats::LatenessSummary;

/// A few runtime counters read from `Handle::metrics()` after the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeCounters {
    /// Tasks taken from another worker's queue.
    pub steals: u64,
    /// Times a worker went to sleep for lack of work.
    pub parks: u64,
    /// Times a sleeping worker was woken.
    pub unparks: u64,
    /// Timers the timer thread fired.
    pub timers_fired: u64,
    /// Task polls.
    pub polls: u64,
}

/// The result of one fan-out run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FanoutReport {
    /// Fetches (tasks) run.
    pub tasks: u64,
    /// Worker threads of the runtime.
    pub workers: usize,
    /// The latency model, as written on the command line.
    pub latency: String,
    /// At most this many fetches in flight (`None`: unlimited).
    pub limit: Option<usize>,
    /// Seed of the latency draws.
    pub seed: u64,
    /// Wall time from the first spawn to the last result gathered, seconds.
    pub wall_s: f64,
    /// Time a perfect runtime would need for the same draws, seconds.
    pub ideal_s: f64,
    /// `wall_s - ideal_s`.
    pub overhead_s: f64,
    /// `tasks / wall_s`.
    pub fetches_per_s: f64,
    /// How long after its deadline each fetch resumed.
    pub lateness: LatenessSummary,
    /// Peak resident set of the process, KiB (`getrusage`).
    pub peak_rss_kib: u64,
    /// Combined checksum of every response (proves the work was done).
    pub checksum: u64,
    /// Runtime counters.
    pub metrics: RuntimeCounters,
}

impl FanoutReport {
    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

impl fmt::Display for FanoutReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = self
            .limit
            .map_or_else(|| "none".to_string(), |k| k.to_string());
        let lateness = &self.lateness;
        writeln!(
            f,
            "fanout: {} fetches, latency {}, limit {}, seed {}",
            self.tasks, self.latency, limit, self.seed
        )?;
        writeln!(f, "  workers        {}", self.workers)?;
        writeln!(f, "  wall time      {:.3} s", self.wall_s)?;
        writeln!(f, "  ideal time     {:.3} s", self.ideal_s)?;
        writeln!(f, "  overhead       {:.1} ms", self.overhead_s * 1e3)?;
        writeln!(f, "  fetches/s      {:.0}", self.fetches_per_s)?;
        writeln!(
            f,
            "  lateness       p50 {}  p99 {}  p99.9 {}  max {}  early {}",
            format_micros(lateness.p50_us.into()),
            format_micros(lateness.p99_us.into()),
            format_micros(lateness.p999_us.into()),
            format_micros(lateness.max_us.into()),
            lateness.early
        )?;
        writeln!(
            f,
            "  peak memory    {:.1} MiB",
            self.peak_rss_kib as f64 / 1024.0
        )?;
        writeln!(
            f,
            "  runtime        steals {}  parks {}  unparks {}  timers fired {}  polls {}",
            self.metrics.steals,
            self.metrics.parks,
            self.metrics.unparks,
            self.metrics.timers_fired,
            self.metrics.polls
        )?;
        write!(f, "  checksum       {:016x}", self.checksum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FanoutReport {
        FanoutReport {
            tasks: 1000,
            workers: 2,
            latency: "fixed:10.0ms".into(),
            limit: Some(50),
            seed: 1,
            wall_s: 0.25,
            ideal_s: 0.2,
            overhead_s: 0.05,
            fetches_per_s: 4000.0,
            lateness: LatenessSummary {
                count: 1000,
                p50_us: 800,
                p99_us: 1500,
                p999_us: 2000,
                max_us: 2100,
                early: 0,
            },
            peak_rss_kib: 10240,
            checksum: 0xabc,
            metrics: RuntimeCounters {
                steals: 3,
                parks: 4,
                unparks: 5,
                timers_fired: 1000,
                polls: 2000,
            },
        }
    }

    #[test]
    fn json_round_trips() {
        let report = sample();
        let json = report.to_json();
        assert!(!json.contains('\n'));
        let back: FanoutReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn text_names_every_measurement() {
        let text = sample().to_string();
        for needle in [
            "1000 fetches",
            "limit 50",
            "workers        2",
            "0.250 s",
            "50.0 ms",
            "4000",
            "p99.9 2.0ms",
            "10.0 MiB",
            "timers fired 1000",
            "steals 3",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }
}
