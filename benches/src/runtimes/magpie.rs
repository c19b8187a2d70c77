//! magpie as a benchmark runtime.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use futures::FutureExt;

use crate::spawner::{BenchRuntime, Spawner, Unwrapped};

/// A magpie runtime.
pub struct MagpieRuntime {
    runtime: magpie::runtime::Runtime,
}

/// Spawns with `magpie::spawn` (the calling task's runtime).
#[derive(Clone, Copy, Debug, Default)]
pub struct MagpieSpawner;

impl Spawner for MagpieSpawner {
    type Join<T: Send + 'static> = Unwrapped<magpie::task::JoinHandle<T>>;

    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrapped(magpie::spawn(future))
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        magpie::time::sleep(duration)
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        magpie::time::sleep_until(deadline)
    }

    fn timeout<F>(duration: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
    {
        magpie::time::timeout(duration, future).map(Result::ok)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        magpie::task::yield_now()
    }
}

impl BenchRuntime for MagpieRuntime {
    type Spawner = MagpieSpawner;
    const NAME: &'static str = "magpie";

    fn build(workers: usize) -> io::Result<Self> {
        let runtime = magpie::runtime::Builder::new()
            .worker_threads(workers)
            .build()?;
        Ok(Self { runtime })
    }

    fn spawner(&self) -> MagpieSpawner {
        MagpieSpawner
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let m = self.runtime.handle().metrics();
        vec![
            ("steals", m.steals),
            ("stolen_tasks", m.stolen_tasks),
            ("parks", m.parks),
            ("unparks", m.unparks),
            ("polls", m.polls),
            ("timers_fired", m.timers_fired),
            ("tasks_spawned", m.tasks_spawned),
        ]
    }

    fn run_inside<F, Fut>(&self, job: F) -> Fut::Output
    where
        F: FnOnce(MagpieSpawner) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let task = self.runtime.spawn(job(MagpieSpawner));
        self.runtime
            .block_on(task)
            .unwrap_or_else(|error| panic!("benchmark driver failed: {error}"))
    }
}
