//! # functions
//!
//! Every Lambda function of the API, as one package: a module per function
//! (its routes and handlers, thin: parse, call one use case, answer) and a
//! `src/bin/<name>.rs` per Lambda binary, so each function still deploys,
//! scales and fails on its own (`cargo lambda build --bin <name>`, SAM's
//! `BuildProperties: Binary`).
//!
//! ## The route table
//!
//! [`LAMBDAS`] is the one list of functions. The dev server serves
//! [`all_routes`]; the cold-start bench starts every binary it names;
//! `template.yaml`'s function blocks are generated from it (the test
//! `template_yaml_follows_the_route_table` regenerates and diffs). A unit
//! test holds it to the files under `src/bin/`, which cargo finds by itself.
//!
//! A binary is one line, [`lambda_main!`]. It serves only with the feature
//! `lambda` (on by default), which brings the composition root with the real
//! backends. The dev server takes this library without it, so its run
//! command does not compile the AWS SDK (ADR 17).

use axum::Router;
use http_interface::AppState;

pub mod cancel_order;
pub mod create_order;
pub mod extend_hold;
pub mod get_order;
pub mod manage_event;
pub mod place_hold;
pub mod release_hold;
pub mod verify_hold;

/// One Lambda function: what it is called, what it answers, how it is built.
#[derive(Debug, Clone, Copy)]
pub struct Lambda {
    /// Its binary (`src/bin/<name>.rs`), its service name in logs and
    /// metrics, and `${AWS::StackName}-<name>` in AWS.
    pub name: &'static str,
    /// Every (method, path) it answers, as documented in docs/openapi.yaml.
    pub routes: &'static [(&'static str, &'static str)],
    /// Routes every function serves that API Gateway sends to this one,
    /// without the JWT authorizer (`/health`, `/ready`: one function has them).
    pub public_routes: &'static [(&'static str, &'static str)],
    /// Its routes and handlers ([`Lambda::router`]).
    router: fn() -> Router<AppState>,
    /// Everything its own role may do to the table (least privilege per
    /// function), besides `DescribeTable` for readiness, which every one has.
    pub table_access: &'static [TableAccess],
}

/// One IAM statement of a function's role: which DynamoDB actions it may
/// take on which items, by partition key pattern (the item table in infra/dynamodb-store/src/lib.rs).
#[derive(Debug, Clone, Copy)]
pub struct TableAccess {
    /// The statement's id.
    pub sid: &'static str,
    /// Why, where the statement alone does not say (a comment in template.yaml).
    pub why: Option<&'static str>,
    /// Actions, without the `dynamodb:` prefix.
    pub actions: &'static [&'static str],
    /// `dynamodb:LeadingKeys` patterns the statement is limited to.
    pub keys: &'static [&'static str],
}

impl Lambda {
    /// Its routes and handlers, ready for the composition root.
    pub fn router(&self) -> Router<AppState> {
        (self.router)()
    }
}

/// Every function, in the order template.yaml lists them.
pub const LAMBDAS: &[Lambda] = &[
    place_hold::LAMBDA,
    verify_hold::LAMBDA,
    release_hold::LAMBDA,
    extend_hold::LAMBDA,
    create_order::LAMBDA,
    get_order::LAMBDA,
    cancel_order::LAMBDA,
    manage_event::LAMBDA,
];

/// Every (method, path) the API answers: each function's routes plus
/// `/health` and `/ready` (which every function serves).
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    LAMBDAS
        .iter()
        .flat_map(|lambda| lambda.routes)
        .chain(http_interface::SERVICE_ROUTES)
        .copied()
        .collect()
}

/// Every function's routes, merged: the whole API in one router.
pub fn all_routes() -> Router<AppState> {
    LAMBDAS
        .iter()
        .fold(Router::new(), |router, lambda| router.merge(lambda.router()))
}

/// A Lambda binary's whole `main`: configuration, logging and clients built
/// once at init, then every invocation served by `lambda`'s router.
#[cfg(feature = "lambda")]
pub async fn run(lambda: &Lambda) -> Result<(), lambda_http::Error> {
    composition::run_lambda(http_interface::ServiceName(lambda.name), lambda.router()).await
}

/// The whole of `src/bin/<name>.rs`: `functions::lambda_main!(<module>);`
/// serves that module's `LAMBDA`. Built without the feature `lambda`, the
/// binary only says how to build it properly, so cargo needs no
/// `[[bin]]` entry (`required-features`) per Lambda.
#[macro_export]
macro_rules! lambda_main {
    ($module:ident) => {
        #[cfg(feature = "lambda")]
        #[tokio::main]
        async fn main() -> Result<(), lambda_http::Error> {
            functions::run(&functions::$module::LAMBDA).await
        }

        #[cfg(not(feature = "lambda"))]
        fn main() {
            eprintln!(
                "a Lambda binary needs the feature `lambda` (on by default): cargo lambda build --bin {}",
                env!("CARGO_BIN_NAME")
            );
            std::process::exit(2);
        }
    };
}

#[cfg(test)]
mod template;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::LAMBDAS;

    fn package_file(relative: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
    }

    fn names() -> BTreeSet<String> {
        LAMBDAS.iter().map(|lambda| lambda.name.to_owned()).collect()
    }

    #[test]
    fn every_lambda_has_a_unique_name_and_routes() {
        assert_eq!(names().len(), LAMBDAS.len(), "a function listed twice");
        for lambda in LAMBDAS {
            assert!(!lambda.routes.is_empty(), "{} has no routes", lambda.name);
        }
    }

    #[test]
    fn every_lambda_has_its_binary_and_every_binary_runs_its_own_lambda() {
        let files: BTreeSet<String> = std::fs::read_dir(package_file("src/bin"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "rs"))
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            files,
            names(),
            "src/bin/<name>.rs must exist for exactly the names in LAMBDAS"
        );
        for name in &files {
            let source = std::fs::read_to_string(package_file(&format!("src/bin/{name}.rs"))).unwrap();
            let own = format!("functions::lambda_main!({});", name.replace('-', "_"));
            assert!(source.contains(&own), "src/bin/{name}.rs must call {own}");
        }
    }

    #[test]
    fn the_contracts_route_table_names_every_route_and_its_function() {
        let contract = std::fs::read_to_string(package_file("../docs/contract.md")).unwrap();
        let documented: BTreeSet<(String, String, String)> = contract
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let method = *cells.get(1)?;
                if !["GET", "PUT", "POST", "DELETE", "PATCH"].contains(&method) {
                    return None;
                }
                let path = cells.get(2)?.split('`').nth(1)?;
                let function = cells.get(3)?.trim_matches('`');
                Some((method.to_owned(), path.to_owned(), function.to_owned()))
            })
            .filter(|(_, _, function)| *function != "every function")
            .collect();
        let routed: BTreeSet<(String, String, String)> = LAMBDAS
            .iter()
            .flat_map(|lambda| {
                lambda
                    .routes
                    .iter()
                    .map(|(method, path)| ((*method).to_owned(), (*path).to_owned(), lambda.name.to_owned()))
            })
            .collect();
        assert_eq!(
            documented, routed,
            "docs/contract.md's route table must have a row (method, path, function) for each route in LAMBDAS"
        );
    }
}
