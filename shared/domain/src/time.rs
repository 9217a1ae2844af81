//! Time as the domain sees it: milliseconds since the Unix epoch, UTC.
//!
//! The domain never reads a clock. Callers pass `now` in, which is what lets
//! the use-case tests move time forward instead of sleeping.

use std::time::Duration;

/// An instant, in whole milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// `self + duration`, saturating at the far future instead of overflowing.
    #[must_use]
    pub fn plus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// Time left from `now` until `self`, zero if `self` has passed.
    pub fn remaining_after(self, now: Timestamp) -> Duration {
        u64::try_from(self.0.saturating_sub(now.0)).map_or(Duration::ZERO, Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_duration_moves_the_timestamp_forward_by_its_milliseconds() {
        assert_eq!(
            Timestamp::from_millis(1_000).plus(Duration::from_secs(2)),
            Timestamp::from_millis(3_000)
        );
    }

    #[test]
    fn adding_a_huge_duration_saturates_instead_of_overflowing() {
        assert_eq!(
            Timestamp::from_millis(1).plus(Duration::MAX),
            Timestamp::from_millis(i64::MAX)
        );
    }

    #[test]
    fn remaining_time_is_zero_once_the_deadline_has_passed() {
        let deadline = Timestamp::from_millis(5_000);
        assert_eq!(
            deadline.remaining_after(Timestamp::from_millis(4_000)),
            Duration::from_secs(1)
        );
        assert_eq!(deadline.remaining_after(Timestamp::from_millis(6_000)), Duration::ZERO);
    }
}
