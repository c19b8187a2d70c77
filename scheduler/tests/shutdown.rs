//! Shutdown: every queued task is dropped exactly once, late schedules drop at once, no `Arc` cycle
//! survives, timeouts detach stuck workers, and a worker may shut its own pool down.

mod common;

use common::{job_pool, wait_until, watchdog, Book, Counted, Job};
use magpie_scheduler::{Config, Pool, Shared};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

fn counted_pool(workers: usize) -> Pool<Counted> {
    Pool::start(Config {
        worker_threads: workers,
        ..Config::default()
    })
    .unwrap()
}

#[test]
fn shutdown_drops_every_queued_task_exactly_once() {
    let _watchdog = watchdog(60);
    let workers = 2;
    let (per_blocker, late) = if cfg!(miri) { (10, 20) } else { (100, 1000) };
    // ids: 0..workers blockers, then per_blocker local + 1 next-slot task per blocker, then late ones.
    let local_base = workers;
    let late_base = local_base + workers * (per_blocker + 1);
    let total = late_base + late;
    let book = Book::new(total);
    let mut pool = counted_pool(workers);
    let shared = pool.shared().clone();
    let blocked = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    for blocker in 0..workers {
        let (weak, book2, blocked, release) = (
            Arc::downgrade(&shared),
            book.clone(),
            blocked.clone(),
            release.clone(),
        );
        shared.schedule(Counted::with_body(blocker, &book, move || {
            let shared = weak.upgrade().unwrap();
            let base = local_base + blocker * (per_blocker + 1);
            for i in 0..per_blocker {
                shared.schedule(Counted::new(base + i, &book2));
            }
            shared.schedule_next(Counted::new(base + per_blocker, &book2));
            drop(shared);
            blocked.fetch_add(1, Ordering::SeqCst);
            wait_until(|| release.load(Ordering::SeqCst));
        }));
    }
    // Both workers must end up blocked; a worker that stole the other's tasks runs some first.
    wait_until(|| blocked.load(Ordering::SeqCst) == workers);
    for i in 0..late {
        shared.schedule(Counted::new(late_base + i, &book));
    }
    let shutter = {
        let shared = shared.clone();
        let release = release.clone();
        std::thread::spawn(move || {
            wait_until(|| shared.is_shutdown());
            release.store(true, Ordering::SeqCst);
        })
    };
    pool.shutdown(None);
    shutter.join().unwrap();
    for id in 0..total {
        assert_eq!(
            book.drops[id].load(Ordering::SeqCst),
            1,
            "task {id} dropped a wrong number of times"
        );
        assert!(book.runs[id].load(Ordering::SeqCst) <= 1);
    }
    for id in late_base..total {
        assert_eq!(
            book.runs[id].load(Ordering::SeqCst),
            0,
            "late task {id} ran after shutdown"
        );
    }
    let metrics = shared.metrics();
    assert_eq!(metrics.queued(), 0);
    assert_eq!(metrics.total_runs() as usize, book.total_runs());
}

#[test]
fn schedule_after_shutdown_drops_the_task_at_once() {
    let _watchdog = watchdog(60);
    let book = Book::new(4);
    let mut pool = counted_pool(2);
    let shared = pool.shared().clone();
    pool.shutdown(None);
    assert!(shared.is_shutdown());
    shared.schedule(Counted::new(0, &book));
    shared.schedule_next(Counted::new(1, &book));
    shared.schedule_yield(Counted::new(2, &book));
    shared.schedule_batch(vec![Counted::new(3, &book)]);
    assert_eq!(book.total_drops(), 4);
    assert_eq!(book.total_runs(), 0);
    assert_eq!(shared.metrics().injector_depth, 0);
    pool.shutdown(Some(Duration::ZERO)); // idempotent
}

#[test]
fn pushes_racing_shutdown_are_each_run_or_dropped_exactly_once() {
    let _watchdog = watchdog(60);
    let per_thread = if cfg!(miri) { 50 } else { 20_000 };
    let threads = 3;
    let book = Book::new(per_thread * threads);
    let mut pool = counted_pool(2);
    let shared = pool.shared().clone();
    let start = Arc::new(Barrier::new(threads + 1));
    let pushers: Vec<_> = (0..threads)
        .map(|t| {
            let (shared, book, start) = (shared.clone(), book.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..per_thread {
                    shared.schedule(Counted::new(t * per_thread + i, &book));
                }
            })
        })
        .collect();
    start.wait();
    std::thread::yield_now();
    pool.shutdown(None);
    for pusher in pushers {
        pusher.join().unwrap();
    }
    for (id, drops) in book.drops.iter().enumerate() {
        assert_eq!(drops.load(Ordering::SeqCst), 1, "task {id}");
    }
    assert_eq!(shared.metrics().queued(), 0);
}

/// A task that holds the pool's `Arc<Shared>` (like an executor task holding its runtime) must not
/// keep it alive after shutdown.
#[test]
fn queued_tasks_holding_the_pool_do_not_leak_it() {
    let _watchdog = watchdog(60);
    let mut pool = job_pool(1);
    let shared = pool.shared().clone();
    let gate = Arc::new(AtomicBool::new(false));
    let gate2 = gate.clone();
    shared.schedule(Job::new(move || {
        wait_until(|| gate2.load(Ordering::SeqCst))
    }));
    for _ in 0..10 {
        let holder = shared.clone();
        shared.schedule(Job::new(move || drop(holder)));
    }
    let releaser = {
        let (shared, gate) = (shared.clone(), gate.clone());
        std::thread::spawn(move || {
            wait_until(|| shared.is_shutdown());
            gate.store(true, Ordering::SeqCst);
        })
    };
    pool.shutdown(None);
    releaser.join().unwrap();
    drop(pool);
    assert_eq!(
        Arc::strong_count(&shared),
        1,
        "a queued task kept the pool alive"
    );
}

/// A dropped task that schedules another task during shutdown: the new one is dropped too.
#[test]
fn a_task_whose_drop_schedules_is_handled_during_shutdown() {
    struct Rescheduling {
        shared: Option<Arc<Shared<Rescheduling>>>,
        drops: Arc<AtomicUsize>,
    }
    impl magpie_scheduler::Runnable for Rescheduling {
        fn run(self) {}
    }
    impl Drop for Rescheduling {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
            if let Some(shared) = self.shared.take() {
                shared.schedule(Rescheduling {
                    shared: None,
                    drops: self.drops.clone(),
                });
            }
        }
    }
    let _watchdog = watchdog(60);
    let drops = Arc::new(AtomicUsize::new(0));
    let mut pool: Pool<Rescheduling> = Pool::start(Config {
        worker_threads: 1,
        ..Config::default()
    })
    .unwrap();
    let shared = pool.shared().clone();
    // Whichever tasks are still queued at shutdown are dropped by the pool, the rest run (and are
    // dropped after their run); either way each drop schedules one more task.
    for _ in 0..100 {
        shared.schedule(Rescheduling {
            shared: Some(shared.clone()),
            drops: drops.clone(),
        });
    }
    pool.shutdown(None);
    // Each of the 100 tasks is dropped once and schedules one more, which is dropped once (it runs
    // first if the pool was still running).
    wait_until(|| drops.load(Ordering::SeqCst) == 200);
    drop(pool);
    assert_eq!(drops.load(Ordering::SeqCst), 200);
    assert_eq!(Arc::strong_count(&shared), 1);
}

#[test]
fn shutdown_timeout_detaches_a_stuck_worker() {
    let _watchdog = watchdog(60);
    let mut pool = job_pool(2);
    let shared = pool.shared().clone();
    let (entered, release) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (entered2, release2) = (entered.clone(), release.clone());
    shared.schedule(Job::new(move || {
        entered2.store(true, Ordering::SeqCst);
        wait_until(|| release2.load(Ordering::SeqCst));
    }));
    wait_until(|| entered.load(Ordering::SeqCst));
    // Returns although one worker is stuck (the watchdog fails the test if it does not).
    pool.shutdown(Some(Duration::from_millis(20)));
    assert!(shared.is_shutdown());
    // Huge timeouts saturate instead of overflowing.
    pool.shutdown(Some(Duration::MAX));
    release.store(true, Ordering::SeqCst);
}

#[test]
fn a_worker_can_shut_down_its_own_pool() {
    let _watchdog = watchdog(60);
    let pool = Arc::new(Mutex::new(Some(job_pool(2))));
    let shared = pool.lock().unwrap().as_ref().unwrap().shared().clone();
    let done = Arc::new(AtomicBool::new(false));
    let (pool2, done2) = (pool.clone(), done.clone());
    shared.schedule(Job::new(move || {
        let mut pool = pool2.lock().unwrap().take().unwrap();
        pool.shutdown(None);
        drop(pool);
        done2.store(true, Ordering::SeqCst);
    }));
    wait_until(|| done.load(Ordering::SeqCst));
    assert!(shared.is_shutdown());
}
