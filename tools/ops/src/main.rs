//! `ops`: operator commands.
//!
//! - `ops create-table` — creates `TABLE_NAME` from THE table definition
//!   (`infra/dynamodb-store/table.json`) on the endpoint the usual AWS
//!   variables name (`AWS_ENDPOINT_URL` for emulators), and turns on TTL.
//!   Says so and succeeds when the table already exists.
//! - `ops status` — the table (DescribeTable) and the cache named by
//!   `CACHE_NAME` (an ElastiCache serverless cache, else a replication
//!   group), with endpoints and states.
//!
//! Lambdas never make these control-plane calls; they get `REDIS_URL` and
//! `TABLE_NAME` from the template.

use std::process::ExitCode;

use dynamodb_store::client::{ClientSettings, sdk_config, wants_emulator_defaults};
use dynamodb_store::table::{CreateOutcome, create_table};

const USAGE: &str = "usage: ops create-table | ops status\n  reads TABLE_NAME, CACHE_NAME (status), AWS_ENDPOINT_URL and the usual AWS variables";

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let result = match command.as_str() {
        "create-table" => create(&required("TABLE_NAME")).await,
        "status" => status(&required("TABLE_NAME"), std::env::var("CACHE_NAME").ok()).await,
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ops {command}: {error}");
            ExitCode::FAILURE
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

async fn aws() -> aws_config::SdkConfig {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // aws-config reads AWS_ENDPOINT_URL itself; the placeholders are ours.
    // Otherwise the SDK's defaults: no time bound on a control-plane call.
    sdk_config(&ClientSettings {
        emulator_defaults: wants_emulator_defaults(&env),
        ..ClientSettings::default()
    })
    .await
}

async fn create(table: &str) -> Result<String, Failure> {
    if table.is_empty() {
        return Err("TABLE_NAME is not set".into());
    }
    let client = aws_sdk_dynamodb::Client::new(&aws().await);
    Ok(match create_table(&client, table).await? {
        CreateOutcome::Created => format!("created table {table} (TTL on attribute expiresAt)"),
        CreateOutcome::AlreadyExists => format!("table {table} already exists; nothing changed"),
    })
}

async fn status(table: &str, cache: Option<String>) -> Result<String, Failure> {
    if table.is_empty() {
        return Err("TABLE_NAME is not set".into());
    }
    let config = aws().await;
    let described = aws_sdk_dynamodb::Client::new(&config)
        .describe_table()
        .table_name(table)
        .send()
        .await?;
    let mut lines = Vec::new();
    if let Some(t) = described.table() {
        lines.push(format!(
            "table {table}: {} ({} items, {} bytes)",
            t.table_status().map_or("unknown", |s| s.as_str()),
            t.item_count().unwrap_or(0),
            t.table_size_bytes().unwrap_or(0)
        ));
    }
    match cache {
        None => lines.push("cache: CACHE_NAME not set, skipped".to_owned()),
        Some(name) => lines.push(cache_status(&config, &name).await?),
    }
    Ok(lines.join("\n"))
}

async fn cache_status(config: &aws_config::SdkConfig, name: &str) -> Result<String, Failure> {
    let client = aws_sdk_elasticache::Client::new(config);
    if let Ok(found) = client
        .describe_serverless_caches()
        .serverless_cache_name(name)
        .send()
        .await
        && let Some(cache) = found.serverless_caches().first()
    {
        let endpoint = cache
            .endpoint()
            .map(|e| format!("{}:{}", e.address().unwrap_or("?"), e.port().unwrap_or(0)));
        return Ok(format!(
            "cache {name} (serverless {}): {} at {}",
            cache.engine().unwrap_or("?"),
            cache.status().unwrap_or("unknown"),
            endpoint.unwrap_or_else(|| "no endpoint yet".to_owned())
        ));
    }
    let groups = client
        .describe_replication_groups()
        .replication_group_id(name)
        .send()
        .await?;
    let group = groups
        .replication_groups()
        .first()
        .ok_or("no such serverless cache or replication group")?;
    let endpoint = group
        .configuration_endpoint()
        .or_else(|| group.node_groups().first().and_then(|n| n.primary_endpoint()))
        .map(|e| format!("{}:{}", e.address().unwrap_or("?"), e.port().unwrap_or(0)));
    Ok(format!(
        "cache {name} (replication group): {} at {}",
        group.status().unwrap_or("unknown"),
        endpoint.unwrap_or_else(|| "no endpoint yet".to_owned())
    ))
}
