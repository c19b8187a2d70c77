//! Worker mode: run one workload on one Rust runtime in this process and describe the run.
//!
//! The comparison re-executes its own binary with `--run RUNTIME` for each measurement, so each run's
//! peak resident set is its own and no runtime inherits another's warmed-up heap.

use magpie_examples::fanout::rusage::{current_rss_kib, peak_rss_kib};
use magpie_examples::fanout::stats::{cdf_points, LatenessSummary};

use crate::jobs::{expected_ops, run_job, JobParams};
use crate::outcome::RunOutcome;
use crate::runtimes::magpie::MagpieRuntime;
use crate::runtimes::smol::SmolRuntime;
use crate::runtimes::tokio::TokioRuntime;
use crate::spawner::BenchRuntime;
use crate::workload::Workload;

/// Points kept of each lateness CDF.
pub const CDF_POINTS: usize = 200;

/// Runs `workload` on the Rust runtime named `runtime` with `workers` threads.
pub fn run_in_process(
    runtime: &str,
    workload: Workload,
    params: &JobParams,
    scale: f64,
    workers: usize,
) -> Result<RunOutcome, String> {
    match runtime {
        "magpie" => measure::<MagpieRuntime>(workload, params, scale, workers),
        "tokio" => measure::<TokioRuntime>(workload, params, scale, workers),
        "smol" => measure::<SmolRuntime>(workload, params, scale, workers),
        other => Err(format!(
            "'{other}' is not a Rust runtime this binary can run"
        )),
    }
}

fn measure<R: BenchRuntime>(
    workload: Workload,
    params: &JobParams,
    scale: f64,
    workers: usize,
) -> Result<RunOutcome, String> {
    let runtime = R::build(workers).map_err(|e| format!("cannot build {}: {e}", R::NAME))?;
    let (wall, output) = run_job(&runtime, workload, params);
    let rss_after_kib = current_rss_kib();
    let counters = runtime
        .counters()
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    drop(runtime);
    let (lateness, lateness_cdf) = match output.lateness {
        Some(mut samples) => {
            let summary = LatenessSummary::from_samples(&mut samples.micros, samples.early);
            (Some(summary), cdf_points(&samples.micros, CDF_POINTS))
        }
        None => (None, Vec::new()),
    };
    Ok(RunOutcome {
        runtime: R::NAME.to_string(),
        workload: workload.name().to_string(),
        scale,
        workers,
        wall_s: wall.as_secs_f64(),
        peak_rss_kib: peak_rss_kib(),
        rss_after_kib,
        ops: output.ops,
        expected_ops: expected_ops(workload, params),
        lateness,
        lateness_cdf,
        counters,
    })
}
