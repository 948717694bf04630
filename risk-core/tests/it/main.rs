//! risk-core's integration tests, one binary: `client_*` drive the `RiskClient` against
//! wiremock (and a raw TCP server), `flow_*` drive the decision flow with the `testing`
//! doubles and tokio's paused clock; `client_tracing`, `flow_tracing`, `flow_degraded_log`
//! and `flow_metrics` read what the code logs and measures, each for its own thread.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod capture;
mod client_config;
mod client_decode;
mod client_endpoints;
mod client_env;
mod client_resilience;
mod client_support;
mod client_token;
mod client_tracing;
mod flow_breaker;
mod flow_degraded_log;
mod flow_entity;
mod flow_facts;
mod flow_guard;
#[cfg(feature = "metrics")]
mod flow_metrics;
mod flow_policy;
mod flow_quota;
mod flow_reporter;
mod flow_support;
mod flow_tracing;
mod props;
