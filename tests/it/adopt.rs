//! Adopting the crates in one line: the `Risk` handle built from environment variables
//! protects an axum route and an actix-web route against the emulator, and every guard it
//! hands out shares one client (one access token), one reporter queue and one circuit breaker.
//!
//! The environment is the process's: the test runs itself again as a child process with the
//! variables set (never `set_var` beside the other tests' threads).

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::post;
use risk_actix::RiskMiddlewareExt as _;
use risk_core::{ActionType, BreakerState, ErrorBehavior, Risk};
use risk_emulator::{
    Emulator, EmulatorConfig, FaultSpec, Telemetry, DEV_CLIENT_ID, DEV_CLIENT_SECRET,
};
use risk_tower::RiskLayerExt as _;
use serde_json::Value;

async fn post_with(url: &str, session: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("x-risk-session-token", session)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Set in the child process that runs the test with its environment.
const CHILD: &str = "RISK_ADOPT_CHILD";

#[actix_web::test]
async fn the_handle_from_the_environment_protects_axum_and_actix_routes_with_one_of_everything() {
    let Some(base_url) = std::env::var_os(CHILD) else {
        // The parent: a free loopback address for the child's emulator, the variables a
        // deployment would set, and this very test run again with them.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "adopt::the_handle_from_the_environment_protects_axum_and_actix_routes_with_one_of_everything",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, format!("http://{addr}/"))
            .env("TS_BASE_URL", format!("http://{addr}/"))
            .env("TS_CLIENT_ID", DEV_CLIENT_ID)
            .env("TS_CLIENT_SECRET", DEV_CLIENT_SECRET)
            // Nothing else from the shell that runs the tests.
            .env_remove("TS_REGION")
            .env_remove("TS_QUOTA_PER_MINUTE")
            .env_remove("TS_ACTIVITIES_RESOURCE")
            .env_remove("RISK_REDIS_URL")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains("1 passed"),
            "the child ran the test: {stdout}"
        );
        return;
    };
    // The child: its emulator listens where TS_BASE_URL points.
    let addr: SocketAddr = base_url
        .to_str()
        .and_then(|url| url.strip_prefix("http://"))
        .and_then(|rest| rest.trim_end_matches('/').parse().ok())
        .unwrap();
    let emulator = Emulator::start(EmulatorConfig::default(), addr)
        .await
        .unwrap();
    let risk = Risk::from_env().unwrap();

    // axum: the route lines of the README.
    async fn welcome() -> &'static str {
        "welcome"
    }
    let app = axum::Router::new()
        .route(
            "/login",
            post(welcome).route_layer(risk.layer(ActionType::Login)),
        )
        .route(
            "/pay",
            post(welcome).route_layer(
                risk.layer_with(ActionType::Transaction, |g| {
                    g.on_error(ErrorBehavior::FailClosed)
                })
                .unwrap(),
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let axum_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    // actix-web: two workers, each building its App; `risk.middleware` gives both the same guard.
    let pay = risk
        .middleware_with(ActionType::Transaction, |g| {
            g.on_error(ErrorBehavior::FailClosed)
        })
        .unwrap();
    let app_risk = risk.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .service(
                actix_web::web::resource("/login")
                    .route(actix_web::web::post().to(welcome))
                    .wrap(app_risk.middleware(ActionType::Login)),
            )
            .service(
                actix_web::web::resource("/pay")
                    .route(actix_web::web::post().to(welcome))
                    .wrap(pay.clone()),
            )
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap();
    let actix_url = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let session = emulator
        .create_session(&Telemetry::new().with_device_id("adopter"))
        .unwrap();
    for base in [&axum_url, &actix_url] {
        for route in ["login", "pay"] {
            let (status, body) = post_with(&format!("{base}/{route}"), &session).await;
            assert_eq!(status, 200, "{base}/{route}: {body}");
        }
    }
    // One client: one access token for every guard of both servers (and the reporter).
    assert_eq!(emulator.stats().tokens_issued, 1);

    // One breaker: failures on the axum login route open it for the actix pay route too,
    // which then fails closed without calling the API.
    emulator
        .set_fault(
            FaultSpec::new("trigger_action")
                .with_status(503)
                .with_retry_after_secs(0),
        )
        .unwrap();
    for _ in 0..5 {
        let (status, _) = post_with(&format!("{axum_url}/login"), &session).await;
        assert_eq!(status, 200, "the login route fails open");
    }
    assert_eq!(risk.circuit_breaker().state(), BreakerState::Open);
    let before = emulator.stats().requests("trigger_action");
    let (status, body) = post_with(&format!("{actix_url}/pay"), &session).await;
    assert_eq!(
        (status, &body["error"]),
        (503, &Value::from("risk_unavailable"))
    );
    assert_eq!(emulator.stats().requests("trigger_action"), before);

    // One reporter queue: the four actions that proceeded were reported through it, and
    // shutting the handle down delivers them.
    handle.stop(true).await;
    let stats = risk.shutdown(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stats.sent, 4, "{stats:?}");
    assert_eq!(emulator.stats().requests("result"), 4);
}
