//! The concurrency primitives this crate uses, in one place so that `cfg(loom)` can swap them.
//!
//! Under normal builds these are the std atomics, a thin `UnsafeCell` wrapper with loom's closure-based
//! API, and crossbeam's `Parker`. Under `cfg(loom)` they are loom's atomics and cell, and a parker built
//! from a loom `Mutex` + `Condvar` (crossbeam's parker uses std atomics that loom cannot see). Loom has no
//! real time, so the loom parker only offers an untimed `park`; loom models drive the timer with an
//! explicit virtual `now` instead of sleeping.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(not(loom))]
pub(crate) use crossbeam_utils::sync::{Parker, Unparker};

#[cfg(loom)]
pub(crate) use self::loom_parker::{Parker, Unparker};

/// `std::cell::UnsafeCell` with loom's closure-based access API, so the same code compiles both ways.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a mutable raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
mod loom_parker {
    //! A loom-visible parker: a `notified` flag under a mutex plus a condition variable.
    use loom::sync::{Arc, Condvar, Mutex};

    #[derive(Debug)]
    struct Inner {
        notified: Mutex<bool>,
        condvar: Condvar,
    }

    /// The parking side; owned by the timer thread.
    #[derive(Debug)]
    pub(crate) struct Parker {
        unparker: Unparker,
    }

    /// The waking side; shared by every thread that registers timers.
    #[derive(Clone, Debug)]
    pub(crate) struct Unparker {
        inner: Arc<Inner>,
    }

    impl Parker {
        /// A parker with no pending notification.
        pub(crate) fn new() -> Self {
            Parker {
                unparker: Unparker {
                    inner: Arc::new(Inner {
                        notified: Mutex::new(false),
                        condvar: Condvar::new(),
                    }),
                },
            }
        }

        /// Blocks until notified, consuming the notification.
        pub(crate) fn park(&self) {
            let inner = &self.unparker.inner;
            let mut notified = inner.notified.lock().unwrap();
            while !*notified {
                notified = inner.condvar.wait(notified).unwrap();
            }
            *notified = false;
        }

        /// The waking side of this parker.
        pub(crate) fn unparker(&self) -> &Unparker {
            &self.unparker
        }
    }

    impl Unparker {
        /// Leaves a notification and wakes the parked thread, if any.
        pub(crate) fn unpark(&self) {
            *self.inner.notified.lock().unwrap() = true;
            self.inner.condvar.notify_one();
        }
    }
}
