//! The join-waker slot in one word: where a task keeps the waker of whoever awaits its `JoinHandle`.
//!
//! A `Waker` is two words (data and vtable), but the joiner is nearly always another magpie task,
//! whose waker's data is its task pointer and whose vtable is known. So the slot stores that pointer
//! alone, together with the reference the waker owned, and rebuilds the waker when it is taken. Any
//! other waker (a `block_on` thread's, a `JoinSet` entry's, another executor's) is boxed, and the
//! box's pointer is stored with its lowest bit set; both pointers are aligned to at least 4 bytes,
//! so the bit is free. A box is reused while the joiner keeps storing foreign wakers, so a handle
//! polled again and again allocates once. The eight bytes saved are what put a task with a small
//! future and output into a smaller malloc size class (see `raw.rs`); the price is that one 16-byte
//! box for a joiner that is not a magpie task.
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

impl JoinWaker {
    /// An empty slot.
    pub(crate) const fn empty() -> JoinWaker {
        JoinWaker(None)
    }

    /// Stores a clone of `waker`. Returns the waker stored before, if any, for the caller to drop
    /// where a panic of its `Drop` is contained.
    pub(crate) fn set(&mut self, waker: &Waker) -> Option<Waker> {
        let waker = waker.clone();
        if waker::is_task_waker(&waker) {
            // The clone's reference now belongs to the slot.
            let waker = ManuallyDrop::new(waker);
            let data = waker.data() as *mut ();
            let word = NonNull::new(data).expect("a task waker's data is its task pointer");
            return self.0.replace(word).map(Self::rebuild);
        }
        if let Some(boxed) = self.0.and_then(Self::boxed) {
            // SAFETY: the box is the slot's (`Self::boxed`), and `&mut self` is exclusive.
            return Some(std::mem::replace(unsafe { &mut *boxed.as_ptr() }, waker));
        }
        let boxed = NonNull::from(Box::leak(Box::new(waker))).cast::<()>();
        self.0
            .replace(boxed.map_addr(|addr| addr | BOXED))
            .map(Self::rebuild)
    }

    /// Takes the waker out, leaving the slot empty.
    pub(crate) fn take(&mut self) -> Option<Waker> {
        self.0.take().map(Self::rebuild)
    }

    /// The box a tagged word points to; `None` for a task waker's data.
    fn boxed(word: NonNull<()>) -> Option<NonNull<Waker>> {
        let tagged = word.addr().get() & BOXED != 0;
        let untagged = word.as_ptr().map_addr(|addr| addr & !BOXED).cast::<Waker>();
        tagged.then(|| NonNull::new(untagged).expect("a box is never at address 0"))
    }

    /// The waker a word stands for, which leaves the slot.
    fn rebuild(word: NonNull<()>) -> Waker {
        match Self::boxed(word) {
            // SAFETY: a tagged word came from `Box::leak` in `set`, and leaves the slot here once.
            Some(boxed) => *unsafe { Box::from_raw(boxed.as_ptr()) },
            // SAFETY: an untagged word is the data of a task waker whose reference the slot owned
            // (`set`); the rebuilt waker takes that reference over.
            None => unsafe { waker::from_task_data(word.as_ptr()) },
        }
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
    fn a_foreign_waker_is_boxed_and_comes_back_whole() {
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

    /// A joiner storing foreign wakers again and again reuses one box.
    #[test]
    fn a_box_is_reused_for_the_next_foreign_waker() {
        let mut slot = JoinWaker::empty();
        let counter = Arc::new(Counter::default());
        assert!(slot.set(&Waker::from(Arc::clone(&counter))).is_none());
        let first_box = slot.0.and_then(JoinWaker::boxed).expect("boxed");
        for _ in 0..3 {
            drop(slot.set(&Waker::from(Arc::clone(&counter))));
            assert_eq!(slot.0.and_then(JoinWaker::boxed), Some(first_box));
        }
        assert_eq!(Arc::strong_count(&counter), 2);
        slot.take().expect("stored").wake();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_slot_is_one_word() {
        assert_eq!(
            std::mem::size_of::<JoinWaker>(),
            std::mem::size_of::<usize>()
        );
    }
}
