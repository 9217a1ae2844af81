//! The `manage-event` Lambda: [`functions::manage_event`] on the real backends.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(&functions::manage_event::LAMBDA).await
}
