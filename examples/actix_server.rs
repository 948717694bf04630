//! The actix-web example server: the same routes and behaviour as `axum_server`. With
//! `TS_BASE_URL` (or `TS_REGION`) and the client credentials in the environment it talks to that
//! risk API only; without, it starts the emulator in-process and prints a ready-made session
//! token to try with curl.
//!
//! ```sh
//! cargo run --example actix_server
//! ```

use risk_demo_app::{backend::Backend, launch, serving};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _tracing = launch::init_tracing();
    let backend = Backend::from_env().await?;
    let listener = std::net::TcpListener::bind(launch::listen_addr())?;
    let addr = listener.local_addr()?;
    launch::print_banner("actix-web", addr, &backend);
    // Head timeout, connection limit, and a client that leaves ends its request (see
    // `serving::actix_server`); actix-web handles Ctrl-C itself (graceful shutdown).
    serving::actix_server(backend.clone(), listener, None)?.await?;
    let _ = backend
        .risk
        .shutdown(std::time::Duration::from_secs(5))
        .await;
    Ok(())
}
