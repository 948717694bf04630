//! Examples and cross-crate integration tests for the risk middleware crates.
//!
//! This package is not published. It exists so that `cargo run --example quickstart`
//! and the root `tests/` run from the workspace root. Users depend on the crates
//! they need: `risk-core`, `risk-tower` (axum, tower) or `risk-actix` (actix-web),
//! and `risk-emulator` for their own integration tests.
