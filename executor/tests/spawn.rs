//! Spawning and joining through the public API, on one worker and on four.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{runtime, with_watchdog, DropCounter, FLAVOURS};
use magpie::task::{self, JoinSet};

#[test]
fn spawn_and_join_a_million_tasks() {
    let count = if cfg!(miri) { 100 } else { 1_000_000 };
    with_watchdog("million", Duration::from_secs(120), || {
        let rt = runtime(2);
        let sum = rt.block_on(async move {
            let handles: Vec<_> = (0..count)
                .map(|i| magpie::spawn(async move { i as u64 }))
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (count as u64) * (count as u64 - 1) / 2);
        let metrics = rt.handle().metrics();
        assert_eq!(metrics.tasks_spawned, count as u64);
        assert_eq!(metrics.tasks_completed, count as u64);
        assert_eq!(metrics.tasks_alive, 0);
    });
}

#[test]
fn spawned_tasks_run_without_being_awaited() {
    for workers in FLAVOURS {
        let rt = runtime(workers);
        let ran = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let ran = Arc::clone(&ran);
                rt.spawn(async move {
                    ran.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        rt.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        assert_eq!(ran.load(Ordering::SeqCst), 100);
    }
}

#[test]
fn a_panicking_task_comes_back_as_an_error_and_the_worker_carries_on() {
    for workers in FLAVOURS {
        let rt = runtime(workers);
        rt.block_on(async {
            let seven = std::hint::black_box(7);
            let err = magpie::spawn(async move { panic!("boom {seven}") })
                .await
                .unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled());
            assert!(err.to_string().contains("boom 7"), "{err}");
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom 7");
            // The runtime still works after a panic.
            assert_eq!(magpie::spawn(async { 5 }).await.unwrap(), 5);
        });
    }
}

#[test]
fn abort_cancels_a_pending_task_and_drops_its_future() {
    for workers in FLAVOURS {
        let rt = runtime(workers);
        let drops = DropCounter::default();
        let token = drops.token();
        rt.block_on(async move {
            let handle = magpie::spawn(async move {
                let _token = token;
                std::future::pending::<()>().await
            });
            task::yield_now().await;
            handle.abort();
            let err = handle.await.unwrap_err();
            assert!(err.is_cancelled(), "{err:?}");
        });
        assert_eq!(drops.count(), 1);
    }
}

#[test]
fn abort_racing_completion_yields_one_or_the_other() {
    let rt = runtime(4);
    let rounds = if cfg!(miri) { 20 } else { 20_000 };
    let (mut finished, mut cancelled) = (0, 0);
    rt.block_on(async {
        for i in 0..rounds {
            let handle = magpie::spawn(async move { i });
            if i % 2 == 0 {
                task::yield_now().await;
            }
            handle.abort();
            match handle.await {
                Ok(value) => {
                    assert_eq!(value, i);
                    finished += 1;
                }
                Err(err) => {
                    assert!(err.is_cancelled());
                    cancelled += 1;
                }
            }
        }
    });
    assert_eq!(finished + cancelled, rounds);
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    for workers in FLAVOURS {
        let rt = runtime(workers);
        let (tx, rx) = std::sync::mpsc::channel();
        rt.block_on(async move {
            drop(magpie::spawn(async move {
                task::yield_now().await;
                tx.send(42).unwrap();
            }));
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), 42);
    }
}

#[test]
fn dropping_the_handle_after_completion_drops_the_output_once() {
    let rt = runtime(2);
    let drops = DropCounter::default();
    let token = drops.token();
    rt.block_on(async move {
        let handle = magpie::spawn(async move { token });
        while !handle.is_finished() {
            task::yield_now().await;
        }
        drop(handle);
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn output_drop_panic_does_not_escape_the_handle_drop() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("output drop panics");
        }
    }
    let rt = runtime(2);
    rt.block_on(async {
        let handle = magpie::spawn(async { PanicOnDrop });
        while !handle.is_finished() {
            task::yield_now().await;
        }
        drop(handle);
        // Detached: the runtime drops the output itself.
        drop(magpie::spawn(async { PanicOnDrop }));
        assert_eq!(magpie::spawn(async { 1 }).await.unwrap(), 1);
    });
}

/// A future completed by a plain thread through its waker.
struct Flag(Arc<Mutex<(bool, Option<Waker>)>>);

impl Future for Flag {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.lock().unwrap();
        if state.0 {
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[test]
fn wakes_from_plain_threads() {
    for workers in FLAVOURS {
        let rt = runtime(workers);
        let tasks = 200;
        let flags: Vec<_> = (0..tasks)
            .map(|_| Arc::new(Mutex::new((false, None::<Waker>))))
            .collect();
        let handles: Vec<_> = flags
            .iter()
            .map(|flag| rt.spawn(Flag(Arc::clone(flag))))
            .collect();
        let waker_thread = std::thread::spawn(move || {
            for flag in flags {
                let waker = {
                    let mut state = flag.lock().unwrap();
                    state.0 = true;
                    state.1.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        });
        rt.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        waker_thread.join().unwrap();
    }
}

/// Spawns `tasks` tasks that each record their turn and yield `yields` times; returns the turns.
fn yielding_turns(
    rt: &magpie::runtime::Runtime,
    from_a_task: bool,
    tasks: usize,
    yields: usize,
) -> Vec<usize> {
    let turns = Arc::new(Mutex::new(Vec::new()));
    // Every task waits until all are spawned, so a slow spawner (a loaded machine) does not count
    // as unfairness.
    let spawned = Arc::new(AtomicUsize::new(0));
    let spawn_all = {
        let turns = Arc::clone(&turns);
        move || -> Vec<_> {
            (0..tasks)
                .map(|id| {
                    let turns = Arc::clone(&turns);
                    let counter = Arc::clone(&spawned);
                    let handle = magpie::spawn(async move {
                        while counter.load(Ordering::SeqCst) < tasks {
                            task::yield_now().await;
                        }
                        for _ in 0..yields {
                            turns.lock().unwrap().push(id);
                            task::yield_now().await;
                        }
                    });
                    spawned.fetch_add(1, Ordering::SeqCst);
                    handle
                })
                .collect()
        }
    };
    rt.block_on(async move {
        let handles = if from_a_task {
            magpie::spawn(async move { spawn_all() }).await.unwrap()
        } else {
            spawn_all()
        };
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let turns = turns.lock().unwrap().clone();
    turns
}

#[test]
fn yield_now_goes_behind_the_other_local_tasks() {
    let rt = runtime(1);
    let turns = yielding_turns(&rt, true, 3, 5);
    assert_eq!(turns.len(), 15);
    // Strict round-robin among tasks queued on the one worker.
    for window in turns.windows(2) {
        assert_ne!(window[0], window[1], "{turns:?}");
    }
}

#[test]
fn yielding_tasks_from_outside_all_get_turns_on_one_worker() {
    let rt = runtime(1);
    let yields = 200;
    let turns = yielding_turns(&rt, false, 3, yields);
    // The injector is checked regularly even while local work exists: every task has its first
    // turn long before any other task is done.
    for id in 0..3 {
        let first = turns.iter().position(|&t| t == id).unwrap();
        assert!(
            first < yields,
            "task {id} first ran at turn {first}: {turns:?}"
        );
    }
}

#[test]
fn a_task_that_never_yields_does_not_stop_the_others() {
    let rt = runtime(2);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinner_stop = Arc::clone(&stop);
    let spinner = rt.spawn(async move {
        while !spinner_stop.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
    });
    let done = rt.block_on(async {
        let mut total = 0;
        for i in 0..1000 {
            total += magpie::spawn(async move { i }).await.unwrap();
        }
        total
    });
    stop.store(true, Ordering::Release);
    assert_eq!(done, 499_500);
    rt.block_on(spinner).unwrap();
}

/// Adds `count` tasks that never finish, each holding a token of `drops`.
fn spawn_pending_into(set: &mut JoinSet<()>, drops: &DropCounter, count: usize) {
    for _ in 0..count {
        let token = drops.token();
        set.spawn(async move {
            let _token = token;
            std::future::pending::<()>().await
        });
    }
}

#[test]
fn join_set_joins_in_completion_order_and_aborts_on_drop() {
    for workers in FLAVOURS {
        let rt = runtime(workers);
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..1000u64 {
                set.spawn(async move {
                    task::yield_now().await;
                    i
                });
            }
            assert_eq!(set.len(), 1000);
            let mut sum = 0;
            while let Some(result) = set.join_next().await {
                sum += result.unwrap();
            }
            assert_eq!(sum, 499_500);
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());

            let drops = DropCounter::default();
            let mut set = JoinSet::new();
            spawn_pending_into(&mut set, &drops, 10);
            set.abort_all();
            let mut cancelled = 0;
            while let Some(result) = set.join_next().await {
                assert!(result.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 10);
            assert_eq!(drops.count(), 10);

            let mut set = JoinSet::new();
            spawn_pending_into(&mut set, &drops, 10);
            drop(set);
            while drops.count() < 20 {
                task::yield_now().await;
            }
        });
    }
}

#[test]
fn spawn_blocking_runs_off_the_workers() {
    let rt = runtime(1);
    rt.block_on(async {
        let worker = std::thread::current().id();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        // The blocking job waits for a message a task on the single worker sends: if it ran on the
        // worker, it would deadlock.
        let blocked = task::spawn_blocking(move || {
            rx.recv().unwrap();
            std::thread::current().id()
        });
        magpie::spawn(async move { tx.send(()).unwrap() })
            .await
            .unwrap();
        let ran_on = blocked.await.unwrap();
        assert_ne!(ran_on, worker);
        let panicked = task::spawn_blocking(|| panic!("blocking boom")).await;
        assert!(panicked.unwrap_err().is_panic());
        // Spawning from inside a blocking job works.
        let nested = task::spawn_blocking(|| magpie::spawn(async { 3 }))
            .await
            .unwrap();
        assert_eq!(nested.await.unwrap(), 3);
    });
}

#[test]
fn named_tasks_and_handles() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = task::Builder::new()
            .name("fetch")
            .spawn(async { 9 })
            .unwrap();
        assert_eq!(handle.await.unwrap(), 9);
        let a = magpie::spawn(async {});
        let b = magpie::spawn(async {});
        assert_ne!(a.id(), b.id());
        a.await.unwrap();
        b.await.unwrap();
        assert!(magpie::runtime::Handle::try_current().is_ok());
    });
    assert!(
        task::Builder::new().spawn(async {}).is_err(),
        "no runtime here"
    );
}

#[test]
fn handle_spawns_from_any_thread() {
    let rt = runtime(2);
    let handle = rt.handle().clone();
    let joins: Vec<_> = (0..4)
        .map(|i| {
            let handle = handle.clone();
            std::thread::spawn(move || handle.spawn(async move { i * 10 }))
        })
        .collect();
    let total: i32 = rt.block_on(async {
        let mut total = 0;
        for join in joins {
            total += join.join().unwrap().await.unwrap();
        }
        total
    });
    assert_eq!(total, 60);
}
