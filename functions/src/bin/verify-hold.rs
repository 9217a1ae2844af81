//! The `verify-hold` Lambda: [`functions::verify_hold`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::verify_hold::LAMBDA).await
}
