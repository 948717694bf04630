//! `RiskClient` against the emulator's fault injection and rate limit: what is retried and
//! what is not, rate limiting with `Retry-After`, closed connections, timeouts, and an
//! emulator that is gone.

use std::time::Duration;

use risk_core::{
    ActionResult, ActionResultReport, ActionToken, Error, RecommendationType, RetryPolicy,
};
use risk_emulator::{ClientConfig, EmulatorConfig, FaultSpec, DEV_CLIENT_ID, DEV_CLIENT_SECRET};

use crate::common::client::{client, client_with, fast_retries, login, session, start, start_with};

#[tokio::test]
async fn a_forced_503_on_recommendation_is_retried() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    let a = client.trigger_action(&login(&s)).await.unwrap();
    // Retry-After 0 keeps the test fast (the default for 503 is 1 s).
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_status(503)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    let stats = emu.stats();
    assert_eq!(stats.requests("recommendation"), 2);
    assert_eq!(stats.responses("recommendation", 503), 1);
    assert_eq!(stats.responses("recommendation", 200), 1);
    assert_eq!(stats.endpoints["recommendation"].faults_injected, 1);
}

#[tokio::test]
async fn a_persistent_5xx_on_a_read_is_retried_up_to_max_attempts() {
    let (emu, _) = start().await;
    let client = client(&emu);
    emu.set_fault(FaultSpec::new("rules").with_status(502))
        .unwrap();
    let err = client.list_rules().await.unwrap_err();
    match err {
        Error::Server { status, message } => {
            assert_eq!(status, 502);
            assert_eq!(message, "injected fault: status 502");
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(emu.stats().requests("rules"), 3, "max_attempts = 3");
    emu.clear_faults();
    assert!(client.list_rules().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_forced_500_on_trigger_action_is_not_retried() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .with_status(500)
            .fail_next(1),
    )
    .unwrap();
    let err = client.trigger_action(&login(&s)).await.unwrap_err();
    match &err {
        Error::Server { status, message } => {
            assert_eq!(*status, 500);
            assert_eq!(message, "injected fault: status 500");
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert!(err.is_retryable(), "retryable in kind, yet not resent");
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 1);
    assert_eq!(stats.responses("trigger_action", 500), 1);
    // The same with the inline recommendation.
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .with_status(503)
            .fail_next(1),
    )
    .unwrap();
    let err = client
        .trigger_action_with_recommendation(&login(&s))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    assert_eq!(emu.stats().requests("trigger_action"), 2);
    // The fault is spent: the next call goes through.
    client.trigger_action(&login(&s)).await.unwrap();
    assert_eq!(emu.stats().requests("trigger_action"), 3);
}

#[tokio::test]
async fn a_429_is_not_resent_for_an_assessment_and_retried_for_a_report() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .with_status(429)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    // An assessment is not resent after a 429: the route's quota behaviour applies at once.
    let err = client.trigger_action(&login(&s)).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    let a = client.trigger_action(&login(&s)).await.unwrap();
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 2);
    assert_eq!(stats.responses("trigger_action", 429), 1);
    assert_eq!(stats.responses("trigger_action", 201), 1);

    // A result report (background) waits out the 429 and is sent again.
    emu.set_fault(
        FaultSpec::new("result")
            .with_status(429)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    client
        .report_action_result(&ActionResultReport::new(
            a.action_token.clone(),
            ActionResult::Success,
        ))
        .await
        .unwrap();
    assert_eq!(emu.stats().requests("result"), 2);

    // A Retry-After beyond the policy's maximum (5 s) is not waited for: RateLimited at once.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_status(429)
            .with_retry_after_secs(30),
    )
    .unwrap();
    let err = client
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    match &err {
        Error::RateLimited {
            retry_after,
            message,
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(30)));
            assert_eq!(message, "injected fault: status 429");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(emu.stats().requests("recommendation"), 1);

    // Without retries, even a short Retry-After gives RateLimited.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_status(429)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    let no_retry = client_with(&emu, RetryPolicy::none(), Duration::from_secs(5));
    let err = no_retry
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d.is_zero()),
        "{err:?}"
    );
    assert_eq!(emu.stats().requests("recommendation"), 2);
}

#[tokio::test]
async fn the_emulators_own_rate_limit_gives_rate_limited_with_its_retry_after() {
    let config = EmulatorConfig::default()
        .with_client(ClientConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET).with_rate_limit_rps(0.01));
    let (emu, clock) = start_with(config).await;
    let client = client(&emu);
    // A burst of one request; the next one would have to wait 100 s.
    client.list_rules().await.unwrap();
    let err = client.list_rules().await.unwrap_err();
    match &err {
        Error::RateLimited {
            retry_after,
            message,
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(100)));
            assert_eq!(message, "rate limit reached");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    let stats = emu.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.responses("rules", 429), 1);
    // The 429 paused this client's budget (for 60 s, the cap): nothing more is sent.
    let err = client.list_rules().await.unwrap_err();
    assert!(matches!(err, Error::QuotaExhausted { .. }), "{err:?}");
    assert_eq!(emu.stats().requests("rules"), 2, "no call sent");
    // After the emulator's bucket refills, a client with budget goes through again.
    clock.advance(Duration::from_secs(100));
    crate::common::client::client(&emu)
        .list_rules()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_closed_connection_is_a_transport_error_and_only_safe_calls_are_resent() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .close_connection()
            .fail_next(1),
    )
    .unwrap();
    let err = client.trigger_action(&login(&s)).await.unwrap_err();
    match &err {
        Error::Transport { maybe_sent, .. } => assert!(*maybe_sent),
        other => panic!("expected Transport, got {other:?}"),
    }
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 1, "not resent");
    assert_eq!(stats.endpoints["trigger_action"].connections_closed, 1);

    // A read is resent on a new connection and succeeds.
    let a = client.trigger_action(&login(&s)).await.unwrap();
    emu.set_fault(
        FaultSpec::new("recommendation")
            .close_connection()
            .fail_next(1),
    )
    .unwrap();
    client.get_recommendation(&a.action_token).await.unwrap();
    let stats = emu.stats();
    assert_eq!(stats.requests("recommendation"), 2);
    assert_eq!(stats.endpoints["recommendation"].connections_closed, 1);
    assert_eq!(stats.responses("recommendation", 200), 1);

    // Every attempt closed: Transport after max_attempts.
    emu.set_fault(FaultSpec::new("recommendation").close_connection())
        .unwrap();
    let err = client
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(emu.stats().requests("recommendation"), 5);
}

#[tokio::test]
async fn latency_beyond_the_client_timeout_is_a_timeout() {
    let (emu, _) = start().await;
    // A generous deadline for the call that must succeed (the machine may be loaded)...
    let patient = client_with(&emu, fast_retries(), Duration::from_secs(10));
    // ...and a short one for the call that must time out.
    let timeout = Duration::from_millis(1_000);
    let client = client_with(&emu, fast_retries(), timeout);
    let s = session(&emu, "dev-1", "203.0.113.10");
    let a = patient.trigger_action(&login(&s)).await.unwrap();
    // Fetch the short client's access token first so its deadline covers only the slow call
    // (a warm-up slowed past 1 s by a loaded machine is simply tried again).
    for _ in 0..5 {
        if client.list_rules().await.is_ok() {
            break;
        }
    }
    // Latency within the deadline only slows the call down.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_latency_ms(20)
            .fail_next(1),
    )
    .unwrap();
    patient.get_recommendation(&a.action_token).await.unwrap();
    // Beyond it: Timeout with the configured deadline.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_latency_ms(3_000)
            .fail_next(1),
    )
    .unwrap();
    let err = client
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    match &err {
        Error::Timeout { after } => assert_eq!(*after, timeout),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(err.is_retryable());
    // Only one slow attempt was sent: the deadline covers the retries too.
    assert_eq!(emu.stats().requests("recommendation"), 2);
    assert_eq!(emu.stats().endpoints["recommendation"].faults_injected, 2);
}

#[tokio::test]
async fn an_unreachable_emulator_is_a_transport_error() {
    let (emu, _) = start().await;
    let client = client_with(&emu, RetryPolicy::none(), Duration::from_secs(5));
    emu.shutdown().await;
    let err = client
        .get_recommendation(&ActionToken::new(format!("at_{}", "0".repeat(32))))
        .await
        .unwrap_err();
    match err {
        // The token request is the first to fail: connection refused.
        Error::Transport { maybe_sent, .. } => assert!(!maybe_sent),
        other => panic!("expected Transport, got {other:?}"),
    }
}
