//! Every path of a task's life through the public API, on one worker and at tiny sizes, so that
//! the whole file runs under Miri (`.ci/miri.sh`) in a few minutes: spawn and join, wakes by value
//! and by reference from other threads, wakes while running, the join waker, aborts, detached and
//! dropped handles, panics, shutdown with queued, idle and running tasks, wakers that outlive the
//! runtime, `JoinSet` and `spawn_blocking`. Miri checks each for undefined behaviour (the raw task
//! pointer, the `UnsafeCell` stage and join-waker slot) and for leaks; the same tests run in the
//! normal suite.
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::{runtime, DropCounter};

/// A future that is pending until `open` is set, registering its waker each poll.
#[derive(Clone, Default)]
struct Gate(Arc<(AtomicBool, Mutex<Option<Waker>>)>);

impl Gate {
    fn open(&self, by_ref: bool) {
        self.0 .0.store(true, Ordering::SeqCst);
        let waker = self.0 .1.lock().unwrap().take();
        if let Some(waker) = waker {
            if by_ref {
                waker.wake_by_ref();
            } else {
                waker.wake();
            }
        }
    }

    fn wait(&self) -> GateWait {
        GateWait(self.clone())
    }

    fn has_waiter(&self) -> bool {
        self.0 .1.lock().unwrap().is_some()
    }
}

struct GateWait(Gate);

impl Future for GateWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let inner = &(self.0).0;
        if inner.0.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *inner.1.lock().unwrap() = Some(cx.waker().clone());
        if inner.0.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// Waits (yielding the thread) until `condition` holds.
fn wait_until(mut condition: impl FnMut() -> bool) {
    while !condition() {
        std::thread::yield_now();
    }
}

#[test]
fn spawn_join_and_outputs() {
    let rt = runtime(1);
    let drops = DropCounter::default();
    let token = drops.token();
    let value = rt.block_on(async move {
        let a = magpie::spawn(async { 1 });
        let b = magpie::spawn(async move {
            magpie::task::yield_now().await;
            drop(token);
            String::from("two")
        });
        (a.await.unwrap(), b.await.unwrap())
    });
    assert_eq!(value, (1, "two".to_owned()));
    assert_eq!(drops.count(), 1);
}

#[test]
fn wakes_from_another_thread_by_value_and_by_ref() {
    let rt = runtime(1);
    for by_ref in [false, true] {
        let gate = Gate::default();
        let handle = rt.spawn(gate.wait());
        wait_until(|| gate.has_waiter());
        let opener = {
            let gate = gate.clone();
            std::thread::spawn(move || gate.open(by_ref))
        };
        rt.block_on(handle).unwrap();
        opener.join().unwrap();
    }
}

#[test]
fn a_waker_cloned_and_woken_many_times_while_running() {
    let rt = runtime(1);
    let polls = rt.block_on(async {
        magpie::spawn(std::future::poll_fn({
            let mut polls = 0;
            move |cx| {
                polls += 1;
                if polls == 3 {
                    return Poll::Ready(polls);
                }
                let clone = cx.waker().clone();
                cx.waker().wake_by_ref();
                clone.wake_by_ref();
                clone.wake();
                Poll::Pending
            }
        }))
        .await
        .unwrap()
    });
    assert_eq!(polls, 3, "wakes while running coalesce into one re-run");
}

#[test]
fn join_waker_is_woken_when_the_task_completes_later() {
    let rt = runtime(1);
    let gate = Gate::default();
    let handle = rt.spawn(gate.wait());
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            wait_until(|| gate.has_waiter());
            gate.open(false);
        })
    };
    // block_on registers its waker in the join-waker slot, then parks until woken.
    rt.block_on(handle).unwrap();
    opener.join().unwrap();

    // A task awaiting it instead: its own waker goes into the slot and is woken from there.
    let gate = Gate::default();
    let mut handle = rt.spawn(gate.wait());
    let registered = Arc::new(AtomicBool::new(false));
    let joiner = {
        let registered = Arc::clone(&registered);
        rt.spawn(std::future::poll_fn(move |cx| {
            let poll = Pin::new(&mut handle).poll(cx);
            registered.store(poll.is_pending(), Ordering::SeqCst);
            poll
        }))
    };
    let opener = std::thread::spawn(move || {
        wait_until(|| registered.load(Ordering::SeqCst));
        gate.open(false);
    });
    rt.block_on(joiner).unwrap().unwrap();
    opener.join().unwrap();
}

// Waiting loops live on the test thread (`wait_until` yields it), never inside `block_on`: under
// Miri without preemption, a `block_on` that re-polls itself would never let the worker run.

#[test]
fn aborts_of_queued_idle_and_finished_tasks() {
    let rt = runtime(1);
    let drops = DropCounter::default();
    // Queued (the worker may or may not have started it).
    let token = drops.token();
    let queued = rt.spawn(async move {
        let _token = token;
        std::future::pending::<()>().await
    });
    queued.abort();
    assert!(rt.block_on(queued).unwrap_err().is_cancelled());
    // Idle, waiting on a gate.
    let gate = Gate::default();
    let token = drops.token();
    let wait = gate.wait();
    let idle = rt.spawn(async move {
        let _token = token;
        wait.await
    });
    wait_until(|| gate.has_waiter());
    idle.abort();
    idle.abort();
    assert!(rt.block_on(idle).unwrap_err().is_cancelled());
    // Finished: the output is kept.
    let done = rt.spawn(async { 4 });
    wait_until(|| done.is_finished());
    done.abort();
    assert_eq!(rt.block_on(done).unwrap(), 4);
    // Racing completion.
    rt.block_on(async {
        for i in 0..10 {
            let handle = magpie::spawn(async move { i });
            if i % 2 == 0 {
                magpie::task::yield_now().await;
            }
            handle.abort();
            match handle.await {
                Ok(value) => assert_eq!(value, i),
                Err(err) => assert!(err.is_cancelled()),
            }
        }
    });
    assert_eq!(drops.count(), 2);
}

#[test]
fn handles_dropped_before_and_after_completion() {
    let rt = runtime(1);
    let outputs = DropCounter::default();
    // One gate per waiting task: a gate holds one waker.
    let gate = Gate::default();
    let other_gate = Gate::default();
    // Before: the task runs on, and the runtime drops the output.
    let token = outputs.token();
    let wait = gate.wait();
    drop(rt.spawn(async move {
        wait.await;
        token
    }));
    // After: the handle drops the output.
    let token = outputs.token();
    let finished = rt.spawn(async move { token });
    wait_until(|| finished.is_finished());
    drop(finished);
    assert_eq!(outputs.count(), 1);
    // A handle polled once (its waker registered) and then dropped.
    rt.block_on(async {
        let mut registered = magpie::spawn(other_gate.wait());
        let poll = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut registered).poll(cx))).await;
        assert!(poll.is_pending());
        drop(registered);
    });
    gate.open(true);
    other_gate.open(false);
    wait_until(|| outputs.count() == 2);
    // Awaited: the output is the caller's, and the handle, still usable, drops nothing more.
    let token = outputs.token();
    let mut awaited = rt.spawn(async move { token });
    let output = rt.block_on(&mut awaited).unwrap();
    assert!(awaited.is_finished());
    awaited.abort();
    let _ = awaited.id();
    drop(awaited);
    assert_eq!(outputs.count(), 2);
    drop(output);
    assert_eq!(outputs.count(), 3);
}

#[test]
fn panics_are_caught_and_reported() {
    let rt = runtime(1);
    rt.block_on(async {
        let err = magpie::spawn(async { panic!("on purpose") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("on purpose"), "{err}");
        assert_eq!(magpie::spawn(async { 1 }).await.unwrap(), 1);
    });
}

/// Named tasks carry their name in a different cell layout (a trailer after the future): join,
/// panic, abort, a detached one and one dropped at shutdown, each freed with that layout.
#[test]
fn named_tasks_through_every_ending() {
    let drops = DropCounter::default();
    let rt = runtime(1);
    let named = |name: &str| magpie::task::Builder::new().name(name);
    rt.block_on(async {
        let ok = named("ok").spawn(async { 7 }).unwrap();
        assert_eq!(ok.await.unwrap(), 7);
        let err = named("boom")
            .spawn(async { panic!("on purpose") })
            .unwrap()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        let aborted = named("aborted")
            .spawn(std::future::pending::<()>())
            .unwrap();
        aborted.abort();
        let err = aborted.await.unwrap_err();
        assert!(
            err.is_cancelled() && err.to_string().contains("aborted"),
            "{err}"
        );
        let token = drops.token();
        drop(named("detached").spawn(async move { drop(token) }).unwrap());
    });
    let token = drops.token();
    let pending = named("pending").spawn_on(
        async move {
            let _token = token;
            std::future::pending::<()>().await
        },
        rt.handle(),
    );
    drop(rt);
    assert_eq!(drops.count(), 2);
    let err = futures::executor::block_on(pending).unwrap_err();
    assert!(
        err.is_cancelled() && err.to_string().contains("pending"),
        "{err}"
    );
}

#[test]
fn shutdown_drops_queued_idle_and_detached_tasks() {
    let drops = DropCounter::default();
    let rt = runtime(1);
    let gate = Gate::default();
    let mut handles = Vec::new();
    for i in 0..6 {
        let token = drops.token();
        let wait = gate.wait();
        let handle = rt.spawn(async move {
            let _token = token;
            if i % 2 == 0 {
                wait.await;
            }
            std::future::pending::<()>().await
        });
        if i % 3 == 0 {
            drop(handle);
        } else {
            handles.push(handle);
        }
    }
    rt.block_on(magpie::task::yield_now());
    drop(rt);
    assert_eq!(drops.count(), 6);
    for handle in handles {
        assert!(futures::executor::block_on(handle)
            .unwrap_err()
            .is_cancelled());
    }
    // Wakers that outlive the runtime still work (they find the task complete).
    gate.open(false);
}

#[test]
fn a_waker_woken_after_shutdown_of_an_idle_task() {
    // The task stays idle until shutdown; its waker is woken afterwards from another thread.
    let rt = runtime(1);
    let gate = Gate::default();
    let handle = rt.spawn(gate.wait());
    wait_until(|| gate.has_waiter());
    drop(rt);
    let opener = std::thread::spawn(move || gate.open(true));
    opener.join().unwrap();
    assert!(futures::executor::block_on(handle)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn join_set_and_spawn_blocking() {
    let rt = runtime(1);
    let total = rt.block_on(async {
        let mut set = magpie::task::JoinSet::new();
        for i in 0..5u32 {
            set.spawn(async move { i });
        }
        let mut total = 0;
        while let Some(result) = set.join_next().await {
            total += result.unwrap();
        }
        total + magpie::task::spawn_blocking(|| 10).await.unwrap()
    });
    assert_eq!(total, 20);
    drop(rt);
}
