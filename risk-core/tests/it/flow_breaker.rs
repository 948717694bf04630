//! The circuit breaker opening, half-opening and closing (tokio's paused clock).

use std::time::Duration;

use risk_core::testing::{ScriptedRecommender, StaticRecommender};
use risk_core::*;

use crate::flow_support::Checked;

fn ok() -> Result<RecommendationResponse, Error> {
    // The API names the token's action; the guard (a login route) requires it.
    let mut rec = RecommendationResponse::new(RecommendationType::Allow, 1.0);
    rec.context.action_type = Some(ActionType::Login);
    Ok(rec)
}

fn down() -> Error {
    Error::Server {
        status: 503,
        message: "down".into(),
    }
}

fn guard(recommender: impl Recommender, breaker: &CircuitBreaker) -> Guard {
    Guard::builder(ActionType::Login, recommender)
        .circuit_breaker(breaker.clone())
        .on_error(ErrorBehavior::FailClosed)
        .deadline(Duration::from_secs(1))
        .build()
        .unwrap()
}

/// One check in action-token mode (exactly one recommender call when not skipped).
async fn check(guard: &Guard) -> Checked {
    let decision = guard
        .check(guard.facts(&[("x-risk-action-token", "at-1")], None, None))
        .await;
    let mut d = Checked::from(decision);
    if let Some(report) = d.report.take() {
        report.disarm();
    }
    d
}

fn cause(d: &Checked) -> Option<UnavailableCause> {
    d.assessment.unavailable().map(|u| u.cause.clone())
}

#[tokio::test(start_paused = true)]
async fn opens_half_opens_and_closes() {
    let breaker = CircuitBreaker::new(
        BreakerConfig::default()
            .consecutive_failures(3)
            .cool_down(Duration::from_secs(10)),
    );
    let script = ScriptedRecommender::new()
        .then_err(down())
        .then_err(down())
        .then_err(down())
        .then_err(down()) // the first probe fails
        .then_ok(ok().unwrap())
        .then_ok(ok().unwrap());
    let g = guard(script.clone(), &breaker);

    for i in 1..=3 {
        assert_eq!(breaker.state(), BreakerState::Closed, "before failure {i}");
        let d = check(&g).await;
        assert!(matches!(cause(&d), Some(UnavailableCause::Api { .. })));
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(script.recommendation_calls(), 3);

    // Open: the API is not called; the error behaviour applies at once.
    let d = check(&g).await;
    assert_eq!(cause(&d), Some(UnavailableCause::CircuitOpen));
    assert_eq!(d.response.as_ref().unwrap().status, 503);
    assert_eq!(
        d.response.as_ref().unwrap().header("retry-after"),
        Some("10")
    );
    assert_eq!(script.recommendation_calls(), 3);

    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(breaker.state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);

    // A failed probe opens it again.
    let d = check(&g).await;
    assert!(matches!(cause(&d), Some(UnavailableCause::Api { .. })));
    assert_eq!(script.recommendation_calls(), 4);
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(cause(&check(&g).await), Some(UnavailableCause::CircuitOpen));
    assert_eq!(script.recommendation_calls(), 4);

    // After the cool-down, a successful probe closes it.
    tokio::time::advance(Duration::from_secs(10)).await;
    let d = check(&g).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(breaker.state(), BreakerState::Closed);
    let d = check(&g).await;
    assert!(d.verdict.is_proceed());
    assert_eq!(script.recommendation_calls(), 6);
}

#[tokio::test(start_paused = true)]
async fn failure_rate_over_the_window() {
    let breaker = CircuitBreaker::new(
        BreakerConfig::default()
            .consecutive_failures(0)
            .failure_rate(0.5)
            .min_calls(10)
            .window(Duration::from_secs(30)),
    );
    let script = ScriptedRecommender::new();
    let g = guard(script.clone(), &breaker);

    // 9 calls, 5 failures: not enough calls yet.
    for i in 0..9 {
        script.push(None, if i % 2 == 0 { Err(down()) } else { ok() });
        check(&g).await;
    }
    assert_eq!(breaker.state(), BreakerState::Closed);

    // The window slides: the old calls no longer count.
    tokio::time::advance(Duration::from_secs(31)).await;
    script.push(None, Err(down()));
    check(&g).await;
    assert_eq!(breaker.state(), BreakerState::Closed);

    // 10 calls in the window, 6 failures (over the 50 % rate): opens on the 10th.
    for i in 0..9 {
        assert_eq!(breaker.state(), BreakerState::Closed, "call {i}");
        script.push(None, if i % 2 == 0 { Err(down()) } else { ok() });
        check(&g).await;
    }
    assert_eq!(script.recommendation_calls(), 19);
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn timeouts_count_and_input_errors_do_not() {
    let breaker = CircuitBreaker::new(BreakerConfig::default().consecutive_failures(2));
    let bad_request = StaticRecommender::failing(|| Error::BadRequest {
        message: "bad".into(),
    });
    let g = guard(bad_request.clone(), &breaker);
    for _ in 0..10 {
        check(&g).await;
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(bad_request.recommendation_calls(), 10);

    let slow = StaticRecommender::of_type(RecommendationType::Allow, 1.0)
        .with_delay(Duration::from_secs(5));
    let g = guard(slow.clone(), &breaker);
    assert_eq!(cause(&check(&g).await), Some(UnavailableCause::Timeout));
    assert_eq!(cause(&check(&g).await), Some(UnavailableCause::Timeout));
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn one_breaker_shared_by_two_guards() {
    let breaker = CircuitBreaker::new(BreakerConfig::default().consecutive_failures(2));
    let failing = StaticRecommender::failing(down);
    let other = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let a = guard(failing, &breaker);
    let b = guard(other.clone(), &breaker);
    check(&a).await;
    check(&a).await;
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(cause(&check(&b).await), Some(UnavailableCause::CircuitOpen));
    assert_eq!(other.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_only_the_configured_probes() {
    let breaker = CircuitBreaker::new(
        BreakerConfig::default()
            .consecutive_failures(1)
            .cool_down(Duration::from_secs(10))
            .half_open_probes(1),
    );
    let script = ScriptedRecommender::new()
        .then_err(down())
        .then_delayed(Duration::from_millis(500), ok());
    let g = guard(script.clone(), &breaker);
    check(&g).await;
    assert_eq!(breaker.state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(10)).await;

    let probe = tokio::spawn({
        let g = g.clone();
        async move { check(&g).await.verdict.kind() }
    });
    // Let the probe start and take the only slot.
    while script.recommendation_calls() < 2 {
        tokio::task::yield_now().await;
    }
    let d = check(&g).await;
    assert_eq!(cause(&d), Some(UnavailableCause::CircuitOpen));
    assert_eq!(probe.await.unwrap(), VerdictKind::Proceed);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_slow_failure_from_an_earlier_generation_does_not_count() {
    let breaker = CircuitBreaker::new(
        BreakerConfig::default()
            .consecutive_failures(1)
            .cool_down(Duration::from_secs(10)),
    );
    let script = ScriptedRecommender::new()
        .then_delayed(Duration::from_secs(30), Err(down())) // slow, started while closed
        .then_err(down()) // opens
        .then_ok(ok().unwrap()); // probe: closes
    let g = Guard::builder(ActionType::Login, script.clone())
        .circuit_breaker(breaker.clone())
        .on_error(ErrorBehavior::FailClosed)
        .deadline(Duration::from_secs(100))
        .build()
        .unwrap();
    let slow = tokio::spawn({
        let g = g.clone();
        async move { check(&g).await.verdict.kind() }
    });
    // Wait until the slow call is under way.
    while script.recommendation_calls() < 1 {
        tokio::task::yield_now().await;
    }
    assert!(cause(&check(&g).await).is_some());
    assert_eq!(breaker.state(), BreakerState::Open);
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(check(&g).await.verdict.is_proceed());
    assert_eq!(breaker.state(), BreakerState::Closed);
    // The slow call fails now, in the new closed window: it must not count.
    assert_eq!(slow.await.unwrap(), VerdictKind::Deny);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_endless_cool_down_does_not_panic() {
    let breaker = CircuitBreaker::new(
        BreakerConfig::default()
            .consecutive_failures(1)
            .cool_down(Duration::MAX),
    );
    assert_eq!(breaker.config().cool_down, MAX_COOL_DOWN);
    let g = guard(StaticRecommender::failing(down), &breaker);
    check(&g).await;
    assert_eq!(breaker.state(), BreakerState::Open);
    let d = check(&g).await;
    assert_eq!(cause(&d), Some(UnavailableCause::CircuitOpen));
    tokio::time::advance(MAX_COOL_DOWN).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
}
