//! Customer tallies (the seat limit per customer): one item per customer
//! and event, `T#t#EVENT#e#CUSTOMER#c` / `TALLY`, in its own partition so a
//! busy on-sale spreads them like its customers.
//!
//! | attribute | meaning |
//! |---|---|
//! | `H#<holdId>` | map `{seats, untilMs}`: a counted hold, counting while `untilMs > now` |
//! | `O#<orderId>` | number: a counted order's seats, counting until it is cancelled |
//! | `version` | bumped by every write that can raise the count; checked by a placement |
//!
//! Each entry is written in the same transaction as the hold or order it
//! counts: the placement (conditioned on the version it read, dropping
//! lapsed entries), the extension and the commit (both bump the version: a
//! later-lapsing or converted entry must make a concurrent placement
//! re-read), the release and the cancel (removals only: they can only make
//! a concurrent placement's count too high, never too low).

use std::collections::HashMap;
use std::fmt::Write as _;

use application::ports::{BackendError, CustomerTally};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::customer_limit::{CountedHold, CountedOrder, CustomerSeats};
use domain::hold::Hold;
use domain::ids::{CustomerId, EventId, HoldId, OrderId, TenantId};
use domain::order::Order;
use domain::time::Timestamp;

use crate::items::{Item, number};
use crate::keys::{TALLY_SK, tally_pk};
use crate::{DynamoStore, corrupt};

const HOLD_ENTRY: &str = "H#";
const ORDER_ENTRY: &str = "O#";
/// Lapsed entries one placement drops at most. A placement drops all of
/// them, so there are never more than the customer's holds that lapsed
/// since their last placement: at most one per seat of the limit (100).
/// 100 names keep the update expression (limit 4 KB) near 1.2 KB; a tally
/// that still had more would keep the rest (counted out, not removed)
/// until the next placement.
const MAX_DROPPED_PER_WRITE: usize = 100;

fn hold_entry(hold: HoldId) -> String {
    format!("{HOLD_ENTRY}{hold}")
}

fn order_entry(order: OrderId) -> String {
    format!("{ORDER_ENTRY}{order}")
}

fn counted_hold_value(counted: &CountedHold) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("seats".to_owned(), number(i64::from(counted.seats))),
        ("untilMs".to_owned(), number(counted.until.as_millis())),
    ]))
}

fn number_of(value: &AttributeValue) -> Result<i64, BackendError> {
    value
        .as_n()
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt("tally entry without a number"))
}

fn seats_of(value: &AttributeValue) -> Result<u32, BackendError> {
    u32::try_from(number_of(value)?).map_err(corrupt)
}

/// Reads a tally item back.
pub(crate) fn tally_from(item: &Item) -> Result<CustomerTally, BackendError> {
    let mut seats = CustomerSeats::default();
    let mut version = 0;
    for (name, value) in item {
        if let Some(hold) = name.strip_prefix(HOLD_ENTRY) {
            let entry = value.as_m().map_err(|_| corrupt("tally hold entry is not a map"))?;
            let field = |key: &str| entry.get(key).ok_or_else(|| corrupt("tally hold entry lacks a field"));
            seats.holds.push(CountedHold {
                hold: HoldId::parse(hold).map_err(corrupt)?,
                seats: seats_of(field("seats")?)?,
                until: Timestamp::from_millis(number_of(field("untilMs")?)?),
            });
        } else if let Some(order) = name.strip_prefix(ORDER_ENTRY) {
            seats.orders.push(CountedOrder {
                order: OrderId::parse(order).map_err(corrupt)?,
                seats: seats_of(value)?,
            });
        } else if name == "version" {
            version = u64::try_from(number_of(value)?).map_err(corrupt)?;
        }
    }
    Ok(CustomerTally { seats, version })
}

impl DynamoStore {
    pub(crate) async fn read_tally(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
    ) -> Result<CustomerTally, BackendError> {
        match self.get_consistent(tally_pk(tenant, event, customer), TALLY_SK).await? {
            Some(item) => tally_from(&item),
            None => Ok(CustomerTally::default()),
        }
    }

    fn tally_update(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
    ) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(tally_pk(tenant, event, customer)))
            .key("sk", AttributeValue::S(TALLY_SK.to_owned()))
    }

    /// A placement's entry: only if the tally is still at the version read
    /// (absent when it read none), dropping entries lapsed by `now`.
    pub(crate) fn tally_placement(
        &self,
        hold: &Hold,
        now: Timestamp,
        read: &CustomerTally,
    ) -> Result<TransactWriteItem, BackendError> {
        let mut update = self
            .tally_update(&hold.tenant, &hold.event, &hold.customer)
            .expression_attribute_names("#entry", hold_entry(hold.id))
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":entry", counted_hold_value(&hold.counted()))
            .expression_attribute_values(":next", number(i64::try_from(read.version + 1).map_err(corrupt)?));
        let mut expression = "SET #entry = :entry, #version = :next".to_owned();
        let lapsed: Vec<HoldId> = read
            .seats
            .lapsed_holds(now)
            .filter(|lapsed| *lapsed != hold.id)
            .take(MAX_DROPPED_PER_WRITE)
            .collect();
        for (index, lapsed) in lapsed.iter().enumerate() {
            expression.push_str(if index == 0 { " REMOVE " } else { ", " });
            let _ = write!(expression, "#lapsed{index}");
            update = update.expression_attribute_names(format!("#lapsed{index}"), hold_entry(*lapsed));
        }
        update = if read.version == 0 {
            update.condition_expression("attribute_not_exists(#version)")
        } else {
            update
                .condition_expression("#version = :read")
                .expression_attribute_values(":read", number(i64::try_from(read.version).map_err(corrupt)?))
        };
        let update = update.update_expression(expression).build().map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A release's: the hold leaves the tally.
    pub(crate) fn tally_release(&self, hold: &Hold) -> Result<TransactWriteItem, BackendError> {
        let update = self
            .tally_update(&hold.tenant, &hold.event, &hold.customer)
            .update_expression("REMOVE #entry")
            .expression_attribute_names("#entry", hold_entry(hold.id))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// An extension's: the entry counts until the extended hold's claims end.
    pub(crate) fn tally_extension(&self, extended: &Hold) -> Result<TransactWriteItem, BackendError> {
        let update = self
            .tally_update(&extended.tenant, &extended.event, &extended.customer)
            .update_expression("SET #entry = :entry ADD #version :one")
            // A hold counted out by a placement on a clock ahead by more
            // than the grace must not come back: the extension fails.
            .condition_expression("attribute_exists(#entry)")
            .expression_attribute_names("#entry", hold_entry(extended.id))
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":entry", counted_hold_value(&extended.counted()))
            .expression_attribute_values(":one", number(1))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A commit's: the hold's entry becomes the order's.
    pub(crate) fn tally_conversion(&self, order: &Order) -> Result<TransactWriteItem, BackendError> {
        let update = self
            .tally_update(&order.tenant, &order.event, &order.customer)
            .update_expression("SET #order = :seats REMOVE #hold ADD #version :one")
            // Likewise a conversion: the order counts only if its hold still did.
            .condition_expression("attribute_exists(#hold)")
            .expression_attribute_names("#order", order_entry(order.id))
            .expression_attribute_names("#hold", hold_entry(order.hold))
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":seats", number(i64::from(order.counted().seats)))
            .expression_attribute_values(":one", number(1))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Removes entries of holds and orders that no longer count; nothing if
    /// the tally does not exist.
    pub(crate) async fn forget_tally_entries(
        &self,
        tenant: &TenantId,
        event: &EventId,
        customer: &CustomerId,
        holds: &[HoldId],
        orders: &[OrderId],
    ) -> Result<(), BackendError> {
        let names: Vec<String> = holds
            .iter()
            .map(|hold| hold_entry(*hold))
            .chain(orders.iter().map(|order| order_entry(*order)))
            .take(MAX_DROPPED_PER_WRITE)
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        let mut expression = "REMOVE ".to_owned();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(tally_pk(tenant, event, customer)))
            .key("sk", AttributeValue::S(TALLY_SK.to_owned()))
            .condition_expression("attribute_exists(pk)");
        for (index, name) in names.into_iter().enumerate() {
            let _ = write!(expression, "{}#gone{index}", if index == 0 { "" } else { ", " });
            request = request.expression_attribute_names(format!("#gone{index}"), name);
        }
        match request.update_expression(expression).send().await {
            Ok(_) => Ok(()),
            Err(error) if crate::condition_failed(&error) => Ok(()),
            Err(error) => Err(crate::backend_error(error)),
        }
    }

    /// A cancel's: the order leaves the tally.
    pub(crate) fn tally_cancellation(&self, order: &Order) -> Result<TransactWriteItem, BackendError> {
        let update = self
            .tally_update(&order.tenant, &order.event, &order.customer)
            .update_expression("REMOVE #entry")
            .expression_attribute_names("#entry", order_entry(order.id))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
