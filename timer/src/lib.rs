//! magpie's timers: [`sleep`], [`timeout`] and [`interval`], served by one shared timer thread that
//! works under any executor (or none: `futures::executor::block_on(sleep(..))` works on a plain thread).
//!
//! # Design
//!
//! **One timer thread**, started by the first registration, owns a hierarchical timing wheel
//! (`wheel`: 6 levels of 64 slots, 1 ms resolution, about 2.2 years of range, an overflow list beyond).
//! Inserting and cancelling are O(1) list operations; advancing visits only non-empty slots (found by
//! bit scans of per-level occupancy masks), so its cost follows the timers that fire, not those that
//! are pending.
//!
//! **Registration is lock-free.** A `Sleep` allocates a 40-byte entry only when its first poll finds
//! the deadline in the future, and pushes it onto a Treiber stack (one per shard; a thread always uses
//! its own). The timer thread takes each whole stack with one swap. It sleeps until its earliest deadline and is unparked only by a registration
//! due *before* that, never once per registration (`driver` explains the Dekker-style handshake).
//!
//! **Cancellation never waits.** The entry is shared by the `Sleep` and the timer thread through two
//! reference bits in its state word (`entry`); dropping the `Sleep` flips bits and, if the entry is in
//! the wheel, pushes it onto a cancellation stack. The timer thread sweeps that stack at least every
//! 10 ms while cancellations wait, and at once every 4096 of them, so cancelled memory comes back
//! promptly without an unpark per drop.
//!
//! **Firing is batched.** One turn collects every due waker into a buffer, then wakes them in chunks of
//! 1024 between the executor's [`set_wake_batch_hooks`] callbacks (magpie defers worker unparks to the
//! end of a chunk). No lock exists between registrants and the timer, so wakes never stall them. A wake
//! writes to memory the timer thread has not touched (the woken task), so the data of the waker eight
//! places ahead is prefetched and those cache misses overlap.
//!
//! **What the thread costs.** Per timer, the thread does one stack pop and array push (none at all
//! for a timeout whose future finished first), a cascade or two, one state-word RMW and a waker move
//! when firing, and one RMW to release its reference. Wheel slots are arrays walked with prefetch,
//! so entries scattered over the heap cost overlapping cache misses, not one after the other. In the
//! benchmark workloads that is about 0.12 µs of timer-thread CPU per timer, wakes included, when
//! deadlines follow spawn order, and 0.16 µs when a million are scattered over 100 ms; while
//! registrations stream in it links them every 5 ms, so a registration storm never lands on a
//! deadline in one burst; the expensive part, scheduling the woken tasks, is batched through the
//! hooks. See `timer/README.md` for a one-page picture.
//!
//! **Never early.** Deadlines are rounded *up* to the next millisecond tick and a tick fires only once
//! the clock has reached it (`Shared::tick_for`, `Wheel::advance`). Huge durations saturate to a
//! deadline about 30 years away instead of overflowing.
#![deny(missing_docs)]

mod coarse;
mod driver;
mod entry;
mod global;
mod hooks;
mod instant;
mod interval;
mod metrics;
mod prefetch;
mod registration;
mod sleep;
mod sync;
mod timeout;
mod wheel;

#[cfg(loom)]
pub mod loom_model;

pub use hooks::set_wake_batch_hooks;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use metrics::{metrics, TimerMetrics};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
