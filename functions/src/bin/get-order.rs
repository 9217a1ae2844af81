//! The `get-order` Lambda: [`functions::get_order`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::get_order::LAMBDA).await
}
