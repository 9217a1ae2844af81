//! Holds: conditional insert, consistent reads, conditional release.

use application::ports::{BackendError, HoldStore};
use async_trait::async_trait;
use domain::hold::{Hold, HoldStatus};
use domain::ids::{HoldId, TenantId};
use domain::time::Timestamp;

use crate::items::{HoldItem, from_item, number, string, to_item};
use crate::keys::{HOLD_SK, hold_pk};
use crate::{DynamoStore, backend_error};

#[async_trait]
impl HoldStore for DynamoStore {
    async fn insert(&self, hold: &Hold) -> Result<(), BackendError> {
        let item = HoldItem::new(hold, hold_pk(&hold.tenant, hold.id), HOLD_SK);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Hold ids are random v7 UUIDs, so an existing item is our own
            // write: the SDK retried an attempt that timed out after DynamoDB
            // had applied it. Success if what is stored is this hold.
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception,
                ) =>
            {
                match self.get(&hold.tenant, hold.id).await? {
                    Some(stored) if stored == *hold => Ok(()),
                    _ => Err(crate::corrupt("a different hold already has this id")),
                }
            }
            Err(error) => Err(backend_error(error)),
        }
    }

    async fn get(&self, tenant: &TenantId, hold: HoldId) -> Result<Option<Hold>, BackendError> {
        let item = self.get_consistent(hold_pk(tenant, hold), HOLD_SK).await?;
        item.map(|item| from_item::<HoldItem>(item)?.into_hold()).transpose()
    }

    async fn mark_released(&self, tenant: &TenantId, hold: HoldId, now: Timestamp) -> Result<bool, BackendError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", string(hold_pk(tenant, hold)))
            .key("sk", string(HOLD_SK))
            .update_expression("SET #status = :released")
            .condition_expression("#status = :active AND expiresAtMs > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":released", string(HoldStatus::Released.as_str()))
            .expression_attribute_values(":active", string(HoldStatus::Active.as_str()))
            .expression_attribute_values(":now", number(now.as_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception,
                ) =>
            {
                Ok(false)
            }
            Err(error) => Err(backend_error(error)),
        }
    }
}
