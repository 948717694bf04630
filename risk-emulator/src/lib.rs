//! A local emulator of the Mosaic Fraud Prevention (Detection and Response) risk API.
//!
//! Same endpoints, statuses and bodies as the real service, with real client-credentials
//! authentication, in-memory state, a deterministic rules and scoring engine, event
//! streaming, fault injection and statistics. Start it inside a test, or run the
//! `risk-emulator` binary. The README lists every endpoint and the TOML configuration.
//!
//! ```no_run
//! # async fn demo() -> Result<(), risk_emulator::EmulatorError> {
//! use risk_emulator::{Emulator, EmulatorConfig, Telemetry, DEV_CLIENT_ID, DEV_CLIENT_SECRET};
//!
//! let emulator = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0").await?;
//! // What the browser SDK would do: a session from device telemetry.
//! let session = emulator.create_session(&Telemetry::new().with_ip("203.0.113.9"))?;
//! // Point the risk client at `emulator.base_url()` with DEV_CLIENT_ID / DEV_CLIENT_SECRET,
//! // and send `session` as the session token.
//! println!("{} {session} {DEV_CLIENT_ID} {DEV_CLIENT_SECRET}", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Engine
//! Signals (telemetry of the session, IP ranges of the configuration, history in sliding
//! windows, user/device links and trust) become reasons, reasons a score (0..=100), the
//! score a recommendation through [`Thresholds`]. Then rules, by ascending priority: the
//! first enabled production rule that matches sets the recommendation; a preview rule that
//! matches before it is reported as `preview_rule`. A successful result links the user to
//! the device; a successful result with a `challenge_type` after a CHALLENGE makes the
//! device trusted for the user (later: TRUST).
#![warn(missing_docs)]

mod clock;
mod config;
mod engine;
mod error;
mod events;
mod faults;
mod ids;
mod rules;
mod server;
mod state;
mod telemetry;
mod websdk;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use risk_core::{Rule, StoredRule, TriggerActionRequest};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ClientConfig, EmulatorConfig, Thresholds, DEV_CLIENT_ID, DEV_CLIENT_SECRET};
pub use error::EmulatorError;
pub use faults::{EndpointStats, FaultSpec, Stats, FAULT_ENDPOINTS};
pub use telemetry::{SdkTriggerAction, Telemetry, MAX_TELEMETRY_LANGUAGES, MAX_TELEMETRY_STRING};
pub use websdk::WEB_SDK_PATH;

use state::EmulatorState;

/// The address the binary listens on without `--listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Starts emulators.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Emulator;

impl Emulator {
    /// Starts an emulator on `addr` (use `"127.0.0.1:0"` for a free port) with the system
    /// clock. It runs on the current tokio runtime until [`EmulatorHandle::shutdown`] or
    /// until the handle is dropped.
    pub async fn start(
        config: EmulatorConfig,
        addr: impl ToSocketAddrs,
    ) -> Result<EmulatorHandle, EmulatorError> {
        Self::start_with_clock(config, addr, Arc::new(SystemClock)).await
    }

    /// Like [`Emulator::start`], with a given clock (e.g. a shared [`ManualClock`]).
    pub async fn start_with_clock(
        config: EmulatorConfig,
        addr: impl ToSocketAddrs,
        clock: Arc<dyn Clock>,
    ) -> Result<EmulatorHandle, EmulatorError> {
        let shared = Arc::new(EmulatorState::new(config, clock)?);
        let listener = TcpListener::bind(addr).await.map_err(EmulatorError::Bind)?;
        let local_addr = listener.local_addr().map_err(EmulatorError::Bind)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let router = server::router(shared.clone());
        let task = tokio::spawn(server::serve(listener, router, shared.clone(), shutdown_rx));
        tracing::info!(%local_addr, "risk emulator listening");
        Ok(EmulatorHandle {
            shared,
            local_addr,
            shutdown_tx,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server too (without waiting).
pub struct EmulatorHandle {
    shared: Arc<EmulatorState>,
    local_addr: SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// `http://IP:PORT`, without a trailing slash: the base URL for the risk client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// The clock it runs with.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.shared.clock.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish (at most 5 s) and waits
    /// for the server to stop.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The counters (as `GET /emulator/v1/stats`).
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Sets a fault (as `PUT /emulator/v1/faults`).
    pub fn set_fault(&self, fault: FaultSpec) -> Result<(), EmulatorError> {
        Ok(self.shared.set_fault(fault)?)
    }

    /// Clears every fault (as `DELETE /emulator/v1/faults`).
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Forgets sessions, actions, history, trust, events, faults and statistics and
    /// restores the configured rules (as `POST /emulator/v1/reset`). Access tokens stay
    /// valid; the TCP connection count is kept.
    pub fn reset(&self) -> Result<(), EmulatorError> {
        self.shared.reset()
    }

    /// A secured session token for the session `session_token`, bound to `action_type` (what
    /// the web SDK's `getSecureSessionToken(actionType)` gives; also answered by
    /// `POST /emulator/v1/sessions` when its body has an `action_type`). Trigger-action with it
    /// for another action type answers 403 "Action type mismatch".
    pub fn secured_session_token(&self, session_token: &str, action_type: &str) -> String {
        state::secured_session_token(session_token, action_type)
    }

    /// Creates a browser session from telemetry and returns its session token (as
    /// `POST /emulator/v1/sessions`). Without an `ip`, the session is at 127.0.0.1.
    pub fn create_session(&self, telemetry: &Telemetry) -> Result<String, EmulatorError> {
        Ok(self.shared.create_session(telemetry.clone(), None)?.0)
    }

    /// Like [`create_session`](Self::create_session), also returning the device id.
    pub fn create_session_with_device(
        &self,
        telemetry: &Telemetry,
    ) -> Result<(String, String), EmulatorError> {
        Ok(self.shared.create_session(telemetry.clone(), None)?)
    }

    /// Triggers an action from the "front end" and returns its action token (as
    /// `POST /emulator/v1/sdk/trigger-action`, `tsPlatform.drs.triggerActionEvent`).
    pub fn sdk_trigger_action(
        &self,
        session_token: &str,
        action_type: &str,
    ) -> Result<String, EmulatorError> {
        self.sdk_trigger_action_with(SdkTriggerAction::new(session_token, action_type))
    }

    /// [`sdk_trigger_action`](Self::sdk_trigger_action) with a correlation id or claimed user.
    pub fn sdk_trigger_action_with(
        &self,
        action: SdkTriggerAction,
    ) -> Result<String, EmulatorError> {
        Ok(self.shared.sdk_trigger(action)?)
    }

    /// Triggers an action as the back end would, for `client_id` (no HTTP, no auth).
    pub fn trigger_action(
        &self,
        request: TriggerActionRequest,
        client_id: &str,
    ) -> Result<String, EmulatorError> {
        let request_bytes = serde_json::to_vec(&request).map_or(0, |body| body.len());
        Ok(self
            .shared
            .trigger(
                request,
                request_bytes,
                Some(client_id),
                state::TriggerAnswer::TokenOnly,
            )?
            .action_token
            .expose()
            .to_owned())
    }

    /// The URL of the web SDK stand-in, for a page's `<script src>` (the vendor's path,
    /// `/platform-websdk/1.x/ts-platform-websdk.js`, under [`base_url`](Self::base_url)).
    ///
    /// The script has the SDK's surface (`tsPlatform.initialize`, `drs.getSessionToken`,
    /// `drs.getSecureSessionToken`, `drs.triggerActionEvent`, `drs.setAuthenticatedUser`,
    /// `drs.clearUser`) and sends what the page really did (user agent, timezone, languages,
    /// `navigator.webdriver`, typed or pasted input, pointer movement) to the emulator.
    pub fn web_sdk_url(&self) -> String {
        format!(
            "{}{}",
            self.base_url().trim_end_matches('/'),
            websdk::WEB_SDK_PATH
        )
    }

    /// The telemetry a browser session is scored on now (what its page reported so far), if
    /// the session is kept.
    pub fn session_telemetry(&self, session_token: &str) -> Option<Telemetry> {
        self.shared.session_telemetry(session_token)
    }

    /// The user set on a browser session (by a successful result with a `user_id`), if any.
    pub fn session_user(&self, session_token: &str) -> Option<String> {
        self.shared.session_user(session_token)
    }

    /// The result reported for an action, if any. The API keeps one per action (a repeat of
    /// the same result is accepted and changes nothing), so this is what a test compares
    /// with what it reported.
    pub fn action_result(&self, action_token: &str) -> Option<risk_core::ActionResult> {
        self.shared.action_result(action_token)
    }

    /// Adds a rule (as `POST /risk/v1/rules`).
    pub fn add_rule(&self, rule: Rule) -> Result<StoredRule, EmulatorError> {
        Ok(self.shared.create_rule(rule)?)
    }

    /// Every rule, by ascending priority.
    pub fn rules(&self) -> Vec<StoredRule> {
        self.shared.list_rules()
    }

    /// The `enrichment` a stream was created with (`PUT /activities/v1/activities/stream`),
    /// if the stream exists.
    pub fn stream_enrichment(
        &self,
        event_type: risk_core::EventType,
        stream_id: &str,
    ) -> Option<bool> {
        self.shared
            .with_events(|log| log.stream_enrichment(event_type, stream_id))
    }
}
