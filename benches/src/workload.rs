//! The comparison's workloads: names, sizes at a given `--scale`, and parsing.
//!
//! Sizes at scale 1.0 (the defaults the docs report):
//! - `sleep-gather`: 1,000,000 tasks each `sleep(1s)`, all joined; each task's lateness is recorded;
//! - `lateness`: 1,000,000 deadlines drawn uniformly in one 100 ms window that opens 1 s after the
//!   job starts (time enough to spawn them); each task sleeps until its deadline and records its
//!   lateness;
//! - `lateness-spaced`: the same, with the deadlines evenly spaced in spawn order (task `i` of `n`
//!   at `i/n` of the window), so tasks wake in the order they were spawned and allocated: the
//!   friendliest order for the caches, which shows how much of `lateness` the random order costs;
//! - `fanout`: 1,000,000 simulated fetches with a latency model (default `1s`, the `fanout` example's
//!   default; `--fanout-latency` changes it), each checksumming a 1 KiB response, all gathered;
//! - `fanout-uniform`, `fanout-lognormal`: the same with latencies uniform in 500 ms..1500 ms, and
//!   heavy-tailed log-normal with median 200 ms and spread 0.5 (the ideal time is the largest draw);
//! - `spawn-many`: 1,000,000 no-op spawns from inside the runtime, then all joined;
//! - `yield-many`: 200 tasks x 10,000 `yield_now`;
//! - `chained-spawn`: 200 chains, one after another, of 1,000 tasks each spawning the next;
//! - `ping-pong`: 100 rounds of 1,000 pairs exchanging a message each way through
//!   `futures::channel::oneshot`;
//! - `timeout-churn`: 1,000,000 one-second timeouts around futures that are ready at once (100 tasks
//!   x 10,000), then the resident set after.
//!
//! `--scale` multiplies the counts (not the durations); every count stays at least 1.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One benchmark workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    /// 1M x `sleep(1s)`, gathered.
    SleepGather,
    /// 1M deadlines in one 100 ms window; lateness of each.
    Lateness,
    /// The same window, deadlines evenly spaced in spawn order.
    LatenessSpaced,
    /// The fan-out example's job with `--fanout-latency`.
    Fanout,
    /// Fan-out with uniform latencies ([`UNIFORM_LATENCY`]).
    FanoutUniform,
    /// Fan-out with log-normal latencies ([`LOGNORMAL_LATENCY`]).
    FanoutLognormal,
    /// 1M no-op spawns, joined.
    SpawnMany,
    /// 200 tasks x 10,000 yields.
    YieldMany,
    /// Chains of 1,000 tasks each spawning the next.
    ChainedSpawn,
    /// 1,000 pairs exchanging oneshot messages.
    PingPong,
    /// 1M timeouts around ready futures.
    TimeoutChurn,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 11] = [
        Workload::SleepGather,
        Workload::Lateness,
        Workload::LatenessSpaced,
        Workload::Fanout,
        Workload::FanoutUniform,
        Workload::FanoutLognormal,
        Workload::SpawnMany,
        Workload::YieldMany,
        Workload::ChainedSpawn,
        Workload::PingPong,
        Workload::TimeoutChurn,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SleepGather => "sleep-gather",
            Workload::Lateness => "lateness",
            Workload::LatenessSpaced => "lateness-spaced",
            Workload::Fanout => "fanout",
            Workload::FanoutUniform => "fanout-uniform",
            Workload::FanoutLognormal => "fanout-lognormal",
            Workload::SpawnMany => "spawn-many",
            Workload::YieldMany => "yield-many",
            Workload::ChainedSpawn => "chained-spawn",
            Workload::PingPong => "ping-pong",
            Workload::TimeoutChurn => "timeout-churn",
        }
    }

    /// Whether each task's lateness is recorded (and plotted).
    pub fn records_lateness(self) -> bool {
        matches!(
            self,
            Workload::SleepGather | Workload::Lateness | Workload::LatenessSpaced
        ) || self.is_fanout()
    }

    /// Whether this is one of the fan-out workloads.
    pub fn is_fanout(self) -> bool {
        matches!(
            self,
            Workload::Fanout | Workload::FanoutUniform | Workload::FanoutLognormal
        )
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wanted = text.trim().replace('_', "-");
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
                format!(
                    "unknown workload '{text}'; choose from {}",
                    names.join(", ")
                )
            })
    }
}

/// The latency model of `fanout-uniform`.
pub const UNIFORM_LATENCY: &str = "uniform:500ms..1500ms";

/// The latency model of `fanout-lognormal`.
pub const LOGNORMAL_LATENCY: &str = "lognormal:200ms,0.5";

/// Scales a full-size count, keeping it at least 1.
pub fn scaled(full: u64, scale: f64) -> u64 {
    ((full as f64 * scale).round() as u64).max(1)
}

/// The concrete sizes of every workload at one scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sizes {
    /// Tasks of `sleep-gather`.
    pub sleepers: u64,
    /// The sleep of `sleep-gather`.
    pub sleep: Duration,
    /// Tasks of `lateness` and `lateness-spaced`.
    pub deadlines: u64,
    /// How long after the start of `lateness` its deadline window opens.
    pub deadline_lead: Duration,
    /// The window `lateness` deadlines are drawn from.
    pub deadline_window: Duration,
    /// Fetches of `fanout`.
    pub fetches: u64,
    /// Spawns of `spawn-many`.
    pub spawns: u64,
    /// Tasks of `yield-many`.
    pub yielders: u64,
    /// Yields per task of `yield-many`.
    pub yields_per_task: u64,
    /// Chains of `chained-spawn`.
    pub chains: u64,
    /// Tasks per chain.
    pub chain_length: u64,
    /// Rounds of `ping-pong`.
    pub ping_pong_rounds: u64,
    /// Pairs per round.
    pub pairs: u64,
    /// Timeouts of `timeout-churn`.
    pub timeouts: u64,
    /// Tasks sharing the timeouts.
    pub timeout_tasks: u64,
}

impl Sizes {
    /// Sizes at `scale` (1.0 = the documented full size).
    pub fn at_scale(scale: f64) -> Self {
        Self {
            sleepers: scaled(1_000_000, scale),
            sleep: Duration::from_secs(1),
            deadlines: scaled(1_000_000, scale),
            deadline_lead: Duration::from_secs(1),
            deadline_window: Duration::from_millis(100),
            fetches: scaled(1_000_000, scale),
            spawns: scaled(1_000_000, scale),
            yielders: 200,
            yields_per_task: scaled(10_000, scale),
            chains: scaled(200, scale),
            chain_length: 1_000,
            ping_pong_rounds: scaled(100, scale),
            pairs: 1_000,
            timeouts: scaled(1_000_000, scale),
            timeout_tasks: 100,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_accept_underscores() {
        for workload in Workload::ALL {
            assert_eq!(workload.name().parse(), Ok(workload));
            assert_eq!(workload.to_string(), workload.name());
        }
        assert_eq!("spawn_many".parse(), Ok(Workload::SpawnMany));
        let err = "spawn".parse::<Workload>().unwrap_err();
        assert!(
            err.contains("sleep-gather") && err.contains("timeout-churn"),
            "{err}"
        );
    }

    #[test]
    fn scale_multiplies_counts_and_never_reaches_zero() {
        let full = Sizes::at_scale(1.0);
        assert_eq!(
            (
                full.sleepers,
                full.spawns,
                full.yields_per_task,
                full.chains
            ),
            (1_000_000, 1_000_000, 10_000, 200)
        );
        let small = Sizes::at_scale(0.01);
        assert_eq!(
            (
                small.sleepers,
                small.yields_per_task,
                small.chains,
                small.ping_pong_rounds
            ),
            (10_000, 100, 2, 1)
        );
        assert_eq!(small.sleep, Duration::from_secs(1));
        let tiny = Sizes::at_scale(1e-9);
        assert_eq!((tiny.sleepers, tiny.chains, tiny.timeouts), (1, 1, 1));
        assert_eq!(scaled(3, 0.5), 2);
    }
}
