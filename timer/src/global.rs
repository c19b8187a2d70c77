//! The process-wide timer: one [`Shared`] and one timer thread, started lazily by the first
//! registration (a `Sleep` that completes on its first poll starts nothing).
//!
//! The thread's loop: mark itself awake, run one [`Core::turn`] at the current tick, publish the tick
//! it will sleep until, and park until then unless a registration slipped in meanwhile. It is woken
//! early only by a registration earlier than that tick or by the cancellation sweep protocol (see
//! `driver`). The thread never exits: it holds no resources beyond the wheel and is idle when no timer
//! is pending.

#[cfg(not(loom))]
use std::sync::OnceLock;
#[cfg(not(loom))]
use std::time::Instant;

#[cfg(not(loom))]
use crate::driver::Core;
use crate::driver::Shared;
#[cfg(not(loom))]
use crate::sync::Parker;

/// The shared state, leaked once so the timer thread and every `Sleep` can borrow it for `'static`.
#[cfg(not(loom))]
static SHARED: OnceLock<&'static Shared> = OnceLock::new();

/// The process-wide driver, starting the timer thread on first use.
#[cfg(not(loom))]
pub(crate) fn shared() -> &'static Shared {
    SHARED.get_or_init(start)
}

/// Under loom there is no process-wide timer: models build their own driver.
#[cfg(loom)]
pub(crate) fn shared() -> &'static Shared {
    panic!("magpie-timer: the global timer is not available under loom; use `magpie_timer::loom_model`")
}

/// The process-wide driver if the timer thread was started.
#[cfg(not(loom))]
pub(crate) fn try_shared() -> Option<&'static Shared> {
    SHARED.get().copied()
}

/// Under loom the process-wide timer never starts.
#[cfg(loom)]
pub(crate) fn try_shared() -> Option<&'static Shared> {
    None
}

/// Creates the shared state and spawns the timer thread.
#[cfg(not(loom))]
fn start() -> &'static Shared {
    let parker = Parker::new();
    let shared: &'static Shared = Box::leak(Box::new(Shared::new(
        Instant::now(),
        parker.unparker().clone(),
    )));
    std::thread::Builder::new()
        .name("magpie-timer".into())
        .spawn(move || run(shared, parker))
        .expect("magpie-timer: could not spawn the timer thread");
    shared
}

/// The timer thread's loop.
#[cfg(not(loom))]
fn run(shared: &'static Shared, parker: Parker) {
    let mut core = Core::new(shared.now_tick());
    loop {
        shared.enter_awake();
        let now = shared.now_tick();
        let next = core.turn(shared, now);
        if next.is_some_and(|tick| tick <= shared.now_tick()) {
            continue;
        }
        if !shared.prepare_to_park(next) {
            continue;
        }
        match next.and_then(|tick| shared.instant_of(tick)) {
            Some(deadline) => parker.park_deadline(deadline),
            None => parker.park(),
        }
    }
}
