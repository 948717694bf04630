//! Entity mode (`evaluate_client_ip`): the evaluation cache keeps answers, never errors, for
//! as long as `evaluation_cache(ttl, capacity)` says.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use risk_core::{
    ActionToken, ActionType, BadInput, Error, ErrorBehavior, EvaluateRequest, EvaluateResponse,
    Guard, RecommendationType, Recommender, RequestFacts, RiskAnswer, TriggerActionRequest,
};

use crate::flow_support::Checked;

/// A recommender that only evaluates, from a script (then ALLOW), counting its calls.
#[derive(Clone, Default)]
struct ScriptedEvaluator {
    script: Arc<Mutex<VecDeque<Result<EvaluateResponse, Error>>>>,
    calls: Arc<AtomicUsize>,
}

impl ScriptedEvaluator {
    fn new(script: impl IntoIterator<Item = Result<EvaluateResponse, Error>>) -> Self {
        Self {
            script: Arc::new(Mutex::new(script.into_iter().collect())),
            calls: Arc::default(),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Recommender for ScriptedEvaluator {
    async fn trigger_action(&self, _: &TriggerActionRequest) -> Result<ActionToken, Error> {
        unreachable!("entity mode never triggers an action")
    }

    async fn recommendation(&self, _: &ActionToken) -> Result<RiskAnswer, Error> {
        unreachable!("entity mode never asks for an action's recommendation")
    }

    async fn evaluate(&self, _: &EvaluateRequest) -> Result<EvaluateResponse, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(EvaluateResponse::new(RecommendationType::Allow)))
    }
}

/// The status the guard answers for a request from `ip` (200 when it proceeds).
async fn status_from(guard: &Guard, ip: &str) -> u16 {
    let facts = RequestFacts::new(Err(BadInput::MissingToken))
        .with_client_ip(ip.parse::<IpAddr>().unwrap());
    let checked = Checked::from(guard.check(facts).await);
    checked.response.map_or(200, |r| r.status)
}

#[tokio::test]
async fn an_error_is_never_cached_and_the_next_answer_is() {
    let evaluator = ScriptedEvaluator::new([
        Err(Error::Server {
            status: 503,
            message: "down".into(),
        }),
        Ok(EvaluateResponse::new(RecommendationType::Deny)),
    ]);
    let guard = Guard::builder(ActionType::from("webhook"), evaluator.clone())
        .evaluate_client_ip()
        .on_error(ErrorBehavior::FailClosed)
        .build()
        .unwrap();
    // The outage: failed closed, and not kept.
    assert_eq!(status_from(&guard, "203.0.113.7").await, 503);
    assert_eq!(guard.evaluation_cache_hits(), 0);
    // Asked again: the DENY, which is kept.
    for _ in 0..3 {
        assert_eq!(status_from(&guard, "203.0.113.7").await, 403);
    }
    assert_eq!(evaluator.calls(), 2);
    assert_eq!(guard.evaluation_cache_hits(), 2);
}

#[tokio::test]
async fn evaluation_cache_sets_how_long_an_answer_is_kept() {
    // A lifetime of zero keeps nothing: every request is evaluated.
    let evaluator = ScriptedEvaluator::default();
    let guard = Guard::builder(ActionType::from("webhook"), evaluator.clone())
        .evaluation_cache(Duration::ZERO, 1_000)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(status_from(&guard, "198.51.100.1").await, 200);
    }
    assert_eq!(evaluator.calls(), 3);
    assert_eq!(guard.evaluation_cache_hits(), 0);

    // A lifetime of an hour keeps each address's answer: one evaluation per address.
    let evaluator = ScriptedEvaluator::default();
    let guard = Guard::builder(ActionType::from("webhook"), evaluator.clone())
        .evaluation_cache(Duration::from_secs(3600), 1_000)
        .build()
        .unwrap();
    for ip in [
        "198.51.100.1",
        "198.51.100.1",
        "203.0.113.7",
        "198.51.100.1",
        "203.0.113.7",
    ] {
        assert_eq!(status_from(&guard, ip).await, 200);
    }
    assert_eq!(evaluator.calls(), 2);
    assert_eq!(guard.evaluation_cache_hits(), 3);
}
