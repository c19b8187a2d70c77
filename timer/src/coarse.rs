//! "Is this deadline certainly still ahead?", answered without a precise clock read.
//!
//! A `Sleep`'s first poll must complete at once if its deadline has passed, so it has to compare the
//! deadline with the time. `Instant::now` costs about 23 ns here, and `sleep(d).await` already read
//! the clock once to make the deadline, so the check doubled the clock cost of every sleeper (a fifth
//! of the work of first-polling a million fetches; skipping it cut the overhead of the fan-out and
//! sleep-gather workloads by a tenth in A/B runs). Linux's `CLOCK_MONOTONIC_COARSE` costs about
//! 6 ns: it is the monotonic clock as of the last timekeeping update, a tick (`clock_getres`: 4 ms
//! here) or so behind. Not only one tick: on this KVM guest it lagged by 2 to 6 ms over 20,000
//! samples (`cargo test -p magpie-timer coarse_clock_trails -- --nocapture` prints the range), and
//! the kernel lets timekeeping stall for a few jiffies before another CPU takes it
//! over; so the margin is five ticks plus 2 ms (22 ms here).
//!
//! So for a deadline further ahead than the coarse time plus that margin, the first poll registers
//! without a precise read; nearer deadlines still get the precise check. The mapping from the coarse
//! clock to [`CompactInstant`]'s epoch assumes that `Instant` advances like `CLOCK_MONOTONIC` (std
//! reads that clock on Linux). Should that ever not hold (a clock that also counts suspend time would
//! run ahead of it after a suspend), or should the coarse clock lag by more than the margin, a
//! deadline that has in fact just passed is registered instead of completing at once: the timer
//! thread fires it on its next turn, a millisecond late. It can never make a sleep complete early:
//! only the timer thread's firing and the precise check do that.
//!
//! Elsewhere (other systems, Miri, loom) the answer is always "not certain", and every first poll
//! reads the precise clock as before.

use crate::instant::CompactInstant;

/// The coarse clock's lag is taken to be at most this many ticks...
#[cfg_attr(not(all(target_os = "linux", not(miri), not(loom))), allow(dead_code))]
const LAG_TICKS: i64 = 5;
/// ...plus this much (module doc).
#[cfg_attr(not(all(target_os = "linux", not(miri), not(loom))), allow(dead_code))]
const SLACK_NS: i64 = 2_000_000;
/// Ticks longer than this make the shortcut pointless; it is then switched off.
#[cfg_attr(not(all(target_os = "linux", not(miri), not(loom))), allow(dead_code))]
const MAX_TICK_NS: i64 = 10_000_000;

/// What to add to a coarse reading for an upper bound of the time as a [`CompactInstant`], from
/// the coarse clock's `tick`, a precise monotonic reading `before`, and `origin`, the compact value
/// of an instant read right after `before`; `None` if the shortcut is off or the sum overflows.
///
/// `before` is at most the monotonic time of that instant, so the compact value of any later time t
/// is at most its monotonic time minus `before` plus `origin`; and that monotonic time is at most
/// the coarse reading plus the lag.
#[cfg_attr(not(all(target_os = "linux", not(miri), not(loom))), allow(dead_code))]
fn bias(tick: i64, before: i64, origin: i64) -> Option<i64> {
    if tick <= 0 || tick > MAX_TICK_NS {
        return None;
    }
    tick.checked_mul(LAG_TICKS)?
        .checked_add(SLACK_NS)?
        .checked_sub(before)?
        .checked_add(origin)
}

#[cfg(all(target_os = "linux", not(miri), not(loom)))]
mod imp {
    use std::sync::OnceLock;
    use std::time::Instant;

    use crate::instant::CompactInstant;

    /// A `timespec` in nanoseconds (its fields are narrower than `i64` on some targets).
    #[allow(clippy::useless_conversion)]
    fn nanos(time: &libc::timespec) -> i64 {
        i64::from(time.tv_sec) * 1_000_000_000 + i64::from(time.tv_nsec)
    }

    /// Reads `clock`, in nanoseconds; `None` if the call fails.
    pub(super) fn read(clock: libc::clockid_t) -> Option<i64> {
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

    /// This process's bias (see [`super::bias`]), measured once; `None` if the shortcut is off.
    pub(super) fn bias() -> Option<i64> {
        static BIAS: OnceLock<Option<i64>> = OnceLock::new();
        *BIAS.get_or_init(|| {
            let tick = tick()?;
            let before = read(libc::CLOCK_MONOTONIC)?;
            let origin = CompactInstant::from_instant(Instant::now()).nanos();
            super::bias(tick, before, origin)
        })
    }

    /// The coarse time, in monotonic nanoseconds.
    pub(super) fn coarse() -> Option<i64> {
        read(libc::CLOCK_MONOTONIC_COARSE)
    }
}

/// True if `deadline` is certainly later than now, by the coarse clock (module doc). `false` means
/// "not sure": read the precise clock.
#[inline]
pub(crate) fn certainly_ahead(deadline: CompactInstant) -> bool {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    {
        imp::bias()
            .zip(imp::coarse())
            .and_then(|(bias, coarse)| coarse.checked_add(bias))
            .is_some_and(|bound| deadline.nanos() > bound)
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

    const MS: i64 = 1_000_000;

    /// The bound holds for a coarse clock lagging by up to the margin, and only up to it: with a
    /// 4 ms tick the margin is 22 ms, whatever the epoch's offset and sign.
    #[test]
    fn the_bound_covers_a_lag_of_up_to_the_margin() {
        let tick = 4 * MS;
        for (before, origin) in [(1_000 * MS, 0), (5_000 * MS, -1_500), (7 * MS, 3 * MS)] {
            let bias = bias(tick, before, origin).unwrap();
            // The compact value of monotonic time m (the instant read at `before` or later).
            let compact = |monotonic: i64| monotonic - before + origin;
            let now = before + 250 * MS;
            for lag in [0, MS, 6 * MS, 22 * MS] {
                let bound = (now - lag) + bias;
                assert!(
                    bound >= compact(now),
                    "lag {lag}: {bound} < {}",
                    compact(now)
                );
            }
            let bound = (now - 22 * MS - 1) + bias;
            assert!(bound < compact(now), "the margin is exactly 5 ticks + 2 ms");
        }
    }

    #[test]
    fn odd_ticks_switch_the_shortcut_off() {
        assert_eq!(bias(0, MS, 0), None);
        assert_eq!(bias(-1, MS, 0), None);
        assert_eq!(bias(MAX_TICK_NS + 1, MS, 0), None);
        assert_eq!(
            bias(MS, i64::MIN, 0),
            None,
            "overflow is refused, not wrapped"
        );
    }

    /// A deadline a second past is never taken for one ahead (that would take a coarse clock
    /// lagging by a second); a far one is taken for ahead wherever the coarse clock works here.
    #[test]
    fn passed_and_far_deadlines_on_this_machine() {
        for _ in 0..1_000 {
            let now = Instant::now();
            assert!(!certainly_ahead(CompactInstant::from_instant(
                now - Duration::from_secs(1)
            )));
        }
        let far = CompactInstant::from_instant(Instant::now() + Duration::from_secs(3_600));
        #[cfg(all(target_os = "linux", not(miri)))]
        assert_eq!(certainly_ahead(far), imp::bias().is_some());
        #[cfg(not(all(target_os = "linux", not(miri))))]
        assert!(!certainly_ahead(far));
    }

    /// The coarse clock trails the precise one, never leads it (what the bound's "lag" assumes);
    /// prints the lag's range over 20,000 reads spread over many ticks, the figure the module doc
    /// quotes.
    #[cfg(all(target_os = "linux", not(miri)))]
    #[test]
    fn coarse_clock_trails_the_precise_one() {
        let (mut least, mut most) = (i64::MAX, i64::MIN);
        for i in 0..20_000 {
            if i % 100 == 0 {
                // Spread the reads over about 60 ms, many ticks, so the lag's range is seen.
                std::thread::sleep(Duration::from_micros(300));
            }
            let coarse = imp::read(libc::CLOCK_MONOTONIC_COARSE).unwrap();
            let precise = imp::read(libc::CLOCK_MONOTONIC).unwrap();
            let lag = precise - coarse;
            assert!(
                lag >= 0,
                "the coarse clock led the precise one by {} ns",
                -lag
            );
            least = least.min(lag);
            most = most.max(lag);
        }
        eprintln!(
            "coarse clock lag over 20,000 reads: {:.2}..{:.2} ms",
            least as f64 / 1e6,
            most as f64 / 1e6
        );
    }
}
