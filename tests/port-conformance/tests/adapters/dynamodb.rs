//! The DynamoDB adapter against the durable-store contracts, on DynamoDB
//! Local, each case in a fresh table.

use std::sync::Arc;

use dynamodb_store::DynamoStore;
use port_conformance::StoreFixture;

async fn store() -> StoreFixture {
    let (endpoint, emulator) = test_backends::dynamodb();
    let client = test_backends::dynamodb_client(&endpoint).await;
    let table = test_backends::fresh_table(&client).await;
    let store = Arc::new(DynamoStore::new(client, table));
    StoreFixture {
        events: store.clone(),
        holds: store.clone(),
        orders: store.clone(),
        idempotency: store,
        keep_alive: Box::new(emulator),
    }
}

port_conformance::store_conformance!(store);
