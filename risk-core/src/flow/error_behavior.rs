//! What a route does when the risk API fails, the deadline passes or the circuit is open.

use std::fmt;
use std::sync::Arc;

use super::evaluation::Evaluation;
use super::verdict::{ChallengeDetails, DenialReason, Verdict};

/// The route's error behaviour (the journey step's "abort or error branch").
///
/// The default is [`ErrorBehavior::FailOpen`]: an outage of the risk service must not lock
/// every user out; the handler can still see [`Evaluation::is_unavailable`] and why.
///
/// ```
/// use risk_core::*;
/// let a = Evaluation::new(ActionType::Login, "c",
///     AssessmentStatus::Unavailable(Unavailable::new(UnavailableCause::Timeout, "slow")));
/// assert!(ErrorBehavior::FailOpen.apply(&a).is_proceed());
/// assert_eq!(ErrorBehavior::FailClosed.apply(&a).status(), Some(503));
/// let custom = ErrorBehavior::custom(|_a: &Evaluation| Verdict::deny(DenialReason::Custom("later".into())));
/// assert_eq!(custom.kind(), ErrorBehaviorKind::Custom);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum ErrorBehavior {
    /// Proceed; the assessment says it is unavailable and why.
    #[default]
    FailOpen,
    /// Deny with 503 ([`DenialReason::Unavailable`]) and a `Retry-After`.
    FailClosed,
    /// Answer with a challenge (403) carrying the action token if one was obtained.
    Challenge,
    /// An application-defined decision.
    Custom(Arc<dyn Fn(&Evaluation) -> Verdict + Send + Sync>),
}

impl ErrorBehavior {
    /// A custom behaviour from a closure.
    pub fn custom(f: impl Fn(&Evaluation) -> Verdict + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(f))
    }

    /// The verdict for an unavailable `evaluation`.
    pub fn apply(&self, evaluation: &Evaluation) -> Verdict {
        match self {
            Self::FailOpen => Verdict::Proceed,
            Self::FailClosed => Verdict::deny(DenialReason::Unavailable),
            Self::Challenge => {
                Verdict::Challenge(ChallengeDetails::new(evaluation.action_token().cloned()))
            }
            Self::Custom(f) => f(evaluation),
        }
    }

    /// The kind, without the closure.
    pub fn kind(&self) -> ErrorBehaviorKind {
        match self {
            Self::FailOpen => ErrorBehaviorKind::FailOpen,
            Self::FailClosed => ErrorBehaviorKind::FailClosed,
            Self::Challenge => ErrorBehaviorKind::Challenge,
            Self::Custom(_) => ErrorBehaviorKind::Custom,
        }
    }
}

impl fmt::Debug for ErrorBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.kind(), f)
    }
}

/// The kind of an [`ErrorBehavior`] (recorded in the assessment and the trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorBehaviorKind {
    /// Proceeded.
    FailOpen,
    /// Denied with 503.
    FailClosed,
    /// Challenged.
    Challenge,
    /// A custom closure decided.
    Custom,
}

impl ErrorBehaviorKind {
    /// `fail_open`, `fail_closed`, `challenge` or `custom`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FailOpen => "fail_open",
            Self::FailClosed => "fail_closed",
            Self::Challenge => "challenge",
            Self::Custom => "custom",
        }
    }
}

impl fmt::Display for ErrorBehaviorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
