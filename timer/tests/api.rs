//! Public-API tests: sleep, timeout, interval from plain threads via `block_on`. Timing is only ever
//! asserted as a lower bound (never early); upper bounds live in the virtual-clock unit tests.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::executor::block_on;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::task::noop_waker;
use magpie_timer::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Elapsed, MissedTickBehavior,
};

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = noop_waker();
    future.poll(&mut Context::from_waker(&waker))
}

#[test]
fn sleep_is_never_early() {
    for ms in [0u64, 1, 2, 3, 5, 8, 13] {
        let requested = Duration::from_millis(ms);
        let start = Instant::now();
        block_on(sleep(requested));
        assert!(
            start.elapsed() >= requested,
            "slept {:?} < {requested:?}",
            start.elapsed()
        );
    }
}

#[test]
fn sleep_from_many_plain_threads() {
    let threads: Vec<_> = (0..8u64)
        .map(|i| {
            std::thread::spawn(move || {
                for j in 0..5u64 {
                    let requested = Duration::from_micros(300 * (i + j) + 100);
                    let start = Instant::now();
                    block_on(sleep(requested));
                    assert!(start.elapsed() >= requested);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn zero_and_past_deadlines_complete_on_first_poll() {
    assert!(poll_once(pin!(sleep(Duration::ZERO))).is_ready());
    let past = Instant::now() - Duration::from_millis(5);
    assert!(poll_once(pin!(sleep_until(past))).is_ready());
    assert!(sleep_until(past).is_elapsed());
    let result = poll_once(pin!(timeout_at(past, futures::future::pending::<()>())));
    assert_eq!(result, Poll::Ready(Err(elapsed())));
}

fn elapsed() -> Elapsed {
    block_on(timeout(Duration::ZERO, futures::future::pending::<()>())).unwrap_err()
}

#[test]
fn huge_durations_saturate() {
    let now = Instant::now();
    let forever = sleep(Duration::MAX);
    assert!(forever.deadline() > now + Duration::from_secs(86_400 * 365 * 20));
    let mut forever = pin!(forever);
    assert!(poll_once(forever.as_mut()).is_pending());
    assert!(!forever.is_elapsed());
    assert_eq!(block_on(timeout(Duration::MAX, async { 3 })), Ok(3));
    let mut ticks = interval(Duration::MAX);
    let first = block_on(ticks.tick());
    assert!(first <= Instant::now());
    assert!(poll_once(pin!(ticks.tick())).is_pending());
}

#[test]
fn deadlines_complete_in_order() {
    // Miri runs ~1000x slower: give it more room so sleeps still register.
    let (count, step, lead) = if cfg!(miri) {
        (6u64, 200, 2000)
    } else {
        (40, 2, 20)
    };
    let start = Instant::now() + Duration::from_millis(lead);
    let mut order: Vec<u64> = (0..count).collect();
    // A fixed shuffle so registration order differs from deadline order.
    order.sort_by_key(|i| (i * 17) % 41);
    let mut sleeps: FuturesUnordered<_> = order
        .iter()
        .map(|&i| {
            let deadline = start + Duration::from_millis(step * i);
            async move {
                // Only sleeps whose deadline was still ahead at their first poll go through the
                // timer; on a loaded machine the earliest ones may complete at once.
                let registered = Instant::now() < deadline;
                sleep_until(deadline).await;
                assert!(Instant::now() >= deadline, "woke early");
                (i, registered)
            }
        })
        .collect();
    let completed: Vec<u64> = block_on(async {
        let mut done = Vec::new();
        while let Some((i, registered)) = sleeps.next().await {
            if registered {
                done.push(i);
            }
        }
        done
    });
    let mut sorted = completed.clone();
    sorted.sort_unstable();
    assert_eq!(
        completed, sorted,
        "timer completions must follow deadline order"
    );
}

#[test]
fn timeout_both_ways() {
    assert_eq!(
        block_on(timeout(Duration::from_secs(60), async { 5 })),
        Ok(5)
    );
    let start = Instant::now();
    let result = block_on(timeout(
        Duration::from_millis(3),
        futures::future::pending::<()>(),
    ));
    assert_eq!(result, Err(elapsed()));
    assert!(start.elapsed() >= Duration::from_millis(3));
    // The inner future wins when it finishes first, even if it had to wait.
    let result = block_on(timeout(Duration::from_secs(60), async {
        sleep(Duration::from_millis(2)).await;
        "inner"
    }));
    assert_eq!(result, Ok("inner"));
    let err = elapsed();
    assert_eq!(err.to_string(), "deadline has elapsed");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn elapsed_has_the_promised_traits() {
    fn assert_traits<
        T: std::error::Error
            + std::fmt::Display
            + std::fmt::Debug
            + Clone
            + Copy
            + PartialEq
            + Send
            + Sync
            + 'static,
    >() {
    }
    assert_traits::<Elapsed>();
    fn assert_send<T: Send>() {}
    assert_send::<magpie_timer::Sleep>();
    assert_send::<magpie_timer::Timeout<std::future::Ready<()>>>();
    assert_send::<magpie_timer::Interval>();
}

#[test]
fn reset_earlier_later_and_after_completion() {
    let mut sleep = pin!(sleep(Duration::from_secs(3600)));
    assert!(poll_once(sleep.as_mut()).is_pending());
    // Earlier.
    let soon = Instant::now() + Duration::from_millis(2);
    sleep.as_mut().reset(soon);
    assert_eq!(sleep.deadline(), soon);
    block_on(sleep.as_mut());
    assert!(Instant::now() >= soon);
    assert!(sleep.is_elapsed());
    // After completion, later again.
    sleep
        .as_mut()
        .reset(Instant::now() + Duration::from_secs(3600));
    assert!(!sleep.is_elapsed());
    let later = Instant::now() + Duration::from_millis(4);
    sleep.as_mut().reset(later);
    block_on(sleep.as_mut());
    assert!(Instant::now() >= later);
}

#[test]
fn interval_ticks_on_schedule_and_never_early() {
    let start = Instant::now();
    let period = Duration::from_millis(2);
    let mut ticks = interval_at(start, period);
    assert_eq!(ticks.period(), period);
    assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Burst);
    block_on(async {
        for k in 0..5u32 {
            let tick = ticks.tick().await;
            assert_eq!(tick, start + period * k);
            assert!(Instant::now() >= tick);
        }
    });
}

/// An interval whose start lies 10 periods in the past has missed 10 ticks when it is first polled.
fn behind(behavior: MissedTickBehavior) -> (Instant, Duration, magpie_timer::Interval) {
    let period = Duration::from_millis(20);
    let start = Instant::now() - period * 10 - period / 2;
    let mut ticks = interval_at(start, period);
    ticks.set_missed_tick_behavior(behavior);
    assert_eq!(ticks.missed_tick_behavior(), behavior);
    (start, period, ticks)
}

#[test]
fn missed_ticks_burst() {
    let (start, period, mut ticks) = behind(MissedTickBehavior::Burst);
    // Every missed tick completes at once, with its original schedule.
    for k in 0..=10u32 {
        let tick = poll_once(pin!(ticks.tick()));
        assert_eq!(tick, Poll::Ready(start + period * k), "tick {k}");
    }
}

#[test]
fn missed_ticks_delay() {
    let (start, period, mut ticks) = behind(MissedTickBehavior::Delay);
    let taken = Instant::now();
    assert_eq!(poll_once(pin!(ticks.tick())), Poll::Ready(start));
    // The schedule restarts one period after the late tick was taken.
    let next = block_on(ticks.tick());
    assert!(
        next >= taken + period,
        "delay must restart the schedule from now"
    );
    assert!(Instant::now() >= next);
}

#[test]
fn missed_ticks_skip() {
    let (start, period, mut ticks) = behind(MissedTickBehavior::Skip);
    assert_eq!(poll_once(pin!(ticks.tick())), Poll::Ready(start));
    let taken = Instant::now();
    // Missed ticks are dropped; the next one keeps the original phase and was in the future when
    // the late tick was taken (11 periods after start unless this thread was descheduled).
    let next = block_on(ticks.tick());
    let since_start = next.duration_since(start);
    assert_eq!(
        since_start.as_nanos() % period.as_nanos(),
        0,
        "skip keeps the phase"
    );
    assert!(since_start >= period * 11);
    assert!(
        next <= taken + period,
        "skip must not drop a tick that was still ahead"
    );
    assert!(Instant::now() >= next);
}

#[test]
fn interval_reset_restarts_from_now() {
    let mut ticks = interval(Duration::from_millis(3));
    let first = block_on(ticks.tick());
    let before_reset = Instant::now();
    ticks.reset();
    let next = block_on(ticks.tick());
    assert!(next >= before_reset + Duration::from_millis(3));
    assert!(next > first);
}

#[test]
#[should_panic(expected = "interval period must be non-zero; ")]
fn zero_period_interval_panics() {
    let _ = interval(Duration::ZERO);
}

#[test]
fn reset_later_keeps_the_registration_and_is_never_early() {
    let mut sleep = pin!(sleep(Duration::from_millis(2)));
    let _ = poll_once(sleep.as_mut());
    // Push the deadline later several times (keep-alive); it must still never complete early.
    let mut deadline = Instant::now();
    for _ in 0..5 {
        deadline = Instant::now() + Duration::from_millis(6);
        sleep.as_mut().reset(deadline);
        if poll_once(sleep.as_mut()).is_ready() {
            assert!(
                Instant::now() >= deadline,
                "completed early after a later reset"
            );
        }
    }
    block_on(sleep.as_mut());
    assert!(Instant::now() >= deadline);
    // Then earlier than the registration it still holds.
    let long = Instant::now() + Duration::from_secs(3600);
    sleep.as_mut().reset(long);
    assert!(poll_once(sleep.as_mut()).is_pending());
    let soon = Instant::now() + Duration::from_millis(1);
    sleep.as_mut().reset(soon);
    block_on(sleep.as_mut());
    assert!(Instant::now() >= soon);
}

#[test]
fn timeout_duration_starts_at_the_first_pending_poll() {
    let ready = timeout(Duration::from_secs(1), async { 1 });
    assert_eq!(
        ready.deadline(),
        None,
        "no clock read before the first poll"
    );
    assert_eq!(block_on(ready), Ok(1));
    let mut pending = Box::pin(timeout(
        Duration::from_millis(100),
        futures::future::pending::<()>(),
    ));
    let before = Instant::now();
    assert!(poll_once(pending.as_mut()).is_pending());
    let deadline = pending.deadline().expect("fixed by the first pending poll");
    assert!(deadline >= before + Duration::from_millis(100));
    assert_eq!(block_on(pending), Err(elapsed()));
    assert!(Instant::now() >= deadline);
    let at = Instant::now() + Duration::from_secs(5);
    assert_eq!(timeout_at(at, async {}).deadline(), Some(at));
}

#[test]
fn a_panicking_waker_does_not_kill_the_timer_thread() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    struct Panics(AtomicUsize);
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            panic!("wake panics on purpose");
        }
    }
    let bad = Arc::new(Panics(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(bad.clone());
    // Keep the sleep alive: dropping it would cancel it, and a cancelled timer never wakes.
    let mut sleep = Box::pin(sleep_until(Instant::now() + Duration::from_millis(2)));
    if sleep
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_ready()
    {
        return; // descheduled for 2 ms before the first poll: nothing was registered
    }
    while bad.0.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    // The timer thread survived: later timers still fire.
    block_on(magpie_timer::sleep(Duration::from_millis(2)));
    drop(sleep);
}
