//! Shutdown: every unfinished future dropped exactly once, nothing hangs, nothing leaks.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use common::{runtime, with_watchdog, DropCounter, FLAVOURS};

#[test]
fn shutdown_drops_ten_thousand_pending_tasks() {
    for workers in FLAVOURS {
        let drops = DropCounter::default();
        let rt = runtime(workers);
        let handles: Vec<_> = (0..10_000)
            .map(|_| {
                let token = drops.token();
                rt.spawn(async move {
                    let _token = token;
                    std::future::pending::<()>().await
                })
            })
            .collect();
        // Let some of them get polled (idle, waiting on nothing), others stay queued.
        rt.block_on(magpie::task::yield_now());
        drop(rt);
        assert_eq!(drops.count(), 10_000);
        for handle in handles {
            assert!(handle.is_finished());
            let err = futures::executor::block_on(handle).unwrap_err();
            assert!(err.is_cancelled());
        }
    }
}

/// Tasks that never ran are on no list: shutdown cancels them through their dropped queued runs. A
/// poll that shutdown gave up waiting for, and that then returns `Pending` for the first time, finds
/// the task list closed and drops its own future.
#[test]
fn shutdown_cancels_tasks_that_never_ran_and_a_late_first_pending() {
    let rt = runtime(1);
    let drops = DropCounter::default();
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let token = drops.token();
    let stuck = rt.spawn(async move {
        let _token = token;
        entered_tx.send(()).unwrap();
        // Blocks the only worker, so the tasks below stay queued.
        release_rx.recv().unwrap();
        std::future::pending::<()>().await
    });
    entered_rx.recv().unwrap();
    let queued: Vec<_> = (0..1_000)
        .map(|_| {
            let token = drops.token();
            rt.spawn(async move {
                let _token = token;
            })
        })
        .collect();
    with_watchdog("shutdown_timeout", Duration::from_secs(60), || {
        rt.shutdown_timeout(Duration::from_millis(10))
    });
    assert_eq!(drops.count(), 1_000, "every queued task was cancelled");
    for handle in queued {
        let err = futures::executor::block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
    }
    // The detached worker's poll now returns `Pending`: the future must not be left idle.
    release_tx.send(()).unwrap();
    let err = with_watchdog("late first Pending", Duration::from_secs(60), || {
        futures::executor::block_on(stuck).unwrap_err()
    });
    assert!(err.is_cancelled());
    assert_eq!(drops.count(), 1_001);
}

/// A worker that shutdown gave up waiting for, still inside a poll, spawns: the new task is
/// cancelled at once, even though it went onto that worker's own queue.
#[test]
fn a_detached_worker_spawning_after_shutdown_gets_a_cancelled_task() {
    let rt = runtime(1);
    let drops = DropCounter::default();
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (report_tx, report_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let token = drops.token();
    let stuck = rt.spawn(async move {
        entered_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        let spawned = magpie::spawn(async move {
            let _token = token;
        });
        report_tx.send(spawned.is_finished()).unwrap();
        // Still stuck: without the push's shutdown check, the spawned task would wait in this
        // worker's queue until this poll returns.
        release_rx.recv().unwrap();
        spawned.await
    });
    entered_rx.recv().unwrap();
    with_watchdog("shutdown_timeout", Duration::from_secs(60), || {
        rt.shutdown_timeout(Duration::from_millis(10))
    });
    go_tx.send(()).unwrap();
    let finished = report_rx.recv().unwrap();
    assert!(
        finished,
        "the task spawned after shutdown was not cancelled at once"
    );
    assert_eq!(drops.count(), 1);
    release_tx.send(()).unwrap();
    let inner = with_watchdog("detached poll", Duration::from_secs(60), || {
        futures::executor::block_on(stuck)
    });
    // The stuck task's poll then awaits the cancelled task and finishes.
    assert!(inner.unwrap().unwrap_err().is_cancelled());
}

/// Once shutdown has begun, a spawn or wake from another thread finds the injector closed and drains
/// it. The futures of the tasks it finds are not dropped inside that `spawn` or `wake` (a `Drop`
/// there could deadlock on a lock the calling thread holds, tokio #2046), but by the thread that
/// shuts the runtime down.
#[test]
fn futures_are_dropped_by_the_shutdown_thread_not_inside_a_wake() {
    struct RecordDropThread(Arc<Mutex<Option<std::thread::ThreadId>>>);
    impl Drop for RecordDropThread {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(std::thread::current().id());
        }
    }

    let rt = runtime(1);
    // An idle task whose waker the test holds.
    let waker_slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    let idle = {
        let waker_slot = Arc::clone(&waker_slot);
        rt.spawn(std::future::poll_fn(move |cx| {
            *waker_slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }))
    };
    while waker_slot.lock().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Block the only worker, then queue a task it will never poll.
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let blocker = rt.spawn(async move {
        entered_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    entered_rx.recv().unwrap();
    let dropped_on = Arc::default();
    let never_polled = {
        let record = RecordDropThread(Arc::clone(&dropped_on));
        rt.spawn(async move {
            let _record = record;
        })
    };
    // Shut down on another thread; it waits for the blocked worker.
    let handle = rt.handle().clone();
    assert_eq!(handle.metrics().injector_depth, 1, "the never-polled task");
    let shutdown = std::thread::spawn(move || {
        rt.shutdown_timeout(Duration::from_secs(30));
        std::thread::current().id()
    });
    // Spawn probes from here until one finds shutdown begun: that spawn drains the injector, the
    // never-polled task with it (before shutdown, each probe only adds to the injector).
    let mut probes = Vec::new();
    let started = Instant::now();
    while handle.metrics().injector_depth > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "shutdown never began"
        );
        std::thread::sleep(Duration::from_millis(5));
        probes.push(handle.spawn(async {}));
    }
    // And a wake after shutdown began.
    waker_slot.lock().unwrap().take().unwrap().wake();
    assert_eq!(
        *dropped_on.lock().unwrap(),
        None,
        "a future was dropped inside wake()"
    );
    release_tx.send(()).unwrap();
    let shutdown_thread = with_watchdog("shutdown", Duration::from_secs(60), || {
        shutdown.join().unwrap()
    });
    assert_eq!(*dropped_on.lock().unwrap(), Some(shutdown_thread));
    for handle in probes.into_iter().chain([idle, never_polled]) {
        let err = futures::executor::block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
    }
    futures::executor::block_on(blocker).unwrap();
}

#[test]
fn spawn_after_shutdown_is_cancelled_and_drops_the_future() {
    let rt = runtime(2);
    let handle = rt.handle().clone();
    drop(rt);
    let drops = DropCounter::default();
    let token = drops.token();
    let join = handle.spawn(async move {
        let _token = token;
    });
    assert_eq!(drops.count(), 1, "the future was dropped at once");
    assert!(futures::executor::block_on(join)
        .unwrap_err()
        .is_cancelled());
    let blocking = handle.spawn_blocking(|| 1);
    assert!(futures::executor::block_on(blocking)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn a_future_whose_drop_panics_does_not_stop_shutdown() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panics");
        }
    }
    let drops = DropCounter::default();
    let rt = runtime(2);
    for i in 0..100 {
        let token = drops.token();
        rt.spawn(async move {
            let _token = token;
            let _bomb = (i % 2 == 0).then_some(PanicOnDrop);
            std::future::pending::<()>().await
        });
    }
    drop(rt);
    assert_eq!(drops.count(), 100);
}

#[test]
fn futures_dropped_at_shutdown_may_wake_and_spawn() {
    type Slot = Arc<Mutex<Option<Waker>>>;
    /// On drop, wakes another task (through the waker it left in a slot) and tries to spawn.
    struct WakeOnDrop(Option<Slot>);
    impl Drop for WakeOnDrop {
        fn drop(&mut self) {
            if let Some(waker) = self.0.take().and_then(|slot| slot.lock().unwrap().take()) {
                waker.wake();
            }
            let _ = magpie::runtime::Handle::try_current().map(|h| h.spawn(async {}));
        }
    }
    let rt = runtime(2);
    let slots: Vec<Slot> = (0..100).map(|_| Slot::default()).collect();
    for i in 0..slots.len() {
        let mine = Arc::clone(&slots[i]);
        let previous = i.checked_sub(1).map(|p| Arc::clone(&slots[p]));
        rt.spawn(async move {
            let _guard = WakeOnDrop(previous);
            std::future::poll_fn(|cx| {
                *mine.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })
            .await
        });
    }
    rt.block_on(async {
        for _ in 0..10 {
            magpie::task::yield_now().await;
        }
    });
    with_watchdog("wake at shutdown", Duration::from_secs(60), || drop(rt));
}

#[test]
fn shutdown_timeout_returns_with_blocking_work_still_running() {
    let rt = runtime(1);
    let release = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&release);
    let started = Arc::new(AtomicBool::new(false));
    let started_flag = Arc::clone(&started);
    let _job = rt.handle().spawn_blocking(move || {
        started_flag.store(true, Ordering::SeqCst);
        while !flag.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let before = Instant::now();
    with_watchdog("shutdown_timeout", Duration::from_secs(60), || {
        rt.shutdown_timeout(Duration::ZERO)
    });
    // Returning at all (while the job still runs) is what is checked; the elapsed time is only
    // reported.
    eprintln!("shutdown_timeout(0) returned after {:?}", before.elapsed());
    release.store(true, Ordering::SeqCst);
}

#[test]
fn runtimes_start_and_drop_under_load() {
    let rounds = if cfg!(miri) { 3 } else { 200 };
    with_watchdog("start/drop", Duration::from_secs(120), || {
        for round in 0..rounds {
            let rt = runtime(FLAVOURS[round % 2]);
            for i in 0..50 {
                rt.spawn(async move {
                    for _ in 0..i % 5 {
                        magpie::task::yield_now().await;
                    }
                });
            }
            if round % 3 == 0 {
                rt.block_on(magpie::task::yield_now());
            }
            drop(rt);
        }
    });
}
