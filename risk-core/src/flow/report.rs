//! The result of a protected action: what the handler says ([`Outcome`]), how a response
//! status maps to a result ([`ResultMapping`]), and the report still to be sent
//! ([`PendingReport`]).

use std::fmt;
use std::sync::{Arc, Mutex};

use super::reporter::Reporter;
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
        408 | 429 => ActionResult::Incomplete,
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
/// - except 408 and 429 → `incomplete`: the attempt was not evaluated (timed out, rate
///   limited), so it says nothing about the user;
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

/// A report waiting for its action token (shadow mode): whichever of the assessment and
/// the handler finishes second sends it.
#[derive(Debug, Default)]
pub(crate) struct ShadowSlot {
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
enum SlotState {
    #[default]
    Waiting,
    Token(Option<ActionToken>),
    Outcome(Box<PartialReport>, Reporter),
    Done,
}

#[derive(Debug)]
struct PartialReport {
    result: ActionResult,
    user_id: Option<String>,
    challenge_type: Option<ChallengeType>,
    private_user_identifier: Option<String>,
}

impl PartialReport {
    fn into_report(self, token: ActionToken) -> ActionResultReport {
        let mut r = ActionResultReport::new(token, self.result);
        r.user_id = self.user_id;
        r.challenge_type = self.challenge_type;
        r.private_user_identifier = self.private_user_identifier;
        r
    }
}

impl ShadowSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Called once by the shadow assessment with its action token (`None`: no action).
    pub(crate) fn set_token(&self, token: Option<ActionToken>) {
        let mut st = self.lock();
        match std::mem::take(&mut *st) {
            SlotState::Waiting => *st = SlotState::Token(token),
            SlotState::Outcome(partial, reporter) => {
                *st = SlotState::Done;
                drop(st);
                if let Some(token) = token {
                    let _ = reporter.submit(partial.into_report(token));
                }
            }
            other => *st = other,
        }
    }

    fn set_outcome(&self, partial: PartialReport, reporter: Reporter) {
        let mut st = self.lock();
        match std::mem::take(&mut *st) {
            SlotState::Waiting => *st = SlotState::Outcome(Box::new(partial), reporter),
            SlotState::Token(token) => {
                *st = SlotState::Done;
                drop(st);
                if let Some(token) = token {
                    let _ = reporter.submit(partial.into_report(token));
                }
            }
            other => *st = other,
        }
    }
}

enum Target {
    Token(ActionToken),
    Shadow(Arc<ShadowSlot>),
}

struct Armed {
    target: Target,
    mapping: ResultMapping,
    reporter: Reporter,
}

/// The result report of a request that went through to its handler. Complete it with the
/// handler's status ([`complete`](Self::complete)); if it is dropped instead (client went
/// away, future dropped), `incomplete` is reported. Reporting never blocks: it only queues.
///
/// ```
/// use risk_core::{Outcome, PendingReport};
/// let report = PendingReport::disarmed();
/// assert!(!report.is_armed());
/// report.complete(200, Some(&Outcome::success().with_user_id("u-1")));
/// ```
#[must_use = "complete the report with the handler's status, or drop it to report `incomplete`"]
pub struct PendingReport {
    armed: Option<Armed>,
}

impl fmt::Debug for PendingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match self.armed.as_ref().map(|a| &a.target) {
            None => "disarmed".to_owned(),
            Some(Target::Token(t)) => t.redacted(),
            Some(Target::Shadow(_)) => "shadow".to_owned(),
        };
        f.debug_struct("PendingReport")
            .field("target", &target)
            .finish()
    }
}

impl PendingReport {
    /// A report that sends nothing.
    pub fn disarmed() -> Self {
        Self { armed: None }
    }

    /// A report for `action_token`, sent through `reporter`.
    pub fn new(action_token: ActionToken, mapping: ResultMapping, reporter: Reporter) -> Self {
        Self {
            armed: Some(Armed {
                target: Target::Token(action_token),
                mapping,
                reporter,
            }),
        }
    }

    pub(crate) fn shadow(
        slot: Arc<ShadowSlot>,
        mapping: ResultMapping,
        reporter: Reporter,
    ) -> Self {
        Self {
            armed: Some(Armed {
                target: Target::Shadow(slot),
                mapping,
                reporter,
            }),
        }
    }

    /// Whether completing or dropping it will send a report.
    pub fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    /// The handler ran and answered `status`; `outcome` (if the handler attached one)
    /// overrides the mapped result and adds user id, challenge type and private identifier.
    pub fn complete(mut self, status: u16, outcome: Option<&Outcome>) {
        if let Some(armed) = self.armed.take() {
            let mapped = outcome
                .and_then(|o| o.result)
                .unwrap_or_else(|| armed.mapping.map(status));
            let partial = PartialReport {
                result: mapped,
                user_id: outcome.and_then(|o| o.user_id.clone()),
                challenge_type: outcome.and_then(|o| o.challenge_type.clone()),
                private_user_identifier: outcome.and_then(|o| o.private_user_identifier.clone()),
            };
            Self::send(armed, partial);
        }
    }

    /// Sends nothing.
    pub fn disarm(mut self) {
        self.armed = None;
    }

    fn send(armed: Armed, partial: PartialReport) {
        match armed.target {
            Target::Token(token) => {
                // A full queue is counted and warned about by the reporter.
                let _ = armed.reporter.submit(partial.into_report(token));
            }
            Target::Shadow(slot) => slot.set_outcome(partial, armed.reporter),
        }
    }
}

impl Drop for PendingReport {
    fn drop(&mut self) {
        if let Some(armed) = self.armed.take() {
            let partial = PartialReport {
                result: armed.mapping.dropped(),
                user_id: None,
                challenge_type: None,
                private_user_identifier: None,
            };
            Self::send(armed, partial);
        }
    }
}
