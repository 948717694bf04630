//! The emulator's integration tests, in one test binary (one link instead of one per file).
//!
//! - `api`, `rules`, `streaming_faults`: the emulator over HTTP (statuses, bodies, engine,
//!   rules, event streaming, faults, statistics), with a manual clock;
//! - `client_emulator`: `risk_core::RiskClient` against the emulator, every endpoint;
//! - `common`: the helpers they share.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first unexpected error"
)]

mod common;

mod api;
mod client_emulator;
mod rules;
mod streaming_faults;
