//! The wake-batch hooks: every timer wake happens between a `begin` and an `end`, and the hooks can
//! be installed only once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

/// Miri runs ~1000x slower: longer sleeps so they still go through the timer thread.
const SCALE: u64 = if cfg!(miri) { 300 } else { 1 };

static BEGINS: AtomicUsize = AtomicUsize::new(0);
static ENDS: AtomicUsize = AtomicUsize::new(0);
static IN_BATCH: AtomicBool = AtomicBool::new(false);

fn begin() {
    BEGINS.fetch_add(1, Ordering::SeqCst);
    assert!(!IN_BATCH.swap(true, Ordering::SeqCst), "nested begin");
}

fn end() {
    assert!(IN_BATCH.swap(false, Ordering::SeqCst), "end without begin");
    ENDS.fetch_add(1, Ordering::SeqCst);
}

fn other() {}

/// Records whether it was woken inside a batch, then unparks the test thread.
struct Probe {
    inside: AtomicUsize,
    outside: AtomicUsize,
    thread: std::thread::Thread,
}

impl Wake for Probe {
    fn wake(self: Arc<Self>) {
        if IN_BATCH.load(Ordering::SeqCst) {
            self.inside.fetch_add(1, Ordering::SeqCst);
        } else {
            self.outside.fetch_add(1, Ordering::SeqCst);
        }
        self.thread.unpark();
    }
}

#[test]
fn wakes_happen_between_begin_and_end() {
    assert!(magpie_timer::set_wake_batch_hooks(begin, end));
    assert!(
        !magpie_timer::set_wake_batch_hooks(other, other),
        "hooks are set once"
    );
    let probe = Arc::new(Probe {
        inside: AtomicUsize::new(0),
        outside: AtomicUsize::new(0),
        thread: std::thread::current(),
    });
    let waker = Waker::from(probe.clone());
    let mut cx = Context::from_waker(&waker);
    let mut sleeps: Vec<_> = (1..=20u64)
        .map(|i| {
            Box::pin(magpie_timer::sleep(Duration::from_millis(
                (i % 5 + 1) * SCALE,
            )))
        })
        .collect();
    let mut done = vec![false; sleeps.len()];
    while done.iter().any(|d| !d) {
        for (sleep, done) in sleeps.iter_mut().zip(done.iter_mut()) {
            if !*done && sleep.as_mut().poll(&mut cx).is_ready() {
                *done = true;
            }
        }
        std::thread::park_timeout(Duration::from_millis(1));
    }
    assert!(probe.inside.load(Ordering::SeqCst) > 0);
    assert_eq!(
        probe.outside.load(Ordering::SeqCst),
        0,
        "a wake happened outside a batch"
    );
    // The last batch may still be closing on the timer thread; wait for `end` without timing it.
    while IN_BATCH.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    assert_eq!(BEGINS.load(Ordering::SeqCst), ENDS.load(Ordering::SeqCst));
    assert!(BEGINS.load(Ordering::SeqCst) >= 1);
}
