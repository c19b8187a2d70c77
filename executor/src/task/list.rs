//! The runtime's list of owned tasks: every task that has not completed, so that shutdown can drop
//! the futures of tasks nobody will ever wake.
//!
//! An intrusive doubly linked list through [`Links`] in each task header, split into shards (by
//! runs of consecutive task ids) so that workers spawning and completing tasks at once rarely meet
//! on a lock. The list owns one reference to each task in it; whoever unlinks a task (its
//! completion, or shutdown's drain) releases that reference. Once closed (at shutdown) it refuses
//! new tasks, which `spawn` then cancels.

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
