//! `RiskClient` against the emulator: event streaming (start, streams, collect in batches,
//! delete, stop) and the events of actions.

use risk_core::{
    ActionResult, ActionResultReport, ActionType, ActivityEvent, ChallengeType, ClaimedUserIdType,
    Error, EventType, RiskClient, StreamOptions, TriggerActionRequest,
};
use risk_emulator::DEV_CLIENT_ID;

use crate::common::client::{client, login, session, start};
use crate::common::{CHROME_MAC, T0};

fn param<'a>(e: &'a ActivityEvent, key: &str) -> Option<&'a serde_json::Value> {
    e.additional_params.get(key)
}

fn param_str<'a>(e: &'a ActivityEvent, key: &str) -> Option<&'a str> {
    param(e, key).and_then(serde_json::Value::as_str)
}

/// Collects a stream to its end in batches of `batch`, checking no batch is larger.
async fn drain(client: &RiskClient, stream: &str, batch: u16) -> Vec<ActivityEvent> {
    let mut all = Vec::new();
    loop {
        let got = client
            .collect(EventType::Risk, stream, batch)
            .await
            .unwrap();
        assert!(got.len() <= usize::from(batch), "batch_size honoured");
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

#[tokio::test]
async fn event_streaming_start_stream_collect_delete_stop() {
    let (emu, _) = start().await;
    let client = client(&emu);
    client.start_collect(EventType::Risk).await.unwrap();
    let err = client.start_collect(EventType::Risk).await.unwrap_err();
    match err {
        Error::Conflict { message } => assert!(message.contains("already collecting"), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    client
        .create_stream(
            EventType::Risk,
            "audit",
            &StreamOptions::new().enrichment(true),
        )
        .await
        .unwrap();
    client
        .create_stream(EventType::Risk, "siem", &StreamOptions::default())
        .await
        .unwrap();
    // The emulator records each stream's `enrichment`.
    assert_eq!(emu.stream_enrichment(EventType::Risk, "audit"), Some(true));
    assert_eq!(emu.stream_enrichment(EventType::Risk, "siem"), Some(false));
    let err = client
        .create_stream(EventType::Risk, "audit", &StreamOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");

    // Action A: trigger, recommendation, result. Action B: trigger with the recommendation.
    let s = session(&emu, "dev-events", "203.0.113.90");
    let a = client
        .trigger_action(
            &login(&s)
                .with_correlation_id("corr-a")
                .with_claimed_user_id("u-1", ClaimedUserIdType::AccountId),
        )
        .await
        .unwrap();
    let rec_a = client.get_recommendation(&a.action_token).await.unwrap();
    client
        .report_action_result(
            &ActionResultReport::new(a.action_token, ActionResult::Success)
                .with_user_id("u-1")
                .with_challenge_type(ChallengeType::Passkey),
        )
        .await
        .unwrap();
    let (_, rec_b) = client
        .trigger_action_with_recommendation(
            &TriggerActionRequest::new(s.as_str(), ActionType::Withdraw)
                .with_correlation_id("corr-b"),
        )
        .await
        .unwrap();

    // batch_size 2: 2 + 2 + 1, then nothing.
    let first = client.collect(EventType::Risk, "audit", 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let second = client.collect(EventType::Risk, "audit", 2).await.unwrap();
    assert_eq!(second.len(), 2);
    let third = client.collect(EventType::Risk, "audit", 2).await.unwrap();
    assert_eq!(third.len(), 1);
    assert!(client
        .collect(EventType::Risk, "audit", 2)
        .await
        .unwrap()
        .is_empty());
    let audit: Vec<ActivityEvent> = first.into_iter().chain(second).chain(third).collect();
    // The other stream sees each event once too, in the same order.
    let siem = drain(&client, "siem", 1000).await;
    assert_eq!(siem, audit);

    let activities: Vec<&str> = audit.iter().map(|e| e.activity.as_str()).collect();
    assert_eq!(
        activities,
        [
            "action_triggered",
            "recommendation_issued",
            "action_result_reported",
            "action_triggered",
            "recommendation_issued",
        ]
    );
    for e in &audit {
        assert_eq!(e.app_id.as_deref(), Some(DEV_CLIENT_ID));
        assert_eq!(e.ip.as_deref(), Some("203.0.113.90"));
        assert_eq!(e.user_agent.as_deref(), Some(CHROME_MAC));
        assert_eq!(e.timestamp, Some(T0));
        assert_eq!(param_str(e, "device_id"), Some("dev-events"));
    }
    let action_a = rec_a.context.action_id.as_deref().unwrap();
    let action_b = rec_b.context.action_id.as_deref().unwrap();
    for e in &audit[..3] {
        assert_eq!(param_str(e, "action_id"), Some(action_a));
        assert_eq!(param_str(e, "action_type"), Some("login"));
        assert_eq!(param_str(e, "correlation_id"), Some("corr-a"));
        assert_eq!(param_str(e, "claimed_user_id"), Some("u-1"));
        assert_eq!(e.user_id.as_deref(), Some("u-1"));
    }
    assert_eq!(param_str(&audit[1], "recommendation"), Some("ALLOW"));
    assert_eq!(
        param(&audit[1], "risk_score").and_then(serde_json::Value::as_f64),
        rec_a.risk_score
    );
    assert_eq!(
        param(&audit[1], "reasons"),
        Some(&serde_json::json!(["DEVICE_NEW"]))
    );
    assert_eq!(param_str(&audit[2], "result"), Some("success"));
    assert_eq!(param_str(&audit[2], "challenge_type"), Some("passkey"));
    for e in &audit[3..] {
        assert_eq!(param_str(e, "action_id"), Some(action_b));
        assert_eq!(param_str(e, "action_type"), Some("withdraw"));
        assert_eq!(param_str(e, "correlation_id"), Some("corr-b"));
        // The session now belongs to u-1 (the result carried the user id).
        assert_eq!(e.user_id.as_deref(), Some("u-1"));
    }
    assert_eq!(
        param_str(&audit[4], "recommendation"),
        Some(rec_b.recommendation_type().as_str())
    );

    // Out-of-range batch sizes never leave the client.
    let before = emu.stats().requests("events");
    for bad in [0, 1001] {
        let err = client
            .collect(EventType::Risk, "siem", bad)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }
    let err = client
        .create_stream(EventType::Risk, "has space", &StreamOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(emu.stats().requests("events"), before);

    // Delete a stream: it is gone; the other one keeps working.
    client
        .delete_stream(EventType::Risk, "audit")
        .await
        .unwrap();
    let err = client
        .collect(EventType::Risk, "audit", 10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client
        .delete_stream(EventType::Risk, "audit")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let late = client.trigger_action(&login(&s)).await.unwrap();
    let tail = drain(&client, "siem", 10).await;
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].activity, "action_triggered");

    // Stop: nothing more is recorded; stopping twice is a conflict.
    client.stop_collect(EventType::Risk).await.unwrap();
    let err = client.stop_collect(EventType::Risk).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    client.get_recommendation(&late.action_token).await.unwrap();
    assert!(drain(&client, "siem", 10).await.is_empty());
    // Streams of another type are separate.
    let err = client
        .collect(EventType::Cis, "siem", 10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    // Collecting can start again.
    client.start_collect(EventType::Risk).await.unwrap();
    client.delete_stream(EventType::Risk, "siem").await.unwrap();
}
