//! The task state word: lifecycle flags and the reference count in one atomic `usize`.
//!
//! Every party that can touch a task — the scheduler's queued [`Notified`](super::raw::Notified), each
//! `Waker`, the `JoinHandle`, and the runtime's list of owned tasks once the task is on it
//! ([`LISTED`]) — holds one reference, counted in the bits above [`REF_SHIFT`]. The low bits are the
//! lifecycle:
//!
//! ```text
//!            wake / spawn                 run                  poll -> Pending
//!   idle ───────────────▶ SCHEDULED ────────────▶ RUNNING ─────────────────────▶ idle
//!     ▲                                             │  │ woken while running:
//!     └─────────────────────────────────────────────┘  └──▶ RUNNING|SCHEDULED ──▶ SCHEDULED (re-queued)
//!                                   poll -> Ready, or cancelled: RUNNING ──▶ COMPLETE
//! ```
//!
//! Invariants the transitions keep:
//! - A queued `Notified` exists only while `SCHEDULED` is set; it owns one reference. So a task sits
//!   in at most one queue, and is never polled twice at once. (Runtime shutdown may claim a task
//!   whose `Notified` is still queued; whoever dequeues it later sees `RUNNING` or `COMPLETE` and only
//!   drops the reference.)
//! - Only the thread that set `RUNNING` touches the future. `COMPLETE` is set once and never cleared,
//!   and once set the future has been dropped: nobody polls a completed task.
//! - The output belongs to whoever holds `JOIN_INTEREST` when `COMPLETE` is set: the `JoinHandle`
//!   reads it (and gives up `JOIN_INTEREST` as it does, so a handle without it has nothing left to
//!   read or drop), or the runtime drops it at completion if no handle is left.
//! - A task is put on the owned-task list, with [`LISTED`] and the list's reference, by the first
//!   poll that returns `Pending`, before that poll lets go of `RUNNING`, or by the drop of its queued
//!   run if it was never polled (shutdown). So a task that is not listed is queued or running, and
//!   shutdown finds it in a queue; an idle task, which only its wakers can reach, is always listed.
//!   `LISTED` is set by whoever alone can run the task (the `RUNNING` owner, or the holder of a
//!   never-polled task's only run), and cleared only when that holder's listing is refused. A task
//!   listed by its dropped run keeps `SCHEDULED` with no `Notified` until the drain claims it.
//! - The join-waker slot belongs to the `JoinHandle` while `JOIN_WAKER` is clear (before or after
//!   completion), and to the runtime while `JOIN_WAKER` is set: the completing thread takes the
//!   waker out, and after that only the final free touches the slot.
//!
//! Orderings: every transition that hands the task to another thread (scheduling, finishing a poll,
//! completing, publishing the join waker) is a `Release` read-modify-write, and every transition that
//! takes it (starting a poll, reading the output, taking the waker) is `Acquire`; successful CASes use
//! `AcqRel` so that both hold at once. A wake of an already scheduled task still performs a `Release`
//! RMW, so that what the waker wrote before waking is visible to the poll it asked for (the bug of
//! tokio #7589 skipped exactly that).

use crate::sync::{AtomicUsize, Ordering};

/// A `Notified` for the task exists, or the running poll must re-queue the task when it ends.
/// Set by wakes, spawn and abort; cleared when a worker starts the task.
pub(crate) const SCHEDULED: usize = 1 << 0;
/// A thread has claimed the future, to poll it or to drop it. Set by `transition_to_running` and
/// `transition_to_shutdown`; cleared by `transition_to_idle` and `transition_to_complete`.
pub(crate) const RUNNING: usize = 1 << 1;
/// The future is gone and the stage holds the output (or it was taken). Never cleared.
pub(crate) const COMPLETE: usize = 1 << 2;
/// Abort was requested: the next thread that claims the task drops the future instead of polling.
pub(crate) const CANCELLED: usize = 1 << 3;
/// The `JoinHandle` is alive and has not taken the output: it will read or drop it.
pub(crate) const JOIN_INTEREST: usize = 1 << 4;
/// The join-waker slot holds the `JoinHandle`'s waker, and the runtime side owns the slot.
pub(crate) const JOIN_WAKER: usize = 1 << 5;
/// Set with `COMPLETE` by a completion that left the task on the owned-task list for its
/// `JoinHandle` to unlink (if a handle was there: see `JOIN_INTEREST` in the same transition).
pub(crate) const UNLINK_DEFERRED: usize = 1 << 6;
/// The task has been put on the runtime's owned-task list, which holds a reference to it until the
/// task is unlinked (at completion, by the `JoinHandle` after `UNLINK_DEFERRED`, or by shutdown).
/// Set once, by the first poll that returns `Pending`; a task that completes on its first poll is
/// never listed.
pub(crate) const LISTED: usize = 1 << 7;

/// The reference count lives in the bits from here up.
pub(crate) const REF_SHIFT: usize = 8;
/// One reference.
pub(crate) const REF_ONE: usize = 1 << REF_SHIFT;
const FLAGS: usize = REF_ONE - 1;

/// A freshly spawned task: scheduled, with a join handle, and two references (the queued
/// `Notified` and the `JoinHandle`). It is not on the owned-task list yet (see [`LISTED`]).
pub(crate) const INITIAL: usize = SCHEDULED | JOIN_INTEREST | (2 * REF_ONE);

/// A copy of the state word, with named accessors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) fn has(self, flag: usize) -> bool {
        self.0 & flag == flag
    }
    pub(crate) fn refs(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (SCHEDULED, "SCHEDULED"),
            (RUNNING, "RUNNING"),
            (COMPLETE, "COMPLETE"),
            (CANCELLED, "CANCELLED"),
            (JOIN_INTEREST, "JOIN_INTEREST"),
            (JOIN_WAKER, "JOIN_WAKER"),
            (UNLINK_DEFERRED, "UNLINK_DEFERRED"),
            (LISTED, "LISTED"),
        ];
        let mut list = f.debug_list();
        for (bit, name) in names {
            if self.0 & bit != 0 {
                list.entry(&name);
            }
        }
        list.entry(&format_args!("refs={}", self.refs()));
        list.finish()
    }
}

/// What a worker does with a task it took from a queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RunAction {
    /// Poll the future.
    Poll,
    /// Abort was requested: drop the future and complete as cancelled.
    Cancel,
    /// The task completed already (cancelled at shutdown while queued): only drop the reference.
    Done,
}

/// What happens after a poll returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum IdleAction {
    /// Nobody woke it: the run's reference was released.
    Idle,
    /// It was woken while running: queue it again, reusing the run's reference.
    Reschedule,
    /// Abort was requested while it ran: drop the future now (still `RUNNING`).
    Cancel,
}

/// What a wake (or an abort) asks the caller to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WakeAction {
    /// Nothing more.
    None,
    /// Hand a new `Notified` (whose reference the transition created) to the scheduler.
    Submit,
    /// The last reference was released: free the task.
    Dealloc,
}

/// The atomic state word of one task.
pub(crate) struct State(AtomicUsize);

impl State {
    pub(crate) fn new(initial: usize) -> State {
        State(AtomicUsize::new(initial))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Runs `f` on the current value until its compare-exchange succeeds; `f` returns the new value
    /// (or `None` to leave the word untouched) and a result.
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> (Snapshot, R) {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let (next, result) = f(Snapshot(current));
            let Some(next) = next else {
                return (Snapshot(current), result);
            };
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (Snapshot(current), result),
                Err(actual) => current = actual,
            }
        }
    }

    /// A worker takes the task out of a queue (it holds the queued reference).
    pub(crate) fn transition_to_running(&self) -> RunAction {
        self.update(|s| {
            debug_assert!(s.has(SCHEDULED), "{s:?}");
            if s.has(COMPLETE) || s.has(RUNNING) {
                // Shutdown claimed (or finished) the task while this reference sat in a queue.
                return (Some(s.0 & !SCHEDULED), RunAction::Done);
            }
            let next = (s.0 & !SCHEDULED) | RUNNING;
            let action = if s.has(CANCELLED) {
                RunAction::Cancel
            } else {
                RunAction::Poll
            };
            (Some(next), action)
        })
        .1
    }

    /// A poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> IdleAction {
        self.update(|s| {
            debug_assert!(s.has(RUNNING) && !s.has(COMPLETE), "{s:?}");
            if s.has(CANCELLED) {
                return (None, IdleAction::Cancel);
            }
            let next = s.0 & !RUNNING;
            if s.has(SCHEDULED) {
                (Some(next), IdleAction::Reschedule)
            } else {
                // An idle task is listed, and the list holds a reference: this one is not the last.
                debug_assert!(s.has(LISTED) && s.refs() >= 2, "{s:?}");
                (Some(next - REF_ONE), IdleAction::Idle)
            }
        })
        .1
    }

    /// The future returned `Ready` or was dropped, and the output is in the stage. Returns the state
    /// just before, whose `JOIN_INTEREST` / `JOIN_WAKER` say who owns the output and the waker slot.
    /// With `defer_unlink`, also sets `UNLINK_DEFERRED`: if `JOIN_INTEREST` was set, the handle will
    /// take the task off the owned-task list when it takes the output or is dropped; if not, the
    /// caller still does.
    pub(crate) fn transition_to_complete(&self, defer_unlink: bool) -> Snapshot {
        let deferred = if defer_unlink { UNLINK_DEFERRED } else { 0 };
        let prev = Snapshot(
            self.0
                .fetch_xor(RUNNING | COMPLETE | deferred, Ordering::AcqRel),
        );
        debug_assert!(
            prev.has(RUNNING) && !prev.has(COMPLETE) && !prev.has(UNLINK_DEFERRED),
            "{prev:?}"
        );
        prev
    }

    /// A waker is consumed by `wake`: its reference becomes the queued one, or is released.
    pub(crate) fn transition_to_notified_by_val(&self) -> WakeAction {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(SCHEDULED) {
                let next = s.0 - REF_ONE;
                let action = if next >> REF_SHIFT == 0 {
                    WakeAction::Dealloc
                } else {
                    WakeAction::None
                };
                (Some(next), action)
            } else if s.has(RUNNING) {
                (Some((s.0 | SCHEDULED) - REF_ONE), WakeAction::None)
            } else {
                (Some(s.0 | SCHEDULED), WakeAction::Submit)
            }
        })
        .1
    }

    /// `wake_by_ref`: schedule with a new reference if the task is idle.
    pub(crate) fn transition_to_notified_by_ref(&self) -> WakeAction {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(SCHEDULED) {
                // Still a release RMW: see the module doc.
                (Some(s.0), WakeAction::None)
            } else if s.has(RUNNING) {
                (Some(s.0 | SCHEDULED), WakeAction::None)
            } else {
                (Some((s.0 | SCHEDULED) + REF_ONE), WakeAction::Submit)
            }
        })
        .1
    }

    /// `JoinHandle::abort`: flag the task; if it is idle, queue it so a worker drops the future.
    pub(crate) fn transition_to_cancelled(&self) -> WakeAction {
        self.update(|s| {
            if s.has(COMPLETE) || s.has(CANCELLED) {
                (None, WakeAction::None)
            } else if s.has(RUNNING) || s.has(SCHEDULED) {
                (Some(s.0 | CANCELLED), WakeAction::None)
            } else {
                (
                    Some((s.0 | CANCELLED | SCHEDULED) + REF_ONE),
                    WakeAction::Submit,
                )
            }
        })
        .1
    }

    /// Runtime shutdown claims an unfinished task to drop its future. Returns `false` when it is
    /// complete already, or running on a worker that shutdown gave up waiting for (it is flagged
    /// `CANCELLED`, so that worker drops the future when its poll ends).
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.has(COMPLETE) {
                (None, false)
            } else if s.has(RUNNING) {
                (Some(s.0 | CANCELLED), false)
            } else {
                (Some(s.0 | RUNNING | CANCELLED), true)
            }
        })
        .1
    }

    /// The handle took the output of the completed task: it gives up `JOIN_INTEREST`, which tells
    /// its own later drop (and a second poll) that the output is gone. Returns the state before.
    /// Relaxed: the handle already acquired `COMPLETE` (and `UNLINK_DEFERRED`, set in the same RMW)
    /// with the load that found the output, and after completion nobody but the handle reads
    /// `JOIN_INTEREST`; the handle's final release orders its accesses before the free.
    pub(crate) fn transition_to_output_taken(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_and(!JOIN_INTEREST, Ordering::Relaxed));
        debug_assert!(prev.has(COMPLETE) && prev.has(JOIN_INTEREST), "{prev:?}");
        prev
    }

    /// The `JoinHandle` is dropped before it took the output. Returns the state before: if it was
    /// complete, the handle must drop the output; if not and `JOIN_WAKER` was set, the handle now
    /// owns the slot and must drop the waker in it.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> Snapshot {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST), "{s:?}");
            let mut next = s.0 & !JOIN_INTEREST;
            if !s.has(COMPLETE) {
                next &= !JOIN_WAKER;
            }
            (Some(next), ())
        })
        .0
    }

    /// The handle stored a waker in the slot and hands the slot to the runtime. `Err` if the task
    /// completed first: the handle still owns the slot and reads the output.
    pub(crate) fn set_join_waker(&self) -> Result<(), ()> {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST) && !s.has(JOIN_WAKER), "{s:?}");
            if s.has(COMPLETE) {
                (None, Err(()))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(()))
            }
        })
        .1
    }

    /// The handle takes the slot back to store a different waker. `Err` if the task completed first.
    pub(crate) fn unset_join_waker(&self) -> Result<(), ()> {
        self.update(|s| {
            debug_assert!(s.has(JOIN_INTEREST) && s.has(JOIN_WAKER), "{s:?}");
            if s.has(COMPLETE) {
                (None, Err(()))
            } else {
                (Some(s.0 & !JOIN_WAKER), Ok(()))
            }
        })
        .1
    }

    /// Adds a reference (a cloned waker). Relaxed is enough: the caller already holds one, so the
    /// task cannot be freed meanwhile (the same argument as `Arc::clone`).
    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > usize::MAX / 2 {
            // A waker leak of this size is a bug in user code; continuing would wrap the count.
            std::process::abort();
        }
    }

    /// The task is about to be put on the owned-task list, by the `RUNNING` owner or by the holder
    /// of a never-polled task's queued run: sets `LISTED` and takes the list's reference, in one
    /// RMW. Relaxed: the list's lock, taken right after, publishes both to whoever later unlinks the
    /// task, and the caller already holds a reference.
    pub(crate) fn mark_listed(&self) {
        let prev = Snapshot(self.0.fetch_add(LISTED | REF_ONE, Ordering::Relaxed));
        debug_assert!(
            !prev.has(LISTED) && (prev.has(RUNNING) || prev.has(SCHEDULED)),
            "{prev:?}"
        );
    }

    /// Undoes [`State::mark_listed`]: the list was closed (shutdown) and refused the task.
    pub(crate) fn unmark_listed(&self) {
        let prev = Snapshot(self.0.fetch_sub(LISTED | REF_ONE, Ordering::Relaxed));
        debug_assert!(prev.has(LISTED) && prev.refs() >= 2, "{prev:?}");
    }

    /// Releases a reference; `true` if it was the last, and the caller must free the task. `AcqRel`
    /// so that every use by other holders happens before the free.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.refs() >= 1, "{prev:?}");
        prev.refs() == 1
    }

    /// Releases two references at once (the run's and the owned list's, at completion).
    pub(crate) fn ref_dec_twice(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(2 * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.refs() >= 2, "{prev:?}");
        prev.refs() == 2
    }
}

impl Snapshot {
    /// Only the flag bits.
    #[allow(dead_code)]
    pub(crate) fn flags(self) -> usize {
        self.0 & FLAGS
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn spawn_run_idle_wake_complete() {
        let s = State::new(INITIAL);
        assert_eq!(s.transition_to_running(), RunAction::Poll);
        s.mark_listed();
        assert!(s.load().has(LISTED));
        assert_eq!(s.transition_to_idle(), IdleAction::Idle);
        assert_eq!(s.load().refs(), 2);
        // A waker clone (ref +1) wakes by value: its reference becomes the queued one.
        s.ref_inc();
        assert_eq!(s.transition_to_notified_by_val(), WakeAction::Submit);
        assert_eq!(s.load().refs(), 3);
        assert_eq!(s.transition_to_running(), RunAction::Poll);
        let prev = s.transition_to_complete(false);
        assert!(prev.has(JOIN_INTEREST));
        assert!(s.load().has(COMPLETE) && !s.load().has(RUNNING));
        // The handle takes the output: it keeps its reference, without JOIN_INTEREST.
        let refs = s.load().refs();
        assert!(s.transition_to_output_taken().has(JOIN_INTEREST));
        assert!(!s.load().has(JOIN_INTEREST) && s.load().has(COMPLETE));
        assert_eq!(s.load().refs(), refs);
    }

    #[test]
    fn wake_while_running_requeues_once() {
        let s = State::new(INITIAL);
        assert_eq!(s.transition_to_running(), RunAction::Poll);
        assert_eq!(s.transition_to_notified_by_ref(), WakeAction::None);
        assert_eq!(s.transition_to_notified_by_ref(), WakeAction::None);
        assert_eq!(s.load().refs(), 2, "no reference taken while running");
        assert_eq!(s.transition_to_idle(), IdleAction::Reschedule);
        assert!(s.load().has(SCHEDULED));
        assert_eq!(s.transition_to_running(), RunAction::Poll);
    }

    #[test]
    fn wake_after_complete_does_nothing_and_last_ref_frees() {
        let s = State::new(INITIAL);
        s.transition_to_running();
        s.mark_listed();
        s.transition_to_complete(false);
        assert!(!s.ref_dec_twice());
        // Only the join handle's reference is left; a waker clone adds one.
        s.ref_inc();
        assert_eq!(s.transition_to_notified_by_ref(), WakeAction::None);
        assert_eq!(s.transition_to_notified_by_val(), WakeAction::None);
        assert!(s.ref_dec(), "the handle's reference was the last");
    }

    #[test]
    fn abort_idle_task_queues_a_cancel() {
        let s = State::new(INITIAL);
        s.transition_to_running();
        s.mark_listed();
        s.transition_to_idle();
        assert_eq!(s.transition_to_cancelled(), WakeAction::Submit);
        assert_eq!(
            s.transition_to_cancelled(),
            WakeAction::None,
            "abort is idempotent"
        );
        assert_eq!(s.transition_to_running(), RunAction::Cancel);
    }

    #[test]
    fn abort_while_running_cancels_at_poll_end() {
        let s = State::new(INITIAL);
        s.transition_to_running();
        assert_eq!(s.transition_to_cancelled(), WakeAction::None);
        assert_eq!(s.transition_to_idle(), IdleAction::Cancel);
        assert!(
            s.load().has(RUNNING),
            "the poller keeps the claim to drop the future"
        );
    }

    #[test]
    fn join_waker_slot_ownership() {
        let s = State::new(INITIAL);
        assert_eq!(s.set_join_waker(), Ok(()));
        assert_eq!(s.unset_join_waker(), Ok(()));
        assert_eq!(s.set_join_waker(), Ok(()));
        s.transition_to_running();
        let prev = s.transition_to_complete(false);
        assert!(prev.has(JOIN_WAKER), "the runtime owns the slot and wakes");
        assert_eq!(s.unset_join_waker(), Err(()));
    }

    #[test]
    fn dropping_the_handle_before_completion_takes_the_waker_back() {
        let s = State::new(INITIAL);
        s.set_join_waker().unwrap();
        let prev = s.transition_to_join_handle_dropped();
        assert!(!prev.has(COMPLETE) && prev.has(JOIN_WAKER));
        let now = s.load();
        assert!(!now.has(JOIN_WAKER) && !now.has(JOIN_INTEREST));
    }

    #[test]
    fn shutdown_claims_only_idle_or_queued_tasks() {
        let s = State::new(INITIAL);
        assert!(s.transition_to_shutdown(), "queued task is claimed");
        let s = State::new(INITIAL);
        s.transition_to_running();
        assert!(!s.transition_to_shutdown(), "running task is only flagged");
        s.mark_listed();
        assert_eq!(s.transition_to_idle(), IdleAction::Cancel);
        // A task completed while queued is skipped by the worker that later dequeues it.
        let s = State::new(INITIAL);
        assert!(s.transition_to_shutdown());
        s.transition_to_complete(false);
        assert_eq!(s.transition_to_running(), RunAction::Done);
    }

    #[test]
    fn listing_takes_a_reference_and_a_refusal_gives_it_back() {
        let s = State::new(INITIAL);
        s.transition_to_running();
        s.mark_listed();
        assert!(s.load().has(LISTED));
        assert_eq!(s.load().refs(), 3);
        s.unmark_listed();
        assert!(!s.load().has(LISTED));
        assert_eq!(s.load().refs(), 2);
        assert!(s.load().has(RUNNING), "the poller keeps its claim");
    }
}
