//! The pool of threads for `spawn_blocking`.
//!
//! Blocking closures run as ordinary tasks whose future calls the closure on its first poll; their
//! `Notified` goes to this pool's queue instead of the workers'. The pool starts a thread when work
//! arrives and no thread is idle, up to `max_threads`; beyond that, work waits in the queue. An idle
//! thread exits after `keep_alive` with nothing to do. One mutex guards the queue and the counts:
//! every job here is expected to block for far longer than the lock is held.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use magpie_scheduler::Runnable;

use super::{context, Handle};
use crate::task::raw::{self, Notified};

thread_local! {
    /// The pool this thread belongs to, if it is a blocking thread (compared by address only).
    static OWN_POOL: std::cell::Cell<*const BlockingPool> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// The future of a `spawn_blocking` task: runs the closure once, when first polled.
pub(crate) struct BlockingTask<F>(Option<F>);

impl<F> BlockingTask<F> {
    pub(crate) fn new(f: F) -> BlockingTask<F> {
        BlockingTask(Some(f))
    }
}

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("a blocking task is polled once: it never returns Pending");
        Poll::Ready(f())
    }
}

pub(crate) struct BlockingPool {
    state: Mutex<PoolState>,
    /// Signalled when work arrives or at shutdown (for idle threads).
    work: Condvar,
    /// Signalled when a thread exits (for shutdown waiting on them).
    exited: Condvar,
    max_threads: usize,
    /// A copy of `PoolState::threads`, written under the lock, read without it (for metrics).
    threads_alive: AtomicUsize,
    keep_alive: Duration,
    thread_name: String,
    stack_size: Option<usize>,
}

struct PoolState {
    queue: VecDeque<Notified>,
    threads: usize,
    idle: usize,
    /// Wake-ups sent to idle threads and not yet consumed (so one job wakes one thread).
    notified: usize,
    shutdown: bool,
    spawned_total: u64,
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        thread_name: String,
        stack_size: Option<usize>,
    ) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                notified: 0,
                shutdown: false,
                spawned_total: 0,
            }),
            work: Condvar::new(),
            exited: Condvar::new(),
            max_threads,
            threads_alive: AtomicUsize::new(0),
            keep_alive,
            thread_name,
            stack_size,
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // No user code runs under this lock, so a poisoned lock still guards consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a blocking task, starting a thread for it if none is idle. After shutdown the task is
    /// dropped, which cancels it.
    pub(crate) fn spawn(&self, task: Notified, handle: &Handle) {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            drop(task);
            return;
        }
        state.queue.push_back(task);
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            self.work.notify_one();
        } else if state.threads < self.max_threads {
            state.threads += 1;
            self.threads_alive.store(state.threads, Ordering::Relaxed);
            state.spawned_total += 1;
            let id = state.spawned_total;
            drop(state);
            if let Err(err) = self.start_thread(id, handle.clone()) {
                // The job stays queued for a running thread; with none, it waits for shutdown.
                let mut state = self.lock();
                state.threads -= 1;
                self.threads_alive.store(state.threads, Ordering::Relaxed);
                drop(state);
                self.exited.notify_all();
                #[cfg(feature = "tracing")]
                tracing::warn!(error = %err, "magpie: could not start a blocking thread");
                #[cfg(not(feature = "tracing"))]
                let _ = err;
            }
        }
    }

    fn start_thread(&self, id: u64, handle: Handle) -> io::Result<()> {
        let mut builder = std::thread::Builder::new().name(format!("{}-{id}", self.thread_name));
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        builder.spawn(move || {
            let _current = context::set_current(&handle);
            OWN_POOL.with(|own| own.set(&handle.shared.blocking as *const BlockingPool));
            handle.shared.blocking.thread_loop();
        })?;
        Ok(())
    }

    fn thread_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(task) = state.queue.pop_front() {
                drop(state);
                // `run` contains the task's panics; this also contains any escaping from a panic
                // payload's `Drop`, so the thread always reaches the bookkeeping below.
                raw::contain(|| task.run());
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            // Saturate: `Duration::MAX` would overflow `Instant` (30 years is "forever").
            let deadline =
                Instant::now() + self.keep_alive.min(Duration::from_secs(86_400 * 365 * 30));
            let mut timed_out = false;
            while state.notified == 0 && !state.shutdown {
                let now = Instant::now();
                if now >= deadline {
                    timed_out = true;
                    break;
                }
                state = self
                    .work
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            state.idle -= 1;
            if state.notified > 0 {
                state.notified -= 1;
            } else if timed_out && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        self.threads_alive.store(state.threads, Ordering::Relaxed);
        drop(state);
        self.exited.notify_all();
    }

    /// Stops the pool: queued jobs that have not started are dropped; waits for running ones to
    /// finish, at most `timeout` (when given), then leaves them running detached.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        let mut state = self.lock();
        state.shutdown = true;
        let queued = std::mem::take(&mut state.queue);
        self.work.notify_all();
        drop(state);
        drop(queued);

        // A runtime dropped on one of its own blocking threads must not wait for that thread.
        let own = OWN_POOL.with(|own| std::ptr::eq(own.get(), self)) as usize;
        let mut state = self.lock();
        while state.threads > own {
            state = match deadline {
                // No timeout, or one too large to add to now: wait as long as it takes.
                None => self.exited.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    self.exited
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }

    /// Threads alive now.
    /// Threads alive now, read without taking the pool's lock (metrics never block anyone).
    pub(crate) fn threads(&self) -> usize {
        // Relaxed: a gauge for metrics; it pairs with nothing.
        self.threads_alive.load(Ordering::Relaxed)
    }
}
