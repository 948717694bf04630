//! Framework-free core of the risk middleware: a typed client for the Mosaic Fraud Prevention
//! (Detection and Response) risk API, its wire models, and the decision flow that the
//! framework adapters (`risk-tower` for axum/tower, `risk-actix` for actix-web) build on.
//!
//! - [`RiskClient`]: every endpoint of the API (trigger action, recommendation, action result,
//!   recommendation rules in both shapes, event streaming), with a shared access-token cache,
//!   one total deadline per call, safe retries and `tracing` spans. Build it with
//!   [`RiskClient::builder`] or [`RiskClient::from_env`] (`TS_CLIENT_ID`, `TS_CLIENT_SECRET`,
//!   `TS_BASE_URL` or `TS_REGION`).
//! - [`models`]: serde types for every request and response, tolerant of the `null`s, unknown
//!   fields, unknown enum values and string-numbers that real payloads carry.
//! - [`Error`]: one error type telling apart configuration, token, HTTP status, timeout,
//!   transport and decode failures.
//! - [`Recommender`] and [`ResultSink`]: the seams between the decision flow ([`Guard`]) and the
//!   API; [`RiskClient`] implements both, tests can substitute their own.
//!
//! # The whole flow
//! The backend receives the session token from the front end (the client SDK's
//! `getSessionToken()`), triggers the action, fetches the recommendation, acts on it, and
//! reports how the action ended:
//!
//! ```no_run
//! use std::time::Duration;
//! use risk_core::{
//!     ActionResult, ActionResultReport, ActionType, RecommendationType, Region, RetryPolicy,
//!     RiskClient, TriggerActionRequest,
//! };
//!
//! # async fn run() -> Result<(), risk_core::Error> {
//! let client = RiskClient::builder()
//!     .client_id("my-client-id")
//!     .client_secret("my-client-secret")
//!     .region(Region::Eu)
//!     .timeout(Duration::from_secs(2))
//!     .retry_policy(RetryPolicy::default().with_max_attempts(3))
//!     .build()?;
//!
//! // 1. Trigger the action for the browser session.
//! let request = TriggerActionRequest::new("session-token-from-the-front-end", ActionType::Login)
//!     .with_correlation_id("request-42");
//! let action_token = client.trigger_action(&request).await?.action_token;
//!
//! // 2. Ask what to do.
//! let recommendation = client.get_recommendation(&action_token).await?;
//! let proceed = match recommendation.recommendation_type() {
//!     RecommendationType::Trust | RecommendationType::Allow => true,
//!     RecommendationType::Challenge => false, // step up (OTP, passkey...) first
//!     _ => false,                             // DENY, or a type this version does not know
//! };
//!
//! // 3. Report how it ended (improves later recommendations).
//! let result = if proceed { ActionResult::Success } else { ActionResult::Failure };
//! client
//!     .report_action_result(&ActionResultReport::new(action_token, result).with_user_id("user-7"))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Which calls are retried, and when, is in the [retry table](RiskClient#retries); the
//! deadline and token handling are described on [`RiskClient`]. In a web backend the
//! framework adapters run these steps for you, per protected route, through the guard of
//! the [`Guard`].
//!
//! # Features
//! - `metrics` (default): metrics through the `metrics` facade, listed with their labels in
//!   the README ("Operating it"); install any recorder (Prometheus, StatsD...) to collect them.
//! - `testing`: the `testing` module, with test doubles of [`Recommender`] and [`ResultSink`]
//!   (`StaticRecommender`, `ScriptedRecommender`, `RecordingSink`, ...) for unit-testing
//!   handlers and policies without HTTP.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod budget;
mod client;
mod config;
mod error;
mod flow;
mod models;
mod recommender;
mod risk;
mod telemetry;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use budget::{
    Budget, CallPriority, LocalBudget, DEFAULT_QUOTA_PAUSE, DEFAULT_QUOTA_PER_MINUTE,
    MAX_QUOTA_PAUSE,
};
pub use client::*;
pub use config::*;
pub use error::{ConfigError, Error};
pub use flow::*;
pub use models::*;
pub use recommender::{Recommender, ResultSink};
pub use risk::{Risk, RiskBuilder};
