//! The vendor quota in the flow: a 429 (or an empty budget) applies the quota behaviour and
//! leaves the breaker alone; bad input is neutral for the breaker; the per-client limit
//! answers before any upstream call. Tokio's paused clock.

use std::net::IpAddr;
use std::time::Duration;

use risk_core::testing::{ScriptedRecommender, StaticRecommender};
use risk_core::*;

use crate::flow_support::Checked;

fn allow() -> RecommendationResponse {
    let mut rec = RecommendationResponse::new(RecommendationType::Allow, 1.0);
    rec.context.action_type = Some(ActionType::Login);
    rec
}

fn rate_limited() -> Error {
    Error::RateLimited {
        retry_after: Some(Duration::from_secs(2)),
        message: "too many requests".into(),
    }
}

fn down() -> Error {
    Error::Server {
        status: 503,
        message: "down".into(),
    }
}

fn bad_request() -> Error {
    Error::BadRequest {
        message: "invalid session token".into(),
    }
}

fn breaker(consecutive: u32) -> CircuitBreaker {
    CircuitBreaker::new(
        BreakerConfig::default()
            .consecutive_failures(consecutive)
            .cool_down(Duration::from_secs(10))
            .half_open_probes(1),
    )
}

/// Action-token mode: one recommender call per check.
async fn check(guard: &Guard) -> Checked {
    let facts = guard.facts(&[("x-risk-action-token", "at-1")], None, None);
    let mut d = Checked::from(guard.check(facts).await);
    if let Some(report) = d.report.take() {
        report.disarm();
    }
    d
}

#[tokio::test(start_paused = true)]
async fn a_429_applies_the_quota_behaviour_and_leaves_the_breaker_closed() {
    let script = ScriptedRecommender::new();
    for _ in 0..5 {
        script.push(None, Err(rate_limited()));
    }
    let breaker = breaker(2);
    // A fail-open route: an outage would let the request through, the quota does not.
    let guard = Guard::builder(ActionType::Login, script.clone())
        .on_error(ErrorBehavior::FailOpen)
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap();
    for _ in 0..5 {
        let d = check(&guard).await;
        assert_eq!(d.verdict.kind(), VerdictKind::Challenge);
        assert_eq!(d.assessment.degraded(), Some(Degraded::Quota));
        assert_eq!(
            d.assessment.error_behavior(),
            Some(ErrorBehaviorKind::Challenge)
        );
        let body = &d.response.as_ref().unwrap().body;
        assert!(body.contains("challenge_required"), "{body}");
    }
    assert_eq!(
        breaker.state(),
        BreakerState::Closed,
        "429s are not failures"
    );
    assert_eq!(script.calls(), 5);

    // The quota behaviour is the route's to choose.
    let script = ScriptedRecommender::new().then_err(rate_limited());
    let guard = Guard::builder(ActionType::Login, script)
        .on_quota_exhausted(ErrorBehavior::FailClosed)
        .build()
        .unwrap();
    let d = check(&guard).await;
    let response = d.response.unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.header("retry-after"), Some("2"));
    // An outage is still the error behaviour's.
    let script = ScriptedRecommender::new().then_err(down());
    let guard = Guard::builder(ActionType::Login, script)
        .on_error(ErrorBehavior::FailOpen)
        .build()
        .unwrap();
    let d = check(&guard).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(d.assessment.degraded(), Some(Degraded::Outage));
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_is_the_quota_too() {
    let script = ScriptedRecommender::new().then_err(Error::QuotaExhausted {
        retry_after: Duration::from_millis(1500),
    });
    let breaker = breaker(1);
    let guard = Guard::builder(ActionType::Login, script)
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap();
    let d = check(&guard).await;
    assert_eq!(d.verdict.kind(), VerdictKind::Challenge);
    assert_eq!(d.assessment.degraded(), Some(Degraded::Quota));
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn bad_input_neither_resets_the_failure_count_nor_closes_a_half_open_breaker() {
    // fail, fail, 400, fail: three consecutive failures, the 400 in between is neutral.
    let script = ScriptedRecommender::new()
        .then_err(down())
        .then_err(down())
        .then_err(bad_request())
        .then_err(down());
    let breaker = breaker(3);
    let guard = Guard::builder(ActionType::Login, script.clone())
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap();
    for _ in 0..3 {
        let _ = check(&guard).await;
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
    let _ = check(&guard).await;
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "the 400 did not reset the count"
    );

    // Half-open: a 400 (and a 429) leave it half-open; only a real success closes it.
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    script.push(None, Err(bad_request()));
    let d = check(&guard).await;
    assert_eq!(d.response.as_ref().unwrap().status, 400);
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    script.push(None, Err(rate_limited()));
    let _ = check(&guard).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    script.push(None, Ok(allow()));
    let d = check(&guard).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_client_limit_answers_locally_without_an_upstream_call() {
    let fake = StaticRecommender::of_type(RecommendationType::Allow, 5.0);
    let guard = Guard::builder(ActionType::Login, fake.clone())
        .client_limit(ClientLimit::per_minute(60, 2).unwrap())
        .build()
        .unwrap();
    let peer: IpAddr = "203.0.113.7".parse().unwrap();
    let from = |peer| guard.facts(&[("x-risk-session-token", "st-1")], Some(peer), None);
    for _ in 0..2 {
        let d = Checked::from(guard.check(from(peer)).await);
        assert!(d.verdict.is_proceed());
        d.report.unwrap().disarm();
    }
    let calls = fake.calls();
    let d = Checked::from(guard.check(from(peer)).await);
    assert_eq!(fake.calls(), calls, "no upstream call");
    let response = d.response.as_ref().unwrap();
    assert_eq!(response.status, 429);
    assert!(response.body.contains("rate_limited"), "{}", response.body);
    let wait: u64 = response.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=1).contains(&wait),
        "one attempt refills in a second: {wait}"
    );
    assert!(matches!(
        d.assessment.status(),
        AssessmentStatus::ClientLimited { .. }
    ));
    // Another client is not affected; bad input is answered before the limit (no call).
    let other: IpAddr = "203.0.113.8".parse().unwrap();
    assert!(Checked::from(guard.check(from(other)).await)
        .verdict
        .is_proceed());
    let missing = guard.facts(&[], Some(peer), None);
    let d = Checked::from(guard.check(missing).await);
    assert_eq!(d.response.as_ref().unwrap().status, 401);

    // Or a challenge, by configuration; and shared between guards.
    let shared = ClientLimit::per_minute(60, 1)
        .unwrap()
        .when_limited(WhenLimited::Challenge);
    let a = Guard::builder(ActionType::Login, fake.clone())
        .client_limit(shared.clone())
        .build()
        .unwrap();
    let b = Guard::builder(ActionType::Login, fake.clone())
        .client_limit(shared.clone())
        .build()
        .unwrap();
    let facts = |g: &Guard| g.facts(&[("x-risk-session-token", "st-1")], Some(peer), None);
    assert!(Checked::from(a.check(facts(&a)).await).verdict.is_proceed());
    let d = Checked::from(b.check(facts(&b)).await);
    assert_eq!(d.verdict.kind(), VerdictKind::Challenge);
    assert_eq!(shared.limited(), 1);
}

#[tokio::test(start_paused = true)]
async fn session_mode_asks_for_the_recommendation_in_one_call() {
    /// Counts the combined call apart from the two single ones.
    #[derive(Clone, Default)]
    struct Combined {
        combined: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        single: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }
    #[async_trait::async_trait]
    impl Recommender for Combined {
        async fn trigger_action(&self, _: &TriggerActionRequest) -> Result<ActionToken, Error> {
            self.single
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(ActionToken::new("at-two-calls"))
        }
        async fn recommendation(&self, _: &ActionToken) -> Result<RiskAnswer, Error> {
            self.single
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(allow().into())
        }
        async fn trigger_with_recommendation(
            &self,
            _: &TriggerActionRequest,
        ) -> Result<(ActionToken, Result<RiskAnswer, Error>), Error> {
            self.combined
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok((ActionToken::new("at-one-call"), Ok(allow().into())))
        }
    }
    let recommender = Combined::default();
    let guard = Guard::builder(ActionType::Login, recommender.clone())
        .build()
        .unwrap();
    let d = Checked::from(
        guard
            .check(guard.facts(&[("x-risk-session-token", "st-1")], None, None))
            .await,
    );
    assert_eq!(
        d.assessment.action_token().map(ActionToken::expose),
        Some("at-one-call")
    );
    assert_eq!(
        recommender
            .combined
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        recommender.single.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    d.report.unwrap().disarm();

    let two_calls = Guard::builder(ActionType::Login, recommender.clone())
        .single_call(false)
        .build()
        .unwrap();
    let d = Checked::from(
        two_calls
            .check(two_calls.facts(&[("x-risk-session-token", "st-1")], None, None))
            .await,
    );
    assert_eq!(
        d.assessment.action_token().map(ActionToken::expose),
        Some("at-two-calls")
    );
    assert_eq!(
        recommender.single.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    d.report.unwrap().disarm();
}

#[tokio::test]
async fn a_step_up_route_takes_a_challenged_action_token_only() {
    let mut challenged = RecommendationResponse::new(RecommendationType::Challenge, 60.0);
    challenged.context.action_type = Some(ActionType::Login);
    let guard = Guard::builder(ActionType::Login, StaticRecommender::new(challenged))
        .session_tokens(false)
        .policy(StepUp)
        .build()
        .unwrap();
    let d = Checked::from(
        guard
            .check(guard.facts(&[("x-risk-action-token", "at-1")], None, None))
            .await,
    );
    assert!(d.verdict.is_proceed());
    d.report.unwrap().disarm();
    // A session token is not an action to step up.
    let d = Checked::from(
        guard
            .check(guard.facts(&[("x-risk-session-token", "st-1")], None, None))
            .await,
    );
    assert_eq!(d.response.as_ref().unwrap().status, 401);
    // An allowed action is not one to step up.
    let guard = Guard::builder(ActionType::Login, StaticRecommender::new(allow()))
        .session_tokens(false)
        .policy(StepUp)
        .build()
        .unwrap();
    let d = Checked::from(
        guard
            .check(guard.facts(&[("x-risk-action-token", "at-1")], None, None))
            .await,
    );
    assert_eq!(d.response.as_ref().unwrap().status, 403);
    assert!(
        Guard::builder(ActionType::Login, StaticRecommender::new(allow()))
            .session_tokens(false)
            .action_tokens(false)
            .build()
            .is_err()
    );
}
