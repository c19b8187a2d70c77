//! Memory returns to its starting level: after a million spawned-and-finished tasks, after a
//! million cancelled timers, and after shutting down a runtime with pending and aborted tasks.
//!
//! A counting `#[global_allocator]` tracks live heap bytes for this whole test binary; the tests
//! take turns (a lock), and each compares the live bytes after the work with the level before it,
//! after a warm-up round has allocated whatever is allocated once per process (the timer thread,
//! thread-locals, tracing call sites). The slack is far below one byte per task or timer, so any
//! per-task leak fails.
#![cfg(not(loom))]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Mutex;
use std::task::Context;
use std::time::{Duration, Instant};

use common::{runtime, with_watchdog, DropCounter};

/// `System`, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments, so `System`'s guarantees
// hold; the counter is only arithmetic on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Live heap bytes now.
fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// The tests of this binary take turns: each measures the whole process.
static SERIAL: Mutex<()> = Mutex::new(());

/// Allowed difference: allocator-independent noise (the test harness, lazily grown buffers), far
/// below one byte per task or timer at the sizes used.
const SLACK: isize = 256 * 1024;

fn count() -> usize {
    if cfg!(miri) {
        200
    } else {
        1_000_000
    }
}

/// Waits (bounded) until the live bytes fall to `level + SLACK`, for work that other threads
/// finish on their own time (the timer thread reclaims cancelled entries within a sweep period).
/// Returns the last reading.
fn settle_to(level: isize) -> isize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = live();
        if now - level <= SLACK || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Spawns `count` short tasks in batches and awaits them all.
fn spawn_and_finish(rt: &magpie::runtime::Runtime, count: usize) {
    rt.block_on(async {
        let batch = 10_000.min(count);
        let mut done = 0;
        while done < count {
            let n = batch.min(count - done);
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    magpie::spawn(async move {
                        if i % 4 == 0 {
                            magpie::task::yield_now().await;
                        }
                        i
                    })
                })
                .collect();
            for (i, handle) in handles.into_iter().enumerate() {
                assert_eq!(handle.await.unwrap(), i);
            }
            done += n;
        }
    });
}

#[test]
fn a_million_finished_tasks_leave_nothing_behind() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    with_watchdog("memory: tasks", Duration::from_secs(300), || {
        // Warm-up: a runtime's first use allocates process-wide state once.
        let rt = runtime(2);
        spawn_and_finish(&rt, 20_000.min(count()));
        drop(rt);

        let before = live();
        let rt = runtime(2);
        spawn_and_finish(&rt, count());
        drop(rt);
        let after = settle_to(before);
        eprintln!(
            "live bytes before {before}, after {after} ({} tasks)",
            count()
        );
        assert!(
            after - before <= SLACK,
            "{} bytes still live after {} tasks",
            after - before,
            count()
        );
    });
}

#[test]
fn a_million_cancelled_timers_leave_nothing_behind() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    with_watchdog("memory: timers", Duration::from_secs(300), || {
        let register_and_cancel = |count: usize| {
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            let batch = 10_000.min(count);
            let mut done = 0;
            while done < count {
                let n = batch.min(count - done);
                let mut sleeps: Vec<Pin<Box<magpie::time::Sleep>>> = (0..n)
                    .map(|i| {
                        Box::pin(magpie::time::sleep(Duration::from_secs(
                            3600 + (i % 1000) as u64,
                        )))
                    })
                    .collect();
                for sleep in &mut sleeps {
                    assert!(sleep.as_mut().poll(&mut cx).is_pending());
                }
                drop(sleeps);
                done += n;
            }
        };
        // Waits (bounded) until the timer thread has reclaimed `n` more cancelled entries.
        let reclaimed = |start: u64, n: usize| {
            let deadline = Instant::now() + Duration::from_secs(60);
            while magpie::time::metrics().cancelled < start + n as u64 {
                assert!(
                    Instant::now() < deadline,
                    "the timer thread reclaimed {} of {n} cancelled timers",
                    magpie::time::metrics().cancelled - start
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        // Warm-up: starts the timer thread and grows its structures once.
        let warm_up = 20_000.min(count());
        let start = magpie::time::metrics().cancelled;
        register_and_cancel(warm_up);
        reclaimed(start, warm_up);
        let before = live();

        let start = magpie::time::metrics().cancelled;
        register_and_cancel(count());
        reclaimed(start, count());
        let after = settle_to(before);
        eprintln!(
            "live bytes before {before}, after {after} ({} timers); {:?}",
            count(),
            magpie::time::metrics()
        );
        assert!(
            after - before <= SLACK,
            "{} bytes still live after {} cancelled timers",
            after - before,
            count()
        );
    });
}

#[test]
fn shutdown_with_pending_and_aborted_tasks_frees_them_all() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    with_watchdog("memory: shutdown", Duration::from_secs(300), || {
        let rt = runtime(2);
        spawn_and_finish(&rt, 1_000);
        drop(rt);

        let before = live();
        let drops = DropCounter::default();
        let tasks = count() / 10;
        let rt = runtime(2);
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                let token = drops.token();
                rt.spawn(async move {
                    let _token = token;
                    if i % 2 == 0 {
                        std::future::pending::<()>().await;
                    }
                    magpie::task::yield_now().await;
                })
            })
            .collect();
        for handle in handles.iter().step_by(3) {
            handle.abort();
        }
        // Keep some handles past shutdown, drop the others now.
        let kept: Vec<_> = handles.into_iter().step_by(2).collect();
        rt.block_on(magpie::task::yield_now());
        drop(rt);
        assert_eq!(drops.count(), tasks);
        for handle in kept {
            assert!(handle.is_finished());
        }
        drop(drops);
        let after = settle_to(before);
        eprintln!("live bytes before {before}, after {after} ({tasks} tasks at shutdown)");
        assert!(
            after - before <= SLACK,
            "{} bytes still live",
            after - before
        );
    });
}
