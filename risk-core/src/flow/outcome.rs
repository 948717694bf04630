//! How a protected action ended: what the handler says ([`Outcome`]) and how a response
//! status maps to a result ([`ResultMapping`]).

use std::fmt;
use std::sync::Arc;

use crate::models::{ActionResult, ActionResultReport, ActionToken, ChallengeType};

/// What the handler knows about how the action ended. Attach it to the response (adapters
/// read it from the response extensions); it overrides the status mapping.
///
/// ```
/// use risk_core::{ActionResult, ChallengeType, Outcome};
/// let o = Outcome::success().with_user_id("user-7").with_challenge_type(ChallengeType::SmsOtp);
/// assert_eq!(o.result, Some(ActionResult::Success));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The result; `None` keeps the one mapped from the status.
    pub result: Option<ActionResult>,
    /// The now-authenticated user id.
    pub user_id: Option<String>,
    /// The challenge the user passed or failed.
    pub challenge_type: Option<ChallengeType>,
    /// A private identifier of the user.
    pub private_user_identifier: Option<String>,
}

impl Outcome {
    /// An outcome that only adds details (result from the status mapping).
    pub fn new() -> Self {
        Self::default()
    }

    /// The action succeeded.
    pub fn success() -> Self {
        Self::with_result(ActionResult::Success)
    }

    /// The action failed.
    pub fn failure() -> Self {
        Self::with_result(ActionResult::Failure)
    }

    /// The action was abandoned.
    pub fn incomplete() -> Self {
        Self::with_result(ActionResult::Incomplete)
    }

    /// An outcome with `result`.
    pub fn with_result(result: ActionResult) -> Self {
        Self {
            result: Some(result),
            ..Self::default()
        }
    }

    /// Sets the user id.
    #[must_use]
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the challenge type.
    #[must_use]
    pub fn with_challenge_type(mut self, challenge_type: ChallengeType) -> Self {
        self.challenge_type = Some(challenge_type);
        self
    }

    /// Sets the private user identifier.
    #[must_use]
    pub fn with_private_user_identifier(mut self, id: impl Into<String>) -> Self {
        self.private_user_identifier = Some(id.into());
        self
    }
}

/// The default status mapping (see [`ResultMapping`]).
pub fn default_result_for_status(status: u16) -> ActionResult {
    match status {
        200..=399 => ActionResult::Success,
        408 | 429 | 499 => ActionResult::Incomplete,
        400..=499 => ActionResult::Failure,
        _ => ActionResult::Incomplete,
    }
}

/// Maps the handler's response status to an action result.
///
/// Default:
/// - 2xx, 3xx → `success` (a redirect after a login form is a success);
/// - 4xx → `failure`: the application refused the attempt (wrong credentials 401/403,
///   rejected input 400/422...);
/// - except 408, 429 and 499 → `incomplete`: the attempt was not evaluated (timed out, rate
///   limited, the client closed the request), so it says nothing about the user;
/// - 5xx and 1xx → `incomplete`: the server failed, not the user;
/// - dropped (the client went away, the future was dropped) → `incomplete`.
///
/// ```
/// use risk_core::{ActionResult, ResultMapping};
/// let m = ResultMapping::default();
/// assert_eq!(m.map(302), ActionResult::Success);
/// assert_eq!(m.map(401), ActionResult::Failure);
/// assert_eq!(m.map(429), ActionResult::Incomplete);
/// assert_eq!(m.map(503), ActionResult::Incomplete);
/// let strict = ResultMapping::new(|s| if s == 200 { ActionResult::Success } else { ActionResult::Failure });
/// assert_eq!(strict.map(204), ActionResult::Failure);
/// ```
#[derive(Clone)]
pub struct ResultMapping {
    map: Option<Arc<dyn Fn(u16) -> ActionResult + Send + Sync>>,
    dropped: ActionResult,
}

impl Default for ResultMapping {
    fn default() -> Self {
        Self {
            map: None,
            dropped: ActionResult::Incomplete,
        }
    }
}

impl fmt::Debug for ResultMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultMapping")
            .field("custom", &self.map.is_some())
            .field("dropped", &self.dropped)
            .finish()
    }
}

impl ResultMapping {
    /// A custom mapping of statuses.
    pub fn new(map: impl Fn(u16) -> ActionResult + Send + Sync + 'static) -> Self {
        Self {
            map: Some(Arc::new(map)),
            dropped: ActionResult::Incomplete,
        }
    }

    /// Sets the result reported when the response never came (default `incomplete`).
    #[must_use]
    pub fn when_dropped(mut self, result: ActionResult) -> Self {
        self.dropped = result;
        self
    }

    /// The result for `status`.
    pub fn map(&self, status: u16) -> ActionResult {
        match &self.map {
            Some(f) => f(status),
            None => default_result_for_status(status),
        }
    }

    /// The result reported for a dropped response.
    pub fn dropped(&self) -> ActionResult {
        self.dropped
    }
}

/// A result report still missing its action token.
#[derive(Debug)]
pub(crate) struct ReportDraft {
    pub(crate) result: ActionResult,
    pub(crate) user_id: Option<String>,
    pub(crate) challenge_type: Option<ChallengeType>,
    pub(crate) private_user_identifier: Option<String>,
}

impl ReportDraft {
    /// A draft with `result` and no details.
    pub(crate) fn of(result: ActionResult) -> Self {
        Self {
            result,
            user_id: None,
            challenge_type: None,
            private_user_identifier: None,
        }
    }

    /// The handler answered `status`; `outcome` overrides the mapped result and adds details.
    pub(crate) fn completed(
        mapping: &ResultMapping,
        status: u16,
        outcome: Option<&Outcome>,
    ) -> Self {
        let Some(outcome) = outcome else {
            return Self::of(mapping.map(status));
        };
        Self {
            result: outcome.result.unwrap_or_else(|| mapping.map(status)),
            user_id: outcome.user_id.clone(),
            challenge_type: outcome.challenge_type.clone(),
            private_user_identifier: outcome.private_user_identifier.clone(),
        }
    }

    pub(crate) fn into_report(self, token: ActionToken) -> ActionResultReport {
        let mut r = ActionResultReport::new(token, self.result);
        r.user_id = self.user_id;
        r.challenge_type = self.challenge_type;
        r.private_user_identifier = self.private_user_identifier;
        r
    }
}
