//! The [`Guard`]: one per protected route.
//!
//! - [`builder`]: its settings;
//! - [`request`]: reading a request into [`RequestFacts`];
//! - [`upstream`]: asking the risk API within the breaker and the deadline, and mapping its
//!   errors into an [`Evaluation`];
//! - [`conclude`]: the verdict, the response and the report, into a [`Decision`].

mod builder;
mod conclude;
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
    BadInput, ClaimedUser, HeaderLookup, HeaderNames, IpResolver, RequestFacts, Token,
};
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
            .field("action_tokens", &self.inner.action_tokens)
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

impl GuardInner {
    async fn check(self: Arc<Self>, facts: RequestFacts, span: tracing::Span) -> Decision {
        let start = Instant::now();
        let RequestFacts {
            token,
            correlation_id,
            client_ip,
            details,
        } = facts;
        let token = match token {
            // Action tokens disabled on this route: one given in hand-made facts is ignored.
            Ok(Token::Action(_)) if !self.action_tokens => Err(BadInput::MissingToken),
            other => other,
        };
        let token = match token {
            Ok(token) => token,
            Err(bad) => {
                let evaluation = Evaluation::from_parts(
                    self.action_type.clone(),
                    correlation_id,
                    None,
                    AssessmentStatus::BadInput(bad),
                    client_ip,
                );
                return if self.shadow {
                    self.conclude_shadow(evaluation, None, start, &span)
                } else {
                    self.conclude(evaluation, start, &span)
                };
            }
        };
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
        let evaluation = self
            .evaluate(token, correlation_id, details, client_ip, start)
            .await;
        if self.shadow {
            // No runtime to run it aside: evaluated inline, and still never refused.
            return self.conclude_shadow(evaluation, None, start, &span);
        }
        self.conclude(evaluation, start, &span)
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
