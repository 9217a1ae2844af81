//! The `create-order` Lambda: [`functions::create_order`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::create_order::LAMBDA).await
}
