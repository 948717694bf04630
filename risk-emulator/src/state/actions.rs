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
use super::{Action, ApiError, EmulatorState};

const ACTION_PREFIX: &str = "at_";
/// The longest user id, claimed user id, correlation id or assignee accepted (400 beyond):
/// they become history keys and stay in memory.
pub(crate) const MAX_ID_LEN: usize = 256;

/// 400 when an id of the request is longer than [`MAX_ID_LEN`].
fn check_ids(req: &TriggerActionRequest) -> Result<(), ApiError> {
    for (field, value) in [
        ("user_id", &req.user_id),
        ("claimed_user_id", &req.claimed_user_id),
        ("correlation_id", &req.correlation_id),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_ID_LEN) {
            return Err(ApiError::bad_request(format!(
                "`{field}` is longer than {MAX_ID_LEN} bytes"
            )));
        }
    }
    Ok(())
}

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
        let (session, bound) = secured_session_of(secured.expose())?;
        if !bound.eq_ignore_ascii_case(req.action_type.as_str()) {
            return Err(ApiError::new(403, "Action type mismatch"));
        }
        return Ok(session);
    }
    req.session_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .ok_or_else(|| ApiError::bad_request("session_token or secured_session_token is required"))
}

/// What trigger-action answers: the action token alone, or with the recommendation
/// (`get_recommendation=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TriggerAnswer {
    /// `{"action_token": ...}`.
    TokenOnly,
    /// The action token and the recommendation, in one answer.
    WithRecommendation,
}

impl EmulatorState {
    /// trigger-action, from the back end (`client` = the token's client) or the SDK (`None`);
    /// `request_bytes` is the request's size, counted against the bound of kept actions.
    /// Each lock is taken for one short step: the session (read), the history, the rules
    /// (read), then the action's shard to keep it; the answer is built outside them all.
    pub(crate) fn trigger(
        &self,
        req: TriggerActionRequest,
        request_bytes: usize,
        client: Option<&str>,
        answer: TriggerAnswer,
    ) -> Result<TriggerActionResponse, ApiError> {
        check_action_type(&req)?;
        check_ids(&req)?;
        let session_token = session_of(&req)?;
        let (session, session_user) = self
            .session(&session_token)
            .ok_or_else(|| ApiError::bad_request("unknown session token"))?;
        let now = self.clock.now_ms();
        let new = NewAction::new(&req, &session, session_user.as_deref(), client, now);
        let signals = new.signals(&mut self.history.lock());
        let outcome = self.rules.read().evaluate(&new.facts());
        let decided = new.decide(&signals, outcome, &self.config.thresholds);
        let (user_id, subject) = (new.user_id, new.subject);
        let key = self.ids.key();
        let action = Action {
            created: now,
            key,
            session,
            client_id: client.map(|c| self.client_id(c)),
            request: super::ActionRequest::new(req),
            user_id,
            subject,
            signals,
            decided,
            result: None,
            assignee: None,
        };
        let (response, events) = self.trigger_response(&action, client, answer);
        // The action keeps its session alive: count it too (an upper bound, as the session is
        // shared), so the byte bound holds even after the session store forgot it.
        let bytes = request_bytes.saturating_add(action.session.weight);
        self.actions
            .insert(action, bytes, now.saturating_sub(self.ttl_ms()));
        self.record_events(events);
        Ok(response)
    }

    /// The shared id of a configured client (a copy for another).
    fn client_id(&self, client: &str) -> std::sync::Arc<str> {
        self.client_ids
            .iter()
            .find(|c| ***c == *client)
            .map_or_else(|| std::sync::Arc::from(client), std::sync::Arc::clone)
    }

    /// The ids of an action's recommendation, derived from its token's key.
    pub(super) fn recommendation_ids(&self, key: u128) -> RecommendationIds {
        RecommendationIds {
            action_id: self.ids.derive(key, 1),
            recommendation_id: self.ids.derive(key, 2),
        }
    }

    /// The answer to trigger-action (with the recommendation if asked) and, while risk
    /// events are collected, the events it gives.
    fn trigger_response(
        &self,
        action: &Action,
        client: Option<&str>,
        answer: TriggerAnswer,
    ) -> (TriggerActionResponse, Vec<ActivityEvent>) {
        let now = action.created;
        let collecting = self.risk_collecting.load(Ordering::Relaxed);
        let mut events = Vec::new();
        if collecting {
            events.push(self.event("action_triggered", action, client, now, &[]));
        }
        let token = ids::format_key(ACTION_PREFIX, action.key);
        let mut response = TriggerActionResponse::new(ActionToken::new(token));
        if answer == TriggerAnswer::WithRecommendation {
            let ids = self.recommendation_ids(action.key);
            response.recommendation = Some(Box::new(action.response(ids)));
            if collecting {
                events.push(self.recommendation_event(action, client, now));
            }
        }
        (response, events)
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.config.action_token_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    pub(crate) fn sdk_trigger(&self, body: SdkTriggerAction) -> Result<String, ApiError> {
        let request_bytes = body.session_token.len()
            + body.action_type.len()
            + body.correlation_id.as_ref().map_or(0, String::len)
            + body.claimed_user_id.as_ref().map_or(0, String::len);
        let mut req =
            TriggerActionRequest::new(body.session_token, body.action_type.as_str().into());
        req.correlation_id = body.correlation_id;
        req.claimed_user_id = body.claimed_user_id;
        Ok(self
            .trigger(req, request_bytes, None, TriggerAnswer::TokenOnly)?
            .action_token
            .expose()
            .to_owned())
    }

    /// The key of an action token: 400 when it is missing or malformed.
    fn action_key(token: &str) -> Result<u128, ApiError> {
        if token.is_empty() {
            return Err(ApiError::bad_request("action_token is required"));
        }
        ids::parse_key(token, ACTION_PREFIX)
            .ok_or_else(|| ApiError::bad_request("malformed action_token"))
    }

    /// `f` on the live action of `key`, under its shard's lock; the blacklisted answer for
    /// an unknown or expired one.
    fn with_action<R>(
        &self,
        key: u128,
        now: i64,
        f: impl FnOnce(&mut Action) -> R,
    ) -> Result<R, ApiError> {
        let ttl = self.ttl_ms();
        self.actions
            .with(key, |a| (a.created.saturating_add(ttl) > now).then(|| f(a)))
            .flatten()
            .ok_or_else(|| ApiError::blacklisted("action token expired or unknown"))
    }

    pub(crate) fn recommendation(
        &self,
        token: &str,
        client: &str,
    ) -> Result<RecommendationResponse, ApiError> {
        let key = Self::action_key(token)?;
        let now = self.clock.now_ms();
        let collecting = self.risk_collecting.load(Ordering::Relaxed);
        let ids = self.recommendation_ids(key);
        let (mut rec, event) = self.with_action(key, now, |action| {
            let rec = action.response(ids);
            let event = collecting.then(|| self.recommendation_event(action, Some(client), now));
            (rec, event)
        })?;
        if rec.context.client_id.is_none() {
            rec.context.client_id = Some(client.to_owned());
            rec.context.application_id = Some(client.to_owned());
        }
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
        let outcome = self.rules.read().evaluate(&facts);
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
        if request.assignee.len() > MAX_ID_LEN {
            return Err(ApiError::bad_request(format!(
                "`assignee` is longer than {MAX_ID_LEN} bytes"
            )));
        }
        let wanted: std::collections::HashSet<&str> =
            request.action_ids.iter().map(String::as_str).collect();
        let assignee: std::sync::Arc<str> = request.assignee.as_str().into();
        let mut found = 0;
        self.actions.for_each(|action| {
            let id = self.ids.derive(action.key, 1);
            if wanted.contains(id.as_str()) {
                action.assignee = Some(std::sync::Arc::clone(&assignee));
                found += 1;
            }
        });
        Ok(found)
    }

    /// The session of a session token and the user set on it.
    fn session(&self, token: &str) -> Option<(std::sync::Arc<super::Session>, Option<String>)> {
        let key = ids::parse_key(token, super::sessions::SESSION_PREFIX)?;
        let sessions = self.sessions.read();
        let entry = sessions.map.get(&key)?;
        Some((std::sync::Arc::clone(&entry.session), entry.user_id.clone()))
    }

    /// The user set on a session.
    pub(crate) fn session_user(&self, token: &str) -> Option<String> {
        self.session(token).and_then(|(_, user)| user)
    }

    /// Sets or forgets the user of the session of `key`.
    fn set_session_user(&self, key: u128, user: Option<String>) -> bool {
        match self.sessions.write().map.get_mut(&key) {
            Some(entry) => {
                entry.user_id = user;
                true
            }
            None => false,
        }
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
        let unknown = || ApiError::bad_request("unknown session token");
        let key = ids::parse_key(&token, super::sessions::SESSION_PREFIX).ok_or_else(unknown)?;
        if self.set_session_user(key, None) {
            Ok(())
        } else {
            Err(unknown())
        }
    }

    /// The result recorded for an action, if any (one per action: a repeat of it is accepted
    /// and changes nothing).
    pub(crate) fn action_result(&self, token: &str) -> Option<ActionResult> {
        let key = ids::parse_key(token, ACTION_PREFIX)?;
        self.actions.with(key, |a| a.result).flatten()
    }

    pub(crate) fn report(&self, report: ActionResultReport, client: &str) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        let collecting = self.risk_collecting.load(Ordering::Relaxed);
        // Under the shard's lock: the result, and what the links and the event need.
        let key = Self::action_key(report.action_token.expose())?;
        let changed = self.with_action(key, now, |action| {
            // A result may be reported more than once (the reference says so): the same one
            // changes nothing; another replaces it.
            if action.result == Some(report.result) {
                return None;
            }
            action.result = Some(report.result);
            let user = report
                .user_id
                .clone()
                .or_else(|| action.user_id.clone())
                .or_else(|| action.request.claimed_user_id().cloned());
            let challenged = action.decided.recommendation == RecommendationType::Challenge;
            let event = collecting.then(|| self.result_event(&report, action, client, now));
            Some((
                user,
                challenged,
                std::sync::Arc::clone(&action.session),
                event,
            ))
        })?;
        let Some((user, challenged, session, event)) = changed else {
            return Ok(());
        };
        if report.result == ActionResult::Success {
            if let Some(user) = user {
                let mut history = self.history.lock();
                history.link(&user, &session.device_id);
                if challenged && report.challenge_type.is_some() {
                    history.trust(&user, &session.device_id);
                }
            }
            if let Some(user) = &report.user_id {
                self.set_session_user(session.key, Some(user.clone()));
            }
        }
        self.record_events(event);
        Ok(())
    }

    /// `action_result_reported`.
    fn result_event(
        &self,
        report: &ActionResultReport,
        action: &Action,
        client: &str,
        now: i64,
    ) -> ActivityEvent {
        let mut extra = vec![("result", Value::String(report.result.as_str().to_owned()))];
        if let Some(c) = &report.challenge_type {
            extra.push(("challenge_type", Value::String(c.as_str().to_owned())));
        }
        let mut event = self.event("action_result_reported", action, Some(client), now, &extra);
        if let Some(u) = &report.user_id {
            event.user_id = Some(u.clone());
        }
        event
    }
}
