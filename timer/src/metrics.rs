//! Process-wide timer counters. The timer thread is their only writer: it keeps running totals in its
//! core and publishes them with relaxed stores after each turn; readers load them without blocking it.
//! The four values are independent snapshots (not one atomic snapshot), which is all statistics need.

use crate::sync::{AtomicU64, Ordering};

/// Process-wide counters, read without blocking the timer thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerMetrics {
    /// Timers currently linked in the wheel (registered, not yet fired or cancelled). Registrations the
    /// timer thread has not picked up yet are not counted.
    pub pending: u64,
    /// Timers fired since the timer thread started.
    pub fired: u64,
    /// Timers cancelled (their `Sleep` dropped or reset before firing) and reclaimed so far.
    pub cancelled: u64,
    /// Turns of the timer thread's loop (wake-ups).
    pub ticks: u64,
}

/// The published counters.
#[derive(Debug, Default)]
pub(crate) struct MetricsCells {
    pending: AtomicU64,
    fired: AtomicU64,
    cancelled: AtomicU64,
    ticks: AtomicU64,
}

impl MetricsCells {
    /// Publishes the timer thread's totals. Relaxed: plain statistics, nothing is synchronised
    /// through them.
    pub(crate) fn publish(&self, totals: &TimerMetrics) {
        self.pending.store(totals.pending, Ordering::Relaxed);
        self.fired.store(totals.fired, Ordering::Relaxed);
        self.cancelled.store(totals.cancelled, Ordering::Relaxed);
        self.ticks.store(totals.ticks, Ordering::Relaxed);
    }

    /// Reads the counters. Relaxed: see `publish`.
    pub(crate) fn read(&self) -> TimerMetrics {
        TimerMetrics {
            pending: self.pending.load(Ordering::Relaxed),
            fired: self.fired.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            ticks: self.ticks.load(Ordering::Relaxed),
        }
    }
}

/// Process-wide counters, read without blocking the timer thread. All zero before the first timer is
/// registered (the timer thread starts lazily).
///
/// ```
/// use std::time::Duration;
/// futures::executor::block_on(magpie_timer::sleep(Duration::from_millis(2)));
/// let m = magpie_timer::metrics();
/// assert!(m.fired >= 1 && m.ticks >= 1);
/// ```
pub fn metrics() -> TimerMetrics {
    crate::global::try_shared()
        .map(|shared| shared.metrics())
        .unwrap_or_default()
}
