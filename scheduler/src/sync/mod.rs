//! The concurrency primitives the scheduler is built from, in one place so that loom can replace them.
//!
//! Normally these are `std`'s atomics, mutexes and threads, crossbeam-deque's lock-free queues and
//! crossbeam-utils' `Parker`. Under `cfg(loom)` the atomics, mutexes, condition variables, threads and
//! thread-locals come from loom, and because crossbeam's deque and parker are built on `std` atomics
//! that loom cannot see, they are swapped for the small loom-built stand-ins in `loom_queue.rs`
//! (a `Mutex<VecDeque>` per queue, a `Mutex<bool>` + `Condvar` parker). Everything else, in
//! particular the parking protocol in `idle.rs` and the worker loop, is the same code in both builds,
//! which is what the loom models check.
//!
//! `Arc` is always `std::sync::Arc`: it is part of the public API (`Pool::shared`) and loom's `Arc` has
//! no `Weak`. Loom's leak checking is therefore not applied to `Shared`.

#[cfg(not(loom))]
pub(crate) use crossbeam_deque::{Injector, Stealer, Worker};
#[cfg(not(loom))]
pub(crate) use crossbeam_utils::sync::{Parker, Unparker};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Condvar, Mutex,
};
#[cfg(not(loom))]
pub(crate) use std::thread;

#[cfg(loom)]
mod loom_queue;
#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Condvar, Mutex,
};
#[cfg(loom)]
pub(crate) use loom::thread;
#[cfg(loom)]
pub(crate) use loom_queue::{Injector, Parker, Stealer, Unparker, Worker};

pub(crate) use crossbeam_deque::Steal;

/// How many rounds a worker spends looking for work before it announces that it is going to sleep.
/// Under loom one round keeps the explored state space small.
#[cfg(not(loom))]
pub(crate) const SEARCH_ROUNDS: usize = 3;
/// How many rounds a worker spends looking for work before it announces that it is going to sleep.
#[cfg(loom)]
pub(crate) const SEARCH_ROUNDS: usize = 1;

/// How long a searcher keeps looking (with a growing pause between rounds) before it goes to sleep.
/// A park/unpark round trip costs ~44 µs on the reference machine, and a worker that parks while a
/// sibling is still producing is woken again at once (spawn loops did this thousands of times): a
/// bounded search of about that length saves the round trip without keeping an idle runtime busy.
#[cfg(not(loom))]
pub(crate) const SEARCH_BUDGET: std::time::Duration = std::time::Duration::from_micros(40);

/// Tells the CPU (or loom) that this thread is spinning.
pub(crate) fn spin_hint() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Declares a thread-local `Cell`-like static: `std`'s with a `const` initializer normally (no lazy
/// initialisation check on the hot path), loom's under `cfg(loom)` (loom threads share one OS thread).
#[cfg(not(loom))]
macro_rules! scheduler_thread_local {
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;) => {
        std::thread_local!($(#[$attr])* static $name: $t = const { $init });
    };
}
/// Declares a thread-local static through loom, so each loom thread sees its own value.
#[cfg(loom)]
macro_rules! scheduler_thread_local {
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;) => {
        loom::thread_local!($(#[$attr])* static $name: $t = $init);
    };
}
pub(crate) use scheduler_thread_local;
