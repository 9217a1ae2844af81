//! The `place-hold` Lambda: [`functions::place_hold`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::place_hold::LAMBDA).await
}
