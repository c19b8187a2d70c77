//! Hooks for the loom models in `tests/loom_*.rs` (compiled only under `cfg(loom)`; not public API).
//!
//! Loom has no real time and at most a handful of threads, so the models drive the real driver code
//! with an explicit virtual `now` instead of the process-wide timer thread: a [`Driver`] is the shared
//! state, a [`TimerThread`] the timer thread's private state, a [`Timer`] one owner (what a `Sleep`
//! holds).

use std::task::{Context, Poll};
use std::time::Instant;

use crate::driver::{Core, Shared};
use crate::registration::Registration;
use crate::sync::Parker;
use crate::TimerMetrics;

/// The state shared by owners and the timer thread.
#[derive(Debug)]
pub struct Driver {
    shared: Shared,
}

/// The timer thread's private state: its wheel and its parker.
#[derive(Debug)]
pub struct TimerThread {
    core: Core,
    parker: Parker,
}

/// One owner's timer (what a `Sleep` holds). Must be finished with [`Timer::cancel`].
#[derive(Debug, Default)]
pub struct Timer {
    registration: Registration,
}

impl Driver {
    /// A driver and its timer thread state, with the virtual clock at tick 0.
    pub fn new() -> (Driver, TimerThread) {
        let parker = Parker::new();
        let shared = Shared::new(Instant::now(), parker.unparker().clone());
        (
            Driver { shared },
            TimerThread {
                core: Core::new(0),
                parker,
            },
        )
    }

    /// The counters.
    pub fn metrics(&self) -> TimerMetrics {
        self.shared.metrics()
    }
}

impl TimerThread {
    /// One turn at virtual time `now`; returns the next tick to wake at.
    pub fn turn(&mut self, driver: &Driver, now: u64) -> Option<u64> {
        driver.shared.enter_awake();
        self.core.turn(&driver.shared, now)
    }

    /// The parking half of the loop: publishes `next` and parks unless a registration arrived. Loom
    /// reports a deadlock if a wake-up is lost.
    pub fn park(&mut self, driver: &Driver, next: Option<u64>) {
        if driver.shared.prepare_to_park(next) {
            self.parker.park();
        }
    }
}

impl Timer {
    /// An unregistered timer.
    pub fn new() -> Self {
        Timer::default()
    }

    /// Polls for deadline `tick`, registering on the first call.
    pub fn poll(&mut self, driver: &Driver, tick: u64, cx: &mut Context<'_>) -> Poll<()> {
        self.registration.poll_fired(&driver.shared, tick, cx)
    }

    /// Withdraws the registration (what `Sleep::reset` does).
    pub fn reset(&mut self, driver: &Driver) {
        self.registration.disarm(&driver.shared);
    }

    /// Gives the timer up (what dropping a `Sleep` does).
    pub fn cancel(mut self, driver: &Driver) {
        self.registration.release_with(&driver.shared);
    }
}
