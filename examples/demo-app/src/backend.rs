//! The risk side of the example servers, shared by the axum and actix-web apps: the client,
//! the result reporter, the circuit breaker and one guard per protected route.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use risk_core::{
    ActionToken, ActionType, ClaimedUser, ClaimedUserIdType, ConfigError, DefaultPolicy,
    ErrorBehavior, GrpcResponder, Guard, HeaderLookup, Reporter, Risk, RiskClient,
    RiskClientBuilder, ScoreThresholds,
};
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle, DEV_CLIENT_ID, DEV_CLIENT_SECRET};
use risk_redis::{RedisBudget, RedisReports, ReportDelivery};

use crate::demo;

/// The header the demo front end uses to say who is trying to log in, before the password is
/// checked. The guard turns it into an opaque claimed user id (never the username itself).
pub const CLAIMED_USER_HEADER: &str = "x-claimed-user";

/// Everything risk-related an example server needs.
#[derive(Clone)]
pub struct Backend {
    /// The risk handle: one client (one connection pool, one access token, the call budget),
    /// the reporter delivering action results in the background, and the circuit breaker,
    /// shared by every guard below.
    pub risk: Risk,
    /// `POST /login`: action `login`, the default policy, fail open.
    pub login_guard: Guard,
    /// `POST /transfer`: action `transaction`, a stricter score policy, fail closed.
    pub transfer_guard: Guard,
    /// `POST /login/step-up`: the challenged login's action token only, the `StepUp` policy,
    /// fail closed; no reporter (the handler reports, with the challenge type).
    pub step_up_guard: Guard,
    /// The gRPC `Payments/Transfer` call: action `transaction`, the transfer route's policy,
    /// fail closed, answers as gRPC statuses ([`risk_core::GrpcResponder`]).
    pub grpc_guard: Guard,
    /// The in-process emulator, when no `TS_BASE_URL`/`TS_REGION` was given.
    pub emulator: Option<Arc<EmulatorHandle>>,
    /// Challenges being stepped up.
    pub step_ups: StepUps,
    /// With `RISK_REDIS_URL`: the delivery of the fleet's report stream to the risk API.
    pub redis_delivery: Option<Arc<ReportDelivery>>,
    /// What the servers allow slow or hostile clients (timeouts, connections).
    pub limits: crate::serving::ServerLimits,
}

/// The challenges being stepped up, by action token: the challenged user and the attempts
/// left, or finished (its result is reported; the entry stays so that the token cannot start
/// over). Bounded: when full, the oldest entries are forgotten first (a forgotten token is
/// checked with the risk API again, which refuses it once its result was delivered).
#[derive(Clone, Default)]
pub struct StepUps(Arc<Mutex<StepUpTable>>);

#[derive(Default)]
struct StepUpTable {
    entries: HashMap<String, StepUp>,
    order: VecDeque<String>,
}

#[derive(Clone)]
enum StepUp {
    Active { user: String, attempts_left: u8 },
    Finished,
}

/// What a step-up attempt may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The token is unknown here: check it with the risk API, then [`StepUps::remember`].
    Unknown,
    /// Check the guess against this user; one attempt was taken.
    Check {
        /// The challenged user.
        user: String,
        /// Whether this was the last attempt.
        last: bool,
    },
    /// Finished or out of attempts: refuse.
    Closed,
}

impl StepUps {
    const CAPACITY: usize = 10_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, StepUpTable> {
        // A panic while holding this lock cannot leave the table inconsistent.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes one attempt at `token`'s step-up, before the guess is checked, so concurrent
    /// guesses cannot exceed the attempts.
    pub fn attempt(&self, token: &ActionToken) -> Attempt {
        let mut table = self.lock();
        match table.entries.get_mut(token.expose()) {
            None => Attempt::Unknown,
            Some(StepUp::Active {
                user,
                attempts_left,
            }) if *attempts_left > 0 => {
                *attempts_left -= 1;
                Attempt::Check {
                    user: user.clone(),
                    last: *attempts_left == 0,
                }
            }
            Some(_) => Attempt::Closed,
        }
    }

    /// Remembers a challenge the risk API confirmed, with `attempts` attempts; returns what
    /// [`attempt`](Self::attempt) now says (a concurrent request may have remembered it first).
    pub fn remember(&self, token: &ActionToken, user: &str, attempts: u8) -> Attempt {
        {
            let mut table = self.lock();
            if !table.entries.contains_key(token.expose()) {
                while table.entries.len() >= Self::CAPACITY {
                    let Some(oldest) = table.order.pop_front() else {
                        break;
                    };
                    table.entries.remove(&oldest);
                }
                table.order.push_back(token.expose().to_owned());
                table.entries.insert(
                    token.expose().to_owned(),
                    StepUp::Active {
                        user: user.to_owned(),
                        attempts_left: attempts,
                    },
                );
            }
        }
        self.attempt(token)
    }

    /// Finishes `token`'s step-up; `true` for the one request that did (only it reports).
    pub fn finish(&self, token: &ActionToken) -> bool {
        let mut table = self.lock();
        match table.entries.get_mut(token.expose()) {
            Some(entry @ StepUp::Active { .. }) => {
                *entry = StepUp::Finished;
                true
            }
            _ => false,
        }
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
    /// Invalid Redis settings (`RISK_REDIS_URL`).
    #[error(transparent)]
    Redis(#[from] risk_redis::SetupError),
}

impl Backend {
    /// Reads `TS_CLIENT_ID`, `TS_CLIENT_SECRET`, `RISK_REDIS_URL` and `TS_BASE_URL` or `TS_REGION` (with
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
            let redis = Redis::from_env()?;
            let mut builder = builder?;
            if let Some(redis) = &redis {
                builder = builder.budget(redis.budget.clone());
            }
            return Self::assemble(builder.build()?, None, redis);
        }
        let emulator = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .map_err(|e| BackendError::Emulator(e.to_string()))?;
        let redis = Redis::from_env()?;
        Self::with_emulator_and_redis(Arc::new(emulator), redis)
    }

    /// A backend talking to an emulator (started by the caller) with its development client.
    pub fn with_emulator(emulator: Arc<EmulatorHandle>) -> Result<Self, BackendError> {
        Self::with_emulator_and_redis(emulator, None)
    }

    /// [`with_emulator`](Self::with_emulator), with the call budget and the result reports on
    /// the Redis at `redis_url` (what `RISK_REDIS_URL` does).
    pub fn with_emulator_on_redis(
        emulator: Arc<EmulatorHandle>,
        redis_url: &str,
    ) -> Result<Self, BackendError> {
        let redis = Redis::connect(redis_url, risk_core::DEFAULT_QUOTA_PER_MINUTE)?;
        Self::with_emulator_and_redis(emulator, Some(redis))
    }

    fn with_emulator_and_redis(
        emulator: Arc<EmulatorHandle>,
        redis: Option<Redis>,
    ) -> Result<Self, BackendError> {
        let mut builder = RiskClient::builder()
            .client_id(DEV_CLIENT_ID)
            .client_secret(DEV_CLIENT_SECRET)
            .base_url(emulator.base_url())
            .timeout(Duration::from_secs(2));
        if let Some(redis) = &redis {
            builder = builder.budget(redis.budget.clone());
        }
        Self::assemble(builder.build()?, Some(emulator), redis)
    }

    /// A backend around an existing client.
    pub fn with_client(
        client: RiskClient,
        emulator: Option<Arc<EmulatorHandle>>,
    ) -> Result<Self, BackendError> {
        Self::assemble(client, emulator, None)
    }

    fn assemble(
        client: RiskClient,
        emulator: Option<Arc<EmulatorHandle>>,
        redis: Option<Redis>,
    ) -> Result<Self, BackendError> {
        // The Prometheus recorder, before the first decision (served on GET /metrics).
        let _ = crate::app::metrics();
        // With Redis, reports go through the fleet's stream (a small local buffer in front);
        // this instance also delivers the stream's reports.
        let (reporter, redis_delivery) = match &redis {
            Some(redis) => (
                redis.reports.local_reporter(),
                Some(Arc::new(
                    redis
                        .reports
                        .delivery(client.clone(), consumer_name())
                        .start(),
                )),
            ),
            None => (Reporter::builder(client.clone()).build(), None),
        };
        // One handle: the client, the reporter (on Redis with RISK_REDIS_URL) and one breaker.
        let risk = Risk::builder(client).reporter(reporter).build();
        let thresholds = ScoreThresholds::new(40.0, 70.0)?;
        let login_guard = risk.guard_with(ActionType::Login, |g| {
            g.route("POST /login")
                .policy(DefaultPolicy)
                .on_error(ErrorBehavior::FailOpen)
                .deadline(Duration::from_secs(3))
                .claimed_user(claimed_user)
        })?;
        // Money moves: challenge from a score of 40, deny from 70, and never proceed unassessed.
        let transfer_guard = risk.guard_with(ActionType::Transaction, |g| {
            g.route("POST /transfer")
                .policy(thresholds)
                .on_error(ErrorBehavior::FailClosed)
                .deadline(Duration::from_secs(3))
        })?;
        let grpc_guard = risk.guard_with(ActionType::Transaction, |g| {
            g.route("/demo.payments.v1.Payments/Transfer")
                .policy(thresholds)
                .on_error(ErrorBehavior::FailClosed)
                .deadline(Duration::from_secs(3))
                .responder(GrpcResponder)
        })?;
        // The step-up handler reports itself (with the challenge type): no reporter here.
        let step_up_guard = risk.guard_with(ActionType::Login, |g| {
            g.route("POST /login/step-up")
                .without_reporter()
                .session_tokens(false)
                .policy(risk_core::StepUp)
                .on_error(ErrorBehavior::FailClosed)
                .on_quota_exhausted(ErrorBehavior::FailClosed)
                .deadline(Duration::from_secs(3))
        })?;
        Ok(Self {
            risk,
            login_guard,
            transfer_guard,
            step_up_guard,
            grpc_guard,
            emulator,
            step_ups: StepUps::default(),
            redis_delivery,
            limits: crate::serving::ServerLimits::default(),
        })
    }

    /// The base URL of the risk API this backend talks to.
    pub fn base_url(&self) -> &str {
        self.risk.client().base_url()
    }
}

/// The fleet's Redis, from `RISK_REDIS_URL`: one call budget and one report stream.
struct Redis {
    budget: RedisBudget,
    reports: RedisReports,
}

impl Redis {
    /// `None` without `RISK_REDIS_URL`. The budget's quota is the client's
    /// (`TS_QUOTA_PER_MINUTE`, default 10,000 per minute).
    fn from_env() -> Result<Option<Self>, BackendError> {
        let Some(url) = std::env::var("RISK_REDIS_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        else {
            return Ok(None);
        };
        let per_minute = std::env::var("TS_QUOTA_PER_MINUTE")
            .ok()
            .and_then(|q| q.trim().parse().ok())
            .unwrap_or(risk_core::DEFAULT_QUOTA_PER_MINUTE);
        tracing::info!(
            "RISK_REDIS_URL set: the call budget and the result reports are shared on Redis"
        );
        Self::connect(url.trim(), per_minute).map(Some)
    }

    fn connect(url: &str, per_minute: u32) -> Result<Self, BackendError> {
        Ok(Self {
            budget: RedisBudget::builder(url).per_minute(per_minute).build()?,
            reports: RedisReports::builder(url).build()?,
        })
    }
}

/// This instance's name in the report stream's consumer group.
fn consumer_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "instance".to_owned());
    format!("{host}-{}", std::process::id())
}

/// The claimed user of a login: the `x-claimed-user` header, turned into an opaque id.
fn claimed_user(headers: &dyn HeaderLookup) -> Option<ClaimedUser> {
    let username = headers.get(CLAIMED_USER_HEADER)?.trim();
    if username.is_empty() || username.len() > 128 {
        return None;
    }
    Some(ClaimedUser::new(demo::claimed_user_id(username)).with_type(ClaimedUserIdType::AccountId))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_up_has_its_attempts_and_finishes_once() {
        let table = StepUps::default();
        let token = ActionToken::new("at_0123");
        assert_eq!(table.attempt(&token), Attempt::Unknown);
        let first = table.remember(&token, "usr_1", 2);
        assert_eq!(
            first,
            Attempt::Check {
                user: "usr_1".into(),
                last: false
            }
        );
        // A concurrent first attempt remembering another user gets the stored one.
        assert_eq!(
            table.remember(&token, "usr_2", 2),
            Attempt::Check {
                user: "usr_1".into(),
                last: true
            }
        );
        assert_eq!(table.attempt(&token), Attempt::Closed, "out of attempts");
        assert!(table.finish(&token));
        assert!(!table.finish(&token), "finished once");
        assert_eq!(table.attempt(&token), Attempt::Closed, "cannot start over");
    }

    #[test]
    fn the_table_forgets_the_oldest_first() {
        let table = StepUps::default();
        for i in 0..StepUps::CAPACITY + 1 {
            let _ = table.remember(&ActionToken::new(format!("at_{i}")), "u", 3);
        }
        assert_eq!(table.attempt(&ActionToken::new("at_0")), Attempt::Unknown);
        assert!(matches!(
            table.attempt(&ActionToken::new(format!("at_{}", StepUps::CAPACITY))),
            Attempt::Check { .. }
        ));
    }
}
