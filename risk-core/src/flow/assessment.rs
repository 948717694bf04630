//! The [`Assessment`] of one request: what the risk API said (or why it could not say).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::error_behavior::ErrorBehaviorKind;
use super::facts::TokenProblem;
use super::verdict::VerdictKind;
use crate::models::{ActionToken, ActionType, Reason, RecommendationResponse, RecommendationType};

/// How the assessment of a request went.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// The recommendation is large, but an assessment is built once per request and then shared
// in an `Arc`; boxing would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
pub enum AssessmentStatus {
    /// The risk API answered.
    Assessed(RecommendationResponse),
    /// The risk API could not be asked or did not answer in time.
    Unavailable(Unavailable),
    /// The request's token was missing or unusable; the risk API was not asked (or refused it).
    BadInput(BadInput),
    /// Shadow mode: the assessment runs concurrently with the handler and is only traced.
    Shadow,
}

/// Why the risk API gave no recommendation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unavailable {
    /// The cause.
    pub cause: UnavailableCause,
    /// A human-readable message (for logs; never shown to clients by the default responder).
    pub message: String,
    /// When to try again, if known (the API's `Retry-After`, or the breaker's cool-down).
    pub retry_after: Option<Duration>,
}

impl Unavailable {
    /// An unavailability of `cause` with `message`.
    pub fn new(cause: UnavailableCause, message: impl Into<String>) -> Self {
        Self {
            cause,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Sets `retry_after`.
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

/// What made the risk API unavailable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnavailableCause {
    /// The guard's deadline passed.
    Timeout,
    /// The circuit breaker is open: the API was not called.
    CircuitOpen,
    /// The API call failed.
    Api {
        /// [`Error::kind`](crate::Error::kind) of the failure.
        kind: &'static str,
        /// The HTTP status, if there was a response.
        status: Option<u16>,
    },
}

impl UnavailableCause {
    /// A short stable name (`timeout`, `circuit_open`, or the error kind).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::CircuitOpen => "circuit_open",
            Self::Api { kind, .. } => kind,
        }
    }
}

/// A request the guard refused to assess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadInput {
    /// No token header.
    MissingToken,
    /// An unusable token.
    InvalidToken(TokenProblem),
}

/// The assessment of one request, as the policy and the handler see it.
///
/// ```
/// use risk_core::{ActionType, Assessment, AssessmentStatus, RecommendationResponse, RecommendationType};
/// let a = Assessment::new(
///     ActionType::Login,
///     "req-1",
///     AssessmentStatus::Assessed(RecommendationResponse::new(RecommendationType::Allow, 12.0)),
/// );
/// assert_eq!(a.recommendation_type(), Some(&RecommendationType::Allow));
/// assert_eq!(a.risk_score(), Some(12.0));
/// assert!(!a.is_unavailable());
/// ```
#[derive(Clone, PartialEq)]
pub struct Assessment {
    action_type: ActionType,
    correlation_id: String,
    action_token: Option<ActionToken>,
    status: AssessmentStatus,
    error_behavior: Option<ErrorBehaviorKind>,
    verdict_kind: VerdictKind,
    latency: Duration,
    client_ip: Option<IpAddr>,
}

impl Assessment {
    /// An assessment with `status` (for policies' and handlers' tests; the guard builds its own).
    pub fn new(
        action_type: ActionType,
        correlation_id: impl Into<String>,
        status: AssessmentStatus,
    ) -> Self {
        Self {
            action_type,
            correlation_id: correlation_id.into(),
            action_token: None,
            status,
            error_behavior: None,
            verdict_kind: VerdictKind::Proceed,
            latency: Duration::ZERO,
            client_ip: None,
        }
    }

    pub(crate) fn from_parts(
        action_type: ActionType,
        correlation_id: String,
        action_token: Option<ActionToken>,
        status: AssessmentStatus,
        client_ip: Option<IpAddr>,
    ) -> Self {
        Self {
            action_type,
            correlation_id,
            action_token,
            status,
            error_behavior: None,
            verdict_kind: VerdictKind::Proceed,
            latency: Duration::ZERO,
            client_ip,
        }
    }

    /// Sets the action token.
    #[must_use]
    pub fn with_action_token(mut self, token: ActionToken) -> Self {
        self.action_token = Some(token);
        self
    }

    /// Sets the client IP.
    #[must_use]
    pub fn with_client_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.client_ip = ip;
        self
    }

    /// Sets the latency.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the verdict kind.
    #[must_use]
    pub fn with_verdict_kind(mut self, kind: VerdictKind) -> Self {
        self.verdict_kind = kind;
        self
    }

    /// Sets the error behaviour taken.
    #[must_use]
    pub fn with_error_behavior(mut self, kind: Option<ErrorBehaviorKind>) -> Self {
        self.error_behavior = kind;
        self
    }

    pub(crate) fn set_outcome(
        &mut self,
        verdict_kind: VerdictKind,
        error_behavior: Option<ErrorBehaviorKind>,
        latency: Duration,
    ) {
        self.verdict_kind = verdict_kind;
        self.error_behavior = error_behavior;
        self.latency = latency;
    }

    /// The protected action's type.
    pub fn action_type(&self) -> &ActionType {
        &self.action_type
    }

    /// The correlation id of the request.
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The action token (from trigger-action or the request), if the action was created.
    pub fn action_token(&self) -> Option<&ActionToken> {
        self.action_token.as_ref()
    }

    /// How the assessment went.
    pub fn status(&self) -> &AssessmentStatus {
        &self.status
    }

    /// The full recommendation, when the API answered.
    pub fn recommendation(&self) -> Option<&RecommendationResponse> {
        match &self.status {
            AssessmentStatus::Assessed(r) => Some(r),
            _ => None,
        }
    }

    /// TRUST, ALLOW, CHALLENGE, DENY (or unknown), when the API answered.
    pub fn recommendation_type(&self) -> Option<&RecommendationType> {
        self.recommendation()
            .map(RecommendationResponse::recommendation_type)
    }

    /// The risk score (0–100), when the API gave one.
    pub fn risk_score(&self) -> Option<f64> {
        self.recommendation().and_then(|r| r.risk_score)
    }

    /// The reasons, empty when there is no recommendation.
    pub fn reasons(&self) -> &[Reason] {
        self.recommendation().map_or(&[], |r| r.reasons.as_slice())
    }

    /// Whether the risk API was unavailable (the error behaviour decided).
    pub fn is_unavailable(&self) -> bool {
        matches!(self.status, AssessmentStatus::Unavailable(_))
    }

    /// Why the API was unavailable.
    pub fn unavailable(&self) -> Option<&Unavailable> {
        match &self.status {
            AssessmentStatus::Unavailable(u) => Some(u),
            _ => None,
        }
    }

    /// The bad input, if the request had no usable token.
    pub fn bad_input(&self) -> Option<BadInput> {
        match &self.status {
            AssessmentStatus::BadInput(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is a shadow-mode assessment (running concurrently).
    pub fn is_shadow(&self) -> bool {
        matches!(self.status, AssessmentStatus::Shadow)
    }

    /// The error behaviour taken, if any.
    pub fn error_behavior(&self) -> Option<ErrorBehaviorKind> {
        self.error_behavior
    }

    /// The kind of verdict taken (`Proceed` while the policy is still deciding).
    pub fn verdict_kind(&self) -> VerdictKind {
        self.verdict_kind
    }

    /// Time spent by the guard.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// The client's IP address, as resolved.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }
}

impl fmt::Debug for Assessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assessment")
            .field("action_type", &self.action_type)
            .field("correlation_id", &self.correlation_id)
            .field("action_token", &self.action_token)
            .field("recommendation_type", &self.recommendation_type())
            .field("risk_score", &self.risk_score())
            .field("status", &StatusKind(&self.status))
            .field("error_behavior", &self.error_behavior)
            .field("verdict_kind", &self.verdict_kind)
            .field("latency", &self.latency)
            .field("client_ip", &self.client_ip)
            .finish()
    }
}

/// A compact `Debug` of a status (the full recommendation is long).
struct StatusKind<'a>(&'a AssessmentStatus);

impl fmt::Debug for StatusKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            AssessmentStatus::Assessed(_) => f.write_str("Assessed"),
            AssessmentStatus::Unavailable(u) => write!(f, "Unavailable({})", u.cause.as_str()),
            AssessmentStatus::BadInput(b) => write!(f, "BadInput({b:?})"),
            AssessmentStatus::Shadow => f.write_str("Shadow"),
        }
    }
}
