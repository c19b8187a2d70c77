//! `compare`: magpie against tokio, smol and asyncio, one process per run.
//!
//! `cargo run --release -p magpie-benches --bin compare -- --help` lists the options; docs/benchmarks.md
//! describes the method. Results go to `--out` (results.json, summary.md, ratios.svg,
//! lateness_cdf.svg) and the summary table is printed.

use std::process::ExitCode;

use magpie_benches::cli::CompareArgs;
use magpie_benches::driver::{python_available, run_all};
use magpie_benches::jobs::ideal_time;
use magpie_benches::plot::{draw_lateness_cdf, draw_ratios};
use magpie_benches::summary::{markdown_table, summarize, BASELINE};
use magpie_benches::worker::run_in_process;
use magpie_benches::workload::Workload;
use magpie_examples::fanout::cli::parse_or_exit_code;

fn main() -> ExitCode {
    let args = match parse_or_exit_code::<CompareArgs>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    let result = match &args.run {
        Some(runtime) => worker_mode(&args, runtime),
        None => compare(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one workload in this process and prints its JSON line.
fn worker_mode(args: &CompareArgs, runtime: &str) -> Result<(), String> {
    let [workload] = args.workloads[..] else {
        return Err("--run needs exactly one --workloads entry".into());
    };
    let params = args.job_params();
    let outcome = run_in_process(runtime, workload, &params, args.scale, args.worker_count())?;
    println!("{}", outcome.to_json_line());
    Ok(())
}

/// The CPU model from /proc/cpuinfo.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Runs the whole comparison and writes its outputs.
fn compare(args: &CompareArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let workloads: Vec<String> = args
        .selected_workloads()
        .iter()
        .map(|w| w.name().to_string())
        .collect();
    let runtimes = args.selected_runtimes();
    let started = std::time::SystemTime::now();
    let records = run_all(args);
    let mut summaries = summarize(&records, &workloads, &runtimes);
    for (summary, workload) in summaries.iter_mut().zip(args.selected_workloads()) {
        if let Some(ideal) = ideal_time(workload, &args.job_params()) {
            summary.set_ideal(ideal.as_secs_f64());
        }
    }
    let table = markdown_table(&summaries);
    let machine = serde_json::json!({
        "cpu": cpu_model(),
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "python": python_available(&args.python).unwrap_or_else(|e| e),
    });
    let results = serde_json::json!({
        "started_unix_s": started.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "machine": machine,
        "config": {
            "rounds": args.rounds,
            "scale": args.scale,
            "workers": args.worker_count(),
            "seed": args.seed,
            "fanout_latency": args.fanout_latency.to_string(),
            "fanout_limit": args.fanout_limit,
            "workloads": workloads,
            "runtimes": runtimes,
        },
        "summary": summaries,
        "runs": records,
    });
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    let results_path = args.out.join("results.json");
    std::fs::write(&results_path, json)
        .map_err(|e| format!("cannot write {}: {e}", results_path.display()))?;
    let header = format!(
        "Machine: {} ({} cores), {} worker threads per Rust runtime; scale {}, {} rounds, fan-out latency {}{}.\n\n",
        machine["cpu"].as_str().unwrap_or("unknown"),
        machine["cores"],
        args.worker_count(),
        args.scale,
        args.rounds,
        args.fanout_latency,
        args.fanout_limit.map(|k| format!(", limit {k}")).unwrap_or_default(),
    );
    std::fs::write(args.out.join("summary.md"), format!("{header}{table}"))
        .map_err(|e| e.to_string())?;
    let peers: Vec<String> = runtimes
        .iter()
        .filter(|r| *r != BASELINE)
        .cloned()
        .collect();
    if runtimes.iter().any(|r| r == BASELINE) && !peers.is_empty() {
        draw_ratios(&summaries, &peers, &args.out.join("ratios.svg"))?;
    }
    let timer_summary = [
        Workload::Lateness,
        Workload::FanoutLognormal,
        Workload::Fanout,
    ]
    .iter()
    .find_map(|w| {
        summaries
            .iter()
            .find(|s| s.workload == w.name() && s.cells.iter().any(|c| !c.lateness_cdf.is_empty()))
    });
    if let Some(summary) = timer_summary {
        draw_lateness_cdf(summary, &args.out.join("lateness_cdf.svg"))?;
    }
    println!("{header}{table}");
    println!("results: {}", args.out.display());
    Ok(())
}
