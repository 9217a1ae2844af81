//! The baseline for cold start, size and memory: the smallest useful
//! `lambda_runtime` function, built with the same release profile as ours.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        |_: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| async {
            Ok::<_, lambda_http::Error>(serde_json::json!({ "statusCode": 200, "body": "hello" }))
        },
    ))
    .await
}
