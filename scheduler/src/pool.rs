//! `Pool`: starts the worker threads, and stops and joins them on shutdown.
//!
//! Each worker thread marks itself in the [`ExitLatch`] as its very last step (from a drop guard, so
//! also when it unwinds), which lets `shutdown` wait with a timeout (std has no `join` with a timeout):
//! it waits on the latch, joins the threads that marked themselves, and detaches the rest. Queued
//! tasks are dropped after that: the injector and every local queue by the pool (through the
//! stealers), and each worker's "next" slot and remaining local tasks by the worker itself as it exits.

use crate::config::Config;
use crate::idle::{Idle, MAX_WORKERS};
use crate::shared::Shared;
use crate::sync::{thread, Condvar, Mutex, Parker, Worker};
use crate::worker::{run_worker, WorkerStart};
use crate::Runnable;
use std::io;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Source of unique pool ids (0 means "no pool" in the worker thread-local). Only uniqueness matters,
/// so this is a plain `std` counter with Relaxed ordering, outside loom's model.
static NEXT_POOL_ID: StdAtomicUsize = StdAtomicUsize::new(1);

/// Which workers have finished their thread body.
struct ExitLatch {
    /// `exited[i]` is true once worker `i`'s thread is about to return.
    exited: Mutex<Vec<bool>>,
    /// Notified each time a worker exits.
    changed: Condvar,
}

/// Marks a worker as exited when dropped (normal return or unwinding).
struct ExitGuard {
    /// The latch to mark.
    latch: Arc<ExitLatch>,
    /// The worker's index.
    index: usize,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if let Ok(mut exited) = self.latch.exited.lock() {
            exited[self.index] = true;
        }
        self.latch.changed.notify_all();
    }
}

/// The worker threads of one pool. Dropping it shuts the pool down (see [`Pool::shutdown`]).
pub struct Pool<T: Runnable> {
    /// The shared part, also held by the workers.
    shared: Arc<Shared<T>>,
    /// Started threads not yet joined or detached, with their worker index.
    threads: Vec<(usize, thread::JoinHandle<()>)>,
    /// Where the workers report their exit.
    latch: Arc<ExitLatch>,
}

impl<T: Runnable> Pool<T> {
    /// Starts `config.worker_threads` worker threads.
    ///
    /// Returns `InvalidInput` for 0 workers (or more than the counters can hold) and for a thread name
    /// containing a NUL byte. If a thread fails to start, the threads already started are stopped and
    /// joined and the spawn error is returned.
    pub fn start(config: Config) -> io::Result<Pool<T>> {
        let workers = config.worker_threads;
        if workers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "magpie-scheduler: worker_threads must be at least 1",
            ));
        }
        if workers > MAX_WORKERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("magpie-scheduler: worker_threads must be at most {MAX_WORKERS}"),
            ));
        }
        // std panics on a thread name with a NUL byte; check every name before starting anything.
        let names: Vec<String> = (0..workers)
            .map(|index| (config.thread_name)(index))
            .collect();
        if let Some(name) = names.iter().find(|name| name.contains('\0')) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("magpie-scheduler: thread name {name:?} contains a NUL byte"),
            ));
        }
        let locals: Vec<Worker<T>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        let stealers = locals.iter().map(Worker::stealer).collect();
        let parkers: Vec<Parker> = (0..workers).map(|_| Parker::new()).collect();
        let idle = Idle::new(
            parkers
                .iter()
                .map(|parker| parker.unparker().clone())
                .collect(),
        );
        // Relaxed: only uniqueness is needed, which the RMW gives; nothing is published through it.
        let id = NEXT_POOL_ID.fetch_add(1, StdOrdering::Relaxed);
        let shared = Arc::new_cyclic(|weak| Shared::new(weak.clone(), id, stealers, idle));
        let latch = Arc::new(ExitLatch {
            exited: Mutex::new(vec![false; workers]),
            changed: Condvar::new(),
        });
        let mut pool = Pool {
            shared,
            threads: Vec::with_capacity(workers),
            latch,
        };
        let workers_to_start = locals.into_iter().zip(parkers).zip(names).enumerate();
        for (index, ((local, parker), name)) in workers_to_start {
            let mut builder = thread::Builder::new().name(name);
            if let Some(size) = config.stack_size {
                builder = builder.stack_size(size);
            }
            let start = WorkerStart {
                shared: pool.shared.clone(),
                index,
                local,
                parker,
                on_start: config.on_thread_start.clone(),
                on_stop: config.on_thread_stop.clone(),
            };
            let guard_latch = pool.latch.clone();
            let spawned = builder.spawn(move || {
                let _exit = ExitGuard {
                    latch: guard_latch,
                    index,
                };
                run_worker(start);
            });
            match spawned {
                Ok(handle) => pool.threads.push((index, handle)),
                Err(error) => {
                    pool.shutdown(None);
                    return Err(error);
                }
            }
        }
        Ok(pool)
    }

    /// The part shared with the workers and every scheduler of work.
    pub fn shared(&self) -> &Arc<Shared<T>> {
        &self.shared
    }

    /// Stops the workers (each finishes the `run` it is in), joins the threads (waiting at most
    /// `timeout` when `Some`; threads still running then are detached), then drops every queued task
    /// (injector, local queues, next slots). Idempotent. Also called by `Drop` (with no timeout).
    ///
    /// Called from one of this pool's own workers, it does not wait for that worker (which exits
    /// once its current `run` returns).
    pub fn shutdown(&mut self, timeout: Option<Duration>) {
        self.shared.begin_shutdown();
        let me = self.shared.current_worker();
        // A timeout too large for `Instant` saturates to "no deadline".
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        let waited_for: Vec<usize> = self
            .threads
            .iter()
            .map(|&(index, _)| index)
            .filter(|&index| Some(index) != me)
            .collect();
        let exited = {
            let mut exited = self.latch.exited.lock().unwrap();
            loop {
                if waited_for.iter().all(|&index| exited[index]) {
                    break;
                }
                match deadline {
                    None => exited = self.latch.changed.wait(exited).unwrap(),
                    Some(deadline) => {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        exited = self
                            .latch
                            .changed
                            .wait_timeout(exited, deadline - now)
                            .unwrap()
                            .0;
                    }
                }
            }
            exited.clone()
        };
        for (index, handle) in self.threads.drain(..) {
            if exited[index] && Some(index) != me {
                // The thread body already returned (only thread-local destructors may still run); a
                // panic there is not the pool's to report.
                let _ = handle.join();
            }
            // Otherwise dropping the handle detaches the thread.
        }
        self.shared.drain_all();
    }
}

impl<T: Runnable> Drop for Pool<T> {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl<T: Runnable> std::fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("shared", &self.shared)
            .field("threads", &self.threads.len())
            .finish()
    }
}
