//! A placement under a seat limit per customer (ADR 14): the tally admits
//! the hold before any lock is touched, and the counted write lands only on
//! the tally it was admitted by.
//!
//! The tally's version is what lets one customer's concurrent holds, on any
//! number of instances, pass one at a time: a write that finds the tally
//! moved re-reads it and re-checks the limit, a bounded number of times.
//! A refusal first drops entries a write of the previous release left
//! behind, so a stale entry never keeps a customer from their seats.

use domain::customer_limit::SeatLimit;
use domain::hold::HoldStatus;

use super::placement::{Placement, Recording};
use crate::errors::{Rejection, UseCaseError};
use crate::ports::{BackendError, CustomerTally, PlaceHoldError};

/// The most entries a refusal checks against their holds and orders (one
/// consistent read each) before answering 409: bounds what a customer at
/// the limit retrying in a loop costs.
const TALLY_REPAIR_READS: usize = 16;

/// How often a hold re-reads its customer's tally after another of the
/// customer's holds or orders changed it, before giving up (503). Each lost
/// round means another of their writes landed, and a limit of at most 100
/// seats bounds how many can.
const TALLY_ATTEMPTS: u32 = 12;

impl Placement<'_> {
    /// The customer's tally, read now, if the hold fits under the limit in it.
    pub(super) async fn tally_admitting(&self, limit: SeatLimit) -> Result<CustomerTally, UseCaseError> {
        let (hold, now) = (&self.hold, self.now);
        let holds = &self.use_cases.ports.holds;
        let tally = holds.customer_tally(&hold.tenant, &hold.event, &hold.customer).await?;
        let Err(reached) = tally.seats.admit(hold.seats.len(), limit, now) else {
            return Ok(tally);
        };
        // Before saying no: entries a write of the previous release left
        // behind (ADR 14) are dropped, and the count taken again.
        if !self.forget_stale_entries(&tally).await? {
            return Err(Rejection::CustomerLimitReached(reached).into());
        }
        let tally = holds.customer_tally(&hold.tenant, &hold.event, &hold.customer).await?;
        tally
            .seats
            .admit(hold.seats.len(), limit, now)
            .map_err(Rejection::CustomerLimitReached)?;
        Ok(tally)
    }

    /// Drops the tally entries whose hold was released or whose order was
    /// cancelled; whether there were any.
    ///
    /// - Only on a refusal, and at most [`TALLY_REPAIR_READS`] reads (one
    ///   per entry).
    /// - The reads start at a place that moves with the clock, so a customer
    ///   with many entries has them all checked over a few refusals.
    /// - An entry whose hold or order is not found is kept. A read right
    ///   after a concurrent placement or order may see the tally's entry
    ///   before the item itself (one transaction, two reads), and no entry
    ///   outlives its item otherwise.
    async fn forget_stale_entries(&self, tally: &CustomerTally) -> Result<bool, UseCaseError> {
        let (hold, now) = (&self.hold, self.now);
        let ports = &self.use_cases.ports;
        let live: Vec<_> = tally.seats.holds.iter().filter(|entry| entry.until > now).collect();
        let entries = live.len() + tally.seats.orders.len();
        if entries == 0 {
            return Ok(false);
        }
        let start = usize::try_from(now.as_millis().unsigned_abs()).unwrap_or(0) % entries;
        let (mut holds, mut orders) = (Vec::new(), Vec::new());
        for index in (start..start + entries).map(|i| i % entries).take(TALLY_REPAIR_READS) {
            if let Some(entry) = live.get(index) {
                let stored = ports.holds.get(&hold.tenant, entry.hold).await?;
                if stored.is_some_and(|stored| stored.recorded_status == HoldStatus::Released) {
                    holds.push(entry.hold);
                }
            } else if let Some(entry) = tally.seats.orders.get(index - live.len()) {
                let stored = ports.orders.get(&hold.tenant, entry.order).await?;
                if stored.is_some_and(|stored| stored.cancelled_at.is_some()) {
                    orders.push(entry.order);
                }
            }
        }
        if holds.is_empty() && orders.is_empty() {
            return Ok(false);
        }
        tracing::warn!(
            event = "tally.repaired",
            holds = holds.len(),
            orders = orders.len(),
            "tally entries of released holds or cancelled orders dropped"
        );
        ports
            .holds
            .forget_in_tally(&hold.tenant, &hold.event, &hold.customer, &holds, &orders)
            .await?;
        Ok(true)
    }

    /// Writes the hold, its claims and its tally entry on `tally`: re-read
    /// and re-checked while other writes of the same customer move it.
    pub(super) async fn record_counted(&self, limit: SeatLimit, mut tally: CustomerTally) -> Recording {
        let holds = &self.use_cases.ports.holds;
        for attempt in 1..=TALLY_ATTEMPTS {
            match holds.place_counted(&self.hold, self.now, &tally).await {
                Err(PlaceHoldError::TallyChanged) => {}
                written => return written.into(),
            }
            tracing::debug!(event = "hold.tally_changed", hold_id = %self.hold.id, attempt, "another hold or order of this customer landed first");
            // Nothing was written: a refusal only needs the locks back.
            match self.tally_admitting(limit).await {
                Ok(fresh) => tally = fresh,
                Err(refused) => return Recording::Refused(refused),
            }
        }
        Recording::Failed(
            BackendError::contended("dynamodb", "the customer's tally kept changing while a hold was placed").into(),
        )
    }
}
