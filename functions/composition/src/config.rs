//! Configuration, from environment variables only, validated at start.
//!
//! Every problem names the variable, so a bad deploy fails at init with a
//! message like `HOLD_TTL_SECONDS: must be a whole number from 60 to 1800`
//! instead of misbehaving later.

#[cfg(feature = "aws")]
use std::path::PathBuf;
use std::time::Duration;

use application::Settings;
#[cfg(feature = "aws")]
use application::degraded_seat_locks::DEFAULT_OPEN_FOR;
use domain::hold::{HoldPolicy, MAX_HOLD_LIFETIME, MAX_HOLD_TTL, MIN_HOLD_LIFETIME, MIN_HOLD_TTL};
use http_interface::identity::AuthMode;

use crate::MAX_SEATS_PER_HOLD_LIMIT;

/// A variable that is set but wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration variable {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Which adapters fill the storage ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// Everything in process memory (dev server default; no dependencies).
    Memory,
    /// Seat locks in Redis (ElastiCache), everything durable in DynamoDB.
    #[cfg(feature = "aws")]
    Aws(AwsBackend),
}

/// Where the real backends are.
#[cfg(feature = "aws")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsBackend {
    /// `REDIS_URL`: `redis://host:port`, or `rediss://` for TLS.
    pub redis_url: String,
    /// `REDIS_CLUSTER`: speak the cluster protocol (ElastiCache Serverless).
    pub redis_cluster: bool,
    /// `REDIS_TIMEOUT_MS`: upper bound on one Redis call, connecting included.
    pub redis_timeout: Duration,
    /// `REDIS_CA_FILE`: the PEM roots a `rediss://` connection trusts
    /// instead of Amazon's. The composition root reads it when it builds the
    /// Redis client, and names the variable if it cannot.
    pub redis_ca_file: Option<PathBuf>,
    pub table: String,
    /// An emulator endpoint (DynamoDB Local, LocalStack); `None` in AWS.
    pub endpoint: Option<String>,
    /// Upper bound on one DynamoDB operation, retry included
    /// (`DYNAMODB_TIMEOUT_MS`); each of its two attempts gets half.
    pub dynamodb_timeout: Duration,
    /// How long a failed Redis call keeps the circuit breaker open, so that
    /// calls skip Redis at once (`SEAT_LOCKS_BREAKER_OPEN_MS`, default 5 s).
    pub seat_locks_breaker_open: Duration,
    /// Emulators accept any credentials: when an endpoint is set and no
    /// credentials or region are configured, local placeholders are used.
    pub emulator_defaults: bool,
}

/// Defaults that differ between entry points.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub auth_mode: &'static str,
    pub backend: &'static str,
}

impl Defaults {
    /// Lambdas trust only the JWT authorizer and run on Redis + DynamoDB
    /// unless told otherwise.
    pub const LAMBDA: Defaults = Defaults {
        auth_mode: "jwt",
        backend: "aws",
    };
    /// The dev server takes identity from headers and keeps data in memory.
    pub const DEV_SERVER: Defaults = Defaults {
        auth_mode: "dev",
        backend: "memory",
    };
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub backend: Backend,
    pub auth: AuthMode,
    pub settings: Settings,
    pub log_level: String,
    /// CloudWatch namespace of the EMF metrics a Lambda writes (`METRICS_NAMESPACE`).
    pub metrics_namespace: String,
    pub readiness_timeout: Duration,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env(defaults: Defaults) -> Result<Self, ConfigError> {
        Self::from_lookup(defaults, |name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(defaults: Defaults, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let backend = match get("BACKEND").as_deref().unwrap_or(defaults.backend) {
            "memory" => Backend::Memory,
            #[cfg(feature = "aws")]
            "aws" => Backend::Aws(aws_backend(&get)?),
            #[cfg(not(feature = "aws"))]
            "aws" => {
                return Err(bad(
                    "BACKEND",
                    "\"aws\" needs a build with the real backends: cargo run -p dev-server --features aws \
                     (every Lambda function has them)",
                ));
            }
            other => return Err(bad("BACKEND", format!("must be \"memory\" or \"aws\", not {other:?}"))),
        };
        let tenant_claim = get("TENANT_CLAIM").unwrap_or_else(|| "tenant_id".to_owned());
        let auth = match get("AUTH_MODE").as_deref().unwrap_or(defaults.auth_mode) {
            "jwt" => AuthMode::Jwt { tenant_claim },
            "dev" => AuthMode::Dev,
            other => return Err(bad("AUTH_MODE", format!("must be \"jwt\" or \"dev\", not {other:?}"))),
        };
        let seconds = |name: &'static str, default: u64, min: u64, max: u64| -> Result<Duration, ConfigError> {
            match get(name) {
                None => Ok(Duration::from_secs(default)),
                Some(text) => text
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .map(Duration::from_secs)
                    .ok_or_else(|| {
                        bad(
                            name,
                            format!("must be a whole number from {min} to {max}, not {text:?}"),
                        )
                    }),
            }
        };
        let default_ttl = seconds("HOLD_TTL_SECONDS", 600, MIN_HOLD_TTL.as_secs(), MAX_HOLD_TTL.as_secs())?;
        let max_seats = match get("MAX_SEATS_PER_HOLD") {
            None => 10,
            Some(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                // The order commit of the largest hold must fit one transaction.
                .filter(|n| (1..=MAX_SEATS_PER_HOLD_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(
                        "MAX_SEATS_PER_HOLD",
                        format!(
                            "must be a whole number from 1 to {MAX_SEATS_PER_HOLD_LIMIT} (one order commits in one \
                             transaction), not {text:?}"
                        ),
                    )
                })?,
        };
        let settings = Settings {
            hold_policy: HoldPolicy {
                max_seats,
                default_ttl,
                max_lifetime: seconds(
                    "HOLD_MAX_LIFETIME_SECONDS",
                    1800,
                    MIN_HOLD_LIFETIME.as_secs(),
                    MAX_HOLD_LIFETIME.as_secs(),
                )?,
            },
            idempotency_ttl: seconds("IDEMPOTENCY_TTL_SECONDS", 86_400, 60, 30 * 86_400)?,
            idempotency_lease: seconds("IDEMPOTENCY_LEASE_SECONDS", 30, 1, 900)?,
        };
        let log_level = get("LOG_LEVEL").unwrap_or_else(|| "info".to_owned());
        if !["trace", "debug", "info", "warn", "error"].contains(&log_level.as_str()) {
            return Err(bad(
                "LOG_LEVEL",
                format!("must be trace, debug, info, warn or error, not {log_level:?}"),
            ));
        }
        let metrics_namespace = get("METRICS_NAMESPACE").unwrap_or_else(|| "SeatHolds".to_owned());
        if metrics_namespace.len() > 255 || metrics_namespace.contains(':') {
            return Err(bad(
                "METRICS_NAMESPACE",
                "must be at most 255 characters without ':' (a CloudWatch namespace)",
            ));
        }
        Ok(Self {
            backend,
            auth,
            settings,
            log_level,
            metrics_namespace,
            readiness_timeout: Duration::from_millis(500),
        })
    }
}

#[cfg(feature = "aws")]
fn aws_backend(get: &impl Fn(&str) -> Option<String>) -> Result<AwsBackend, ConfigError> {
    let url = get("REDIS_URL").ok_or_else(|| bad("REDIS_URL", "is required when BACKEND=aws"))?;
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err(bad("REDIS_URL", "must start with redis:// or rediss:// (TLS)"));
    }
    let cluster = match get("REDIS_CLUSTER").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(bad("REDIS_CLUSTER", format!("must be true or false, not {other:?}"))),
    };
    let millis = |name: &'static str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
        match get(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    bad(
                        name,
                        format!("must be a whole number from {min} to {max}, not {text:?}"),
                    )
                }),
        }
    };
    let timeout_ms = millis("REDIS_TIMEOUT_MS", 250, 10, 5_000)?;
    let dynamodb_timeout_ms = millis("DYNAMODB_TIMEOUT_MS", 2_000, 100, 30_000)?;
    let breaker_open_ms = millis(
        "SEAT_LOCKS_BREAKER_OPEN_MS",
        u64::try_from(DEFAULT_OPEN_FOR.as_millis()).unwrap_or(u64::MAX),
        100,
        60_000,
    )?;
    let table = get("TABLE_NAME").ok_or_else(|| bad("TABLE_NAME", "is required when BACKEND=aws"))?;
    if !(3..=255).contains(&table.len())
        || !table
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(bad(
            "TABLE_NAME",
            "must be 3-255 characters of letters, digits, '_', '-' or '.'",
        ));
    }
    let endpoint = get("AWS_ENDPOINT_URL");
    if let Some(endpoint) = &endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        return Err(bad("AWS_ENDPOINT_URL", "must be an http:// or https:// URL"));
    }
    let emulator_defaults = dynamodb_store::client::wants_emulator_defaults(get);
    Ok(AwsBackend {
        emulator_defaults,
        redis_url: url,
        redis_cluster: cluster,
        redis_timeout: Duration::from_millis(timeout_ms),
        redis_ca_file: get("REDIS_CA_FILE").map(PathBuf::from),
        table,
        endpoint,
        dynamodb_timeout: Duration::from_millis(dynamodb_timeout_ms),
        seat_locks_breaker_open: Duration::from_millis(breaker_open_ms),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(Defaults::LAMBDA, |name| map.get(name).cloned())
    }

    /// The AWS backend `vars` configure (they must configure one).
    #[cfg(feature = "aws")]
    fn aws_backend_of(vars: &[(&str, &str)]) -> AwsBackend {
        let Backend::Aws(aws) = config(vars).unwrap().backend else {
            panic!("expected the aws backend");
        };
        aws
    }

    #[test]
    fn with_nothing_set_a_lambda_uses_jwt_auth_and_the_documented_defaults() {
        let needs = if cfg!(feature = "aws") { "REDIS_URL" } else { "BACKEND" };
        assert_eq!(
            config(&[]).unwrap_err().variable,
            needs,
            "a Lambda needs its real backends"
        );
        let c = config(&[("BACKEND", "memory")]).unwrap();
        assert_eq!(
            c.auth,
            AuthMode::Jwt {
                tenant_claim: "tenant_id".to_owned()
            }
        );
        assert_eq!(c.settings, Settings::default());
    }

    #[test]
    fn each_bad_variable_is_named_in_the_error() {
        for (name, value) in [
            ("HOLD_TTL_SECONDS", "59"),
            ("HOLD_TTL_SECONDS", "ten"),
            ("HOLD_MAX_LIFETIME_SECONDS", "59"),
            ("HOLD_MAX_LIFETIME_SECONDS", "7201"),
            ("MAX_SEATS_PER_HOLD", "0"),
            ("MAX_SEATS_PER_HOLD", "49"),
            ("MAX_SEATS_PER_HOLD", "100"),
            ("IDEMPOTENCY_TTL_SECONDS", "-1"),
            ("AUTH_MODE", "none"),
            ("BACKEND", "sqlite"),
            ("LOG_LEVEL", "loud"),
        ] {
            assert_eq!(
                config(&[("BACKEND", "memory"), (name, value)]).unwrap_err().variable,
                name,
                "{name}={value}"
            );
        }
    }

    #[cfg(not(feature = "aws"))]
    #[test]
    fn a_build_without_the_real_backends_refuses_backend_aws_and_says_how_to_get_them() {
        let error = config(&[("BACKEND", "aws")]).unwrap_err();
        assert_eq!(error.variable, "BACKEND");
        assert!(error.message.contains("--features aws"), "{error}");
    }

    #[cfg(feature = "aws")]
    #[test]
    fn the_aws_backend_needs_a_redis_url_and_a_table_and_names_what_is_wrong() {
        assert_eq!(config(&[("BACKEND", "aws")]).unwrap_err().variable, "REDIS_URL");
        assert_eq!(
            config(&[("BACKEND", "aws"), ("REDIS_URL", "http://x")])
                .unwrap_err()
                .variable,
            "REDIS_URL"
        );
        assert_eq!(
            config(&[("BACKEND", "aws"), ("REDIS_URL", "redis://x")])
                .unwrap_err()
                .variable,
            "TABLE_NAME"
        );
        let base = [
            ("BACKEND", "aws"),
            ("REDIS_URL", "rediss://cache:6379"),
            ("TABLE_NAME", "tickets"),
        ];
        assert_eq!(
            config(&[base[0], base[1], base[2], ("REDIS_CLUSTER", "yes")])
                .unwrap_err()
                .variable,
            "REDIS_CLUSTER"
        );
        assert_eq!(
            config(&[base[0], base[1], base[2], ("AWS_ENDPOINT_URL", "localhost")])
                .unwrap_err()
                .variable,
            "AWS_ENDPOINT_URL"
        );
        let aws = aws_backend_of(&[base[0], base[1], base[2], ("REDIS_CLUSTER", "true")]);
        assert_eq!(
            (
                aws.redis_cluster,
                aws.table.as_str(),
                aws.redis_timeout,
                aws.dynamodb_timeout,
                aws.seat_locks_breaker_open
            ),
            (
                true,
                "tickets",
                Duration::from_millis(250),
                Duration::from_secs(2),
                Duration::from_secs(5)
            )
        );
        let aws = aws_backend_of(&[base[0], base[1], base[2], ("SEAT_LOCKS_BREAKER_OPEN_MS", "150")]);
        assert_eq!(aws.seat_locks_breaker_open, Duration::from_millis(150));
        for (name, value) in [
            ("REDIS_TIMEOUT_MS", "9"),
            ("REDIS_TIMEOUT_MS", "5001"),
            ("DYNAMODB_TIMEOUT_MS", "99"),
            ("DYNAMODB_TIMEOUT_MS", "30001"),
            ("DYNAMODB_TIMEOUT_MS", "2s"),
            ("SEAT_LOCKS_BREAKER_OPEN_MS", "99"),
            ("SEAT_LOCKS_BREAKER_OPEN_MS", "60001"),
        ] {
            assert_eq!(
                config(&[base[0], base[1], base[2], (name, value)])
                    .unwrap_err()
                    .variable,
                name,
                "{name}={value}"
            );
        }
        let aws = aws_backend_of(&[base[0], base[1], base[2], ("DYNAMODB_TIMEOUT_MS", "15000")]);
        assert_eq!(aws.dynamodb_timeout, Duration::from_secs(15));
    }

    #[test]
    fn the_tenant_claim_name_is_configurable() {
        let c = config(&[("BACKEND", "memory"), ("TENANT_CLAIM", "custom:tenant")]).unwrap();
        assert_eq!(
            c.auth,
            AuthMode::Jwt {
                tenant_claim: "custom:tenant".to_owned()
            }
        );
    }
}
