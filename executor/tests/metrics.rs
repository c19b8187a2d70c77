//! `Handle::metrics()` (issue 7): the counters are plausible, exact where the runtime is quiet
//! enough for exactness, and readable while the workers are busy or blocked.
//!
//! Each test builds its own runtime, so the per-runtime counters start at zero. The timer counters
//! are process-wide and other tests in this binary move them too, so timer tests only assert
//! increases they caused (or an upper bound on what they can leave behind).

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use magpie::runtime::{Handle, RuntimeMetrics};
use magpie::task;

use common::{run_stealable_burst, runtime, with_watchdog, FLAVOURS};

const LIMIT: Duration = Duration::from_secs(60);
const TASKS: u64 = if cfg!(miri) { 100 } else { 10_000 };

/// Polls `check` until it holds (the watchdog bounds the wait).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < LIMIT, "never observed: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_fresh_runtime_counts_nothing_yet() {
    for workers in FLAVOURS {
        let rt = runtime(workers);
        let m = rt.handle().metrics();
        assert_eq!(m.workers, workers);
        assert_eq!(m.local_queue_depths, vec![0; workers]);
        assert_eq!(
            (m.tasks_spawned, m.tasks_alive, m.tasks_completed),
            (0, 0, 0)
        );
        assert_eq!(
            (m.polls, m.steals, m.stolen_tasks, m.injector_depth),
            (0, 0, 0, 0)
        );
    }
}

/// After joining 10k tasks (spawned from outside the workers and from a worker), spawned and
/// completed count exactly them, none is alive, and each was polled at least once.
#[test]
fn joined_tasks_are_counted_as_spawned_and_completed() {
    for workers in FLAVOURS {
        with_watchdog("joined_tasks", LIMIT, || {
            let rt = runtime(workers);
            // From the block_on thread: the injector path and the non-worker counter slot.
            rt.block_on(async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| magpie::spawn(async move { i }))
                    .collect();
                for (i, handle) in handles.into_iter().enumerate() {
                    assert_eq!(handle.await.unwrap(), i as u64);
                }
            });
            let m = rt.handle().metrics();
            assert_eq!(m.tasks_spawned, TASKS, "{workers} workers: {m:?}");
            assert_eq!(m.tasks_completed, TASKS, "{workers} workers: {m:?}");
            assert_eq!(m.tasks_alive, 0, "{workers} workers: {m:?}");
            assert!(m.polls >= TASKS, "{workers} workers: {m:?}");

            // From a worker: the local-queue path and the per-worker counter slots.
            rt.block_on(rt.spawn(async {
                let handles: Vec<_> = (0..TASKS).map(|_| magpie::spawn(async {})).collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }))
            .unwrap();
            let m = rt.handle().metrics();
            assert_eq!(m.tasks_spawned, 2 * TASKS + 1, "{workers} workers: {m:?}");
            assert_eq!(m.tasks_completed, 2 * TASKS + 1, "{workers} workers: {m:?}");
            assert_eq!(m.tasks_alive, 0, "{workers} workers: {m:?}");
            assert!(m.polls > 2 * TASKS, "{workers} workers: {m:?}");
        });
    }
}

/// `polls` counts every poll: a task that yields nine times is polled ten times.
#[test]
fn polls_count_every_poll() {
    for workers in FLAVOURS {
        with_watchdog("polls", LIMIT, || {
            let rt = runtime(workers);
            rt.block_on(rt.spawn(async {
                for _ in 0..9 {
                    task::yield_now().await;
                }
            }))
            .unwrap();
            assert_eq!(rt.handle().metrics().polls, 10, "{workers} workers");
        });
    }
}

/// Pending tasks are alive; aborting them completes them (a cancellation is a finish too).
#[test]
fn tasks_alive_counts_unfinished_tasks() {
    with_watchdog("alive", LIMIT, || {
        let rt = runtime(2);
        let handles: Vec<_> = (0..100)
            .map(|_| rt.spawn(std::future::pending::<()>()))
            .collect();
        let m = rt.handle().metrics();
        assert_eq!(
            (m.tasks_spawned, m.tasks_alive, m.tasks_completed),
            (100, 100, 0)
        );
        for handle in &handles {
            handle.abort();
        }
        for handle in handles {
            assert!(rt.block_on(handle).unwrap_err().is_cancelled());
        }
        let m = rt.handle().metrics();
        assert_eq!(
            (m.tasks_spawned, m.tasks_alive, m.tasks_completed),
            (100, 0, 100)
        );
    });
}

/// A blocked worker leaves remote spawns in the injector, where the snapshot sees them; reading
/// the snapshot does not need the blocked worker.
#[test]
fn injector_depth_counts_tasks_waiting_for_a_blocked_worker() {
    with_watchdog("injector_depth", LIMIT, || {
        let rt = runtime(1);
        let (started_tx, started) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let blocker = rt.spawn(async move {
            started_tx.send(()).unwrap();
            // Blocks the only worker thread (deliberately not async).
            release_rx.recv().unwrap();
        });
        started.recv().unwrap();
        let waiting: Vec<_> = (0..100).map(|_| rt.spawn(async {})).collect();

        let m = rt.handle().metrics();
        assert_eq!(m.injector_depth, 100, "{m:?}");
        assert_eq!(m.local_queue_depths, vec![0]);
        assert_eq!(m.tasks_alive, 101);

        release.send(()).unwrap();
        rt.block_on(blocker).unwrap();
        for handle in waiting {
            rt.block_on(handle).unwrap();
        }
        let m = rt.handle().metrics();
        assert_eq!((m.injector_depth, m.tasks_alive), (0, 0), "{m:?}");
    });
}

/// Tasks spawned by a task wait in its worker's local queue.
#[test]
fn local_queue_depth_counts_tasks_spawned_by_a_running_task() {
    with_watchdog("local_depth", LIMIT, || {
        let rt = runtime(1);
        let depths = rt
            .block_on(rt.spawn(async {
                let handles: Vec<_> = (0..100).map(|_| magpie::spawn(async {})).collect();
                // Still running on the only worker: none of them has started.
                let inside = Handle::current().metrics();
                for handle in handles {
                    handle.await.unwrap();
                }
                inside
            }))
            .unwrap();
        assert_eq!(depths.local_queue_depths, vec![100], "{depths:?}");
        assert_eq!(depths.injector_depth, 0);
        assert_eq!(rt.handle().metrics().local_queue_depths, vec![0]);
    });
}

/// Siblings of a worker with a long local queue steal from it; one worker never steals.
#[test]
fn steals_are_counted_with_the_tasks_they_move() {
    for workers in FLAVOURS {
        with_watchdog("steals", LIMIT, || {
            let rt = runtime(workers);
            // Scheduling decides who steals when; repeat the burst until someone has.
            for _ in 0..50 {
                run_stealable_burst(&rt);
                if rt.handle().metrics().steals > 0 {
                    break;
                }
            }
            let m = rt.handle().metrics();
            if workers == 1 {
                assert_eq!(
                    (m.steals, m.stolen_tasks),
                    (0, 0),
                    "nobody to steal from: {m:?}"
                );
            } else {
                assert!(m.steals > 0, "no steal in 50 bursts of 256 tasks: {m:?}");
                assert!(
                    m.stolen_tasks >= m.steals,
                    "a steal moves at least one task: {m:?}"
                );
            }
        });
    }
}

/// Idle workers park; a spawn unparks one; once idle again every worker is parked, so each has
/// parked exactly once more than it was woken.
#[test]
fn parks_and_unparks_are_counted() {
    for workers in FLAVOURS {
        with_watchdog("parks", LIMIT, || {
            let rt = runtime(workers);
            let all_parked = |m: &RuntimeMetrics| m.parks == m.unparks + workers as u64;
            eventually("every idle worker parking", || {
                all_parked(&rt.handle().metrics())
            });
            rt.block_on(rt.spawn(async {})).unwrap();
            let m = rt.handle().metrics();
            assert!(m.unparks >= 1, "the spawn woke a parked worker: {m:?}");
            eventually("every worker parking again", || {
                all_parked(&rt.handle().metrics())
            });
        });
    }
}

/// Polls each sleep once, so that it registers with the timer thread now; `false` if `deadline`
/// passed meanwhile (a sleep first polled late may finish without the timer).
fn register_all<F: Future + Unpin>(sleeps: &mut [F], deadline: Instant) -> bool {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    for sleep in sleeps {
        assert!(std::pin::Pin::new(sleep).poll(&mut cx).is_pending());
    }
    Instant::now() < deadline
}

/// Fired timers are counted once they fire; pending ones while they wait, until cancelled.
#[test]
fn timers_pending_and_fired_are_counted() {
    const SLEEPERS: u64 = 100;
    with_watchdog("timers", LIMIT, || {
        let rt = runtime(2);
        let metrics = || rt.handle().metrics();
        let before = metrics().timers_fired;
        rt.block_on(async {
            loop {
                let deadline = Instant::now() + Duration::from_millis(50);
                let sleep = || Box::pin(magpie::time::sleep_until(deadline));
                let mut sleeps: Vec<_> = (0..SLEEPERS).map(|_| sleep()).collect();
                let in_time = register_all(&mut sleeps, deadline);
                futures::future::join_all(sleeps).await;
                if in_time {
                    break;
                }
            }
        });
        // The timer thread publishes its counters after waking the sleepers.
        eventually("the sleeps counted as fired", || {
            metrics().timers_fired - before >= SLEEPERS
        });

        let mut long: Vec<_> = (0..SLEEPERS)
            .map(|_| Box::pin(magpie::time::sleep(Duration::from_secs(3600))))
            .collect();
        register_all(&mut long, Instant::now() + Duration::from_secs(3600));
        // The timer thread picks up registrations when it wakes, and a far deadline does not wake
        // it: nudge it with short sleeps until it has.
        let nudge = || rt.block_on(magpie::time::sleep(Duration::from_millis(1)));
        eventually("the long sleeps pending", || {
            nudge();
            metrics().timers_pending >= SLEEPERS
        });
        drop(long);
        // Other tests of this binary keep fewer than SLEEPERS timers pending at any time.
        eventually("the cancelled sleeps leaving the wheel", || {
            nudge();
            metrics().timers_pending < SLEEPERS
        });
    });
}

#[test]
fn blocking_threads_are_counted() {
    with_watchdog("blocking", LIMIT, || {
        let rt = runtime(1);
        let (release, release_rx) = mpsc::channel::<()>();
        let job = rt
            .handle()
            .spawn_blocking(move || release_rx.recv().unwrap());
        eventually("a blocking thread", || {
            rt.handle().metrics().blocking_threads >= 1
        });
        release.send(()).unwrap();
        rt.block_on(job).unwrap();
    });
}

/// Snapshots taken while the workers run never go backwards in any monotonic counter.
#[test]
fn concurrent_snapshots_are_monotonic() {
    with_watchdog("monotonic", LIMIT, || {
        let rt = runtime(4);
        let handle = rt.handle().clone();
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let mut last = handle.metrics();
                let mut snapshots = 0u64;
                while !done.load(Ordering::Acquire) {
                    let m = handle.metrics();
                    for (name, was, now) in [
                        ("spawned", last.tasks_spawned, m.tasks_spawned),
                        ("completed", last.tasks_completed, m.tasks_completed),
                        ("polls", last.polls, m.polls),
                        ("steals", last.steals, m.steals),
                        ("stolen", last.stolen_tasks, m.stolen_tasks),
                        ("parks", last.parks, m.parks),
                        ("unparks", last.unparks, m.unparks),
                        ("timers fired", last.timers_fired, m.timers_fired),
                    ] {
                        assert!(now >= was, "{name} went from {was} to {now}");
                    }
                    assert_eq!(m.local_queue_depths.len(), 4);
                    last = m;
                    snapshots += 1;
                }
                snapshots
            })
        };
        rt.block_on(async {
            for _ in 0..10 {
                let handles: Vec<_> = (0..TASKS / 10)
                    .map(|_| magpie::spawn(async { task::yield_now().await }))
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
        });
        done.store(true, Ordering::Release);
        assert!(reader.join().unwrap() > 0);
    });
}
