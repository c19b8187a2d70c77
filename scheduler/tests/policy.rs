//! Scheduling policy: stealing, the next-slot cap, yield order, current worker, config and hooks.

mod common;

use common::{job_pool, wait_until, watchdog, Job};
use magpie_scheduler::{Config, Pool, MAX_NEXT_RUNS};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[test]
fn idle_worker_steals_from_a_flooded_local_queue() {
    let _watchdog = watchdog(60);
    let pool = job_pool(2);
    let shared = pool.shared().clone();
    let children = 200;
    let done = Arc::new(AtomicUsize::new(0));
    // Set when a child runs on a worker other than the flooding one.
    let ran_elsewhere = Arc::new(AtomicBool::new(false));
    let weak = Arc::downgrade(&shared);
    let (done2, ran_elsewhere2) = (done.clone(), ran_elsewhere.clone());
    shared.schedule(Job::new(move || {
        let shared = weak.upgrade().unwrap();
        let flooder = shared.current_worker().unwrap();
        for _ in 0..children {
            let (done, ran_elsewhere, weak) = (done2.clone(), ran_elsewhere2.clone(), weak.clone());
            shared.schedule(Job::new(move || {
                let here = weak.upgrade().unwrap().current_worker().unwrap();
                if here != flooder {
                    ran_elsewhere.store(true, Ordering::SeqCst);
                }
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
        // Block this worker until the other one has run a child: the children are only in this
        // worker's local queue, so the other worker must steal them.
        wait_until(|| ran_elsewhere2.load(Ordering::SeqCst));
    }));
    wait_until(|| done.load(Ordering::SeqCst) == children);
    let metrics = shared.metrics();
    assert!(metrics.total_steals() > 0, "{metrics:?}");
    assert!(
        metrics.total_stolen_tasks() >= metrics.total_steals(),
        "{metrics:?}"
    );
    assert!(ran_elsewhere.load(Ordering::SeqCst));
}

#[test]
fn ping_pong_in_the_next_slot_does_not_starve_a_third_task() {
    let _watchdog = watchdog(60);
    let pool = job_pool(1);
    let shared = pool.shared().clone();
    let third_ran = Arc::new(AtomicBool::new(false));
    let pongs = Arc::new(AtomicUsize::new(0));
    let pongs_before_third = Arc::new(AtomicUsize::new(usize::MAX));

    fn ping(
        shared: std::sync::Weak<magpie_scheduler::Shared<Job>>,
        third: Arc<AtomicBool>,
        pongs: Arc<AtomicUsize>,
    ) -> Job {
        Job::new(move || {
            if third.load(Ordering::SeqCst) {
                return;
            }
            pongs.fetch_add(1, Ordering::SeqCst);
            let strong = shared.upgrade().unwrap();
            strong.schedule_next(ping(shared, third, pongs));
        })
    }

    let weak = Arc::downgrade(&shared);
    let (third, pongs2, before) = (third_ran.clone(), pongs.clone(), pongs_before_third.clone());
    shared.schedule(Job::new(move || {
        let strong = weak.upgrade().unwrap();
        let (third_flag, pongs3) = (third.clone(), pongs2.clone());
        strong.schedule(Job::new(move || {
            before.store(pongs3.load(Ordering::SeqCst), Ordering::SeqCst);
            third_flag.store(true, Ordering::SeqCst);
        }));
        strong.schedule_next(ping(weak.clone(), third, pongs2));
    }));
    wait_until(|| third_ran.load(Ordering::SeqCst));
    let before = pongs_before_third.load(Ordering::SeqCst);
    assert!(
        before <= MAX_NEXT_RUNS as usize,
        "third task waited for {before} ping-pong runs"
    );
}

#[test]
fn schedule_next_runs_first_and_yield_runs_last_on_one_worker() {
    let _watchdog = watchdog(60);
    let pool = job_pool(1);
    let shared = pool.shared().clone();
    let order = Arc::new(Mutex::new(Vec::new()));
    let weak = Arc::downgrade(&shared);
    let log = order.clone();
    shared.schedule(Job::new(move || {
        let shared = weak.upgrade().unwrap();
        let entry = |name: &'static str| {
            let log = log.clone();
            Job::new(move || log.lock().unwrap().push(name))
        };
        shared.schedule_yield(entry("yielded"));
        shared.schedule(entry("queued-1"));
        shared.schedule_next(entry("displaced"));
        shared.schedule(entry("queued-2"));
        shared.schedule_next(entry("next"));
    }));
    wait_until(|| order.lock().unwrap().len() == 5);
    // "displaced" left the next slot for the back of the queue when "next" took it.
    assert_eq!(
        *order.lock().unwrap(),
        vec!["next", "yielded", "queued-1", "queued-2", "displaced"]
    );
}

#[test]
fn current_worker_is_only_set_on_this_pools_workers() {
    let _watchdog = watchdog(60);
    let pool_a = job_pool(2);
    let pool_b = job_pool(1);
    let (a, b) = (pool_a.shared().clone(), pool_b.shared().clone());
    assert_eq!(a.current_worker(), None);
    assert_eq!(a.worker_count(), 2);
    let seen = Arc::new(Mutex::new(None));
    let (weak_a, weak_b, seen2) = (Arc::downgrade(&a), Arc::downgrade(&b), seen.clone());
    b.schedule(Job::new(move || {
        let a = weak_a.upgrade().unwrap();
        let b = weak_b.upgrade().unwrap();
        *seen2.lock().unwrap() = Some((a.current_worker(), b.current_worker()));
    }));
    wait_until(|| seen.lock().unwrap().is_some());
    assert_eq!(seen.lock().unwrap().unwrap(), (None, Some(0)));
}

#[test]
fn zero_workers_is_invalid_input() {
    let result = Pool::<Job>::start(Config {
        worker_threads: 0,
        ..Config::default()
    });
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_thread_name_with_a_nul_byte_is_invalid_input() {
    let result = Pool::<Job>::start(Config {
        worker_threads: 2,
        thread_name: Arc::new(|index| format!("bad\0name-{index}")),
        ..Config::default()
    });
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

/// Miri does not model thread stack sizes, so the spawn cannot fail there.
#[cfg(not(miri))]
#[test]
fn a_failing_thread_spawn_returns_the_error() {
    // An absurd stack size makes the OS refuse the first thread; nothing may be left running.
    let result = Pool::<Job>::start(Config {
        worker_threads: 2,
        stack_size: Some(usize::MAX / 2),
        ..Config::default()
    });
    assert!(result.is_err());
}

#[test]
fn default_config_uses_every_core_and_names_workers() {
    let config = Config::default();
    assert_eq!(
        config.worker_threads,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    assert_eq!((config.thread_name)(3), "magpie-worker-3");
    assert!(format!("{config:?}").contains("worker_threads"));
}

#[test]
fn hooks_and_thread_names_are_applied_to_every_worker() {
    let _watchdog = watchdog(60);
    let started = Arc::new(Mutex::new(Vec::new()));
    let stopped = Arc::new(Mutex::new(Vec::new()));
    let (s1, s2) = (started.clone(), stopped.clone());
    let config = Config {
        worker_threads: 3,
        thread_name: Arc::new(|index| format!("test-worker-{index}")),
        stack_size: Some(256 * 1024),
        on_thread_start: Some(Arc::new(move |index| {
            let name = std::thread::current().name().unwrap().to_owned();
            s1.lock().unwrap().push((index, name));
        })),
        on_thread_stop: Some(Arc::new(move |index| s2.lock().unwrap().push(index))),
    };
    let mut pool: Pool<Job> = Pool::start(config).unwrap();
    wait_until(|| started.lock().unwrap().len() == 3);
    pool.shutdown(None);
    let mut started = started.lock().unwrap().clone();
    started.sort();
    assert_eq!(
        started,
        (0..3)
            .map(|i| (i, format!("test-worker-{i}")))
            .collect::<Vec<_>>()
    );
    let mut stopped = stopped.lock().unwrap().clone();
    stopped.sort_unstable();
    assert_eq!(stopped, vec![0, 1, 2]);
}

#[test]
fn a_panicking_run_does_not_kill_the_worker() {
    let _watchdog = watchdog(60);
    let pool = job_pool(1);
    let shared = pool.shared().clone();
    let done = Arc::new(AtomicBool::new(false));
    shared.schedule(Job::new(|| panic!("job panics on purpose (test)")));
    let done2 = done.clone();
    shared.schedule(Job::new(move || done2.store(true, Ordering::SeqCst)));
    wait_until(|| done.load(Ordering::SeqCst));
    let metrics = shared.metrics();
    assert_eq!(metrics.total_panics(), 1);
    assert_eq!(metrics.total_runs(), 2);
}

#[test]
fn pool_and_shared_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pool<Job>>();
    assert_send_sync::<magpie_scheduler::Shared<Job>>();
    assert_send_sync::<Config>();
}
