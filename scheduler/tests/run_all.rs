//! Every job runs exactly once, with remote and local pushes, on 1, 2 and 4 workers.

mod common;

use common::{job_pool, wait_until, watchdog, Job};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// Roots pushed from outside; each schedules `children` more from its worker (local pushes).
fn run_tree(workers: usize, roots: usize, children: usize) {
    let _watchdog = watchdog(60);
    let total = roots * (children + 1);
    let mut pool = job_pool(workers);
    let shared = pool.shared().clone();
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..total).map(|_| AtomicU8::new(0)).collect());
    let done = Arc::new(AtomicUsize::new(0));
    for root in 0..roots {
        let (seen, done, inner) = (seen.clone(), done.clone(), Arc::downgrade(&shared));
        shared.schedule(Job::new(move || {
            let base = root * (children + 1);
            seen[base].fetch_add(1, Ordering::Relaxed);
            let shared = inner.upgrade().expect("pool alive while jobs run");
            for child in 1..=children {
                let (seen, done) = (seen.clone(), done.clone());
                shared.schedule(Job::new(move || {
                    seen[base + child].fetch_add(1, Ordering::Relaxed);
                    done.fetch_add(1, Ordering::Release);
                }));
            }
            done.fetch_add(1, Ordering::Release);
        }));
    }
    wait_until(|| done.load(Ordering::Acquire) == total);
    pool.shutdown(None);
    assert!(
        seen.iter().all(|count| count.load(Ordering::Relaxed) == 1),
        "a job ran twice or never"
    );
    let metrics = shared.metrics();
    assert_eq!(metrics.total_runs(), total as u64);
    assert_eq!(metrics.queued(), 0);
    assert_eq!(metrics.total_panics(), 0);
}

/// Size of the "million" tests; smaller under Miri.
const MILLION: usize = if cfg!(miri) { 2_000 } else { 1_000_000 };

#[test]
fn a_million_jobs_on_two_workers_run_exactly_once() {
    run_tree(2, MILLION / 1000, 999);
}

#[test]
fn a_million_jobs_on_four_workers_run_exactly_once() {
    run_tree(4, MILLION / 1000, 999);
}

#[test]
fn one_worker_runs_everything() {
    if cfg!(miri) {
        run_tree(1, 10, 9);
    } else {
        run_tree(1, 100, 99);
    }
}

#[test]
fn remote_pushes_from_many_threads_all_run() {
    let _watchdog = watchdog(60);
    let pool = job_pool(4);
    let shared = pool.shared().clone();
    let per_thread = if cfg!(miri) { 100 } else { 50_000 };
    let done = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..3)
        .map(|_| {
            let (shared, done) = (shared.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    let done = done.clone();
                    shared.schedule(Job::new(move || {
                        done.fetch_add(1, Ordering::Relaxed);
                    }));
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    wait_until(|| done.load(Ordering::Relaxed) == 3 * per_thread);
    assert_eq!(shared.metrics().total_runs(), 3 * per_thread as u64);
    drop(pool);
}

#[test]
fn schedule_batch_runs_every_task() {
    let _watchdog = watchdog(60);
    let pool = job_pool(3);
    let shared = pool.shared().clone();
    let done = Arc::new(AtomicUsize::new(0));
    let (batches, per_batch) = if cfg!(miri) { (5, 10) } else { (100, 100) };
    for _ in 0..batches {
        let jobs: Vec<Job> = (0..per_batch)
            .map(|_| {
                let done = done.clone();
                Job::new(move || {
                    done.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        shared.schedule_batch(jobs);
    }
    shared.schedule_batch(Vec::new());
    wait_until(|| done.load(Ordering::Relaxed) == batches * per_batch);
    let metrics = shared.metrics();
    assert_eq!(
        metrics.total_runs(),
        (batches * per_batch) as u64,
        "{metrics:?}"
    );
    // Every task came from the injector, directly or through a sibling that had pulled it.
    assert!(metrics.total_injector_pulls() > 0, "{metrics:?}");
}
