//! `docs/openapi.yaml` and the routes the dev server serves are the same set,
//! and every documented route is really answered.

use std::collections::BTreeSet;

use crate::support::TestApp;
use http::Method;

const SPEC: &str = include_str!("../../../../docs/openapi.yaml");
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// (METHOD, path) pairs under `paths:`. The spec keeps paths at two spaces of
/// indentation and operations at four, so a line scan is exact for it.
fn documented_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut in_paths = false;
    let mut path = String::new();
    for line in SPEC.lines() {
        if !line.starts_with(' ') {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = format!("/{}", p.trim_end().trim_end_matches(':'));
        } else if let Some(op) = line.strip_prefix("    ").and_then(|l| l.trim_end().strip_suffix(':'))
            && METHODS.contains(&op)
        {
            routes.insert((op.to_uppercase(), path.clone()));
        }
    }
    routes
}

fn served_routes() -> BTreeSet<(String, String)> {
    functions::route_table()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect()
}

#[test]
fn the_spec_documents_exactly_the_routes_the_dev_server_serves() {
    let documented = documented_routes();
    assert!(
        documented.contains(&("POST".to_owned(), "/orders".to_owned())),
        "{documented:?}"
    );
    assert_eq!(documented, served_routes());
}

#[tokio::test]
async fn every_documented_route_is_answered_and_other_methods_on_its_path_are_405() {
    let app = TestApp::new();
    for (method, path) in documented_routes() {
        let concrete = path
            .replace("{eventId}", "gig")
            .replace("{holdId}", "01890a5d-ac96-774b-bcce-b302099a8057")
            .replace("{orderId}", "01890a5d-ac96-774b-bcce-b302099a8057");
        let response = app
            .call(Method::from_bytes(method.as_bytes()).unwrap(), &concrete)
            .by("acme", "alice")
            .send()
            .await;
        assert_ne!(
            response.json["type"], "/problems/not-found",
            "{method} {path} is not served"
        );
        assert_ne!(response.status.as_u16(), 405, "{method} {path} is not served");
        for other in METHODS.iter().map(|m| m.to_uppercase()) {
            let documented = documented_routes().contains(&(other.clone(), path.clone()));
            if !documented {
                let response = app
                    .call(Method::from_bytes(other.as_bytes()).unwrap(), &concrete)
                    .by("acme", "alice")
                    .send()
                    .await;
                assert_eq!(
                    response.status.as_u16(),
                    405,
                    "{other} {path} is answered but not documented"
                );
            }
        }
    }
}
