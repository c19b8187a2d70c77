//! The hierarchical timing wheel, owned by the timer thread (no synchronisation inside).
//!
//! Time is counted in ticks of one millisecond. The wheel has [`LEVELS`] levels of [`SLOTS`] slots;
//! a slot of level `n` spans `64^n` ticks, so level 0 covers the next 64 ms at 1 ms resolution, level 1
//! the next ~4 s at 64 ms, ... and level 5 about 2.2 years. Deadlines further out wait in an overflow
//! list that is re-sorted each time the wheel crosses a 2^36-tick boundary.
//!
//! Placement: an entry with deadline `tick` lives at the level of the highest bit in which `tick`
//! differs from `elapsed` (the wheel's current time), in the slot given by `tick`'s digit at that
//! level. Invariants that follow and that the code relies on:
//! - every entry has `tick > elapsed`, and at its level it sits in a slot strictly after the level's
//!   current position (the digit of `elapsed`), so the next slot to process is found with one bit scan
//!   of the level's occupancy mask;
//! - every entry of level `n` is due before every entry of level `n + 1`, so the first non-empty
//!   level holds the next expiration.
//!
//! Advancing processes only non-empty slots: level-0 slots fire, higher slots are emptied into lower
//! levels ("cascading"; each entry cascades at most `LEVELS - 1` times). Insert and remove are O(1):
//! each slot is an intrusive doubly linked list threaded through the entries' `links`.

use std::ptr::NonNull;

use crate::entry::{Entry, Links};

/// Number of levels of the wheel.
pub(crate) const LEVELS: usize = 6;
/// Bits of a tick consumed per level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;
/// Index of the overflow list, after the `LEVELS * SLOTS` slot lists.
const OVERFLOW: u32 = (LEVELS * SLOTS) as u32;
/// Ticks covered by the whole wheel; deadlines whose distance crosses this boundary overflow.
const WHEEL_SPAN_BITS: u32 = SLOT_BITS * LEVELS as u32;

/// A list to process next: where it is and the tick at which it becomes due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Expiration {
    /// List index (level * SLOTS + slot, or the overflow index).
    location: u32,
    /// The tick at which the list must be processed (its slot's start).
    pub(crate) tick: u64,
}

/// The timing wheel.
pub(crate) struct Wheel {
    /// Current time of the wheel: every deadline `<= elapsed` has been fired.
    elapsed: u64,
    /// Per level, bit `s` is set iff slot `s` of that level is non-empty.
    occupied: [u64; LEVELS],
    /// Heads of the `LEVELS * SLOTS` slot lists followed by the overflow list.
    heads: Box<[Option<NonNull<Entry>>]>,
    /// Number of linked entries.
    len: usize,
}

// SAFETY: the wheel only holds pointers to entries it has a reference on (TIMER_REF); entries are
// `Sync` through their atomics, and the timer thread that owns the wheel may move it between threads.
unsafe impl Send for Wheel {}

impl std::fmt::Debug for Wheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len)
            .finish()
    }
}

/// Reads or writes an entry's wheel links.
///
/// # Safety
/// `entry` is alive and the caller is the timer thread (the only user of `links`).
unsafe fn links<R>(entry: NonNull<Entry>, f: impl FnOnce(&mut Links) -> R) -> R {
    // SAFETY: per the contract the entry is alive and we are the timer thread.
    unsafe { entry.as_ref().with_links(f) }
}

impl Wheel {
    /// An empty wheel whose current time is `now`.
    pub(crate) fn new(now: u64) -> Self {
        Wheel {
            elapsed: now,
            occupied: [0; LEVELS],
            heads: vec![None; OVERFLOW as usize + 1].into_boxed_slice(),
            len: 0,
        }
    }

    /// The wheel's current time.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of linked entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Links `entry` at its deadline. Returns `Err(entry)` without linking it when the deadline is not
    /// after the wheel's current time: the caller fires it at once.
    ///
    /// # Safety
    /// `entry` is alive and stays alive while linked (the timer holds its reference), and it is not
    /// linked already.
    pub(crate) unsafe fn insert(&mut self, entry: NonNull<Entry>) -> Result<(), NonNull<Entry>> {
        // SAFETY: alive per the contract.
        let tick = unsafe { entry.as_ref() }.tick();
        if tick <= self.elapsed {
            return Err(entry);
        }
        let location = self.location_for(tick);
        let head = self.heads[location as usize];
        // SAFETY: `entry` and the old head are alive (linked entries are) and we are the timer thread.
        unsafe {
            links(entry, |l| {
                l.prev = None;
                l.next = head;
                l.location = location;
            });
            if let Some(head) = head {
                links(head, |l| l.prev = Some(entry));
            }
        }
        self.heads[location as usize] = Some(entry);
        if location != OVERFLOW {
            self.occupied[location as usize / SLOTS] |= 1 << (location as usize % SLOTS);
        }
        self.len += 1;
        Ok(())
    }

    /// True if `entry` is linked in this wheel.
    ///
    /// # Safety
    /// `entry` is alive.
    pub(crate) unsafe fn is_linked(&self, entry: NonNull<Entry>) -> bool {
        // SAFETY: alive per the contract; timer thread only.
        unsafe { links(entry, |l| l.location != Links::UNLINKED) }
    }

    /// Unlinks `entry` (a cancellation or a reset). O(1).
    ///
    /// # Safety
    /// `entry` is alive and linked in this wheel.
    pub(crate) unsafe fn remove(&mut self, entry: NonNull<Entry>) {
        // SAFETY: alive and linked per the contract, so its neighbours are alive too.
        let (prev, next, location) = unsafe {
            links(entry, |l| {
                let old = (l.prev, l.next, l.location);
                l.prev = None;
                l.next = None;
                l.location = Links::UNLINKED;
                old
            })
        };
        debug_assert_ne!(location, Links::UNLINKED, "removing an unlinked entry");
        match prev {
            // SAFETY: linked neighbours are alive.
            Some(prev) => unsafe { links(prev, |l| l.next = next) },
            None => self.heads[location as usize] = next,
        }
        if let Some(next) = next {
            // SAFETY: linked neighbours are alive.
            unsafe { links(next, |l| l.prev = prev) };
        }
        if self.heads[location as usize].is_none() && location != OVERFLOW {
            self.occupied[location as usize / SLOTS] &= !(1 << (location as usize % SLOTS));
        }
        self.len -= 1;
    }

    /// The next list to process: the first occupied slot of the first non-empty level, else the
    /// overflow list at the next wheel-span boundary. Its `tick` is never later than any deadline in
    /// the wheel, so sleeping until it never makes a timer late.
    pub(crate) fn next_expiration(&self) -> Option<Expiration> {
        for level in 0..LEVELS {
            let shift = SLOT_BITS * level as u32;
            let position = ((self.elapsed >> shift) as usize) % SLOTS;
            // Slots strictly after the current position (entries never sit at or before it).
            let ahead = if position + 1 == SLOTS {
                0
            } else {
                self.occupied[level] & (u64::MAX << (position + 1))
            };
            if ahead != 0 {
                let slot = u64::from(ahead.trailing_zeros());
                let level_span_mask = (1u64 << (shift + SLOT_BITS)) - 1;
                let base = self.elapsed & !level_span_mask;
                return Some(Expiration {
                    location: (level * SLOTS) as u32 + slot as u32,
                    tick: base + (slot << shift),
                });
            }
        }
        self.heads[OVERFLOW as usize].map(|_| Expiration {
            location: OVERFLOW,
            tick: ((self.elapsed >> WHEEL_SPAN_BITS) + 1) << WHEEL_SPAN_BITS,
        })
    }

    /// Advances the wheel's time to `now`, calling `fire` for every entry whose deadline is `<= now`
    /// (each already unlinked; `fire` takes over the timer's reference). Costs O(lists processed +
    /// entries fired or cascaded), independent of how many timers stay pending.
    pub(crate) fn advance(&mut self, now: u64, mut fire: impl FnMut(NonNull<Entry>)) {
        while let Some(expiration) = self.next_expiration() {
            if expiration.tick > now {
                break;
            }
            self.elapsed = expiration.tick;
            self.process(expiration.location, &mut fire);
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Empties one list at the wheel's current time: due entries fire, the rest move to lower levels.
    fn process(&mut self, location: u32, fire: &mut impl FnMut(NonNull<Entry>)) {
        let mut cursor = self.heads[location as usize].take();
        if location != OVERFLOW {
            self.occupied[location as usize / SLOTS] &= !(1 << (location as usize % SLOTS));
        }
        while let Some(entry) = cursor {
            // SAFETY: the entry was linked, hence alive; we unlink it before anything else.
            cursor = unsafe {
                links(entry, |l| {
                    let next = l.next;
                    l.prev = None;
                    l.next = None;
                    l.location = Links::UNLINKED;
                    next
                })
            };
            self.len -= 1;
            // SAFETY: the entry is alive (the timer still holds its reference) and now unlinked.
            if let Err(due) = unsafe { self.insert(entry) } {
                fire(due);
            }
        }
    }

    /// The list index for a deadline `tick > elapsed`.
    fn location_for(&self, tick: u64) -> u32 {
        // `| (SLOTS - 1)` makes the highest differing bit at least level 0's top bit.
        let differing = (self.elapsed ^ tick) | (SLOTS as u64 - 1);
        let highest_bit = 63 - differing.leading_zeros();
        let level = (highest_bit / SLOT_BITS) as usize;
        if level >= LEVELS {
            return OVERFLOW;
        }
        let slot = ((tick >> (SLOT_BITS * level as u32)) as usize) % SLOTS;
        (level * SLOTS + slot) as u32
    }
}

#[cfg(test)]
#[path = "wheel_tests.rs"]
mod tests;
