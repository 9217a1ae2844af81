//! The one table definition (`table.json`), and creating a table from it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde::Deserialize;

/// `table.json`, compiled in so every user of the crate agrees on it.
pub const DEFINITION_JSON: &str = include_str!("../table.json");

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<AttributeJson>,
    pub key_schema: Vec<KeyJson>,
    pub billing_mode: String,
    pub time_to_live_attribute: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeJson {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct KeyJson {
    pub attribute_name: String,
    pub key_type: String,
}

/// The parsed definition.
pub fn definition() -> Result<TableDefinition, serde_json::Error> {
    serde_json::from_str(DEFINITION_JSON)
}

/// What creating the table did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    AlreadyExists,
}

/// Creates `table` from the definition and turns on TTL. An existing table
/// is reported, not an error, so the step can run on every deploy.
pub async fn create_table(
    client: &Client,
    table: &str,
) -> Result<CreateOutcome, Box<dyn std::error::Error + Send + Sync>> {
    let definition = definition()?;
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(definition.billing_mode.as_str()));
    for attribute in &definition.attribute_definitions {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&attribute.attribute_name)
                .attribute_type(ScalarAttributeType::from(attribute.attribute_type.as_str()))
                .build()?,
        );
    }
    for key in &definition.key_schema {
        request = request.key_schema(
            KeySchemaElement::builder()
                .attribute_name(&key.attribute_name)
                .key_type(KeyType::from(key.key_type.as_str()))
                .build()?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(error)
            if error.as_service_error().is_some_and(
                aws_sdk_dynamodb::operation::create_table::CreateTableError::is_resource_in_use_exception,
            ) =>
        {
            return Ok(CreateOutcome::AlreadyExists);
        }
        Err(error) => return Err(Box::new(error)),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(&definition.time_to_live_attribute)
                .build()?,
        )
        .send()
        .await?;
    Ok(CreateOutcome::Created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_has_a_string_partition_and_sort_key_and_a_ttl_attribute() {
        let d = definition().unwrap();
        assert_eq!(
            d.key_schema[0],
            KeyJson {
                attribute_name: "pk".into(),
                key_type: "HASH".into()
            }
        );
        assert_eq!(
            d.key_schema[1],
            KeyJson {
                attribute_name: "sk".into(),
                key_type: "RANGE".into()
            }
        );
        assert_eq!(d.time_to_live_attribute, "expiresAt");
        assert!(d.attribute_definitions.iter().all(|a| a.attribute_type == "S"));
    }
}
