//! End to end: the routers of both example servers, served over real HTTP on 127.0.0.1:0,
//! against the emulator started in-process, through every scenario of the quickstart
//! (`risk_demo_app::scenarios`, the very code `cargo run --example quickstart` plays).

use std::net::SocketAddr;
use std::sync::Arc;

use risk_demo_app::backend::Backend;
use risk_demo_app::scenarios::{self, names, Run};
use risk_demo_app::{actix_app, axum_app};
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

async fn backend() -> (Arc<EmulatorHandle>, Backend) {
    let emulator = Arc::new(
        Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .expect("emulator starts"),
    );
    let backend = Backend::with_emulator(emulator.clone()).expect("backend builds");
    scenarios::prepare(&backend)
        .await
        .expect("rules and event stream");
    (emulator, backend)
}

fn row<'a>(run: &'a Run, name: &str) -> &'a scenarios::Row {
    run.row(name)
        .unwrap_or_else(|| panic!("no row for scenario {name:?}"))
}

/// What every scenario of the quickstart must show, whatever the framework.
pub(crate) fn assert_quickstart(run: &Run) {
    let r = row(run, names::FIRST_LOGIN);
    assert_eq!((r.status, r.verdict.as_str()), (200, "proceed"), "{r:?}");
    assert_eq!(r.recommendation.as_deref(), Some("ALLOW"), "{r:?}");
    assert_eq!(r.reported.as_deref(), Some("success"), "{r:?}");

    let r = row(run, names::NEW_DEVICE);
    assert_eq!((r.status, r.verdict.as_str()), (403, "challenge"), "{r:?}");
    assert_eq!(r.recommendation.as_deref(), Some("CHALLENGE"), "{r:?}");
    assert!(r.reasons.iter().any(|x| x == "PROFILE_DEVICE_NEW"), "{r:?}");
    // The step-up reported the challenged action's result with its challenge type.
    assert_eq!(r.reported.as_deref(), Some("success (sms_otp)"), "{r:?}");

    let r = row(run, names::STEP_UP_TYPO);
    assert_eq!(
        (r.status, r.verdict.as_str()),
        (401, "step-up failed"),
        "{r:?}"
    );
    let r = row(run, names::STEP_UP);
    assert_eq!(
        (r.status, r.verdict.as_str()),
        (200, "step-up passed"),
        "{r:?}"
    );

    // One result for the challenged action, although the user needed two attempts.
    let results = run
        .events
        .iter()
        .filter(|e| e.activity == "action_result_reported")
        .filter(|e| {
            e.additional_params
                .get("correlation_id")
                .and_then(|v| v.as_str())
                == Some(r.correlation_id.as_str())
        })
        .count();
    assert_eq!(results, 1, "the step-up is reported once");

    let r = row(run, names::TRUSTED);
    assert_eq!((r.status, r.verdict.as_str()), (200, "proceed"), "{r:?}");
    assert_eq!(r.recommendation.as_deref(), Some("TRUST"), "{r:?}");
    assert_eq!(r.reported.as_deref(), Some("success"), "{r:?}");

    let r = row(run, names::BOT);
    assert_eq!((r.status, r.verdict.as_str()), (403, "deny"), "{r:?}");
    assert_eq!(r.recommendation.as_deref(), Some("DENY"), "{r:?}");
    assert!(r.reasons.iter().any(|x| x == "BEHAVIOR_BOT"), "{r:?}");
    assert_eq!(r.reported.as_deref(), Some("failure"), "{r:?}");

    let r = row(run, names::BLOCKED);
    assert_eq!((r.status, r.verdict.as_str()), (403, "deny"), "{r:?}");
    assert_eq!(r.recommendation.as_deref(), Some("DENY"), "{r:?}");

    let first = row(run, names::BURST_FIRST);
    let last = row(run, names::BURST_LAST);
    assert!(
        last.score.unwrap() > first.score.unwrap(),
        "velocity raises the score: {first:?} {last:?}"
    );
    assert_eq!(
        first.reported.as_deref(),
        Some("failure"),
        "wrong password: {first:?}"
    );

    let r = row(run, names::PREVIEW);
    assert_eq!(
        r.preview_rule.as_deref(),
        Some(scenarios::PREVIEW_RULE),
        "{r:?}"
    );
    assert_eq!(
        r.recommendation.as_deref(),
        Some("ALLOW"),
        "preview leaves the decision: {r:?}"
    );
    assert_eq!((r.status, r.verdict.as_str()), (200, "proceed"), "{r:?}");

    let r = row(run, names::TRANSFER);
    assert_eq!((r.status, r.verdict.as_str()), (200, "proceed"), "{r:?}");
    assert_eq!(r.reported.as_deref(), Some("success"), "{r:?}");

    let r = row(run, names::OUTAGE_LOGIN);
    assert_eq!(
        (r.status, r.verdict.as_str()),
        (200, "proceed (fail open)"),
        "{r:?}"
    );
    assert_eq!(r.recommendation, None, "{r:?}");
    let r = row(run, names::OUTAGE_TRANSFER);
    assert_eq!(
        (r.status, r.verdict.as_str()),
        (503, "deny (fail closed)"),
        "{r:?}"
    );

    // The event stream saw every assessed action: a trigger and a recommendation each.
    let triggered = run
        .events
        .iter()
        .filter(|e| e.activity == "action_triggered")
        .count();
    // The step-up rows share their action (correlation id) with the challenge row.
    let assessed: std::collections::BTreeSet<&str> = run
        .rows
        .iter()
        .filter(|r| r.recommendation.is_some())
        .map(|r| r.correlation_id.as_str())
        .collect();
    assert_eq!(triggered, assessed.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_plays_every_quickstart_scenario() {
    let (emulator, backend) = backend().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum_app::router(backend.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let run = scenarios::run(&url, &backend, &emulator).await.unwrap();
    assert_quickstart(&run);

    let health: serde_json::Value = reqwest::get(format!("{url}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["reports"]["dropped"], 0);
    assert_metrics(&url).await;
    server.abort();
}

#[actix_web::test]
async fn actix_server_plays_every_quickstart_scenario() {
    let (emulator, backend) = backend().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app_backend = backend.clone();
    let server = actix_web::HttpServer::new(move || {
        let backend = app_backend.clone();
        actix_web::App::new().configure(move |cfg| actix_app::configure(cfg, backend))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let run = scenarios::run(&url, &backend, &emulator).await.unwrap();
    assert_quickstart(&run);

    let health: serde_json::Value = reqwest::get(format!("{url}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_metrics(&url).await;
    handle.stop(true).await;
}

/// `GET /metrics` names what happened, in the Prometheus text format.
async fn assert_metrics(url: &str) {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "risk_decisions_total",
        "risk_assessment_duration_seconds",
        "risk_upstream_requests_total",
        "risk_upstream_request_duration_seconds",
        "risk_reports_total",
        "risk_token_refreshes_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics:\n{text}");
    }
    assert!(
        text.contains(r#"degraded="outage""#),
        "the outage scenario's fail-open is measured:\n{text}"
    );
}
