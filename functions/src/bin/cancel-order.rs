//! The `cancel-order` Lambda: [`functions::cancel_order`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::cancel_order::LAMBDA).await
}
