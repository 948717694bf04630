//! The guard's `risk.guard` span, captured (see `capture`).

use std::time::Duration;

use risk_core::testing::{RecordingSink, StaticRecommender};
use risk_core::*;

use crate::capture::capture;

#[tokio::test]
async fn one_span_per_request_with_the_decision_and_no_token() {
    let capture = capture(tracing::Level::DEBUG);

    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let guard = Guard::builder(
        ActionType::Login,
        StaticRecommender::failing(|| Error::Server {
            status: 502,
            message: "bad gateway".into(),
        }),
    )
    .reporter(reporter.clone())
    .without_circuit_breaker()
    .on_error(ErrorBehavior::FailClosed)
    .build()
    .unwrap();
    let secret = "sess-VERY-SECRET-TOKEN-VALUE-123456";
    let headers = [
        ("x-risk-session-token", secret),
        ("x-request-id", "req-trace-1"),
    ];
    let d = guard.check(guard.facts(&headers, None, None)).await;
    assert_eq!(d.verdict_kind(), VerdictKind::Deny);
    drop(d);
    reporter.flush(Duration::from_secs(30)).await.unwrap();

    let out = capture.buffer().text();
    assert!(out.contains("risk.guard"), "{out}");
    assert!(out.contains("correlation_id=req-trace-1"), "{out}");
    assert!(out.contains("action_type=login"), "{out}");
    assert!(out.contains("verdict=\"deny\""), "{out}");
    assert!(out.contains("error_behavior=\"fail_closed\""), "{out}");
    assert!(out.contains("latency_ms="), "{out}");
    assert!(!out.contains(secret), "{out}");
}
