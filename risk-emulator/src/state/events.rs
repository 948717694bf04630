//! The activity events of actions (triggered, recommendation issued, result reported) and
//! their recording in the event log while risk events are collected.

use std::sync::atomic::Ordering;

use risk_core::{ActivityEvent, EventType};
use serde_json::{json, Value};

use crate::events::EventLog;

use super::{Action, EmulatorState};

impl EmulatorState {
    pub(super) fn event(
        &self,
        activity: &str,
        a: &Action,
        client: Option<&str>,
        now: i64,
        extra: &[(&str, Value)],
    ) -> ActivityEvent {
        let mut e = ActivityEvent::default();
        e.activity = activity.to_owned();
        e.app_id = client.or(a.client_id.as_deref()).map(str::to_owned);
        e.user_id = a.subject.clone();
        e.ip = Some(a.session.ip.clone());
        e.user_agent.clone_from(&a.session.t.user_agent);
        e.timestamp = Some(now);
        let req = &a.request;
        let p = &mut e.additional_params;
        p.insert(
            "action_type".into(),
            Value::String(req.action_type.as_str().to_owned()),
        );
        p.insert("action_id".into(), Value::String(self.ids.derive(a.key, 1)));
        p.insert(
            "device_id".into(),
            Value::String(a.session.device_id.clone()),
        );
        if let Some(c) = req.correlation_id() {
            p.insert("correlation_id".into(), Value::String(c.clone()));
        }
        if let Some(c) = req.claimed_user_id() {
            p.insert("claimed_user_id".into(), Value::String(c.clone()));
        }
        for (k, v) in extra {
            p.insert((*k).to_owned(), v.clone());
        }
        e
    }

    pub(super) fn recommendation_event(
        &self,
        a: &Action,
        client: Option<&str>,
        now: i64,
    ) -> ActivityEvent {
        let d = &a.decided;
        let reasons: Vec<Value> = d
            .reasons
            .iter()
            .map(|r| Value::String(r.as_str().to_owned()))
            .collect();
        let mut extra = vec![
            (
                "recommendation",
                Value::String(d.recommendation.as_str().to_owned()),
            ),
            ("risk_score", json!(d.score)),
            ("reasons", Value::Array(reasons)),
        ];
        if let Some(p) = &d.preview {
            extra.push(("preview_rule", json!(p)));
        }
        self.event("recommendation_issued", a, client, now, &extra)
    }

    pub(super) fn record_events(&self, events: impl IntoIterator<Item = ActivityEvent>) {
        let mut iter = events.into_iter().peekable();
        if iter.peek().is_none() {
            return;
        }
        let mut log = self.events.lock();
        for e in iter {
            log.record(EventType::Risk, e);
        }
    }

    pub(crate) fn with_events<R>(&self, f: impl FnOnce(&mut EventLog) -> R) -> R {
        let mut log = self.events.lock();
        let r = f(&mut log);
        self.risk_collecting
            .store(log.is_collecting(EventType::Risk), Ordering::SeqCst);
        r
    }
}
