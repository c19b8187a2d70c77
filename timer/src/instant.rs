//! A deadline in eight bytes: [`CompactInstant`], nanoseconds from a process-wide epoch.
//!
//! `std::time::Instant` is 16 bytes (seconds and nanoseconds). A `Sleep` lives inside the future of
//! every task that sleeps, so its size is paid a million times by a million sleepers; a signed
//! 64-bit count of nanoseconds from one epoch, taken the first time any deadline is stored, covers
//! about 292 years either side of it and converts back exactly. Deadlines further away than that
//! are clamped to the end of the range, which is "never" all the same.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The instant every [`CompactInstant`] counts from: the first time one was made.
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The process-wide epoch.
fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// An instant as signed nanoseconds from the process-wide epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CompactInstant(i64);

impl CompactInstant {
    /// `instant`, exactly, or the nearest end of the range if it is more than ~292 years away.
    #[inline]
    pub(crate) fn from_instant(instant: Instant) -> CompactInstant {
        let epoch = epoch();
        match instant.checked_duration_since(epoch) {
            Some(after) => CompactInstant(i64::try_from(after.as_nanos()).unwrap_or(i64::MAX)),
            None => {
                let before = epoch.duration_since(instant).as_nanos();
                CompactInstant(i64::try_from(before).map_or(-i64::MAX, |nanos| -nanos))
            }
        }
    }

    /// A duration stored in the same eight bytes (nanoseconds, saturating at ~292 years): an
    /// unanchored timeout keeps its duration here until its deadline is fixed.
    pub(crate) fn from_duration(duration: Duration) -> CompactInstant {
        CompactInstant(i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX))
    }

    /// The duration stored by [`CompactInstant::from_duration`].
    pub(crate) fn to_duration(self) -> Duration {
        Duration::from_nanos(self.0.unsigned_abs())
    }

    /// The current time.
    #[inline]
    pub(crate) fn now() -> CompactInstant {
        CompactInstant::from_instant(Instant::now())
    }

    /// The raw count: nanoseconds from the epoch.
    #[cfg_attr(not(all(target_os = "linux", not(miri), not(loom))), allow(dead_code))]
    pub(crate) fn nanos(self) -> i64 {
        self.0
    }

    /// Back to an `Instant` (exact for every value made from one within range).
    pub(crate) fn to_instant(self) -> Instant {
        let epoch = epoch();
        let distance = Duration::from_nanos(self.0.unsigned_abs());
        let instant = if self.0 >= 0 {
            epoch.checked_add(distance)
        } else {
            epoch.checked_sub(distance)
        };
        // Every value came from an instant at least as far out, so this cannot fail; stay total anyway.
        instant.unwrap_or(epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_either_side_of_the_epoch_round_trip_exactly() {
        let now = Instant::now();
        for instant in [
            now,
            now + Duration::from_nanos(1),
            now + Duration::new(3_600, 123_456_789),
            now - Duration::from_nanos(1),
            now.checked_sub(Duration::new(86_400, 999_999_999))
                .unwrap_or(now),
            epoch(),
        ] {
            assert_eq!(CompactInstant::from_instant(instant).to_instant(), instant);
        }
    }

    #[test]
    fn order_follows_the_instants() {
        let now = Instant::now();
        let earlier = CompactInstant::from_instant(now);
        let later = CompactInstant::from_instant(now + Duration::from_nanos(1));
        assert!(earlier < later);
        assert!(CompactInstant::from_instant(now - Duration::from_millis(5)) < earlier);
        assert!(CompactInstant::now() >= earlier);
    }

    #[test]
    fn durations_round_trip_and_saturate() {
        for duration in [
            Duration::ZERO,
            Duration::new(5, 7),
            Duration::from_secs(86_400 * 365 * 30),
        ] {
            assert_eq!(
                CompactInstant::from_duration(duration).to_duration(),
                duration
            );
        }
        assert_eq!(
            CompactInstant::from_duration(Duration::MAX).to_duration(),
            Duration::from_nanos(i64::MAX as u64)
        );
    }

    #[test]
    fn far_instants_clamp_to_the_ends_of_the_range() {
        let now = Instant::now();
        let far = Duration::from_secs(400 * 365 * 86_400);
        if let Some(future) = now.checked_add(far) {
            let compact = CompactInstant::from_instant(future);
            assert_eq!(compact, CompactInstant(i64::MAX));
            assert!(compact.to_instant() > now + Duration::from_secs(290 * 365 * 86_400));
        }
        if let Some(past) = now.checked_sub(far) {
            assert_eq!(
                CompactInstant::from_instant(past),
                CompactInstant(-i64::MAX)
            );
        }
    }
}
