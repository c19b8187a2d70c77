//! Loom-visible stand-ins for crossbeam's `Injector`, `Worker`, `Stealer` and `Parker`.
//!
//! crossbeam-deque and crossbeam-utils use `std` atomics that loom cannot instrument, so under
//! `cfg(loom)` the scheduler uses these instead. They keep the same method names and the same
//! semantics that the scheduler relies on (FIFO order; `steal_batch_and_pop` moves about half of the
//! source into the destination and returns one task; a parker keeps at most one token), built from a
//! loom `Mutex<VecDeque>` and a loom `Mutex<bool>` + `Condvar`. They never return `Steal::Retry`.

use crossbeam_deque::Steal;
use loom::sync::{Arc, Condvar, Mutex};
use std::collections::VecDeque;

/// Moves about half of `source` (at least one task, at most `limit`) into `dest`, returning the first.
/// The source lock is released before the destination lock is taken (two workers stealing from each
/// other must not deadlock).
fn take_half<T>(source: &Mutex<VecDeque<T>>, dest: &Worker<T>, limit: usize) -> Steal<T> {
    let (first, rest) = {
        let mut source = source.lock().unwrap();
        let count = source.len().div_ceil(2).min(limit.max(1));
        let Some(first) = source.pop_front() else {
            return Steal::Empty;
        };
        let rest: Vec<T> = source.drain(..count - 1).collect();
        (first, rest)
    };
    dest.queue.lock().unwrap().extend(rest);
    Steal::Success(first)
}

/// Stand-in for `crossbeam_deque::Injector`.
pub(crate) struct Injector<T> {
    queue: Mutex<VecDeque<T>>,
}

impl<T> Injector<T> {
    pub(crate) fn new() -> Self {
        Injector {
            queue: Mutex::new(VecDeque::new()),
        }
    }
    pub(crate) fn push(&self, task: T) {
        self.queue.lock().unwrap().push_back(task);
    }
    pub(crate) fn steal(&self) -> Steal<T> {
        self.queue
            .lock()
            .unwrap()
            .pop_front()
            .map_or(Steal::Empty, Steal::Success)
    }
    pub(crate) fn steal_batch_with_limit_and_pop(
        &self,
        dest: &Worker<T>,
        limit: usize,
    ) -> Steal<T> {
        take_half(&self.queue, dest, limit)
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().unwrap().is_empty()
    }
    pub(crate) fn len(&self) -> usize {
        self.queue.lock().unwrap().len()
    }
}

/// Stand-in for `crossbeam_deque::Worker` (FIFO flavour only).
pub(crate) struct Worker<T> {
    queue: Arc<Mutex<VecDeque<T>>>,
}

impl<T> Worker<T> {
    pub(crate) fn new_fifo() -> Self {
        Worker {
            queue: Arc::new(Mutex::new(VecDeque::new())),
        }
    }
    pub(crate) fn push(&self, task: T) {
        self.queue.lock().unwrap().push_back(task);
    }
    pub(crate) fn pop(&self) -> Option<T> {
        self.queue.lock().unwrap().pop_front()
    }
    pub(crate) fn stealer(&self) -> Stealer<T> {
        Stealer {
            queue: self.queue.clone(),
        }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().unwrap().is_empty()
    }
    pub(crate) fn len(&self) -> usize {
        self.queue.lock().unwrap().len()
    }
}

/// Stand-in for `crossbeam_deque::Stealer`.
pub(crate) struct Stealer<T> {
    queue: Arc<Mutex<VecDeque<T>>>,
}

impl<T> Stealer<T> {
    pub(crate) fn steal(&self) -> Steal<T> {
        self.queue
            .lock()
            .unwrap()
            .pop_front()
            .map_or(Steal::Empty, Steal::Success)
    }
    pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
        if Arc::ptr_eq(&self.queue, &dest.queue) {
            return Steal::Empty;
        }
        take_half(&self.queue, dest, usize::MAX)
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().unwrap().is_empty()
    }
    pub(crate) fn len(&self) -> usize {
        self.queue.lock().unwrap().len()
    }
}

/// The state shared by a [`Parker`] and its [`Unparker`]s: one token and a condition variable.
struct ParkState {
    token: Mutex<bool>,
    condvar: Condvar,
}

/// Stand-in for `crossbeam_utils::sync::Parker`.
pub(crate) struct Parker {
    state: Arc<ParkState>,
    unparker: Unparker,
}

impl Parker {
    pub(crate) fn new() -> Self {
        let state = Arc::new(ParkState {
            token: Mutex::new(false),
            condvar: Condvar::new(),
        });
        Parker {
            unparker: Unparker {
                state: state.clone(),
            },
            state,
        }
    }
    /// Blocks until a token is available, then consumes it.
    pub(crate) fn park(&self) {
        let mut token = self.state.token.lock().unwrap();
        while !*token {
            token = self.state.condvar.wait(token).unwrap();
        }
        *token = false;
    }
    pub(crate) fn unparker(&self) -> &Unparker {
        &self.unparker
    }
}

/// Stand-in for `crossbeam_utils::sync::Unparker`.
#[derive(Clone)]
pub(crate) struct Unparker {
    state: Arc<ParkState>,
}

impl Unparker {
    /// Makes a token available and wakes the parked thread, if any.
    pub(crate) fn unpark(&self) {
        *self.state.token.lock().unwrap() = true;
        self.state.condvar.notify_one();
    }
}
