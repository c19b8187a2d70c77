//! The join-waker slot: where a task keeps the waker of whoever awaits its `JoinHandle`.
//!
//! A plain `Option<Waker>` (two words), behind a small API whose one rule is that a waker leaving
//! the slot goes back to the caller, to be dropped (or woken) where a panic of that foreign code is
//! contained: the slot never drops a waker inside the runtime's own bookkeeping, except on the final
//! free, which contains it itself.
//!
//! Tried and measured, not kept (commit `a17cd41`): a one-word slot that kept a magpie task's waker
//! as its bare task pointer and boxed any other waker. It saved 8 bytes in every task header, 15 MiB
//! at a million no-op tasks; but every handle awaited from outside a magpie task while pending
//! (`futures::future::join_all`, whose large form polls each handle with a waker of its own, a
//! `JoinSet` entry, `block_on`) then cost a 16-byte allocation, freed on another thread at
//! completion. `join_all` over a million handles sleeping 300 ms
//! (`cargo run --release -p magpie-benches --bin join_all`, the same file built against each
//! commit, seven alternating runs, medians) took 0.79 s before, 0.91 s with the one-word slot, and
//! 0.77 s with this one.
//!
//! Who may touch the slot is decided by the task's state word (`JOIN_WAKER`, see `state.rs`); this
//! type is a plain value and needs `&mut`.

use std::task::Waker;

/// An optional `Waker`.
pub(crate) struct JoinWaker(Option<Waker>);

impl JoinWaker {
    /// An empty slot.
    pub(crate) const fn empty() -> JoinWaker {
        JoinWaker(None)
    }

    /// Stores a clone of `waker`, reusing the stored one if it would wake the same task. Returns
    /// the waker stored before, if it was replaced, for the caller to drop where a panic of its
    /// `Drop` is contained.
    pub(crate) fn set(&mut self, waker: &Waker) -> Option<Waker> {
        match &self.0 {
            Some(stored) if stored.will_wake(waker) => None,
            _ => self.0.replace(waker.clone()),
        }
    }

    /// Takes the waker out, leaving the slot empty.
    pub(crate) fn take(&mut self) -> Option<Waker> {
        self.0.take()
    }
}

impl Drop for JoinWaker {
    /// Normally empty by now (the completion or the handle took the waker); a foreign waker's
    /// `Drop` must not unwind into whoever freed the task.
    fn drop(&mut self) {
        let waker = self.take();
        super::raw::contain(|| drop(waker));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_stored_waker_comes_back_whole_once() {
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(Arc::clone(&counter));
        let mut slot = JoinWaker::empty();
        assert!(slot.take().is_none());
        assert!(slot.set(&waker).is_none());
        assert_eq!(Arc::strong_count(&counter), 3, "the slot holds a clone");
        let taken = slot.take().expect("stored");
        taken.wake();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(slot.take().is_none(), "taken once");
        assert_eq!(Arc::strong_count(&counter), 2);
    }

    #[test]
    fn replacing_or_dropping_the_slot_drops_the_stored_waker() {
        let first = Arc::new(Counter::default());
        let second = Arc::new(Counter::default());
        let mut slot = JoinWaker::empty();
        assert!(slot.set(&Waker::from(Arc::clone(&first))).is_none());
        let replaced = slot.set(&Waker::from(Arc::clone(&second)));
        assert_eq!(Arc::strong_count(&first), 2, "handed back, not dropped");
        drop(replaced);
        assert_eq!(Arc::strong_count(&first), 1);
        assert_eq!(Arc::strong_count(&second), 2);
        drop(slot);
        assert_eq!(
            Arc::strong_count(&second),
            1,
            "dropping the slot drops its waker"
        );
        assert_eq!(
            first.0.load(Ordering::SeqCst) + second.0.load(Ordering::SeqCst),
            0
        );
    }

    /// Storing a waker that would wake the same task again keeps the stored one.
    #[test]
    fn the_same_waker_is_not_stored_twice() {
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(Arc::clone(&counter));
        let mut slot = JoinWaker::empty();
        assert!(slot.set(&waker).is_none());
        let again = slot.set(&waker);
        // `will_wake` is best effort: under Miri, vtable addresses may differ between clones.
        if !cfg!(miri) {
            assert!(again.is_none(), "nothing replaced");
        }
        drop(again);
        assert_eq!(Arc::strong_count(&counter), 3, "one clone in the slot");
    }
}
