//! Dropped timeouts are reclaimed: a million registered-then-dropped timeouts leave nothing pending
//! once the timer thread has swept the cancellations (polled for with a generous deadline).

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::{Duration, Instant};

use futures::task::noop_waker;
use magpie_timer::{metrics, timeout};

const TIMEOUTS: usize = if cfg!(miri) { 100 } else { 1_000_000 };

#[test]
fn a_million_dropped_timeouts_leave_zero_pending() {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    // Half are held and dropped together (their registrations reach the wheel first), half are
    // dropped right after their first poll (often while still queued for the timer thread).
    let mut held = Vec::with_capacity(TIMEOUTS / 2);
    for i in 0..TIMEOUTS {
        let mut pending = Box::pin(timeout(
            Duration::from_secs(60),
            futures::future::pending::<()>(),
        ));
        assert!(pending.as_mut().poll(&mut cx).is_pending());
        if i % 2 == 0 {
            held.push(pending);
        }
    }
    std::thread::sleep(Duration::from_millis(20));
    drop(held);
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        let m = metrics();
        if m.pending == 0 && m.cancelled >= TIMEOUTS as u64 {
            assert_eq!(m.fired, 0, "a 60 s timeout must not have fired: {m:?}");
            break;
        }
        assert!(
            Instant::now() < give_up,
            "cancellations were not reclaimed: {m:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sleep_never_polled_starts_nothing() {
    // Creating and dropping unpolled timers must not register anything; this only checks it does
    // not panic or block (metrics are process-wide, shared with the other test).
    for _ in 0..1000 {
        let t = timeout(Duration::from_secs(1), async {});
        drop(t);
    }
    let unpolled: Pin<Box<magpie_timer::Sleep>> =
        Box::pin(magpie_timer::sleep(Duration::from_secs(1)));
    assert!(!unpolled.is_elapsed());
    drop(unpolled);
}
