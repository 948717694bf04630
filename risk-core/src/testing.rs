//! Test doubles for the decision flow (feature `testing`): recommenders that answer without
//! HTTP, and a result sink that records what it is given.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use risk_core::*;
//! use risk_core::testing::StaticRecommender;
//!
//! let fake = StaticRecommender::of_type(RecommendationType::Deny, 95.0);
//! let guard = Guard::builder(ActionType::Login, fake.clone()).build().unwrap();
//! let decision = guard.check(guard.facts(&[("x-risk-session-token", "s-1")], None, None)).await;
//! assert_eq!(decision.verdict_kind(), VerdictKind::Deny);
//! assert_eq!(fake.calls(), 2); // trigger-action + recommendation
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::error::Error;
use crate::models::{
    ActionResultReport, ActionToken, RecommendationResponse, RecommendationType, RiskAnswer,
    TriggerActionRequest,
};
use crate::recommender::{Recommender, ResultSink};

static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A fresh, process-unique action token (`test-action-<n>`).
pub fn unique_action_token() -> ActionToken {
    ActionToken::new(format!(
        "test-action-{}",
        NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)
    ))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug, Default)]
struct Calls {
    trigger: AtomicUsize,
    recommendation: AtomicUsize,
    triggers: Mutex<Vec<TriggerActionRequest>>,
}

type MakeError = Arc<dyn Fn() -> Error + Send + Sync>;

#[derive(Clone)]
enum Answer {
    Ok(RiskAnswer),
    Err(MakeError),
}

/// A recommender that always gives the same answer (after an optional delay) and counts
/// its calls. Clones share the counters: keep one, give a clone to the guard.
///
/// `trigger_action` always succeeds at once with a unique action token; the answer (and the
/// delay) apply to `recommendation`.
#[derive(Clone)]
pub struct StaticRecommender {
    answer: Answer,
    delay: Option<Duration>,
    calls: Arc<Calls>,
}

impl fmt::Debug for StaticRecommender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticRecommender")
            .field("ok", &matches!(self.answer, Answer::Ok(_)))
            .field("delay", &self.delay)
            .field("calls", &self.calls())
            .finish()
    }
}

impl StaticRecommender {
    /// Always answers `response`.
    pub fn new(response: RecommendationResponse) -> Self {
        Self {
            answer: Answer::Ok(response.into()),
            delay: None,
            calls: Arc::default(),
        }
    }

    /// Always answers a recommendation of type `t` with `score`.
    pub fn of_type(t: RecommendationType, score: f64) -> Self {
        Self::new(RecommendationResponse::new(t, score))
    }

    /// Always fails `recommendation` with the error `make` returns.
    pub fn failing(make: impl Fn() -> Error + Send + Sync + 'static) -> Self {
        Self {
            answer: Answer::Err(Arc::new(make)),
            delay: None,
            calls: Arc::default(),
        }
    }

    /// Waits `delay` (tokio's clock) before answering `recommendation`.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Says in the answer's `context.action_type` which action the token is for, as the real
    /// API does. Needed in action-token mode: the guard refuses a client's action token whose
    /// recommendation does not name the route's action.
    #[must_use]
    pub fn for_action(mut self, action_type: crate::models::ActionType) -> Self {
        if let Answer::Ok(answer) = &mut self.answer {
            let mut response = answer.clone().into_response();
            response.context.action_type = Some(action_type);
            *answer = response.into();
        }
        self
    }

    /// All calls so far (trigger-action and recommendation).
    pub fn calls(&self) -> usize {
        self.trigger_calls() + self.recommendation_calls()
    }

    /// Trigger-action calls so far.
    pub fn trigger_calls(&self) -> usize {
        self.calls.trigger.load(Ordering::SeqCst)
    }

    /// Recommendation calls so far.
    pub fn recommendation_calls(&self) -> usize {
        self.calls.recommendation.load(Ordering::SeqCst)
    }

    /// The trigger-action requests received, in order.
    pub fn trigger_requests(&self) -> Vec<TriggerActionRequest> {
        lock(&self.calls.triggers).clone()
    }
}

#[async_trait]
impl Recommender for StaticRecommender {
    async fn trigger_action(&self, request: &TriggerActionRequest) -> Result<ActionToken, Error> {
        self.calls.trigger.fetch_add(1, Ordering::SeqCst);
        lock(&self.calls.triggers).push(request.clone());
        Ok(unique_action_token())
    }

    async fn recommendation(&self, _action_token: &ActionToken) -> Result<RiskAnswer, Error> {
        self.calls.recommendation.fetch_add(1, Ordering::SeqCst);
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        match &self.answer {
            Answer::Ok(r) => Ok(r.clone()),
            Answer::Err(make) => Err(make()),
        }
    }
}

struct Step {
    delay: Option<Duration>,
    answer: Result<RecommendationResponse, Error>,
}

/// A recommender answering `recommendation` from a script, one step per call (then a
/// transport error once the script is exhausted). Counts calls; clones share the script.
/// `trigger_action` always succeeds at once with a unique action token.
///
/// ```
/// use risk_core::{Error, RecommendationResponse, RecommendationType};
/// use risk_core::testing::ScriptedRecommender;
/// let script = ScriptedRecommender::new()
///     .then_ok(RecommendationResponse::new(RecommendationType::Allow, 1.0))
///     .then_err(Error::Server { status: 503, message: "down".into() });
/// assert_eq!(script.remaining(), 2);
/// ```
#[derive(Clone, Default)]
pub struct ScriptedRecommender {
    steps: Arc<Mutex<VecDeque<Step>>>,
    calls: Arc<Calls>,
}

impl fmt::Debug for ScriptedRecommender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedRecommender")
            .field("remaining", &self.remaining())
            .field("calls", &self.calls())
            .finish()
    }
}

impl ScriptedRecommender {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a successful answer.
    #[must_use]
    pub fn then_ok(self, response: RecommendationResponse) -> Self {
        self.push(None, Ok(response));
        self
    }

    /// Appends a failure.
    #[must_use]
    pub fn then_err(self, error: Error) -> Self {
        self.push(None, Err(error));
        self
    }

    /// Appends an answer given after `delay` (tokio's clock).
    #[must_use]
    pub fn then_delayed(
        self,
        delay: Duration,
        answer: Result<RecommendationResponse, Error>,
    ) -> Self {
        self.push(Some(delay), answer);
        self
    }

    /// Appends a step (also usable through a shared clone).
    pub fn push(&self, delay: Option<Duration>, answer: Result<RecommendationResponse, Error>) {
        lock(&self.steps).push_back(Step { delay, answer });
    }

    /// Steps not yet used.
    pub fn remaining(&self) -> usize {
        lock(&self.steps).len()
    }

    /// All calls so far (trigger-action and recommendation).
    pub fn calls(&self) -> usize {
        self.trigger_calls() + self.recommendation_calls()
    }

    /// Trigger-action calls so far.
    pub fn trigger_calls(&self) -> usize {
        self.calls.trigger.load(Ordering::SeqCst)
    }

    /// Recommendation calls so far.
    pub fn recommendation_calls(&self) -> usize {
        self.calls.recommendation.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Recommender for ScriptedRecommender {
    async fn trigger_action(&self, request: &TriggerActionRequest) -> Result<ActionToken, Error> {
        self.calls.trigger.fetch_add(1, Ordering::SeqCst);
        lock(&self.calls.triggers).push(request.clone());
        Ok(unique_action_token())
    }

    async fn recommendation(&self, _action_token: &ActionToken) -> Result<RiskAnswer, Error> {
        self.calls.recommendation.fetch_add(1, Ordering::SeqCst);
        let step = lock(&self.steps).pop_front();
        match step {
            Some(step) => {
                if let Some(d) = step.delay {
                    tokio::time::sleep(d).await;
                }
                step.answer.map(RiskAnswer::from)
            }
            None => Err(Error::Transport {
                message: "ScriptedRecommender: script exhausted".to_owned(),
                maybe_sent: false,
            }),
        }
    }
}

struct SinkInner {
    reports: Mutex<Vec<ActionResultReport>>,
    attempts: AtomicU64,
    fail_remaining: AtomicU64,
    failing: AtomicBool,
    error: Mutex<MakeError>,
    notify: Notify,
}

/// A [`ResultSink`] that records the reports it accepts; it can be told to fail a number of
/// times or until switched back. Clones share the record.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use risk_core::{ActionResult, ActionResultReport, ActionToken, Reporter};
/// use risk_core::testing::RecordingSink;
/// let sink = RecordingSink::new();
/// sink.fail_next(2); // the reporter retries
/// let reporter = Reporter::builder(sink.clone()).backoff(Duration::from_millis(1), Duration::from_millis(5)).build();
/// reporter.submit(ActionResultReport::new(ActionToken::new("at-1"), ActionResult::Success)).unwrap();
/// assert!(sink.wait_for(1, Duration::from_secs(5)).await);
/// assert_eq!(sink.attempts(), 3);
/// # }
/// ```
#[derive(Clone)]
pub struct RecordingSink {
    inner: Arc<SinkInner>,
}

impl Default for RecordingSink {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RecordingSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingSink")
            .field("reports", &self.len())
            .field("attempts", &self.attempts())
            .finish()
    }
}

impl RecordingSink {
    /// A sink that accepts everything. Failures are HTTP 503 (retryable) unless
    /// [`fail_with`](Self::fail_with) says otherwise.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(SinkInner {
                reports: Mutex::new(Vec::new()),
                attempts: AtomicU64::new(0),
                fail_remaining: AtomicU64::new(0),
                failing: AtomicBool::new(false),
                error: Mutex::new(Arc::new(|| Error::Server {
                    status: 503,
                    message: "RecordingSink told to fail".to_owned(),
                })),
                notify: Notify::new(),
            }),
        }
    }

    /// Fails the next `n` deliveries.
    pub fn fail_next(&self, n: u64) {
        self.inner.fail_remaining.store(n, Ordering::SeqCst);
    }

    /// Fails every delivery while `failing` is true.
    pub fn set_failing(&self, failing: bool) {
        self.inner.failing.store(failing, Ordering::SeqCst);
    }

    /// The error failures return.
    pub fn fail_with(&self, make: impl Fn() -> Error + Send + Sync + 'static) {
        *lock(&self.inner.error) = Arc::new(make);
    }

    /// The reports accepted, in order.
    pub fn reports(&self) -> Vec<ActionResultReport> {
        lock(&self.inner.reports).clone()
    }

    /// How many reports were accepted.
    pub fn len(&self) -> usize {
        lock(&self.inner.reports).len()
    }

    /// Whether none was accepted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Delivery attempts, failed ones included.
    pub fn attempts(&self) -> u64 {
        self.inner.attempts.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` reports were accepted, at most `within` (tokio's clock).
    /// Returns whether they were.
    pub async fn wait_for(&self, n: usize, within: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.inner.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.len() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(within, wait).await.is_ok()
    }
}

#[async_trait]
impl ResultSink for RecordingSink {
    async fn report(&self, report: &ActionResultReport) -> Result<(), Error> {
        self.inner.attempts.fetch_add(1, Ordering::SeqCst);
        let fail_once = self
            .inner
            .fail_remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail_once || self.inner.failing.load(Ordering::SeqCst) {
            let make = lock(&self.inner.error).clone();
            return Err(make());
        }
        lock(&self.inner.reports).push(report.clone());
        self.inner.notify.notify_waiters();
        Ok(())
    }
}

/// A [`ResultSink`] that accepts and forgets everything (benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopSink;

#[async_trait]
impl ResultSink for NoopSink {
    async fn report(&self, _report: &ActionResultReport) -> Result<(), Error> {
        Ok(())
    }
}
