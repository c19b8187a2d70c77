//! The parent side of the comparison: schedule the runs, start one process per run, collect results.
//!
//! Order: for each workload, `rounds` rounds; within a round every runtime runs once, and the order
//! reverses every other round (A B C D, D C B A, ...), so slow drift of a shared machine (thermal,
//! other jobs) lands on every runtime alike. Rust runs re-execute this binary with `--run`; asyncio
//! runs execute `asyncio_bench.py`. A run that fails, hangs past `--run-timeout` or is unavailable is
//! recorded with its reason and never given numbers.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::CompareArgs;
use crate::outcome::RunOutcome;
use crate::summary::RunRecord;
use crate::workload::Workload;

/// The asyncio script, beside this package's manifest.
pub const ASYNCIO_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/asyncio_bench.py");

/// The order runtimes run in, in round `round`.
pub fn round_order(runtimes: &[String], round: usize) -> Vec<String> {
    let mut order = runtimes.to_vec();
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

/// Whether `python` runs; `Err` says why not.
pub fn python_available(python: &str) -> Result<String, String> {
    match Command::new(python)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(if out.stdout.is_empty() {
            &out.stderr
        } else {
            &out.stdout
        })
        .trim()
        .to_string()),
        Ok(out) => Err(format!("{python} --version failed with {}", out.status)),
        Err(error) => Err(format!("{python} is not available ({error})")),
    }
}

/// The arguments shared by Rust and Python workers.
fn common_args(args: &CompareArgs, workload: Workload) -> Vec<String> {
    let latency = args.job_params().latency_for(workload);
    let mut common = vec![
        "--workloads".to_string(),
        workload.name().to_string(),
        "--scale".to_string(),
        args.scale.to_string(),
        "--seed".to_string(),
        args.seed.to_string(),
        "--fanout-latency".to_string(),
        latency.to_string(),
    ];
    if let Some(limit) = args.fanout_limit {
        common.extend(["--fanout-limit".to_string(), limit.to_string()]);
    }
    common
}

/// The command that runs `workload` on `runtime` in a fresh process.
pub fn worker_command(
    args: &CompareArgs,
    runtime: &str,
    workload: Workload,
) -> Result<Command, String> {
    let mut command = if runtime == "asyncio" {
        let mut command = Command::new(&args.python);
        command.arg(ASYNCIO_SCRIPT);
        command
    } else {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let mut command = Command::new(exe);
        command.args([
            "--run",
            runtime,
            "--workers",
            &args.worker_count().to_string(),
        ]);
        command
    };
    command.args(common_args(args, workload));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(command)
}

/// Runs one worker process to completion (or the timeout) and parses its result line.
pub fn run_worker(mut command: Command, timeout: Duration) -> Result<RunOutcome, String> {
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start the worker: {e}"))?;
    // Drain both pipes on threads so a chatty worker cannot block on a full pipe.
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(error) => return Err(format!("cannot wait for the worker: {error}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("worker failed ({status}): {}", last.trim()));
    }
    RunOutcome::from_worker_output(&stdout)
}

/// Runs every (workload, round, runtime) and returns the records, reporting progress on stderr.
pub fn run_all(args: &CompareArgs) -> Vec<RunRecord> {
    let workloads = args.selected_workloads();
    let runtimes = args.selected_runtimes();
    let python = if runtimes.iter().any(|r| r == "asyncio") {
        Some(python_available(&args.python))
    } else {
        None
    };
    if let Some(Err(reason)) = &python {
        eprintln!("asyncio will be reported as not run: {reason}");
    }
    let total = workloads.len() * args.rounds * runtimes.len();
    let mut records = Vec::with_capacity(total);
    for workload in workloads {
        for round in 0..args.rounds {
            for runtime in round_order(&runtimes, round) {
                let result = match (&python, runtime.as_str()) {
                    (Some(Err(reason)), "asyncio") => Err(reason.clone()),
                    _ => worker_command(args, &runtime, workload)
                        .and_then(|c| run_worker(c, args.run_timeout)),
                };
                match &result {
                    Ok(o) => eprintln!(
                        "[{}/{total}] {workload} {runtime} round {}: {:.3} s, {:.1} MiB",
                        records.len() + 1,
                        round + 1,
                        o.wall_s,
                        o.peak_rss_kib as f64 / 1024.0
                    ),
                    Err(reason) => {
                        eprintln!(
                            "[{}/{total}] {workload} {runtime} round {}: not measured: {reason}",
                            records.len() + 1,
                            round + 1
                        )
                    }
                }
                records.push(RunRecord {
                    round,
                    runtime,
                    workload: workload.name().to_string(),
                    result,
                });
            }
        }
    }
    records
}

/// Whether `path` looks like the asyncio script (used by tests and the docs).
pub fn asyncio_script_exists() -> bool {
    Path::new(ASYNCIO_SCRIPT).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_direction() {
        let rts: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(round_order(&rts, 0), vec!["a", "b", "c"]);
        assert_eq!(round_order(&rts, 1), vec!["c", "b", "a"]);
        assert_eq!(round_order(&rts, 2), vec!["a", "b", "c"]);
    }

    #[test]
    fn missing_python_is_an_error_not_a_number() {
        assert!(python_available("/nonexistent/python3").is_err());
        assert!(asyncio_script_exists());
    }

    #[test]
    fn a_worker_that_prints_nothing_or_fails_is_not_measured() {
        let mut silent = Command::new("true");
        silent.stdout(Stdio::piped()).stderr(Stdio::piped());
        assert!(run_worker(silent, Duration::from_secs(10)).is_err());
        let mut failing = Command::new("sh");
        failing
            .args(["-c", "echo boom >&2; exit 3"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let error = run_worker(failing, Duration::from_secs(10)).unwrap_err();
        assert!(error.contains("boom"), "{error}");
        let mut hanging = Command::new("sleep");
        hanging
            .arg("30")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        assert!(run_worker(hanging, Duration::from_millis(100))
            .unwrap_err()
            .contains("timed out"));
    }
}
