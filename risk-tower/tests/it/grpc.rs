//! gRPC answers through the layer: the result comes from `grpc-status` (trailers-only headers,
//! or the trailers after the reply), never from the HTTP status, which is always 200.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::combinators::WithTrailers;
use http_body_util::{BodyExt, Full};
use risk_core::testing::{RecordingSink, StaticRecommender};
use risk_core::{
    default_result_for_status, ActionResult, ActionType, GrpcResponder, Guard, RecommendationType,
    Reporter, ResultMapping,
};
use risk_tower::RiskLayer;
use tower::{service_fn, ServiceBuilder, ServiceExt};

const WAIT: Duration = Duration::from_secs(10);

type Trailers = std::future::Ready<Option<Result<HeaderMap, Infallible>>>;
type GrpcBody = WithTrailers<Full<Bytes>, Trailers>;

/// A gRPC answer: a message, then `grpc-status` in the trailers (`None`: no trailers at all);
/// or, with `in_headers`, a trailers-only answer.
fn answer(status: Option<&'static str>, in_headers: bool) -> Response<GrpcBody> {
    let trailers = status.filter(|_| !in_headers).map(|code| {
        let mut map = HeaderMap::new();
        map.insert("grpc-status", code.parse().unwrap());
        Ok(map)
    });
    let body =
        Full::new(Bytes::from_static(b"\0\0\0\0\0")).with_trailers(std::future::ready(trailers));
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    if let (true, Some(code)) = (in_headers, status) {
        response
            .headers_mut()
            .insert("grpc-status", code.parse().unwrap());
    }
    response
}

fn call() -> Request<String> {
    Request::builder()
        .header("content-type", "application/grpc")
        .header("x-risk-session-token", "session-token-from-the-sdk")
        .body(String::new())
        .unwrap()
}

/// Calls a gRPC service answering `status` through the layer; `read` says whether the
/// client reads the body to its end. Returns the reported result and the HTTP status the
/// result mapping was asked about (`None`: the answer was dropped before its status).
async fn reported(
    status: Option<&'static str>,
    in_headers: bool,
    read: bool,
) -> (ActionResult, Option<u16>) {
    let seen = Arc::new(Mutex::new(None));
    let mapped = seen.clone();
    let mapping = ResultMapping::new(move |status| {
        *mapped.lock().unwrap() = Some(status);
        default_result_for_status(status)
    });
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let guard = Guard::builder(
        ActionType::Transaction,
        StaticRecommender::of_type(RecommendationType::Allow, 10.0),
    )
    .responder(GrpcResponder)
    .reporter(reporter.clone())
    .result_mapping(mapping)
    .build()
    .unwrap();
    let service = ServiceBuilder::new()
        .layer(RiskLayer::new(guard))
        .service(service_fn(move |_: Request<String>| async move {
            Ok::<_, Infallible>(answer(status, in_headers))
        }));
    let response = service.oneshot(call()).await.unwrap();
    assert_eq!(response.status(), 200);
    if !in_headers && status.is_some() {
        // The status is still in the body: nothing reported yet.
        reporter.flush(WAIT).await.unwrap();
        assert!(sink.reports().is_empty(), "reported before the trailers");
    }
    if read {
        let collected = response.into_body().collect().await.unwrap();
        assert_eq!(
            collected
                .trailers()
                .and_then(|t| t.get("grpc-status"))
                .is_some(),
            !in_headers && status.is_some()
        );
    } else {
        drop(response);
    }
    reporter.flush(WAIT).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1, "one report per call");
    let status = *seen.lock().unwrap();
    (reports[0].result, status)
}

#[tokio::test]
async fn grpc_ok_in_the_trailers_is_a_success_once_they_arrive() {
    assert_eq!(
        reported(Some("0"), false, true).await,
        (ActionResult::Success, Some(200))
    );
}

#[tokio::test]
async fn grpc_error_in_the_headers_is_mapped_like_its_http_status() {
    assert_eq!(
        reported(Some("7"), true, true).await,
        (ActionResult::Failure, Some(403))
    );
    assert_eq!(
        reported(Some("14"), true, true).await,
        (ActionResult::Incomplete, Some(503))
    );
}

#[tokio::test]
async fn grpc_cancelled_or_missing_status_or_unread_body_is_incomplete() {
    // CANCELLED: 499; no status at all: 500; the body dropped before its trailers: the
    // mapping's dropped result, without a status.
    assert_eq!(
        reported(Some("1"), false, true).await,
        (ActionResult::Incomplete, Some(499))
    );
    assert_eq!(
        reported(None, false, true).await,
        (ActionResult::Incomplete, Some(500))
    );
    assert_eq!(
        reported(Some("0"), false, false).await,
        (ActionResult::Incomplete, None)
    );
}
