//! `JoinHandle`: the awaitable, abortable handle to a spawned task.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::error::JoinError;
use super::id::Id;
use super::raw::{self, Header};
use super::state::COMPLETE;

/// An owned permission to await a task's output, like asyncio's `Task` object.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task panicked or was cancelled.
/// Dropping it detaches the task, which keeps running. [`abort`](JoinHandle::abort) cancels it.
///
/// ```
/// # magpie::block_on(async {
/// let handle = magpie::spawn(async { 6 * 7 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only reaches the output (a `T: Send`, as `spawn` requires) after the task
// completed, and the header through atomics.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only offers `abort`, `is_finished` and `id`, which use the atomic state.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a task whose output type is `T`, and the caller hands over the join reference.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the task alive.
        unsafe { self.raw.as_ref() }
    }

    /// Cancels the task: its future is dropped as soon as it is not being polled, and awaiting this
    /// handle then yields a cancelled [`JoinError`]. A task that already finished keeps its output.
    ///
    /// ```
    /// # magpie::block_on(async {
    /// let handle = magpie::spawn(std::future::pending::<()>());
    /// handle.abort();
    /// assert!(handle.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn abort(&self) {
        let action = self.header().state.transition_to_cancelled();
        // SAFETY: the transition accounted for any new reference.
        unsafe { raw::apply(self.raw, action) }
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.header().state.load().has(COMPLETE)
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: the handle owns a reference, and `out` has the type the task's vtable writes (`T`
        // is the task's output type, fixed at spawn). A handle that already returned the output
        // (and gave up JOIN_INTEREST) is refused there with a panic, before the stage is touched.
        unsafe {
            (self.header().vtable.try_read_output)(
                self.raw,
                &mut out as *mut Poll<Result<T, JoinError>> as *mut (),
                cx.waker(),
            )
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's reference is given up here, once, and its JOIN_INTEREST with it
        // unless a poll that returned the output gave that up already (`drop_join_handle` checks).
        unsafe { (self.header().vtable.drop_join_handle)(self.raw) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
