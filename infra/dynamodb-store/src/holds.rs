//! Holds and their seat claims: placed and released in one
//! `TransactWriteItems` each, read consistently.
//!
//! Place:
//!
//! | # | item | write | condition |
//! |---|---|---|---|
//! | 0 | hold | put | `attribute_not_exists(pk)` |
//! | 1..=n | claim per seat | put HELD | no claim, or a HELD one run out at `now`, or already this hold's |
//! | n+1..=2n | sold record of the previous release per seat | condition check | absent (ADR 12, until the backfill) |
//! | 2n+1 | the customer's tally, for a hold counted toward a seat limit | update | at the version read (`tallies`) |
//!
//! An extension of a counted hold also moves its tally entry (item 2n+1),
//! which must still exist: a hold counted out by a placement on a clock
//! ahead by more than the grace is not extended (503).
//!
//! Release: the hold ACTIVE → RELEASED (unexpired at `now`) and a delete of
//! each claim that is still this hold's HELD one.
//!
//! Extend: the hold's `expiresAtMs` from the one read (or already the new
//! one: a retry of an applied send) to the new one, ACTIVE and unexpired at
//! `now`, a put of each claim with the new `untilMs` under place's
//! condition (its own claim, or none for a hold placed before claims), and
//! place's check of the previous release's sold records. Sent once, never
//! resent with the same `:now`.

use std::collections::HashMap;
use std::time::Duration;

use application::ports::{BackendError, CustomerTally, ExtendHoldError, HoldStore, PlaceHoldError};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use domain::hold::{Hold, HoldStatus, SeatClaim};
use domain::ids::{CustomerId, EventId, HoldId, OrderId, SeatId, TenantId};
use domain::time::Timestamp;

use crate::claims::claim_from;
use crate::items::{HELD_CLAIM, HoldItem, Item, from_item, number, string, to_item, ttl_after};
use crate::keys::{HOLD_SK, claim_key, event_pk, hold_pk, sold_sk};
use crate::{DynamoStore, backend_error, condition_failed};

/// Attempts of a write cancelled only by a concurrent transaction on the same
/// items (two buyers' holds meeting on a seat).
const CONFLICT_ATTEMPTS: u32 = 4;
const CONFLICT_BACKOFF: Duration = Duration::from_millis(10);

/// The wait before resend `attempt` of a write a concurrent transaction
/// cancelled: `CONFLICT_BACKOFF × attempt`, times a random factor in
/// [0.5, 1.5). Without the jitter two placements that cancel each other
/// (Redis down, both on one seat) resend in lockstep and cancel each other
/// again, and both answer 409 on a seat that neither ends up holding.
fn conflict_backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // A fresh `RandomState` is randomly keyed per thread and differs per call:
    // enough spread for a backoff, without a random-number dependency.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    let per_mille = 500 + u32::try_from(hasher.finish() % 1000).unwrap_or(0);
    CONFLICT_BACKOFF * attempt * per_mille / 1000
}

/// A claim may be taken: none, a HELD one run out, or this hold's own.
const CLAIMABLE: &str = "attribute_not_exists(pk) OR (#state = :held AND (untilMs <= :now OR holdId = :hold))";
/// The claim is still this hold's HELD one.
const OURS_HELD: &str = "holdId = :hold AND #state = :held";

type TransactError =
    aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>;

fn build_error(error: impl std::error::Error + Send + Sync + 'static) -> BackendError {
    BackendError::new("dynamodb", error)
}

/// The cancellation reasons of a cancelled transaction, if that is what failed.
pub(crate) fn cancellation<R>(
    error: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>,
) -> Option<&[CancellationReason]> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            Some(cancelled.cancellation_reasons())
        }
        _ => None,
    }
}

pub(crate) fn failed(reasons: &[CancellationReason], index: usize) -> bool {
    reasons.get(index).and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

pub(crate) fn conflicted(reasons: &[CancellationReason]) -> bool {
    reasons.iter().any(|r| r.code() == Some("TransactionConflict"))
}

impl DynamoStore {
    fn claim_put(&self, hold: &Hold, seat: &SeatId, now: Timestamp) -> Result<TransactWriteItem, BackendError> {
        let (pk, sk) = claim_key(&hold.tenant, &hold.event, seat);
        let until = hold.claim_until();
        let item: Item = HashMap::from([
            ("pk".to_owned(), string(pk)),
            ("sk".to_owned(), string(sk)),
            ("holdId".to_owned(), string(hold.id.to_string())),
            ("state".to_owned(), string(HELD_CLAIM)),
            ("untilMs".to_owned(), number(until.as_millis())),
            ("expiresAt".to_owned(), number(ttl_after(until))),
        ]);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(CLAIMABLE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":held", string(HELD_CLAIM))
            .expression_attribute_values(":now", number(now.as_millis()))
            .expression_attribute_values(":hold", string(hold.id.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn claim_delete(&self, hold: &Hold, seat: &SeatId) -> Result<Delete, BackendError> {
        let (pk, sk) = claim_key(&hold.tenant, &hold.event, seat);
        Delete::builder()
            .table_name(&self.table)
            .key("pk", string(pk))
            .key("sk", string(sk))
            .condition_expression(OURS_HELD)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":held", string(HELD_CLAIM))
            .expression_attribute_values(":hold", string(hold.id.to_string()))
            .build()
            .map_err(build_error)
    }

    fn release_update(&self, hold: &Hold, now: Timestamp) -> Result<Update, BackendError> {
        Update::builder()
            .table_name(&self.table)
            .key("pk", string(hold_pk(&hold.tenant, hold.id)))
            .key("sk", string(HOLD_SK))
            .update_expression("SET #status = :released")
            .condition_expression("#status = :active AND expiresAtMs > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":released", string(HoldStatus::Released.as_str()))
            .expression_attribute_values(":active", string(HoldStatus::Active.as_str()))
            .expression_attribute_values(":now", number(now.as_millis()))
            .build()
            .map_err(build_error)
    }

    /// A condition check per seat that the previous release has no sold
    /// record of it: seats it sold have no claim, only that record (ADR 12,
    /// until the backfill), and must stay unholdable too.
    fn unsold_checks(&self, hold: &Hold) -> Result<Vec<TransactWriteItem>, BackendError> {
        let event = event_pk(&hold.tenant, &hold.event);
        hold.seats
            .iter()
            .map(|seat| {
                let unsold = ConditionCheck::builder()
                    .table_name(&self.table)
                    .key("pk", string(&event))
                    .key("sk", string(sold_sk(&seat.id)))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(build_error)?;
                Ok(TransactWriteItem::builder().condition_check(unsold).build())
            })
            .collect()
    }

    fn extend_update(&self, hold: &Hold, expires_at: Timestamp, now: Timestamp) -> Result<Update, BackendError> {
        Update::builder()
            .table_name(&self.table)
            .key("pk", string(hold_pk(&hold.tenant, hold.id)))
            .key("sk", string(HOLD_SK))
            .update_expression("SET expiresAtMs = :new, expiresAt = :ttl")
            .condition_expression("#status = :active AND expiresAtMs > :now AND expiresAtMs IN (:old, :new)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", string(HoldStatus::Active.as_str()))
            .expression_attribute_values(":now", number(now.as_millis()))
            .expression_attribute_values(":old", number(hold.expires_at.as_millis()))
            .expression_attribute_values(":new", number(expires_at.as_millis()))
            .expression_attribute_values(":ttl", number(ttl_after(expires_at)))
            .build()
            .map_err(build_error)
    }

    /// The `ClientRequestToken` of a hold's placement: the same for every
    /// send of it, different for any other hold, tenant or table (tokens are
    /// per account and region, and tests reuse hold ids across tenants).
    /// 32 hex characters (the limit is 36). Only retries within one process
    /// need to agree, so the standard library's hasher is stable enough.
    /// A counted hold's placement also names the tally version it relies on:
    /// a placement re-sent after the tally moved is a different request.
    fn placement_token(&self, hold: &Hold, tally_version: u64) -> String {
        use std::hash::{Hash, Hasher};
        let half = |salt: u8| {
            let mut hasher = std::hash::DefaultHasher::new();
            (
                salt,
                &self.table,
                hold.tenant.to_string(),
                hold.id.to_string(),
                tally_version,
            )
                .hash(&mut hasher);
            hasher.finish()
        };
        format!("{:016x}{:016x}", half(0), half(1))
    }

    pub(crate) async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<(), TransactError> {
        self.send_transaction(writes, None).await
    }

    /// A transaction every send of which carries `token`: DynamoDB applies
    /// it at most once (for 10 minutes), so a send that finds the first one
    /// still in progress waits for it and then gets its outcome.
    async fn transact_with_token(&self, writes: Vec<TransactWriteItem>, token: &str) -> Result<(), TransactError> {
        self.send_transaction(writes, Some(token)).await
    }

    async fn send_transaction(&self, writes: Vec<TransactWriteItem>, token: Option<&str>) -> Result<(), TransactError> {
        let mut attempt = 1;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .set_client_request_token(token.map(str::to_owned))
                .send()
                .await;
            let retry = match &result {
                Err(error) if attempt < CONFLICT_ATTEMPTS => {
                    cancellation(error).is_some_and(conflicted)
                        || (token.is_some()
                            && error
                                .as_service_error()
                                .is_some_and(TransactWriteItemsError::is_transaction_in_progress_exception))
                }
                _ => false,
            };
            if !retry {
                return result.map(drop);
            }
            tokio::time::sleep(conflict_backoff(attempt)).await;
            attempt += 1;
        }
    }

    /// [`Self::release_hold_item`] for a hold counted toward a seat limit:
    /// its tally entry leaves in the same transaction.
    async fn release_counted_hold_item(&self, hold: &Hold, now: Timestamp) -> Result<bool, BackendError> {
        let writes = vec![
            TransactWriteItem::builder()
                .update(self.release_update(hold, now)?)
                .build(),
            self.tally_release(hold)?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            Err(error) if cancellation(&error).is_some_and(|reasons| failed(reasons, 0)) => Ok(false),
            Err(error) => Err(backend_error(error)),
        }
    }

    /// The hold alone ACTIVE → RELEASED, for a hold whose claims are not all
    /// its own any more (a hold of the release before claims, ADR 12).
    async fn release_hold_item(&self, hold: &Hold, now: Timestamp) -> Result<bool, BackendError> {
        let update = self.release_update(hold, now)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(update.key))
            .set_update_expression(Some(update.update_expression))
            .set_condition_expression(update.condition_expression)
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(backend_error(error)),
        }
    }
}

impl DynamoStore {
    /// Place, with a counted hold's tally entry when `tally` is given.
    async fn place_with(
        &self,
        hold: &Hold,
        now: Timestamp,
        tally: Option<&CustomerTally>,
    ) -> Result<(), PlaceHoldError> {
        let put_hold = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&HoldItem::new(
                hold,
                hold_pk(&hold.tenant, hold.id),
                HOLD_SK,
            ))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        let mut writes = vec![TransactWriteItem::builder().put(put_hold).build()];
        for seat in &hold.seats {
            writes.push(self.claim_put(hold, &seat.id, now)?);
        }
        writes.extend(self.unsold_checks(hold)?);
        if let Some(read) = tally {
            writes.push(self.tally_placement(hold, now, read)?);
        }
        let client_token = self.placement_token(hold, tally.map_or(0, |read| read.version));
        let Err(error) = self.transact_with_token(writes, &client_token).await else {
            return Ok(());
        };
        let Some(reasons) = cancellation(&error) else {
            return Err(backend_error(error).into());
        };
        let n = hold.seats.len();
        let taken: Vec<(SeatId, SeatClaim)> = hold
            .seats
            .iter()
            .enumerate()
            .filter(|(index, _)| failed(reasons, index + 1) || failed(reasons, n + 1 + index))
            .map(|(index, seat)| {
                let claim = if failed(reasons, index + 1) {
                    reasons
                        .get(index + 1)
                        .and_then(CancellationReason::item)
                        .map(claim_from)
                        .transpose()?
                        .unwrap_or(SeatClaim::Sold)
                } else {
                    SeatClaim::Sold
                };
                Ok((seat.id.clone(), claim))
            })
            .collect::<Result<_, BackendError>>()?;
        if !taken.is_empty() {
            return Err(PlaceHoldError::SeatsTaken(taken));
        }
        if failed(reasons, 0) {
            // Hold ids are random v7 UUIDs, so an existing hold is our own
            // write, applied by an attempt whose reply was lost (checked
            // before the tally: that write moved the tally too).
            return match self.get(&hold.tenant, hold.id).await? {
                Some(stored) if stored == *hold => Ok(()),
                _ => Err(crate::corrupt("a different hold already has this id").into()),
            };
        }
        // A moved tally, or a conflict that outlasted the resends (another
        // write of the same customer in flight): read the tally again.
        if tally.is_some() && (failed(reasons, 2 * n + 1) || conflicted(reasons)) {
            return Err(PlaceHoldError::TallyChanged);
        }
        // A conflict on seats that outlasted the resends: another placement
        // is writing them (with Redis down nothing filtered it). Cancelled,
        // so nothing of ours was applied: a 409, no undo.
        let in_conflict =
            |index: usize| reasons.get(index).and_then(CancellationReason::code) == Some("TransactionConflict");
        let contended: Vec<SeatId> = hold
            .seats
            .iter()
            .enumerate()
            .filter(|(index, _)| in_conflict(index + 1) || in_conflict(n + 1 + index))
            .map(|(_, seat)| seat.id.clone())
            .collect();
        if !contended.is_empty() && !in_conflict(0) {
            return Err(PlaceHoldError::Contended(contended));
        }
        Err(backend_error(error).into())
    }
}

#[async_trait]
impl HoldStore for DynamoStore {
    async fn place(&self, hold: &Hold, now: Timestamp) -> Result<(), PlaceHoldError> {
        self.place_with(hold, now, None).await
    }

    async fn place_counted(&self, hold: &Hold, now: Timestamp, tally: &CustomerTally) -> Result<(), PlaceHoldError> {
        self.place_with(hold, now, Some(tally)).await
    }

    async fn customer_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
    ) -> Result<CustomerTally, BackendError> {
        self.read_tally(tenant, event, customer).await
    }

    async fn forget_in_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
        holds: &[HoldId],
        orders: &[OrderId],
    ) -> Result<(), BackendError> {
        self.forget_tally_entries(tenant, event, customer, holds, orders).await
    }

    async fn get(&self, tenant: &TenantId, hold: HoldId) -> Result<Option<Hold>, BackendError> {
        let item = self.get_consistent(hold_pk(tenant, hold), HOLD_SK).await?;
        item.map(|item| from_item::<HoldItem>(item)?.into_hold()).transpose()
    }

    async fn release(&self, hold: &Hold, now: Timestamp) -> Result<bool, BackendError> {
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(self.release_update(hold, now)?)
                .build(),
        ];
        for seat in &hold.seats {
            writes.push(
                TransactWriteItem::builder()
                    .delete(self.claim_delete(hold, &seat.id)?)
                    .build(),
            );
        }
        if hold.counts_toward_limit {
            writes.push(self.tally_release(hold)?);
        }
        let Err(error) = self.transact(writes).await else {
            return Ok(true);
        };
        let Some(reasons) = cancellation(&error) else {
            return Err(backend_error(error));
        };
        if failed(reasons, 0) {
            return Ok(false);
        }
        if (1..=hold.seats.len()).any(|index| failed(reasons, index)) {
            // Some claim is not this hold's (a hold placed before claims
            // existed): release the hold alone, then free what is ours.
            let moved = if hold.counts_toward_limit {
                self.release_counted_hold_item(hold, now).await?
            } else {
                self.release_hold_item(hold, now).await?
            };
            if moved {
                self.free_claims(hold).await?;
            }
            return Ok(moved);
        }
        Err(backend_error(error))
    }

    async fn abandon_placement(&self, hold: &Hold, now: Timestamp) -> Result<(), BackendError> {
        let mut tombstone = hold.clone();
        tombstone.recorded_status = HoldStatus::Released;
        let item = to_item(&HoldItem::new(&tombstone, hold_pk(&hold.tenant, hold.id), HOLD_SK))?;
        let mut attempt = 1;
        let result = loop {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            // The placement itself may still be in flight on the hold item:
            // wait for it to land or fail rather than give up the clean-up.
            let in_flight = matches!(&result, Err(error) if error.as_service_error().is_some_and(
                aws_sdk_dynamodb::operation::put_item::PutItemError::is_transaction_conflict_exception));
            if !in_flight || attempt == CONFLICT_ATTEMPTS {
                break result;
            }
            tokio::time::sleep(conflict_backoff(attempt)).await;
            attempt += 1;
        };
        match result {
            // The placement never landed, and now never will (its hold put
            // requires the item to be absent).
            Ok(_) => Ok(()),
            Err(error) if condition_failed(&error) => self.release(hold, now).await.map(drop),
            Err(error) => Err(backend_error(error)),
        }
    }

    async fn extend(&self, hold: &Hold, expires_at: Timestamp, now: Timestamp) -> Result<(), ExtendHoldError> {
        let mut extended = hold.clone();
        extended.expires_at = expires_at;
        let mut writes = vec![
            TransactWriteItem::builder()
                .update(self.extend_update(hold, expires_at, now)?)
                .build(),
        ];
        for seat in &hold.seats {
            writes.push(self.claim_put(&extended, &seat.id, now)?);
        }
        // A hold of the release before claims gets its claims here, so the
        // same check as a placement's.
        writes.extend(self.unsold_checks(hold)?);
        if hold.counts_toward_limit {
            writes.push(self.tally_extension(&extended)?);
        }
        // Sent once: a resend would carry a stale `:now` and could revive a
        // hold that expired meanwhile. A conflict or a timeout goes back to
        // the use case, which reads the hold and the clock again.
        let no_sdk_retries = aws_sdk_dynamodb::config::Builder::new()
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled());
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .customize()
            .config_override(no_sdk_retries)
            .send()
            .await;
        let Err(error) = result else {
            return Ok(());
        };
        let Some(reasons) = cancellation(&error) else {
            return Err(backend_error(error).into());
        };
        if failed(reasons, 0) || conflicted(reasons) {
            return Err(ExtendHoldError::HoldChanged);
        }
        let n = hold.seats.len();
        let taken: Vec<SeatId> = hold
            .seats
            .iter()
            .enumerate()
            .filter(|(index, _)| failed(reasons, index + 1) || failed(reasons, n + 1 + index))
            .map(|(_, seat)| seat.id.clone())
            .collect();
        if taken.is_empty() {
            Err(backend_error(error).into())
        } else {
            Err(ExtendHoldError::SeatsTaken(taken))
        }
    }

    async fn free_claims(&self, hold: &Hold) -> Result<(), BackendError> {
        for seat in &hold.seats {
            let delete = self.claim_delete(hold, &seat.id)?;
            let result = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(delete.key))
                .set_condition_expression(delete.condition_expression)
                .set_expression_attribute_names(delete.expression_attribute_names)
                .set_expression_attribute_values(delete.expression_attribute_values)
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(error) if condition_failed(&error) => {}
                Err(error) => return Err(backend_error(error)),
            }
        }
        Ok(())
    }

    async fn claims_of(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<Option<SeatClaim>>, BackendError> {
        self.read_claims(tenant, event, seats).await
    }

    async fn seat_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        now: Timestamp,
    ) -> Result<HashMap<SeatId, SeatClaim>, BackendError> {
        self.live_claims(tenant, event, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_resends_wait_half_to_one_and_a_half_steps_and_not_in_lockstep() {
        for attempt in 1..CONFLICT_ATTEMPTS {
            let waits: Vec<Duration> = (0..50).map(|_| conflict_backoff(attempt)).collect();
            for wait in &waits {
                assert!(*wait >= CONFLICT_BACKOFF * attempt / 2, "{wait:?}");
                assert!(*wait < CONFLICT_BACKOFF * attempt * 3 / 2, "{wait:?}");
            }
            let distinct: std::collections::HashSet<&Duration> = waits.iter().collect();
            assert!(
                distinct.len() > 10,
                "two placements would resend in lockstep: {waits:?}"
            );
        }
    }
}
