//! The small runtime interface every benchmark workload is written against.
//!
//! Each workload is one generic `async fn` over [`Spawner`], so magpie, tokio and smol run exactly the
//! same code and differ only in the runtime calls behind this trait. Timer and yield functions are
//! associated functions (no `self`), so a task that only sleeps captures nothing runtime-specific; only
//! spawning needs the spawner value (smol's executor handle).

use std::fmt::Display;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Spawning, sleeping, timeouts and yielding on one runtime.
pub trait Spawner: Clone + Send + Sync + 'static {
    /// What `spawn` returns: a future of the task's output (join errors become panics).
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// Spawns `future` as a new task.
    fn spawn<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Lets a task run on without anyone awaiting it (dropping the join handle must not cancel it).
    fn detach<T: Send + 'static>(join: Self::Join<T>) {
        drop(join);
    }

    /// Completes after `duration`.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static;

    /// Completes at `deadline` (never before).
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static;

    /// `Some(output)` if `future` completes within `duration`, `None` otherwise.
    fn timeout<F>(duration: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send;

    /// Yields once to the scheduler.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

/// A join handle whose `Result` output is unwrapped (a join error panics, naming the error).
///
/// The same size as the handle it wraps, as smol's `Task` is: workloads keep a million handles in a
/// `Vec`, and an adapter carrying a function pointer (`FutureExt::map(fn)`) would add 8 bytes a task
/// to the runtimes that need one, i.e. measure the harness rather than the runtime.
#[derive(Debug)]
pub struct Unwrapped<J>(pub J);

impl<J, T, E> Future for Unwrapped<J>
where
    J: Future<Output = Result<T, E>> + Unpin,
    E: Display,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|result| result.unwrap_or_else(|error| panic!("benchmark task failed: {error}")))
    }
}

/// A runtime that can be built with a number of worker threads and block on a future.
pub trait BenchRuntime: Sized {
    /// The runtime's spawner.
    type Spawner: Spawner;

    /// Short name used on the command line and in results (`magpie`, `tokio`, `smol`).
    const NAME: &'static str;

    /// Builds the runtime with `workers` worker threads.
    fn build(workers: usize) -> io::Result<Self>;

    /// A spawner for tasks of this runtime.
    fn spawner(&self) -> Self::Spawner;

    /// Runs `future` to completion on the calling thread, with the runtime's context available.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Runtime counters worth reporting, if the runtime exposes any (name, value).
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// Runs `job` as a task *inside* the runtime (so its spawns come from a worker) and waits for it.
    fn run_inside<F, Fut>(&self, job: F) -> Fut::Output
    where
        F: FnOnce(Self::Spawner) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let spawner = self.spawner();
        let task = spawner.spawn(job(spawner.clone()));
        self.block_on(task)
    }
}
