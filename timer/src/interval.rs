//! [`Interval`]: ticks at a fixed period, with a selectable [`MissedTickBehavior`].
//!
//! An interval is a boxed [`Sleep`] (boxed once, so `Interval` is `Unpin` and `tick` takes `&mut self`)
//! that is reset after every tick. The `Sleep` reuses its timer allocation across resets, so ticking
//! allocates nothing. A tick is *missed* when, at the moment a tick completes, the next scheduled tick
//! is already due; the behaviour then decides the schedule.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::sleep::{deadline_after, sleep_until, Sleep};

/// What an [`Interval`] does when ticks were missed (the consumer was slower than the period).
///
/// Example with period 10 ms, ticks scheduled at 0, 10, 20, ... ms, and a consumer that takes tick 0
/// and then comes back at 35 ms:
/// - `Burst`: ticks 10, 20, 30 complete at once, then 40, 50, ... (the schedule is kept).
/// - `Delay`: one tick completes at once (reported as 10), then 45, 55, ... (the schedule restarts one
///   period after the late tick was taken).
/// - `Skip`: one tick completes at once (reported as 10), then 40, 50, ... (missed ticks are dropped,
///   the original phase is kept).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTickBehavior {
    /// Complete the missed ticks back to back until the schedule has caught up. The default.
    #[default]
    Burst,
    /// Restart the schedule one period after the moment the late tick was taken.
    Delay,
    /// Drop the missed ticks; the next tick is the first scheduled instant still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick scheduled at `scheduled` completed at `now`.
    fn next_deadline(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        let next = deadline_after(scheduled, period);
        if now < next {
            return next;
        }
        match self {
            MissedTickBehavior::Burst => next,
            MissedTickBehavior::Delay => deadline_after(now, period),
            MissedTickBehavior::Skip => {
                let behind = now.duration_since(scheduled).as_nanos();
                let periods = behind / period.as_nanos() + 1;
                let skip = u32::try_from(periods)
                    .ok()
                    .and_then(|periods| period.checked_mul(periods))
                    .unwrap_or(Duration::MAX);
                deadline_after(scheduled, skip)
            }
        }
    }
}

/// A stream of ticks `period` apart. Created by [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    delay: Pin<Box<Sleep>>,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

/// Ticks every `period`, the first tick completing immediately.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// let mut ticks = magpie_timer::interval(Duration::from_millis(1));
/// futures::executor::block_on(async {
///     let first = ticks.tick().await;
///     let second = ticks.tick().await;
///     assert_eq!(second - first, Duration::from_millis(1));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "interval period must be non-zero; use a positive Duration such as Duration::from_millis(1)"
    );
    Interval {
        delay: Box::pin(sleep_until(start)),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for (never later than when it
    /// completed).
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; the poll-based form of [`Interval::tick`].
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.delay.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let next = self
            .missed_tick_behavior
            .next_deadline(scheduled, Instant::now(), self.period);
        self.delay.as_mut().reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        let next = deadline_after(Instant::now(), self.period);
        self.delay.as_mut().reset(next);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The current behaviour for missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Selects the behaviour for missed ticks (default [`MissedTickBehavior::Burst`]).
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}
