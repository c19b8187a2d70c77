//! The one place the executor reaches atomics, so that `cfg(loom)` can swap them for loom's.
//!
//! Only the task state word goes through here: it is the protocol the loom models in
//! `executor/tests/loom_state.rs` check. Everything else uses `std` directly.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
