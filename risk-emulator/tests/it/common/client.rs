//! Helpers of the `RiskClient`-against-emulator tests: an emulator with a manual clock,
//! clients of it with fast retries, and sessions as the browser SDK would create them.

use std::sync::Arc;
use std::time::Duration;

use risk_core::{ActionType, RetryPolicy, RiskClient, TriggerActionRequest};
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, ManualClock, Telemetry, DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
};

use super::{CHROME_MAC, T0};

/// An emulator with the default configuration and a manual clock standing at [`T0`].
pub(crate) async fn start() -> (EmulatorHandle, Arc<ManualClock>) {
    start_with(EmulatorConfig::default()).await
}

/// An emulator with `config` and a manual clock standing at [`T0`].
pub(crate) async fn start_with(config: EmulatorConfig) -> (EmulatorHandle, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let emu = Emulator::start_with_clock(config, "127.0.0.1:0", clock.clone())
        .await
        .expect("the emulator starts");
    (emu, clock)
}

/// Fast retries (no jitter, 10 ms backoff), the default `Retry-After` cap (5 s).
pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(20))
        .with_jitter(false)
}

/// A client of `emu` with the development credentials.
pub(crate) fn client(emu: &EmulatorHandle) -> RiskClient {
    client_with(emu, fast_retries(), Duration::from_secs(5))
}

/// A client of `emu` with the development credentials, `retry` and `timeout`.
pub(crate) fn client_with(
    emu: &EmulatorHandle,
    retry: RetryPolicy,
    timeout: Duration,
) -> RiskClient {
    RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .timeout(timeout)
        .retry_policy(retry)
        .build()
        .expect("valid client configuration")
}

/// A session of a clean desktop browser on `device_id` at `ip` (what the SDK would create).
pub(crate) fn session(emu: &EmulatorHandle, device_id: &str, ip: &str) -> String {
    emu.create_session(
        &Telemetry::new()
            .with_device_id(device_id)
            .with_ip(ip)
            .with_user_agent(CHROME_MAC),
    )
    .expect("session created")
}

/// A login in `session`.
pub(crate) fn login(session: &str) -> TriggerActionRequest {
    TriggerActionRequest::new(session, ActionType::Login)
}
