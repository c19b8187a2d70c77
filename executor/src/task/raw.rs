//! The raw task: one heap allocation holding the header, the future and later its output.
//!
//! ```text
//! Cell<F, M> (#[repr(C)], one Box)
//! ┌──────── Header (64 bytes, same layout for every F) ────────┐┌──────── Stage<F> ────────┐┌ M ┐
//! │ state │ vtable │ owned-list links │ id │ runtime │ join waker ││  future  or  output  ││   │
//! └─────────────────────────────────────────────────────────────┘└──────────────────────────┘└───┘
//! ```
//!
//! Everything that does not depend on the future's type sits in the [`Header`] at offset 0, so code
//! that holds only a `NonNull<Header>` (wakers, the scheduler's queues, the owned-task list) reaches it
//! without knowing `F`. What does depend on `F` — polling, reading the output, freeing — goes through
//! the [`Vtable`], one static instance per future type (and trailer type, below).
//!
//! Rarely used metadata (a task's name) is the cell's trailer `M`, after the stage: `()` for the
//! common unnamed task, which so pays nothing for it, [`TaskMeta`] for a named one. The header reaches
//! it through the vtable. Because the trailer comes last, the stage's offset does not depend on `M`.
//!
//! Ownership follows the state word ([`super::state`]): each reference is one of a [`Notified`] in a
//! queue, a `Waker`, the `JoinHandle`, or the runtime's owned-task list; the last one to be released
//! frees the cell. Only the thread that set `RUNNING` touches the stage while the future is alive.
//!
//! A task joins the owned-task list only when its first poll returns `Pending` (`LISTED` in the state
//! word). Until then it is in a queue or running; a queued run that is dropped unrun (the scheduler
//! shut down) puts its never-polled task on the list for shutdown's drain, or, once the list is
//! closed, cancels it itself. So a task that completes on its first poll, most short tasks, never
//! takes the list's lock, while shutdown still drops every unfinished future.

use std::any::Any;
use std::cell::{Cell as StdCell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::error::{JoinError, Repr};
use super::id::Id;
use super::join_waker::JoinWaker;
use super::list::Links;
use super::state::{
    IdleAction, RunAction, State, WakeAction, COMPLETE, INITIAL, JOIN_INTEREST, JOIN_WAKER, LISTED,
    RUNNING, UNLINK_DEFERRED,
};
use super::waker;
use crate::runtime::Shared;

/// Optional, rarely used task metadata, stored after the stage of named tasks only.
pub(crate) struct TaskMeta {
    pub(crate) name: Box<str>,
}

/// What a cell carries after its stage.
trait Trailer: Send + Sync + 'static {
    fn name(&self) -> Option<&str>;
}

impl Trailer for () {
    fn name(&self) -> Option<&str> {
        None
    }
}

impl Trailer for TaskMeta {
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}

/// The type-independent part of a task. `#[repr(C)]` and first in [`Cell`], so a `NonNull<Header>`
/// and a `NonNull<Cell<F, M>>` are the same address.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// Links of the runtime's owned-task list; guarded by that list's shard lock.
    pub(crate) links: Links,
    pub(crate) id: Id,
    /// The runtime the task re-schedules itself on. An `Arc`, because wakers may outlive the runtime.
    pub(crate) runtime: Arc<Shared>,
    /// The `JoinHandle`'s waker; who may touch it is decided by `JOIN_WAKER` and `COMPLETE`.
    pub(crate) join_waker: UnsafeCell<JoinWaker>,
}

/// Calls `f` with the name of the task at `ptr`, if it has one. The name cannot outlive the call.
///
/// Takes the task pointer rather than `&Header`: the name lies beyond the header, outside what a
/// reference to the header may reach.
///
/// # Safety
/// `ptr` is a live task, and the caller holds a reference to it for the whole call.
unsafe fn with_task_name<R>(ptr: NonNull<Header>, f: impl FnOnce(Option<&str>) -> R) -> R {
    // SAFETY: live per the contract; the trailer is in the same allocation and never written after
    // `allocate_cell`, so the name stays valid while the caller's reference keeps the task alive.
    let name = unsafe { (ptr.as_ref().vtable.name)(ptr).map(|name| &*name.as_ptr()) };
    f(name)
}

/// Operations that need the future's type.
pub(crate) struct Vtable {
    /// Runs a dequeued `Notified`, consuming its reference.
    pub(crate) run: unsafe fn(NonNull<Header>),
    /// Frees the cell (the last reference is gone).
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: writes `Poll<Result<T, JoinError>>` to the pointer when complete, else
    /// registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// `drop(JoinHandle)`: gives up join interest, drops the output or the waker it owns, and
    /// releases the handle's reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: drops the future of a task that `transition_to_shutdown` claimed, and
    /// completes it as cancelled, consuming one reference the caller owns.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// The task's name, read from the cell's trailer.
    pub(crate) name: unsafe fn(NonNull<Header>) -> Option<NonNull<str>>,
}

/// The future, and in its place once it is gone, the output. Which of the two is there is told by
/// the state word, not by a tag of the stage's own, so a task's cell is only as large as the larger
/// of the two (an enum's tag cost a 16-byte malloc size class for the common sleeping task):
///
/// - `future`: from spawn until the completion drops it, under `RUNNING` (`complete`);
/// - `output`: written by the completion before it sets `COMPLETE`, if the `JoinHandle` still had
///   `JOIN_INTEREST` then, until the handle takes it (giving up `JOIN_INTEREST` as it does) or drops
///   it; without a handle the completion drops it at once;
/// - nothing after that. Freeing the cell drops neither field: every path to the last reference has
///   completed the task and consumed the output (a leak, never a double drop, if that were wrong).
///
/// Only the `RUNNING` owner, or the output's owner after `COMPLETE`, touches it.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Result<F::Output, Repr>>,
}

#[repr(C)]
struct Cell<F: Future, M = ()> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
    trailer: M,
}

/// A task handed to the scheduler: it owns one reference and runs the task once.
pub(crate) struct Notified(NonNull<Header>);

// SAFETY: the header is shared through atomics and the owned-list lock; the future (which is `Send`,
// as every `spawn` requires) is only touched by the thread that claimed `RUNNING`.
unsafe impl Send for Notified {}

impl Notified {
    /// # Safety
    /// `ptr` must be a live task, and the caller must give this value one reference it owns,
    /// taken for a queued run (`SCHEDULED` set).
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        Notified(ptr)
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the reference this value owns keeps the cell alive.
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        ManuallyDrop::new(self).0
    }
}

impl magpie_scheduler::Runnable for Notified {
    fn run(self) {
        let ptr = self.into_raw();
        // SAFETY: `ptr` is live (we owned a reference) and `run` takes over that reference.
        unsafe { (ptr.as_ref().vtable.run)(ptr) }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // A queued run that will never happen: the scheduler (or the blocking pool) shut down, and
        // whoever holds the run drops it, possibly a thread that is only waking or spawning. A
        // listed task is left to the list's drain, and a task that was never polled is put on the
        // list for it: so the futures are dropped on the thread that shuts the runtime down, never
        // inside some other thread's `wake` (tokio #2046). Only once the list is closed is the
        // future dropped here: then this is a spawn after shutdown, or a straggler of one.
        let ptr = self.0;
        // SAFETY: this value owns one reference, which keeps the task alive.
        let state = unsafe { ptr.as_ref() }.state.load();
        // SAFETY: as above; the task is queued (we hold its run) and was never polled.
        if state.has(LISTED) || state.has(RUNNING) || state.has(COMPLETE) || unsafe { list(ptr) } {
            // SAFETY: this value owned one reference (a listed task's list holds its own).
            unsafe { release(ptr) };
            return;
        }
        // SAFETY: this value owns one reference.
        unsafe { shut_down(ptr) }
    }
}

/// Runtime shutdown for one task, giving up one reference the caller owns: claims the task and drops
/// its future if it is idle or queued, else (running elsewhere, flagged `CANCELLED`, or complete)
/// only releases the reference.
///
/// # Safety
/// The caller owns one reference to a live task and gives it up.
pub(crate) unsafe fn shut_down(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the task alive.
    if unsafe { ptr.as_ref() }.state.transition_to_shutdown() {
        // SAFETY: the transition gave us RUNNING; the completion consumes the caller's reference.
        unsafe { (ptr.as_ref().vtable.shutdown)(ptr) }
    } else {
        // SAFETY: the caller's reference.
        unsafe { release(ptr) }
    }
}

/// Releases one reference to the task at `ptr`, freeing it if that was the last.
///
/// # Safety
/// The caller owns one reference to a live task and gives it up.
pub(crate) unsafe fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until `ref_dec`.
    let last = unsafe { ptr.as_ref() }.state.ref_dec();
    if last {
        // SAFETY: that was the last reference: nobody else can reach the cell.
        unsafe { (ptr.as_ref().vtable.dealloc)(ptr) }
    }
}

/// Allocates a task; returns the `Notified` to queue and the raw pointer the `JoinHandle` owns. The
/// task joins the owned-task list later, if its first poll returns `Pending` (`list`).
pub(crate) fn allocate<F>(
    future: F,
    runtime: Arc<Shared>,
    id: Id,
    meta: Option<TaskMeta>,
) -> (Notified, NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let ptr = match meta {
        None => allocate_cell(future, runtime, id, ()),
        Some(meta) => allocate_cell(future, runtime, id, meta),
    };
    (Notified(ptr), ptr)
}

fn allocate_cell<F, M>(future: F, runtime: Arc<Shared>, id: Id, trailer: M) -> NonNull<Header>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    M: Trailer,
{
    // `stage::<F>` reads the stage through `Cell<F, ()>`: the trailer must not move it.
    debug_assert_eq!(
        std::mem::offset_of!(Cell<F, M>, stage),
        std::mem::offset_of!(Cell<F>, stage)
    );
    let cell = Box::new(Cell {
        header: Header {
            state: State::new(INITIAL),
            vtable: vtable::<F, M>(),
            links: Links::new(),
            id,
            runtime,
            join_waker: UnsafeCell::new(JoinWaker::empty()),
        },
        stage: UnsafeCell::new(Stage {
            future: ManuallyDrop::new(future),
        }),
        trailer,
    });
    NonNull::from(Box::leak(cell)).cast::<Header>()
}

fn vtable<F, M>() -> &'static Vtable
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    M: Trailer,
{
    &Vtable {
        run: run::<F>,
        dealloc: dealloc::<F, M>,
        try_read_output: try_read_output::<F>,
        drop_join_handle: drop_join_handle::<F>,
        shutdown: shutdown::<F>,
        name: name::<F, M>,
    }
}

/// # Safety
/// `ptr` must point at the header of a live `Cell<F, M>` (any `M`).
unsafe fn stage<'a, F: Future>(ptr: NonNull<Header>) -> &'a UnsafeCell<Stage<F>> {
    // SAFETY: `Cell` is `#[repr(C)]` with the header first and the trailer last, so the stage sits
    // at the same offset in every `Cell<F, M>`, and `Cell<F, ()>` is a prefix of the real cell.
    unsafe { &ptr.cast::<Cell<F>>().as_ref().stage }
}

/// # Safety
/// `ptr` must point at the header of a live `Cell<F, M>`.
unsafe fn name<F: Future, M: Trailer>(ptr: NonNull<Header>) -> Option<NonNull<str>> {
    let cell = ptr.cast::<Cell<F, M>>().as_ptr();
    // SAFETY: the pointers coincide (`#[repr(C)]`, header first) and the cell is live. Only the
    // trailer is borrowed (no reference to the whole cell, whose stage another `&mut` may hold).
    let trailer = unsafe { &*std::ptr::addr_of!((*cell).trailer) };
    trailer.name().map(NonNull::from)
}

unsafe fn run<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the caller passes the dequeued reference, which keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    match header.state.transition_to_running() {
        RunAction::Poll => {}
        RunAction::Cancel => {
            // SAFETY: we hold RUNNING and the run's reference.
            unsafe { cancel_and_complete::<F>(ptr) };
            return;
        }
        RunAction::Done => {
            // SAFETY: the dequeued reference is ours to release.
            unsafe { release(ptr) };
            return;
        }
    }

    // The waker borrows the run's reference: no count change for the common case where the task
    // does not clone it.
    // SAFETY: the run's reference outlives this poll.
    let waker = ManuallyDrop::new(unsafe { waker::borrowed(ptr) });
    let mut cx = Context::from_waker(&waker);
    let poll = {
        #[cfg(feature = "tracing")]
        // SAFETY: the run's reference keeps the task alive.
        let _span = unsafe {
            with_task_name(ptr, |name| {
                tracing::trace_span!("poll", task.id = header.id.as_u64(), task.name = name)
                    .entered()
            })
        };
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: RUNNING gives this thread the stage, which holds the future until the
            // completion (a completed task is never run: `transition_to_running`).
            let future = unsafe { &mut (*stage::<F>(ptr).get()).future };
            // SAFETY: the future is never moved out of its heap cell while it is alive (the
            // completion drops it in place), so pinning it there is sound.
            unsafe { Pin::new_unchecked(&mut **future) }.poll(&mut cx)
        }))
    };

    match poll {
        // The first `Pending`: put the task on the owned-task list before anyone can wake it from
        // idle. Refused after shutdown: then nothing would ever drop the future, so drop it now.
        // SAFETY: still RUNNING, with the run's reference.
        Ok(Poll::Pending) if !header.state.load().has(LISTED) && !unsafe { list(ptr) } => {
            // SAFETY: still RUNNING, with the run's reference.
            unsafe { cancel_and_complete::<F>(ptr) }
        }
        Ok(Poll::Pending) => match header.state.transition_to_idle() {
            IdleAction::Idle => {}
            IdleAction::Reschedule => {
                // `run` is only called on threads whose context holds a `Handle` (workers and blocking
                // threads), so the runtime outlives this call even if the task is freed meanwhile.
                // SAFETY: the run's reference is reused for the re-queued run.
                let notified = unsafe { Notified::from_raw(ptr) };
                header.runtime.schedule_yield(notified);
            }
            // SAFETY: still RUNNING, with the run's reference.
            IdleAction::Cancel => unsafe { cancel_and_complete::<F>(ptr) },
        },
        Ok(Poll::Ready(output)) => {
            // SAFETY: still RUNNING, with the run's reference.
            unsafe { complete::<F>(ptr, Ok(output)) }
        }
        Err(panic) => {
            #[cfg(feature = "tracing")]
            // SAFETY: the run's reference keeps the task alive.
            unsafe {
                with_task_name(ptr, |name| {
                    tracing::debug!(
                        task.id = header.id.as_u64(),
                        task.name = name,
                        "task panicked"
                    )
                })
            };
            // SAFETY: still RUNNING, with the run's reference.
            unsafe { complete::<F>(ptr, Err(Repr::Panic(panic))) }
        }
    }
}

/// Puts a task on the runtime's owned-task list, with the list's reference. `false` if the list is
/// closed (the runtime shut down): the task is then not listed, as before.
///
/// # Safety
/// The task is live and not listed, and nobody else can list it: the caller holds `RUNNING`, or
/// holds the queued run of a task that was never polled (a dropped `Notified`).
unsafe fn list(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller's claim keeps the task alive.
    let header = unsafe { ptr.as_ref() };
    header.state.mark_listed();
    // SAFETY: live and in no list; the list takes the reference `mark_listed` just counted.
    if unsafe { header.runtime.owned.bind(ptr) } {
        return true;
    }
    header.state.unmark_listed();
    false
}

/// Drops the future (it was aborted) and completes the task as cancelled.
///
/// # Safety
/// The caller holds `RUNNING` and one reference, which this consumes.
unsafe fn cancel_and_complete<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: as for `complete`.
    unsafe { complete::<F>(ptr, Err(Repr::Cancelled)) }
}

/// Stores the result (dropping the future), publishes `COMPLETE`, hands the output or wakes the
/// joiner, leaves the owned list, and releases the run's reference.
///
/// # Safety
/// The caller holds `RUNNING` and one reference, which this consumes.
unsafe fn complete<F: Future>(ptr: NonNull<Header>, result: Result<F::Output, Repr>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    #[cfg(feature = "tracing")]
    // SAFETY: the caller's reference keeps the task alive.
    unsafe {
        with_task_name(ptr, |name| match &result {
            Ok(_) => tracing::trace!(
                task.id = header.id.as_u64(),
                task.name = name,
                "task completed"
            ),
            Err(Repr::Cancelled) => {
                tracing::trace!(
                    task.id = header.id.as_u64(),
                    task.name = name,
                    "task cancelled"
                )
            }
            Err(Repr::Panic(_)) => {}
        })
    };
    // SAFETY: RUNNING gives this thread the stage.
    let stage = unsafe { &mut *stage::<F>(ptr).get() };
    // Drop the future first, on its own: its `Drop` may panic, and that must not lose the result.
    // SAFETY: the future is there until now (see `Stage`), and this is its one drop. After it the
    // stage holds nothing until the output is written below, with nothing in between that can panic
    // (the tracing event above comes first for that reason).
    let dropped = catch_unwind(AssertUnwindSafe(|| unsafe {
        ManuallyDrop::drop(&mut stage.future)
    }));
    // A panic while dropping a *finished* future is reported nowhere: its result stands.
    let result = match (result, dropped) {
        (Err(Repr::Cancelled), Err(panic)) => Err(Repr::Panic(panic)),
        (result, Err(panic)) => {
            drop_payload(panic);
            result
        }
        (result, Ok(())) => result,
    };
    stage.output = ManuallyDrop::new(result);

    // Counted before COMPLETE is published, so whoever joins the task sees it counted.
    header.runtime.task_completed(header.id);
    // LISTED changes only while nobody else can run the task (state.rs), so this load is exact.
    let listed = header.state.load().has(LISTED);
    let defer = listed && defer_unlink(header.id);
    let prev = header.state.transition_to_complete(defer);
    if !prev.has(JOIN_INTEREST) {
        // Nobody will read the output: drop it here, where a panicking `Drop` cannot escape.
        // SAFETY: written above, and without JOIN_INTEREST at COMPLETE it is this thread's.
        contain(|| unsafe { ManuallyDrop::drop(&mut stage.output) });
    } else if prev.has(JOIN_WAKER) {
        // SAFETY: with JOIN_WAKER set at COMPLETE, the slot is ours (state.rs invariants), and the
        // handle's Release when it set JOIN_WAKER pairs with the AcqRel of the completion.
        let waker = unsafe { (*header.join_waker.get()).take() };
        if let Some(waker) = waker {
            contain(|| waker.wake());
        }
    }

    // Who takes a listed task off the owned-task list: this completion, unless it deferred
    // (`defer_unlink`: the task finished out of spawn order) and a `JoinHandle` was there at the
    // transition. That handle then sees COMPLETE and UNLINK_DEFERRED when it takes the output (or
    // is dropped without) and unlinks the task itself, so exactly one of the two does (and
    // shutdown's drain may beat both: removal is idempotent under the shard lock). A task that
    // never returned `Pending` was never listed.
    let was_listed = if !listed || (prev.has(JOIN_INTEREST) && defer) {
        false
    } else {
        // SAFETY: the task is live; removal is checked under the list's lock.
        unsafe { header.runtime.owned.remove(ptr) }
    };
    let last = if was_listed {
        header.state.ref_dec_twice()
    } else {
        header.state.ref_dec()
    };
    if last {
        // SAFETY: no reference is left.
        unsafe { (header.vtable.dealloc)(ptr) }
    }
}

/// Whether a completed task whose `JoinHandle` is alive should be left on the owned-task list for
/// the handle to unlink: yes unless it finished right after the task spawned before it, on this
/// thread.
///
/// Unlinking writes the neighbours' links. A task that finishes in spawn order (a producer's tasks
/// run by a consumer) has neighbours this thread just touched, and unlinking now is cheap and off the
/// joiner's path. One that finishes out of order (a million deadlines in random order) has cold
/// neighbours, a cache miss or two under the shard lock on a busy worker; its joiner, which usually
/// awaits handles in spawn order, unlinks it over warm neighbours instead. Either way is correct.
fn defer_unlink(id: Id) -> bool {
    thread_local! {
        /// The id of the last task completed on this thread.
        static LAST_COMPLETED: StdCell<u64> = const { StdCell::new(0) };
    }
    let id = id.as_u64();
    LAST_COMPLETED
        .try_with(|last| last.replace(id).wrapping_add(1) != id)
        .unwrap_or(true)
}

unsafe fn shutdown<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: `transition_to_shutdown` gave the caller RUNNING, and the caller hands its reference
    // (the drained list's, or a dropped `Notified`'s) to the completion, which releases it.
    unsafe { cancel_and_complete::<F>(ptr) }
}

unsafe fn dealloc<F: Future, M: Trailer>(ptr: NonNull<Header>) {
    // SAFETY: the last reference is gone, and the cell came from `Box::leak` in `allocate_cell`
    // with these `F` and `M` (the vtable holding this function was made for them).
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, M>>().as_ptr()) });
}

unsafe fn try_read_output<F: Future>(ptr: NonNull<Header>, out: *mut (), waker: &Waker) {
    // SAFETY: the join handle's reference keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    let snapshot = header.state.load();
    // Only the handle clears JOIN_INTEREST, so this load is exact.
    assert!(
        snapshot.has(JOIN_INTEREST),
        "JoinHandle polled after it returned the output"
    );
    if !snapshot.has(COMPLETE) {
        // SAFETY: the handle calls this with its own reference.
        if !unsafe { register_join_waker(header, snapshot.has(JOIN_WAKER), waker) } {
            return;
        }
    }
    // COMPLETE was observed with Acquire: the output written before it is visible, and it belongs
    // to the handle, which had JOIN_INTEREST then (the completion did not drop it).
    // SAFETY: see above; only the handle touches the stage after COMPLETE, and it takes the output
    // once: giving up JOIN_INTEREST right after records that it is gone.
    let result = unsafe { ManuallyDrop::take(&mut (*stage::<F>(ptr).get()).output) };
    let prev = header.state.transition_to_output_taken();
    // SAFETY: the handle's reference keeps the task live.
    unsafe { unlink_deferred(ptr, prev) };
    let result = result.map_err(|repr| {
        // SAFETY: the handle's reference keeps the task alive.
        unsafe { with_task_name(ptr, |name| JoinError::new(header.id, name, repr)) }
    });
    // SAFETY: the handle passes a `*mut Poll<Result<F::Output, JoinError>>`.
    unsafe { *out.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(result) };
}

/// The handle's part of a deferred unlink: the completion saw the handle's JOIN_INTEREST and, if it
/// deferred (`prev`, the state the handle gave up JOIN_INTEREST in, has `UNLINK_DEFERRED`), left
/// the task on the owned-task list for the handle (see `complete`). Shutdown's drain may have taken
/// it off already.
///
/// # Safety
/// Called by the join handle, with its reference, when it gives up JOIN_INTEREST after COMPLETE.
unsafe fn unlink_deferred(ptr: NonNull<Header>, prev: super::state::Snapshot) {
    // SAFETY: the handle's reference keeps the task live; removal is checked under the lock.
    if prev.has(UNLINK_DEFERRED) && unsafe { ptr.as_ref().runtime.owned.remove(ptr) } {
        // SAFETY: unlinking gave us the list's reference (not the last: the handle holds one).
        unsafe { release(ptr) }
    }
}

/// Stores `waker` for the completion to wake. Returns `true` if the task completed meanwhile (the
/// output can be read now).
///
/// # Safety
/// Called by the join handle only, while it holds `JOIN_INTEREST`.
unsafe fn register_join_waker(header: &Header, waker_set: bool, waker: &Waker) -> bool {
    if waker_set && header.state.unset_join_waker().is_err() {
        return true;
    }
    // JOIN_WAKER is clear and the task is not complete: the slot is the handle's. The waker it
    // replaces is foreign code, whose `Drop` must not unwind out of here with the new one unset.
    // SAFETY: slot ownership as above.
    let replaced = unsafe { (*header.join_waker.get()).set(waker) };
    contain(|| drop(replaced));
    if header.state.set_join_waker().is_err() {
        // Completed in between: the slot stays ours; drop the waker we stored.
        // SAFETY: the runtime never touches the slot when JOIN_WAKER was clear at COMPLETE.
        contain(|| drop(unsafe { (*header.join_waker.get()).take() }));
        return true;
    }
    false
}

unsafe fn drop_join_handle<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the handle's reference keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    // Without JOIN_INTEREST the handle already returned the output, and did its deferred unlink
    // then. Only the handle clears the flag, so this load is exact.
    if !header.state.load().has(JOIN_INTEREST) {
        // SAFETY: the handle's reference.
        unsafe { release(ptr) };
        return;
    }
    let prev = header.state.transition_to_join_handle_dropped();
    if prev.has(COMPLETE) {
        // The output is ours; a panicking `Drop` of it must not escape into the caller (tokio #4412).
        // SAFETY: after COMPLETE, with JOIN_INTEREST, the output is there and belongs to the handle.
        contain(|| unsafe { ManuallyDrop::drop(&mut (*stage::<F>(ptr).get()).output) });
        // SAFETY: the handle's reference, giving up JOIN_INTEREST after COMPLETE.
        unsafe { unlink_deferred(ptr, prev) };
    } else if prev.has(JOIN_WAKER) {
        // The transition cleared JOIN_WAKER before completion: the slot is ours again.
        // SAFETY: as stated.
        let waker = unsafe { (*header.join_waker.get()).take() };
        contain(|| drop(waker));
    }
    // SAFETY: the handle's reference.
    unsafe { release(ptr) }
}

/// Schedules the task after a wake or an abort created a queued reference.
///
/// # Safety
/// The caller owns the new queued reference (`WakeAction::Submit`).
pub(crate) unsafe fn submit(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let notified = unsafe { Notified::from_raw(ptr) };
    // Keep the runtime alive across the call: once the task is queued, another worker may finish and
    // free it, and with it possibly the last other reference to the runtime (async-executor #163).
    let runtime = Arc::clone(&notified.header().runtime);
    runtime.schedule_wake(notified);
}

/// Performs what a state transition asked for.
///
/// # Safety
/// `ptr` is a live task, and the caller's reference accounting matches the transition that
/// produced `action` (a `Submit` carries a new reference, a `Dealloc` means none is left).
pub(crate) unsafe fn apply(ptr: NonNull<Header>, action: WakeAction) {
    match action {
        WakeAction::None => {}
        // SAFETY: forwarded from the caller.
        WakeAction::Submit => unsafe { submit(ptr) },
        // SAFETY: forwarded from the caller.
        WakeAction::Dealloc => unsafe { (ptr.as_ref().vtable.dealloc)(ptr) },
    }
}

/// Runs `f`, containing any panic it raises: code the runtime calls on the user's behalf (a `Drop`,
/// a waker) must not unwind into the runtime or into an unrelated caller (tokio #4412).
pub(crate) fn contain(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        drop_payload(payload);
    }
}

/// Drops a panic payload whose own `Drop` may panic too; a payload that does is leaked rather than
/// unwinding further.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// A panic payload's message, for reports.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

#[cfg(all(test, target_pointer_width = "64"))]
mod layout_tests {
    /// The header is 64 bytes; a task cell's malloc size class depends on it.
    #[test]
    fn the_header_is_64_bytes() {
        assert_eq!(std::mem::size_of::<super::Header>(), 64);
    }

    /// The stage is untagged: a cell is the header and the larger of the future and the output.
    #[test]
    fn a_cell_holds_the_larger_of_future_and_output_untagged() {
        use super::{Cell, Repr};
        use std::future::{Pending, Ready};
        use std::mem::size_of;
        fn check<F: std::future::Future>() {
            let larger = size_of::<F>().max(size_of::<Result<F::Output, Repr>>());
            assert_eq!(size_of::<Cell<F>>(), 64 + larger.next_multiple_of(8));
        }
        check::<Ready<()>>();
        check::<Ready<[u64; 6]>>();
        check::<Pending<u8>>();
        // A no-op task: 88 bytes, glibc's 96-byte chunk.
        assert_eq!(size_of::<Cell<Ready<()>>>(), 88);
    }

    /// A future aligned beyond the header still has its stage at one offset whatever the trailer.
    #[test]
    fn the_trailer_never_moves_the_stage() {
        use super::{Cell, TaskMeta};
        use std::mem::offset_of;

        #[repr(align(128))]
        struct OverAligned;
        impl std::future::Future for OverAligned {
            type Output = [u8; 3];
            fn poll(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<[u8; 3]> {
                std::task::Poll::Ready([0; 3])
            }
        }
        type Small = std::future::Ready<u8>;
        assert_eq!(
            offset_of!(Cell<OverAligned, TaskMeta>, stage),
            offset_of!(Cell<OverAligned>, stage)
        );
        assert_eq!(offset_of!(Cell<OverAligned>, stage), 128);
        assert_eq!(
            offset_of!(Cell<Small, TaskMeta>, stage),
            offset_of!(Cell<Small>, stage)
        );
        assert_eq!(offset_of!(Cell<Small>, stage), 64);
    }
}
