//! Actions: trigger-action (from the back end or the SDK), the recommendation of an action
//! token, and the reported result, with the links and trust a successful result creates.

use std::sync::atomic::Ordering;

use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActivityEvent, AssigneeRequest,
    ClearUserRequest, EvaluateRequest, EvaluateResponse, PreviewRule, RecommendationResponse,
    RecommendationType, TriggerActionRequest, TriggerActionResponse,
};
use serde_json::Value;

use crate::ids;
use crate::telemetry::SdkTriggerAction;

use super::assessment::{NewAction, RecommendationIds};
use super::{Action, ApiError, Core, EmulatorState};

const ACTION_PREFIX: &str = "at_";
const MAX_ACTIONS: usize = 500_000;

/// A trigger-action needs a non-blank action type.
fn check_action_type(req: &TriggerActionRequest) -> Result<(), ApiError> {
    if req.action_type.as_str().trim().is_empty() {
        return Err(ApiError::bad_request("action_type must not be empty"));
    }
    Ok(())
}

/// The prefix of a secured session token (the emulator's own format: it carries its binding).
const SECURED_PREFIX: &str = "sst_";

/// A secured session token for `session_token`, bound to `action_type`
/// (`getSecureSessionToken(actionType)`).
pub(crate) fn secured_session_token(session_token: &str, action_type: &str) -> String {
    let hex: String = action_type.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{SECURED_PREFIX}{hex}.{session_token}")
}

/// The session token and the action type a secured session token stands for.
fn secured_session_of(secured: &str) -> Result<(String, String), ApiError> {
    let malformed = || ApiError::bad_request("malformed secured_session_token");
    let (hex, session) = secured
        .strip_prefix(SECURED_PREFIX)
        .and_then(|rest| rest.split_once('.'))
        .ok_or_else(malformed)?;
    let bound = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(malformed)?;
    Ok((session.to_owned(), bound))
}

/// The session a trigger-action is for: its session token, or its secured session token
/// when it is bound to the request's action type (403 "Action type mismatch" otherwise).
fn session_of(req: &TriggerActionRequest) -> Result<String, ApiError> {
    if let Some(secured) = &req.secured_session_token {
        let malformed = || ApiError::bad_request("malformed secured_session_token");
        let (hex, session) = secured
            .expose()
            .strip_prefix(SECURED_PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .ok_or_else(malformed)?;
        let bound = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(malformed)?;
        if !bound.eq_ignore_ascii_case(req.action_type.as_str()) {
            return Err(ApiError::new(403, "Action type mismatch"));
        }
        return Ok(session.to_owned());
    }
    req.session_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .ok_or_else(|| ApiError::bad_request("session_token or secured_session_token is required"))
}

impl EmulatorState {
    /// trigger-action, from the back end (`client` = the token's client) or the SDK (`None`).
    pub(crate) fn trigger(
        &self,
        req: TriggerActionRequest,
        client: Option<&str>,
        with_recommendation: bool,
    ) -> Result<TriggerActionResponse, ApiError> {
        check_action_type(&req)?;
        let session_token = session_of(&req)?;
        let now = self.clock.now_ms();
        let (action_token, ids) = self.new_action_ids();
        let mut guard = self.core.lock();
        Self::prune_actions(&mut guard, now, self.ttl_ms());
        let core = &mut *guard;
        let Some(session) = core.sessions.get(&session_token) else {
            return Err(ApiError::bad_request("unknown session token"));
        };
        let new = NewAction::new(&req, session, client, now);
        let signals = new.signals(&mut core.history);
        let outcome = core.rules.evaluate(&new.facts());
        let rec = new.recommendation(ids, &signals, outcome, &self.config.thresholds);
        let action = new.into_action(rec, session_token);
        let (response, events) =
            self.trigger_response(&action, &action_token, client, with_recommendation);
        Self::store_action(core, action_token, action);
        drop(guard);
        self.record_events(events);
        Ok(response)
    }

    /// A new action token and the ids of its action and recommendation, made in this order.
    fn new_action_ids(&self) -> (String, RecommendationIds) {
        let action_token = self.ids.token(ACTION_PREFIX);
        let action_id = self.ids.token("");
        let recommendation_id = self.ids.token("");
        let ids = RecommendationIds {
            action_id,
            recommendation_id,
        };
        (action_token, ids)
    }

    /// The answer to trigger-action (with the recommendation if asked) and, while risk
    /// events are collected, the events it gives.
    fn trigger_response(
        &self,
        action: &Action,
        action_token: &str,
        client: Option<&str>,
        with_recommendation: bool,
    ) -> (TriggerActionResponse, Vec<ActivityEvent>) {
        let now = action.created;
        let collecting = self.risk_collecting.load(Ordering::Relaxed);
        let mut events = Vec::new();
        if collecting {
            events.push(self.event("action_triggered", action, client, now, &[]));
        }
        let mut response = TriggerActionResponse::new(ActionToken::new(action_token.to_owned()));
        if with_recommendation {
            response.recommendation = Some(Box::new(action.recommendation.clone()));
            if collecting {
                events.push(self.recommendation_event(action, client, now));
            }
        }
        (response, events)
    }

    fn store_action(core: &mut Core, action_token: String, action: Action) {
        let created = action.created;
        core.actions.insert(action_token.clone(), action);
        core.action_order.push_back((created, action_token));
    }

    /// Drops the expired actions, and the oldest beyond [`MAX_ACTIONS`].
    fn prune_actions(core: &mut Core, now: i64, ttl_ms: i64) {
        while core
            .action_order
            .front()
            .is_some_and(|(created, _)| created.saturating_add(ttl_ms) <= now)
            || core.action_order.len() >= MAX_ACTIONS
        {
            if let Some((_, t)) = core.action_order.pop_front() {
                core.actions.remove(&t);
            }
        }
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.config.action_token_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    pub(crate) fn sdk_trigger(&self, body: SdkTriggerAction) -> Result<String, ApiError> {
        let mut req =
            TriggerActionRequest::new(body.session_token, body.action_type.as_str().into());
        req.correlation_id = body.correlation_id;
        req.claimed_user_id = body.claimed_user_id;
        Ok(self
            .trigger(req, None, false)?
            .action_token
            .expose()
            .to_owned())
    }

    fn check_action_token<'a>(
        &self,
        core: &'a mut Core,
        token: &str,
        now: i64,
    ) -> Result<&'a mut Action, ApiError> {
        if token.is_empty() {
            return Err(ApiError::bad_request("action_token is required"));
        }
        if !ids::well_formed(token, ACTION_PREFIX) {
            return Err(ApiError::bad_request("malformed action_token"));
        }
        let ttl = self.ttl_ms();
        match core.actions.get_mut(token) {
            Some(a) if a.created.saturating_add(ttl) > now => Ok(a),
            _ => Err(ApiError::blacklisted("action token expired or unknown")),
        }
    }

    pub(crate) fn recommendation(
        &self,
        token: &str,
        client: &str,
    ) -> Result<RecommendationResponse, ApiError> {
        let now = self.clock.now_ms();
        let mut core = self.core.lock();
        let action = self.check_action_token(&mut core, token, now)?;
        let mut rec = action.recommendation.clone();
        // Fetched after its result was reported: the answer says which (as the API does).
        rec.context.action_result = action.result.map(|r| r.as_str().to_owned());
        if rec.context.client_id.is_none() {
            rec.context.client_id = Some(client.to_owned());
            rec.context.application_id = Some(client.to_owned());
        }
        let event = self
            .risk_collecting
            .load(Ordering::Relaxed)
            .then(|| self.recommendation_event(action, Some(client), now));
        drop(core);
        self.record_events(event);
        Ok(rec)
    }

    /// Entity evaluation: the IP against the rules (ALLOW when no production rule matches).
    pub(crate) fn evaluate(&self, request: &EvaluateRequest) -> Result<EvaluateResponse, ApiError> {
        let ip = request.ip.trim().parse::<std::net::IpAddr>().map_err(|_| {
            ApiError::bad_request(format!("`ip`: `{}` is not an IP address", request.ip))
        })?;
        let facts = crate::rules::Facts {
            ip: Some(ip),
            ..crate::rules::Facts::default()
        };
        let outcome = self.core.lock().rules.evaluate(&facts);
        let mut answer = EvaluateResponse::new(
            outcome
                .production
                .as_ref()
                .map_or(RecommendationType::Allow, |hit| hit.recommendation.clone()),
        );
        answer.rule_name = outcome.production.map(|hit| hit.name);
        answer.preview_rule = outcome.preview.map(|hit| {
            let mut preview = PreviewRule::default();
            preview.rule_name = Some(hit.name);
            preview.recommendation = Some(hit.recommendation);
            preview
        });
        Ok(answer)
    }

    /// Sets an assignee on actions (by `context.action_id`); the number of actions found.
    pub(crate) fn set_assignee(&self, request: &AssigneeRequest) -> Result<usize, ApiError> {
        if request.action_ids.is_empty() || request.assignee.trim().is_empty() {
            return Err(ApiError::bad_request(
                "`action_ids` must not be empty and `assignee` must be set",
            ));
        }
        let mut core = self.core.lock();
        let mut found = 0;
        for action in core.actions.values_mut() {
            let id = action.recommendation.context.action_id.as_deref();
            if id.is_some_and(|id| request.action_ids.iter().any(|a| a == id)) {
                action.assignee = Some(request.assignee.clone());
                found += 1;
            }
        }
        Ok(found)
    }

    /// The user set on a session.
    pub(crate) fn session_user(&self, token: &str) -> Option<String> {
        self.core
            .lock()
            .sessions
            .get(token)
            .and_then(|s| s.user_id.clone())
    }

    /// Forgets the user set on a session (`clear-user`).
    pub(crate) fn clear_user(&self, request: &ClearUserRequest) -> Result<(), ApiError> {
        let token = match (&request.session_token, &request.secured_session_token) {
            (Some(t), _) => t.expose().to_owned(),
            (None, Some(secured)) => secured_session_of(secured.expose())?.0,
            (None, None) => {
                return Err(ApiError::bad_request(
                    "session_token or secured_session_token is required",
                ))
            }
        };
        let mut core = self.core.lock();
        let session = core
            .sessions
            .get_mut(&token)
            .ok_or_else(|| ApiError::bad_request("unknown session token"))?;
        session.user_id = None;
        Ok(())
    }

    /// The result recorded for an action, if any (one per action: a repeat of it is accepted
    /// and changes nothing).
    pub(crate) fn action_result(&self, token: &str) -> Option<ActionResult> {
        self.core.lock().actions.get(token).and_then(|a| a.result)
    }

    pub(crate) fn report(&self, report: ActionResultReport, client: &str) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        let mut guard = self.core.lock();
        let action = self.check_action_token(&mut guard, report.action_token.expose(), now)?;
        // A result may be reported more than once (the reference says so): the same one
        // changes nothing; another replaces it.
        if action.result == Some(report.result) {
            return Ok(());
        }
        action.result = Some(report.result);
        let action = action.clone();
        let core = &mut *guard;
        if report.result == ActionResult::Success {
            let user = report
                .user_id
                .clone()
                .or_else(|| action.user_id.clone())
                .or_else(|| action.claimed_user_id.clone());
            if let Some(user) = user {
                core.history.link(&user, &action.device_id);
                let challenged =
                    *action.recommendation.recommendation_type() == RecommendationType::Challenge;
                if challenged && report.challenge_type.is_some() {
                    core.history.trust(&user, &action.device_id);
                }
            }
            if let (Some(user), Some(session)) = (
                &report.user_id,
                core.sessions.get_mut(&action.session_token),
            ) {
                session.user_id = Some(user.clone());
            }
        }
        drop(guard);
        if self.risk_collecting.load(Ordering::Relaxed) {
            let mut extra = vec![("result", Value::String(report.result.as_str().to_owned()))];
            if let Some(c) = &report.challenge_type {
                extra.push(("challenge_type", Value::String(c.as_str().to_owned())));
            }
            let mut event =
                self.event("action_result_reported", &action, Some(client), now, &extra);
            if let Some(u) = &report.user_id {
                event.user_id = Some(u.clone());
            }
            self.record_events([event]);
        }
        Ok(())
    }
}
