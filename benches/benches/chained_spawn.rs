//! chained_spawn: one chain of 1,000 tasks, each spawning the next (the comparison runs 200 chains).

mod common;

use std::future::Future;

use criterion::{criterion_group, criterion_main, Criterion};
use magpie_benches::jobs::{chained_spawn, JobOutput};
use magpie_benches::spawner::Spawner;

const LENGTH: u64 = 1_000;

#[derive(Clone, Copy)]
struct ChainedSpawn;

impl common::Job for ChainedSpawn {
    fn expected_ops(self) -> u64 {
        LENGTH
    }

    fn run<S: Spawner>(self, spawner: S) -> impl Future<Output = JobOutput> + Send + 'static {
        chained_spawn(spawner, 1, LENGTH)
    }
}

fn bench(c: &mut Criterion) {
    common::compare_runtimes(c, "chained_spawn", ChainedSpawn);
}

criterion_group!(benches, bench);
criterion_main!(benches);
