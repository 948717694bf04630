//! Fault injection and statistics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Names of the endpoints faults and statistics are kept for.
///
/// `token` (`/oidc/token`), `trigger_action`, `recommendation`, `result`, `rules` (both
/// rule APIs), `events` (event streaming). Statistics also count `emulator` (the
/// emulator-only endpoints) and `other` (unknown paths).
pub const FAULT_ENDPOINTS: &[&str] = &[
    "token",
    "trigger_action",
    "recommendation",
    "result",
    "rules",
    "events",
];

/// A fault to inject into one endpoint (`endpoint`), or every endpoint (`"*"`), as given
/// to `PUT /emulator/v1/faults` or [`EmulatorHandle::set_fault`](crate::EmulatorHandle::set_fault).
///
/// For each affected request, in order: wait `latency_ms`; then, if `close_connection`,
/// close the TCP connection without answering; else if `status`, answer that status with a
/// `{"message"}` body (and `Retry-After` when `retry_after_secs` is set; 429 and 503 get
/// `Retry-After: 1` by default); else handle the request normally. With `fail_next: N` the
/// fault affects the next N requests only and then disappears; without it, every request
/// until the faults are cleared. A specific endpoint's fault takes precedence over `"*"`;
/// setting a fault replaces the previous one of the same endpoint.
///
/// ```
/// use risk_emulator::FaultSpec;
/// let f = FaultSpec::new("recommendation").with_status(503).fail_next(2);
/// assert_eq!(serde_json::to_value(&f).unwrap()["fail_next"], 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultSpec {
    /// One of [`FAULT_ENDPOINTS`], or `*`.
    pub endpoint: String,
    /// Added latency before anything else, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The status to answer instead of handling the request (e.g. 500, 503, 429, 463).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` header value, in seconds, sent with `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Only the next N requests are affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_next: Option<u32>,
    /// Close the connection without any HTTP answer.
    #[serde(default)]
    pub close_connection: bool,
    /// The body sent with `status` instead of the error message, as is (e.g. a malformed
    /// `200`: `{"status": 200, "body": "{\"recommendation\": "}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl FaultSpec {
    /// A fault on `endpoint` that does nothing yet; chain the `with_*` methods.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            ..Self::default()
        }
    }

    /// Adds latency.
    #[must_use]
    pub fn with_latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = Some(ms);
        self
    }

    /// Answers this status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sends `Retry-After: secs` with the status. Without it, an injected 429 or 503 carries
    /// `Retry-After: 1` and other statuses none; `0` sends `Retry-After: 0` (retry at once).
    #[must_use]
    pub fn with_retry_after_secs(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Affects only the next `n` requests.
    #[must_use]
    pub fn fail_next(mut self, n: u32) -> Self {
        self.fail_next = Some(n);
        self
    }

    /// Closes connections without answering.
    #[must_use]
    pub fn close_connection(mut self) -> Self {
        self.close_connection = true;
        self
    }

    /// Sends `body` (as is, `application/json`) with the status, e.g. a malformed `200`.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.endpoint != "*" && !FAULT_ENDPOINTS.contains(&self.endpoint.as_str()) {
            return Err(format!(
                "unknown endpoint `{}`: expected `*` or one of {}",
                self.endpoint,
                FAULT_ENDPOINTS.join(", ")
            ));
        }
        if let Some(s) = self.status {
            if !(100..=999).contains(&s) {
                return Err(format!("status {s} is not an HTTP status"));
            }
        }
        if self.fail_next == Some(0) {
            return Err("fail_next must be at least 1 (omit it for a permanent fault)".to_owned());
        }
        Ok(())
    }
}

/// What to do to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FaultAction {
    pub(crate) latency_ms: u64,
    pub(crate) status: Option<u16>,
    pub(crate) retry_after_secs: Option<u64>,
    pub(crate) close_connection: bool,
    pub(crate) body: Option<String>,
}

/// The active faults.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    specs: Vec<(FaultSpec, Option<u32>)>,
}

impl Faults {
    pub(crate) fn set(&mut self, spec: FaultSpec) {
        self.specs.retain(|(s, _)| s.endpoint != spec.endpoint);
        let remaining = spec.fail_next;
        self.specs.push((spec, remaining));
    }

    pub(crate) fn clear(&mut self) {
        self.specs.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The fault for a request to `endpoint`, counting it against `fail_next`.
    pub(crate) fn take(&mut self, endpoint: &str) -> Option<FaultAction> {
        let idx = self
            .specs
            .iter()
            .position(|(s, _)| s.endpoint == endpoint)
            .or_else(|| self.specs.iter().position(|(s, _)| s.endpoint == "*"))?;
        let (spec, remaining) = &mut self.specs[idx];
        let action = FaultAction {
            latency_ms: spec.latency_ms.unwrap_or(0),
            status: spec.status,
            retry_after_secs: spec.retry_after_secs,
            close_connection: spec.close_connection,
            body: spec.body.clone(),
        };
        if let Some(n) = remaining {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.specs.remove(idx);
            }
        }
        Some(action)
    }
}

/// Counters of one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointStats {
    /// Requests received.
    pub requests: u64,
    /// Responses sent, by status.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests a fault applied to.
    pub faults_injected: u64,
    /// Connections closed without an answer by a fault.
    pub connections_closed: u64,
}

/// Counters of an emulator (`GET /emulator/v1/stats`, [`EmulatorHandle::stats`](crate::EmulatorHandle::stats)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// Per endpoint name (see [`FAULT_ENDPOINTS`], plus `emulator` and `other`).
    pub endpoints: BTreeMap<String, EndpointStats>,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// TCP connections accepted.
    pub connections_accepted: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
}

impl Stats {
    /// Requests received by `endpoint`.
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.endpoints.get(endpoint).map_or(0, |e| e.requests)
    }

    /// Responses with `status` sent by `endpoint`.
    pub fn responses(&self, endpoint: &str, status: u16) -> u64 {
        self.endpoints
            .get(endpoint)
            .and_then(|e| e.by_status.get(&status))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn fail_next_counts_down_and_specific_beats_wildcard() {
        let mut f = Faults::default();
        f.set(FaultSpec::new("*").with_status(500));
        f.set(FaultSpec::new("result").with_status(503).fail_next(2));
        assert_eq!(f.take("result").unwrap().status, Some(503));
        assert_eq!(f.take("result").unwrap().status, Some(503));
        assert_eq!(f.take("result").unwrap().status, Some(500));
        assert_eq!(f.take("token").unwrap().status, Some(500));
        f.clear();
        assert!(f.take("token").is_none());
        assert!(FaultSpec::new("nope").validate().is_err());
        assert!(FaultSpec::new("rules").fail_next(0).validate().is_err());
    }
}
