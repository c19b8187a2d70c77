//! The runtime's list of owned tasks: every task that has waited (returned `Pending`) and not
//! completed, and some completed ones whose `JoinHandle` is still alive, so that shutdown can drop
//! the futures of tasks nobody will ever wake. A task that has not waited yet is in a queue or
//! running, where shutdown finds it without the list (`raw.rs`); one that finishes on its first
//! poll never joins.
//!
//! An intrusive doubly linked list through [`Links`] in each task header, split into shards (by
//! runs of consecutive task ids) so that workers spawning and completing tasks at once rarely meet
//! on a lock. The list owns one reference to each task in it; whoever unlinks a task releases that
//! reference: its completion, or, for a task that finished out of spawn order with its `JoinHandle`
//! alive, that handle when it takes the output or is dropped (`raw::defer_unlink`), or shutdown's
//! drain. Such tasks leave the list in the order their joiner awaits the handles, usually spawn
//! order, over neighbours it has just touched, instead of costing the completing worker cold
//! neighbours. Once closed (at shutdown) the list refuses new tasks: a first `Pending`, or a
//! never-polled task's dropped queued run, that finds it closed drops the future itself (`raw.rs`).

use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::Mutex;

use crossbeam_utils::CachePadded;

use super::raw::Header;

/// The list links inside a task header, guarded by the lock of the shard the task belongs to.
pub(crate) struct Links {
    prev: UnsafeCell<Option<NonNull<Header>>>,
    next: UnsafeCell<Option<NonNull<Header>>>,
}

impl Links {
    pub(crate) fn new() -> Links {
        Links {
            prev: UnsafeCell::new(None),
            next: UnsafeCell::new(None),
        }
    }
}

/// Consecutive ids share a shard in runs of `1 << SHARD_RUN_BITS`: a worker spawning (ids come in
/// per-thread blocks) or completing tasks in spawn order keeps one shard's lock and list head hot
/// for a run, instead of touching a different shard, cached on another core, for every task.
const SHARD_RUN_BITS: u32 = 4;

struct Shard {
    head: Option<NonNull<Header>>,
    closed: bool,
}

// SAFETY: the raw pointers are only followed under the shard's mutex, and tasks are `Send`.
unsafe impl Send for Shard {}

/// The sharded list.
pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    mask: u64,
}

impl OwnedTasks {
    pub(crate) fn new(workers: usize) -> OwnedTasks {
        let count = (workers * 4).next_power_of_two().max(4);
        OwnedTasks {
            shards: (0..count)
                .map(|_| {
                    CachePadded::new(Mutex::new(Shard {
                        head: None,
                        closed: false,
                    }))
                })
                .collect(),
            mask: count as u64 - 1,
        }
    }

    fn shard(&self, header: &Header) -> &Mutex<Shard> {
        &self.shards[((header.id.as_u64() >> SHARD_RUN_BITS) & self.mask) as usize]
    }

    /// Adds a new task, handing the list its owned-list reference. `false` if the list is closed:
    /// the reference stays with the caller.
    ///
    /// # Safety
    /// `ptr` is a live task not in any list, whose owned-list reference the caller holds.
    pub(crate) unsafe fn bind(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller's reference keeps it alive.
        let header = unsafe { ptr.as_ref() };
        let mut shard = lock(self.shard(header));
        if shard.closed {
            return false;
        }
        // SAFETY: links are guarded by this shard's lock, which we hold.
        unsafe {
            *header.links.next.get() = shard.head;
            *header.links.prev.get() = None;
            if let Some(old) = shard.head {
                *old.as_ref().links.prev.get() = Some(ptr);
            }
        }
        shard.head = Some(ptr);
        true
    }

    /// Unlinks the task if it is in the list; `true` if it was (the caller then owns the list's
    /// reference to it).
    ///
    /// # Safety
    /// `ptr` is a live task that was bound to this list (or refused by it).
    pub(crate) unsafe fn remove(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller's reference keeps it alive.
        let header = unsafe { ptr.as_ref() };
        let mut shard = lock(self.shard(header));
        // SAFETY: links are guarded by this shard's lock, which we hold; linked neighbours are live
        // because the list holds a reference to each of them.
        unsafe {
            let prev = *header.links.prev.get();
            let next = *header.links.next.get();
            match prev {
                Some(prev) => *prev.as_ref().links.next.get() = next,
                None if shard.head == Some(ptr) => shard.head = next,
                None => return false,
            }
            if let Some(next) = next {
                *next.as_ref().links.prev.get() = prev;
            }
            *header.links.prev.get() = None;
            *header.links.next.get() = None;
        }
        true
    }

    /// Closes the list and takes every task out of it; the caller owns the list's reference to each.
    pub(crate) fn close_and_drain(&self) -> Vec<NonNull<Header>> {
        let mut drained = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.closed = true;
            let mut cursor = shard.head.take();
            while let Some(ptr) = cursor {
                // SAFETY: under the shard lock; the list's reference keeps each task alive.
                unsafe {
                    let links = &ptr.as_ref().links;
                    cursor = *links.next.get();
                    *links.prev.get() = None;
                    *links.next.get() = None;
                }
                drained.push(ptr);
            }
        }
        drained
    }
}

/// A poisoned shard lock only means a panic elsewhere while it was held; the list itself is updated
/// without calling user code, so it is still consistent.
fn lock(shard: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(all(test, not(loom)))]
impl OwnedTasks {
    /// Tasks in the list (tests only).
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let shard = lock(shard);
                let mut count = 0;
                let mut cursor = shard.head;
                while let Some(ptr) = cursor {
                    count += 1;
                    // SAFETY: listed tasks are live and we hold the shard lock that guards links.
                    cursor = unsafe { *ptr.as_ref().links.next.get() };
                }
                count
            })
            .sum()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use futures::channel::oneshot;

    use crate::runtime::Builder;

    /// Tasks that finish out of spawn order while their handles live are left on the list for the
    /// handles to unlink (`raw::defer_unlink`); joining them empties it, and so does dropping
    /// unjoined handles of finished tasks. Tasks finishing in order are unlinked at completion.
    #[test]
    fn joined_tasks_leave_the_list_whichever_side_unlinks_them() {
        let runtime = Builder::new().worker_threads(1).build().unwrap();
        let owned = || runtime.handle().shared.owned.len();
        let started = Arc::new(AtomicUsize::new(0));
        let (senders, handles): (Vec<_>, Vec<_>) = (0..64u32)
            .map(|i| {
                let (tx, rx) = oneshot::channel::<u32>();
                let started = Arc::clone(&started);
                let handle = runtime.spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    rx.await.unwrap() + i
                });
                (tx, handle)
            })
            .unzip();
        // Every task starts and waits on its channel before any is completed.
        while started.load(Ordering::SeqCst) < 64 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(owned(), 64);
        // Complete them in reverse spawn order: every completion but the first is out of order.
        for tx in senders.into_iter().rev() {
            tx.send(1).unwrap();
        }
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let deferred = owned();
        assert!(
            deferred >= 60,
            "out-of-order completions left on the list: {deferred}"
        );
        // Join half, drop the other half unjoined: either way the handle unlinks.
        let mut handles = handles.into_iter();
        let joined: Vec<_> = handles.by_ref().take(32).collect();
        let sum: u32 = runtime.block_on(async move {
            let mut sum = 0;
            for handle in joined {
                sum += handle.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..32).map(|i| i + 1).sum::<u32>());
        drop(handles.collect::<Vec<_>>());
        assert_eq!(owned(), 0);

        // Tasks that finish on their first poll are never listed at all.
        let handles: Vec<_> = (0..64u32)
            .map(|i| runtime.spawn(async move { i }))
            .collect();
        assert_eq!(owned(), 0);
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(owned(), 0, "tasks that never waited were listed");
        drop(handles);

        // Pending once, then finished in spawn order: nearly all leave at completion, before anyone
        // joins them (the first, and any that a batch boundary puts out of order, wait for their
        // handles).
        let handles: Vec<_> = (0..64u32)
            .map(|i| {
                runtime.spawn(async move {
                    crate::task::yield_now().await;
                    i
                })
            })
            .collect();
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            owned() < 16,
            "in-order completions stayed listed: {}",
            owned()
        );
        drop(handles);
        assert_eq!(owned(), 0);
    }
}
