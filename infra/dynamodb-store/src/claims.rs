//! Seat claims (I7): one item per claimed seat, spread over
//! [`CLAIM_SHARDS`](crate::keys::CLAIM_SHARDS) partition keys per event.
//!
//! | attribute | HELD | SOLD |
//! |---|---|---|
//! | `holdId` | the owning hold | the hold that was converted |
//! | `state` | `HELD` | `SOLD` |
//! | `untilMs` | hold expiry + grace (ms) | — |
//! | `orderId` | — | the order |
//! | `expiresAt` | TTL (s), a week after `untilMs` | — (kept) |
//!
//! A seat without an item is free. Logic compares `untilMs` itself; TTL
//! deletion only cleans up.

use std::collections::HashMap;

use application::ports::BackendError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use domain::hold::SeatClaim;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;

use crate::items::{Item, SOLD_CLAIM, string};
use crate::keys::{CLAIM_SHARDS, CLAIM_SK_PREFIX, SOLD_SK_PREFIX, claim_key, claims_pk, event_pk};
use crate::{DynamoStore, backend_error, corrupt};

/// The claim an item records, if it is a readable claim.
pub fn claim_from(item: &Item) -> Result<SeatClaim, BackendError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    let hold = || {
        text("holdId")
            .and_then(|id| HoldId::parse(id).ok())
            .ok_or_else(|| corrupt("claim without a hold id"))
    };
    match text("state").map(String::as_str) {
        Some(SOLD_CLAIM) => Ok(SeatClaim::Sold),
        Some(_) => {
            let until = item
                .get("untilMs")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| corrupt("held claim without untilMs"))?;
            Ok(SeatClaim::HeldBy {
                hold: hold()?,
                until: Timestamp::from_millis(until),
            })
        }
        None => Err(corrupt("claim without state")),
    }
}

fn key_item(tenant: &TenantId, event: &EventId, seat: &SeatId) -> HashMap<String, AttributeValue> {
    let (pk, sk) = claim_key(tenant, event, seat);
    HashMap::from([("pk".to_owned(), string(pk)), ("sk".to_owned(), string(sk))])
}

fn seat_of(item: &Item) -> Result<SeatId, BackendError> {
    let sk = item
        .get("sk")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| corrupt("claim without sk"))?;
    let seat = sk
        .strip_prefix(CLAIM_SK_PREFIX)
        .ok_or_else(|| corrupt("claim sort key"))?;
    SeatId::parse(seat).map_err(corrupt)
}

impl DynamoStore {
    /// The stored claim of each seat (strongly consistent), in seat order.
    pub(crate) async fn read_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<Option<SeatClaim>>, BackendError> {
        let mut found: HashMap<SeatId, SeatClaim> = HashMap::new();
        for batch in seats.chunks(100) {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for seat in batch {
                request = request.keys(key_item(tenant, event, seat));
            }
            let mut pending = Some(HashMap::from([(
                self.table.clone(),
                request.build().map_err(|e| BackendError::new("dynamodb", e))?,
            )]));
            // Unprocessed keys come back when DynamoDB sheds load: ask again.
            for _ in 0..5 {
                let Some(keys) = pending.take().filter(|k| !k.is_empty()) else {
                    break;
                };
                let output = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(keys))
                    .send()
                    .await
                    .map_err(backend_error)?;
                for item in output
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    found.insert(seat_of(&item)?, claim_from(&item)?);
                }
                pending = output.unprocessed_keys;
            }
            if pending.is_some_and(|k| !k.is_empty()) {
                return Err(BackendError::new("dynamodb", "claims still unprocessed after retries"));
            }
        }
        Ok(seats.iter().map(|seat| found.get(seat).copied()).collect())
    }

    /// Every live claim of an event: its shards queried in parallel, plus
    /// the sold records of the release before claims (ADR 12, until the
    /// contract step).
    pub(crate) async fn live_claims(
        &self,
        tenant: &TenantId,
        event: &EventId,
        now: Timestamp,
    ) -> Result<HashMap<SeatId, SeatClaim>, BackendError> {
        let mut queries = tokio::task::JoinSet::new();
        for shard in 0..CLAIM_SHARDS {
            let store = self.clone();
            let pk = claims_pk(tenant, event, shard);
            queries.spawn(async move { store.query_prefix(&pk, CLAIM_SK_PREFIX, None).await });
        }
        let legacy_sold = {
            let store = self.clone();
            let pk = event_pk(tenant, event);
            tokio::spawn(async move { store.query_prefix(&pk, SOLD_SK_PREFIX, Some("sk")).await })
        };
        let mut claims = HashMap::new();
        while let Some(result) = queries.join_next().await {
            let items = result.map_err(|e| BackendError::new("dynamodb", e))??;
            for item in &items {
                let claim = claim_from(item)?;
                if claim.is_live(now) {
                    claims.insert(seat_of(item)?, claim);
                }
            }
        }
        let legacy = legacy_sold.await.map_err(|e| BackendError::new("dynamodb", e))??;
        for item in &legacy {
            let sk = item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .ok_or_else(|| corrupt("sold seat without sk"))?;
            let seat = sk
                .strip_prefix(SOLD_SK_PREFIX)
                .ok_or_else(|| corrupt("sold seat key"))?;
            claims.insert(SeatId::parse(seat).map_err(corrupt)?, SeatClaim::Sold);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn a_claim_item_reads_as_held_until_its_time_or_sold_and_anything_else_is_corrupt() {
        let hold = "01890a5d-ac96-774b-bcce-b302099a8057";
        let held_item = item(&[
            ("state", string("HELD")),
            ("holdId", string(hold)),
            ("untilMs", AttributeValue::N("65000".to_owned())),
        ]);
        assert_eq!(
            claim_from(&held_item).unwrap(),
            SeatClaim::HeldBy {
                hold: HoldId::parse(hold).unwrap(),
                until: Timestamp::from_millis(65_000)
            }
        );
        let sold_item = item(&[("state", string("SOLD")), ("holdId", string(hold))]);
        assert_eq!(claim_from(&sold_item).unwrap(), SeatClaim::Sold);
        assert!(claim_from(&item(&[("state", string("HELD"))])).is_err());
        assert!(claim_from(&item(&[])).is_err());
    }
}
