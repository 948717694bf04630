//! The [`Guard`]: one per protected route.
//!
//! - [`builder`]: its settings;
//! - [`request`]: reading a request into [`RequestFacts`];
//! - [`upstream`]: asking the risk API within the breaker and the deadline, and mapping its
//!   errors into an [`Evaluation`];
//! - [`conclude`]: the verdict, the response and the report, into a [`Decision`].

mod builder;
mod conclude;
mod degraded_log;
mod entity;
mod request;
mod upstream;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::field::Empty;
use tracing::Instrument;

pub use builder::GuardBuilder;

use super::breaker::CircuitBreaker;
use super::decision::Decision;
use super::error_behavior::ErrorBehavior;
use super::evaluation::{AssessmentStatus, Evaluation};
use super::facts::{
    BadInput, ClaimedUser, HeaderLookup, HeaderNames, IpResolver, RequestFacts, TokenKinds,
};
use super::limit::ClientLimit;
use super::outcome::ResultMapping;
use super::policy::Policy;
use super::reporter::Reporter;
use super::respond::Responder;
use super::shadow;
#[cfg(doc)]
use super::{
    assessment::Assessment, evaluation::UnavailableCause, facts::TokenProblem,
    report::PendingReport,
};
use crate::models::{ActionType, CustomAttributes};
use crate::recommender::Recommender;

/// The default deadline of a check (both upstream calls together).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);

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
    tokens: TokenKinds,
    single_call: bool,
    on_quota: ErrorBehavior,
    client_limit: Option<ClientLimit>,
    /// Entity mode: the client's IP is evaluated (no token), the answers cached.
    entity: Option<entity::EntityCache>,
    /// Decision metrics, handles cached per label combination.
    metrics: crate::flow::metrics::DecisionMetrics,
    /// The route's name in logs (default: the action type).
    route: String,
    /// Degraded decisions: logged the first time, then summarised per interval.
    degraded_log: degraded_log::DegradedLog,
}

/// Protects one route: reads the request facts, asks the risk API (through a
/// [`Recommender`]) within a deadline, applies the policy or the error behaviour, and
/// prepares the response and the result report. Cheap to clone.
///
/// The flow of [`check`](Self::check):
/// 1. bad input (missing or unusable token) is decided at once: the recommender is not
///    called, the policy sees [`AssessmentStatus::BadInput`];
/// 2. a client over its [`ClientLimit`] is answered at once; otherwise, with a session token,
///    trigger-action asked for the recommendation in the same answer (one call; two with
///    [`GuardBuilder::single_call`]`(false)`); with an action token (the front end already
///    triggered the action), the recommendation only; within the deadline, and skipped
///    while the circuit breaker is open;
/// 3. the policy decides on the [`Evaluation`]; the error behaviour when the API was
///    unavailable; the [`Assessment`] is built once, with the verdict;
/// 4. challenge and deny become [`Decision::Respond`] with the responder's response; a
///    proceed becomes [`Decision::Proceed`] with the assessment and a [`PendingReport`]. A denial is reported right away: `failure` when the action was
///    assessed (there is a recommendation), `incomplete` when the API was unavailable and
///    the action token is known to be valid (created by trigger-action), nothing otherwise
///    (bad input, or a token the API refused).
///
/// # Upstream errors
///
/// | trigger-action / recommendation answer | assessment | decided by | breaker |
/// |---|---|---|---|
/// | HTTP 400, 463 (garbage, unknown or expired token) | [`AssessmentStatus::BadInput`] ([`TokenProblem::Rejected`]) | the policy, so a fail-open route does not let it through | neutral |
/// | recommendation for another action type (action-token mode) | [`AssessmentStatus::BadInput`] ([`TokenProblem::WrongAction`]) | the policy | success |
/// | HTTP 429, or the client's call budget has nothing left (no call sent) | [`AssessmentStatus::Unavailable`] ([`UnavailableCause::Quota`]) | the quota behaviour ([`GuardBuilder::on_quota_exhausted`], default challenge) | neutral; the budget pauses for the `Retry-After` |
/// | HTTP 404 (wrong base URL or proxy path), 401, 403, 5xx, transport, decode errors | [`AssessmentStatus::Unavailable`] | the error behaviour | failure (409 and other 4xx: neutral) |
/// | no answer within the deadline | [`AssessmentStatus::Unavailable`] ([`UnavailableCause::Timeout`]) | the error behaviour | failure |
///
/// A neutral answer is neither a success nor a failure: it neither resets the failure count
/// nor closes a half-open breaker. Before any upstream call, a client over its
/// [`ClientLimit`] is answered at once (429 by default).
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
/// **Replay risk:** the API answers an action token's recommendation for as long as the token
/// lives (its result reported or not), so one action token can be presented on several
/// requests, and each gets the same recommendation. Where that matters (payments, transfers),
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
/// let facts = guard.facts(&headers, Some("10.1.2.3".parse().unwrap()), None);
/// assert_eq!(facts.client_ip, Some("203.0.113.9".parse().unwrap()));
///
/// let Decision::Proceed { assessment, report } = guard.check(facts).await else {
///     panic!("an ALLOW proceeds");
/// };
/// assert_eq!(assessment.recommendation_type(), Some(&RecommendationType::Allow));
/// report.complete(200, None);
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
            .field("shadow", &self.inner.shadow)
            .field("tokens", &self.inner.tokens)
            .field("single_call", &self.inner.single_call)
            .field("reporter", &self.inner.reporter.is_some())
            .finish_non_exhaustive()
    }
}

impl Guard {
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

    /// Entity mode: the requests answered from the evaluation cache so far (0 otherwise).
    pub fn evaluation_cache_hits(&self) -> u64 {
        self.inner
            .entity
            .as_ref()
            .map_or(0, entity::EntityCache::hits)
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
            route = %self.inner.route,
            correlation_id = %facts.correlation_id,
            recommendation = Empty,
            risk_score = Empty,
            verdict = Empty,
            latency_ms = Empty,
            error_behavior = Empty,
            degraded = Empty,
        );
        self.inner
            .clone()
            .check(facts, span.clone())
            .instrument(span)
    }
}

impl GuardInner {
    async fn check(self: Arc<Self>, facts: RequestFacts, span: tracing::Span) -> Decision {
        let start = Instant::now();
        if let Some(cache) = &self.entity {
            // Boxed, as `evaluate` below: its state stays out of this future.
            return Box::pin(self.check_entity(cache, facts, start, &span)).await;
        }
        // Fairness before any upstream call: a client over its share is answered here. Bad
        // input costs no call and is answered first, whatever the limit.
        let usable = matches!(&facts.token, Ok(token) if self.tokens.accepts(token));
        let limited = match &self.client_limit {
            Some(limit) if usable => limit.check(&facts).err().map(|wait| (limit, wait)),
            _ => None,
        };
        let RequestFacts {
            token,
            correlation_id,
            client_ip,
            details,
        } = facts;
        let token = match token {
            Ok(token) if usable => token,
            // A kind of token this route does not take (given in hand-made facts): ignored.
            Ok(_) => {
                let status = AssessmentStatus::BadInput(BadInput::MissingToken);
                return self.answer_early(status, None, correlation_id, client_ip, start, &span);
            }
            Err(bad) => {
                let status = AssessmentStatus::BadInput(bad);
                return self.answer_early(status, None, correlation_id, client_ip, start, &span);
            }
        };
        if let Some((limit, retry_after)) = limited {
            let status = AssessmentStatus::ClientLimited { retry_after };
            return self.answer_early(status, Some(limit), correlation_id, client_ip, start, &span);
        }
        if self.shadow && tokio::runtime::Handle::try_current().is_ok() {
            let this = self.clone();
            let aside = Evaluation::from_parts(
                self.action_type.clone(),
                correlation_id.clone(),
                None,
                AssessmentStatus::Shadow,
                client_ip,
            );
            let evaluation = async move {
                let evaluation = this
                    .evaluate(token, correlation_id, details, client_ip, start)
                    .await;
                record_evaluation(&tracing::Span::current(), &evaluation, start.elapsed());
                tracing::debug!("shadow evaluation done");
                evaluation
            };
            let rendezvous = shadow::evaluate_aside(evaluation, span.clone());
            return self.conclude_shadow(aside, Some(rendezvous), start, &span);
        }
        // Boxed: the upstream calls' state (answers of 2 KB and more) lives on the heap once,
        // instead of inside this future, which is moved several times (instrumented, returned,
        // boxed by the adapter).
        let evaluation =
            Box::pin(self.evaluate(token, correlation_id, details, client_ip, start)).await;
        if self.shadow {
            // No runtime to run it aside: evaluated inline, and still never refused.
            return self.conclude_shadow(evaluation, None, start, &span);
        }
        self.conclude(evaluation, start, &span)
    }
}

impl GuardInner {
    /// Entity mode: the client's IP address is the entity; no token, no action, no report.
    async fn check_entity(
        &self,
        cache: &entity::EntityCache,
        facts: RequestFacts,
        start: Instant,
        span: &tracing::Span,
    ) -> Decision {
        let Some(ip) = facts.client_ip else {
            let status = AssessmentStatus::BadInput(BadInput::UnknownClientIp);
            return self.answer_early(status, None, facts.correlation_id, None, start, span);
        };
        if let Some(limit) = &self.client_limit {
            if let Err(retry_after) = limit.check(&facts) {
                let status = AssessmentStatus::ClientLimited { retry_after };
                return self.answer_early(
                    status,
                    Some(limit),
                    facts.correlation_id,
                    Some(ip),
                    start,
                    span,
                );
            }
        }
        let evaluation = self
            .evaluate_entity(cache, ip, facts.correlation_id, start)
            .await;
        self.conclude(evaluation, start, span)
    }

    /// A request answered without asking the risk API: bad input, or a client over its
    /// limit (`limit`). Shadow mode still lets it through.
    fn answer_early(
        &self,
        status: AssessmentStatus,
        limit: Option<&ClientLimit>,
        correlation_id: String,
        client_ip: Option<std::net::IpAddr>,
        start: Instant,
        span: &tracing::Span,
    ) -> Decision {
        let evaluation = Evaluation::from_parts(
            self.action_type.clone(),
            correlation_id,
            None,
            status,
            client_ip,
        );
        match limit {
            _ if self.shadow => self.conclude_shadow(evaluation, None, start, span),
            Some(limit) => self.conclude_limited(limit, evaluation, start, span),
            None => self.conclude(evaluation, start, span),
        }
    }
}

/// Records what the evaluation found on the guard's span.
fn record_evaluation(span: &tracing::Span, e: &Evaluation, latency: Duration) {
    if span.is_disabled() {
        return;
    }
    if let Some(t) = e.recommendation_type() {
        span.record("recommendation", t.as_str());
    } else if let Some(u) = e.unavailable() {
        span.record("recommendation", u.cause.as_str());
    }
    if let Some(score) = e.risk_score() {
        span.record("risk_score", score);
    }
    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
}
