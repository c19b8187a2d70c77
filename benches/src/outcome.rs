//! One measured run: the JSON line a worker process prints and the parent reads back.
//!
//! Rust workers and `asyncio_bench.py` print the same fields. Memory is the worker's own `ru_maxrss`
//! (peak resident set of that process alone, all threads), which is why every run gets its own process.

use std::collections::BTreeMap;

use magpie_examples::fanout::stats::LatenessSummary;
use serde::{Deserialize, Serialize};

/// The measurements of one workload on one runtime in one process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// `magpie`, `tokio`, `smol` or `asyncio`.
    pub runtime: String,
    /// The workload's name.
    pub workload: String,
    /// The `--scale` it ran at.
    pub scale: f64,
    /// Worker threads (1 for asyncio).
    pub workers: usize,
    /// Wall time of the workload itself (runtime start-up excluded), seconds.
    pub wall_s: f64,
    /// Peak resident set of the worker process, KiB.
    pub peak_rss_kib: u64,
    /// Resident set right after the workload, runtime still alive, KiB (where measurable).
    #[serde(default)]
    pub rss_after_kib: Option<u64>,
    /// Operations the run completed.
    pub ops: u64,
    /// Operations a correct run completes.
    pub expected_ops: u64,
    /// Lateness summary, for timer workloads.
    #[serde(default)]
    pub lateness: Option<LatenessSummary>,
    /// Points `(microseconds, fraction at or below)` of the lateness CDF.
    #[serde(default)]
    pub lateness_cdf: Vec<(u32, f64)>,
    /// Runtime counters the runtime exposes (magpie's metrics).
    #[serde(default)]
    pub counters: BTreeMap<String, u64>,
}

impl RunOutcome {
    /// The outcome as one JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a RunOutcome always serializes")
    }

    /// Reads the outcome from a worker's standard output: its last line that parses as one.
    pub fn from_worker_output(stdout: &str) -> Result<Self, String> {
        stdout
            .lines()
            .rev()
            .filter(|line| line.trim_start().starts_with('{'))
            .find_map(|line| serde_json::from_str(line).ok())
            .ok_or_else(|| "the worker printed no result line".to_string())
    }

    /// Whether the run did all its work (a run that skipped work is not a valid measurement).
    pub fn is_complete(&self) -> bool {
        self.ops == self.expected_ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> RunOutcome {
        RunOutcome {
            runtime: "tokio".into(),
            workload: "lateness".into(),
            scale: 0.01,
            workers: 2,
            wall_s: 0.5,
            peak_rss_kib: 2048,
            rss_after_kib: Some(1024),
            ops: 10,
            expected_ops: 10,
            lateness: Some(LatenessSummary {
                count: 10,
                p50_us: 1,
                p99_us: 2,
                p999_us: 3,
                max_us: 4,
                early: 0,
            }),
            lateness_cdf: vec![(1, 0.5), (4, 1.0)],
            counters: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trips_through_a_noisy_stdout() {
        let line = outcome().to_json_line();
        let stdout = format!("some log\n{{not json\n{line}\n");
        assert_eq!(RunOutcome::from_worker_output(&stdout), Ok(outcome()));
        assert!(RunOutcome::from_worker_output("nothing here\n").is_err());
    }

    #[test]
    fn reads_the_minimal_python_form() {
        let line = r#"{"runtime":"asyncio","workload":"spawn-many","scale":1.0,"workers":1,"wall_s":2.5,"peak_rss_kib":900000,"ops":5,"expected_ops":6}"#;
        let parsed = RunOutcome::from_worker_output(line).unwrap();
        assert_eq!(parsed.runtime, "asyncio");
        assert_eq!(parsed.lateness, None);
        assert!(parsed.lateness_cdf.is_empty());
        assert!(!parsed.is_complete());
        assert!(outcome().is_complete());
    }
}
