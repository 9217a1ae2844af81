//! Get order: read one of the caller's orders.

use domain::identity::Identity;
use domain::ids::OrderId;
use domain::order::Order;

use super::UseCases;
use crate::errors::{Rejection, UseCaseError};

impl UseCases {
    /// # Errors
    /// `OrderNotFound` (absent or someone else's, I4), `Unavailable`.
    pub async fn get_order(&self, caller: &Identity, order_id: OrderId) -> Result<Order, UseCaseError> {
        match self.ports.orders.get(&caller.tenant, order_id).await? {
            Some(order) if order.tenant == caller.tenant && order.customer == caller.customer => Ok(order),
            _ => Err(Rejection::OrderNotFound.into()),
        }
    }
}
