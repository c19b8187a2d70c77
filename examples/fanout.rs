//! The main job: a million simulated network fetches fanned out on magpie and gathered.
//!
//! `cargo run --release --example fanout -- --help` explains the options. With none it runs
//! 1,000,000 fetches that each wait a simulated 1 s latency, checksum a 1 KiB response, and are all
//! gathered; it prints wall time against the ideal time, fetches per second, how late fetches resumed
//! (p50/p99/p99.9/max), peak memory and a few runtime counters. The logic lives in
//! `magpie_examples::fanout` so the smoke test can call it.

use std::process::ExitCode;

use magpie_examples::fanout::cli::{parse_or_exit_code, FanoutArgs};
use magpie_examples::fanout::job::{run, FanoutConfig};

fn main() -> ExitCode {
    let args = match parse_or_exit_code::<FanoutArgs>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    let config = FanoutConfig {
        fetches: args.fetches,
        latency: args.latency,
        limit: args.limit,
        workers: args.workers,
        seed: args.seed,
        progress: !args.quiet,
    };
    let report = match run(&config) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{report}");
    if let Some(path) = &args.json {
        if let Err(error) = std::fs::write(path, report.to_json() + "\n") {
            eprintln!("error: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
