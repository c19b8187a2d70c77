//! `JoinSet`: a set of spawned tasks awaited in the order they finish (asyncio's `as_completed`).
//!
//! Each entry's `JoinHandle` is polled with a waker of its own that, when the task completes, pushes
//! the entry's index onto a shared ready list and wakes whoever awaits `join_next`. So `join_next`
//! looks only at entries that may have finished: waiting for a million tasks costs a million polls,
//! not a million squared.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::error::JoinError;
use super::join::JoinHandle;

/// A collection of tasks, joined as they complete. Dropping the set aborts the tasks still in it.
///
/// ```
/// # magpie::block_on(async {
/// let mut set = magpie::task::JoinSet::new();
/// for i in 0..10 {
///     set.spawn(async move { i * 2 });
/// }
/// let mut sum = 0;
/// while let Some(result) = set.join_next().await {
///     sum += result.unwrap();
/// }
/// assert_eq!(sum, 90);
/// # });
/// ```
pub struct JoinSet<T> {
    entries: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    len: usize,
    ready: Arc<ReadyList>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Waker,
}

#[derive(Default)]
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

#[derive(Default)]
struct ReadyInner {
    indices: VecDeque<usize>,
    waiter: Option<Waker>,
}

struct EntryWaker {
    index: usize,
    ready: Arc<ReadyList>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiter = {
            let mut inner = self.ready.lock();
            inner.indices.push_back(self.index);
            inner.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl ReadyList {
    fn lock(&self) -> std::sync::MutexGuard<'_, ReadyInner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: Arc::default(),
        }
    }

    /// How many tasks the set holds (finished ones not yet joined included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Aborts every task in the set; they stay in it until joined (yielding cancelled errors,
    /// or their output if they finished first).
    pub fn abort_all(&self) {
        for entry in self.entries.iter().flatten() {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set, aborting them.
    pub fn shutdown_now(&mut self) {
        self.abort_all();
        self.entries.clear();
        self.free.clear();
        self.len = 0;
        self.ready.lock().indices.clear();
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime and adds it to the set.
    ///
    /// # Panics
    /// Outside a magpie runtime, like [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future));
    }

    /// Spawns `future` on the runtime of `handle` and adds it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &crate::runtime::Handle)
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future));
    }

    fn insert(&mut self, handle: JoinHandle<T>) {
        let index = self.free.pop().unwrap_or(self.entries.len());
        let waker = Waker::from(Arc::new(EntryWaker {
            index,
            ready: Arc::clone(&self.ready),
        }));
        let entry = Some(Entry { handle, waker });
        if index == self.entries.len() {
            self.entries.push(entry);
        } else {
            self.entries[index] = entry;
        }
        self.len += 1;
        // The first poll registers the entry's waker with its task.
        self.ready.lock().indices.push_back(index);
    }

    /// Waits for the next task to finish and returns its result, or `None` if the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The poll form of [`join_next`](JoinSet::join_next).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        loop {
            let next = {
                let mut ready = self.ready.lock();
                match ready.indices.pop_front() {
                    Some(index) => index,
                    None => {
                        ready.waiter = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                }
            };
            // An index may be stale (its entry was joined and the slot reused): polling a live
            // handle spuriously is harmless.
            let Some(entry) = self.entries.get_mut(next).and_then(Option::as_mut) else {
                continue;
            };
            let mut entry_cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(result) = Pin::new(&mut entry.handle).poll(&mut entry_cx) {
                self.entries[next] = None;
                self.free.push(next);
                self.len -= 1;
                return Poll::Ready(Some(result));
            }
        }
    }

    /// Awaits every task, returning their results in completion order.
    pub async fn join_all(mut self) -> Vec<Result<T, JoinError>> {
        let mut results = Vec::with_capacity(self.len);
        while let Some(result) = self.join_next().await {
            results.push(result);
        }
        results
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
