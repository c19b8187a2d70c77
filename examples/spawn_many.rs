//! spawn_many: the cost of spawning, with magpie's `tracing` instrumentation compiled in or out.
//!
//! Each iteration spawns `--tasks` no-op tasks from inside a task (so they take the worker's local
//! queue, the hot path), then joins them all; the program prints the median time per iteration and
//! per task, in wall-clock time and in CPU time of the whole process (on a shared, loaded machine
//! the CPU time is the steadier of the two: time spent waiting for a core is not in it).
//!
//! Built with default features, the spawn, poll and completion callsites are compiled in; with no
//! subscriber installed each of them checks tracing's global level (one relaxed load) and skips
//! the rest, though the poll span is still built, entered and dropped as a disabled span. Built
//! with `--no-default-features` they are gone. Comparing the two builds, in alternating runs, gives
//! the "tracing overhead" section of `docs/benchmarks.md`:
//!
//! ```text
//! cargo build --release -p magpie-examples --example spawn_many
//! cp target/release/examples/spawn_many /tmp/spawn_many_on
//! cargo build --release -p magpie-examples --example spawn_many --no-default-features
//! cp target/release/examples/spawn_many /tmp/spawn_many_off
//! for round in 1 2 3 4 5 6; do /tmp/spawn_many_on; /tmp/spawn_many_off; done
//! ```
//!
//! Options: `--tasks N` (default 100000), `--iterations N` (default 30), `--workers N` (default: one
//! per core).

use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Options {
    tasks: u64,
    iterations: usize,
    workers: Option<usize>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        tasks: 100_000,
        iterations: 30,
        workers: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = |what: &str| -> Result<u64, String> {
            match value.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{what} must be a positive integer, got {value:?}")),
            }
        };
        match flag.as_str() {
            "--tasks" => options.tasks = number("--tasks")?,
            "--iterations" => options.iterations = number("--iterations")? as usize,
            "--workers" => options.workers = Some(number("--workers")? as usize),
            _ => return Err(format!("unknown option {flag:?}")),
        }
    }
    Ok(options)
}

/// One iteration: spawn `tasks` no-op tasks from a task, join them all.
async fn spawn_many(tasks: u64) -> u64 {
    let handles: Vec<_> = (0..tasks).map(|_| magpie::spawn(async {})).collect();
    let mut joined = 0;
    for handle in handles {
        handle.await.expect("a no-op task cannot fail");
        joined += 1;
    }
    joined
}

/// CPU time used so far by every thread of this process.
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux and macOS know.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("spawn_many: {message}");
            eprintln!("usage: spawn_many [--tasks N] [--iterations N] [--workers N]");
            return ExitCode::from(2);
        }
    };
    let mut builder = magpie::runtime::Builder::new();
    if let Some(workers) = options.workers {
        builder = builder.worker_threads(workers);
    }
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("spawn_many: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let tasks = options.tasks;
    // One warm-up iteration: thread start-up, first allocations.
    runtime.block_on(runtime.spawn(spawn_many(tasks))).unwrap();
    let (mut wall, mut cpu): (Vec<Duration>, Vec<Duration>) = (0..options.iterations)
        .map(|_| {
            let (start, start_cpu) = (Instant::now(), process_cpu_time());
            let joined = runtime.block_on(runtime.spawn(spawn_many(tasks))).unwrap();
            let (elapsed, cpu) = (start.elapsed(), process_cpu_time() - start_cpu);
            assert_eq!(joined, tasks);
            (elapsed, cpu)
        })
        .unzip();
    let workers = runtime.handle().metrics().workers;
    let best = *wall.iter().min().unwrap();
    let median_cpu = median(&mut cpu);
    let median = median(&mut wall);
    println!(
        "spawn_many tracing={} workers={workers} tasks={tasks} iterations={} median_ms={:.3} \
         median_ns_per_task={:.1} best_ms={:.3} median_cpu_ns_per_task={:.1}",
        if cfg!(feature = "tracing") {
            "on"
        } else {
            "off"
        },
        options.iterations,
        median.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e9 / tasks as f64,
        best.as_secs_f64() * 1e3,
        median_cpu.as_secs_f64() * 1e9 / tasks as f64,
    );
    ExitCode::SUCCESS
}
