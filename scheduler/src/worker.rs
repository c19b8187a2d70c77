//! One worker thread: its context (local queue, "next" slot, counters) and its loop.
//!
//! # Where a worker looks for work, in order
//! 1. The "next" slot, if it ran fewer than [`MAX_NEXT_RUNS`] times in a row; otherwise the slot's
//!    task moves to the back of the local queue (two tasks waking each other cannot starve the rest).
//! 2. Every [`INJECTOR_INTERVAL`]-th pick, one task from the injector first, so work from outside is
//!    never starved by a busy local queue.
//! 3. The local queue (FIFO).
//! 4. The injector, taking a batch (`len / workers + 1`, at most [`MAX_INJECTOR_BATCH`]) into the
//!    local queue.
//! 5. As a searcher (at most about half the workers, see `idle.rs`), rounds over the injector and
//!    the siblings' queues for up to `SEARCH_BUDGET` (40 µs, less than a park/unpark round trip),
//!    starting at a random sibling, stealing half a queue at a time.
//! 6. The parking protocol of `idle.rs`: announce, re-check, park.
//!
//! The next slot is not stealable: it only ever holds a task woken by the one running, which this
//! worker will run within three picks.
//!
//! # The current-worker thread-local
//! While a worker runs its loop, a thread-local [`Current`] holds its pool's id, its index and a
//! type-erased pointer to its [`WorkerContext`], which lives on the worker thread's stack for the
//! whole loop. `Shared::schedule` compares the pool id first and only then casts the pointer back to
//! `WorkerContext<T>` (a pool of id N only ever installs contexts of its own `T`). A guard clears the
//! record before the context is dropped, even when unwinding.
//!
//! # Panics in `run`
//! The executor catches panics inside its tasks; a `run` that unwinds anyway is caught here, counted in
//! `WorkerMetrics::panics`, and the worker goes on with the next task, so the pool keeps its size.

use crate::metrics::WorkerCounters;
use crate::shared::Shared;
use crate::sync::{
    fence, scheduler_thread_local, spin_hint, Ordering, Parker, Steal, Worker, SEARCH_ROUNDS,
};
use crate::Runnable;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Most consecutive picks from the "next" slot before the worker takes from its queue instead.
pub const MAX_NEXT_RUNS: u32 = 3;
/// Every this many picks the worker looks at the injector before its local queue.
pub const INJECTOR_INTERVAL: u32 = 61;
/// Most tasks moved from the injector to a local queue at once.
pub const MAX_INJECTOR_BATCH: usize = 32;

/// The thread-local record of the worker running on this thread, if any.
#[derive(Clone, Copy)]
struct Current {
    /// Id of the pool the worker belongs to; 0 when this thread is no worker.
    pool: usize,
    /// Index of the worker in its pool.
    index: usize,
    /// Type-erased `*const WorkerContext<T>` for the pool's `T`.
    context: *const (),
}

/// `Current` for a thread that is not a worker.
const NOT_A_WORKER: Current = Current {
    pool: 0,
    index: 0,
    context: std::ptr::null(),
};

scheduler_thread_local! {
    /// The worker running on this thread (see the module doc).
    static CURRENT: Cell<Current> = Cell::new(NOT_A_WORKER);
}

/// If this thread is a worker of pool `pool`, calls `f` with its context and `task` and returns
/// `None`; otherwise gives `task` back.
pub(crate) fn with_current<T: Runnable>(
    pool: usize,
    task: T,
    f: impl FnOnce(&WorkerContext<T>, T),
) -> Option<T> {
    let current = CURRENT.try_with(Cell::get).unwrap_or(NOT_A_WORKER);
    if current.pool != pool || current.context.is_null() {
        return Some(task);
    }
    // Only pool `pool` (task type `T`) installs records with its id, and `ContextGuard` clears the
    // record before the context (on this thread's stack, below us) is dropped.
    // SAFETY: so `context` points at a live `WorkerContext<T>` for the whole call; it is only shared
    // (`&`), and its mutable state is in `Cell`s used by this thread alone.
    let context = unsafe { &*current.context.cast::<WorkerContext<T>>() };
    f(context, task);
    None
}

/// The index of this thread's worker if it belongs to pool `pool`.
pub(crate) fn current_index(pool: usize) -> Option<usize> {
    let current = CURRENT.try_with(Cell::get).unwrap_or(NOT_A_WORKER);
    (current.pool == pool && !current.context.is_null()).then_some(current.index)
}

/// Clears the thread-local record when dropped (also when unwinding).
struct ContextGuard;

impl Drop for ContextGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| current.set(NOT_A_WORKER));
    }
}

/// Everything one worker owns, living on its thread's stack.
pub(crate) struct WorkerContext<T: Runnable> {
    /// The pool.
    shared: Arc<Shared<T>>,
    /// This worker's index in the pool.
    index: usize,
    /// The owning end of this worker's queue.
    local: Worker<T>,
    /// A task woken by the running task, run next (see the module doc).
    next: Cell<Option<T>>,
    /// Consecutive picks from `next`.
    next_runs: Cell<u32>,
    /// Picks so far (wrapping), for the injector check every `INJECTOR_INTERVAL` picks.
    tick: Cell<u32>,
    /// xorshift32 state for choosing the first sibling to steal from.
    rng: Cell<u32>,
    /// Whether `Idle` counts this worker as searching.
    searching: Cell<bool>,
    /// This worker's parker (its unparker is in `Idle`).
    parker: Parker,
}

impl<T: Runnable> WorkerContext<T> {
    /// This worker's counters.
    fn counters(&self) -> &WorkerCounters {
        &self.shared.counters[self.index]
    }

    /// `Shared::schedule` on this worker: back of the local queue, then maybe wake a sibling.
    pub(crate) fn push_local(&self, task: T) {
        self.local.push(task);
        // A fence and one load of the idle counters on the fast path (no write to a shared line);
        // see `idle.rs`, "Local pushes".
        fence(Ordering::SeqCst);
        self.shared.idle.wake_one_if_needed();
        // The same fence settles a race with shutdown, as for remote pushes (`shared.rs`): either
        // the shutdown's drain of this queue comes after the push and takes the task, or this load
        // sees the flag, and the worker drops what it holds now rather than at its exit. That
        // matters for a worker shutdown stopped waiting for, still in a poll that may never
        // return; for the others it only comes a little early. (A dropped task may have its future
        // dropped right here, inside the `spawn` that pushed it, once the runtime has shut down, as
        // a spawn from outside after shutdown does.)
        if self.shared.is_shutdown() {
            self.drop_queued();
        }
    }

    /// `Shared::schedule_next` on this worker: into the next slot, the displaced task to the queue.
    pub(crate) fn push_next(&self, task: T) {
        if let Some(displaced) = self.next.replace(Some(task)) {
            self.push_local(displaced);
        }
    }

    /// `Shared::schedule_yield` on this worker: back of the local queue, nobody woken.
    pub(crate) fn push_yield(&self, task: T) {
        self.local.push(task);
    }

    /// The worker loop; returns when the pool shuts down.
    fn run_loop(&self) {
        loop {
            if self.shared.is_shutdown() {
                return;
            }
            if let Some(task) = self.find_task() {
                self.found_work();
                self.run_task(task);
                continue;
            }
            if !self.searching.get() {
                self.searching.set(self.shared.idle.try_start_searching());
            }
            if self.searching.get() {
                if let Some(task) = self.search() {
                    self.found_work();
                    self.run_task(task);
                    continue;
                }
            }
            if let Some(task) = self.sleep() {
                self.found_work();
                self.run_task(task);
            }
        }
    }

    /// Steps 1 to 4 of the module doc.
    fn find_task(&self) -> Option<T> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        if let Some(task) = self.next.take() {
            if self.next_runs.get() < MAX_NEXT_RUNS {
                self.next_runs.set(self.next_runs.get() + 1);
                return Some(task);
            }
            self.local.push(task);
        }
        self.next_runs.set(0);
        if tick.is_multiple_of(INJECTOR_INTERVAL) {
            if let Some(task) = self.pull_one_from_injector() {
                return Some(task);
            }
        }
        if let Some(task) = self.local.pop() {
            return Some(task);
        }
        self.pull_batch_from_injector()
    }

    /// Rule 4 of `idle.rs`: a searcher that found work stops searching; the last one wakes another
    /// if more work is visible (the rest of a batch it pulled, the injector, a sibling's queue).
    fn found_work(&self) {
        if self.searching.replace(false) && self.shared.idle.stop_searching() {
            // Orders our `stop_searching` before the look at the queues, against a pusher's
            // push-fence-read (the hand-off argument in `idle.rs`).
            fence(Ordering::SeqCst);
            if self.work_visible() {
                self.shared.idle.wake_one_if_needed();
            }
        }
    }

    /// Whether any queue another worker could take from holds a task.
    fn work_visible(&self) -> bool {
        !self.local.is_empty()
            || !self.shared.injector.is_empty()
            || self
                .shared
                .stealers
                .iter()
                .any(|stealer| !stealer.is_empty())
    }

    /// Runs one task, catching a panic (module doc).
    fn run_task(&self, task: T) {
        WorkerCounters::add(&self.counters().runs, 1);
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || task.run())) {
            WorkerCounters::add(&self.counters().panics, 1);
            // Dropping the payload can itself panic; that must not kill the worker either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        }
    }

    /// Takes one task from the injector.
    fn pull_one_from_injector(&self) -> Option<T> {
        loop {
            match self.shared.injector.steal() {
                Steal::Success(task) => {
                    WorkerCounters::add(&self.counters().injector_pulls, 1);
                    return Some(task);
                }
                Steal::Empty => return None,
                Steal::Retry => spin_hint(),
            }
        }
    }

    /// Moves a batch from the injector into the local queue and returns one task of it.
    fn pull_batch_from_injector(&self) -> Option<T> {
        let injector = &self.shared.injector;
        loop {
            if injector.is_empty() {
                return None;
            }
            let limit = (injector.len() / self.shared.worker_count() + 1).min(MAX_INJECTOR_BATCH);
            match injector.steal_batch_with_limit_and_pop(&self.local, limit) {
                Steal::Success(task) => {
                    let pulled = self.local.len() as u64 + 1;
                    WorkerCounters::add(&self.counters().injector_pulls, pulled);
                    return Some(task);
                }
                Steal::Empty => return None,
                Steal::Retry => spin_hint(),
            }
        }
    }

    /// Steals half of a sibling's queue, trying every sibling once from a random start.
    fn steal_from_siblings(&self) -> Option<T> {
        let workers = self.shared.worker_count();
        if workers < 2 {
            return None;
        }
        let start = self.next_random() as usize % workers;
        loop {
            let mut retry = false;
            for offset in 0..workers {
                let victim = (start + offset) % workers;
                if victim == self.index {
                    continue;
                }
                match self.shared.stealers[victim].steal_batch_and_pop(&self.local) {
                    Steal::Success(task) => {
                        let stolen = self.local.len() + 1;
                        WorkerCounters::add(&self.counters().steals, 1);
                        WorkerCounters::add(&self.counters().stolen_tasks, stolen as u64);
                        trace_steal(self.index, victim, stolen);
                        return Some(task);
                    }
                    Steal::Empty => {}
                    Steal::Retry => retry = true,
                }
            }
            if !retry {
                return None;
            }
            spin_hint();
        }
    }

    /// Step 5: rounds over the injector and the siblings, at least `SEARCH_ROUNDS` of them and
    /// (outside loom) until `SEARCH_BUDGET` has passed, pausing a little longer after each round.
    fn search(&self) -> Option<T> {
        #[cfg(not(loom))]
        let started = std::time::Instant::now();
        let mut round = 0;
        loop {
            if let Some(task) = self.pull_batch_from_injector() {
                return Some(task);
            }
            if let Some(task) = self.steal_from_siblings() {
                return Some(task);
            }
            if self.shared.is_shutdown() {
                return None;
            }
            round += 1;
            if round >= SEARCH_ROUNDS {
                #[cfg(loom)]
                return None;
                #[cfg(not(loom))]
                if started.elapsed() >= crate::sync::SEARCH_BUDGET {
                    return None;
                }
            }
            for _ in 0..(1u32 << round.min(6)) {
                spin_hint();
            }
        }
    }

    /// Step 6, the parking protocol of `idle.rs`. Returns a task if the re-check found one; `None`
    /// after being woken (the worker is then a searcher) or when the pool shuts down.
    fn sleep(&self) -> Option<T> {
        let idle = &self.shared.idle;
        idle.announce_sleep(self.index, self.searching.replace(false));
        // Re-check everything after the announcement (its fence orders the two).
        let found = if self.shared.is_shutdown() {
            None
        } else {
            self.pull_batch_from_injector()
                .or_else(|| self.steal_from_siblings())
        };
        if found.is_some() || self.shared.is_shutdown() {
            idle.cancel_sleep(self.index);
            self.searching.set(true);
            return found;
        }
        WorkerCounters::add(&self.counters().parks, 1);
        trace_park(self.index);
        while idle.is_parked(self.index) {
            self.parker.park();
        }
        WorkerCounters::add(&self.counters().unparks, 1);
        // The waker counted this worker as a searcher.
        self.searching.set(true);
        None
    }

    /// The next xorshift32 value.
    fn next_random(&self) -> u32 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng.set(x);
        x
    }

    /// Drops the tasks this worker still holds (next slot, local queue): when it exits, or when a
    /// push finds the pool shut down. At exit the thread-local record is already cleared, so a drop
    /// that schedules goes through the remote path, which sees the shutdown flag and drops that task
    /// too; during a push it goes through `push_local` again, which does the same.
    fn drop_queued(&self) {
        drop(self.next.take());
        while let Some(task) = self.local.pop() {
            drop(task);
        }
    }
}

/// What a worker thread needs besides its context.
pub(crate) struct WorkerStart<T: Runnable> {
    /// The pool.
    pub(crate) shared: Arc<Shared<T>>,
    /// The worker's index.
    pub(crate) index: usize,
    /// The owning end of its queue.
    pub(crate) local: Worker<T>,
    /// Its parker.
    pub(crate) parker: Parker,
    /// `Config::on_thread_start`.
    pub(crate) on_start: Option<Arc<dyn Fn(usize) + Send + Sync>>,
    /// `Config::on_thread_stop`.
    pub(crate) on_stop: Option<Arc<dyn Fn(usize) + Send + Sync>>,
}

/// The body of a worker thread.
pub(crate) fn run_worker<T: Runnable>(start: WorkerStart<T>) {
    let WorkerStart {
        shared,
        index,
        local,
        parker,
        on_start,
        on_stop,
    } = start;
    let pool = shared.id;
    let context = WorkerContext {
        shared,
        index,
        local,
        next: Cell::new(None),
        next_runs: Cell::new(0),
        tick: Cell::new(0),
        rng: Cell::new((index as u32).wrapping_mul(0x9E37_79B9) | 1),
        searching: Cell::new(false),
        parker,
    };
    {
        let _guard = ContextGuard;
        CURRENT.with(|current| {
            current.set(Current {
                pool,
                index,
                context: (&context as *const WorkerContext<T>).cast(),
            })
        });
        if let Some(hook) = &on_start {
            let _ = catch_unwind(AssertUnwindSafe(|| hook(index)));
        }
        context.run_loop();
    }
    context.drop_queued();
    if let Some(hook) = &on_stop {
        let _ = catch_unwind(AssertUnwindSafe(|| hook(index)));
    }
}

/// Emits a trace event for a steal when the `tracing` feature is on.
fn trace_steal(worker: usize, victim: usize, tasks: usize) {
    #[cfg(feature = "tracing")]
    tracing::trace!(worker, victim, tasks, "magpie-scheduler: steal");
    #[cfg(not(feature = "tracing"))]
    let _ = (worker, victim, tasks);
}

/// Emits a trace event for a park when the `tracing` feature is on.
fn trace_park(worker: usize) {
    #[cfg(feature = "tracing")]
    tracing::trace!(worker, "magpie-scheduler: park");
    #[cfg(not(feature = "tracing"))]
    let _ = worker;
}
