//! The example's `/login/step-up` runs through a guard (action-token mode, `StepUp` policy):
//! it obeys the circuit breaker and the deadline like any protected route, and no handler
//! calls the risk API itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use risk_demo_app::axum_app;
use risk_demo_app::backend::Backend;
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, Telemetry};
use serde_json::{json, Value};

async fn serve() -> (Arc<EmulatorHandle>, String, tokio::task::JoinHandle<()>) {
    let emulator = Arc::new(
        Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .unwrap(),
    );
    let backend = Backend::with_emulator(emulator.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum_app::router(backend).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (emulator, url, server)
}

/// A front-end-triggered login action (the step-up route reads its recommendation).
fn action_token(emulator: &EmulatorHandle) -> String {
    let session = emulator
        .create_session(
            &Telemetry::new()
                .with_device_id("dev-step-up")
                .with_ip("198.51.100.61"),
        )
        .unwrap();
    emulator.sdk_trigger_action(&session, "login").unwrap()
}

async fn step_up(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/login/step-up"))
        .header("x-risk-action-token", token)
        .json(&json!({ "username": "alice", "password": "wonderland", "code": "000000" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_fails_closed_and_the_open_breaker_spares_the_api() {
    let (emulator, url, server) = serve().await;
    let token = action_token(&emulator);
    emulator
        .set_fault(
            FaultSpec::new("recommendation")
                .with_status(503)
                .with_retry_after_secs(0),
        )
        .unwrap();
    // Five failed checks open the breaker (its default); each answers 503, never 2xx.
    for _ in 0..5 {
        let (status, body) = step_up(&url, &token).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "risk_unavailable");
    }
    let before = emulator.stats().requests("recommendation");
    let (status, _) = step_up(&url, &token).await;
    assert_eq!(status, 503);
    assert_eq!(
        emulator.stats().requests("recommendation"),
        before,
        "the open breaker answered without calling the API"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_answers_within_its_deadline() {
    let (emulator, url, server) = serve().await;
    let token = action_token(&emulator);
    emulator
        .set_fault(FaultSpec::new("recommendation").with_latency_ms(10_000))
        .unwrap();
    let started = Instant::now();
    let (status, body) = step_up(&url, &token).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{body}");
    // The slow API would have taken 10 s: the call's deadline (2 s, within the guard's 3 s)
    // ended it.
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    server.abort();
}
