//! Per-worker counters and the snapshot types returned by `Shared::metrics`.
//!
//! Each worker owns one [`WorkerCounters`] in its own cache line. Only that worker writes it, with a
//! Relaxed load followed by a Relaxed store (no read-modify-write, so no locked instruction on the hot
//! path); readers take Relaxed loads. Nothing is synchronised through the counters: a snapshot may be
//! slightly stale and the fields of one snapshot are not taken at one instant, but each counter only
//! grows and reading never blocks the workers.

use crate::sync::{AtomicU64, Ordering};

/// One worker's live counters (see the module doc for the writing rule).
#[derive(Default)]
pub(crate) struct WorkerCounters {
    /// Tasks run (`Runnable::run` calls).
    pub(crate) runs: AtomicU64,
    /// Successful steal operations from sibling workers.
    pub(crate) steals: AtomicU64,
    /// Tasks moved from siblings by those steals (the returned task included).
    pub(crate) stolen_tasks: AtomicU64,
    /// Times the worker parked its thread.
    pub(crate) parks: AtomicU64,
    /// Times the worker was woken from a park by a waker (not counting spurious returns).
    pub(crate) unparks: AtomicU64,
    /// Tasks taken from the injector (the returned task included).
    pub(crate) injector_pulls: AtomicU64,
    /// Runs that unwound (the worker caught the panic and went on).
    pub(crate) panics: AtomicU64,
}

impl WorkerCounters {
    /// Adds `amount` to `counter`. Must only be called by the owning worker thread.
    pub(crate) fn add(counter: &AtomicU64, amount: u64) {
        // Relaxed load + store: this worker is the only writer, so no update can be lost; readers
        // only need an eventually visible value.
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(amount),
            Ordering::Relaxed,
        );
    }

    /// A snapshot; `local_queue_depth` is filled in by the caller.
    pub(crate) fn snapshot(&self, local_queue_depth: usize) -> WorkerMetrics {
        // Relaxed loads: statistics only (module doc).
        WorkerMetrics {
            runs: self.runs.load(Ordering::Relaxed),
            steals: self.steals.load(Ordering::Relaxed),
            stolen_tasks: self.stolen_tasks.load(Ordering::Relaxed),
            parks: self.parks.load(Ordering::Relaxed),
            unparks: self.unparks.load(Ordering::Relaxed),
            local_queue_depth,
            injector_pulls: self.injector_pulls.load(Ordering::Relaxed),
            panics: self.panics.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of the whole pool's counters, from `Shared::metrics`.
#[derive(Clone, Debug, Default)]
pub struct SchedulerMetrics {
    /// One entry per worker, indexed by worker index.
    pub workers: Vec<WorkerMetrics>,
    /// Tasks waiting in the shared injector queue.
    pub injector_depth: usize,
}

/// A snapshot of one worker's counters.
#[derive(Clone, Debug, Default)]
pub struct WorkerMetrics {
    /// Tasks this worker ran.
    pub runs: u64,
    /// Successful steal operations from sibling workers' queues.
    pub steals: u64,
    /// Tasks moved from siblings by those steals (the one run immediately included).
    pub stolen_tasks: u64,
    /// Times this worker parked its thread (went to sleep).
    pub parks: u64,
    /// Times this worker was woken from a park by another thread.
    pub unparks: u64,
    /// Tasks in this worker's local queue when the snapshot was taken (the next slot not included).
    pub local_queue_depth: usize,
    /// Tasks this worker took from the injector (batches counted task by task; a batch is counted from
    /// the local queue's length right after the pull, so a sibling stealing part of it at that very
    /// moment makes this slightly low).
    pub injector_pulls: u64,
    /// Runs that panicked; the worker caught the panic and kept going.
    pub panics: u64,
}

impl SchedulerMetrics {
    /// Sum of `runs` over all workers.
    pub fn total_runs(&self) -> u64 {
        self.workers.iter().map(|w| w.runs).sum()
    }
    /// Sum of `steals` over all workers.
    pub fn total_steals(&self) -> u64 {
        self.workers.iter().map(|w| w.steals).sum()
    }
    /// Sum of `stolen_tasks` over all workers.
    pub fn total_stolen_tasks(&self) -> u64 {
        self.workers.iter().map(|w| w.stolen_tasks).sum()
    }
    /// Sum of `parks` over all workers.
    pub fn total_parks(&self) -> u64 {
        self.workers.iter().map(|w| w.parks).sum()
    }
    /// Sum of `unparks` over all workers.
    pub fn total_unparks(&self) -> u64 {
        self.workers.iter().map(|w| w.unparks).sum()
    }
    /// Sum of `injector_pulls` over all workers.
    pub fn total_injector_pulls(&self) -> u64 {
        self.workers.iter().map(|w| w.injector_pulls).sum()
    }
    /// Sum of `panics` over all workers.
    pub fn total_panics(&self) -> u64 {
        self.workers.iter().map(|w| w.panics).sum()
    }
    /// Tasks queued anywhere visible: the injector plus every local queue.
    pub fn queued(&self) -> usize {
        self.injector_depth
            + self
                .workers
                .iter()
                .map(|w| w.local_queue_depth)
                .sum::<usize>()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn counters_add_and_snapshot() {
        let counters = WorkerCounters::default();
        WorkerCounters::add(&counters.runs, 2);
        WorkerCounters::add(&counters.runs, 3);
        WorkerCounters::add(&counters.steals, 1);
        let snapshot = counters.snapshot(7);
        assert_eq!(
            (snapshot.runs, snapshot.steals, snapshot.local_queue_depth),
            (5, 1, 7)
        );
    }

    #[test]
    fn totals_sum_over_workers() {
        let worker = |runs, parks, depth| WorkerMetrics {
            runs,
            parks,
            local_queue_depth: depth,
            ..WorkerMetrics::default()
        };
        let metrics = SchedulerMetrics {
            workers: vec![worker(1, 2, 3), worker(10, 20, 30)],
            injector_depth: 5,
        };
        assert_eq!(metrics.total_runs(), 11);
        assert_eq!(metrics.total_parks(), 22);
        assert_eq!(metrics.queued(), 38);
        assert_eq!(metrics.total_steals(), 0);
    }
}
