//! Helpers shared by the integration tests: a boxed-closure `Runnable`, a counting `Runnable`, a
//! watchdog that aborts a hung test, and a wait-until helper (which never asserts on time).

#![allow(dead_code)]

use magpie_scheduler::{Config, Pool, Runnable, Shared};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// A job that runs a boxed closure.
pub struct Job(pub Box<dyn FnOnce() + Send>);

impl Job {
    pub fn new(f: impl FnOnce() + Send + 'static) -> Job {
        Job(Box::new(f))
    }
}

impl Runnable for Job {
    fn run(self) {
        (self.0)()
    }
}

/// Aborts the process if not dropped within `seconds`, so a hang fails the test instead of stalling.
pub struct Watchdog(Option<mpsc::Sender<()>>);

pub fn watchdog(seconds: u64) -> Watchdog {
    let (sender, receiver) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) =
            receiver.recv_timeout(Duration::from_secs(seconds))
        {
            eprintln!("watchdog: test still running after {seconds} s (hang?), aborting");
            std::process::abort();
        }
    });
    Watchdog(Some(sender))
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(sender) = self.0.take() {
            let _ = sender.send(());
        }
    }
}

/// Polls `condition` until it holds (the watchdog bounds the wait; nothing asserts on time).
pub fn wait_until(mut condition: impl FnMut() -> bool) {
    while !condition() {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A pool of `workers` threads running `Job`s.
pub fn job_pool(workers: usize) -> Pool<Job> {
    Pool::start(Config {
        worker_threads: workers,
        ..Config::default()
    })
    .expect("start pool")
}

/// A job that records when it runs and when it is dropped (run or not).
pub struct Counted {
    pub id: usize,
    pub book: Arc<Book>,
    pub body: Option<Box<dyn FnOnce() + Send>>,
}

/// Per-id run and drop counts.
pub struct Book {
    pub runs: Vec<AtomicUsize>,
    pub drops: Vec<AtomicUsize>,
}

impl Book {
    pub fn new(size: usize) -> Arc<Book> {
        Arc::new(Book {
            runs: (0..size).map(|_| AtomicUsize::new(0)).collect(),
            drops: (0..size).map(|_| AtomicUsize::new(0)).collect(),
        })
    }
    pub fn total_runs(&self) -> usize {
        self.runs.iter().map(|r| r.load(Ordering::SeqCst)).sum()
    }
    pub fn total_drops(&self) -> usize {
        self.drops.iter().map(|r| r.load(Ordering::SeqCst)).sum()
    }
}

impl Counted {
    pub fn new(id: usize, book: &Arc<Book>) -> Counted {
        Counted {
            id,
            book: book.clone(),
            body: None,
        }
    }
    pub fn with_body(id: usize, book: &Arc<Book>, body: impl FnOnce() + Send + 'static) -> Counted {
        Counted {
            id,
            book: book.clone(),
            body: Some(Box::new(body)),
        }
    }
}

impl Runnable for Counted {
    fn run(mut self) {
        self.book.runs[self.id].fetch_add(1, Ordering::SeqCst);
        if let Some(body) = self.body.take() {
            body();
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.book.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// Shorthand for a shared handle.
pub type JobShared = Arc<Shared<Job>>;
