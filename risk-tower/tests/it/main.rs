//! risk-tower's integration tests, one binary: the layer with `oneshot`, gRPC answers, axum
//! routers and extractors, `ActionDetails`, and a real server against the in-process emulator.
#![expect(clippy::unwrap_used, reason = "tests")]

#[cfg(feature = "axum")]
mod axum;
mod details;
#[cfg(feature = "axum")]
mod emulator;
mod grpc;
mod layer;
