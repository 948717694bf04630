//! Policies: turning an [`Evaluation`] into a [`Verdict`].
//!
//! The guard asks the policy about assessed requests and bad input (missing or unusable
//! token). When the risk API is unavailable, the route's
//! [`ErrorBehavior`](crate::ErrorBehavior) decides instead.

use super::evaluation::{AssessmentStatus, Evaluation};
use super::facts::BadInput;
use super::verdict::{Denial, DenialReason, Verdict, VerdictKind};
use crate::error::ConfigError;
use crate::models::RecommendationType;

/// Decides what to do with an assessed request.
///
/// Closures `Fn(&Evaluation) -> Verdict` are policies:
///
/// ```
/// use risk_core::{DefaultPolicy, Evaluation, Policy, Verdict};
/// // Deny everything scored 90 or more, otherwise do what the default policy does.
/// let strict = |a: &Evaluation| match a.risk_score() {
///     Some(score) if score >= 90.0 => Verdict::deny(risk_core::DenialReason::Risk),
///     _ => DefaultPolicy.decide(a),
/// };
/// fn takes_policy(_: impl Policy) {}
/// takes_policy(strict);
/// ```
pub trait Policy: Send + Sync + 'static {
    /// The verdict for `evaluation` (an assessed request or bad input).
    fn decide(&self, evaluation: &Evaluation) -> Verdict;
}

impl<F> Policy for F
where
    F: Fn(&Evaluation) -> Verdict + Send + Sync + 'static,
{
    fn decide(&self, evaluation: &Evaluation) -> Verdict {
        self(evaluation)
    }
}

/// The verdict for bad input: 401 for a missing token, 400 for an unusable one.
fn bad_input_verdict(bad: BadInput) -> Verdict {
    match bad {
        BadInput::MissingToken => Verdict::deny(DenialReason::MissingToken),
        BadInput::InvalidToken(p) => Verdict::deny(DenialReason::InvalidToken(p)),
        BadInput::UnknownClientIp => Verdict::Deny(Denial::with_status(
            DenialReason::Custom("The client's address is unknown.".to_owned()),
            400,
        )),
    }
}

/// The default policy.
///
/// | evaluation | verdict |
/// |---|---|
/// | TRUST, ALLOW | proceed |
/// | CHALLENGE | challenge (403, with the action token and the suggested challenge type) |
/// | DENY | deny (403, [`DenialReason::Risk`]) |
/// | a recommendation type this crate does not know | challenge: the cautious choice that still lets a legitimate user through |
/// | missing token | deny 401 |
/// | invalid token | deny 400 |
/// | unavailable (only when called directly; the guard uses the error behaviour) | deny 503 |
/// | client limited (only when called directly; the guard answers on its own) | deny 429 |
/// | shadow | proceed |
///
/// ```
/// use risk_core::*;
/// let a = Evaluation::new(ActionType::Login, "c", AssessmentStatus::BadInput(BadInput::MissingToken));
/// assert_eq!(DefaultPolicy.decide(&a).status(), Some(401));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPolicy;

impl Policy for DefaultPolicy {
    fn decide(&self, evaluation: &Evaluation) -> Verdict {
        match evaluation.status() {
            AssessmentStatus::Assessed(rec) => {
                Verdict::of_kind(default_kind(rec.recommendation_type()), evaluation)
            }
            AssessmentStatus::BadInput(bad) => bad_input_verdict(*bad),
            AssessmentStatus::Unavailable(_) => Verdict::deny(DenialReason::Unavailable),
            AssessmentStatus::ClientLimited { .. } => Verdict::deny(DenialReason::RateLimited),
            AssessmentStatus::Shadow => Verdict::Proceed,
        }
    }
}

fn default_kind(t: &RecommendationType) -> VerdictKind {
    match t {
        RecommendationType::Trust | RecommendationType::Allow => VerdictKind::Proceed,
        RecommendationType::Deny => VerdictKind::Deny,
        // CHALLENGE and anything unknown.
        _ => VerdictKind::Challenge,
    }
}

/// Orders verdict kinds: proceed < challenge < deny.
fn severity(kind: VerdictKind) -> u8 {
    match kind {
        VerdictKind::Proceed => 0,
        VerdictKind::Challenge => 1,
        VerdictKind::Deny => 2,
    }
}

/// Always proceeds, even on bad input; the evaluation is still made (on the request path),
/// traced and reported. The counterpart of the API's preview mode. To take the evaluation
/// off the request path as well, use [shadow mode](crate::GuardBuilder::shadow).
///
/// ```
/// use risk_core::*;
/// let a = Evaluation::new(ActionType::Login, "c", AssessmentStatus::BadInput(BadInput::MissingToken));
/// assert!(MonitorOnly.decide(&a).is_proceed());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MonitorOnly;

impl Policy for MonitorOnly {
    fn decide(&self, _evaluation: &Evaluation) -> Verdict {
        Verdict::Proceed
    }
}

/// Decides by risk score, edges inclusive: `score >= deny_at` denies,
/// `challenge_at <= score < deny_at` challenges, lower scores proceed; but never more
/// leniently than the recommendation: the verdict is the more severe of the score's and
/// [`DefaultPolicy`]'s (a DENY stays a denial, a CHALLENGE is at least a challenge,
/// whatever the score). Without a score (or a non-finite one), and for bad input, it does
/// what [`DefaultPolicy`] does.
///
/// | recommendation | score below `challenge_at` | from `challenge_at` | from `deny_at` |
/// |---|---|---|---|
/// | TRUST, ALLOW | proceed | challenge | deny |
/// | CHALLENGE (or unknown) | challenge | challenge | deny |
/// | DENY | deny | deny | deny |
///
/// ```
/// use risk_core::*;
/// let policy = ScoreThresholds::new(60.0, 90.0).unwrap();
/// let scored = |s| Evaluation::new(ActionType::Login, "c",
///     AssessmentStatus::Assessed(RiskAnswer::from(RecommendationResponse::new(RecommendationType::Allow, s))));
/// assert_eq!(policy.decide(&scored(59.9)).kind(), VerdictKind::Proceed);
/// assert_eq!(policy.decide(&scored(60.0)).kind(), VerdictKind::Challenge);
/// assert_eq!(policy.decide(&scored(90.0)).kind(), VerdictKind::Deny);
/// // A low score does not overrule a DENY.
/// let denied = Evaluation::new(ActionType::Login, "c",
///     AssessmentStatus::Assessed(RiskAnswer::from(RecommendationResponse::new(RecommendationType::Deny, 5.0))));
/// assert_eq!(policy.decide(&denied).kind(), VerdictKind::Deny);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreThresholds {
    challenge_at: f64,
    deny_at: f64,
}

impl ScoreThresholds {
    /// Thresholds between 0 and 100 with `challenge_at <= deny_at`.
    pub fn new(challenge_at: f64, deny_at: f64) -> Result<Self, ConfigError> {
        let in_range = |v: f64| v.is_finite() && (0.0..=100.0).contains(&v);
        if !in_range(challenge_at) || !in_range(deny_at) {
            return Err(ConfigError::InvalidValue {
                setting: "score_thresholds",
                reason: format!(
                    "thresholds must be between 0 and 100 (got challenge_at={challenge_at}, deny_at={deny_at})"
                ),
            });
        }
        if challenge_at > deny_at {
            return Err(ConfigError::InvalidValue {
                setting: "score_thresholds",
                reason: format!(
                    "challenge_at ({challenge_at}) must not be above deny_at ({deny_at})"
                ),
            });
        }
        Ok(Self {
            challenge_at,
            deny_at,
        })
    }

    /// The score from which requests are challenged.
    pub fn challenge_at(&self) -> f64 {
        self.challenge_at
    }

    /// The score from which requests are denied.
    pub fn deny_at(&self) -> f64 {
        self.deny_at
    }
}

impl Policy for ScoreThresholds {
    fn decide(&self, evaluation: &Evaluation) -> Verdict {
        match (evaluation.risk_score(), evaluation.recommendation_type()) {
            (Some(score), Some(recommended)) if score.is_finite() => {
                let by_score = if score >= self.deny_at {
                    VerdictKind::Deny
                } else if score >= self.challenge_at {
                    VerdictKind::Challenge
                } else {
                    VerdictKind::Proceed
                };
                let by_recommendation = default_kind(recommended);
                let kind = if severity(by_score) >= severity(by_recommendation) {
                    by_score
                } else {
                    by_recommendation
                };
                Verdict::of_kind(kind, evaluation)
            }
            _ => DefaultPolicy.decide(evaluation),
        }
    }
}

/// Maps each recommendation type to a verdict kind. Starts as [`DefaultPolicy`]'s mapping;
/// bad input is handled as by [`DefaultPolicy`].
///
/// ```
/// use risk_core::*;
/// // Challenge instead of denying.
/// let policy = RecommendationMap::default().deny(VerdictKind::Challenge);
/// let a = Evaluation::new(ActionType::Login, "c",
///     AssessmentStatus::Assessed(RiskAnswer::from(RecommendationResponse::new(RecommendationType::Deny, 99.0))));
/// assert_eq!(policy.decide(&a).kind(), VerdictKind::Challenge);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct RecommendationMap {
    trust: VerdictKind,
    allow: VerdictKind,
    challenge: VerdictKind,
    deny: VerdictKind,
    unknown: VerdictKind,
}

impl Default for RecommendationMap {
    fn default() -> Self {
        Self {
            trust: VerdictKind::Proceed,
            allow: VerdictKind::Proceed,
            challenge: VerdictKind::Challenge,
            deny: VerdictKind::Deny,
            unknown: VerdictKind::Challenge,
        }
    }
}

impl RecommendationMap {
    /// Sets the verdict for TRUST (default proceed).
    pub fn trust(mut self, kind: VerdictKind) -> Self {
        self.trust = kind;
        self
    }

    /// Sets the verdict for ALLOW (default proceed).
    pub fn allow(mut self, kind: VerdictKind) -> Self {
        self.allow = kind;
        self
    }

    /// Sets the verdict for CHALLENGE (default challenge).
    pub fn challenge(mut self, kind: VerdictKind) -> Self {
        self.challenge = kind;
        self
    }

    /// Sets the verdict for DENY (default deny).
    pub fn deny(mut self, kind: VerdictKind) -> Self {
        self.deny = kind;
        self
    }

    /// Sets the verdict for a type this crate does not know (default challenge).
    pub fn unknown(mut self, kind: VerdictKind) -> Self {
        self.unknown = kind;
        self
    }

    /// The verdict kind for a recommendation type.
    pub fn kind_for(&self, t: &RecommendationType) -> VerdictKind {
        match t {
            RecommendationType::Trust => self.trust,
            RecommendationType::Allow => self.allow,
            RecommendationType::Challenge => self.challenge,
            RecommendationType::Deny => self.deny,
            _ => self.unknown,
        }
    }
}

impl Policy for RecommendationMap {
    fn decide(&self, evaluation: &Evaluation) -> Verdict {
        match evaluation.recommendation_type() {
            Some(t) => Verdict::of_kind(self.kind_for(t), evaluation),
            None => DefaultPolicy.decide(evaluation),
        }
    }
}

/// The policy of a step-up route (the one-time code, passkey... that completes a challenged
/// action): the request proceeds only when the action's recommendation was CHALLENGE; any
/// other action token is refused (403 `access_denied`), so a step-up cannot be used to
/// upgrade an allowed, denied or unrelated action. Bad input is handled as by
/// [`DefaultPolicy`]. Use it in action-token mode
/// ([`GuardBuilder::session_tokens`](crate::GuardBuilder::session_tokens)`(false)`).
///
/// ```
/// use risk_core::*;
/// let challenged = Evaluation::new(ActionType::Login, "c",
///     AssessmentStatus::Assessed(RiskAnswer::from(RecommendationResponse::new(RecommendationType::Challenge, 60.0))));
/// assert!(StepUp.decide(&challenged).is_proceed());
/// let allowed = Evaluation::new(ActionType::Login, "c",
///     AssessmentStatus::Assessed(RiskAnswer::from(RecommendationResponse::new(RecommendationType::Allow, 5.0))));
/// assert_eq!(StepUp.decide(&allowed).status(), Some(403));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StepUp;

impl Policy for StepUp {
    fn decide(&self, evaluation: &Evaluation) -> Verdict {
        match evaluation.recommendation_type() {
            Some(RecommendationType::Challenge) => Verdict::Proceed,
            Some(_) => Verdict::deny(DenialReason::Custom(
                "There is no challenge to complete for this action.".to_owned(),
            )),
            None => DefaultPolicy.decide(evaluation),
        }
    }
}
