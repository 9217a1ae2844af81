//! # dev-server
//!
//! Serves the routes of every function from one process, so the whole API
//! runs locally with no dependencies. The routes are the functions' own
//! routers merged, wrapped by the same composition root as each Lambda:
//! what you exercise here is what runs in AWS.
//!
//! ## The list of functions
//!
//! A function is a crate under `functions/`. Everything that needs the list
//! derives it from those folders (`scripts/bench`, the cold-start harness in
//! tools/lambda-bench, tools/template-check, the workspace's `members` glob),
//! except what must name the crates in code: this crate depends on each one
//! and calls its `routes()`. So it names them once, in [`FUNCTIONS`], and a
//! unit test fails when a folder under `functions/` is missing from it (or
//! it names one that is gone); the compiler then asks for the dependency in
//! this crate's Cargo.toml and the workspace's `[workspace.dependencies]`.

pub mod monitoring;

use axum::Router;
use http_interface::AppState;

/// The address used when `DEV_SERVER_ADDR` is not set.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// One function crate, as the dev server serves it.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// The crate's name as Rust spells it: its folder under `functions/`
    /// (and package name) with `_` for `-`.
    pub crate_name: &'static str,
    /// Every (method, path) it answers: the crate's `ROUTES`.
    pub routes: &'static [(&'static str, &'static str)],
    /// Its router: the crate's `routes()`.
    pub router: fn() -> Router<AppState>,
}

/// Names each function crate once, by its router (`crate::routes`, a path
/// cargo-shear sees as a use of the dependency); the name, routes and router
/// all come from that one identifier.
macro_rules! functions {
    ($($krate:ident::routes),+ $(,)?) => {
        /// Every function crate (one per folder under `functions/`; a unit
        /// test holds the two together).
        pub const FUNCTIONS: &[Function] = &[$(Function {
            crate_name: stringify!($krate),
            routes: $krate::ROUTES,
            router: $krate::routes,
        }),+];
    };
}

functions![
    manage_event::routes,
    place_hold::routes,
    verify_hold::routes,
    release_hold::routes,
    extend_hold::routes,
    create_order::routes,
    get_order::routes,
    cancel_order::routes,
];

/// Every (method, path) the dev server answers: each function's own
/// `ROUTES` plus `/health` and `/ready`.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    FUNCTIONS
        .iter()
        .flat_map(|function| function.routes)
        .chain(http_interface::SERVICE_ROUTES)
        .copied()
        .collect()
}

/// Every function's routes, merged.
pub fn all_routes() -> Router<AppState> {
    FUNCTIONS
        .iter()
        .fold(Router::new(), |router, function| router.merge((function.router)()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::FUNCTIONS;

    /// The crates under `functions/`, by package name (their folder names).
    fn function_folders() -> BTreeSet<String> {
        let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions");
        std::fs::read_dir(&functions)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.join("Cargo.toml").is_file())
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_dev_server_serves_exactly_the_crates_under_functions() {
        let served: BTreeSet<String> = FUNCTIONS
            .iter()
            .map(|function| function.crate_name.replace('_', "-"))
            .collect();
        assert_eq!(served.len(), FUNCTIONS.len(), "a function listed twice");
        let folders = function_folders();
        assert!(folders.len() >= 8, "functions/ not found: {folders:?}");
        assert_eq!(
            served, folders,
            "dev_server::FUNCTIONS must list every crate under functions/ (and no other)"
        );
    }

    #[test]
    fn every_function_brings_routes() {
        for function in FUNCTIONS {
            assert!(!function.routes.is_empty(), "{} has no routes", function.crate_name);
        }
    }
}
