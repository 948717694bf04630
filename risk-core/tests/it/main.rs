//! risk-core's integration tests, one binary: `client_*` drive the `RiskClient` against
//! wiremock (and a raw TCP server), `flow_*` drive the decision flow with the `testing`
//! doubles and tokio's paused clock.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod client_config;
mod client_decode;
mod client_endpoints;
mod client_env;
mod client_resilience;
mod client_support;
mod client_token;
mod flow_breaker;
mod flow_facts;
mod flow_guard;
mod flow_policy;
mod flow_quota;
mod flow_reporter;
mod flow_support;
mod props;
