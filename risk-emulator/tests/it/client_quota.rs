//! The vendor quota against the emulator: one call per assessment, the budget shared by
//! assessments and result reports (assessments first, reports wait and are all delivered),
//! and a 429 that pauses the budget so that no further call is sent.

use std::time::Duration;

use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, Decision, Error, Guard, Reporter,
    RiskClient, TriggerActionRequest,
};
use risk_emulator::{ClientConfig, EmulatorConfig, DEV_CLIENT_ID, DEV_CLIENT_SECRET};

use crate::common::client::{client, fast_retries, session, start, start_with};

#[tokio::test]
async fn a_protected_action_costs_one_call_on_the_request_path_and_one_report() {
    let (emu, _clock) = start().await;
    let client = client(&emu);
    let reporter = Reporter::builder(client.clone()).build();
    let guard = Guard::builder(ActionType::Login, client.clone())
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let session = session(&emu, "device-1", "198.51.100.7");
    let facts = guard.facts(&[("x-risk-session-token", session.as_str())], None, None);
    let Decision::Proceed { assessment, report } = guard.check(facts).await else {
        panic!("a clean session is allowed");
    };
    assert!(assessment.recommendation().is_some());
    let stats = emu.stats();
    assert_eq!(
        stats.requests("trigger_action"),
        1,
        "one call on the request path"
    );
    assert_eq!(stats.requests("recommendation"), 0, "no second call");
    report.complete(200, None);
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(emu.stats().requests("result"), 1);

    // Two-call mode, for comparison: trigger-action, then the recommendation.
    let two_calls = Guard::builder(ActionType::Login, client)
        .single_call(false)
        .build()
        .unwrap();
    let facts = two_calls.facts(&[("x-risk-session-token", session.as_str())], None, None);
    assert!(two_calls.check(facts).await.is_proceed());
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 2);
    assert_eq!(stats.requests("recommendation"), 1);
}

#[tokio::test]
async fn reports_wait_for_budget_and_are_all_delivered_while_assessments_go_first() {
    let (emu, _clock) = start().await;
    // 600 per minute: bursts of 60, 12 of them kept for assessments, 9 per second after. A
    // deadline of 1 s per call: reports that cannot get budget within it come back to the
    // reporter, which waits for the budget without counting an attempt.
    let client = RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .retry_policy(fast_retries())
        .timeout(Duration::from_secs(1))
        .quota_per_minute(600)
        .build()
        .unwrap();
    let session = session(&emu, "device-2", "198.51.100.8");
    let tokens: Vec<String> = (0..80)
        .map(|_| {
            emu.trigger_action(
                TriggerActionRequest::new(session.as_str(), ActionType::Login),
                DEV_CLIENT_ID,
            )
            .unwrap()
        })
        .collect();
    let unreported = emu
        .trigger_action(
            TriggerActionRequest::new(session.as_str(), ActionType::Login),
            DEV_CLIENT_ID,
        )
        .unwrap();
    let reporter = Reporter::builder(client.clone()).max_attempts(2).build();
    for token in &tokens {
        reporter
            .submit(ActionResultReport::new(
                ActionToken::new(token.as_str()),
                ActionResult::Success,
            ))
            .unwrap();
    }
    // Wait until reports have taken what background calls may take (48 of the burst).
    let spent = tokio::time::timeout(Duration::from_secs(10), async {
        while emu.stats().requests("result") < 48 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(spent.is_ok(), "reports went out");
    assert!(
        reporter.stats().in_flight > 0,
        "reports are waiting for budget"
    );
    // An assessment still goes at once: the reserve is for assessments.
    let started = tokio::time::Instant::now();
    let recommendation = client
        .get_recommendation(&ActionToken::new(unreported.as_str()))
        .await;
    assert!(recommendation.is_ok(), "{recommendation:?}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "the assessment did not wait"
    );

    reporter.flush(Duration::from_secs(30)).await.unwrap();
    let stats = reporter.stats();
    assert_eq!((stats.sent, stats.failed, stats.dropped), (80, 0, 0));
    assert!(
        stats.budget_waits > 0,
        "some reports outwaited their call's deadline"
    );
    assert_eq!(emu.stats().requests("result"), 80, "each report once");
    assert_eq!(emu.stats().rate_limited, 0);
}

#[tokio::test]
async fn a_429_pauses_the_budget_so_assessments_fail_at_once_without_a_call() {
    // The emulator's clock is manual: its bucket (one request) never refills here.
    let config = EmulatorConfig::default()
        .with_client(ClientConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET).with_rate_limit_rps(1.0));
    let (emu, _clock) = start_with(config).await;
    let client = client(&emu);
    let session = session(&emu, "device-3", "198.51.100.9");
    let request = TriggerActionRequest::new(session.as_str(), ActionType::Login);
    assert!(client.trigger_action(&request).await.is_ok());
    let second = client.trigger_action(&request).await;
    assert!(
        matches!(second, Err(Error::RateLimited { .. })),
        "an assessment does not retry a 429: {second:?}"
    );
    assert_eq!(emu.stats().rate_limited, 1);
    let third = client.trigger_action(&request).await;
    assert!(
        matches!(third, Err(Error::QuotaExhausted { .. })),
        "paused: {third:?}"
    );
    assert_eq!(emu.stats().requests("trigger_action"), 2, "no call sent");
}
