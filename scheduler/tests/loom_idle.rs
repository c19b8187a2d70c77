//! Loom models of the parking protocol, run against the real worker loop and `idle.rs` (only the
//! primitives are swapped, see `src/sync`):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p magpie-scheduler --release --test loom_idle
//! ```
//!
//! A lost wakeup shows up as a loom deadlock: every thread blocked (the worker parked, the test
//! waiting for a task that nobody runs).
#![cfg(loom)]

use loom::sync::{Arc, Condvar, Mutex};
use magpie_scheduler::{Config, Pool, Runnable};

struct Task(Box<dyn FnOnce() + Send>);

impl Runnable for Task {
    fn run(self) {
        (self.0)()
    }
}

/// A one-shot flag another thread can wait for.
#[derive(Default)]
struct Flag {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Flag {
    fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.changed.notify_all();
    }
    fn wait(&self) {
        let mut set = self.set.lock().unwrap();
        while !*set {
            set = self.changed.wait(set).unwrap();
        }
    }
}

fn pool(workers: usize) -> Pool<Task> {
    Pool::start(Config {
        worker_threads: workers,
        ..Config::default()
    })
    .unwrap()
}

/// A worker going to sleep while the test thread pushes: the task must still run.
#[test]
fn worker_parking_while_a_remote_push_arrives() {
    loom::model(|| {
        let mut pool = pool(1);
        let ran = Arc::new(Flag::default());
        let ran2 = ran.clone();
        pool.shared().schedule(Task(Box::new(move || ran2.set())));
        ran.wait();
        pool.shutdown(None);
    });
}

/// Two tasks pushed back to back onto two sleeping workers: the first push wakes one worker (a
/// searcher), the second sees that searcher and wakes nobody. The first task blocks until the second
/// has run, so the second can only run if the searcher, on finding work, hands off by waking the
/// other worker (rule 4 in `idle.rs`).
#[test]
fn last_searcher_wakes_another_worker() {
    loom::model(|| {
        let mut pool = pool(2);
        let shared = pool.shared().clone();
        let second_ran = Arc::new(Flag::default());
        let first_done = Arc::new(Flag::default());
        let (second_ran2, first_done2) = (second_ran.clone(), first_done.clone());
        shared.schedule(Task(Box::new(move || {
            second_ran2.wait();
            first_done2.set();
        })));
        let second_ran3 = second_ran.clone();
        shared.schedule(Task(Box::new(move || second_ran3.set())));
        first_done.wait();
        pool.shutdown(None);
    });
}

/// A task pushes a child onto its own worker's queue and then blocks until the child has run: the
/// other worker, asleep or going to sleep, must be woken (or see the child in its re-check) and
/// steal it, so the child is not stranded behind the blocked task.
#[test]
fn local_push_from_a_blocked_worker_is_stolen() {
    loom::model(|| {
        let mut pool = pool(2);
        let shared = pool.shared().clone();
        let child_ran = Arc::new(Flag::default());
        let parent_done = Arc::new(Flag::default());
        let (child_ran2, parent_done2) = (child_ran.clone(), parent_done.clone());
        let inner = shared.clone();
        shared.schedule(Task(Box::new(move || {
            let child_ran3 = child_ran2.clone();
            inner.schedule(Task(Box::new(move || child_ran3.set())));
            child_ran2.wait();
            parent_done2.set();
        })));
        parent_done.wait();
        drop(shared);
        pool.shutdown(None);
    });
}
