//! ping_pong: 1,000 pairs each exchanging one message each way through `futures::channel::oneshot`
//! (one round; the comparison runs 100).

mod common;

use std::future::Future;

use criterion::{criterion_group, criterion_main, Criterion};
use magpie_benches::jobs::{ping_pong, JobOutput};
use magpie_benches::spawner::Spawner;

const PAIRS: u64 = 1_000;

#[derive(Clone, Copy)]
struct PingPong;

impl common::Job for PingPong {
    fn expected_ops(self) -> u64 {
        2 * PAIRS
    }

    fn run<S: Spawner>(self, spawner: S) -> impl Future<Output = JobOutput> + Send + 'static {
        ping_pong(spawner, 1, PAIRS)
    }
}

fn bench(c: &mut Criterion) {
    common::compare_runtimes(c, "ping_pong", PingPong);
}

criterion_group!(benches, bench);
criterion_main!(benches);
