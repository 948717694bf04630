//! `oneshot` tests of the layer: every verdict, bad input, reporting, and the tower contract.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use risk_core::testing::{RecordingSink, StaticRecommender};
use risk_core::{
    ActionResult, ActionType, ChallengeType, Error, ErrorBehavior, Guard, Outcome,
    RecommendationResponse, RecommendationType, Reporter, VerdictKind,
};
use risk_tower::{RiskAssessment, RiskLayer, RiskService};
use serde_json::Value;
use tower::{service_fn, ServiceBuilder, ServiceExt};

const WAIT: Duration = Duration::from_secs(10);

fn reporter() -> (Reporter, RecordingSink) {
    let sink = RecordingSink::new();
    (Reporter::builder(sink.clone()).build(), sink)
}

fn guard(rec: StaticRecommender, reporter: &Reporter, on_error: ErrorBehavior) -> Guard {
    Guard::builder(ActionType::Login, rec)
        .reporter(reporter.clone())
        .on_error(on_error)
        .build()
        .unwrap()
}

fn session_request(token: &str) -> Request<String> {
    Request::builder()
        .uri("/login")
        .header("x-risk-session-token", token)
        .header("x-request-id", "req-42")
        .body(String::new())
        .unwrap()
}

/// An inner service that counts its calls and answers 200 with the verdict kind and the
/// recommendation type it found in the request extensions.
fn echo(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<String>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<String>, Infallible>> + Send,
> + Clone {
    service_fn(move |req: Request<String>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let risk = RiskAssessment::from_extensions(req.extensions());
        async move {
            let body = match risk {
                Some(r) => format!(
                    "{}:{}",
                    r.verdict().kind(),
                    r.recommendation_type().map_or("none", |t| t.as_str())
                ),
                None => "no assessment".to_owned(),
            };
            Ok::<_, Infallible>(Response::new(body))
        }
    })
}

async fn body_string<B>(response: Response<B>) -> String
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn body_json<B>(response: Response<B>) -> Value
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    serde_json::from_str(&body_string(response).await).unwrap()
}

#[tokio::test]
async fn allow_and_trust_proceed_with_the_assessment_in_the_extensions() {
    for t in [RecommendationType::Allow, RecommendationType::Trust] {
        let (reporter, sink) = reporter();
        let rec = StaticRecommender::of_type(t.clone(), 10.0);
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = ServiceBuilder::new()
            .layer(RiskLayer::new(guard(
                rec.clone(),
                &reporter,
                ErrorBehavior::FailOpen,
            )))
            .service(echo(calls.clone()));

        let response = svc.oneshot(session_request("sess-1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.body().is_inner());
        assert_eq!(
            body_string(response).await,
            format!("proceed:{}", t.as_str())
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(rec.trigger_calls(), 1);
        assert_eq!(rec.recommendation_calls(), 1);

        // 200 → success, reported in the background.
        reporter.flush(WAIT).await.unwrap();
        let reports = sink.reports();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].result, ActionResult::Success);
    }
}

#[tokio::test]
async fn challenge_answers_403_json_with_the_action_token_and_skips_the_handler() {
    let (reporter, sink) = reporter();
    let mut response = RecommendationResponse::new(RecommendationType::Challenge, 60.0);
    response.recommendation.challenge_type = Some(ChallengeType::SmsOtp);
    let rec = StaticRecommender::new(response);
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec.clone(),
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service(echo(calls.clone()));

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(!response.body().is_inner());
    let json = body_json(response).await;
    assert_eq!(json["error"], "challenge_required");
    assert_eq!(json["challenge_type"], "sms_otp");
    assert_eq!(json["correlation_id"], "req-42");
    let token = json["action_token"].as_str().unwrap();
    assert!(token.starts_with("test-action-"), "{token}");
    assert!(json.get("risk_score").is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // The step-up route reports a challenge, not this one.
    reporter.flush(WAIT).await.unwrap();
    assert!(sink.is_empty());
}

#[tokio::test]
async fn deny_answers_403_without_risk_details_and_reports_failure() {
    let (reporter, sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Deny, 97.0);
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec,
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service(echo(calls.clone()));

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let text = body_string(response).await;
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["error"], "access_denied");
    assert_eq!(json["correlation_id"], "req-42");
    assert!(!text.contains("97"), "the score leaked: {text}");
    assert!(!text.contains("reasons"), "reasons leaked: {text}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    reporter.flush(WAIT).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].result, ActionResult::Failure);
}

fn outage() -> StaticRecommender {
    StaticRecommender::failing(|| Error::Server {
        status: 503,
        message: "down".into(),
    })
}

#[tokio::test]
async fn fail_open_lets_the_request_through_when_the_api_fails() {
    let (reporter, _sink) = reporter();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen2 = seen.clone();
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            outage(),
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service(service_fn(move |req: Request<String>| {
            calls.fetch_add(1, Ordering::SeqCst);
            let risk = RiskAssessment::from_extensions(req.extensions()).unwrap();
            *seen2.lock().unwrap() = Some(risk);
            async { Ok::<_, Infallible>(Response::new(String::from("ok"))) }
        }));

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let risk = seen.lock().unwrap().take().unwrap();
    assert!(risk.is_unavailable());
    assert_eq!(
        risk.error_behavior(),
        Some(risk_core::ErrorBehaviorKind::FailOpen)
    );
    assert_eq!(risk.verdict().kind(), VerdictKind::Proceed);
}

#[tokio::test]
async fn fail_closed_answers_503_with_retry_after_when_the_api_fails() {
    let (reporter, _sink) = reporter();
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            outage(),
            &reporter,
            ErrorBehavior::FailClosed,
        )))
        .service(echo(calls.clone()));

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let json = body_json(response).await;
    assert_eq!(json["error"], "risk_unavailable");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn missing_and_malformed_tokens_are_refused_without_an_upstream_call() {
    let (reporter, sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec.clone(),
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service(echo(calls.clone()));

    let missing = Request::builder().body(String::new()).unwrap();
    let response = svc.clone().oneshot(missing).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(response).await["error"], "missing_session_token");

    // Not visible ASCII (a tab inside): malformed.
    let malformed = Request::builder()
        .header("x-risk-session-token", "abc\tdef")
        .body(String::new())
        .unwrap();
    let response = svc.clone().oneshot(malformed).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["error"], "invalid_session_token");

    let too_long = Request::builder()
        .header(
            "x-risk-session-token",
            "a".repeat(risk_core::MAX_TOKEN_LEN + 1),
        )
        .body(String::new())
        .unwrap();
    let response = svc.oneshot(too_long).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    assert_eq!(rec.calls(), 0);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    reporter.flush(WAIT).await.unwrap();
    assert!(sink.is_empty());
}

#[tokio::test]
async fn an_action_token_header_costs_one_upstream_call() {
    let (reporter, sink) = reporter();
    let rec =
        StaticRecommender::of_type(RecommendationType::Allow, 1.0).for_action(ActionType::Login);
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec.clone(),
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service(echo(Arc::default()));

    let request = Request::builder()
        .header("x-risk-action-token", "at-from-the-sdk")
        .header("x-risk-session-token", "ignored")
        .body(String::new())
        .unwrap();
    let response = svc.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(rec.trigger_calls(), 0);
    assert_eq!(rec.recommendation_calls(), 1);

    reporter.flush(WAIT).await.unwrap();
    assert_eq!(sink.reports()[0].action_token.expose(), "at-from-the-sdk");
}

#[tokio::test]
async fn the_handler_outcome_overrides_the_status_mapping() {
    let (reporter, sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec,
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service_fn(|_req: Request<String>| async {
            // Wrong password, but the application answers 200 with an error page.
            let mut response = Response::new(String::from("try again"));
            response.extensions_mut().insert(
                Outcome::failure()
                    .with_user_id("user-7")
                    .with_challenge_type(ChallengeType::Password),
            );
            Ok::<_, Infallible>(response)
        });

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    reporter.flush(WAIT).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].result, ActionResult::Failure);
    assert_eq!(reports[0].user_id.as_deref(), Some("user-7"));
    assert_eq!(reports[0].challenge_type, Some(ChallengeType::Password));
}

#[tokio::test]
async fn handler_status_is_mapped_when_no_outcome_is_attached() {
    let (reporter, sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec,
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service_fn(|_req: Request<String>| async {
            let mut response = Response::new(String::from("wrong password"));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok::<_, Infallible>(response)
        });

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.body().is_inner());
    reporter.flush(WAIT).await.unwrap();
    assert_eq!(sink.reports()[0].result, ActionResult::Failure);
}

/// An inner service that signals it was called, then never answers.
#[derive(Clone)]
struct Hang(Arc<tokio::sync::Notify>);

impl tower::Service<Request<String>> for Hang {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<String>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<String>) -> Self::Future {
        self.0.notify_one();
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_dropped_response_future_reports_incomplete() {
    let (reporter, sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let called = Arc::new(tokio::sync::Notify::new());
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec,
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service(Hang(called.clone()));

    let mut fut = Box::pin(svc.oneshot(session_request("sess-1")));
    tokio::select! {
        _ = &mut fut => panic!("the inner service never answers"),
        () = called.notified() => {}
    }
    // The client goes away.
    drop(fut);

    reporter.flush(WAIT).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].result, ActionResult::Incomplete);
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn the_socket_peer_becomes_the_client_ip() {
    let (reporter, _sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard(
            rec,
            &reporter,
            ErrorBehavior::FailOpen,
        )))
        .service_fn(|req: Request<String>| async move {
            let risk = RiskAssessment::from_extensions(req.extensions()).unwrap();
            Ok::<_, Infallible>(Response::new(format!("{:?}", risk.client_ip())))
        });

    let mut request = session_request("sess-1");
    // A spoofed header from an untrusted peer is ignored.
    request
        .headers_mut()
        .insert("x-forwarded-for", "198.51.100.1".parse().unwrap());
    request.extensions_mut().insert(axum::extract::ConnectInfo(
        "203.0.113.5:50000".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let response = svc.oneshot(request).await.unwrap();
    assert_eq!(body_string(response).await, "Some(203.0.113.5)");
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn a_forwarded_for_value_that_is_not_text_names_no_client() {
    let (reporter, _sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let guard = Guard::builder(ActionType::Login, rec)
        .trusted_proxies(["10.0.0.0/8"])
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard))
        .service_fn(|req: Request<String>| async move {
            let risk = RiskAssessment::from_extensions(req.extensions()).unwrap();
            Ok::<_, Infallible>(Response::new(format!("{:?}", risk.client_ip())))
        });
    let through_proxy = |xff: http::HeaderValue| {
        let mut request = session_request("sess-1");
        request.headers_mut().insert("x-forwarded-for", xff);
        request.extensions_mut().insert(axum::extract::ConnectInfo(
            "10.0.0.2:50000".parse::<std::net::SocketAddr>().unwrap(),
        ));
        request
    };
    let text = through_proxy("203.0.113.9, 10.1.1.1".parse().unwrap());
    let response = svc.clone().oneshot(text).await.unwrap();
    assert_eq!(body_string(response).await, "Some(203.0.113.9)");
    // What `$proxy_add_x_forwarded_for` can produce: garbage, so no client IP (not the proxy).
    let garbage = through_proxy(http::HeaderValue::from_bytes(b"\xff\xfe, 10.1.1.1").unwrap());
    let response = svc.clone().oneshot(garbage).await.unwrap();
    assert_eq!(body_string(response).await, "None");
    // The proxy appended the real peer after the client's garbage: that hop still counts, so a
    // bad byte cannot hide a client from its limit.
    let appended =
        through_proxy(http::HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9, 10.1.1.1").unwrap());
    let response = svc.oneshot(appended).await.unwrap();
    assert_eq!(body_string(response).await, "Some(203.0.113.9)");
}

#[test]
fn layer_and_service_are_send_sync_clone() {
    fn send_sync_clone<T: Send + Sync + Clone>() {}
    fn send_sync<T: Send + Sync>() {}
    send_sync_clone::<RiskLayer>();
    send_sync::<RiskService<axum::routing::Route>>();
    send_sync_clone::<RiskService<axum::routing::Route>>();
    fn send_future<F: Future + Send>() {}
    send_future::<
        <RiskService<axum::routing::Route> as tower::Service<axum::extract::Request>>::Future,
    >();
}

/// `poll_ready` forwards; `call` uses the instance that was made ready.
#[tokio::test]
async fn poll_ready_forwards_to_the_inner_service() {
    #[derive(Clone)]
    struct NotReady;
    impl tower::Service<Request<String>> for NotReady {
        type Response = Response<String>;
        type Error = &'static str;
        type Future = std::future::Ready<Result<Response<String>, &'static str>>;
        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Err("overloaded"))
        }
        fn call(&mut self, _req: Request<String>) -> Self::Future {
            std::future::ready(Err("called without readiness"))
        }
    }
    let (reporter, _sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Allow, 1.0);
    let svc = RiskService::new(
        NotReady,
        guard(rec.clone(), &reporter, ErrorBehavior::FailOpen),
    );
    let err = svc.oneshot(session_request("s")).await.unwrap_err();
    assert_eq!(err, "overloaded");
    assert_eq!(rec.calls(), 0);
}

#[tokio::test]
async fn an_invalid_header_from_a_responder_is_skipped_not_the_whole_answer() {
    use risk_core::{Evaluation, ResponseSpec, Verdict};
    let (reporter, _sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Deny, 90.0);
    let guard = Guard::builder(ActionType::Login, rec)
        .reporter(reporter)
        .responder(|_v: &Verdict, _a: &Evaluation| {
            Some(
                ResponseSpec::json(451, &serde_json::json!({ "nope": true }))
                    .with_header("bad name", "1")
                    .with_header("x-bad-value", "a\nb")
                    .with_header("x-custom", "1"),
            )
        })
        .build()
        .unwrap();
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard))
        .service(echo(Arc::default()));

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status().as_u16(), 451);
    assert_eq!(response.headers()["x-custom"], "1");
    assert!(response.headers().get("x-bad-value").is_none());
    assert_eq!(
        body_json(response).await,
        serde_json::json!({ "nope": true })
    );
}

#[tokio::test]
async fn a_custom_responder_is_converted_one_to_one() {
    use risk_core::{Evaluation, ResponseSpec, Verdict};
    let (reporter, _sink) = reporter();
    let rec = StaticRecommender::of_type(RecommendationType::Deny, 90.0);
    let guard = Guard::builder(ActionType::Login, rec)
        .reporter(reporter)
        .responder(|v: &Verdict, a: &Evaluation| {
            let status = v.status()?;
            Some(
                ResponseSpec::json(status, &serde_json::json!({ "id": a.correlation_id() }))
                    .with_header("X-Support-Hint", "contact support"),
            )
        })
        .build()
        .unwrap();
    let svc = ServiceBuilder::new()
        .layer(RiskLayer::new(guard))
        .service(echo(Arc::default()));

    let response = svc.oneshot(session_request("sess-1")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["x-support-hint"], "contact support");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        body_json(response).await,
        serde_json::json!({ "id": "req-42" })
    );
}
