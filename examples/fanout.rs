//! The main job: a million simulated network fetches fanned out on magpie and gathered.
//!
//! `cargo run --release --example fanout -- --help` explains the options. With none it runs
//! 1,000,000 fetches that each wait a simulated 1 s latency, checksum a 1 KiB response, and are all
//! gathered; it prints wall time against the ideal time, fetches per second, how late fetches resumed
//! (p50/p99/p99.9/max), peak memory and a few runtime counters. The logic lives in
//! `magpie_examples::fanout` so the smoke test can call it.

use std::process::ExitCode;

use clap::Parser;
use magpie_examples::fanout::cli::{one_line_error, FanoutArgs};
use magpie_examples::fanout::job::{run, FanoutConfig};

fn main() -> ExitCode {
    let args = match FanoutArgs::try_parse() {
        Ok(args) => args,
        Err(error) if !error.use_stderr() => {
            // --help and --version: clap prints them and they are not failures.
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{}", one_line_error(&error));
            return ExitCode::from(2);
        }
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
