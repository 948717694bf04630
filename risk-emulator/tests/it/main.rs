//! The emulator's integration tests, in one test binary (one link instead of one per file).
//!
//! - `api`, `rules`, `streaming_faults`: the emulator over HTTP (statuses, bodies, engine,
//!   rules, event streaming, faults, statistics), with a manual clock;
//! - `client_*`: `risk_core::RiskClient` against the emulator, by endpoint family: access
//!   token, actions (trigger-action, recommendation, result), rules (both shapes), event
//!   streaming, faults and rate limit;
//! - `bounds`: request bodies and telemetry within their caps;
//! - `websdk`: the web SDK stand-in and its session endpoints (CORS, interaction, user);
//! - `common`: the helpers they share.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first unexpected error"
)]

mod common;

mod api;
mod bounds;
mod client_actions;
mod client_auth;
mod client_events;
mod client_faults;
mod client_quota;
mod client_rules;
mod client_secured;
mod rules;
mod streaming_faults;
mod websdk;
