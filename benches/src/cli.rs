//! The `compare` command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use magpie_examples::fanout::cli::{parse_latency, parse_plain_duration, parse_positive_usize};
use magpie_examples::fanout::latency::LatencyModel;

use crate::jobs::JobParams;
use crate::workload::{Sizes, Workload};

/// Every runtime the comparison knows.
pub const ALL_RUNTIMES: [&str; 4] = ["magpie", "tokio", "smol", "asyncio"];

/// Run each workload on magpie, tokio, smol and Python asyncio, each run in its own process,
/// alternating runtimes round by round, and report medians and ratios to magpie.
#[derive(Debug, Parser)]
#[command(name = "compare")]
pub struct CompareArgs {
    /// Rounds: each runtime runs each workload this many times (runtimes alternate within a round,
    /// and the order reverses every other round so drift cancels).
    #[arg(long, default_value_t = 3, value_parser = parse_positive_usize)]
    pub rounds: usize,

    /// Workloads to run, comma-separated (sleep-gather, lateness, lateness-spaced, fanout,
    /// fanout-uniform, fanout-lognormal, spawn-many, yield-many, chained-spawn, ping-pong,
    /// timeout-churn); default all.
    #[arg(long, value_delimiter = ',', value_parser = parse_workload)]
    pub workloads: Vec<Workload>,

    /// Runtimes to run, comma-separated (magpie, tokio, smol, asyncio); default all.
    #[arg(long, value_delimiter = ',', value_parser = parse_runtime)]
    pub runtimes: Vec<String>,

    /// Multiply every workload's counts by this factor (e.g. 0.01 for a smoke run); durations stay.
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub scale: f64,

    /// Worker threads of every Rust runtime; default one per core.
    #[arg(long, value_parser = parse_positive_usize)]
    pub workers: Option<usize>,

    /// Latency model of the `fanout` workload (as in the fanout example's --latency); the
    /// fanout-uniform and fanout-lognormal workloads keep their own.
    #[arg(long, default_value = "1s", value_parser = parse_latency)]
    pub fanout_latency: LatencyModel,

    /// At most K fetches in flight in the fan-out workload; unlimited when absent.
    #[arg(long, value_parser = parse_positive_usize)]
    pub fanout_limit: Option<usize>,

    /// Seed of the random draws.
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,

    /// Directory for results.json, summary.md and the SVG charts.
    #[arg(long, default_value = "target/bench-results")]
    pub out: PathBuf,

    /// Python interpreter for the asyncio runs.
    #[arg(long, default_value = "python3")]
    pub python: String,

    /// Give up on a run (and report it failed) after this long.
    #[arg(long, default_value = "15m", value_parser = parse_plain_duration)]
    pub run_timeout: Duration,

    /// Internal: run one workload on this runtime in this process and print one JSON line.
    #[arg(long, hide = true, value_parser = parse_runtime)]
    pub run: Option<String>,
}

impl CompareArgs {
    /// The workloads asked for, or all of them.
    pub fn selected_workloads(&self) -> Vec<Workload> {
        if self.workloads.is_empty() {
            Workload::ALL.to_vec()
        } else {
            self.workloads.clone()
        }
    }

    /// The runtimes asked for, or all of them, without duplicates.
    pub fn selected_runtimes(&self) -> Vec<String> {
        let mut runtimes: Vec<String> = if self.runtimes.is_empty() {
            ALL_RUNTIMES.iter().map(|s| s.to_string()).collect()
        } else {
            self.runtimes.clone()
        };
        let mut seen = std::collections::HashSet::new();
        runtimes.retain(|r| seen.insert(r.clone()));
        runtimes
    }

    /// The job parameters these options describe.
    pub fn job_params(&self) -> JobParams {
        JobParams {
            sizes: Sizes::at_scale(self.scale),
            fanout_latency: self.fanout_latency,
            fanout_limit: self.fanout_limit,
            seed: self.seed,
        }
    }

    /// Worker threads to use.
    pub fn worker_count(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// Parses a workload name.
pub fn parse_workload(text: &str) -> Result<Workload, String> {
    text.parse()
}

/// Parses a runtime name.
pub fn parse_runtime(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    if ALL_RUNTIMES.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(format!(
            "unknown runtime '{text}'; choose from {}",
            ALL_RUNTIMES.join(", ")
        ))
    }
}

/// Parses a scale factor in (0, 100].
pub fn parse_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if scale > 0.0 && scale <= 100.0 {
        Ok(scale)
    } else {
        Err("the scale must be above 0 and at most 100".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<CompareArgs, clap::Error> {
        CompareArgs::try_parse_from(std::iter::once("compare").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.rounds, 3);
        assert_eq!(args.scale, 1.0);
        assert_eq!(args.selected_workloads(), Workload::ALL.to_vec());
        assert_eq!(
            args.selected_runtimes(),
            vec!["magpie", "tokio", "smol", "asyncio"]
        );
        assert_eq!(args.out, PathBuf::from("target/bench-results"));
        assert!(args.run.is_none());
        assert!(args.worker_count() >= 1);
        CompareArgs::command().debug_assert();
    }

    #[test]
    fn filters_and_scale() {
        let args = parse(&[
            "--workloads",
            "spawn_many,lateness",
            "--runtimes",
            "tokio,magpie,tokio",
            "--scale",
            "0.01",
            "--rounds",
            "1",
        ])
        .unwrap();
        assert_eq!(
            args.selected_workloads(),
            vec![Workload::SpawnMany, Workload::Lateness]
        );
        assert_eq!(args.selected_runtimes(), vec!["tokio", "magpie"]);
        assert_eq!((args.scale, args.rounds), (0.01, 1));
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            &["--scale", "0"][..],
            &["--scale", "-1"],
            &["--scale", "x"],
            &["--rounds", "0"],
            &["--workloads", "bogus"],
            &["--runtimes", "go"],
            &["--fanout-latency", "-5ms"],
            &["--fanout-limit", "0"],
            &["--run-timeout", "10"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn worker_mode_is_hidden() {
        let args = parse(&["--run", "smol", "--workloads", "yield-many"]).unwrap();
        assert_eq!(args.run.as_deref(), Some("smol"));
        let help = CompareArgs::command().render_long_help().to_string();
        assert!(!help.contains("--run "), "{help}");
        assert!(help.contains("--rounds") && help.contains("--scale"));
    }
}
