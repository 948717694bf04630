//! Redis for a fleet of instances of the risk middleware:
//!
//! - [`RedisBudget`]: one GCRA call budget for every instance of a tenant (a Lua script,
//!   atomic, on Redis's own clock), behind risk-core's [`Budget`](risk_core::Budget) trait.
//!   When Redis is unreachable, each instance falls back to a local share of the budget,
//!   logs it once, and goes back to Redis by itself.
//! - [`RedisReports`]: durable result reports. A [`PendingReport`](risk_core::PendingReport)
//!   completes into the instance's small in-memory [`Reporter`](risk_core::Reporter), whose
//!   sink appends to a Redis Stream in the background (never on the request path); a
//!   [`ReportDelivery`] of any instance reads the stream through a consumer group, delivers
//!   each report to the risk API with the in-memory reporter's [`DeliveryPolicy`], and
//!   acknowledges it once the API accepted it. Entries left pending by an instance that died
//!   are claimed (`XAUTOCLAIM`) by another after an idle time.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use risk_core::{ActionType, Guard, RiskClient};
//! use risk_redis::{RedisBudget, RedisReports};
//!
//! let url = "redis://127.0.0.1:6379";
//! let client = RiskClient::builder()
//!     .client_id("my-client-id")
//!     .client_secret("my-client-secret")
//!     .budget(RedisBudget::builder(url).per_minute(10_000).build()?)
//!     .build()?;
//! let reports = RedisReports::builder(url).build()?;
//! let reporter = reports.local_reporter();
//! let delivery = reports.delivery(client.clone(), "instance-1").start();
//! let guard = Guard::builder(ActionType::Login, client).reporter(reporter).build()?;
//! # drop((guard, delivery));
//! # Ok(()) }
//! ```
//!
//! Keys written (prefix `risk` by default, see the builders): `{prefix}:budget:full_at` and
//! `{prefix}:budget:paused_until` (two integers, each expiring once unused), and the stream
//! `{prefix}:reports` (at most `max_len` entries, about 300 bytes each) with its consumer
//! group `{prefix}-delivery`.
#![warn(missing_docs)]

mod budget;
mod connection;
mod reports;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use budget::{RedisBudget, RedisBudgetBuilder};
pub use reports::{
    DeliveryStats, RedisReports, RedisReportsBuilder, RedisStreamSink, ReportDelivery,
    ReportDeliveryBuilder, StopError,
};

/// The default prefix of every key.
pub const DEFAULT_KEY_PREFIX: &str = "risk";

/// A Redis connection could not be set up (the URL is invalid). Failures of a running
/// connection are not errors of this type: the budget falls back to its local share and the
/// reports wait in the local buffer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The Redis URL or connection settings are invalid.
    #[error("invalid Redis connection settings: {0}")]
    Redis(String),
    /// A budget setting is invalid.
    #[error(transparent)]
    Config(#[from] risk_core::ConfigError),
}
