//! tokio's multi-thread runtime as a benchmark runtime.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use futures::FutureExt;

use crate::spawner::{BenchRuntime, Spawner, Unwrapped};

/// A tokio multi-thread runtime with timers enabled.
pub struct TokioRuntime {
    runtime: tokio::runtime::Runtime,
}

/// Spawns with `tokio::spawn` (the calling task's runtime).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSpawner;

impl Spawner for TokioSpawner {
    type Join<T: Send + 'static> = Unwrapped<tokio::task::JoinHandle<T>>;

    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrapped(tokio::spawn(future))
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep(duration)
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep_until(deadline.into())
    }

    fn timeout<F>(duration: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
    {
        tokio::time::timeout(duration, future).map(Result::ok)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

impl BenchRuntime for TokioRuntime {
    type Spawner = TokioSpawner;
    const NAME: &'static str = "tokio";

    fn build(workers: usize) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_time()
            .build()?;
        Ok(Self { runtime })
    }

    fn spawner(&self) -> TokioSpawner {
        TokioSpawner
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn run_inside<F, Fut>(&self, job: F) -> Fut::Output
    where
        F: FnOnce(TokioSpawner) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        // `tokio::spawn` needs the runtime context, which `block_on` provides.
        self.runtime
            .block_on(async move { TokioSpawner.spawn(job(TokioSpawner)).await })
    }
}
