//! Thread-local runtime context: which runtime `spawn` uses on this thread, and whether this thread
//! is already inside a runtime (so that a nested `block_on` is refused instead of deadlocking).

use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

use super::Handle;

/// The runtime this thread belongs to.
enum Slot {
    Empty,
    /// A worker thread started before its runtime's handle existed; resolved at first use (tasks
    /// only run once the runtime is built, so by then it is set).
    Pending(Arc<OnceLock<Handle>>),
    Ready(Handle),
}

thread_local! {
    static CURRENT: RefCell<Slot> = const { RefCell::new(Slot::Empty) };
    /// Set on worker threads for their whole life, and on any thread while it runs `block_on`.
    static ENTERED: Cell<bool> = const { Cell::new(false) };
}

/// Calls `f` with the current runtime's handle, if this thread has one.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    CURRENT.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            if let Slot::Pending(pending) = &*slot {
                if let Some(handle) = pending.get() {
                    *slot = Slot::Ready(handle.clone());
                }
            }
        }
        match &*slot.borrow() {
            Slot::Ready(handle) => f(Some(handle)),
            Slot::Pending(pending) => f(pending.get()),
            Slot::Empty => f(None),
        }
    })
}

/// Makes `handle` current until the guard drops (restoring what was current before).
pub(crate) fn set_current(handle: &Handle) -> CurrentGuard {
    let previous = CURRENT.with(|slot| slot.replace(Slot::Ready(handle.clone())));
    CurrentGuard {
        previous: Some(previous),
    }
}

/// Restores the previous current runtime on drop.
#[must_use]
pub(crate) struct CurrentGuard {
    previous: Option<Slot>,
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            // Drop the replaced handle after the borrow ends: dropping it may run arbitrary code.
            let replaced = CURRENT.with(|slot| slot.replace(previous));
            drop(replaced);
        }
    }
}

/// Called first thing on each worker thread.
pub(crate) fn enter_worker(handle: Arc<OnceLock<Handle>>) {
    ENTERED.with(|entered| entered.set(true));
    CURRENT.with(|slot| *slot.borrow_mut() = Slot::Pending(handle));
}

/// Called last thing on each worker thread: drops its handle, so a stopped runtime is freed.
pub(crate) fn exit_worker() {
    ENTERED.with(|entered| entered.set(false));
    let replaced = CURRENT.with(|slot| slot.replace(Slot::Empty));
    drop(replaced);
}

/// Marks the thread as inside a runtime for the guard's life.
///
/// # Panics
/// If it already is: blocking a worker (or an outer `block_on`) on a future that may need that very
/// thread to make progress could deadlock, so it is refused with a message naming the fix.
#[track_caller]
pub(crate) fn enter_block_on() -> EnterGuard {
    if ENTERED.with(|entered| entered.replace(true)) {
        panic!(
            "magpie: cannot call block_on from inside a magpie runtime (a worker thread or another \
             block_on): it would block the thread that runs the tasks. `.await` the future \
             instead, or run blocking code with magpie::task::spawn_blocking"
        );
    }
    EnterGuard(())
}

/// Whether this thread is a worker thread or inside a `block_on`.
pub(crate) fn is_entered() -> bool {
    ENTERED.with(Cell::get)
}

/// Clears the "inside a runtime" mark on drop.
#[must_use]
pub(crate) struct EnterGuard(());

impl Drop for EnterGuard {
    fn drop(&mut self) {
        ENTERED.with(|entered| entered.set(false));
    }
}
