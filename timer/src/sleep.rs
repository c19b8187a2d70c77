//! [`Sleep`]: a future that completes at a deadline, plus [`sleep`] and [`sleep_until`].
//!
//! A `Sleep` is a deadline and a [`Registration`], 16 bytes in all (the deadline as a
//! [`CompactInstant`], the registration one tagged pointer). Creating one does nothing but read the
//! clock. The first poll completes at once if the deadline has passed; otherwise it registers with
//! the timer thread (one small allocation, pushed lock-free). Whether it has passed is read from the
//! coarse clock when that is enough (a deadline more than about 22 ms ahead, `coarse.rs`), else from
//! the precise one. Later polls only look at the entry's state word.
//! Dropping a registered `Sleep` cancels it without waiting for the timer thread; the timer thread
//! reclaims the entry within a sweep period (see the `driver` module).
//!
//! `Sleep` is `!Unpin` (like tokio's), which keeps the option of embedding the entry in the future
//! later; pin it with `std::pin::pin!` or `Box::pin` to poll it by reference.

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::coarse;
use crate::global;
use crate::instant::CompactInstant;
use crate::registration::Registration;

/// How far "never" is: deadlines beyond `now + FAR_FUTURE` are clamped to it (about 30 years).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + duration`, saturating to a deadline about 30 years away ("never") instead of overflowing.
pub(crate) fn deadline_after(now: Instant, duration: Duration) -> Instant {
    let mut duration = duration.min(FAR_FUTURE);
    loop {
        if let Some(deadline) = now.checked_add(duration) {
            return deadline;
        }
        duration /= 2;
    }
}

/// A future that completes once its deadline has passed. Created by [`sleep`] and [`sleep_until`].
///
/// It never completes early: the timer rounds deadlines up to the next millisecond and fires on the
/// timer thread once that millisecond has begun. Dropping it before it fires cancels the timer.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: CompactInstant,
    registration: Registration,
    _pinned: PhantomPinned,
}

/// Waits until `duration` has elapsed.
///
/// `Duration::ZERO` completes on the first poll without touching the timer thread; huge durations
/// (up to `Duration::MAX`) saturate to a deadline about 30 years away instead of overflowing.
///
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// futures::executor::block_on(magpie_timer::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(Instant::now(), duration))
}

/// Waits until `deadline`. A deadline in the past completes on the first poll without registering.
///
/// ```
/// use std::time::{Duration, Instant};
/// let deadline = Instant::now() + Duration::from_millis(2);
/// futures::executor::block_on(magpie_timer::sleep_until(deadline));
/// assert!(Instant::now() >= deadline);
/// ```
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: CompactInstant::from_instant(deadline),
        registration: Registration::new(),
        _pinned: PhantomPinned,
    }
}

impl Sleep {
    /// A sleep whose deadline is not fixed yet (an unanchored `timeout`): it holds `duration` in
    /// place of a deadline until [`Sleep::take_unanchored`]; it is never polled before that, and
    /// making it reads no clock.
    pub(crate) fn unanchored(duration: Duration) -> Sleep {
        Sleep {
            deadline: CompactInstant::from_duration(duration),
            registration: Registration::unanchored(),
            _pinned: PhantomPinned,
        }
    }

    /// True while the deadline is not fixed ([`Sleep::unanchored`]).
    pub(crate) fn is_unanchored(&self) -> bool {
        self.registration.is_unanchored()
    }

    /// For an unanchored sleep, its duration, clearing the mark (the caller then `reset`s it).
    pub(crate) fn take_unanchored(self: Pin<&mut Self>) -> Option<Duration> {
        // SAFETY: no field is moved out of the pinned value.
        let this = unsafe { self.get_unchecked_mut() };
        if !this.registration.is_unanchored() {
            return None;
        }
        this.registration.anchor();
        Some(this.deadline.to_duration())
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline.to_instant()
    }

    /// True if the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        CompactInstant::now() >= self.deadline
    }

    /// Changes the deadline, whether or not this sleep has completed.
    ///
    /// Moving the deadline *later* while registered is nearly free (the keep-alive pattern): the
    /// registration is kept, and when it fires the next poll sees the deadline has not been reached
    /// and registers again (one spurious wake). Moving it *earlier* withdraws the registration; the
    /// next poll registers the new deadline with its own waker. After the timer fired, the entry's
    /// allocation is reused, so resetting in a loop (as [`Interval`](crate::Interval) does) does not
    /// allocate.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let mut sleep = std::pin::pin!(magpie_timer::sleep(Duration::from_secs(3600)));
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// sleep.as_mut().reset(soon);
    /// futures::executor::block_on(sleep.as_mut());
    /// assert!(Instant::now() >= soon);
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        // SAFETY: `Sleep` does not rely on its own address (the entry lives on the heap); nothing is
        // moved out of the pinned value.
        let this = unsafe { self.get_unchecked_mut() };
        this.deadline = CompactInstant::from_instant(deadline);
        let Some(registered) = this.registration.registered_tick() else {
            return;
        };
        let shared = global::shared();
        if shared.tick_for(deadline) >= registered {
            this.registration.set_early(true);
        } else {
            this.registration.disarm(shared);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: as in `reset`: no field is moved out and the address is not relied upon.
        let this = unsafe { self.get_unchecked_mut() };
        if this.registration.is_armed() {
            if this.registration.poll_armed(cx).is_pending() {
                return Poll::Pending;
            }
            if !this.registration.is_early() {
                return Poll::Ready(());
            }
            // The registration fired for an earlier deadline than the current one.
            this.registration.disarm(global::shared());
        }
        // The precise clock is read only for a deadline the coarse clock cannot place in the
        // future (`coarse.rs`): a passed deadline completes here without registering.
        if !coarse::certainly_ahead(this.deadline) && CompactInstant::now() >= this.deadline {
            return Poll::Ready(());
        }
        let shared = global::shared();
        this.registration
            .register(shared, shared.tick_for(this.deadline.to_instant()), cx);
        Poll::Pending
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        self.registration.release(global::shared);
    }
}
