//! The timer entry: one small heap node per *registered* sleep, shared by its owner and the timer thread.
//!
//! A `Sleep` allocates an entry only when its first poll finds the deadline still in the future; sleeps
//! that complete at once, and timeouts whose inner future finishes first, never allocate. The owner
//! (the `Sleep`, via [`Registration`](crate::registration::Registration)) and the timer thread each hold
//! one reference, recorded as the bits [`OWNER_REF`] and [`TIMER_REF`] of the state word: the node is
//! freed by whichever side clears the last of the two. Because the node outlives its owner when needed,
//! dropping a `Sleep` never waits for the timer thread.
//!
//! Who may touch what:
//! - `wheel_index` (the entry's place in its wheel slot): only the timer thread, while it holds
//!   `TIMER_REF`.
//! - `inbox_next`: whoever owns the node's place in an inbox stack (pusher before the push, the timer
//!   thread after it popped the node), i.e. while [`QUEUED`] says the node is in a stack.
//! - `tick`: written by the owner only while the timer holds no reference (before a push); read by the
//!   timer thread after it popped the node (the stack's release/acquire orders the two).
//! - `waker`: the owner, between setting and clearing [`WAKER_LOCK`], and only while [`FIRED`] is clear;
//!   the timer thread exactly once, right after it set [`FIRED`] and saw `WAKER_LOCK` clear. Once `FIRED`
//!   is set the owner never locks again, so the two never overlap.
//!
//! Invariant: an entry linked into the wheel is not [`FIRED`] and holds `TIMER_REF`; an entry in an inbox
//! stack has [`QUEUED`] set and holds `TIMER_REF`.

use std::ptr::NonNull;
use std::task::{Poll, Waker};

use crate::sync::{AtomicPtr, AtomicU32, AtomicU64, Ordering, UnsafeCell};

/// The entry is in one of the driver's inbox stacks (registration or cancellation); `inbox_next` belongs
/// to that stack. Set by the owner when it pushes, cleared by the timer thread when it pops.
pub(crate) const QUEUED: u32 = 1 << 0;
/// The deadline was reached and the timer thread took (or skipped) the waker. Set once, by the timer
/// thread; the owner's poll returns `Ready` from then on.
pub(crate) const FIRED: u32 = 1 << 1;
/// The owner gave the entry up (dropped or reset its `Sleep`) before it fired. Set once, by the owner.
pub(crate) const CANCELLED: u32 = 1 << 2;
/// The owner is writing the waker cell. Set and cleared by the owner only; the timer thread never
/// waits on it: if it fires while the bit is set it skips the wake and the owner sees `FIRED` on unlock.
pub(crate) const WAKER_LOCK: u32 = 1 << 3;
/// The owner (a `Sleep`) still references the entry. Cleared by the owner when it lets go.
pub(crate) const OWNER_REF: u32 = 1 << 4;
/// The timer thread references the entry (it is in an inbox stack or linked in the wheel, or being
/// fired). Cleared by the timer thread when it is done with the entry.
pub(crate) const TIMER_REF: u32 = 1 << 5;

/// `wheel_index` of an entry that is in no wheel slot.
pub(crate) const UNLINKED: u32 = u32::MAX;

/// One registered timer. See the module doc for the ownership protocol.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Bit set of the constants above.
    state: AtomicU32,
    /// Index of the entry in its wheel slot's array, or [`UNLINKED`]; owned by the timer thread. (The
    /// slot itself follows from the deadline, see `wheel`; the entry is 40 bytes: one 48-byte chunk.)
    wheel_index: UnsafeCell<u32>,
    /// Deadline in driver ticks (milliseconds since the driver's origin, rounded up).
    tick: AtomicU64,
    /// The waker of the owner's latest poll.
    waker: UnsafeCell<Option<Waker>>,
    /// Link of the inbox stack the entry is in.
    pub(crate) inbox_next: AtomicPtr<Entry>,
}

/// What the timer thread found when it popped an entry from an inbox stack.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Dequeued {
    /// A live registration: put it in the wheel at this tick (or fire it if due).
    Register(u64),
    /// The owner cancelled before the entry fired (a cancellation pushed for an entry in the wheel
    /// is always pushed before any fire, which then sees `CANCELLED`).
    Cancelled,
}

/// What firing an entry produced.
#[derive(Debug)]
pub(crate) enum Fired {
    /// The owner is waiting: wake this waker.
    Wake(Waker),
    /// The owner is inside a poll right now (or never left a waker) and will see `FIRED` itself.
    Seen,
    /// The owner had cancelled: nothing to wake, and this does not count as a fire.
    Cancelled,
}

impl Entry {
    /// Allocates an entry owned by both sides and marked [`QUEUED`], ready to be pushed onto the
    /// registration stack by the caller.
    pub(crate) fn allocate(tick: u64, waker: Waker) -> NonNull<Entry> {
        let entry = Box::new(Entry {
            state: AtomicU32::new(OWNER_REF | TIMER_REF | QUEUED),
            wheel_index: UnsafeCell::new(UNLINKED),
            tick: AtomicU64::new(tick),
            waker: UnsafeCell::new(Some(waker)),
            inbox_next: AtomicPtr::new(std::ptr::null_mut()),
        });
        NonNull::from(Box::leak(entry))
    }

    /// The entry's index in its wheel slot, or [`UNLINKED`].
    ///
    /// # Safety
    /// Timer thread only (the only user of the index), on a live entry.
    pub(crate) unsafe fn wheel_index(&self) -> u32 {
        // SAFETY: per the contract, only the timer thread touches the cell.
        self.wheel_index.with_mut(|index| unsafe { *index })
    }

    /// Sets the entry's index in its wheel slot ([`UNLINKED`] when it leaves the wheel).
    ///
    /// # Safety
    /// Timer thread only, on a live entry.
    pub(crate) unsafe fn set_wheel_index(&self, value: u32) {
        // SAFETY: per the contract, only the timer thread touches the cell.
        self.wheel_index.with_mut(|index| unsafe { *index = value });
    }

    /// The deadline tick. Relaxed: the owner wrote it before the push that handed the entry over.
    pub(crate) fn tick(&self) -> u64 {
        self.tick.load(Ordering::Relaxed)
    }

    /// Frees the node.
    ///
    /// # Safety
    /// `ptr` came from [`Entry::allocate`], both reference bits are clear, and the caller's clearing of
    /// the last bit was an acquire operation, so no other thread touches the node any more.
    unsafe fn free(ptr: NonNull<Entry>) {
        // SAFETY: per the contract, the node came from `Box::leak` in `allocate` and is no longer
        // referenced by anyone, so rebuilding and dropping the box is the unique release.
        let entry = unsafe { Box::from_raw(ptr.as_ptr()) };
        // A cancelled entry still holds its owner's last waker, and dropping a waker can run user
        // code (an executor freeing the task, and with it the task's output). On the timer thread a
        // panic there would end the thread and strand every pending timer, so the drop is contained.
        // SAFETY: we own the node (above).
        let waker = entry.waker.with_mut(|cell| unsafe { (*cell).take() });
        drop(entry);
        if let Some(waker) = waker {
            crate::driver::guarded(move || drop(waker));
        }
    }

    // ----- owner side -------------------------------------------------------------------------------

    /// The owner polls: `Ready` once fired, otherwise stores `waker` (if it differs) and stays pending.
    ///
    /// # Safety
    /// The caller holds the owner reference of `ptr` (so the node is alive) and is the only owner.
    pub(crate) unsafe fn poll_by_owner(ptr: NonNull<Entry>, waker: &Waker) -> Poll<()> {
        // SAFETY: the owner reference keeps the node alive.
        let entry = unsafe { ptr.as_ref() };
        // Acquire pairs with the timer's AcqRel `fire`; nothing else is read, it only orders
        // the caller's later reads after the fire.
        if entry.state.load(Ordering::Acquire) & FIRED != 0 {
            return Poll::Ready(());
        }
        // Acquire pairs with the timer's `fire` (see the check below).
        let before = entry.state.fetch_or(WAKER_LOCK, Ordering::Acquire);
        if before & FIRED != 0 {
            // The timer may be reading the cell right now: leave it alone.
            entry.state.fetch_and(!WAKER_LOCK, Ordering::Relaxed);
            return Poll::Ready(());
        }
        // SAFETY: WAKER_LOCK is ours and FIRED was clear when we took it, so the timer thread will not
        // read the cell until it sees our unlock (it skips the cell if it fires while we hold the bit).
        entry.waker.with_mut(|cell| unsafe {
            match &*cell {
                Some(old) if old.will_wake(waker) => {}
                _ => *cell = Some(waker.clone()),
            }
        });
        // Release pairs with the Acquire of the timer's `fire`, publishing the waker we just stored.
        let before = entry.state.fetch_and(!WAKER_LOCK, Ordering::Release);
        if before & FIRED != 0 {
            // The timer fired while we held the lock and skipped the wake: complete now instead.
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// True once the timer thread has let go of the entry, so the owner may reuse it.
    ///
    /// # Safety
    /// The caller holds the owner reference of `ptr`.
    pub(crate) unsafe fn is_released_by_timer(ptr: NonNull<Entry>) -> bool {
        // SAFETY: the owner reference keeps the node alive.
        let entry = unsafe { ptr.as_ref() };
        // Acquire pairs with the AcqRel in `release_by_timer`: the timer's last accesses to the node
        // happen before the owner reuses it.
        entry.state.load(Ordering::Acquire) & TIMER_REF == 0
    }

    /// Re-initialises an entry the timer has released, for a new registration at `tick`; the caller
    /// then pushes it onto the registration stack.
    ///
    /// # Safety
    /// The caller holds the owner reference and [`Entry::is_released_by_timer`] returned true.
    pub(crate) unsafe fn rearm(ptr: NonNull<Entry>, tick: u64, waker: &Waker) {
        // SAFETY: the owner reference keeps the node alive.
        let entry = unsafe { ptr.as_ref() };
        // SAFETY: the timer released the node (acquire-checked by the caller), so the owner is its only
        // user and may write the waker cell without the lock.
        entry.waker.with_mut(|cell| unsafe {
            match &*cell {
                Some(old) if old.will_wake(waker) => {}
                _ => *cell = Some(waker.clone()),
            }
        });
        // Relaxed: the node is handed to the timer by the registration push, whose release CAS
        // publishes these stores.
        entry.tick.store(tick, Ordering::Relaxed);
        entry
            .state
            .store(OWNER_REF | TIMER_REF | QUEUED, Ordering::Relaxed);
    }

    /// The owner lets go of the entry (its `Sleep` was dropped or reset).
    ///
    /// Returns what the driver must be told: [`Cancel::Push`] if the entry sits in the wheel and must
    /// be handed to the timer thread through the cancellation stack, [`Cancel::Note`] if it is still
    /// in the registration stack (the timer will discard it when it drains the stack), or
    /// [`Cancel::Nothing`].
    ///
    /// # Safety
    /// The caller holds the owner reference of `ptr` and gives it up: it must not touch the node again
    /// except to push it when told [`Cancel::Push`].
    #[must_use]
    pub(crate) unsafe fn cancel_by_owner(ptr: NonNull<Entry>) -> Cancel {
        // SAFETY: the owner reference keeps the node alive until the CAS below gives it up.
        let entry = unsafe { ptr.as_ref() };
        let mut state = entry.state.load(Ordering::Acquire);
        loop {
            if state & TIMER_REF == 0 {
                // SAFETY: the timer released the node (the Acquire load above or the failed CAS pairs
                // with its AcqRel release) and we are the last holder.
                unsafe { Entry::free(ptr) };
                return Cancel::Nothing;
            }
            let in_wheel = state & (FIRED | QUEUED) == 0;
            let next = if in_wheel {
                (state | CANCELLED | QUEUED) & !OWNER_REF
            } else {
                (state | CANCELLED) & !OWNER_REF
            };
            // AcqRel: Release so our waker writes happen before the timer frees the node; Acquire
            // pairs with the timer's releases so a retry sees a fresh state.
            match entry.state.compare_exchange_weak(
                state,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) if in_wheel => return Cancel::Push,
                Ok(_) if state & (QUEUED | FIRED) == QUEUED => return Cancel::Note,
                Ok(_) => return Cancel::Nothing,
                Err(actual) => state = actual,
            }
        }
    }

    // ----- timer side -------------------------------------------------------------------------------

    /// The timer thread popped the entry from an inbox stack (it must have read `inbox_next` first).
    ///
    /// # Safety
    /// Called by the timer thread on a node it popped; the node is alive because it holds `TIMER_REF`.
    pub(crate) unsafe fn dequeue(ptr: NonNull<Entry>) -> Dequeued {
        // SAFETY: TIMER_REF keeps the node alive.
        let entry = unsafe { ptr.as_ref() };
        // AcqRel: Acquire pairs with the owner's cancel CAS; Release orders our read of `inbox_next`
        // before the owner may push the node again.
        let before = entry.state.fetch_and(!QUEUED, Ordering::AcqRel);
        if before & CANCELLED != 0 {
            Dequeued::Cancelled
        } else {
            Dequeued::Register(entry.tick())
        }
    }

    /// The deadline passed: marks the entry fired and returns the waker to wake, if the owner is still
    /// waiting. Releases the timer's reference unless a cancellation is still queued (that pop
    /// releases it instead).
    ///
    /// # Safety
    /// Called by the timer thread, which holds `TIMER_REF`; the entry is not linked in the wheel any
    /// more. The node must not be used after this call.
    pub(crate) unsafe fn fire(ptr: NonNull<Entry>) -> Fired {
        // SAFETY: TIMER_REF keeps the node alive until `release_by_timer` below.
        let entry = unsafe { ptr.as_ref() };
        // AcqRel: Acquire pairs with the owner's Release unlock of WAKER_LOCK (the waker it stored is
        // visible); Release pairs with the owner's Acquire check of FIRED.
        let before = entry.state.fetch_or(FIRED, Ordering::AcqRel);
        let fired = if before & CANCELLED != 0 {
            Fired::Cancelled
        } else if before & WAKER_LOCK != 0 {
            Fired::Seen
        } else {
            // SAFETY: FIRED is now set and WAKER_LOCK was clear, so the owner will never write the cell
            // again (it checks FIRED before locking); the timer thread is its only user.
            match entry.waker.with_mut(|cell| unsafe { (*cell).take() }) {
                Some(waker) => Fired::Wake(waker),
                None => Fired::Seen,
            }
        };
        if before & QUEUED == 0 {
            // SAFETY: we hold TIMER_REF and are done with the node.
            unsafe { Entry::release_by_timer(ptr) };
        }
        fired
    }

    /// The timer thread drops its reference, freeing the node if the owner is gone too.
    ///
    /// # Safety
    /// Called by the timer thread holding `TIMER_REF`; the entry is in no wheel list and no stack.
    pub(crate) unsafe fn release_by_timer(ptr: NonNull<Entry>) {
        // SAFETY: TIMER_REF keeps the node alive until the fetch_and below.
        let entry = unsafe { ptr.as_ref() };
        // AcqRel: Release publishes our accesses to whoever frees or reuses the node; Acquire pairs
        // with the owner's release of OWNER_REF so that, if we free, its accesses come first.
        let before = entry.state.fetch_and(!TIMER_REF, Ordering::AcqRel);
        if before & OWNER_REF == 0 {
            // SAFETY: both references are gone and the AcqRel above ordered the owner's accesses
            // before this point.
            unsafe { Entry::free(ptr) };
        }
    }
}

/// What the owner must do after [`Entry::cancel_by_owner`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// Push the entry onto the cancellation stack: it is linked in the wheel.
    Push,
    /// Tell the driver a queued registration was cancelled (no push: it is already in a stack).
    Note,
    /// Nothing: the entry fired or was freed.
    Nothing,
}

#[cfg(test)]
impl Entry {
    /// A detached entry for wheel unit tests: owned by the "timer" only, no waker.
    pub(crate) fn allocate_for_test(tick: u64) -> NonNull<Entry> {
        let ptr = Entry::allocate(tick, futures_noop_waker());
        // SAFETY: freshly allocated and not shared.
        unsafe { ptr.as_ref() }
            .state
            .store(TIMER_REF, Ordering::Relaxed);
        ptr
    }

    /// Sets the tick of a test entry that is not linked.
    pub(crate) fn set_tick_for_test(ptr: NonNull<Entry>, tick: u64) {
        // SAFETY: test entries are alive until `free_for_test`.
        unsafe { ptr.as_ref() }.tick.store(tick, Ordering::Relaxed);
    }

    /// Frees a test entry.
    pub(crate) fn free_for_test(ptr: NonNull<Entry>) {
        // SAFETY: test entries are only referenced by the test, which frees each exactly once.
        unsafe { Entry::free(ptr) }
    }
}

#[cfg(test)]
fn futures_noop_waker() -> Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    Waker::from(std::sync::Arc::new(Noop))
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
#[test]
fn entry_fits_one_48_byte_malloc_chunk() {
    // glibc rounds a request up to (size + 8) in 16-byte steps: 40 bytes use one 48-byte chunk.
    assert_eq!(std::mem::size_of::<Entry>(), 40);
    // The deadline in 8 bytes and the registration as one tagged pointer.
    assert_eq!(std::mem::size_of::<crate::Sleep>(), 16);
    // An unanchored timeout keeps its duration inside its Sleep: nothing beside the two.
    assert_eq!(
        std::mem::size_of::<crate::Timeout<std::future::Ready<u64>>>(),
        std::mem::size_of::<std::future::Ready<u64>>() + 16
    );
}
