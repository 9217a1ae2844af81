//! `cargo run -p dev-server`: the whole API on `DEV_SERVER_ADDR`
//! (default 127.0.0.1:3000), `AUTH_MODE=dev`, in-memory backend; plus
//! `/metrics` and `/dashboard` ([`dev_server::monitoring`]).
//!
//! Stdout carries only JSON log lines. When it listens, it logs
//! `{"event":"server.listening","url":"http://127.0.0.1:PORT",…}` (target
//! `lifecycle`, shown at every `LOG_LEVEL`): what tests and scripts wait for.

use std::process::ExitCode;

use composition::{Config, Defaults};
use http_interface::ServiceName;

const SERVICE: ServiceName = ServiceName("dev-server");

#[tokio::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dev-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env(Defaults::DEV_SERVER)?;
    composition::init_local_telemetry(SERVICE, &config);
    let addr = std::env::var("DEV_SERVER_ADDR").unwrap_or_else(|_| dev_server::DEFAULT_ADDR.to_owned());
    let mut app = composition::build_app(SERVICE, functions::all_routes(), &config).await?;
    if let Some(metrics) = composition::telemetry::init_prometheus() {
        app = app.merge(dev_server::monitoring::routes(metrics));
    }
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|error| format!("DEV_SERVER_ADDR={addr}: cannot listen: {error}"))?;
    // Tests and scripts read this event to learn the port when given port 0;
    // stdout carries only JSON log lines, and this one passes any LOG_LEVEL.
    let url = format!("http://{}", listener.local_addr()?);
    tracing::info!(
        target: composition::telemetry::LIFECYCLE,
        event = "server.listening",
        url = %url,
        "dev-server listening"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_requested())
        .await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM from `docker stop` / `kill`: finish in-flight requests, then exit 0.
async fn shutdown_requested() {
    #[cfg(unix)]
    {
        if let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
