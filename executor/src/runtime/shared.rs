//! The state one runtime's workers, tasks and handles share.

use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use super::blocking::{BlockingPool, BlockingTask};
use super::metrics::RuntimeMetrics;
use crate::task::list::OwnedTasks;
use crate::task::raw::{self, Notified, TaskMeta};
use crate::task::{Id, JoinHandle};

/// What every task of a runtime points at.
pub(crate) struct Shared {
    pub(crate) scheduler: Arc<magpie_scheduler::Shared<Notified>>,
    pub(crate) owned: OwnedTasks,
    pub(crate) blocking: BlockingPool,
    /// One slot per worker, plus one shared by every other thread.
    counters: Box<[CachePadded<TaskCounters>]>,
}

#[derive(Default)]
struct TaskCounters {
    spawned: AtomicU64,
    completed: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        scheduler: Arc<magpie_scheduler::Shared<Notified>>,
        blocking: BlockingPool,
    ) -> Shared {
        let workers = scheduler.worker_count();
        Shared {
            owned: OwnedTasks::new(workers),
            counters: (0..=workers).map(|_| CachePadded::default()).collect(),
            scheduler,
            blocking,
        }
    }

    /// Adds one to a task counter: this worker's slot, or off the workers the shared last slot.
    fn count(&self, counter: impl Fn(&TaskCounters) -> &AtomicU64) {
        match self.scheduler.current_worker() {
            Some(worker) => {
                // A worker is its slot's only writer: a Relaxed load and store lose no update and
                // spare the locked read-modify-write (two per task). Readers want a plausible
                // snapshot, not an ordering.
                let counter = counter(&self.counters[worker]);
                counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            }
            None => {
                // Shared by every other thread.
                counter(&self.counters[self.counters.len() - 1]).fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        meta: Option<TaskMeta>,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (notified, join) = self.allocate(future, meta, location);
        self.scheduler.schedule(notified);
        join
    }

    pub(crate) fn spawn_blocking<F, R>(
        self: &Arc<Self>,
        f: F,
        handle: &super::Handle,
        location: &'static Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (notified, join) = self.allocate(BlockingTask::new(f), None, location);
        self.blocking.spawn(notified, handle);
        join
    }

    /// Allocates a task. After shutdown the scheduler drops its queued run at once, which cancels
    /// it (its handle yields a cancelled `JoinError`).
    fn allocate<F>(
        self: &Arc<Self>,
        future: F,
        meta: Option<TaskMeta>,
        location: &'static Location<'static>,
    ) -> (Notified, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = Id::next();
        #[cfg(feature = "tracing")]
        tracing::trace!(
            task.id = id.as_u64(),
            task.name = meta.as_ref().map(|meta| &*meta.name),
            location = %location,
            "task spawned"
        );
        #[cfg(not(feature = "tracing"))]
        let _ = location;
        let (notified, ptr) = raw::allocate(future, Arc::clone(self), id, meta);
        self.count(|counters| &counters.spawned);
        // SAFETY: `ptr` is the fresh task whose join reference the handle takes over.
        let join = unsafe { JoinHandle::from_raw(ptr) };
        (notified, join)
    }

    /// A wake from anywhere: to this worker's next slot if the waker runs on one of our workers,
    /// else to the injector.
    pub(crate) fn schedule_wake(&self, task: Notified) {
        self.scheduler.schedule_next(task);
    }

    /// The task woke itself while running (`yield_now`): behind the others.
    pub(crate) fn schedule_yield(&self, task: Notified) {
        self.scheduler.schedule_yield(task);
    }

    pub(crate) fn task_completed(&self, _id: Id) {
        self.count(|counters| &counters.completed);
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let scheduler = self.scheduler.metrics();
        let timer = magpie_timer::metrics();
        let (mut spawned, mut completed) = (0, 0);
        for counters in self.counters.iter() {
            spawned += counters.spawned.load(Ordering::Relaxed);
            completed += counters.completed.load(Ordering::Relaxed);
        }
        RuntimeMetrics {
            workers: scheduler.workers.len(),
            tasks_spawned: spawned,
            tasks_completed: completed,
            tasks_alive: spawned.saturating_sub(completed),
            polls: scheduler.workers.iter().map(|w| w.runs).sum(),
            steals: scheduler.workers.iter().map(|w| w.steals).sum(),
            stolen_tasks: scheduler.workers.iter().map(|w| w.stolen_tasks).sum(),
            parks: scheduler.workers.iter().map(|w| w.parks).sum(),
            unparks: scheduler.workers.iter().map(|w| w.unparks).sum(),
            injector_depth: scheduler.injector_depth,
            local_queue_depths: scheduler
                .workers
                .iter()
                .map(|w| w.local_queue_depth)
                .collect(),
            blocking_threads: self.blocking.threads(),
            timers_pending: timer.pending,
            timers_fired: timer.fired,
        }
    }
}
