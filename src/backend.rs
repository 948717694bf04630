//! The risk side of the example servers, shared by the axum and actix-web apps: the client,
//! the result reporter, the circuit breaker and one guard per protected route.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use risk_core::{
    ActionToken, ActionType, BreakerConfig, CircuitBreaker, ClaimedUser, ClaimedUserIdType,
    ConfigError, DefaultPolicy, ErrorBehavior, Guard, HeaderLookup, Reporter, RiskClient,
    RiskClientBuilder, ScoreThresholds,
};
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle, DEV_CLIENT_ID, DEV_CLIENT_SECRET};

use crate::demo;

/// The header the demo front end uses to say who is trying to log in, before the password is
/// checked. The guard turns it into an opaque claimed user id (never the username itself).
pub const CLAIMED_USER_HEADER: &str = "x-claimed-user";

/// Everything risk-related an example server needs.
#[derive(Clone)]
pub struct Backend {
    /// The API client (shared by the guards and the reporter: one connection pool).
    pub client: RiskClient,
    /// Delivers action results in the background.
    pub reporter: Reporter,
    /// `POST /login`: action `login`, the default policy, fail open.
    pub login_guard: Guard,
    /// `POST /transfer`: action `transaction`, a stricter score policy, fail closed.
    pub transfer_guard: Guard,
    /// The circuit breaker shared by both guards.
    pub breaker: CircuitBreaker,
    /// The in-process emulator, when no `TS_BASE_URL`/`TS_REGION` was given.
    pub emulator: Option<Arc<EmulatorHandle>>,
    /// Challenges being stepped up.
    pub step_ups: StepUps,
}

/// The challenges a step-up is under way for: action token → challenged user and failed
/// attempts. Bounded: the oldest half is forgotten when full (a forgotten challenge is
/// verified again with the risk API on the next attempt).
#[derive(Clone, Default)]
pub struct StepUps(Arc<Mutex<HashMap<String, (String, u8)>>>);

impl StepUps {
    const CAPACITY: usize = 10_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, u8)>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The user a remembered challenge is for.
    pub fn challenged_user(&self, token: &ActionToken) -> Option<String> {
        self.lock()
            .get(token.expose())
            .map(|(user, _)| user.clone())
    }

    /// Remembers a verified challenge.
    pub fn remember(&self, token: &ActionToken, user: &str) {
        let mut map = self.lock();
        if map.len() >= Self::CAPACITY {
            let drop: Vec<String> = map.keys().take(Self::CAPACITY / 2).cloned().collect();
            for key in drop {
                map.remove(&key);
            }
            tracing::warn!(
                "step-up table full: forgot {} challenges",
                Self::CAPACITY / 2
            );
        }
        map.entry(token.expose().to_owned())
            .or_insert_with(|| (user.to_owned(), 0));
    }

    /// Counts a failed attempt; returns the attempts failed so far.
    pub fn failed_attempt(&self, token: &ActionToken) -> u8 {
        let mut map = self.lock();
        match map.get_mut(token.expose()) {
            Some((_, attempts)) => {
                *attempts = attempts.saturating_add(1);
                *attempts
            }
            None => u8::MAX,
        }
    }

    /// Forgets a challenge whose result is being reported; `false` when another request
    /// already did (so that a result is reported once).
    pub fn finish(&self, token: &ActionToken) -> bool {
        self.lock().remove(token.expose()).is_some()
    }
}

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// Invalid risk configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The in-process emulator did not start.
    #[error("cannot start the in-process emulator: {0}")]
    Emulator(String),
}

impl Backend {
    /// Reads `TS_CLIENT_ID`, `TS_CLIENT_SECRET` and `TS_BASE_URL` or `TS_REGION` (with
    /// `TS_BASE_URL` and no credentials, the emulator's development client). With neither
    /// `TS_BASE_URL` nor `TS_REGION`, starts the emulator in-process on 127.0.0.1 (any free
    /// port) and talks to it with its development client.
    pub async fn from_env() -> Result<Self, BackendError> {
        let base_url = std::env::var_os("TS_BASE_URL");
        if base_url.is_some() || std::env::var_os("TS_REGION").is_some() {
            let mut builder = RiskClientBuilder::from_env();
            // A base URL without credentials is an emulator started with `cargo run -p
            // risk-emulator`: use its development client. A region always needs real ones.
            if base_url.is_some()
                && std::env::var_os("TS_CLIENT_ID").is_none()
                && std::env::var_os("TS_CLIENT_SECRET").is_none()
            {
                tracing::warn!(
                    "TS_CLIENT_ID/TS_CLIENT_SECRET not set: using the emulator's development client"
                );
                builder = RiskClientBuilder::from_vars(|var| {
                    Ok(match var {
                        "TS_CLIENT_ID" => Some(DEV_CLIENT_ID.to_owned()),
                        "TS_CLIENT_SECRET" => Some(DEV_CLIENT_SECRET.to_owned()),
                        other => std::env::var(other).ok(),
                    })
                });
            }
            return Self::with_client(builder?.build()?, None);
        }
        let emulator = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .map_err(|e| BackendError::Emulator(e.to_string()))?;
        Self::with_emulator(Arc::new(emulator))
    }

    /// A backend talking to an emulator (started by the caller) with its development client.
    pub fn with_emulator(emulator: Arc<EmulatorHandle>) -> Result<Self, BackendError> {
        let client = RiskClient::builder()
            .client_id(DEV_CLIENT_ID)
            .client_secret(DEV_CLIENT_SECRET)
            .base_url(emulator.base_url())
            .timeout(Duration::from_secs(2))
            .build()?;
        Self::with_client(client, Some(emulator))
    }

    /// A backend around an existing client.
    pub fn with_client(
        client: RiskClient,
        emulator: Option<Arc<EmulatorHandle>>,
    ) -> Result<Self, BackendError> {
        let reporter = Reporter::builder(client.clone()).build();
        let breaker = CircuitBreaker::new(BreakerConfig::default());
        let login_guard = Guard::builder(ActionType::Login, client.clone())
            .policy(DefaultPolicy)
            .on_error(ErrorBehavior::FailOpen)
            .deadline(Duration::from_secs(3))
            .claimed_user(claimed_user)
            .circuit_breaker(breaker.clone())
            .reporter(reporter.clone())
            .build()?;
        // Money moves: challenge from a score of 40, deny from 70, and never proceed unassessed.
        let transfer_guard = Guard::builder(ActionType::Transaction, client.clone())
            .policy(ScoreThresholds::new(40.0, 70.0)?)
            .on_error(ErrorBehavior::FailClosed)
            .deadline(Duration::from_secs(3))
            .circuit_breaker(breaker.clone())
            .reporter(reporter.clone())
            .build()?;
        Ok(Self {
            client,
            reporter,
            login_guard,
            transfer_guard,
            breaker,
            emulator,
            step_ups: StepUps::default(),
        })
    }

    /// The base URL of the risk API this backend talks to.
    pub fn base_url(&self) -> &str {
        self.client.base_url()
    }
}

/// The claimed user of a login: the `x-claimed-user` header, turned into an opaque id.
fn claimed_user(headers: &dyn HeaderLookup) -> Option<ClaimedUser> {
    let username = headers.get(CLAIMED_USER_HEADER)?.trim();
    if username.is_empty() || username.len() > 128 {
        return None;
    }
    Some(ClaimedUser::new(demo::claimed_user_id(username)).with_type(ClaimedUserIdType::AccountId))
}
