//! Shedding new work while the durable store is failing, before it times out.
//!
//! When DynamoDB is slow or throttling, every request that starts anyway
//! adds to the load that makes it slow, then answers 503 after its full
//! time budget, often after writing something it must undo. This instance
//! instead keeps a short window of how its recent requests fared with the
//! store and refuses a share of new requests at once (503 with
//! `Retry-After`, nothing read or written), so the store serves the rest in
//! time. The rule is the client-side adaptive throttling of Google's SRE
//! book (ch. 21): with `requests` admitted or refused and `accepts` that
//! the store served in the window, refuse with probability
//! `max(0, (requests - K * accepts) / (requests + 1))`. Unlike the book,
//! `requests` counts only the requests admitted, once they ended (one
//! still running has not been served yet, nor failed): a shed request says
//! nothing about the store, and counting it would let the holds being shed
//! push the orders' share up too (and drive any class whose success rate
//! stays below `1/K` to shedding everything). So a class is shed once more
//! than `1 - 1/K` of its window's admitted requests failed, by the share
//! that exceeds it.
//!
//! - Per instance, no coordination: a Lambda instance serves one request at
//!   a time, so a concurrency limit would never bite there; a success ratio
//!   does, and every instance sees the same store.
//! - Two classes of work. New holds (`K` = [`NEW_WORK_K`]) are shed first:
//!   refusing one costs a buyer a retry and nothing else. Work that
//!   completes what a buyer already has — an order of a held hold, a cancel
//!   (`K` = [`COMPLETING_K`]) — is shed only when most store calls fail, so
//!   a winning hold keeps getting its order while holds are being shed.
//!   Undos and clean-ups are never shed (they do not pass here).
//! - Deterministic: the probability is applied by error diffusion (every
//!   `1/p`-th request is refused), so tests need no random numbers. Some
//!   requests always get through (and below [`MIN_REQUESTS`] in the window
//!   all do), so the instance sees the store recover within the window.
//! - Only a 503 counts against the store (a timeout, a throttle, an
//!   unreachable endpoint: `UseCaseError::Unavailable`); a 409 or a 404 is
//!   the store answering.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use domain::time::Timestamp;

/// `K` for new work (place hold): refused once more than about 1 in 10
/// requests of the window failed.
pub const NEW_WORK_K: f64 = 1.1;
/// `K` for completing work (create and cancel order): refused only once
/// more than half of the window's requests failed.
pub const COMPLETING_K: f64 = 2.0;
/// How far back the window looks, in one-second buckets.
const WINDOW_SECONDS: usize = 10;
/// [`WINDOW_SECONDS`] as a number of seconds on the clock.
const WINDOW_SPAN: i64 = 10;
/// Fewer requests than this in the window never shed: one early failure
/// must not refuse the next request.
const MIN_REQUESTS: u64 = 10;
/// What a refused request is told to wait.
pub const SHED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a request asks the store to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Something new (a hold): shed first.
    New,
    /// Finishing what a buyer already has (an order, a cancel).
    Completing,
}

impl Work {
    fn k(self) -> f64 {
        match self {
            Self::New => NEW_WORK_K,
            Self::Completing => COMPLETING_K,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::New => 0,
            Self::Completing => 1,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    second: i64,
    requests: u64,
    accepts: u64,
}

#[derive(Debug, Default)]
struct Window {
    buckets: [Bucket; WINDOW_SECONDS],
    /// Error diffusion per class of work: the refusals owed so far.
    owed: [f64; 2],
}

impl Window {
    fn bucket(&mut self, now: Timestamp) -> &mut Bucket {
        let second = now.as_millis().div_euclid(1000);
        let slot = usize::try_from(second.rem_euclid(WINDOW_SPAN)).unwrap_or(0);
        let bucket = &mut self.buckets[slot];
        if bucket.second != second {
            *bucket = Bucket {
                second,
                ..Bucket::default()
            };
        }
        bucket
    }

    fn totals(&self, now: Timestamp) -> (u64, u64) {
        let second = now.as_millis().div_euclid(1000);
        let oldest = second - WINDOW_SPAN;
        self.buckets
            .iter()
            .filter(|bucket| bucket.second > oldest && bucket.second <= second)
            .fold((0, 0), |(requests, accepts), bucket| {
                (requests + bucket.requests, accepts + bucket.accepts)
            })
    }
}

/// The instance's view of how the store has been serving it lately.
#[derive(Debug, Default)]
pub struct StoreAdmission {
    window: Mutex<Window>,
}

impl StoreAdmission {
    /// Whether a request of `work` may start now; `Err(retry_after)` if it
    /// is shed. An admitted one counts once [`Self::record`] says how it ended.
    ///
    /// # Errors
    /// The `Retry-After` of a shed request.
    #[allow(clippy::cast_precision_loss)] // Counts far below 2^52.
    pub fn admit(&self, work: Work, now: Timestamp) -> Result<(), Duration> {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let (requests, accepts) = window.totals(now);
        if requests >= MIN_REQUESTS {
            let refuse = ((requests as f64 - work.k() * accepts as f64) / (requests as f64 + 1.0)).max(0.0);
            let owed = &mut window.owed[work.index()];
            if refuse == 0.0 {
                *owed = 0.0;
            }
            *owed += refuse;
            if *owed >= 1.0 {
                *owed -= 1.0;
                return Err(SHED_RETRY_AFTER);
            }
        }
        Ok(())
    }

    /// An admitted request ended; `served`: the store answered it (anything
    /// but a 503).
    pub fn record(&self, now: Timestamp, served: bool) {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = window.bucket(now);
        bucket.requests += 1;
        bucket.accepts += u64::from(served);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_millis(second * 1000)
    }

    /// Runs `n` requests of `work` at `second`, each failing when `fails`;
    /// how many were shed.
    fn run(admission: &StoreAdmission, work: Work, second: i64, n: usize, fails: bool) -> usize {
        let mut shed = 0;
        for _ in 0..n {
            match admission.admit(work, at(second)) {
                Ok(()) => admission.record(at(second), !fails),
                Err(retry_after) => {
                    assert_eq!(retry_after, SHED_RETRY_AFTER);
                    shed += 1;
                }
            }
        }
        shed
    }

    #[test]
    fn a_store_that_serves_everything_sheds_nothing() {
        let admission = StoreAdmission::default();
        for second in 0..30 {
            assert_eq!(run(&admission, Work::New, second, 50, false), 0);
        }
    }

    #[test]
    fn a_failing_store_sheds_new_holds_first_and_orders_only_when_most_calls_fail() {
        let admission = StoreAdmission::default();
        // A third of the calls fail: new holds are shed, orders are not.
        for second in 0..10 {
            run(&admission, Work::New, second, 20, false);
            run(&admission, Work::New, second, 10, true);
        }
        assert!(run(&admission, Work::New, 10, 30, false) > 0, "new work is shed");
        assert_eq!(run(&admission, Work::Completing, 10, 30, false), 0, "orders go on");
        // Everything fails: orders are shed too.
        let admission = StoreAdmission::default();
        for second in 0..10 {
            run(&admission, Work::Completing, second, 20, true);
        }
        let shed = run(&admission, Work::Completing, 10, 100, true);
        assert!(
            shed > 90,
            "nearly every order shed while nothing is served: {shed} of 100"
        );
        assert!(shed < 100, "some still go through, to see the store recover");
    }

    #[test]
    fn shedding_stops_once_the_store_serves_again() {
        let admission = StoreAdmission::default();
        for second in 0..10 {
            run(&admission, Work::New, second, 20, true);
        }
        assert!(run(&admission, Work::New, 10, 20, true) > 0);
        // The failures leave the window after its ten seconds.
        assert_eq!(run(&admission, Work::New, 21, 50, false), 0);
    }

    #[test]
    fn a_few_early_failures_shed_nothing() {
        let admission = StoreAdmission::default();
        assert_eq!(
            run(&admission, Work::New, 0, usize::try_from(MIN_REQUESTS).unwrap(), true),
            0
        );
    }
}
