//! Loom model of the shutdown race: a remote push racing `Pool::shutdown` ends with the task run or
//! dropped, exactly once, and nothing left queued.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p magpie-scheduler --release --test loom_shutdown
//! ```
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use magpie_scheduler::{Config, Pool, Runnable};

/// Counts its run and its drop.
struct Task {
    runs: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Runnable for Task {
    fn run(self) {
        self.runs.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn schedule_racing_shutdown_runs_or_drops_the_task_once() {
    loom::model(|| {
        let mut pool: Pool<Task> = Pool::start(Config {
            worker_threads: 1,
            ..Config::default()
        })
        .unwrap();
        let shared = pool.shared().clone();
        let runs = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let pusher = {
            let (runs, drops) = (runs.clone(), drops.clone());
            loom::thread::spawn(move || shared.schedule(Task { runs, drops }))
        };
        pool.shutdown(None);
        pusher.join().unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the task must be dropped exactly once"
        );
        assert!(runs.load(Ordering::SeqCst) <= 1);
        assert_eq!(pool.shared().metrics().injector_depth, 0);
    });
}
