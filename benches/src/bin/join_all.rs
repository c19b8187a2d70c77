//! `join_all` over many pending handles: the figure behind the join-waker slot's design
//! (`executor/src/task/join_waker.rs`). Each of N tasks sleeps, and one task gathers all the
//! handles with `futures::future::join_all`, whose large form polls every handle with a waker of
//! its own, so every handle stores a waker that is not a magpie task's.
//!
//! ```sh
//! cargo run --release -p magpie-benches --bin join_all -- [TASKS] [SLEEP_MS]   # 1000000 300
//! ```
//!
//! Prints one line: wall time of the gather (spawns included) and the process's peak resident set.
//! It uses only magpie's public API, so the same file builds against older commits for an A/B.

use std::time::{Duration, Instant};

use magpie_examples::fanout::rusage::peak_rss_kib;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut number = |default: u64| match args.next() {
        Some(arg) => arg.parse::<u64>().unwrap_or_else(|_| {
            eprintln!("join_all: expected a whole number, got {arg:?}");
            std::process::exit(2)
        }),
        None => default,
    };
    let tasks = number(1_000_000);
    let sleep = Duration::from_millis(number(300));

    let runtime = magpie::runtime::Runtime::new().expect("runtime");
    let gather = runtime.spawn(async move {
        let started = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                magpie::spawn(async move {
                    magpie::time::sleep(sleep).await;
                    i
                })
            })
            .collect();
        let sum: u64 = futures::future::join_all(handles)
            .await
            .into_iter()
            .map(|output| output.expect("task failed"))
            .sum();
        assert_eq!(
            sum,
            tasks * tasks.saturating_sub(1) / 2,
            "every output gathered"
        );
        started.elapsed()
    });
    let wall = runtime.block_on(gather).expect("gather failed");
    println!(
        "join_all: {tasks} tasks x {sleep:?}: {:.3} s, peak {:.1} MiB",
        wall.as_secs_f64(),
        peak_rss_kib() as f64 / 1024.0
    );
}
