//! The [`Guard`]: one per protected route.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::field::Empty;
use tracing::Instrument;

use super::assessment::{Assessment, AssessmentStatus, BadInput, Unavailable, UnavailableCause};
use super::breaker::{counts_as_failure, BreakerConfig, CircuitBreaker};
use super::error_behavior::ErrorBehavior;
use super::facts::{
    generate_correlation_id, valid_request_id, ClaimedUser, DynLookup, HeaderLookup, HeaderNames,
    IpResolver, RequestFacts, TokenInput, TokenProblem,
};
use super::policy::{DefaultPolicy, Policy};
use super::report::{PendingReport, ResultMapping, ShadowSlot};
use super::reporter::Reporter;
use super::respond::{DefaultResponder, Responder};
use super::verdict::{Decision, DenialReason, Verdict};
use crate::error::{ConfigError, Error};
use crate::models::{
    ActionResult, ActionResultReport, ActionToken, ActionType, CustomAttributes,
    TriggerActionRequest,
};
use crate::recommender::Recommender;

/// The default deadline of a check (both upstream calls together).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);

/// The longest `User-Agent` kept (longer ones are cut at a character boundary).
const MAX_USER_AGENT_LEN: usize = 1024;

type ClaimedUserFn = dyn Fn(&dyn HeaderLookup) -> Option<ClaimedUser> + Send + Sync;

struct GuardInner {
    action_type: ActionType,
    recommender: Box<dyn Recommender>,
    policy: Box<dyn Policy>,
    on_error: ErrorBehavior,
    deadline: Duration,
    headers: HeaderNames,
    ip: IpResolver,
    claimed_user: Option<Box<ClaimedUserFn>>,
    custom_attributes: Option<CustomAttributes>,
    breaker: Option<CircuitBreaker>,
    reporter: Option<Reporter>,
    mapping: ResultMapping,
    responder: Box<dyn Responder>,
    shadow: bool,
}

/// Protects one route: reads the request facts, asks the risk API (through a
/// [`Recommender`]) within a deadline, applies the policy or the error behaviour, and
/// prepares the response and the result report. Cheap to clone.
///
/// The flow of [`check`](Self::check):
/// 1. bad input (missing or unusable token) is decided at once: the recommender is not
///    called, the policy sees [`AssessmentStatus::BadInput`];
/// 2. with a session token, trigger-action then the recommendation; with an action token
///    (the front end already triggered the action), the recommendation only; both within
///    the deadline, and skipped while the circuit breaker is open;
/// 3. the policy decides on an assessment; the error behaviour on an unavailable API;
/// 4. challenge and deny get a response from the responder; a denial is reported as
///    `failure` right away (`incomplete` when it is a fail-closed 503); a proceed gets an
///    armed [`PendingReport`].
///
/// One `risk.guard` span per request records `action_type`, `correlation_id`,
/// `recommendation`, `risk_score`, `verdict`, `latency_ms` and `error_behavior`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use risk_core::*;
/// use risk_core::testing::StaticRecommender;
///
/// let recommender = StaticRecommender::new(RecommendationResponse::new(RecommendationType::Allow, 10.0));
/// let guard = Guard::builder(ActionType::Login, recommender)
///     .on_error(ErrorBehavior::FailClosed)
///     .trusted_proxies(["10.0.0.0/8"])
///     .build()
///     .unwrap();
///
/// let headers = [("x-risk-session-token", "sess-123"), ("x-forwarded-for", "203.0.113.9")];
/// let facts = guard.facts(&headers, Some("10.1.2.3".parse().unwrap()));
/// assert_eq!(facts.client_ip, Some("203.0.113.9".parse().unwrap()));
///
/// let decision = guard.check(facts).await;
/// assert!(decision.verdict.is_proceed());
/// assert_eq!(decision.assessment.recommendation_type(), Some(&RecommendationType::Allow));
/// decision.report.complete(200, None);
/// # }
/// ```
#[derive(Clone)]
pub struct Guard {
    inner: Arc<GuardInner>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("action_type", &self.inner.action_type)
            .field("on_error", &self.inner.on_error)
            .field("deadline", &self.inner.deadline)
            .field("monitor_only", &self.inner.policy.is_monitor_only())
            .field("shadow", &self.inner.shadow)
            .field("reporter", &self.inner.reporter.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Guard`]. See [`Guard::builder`].
#[must_use]
pub struct GuardBuilder {
    action_type: ActionType,
    recommender: Box<dyn Recommender>,
    policy: Box<dyn Policy>,
    on_error: ErrorBehavior,
    deadline: Duration,
    headers: HeaderNames,
    trusted_proxies: Vec<String>,
    trust_headers_without_peer: bool,
    claimed_user: Option<Box<ClaimedUserFn>>,
    custom_attributes: Option<CustomAttributes>,
    breaker: Option<CircuitBreaker>,
    reporter: Option<Reporter>,
    mapping: ResultMapping,
    responder: Box<dyn Responder>,
    shadow: bool,
}

impl fmt::Debug for GuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardBuilder")
            .field("action_type", &self.action_type)
            .field("on_error", &self.on_error)
            .field("deadline", &self.deadline)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl GuardBuilder {
    /// The policy (default [`DefaultPolicy`]).
    pub fn policy(mut self, policy: impl Policy) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// What to do when the risk API is unavailable (default [`ErrorBehavior::FailOpen`]).
    pub fn on_error(mut self, behavior: ErrorBehavior) -> Self {
        self.on_error = behavior;
        self
    }

    /// The deadline of the upstream calls together (default 2 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The header names.
    pub fn headers(mut self, headers: HeaderNames) -> Self {
        self.headers = headers;
        self
    }

    /// The proxies whose forwarding headers are believed: CIDRs (`10.0.0.0/8`) or bare
    /// addresses. Checked in [`build`](Self::build). Replaces earlier calls.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.trusted_proxies = proxies.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// Whether forwarding headers are believed when the socket peer is unknown (default
    /// false: only when a server behind a Unix socket or similar is always behind a proxy).
    pub fn trust_headers_without_peer(mut self, trust: bool) -> Self {
        self.trust_headers_without_peer = trust;
        self
    }

    /// How to read the claimed user (not yet authenticated) from the request headers.
    pub fn claimed_user(
        mut self,
        f: impl Fn(&dyn HeaderLookup) -> Option<ClaimedUser> + Send + Sync + 'static,
    ) -> Self {
        self.claimed_user = Some(Box::new(f));
        self
    }

    /// Custom attributes sent with every action of this route (a request's own attributes
    /// override them).
    pub fn custom_attributes(mut self, attributes: CustomAttributes) -> Self {
        self.custom_attributes = Some(attributes);
        self
    }

    /// The circuit breaker (a shared handle: give every guard calling the same API the same
    /// one). Default: a breaker of this guard's own with [`BreakerConfig::default`].
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// No circuit breaker: every request calls the API (and waits up to the deadline).
    pub fn without_circuit_breaker(mut self) -> Self {
        self.breaker = None;
        self
    }

    /// Where result reports go. Without a reporter nothing is reported.
    pub fn reporter(mut self, reporter: Reporter) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// How the handler's status maps to a result (default [`ResultMapping::default`]).
    pub fn result_mapping(mut self, mapping: ResultMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// The responses for challenges and denials (default [`DefaultResponder`]).
    pub fn responder(mut self, responder: impl Responder) -> Self {
        self.responder = Box::new(responder);
        self
    }

    /// Shadow mode: with a monitor-only policy ([`Policy::is_monitor_only`]), the request
    /// proceeds at once and the assessment runs concurrently (traced, and its result
    /// report still tied to the action). Ignored with any other policy.
    pub fn shadow(mut self, shadow: bool) -> Self {
        self.shadow = shadow;
        self
    }

    /// Checks the settings and builds the guard.
    pub fn build(self) -> Result<Guard, ConfigError> {
        if self.deadline.is_zero() {
            return Err(ConfigError::InvalidValue {
                setting: "deadline",
                reason: "must be more than zero".to_owned(),
            });
        }
        let trusted = IpResolver::parse_trusted(&self.trusted_proxies)?;
        let shadow = self.shadow && self.policy.is_monitor_only();
        if self.shadow && !shadow {
            tracing::warn!(
                action_type = %self.action_type,
                "shadow mode needs a monitor-only policy; ignored"
            );
        }
        Ok(Guard {
            inner: Arc::new(GuardInner {
                action_type: self.action_type,
                recommender: self.recommender,
                policy: self.policy,
                on_error: self.on_error,
                deadline: self.deadline,
                headers: self.headers,
                ip: IpResolver::new(trusted, self.trust_headers_without_peer),
                claimed_user: self.claimed_user,
                custom_attributes: self.custom_attributes,
                breaker: self.breaker,
                reporter: self.reporter,
                mapping: self.mapping,
                responder: self.responder,
                shadow,
            }),
        })
    }
}

impl Guard {
    /// A builder for a route protecting `action_type`, asking `recommender` (usually the
    /// [`RiskClient`](crate::RiskClient)).
    pub fn builder(
        action_type: impl Into<ActionType>,
        recommender: impl Recommender,
    ) -> GuardBuilder {
        GuardBuilder {
            action_type: action_type.into(),
            recommender: Box::new(recommender),
            policy: Box::new(DefaultPolicy),
            on_error: ErrorBehavior::default(),
            deadline: DEFAULT_DEADLINE,
            headers: HeaderNames::default(),
            trusted_proxies: Vec::new(),
            trust_headers_without_peer: false,
            claimed_user: None,
            custom_attributes: None,
            breaker: Some(CircuitBreaker::new(BreakerConfig::default())),
            reporter: None,
            mapping: ResultMapping::default(),
            responder: Box::new(DefaultResponder),
            shadow: false,
        }
    }

    /// The protected action's type.
    pub fn action_type(&self) -> &ActionType {
        &self.inner.action_type
    }

    /// The header names this guard reads.
    pub fn header_names(&self) -> &HeaderNames {
        &self.inner.headers
    }

    /// The circuit breaker, if any.
    pub fn circuit_breaker(&self) -> Option<&CircuitBreaker> {
        self.inner.breaker.as_ref()
    }

    /// The reporter, if any.
    pub fn reporter(&self) -> Option<&Reporter> {
        self.inner.reporter.as_ref()
    }

    /// Reads the facts of a request from its headers and socket peer. Synchronous and cheap.
    pub fn facts(
        &self,
        headers: &(impl HeaderLookup + ?Sized),
        peer: Option<IpAddr>,
    ) -> RequestFacts {
        let inner = &*self.inner;
        let names = &inner.headers;
        let token = TokenInput::from_headers(headers, names);
        let correlation_id = headers
            .get(names.request_id_name())
            .and_then(valid_request_id)
            .map_or_else(generate_correlation_id, str::to_owned);
        let client_ip = inner.ip.resolve(headers, names, peer);
        let user_agent = headers
            .get(names.user_agent_name())
            .map(|ua| truncate(ua, MAX_USER_AGENT_LEN).to_owned());
        let claimed_user = inner
            .claimed_user
            .as_ref()
            .and_then(|f| f(&DynLookup(headers)));
        let mut facts = RequestFacts::with_id(token, correlation_id);
        facts.client_ip = client_ip;
        facts.user_agent = user_agent;
        facts.claimed_user = claimed_user;
        facts
    }

    /// Assesses a request and decides. Never fails: an unavailable API becomes a verdict
    /// through the error behaviour.
    ///
    /// Use it like an `async fn` (`guard.check(facts).await`); the future does not borrow
    /// the guard and is `Send + 'static`, so it can be boxed or spawned.
    pub fn check(&self, facts: RequestFacts) -> impl Future<Output = Decision> + Send + 'static {
        let span = tracing::info_span!(
            "risk.guard",
            action_type = %self.inner.action_type,
            correlation_id = %facts.correlation_id,
            recommendation = Empty,
            risk_score = Empty,
            verdict = Empty,
            latency_ms = Empty,
            error_behavior = Empty,
        );
        self.inner
            .clone()
            .check(facts, span.clone())
            .instrument(span)
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// What the upstream calls need besides the token.
struct ActionInput {
    correlation_id: String,
    claimed_user: Option<ClaimedUser>,
    user_id: Option<String>,
    transaction_data: Option<crate::models::TransactionData>,
    custom_attributes: Option<CustomAttributes>,
}

/// Sets the shadow slot's token even if the assessment task is dropped.
struct SlotGuard {
    slot: Arc<ShadowSlot>,
    set: bool,
}

impl SlotGuard {
    fn set(mut self, token: Option<ActionToken>) {
        self.set = true;
        self.slot.set_token(token);
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if !self.set {
            self.slot.set_token(None);
        }
    }
}

impl GuardInner {
    async fn check(self: Arc<Self>, facts: RequestFacts, span: tracing::Span) -> Decision {
        let start = Instant::now();
        let RequestFacts {
            token,
            correlation_id,
            claimed_user,
            user_id,
            client_ip,
            user_agent: _,
            transaction_data,
            custom_attributes,
        } = facts;
        let input = ActionInput {
            correlation_id,
            claimed_user,
            user_id,
            transaction_data,
            custom_attributes,
        };

        let (assessment, shadow_slot) = match token {
            TokenInput::Missing => (
                self.make(
                    input.correlation_id,
                    None,
                    AssessmentStatus::BadInput(BadInput::MissingToken),
                    client_ip,
                ),
                None,
            ),
            TokenInput::Invalid(p) => (
                self.make(
                    input.correlation_id,
                    None,
                    AssessmentStatus::BadInput(BadInput::InvalidToken(p)),
                    client_ip,
                ),
                None,
            ),
            token if self.shadow && tokio::runtime::Handle::try_current().is_ok() => {
                let slot = Arc::new(ShadowSlot::default());
                let this = self.clone();
                let correlation_id = input.correlation_id.clone();
                let task_span = span.clone();
                let task_slot = slot.clone();
                tokio::spawn(
                    async move {
                        let guard = SlotGuard {
                            slot: task_slot,
                            set: false,
                        };
                        let a = this.assess(token, input, client_ip, start).await;
                        record_assessment(&tracing::Span::current(), &a, start.elapsed());
                        tracing::debug!("shadow assessment done");
                        guard.set(a.action_token().cloned());
                    }
                    .instrument(task_span),
                );
                (
                    self.make(correlation_id, None, AssessmentStatus::Shadow, client_ip),
                    Some(slot),
                )
            }
            token => (self.assess(token, input, client_ip, start).await, None),
        };
        self.finish(assessment, shadow_slot, start, &span)
    }

    fn make(
        &self,
        correlation_id: String,
        action_token: Option<ActionToken>,
        status: AssessmentStatus,
        client_ip: Option<IpAddr>,
    ) -> Arc<Assessment> {
        Arc::new(Assessment::from_parts(
            self.action_type.clone(),
            correlation_id,
            action_token,
            status,
            client_ip,
        ))
    }
}

fn record_assessment(span: &tracing::Span, a: &Assessment, latency: Duration) {
    if span.is_disabled() {
        return;
    }
    if let Some(t) = a.recommendation_type() {
        span.record("recommendation", t.as_str());
    } else if let Some(u) = a.unavailable() {
        span.record("recommendation", u.cause.as_str());
    }
    if let Some(score) = a.risk_score() {
        span.record("risk_score", score);
    }
    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
}

impl GuardInner {
    fn finish(
        &self,
        mut assessment: Arc<Assessment>,
        shadow_slot: Option<Arc<ShadowSlot>>,
        start: Instant,
        span: &tracing::Span,
    ) -> Decision {
        let (verdict, error_behavior) = if assessment.is_unavailable() {
            (self.on_error.apply(&assessment), Some(self.on_error.kind()))
        } else {
            (self.policy.decide(&assessment), None)
        };
        let latency = start.elapsed();
        // Still the only reference: set in place rather than moving the assessment again.
        if let Some(a) = Arc::get_mut(&mut assessment) {
            a.set_outcome(verdict.kind(), error_behavior, latency);
        }
        let response = if verdict.is_proceed() {
            None
        } else {
            self.responder
                .respond(&verdict, &assessment)
                .or_else(|| DefaultResponder.respond(&verdict, &assessment))
        };
        let report = match (&verdict, &self.reporter) {
            (_, None) => PendingReport::disarmed(),
            (Verdict::Proceed, Some(reporter)) => match (shadow_slot, assessment.action_token()) {
                (Some(slot), _) => {
                    PendingReport::shadow(slot, self.mapping.clone(), reporter.clone())
                }
                (None, Some(token)) => {
                    PendingReport::new(token.clone(), self.mapping.clone(), reporter.clone())
                }
                (None, None) => PendingReport::disarmed(),
            },
            (Verdict::Deny(denial), Some(reporter)) => {
                if let Some(token) = assessment.action_token() {
                    let result = if matches!(denial.reason, DenialReason::Unavailable) {
                        // Not evaluated: says nothing about the user.
                        ActionResult::Incomplete
                    } else {
                        ActionResult::Failure
                    };
                    let _ = reporter.submit(ActionResultReport::new(token.clone(), result));
                }
                PendingReport::disarmed()
            }
            // Challenge: the step-up route reports, with its challenge type.
            _ => PendingReport::disarmed(),
        };

        if !span.is_disabled() {
            if !assessment.is_shadow() {
                record_assessment(span, &assessment, latency);
            }
            span.record("verdict", verdict.kind().as_str());
            if let Some(eb) = error_behavior {
                span.record("error_behavior", eb.as_str());
            }
        }
        tracing::debug!(parent: span, verdict = verdict.kind().as_str(), "risk check done");

        Decision {
            verdict,
            assessment,
            response,
            report,
        }
    }

    /// Asks the risk API (breaker and deadline included). Returns the status and the action
    /// token if one exists.
    ///
    /// Returns the assessment already shared: no large value is held across an `await` by
    /// the caller (that would bloat every request's future).
    async fn assess(
        &self,
        token: TokenInput,
        input: ActionInput,
        client_ip: Option<IpAddr>,
        start: Instant,
    ) -> Arc<Assessment> {
        let permit = match &self.breaker {
            Some(b) => match b.acquire() {
                Ok(p) => Some(p),
                Err(wait) => {
                    let given = match token {
                        TokenInput::Action(t) => Some(t),
                        _ => None,
                    };
                    return self.make(
                        input.correlation_id,
                        given,
                        AssessmentStatus::Unavailable(
                            Unavailable::new(
                                UnavailableCause::CircuitOpen,
                                "the risk API circuit breaker is open",
                            )
                            .with_retry_after(Some(wait.max(Duration::from_secs(1)))),
                        ),
                        client_ip,
                    );
                }
            },
            None => None,
        };

        let mut action_token: Option<ActionToken> = None;
        let slot = &mut action_token;
        let call = async {
            let token = match token {
                TokenInput::Action(t) => t,
                TokenInput::Session(s) => {
                    let request = self.trigger_request(s, &input);
                    self.recommender.trigger_action(&request).await?
                }
                // Bad input never gets here.
                _ => {
                    return Err(Error::BadRequest {
                        message: "no usable token".to_owned(),
                    })
                }
            };
            let token = slot.insert(token);
            self.recommender.recommendation(token).await
        };
        // The deadline counts from the start of the check (no second clock read).
        let result = tokio::time::timeout_at(start + self.deadline, call).await;

        let (success, status) = match result {
            Ok(Ok(rec)) => (true, AssessmentStatus::Assessed(rec)),
            Ok(Err(e)) => {
                let failure = counts_as_failure(&e);
                let status = match &e {
                    Error::BadRequest { .. }
                    | Error::BlacklistedToken { .. }
                    | Error::NotFound { .. } => {
                        AssessmentStatus::BadInput(BadInput::InvalidToken(TokenProblem::Rejected {
                            status: e.status().unwrap_or(400),
                        }))
                    }
                    _ => AssessmentStatus::Unavailable(
                        Unavailable::new(
                            UnavailableCause::Api {
                                kind: e.kind(),
                                status: e.status(),
                            },
                            e.to_string(),
                        )
                        .with_retry_after(e.retry_after()),
                    ),
                };
                (!failure, status)
            }
            Err(_) => (
                false,
                AssessmentStatus::Unavailable(Unavailable::new(
                    UnavailableCause::Timeout,
                    format!("no recommendation within {:?}", self.deadline),
                )),
            ),
        };
        if let Some(p) = permit {
            p.record(success, start);
        }
        self.make(input.correlation_id, action_token, status, client_ip)
    }

    fn trigger_request(
        &self,
        session: crate::models::SessionToken,
        input: &ActionInput,
    ) -> TriggerActionRequest {
        let mut req = TriggerActionRequest::new(session, self.action_type.clone())
            .with_correlation_id(input.correlation_id.clone());
        if let Some(user) = &input.claimed_user {
            req.claimed_user_id = Some(user.id.clone());
            req.claimed_user_id_type = user.id_type.clone();
        }
        req.user_id = input.user_id.clone();
        req.transaction_data = input.transaction_data.clone();
        req.custom_attributes = match (&self.custom_attributes, &input.custom_attributes) {
            (None, None) => None,
            (Some(a), None) | (None, Some(a)) => Some(a.clone()),
            (Some(base), Some(own)) => {
                let mut merged = base.clone();
                merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
                Some(merged)
            }
        };
        req
    }
}
