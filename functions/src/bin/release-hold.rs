//! The `release-hold` Lambda: [`functions::release_hold`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::release_hold::LAMBDA).await
}
