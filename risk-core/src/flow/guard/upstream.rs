//! Asking the risk API for one request, within the circuit breaker and the deadline, and
//! mapping every answer and error into an [`Evaluation`].

use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::GuardInner;
use crate::error::Error;
use crate::flow::breaker::{outcome_of, CallOutcome, Permit};
use crate::flow::evaluation::{AssessmentStatus, Evaluation, Unavailable, UnavailableCause};
use crate::flow::facts::{ActionDetails, BadInput, Token, TokenProblem};
use crate::models::{ActionToken, RiskAnswer, SessionToken, TriggerActionRequest};

/// What the upstream calls produced, before the breaker and the mapping.
pub(super) enum Answer {
    Recommendation(RiskAnswer),
    Failed(Error),
    /// The deadline passed.
    TimedOut,
}

/// The action token of a check while its calls run. When the check is dropped (the client
/// went away) after trigger-action created the action, the action is reported `incomplete`
/// here, once: nothing else holds its token. A check that completes takes the token out.
struct HeldToken<'a> {
    token: Option<ActionToken>,
    /// Whether a token held would come from this guard's trigger-action (not the client).
    created: bool,
    reporter: Option<&'a crate::flow::reporter::Reporter>,
}

impl Drop for HeldToken<'_> {
    fn drop(&mut self) {
        if let (Some(token), true, Some(reporter)) =
            (self.token.take(), self.created, self.reporter)
        {
            tracing::debug!("check dropped after trigger-action: reporting the action incomplete");
            // A full queue is counted and warned about by the reporter.
            let _ = reporter.submit(crate::models::ActionResultReport::new(
                token,
                crate::models::ActionResult::Incomplete,
            ));
        }
    }
}

/// What the guard asked the API with: it decides how the answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AskedWith {
    /// A session token: trigger-action created the action.
    SessionToken,
    /// A secured session token, bound to one action type: a 403 is its mismatch.
    SecuredSessionToken,
    /// The client's action token: its recommendation must name this route's action.
    ActionToken,
    /// The client IP alone (entity evaluation): no token, no action.
    ClientIp,
}

impl GuardInner {
    /// Asks the risk API (breaker and deadline included).
    pub(super) async fn evaluate(
        &self,
        token: Token,
        correlation_id: String,
        details: ActionDetails,
        client_ip: Option<IpAddr>,
        start: Instant,
    ) -> Evaluation {
        let permit = match self.breaker_permit() {
            Ok(permit) => permit,
            // A client's action token is not kept: the API did not vouch for it.
            Err(open) => {
                return Evaluation::from_parts(
                    self.action_type.clone(),
                    correlation_id,
                    None,
                    AssessmentStatus::Unavailable(open),
                    client_ip,
                )
            }
        };
        let asked = match token {
            Token::Session(_) => AskedWith::SessionToken,
            Token::SecuredSession(_) => AskedWith::SecuredSessionToken,
            Token::Action(_) => AskedWith::ActionToken,
        };
        let from_client = asked == AskedWith::ActionToken;
        let mut held = HeldToken {
            token: None,
            created: !from_client,
            reporter: self.reporter.as_ref(),
        };
        let (answer, correlation_id) = match token {
            Token::Action(client_token) => {
                let action_token = held.token.insert(client_token);
                let call = async {
                    match self.recommender.recommendation(action_token).await {
                        Ok(rec) => Answer::Recommendation(rec),
                        Err(e) => Answer::Failed(e),
                    }
                };
                (self.within_deadline(start, call).await, correlation_id)
            }
            Token::Session(session) | Token::SecuredSession(session) => {
                // Built before the timed call, which then holds only references: the futures
                // moved into the timeout stay small (the request is some 400 bytes). The
                // correlation id goes into the request, and comes back out of it after.
                let secured = asked == AskedWith::SecuredSessionToken;
                let mut request = self.trigger_request(session, secured, correlation_id, details);
                let answer = self
                    .within_deadline(start, self.trigger(&request, &mut held.token))
                    .await;
                (answer, request.correlation_id.take().unwrap_or_default())
            }
        };
        // Only a token the API vouched for is kept: one trigger-action created, or the
        // client's once its recommendation matched this route.
        let (outcome, vouched, status) = self.map_answer(answer, asked);
        let held = held.token.take();
        let action_token = if vouched { held } else { None };
        if let Some(p) = permit {
            p.record(outcome, start);
        }
        Evaluation::from_parts(
            self.action_type.clone(),
            correlation_id,
            action_token,
            status,
            client_ip,
        )
    }

    /// A permit of the circuit breaker (none without one), or why no call may go out.
    pub(super) fn breaker_permit(&self) -> Result<Option<Permit>, Unavailable> {
        let Some(breaker) = &self.breaker else {
            return Ok(None);
        };
        breaker.acquire().map(Some).map_err(|wait| {
            Unavailable::new(
                UnavailableCause::CircuitOpen,
                "the risk API circuit breaker is open",
            )
            .with_retry_after(Some(wait.max(Duration::from_secs(1))))
        })
    }

    /// `call`, cut short at the deadline (counted from the start of the check; one too far
    /// away to be represented is no deadline).
    pub(super) async fn within_deadline(
        &self,
        start: Instant,
        call: impl std::future::Future<Output = Answer>,
    ) -> Answer {
        match start.checked_add(self.deadline) {
            Some(deadline) => tokio::time::timeout_at(deadline, call)
                .await
                .unwrap_or(Answer::TimedOut),
            None => call.await,
        }
    }

    /// The session-token calls: trigger-action with its recommendation (single-call mode),
    /// or trigger-action then recommendation. `held` keeps the action token the calls are
    /// about, even when the deadline cuts them short.
    async fn trigger(
        &self,
        request: &TriggerActionRequest,
        held: &mut Option<ActionToken>,
    ) -> Answer {
        if self.single_call {
            return match self.recommender.trigger_with_recommendation(request).await {
                Ok((created, recommendation)) => {
                    *held = Some(created);
                    match recommendation {
                        Ok(rec) => Answer::Recommendation(rec),
                        Err(e) => Answer::Failed(e),
                    }
                }
                Err(e) => Answer::Failed(e),
            };
        }
        let action_token = match self.recommender.trigger_action(request).await {
            Ok(created) => held.insert(created),
            Err(e) => return Answer::Failed(e),
        };
        match self.recommender.recommendation(action_token).await {
            Ok(rec) => Answer::Recommendation(rec),
            Err(e) => Answer::Failed(e),
        }
    }

    /// What the breaker counts, whether the held action token is vouched for, and the status.
    pub(super) fn map_answer(
        &self,
        answer: Answer,
        asked: AskedWith,
    ) -> (CallOutcome, bool, AssessmentStatus) {
        let secured = asked == AskedWith::SecuredSessionToken;
        let from_client = asked == AskedWith::ActionToken;
        match answer {
            // A secured session token bound to another action type ("Action type mismatch"):
            // bad input, never an outage.
            Answer::Failed(Error::Forbidden { .. }) if secured => (
                CallOutcome::Neutral,
                false,
                AssessmentStatus::BadInput(BadInput::InvalidToken(TokenProblem::WrongAction)),
            ),
            // A client's token must prove it belongs to this route's action: one of another
            // action (say `logout`) replayed here, or one whose action the API did not say,
            // is refused.
            Answer::Recommendation(rec)
                if from_client && rec.action_type() != Some(&self.action_type) =>
            {
                let wrong = BadInput::InvalidToken(TokenProblem::WrongAction);
                (
                    CallOutcome::Success,
                    false,
                    AssessmentStatus::BadInput(wrong),
                )
            }
            Answer::Recommendation(rec) => {
                (CallOutcome::Success, true, AssessmentStatus::Assessed(rec))
            }
            // A garbage, expired or reused token: bad input, never an outage (a fail-open
            // route must not let it through), and never reported on.
            Answer::Failed(e @ (Error::BadRequest { .. } | Error::BlacklistedToken { .. })) => {
                let rejected = TokenProblem::Rejected {
                    status: e.status().unwrap_or(400),
                };
                (
                    outcome_of(&e),
                    false,
                    AssessmentStatus::BadInput(BadInput::InvalidToken(rejected)),
                )
            }
            // The tenant's quota is spent (429, or no budget left): not an outage.
            Answer::Failed(e) if e.is_quota() => {
                let quota = Unavailable::new(UnavailableCause::Quota, e.to_string())
                    .with_retry_after(e.retry_after());
                (
                    outcome_of(&e),
                    !from_client,
                    AssessmentStatus::Unavailable(quota),
                )
            }
            // An answer without a readable decision: its own kind, decided as an outage is.
            // (The body's excerpt stays out of the message, which is logged.)
            Answer::Failed(ref e @ Error::MalformedAnswer { ref message, .. }) => (
                outcome_of(e),
                !from_client,
                AssessmentStatus::Unavailable(Unavailable::new(
                    UnavailableCause::Malformed,
                    format!("malformed answer: {message}"),
                )),
            ),
            Answer::Failed(e) => {
                let unavailable = Unavailable::new(
                    UnavailableCause::Api {
                        kind: e.kind(),
                        status: e.status(),
                    },
                    e.to_string(),
                )
                .with_retry_after(e.retry_after());
                (
                    outcome_of(&e),
                    !from_client,
                    AssessmentStatus::Unavailable(unavailable),
                )
            }
            Answer::TimedOut => (
                CallOutcome::Failure,
                !from_client,
                AssessmentStatus::Unavailable(Unavailable::new(
                    UnavailableCause::Timeout,
                    format!("no recommendation within {:?}", self.deadline),
                )),
            ),
        }
    }

    fn trigger_request(
        &self,
        session: SessionToken,
        secured: bool,
        correlation_id: String,
        details: ActionDetails,
    ) -> TriggerActionRequest {
        let action_type = self.action_type.clone();
        let req = if secured {
            TriggerActionRequest::secured(session, action_type)
        } else {
            TriggerActionRequest::new(session, action_type)
        };
        let mut req = req.with_correlation_id(correlation_id);
        let ActionDetails {
            claimed_user,
            user_id,
            transaction_data,
            custom_attributes,
        } = details;
        if let Some(user) = claimed_user {
            req.claimed_user_id = Some(user.id);
            req.claimed_user_id_type = user.id_type;
        }
        req.user_id = user_id;
        req.transaction_data = transaction_data;
        req.custom_attributes = match &self.custom_attributes {
            None if custom_attributes.is_empty() => None,
            None => Some(custom_attributes),
            Some(base) => {
                let mut merged = base.clone();
                merged.extend(custom_attributes);
                Some(merged)
            }
        };
        req
    }
}
