//! yield_many: 200 tasks x 1,000 `yield_now` each (criterion uses 1,000 yields per task, the
//! comparison 10,000).

mod common;

use std::future::Future;

use criterion::{criterion_group, criterion_main, Criterion};
use magpie_benches::jobs::{yield_many, JobOutput};
use magpie_benches::spawner::Spawner;

const TASKS: u64 = 200;
const YIELDS: u64 = 1_000;

#[derive(Clone, Copy)]
struct YieldMany;

impl common::Job for YieldMany {
    fn expected_ops(self) -> u64 {
        TASKS * YIELDS
    }

    fn run<S: Spawner>(self, spawner: S) -> impl Future<Output = JobOutput> + Send + 'static {
        yield_many(spawner, TASKS, YIELDS)
    }
}

fn bench(c: &mut Criterion) {
    common::compare_runtimes(c, "yield_many", YieldMany);
}

criterion_group!(benches, bench);
criterion_main!(benches);
