//! The example's `/login/step-up` runs through a guard (action-token mode, `StepUp` policy):
//! it obeys the circuit breaker and the deadline like any protected route, and no handler
//! calls the risk API itself. Both example servers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use risk_core::RiskClient;
use risk_demo_app::backend::Backend;
use risk_demo_app::{actix_app, axum_app};
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, Telemetry, DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Server {
    Axum,
    Actix,
}

/// A running example server; stopped on drop.
enum Running {
    Axum(tokio::task::JoinHandle<()>),
    Actix(actix_web::dev::ServerHandle),
}

impl Drop for Running {
    fn drop(&mut self) {
        match self {
            Self::Axum(task) => task.abort(),
            Self::Actix(handle) => drop(handle.stop(false)),
        }
    }
}

async fn emulator() -> Arc<EmulatorHandle> {
    Arc::new(
        Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .unwrap(),
    )
}

/// `backend` served by the example server of `server`: its URL.
fn serve(server: Server, backend: Backend) -> (String, Running) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let running = match server {
        Server::Axum => {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum_app::router(backend).into_make_service_with_connect_info::<SocketAddr>();
            Running::Axum(tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            }))
        }
        Server::Actix => {
            let server = actix_web::HttpServer::new(move || {
                let backend = backend.clone();
                actix_web::App::new().configure(move |cfg| actix_app::configure(cfg, backend))
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
            let handle = server.handle();
            actix_web::rt::spawn(server);
            Running::Actix(handle)
        }
    };
    (url, running)
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

async fn fails_closed_and_the_open_breaker_spares_the_api(server: Server) {
    let emulator = emulator().await;
    let (url, _running) = serve(server, Backend::with_emulator(emulator.clone()).unwrap());
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
        assert_eq!(status, 503, "{server:?}: {body}");
        assert_eq!(body["error"], "risk_unavailable");
    }
    let before = emulator.stats().requests("recommendation");
    let (status, _) = step_up(&url, &token).await;
    assert_eq!(status, 503);
    assert_eq!(
        emulator.stats().requests("recommendation"),
        before,
        "{server:?}: the open breaker answered without calling the API"
    );
}

async fn answers_within_its_deadline(server: Server) {
    let emulator = emulator().await;
    // A client that would wait 10 s for an answer: only the guard's deadline (3 s) can end
    // the call sooner.
    let client = RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emulator.base_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let backend = Backend::with_client(client, Some(emulator.clone())).unwrap();
    let (url, _running) = serve(server, backend);
    let token = action_token(&emulator);
    emulator
        .set_fault(FaultSpec::new("recommendation").with_latency_ms(20_000))
        .unwrap();
    let started = Instant::now();
    let (status, body) = step_up(&url, &token).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{server:?}: {body}");
    assert_eq!(body["error"], "risk_unavailable", "{server:?}: {body}");
    // The slow API would have taken 20 s and the client 10: the guard's 3 s deadline ended it.
    assert!(took >= Duration::from_secs(3), "{server:?}: {took:?}");
    assert!(took < Duration::from_secs(6), "{server:?}: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_step_up_fails_closed_and_the_open_breaker_spares_the_api() {
    fails_closed_and_the_open_breaker_spares_the_api(Server::Axum).await;
}

#[actix_web::test]
async fn actix_step_up_fails_closed_and_the_open_breaker_spares_the_api() {
    fails_closed_and_the_open_breaker_spares_the_api(Server::Actix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_step_up_answers_within_its_deadline() {
    answers_within_its_deadline(Server::Axum).await;
}

#[actix_web::test]
async fn actix_step_up_answers_within_its_deadline() {
    answers_within_its_deadline(Server::Actix).await;
}
