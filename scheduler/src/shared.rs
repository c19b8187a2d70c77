//! `Shared`: the part of a pool that workers and every producer of work reach through an `Arc`.
//!
//! It owns the injector (work from outside the workers), the stealing ends of the workers' local
//! queues, the parking bookkeeping ([`Idle`]), the shutdown flag and the per-worker counters. The
//! worker-local parts (the queue's owning end, the "next" slot) live in the worker's context on its
//! own thread and are reached through the thread-local in `worker.rs`.
//!
//! # Shutdown race
//! `Pool::shutdown` stores the flag (SeqCst), issues a SeqCst fence, and later drains the injector.
//! A remote push is: push to the injector, SeqCst fence, load the flag; if it is set the pusher drains
//! the injector itself and drops what it finds. In the total order of the two fences, either the
//! pusher's comes first (then the shutdown's drain, sequenced after its fence, sees the task) or the
//! shutdown's does (then the pusher sees the flag). So no task stays queued after shutdown, where it
//! could keep the pool alive through an `Arc` cycle. The injector is lock-free and multi-consumer, so
//! concurrent drains take every task exactly once. Tasks are dropped with no lock held (a task's drop
//! may schedule other tasks).

use crate::batch::{self, RemoteBatchTarget};
use crate::idle::Idle;
use crate::metrics::{SchedulerMetrics, WorkerCounters};
use crate::sync::{fence, AtomicBool, Injector, Ordering, Steal, Stealer};
use crate::worker;
use crate::Runnable;
use crossbeam_utils::CachePadded;
use std::sync::Weak;

/// The part of a pool shared by its workers and by everything that schedules work on it.
///
/// Reached through the `Arc` returned by `Pool::shared`; `Send + Sync`.
pub struct Shared<T: Runnable> {
    /// Unique id of this pool, compared against the thread-local "current worker" record.
    pub(crate) id: usize,
    /// Work pushed from outside the workers (or in batches).
    pub(crate) injector: Injector<T>,
    /// The stealing end of every worker's local queue, by worker index.
    pub(crate) stealers: Box<[Stealer<T>]>,
    /// Searching/sleeping bookkeeping (the parking protocol).
    pub(crate) idle: Idle,
    /// Set once by `Pool::shutdown` (see the module doc for the race it resolves).
    shutdown: AtomicBool,
    /// Per-worker counters, each in its own cache line.
    pub(crate) counters: Box<[CachePadded<WorkerCounters>]>,
    /// This `Shared` itself, so that a remote batch can keep it alive until it notifies it.
    weak_self: Weak<Shared<T>>,
}

impl<T: Runnable> Shared<T> {
    /// Builds the shared state of a pool; `weak_self` must point at the `Arc` being built.
    pub(crate) fn new(
        weak_self: Weak<Shared<T>>,
        id: usize,
        stealers: Vec<Stealer<T>>,
        idle: Idle,
    ) -> Shared<T> {
        let workers = stealers.len();
        Shared {
            id,
            injector: Injector::new(),
            stealers: stealers.into_boxed_slice(),
            idle,
            shutdown: AtomicBool::new(false),
            counters: (0..workers)
                .map(|_| CachePadded::new(WorkerCounters::default()))
                .collect(),
            weak_self,
        }
    }

    /// Queue `task` to run.
    ///
    /// On a worker thread of this pool it goes to the back of that worker's local queue (and wakes a
    /// sleeping sibling if nobody is searching, so work spreads). Elsewhere it goes to the injector
    /// and wakes a parked worker if none is searching. After shutdown a remote push drops the task at
    /// once; a push onto a worker's own queue that sees the flag (after the same fence) makes that worker
    /// drop everything it holds, and a worker's queue is dropped at its exit anyway.
    pub fn schedule(&self, task: T) {
        let task = worker::with_current(self.id, task, |context, task| {
            context.push_local(task);
        });
        if let Some(task) = task {
            self.push_remote(task);
        }
    }

    /// Queue `task`, woken by the task now running on this worker, to run next on this worker.
    ///
    /// It takes the worker's "next" slot; a task already there moves to the back of the local queue.
    /// The slot is used at most `MAX_NEXT_RUNS` (3) times in a row, so two tasks waking each other
    /// cannot starve the rest. The slot is not stealable. Off the pool this is [`Shared::schedule`].
    pub fn schedule_next(&self, task: T) {
        let task = worker::with_current(self.id, task, |context, task| {
            context.push_next(task);
        });
        if let Some(task) = task {
            self.push_remote(task);
        }
    }

    /// Queue `task` behind every task this worker already has (`yield_now`): the back of the local
    /// queue, never the next slot, and without waking siblings. Off the pool this is
    /// [`Shared::schedule`].
    pub fn schedule_yield(&self, task: T) {
        let task = worker::with_current(self.id, task, |context, task| {
            context.push_yield(task);
        });
        if let Some(task) = task {
            self.push_remote(task);
        }
    }

    /// Queue several tasks from outside at once (for example the timer thread): all go to the
    /// injector, then up to as many parked workers as useful are woken, once for the whole batch.
    pub fn schedule_batch(&self, tasks: impl IntoIterator<Item = T>) {
        let mut pushed = 0;
        for task in tasks {
            self.injector.push(task);
            pushed += 1;
        }
        if pushed == 0 || batch::defer(self.id, &self.weak_self, pushed) {
            return;
        }
        self.publish_remote(pushed);
    }

    /// True once `Pool::shutdown` started.
    pub fn is_shutdown(&self) -> bool {
        // SeqCst: part of the shutdown race (module doc).
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Number of worker threads of this pool.
    pub fn worker_count(&self) -> usize {
        self.stealers.len()
    }

    /// Index of the current thread if it is a worker of *this* pool.
    pub fn current_worker(&self) -> Option<usize> {
        worker::current_index(self.id)
    }

    /// A snapshot of the counters; reading never blocks the workers.
    pub fn metrics(&self) -> SchedulerMetrics {
        SchedulerMetrics {
            workers: self
                .counters
                .iter()
                .zip(self.stealers.iter())
                .map(|(counters, stealer)| counters.snapshot(stealer.len()))
                .collect(),
            injector_depth: self.injector.len(),
        }
    }

    /// Number of workers that are parked or about to park (a snapshot, for tests and diagnostics).
    pub fn sleeping_workers(&self) -> usize {
        self.idle.sleeping_count()
    }

    /// Number of workers searching for work right now (a snapshot, for tests and diagnostics).
    pub fn searching_workers(&self) -> usize {
        self.idle.searching_count()
    }

    /// Pushes one task to the injector and, unless a remote batch defers it, publishes it.
    fn push_remote(&self, task: T) {
        self.injector.push(task);
        if !batch::defer(self.id, &self.weak_self, 1) {
            self.publish_remote(1);
        }
    }

    /// After `pushed` tasks went into the injector: fence, then either drop them (shutdown) or wake
    /// workers for them (rule 1 of the parking protocol).
    fn publish_remote(&self, pushed: usize) {
        // Orders the pushes before the reads of the shutdown flag and the idle counters (the shutdown
        // race in the module doc, and the no-lost-wakeup argument in `idle.rs`).
        fence(Ordering::SeqCst);
        if self.is_shutdown() {
            self.drain_injector();
        } else if pushed == 1 {
            self.idle.wake_one_if_needed();
        } else {
            self.idle.wake_for_batch(pushed);
        }
    }

    /// Starts shutdown: sets the flag and wakes every sleeping worker. Returns false if it was
    /// already set.
    pub(crate) fn begin_shutdown(&self) -> bool {
        let first = !self.shutdown.swap(true, Ordering::SeqCst);
        // Pairs with the pushers' fence (module doc) and orders the flag before the drains.
        fence(Ordering::SeqCst);
        self.idle.wake_all();
        first
    }

    /// Drops every task in the injector (each exactly once, no lock held).
    pub(crate) fn drain_injector(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(task) => drop(task),
                Steal::Empty => break,
                Steal::Retry => crate::sync::spin_hint(),
            }
        }
    }

    /// Drops every task in the injector and in every worker's local queue (through the stealers,
    /// which is safe while a detached worker still runs).
    pub(crate) fn drain_all(&self) {
        self.drain_injector();
        for stealer in self.stealers.iter() {
            loop {
                match stealer.steal() {
                    Steal::Success(task) => drop(task),
                    Steal::Empty => break,
                    Steal::Retry => crate::sync::spin_hint(),
                }
            }
        }
        // A dropped task may have scheduled another one remotely after our injector pass; that push
        // saw the flag and drained it itself, so nothing is left behind here.
    }
}

impl<T: Runnable> RemoteBatchTarget for Shared<T> {
    fn finish_remote_batch(&self, pushed: usize) {
        self.publish_remote(pushed);
    }
}

impl<T: Runnable> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("id", &self.id)
            .field("workers", &self.worker_count())
            .field("shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}
