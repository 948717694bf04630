//! Metrics through the `metrics` facade (feature `metrics`, on by default): every name and
//! label in one place. Without a recorder installed, each call is a no-op lookup; without the
//! feature, nothing is compiled. The guard's decision metrics (`risk_decisions_total`,
//! `risk_assessment_duration_seconds`, `risk_limited_total`) are recorded by `flow::metrics`,
//! which knows the flow's types; this module knows none of the crate's types.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `risk_decisions_total` | counter | `action`, `verdict`, `recommendation`, `degraded` (`outage`, `quota`, `breaker`, `none`) |
//! | `risk_assessment_duration_seconds` | histogram | `action` |
//! | `risk_upstream_requests_total` | counter | `endpoint`, `status` (the HTTP status, or the error kind) |
//! | `risk_upstream_request_duration_seconds` | histogram | `endpoint` |
//! | `risk_breaker_state` | gauge (0 closed, 1 half-open, 2 open) | `breaker` |
//! | `risk_breaker_transitions_total` | counter | `to` |
//! | `risk_reports_total` | counter | `outcome` (`sent`, `retried`, `failed`, `dropped`) |
//! | `risk_report_queue_depth` | gauge | |
//! | `risk_quota_remaining` | gauge | |
//! | `risk_limited_total` | counter | `action` |
//! | `risk_token_refreshes_total` | counter | |
//! | `risk_rules_skipped_total` | counter | |

#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

/// One call to the risk API (all its attempts), answered `status` (or failed with that kind).
pub(crate) fn upstream(
    endpoint: &'static str,
    status: std::borrow::Cow<'static, str>,
    seconds: f64,
) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!(
            "risk_upstream_requests_total",
            "endpoint" => endpoint,
            "status" => status,
        )
        .increment(1);
        metrics::histogram!("risk_upstream_request_duration_seconds", "endpoint" => endpoint)
            .record(seconds);
    }
}

/// The breaker moved to `to` (0 closed, 1 half-open, 2 open).
pub(crate) fn breaker(to: &'static str, level: f64) {
    #[cfg(feature = "metrics")]
    {
        metrics::gauge!("risk_breaker_state", "breaker" => "risk_api").set(level);
        metrics::counter!("risk_breaker_transitions_total", "to" => to).increment(1);
    }
}

/// A result report `sent`, `retried`, `failed` or `dropped`.
pub(crate) fn report(outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("risk_reports_total", "outcome" => outcome).increment(1);
}

/// Reports waiting in the reporter's queue.
pub(crate) fn report_queue_depth(depth: usize) {
    #[cfg(feature = "metrics")]
    #[expect(clippy::cast_precision_loss, reason = "a queue length, far below 2^52")]
    metrics::gauge!("risk_report_queue_depth").set(depth as f64);
}

/// Calls the local budget could take at once.
pub(crate) fn quota_remaining(remaining: u64) {
    #[cfg(feature = "metrics")]
    #[expect(clippy::cast_precision_loss, reason = "a call count, far below 2^52")]
    metrics::gauge!("risk_quota_remaining").set(remaining as f64);
}

/// A field of a recommendation did not decode (set aside; `field` is bounded by the caller).
pub(crate) fn undecoded_field(field: String) {
    #[cfg(feature = "metrics")]
    metrics::counter!("risk_answer_fields_undecoded_total", "field" => field).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = field;
}

/// A new access token was fetched.
pub(crate) fn token_refresh() {
    #[cfg(feature = "metrics")]
    metrics::counter!("risk_token_refreshes_total").increment(1);
}

/// A listed rule that could not be read was skipped.
pub(crate) fn rule_skipped() {
    #[cfg(feature = "metrics")]
    metrics::counter!("risk_rules_skipped_total").increment(1);
}
