//! How one result report is delivered: [`DeliveryPolicy`], the retries of the in-memory
//! [`Reporter`](crate::Reporter), public so that a durable queue (a Redis stream consumer, say)
//! delivers exactly the same way.

use std::time::Duration;

use crate::error::Error;
use crate::models::ActionResultReport;
use crate::recommender::ResultSink;

/// The shortest wait for the budget (a budget answering "now" in a loop does not spin).
const MIN_BUDGET_WAIT: Duration = Duration::from_millis(10);

/// Retries of one delivery: up to `max_attempts` attempts, each within `attempt_timeout`;
/// failures that may succeed later ([`Error::is_retryable`]) wait an exponential backoff with
/// jitter, or the server's `Retry-After` (capped at the backoff maximum); an empty call budget
/// ([`Error::QuotaExhausted`]) is waited out without counting an attempt.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use risk_core::{ActionResult, ActionResultReport, ActionToken, DeliveryPolicy};
/// use risk_core::testing::RecordingSink;
/// let sink = RecordingSink::new();
/// let report = ActionResultReport::new(ActionToken::new("at-1"), ActionResult::Success);
/// let delivered = DeliveryPolicy::default().deliver(&sink, &report, |_| {}).await;
/// assert!(delivered.result.is_ok());
/// assert_eq!(delivered.attempts, 1);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryPolicy {
    /// Attempts per report, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff, doubled each retry.
    pub backoff_base: Duration,
    /// The longest backoff (and the longest `Retry-After` waited).
    pub backoff_max: Duration,
    /// The longest one attempt may take before it counts as a (retryable) timeout.
    pub attempt_timeout: Duration,
}

impl Default for DeliveryPolicy {
    /// 10 attempts, backoff from 200 ms to 30 s, 30 s per attempt.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

/// What happened to one delivery.
#[derive(Debug)]
#[non_exhaustive]
pub struct Delivered {
    /// `Ok`: the sink took it; `Err`: given up (not retryable, or out of attempts).
    pub result: Result<(), Error>,
    /// Attempts made.
    pub attempts: u32,
}

/// Something worth counting during a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryEvent {
    /// An attempt failed and another follows.
    Retry,
    /// The call budget was empty: waiting for it (not an attempt).
    BudgetWait,
}

impl DeliveryPolicy {
    /// Sets the attempts (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff range (`max` at least `base`).
    #[must_use]
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max.max(base);
        self
    }

    /// Sets the time one attempt may take.
    #[must_use]
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The backoff before retry number `retry` (0 for the first): equal jitter, between half
    /// and all of the exponential delay.
    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.backoff_max);
        let half = exp / 2;
        let jitter = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(fastrand::u64(0..=jitter))
    }

    /// Delivers `report` to `sink`, retrying as described; `on` hears of each retry and
    /// budget wait as it happens. A report given up is logged at WARN.
    pub async fn deliver(
        &self,
        sink: &(impl ResultSink + ?Sized),
        report: &ActionResultReport,
        on: impl Fn(DeliveryEvent),
    ) -> Delivered {
        let mut attempt = 1;
        loop {
            let result = match tokio::time::timeout(self.attempt_timeout, sink.report(report)).await
            {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout {
                    after: self.attempt_timeout,
                }),
            };
            match result {
                Ok(()) => {
                    return Delivered {
                        result: Ok(()),
                        attempts: attempt,
                    }
                }
                // No budget left: not an attempt. Wait until it refills, however long
                // (assessments go first); the queue bound still limits what waits.
                Err(Error::QuotaExhausted { retry_after }) => {
                    on(DeliveryEvent::BudgetWait);
                    tokio::time::sleep(retry_after.max(MIN_BUDGET_WAIT)).await;
                }
                Err(e) if e.is_retryable() && attempt < self.max_attempts => {
                    on(DeliveryEvent::Retry);
                    // A server's Retry-After is honoured up to the backoff maximum.
                    let wait = e.retry_after().map_or_else(
                        || self.backoff(attempt - 1),
                        |after| after.min(self.backoff_max),
                    );
                    tracing::debug!(
                        action_token = %report.action_token.redacted(),
                        attempt, error = %e, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "result report failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::warn!(
                        action_token = %report.action_token.redacted(),
                        result = %report.result,
                        attempts = attempt,
                        error = %e,
                        "result report given up"
                    );
                    return Delivered {
                        result: Err(e),
                        attempts: attempt,
                    };
                }
            }
        }
    }
}
