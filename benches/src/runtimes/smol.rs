//! smol as a benchmark runtime: one `async-executor` shared by one thread per worker, `async-io` timers.
//!
//! Every worker thread runs `async_io::block_on(executor.run(stop))`, which both runs tasks and drives
//! the `async-io` reactor (its timers) when that thread is idle: the way smol's documentation scales an
//! executor to many threads. Dropping the runtime completes every `stop` future and joins the threads.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_executor::{Executor, Task};
use futures::channel::oneshot;
use futures::FutureExt as _;
use futures_lite::FutureExt;

use crate::spawner::{BenchRuntime, Spawner};

/// A multi-threaded smol executor.
pub struct SmolRuntime {
    executor: Arc<Executor<'static>>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

/// Spawns onto the shared executor.
#[derive(Clone, Debug)]
pub struct SmolSpawner {
    executor: Arc<Executor<'static>>,
}

impl Spawner for SmolSpawner {
    type Join<T: Send + 'static> = Task<T>;

    fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    fn detach<T: Send + 'static>(task: Task<T>) {
        // Dropping an async-executor task cancels it; detaching lets it run to completion.
        task.detach();
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        async_io::Timer::after(duration).map(drop)
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send + 'static {
        async_io::Timer::at(deadline).map(drop)
    }

    fn timeout<F>(duration: Duration, future: F) -> impl Future<Output = Option<F::Output>> + Send
    where
        F: Future + Send,
    {
        // `or` polls the wrapped future first, like tokio's and magpie's timeouts.
        async move { Some(future.await) }.or(async move {
            async_io::Timer::after(duration).await;
            None
        })
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}

impl BenchRuntime for SmolRuntime {
    type Spawner = SmolSpawner;
    const NAME: &'static str = "smol";

    fn build(workers: usize) -> io::Result<Self> {
        let executor = Arc::new(Executor::new());
        let mut stops = Vec::with_capacity(workers);
        let mut threads = Vec::with_capacity(workers);
        for index in 0..workers {
            let (stop, stopped) = oneshot::channel::<()>();
            let executor = Arc::clone(&executor);
            let thread = std::thread::Builder::new()
                .name(format!("smol-worker-{index}"))
                .spawn(move || {
                    let _ = async_io::block_on(executor.run(stopped));
                })?;
            stops.push(stop);
            threads.push(thread);
        }
        Ok(Self {
            executor,
            stops,
            threads,
        })
    }

    fn spawner(&self) -> SmolSpawner {
        SmolSpawner {
            executor: Arc::clone(&self.executor),
        }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        async_io::block_on(future)
    }
}

impl Drop for SmolRuntime {
    fn drop(&mut self) {
        // Dropping the senders completes each thread's `stop` future, ending its `run`.
        self.stops.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
