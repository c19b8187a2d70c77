//! Remote batches: thread-local deferral of wake-ups for a producer that schedules many tasks at once
//! from outside the workers (the timer thread firing a wheel slot).
//!
//! Between [`begin_remote_batch`] and [`end_remote_batch`] on one thread, a remote
//! `schedule`/`schedule_next`/`schedule_batch` still pushes to the pool's injector at once (workers
//! that are awake can take the task right away) but skips the fence, the shutdown check and the
//! wake-up. The thread remembers, per pool, how many tasks it pushed; the outermost
//! `end_remote_batch` then publishes each pool once: one fence, one shutdown check (draining the
//! injector if the pool was shut down meanwhile) and one `wake_for_batch`, which wakes up to as many
//! workers as useful. Nesting is counted; only the outermost end publishes.
//!
//! Cost on the deferred path: a thread-local read, a scan of the (tiny) list of pools touched in this
//! batch, and, the first time a pool is touched, one `Weak::upgrade` so that the pool stays alive
//! until it is notified. No lock and no allocation after the first batch on a thread.
//!
//! Pushes made from a worker thread of the same pool go to its local queue and are not affected.

use crate::sync::scheduler_thread_local;
use std::cell::{Cell, RefCell};
use std::sync::{Arc, Weak};

/// A pool that a remote batch pushed to and must publish at the end (implemented by `Shared<T>`).
pub(crate) trait RemoteBatchTarget: Send + Sync {
    /// `pushed` tasks went into the injector without being published: fence, check for shutdown,
    /// wake workers.
    fn finish_remote_batch(&self, pushed: usize);
}

/// One pool touched by the current batch.
struct Pending {
    /// The pool's id, to find its entry without touching the `Arc`.
    pool: usize,
    /// Keeps the pool alive until the batch ends.
    target: Arc<dyn RemoteBatchTarget>,
    /// Tasks pushed to it during the batch.
    pushed: usize,
}

/// The per-thread batch state.
struct RemoteBatch {
    /// Nesting depth of `begin_remote_batch`; 0 means no batch.
    depth: Cell<usize>,
    /// Pools pushed to in this batch. Never borrowed while calling into a pool.
    pending: RefCell<Vec<Pending>>,
}

scheduler_thread_local! {
    /// This thread's remote batch.
    static BATCH: RemoteBatch = RemoteBatch { depth: Cell::new(0), pending: RefCell::new(Vec::new()) };
}

/// Starts (or nests) a remote batch on this thread: remote pushes from here defer their wake-ups
/// until the matching [`end_remote_batch`].
pub fn begin_remote_batch() {
    BATCH.with(|batch| batch.depth.set(batch.depth.get() + 1));
}

/// Ends a remote batch started by [`begin_remote_batch`]. The outermost end notifies each pool that
/// received work during the batch once, waking up to as many workers as useful.
///
/// # Panics
/// If there is no matching `begin_remote_batch` on this thread.
pub fn end_remote_batch() {
    let mut pending = BATCH.with(|batch| {
        let depth = batch.depth.get();
        assert!(
            depth > 0,
            "end_remote_batch called without a matching begin_remote_batch on this thread; \
             call begin_remote_batch first and end each batch exactly once"
        );
        batch.depth.set(depth - 1);
        if depth == 1 {
            std::mem::take(&mut *batch.pending.borrow_mut())
        } else {
            Vec::new()
        }
    });
    for entry in pending.drain(..) {
        entry.target.finish_remote_batch(entry.pushed);
    }
    // Give the (now empty) allocation back for the next batch, unless the thread is being torn down
    // or a nested use already installed another list.
    let _ = BATCH.try_with(|batch| {
        if let Ok(mut slot) = batch.pending.try_borrow_mut() {
            if slot.capacity() == 0 {
                *slot = pending;
            }
        }
    });
}

/// Called by a remote push of `pushed` tasks to pool `pool`: if this thread is inside a remote batch,
/// records the pool (keeping it alive through `weak`) and returns true, meaning the caller must not
/// publish the push itself.
pub(crate) fn defer<S: RemoteBatchTarget + 'static>(
    pool: usize,
    weak: &Weak<S>,
    pushed: usize,
) -> bool {
    BATCH
        .try_with(|batch| {
            if batch.depth.get() == 0 {
                return false;
            }
            let Ok(mut pending) = batch.pending.try_borrow_mut() else {
                return false;
            };
            if let Some(entry) = pending.iter_mut().rev().find(|entry| entry.pool == pool) {
                entry.pushed += pushed;
                return true;
            }
            let Some(target) = weak.upgrade() else {
                return false;
            };
            pending.push(Pending {
                pool,
                target,
                pushed,
            });
            true
        })
        .unwrap_or(false)
}
