//! The join-waker slot in one word: where a task keeps the waker of whoever awaits its `JoinHandle`.
//!
//! A `Waker` is two words (data and vtable), but the joiner is nearly always another magpie task,
//! whose waker's data is its task pointer and whose vtable is known. So the slot stores that pointer
//! alone, together with the reference the waker owned, and rebuilds the waker when it is taken. Any
//! other waker (a `block_on` thread's, another executor's) is boxed, and the box's pointer is stored
//! with its lowest bit set; both pointers are 8-aligned, so the bit is free. The eight bytes saved
//! are what put a task with a small future and output into a smaller malloc size class (see
//! `raw.rs`).
//!
//! Who may touch the slot is decided by the task's state word (`JOIN_WAKER`, see `state.rs`); this
//! type is a plain value and needs `&mut`.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Waker;

use super::waker;

/// The tag of a boxed waker.
const BOXED: usize = 1;

/// An optional `Waker` in one word.
pub(crate) struct JoinWaker(Option<NonNull<()>>);

// SAFETY: the slot holds either a magpie task waker's data (a task pointer with one reference, which
// wakers already share across threads) or a boxed `Waker`, which is `Send + Sync`.
unsafe impl Send for JoinWaker {}
// SAFETY: as above; `&JoinWaker` offers nothing.
unsafe impl Sync for JoinWaker {}

impl JoinWaker {
    /// An empty slot.
    pub(crate) const fn empty() -> JoinWaker {
        JoinWaker(None)
    }

    /// Stores a clone of `waker`, dropping the waker stored before, if any.
    pub(crate) fn set(&mut self, waker: &Waker) {
        let waker = waker.clone();
        let word = if waker::is_task_waker(&waker) {
            // The clone's reference now belongs to the slot.
            let waker = ManuallyDrop::new(waker);
            NonNull::new(waker.data() as *mut ()).expect("a task waker's data is its task pointer")
        } else {
            let boxed = NonNull::from(Box::leak(Box::new(waker))).cast::<()>();
            boxed.map_addr(|addr| addr | BOXED)
        };
        drop(self.0.replace(word).map(Self::rebuild));
    }

    /// Takes the waker out, leaving the slot empty.
    pub(crate) fn take(&mut self) -> Option<Waker> {
        self.0.take().map(Self::rebuild)
    }

    fn rebuild(word: NonNull<()>) -> Waker {
        if word.addr().get() & BOXED == 0 {
            // SAFETY: an untagged word is the data of a task waker whose reference the slot owned
            // (`set`); the rebuilt waker takes that reference over.
            unsafe { waker::from_task_data(word.as_ptr()) }
        } else {
            let boxed = word.as_ptr().map_addr(|addr| addr & !BOXED).cast::<Waker>();
            // SAFETY: a tagged word came from `Box::leak` in `set`, and leaves the slot here once.
            *unsafe { Box::from_raw(boxed) }
        }
    }
}

impl Drop for JoinWaker {
    fn drop(&mut self) {
        drop(self.take());
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
    fn a_foreign_waker_is_boxed_and_comes_back_whole() {
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(Arc::clone(&counter));
        let mut slot = JoinWaker::empty();
        assert!(slot.take().is_none());
        slot.set(&waker);
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
        slot.set(&Waker::from(Arc::clone(&first)));
        slot.set(&Waker::from(Arc::clone(&second)));
        assert_eq!(
            Arc::strong_count(&first),
            1,
            "the replaced waker was dropped"
        );
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

    #[test]
    fn the_slot_is_one_word() {
        assert_eq!(
            std::mem::size_of::<JoinWaker>(),
            std::mem::size_of::<usize>()
        );
    }
}
