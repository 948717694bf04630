//! risk-actix's integration tests, one binary: the middleware with `init_service`,
//! `ActionDetails`, and a real server against the in-process emulator.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod details;
mod emulator;
mod middleware;
