//! Parking: an idle pool parks every worker, remote batches defer wake-ups, and a lost wakeup would
//! hang the ping tests (the watchdog turns a hang into a failure).

mod common;

use common::{job_pool, wait_until, watchdog, Job};
use magpie_scheduler::{begin_remote_batch, end_remote_batch};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

#[test]
fn an_idle_pool_parks_every_worker() {
    let _watchdog = watchdog(60);
    let pool = job_pool(3);
    let shared = pool.shared().clone();
    let done = Arc::new(AtomicUsize::new(0));
    let jobs = if cfg!(miri) { 20 } else { 1000 };
    for _ in 0..jobs {
        let done = done.clone();
        shared.schedule(Job::new(move || {
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    wait_until(|| done.load(Ordering::SeqCst) == jobs);
    // Nothing left to do: every worker must end up on the sleeper list, parked.
    wait_until(|| shared.sleeping_workers() == 3);
    assert_eq!(shared.searching_workers(), 0);
    let metrics = shared.metrics();
    assert!(metrics.total_parks() >= 3, "{metrics:?}");
    for worker in &metrics.workers {
        assert!(worker.parks >= 1, "{metrics:?}");
    }
    // Parked workers run nothing and count nothing while nobody schedules.
    let runs = metrics.total_runs();
    std::thread::yield_now();
    assert_eq!(shared.metrics().total_runs(), runs);
    assert_eq!(shared.sleeping_workers(), 3);
}

/// One task at a time from outside, each waited for: a single lost wakeup hangs this test.
fn ping_from_outside(workers: usize, rounds: usize) {
    let _watchdog = watchdog(60);
    let pool = job_pool(workers);
    let shared = pool.shared().clone();
    let (sender, receiver) = mpsc::channel();
    for round in 0..rounds {
        let sender = sender.clone();
        shared.schedule(Job::new(move || sender.send(round).unwrap()));
        assert_eq!(receiver.recv().unwrap(), round);
    }
    assert_eq!(shared.metrics().total_runs(), rounds as u64);
}

#[test]
fn no_lost_wakeup_pinging_one_worker() {
    ping_from_outside(1, if cfg!(miri) { 20 } else { 20_000 });
}

#[test]
fn no_lost_wakeup_pinging_four_workers() {
    ping_from_outside(4, if cfg!(miri) { 20 } else { 20_000 });
}

/// Chains of tasks that each schedule their successor from a worker, with the outside waiting on the
/// end of each chain: workers go to sleep and wake up constantly.
#[test]
fn no_lost_wakeup_with_local_chains() {
    let _watchdog = watchdog(60);
    let pool = job_pool(3);
    let shared = pool.shared().clone();
    fn link(
        shared: std::sync::Weak<magpie_scheduler::Shared<Job>>,
        left: usize,
        done: mpsc::Sender<()>,
    ) -> Job {
        Job::new(move || {
            if left == 0 {
                done.send(()).unwrap();
                return;
            }
            let strong = shared.upgrade().unwrap();
            strong.schedule(link(shared, left - 1, done));
        })
    }
    let (sender, receiver) = mpsc::channel();
    for _ in 0..if cfg!(miri) { 5 } else { 2_000 } {
        shared.schedule(link(Arc::downgrade(&shared), 5, sender.clone()));
        receiver.recv().unwrap();
    }
}

#[test]
fn a_remote_batch_defers_wakeups_until_it_ends() {
    let _watchdog = watchdog(60);
    let pool = job_pool(2);
    let shared = pool.shared().clone();
    wait_until(|| shared.sleeping_workers() == 2);
    let unparks_before = shared.metrics().total_unparks();
    let done = Arc::new(AtomicUsize::new(0));
    begin_remote_batch();
    begin_remote_batch(); // nesting is counted
    for _ in 0..100 {
        let done = done.clone();
        shared.schedule(Job::new(move || {
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    end_remote_batch();
    // Still inside the outer batch: nobody was woken, everything waits in the injector.
    assert_eq!(shared.sleeping_workers(), 2);
    assert_eq!(shared.metrics().total_unparks(), unparks_before);
    assert_eq!(shared.metrics().injector_depth, 100);
    assert_eq!(done.load(Ordering::SeqCst), 0);
    end_remote_batch();
    wait_until(|| done.load(Ordering::SeqCst) == 100);
    assert!(shared.metrics().total_unparks() > unparks_before);
}

#[test]
fn a_remote_batch_over_two_pools_notifies_both() {
    let _watchdog = watchdog(60);
    let (pool_a, pool_b) = (job_pool(1), job_pool(1));
    let (a, b) = (pool_a.shared().clone(), pool_b.shared().clone());
    wait_until(|| a.sleeping_workers() == 1 && b.sleeping_workers() == 1);
    let done = Arc::new(AtomicUsize::new(0));
    begin_remote_batch();
    for i in 0..50 {
        let done = done.clone();
        let job = Job::new(move || {
            done.fetch_add(1, Ordering::SeqCst);
        });
        if i % 2 == 0 {
            a.schedule(job);
        } else {
            b.schedule_next(job);
        }
    }
    assert_eq!(a.sleeping_workers() + b.sleeping_workers(), 2);
    end_remote_batch();
    wait_until(|| done.load(Ordering::SeqCst) == 50);
}

#[test]
fn a_remote_batch_ending_after_shutdown_drops_its_tasks() {
    let _watchdog = watchdog(60);
    let mut pool = job_pool(1);
    let shared = pool.shared().clone();
    let marker = Arc::new(());
    begin_remote_batch();
    for _ in 0..10 {
        let marker = marker.clone();
        shared.schedule(Job::new(move || drop(marker)));
    }
    // The pool may run some of them before it stops; the rest must not stay queued.
    pool.shutdown(None);
    end_remote_batch();
    assert_eq!(shared.metrics().injector_depth, 0);
    assert_eq!(Arc::strong_count(&marker), 1);
}

#[test]
#[should_panic(expected = "without a matching begin_remote_batch")]
fn an_unmatched_end_remote_batch_panics() {
    end_remote_batch();
}
