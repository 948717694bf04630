//! A recommendation in the shapes of the vendor's current schema (numbers where the seed has
//! strings, strings where it has numbers, unknown fields, nested unknown objects) through both
//! example servers: the login route's policy sees the real recommendation, and nothing fails
//! open. The emulator answers with the exact body (a fault with a body).

use std::net::SocketAddr;
use std::sync::Arc;

use risk_demo_app::backend::Backend;
use risk_demo_app::{axum_app, serving};
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, Telemetry};
use serde_json::{json, Value};

/// A recommendation of `kind` with every other field typed the other way round, or unknown.
fn vendor_shaped(kind: &str) -> Value {
    json!({
        "id": 918_273,
        "issued_at": "2026-11-30T03:00:00Z",
        "recommendation": { "type": kind, "details": { "nested": { "deep": [1, { "x": null }] } } },
        "risk_score": "12.5",
        "reasons": ["BEHAVIOR_BOT", { "code": "SOMETHING_NEW" }, null],
        "context": {
            "action_type": "login",
            "device_id": 12345,
            "client_id": null,
            "device_timestamp": "yesterday",
            "browser_version": 113,
            "os_version": 14,
            "ip_asn_id": 174,
            "ip_location_longitude": "2.35",
            "device_platform": { "kind": "desktop" },
            "geo": { "lat": 48.85 }
        },
        "risk_signals": {
            "device": { "browser_version": 113, "os_version": 14, "incognito": "false", "fingerprint": { "hash": 1 } },
            "network": { "ip_asn_id": 174, "ip_location_zip": 75001, "vpn": null },
            "behavior": { "typing_velocity": "fast", "input_method": "is_typing" },
            "history": { "ip_action_rate_60_sec": "3" }
        },
        "threats": { "bot": true },
        "preview_rule": { "rule_name": 7, "recommendation": ["ALLOW"] },
        "totally_new": [{ "a": 1 }]
    })
}

/// Makes the emulator answer trigger-action (with the recommendation in it) and the
/// recommendation with `kind` in the vendor's shapes.
fn answer_in_vendor_shapes(emulator: &EmulatorHandle, session: &str, kind: &str) {
    let action_token = emulator.sdk_trigger_action(session, "login").unwrap();
    let recommendation = vendor_shaped(kind);
    let trigger = json!({ "action_token": action_token, "recommendation": recommendation });
    emulator
        .set_fault(
            FaultSpec::new("trigger_action")
                .with_status(200)
                .with_body(trigger.to_string()),
        )
        .unwrap();
    emulator
        .set_fault(
            FaultSpec::new("recommendation")
                .with_status(200)
                .with_body(recommendation.to_string()),
        )
        .unwrap();
}

async fn login(url: &str, session: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/login"))
        .header("x-risk-session-token", session)
        .json(&json!({ "username": "alice", "password": "wonderland" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// DENY in vendor shapes is a denial, ALLOW a login with the recommendation (never the
/// fail-open answer `{"recommendation": null, "unavailable": true}`).
async fn assert_the_policy_sees_the_recommendation(emulator: &EmulatorHandle, url: &str) {
    let session = emulator
        .create_session(&Telemetry::new().with_device_id("vendor-shapes"))
        .unwrap();
    answer_in_vendor_shapes(emulator, &session, "DENY");
    let (status, body) = login(url, &session).await;
    assert_eq!(
        (status, &body["error"]),
        (403, &json!("access_denied")),
        "{body}"
    );

    answer_in_vendor_shapes(emulator, &session, "ALLOW");
    let (status, body) = login(url, &session).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["risk"], json!({ "recommendation": "ALLOW" }), "{body}");
}

async fn emulator_and_backend() -> (Arc<EmulatorHandle>, Backend) {
    let emulator = Arc::new(
        Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .unwrap(),
    );
    let backend = Backend::with_emulator(emulator.clone()).unwrap();
    (emulator, backend)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_shaped_recommendation_reaches_the_axum_routes_policy() {
    let (emulator, backend) = emulator_and_backend().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum_app::router(backend).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    assert_the_policy_sees_the_recommendation(&emulator, &url).await;
    server.abort();
}

#[actix_web::test]
async fn vendor_shaped_recommendation_reaches_the_actix_routes_policy() {
    let (emulator, backend) = emulator_and_backend().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = serving::actix_server(backend, listener, Some(1)).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    assert_the_policy_sees_the_recommendation(&emulator, &url).await;
    handle.stop(true).await;
}
