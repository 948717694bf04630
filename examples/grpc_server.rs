//! The gRPC example server: `demo.payments.v1.Payments/Transfer` (tonic) behind the same
//! `RiskLayer` as the HTTP routes. The token travels in the call's metadata; a denial is
//! `PERMISSION_DENIED`, a challenge `UNAUTHENTICATED` with the action token in the
//! `x-risk-action-token` metadata.
//!
//! ```sh
//! cargo run --example grpc_server      # emulator in-process, listens on 127.0.0.1:50051
//! ```
//!
//! Then, with the printed session token, any gRPC client, e.g. grpcurl with the proto in
//! `examples/demo-app/proto`:
//!
//! ```sh
//! grpcurl -plaintext -import-path examples/demo-app/proto -proto payments.proto \
//!     -H 'x-risk-session-token: st_...' -d '{"amount": 25, "currency": "EUR"}' \
//!     127.0.0.1:50051 demo.payments.v1.Payments/Transfer
//! ```
#![expect(clippy::print_stdout, reason = "an example program talks to its user")]

use risk_demo_app::{backend::Backend, grpc, launch};
use risk_emulator::Telemetry;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _tracing = launch::init_tracing();
    let backend = Backend::from_env().await?;
    let addr = std::env::var("RISK_GRPC_LISTEN").unwrap_or_else(|_| "127.0.0.1:50051".to_owned());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "gRPC example server on {}",
        grpc::url(listener.local_addr()?)
    );
    println!("risk API: {}", backend.base_url());
    if let Some(emulator) = &backend.emulator {
        let token = emulator.create_session(&Telemetry::new().with_device_id("grpc-device"))?;
        println!("in-process emulator; a ready-made session token: {token}");
    }
    grpc::serve(&backend, listener, async {
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
