//! The [`Assessment`] of one request, as the handler sees it: the [`Evaluation`] and the
//! verdict taken on it. Built once, after the policy (or the error behaviour) decided.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::error_behavior::ErrorBehaviorKind;
use super::evaluation::{AssessmentStatus, Degraded, Evaluation, StatusKind, Unavailable};
use super::facts::BadInput;
use super::verdict::Verdict;
use crate::models::{ActionToken, ActionType, Reason, RecommendationResponse, RecommendationType};

/// The assessment of one request: what the risk API said (the [`Evaluation`]), the
/// [`Verdict`] taken on it, by the policy or by the error behaviour, and the time the guard
/// took. Adapters put it into the request extensions (`Arc<Assessment>`) when the request
/// proceeds; handlers read it through their extractor.
///
/// The common questions are answered directly; [`evaluation`](Self::evaluation) has the rest.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use risk_core::*;
/// use risk_core::testing::StaticRecommender;
///
/// let guard = Guard::builder(ActionType::Login, StaticRecommender::of_type(RecommendationType::Allow, 12.0))
///     .build()
///     .unwrap();
/// let decision = guard.check(RequestFacts::new(Token::session("st-1"))).await;
/// let assessment = decision.assessment();
/// assert_eq!(assessment.recommendation_type(), Some(&RecommendationType::Allow));
/// assert_eq!(assessment.risk_score(), Some(12.0));
/// assert!(assessment.verdict().is_proceed());
/// assert_eq!(assessment.error_behavior(), None);
/// # }
/// ```
#[derive(Clone, PartialEq)]
pub struct Assessment {
    evaluation: Evaluation,
    verdict: Verdict,
    error_behavior: Option<ErrorBehaviorKind>,
    latency: Duration,
}

impl Assessment {
    pub(crate) fn new(
        evaluation: Evaluation,
        verdict: Verdict,
        error_behavior: Option<ErrorBehaviorKind>,
        latency: Duration,
    ) -> Self {
        Self {
            evaluation,
            verdict,
            error_behavior,
            latency,
        }
    }

    /// What the risk evaluation found (the policy's input).
    pub fn evaluation(&self) -> &Evaluation {
        &self.evaluation
    }

    /// The verdict taken.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The error behaviour that decided, when the API was unavailable.
    pub fn error_behavior(&self) -> Option<ErrorBehaviorKind> {
        self.error_behavior
    }

    /// Time spent by the guard (upstream calls included).
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// The protected action's type.
    pub fn action_type(&self) -> &ActionType {
        self.evaluation.action_type()
    }

    /// The correlation id of the request.
    pub fn correlation_id(&self) -> &str {
        self.evaluation.correlation_id()
    }

    /// The action token, once the API created or vouched for it.
    pub fn action_token(&self) -> Option<&ActionToken> {
        self.evaluation.action_token()
    }

    /// How the evaluation went.
    pub fn status(&self) -> &AssessmentStatus {
        self.evaluation.status()
    }

    /// The full recommendation, when the API answered. Decoded on the first call (the
    /// decision, which the accessors below read, was read when the answer arrived): see
    /// [`RiskAnswer`](crate::RiskAnswer).
    pub fn recommendation(&self) -> Option<&RecommendationResponse> {
        self.evaluation.recommendation()
    }

    /// TRUST, ALLOW, CHALLENGE, DENY (or unknown), when the API answered.
    pub fn recommendation_type(&self) -> Option<&RecommendationType> {
        self.evaluation.recommendation_type()
    }

    /// The risk score (0–100), when the API gave one.
    pub fn risk_score(&self) -> Option<f64> {
        self.evaluation.risk_score()
    }

    /// The reasons, empty when there is no recommendation.
    pub fn reasons(&self) -> &[Reason] {
        self.evaluation.reasons()
    }

    /// Whether the risk API was unavailable (the error behaviour decided).
    pub fn is_unavailable(&self) -> bool {
        self.evaluation.is_unavailable()
    }

    /// Why the API was unavailable.
    pub fn unavailable(&self) -> Option<&Unavailable> {
        self.evaluation.unavailable()
    }

    /// Why there is no recommendation (outage, quota, breaker), if so.
    pub fn degraded(&self) -> Option<Degraded> {
        self.evaluation.degraded()
    }

    /// The bad input, if the request had no usable token.
    pub fn bad_input(&self) -> Option<BadInput> {
        self.evaluation.bad_input()
    }

    /// Whether the evaluation runs in shadow mode (concurrently with the handler).
    pub fn is_shadow(&self) -> bool {
        self.evaluation.is_shadow()
    }

    /// The client's IP address, as resolved.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.evaluation.client_ip()
    }
}

impl fmt::Debug for Assessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.evaluation;
        f.debug_struct("Assessment")
            .field("action_type", e.action_type())
            .field("correlation_id", &e.correlation_id())
            .field("action_token", &e.action_token())
            .field("recommendation_type", &e.recommendation_type())
            .field("risk_score", &e.risk_score())
            .field("status", &StatusKind(e.status()))
            .field("verdict", &self.verdict.kind())
            .field("error_behavior", &self.error_behavior)
            .field("latency", &self.latency)
            .field("client_ip", &e.client_ip())
            .finish()
    }
}
