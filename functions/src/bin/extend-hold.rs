//! The `extend-hold` Lambda: [`functions::extend_hold`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::extend_hold::LAMBDA).await
}
