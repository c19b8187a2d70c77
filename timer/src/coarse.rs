//! "Is this deadline certainly still ahead?", answered without a precise clock read.
//!
//! A `Sleep`'s first poll must complete at once if its deadline has passed, so it has to compare the
//! deadline with the time. `Instant::now` costs about 23 ns here, and `sleep(d).await` already read
//! the clock once to make the deadline, so the check doubled the clock cost of every sleeper (a fifth
//! of the work of first-polling a million fetches; skipping it cut the overhead of the fan-out and
//! sleep-gather workloads by a tenth in A/B runs). Linux's `CLOCK_MONOTONIC_COARSE` costs about
//! 6 ns: it is the monotonic clock as of the last timekeeping update, a tick (`clock_getres`: 4 ms
//! here) or so behind. Not only one tick: on this KVM guest it lagged by 2 to 6 ms over 20,000
//! samples, so the margin is two ticks plus 2 ms (10 ms here).
//!
//! So for a deadline further ahead than the coarse time plus that margin, the first poll registers
//! without a precise read; nearer deadlines still get the precise check. The mapping from the coarse
//! clock to [`CompactInstant`]'s epoch assumes that `Instant` counts like `CLOCK_MONOTONIC` (std uses
//! it on Linux; a constant offset, as `CLOCK_BOOTTIME`'s, cancels out). Should the coarse clock ever
//! lag by more than the margin, a deadline that has in fact just passed is registered instead of
//! completing at once: the timer thread fires it on its next turn, a millisecond late. It can never
//! make a sleep complete early: only the timer thread's firing and the precise check do that.
//!
//! Elsewhere (other systems, Miri, loom) the answer is always "not certain", and every first poll
//! reads the precise clock as before.

use crate::instant::CompactInstant;

#[cfg(all(target_os = "linux", not(miri), not(loom)))]
mod imp {
    use std::sync::OnceLock;
    use std::time::Instant;

    use crate::instant::CompactInstant;

    /// Margin on top of two ticks (module doc).
    const SLACK_NS: i64 = 2_000_000;
    /// Ticks longer than this make the shortcut pointless; it is then switched off.
    const MAX_TICK_NS: i64 = 10_000_000;

    /// A `timespec` in nanoseconds (its fields are narrower than `i64` on some targets).
    #[allow(clippy::useless_conversion)]
    fn nanos(time: &libc::timespec) -> i64 {
        i64::from(time.tv_sec) * 1_000_000_000 + i64::from(time.tv_nsec)
    }

    /// Reads `clock`, in nanoseconds; `None` if the call fails.
    fn read(clock: libc::clockid_t) -> Option<i64> {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes one `timespec` through a valid, exclusive pointer and
        // touches nothing else; the clock id is a constant the kernel either knows or refuses.
        let status = unsafe { libc::clock_gettime(clock, &mut time) };
        (status == 0).then(|| nanos(&time))
    }

    /// The coarse clock's tick, in nanoseconds; `None` if unknown.
    fn tick() -> Option<i64> {
        let mut resolution = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as for `clock_gettime` in `read`.
        let status = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut resolution) };
        (status == 0).then(|| nanos(&resolution))
    }

    /// What to add to a coarse reading to get an upper bound of the time on the
    /// [`CompactInstant`] scale; `None` if the shortcut is off.
    fn bias() -> Option<i64> {
        static BIAS: OnceLock<Option<i64>> = OnceLock::new();
        *BIAS.get_or_init(|| {
            let tick = tick().filter(|&tick| tick > 0 && tick <= MAX_TICK_NS)?;
            // `before` is at most the monotonic time of the instant read next, whose compact value
            // is `origin`; so the compact value of a later time t is at most its monotonic time
            // minus `before` plus `origin`, and that monotonic time is the coarse reading plus the
            // coarse clock's lag, taken to be at most two ticks and the slack.
            let before = read(libc::CLOCK_MONOTONIC)?;
            let origin = CompactInstant::from_instant(Instant::now()).nanos();
            tick.checked_mul(2)?
                .checked_add(SLACK_NS)?
                .checked_sub(before)?
                .checked_add(origin)
        })
    }

    /// An upper bound of the current time, if the coarse clock can give one.
    pub(super) fn upper_bound() -> Option<i64> {
        let bias = bias()?;
        read(libc::CLOCK_MONOTONIC_COARSE)?.checked_add(bias)
    }
}

/// True if `deadline` is certainly later than now, by the coarse clock (module doc). `false` means
/// "not sure": read the precise clock.
#[inline]
pub(crate) fn certainly_ahead(deadline: CompactInstant) -> bool {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    {
        imp::upper_bound().is_some_and(|bound| deadline.nanos() > bound)
    }
    #[cfg(not(all(target_os = "linux", not(miri), not(loom))))]
    {
        let _ = deadline;
        false
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A deadline that has passed is not taken for one ahead: never by a second, and for one that
    /// passed a microsecond ago, at most rarely (only a coarse clock lagging beyond the margin could;
    /// it never did here).
    #[test]
    fn passed_deadlines_are_not_taken_for_ahead() {
        let mut wrong = 0;
        for _ in 0..10_000 {
            let now = Instant::now();
            let long_ago = CompactInstant::from_instant(now - Duration::from_secs(1));
            assert!(!certainly_ahead(long_ago));
            if certainly_ahead(CompactInstant::from_instant(now - Duration::from_micros(1))) {
                wrong += 1;
            }
        }
        assert!(
            wrong <= 100,
            "{wrong} of 10,000 passed deadlines taken for ahead"
        );
    }

    /// Deadlines far ahead are recognised where the coarse clock exists (or never, elsewhere).
    #[test]
    fn far_deadlines_skip_the_precise_read_on_linux() {
        let far = CompactInstant::from_instant(Instant::now() + Duration::from_secs(1));
        let expected = cfg!(all(target_os = "linux", not(miri)));
        assert_eq!(certainly_ahead(far), expected);
        let near = CompactInstant::from_instant(Instant::now() + Duration::from_micros(100));
        assert!(
            !certainly_ahead(near),
            "within the margin of now: not certain"
        );
    }
}
