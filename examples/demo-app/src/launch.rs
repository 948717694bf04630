//! Start-up helpers shared by the example servers' `main`s.
#![expect(
    clippy::print_stdout,
    reason = "an example program talks to its user on stdout"
)]

use std::net::SocketAddr;

use risk_emulator::Telemetry;

use crate::backend::Backend;

/// The address to listen on: `RISK_LISTEN`, default `127.0.0.1:3000`.
pub fn listen_addr() -> String {
    std::env::var("RISK_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
}

/// `RUST_LOG`-driven logging, `info` by default.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}

/// Prints where the server listens, which risk API it uses, and (with the in-process
/// emulator) a ready-made session token and curl commands to try.
pub fn print_banner(framework: &str, addr: SocketAddr, backend: &Backend) {
    println!("{framework} example server on http://{addr}");
    println!("risk API: {}", backend.base_url());
    let Some(emulator) = &backend.emulator else {
        println!(
            "(create session tokens with the emulator: POST {}emulator/v1/sessions)",
            backend.base_url()
        );
        return;
    };
    let telemetry = Telemetry::new()
        .with_device_id("curl-device")
        .with_ip("198.51.100.7")
        .with_user_agent("curl");
    match emulator.create_session(&telemetry) {
        Ok(token) => {
            println!("in-process emulator; a ready-made session token: {token}");
            println!("try:");
            println!(
                "  curl -i -X POST http://{addr}/login -H 'content-type: application/json' \\"
            );
            println!("       -H 'x-risk-session-token: {token}' -d '{{\"username\":\"alice\",\"password\":\"wonderland\"}}'");
        }
        Err(e) => println!("(could not create a session on the emulator: {e})"),
    }
}
