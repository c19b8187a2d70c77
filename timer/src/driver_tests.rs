//! Unit tests of the driver protocol on one thread, with a virtual clock (`turn(now)` is called with
//! explicit ticks; nothing sleeps).

use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use super::*;
use crate::registration::Registration;
use crate::sync::Parker;

/// Counts wakes.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, StdOrdering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

fn driver() -> (Shared, Core) {
    let parker = Parker::new();
    (
        Shared::new(Instant::now(), parker.unparker().clone()),
        Core::new(0),
    )
}

fn poll(reg: &mut Registration, shared: &Shared, tick: u64, waker: &Waker) -> Poll<()> {
    reg.poll_fired(shared, tick, &mut Context::from_waker(waker))
}

#[test]
fn fires_at_the_deadline_never_before() {
    let (shared, mut core) = driver();
    let (count, waker) = counting_waker();
    let mut reg = Registration::new();
    assert!(poll(&mut reg, &shared, 10, &waker).is_pending());
    core.turn(&shared, 9);
    assert_eq!(count.0.load(StdOrdering::SeqCst), 0);
    assert!(poll(&mut reg, &shared, 10, &waker).is_pending());
    assert_eq!(shared.metrics().pending, 1);
    core.turn(&shared, 10);
    assert_eq!(count.0.load(StdOrdering::SeqCst), 1);
    assert!(poll(&mut reg, &shared, 10, &waker).is_ready());
    let m = shared.metrics();
    assert_eq!((m.pending, m.fired, m.cancelled), (0, 1, 0));
    reg.release_with(&shared);
}

#[test]
fn lateness_is_bounded_with_a_virtual_clock() {
    // Timers at many ticks; the clock steps by 3 ticks. Each fires in the first turn at or after its
    // deadline: never early, at most one step late.
    let (shared, mut core) = driver();
    let mut timers = Vec::new();
    for i in 0..300u64 {
        let tick = 1 + (i * 37) % 900;
        let (count, waker) = counting_waker();
        let mut reg = Registration::new();
        assert!(poll(&mut reg, &shared, tick, &waker).is_pending());
        timers.push((tick, count, reg, None::<u64>));
    }
    let mut now = 0;
    while now < 1000 {
        now += 3;
        core.turn(&shared, now);
        for (tick, count, _, fired_at) in &mut timers {
            if count.0.load(StdOrdering::SeqCst) > 0 && fired_at.is_none() {
                *fired_at = Some(now);
                assert!(now >= *tick, "early: deadline {tick}, fired at {now}");
                assert!(now < *tick + 3, "late: deadline {tick}, fired at {now}");
            }
        }
    }
    for (_, count, mut reg, fired_at) in timers {
        assert!(fired_at.is_some());
        assert_eq!(count.0.load(StdOrdering::SeqCst), 1, "woken exactly once");
        reg.release_with(&shared);
    }
    assert_eq!(shared.metrics().fired, 300);
}

#[test]
fn cancel_in_the_wheel_is_swept_within_the_sweep_period() {
    let (shared, mut core) = driver();
    let (count, waker) = counting_waker();
    let mut reg = Registration::new();
    assert!(poll(&mut reg, &shared, 1000, &waker).is_pending());
    core.turn(&shared, 1);
    assert_eq!(shared.metrics().pending, 1);
    reg.release_with(&shared);
    // The first turn schedules the sweep, the turn at the sweep tick performs it.
    let next = core.turn(&shared, 2);
    assert_eq!(next, Some(2 + SWEEP_TICKS));
    assert_eq!(shared.metrics().pending, 1);
    core.turn(&shared, 2 + SWEEP_TICKS);
    let m = shared.metrics();
    assert_eq!((m.pending, m.cancelled, m.fired), (0, 1, 0));
    core.turn(&shared, 5000);
    assert_eq!(
        count.0.load(StdOrdering::SeqCst),
        0,
        "a cancelled timer must not wake"
    );
}

#[test]
fn a_full_batch_of_cancellations_is_swept_at_once() {
    let (shared, mut core) = driver();
    let (_count, waker) = counting_waker();
    let mut regs: Vec<Registration> = (0..CANCEL_BATCH).map(|_| Registration::new()).collect();
    for reg in &mut regs {
        assert!(poll(reg, &shared, 50_000, &waker).is_pending());
    }
    core.turn(&shared, 1);
    assert_eq!(shared.metrics().pending, CANCEL_BATCH as u64);
    for reg in &mut regs {
        reg.release_with(&shared);
    }
    core.turn(&shared, 1);
    let m = shared.metrics();
    assert_eq!((m.pending, m.cancelled), (0, CANCEL_BATCH as u64));
}

#[test]
fn cancel_before_the_timer_saw_the_registration() {
    let (shared, mut core) = driver();
    let (count, waker) = counting_waker();
    let mut reg = Registration::new();
    assert!(poll(&mut reg, &shared, 5, &waker).is_pending());
    reg.release_with(&shared);
    core.turn(&shared, 100);
    let m = shared.metrics();
    assert_eq!((m.pending, m.cancelled, m.fired), (0, 1, 0));
    assert_eq!(count.0.load(StdOrdering::SeqCst), 0);
}

#[test]
fn cancel_after_firing_is_a_no_op() {
    let (shared, mut core) = driver();
    let (count, waker) = counting_waker();
    let mut reg = Registration::new();
    assert!(poll(&mut reg, &shared, 5, &waker).is_pending());
    core.turn(&shared, 5);
    reg.release_with(&shared);
    core.turn(&shared, 100);
    let m = shared.metrics();
    assert_eq!((m.pending, m.cancelled, m.fired), (0, 0, 1));
    assert_eq!(count.0.load(StdOrdering::SeqCst), 1);
}

#[test]
fn reset_after_firing_reuses_the_entry_and_reset_before_cancels() {
    let (shared, mut core) = driver();
    let (count, waker) = counting_waker();
    let mut reg = Registration::new();
    assert!(poll(&mut reg, &shared, 5, &waker).is_pending());
    core.turn(&shared, 5);
    assert!(poll(&mut reg, &shared, 5, &waker).is_ready());
    // Later deadline after firing: same allocation, registered again.
    reg.disarm(&shared);
    assert!(poll(&mut reg, &shared, 40, &waker).is_pending());
    core.turn(&shared, 39);
    assert_eq!(count.0.load(StdOrdering::SeqCst), 1);
    // Earlier deadline while pending: the old one is cancelled, a new one registered.
    reg.disarm(&shared);
    assert!(poll(&mut reg, &shared, 45, &waker).is_pending());
    core.turn(&shared, 45);
    assert_eq!(count.0.load(StdOrdering::SeqCst), 2);
    assert!(poll(&mut reg, &shared, 45, &waker).is_ready());
    core.turn(&shared, 45 + SWEEP_TICKS);
    core.turn(&shared, 45 + 2 * SWEEP_TICKS);
    let m = shared.metrics();
    assert_eq!((m.pending, m.cancelled, m.fired), (0, 1, 2));
    reg.release_with(&shared);
}

#[test]
fn a_new_waker_replaces_the_old_one() {
    let (shared, mut core) = driver();
    let (first, waker1) = counting_waker();
    let (second, waker2) = counting_waker();
    let mut reg = Registration::new();
    assert!(poll(&mut reg, &shared, 5, &waker1).is_pending());
    assert!(poll(&mut reg, &shared, 5, &waker2).is_pending());
    core.turn(&shared, 6);
    assert_eq!(first.0.load(StdOrdering::SeqCst), 0);
    assert_eq!(second.0.load(StdOrdering::SeqCst), 1);
    reg.release_with(&shared);
}

#[test]
fn a_panicking_waker_does_not_stop_the_others() {
    struct Panics;
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("waker panics on purpose");
        }
    }
    let (shared, mut core) = driver();
    let bad = Waker::from(Arc::new(Panics));
    let (count, good) = counting_waker();
    let mut first = Registration::new();
    let mut second = Registration::new();
    assert!(poll(&mut first, &shared, 3, &bad).is_pending());
    assert!(poll(&mut second, &shared, 3, &good).is_pending());
    core.turn(&shared, 3);
    assert_eq!(count.0.load(StdOrdering::SeqCst), 1);
    first.release_with(&shared);
    second.release_with(&shared);
}

#[test]
fn a_waker_that_panics_when_dropped_with_its_entry_is_contained() {
    // A cancelled entry keeps its owner's last waker; the timer thread drops it when it frees the
    // entry. Dropping a waker can run user code; a panic there must not unwind out of the turn.
    struct PanicsOnDrop;
    impl Wake for PanicsOnDrop {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("waker drop panics on purpose");
        }
    }
    let (shared, mut core) = driver();
    let mut cancelled = Registration::new();
    {
        let bad = Waker::from(Arc::new(PanicsOnDrop));
        assert!(poll(&mut cancelled, &shared, 50, &bad).is_pending());
    }
    let (count, good) = counting_waker();
    let mut other = Registration::new();
    assert!(poll(&mut other, &shared, 60, &good).is_pending());
    core.turn(&shared, 1);
    // In the wheel now: the cancellation goes through the sweep, which frees the entry.
    cancelled.release_with(&shared);
    core.turn(&shared, 2); // schedules the sweep
    core.turn(&shared, 2 + SWEEP_TICKS);
    assert_eq!(shared.metrics().cancelled, 1);
    core.turn(&shared, 60);
    assert_eq!(
        count.0.load(StdOrdering::SeqCst),
        1,
        "the timer went on after the panic"
    );
    other.release_with(&shared);
}

#[test]
fn ticks_round_up_and_saturate() {
    let (shared, _core) = driver();
    let origin = shared.origin;
    assert_eq!(shared.tick_for(origin), 0);
    assert_eq!(
        shared.tick_for(origin + std::time::Duration::from_micros(1)),
        1
    );
    assert_eq!(
        shared.tick_for(origin + std::time::Duration::from_millis(7)),
        7
    );
    assert_eq!(
        shared.tick_for(origin + std::time::Duration::from_nanos(7_000_001)),
        8
    );
    // Whole seconds are exact milliseconds; the fraction rounds up, across a second boundary too.
    assert_eq!(shared.tick_for(origin + Duration::new(3, 1_000_001)), 3002);
    assert_eq!(
        shared.tick_for(origin + Duration::new(3, 999_999_999)),
        4000
    );
    assert_eq!(shared.tick_for(origin - Duration::from_millis(5)), 0);
    let far = crate::sleep::deadline_after(origin, std::time::Duration::MAX);
    assert!(shared.tick_for(far) <= MAX_TICK);
}

#[test]
fn registrations_from_many_threads_use_their_own_shards_and_all_fire() {
    let (shared, mut core) = driver();
    assert!(shared.registrations.len().is_power_of_two());
    let threads = shared.registrations.len() + 3;
    let counters: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let shared = &shared;
                scope.spawn(move || {
                    let (count, waker) = counting_waker();
                    let mut reg = Registration::new();
                    assert!(poll(&mut reg, shared, 5, &waker).is_pending());
                    // Registered but not yet drained: the timer must not park past it.
                    (count, reg)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let used = shared
        .registrations
        .iter()
        .filter(|stack| !stack.load(Ordering::Relaxed).is_null())
        .count();
    assert!(used > 1, "every thread pushed to one shard");
    assert!(
        !shared.prepare_to_park(Some(100)),
        "a pending shard must stop the park"
    );
    shared.enter_awake();
    core.turn(&shared, 4);
    assert_eq!(shared.metrics().pending, threads as u64);
    assert!(shared.prepare_to_park(Some(5)), "every shard was drained");
    shared.enter_awake();
    core.turn(&shared, 5);
    for (count, mut reg) in counters {
        assert_eq!(count.0.load(StdOrdering::SeqCst), 1);
        reg.release_with(&shared);
    }
    assert_eq!(shared.metrics().fired, threads as u64);
}
