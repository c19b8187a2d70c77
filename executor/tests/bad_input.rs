//! Extreme or wrong input to every public entry point gets an error or a documented panic message,
//! never an overflow, a hang or undefined behaviour. (Zero workers, nested `block_on`, spawning
//! outside a runtime and after shutdown are held in `misuse.rs` and `shutdown.rs`.)
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use common::{panic_message, runtime, with_watchdog};
use magpie::runtime::Builder;
use magpie::time::{self, Elapsed};

/// Polls `future` once with a no-op waker.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
}

/// An instant an hour ago (or as far back as the clock allows).
fn an_hour_ago() -> Instant {
    let now = Instant::now();
    now.checked_sub(Duration::from_secs(3600)).unwrap_or(now)
}

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn sleep_for_duration_max_saturates_and_cancels() {
    with_watchdog("sleep(MAX)", LIMIT, || {
        let before = Instant::now();
        let mut sleep = pin!(time::sleep(Duration::MAX));
        assert!(sleep.deadline() > before + Duration::from_secs(86_400 * 365 * 20));
        assert!(!sleep.is_elapsed());
        assert!(poll_once(sleep.as_mut()).is_pending());
        // Resetting to the past completes it; dropping it afterwards is fine.
        sleep.as_mut().reset(an_hour_ago());
        assert!(poll_once(sleep.as_mut()).is_ready());
        // Instant::now() + Duration::MAX itself would overflow; sleep_until a far instant is fine.
        let far = before + Duration::from_secs(86_400 * 365 * 100);
        let mut far_sleep = pin!(time::sleep_until(far));
        assert!(poll_once(far_sleep.as_mut()).is_pending());
        assert_eq!(far_sleep.deadline(), far);
    });
}

#[test]
fn sleeps_of_zero_and_in_the_past_complete_at_once() {
    assert!(poll_once(pin!(time::sleep(Duration::ZERO))).is_ready());
    assert!(poll_once(pin!(time::sleep_until(an_hour_ago()))).is_ready());
    assert!(poll_once(pin!(time::sleep_until(Instant::now()))).is_ready());
}

#[test]
fn timeouts_at_the_extremes() {
    // Zero: the inner future is polled first, so a ready one still wins.
    assert_eq!(
        poll_once(pin!(time::timeout(Duration::ZERO, async { 1 }))),
        Poll::Ready(Ok(1))
    );
    // A deadline in the past with a pending future: elapsed at the first poll.
    let late = poll_once(pin!(time::timeout_at(
        an_hour_ago(),
        std::future::pending::<()>()
    )));
    assert!(matches!(late, Poll::Ready(Err(Elapsed { .. }))), "{late:?}");
    // Duration::MAX saturates instead of overflowing.
    assert_eq!(
        poll_once(pin!(time::timeout(Duration::MAX, async { 2 }))),
        Poll::Ready(Ok(2))
    );
    let mut forever = pin!(time::timeout(Duration::MAX, std::future::pending::<()>()));
    assert!(poll_once(forever.as_mut()).is_pending());
}

#[test]
fn interval_of_zero_panics_with_the_fix() {
    let message = panic_message(catch_unwind(|| time::interval(Duration::ZERO)).unwrap_err());
    assert!(message.contains("non-zero"), "{message}");
    let message = panic_message(
        catch_unwind(|| time::interval_at(Instant::now(), Duration::ZERO)).unwrap_err(),
    );
    assert!(message.contains("non-zero"), "{message}");
}

#[test]
fn intervals_at_the_extremes() {
    with_watchdog("intervals", LIMIT, || {
        futures::executor::block_on(async {
            // A start in the past ticks at once.
            let start = an_hour_ago();
            let mut past = time::interval_at(start, Duration::from_secs(7200));
            assert_eq!(past.tick().await, start);
            // A period of Duration::MAX: the first tick is immediate, the next saturates.
            let mut huge = time::interval(Duration::MAX);
            huge.tick().await;
            let mut next = pin!(huge.tick());
            assert!(poll_once(next.as_mut()).is_pending());
        });
        // A start far in the future never ticks early.
        let mut later = time::interval_at(
            Instant::now() + Duration::from_secs(86_400 * 365 * 100),
            Duration::from_millis(1),
        );
        let mut tick = pin!(later.tick());
        assert!(poll_once(tick.as_mut()).is_pending());
    });
}

#[test]
fn builder_rejects_bad_values_with_errors() {
    let err = Builder::new().worker_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = Builder::new().max_blocking_threads(0).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_blocking_threads"), "{err}");
}

#[test]
fn builder_thread_name_with_a_nul_byte_is_an_error_not_a_panic() {
    // std refuses thread names with interior NUL bytes; the builder must say so as an error.
    let result = catch_unwind(|| {
        Builder::new()
            .worker_threads(1)
            .thread_name("bad\0name")
            .build()
    });
    match result {
        Ok(Ok(rt)) => {
            // Accepted (e.g. sanitized): it must work.
            assert_eq!(
                rt.block_on(async { magpie::spawn(async { 1 }).await.unwrap() }),
                1
            );
        }
        Ok(Err(err)) => assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}"),
        Err(payload) => panic!(
            "Builder::build panicked on a thread name with a NUL byte: {}",
            panic_message(payload)
        ),
    }
}

#[test]
fn extreme_keep_alive_and_shutdown_timeouts_saturate() {
    with_watchdog("extreme durations", LIMIT, || {
        let rt = Builder::new()
            .worker_threads(1)
            .blocking_keep_alive(Duration::MAX)
            .build()
            .unwrap();
        let value = rt.block_on(async { magpie::task::spawn_blocking(|| 4).await.unwrap() });
        assert_eq!(value, 4);
        // Duration::MAX cannot be added to now: it means "wait as long as it takes".
        rt.shutdown_timeout(Duration::MAX);

        let rt = Builder::new()
            .worker_threads(1)
            .blocking_keep_alive(Duration::ZERO)
            .build()
            .unwrap();
        for i in 0..20 {
            let value =
                rt.block_on(async move { magpie::task::spawn_blocking(move || i).await.unwrap() });
            assert_eq!(value, i);
        }
        rt.shutdown_timeout(Duration::ZERO);
    });
}

#[test]
fn a_join_handle_polled_after_its_output_panics_with_a_message() {
    let rt = runtime(1);
    let mut handle = rt.spawn(async { 1 });
    assert_eq!(rt.block_on(&mut handle).unwrap(), 1);
    let payload = catch_unwind(AssertUnwindSafe(|| poll_once(Pin::new(&mut handle)))).unwrap_err();
    let message = panic_message(payload);
    assert!(message.contains("after it returned"), "{message}");
    // Dropping it afterwards is fine.
    drop(handle);
}

#[test]
fn time_works_outside_any_runtime_and_inside_one() {
    with_watchdog("time anywhere", LIMIT, || {
        let start = Instant::now();
        futures::executor::block_on(time::sleep(Duration::from_millis(2)));
        assert!(start.elapsed() >= Duration::from_millis(2), "never early");
        let rt = runtime(1);
        let start = Instant::now();
        rt.block_on(time::sleep(Duration::from_millis(2)));
        assert!(start.elapsed() >= Duration::from_millis(2), "never early");
    });
}

#[test]
fn yield_now_outside_a_runtime_completes() {
    futures::executor::block_on(magpie::task::yield_now());
}

#[test]
fn abort_after_completion_keeps_the_output_and_is_idempotent() {
    let rt = runtime(1);
    let handle = rt.spawn(async { 9 });
    while !handle.is_finished() {
        std::thread::yield_now();
    }
    handle.abort();
    handle.abort();
    assert_eq!(rt.block_on(handle).unwrap(), 9);
}
