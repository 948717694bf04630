//! The [`Evaluation`] of one request: what the risk API said (or why it could not say).
//! The policy's input; the guard's output, [`Assessment`](crate::Assessment), adds the
//! verdict.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::facts::BadInput;
use crate::models::{
    ActionToken, ActionType, Reason, RecommendationResponse, RecommendationType, RiskAnswer,
};

/// How the assessment of a request went.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AssessmentStatus {
    /// The risk API answered: its decision, and the rest of its answer decoded when first
    /// asked for.
    Assessed(RiskAnswer),
    /// The risk API could not be asked or did not answer in time.
    Unavailable(Unavailable),
    /// The request's token was missing or unusable; the risk API was not asked (or refused it).
    BadInput(BadInput),
    /// The client (by default its IP address) is over its share of calls: the risk API was
    /// not asked (see [`ClientLimit`](crate::ClientLimit)).
    ClientLimited {
        /// When the client may try again.
        retry_after: Duration,
    },
    /// Shadow mode: the evaluation runs concurrently with the handler and is only traced
    /// (see [`GuardBuilder::shadow`](crate::GuardBuilder::shadow)).
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
    /// The tenant's quota is spent: the API answered 429, or the call budget had nothing
    /// left and the call was not sent. Not an outage: the route's quota behaviour applies.
    Quota,
    /// The API answered without a readable decision (no `recommendation.type`, or not
    /// JSON): [`Error::MalformedAnswer`](crate::Error::MalformedAnswer). Not an outage, but
    /// decided the same way (the error behaviour).
    Malformed,
    /// The API call failed.
    Api {
        /// [`Error::kind`](crate::Error::kind) of the failure.
        kind: &'static str,
        /// The HTTP status, if there was a response.
        status: Option<u16>,
    },
}

impl UnavailableCause {
    /// A short stable name (`timeout`, `circuit_open`, `quota`, `malformed_answer`, or the
    /// error kind).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::CircuitOpen => "circuit_open",
            Self::Quota => "quota",
            Self::Malformed => "malformed_answer",
            Self::Api { kind, .. } => kind,
        }
    }

    /// Why the assessment is degraded, in three words.
    pub fn degraded(&self) -> Degraded {
        match self {
            Self::CircuitOpen => Degraded::Breaker,
            Self::Quota => Degraded::Quota,
            Self::Malformed => Degraded::Malformed,
            Self::Timeout | Self::Api { .. } => Degraded::Outage,
        }
    }
}

/// Why a request was decided without a recommendation: the label operators alert on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Degraded {
    /// The risk API failed or was too slow: the error behaviour decided.
    Outage,
    /// The tenant's quota is spent: the quota behaviour decided.
    Quota,
    /// The circuit breaker is open: the error behaviour decided without a call.
    Breaker,
    /// The risk API answered without a readable decision (no `recommendation.type`): the
    /// error behaviour decided. Its own kind, so a schema change is not mistaken for an
    /// outage.
    Malformed,
}

impl Degraded {
    /// `outage`, `quota`, `breaker` or `malformed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outage => "outage",
            Self::Quota => "quota",
            Self::Breaker => "breaker",
            Self::Malformed => "malformed",
        }
    }
}

impl fmt::Display for Degraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the risk evaluation of one request found: the policy's and the error behaviour's
/// input. The guard turns it into an [`Assessment`](crate::Assessment) once the verdict is
/// taken.
///
/// ```
/// use risk_core::{ActionType, AssessmentStatus, Evaluation, RecommendationResponse, RecommendationType};
/// let e = Evaluation::new(
///     ActionType::Login,
///     "req-1",
///     AssessmentStatus::Assessed(RecommendationResponse::new(RecommendationType::Allow, 12.0).into()),
/// );
/// assert_eq!(e.recommendation_type(), Some(&RecommendationType::Allow));
/// assert_eq!(e.risk_score(), Some(12.0));
/// assert!(!e.is_unavailable());
/// ```
#[derive(Clone, PartialEq)]
pub struct Evaluation {
    action_type: ActionType,
    correlation_id: String,
    action_token: Option<ActionToken>,
    status: AssessmentStatus,
    client_ip: Option<IpAddr>,
}

impl Evaluation {
    /// An evaluation with `status`, no action token and no client IP (for policies'
    /// tests; the guard builds its own).
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
            client_ip,
        }
    }

    /// Sets the action token (a valid one: the API created or vouched for it).
    #[must_use]
    pub fn with_action_token(mut self, token: ActionToken) -> Self {
        self.action_token = Some(token);
        self
    }

    /// The protected action's type.
    pub fn action_type(&self) -> &ActionType {
        &self.action_type
    }

    /// The correlation id of the request.
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The action token, once the API created or vouched for it.
    pub fn action_token(&self) -> Option<&ActionToken> {
        self.action_token.as_ref()
    }

    /// How the evaluation went.
    pub fn status(&self) -> &AssessmentStatus {
        &self.status
    }

    /// The API's answer, when it answered.
    pub fn answer(&self) -> Option<&RiskAnswer> {
        match &self.status {
            AssessmentStatus::Assessed(answer) => Some(answer),
            _ => None,
        }
    }

    /// The full recommendation, when the API answered (decoded on the first call: see
    /// [`RiskAnswer`]).
    pub fn recommendation(&self) -> Option<&RecommendationResponse> {
        self.answer().map(RiskAnswer::response)
    }

    /// TRUST, ALLOW, CHALLENGE, DENY (or unknown), when the API answered.
    pub fn recommendation_type(&self) -> Option<&RecommendationType> {
        self.answer().map(RiskAnswer::recommendation_type)
    }

    /// The risk score (0–100), when the API gave one.
    pub fn risk_score(&self) -> Option<f64> {
        self.answer().and_then(RiskAnswer::risk_score)
    }

    /// The reasons, empty when there is no recommendation.
    pub fn reasons(&self) -> &[Reason] {
        self.answer().map_or(&[], RiskAnswer::reasons)
    }

    /// Whether the risk API was unavailable (the error behaviour decides).
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

    /// Why there is no recommendation, when the API could not give one (outage, quota,
    /// breaker).
    pub fn degraded(&self) -> Option<Degraded> {
        self.unavailable().map(|u| u.cause.degraded())
    }

    /// The bad input, if the request had no usable token.
    pub fn bad_input(&self) -> Option<BadInput> {
        match &self.status {
            AssessmentStatus::BadInput(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is a shadow-mode evaluation (running concurrently).
    pub fn is_shadow(&self) -> bool {
        matches!(self.status, AssessmentStatus::Shadow)
    }

    /// The client's IP address, as resolved.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }
}

impl fmt::Debug for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evaluation")
            .field("action_type", &self.action_type)
            .field("correlation_id", &self.correlation_id)
            .field("action_token", &self.action_token)
            .field("recommendation_type", &self.recommendation_type())
            .field("risk_score", &self.risk_score())
            .field("status", &StatusKind(&self.status))
            .field("client_ip", &self.client_ip)
            .finish()
    }
}

/// A compact `Debug` of a status (the full recommendation is long).
pub(crate) struct StatusKind<'a>(pub(crate) &'a AssessmentStatus);

impl fmt::Debug for StatusKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            AssessmentStatus::Assessed(_) => f.write_str("Assessed"),
            AssessmentStatus::Unavailable(u) => write!(f, "Unavailable({})", u.cause.as_str()),
            AssessmentStatus::BadInput(b) => write!(f, "BadInput({b:?})"),
            AssessmentStatus::ClientLimited { .. } => f.write_str("ClientLimited"),
            AssessmentStatus::Shadow => f.write_str("Shadow"),
        }
    }
}
