//! The axum example server. With `TS_BASE_URL` (or `TS_REGION`) and the client credentials in
//! the environment it talks to that risk API only; without, it starts the emulator in-process
//! and prints a ready-made session token to try with curl.
//!
//! ```sh
//! cargo run --example axum_server                 # emulator in-process
//! TS_BASE_URL=http://127.0.0.1:8787 TS_CLIENT_ID=dev-client TS_CLIENT_SECRET=dev-secret \
//!     cargo run --example axum_server              # a running `cargo run -p risk-emulator`
//! ```

use risk_demo_app::{axum_app, backend::Backend, launch, serving};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _tracing = launch::init_tracing();
    let backend = Backend::from_env().await?;
    let listener = tokio::net::TcpListener::bind(launch::listen_addr()).await?;
    let addr = listener.local_addr()?;
    launch::print_banner("axum", addr, &backend);
    // Head and body read timeouts, a body size limit and a connection limit (see `serving`).
    let app = axum_app::router(backend.clone());
    serving::serve_axum(listener, app, backend.limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    // Deliver the results still queued before exiting.
    let _ = backend
        .risk
        .shutdown(std::time::Duration::from_secs(5))
        .await;
    Ok(())
}
