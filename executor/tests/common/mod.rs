//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use magpie::runtime::{Builder, Runtime};

/// Runs `f` with a watchdog: if it has not returned after `limit`, the process aborts with a
/// message, so a hang fails the suite instead of stalling CI.
pub fn with_watchdog<R>(name: &str, limit: Duration, f: impl FnOnce() -> R) -> R {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let name = name.to_owned();
    std::thread::spawn(move || {
        let step = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        while waited < limit {
            if flag.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(step);
            waited += step;
        }
        eprintln!("watchdog: test `{name}` still running after {limit:?}; aborting");
        std::process::abort();
    });
    let result = f();
    done.store(true, Ordering::Release);
    result
}

/// A runtime with `workers` workers.
pub fn runtime(workers: usize) -> Runtime {
    Builder::new().worker_threads(workers).build().unwrap()
}

/// The worker counts every behaviour test runs with: one worker exposes starvation, several expose
/// races.
pub const FLAVOURS: [usize; 2] = [1, 4];

/// Counts drops of the values it hands out.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<std::sync::atomic::AtomicUsize>);

impl DropCounter {
    pub fn token(&self) -> DropToken {
        DropToken(Arc::clone(&self.0))
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its counter when dropped.
pub struct DropToken(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The message of a caught panic (a `String` or a `&str` payload), or "" for other payloads.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Busy-waits for `duration` (a poll that does work without yielding).
pub fn spin(duration: Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// From a worker, spawns 256 tasks that each busy-wait 100 µs (they all land in that worker's
/// local queue, so idle siblings may steal them) and joins them.
pub fn run_stealable_burst(rt: &Runtime) {
    rt.block_on(rt.spawn(async {
        let burst: Vec<_> = (0..256)
            .map(|_| magpie::spawn(async { spin(Duration::from_micros(100)) }))
            .collect();
        for handle in burst {
            handle.await.unwrap();
        }
    }))
    .unwrap();
}
