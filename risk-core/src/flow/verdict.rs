//! What a policy or an error behaviour decides: a [`Verdict`].

use std::fmt;

use super::evaluation::Evaluation;
use super::facts::TokenProblem;
use crate::models::{ActionToken, ChallengeType};

/// The kind of a [`Verdict`], without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerdictKind {
    /// Let the request through to the handler.
    Proceed,
    /// Answer with a step-up challenge.
    Challenge,
    /// Refuse the request.
    Deny,
}

impl VerdictKind {
    /// `proceed`, `challenge` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proceed => "proceed",
            Self::Challenge => "challenge",
            Self::Deny => "deny",
        }
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with a request. Carries what an adapter needs to build its response, without
/// any framework type.
///
/// ```
/// use risk_core::{DenialReason, Verdict, VerdictKind};
/// let v = Verdict::deny(DenialReason::Risk);
/// assert_eq!(v.kind(), VerdictKind::Deny);
/// assert_eq!(v.status(), Some(403));
/// assert_eq!(Verdict::Proceed.status(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Verdict {
    /// Let the request through.
    Proceed,
    /// Ask for a step-up.
    Challenge(ChallengeDetails),
    /// Refuse.
    Deny(Denial),
}

impl Verdict {
    /// The kind of this verdict.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Self::Proceed => VerdictKind::Proceed,
            Self::Challenge(_) => VerdictKind::Challenge,
            Self::Deny(_) => VerdictKind::Deny,
        }
    }

    /// Whether the request goes through.
    pub fn is_proceed(&self) -> bool {
        matches!(self, Self::Proceed)
    }

    /// A denial with the default status of its reason.
    pub fn deny(reason: DenialReason) -> Self {
        Self::Deny(Denial::new(reason))
    }

    /// A challenge (status 403) for the given action token, without a suggested challenge type.
    pub fn challenge(action_token: Option<ActionToken>) -> Self {
        Self::Challenge(ChallengeDetails::new(action_token))
    }

    /// A verdict of `kind` for `evaluation`: a challenge carries its action token and the
    /// challenge type the service suggested; a denial is [`DenialReason::Risk`].
    pub fn of_kind(kind: VerdictKind, evaluation: &Evaluation) -> Self {
        match kind {
            VerdictKind::Proceed => Self::Proceed,
            VerdictKind::Challenge => Self::Challenge(ChallengeDetails::for_evaluation(evaluation)),
            VerdictKind::Deny => Self::deny(DenialReason::Risk),
        }
    }

    /// The HTTP status of the response this verdict calls for (`None` for proceed).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Proceed => None,
            Self::Challenge(c) => Some(c.status),
            Self::Deny(d) => Some(d.status),
        }
    }
}

/// What a challenge response needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChallengeDetails {
    /// HTTP status of the challenge response (default 403).
    pub status: u16,
    /// The action token the front end needs for the step-up and its result report.
    pub action_token: Option<ActionToken>,
    /// The challenge the service suggests, if any.
    pub challenge_type: Option<ChallengeType>,
}

impl ChallengeDetails {
    /// Status 403, the given action token, no challenge type.
    pub fn new(action_token: Option<ActionToken>) -> Self {
        Self {
            status: 403,
            action_token,
            challenge_type: None,
        }
    }

    /// Status 403 with the evaluation's action token and suggested challenge type.
    pub fn for_evaluation(evaluation: &Evaluation) -> Self {
        Self {
            status: 403,
            action_token: evaluation.action_token().cloned(),
            challenge_type: evaluation
                .answer()
                .and_then(|a| a.challenge_type().cloned()),
        }
    }

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Sets the challenge type.
    #[must_use]
    pub fn with_challenge_type(mut self, challenge_type: ChallengeType) -> Self {
        self.challenge_type = Some(challenge_type);
        self
    }
}

/// What a denial response needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Denial {
    /// HTTP status of the denial.
    pub status: u16,
    /// Why.
    pub reason: DenialReason,
}

impl Denial {
    /// A denial with the default status of `reason` (see [`DenialReason::default_status`]).
    pub fn new(reason: DenialReason) -> Self {
        Self {
            status: reason.default_status(),
            reason,
        }
    }

    /// A denial with an explicit status.
    pub fn with_status(reason: DenialReason, status: u16) -> Self {
        Self { status, reason }
    }
}

/// Why a request is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenialReason {
    /// The risk is too high (403).
    Risk,
    /// No token header (401).
    MissingToken,
    /// The token cannot be used (400).
    InvalidToken(TokenProblem),
    /// The risk service is unavailable and the route fails closed (503).
    Unavailable,
    /// The client made too many attempts (429, see [`ClientLimit`](crate::ClientLimit)).
    RateLimited,
    /// An application-defined reason (403); the text is shown to the client by the default
    /// responder, so keep it free of internals.
    Custom(String),
}

impl DenialReason {
    /// 403 for risk and custom, 401 missing token, 400 invalid token, 503 unavailable, 429
    /// rate limited.
    pub fn default_status(&self) -> u16 {
        match self {
            Self::Risk | Self::Custom(_) => 403,
            Self::MissingToken => 401,
            Self::InvalidToken(_) => 400,
            Self::Unavailable => 503,
            Self::RateLimited => 429,
        }
    }

    /// A short stable name (`risk`, `missing_token`, `invalid_token`, `unavailable`, `custom`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Risk => "risk",
            Self::MissingToken => "missing_token",
            Self::InvalidToken(_) => "invalid_token",
            Self::Unavailable => "unavailable",
            Self::RateLimited => "rate_limited",
            Self::Custom(_) => "custom",
        }
    }
}
