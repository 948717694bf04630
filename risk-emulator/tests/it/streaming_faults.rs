//! Event streaming, fault injection and statistics.

use risk_core::ActivityEvent;
use risk_emulator::FaultSpec;
use serde_json::{json, Value};

use crate::common::{message, Env, T0};

const A: &str = "/activities/v1/activities";

async fn put(env: &Env, t: &str, path: &str) -> reqwest::Response {
    env.send(reqwest::Method::PUT, &format!("{A}/{path}"), t, None)
        .await
}

async fn delete(env: &Env, t: &str, path: &str) -> reqwest::Response {
    env.send(reqwest::Method::DELETE, &format!("{A}/{path}"), t, None)
        .await
}

async fn collect(env: &Env, t: &str, stream: &str, batch: u32) -> Vec<ActivityEvent> {
    let r = env
        .send(
            reqwest::Method::POST,
            &format!("{A}/collect?type=risk&stream_id={stream}&batch_size={batch}"),
            t,
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn event_streaming_statuses_and_read_positions() {
    let env = Env::start().await;
    let t = env.token().await;
    let session = env
        .session(json!({"ip": "192.0.2.1", "user_agent": "UA/1"}))
        .await;
    // Nothing is recorded before start-collect.
    env.login(&t, &session, Some("before")).await;

    let r = put(&env, &t, "start-collect?type=risk").await;
    assert_eq!(r.status(), 200);
    assert!(!message(r).await.is_empty());
    assert_eq!(put(&env, &t, "start-collect?type=risk").await.status(), 409);
    assert_eq!(
        put(&env, &t, "start-collect?type=weather").await.status(),
        400
    );
    assert_eq!(put(&env, &t, "start-collect").await.status(), 400);

    assert_eq!(
        put(&env, &t, "stream?type=risk&stream_id=siem")
            .await
            .status(),
        200
    );
    assert_eq!(
        put(&env, &t, "stream?type=risk&stream_id=siem")
            .await
            .status(),
        409
    );
    assert_eq!(
        put(&env, &t, "stream?type=risk&stream_id=has%20space")
            .await
            .status(),
        400
    );
    assert_eq!(
        put(&env, &t, "stream?type=risk&stream_id=").await.status(),
        400
    );
    assert_eq!(
        put(&env, &t, "stream?type=risk&stream_id=bi")
            .await
            .status(),
        200
    );

    let (at, rec) = env.login(&t, &session, Some("frank")).await;
    let r = env
        .report(&t, json!({"action_token": at, "result": "success", "user_id": "frank", "challenge_type": "passkey"}))
        .await;
    assert_eq!(r.status(), 201);

    let siem = collect(&env, &t, "siem", 2).await;
    assert_eq!(
        siem.iter().map(|e| e.activity.as_str()).collect::<Vec<_>>(),
        ["action_triggered", "recommendation_issued"]
    );
    let rest = collect(&env, &t, "siem", 1000).await;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].activity, "action_result_reported");
    assert!(collect(&env, &t, "siem", 1000).await.is_empty());
    // The other stream has its own position and sees every event once.
    let bi = collect(&env, &t, "bi", 1000).await;
    assert_eq!(bi.len(), 3);
    assert!(collect(&env, &t, "bi", 10).await.is_empty());

    let triggered = &siem[0];
    assert_eq!(triggered.app_id.as_deref(), Some("dev-client"));
    assert_eq!(triggered.user_id.as_deref(), Some("frank"));
    assert_eq!(triggered.ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(triggered.user_agent.as_deref(), Some("UA/1"));
    assert_eq!(triggered.timestamp, Some(T0));
    assert_eq!(triggered.additional_params["action_type"], "login");
    assert_eq!(
        triggered.additional_params["action_id"].as_str(),
        rec.context.action_id.as_deref()
    );
    let issued = &siem[1].additional_params;
    assert_eq!(issued["recommendation"], "ALLOW");
    assert_eq!(issued["risk_score"], json!(rec.risk_score));
    assert!(issued["reasons"].is_array());
    let result = &rest[0].additional_params;
    assert_eq!(result["result"], "success");
    assert_eq!(result["challenge_type"], "passkey");

    // batch_size bounds and unknown streams.
    for bad in ["0", "1001", "x"] {
        let r = env
            .send(
                reqwest::Method::POST,
                &format!("{A}/collect?type=risk&stream_id=siem&batch_size={bad}"),
                &t,
                None,
            )
            .await;
        assert_eq!(r.status(), 400, "batch_size={bad}");
    }
    let r = env
        .send(
            reqwest::Method::POST,
            &format!("{A}/collect?type=risk&stream_id=nope&batch_size=5"),
            &t,
            None,
        )
        .await;
    assert_eq!(r.status(), 404);

    assert_eq!(
        delete(&env, &t, "stream?type=risk&stream_id=bi")
            .await
            .status(),
        200
    );
    assert_eq!(
        delete(&env, &t, "stream?type=risk&stream_id=bi")
            .await
            .status(),
        404
    );
    assert_eq!(
        delete(&env, &t, "stop-collect?type=risk").await.status(),
        200
    );
    assert_eq!(
        delete(&env, &t, "stop-collect?type=risk").await.status(),
        409
    );
    // Stopped: new actions are not recorded.
    env.login(&t, &session, None).await;
    assert!(collect(&env, &t, "siem", 10).await.is_empty());
}

#[tokio::test]
async fn sdk_triggered_actions_are_streamed_too() {
    let env = Env::start().await;
    let t = env.token().await;
    put(&env, &t, "start-collect?type=risk").await;
    put(&env, &t, "stream?type=risk&stream_id=s").await;
    let s = env
        .emu
        .create_session(&risk_emulator::Telemetry::new())
        .unwrap();
    let at = env.emu.sdk_trigger_action(&s, "login").unwrap();
    env.recommendation_json(&t, &at).await;
    let events = collect(&env, &t, "s", 10).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].app_id, None);
    assert_eq!(events[1].app_id.as_deref(), Some("dev-client"));
}

async fn set_fault(env: &Env, spec: Value) -> reqwest::Response {
    env.http
        .put(env.url("/emulator/v1/faults"))
        .json(&spec)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forced_statuses_with_retry_after() {
    let env = Env::start().await;
    let t = env.token().await;
    let cases = [
        (json!({"endpoint": "rules", "status": 500}), 500, None),
        (json!({"endpoint": "rules", "status": 503}), 503, Some("1")),
        (
            json!({"endpoint": "rules", "status": 429, "retry_after_secs": 7}),
            429,
            Some("7"),
        ),
        (json!({"endpoint": "rules", "status": 429}), 429, Some("1")),
        (
            json!({"endpoint": "rules", "status": 503, "retry_after_secs": 0}),
            503,
            Some("0"),
        ),
        (json!({"endpoint": "rules", "status": 463}), 463, None),
    ];
    for (spec, status, retry_after) in cases {
        assert_eq!(set_fault(&env, spec.clone()).await.status(), 200);
        let r = env.get("/risk/v1/rules", &t).await;
        assert_eq!(r.status(), status, "{spec}");
        assert_eq!(
            r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
            retry_after,
            "{spec}"
        );
        assert!(message(r).await.contains("injected"));
    }
    // Faults come before authentication, as a failing server would.
    assert_eq!(env.get("/risk/v1/rules", "no-token").await.status(), 463);
    let r = env
        .http
        .delete(env.url("/emulator/v1/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(env.get("/risk/v1/rules", &t).await.status(), 200);
    let stats = env.emu.stats();
    assert_eq!(stats.endpoints["rules"].faults_injected, 7);
    assert_eq!(stats.responses("rules", 463), 2);
    assert_eq!(stats.responses("rules", 200), 1);

    for bad in [
        json!({"endpoint": "nope", "status": 500}),
        json!({"endpoint": "rules", "fail_next": 0}),
        json!({"status": 500}),
    ] {
        assert_eq!(set_fault(&env, bad.clone()).await.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn fail_next_n_then_recover_and_wildcard() {
    let env = Env::start().await;
    env.emu
        .set_fault(FaultSpec::new("token").with_status(503).fail_next(2))
        .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", risk_emulator::DEV_CLIENT_ID),
        ("client_secret", risk_emulator::DEV_CLIENT_SECRET),
        ("resource", risk_core::RISK_RESOURCE),
    ];
    assert_eq!(env.token_response(&form).await.status(), 503);
    assert_eq!(env.token_response(&form).await.status(), 503);
    assert_eq!(env.token_response(&form).await.status(), 200);
    let t = env.token().await;

    env.emu
        .set_fault(FaultSpec::new("*").with_status(500))
        .unwrap();
    env.emu
        .set_fault(
            FaultSpec::new("recommendation")
                .with_status(429)
                .with_retry_after_secs(3),
        )
        .unwrap();
    assert_eq!(env.get("/risk/v1/rules", &t).await.status(), 500);
    let r = env.get("/risk/v1/recommendation?action_token=x", &t).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    // Emulator-only endpoints are never faulted.
    let r = env
        .http
        .get(env.url("/emulator/v1/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    env.emu.clear_faults();
    assert_eq!(env.get("/risk/v1/rules", &t).await.status(), 200);
    assert_eq!(env.emu.stats().endpoints["token"].faults_injected, 2);
}

#[tokio::test]
async fn latency_is_added_before_the_normal_answer() {
    let env = Env::start().await;
    let t = env.token().await;
    env.emu
        .set_fault(FaultSpec::new("rules").with_latency_ms(20).fail_next(1))
        .unwrap();
    let r = env.get("/risk/v1/rules", &t).await;
    assert_eq!(r.status(), 200);
    let stats = env.emu.stats();
    assert_eq!(stats.endpoints["rules"].faults_injected, 1);
    assert_eq!(stats.responses("rules", 200), 1);
}

#[tokio::test]
async fn close_connection_drops_the_tcp_connection_without_an_answer() {
    let env = Env::start().await;
    let t = env.token().await;
    assert_eq!(
        set_fault(
            &env,
            json!({"endpoint": "trigger_action", "close_connection": true})
        )
        .await
        .status(),
        200
    );
    let before = env.emu.stats().connections_accepted;
    let err = env
        .http
        .post(env.url("/risk/v1/action/trigger-action"))
        .bearer_auth(&t)
        .json(&json!({"session_token": "x", "action_type": "login"}))
        .send()
        .await
        .expect_err("no HTTP answer");
    assert!(err.status().is_none());
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    let stats = env.emu.stats();
    assert!(stats.endpoints["trigger_action"].connections_closed >= 1);
    assert!(stats.responses("trigger_action", 200) + stats.responses("trigger_action", 201) == 0);
    // Other endpoints keep working, over a new connection.
    env.emu.clear_faults();
    let r = env.get("/risk/v1/rules", &t).await;
    assert_eq!(r.status(), 200);
    assert!(env.emu.stats().connections_accepted > before);
}

#[tokio::test]
async fn connections_are_counted_and_reused_with_keep_alive() {
    let env = Env::start().await;
    let t = env.token().await;
    for _ in 0..5 {
        assert_eq!(env.get("/risk/v1/rules", &t).await.status(), 200);
    }
    // One keep-alive connection served the token request and the five others.
    assert_eq!(env.emu.stats().connections_accepted, 1);
    let fresh = reqwest::Client::new();
    fresh
        .get(env.url("/emulator/v1/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(env.emu.stats().connections_accepted, 2);
}
