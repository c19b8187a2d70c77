//! Regression tests for bugs found in review, one per bug.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::runtime;

/// Generous: these tests detect hangs, they do not time anything.
const HANG: Duration = Duration::from_secs(60);

/// Dropping a runtime on one of its own blocking threads used to wait for that very thread.
#[test]
fn dropping_the_runtime_on_its_own_blocking_thread_returns() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    let (tx, rx) = mpsc::channel();
    let _job = handle.spawn_blocking(move || {
        drop(rt);
        tx.send(()).unwrap();
    });
    rx.recv_timeout(HANG)
        .expect("drop(Runtime) on its own blocking thread never returned");
}

/// A panic payload whose own `Drop` panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("the payload's drop panics too");
        }
    }
}

/// Ready at once, but dropping it panics with a `Bomb` payload.
struct ReadyThenBadDrop;

impl Future for ReadyThenBadDrop {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(7)
    }
}

impl Drop for ReadyThenBadDrop {
    fn drop(&mut self) {
        std::panic::panic_any(Bomb);
    }
}

/// The payload of a panic in a finished future's `Drop` used to escape `complete` and leave the
/// task running forever.
#[test]
fn a_panicking_panic_payload_from_a_futures_drop_is_contained() {
    let rt = runtime(1);
    let join = rt.spawn(ReadyThenBadDrop);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let waiter = runtime(1);
        tx.send(waiter.block_on(join).ok()).unwrap();
    });
    assert_eq!(
        rx.recv_timeout(HANG)
            .expect("the JoinHandle never resolved"),
        Some(7)
    );
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}

/// An output whose `Drop` panics with a `Bomb` payload.
struct BadOutput;

impl Drop for BadOutput {
    fn drop(&mut self) {
        std::panic::panic_any(Bomb);
    }
}

/// Such an output, dropped by the runtime on a blocking thread, used to kill the thread without its
/// bookkeeping, so dropping the runtime waited forever.
#[test]
fn a_panicking_output_drop_on_a_blocking_thread_does_not_hang_shutdown() {
    let rt = runtime(1);
    for _ in 0..4 {
        drop(rt.handle().spawn_blocking(|| BadOutput));
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        drop(rt);
        tx.send(()).unwrap();
    });
    rx.recv_timeout(HANG)
        .expect("drop(Runtime) waited for a blocking thread that died");
}

/// A waker that counts its wakes.
#[derive(Default)]
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A waker whose `Drop` panics.
struct PanickingDropWaker;

impl std::task::Wake for PanickingDropWaker {
    fn wake(self: std::sync::Arc<Self>) {}
}

impl Drop for PanickingDropWaker {
    fn drop(&mut self) {
        panic!("this waker's drop panics");
    }
}

/// A handle polled again replaced its stored waker, and that waker's panicking `Drop` escaped the
/// poll, leaving the new waker stored but unregistered: the completion never woke the joiner.
#[test]
fn a_replaced_join_waker_whose_drop_panics_does_not_lose_the_next_one() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::Arc;
    use std::task::Waker;

    let rt = runtime(1);
    let (open_tx, open_rx) = futures::channel::oneshot::channel::<()>();
    let mut handle = rt.spawn(async move {
        let _ = open_rx.await;
        5
    });
    let first = Waker::from(Arc::new(PanickingDropWaker));
    let mut cx = Context::from_waker(&first);
    assert!(Pin::new(&mut handle).poll(&mut cx).is_pending());
    // The clone in the slot is now the last one: replacing it runs the panicking `Drop`.
    drop(first);
    let counter = Arc::new(CountingWaker::default());
    let second = Waker::from(Arc::clone(&counter));
    let poll = Pin::new(&mut handle).poll(&mut Context::from_waker(&second));
    assert!(poll.is_pending(), "the poll returned normally");
    open_tx.send(()).unwrap();
    common::with_watchdog("join wake", HANG, || {
        while counter.0.load(SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    assert_eq!(rt.block_on(handle).unwrap(), 5);
}
