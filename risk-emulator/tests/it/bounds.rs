//! Input bounds: request bodies, telemetry strings and lists.

use serde_json::{json, Value};

use crate::common::Env;

#[tokio::test]
async fn bodies_over_64_kb_are_refused_with_413() {
    let env = Env::start().await;
    let huge = json!({ "user_agent": "x".repeat(70 * 1024) });
    let r = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    let token = env.token().await;
    let session = env.session(json!({})).await;
    let body = json!({
        "session_token": session,
        "action_type": "login",
        "correlation_id": "c".repeat(70 * 1024),
    });
    let r = env
        .post("/risk/v1/action/trigger-action", &token, &body)
        .await;
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn telemetry_strings_and_lists_are_capped() {
    let env = Env::start().await;
    let languages: Vec<String> = (0..1_000).map(|i| format!("l{i}")).collect();
    let session = env
        .session(json!({
            "user_agent": "é".repeat(10_000),
            "timezone": "t".repeat(20_000),
            "languages": languages,
        }))
        .await;
    let token = env.token().await;
    let at = env
        .trigger(
            &token,
            json!({"session_token": session, "action_type": "login"}),
        )
        .await;
    let rec: Value = env.recommendation_json(&token, &at).await;
    let ua = rec["context"]["user_agent"].as_str().unwrap();
    assert_eq!(ua.len(), risk_emulator::MAX_TELEMETRY_STRING);
    assert!(ua.chars().all(|c| c == 'é'), "cut at a character boundary");
    let tz = rec["context"]["device_timezone"].as_str().unwrap();
    assert_eq!(tz.len(), risk_emulator::MAX_TELEMETRY_STRING);
}
