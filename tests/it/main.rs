//! Cross-crate tests, one binary: the one-line `Risk` handle from the environment (`adopt`),
//! headless Chromium on the demo pages (`browser`), the permanent fault suite (`faults`), both example servers
//! end to end (`e2e`), both adapters
//! through one table of cases (`parity`), the quota flood against both example servers
//! (`quota_attack`), slow and stalled clients against both (`slow_clients`), and the example's
//! step-up through its guard (`step_up`), gRPC through the same tower layer (`grpc`), secured
//! session tokens through both adapters (`secured`), and a recommendation in the vendor's current
//! shapes through both example servers (`vendor_shapes`).
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod adopt;
mod browser;
mod clear_user;
mod e2e;
mod evaluate;
mod faults;
mod fleet;
mod grpc;
mod parity;
mod quota_attack;
mod secured;
mod slow_clients;
mod step_up;
mod vendor_shapes;

/// An emulator with its default configuration, on loopback, and a client of it.
async fn emulator_with_client() -> (risk_emulator::EmulatorHandle, risk_core::RiskClient) {
    let emu =
        risk_emulator::Emulator::start(risk_emulator::EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .unwrap();
    let client = risk_core::RiskClient::builder()
        .client_id(risk_emulator::DEV_CLIENT_ID)
        .client_secret(risk_emulator::DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .build()
        .unwrap();
    (emu, client)
}
