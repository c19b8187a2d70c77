//! spawn_many: 10,000 no-op spawns from inside the runtime, then all joined (criterion uses 10,000
//! rather than the comparison's 1,000,000 so each sample stays short; same size as tokio's benchmark).

mod common;

use std::future::Future;

use criterion::{criterion_group, criterion_main, Criterion};
use magpie_benches::jobs::{spawn_many, JobOutput};
use magpie_benches::spawner::Spawner;

const TASKS: u64 = 10_000;

#[derive(Clone, Copy)]
struct SpawnMany;

impl common::Job for SpawnMany {
    fn expected_ops(self) -> u64 {
        TASKS
    }

    fn run<S: Spawner>(self, spawner: S) -> impl Future<Output = JobOutput> + Send + 'static {
        spawn_many(spawner, TASKS)
    }
}

fn bench(c: &mut Criterion) {
    common::compare_runtimes(c, "spawn_many", SpawnMany);
}

criterion_group!(benches, bench);
criterion_main!(benches);
