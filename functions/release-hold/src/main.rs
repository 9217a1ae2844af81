//! Lambda entry point of `release-hold`: clients are built once at init, then every
//! invocation is served by the same router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    composition::run_lambda(http_interface::ServiceName("release-hold"), release_hold::routes()).await
}
