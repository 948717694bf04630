//! The middleware's added cost per request: a protected route (in-process recommender that
//! answers at once, reporter with a no-op sink) against the same bare handler, both driven
//! with `init_service` / `call_service` on actix's current-thread runtime.
#![expect(clippy::unwrap_used, missing_docs, reason = "benchmark code")]

use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, web, App, Error, HttpResponse};
use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, Criterion};
use risk_actix::RiskMiddleware;
use risk_core::testing::NoopSink;
use risk_core::{
    ActionToken, ActionType, Guard, RecommendationResponse, RecommendationType, Recommender,
    Reporter, RiskAnswer, TriggerActionRequest,
};

/// Answers at once, records nothing (the test doubles record every call).
struct ReadyRecommender(RecommendationResponse);

#[async_trait]
impl Recommender for ReadyRecommender {
    async fn trigger_action(
        &self,
        _request: &TriggerActionRequest,
    ) -> Result<ActionToken, risk_core::Error> {
        Ok(ActionToken::new("bench-action-token"))
    }

    async fn recommendation(&self, _token: &ActionToken) -> Result<RiskAnswer, risk_core::Error> {
        Ok(self.0.clone().into())
    }
}

fn ready() -> ReadyRecommender {
    ReadyRecommender(RecommendationResponse::new(RecommendationType::Allow, 10.0))
}

async fn handler() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn request() -> actix_http::Request {
    test::TestRequest::post()
        .uri("/login")
        .insert_header(("x-risk-session-token", "bench-session-token"))
        .insert_header(("x-request-id", "bench-request-1"))
        .to_request()
}

/// Runs `iters` requests through `app` and returns the time taken.
async fn run<S, B>(app: &S, iters: u64) -> Duration
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = Error>,
{
    let start = Instant::now();
    for _ in 0..iters {
        let res = app.call(request()).await.unwrap();
        assert!(res.status().is_success());
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    let mut group = c.benchmark_group("actix_per_request");

    let bare = system.block_on(test::init_service(
        App::new().route("/login", web::post().to(handler)),
    ));
    group.bench_function("bare_handler", |b| {
        b.iter_custom(|iters| system.block_on(run(&bare, iters)));
    });

    let (protected, reporter) = system.block_on(async {
        // Built inside the runtime: the reporter's worker runs on it.
        let reporter = Reporter::builder(NoopSink).build();
        let guard = Guard::builder(ActionType::Login, ready())
            .reporter(reporter.clone())
            .build()
            .unwrap();
        let app = test::init_service(
            App::new().service(
                web::resource("/login")
                    .wrap(RiskMiddleware::new(guard))
                    .route(web::post().to(handler)),
            ),
        )
        .await;
        (app, reporter)
    });
    group.bench_function("risk_middleware", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let took = run(&protected, iters).await;
                // Keep the queue from filling up between samples (not timed).
                let _ = reporter.flush(Duration::from_secs(10)).await;
                took
            })
        });
    });

    // The core alone (facts from header pairs, check, report): what the glue adds on top.
    let (guard, reporter) = system.block_on(async {
        let reporter = Reporter::builder(NoopSink).build();
        let guard = Guard::builder(ActionType::Login, ready())
            .reporter(reporter.clone())
            .build()
            .unwrap();
        (guard, reporter)
    });
    let headers = [
        ("x-risk-session-token", "bench-session-token"),
        ("x-request-id", "bench-request-1"),
    ];
    group.bench_function("core_guard_only", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let facts = guard.facts(&headers, None, None);
                    if let risk_core::Decision::Proceed { report, .. } = guard.check(facts).await {
                        report.complete(200, None);
                    }
                }
                let took = start.elapsed();
                let _ = reporter.flush(Duration::from_secs(10)).await;
                took
            })
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
