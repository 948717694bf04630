//! Captures all tracing output (and `log` records) of a whole token + trigger + recommendation
//! + result exchange at TRACE level, and checks that no secret or whole token leaks.
//!
//! The capture is this thread's (see `capture`): the client's spawned tasks run here too.

use crate::capture::capture;
use crate::client_support::*;
use risk_core::{ActionResult, ActionResultReport, ActionType, RiskClient, TriggerActionRequest};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn no_secret_or_whole_token_in_traces_or_debug() {
    // Everything at TRACE, spans included (the mock server's own request dumps, which
    // print the headers it received, are left out).
    let capture = capture(tracing::Level::TRACE);

    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 2).await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"action_token": ACTION_TOKEN})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // First recommendation attempt: 401 (token refresh), then 503 (retry), then the answer.
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "expired"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .and(query_param("action_token", ACTION_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "recommendation": {"type": "CHALLENGE"}, "risk_score": 80
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/result"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;

    Mock::given(method("GET"))
        .and(path("/risk/v1/rules/missing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "no such rule"})))
        .expect(1)
        .mount(&server)
        .await;

    let builder = builder(&server.uri());
    let builder_debug = format!("{builder:?}");
    let client: RiskClient = builder.build().unwrap();
    let request =
        TriggerActionRequest::new(SESSION_TOKEN, ActionType::Login).with_correlation_id("corr-1");
    let triggered = client.trigger_action(&request).await.unwrap();
    let recommendation = client
        .get_recommendation(&triggered.action_token)
        .await
        .unwrap();
    client
        .report_action_result(&ActionResultReport::new(
            triggered.action_token.clone(),
            ActionResult::Success,
        ))
        .await
        .unwrap();
    // A failing call too, so error paths are logged.
    assert!(client.get_rule("missing").await.is_err());

    let debug_output = [
        builder_debug,
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{request:?}"),
        format!("{triggered:?}"),
        format!("{recommendation:?}"),
    ]
    .join("\n");
    let traces = capture.buffer().text();

    // The capture works: it saw the transport's own records (so the checks below that no
    // secret is in them are not vacuous) and the call fields.
    assert!(
        traces.contains("connection to the risk API opened"),
        "no record of the transport in traces:\n{traces}"
    );
    for expected in [
        "risk.call",
        "endpoint=\"trigger_action\"",
        "endpoint=\"get_recommendation\"",
        "endpoint=\"report_action_result\"",
        "risk.token",
        "status=201",
        "attempt=3",
        "latency_ms",
        "error=\"not_found\"",
        // One span per attempt, in the OpenTelemetry HTTP client conventions.
        "http.client",
        "http.request.method=POST",
        "url.path=/risk/v1/action/trigger-action",
        "http.response.status_code=201",
        "http.request.resend_count=2",
    ] {
        assert!(
            traces.contains(expected),
            "missing {expected:?} in traces:\n{traces}"
        );
    }
    for (name, secret) in [
        ("client secret", CLIENT_SECRET),
        ("access token", ACCESS_TOKEN),
        ("second access token", ACCESS_TOKEN_2),
        ("session token", SESSION_TOKEN),
        ("action token", ACTION_TOKEN),
    ] {
        assert!(
            !traces.contains(secret),
            "{name} found in traces:\n{traces}"
        );
        assert!(
            !debug_output.contains(secret),
            "{name} found in Debug:\n{debug_output}"
        );
    }
}
