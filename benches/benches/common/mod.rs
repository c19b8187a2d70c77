//! Shared criterion driver: one group per workload, one function per runtime.
//!
//! Each runtime is built once, outside the timing loop, with one worker per core; every iteration
//! runs the workload as a task inside the runtime (its spawns come from a worker thread) and checks
//! that all of its operations completed.

use std::future::Future;

use criterion::Criterion;
use magpie_benches::jobs::JobOutput;
use magpie_benches::runtimes::magpie::MagpieRuntime;
use magpie_benches::runtimes::smol::SmolRuntime;
use magpie_benches::runtimes::tokio::TokioRuntime;
use magpie_benches::spawner::{BenchRuntime, Spawner};

/// A workload that can run on any runtime.
pub trait Job: Copy {
    /// Operations a complete run does.
    fn expected_ops(self) -> u64;
    /// The workload as a future on spawner `S`.
    fn run<S: Spawner>(self, spawner: S) -> impl Future<Output = JobOutput> + Send + 'static;
}

fn bench_one<R: BenchRuntime, J: Job>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    job: J,
) {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = R::build(workers).unwrap_or_else(|e| panic!("cannot build {}: {e}", R::NAME));
    c.bench_function(R::NAME, |b| {
        b.iter(|| {
            let output = runtime.run_inside(|spawner| job.run(spawner));
            assert_eq!(output.ops, job.expected_ops(), "{} skipped work", R::NAME);
        })
    });
}

/// Benchmarks `job` on magpie, tokio and smol in one criterion group named `name`.
pub fn compare_runtimes<J: Job>(c: &mut Criterion, name: &str, job: J) {
    let mut group = c.benchmark_group(name);
    bench_one::<MagpieRuntime, J>(&mut group, job);
    bench_one::<TokioRuntime, J>(&mut group, job);
    bench_one::<SmolRuntime, J>(&mut group, job);
    group.finish();
}
