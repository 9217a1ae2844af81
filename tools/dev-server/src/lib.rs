//! # dev-server
//!
//! Serves the routes of every function from one process, so the whole API
//! runs locally with no dependencies. The routes are the functions' own
//! routers merged, wrapped by the same composition root as each Lambda:
//! what you exercise here is what runs in AWS.

pub mod monitoring;

use axum::Router;
use http_interface::AppState;

/// The address used when `DEV_SERVER_ADDR` is not set.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// Every (method, path) the dev server answers: each function's own
/// `ROUTES` plus `/health` and `/ready`.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    [
        manage_event::ROUTES,
        place_hold::ROUTES,
        verify_hold::ROUTES,
        release_hold::ROUTES,
        extend_hold::ROUTES,
        create_order::ROUTES,
        get_order::ROUTES,
        cancel_order::ROUTES,
        http_interface::SERVICE_ROUTES,
    ]
    .concat()
}

/// Every function's routes, merged.
pub fn all_routes() -> Router<AppState> {
    Router::new()
        .merge(manage_event::routes())
        .merge(place_hold::routes())
        .merge(verify_hold::routes())
        .merge(release_hold::routes())
        .merge(extend_hold::routes())
        .merge(create_order::routes())
        .merge(get_order::routes())
        .merge(cancel_order::routes())
}
