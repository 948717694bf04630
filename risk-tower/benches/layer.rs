//! The cost the layer adds per request: the layer with an in-process, always-ready
//! recommender and a no-op result sink, against the bare `service_fn`.
#![expect(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use std::convert::Infallible;

use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use risk_core::testing::NoopSink;
use risk_core::{
    ActionToken, ActionType, Error, Guard, RecommendationResponse, RecommendationType, Recommender,
    Reporter, RiskAnswer, TriggerActionRequest,
};
use risk_tower::RiskLayer;
use tower::{service_fn, ServiceBuilder, ServiceExt};

/// Answers at once, keeps nothing (the testing doubles record every call).
struct Ready(RecommendationResponse);

#[async_trait::async_trait]
impl Recommender for Ready {
    async fn trigger_action(&self, _request: &TriggerActionRequest) -> Result<ActionToken, Error> {
        Ok(ActionToken::new("bench-action-token"))
    }

    async fn recommendation(&self, _token: &ActionToken) -> Result<RiskAnswer, Error> {
        Ok(self.0.clone().into())
    }
}

fn request() -> Request<String> {
    Request::builder()
        .uri("/login")
        .header("x-risk-session-token", "bench-session-token")
        .header("user-agent", "criterion")
        .body(String::new())
        .unwrap()
}

async fn handler(_req: Request<String>) -> Result<Response<String>, Infallible> {
    Ok(Response::new(String::from("ok")))
}

fn bench(c: &mut Criterion) {
    // axum serves on tokio's multi-thread runtime: the reporter's worker delivers on the other
    // core, off the request path, as in production.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let reporter = rt.block_on(async { Reporter::builder(NoopSink).build() });
    let guard = Guard::builder(
        ActionType::Login,
        Ready(RecommendationResponse::new(RecommendationType::Allow, 10.0)),
    )
    .reporter(reporter)
    .build()
    .unwrap();

    let guard_only = guard.clone();
    let bare = ServiceBuilder::new().service(service_fn(handler));
    let layered = ServiceBuilder::new()
        .layer(RiskLayer::new(guard))
        .service(service_fn(handler));

    let mut group = c.benchmark_group("per_request");
    group.bench_function("bare_service_fn", |b| {
        b.to_async(&rt).iter(|| {
            let svc = bare;
            async move { svc.oneshot(request()).await.unwrap() }
        });
    });
    // The core's share, without tower: facts, check, report.
    group.bench_function("guard_only", |b| {
        b.to_async(&rt).iter(|| {
            let guard = guard_only.clone();
            async move {
                let req = request();
                let facts = guard.facts(
                    &[
                        ("x-risk-session-token", "bench-session-token"),
                        ("user-agent", "criterion"),
                    ],
                    None,
                    None,
                );
                if let risk_core::Decision::Proceed { report, .. } = guard.check(facts).await {
                    report.complete(200, None);
                }
                req
            }
        });
    });
    group.bench_function("risk_layer_allow", |b| {
        b.to_async(&rt).iter(|| {
            let svc = layered.clone();
            async move { svc.oneshot(request()).await.unwrap() }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
