//! Loom models: dropping a timer (cancel) racing the timer thread draining or firing it, and the
//! parking handshake (a registration must never be lost while the timer thread parks).
#![cfg(loom)]

use std::task::Context;

use loom::sync::Arc;
use loom::thread;
use magpie_timer::loom_model::{Driver, Timer};

#[path = "support/loom_waker.rs"]
mod common;
use common::CountingWaker;

/// Sweep ticks are 10: turning at `now + 100` always sweeps a scheduled sweep.
const LATER: u64 = 1000;

#[test]
fn cancel_races_fire() {
    loom::model(|| {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let (counter, waker) = CountingWaker::new();
        let mut timer = Timer::new();
        assert!(timer
            .poll(&driver, 5, &mut Context::from_waker(&waker))
            .is_pending());
        timer_thread.turn(&driver, 1); // linked in the wheel

        let d = driver.clone();
        let handle = thread::spawn(move || {
            timer_thread.turn(&d, 5);
            timer_thread
        });
        timer.cancel(&driver);
        let mut timer_thread = handle.join().unwrap();
        timer_thread.turn(&driver, 6);
        timer_thread.turn(&driver, LATER);
        let m = driver.metrics();
        assert_eq!(m.pending, 0);
        assert_eq!(m.fired + m.cancelled, 1, "{m:?}");
        assert_eq!(counter.count() as u64, m.fired);
    });
}

#[test]
fn cancel_races_drain_of_the_registration() {
    loom::model(|| {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let (counter, waker) = CountingWaker::new();
        let mut timer = Timer::new();
        assert!(timer
            .poll(&driver, 50, &mut Context::from_waker(&waker))
            .is_pending());

        let d = driver.clone();
        let handle = thread::spawn(move || {
            timer_thread.turn(&d, 1);
            timer_thread
        });
        timer.cancel(&driver);
        let mut timer_thread = handle.join().unwrap();
        timer_thread.turn(&driver, 2);
        timer_thread.turn(&driver, LATER);
        let m = driver.metrics();
        assert_eq!((m.pending, m.fired, m.cancelled), (0, 0, 1));
        assert_eq!(counter.count(), 0);
    });
}

#[test]
fn registration_races_parking() {
    loom::model(|| {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let (counter, waker) = CountingWaker::new();

        let d = driver.clone();
        let handle = thread::spawn(move || {
            // The timer loop, bounded: turn, park; a lost wake-up leaves it parked forever, which
            // loom reports as a deadlock.
            for _ in 0..2 {
                let next = timer_thread.turn(&d, 5);
                if d.metrics().fired == 1 {
                    return;
                }
                timer_thread.park(&d, next);
            }
            timer_thread.turn(&d, 5);
        });
        let mut timer = Timer::new();
        let _ = timer.poll(&driver, 5, &mut Context::from_waker(&waker));
        handle.join().unwrap();
        assert_eq!(driver.metrics().fired, 1);
        assert_eq!(counter.count(), 1);
        timer.cancel(&driver);
    });
}

#[test]
fn cancellation_is_reclaimed_before_the_deadline() {
    // The timer thread sleeps "until the deadline" (modelled as an untimed park) unless something
    // earlier is scheduled (modelled by jumping the virtual clock). A cancellation must get the entry
    // reclaimed before the clock reaches the cancelled timer's deadline: through an unpark, or
    // through a sweep the thread scheduled itself.
    const DEADLINE: u64 = 1000;
    loom::model(|| {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let (counter, waker) = CountingWaker::new();
        let mut timer = Timer::new();
        assert!(timer
            .poll(&driver, DEADLINE, &mut Context::from_waker(&waker))
            .is_pending());
        timer_thread.turn(&driver, 1);

        let d = driver.clone();
        let handle = thread::spawn(move || {
            let mut now = 1;
            for _ in 0..8 {
                let next = timer_thread.turn(&d, now);
                if d.metrics().cancelled == 1 {
                    return;
                }
                match next {
                    Some(tick) if tick < DEADLINE => now = tick,
                    _ => timer_thread.park(&d, next),
                }
            }
            panic!("the cancelled entry was not reclaimed: {:?}", d.metrics());
        });
        timer.cancel(&driver);
        handle.join().unwrap();
        assert_eq!(driver.metrics().pending, 0);
        assert_eq!(counter.count(), 0);
    });
}
