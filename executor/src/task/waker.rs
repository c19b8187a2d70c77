//! Wakers are reference counts on the task's state word, behind a raw waker vtable: no allocation,
//! no `Arc<Mutex<..>>` per task.
//!
//! The waker's data pointer is the task's `NonNull<Header>`. Cloning adds a reference, dropping
//! releases one, `wake` turns the waker's reference into the queued one when the task is idle
//! (`transition_to_notified_by_val`), and `wake_by_ref` takes a new reference for the queue.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{self, Header};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker that borrows a reference the caller holds; the caller must not drop it (wrap it in
/// `ManuallyDrop`). Clones made from it own references of their own.
///
/// # Safety
/// `ptr` is a live task, and the caller keeps a reference for as long as the waker is used.
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> Waker {
    // SAFETY: VTABLE's functions uphold the RawWaker contract for a task pointer (see each one).
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) }
}

/// # Safety
/// `data` is the pointer of a waker made by this module, so a live task with a reference held by
/// that waker (or by whoever lent it).
unsafe fn header<'a>(data: *const ()) -> (NonNull<Header>, &'a Header) {
    // SAFETY: wakers are only built from non-null task pointers.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: the waker's reference keeps the task alive.
    (ptr, unsafe { ptr.as_ref() })
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: called on a waker of ours.
    let (_, header) = unsafe { header(data) };
    header.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: called on a waker of ours, which owns one reference.
    let (ptr, header) = unsafe { header(data) };
    let action = header.state.transition_to_notified_by_val();
    // SAFETY: the transition accounted for the waker's reference.
    unsafe { raw::apply(ptr, action) }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: called on a waker of ours.
    let (ptr, header) = unsafe { header(data) };
    let action = header.state.transition_to_notified_by_ref();
    // SAFETY: a Submit came with a new reference.
    unsafe { raw::apply(ptr, action) }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: called on a waker of ours, which owns one reference.
    let (ptr, _) = unsafe { header(data) };
    // SAFETY: the waker's reference is given up here.
    unsafe { raw::release(ptr) }
}
