//! # dev-server
//!
//! Serves the routes of every function from one process, so the whole API
//! runs locally with no dependencies: `functions::all_routes()` (the route
//! table, [`functions::LAMBDAS`]) wrapped by the same composition root as
//! each Lambda, so what you exercise here is what runs in AWS.

pub mod monitoring;

/// The address used when `DEV_SERVER_ADDR` is not set.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
