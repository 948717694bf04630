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
    generate_correlation_id, valid_request_id, ClaimedUser, DynLookup, ForwardedHeader,
    HeaderLookup, HeaderNames, IpResolver, RequestFacts, TokenInput, TokenProblem,
};
use super::policy::{DefaultPolicy, Policy};
use super::report::{PendingReport, ResultMapping, ShadowSlot};
use super::reporter::Reporter;
use super::respond::{DefaultResponder, Responder};
use super::verdict::{Decision, Verdict};
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
    action_tokens: bool,
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
/// 4. challenge and deny get a response from the responder; a proceed gets an armed
///    [`PendingReport`]. A denial is reported right away: `failure` when the action was
///    assessed (there is a recommendation), `incomplete` when the API was unavailable and
///    the action token is known to be valid (created by trigger-action), nothing otherwise
///    (bad input, or a token the API refused).
///
/// # Upstream errors
///
/// | trigger-action / recommendation answer | assessment | breaker |
/// |---|---|---|
/// | HTTP 400, 463 (garbage, expired, reused token) | [`AssessmentStatus::BadInput`] ([`TokenProblem::Rejected`]): the policy decides, so a fail-open route does not let it through | not a failure |
/// | recommendation for another action type (action-token mode) | [`AssessmentStatus::BadInput`] ([`TokenProblem::WrongAction`]) | not a failure |
/// | HTTP 404 (wrong base URL or proxy path), 401, 403, 429, 5xx, transport, decode errors | [`AssessmentStatus::Unavailable`]: the error behaviour decides | failure (409 and other 4xx: not) |
/// | no answer within the deadline | [`AssessmentStatus::Unavailable`] ([`UnavailableCause::Timeout`]) | failure |
///
/// A token the API refused is never reported on (it is dropped from the assessment).
///
/// # Action tokens
///
/// With an `x-risk-action-token` header (see [`HeaderNames::action_token`]), the front end
/// triggered the action itself and the guard only fetches its recommendation. The guard
/// checks the recommendation's `context.action_type` against its own: a token of another
/// action (say a harmless `logout`), or one whose recommendation does not name its action, is
/// refused ([`TokenProblem::WrongAction`]), so it cannot be replayed on a sensitive route. The token is kept in the assessment (and reported on)
/// only once the API vouched for it.
///
/// **Replay risk:** the API refuses a used token (HTTP 463) only once its result has been
/// reported, so one action token can be presented on several concurrent requests until
/// then, and each gets the same recommendation. Where that matters (payments, transfers),
/// disable action tokens on the route with [`GuardBuilder::action_tokens`]`(false)`: every
/// request then needs a session token, and the guard triggers a fresh action itself.
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
            .field("action_tokens", &self.inner.action_tokens)
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
    forwarded_header: ForwardedHeader,
    claimed_user: Option<Box<ClaimedUserFn>>,
    custom_attributes: Option<CustomAttributes>,
    breaker: Option<CircuitBreaker>,
    reporter: Option<Reporter>,
    mapping: ResultMapping,
    responder: Box<dyn Responder>,
    shadow: bool,
    action_tokens: bool,
}

impl fmt::Debug for GuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardBuilder")
            .field("action_type", &self.action_type)
            .field("on_error", &self.on_error)
            .field("deadline", &self.deadline)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("forwarded_header", &self.forwarded_header)
            .field("action_tokens", &self.action_tokens)
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

    /// The deadline of the upstream calls together (default 2 s). A deadline too far in the
    /// future to be represented (such as [`Duration::MAX`]) means no deadline.
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

    /// Which forwarding header to read from trusted proxies (default
    /// [`ForwardedHeader::XForwardedFor`]). Only that one is read; the other is ignored even
    /// when present. Pick the one your proxy writes.
    pub fn forwarded_header(mut self, header: ForwardedHeader) -> Self {
        self.forwarded_header = header;
        self
    }

    /// Whether the action-token header is accepted on this route (default true). When
    /// false, the action-token header is ignored and a session token is required: the
    /// guard triggers every action itself, so a token cannot be replayed on concurrent
    /// requests (see [`Guard`], "Action tokens").
    pub fn action_tokens(mut self, enabled: bool) -> Self {
        self.action_tokens = enabled;
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
                ip: IpResolver::new(
                    trusted,
                    self.trust_headers_without_peer,
                    self.forwarded_header,
                ),
                claimed_user: self.claimed_user,
                custom_attributes: self.custom_attributes,
                breaker: self.breaker,
                reporter: self.reporter,
                mapping: self.mapping,
                responder: self.responder,
                shadow,
                action_tokens: self.action_tokens,
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
            forwarded_header: ForwardedHeader::default(),
            claimed_user: None,
            custom_attributes: None,
            breaker: Some(CircuitBreaker::new(BreakerConfig::default())),
            reporter: None,
            mapping: ResultMapping::default(),
            responder: Box::new(DefaultResponder),
            shadow: false,
            action_tokens: true,
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
        let token = if inner.action_tokens {
            TokenInput::from_headers(headers, names)
        } else {
            TokenInput::from_session_header(headers, names)
        };
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
        // Action tokens disabled on this route: one given in the facts is ignored.
        let token = match token {
            TokenInput::Action(_) if !self.action_tokens => TokenInput::Missing,
            other => other,
        };
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
            (Verdict::Deny(_), Some(reporter)) => {
                // The assessment holds a token only when it is valid (a refused one is
                // dropped). Assessed: the action failed. Unavailable: not evaluated, says
                // nothing about the user. Bad input: nothing to report on.
                let result = if assessment.recommendation().is_some() {
                    Some(ActionResult::Failure)
                } else if assessment.is_unavailable() {
                    Some(ActionResult::Incomplete)
                } else {
                    None
                };
                if let (Some(result), Some(token)) = (result, assessment.action_token()) {
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
        mut input: ActionInput,
        client_ip: Option<IpAddr>,
        start: Instant,
    ) -> Arc<Assessment> {
        // The correlation id stays for the assessment; the rest moves into the request.
        let correlation_id = std::mem::take(&mut input.correlation_id);
        let permit = match &self.breaker {
            Some(b) => match b.acquire() {
                Ok(p) => Some(p),
                Err(wait) => {
                    // A client's action token is not kept: the API did not vouch for it.
                    return self.make(
                        correlation_id,
                        None,
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

        // The action token, once known to be valid: from trigger-action (session mode), or
        // the client's once the API answered for it (action-token mode).
        let mut action_token: Option<ActionToken> = None;
        let mut given: Option<ActionToken> = None;
        let slot = &mut action_token;
        let given_slot = &mut given;
        let call = async {
            match token {
                TokenInput::Action(t) => {
                    let t = given_slot.insert(t);
                    self.recommender.recommendation(t).await
                }
                TokenInput::Session(s) => {
                    let request = self.trigger_request(s, &correlation_id, input);
                    let t = slot.insert(self.recommender.trigger_action(&request).await?);
                    self.recommender.recommendation(t).await
                }
                // Bad input never gets here.
                _ => Err(Error::BadRequest {
                    message: "no usable token".to_owned(),
                }),
            }
        };
        // The deadline counts from the start of the check (no second clock read). One too
        // far away to be represented is no deadline.
        let result = match start.checked_add(self.deadline) {
            Some(deadline) => tokio::time::timeout_at(deadline, call).await,
            None => Ok(call.await),
        };

        let (success, status) = match result {
            Ok(Ok(rec)) => {
                // A client's token must prove it belongs to this route's action: one of
                // another action, or one whose action the API did not say, is refused.
                let wrong_action =
                    given.is_some() && rec.context.action_type.as_ref() != Some(&self.action_type);
                if wrong_action {
                    // A token of another action (say `logout`) replayed on this route.
                    (
                        true,
                        AssessmentStatus::BadInput(BadInput::InvalidToken(
                            TokenProblem::WrongAction,
                        )),
                    )
                } else {
                    if let Some(t) = given.take() {
                        action_token = Some(t);
                    }
                    (true, AssessmentStatus::Assessed(rec))
                }
            }
            Ok(Err(e)) => {
                let failure = counts_as_failure(&e);
                let status = match &e {
                    // A garbage, expired or reused token: bad input, never an outage (a
                    // fail-open route must not let it through), and never reported on.
                    Error::BadRequest { .. } | Error::BlacklistedToken { .. } => {
                        action_token = None;
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
        self.make(correlation_id, action_token, status, client_ip)
    }

    fn trigger_request(
        &self,
        session: crate::models::SessionToken,
        correlation_id: &str,
        input: ActionInput,
    ) -> TriggerActionRequest {
        let mut req = TriggerActionRequest::new(session, self.action_type.clone())
            .with_correlation_id(correlation_id);
        if let Some(user) = input.claimed_user {
            req.claimed_user_id = Some(user.id);
            req.claimed_user_id_type = user.id_type;
        }
        req.user_id = input.user_id;
        req.transaction_data = input.transaction_data;
        req.custom_attributes = match (&self.custom_attributes, input.custom_attributes) {
            (None, own) => own,
            (Some(base), None) => Some(base.clone()),
            (Some(base), Some(own)) => {
                let mut merged = base.clone();
                merged.extend(own);
                Some(merged)
            }
        };
        req
    }
}
