//! Degraded decisions are loud at WARN: the first of each kind with its cause and the route,
//! then one summary per interval. A malformed answer is its own kind, apart from outages.
//! Captured with `capture`.

use std::time::Duration;

use risk_core::testing::StaticRecommender;
use risk_core::*;

use crate::capture::{capture, Buffer};

/// The WARN lines about degraded decisions.
fn degraded_warnings(buffer: &Buffer) -> Vec<String> {
    buffer
        .text()
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("risk check degraded"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_malformed_answer_is_its_own_kind_warned_once_then_summarised() {
    let capture = capture(tracing::Level::INFO);
    let buffer = capture.buffer();

    let guard = Guard::builder(
        ActionType::Login,
        StaticRecommender::failing(|| Error::MalformedAnswer {
            message: "`recommendation.type` is missing".into(),
            excerpt: "{\"user_id\": \"usr-excerpt\"}".into(),
        }),
    )
    .route("POST /login")
    .on_error(ErrorBehavior::FailOpen)
    .without_circuit_breaker()
    .build()
    .unwrap();
    let check = || guard.check(guard.facts(&[("x-risk-session-token", "st-1")][..], None, None));

    for _ in 0..3 {
        let Decision::Proceed { assessment, .. } = check().await else {
            panic!("fail open proceeds");
        };
        assert_eq!(assessment.degraded(), Some(Degraded::Malformed));
        assert_eq!(
            assessment.unavailable().map(|u| u.cause.as_str()),
            Some("malformed_answer")
        );
    }
    let warnings = degraded_warnings(buffer);
    assert_eq!(warnings.len(), 1, "the first one only: {warnings:#?}");
    let first = &warnings[0];
    for part in [
        "route=POST /login",
        "degraded=\"malformed\"",
        "cause=\"malformed_answer\"",
        "recommendation.type",
        "behavior=\"fail_open\"",
    ] {
        assert!(first.contains(part), "{part} in {first}");
    }

    // An interval later, the next one says how many went unlogged.
    tokio::time::advance(Duration::from_secs(61)).await;
    let _ = check().await;
    let warnings = degraded_warnings(buffer);
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(first.contains("since_last_warning=0"), "{first}");
    assert!(
        !first.contains("usr-excerpt"),
        "no part of the body is logged: {first}"
    );
    assert!(
        warnings[1].contains("since_last_warning=2"),
        "{}",
        warnings[1]
    );
}
