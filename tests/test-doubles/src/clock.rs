//! Test clocks and the one instant they start at.
//!
//! Every suite counts from [`EPOCH`], so a timestamp in one suite's failure
//! reads the same in another's. [`ManualClock`] stands still until the test
//! moves it; [`ClockAhead`] is the system clock of another instance that
//! runs ahead, for tests on real backends where time must pass.

use std::time::Duration;

use application::ports::Clock;
use domain::time::Timestamp;
pub use system_runtime::ManualClock;

/// The instant test clocks start at: 2027-01-15T08:00:00Z.
pub const EPOCH: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// A manual clock at [`EPOCH`].
pub fn manual_clock() -> ManualClock {
    ManualClock::starting_at(EPOCH)
}

/// The system clock, `ahead` in the future: an instance that asks once a
/// lease has run out, without the test sleeping through it (a lease's
/// expiry is decided by the caller's clock, not by the store's).
#[derive(Debug, Clone, Copy)]
pub struct ClockAhead(pub Duration);

impl Clock for ClockAhead {
    fn now(&self) -> Timestamp {
        system_runtime::SystemClock.now().plus(self.0)
    }
}
