//! [`Timeout`]: run a future with a deadline, plus [`timeout`], [`timeout_at`] and [`Elapsed`].
//!
//! The inner future is polled first, so a future that is ready at once never registers a timer, and
//! [`timeout`] does not even read the clock until its future is first found pending: the duration
//! starts at that first poll (for the usual `timeout(d, f).await` that is the moment of the call). A
//! million timeouts around instantly-ready futures therefore cost a few nanoseconds each and no timer
//! work at all. Use [`timeout_at`] for a deadline fixed in advance.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::sleep::{deadline_after, sleep_until, Sleep};

/// The error of a [`Timeout`] whose deadline passed before its future completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(elapsed: Elapsed) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, elapsed)
    }
}

/// A future with a deadline: yields `Ok(output)` if the inner future completes first, `Err(Elapsed)`
/// otherwise (the inner future is then dropped with the `Timeout`). Created by [`timeout`] and
/// [`timeout_at`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    future: F,
    /// For [`timeout`], until the first pending poll, an unanchored sleep holding the duration.
    delay: Sleep,
}

/// Requires `future` to complete within `duration`, counted from the first poll that finds it
/// pending (for `timeout(d, f).await`, the moment of the call). Huge durations saturate ("never").
///
/// ```
/// use std::time::Duration;
/// use magpie_timer::{timeout, Elapsed};
/// let ok = futures::executor::block_on(timeout(Duration::from_secs(1), async { 7 }));
/// assert_eq!(ok, Ok(7));
/// let late = futures::executor::block_on(timeout(Duration::from_millis(1), futures::future::pending::<()>()));
/// assert_eq!(late.unwrap_err().to_string(), "deadline has elapsed");
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: Sleep::unanchored(duration),
    }
}

/// Requires `future` to complete before `deadline`.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: sleep_until(deadline),
    }
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Consumes the `Timeout`, returning the inner future.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The deadline, once fixed: always for [`timeout_at`], after the first pending poll for
    /// [`timeout`].
    pub fn deadline(&self) -> Option<Instant> {
        (!self.delay.is_unanchored()).then(|| self.delay.deadline())
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: both fields are structurally pinned: `Timeout` never moves them while pinned (no
        // `Drop` impl, no `Unpin` impl; `into_inner`/`get_mut` need an unpinned `Timeout`).
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `future` is structurally pinned (see above).
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // SAFETY: `delay` is structurally pinned (see above).
        let mut delay = unsafe { Pin::new_unchecked(&mut this.delay) };
        if let Some(duration) = delay.as_mut().take_unanchored() {
            delay
                .as_mut()
                .reset(deadline_after(Instant::now(), duration));
        }
        delay.poll(cx).map(|()| Err(Elapsed(())))
    }
}
