//! The example application shared by `examples/quickstart.rs`, the two example servers
//! (`examples/axum_server.rs`, `examples/actix_server.rs`) and the end-to-end tests
//! (`tests/e2e.rs`): the servers' axum and actix-web routers and handlers, the risk backend
//! (client, reporter, circuit breaker, one guard per route), the step-up state, start-up helpers
//! and the quickstart's scenario player.
//!
//! It lives in its own crate (not in `examples/*.rs`) so that the end-to-end tests drive exactly
//! the code the examples run. Not published: users depend on the crates they need, `risk-core`,
//! `risk-tower` (axum, tower) or `risk-actix` (actix-web), and `risk-emulator` for their own
//! integration tests.
#![warn(missing_docs)]

pub mod actix_app;
pub mod app;
pub mod axum_app;
pub mod backend;
pub mod demo;
pub mod grpc;
pub mod launch;
pub mod page;
pub mod scenarios;
pub mod serving;

/// The README's code blocks, compiled: "Add it to your app" for axum and actix-web (the other
/// blocks are fragments, marked `ignore`).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
