//! Retries, Retry-After, the total deadline, error mapping and decode errors.

use std::time::{Duration, Instant, SystemTime};

use crate::client_support::*;
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, Error, EventType, RetryPolicy, Rule,
    RuleRecommendation, TriggerActionRequest,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup() -> MockServer {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    server
}

fn trigger() -> TriggerActionRequest {
    TriggerActionRequest::new(SESSION_TOKEN, ActionType::Login)
}

#[tokio::test]
async fn a_429_with_retry_after_waits_then_succeeds() {
    // A background call (here a rule list) waits out the 429 and is sent again.
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "rate limit reached"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let started = Instant::now();
    client.list_rules().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
}

#[tokio::test]
async fn an_assessment_answered_429_is_not_resent_and_pauses_the_budget() {
    // The route's quota behaviour applies at once; the next assessment is not even sent.
    let server = setup().await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"recommendation": {"type": "ALLOW"}})),
        )
        .expect(0)
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client.trigger_action(&trigger()).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    let err = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap_err();
    match err {
        Error::QuotaExhausted { retry_after } => {
            assert!(retry_after > Duration::from_secs(29), "{retry_after:?}");
        }
        other => panic!("expected QuotaExhausted, got {other:?}"),
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_fails_at_once() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry_policy(fast_retries(3).with_max_retry_after(Duration::from_secs(600)))
        .build()
        .unwrap();
    let err = client.list_rules().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(120)),
        "{err:?}"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_cap_fails_at_once() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3"))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .timeout(Duration::from_secs(30))
        .retry_policy(fast_retries(3).with_max_retry_after(Duration::from_secs(2)))
        .build()
        .unwrap();
    let err = client.list_rules().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
}

#[tokio::test]
async fn a_retry_after_http_date_is_understood() {
    let server = setup().await;
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", at.as_str()))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).list_rules().await.unwrap_err();
    let after = err
        .retry_after()
        .expect("retry_after parsed from the HTTP date");
    assert!(
        after > Duration::from_secs(100) && after <= Duration::from_secs(120),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_429_without_retry_after_is_retried_with_backoff_up_to_the_limit() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"message": "slow down"})))
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server).list_rules().await.unwrap_err();
    assert!(
        matches!(&err, Error::RateLimited { retry_after: None, message } if message == "slow down"),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_errors_on_idempotent_calls_are_retried_a_bounded_number_of_times() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(ResponseTemplate::new(502))
        .expect(4)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry_policy(fast_retries(4))
        .build()
        .unwrap();
    let err = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 502, .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn result_reports_are_retried_after_a_server_error() {
    let server = setup().await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/result"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/result"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let report = ActionResultReport::new(ActionToken::new(ACTION_TOKEN), ActionResult::Success);
    client(&server).report_action_result(&report).await.unwrap();
}

#[tokio::test]
async fn retry_policy_none_sends_once() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(matches!(
        client.list_rules().await,
        Err(Error::Server { status: 500, .. })
    ));
}

#[tokio::test]
async fn a_trigger_action_is_not_resent_once_sent() {
    let server = setup().await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})))
        // Two calls below, one request each: neither is resent.
        .expect(2)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry_policy(fast_retries(5))
        .build()
        .unwrap();
    let err = client.trigger_action(&trigger()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Server { status: 500, message } if message == "boom"),
        "{err:?}"
    );
    let err = client
        .trigger_action_with_recommendation(&trigger())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 500, .. }), "{err:?}");
    assert_eq!(count(&server, "/risk/v1/action/trigger-action").await, 2);
}

#[tokio::test]
async fn create_rule_and_collect_are_not_resent_after_a_server_error() {
    // The rule (risk) and the collect (activities) each fetch their family's token.
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 2).await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/activities/v1/activities/collect"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry_policy(fast_retries(5))
        .build()
        .unwrap();
    let rule = Rule::new("r", 1, RuleRecommendation::Deny);
    assert!(matches!(
        client.create_rule(&rule).await,
        Err(Error::Server { status: 503, .. })
    ));
    assert!(matches!(
        client.collect(EventType::Risk, "s1", 10).await,
        Err(Error::Server { status: 503, .. })
    ));
}

#[tokio::test]
async fn a_trigger_action_timing_out_after_sending_is_not_resent() {
    let server = setup().await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(10)))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .timeout(Duration::from_millis(300))
        .retry_policy(fast_retries(5))
        .build()
        .unwrap();
    let err = client.trigger_action(&trigger()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn a_connection_refused_is_a_transport_error_not_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = builder(&base).build().unwrap();
    let err = client.trigger_action(&trigger()).await.unwrap_err();
    match &err {
        Error::Transport {
            maybe_sent,
            message,
        } => {
            assert!(!maybe_sent);
            assert!(!message.contains(SESSION_TOKEN));
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn slow_headers_time_out_within_the_deadline() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"recommendation": {"type": "ALLOW"}}))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let deadline = Duration::from_millis(300);
    let client = builder(&server.uri()).timeout(deadline).build().unwrap();
    let started = Instant::now();
    let err = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after } if after == deadline),
        "{err:?}"
    );
    // Far below the server's 30 s delay: the deadline, not the server, ended the call.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_slow_token_endpoint_times_out_within_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN}))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client.list_rules().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn a_stalled_body_times_out_within_the_deadline() {
    let server = StallingServer::start().await;
    let deadline = Duration::from_millis(400);
    let client = builder(&server.base).timeout(deadline).build().unwrap();
    let started = Instant::now();
    let err = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after } if after == deadline),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_with_an_excerpt() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("<html>gateway says hi</html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("x".repeat(5000), "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            format!("{{\"action_token\": \"{ACTION_TOKEN}\", \"x\": }}"),
            "application/json",
        ))
        .mount(&server)
        .await;
    let client = client(&server);

    let err = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap_err();
    // A recommendation without a readable decision is a malformed answer (its own kind).
    match &err {
        Error::MalformedAnswer { excerpt, .. } => {
            assert_eq!(excerpt, "<html>gateway says hi</html>");
        }
        other => panic!("expected MalformedAnswer, got {other:?}"),
    }
    match client.list_rules().await.unwrap_err() {
        Error::Decode { excerpt, .. } => assert!(excerpt.chars().count() <= 201),
        other => panic!("expected Decode, got {other:?}"),
    }
    // A trigger-action body carries the action token: not quoted.
    let err = client.trigger_action(&trigger()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode { excerpt, .. } if excerpt.is_empty()),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(ACTION_TOKEN));
}

#[tokio::test]
async fn statuses_map_to_error_variants() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(u16, Check)> = vec![
        (
            400,
            |e| matches!(e, Error::BadRequest { message } if message == "msg-1; msg-2 (error_code 7)"),
        ),
        (403, |e| matches!(e, Error::Forbidden { .. })),
        (404, |e| matches!(e, Error::NotFound { .. })),
        (409, |e| matches!(e, Error::Conflict { .. })),
        (463, |e| matches!(e, Error::BlacklistedToken { .. })),
        (418, |e| {
            matches!(e, Error::UnexpectedStatus { status: 418, .. })
        }),
        (301, |e| {
            matches!(e, Error::UnexpectedStatus { status: 301, .. })
        }),
    ];
    for (status, check) in cases {
        let server = setup().await;
        Mock::given(method("GET"))
            .and(path("/risk/v1/recommendation"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("location", "http://elsewhere.invalid/")
                    .set_body_json(json!({"message": ["msg-1", "msg-2"], "error_code": 7})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .get_recommendation(&ActionToken::new(ACTION_TOKEN))
            .await
            .unwrap_err();
        assert!(check(&err), "status {status}: {err:?}");
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn an_error_body_that_is_not_json_is_never_quoted() {
    let server = setup().await;
    // A gateway page echoing the request, token included.
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(ResponseTemplate::new(404).set_body_string(format!(
            "<html>no route for /risk/v1/recommendation?action_token={ACTION_TOKEN}</html>"
        )))
        .mount(&server)
        .await;
    let err = client(&server)
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap_err();
    let Error::NotFound { message } = &err else {
        panic!("expected NotFound, got {err:?}");
    };
    assert!(
        message.contains("404") && message.contains("non-JSON"),
        "{message}"
    );
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(ACTION_TOKEN), "{shown}");
        assert!(!shown.contains("no route"), "{shown}");
    }
}

#[tokio::test]
async fn a_json_error_body_gives_its_message_and_error_code() {
    let server = setup().await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules/r-9"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "no such rule",
            "error_code": "RULE_NOT_FOUND",
            "echo": ACTION_TOKEN,
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules/r-8"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"echo": ACTION_TOKEN})))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client.get_rule("r-9").await.unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { message } if message == "no such rule (error_code RULE_NOT_FOUND)"),
        "{err:?}"
    );
    let err = client.get_rule("r-8").await.unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { message } if message.contains("409") && !message.contains(ACTION_TOKEN)),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_upstream_retry_after_is_clamped_to_five_minutes() {
    let server = setup().await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "86400"))
        .mount(&server)
        .await;
    let err = client(&server)
        .trigger_action(&trigger())
        .await
        .unwrap_err();
    match err {
        Error::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(300)));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_over_the_size_cap_is_refused_not_buffered() {
    let server = setup().await;
    // 2 MiB of valid JSON: over the 1 MiB cap of a request-path call.
    let padding = "x".repeat(2 * 1024 * 1024);
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"recommendation": {"type": "ALLOW"}, "padding": padding})),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap_err();
    match err {
        Error::Decode { message, .. } => assert!(message.contains("larger than"), "{message}"),
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn the_largest_attempt_count_does_not_overflow_on_a_401_refresh() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 2).await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry_policy(fast_retries(u32::MAX))
        .build()
        .unwrap();
    let err = client.trigger_action(&trigger()).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
}
