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
//!   level holds the next expiration;
//! - an entry's list therefore follows from its deadline and `elapsed` alone, at any time while it
//!   is linked: `elapsed` only moves forward inside the range that keeps `tick`'s placement, until
//!   the list is processed. So an entry stores only its index in the list, not the list.
//!
//! Advancing processes only non-empty slots: level-0 slots fire, higher slots are emptied into lower
//! levels ("cascading"; each entry cascades at most `LEVELS - 1` times).
//!
//! Each list is an array of entry pointers, and an entry records its index in it: insert is a push,
//! remove a `swap_remove` that updates the index of the entry moved into the hole, both O(1). Arrays
//! rather than lists threaded through the entries, because processing a list reads every entry, and
//! the entries lie all over the heap: a linked list can only be walked one cache miss after the
//! other, while an array lets the walk prefetch the entries a few places ahead, so their misses
//! overlap. (With deadlines scattered over a window, the linked walk cost the timer thread about
//! 200 ns per timer.) It also makes the entry 16 bytes smaller.

use std::ptr::NonNull;

use crate::entry::{Entry, UNLINKED};
use crate::prefetch::prefetch_read;

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
/// How many entries ahead a list walk prefetches.
const PREFETCH_AHEAD: usize = 8;
/// A processed list keeps its array for reuse up to this capacity; a bigger one (a burst) is freed.
const KEEP_CAPACITY: usize = 256;

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
    /// The `LEVELS * SLOTS` slot lists followed by the overflow list.
    lists: Box<[Vec<NonNull<Entry>>]>,
    /// Number of linked entries.
    len: usize,
}

// SAFETY: the wheel only holds pointers to entries it has a reference on (TIMER_REF). What it reaches
// through them is either atomic or, like `wheel_index`, touched by the wheel's owner alone (entry.rs's
// ownership protocol), so moving the wheel to another thread with its owner changes nothing.
unsafe impl Send for Wheel {}

impl std::fmt::Debug for Wheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len)
            .finish()
    }
}

/// The entry's index in its list.
///
/// # Safety
/// `entry` is alive and the caller is the timer thread (the only user of the index).
unsafe fn index_of(entry: NonNull<Entry>) -> u32 {
    // SAFETY: per the contract.
    unsafe { entry.as_ref().wheel_index() }
}

/// Records the entry's index in its list.
///
/// # Safety
/// As for [`index_of`].
unsafe fn set_index(entry: NonNull<Entry>, index: u32) {
    // SAFETY: per the contract.
    unsafe { entry.as_ref().set_wheel_index(index) }
}

impl Wheel {
    /// An empty wheel whose current time is `now`.
    pub(crate) fn new(now: u64) -> Self {
        Wheel {
            elapsed: now,
            occupied: [0; LEVELS],
            lists: (0..=OVERFLOW).map(|_| Vec::new()).collect(),
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
        let list = &mut self.lists[location as usize];
        let index = u32::try_from(list.len())
            .ok()
            .filter(|&index| index != UNLINKED)
            .expect("magpie-timer: more than 4 billion timers in one wheel slot");
        list.push(entry);
        // SAFETY: `entry` is alive and we are the timer thread.
        unsafe { set_index(entry, index) };
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
        unsafe { index_of(entry) != UNLINKED }
    }

    /// Unlinks `entry` (a cancellation or a reset). O(1).
    ///
    /// # Safety
    /// `entry` is alive and linked in this wheel.
    pub(crate) unsafe fn remove(&mut self, entry: NonNull<Entry>) {
        // SAFETY: alive per the contract; timer thread.
        let index = unsafe { index_of(entry) } as usize;
        // SAFETY: alive per the contract.
        let location = self.location_for(unsafe { entry.as_ref() }.tick()) as usize;
        let list = &mut self.lists[location];
        // A hard check, not a debug one: a wrong index would unlink another entry and leave this one
        // to be fired after its owner freed it.
        assert!(
            list.get(index) == Some(&entry),
            "magpie-timer: a wheel entry is not where its deadline places it"
        );
        list.swap_remove(index);
        if let Some(&moved) = list.get(index) {
            // SAFETY: linked entries are alive; timer thread.
            unsafe { set_index(moved, index as u32) };
        }
        // SAFETY: alive; timer thread.
        unsafe { set_index(entry, UNLINKED) };
        if list.is_empty() && location != OVERFLOW as usize {
            self.occupied[location / SLOTS] &= !(1 << (location % SLOTS));
        }
        // Cancellations can empty a burst's array long before it is processed: give the memory back.
        if list.capacity() > KEEP_CAPACITY && list.len() < list.capacity() / 4 {
            list.shrink_to(list.len() * 2);
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
        (!self.lists[OVERFLOW as usize].is_empty()).then(|| Expiration {
            location: OVERFLOW,
            tick: ((self.elapsed >> WHEEL_SPAN_BITS) + 1) << WHEEL_SPAN_BITS,
        })
    }

    /// Advances the wheel's time to `now`, calling `fire` for every entry whose deadline is `<= now`
    /// (each already unlinked; `fire` takes over the timer's reference). `fire` cannot reach the wheel
    /// (it is borrowed here), which the walk relies on: entries of the list being processed that it
    /// has not reached yet keep their old indices until then. Costs O(lists processed +
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
        let mut list = std::mem::take(&mut self.lists[location as usize]);
        if location != OVERFLOW {
            self.occupied[location as usize / SLOTS] &= !(1 << (location as usize % SLOTS));
        }
        self.len -= list.len();
        for position in 0..list.len() {
            if let Some(&ahead) = list.get(position + PREFETCH_AHEAD) {
                prefetch_read(ahead.as_ptr());
            }
            let entry = list[position];
            // SAFETY: the entry was linked, hence alive (the timer still holds its reference); it
            // leaves the list now.
            unsafe { set_index(entry, UNLINKED) };
            // SAFETY: alive and unlinked.
            if let Err(due) = unsafe { self.insert(entry) } {
                fire(due);
            }
        }
        // Keep a small array for the slot's next turn; a burst's big one is freed. (Processing the
        // overflow list may have refilled it: never overwrite a list in use.)
        list.clear();
        let slot = &mut self.lists[location as usize];
        if list.capacity() <= KEEP_CAPACITY && slot.capacity() == 0 {
            *slot = list;
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
impl Wheel {
    /// Checks every placement invariant of the module doc (tests only): each linked entry is due
    /// after `elapsed`, sits in the list its deadline gives, at the index it records; occupancy bits
    /// match non-empty lists; `len` counts them all.
    pub(crate) fn check_invariants(&self) {
        let mut total = 0;
        for (location, list) in self.lists.iter().enumerate() {
            if location != OVERFLOW as usize {
                let bit = self.occupied[location / SLOTS] >> (location % SLOTS) & 1;
                assert_eq!(bit == 1, !list.is_empty(), "occupancy of list {location}");
            }
            for (index, &entry) in list.iter().enumerate() {
                // SAFETY: linked entries are alive; tests run the wheel on one thread.
                let tick = unsafe { entry.as_ref() }.tick();
                assert!(
                    tick > self.elapsed,
                    "a linked deadline {tick} is due at {}",
                    self.elapsed
                );
                // SAFETY: as above.
                assert_eq!(unsafe { index_of(entry) } as usize, index);
                assert_eq!(
                    self.location_for(tick) as usize,
                    location,
                    "deadline {tick}"
                );
                total += 1;
            }
        }
        assert_eq!(total, self.len);
    }

    /// The capacity of the largest list array (tests only).
    pub(crate) fn largest_capacity(&self) -> usize {
        self.lists.iter().map(Vec::capacity).max().unwrap_or(0)
    }
}

#[cfg(test)]
#[path = "wheel_tests.rs"]
mod tests;
