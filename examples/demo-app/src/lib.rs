//! Examples and cross-crate integration tests for the risk middleware crates.
//!
//! This package is not published. It exists so that `cargo run --example quickstart`
//! and the root `tests/` run from the workspace root. Users depend on the crates
//! they need: `risk-core`, `risk-tower` (axum, tower) or `risk-actix` (actix-web),
//! and `risk-emulator` for their own integration tests.
//!
//! The example servers' routers live here (not in `examples/`) so that the end-to-end tests
//! in `tests/` drive exactly the code the examples run.
#![warn(missing_docs)]

pub mod actix_app;
pub mod app;
pub mod axum_app;
pub mod backend;
pub mod demo;
pub mod launch;
pub mod scenarios;
