//! The actix-web example server: the same routes and behaviour as `axum_server`. With
//! `TS_BASE_URL` (or `TS_REGION`) and the client credentials in the environment it talks to that
//! risk API only; without, it starts the emulator in-process and prints a ready-made session
//! token to try with curl.
//!
//! ```sh
//! cargo run --example actix_server
//! ```

use actix_web::{App, HttpServer};
use risk_demo_app::{actix_app, backend::Backend, launch};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _tracing = launch::init_tracing();
    let backend = Backend::from_env().await?;
    let listener = std::net::TcpListener::bind(launch::listen_addr())?;
    let addr = listener.local_addr()?;
    launch::print_banner("actix-web", addr, &backend);
    let app_backend = backend.clone();
    let limits = backend.limits;
    // actix-web handles Ctrl-C itself (graceful shutdown). The head must arrive within the
    // header timeout (408 after); the body within the body timeout (the app's middleware).
    HttpServer::new(move || {
        let backend = app_backend.clone();
        App::new().configure(move |cfg| actix_app::configure(cfg, backend))
    })
    .client_request_timeout(limits.header_read_timeout)
    // A client that leaves ends its request (the check or handler is dropped and the action
    // reported incomplete), as hyper does by default, instead of running it to the end.
    .h1_allow_half_closed(false)
    .max_connections(limits.max_connections)
    .shutdown_timeout(limits.shutdown_timeout.as_secs())
    .listen(listener)?
    .run()
    .await?;
    let _ = backend
        .reporter
        .shutdown(std::time::Duration::from_secs(5))
        .await;
    Ok(())
}
