//! Loom models: a registration racing the timer thread's turn, a poll with a new waker racing the
//! fire, and a reset racing the timer's release (entry reuse).
#![cfg(loom)]

use std::task::Context;

use loom::sync::Arc;
use loom::thread;
use magpie_timer::loom_model::{Driver, Timer};

#[path = "support/loom_waker.rs"]
mod common;
use common::CountingWaker;

#[test]
fn register_races_turn_no_lost_wake() {
    loom::model(|| {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let (counter, waker) = CountingWaker::new();
        let mut timer = Timer::new();
        assert!(timer
            .poll(&driver, 5, &mut Context::from_waker(&waker))
            .is_pending());

        let d = driver.clone();
        let handle = thread::spawn(move || {
            timer_thread.turn(&d, 5);
            timer_thread
        });
        let second = timer.poll(&driver, 5, &mut Context::from_waker(&waker));
        let _timer_thread = handle.join().unwrap();
        // Either the poll saw the fire, or the waker was woken.
        assert!(second.is_ready() || counter.count() == 1);
        assert!(timer
            .poll(&driver, 5, &mut Context::from_waker(&waker))
            .is_ready());
        assert!(counter.count() <= 1);
        timer.cancel(&driver);
        assert_eq!(driver.metrics().fired, 1);
    });
}

#[test]
fn new_waker_races_fire() {
    loom::model(|| {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let (old_counter, old_waker) = CountingWaker::new();
        let (new_counter, new_waker) = CountingWaker::new();
        let mut timer = Timer::new();
        assert!(timer
            .poll(&driver, 5, &mut Context::from_waker(&old_waker))
            .is_pending());
        timer_thread.turn(&driver, 1); // now in the wheel

        let d = driver.clone();
        let handle = thread::spawn(move || {
            timer_thread.turn(&d, 5);
        });
        let polled = timer.poll(&driver, 5, &mut Context::from_waker(&new_waker));
        handle.join().unwrap();
        if polled.is_pending() {
            // The latest poll's waker must be the one woken, and only it.
            assert_eq!((old_counter.count(), new_counter.count()), (0, 1));
        } else {
            // The poll saw the fire itself: the new waker is never woken.
            assert_eq!(new_counter.count(), 0);
            assert!(old_counter.count() <= 1);
        }
        timer.cancel(&driver);
    });
}

#[test]
fn reset_after_fire_races_release() {
    loom::model(|| {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let (counter, waker) = CountingWaker::new();
        let mut timer = Timer::new();
        assert!(timer
            .poll(&driver, 3, &mut Context::from_waker(&waker))
            .is_pending());
        timer_thread.turn(&driver, 1);

        let d = driver.clone();
        let handle = thread::spawn(move || {
            timer_thread.turn(&d, 3);
            timer_thread
        });
        // The owner resets (maybe before, maybe after the fire) and registers a later deadline.
        timer.reset(&driver);
        assert!(timer
            .poll(&driver, 9, &mut Context::from_waker(&waker))
            .is_pending());
        let mut timer_thread = handle.join().unwrap();
        let woken_before = counter.count();
        timer_thread.turn(&driver, 9);
        assert!(timer
            .poll(&driver, 9, &mut Context::from_waker(&waker))
            .is_ready());
        assert_eq!(
            counter.count(),
            woken_before + 1,
            "the new deadline fired exactly once"
        );
        timer.cancel(&driver);
        timer_thread.turn(&driver, 100);
        assert_eq!(driver.metrics().pending, 0);
    });
}

#[test]
fn two_registrants_race_the_drain() {
    // Ticks 4 and 7 land on different registration shards under loom (the shard is the tick modulo
    // the shard count there).
    two_registrants_race_the_drain_at(4, 7);
}

#[test]
fn two_registrants_on_one_shard_race_the_drain() {
    // Ticks 4 and 6 share a shard: the two pushes contend on one stack.
    two_registrants_race_the_drain_at(4, 6);
}

fn two_registrants_race_the_drain_at(first_tick: u64, second_tick: u64) {
    loom::model(move || {
        let (driver, mut timer_thread) = Driver::new();
        let driver = Arc::new(driver);
        let registrant = |tick: u64| {
            let d = driver.clone();
            thread::spawn(move || {
                let (counter, waker) = CountingWaker::new();
                let mut timer = Timer::new();
                assert!(timer
                    .poll(&d, tick, &mut Context::from_waker(&waker))
                    .is_pending());
                (timer, counter, waker)
            })
        };
        let first = registrant(first_tick);
        let second = registrant(second_tick);
        timer_thread.turn(&driver, 2);
        let (first, second) = (first.join().unwrap(), second.join().unwrap());
        timer_thread.turn(&driver, first_tick.max(second_tick));
        for (mut timer, counter, waker) in [first, second] {
            assert_eq!(counter.count(), 1, "each registration fires exactly once");
            assert!(timer
                .poll(&driver, 0, &mut Context::from_waker(&waker))
                .is_ready());
            timer.cancel(&driver);
        }
        let m = driver.metrics();
        assert_eq!((m.fired, m.pending, m.cancelled), (2, 0, 0));
    });
}
