//! Lambda entry point of `cancel-order`: clients are built once at init, then every
//! invocation is served by the same router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    composition::run_lambda(http_interface::ServiceName("cancel-order"), cancel_order::routes()).await
}
