//! Loom models of the task state machine ([`super::state`]).
//!
//! Each model drives the real `State` transitions from loom threads in the order `raw.rs`,
//! `waker.rs`, `join.rs` and the runtime's shutdown call them, around a small stand-in for the rest
//! of the task: the stage (future, output) and the join-waker slot are loom `UnsafeCell`s, the
//! scheduler's queue is a counter of queued runs, and the owned-task list is a loom `Mutex` around
//! whether it is closed and whether it holds the task.
//! Loom then explores every interleaving (up to `LOOM_MAX_PREEMPTIONS`) and checks:
//!
//! - **one queued run at most**: submitting a run while one is queued fails an assertion;
//! - **never two pollers**: the stage is a loom `UnsafeCell`, so two threads touching the future
//!   without a happens-before edge (a double poll, or a poll racing the drop at completion) is a
//!   causality violation that loom reports;
//! - **the output owned by exactly one side**: reading it (the handle) and dropping it (the runtime
//!   at completion, or the handle's drop) go through the same cell and are counted: exactly once;
//! - **the last reference released exactly once**: "freeing" marks the stage and the join-waker slot
//!   as freed (any later touch fails), and a second free fails an assertion;
//! - **no lost wake**: the future completes once it has seen every wake's signal (a `Relaxed`
//!   counter, so only the state word's orderings make it visible); after the threads finish, the
//!   queue is drained, and a task that was signalled and not aborted must be complete. A join
//!   handle that saw `Pending` must have been woken.
//! - **no task lost at shutdown**: after shutdown (queued runs dropped, the list closed and drained),
//!   every task is complete, including one whose first `Pending` poll races the shutdown.
//!
//! Run them with (about a minute on 2 cores; raise `LOOM_MAX_PREEMPTIONS` to 3 to search deeper,
//! which takes far longer):
//!
//! ```text
//! RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p magpie --release --lib loom_models
//! ```

use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::{Relaxed, SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;

use super::state::{
    IdleAction, RunAction, Snapshot, State, WakeAction, COMPLETE, INITIAL, JOIN_INTEREST,
    JOIN_WAKER, LISTED, RUNNING, UNLINK_DEFERRED,
};

/// The value the modelled future returns.
const OUTPUT: u32 = 7;

/// What the task's output is: the value, or `Err(())` when it was cancelled.
type Output = Result<u32, ()>;

/// The future's life, as `raw.rs`'s `Stage`, plus the counts the models assert on.
#[derive(Debug)]
struct Stage {
    value: StageValue,
    /// Times the future was dropped (polled to completion or cancelled).
    futures_dropped: usize,
    /// Times the output was consumed: read by the handle or dropped by whoever owned it.
    outputs_consumed: usize,
    /// The last reference was released: nothing may touch the task any more.
    freed: bool,
}

#[derive(Debug, PartialEq)]
enum StageValue {
    Running,
    Finished(Output),
    Taken,
}

/// The join-waker slot, with counts of what happened to the wakers stored in it.
#[derive(Debug, Default)]
struct JoinSlot {
    waker: bool,
    wakes: usize,
    drops: usize,
    freed: bool,
}

/// The owned-task list (`list.rs`) seen from one task.
#[derive(Default)]
struct List {
    /// Shutdown closed it: it refuses new tasks.
    closed: bool,
    /// It holds the task (and the task's list reference).
    holds: bool,
}

/// The modelled task: the real state word around stand-ins for the rest.
struct Task {
    state: State,
    stage: UnsafeCell<Stage>,
    join_waker: UnsafeCell<JoinSlot>,
    /// Runs queued for this task in the modelled scheduler.
    queued: AtomicUsize,
    /// The runtime's owned-task list, as far as this task is concerned.
    list: Mutex<List>,
    /// Wake signals sent so far. `Relaxed`: only the state word may order it with the poll.
    signals: AtomicUsize,
    /// Signals the future needs before it returns `Ready`.
    needed: usize,
    /// Whether completion defers unlinking to the join handle (`raw::defer_unlink`'s answer).
    defer_unlink: bool,
}

impl Task {
    /// A freshly spawned task: one queued run, with a join handle, not listed yet.
    fn spawn(needed: usize) -> (Arc<Task>, Handle) {
        Task::spawn_deferring(needed, false)
    }

    /// As [`Task::spawn`], with completion deferring the unlink to the handle when there is one.
    fn spawn_deferring(needed: usize, defer_unlink: bool) -> (Arc<Task>, Handle) {
        let task = Arc::new(Task {
            state: State::new(INITIAL),
            stage: UnsafeCell::new(Stage {
                value: StageValue::Running,
                futures_dropped: 0,
                outputs_consumed: 0,
                freed: false,
            }),
            join_waker: UnsafeCell::new(JoinSlot::default()),
            queued: AtomicUsize::new(1),
            list: Mutex::new(List::default()),
            signals: AtomicUsize::new(0),
            needed,
            defer_unlink,
        });
        let handle = Handle(Arc::clone(&task));
        (task, handle)
    }

    /// `raw::submit` into the modelled queue.
    fn submit(&self) {
        let before = self.queued.fetch_add(1, SeqCst);
        assert_eq!(before, 0, "a second run was queued for one task");
    }

    /// A worker pops the queued run, if any, and runs it (`Runnable::run`).
    #[must_use = "whether a run was queued"]
    fn run_queued(&self) -> bool {
        if self.queued.compare_exchange(1, 0, SeqCst, SeqCst).is_err() {
            return false;
        }
        self.run();
        true
    }

    /// `raw::run`, holding the dequeued reference.
    fn run(&self) {
        match self.state.transition_to_running() {
            RunAction::Poll => {}
            RunAction::Cancel => return self.complete(Err(())),
            RunAction::Done => return self.release(),
        }
        let ready = self.stage.with_mut(|stage| {
            // SAFETY: loom checks that no other thread touches the stage concurrently; `RUNNING`
            // is what should make this access exclusive.
            let stage = unsafe { &mut *stage };
            assert!(!stage.freed, "polled a freed task");
            assert_eq!(stage.value, StageValue::Running, "polled after completion");
            self.signals.load(Relaxed) >= self.needed
        });
        if ready {
            return self.complete(Ok(OUTPUT));
        }
        // `raw::list`, on the first `Pending`.
        if !self.state.load().has(LISTED) {
            self.state.mark_listed();
            if !self.bind() {
                self.state.unmark_listed();
                return self.complete(Err(()));
            }
        }
        match self.state.transition_to_idle() {
            IdleAction::Idle => {}
            IdleAction::Reschedule => self.submit(),
            IdleAction::Cancel => self.complete(Err(())),
        }
    }

    /// `raw::complete`: the caller holds `RUNNING` and one reference.
    fn complete(&self, output: Output) {
        self.stage.with_mut(|stage| {
            // SAFETY: exclusive while RUNNING; loom checks it.
            let stage = unsafe { &mut *stage };
            assert_eq!(stage.value, StageValue::Running);
            stage.futures_dropped += 1;
            stage.value = StageValue::Finished(output);
        });
        let listed = self.state.load().has(LISTED);
        let prev = self
            .state
            .transition_to_complete(listed && self.defer_unlink);
        if !prev.has(JOIN_INTEREST) {
            let _ = self.consume_output();
        } else if prev.has(JOIN_WAKER) {
            self.join_waker.with_mut(|slot| {
                // SAFETY: JOIN_WAKER at COMPLETE gives the slot to this side; loom checks it.
                let slot = unsafe { &mut *slot };
                assert!(slot.waker, "JOIN_WAKER set with an empty slot");
                slot.waker = false;
                slot.wakes += 1;
            });
        }
        let was_listed = if !listed || (prev.has(JOIN_INTEREST) && self.defer_unlink) {
            false
        } else {
            self.unlink()
        };
        let last = if was_listed {
            self.state.ref_dec_twice()
        } else {
            self.state.ref_dec()
        };
        if last {
            self.dealloc();
        }
    }

    /// `OwnedTasks::bind`: `false` once the list is closed.
    fn bind(&self) -> bool {
        let mut list = self.list.lock().unwrap();
        assert!(!list.holds, "listed twice");
        if list.closed {
            return false;
        }
        list.holds = true;
        true
    }

    /// `OwnedTasks::remove`: `true` if the list held the task (its reference is now the caller's).
    fn unlink(&self) -> bool {
        std::mem::replace(&mut self.list.lock().unwrap().holds, false)
    }

    /// Drops (or reads) the finished output: only its single owner may.
    fn consume_output(&self) -> Output {
        self.stage.with_mut(|stage| {
            // SAFETY: the caller owns the output; loom checks it.
            let stage = unsafe { &mut *stage };
            assert!(!stage.freed, "output touched after free");
            stage.outputs_consumed += 1;
            match std::mem::replace(&mut stage.value, StageValue::Taken) {
                StageValue::Finished(output) => output,
                other => panic!("output consumed twice or too early: {other:?}"),
            }
        })
    }

    /// `raw::release`.
    fn release(&self) {
        if self.state.ref_dec() {
            self.dealloc();
        }
    }

    /// `raw::apply`.
    fn apply(&self, action: WakeAction) {
        match action {
            WakeAction::None => {}
            WakeAction::Submit => self.submit(),
            WakeAction::Dealloc => self.dealloc(),
        }
    }

    /// The last reference is gone: "free" the cell by marking everything in it.
    fn dealloc(&self) {
        assert_eq!(self.state.load().refs(), 0, "freed with references left");
        self.stage.with_mut(|stage| {
            // SAFETY: nobody else holds a reference; loom checks it.
            let stage = unsafe { &mut *stage };
            assert!(!stage.freed, "the last reference was released twice");
            stage.freed = true;
        });
        self.join_waker.with_mut(|slot| {
            // SAFETY: as above.
            let slot = unsafe { &mut *slot };
            assert!(!slot.freed);
            slot.freed = true;
        });
    }

    /// A waker (one reference), as `waker::clone` makes it.
    fn waker(task: &Arc<Task>) -> TaskWaker {
        task.state.ref_inc();
        TaskWaker(Some(Arc::clone(task)))
    }

    /// Sends one wake signal: what a waker's owner does before waking.
    fn signal(&self) {
        self.signals.fetch_add(1, Relaxed);
    }

    /// Runtime shutdown for this task (`Runtime::shutdown`): the scheduler drops its queued run,
    /// then the list is closed and drained.
    fn shutdown(&self) {
        self.drop_queued();
        let _ = self.claim_list_drain();
    }

    /// Closes the list and, if it held the task, claims and cancels it (or releases the list's
    /// reference if it is running or complete). Returns whether the list held it.
    fn claim_list_drain(&self) -> bool {
        let listed = {
            let mut list = self.list.lock().unwrap();
            list.closed = true;
            std::mem::replace(&mut list.holds, false)
        };
        if listed {
            self.claim_for_shutdown();
        }
        listed
    }

    /// The scheduler drops the queued run, if any, unrun (`Notified::drop`): a listed task is left
    /// to the list's drain, a never-polled one is listed for it, and only once the list is closed
    /// is the task claimed and cancelled here.
    fn drop_queued(&self) {
        if self.queued.compare_exchange(1, 0, SeqCst, SeqCst).is_err() {
            return;
        }
        let state = self.state.load();
        if state.has(LISTED) || state.has(RUNNING) || state.has(COMPLETE) {
            return self.release();
        }
        self.state.mark_listed();
        if self.bind() {
            return self.release();
        }
        self.state.unmark_listed();
        self.claim_for_shutdown();
    }

    /// Claims and cancels the task if it is idle or queued (`raw::shutdown` consumes the caller's
    /// reference), else only releases that reference.
    fn claim_for_shutdown(&self) {
        if self.state.transition_to_shutdown() {
            self.complete(Err(()));
        } else {
            self.release();
        }
    }

    /// After the model's threads finished: run what is queued until nothing is.
    fn drain(&self) {
        while self.run_queued() {}
    }

    /// The final checks, once every reference is gone.
    fn assert_freed(&self, futures_dropped: usize) {
        self.stage.with(|stage| {
            // SAFETY: every thread has finished.
            let stage = unsafe { &*stage };
            assert!(stage.freed, "a reference was leaked");
            assert_eq!(stage.futures_dropped, futures_dropped);
            assert_eq!(stage.outputs_consumed, futures_dropped);
        });
        self.join_waker.with(|slot| {
            // SAFETY: every thread has finished.
            let slot = unsafe { &*slot };
            assert!(!slot.waker, "a join waker was leaked");
        });
    }

    fn is_complete(&self) -> bool {
        self.state.load().has(COMPLETE)
    }
}

/// A `Waker` of the task (`waker.rs`): owns one reference (until `wake` consumes it).
struct TaskWaker(Option<Arc<Task>>);

impl TaskWaker {
    /// `waker::wake`: the waker's reference becomes the queued one, or is released.
    fn wake(mut self) {
        let task = self.0.take().expect("a waker is woken once");
        let action = task.state.transition_to_notified_by_val();
        task.apply(action);
    }

    /// `waker::wake_by_ref`.
    fn wake_by_ref(&self) {
        let task = self.0.as_ref().expect("not consumed");
        let action = task.state.transition_to_notified_by_ref();
        task.apply(action);
    }
}

impl Drop for TaskWaker {
    /// `waker::drop_waker`.
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.release();
        }
    }
}

/// The `JoinHandle` (`join.rs` and `raw::try_read_output` / `drop_join_handle`).
struct Handle(Arc<Task>);

impl Handle {
    /// `JoinHandle::poll`: the output if complete, else registers a (modelled) waker. Taking the
    /// output gives up `JOIN_INTEREST` and does a deferred unlink (`raw::try_read_output`).
    fn poll(&self) -> Option<Output> {
        let task = &self.0;
        let snapshot = task.state.load();
        assert!(
            snapshot.has(JOIN_INTEREST),
            "polled after it returned the output"
        );
        if !snapshot.has(COMPLETE) && !self.register_join_waker(snapshot.has(JOIN_WAKER)) {
            return None;
        }
        let output = task.consume_output();
        let prev = task.state.transition_to_output_taken();
        self.unlink_deferred(prev);
        Some(output)
    }

    /// `raw::unlink_deferred`: the completion left the unlink to this handle.
    fn unlink_deferred(&self, prev: Snapshot) {
        if prev.has(UNLINK_DEFERRED) && self.0.unlink() {
            self.0.release();
        }
    }

    /// `raw::register_join_waker`: `true` if the task completed meanwhile.
    fn register_join_waker(&self, waker_set: bool) -> bool {
        let task = &self.0;
        if waker_set && task.state.unset_join_waker().is_err() {
            return true;
        }
        task.join_waker.with_mut(|slot| {
            // SAFETY: JOIN_WAKER clear before completion: the slot is the handle's.
            let slot = unsafe { &mut *slot };
            if slot.waker {
                slot.drops += 1;
            }
            slot.waker = true;
        });
        if task.state.set_join_waker().is_err() {
            task.join_waker.with_mut(|slot| {
                // SAFETY: completed with JOIN_WAKER clear: the slot stays the handle's.
                let slot = unsafe { &mut *slot };
                slot.waker = false;
                slot.drops += 1;
            });
            return true;
        }
        false
    }

    /// `JoinHandle::abort`.
    fn abort(&self) {
        let action = self.0.state.transition_to_cancelled();
        self.0.apply(action);
    }

    /// Whether the completion woke the waker this handle registered.
    fn join_wakes(&self) -> usize {
        // SAFETY: called only after every thread finished.
        self.0.join_waker.with(|slot| unsafe { (*slot).wakes })
    }
}

impl Drop for Handle {
    /// `raw::drop_join_handle`.
    fn drop(&mut self) {
        let task = &self.0;
        // The handle already took the output (and did the deferred unlink).
        if !task.state.load().has(JOIN_INTEREST) {
            return task.release();
        }
        let prev = task.state.transition_to_join_handle_dropped();
        if prev.has(COMPLETE) {
            let _ = task.consume_output();
            self.unlink_deferred(prev);
        } else if prev.has(JOIN_WAKER) {
            task.join_waker.with_mut(|slot| {
                // SAFETY: the transition took the slot back before completion.
                let slot = unsafe { &mut *slot };
                assert!(slot.waker);
                slot.waker = false;
                slot.drops += 1;
            });
        }
        task.release();
    }
}

/// A worker thread that runs the task's queued run, if any.
fn run_on_thread(task: &Arc<Task>) -> thread::JoinHandle<()> {
    let task = Arc::clone(task);
    thread::spawn(move || {
        let _ = task.run_queued();
    })
}

/// After shutdown and every thread: the task was cancelled, its handle says so, and every
/// reference is gone once the handle is.
fn assert_cancelled_by_shutdown(task: &Task, handle: Handle) {
    assert!(task.is_complete(), "a task outlived shutdown");
    assert_eq!(handle.poll(), Some(Err(())));
    drop(handle);
    task.assert_freed(1);
}

/// A task whose first poll returned `Pending` (so it is listed) and that was then woken: its next
/// run completes it, deferring the owned-list unlink to the handle if `defer_unlink`.
fn spawn_listed_and_woken(defer_unlink: bool) -> (Arc<Task>, Handle) {
    let (task, handle) = Task::spawn_deferring(1, defer_unlink);
    assert!(task.run_queued());
    assert!(task.state.load().has(LISTED));
    task.signal();
    Task::waker(&task).wake();
    (task, handle)
}

/// Runs the first poll on the model's main thread: the future hands out a waker and stays pending.
fn spawn_and_poll_once(needed: usize) -> (Arc<Task>, Handle) {
    let (task, handle) = Task::spawn(needed);
    assert!(task.run_queued());
    assert!(!task.is_complete());
    (task, handle)
}

/// A wake lands before, during or after the poll it asks for; the task completes either way.
#[test]
fn woken_while_running() {
    loom::model(|| {
        let (task, handle) = Task::spawn(1);
        let waker = Task::waker(&task);
        let worker = run_on_thread(&task);
        task.signal();
        waker.wake();
        worker.join().unwrap();
        task.drain();
        assert_eq!(handle.poll(), Some(Ok(OUTPUT)), "lost wake");
        drop(handle);
        task.assert_freed(1);
    });
}

/// Two threads wake an idle task at once (one by value, one by reference) while a third runs it: it
/// is queued once and sees both signals. A wake of an already scheduled task that skipped its
/// release RMW (tokio #7589) fails here as a lost wake.
#[test]
fn woken_concurrently_from_two_threads() {
    loom::model(|| {
        let (task, handle) = spawn_and_poll_once(2);
        let by_value = Task::waker(&task);
        let by_ref = Task::waker(&task);
        let first = {
            let task = Arc::clone(&task);
            thread::spawn(move || {
                task.signal();
                by_value.wake();
            })
        };
        let second = {
            let task = Arc::clone(&task);
            thread::spawn(move || {
                task.signal();
                by_ref.wake_by_ref();
                drop(by_ref);
            })
        };
        // The model's main thread is the worker: it synchronizes with the wakers only through the
        // queue and the state word (the joins below come after its run).
        let _ = task.run_queued();
        first.join().unwrap();
        second.join().unwrap();
        task.drain();
        assert_eq!(handle.poll(), Some(Ok(OUTPUT)), "lost wake");
        drop(handle);
        task.assert_freed(1);
    });
}

/// `abort` races the poll that completes the task: the handle sees the output or a cancellation,
/// and the future and the output are each dropped exactly once.
#[test]
fn aborted_while_completing() {
    loom::model(|| {
        let (task, handle) = Task::spawn(0);
        let worker = run_on_thread(&task);
        handle.abort();
        worker.join().unwrap();
        task.drain();
        let output = handle.poll().expect("complete after the queue drained");
        assert!(output == Ok(OUTPUT) || output == Err(()), "{output:?}");
        drop(handle);
        task.assert_freed(1);
    });
}

/// `abort` races a wake of an idle task: one queued run at most, one drop of the future.
#[test]
fn aborted_while_being_woken() {
    loom::model(|| {
        let (task, handle) = spawn_and_poll_once(1);
        let waker = Task::waker(&task);
        let waking = {
            let task = Arc::clone(&task);
            thread::spawn(move || {
                task.signal();
                waker.wake();
                let _ = task.run_queued();
            })
        };
        handle.abort();
        waking.join().unwrap();
        task.drain();
        let output = handle.poll().expect("complete after the queue drained");
        assert!(output == Ok(OUTPUT) || output == Err(()), "{output:?}");
        drop(handle);
        task.assert_freed(1);
    });
}

/// The `JoinHandle`, with a waker registered, is dropped while the task completes: the output is
/// dropped by exactly one side, and the join waker is either woken or dropped, once.
#[test]
fn join_handle_dropped_while_completing() {
    join_handle_dropped_while_completing_with(false);
}

/// As above, with the completion deferring the owned-list unlink to the handle: whichever way the
/// race goes, the list's reference is released exactly once (a leak fails `assert_freed`, a second
/// release the refcount checks).
#[test]
fn join_handle_dropped_while_completing_with_deferred_unlink() {
    join_handle_dropped_while_completing_with(true);
}

fn join_handle_dropped_while_completing_with(defer_unlink: bool) {
    loom::model(move || {
        let (task, handle) = spawn_listed_and_woken(defer_unlink);
        assert_eq!(handle.poll(), None);
        let worker = run_on_thread(&task);
        drop(handle);
        worker.join().unwrap();
        task.drain();
        task.join_waker.with(|slot| {
            // SAFETY: every thread has finished.
            let slot = unsafe { &*slot };
            assert_eq!(slot.wakes + slot.drops, 1, "{slot:?}");
        });
        task.assert_freed(1);
    });
}

/// Shutdown drains the list while a deferring completion and the handle's drop race it.
#[test]
fn shutdown_racing_a_deferred_unlink() {
    loom::model(|| {
        let (task, handle) = spawn_listed_and_woken(true);
        let worker = run_on_thread(&task);
        let dropper = thread::spawn(move || drop(handle));
        task.shutdown();
        worker.join().unwrap();
        dropper.join().unwrap();
        task.drop_queued();
        task.assert_freed(1);
    });
}

/// The handle registers its waker while the task completes: if it saw `Pending`, it is woken. The
/// task, done on its first poll, is never listed, and its references all go.
#[test]
fn join_waker_registered_while_completing() {
    loom::model(|| {
        let (task, handle) = Task::spawn(0);
        let worker = run_on_thread(&task);
        let first = handle.poll();
        worker.join().unwrap();
        // A task that completes on its first poll never touches the owned-task list.
        assert!(!task.list.lock().unwrap().holds);
        assert!(!task.state.load().has(LISTED));
        task.drain();
        match first {
            Some(output) => assert_eq!(output, Ok(OUTPUT)),
            None => {
                assert_eq!(handle.join_wakes(), 1, "lost join wake");
                assert_eq!(handle.poll(), Some(Ok(OUTPUT)));
            }
        }
        drop(handle);
        task.assert_freed(1);
    });
}

/// Runtime shutdown races a wake and a worker's run: the future is dropped exactly once, by
/// whichever side claimed it, and every reference is released once.
#[test]
fn shutdown_racing_a_wake_and_a_run() {
    loom::model(|| {
        let (task, handle) = spawn_and_poll_once(1);
        let waker = Task::waker(&task);
        let waking = {
            let task = Arc::clone(&task);
            thread::spawn(move || {
                task.signal();
                waker.wake();
                let _ = task.run_queued();
            })
        };
        task.shutdown();
        waking.join().unwrap();
        // Runs queued after shutdown are dropped by whoever queued them (the scheduler's shutdown
        // race), never run.
        task.drop_queued();
        assert!(task.is_complete());
        let output = handle.poll().expect("complete");
        assert!(output == Ok(OUTPUT) || output == Err(()), "{output:?}");
        drop(handle);
        task.assert_freed(1);
    });
}

/// The first poll returns `Pending` while the runtime shuts down (a worker shutdown gave up waiting
/// for): the task lists itself before the drain, which then cancels it, or after the list closed,
/// and then drops its future itself; or shutdown drops its queued run first. Never is it left idle
/// and unlisted, where nothing would ever drop its future.
#[test]
fn shutdown_racing_the_first_pending_poll() {
    loom::model(|| {
        let (task, handle) = Task::spawn(1);
        let worker = run_on_thread(&task);
        task.shutdown();
        worker.join().unwrap();
        task.drop_queued();
        assert_cancelled_by_shutdown(&task, handle);
    });
}

/// A never-polled task's queued run is dropped by another thread (a late pusher's drain, a detached
/// worker) while shutdown drains the list: the run lists the task for the drain, or finds the list
/// closed and cancels it itself; either way it is cancelled exactly once.
#[test]
fn a_dropped_run_racing_the_list_drain() {
    loom::model(|| {
        let (task, handle) = Task::spawn(1);
        let pusher = {
            let task = Arc::clone(&task);
            thread::spawn(move || task.drop_queued())
        };
        let _ = task.claim_list_drain();
        pusher.join().unwrap();
        let _ = task.claim_list_drain();
        assert_cancelled_by_shutdown(&task, handle);
    });
}

/// The first poll, a wake during it and an abort all race shutdown (a worker it gave up on runs the
/// task, a waker's thread runs what it queued, as a detached worker would).
#[test]
fn abort_and_wake_during_the_first_poll_racing_shutdown() {
    loom::model(|| {
        let (task, handle) = Task::spawn(2);
        let waker = Task::waker(&task);
        let worker = run_on_thread(&task);
        let waking = {
            let task = Arc::clone(&task);
            thread::spawn(move || {
                task.signal();
                waker.wake();
            })
        };
        handle.abort();
        task.shutdown();
        worker.join().unwrap();
        waking.join().unwrap();
        task.drop_queued();
        let _ = task.claim_list_drain();
        assert_cancelled_by_shutdown(&task, handle);
    });
}

/// The handle takes the output, and with it does the deferred unlink, while the listed task
/// completes on another thread: the list's reference is released exactly once.
#[test]
fn join_taking_the_output_with_deferred_unlink() {
    join_taking_the_output(false);
}

/// As above, racing shutdown's drain too.
#[test]
fn join_taking_the_output_racing_shutdown_with_deferred_unlink() {
    join_taking_the_output(true);
}

fn join_taking_the_output(shutdown: bool) {
    loom::model(move || {
        let (task, handle) = spawn_listed_and_woken(true);
        let worker = run_on_thread(&task);
        let joiner = thread::spawn(move || {
            let first = handle.poll();
            (handle, first)
        });
        if shutdown {
            task.shutdown();
        }
        worker.join().unwrap();
        let (handle, first) = joiner.join().unwrap();
        if shutdown {
            task.drop_queued();
        } else {
            task.drain();
        }
        assert!(task.is_complete());
        let output = first.unwrap_or_else(|| handle.poll().expect("complete"));
        assert!(
            output == Ok(OUTPUT) || (shutdown && output == Err(())),
            "{output:?}"
        );
        drop(handle);
        assert!(!task.list.lock().unwrap().holds, "left on the list");
        task.assert_freed(1);
    });
}
