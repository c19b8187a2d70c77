//! The owner's side of a timer: an optional entry plus whether it is armed.
//!
//! States of a `Registration`:
//! - no entry: never polled with a future deadline, or the last entry was handed back on a reset;
//! - entry, armed: registered with the timer thread; polls ask the entry whether it fired;
//! - entry, not armed: the timer thread released the entry (it fired) and a reset disarmed it; the next
//!   registration reuses the allocation, so an `Interval` allocates once, not once per tick.
//!
//! Invariant: an unarmed entry is held by the owner alone (`Entry::is_released_by_timer` was true).

use std::ptr::NonNull;
use std::task::{Context, Poll};

use crate::driver::Shared;
use crate::entry::Entry;

/// The owner's handle on its timer entry: the entry pointer (null when there is none) with the flags
/// [`ARMED`], [`EARLY`] and [`UNANCHORED`] in its three low bits, which an entry's alignment leaves
/// free. One word, so that a `Sleep` is 16 bytes.
pub(crate) struct Registration {
    tagged: *mut Entry,
}

/// The entry is registered with the timer thread.
const ARMED: usize = 1;
/// The owner's deadline moved later than the armed registration's tick (a cheap reset): when it
/// fires, the owner must register again rather than complete.
const EARLY: usize = 2;
/// The owner's deadline is not fixed yet: it holds a duration to start at the first pending poll (a
/// `timeout` whose future has not been polled pending). Never set with an entry.
const UNANCHORED: usize = 4;
/// Every flag.
const FLAGS: usize = ARMED | EARLY | UNANCHORED;
const _: () = assert!(std::mem::align_of::<Entry>() > FLAGS);

// SAFETY: the entry is only reached through its atomics and the owner-side protocol of `Entry`, which
// is thread-agnostic; the waker it stores is `Send + Sync`.
unsafe impl Send for Registration {}
// SAFETY: every method that touches the entry takes `&mut self`; `&Registration` exposes nothing.
unsafe impl Sync for Registration {}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("entry", &self.entry())
            .field("armed", &self.is_armed())
            .field("early", &self.is_early())
            .field("unanchored", &self.is_unanchored())
            .finish()
    }
}

impl Default for Registration {
    fn default() -> Self {
        Registration::new()
    }
}

impl Registration {
    /// A registration without an entry.
    pub(crate) const fn new() -> Self {
        Registration {
            tagged: std::ptr::null_mut(),
        }
    }

    /// A registration without an entry whose owner's deadline is not fixed yet.
    pub(crate) const fn unanchored() -> Self {
        Registration {
            tagged: std::ptr::without_provenance_mut(UNANCHORED),
        }
    }

    /// True while the owner's deadline is not fixed ([`Registration::unanchored`]).
    pub(crate) fn is_unanchored(&self) -> bool {
        self.flags() & UNANCHORED != 0
    }

    /// Clears the unanchored mark: the owner fixed its deadline.
    pub(crate) fn anchor(&mut self) {
        debug_assert!(self.entry().is_none());
        self.set(None, 0);
    }

    /// The entry, if one was allocated (the owner holds its `OWNER_REF`).
    fn entry(&self) -> Option<NonNull<Entry>> {
        NonNull::new(self.tagged.map_addr(|addr| addr & !FLAGS))
    }

    /// Stores `entry` with `flags` (flags only with an entry; `unanchored` alone sets UNANCHORED).
    fn set(&mut self, entry: Option<NonNull<Entry>>, flags: usize) {
        debug_assert!(entry.is_some() || flags == 0, "flags without an entry");
        let ptr = entry.map_or(std::ptr::null_mut(), NonNull::as_ptr);
        self.tagged = ptr.map_addr(|addr| addr | flags);
    }

    /// The current flags.
    fn flags(&self) -> usize {
        self.tagged.addr() & FLAGS
    }

    /// True if registered with the timer thread for the current deadline.
    pub(crate) fn is_armed(&self) -> bool {
        self.flags() & ARMED != 0
    }

    /// Polls for the deadline `tick`: registers on the first call (reusing a released entry if there is
    /// one), afterwards asks the entry whether it fired. (`Sleep` inlines this to skip the clock
    /// read when armed; tests and loom models use it directly.)
    #[cfg(any(test, loom))]
    pub(crate) fn poll_fired(
        &mut self,
        shared: &Shared,
        tick: u64,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if self.is_armed() {
            return self.poll_armed(cx);
        }
        self.register(shared, tick, cx);
        Poll::Pending
    }

    /// Polls an armed registration: `Ready` once the timer fired.
    pub(crate) fn poll_armed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let entry = self.entry().expect("an armed registration has an entry");
        debug_assert!(self.is_armed());
        // SAFETY: we hold the owner reference and are the only owner (`&mut self`).
        unsafe { Entry::poll_by_owner(entry, cx.waker()) }
    }

    /// Registers for the deadline `tick`, reusing a released entry if there is one.
    pub(crate) fn register(&mut self, shared: &Shared, tick: u64, cx: &mut Context<'_>) {
        // Not armed, so not early either (EARLY is only ever set on an armed registration), and
        // anchored (a `Timeout` anchors its sleep before the first poll).
        debug_assert_eq!(self.flags(), 0);
        let entry = match self.entry() {
            Some(entry) => {
                // SAFETY: an unarmed entry was released by the timer (module invariant) and is ours.
                unsafe { Entry::rearm(entry, tick, cx.waker()) };
                entry
            }
            None => Entry::allocate(tick, cx.waker().clone()),
        };
        self.set(Some(entry), ARMED);
        shared.push_registration(entry, tick);
    }

    /// The tick the armed entry is registered for.
    pub(crate) fn registered_tick(&self) -> Option<u64> {
        match self.entry() {
            // SAFETY: we hold the owner reference; the tick was written by us.
            Some(entry) if self.is_armed() => Some(unsafe { entry.as_ref() }.tick()),
            _ => None,
        }
    }

    /// Marks the armed registration as earlier than the owner's deadline (or not).
    pub(crate) fn set_early(&mut self, early: bool) {
        let flags = if early && self.is_armed() {
            self.flags() | EARLY
        } else {
            self.flags() & !EARLY
        };
        self.set(self.entry(), flags);
    }

    /// True if the armed registration is earlier than the owner's deadline.
    pub(crate) fn is_early(&self) -> bool {
        self.flags() & EARLY != 0
    }

    /// Withdraws the registration (the deadline changed). Keeps the entry for reuse when the timer has
    /// already released it, otherwise cancels it.
    pub(crate) fn disarm(&mut self, shared: &Shared) {
        let armed = self.is_armed();
        let entry = self.entry();
        self.set(entry, 0);
        if !armed {
            return;
        }
        let entry = entry.expect("an armed registration has an entry");
        // SAFETY: we hold the owner reference.
        if unsafe { Entry::is_released_by_timer(entry) } {
            return;
        }
        self.set(None, 0);
        // SAFETY: we hold the owner reference and give it up here.
        let action = unsafe { Entry::cancel_by_owner(entry) };
        shared.cancelled(entry, action);
    }

    /// Gives the entry up for good (the owner is dropped). `shared` is only consulted when there is an
    /// entry, so a `Sleep` that never registered never touches the timer.
    /// Inlined so that dropping a never-registered `Sleep` (every ready `timeout`) is one branch.
    #[inline]
    pub(crate) fn release(&mut self, shared: fn() -> &'static Shared) {
        if let Some(entry) = self.entry() {
            self.set(None, 0);
            release_entry(entry, shared);
        }
    }

    /// Like [`Registration::release`] with an explicit driver (loom models and tests).
    #[cfg(any(test, loom))]
    pub(crate) fn release_with(&mut self, shared: &Shared) {
        let Some(entry) = self.entry() else {
            return;
        };
        self.set(None, 0);
        // SAFETY: we hold the owner reference and give it up here.
        let action = unsafe { Entry::cancel_by_owner(entry) };
        shared.cancelled(entry, action);
    }
}

/// The out-of-line part of [`Registration::release`].
#[inline(never)]
fn release_entry(entry: NonNull<Entry>, shared: fn() -> &'static Shared) {
    // SAFETY: the caller took the owner reference out of its registration and gives it up here.
    let action = unsafe { Entry::cancel_by_owner(entry) };
    if action != crate::entry::Cancel::Nothing {
        shared().cancelled(entry, action);
    }
}
