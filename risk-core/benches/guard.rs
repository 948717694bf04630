//! The guard's own cost per request: facts extraction, check (policy, response building),
//! and report completion into a reporter with a no-op sink. The recommender is in-process
//! and answers at once, so what is measured is the guard, not the API.
//!
//! Run: `cargo bench -p risk-core --bench guard`.
#![expect(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use std::hint::black_box;
use std::net::IpAddr;

use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, Criterion};
use risk_core::testing::NoopSink;
use risk_core::{
    ActionToken, ActionType, ClientLimit, Decision, Error, Guard, RecommendationResponse,
    RecommendationType, Recommender, Reporter, RiskAnswer, TriggerActionRequest,
};

/// The cheapest in-process recommender: clones of a ready token and a ready response.
/// Its own cost is measured separately (`recommender alone`) so it can be subtracted.
#[derive(Clone)]
struct Ready {
    token: ActionToken,
    response: RecommendationResponse,
}

impl Ready {
    fn new(t: RecommendationType, score: f64) -> Self {
        Self {
            token: ActionToken::new("bench-action-token-0123456789abcdef"),
            response: RecommendationResponse::new(t, score),
        }
    }
}

#[async_trait]
impl Recommender for Ready {
    async fn trigger_action(&self, _request: &TriggerActionRequest) -> Result<ActionToken, Error> {
        Ok(self.token.clone())
    }

    async fn recommendation(&self, _action_token: &ActionToken) -> Result<RiskAnswer, Error> {
        Ok(self.response.clone().into())
    }
}

const HEADERS: [(&str, &str); 5] = [
    ("x-risk-session-token", "sess-0123456789abcdef0123456789abcdef"),
    ("x-request-id", "req-4f1c2b7a"),
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    ),
    ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
    ("content-type", "application/json"),
];

fn bench_guard(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let peer: IpAddr = "10.0.0.1".parse().unwrap();

    let (reporting, plain, challenge, limited) = rt.block_on(async {
        let reporter = Reporter::builder(NoopSink).capacity(100_000).build();
        let reporting = Guard::builder(
            ActionType::Login,
            Ready::new(RecommendationType::Allow, 12.0),
        )
        .trusted_proxies(["10.0.0.0/8"])
        .without_client_limit()
        .reporter(reporter)
        .build()
        .unwrap();
        let plain = Guard::builder(
            ActionType::Login,
            Ready::new(RecommendationType::Allow, 12.0),
        )
        .trusted_proxies(["10.0.0.0/8"])
        .without_client_limit()
        .build()
        .unwrap();
        let challenge = Guard::builder(
            ActionType::Login,
            Ready::new(RecommendationType::Challenge, 70.0),
        )
        .trusted_proxies(["10.0.0.0/8"])
        .without_client_limit()
        .build()
        .unwrap();
        // The per-client limit checked on every request (a limit never reached here).
        let limited = Guard::builder(
            ActionType::Login,
            Ready::new(RecommendationType::Allow, 12.0),
        )
        .trusted_proxies(["10.0.0.0/8"])
        .client_limit(ClientLimit::per_minute(u32::MAX, u32::MAX).unwrap())
        .build()
        .unwrap();
        (reporting, plain, challenge, limited)
    });

    // What the guard's single-call path asks of the recommender (`trigger_with_recommendation`,
    // here its default: trigger-action, then recommendation), with the request it is asked
    // with: subtracted from the guard's rows, it leaves the guard's own cost.
    let ready = Ready::new(RecommendationType::Allow, 12.0);
    c.bench_function("recommender alone", |b| {
        b.to_async(&rt).iter(|| async {
            let request = TriggerActionRequest::new("sess-0123456789abcdef", ActionType::Login)
                .with_correlation_id("req-4f1c2b7a");
            let (token, recommendation) = ready
                .trigger_with_recommendation(black_box(&request))
                .await
                .unwrap();
            black_box((token, recommendation.unwrap()));
        });
    });

    c.bench_function("facts", |b| {
        b.iter(|| black_box(plain.facts(black_box(&HEADERS), Some(peer), None)));
    });

    c.bench_function("guard/proceed+report", |b| {
        b.to_async(&rt).iter(|| async {
            let facts = reporting.facts(black_box(&HEADERS), Some(peer), None);
            if let Decision::Proceed { assessment, report } = reporting.check(facts).await {
                report.complete(200, None);
                black_box(assessment);
            }
        });
    });

    c.bench_function("guard/proceed", |b| {
        b.to_async(&rt).iter(|| async {
            let facts = plain.facts(black_box(&HEADERS), Some(peer), None);
            if let Decision::Proceed { assessment, report } = plain.check(facts).await {
                report.disarm();
                black_box(assessment);
            }
        });
    });

    // The same check with a real recorder in scope (the Prometheus one the example servers
    // install): what the metrics cost when someone reads them. Without a recorder they cost
    // nothing ("guard/proceed" above).
    #[cfg(feature = "metrics")]
    {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        c.bench_function("guard/proceed+prometheus", |b| {
            metrics::with_local_recorder(&recorder, || {
                b.to_async(&rt).iter(|| async {
                    let facts = plain.facts(black_box(&HEADERS), Some(peer), None);
                    if let Decision::Proceed { assessment, report } = plain.check(facts).await {
                        report.disarm();
                        black_box(assessment);
                    }
                });
            });
        });
        // The recorder really saw the decisions (otherwise the figure above means nothing);
        // nothing at all when a filter skipped that benchmark.
        let seen = handle.render();
        assert!(seen.trim().is_empty() || seen.contains("risk_decisions_total"));
    }

    c.bench_function("guard/proceed+client_limit", |b| {
        b.to_async(&rt).iter(|| async {
            let facts = limited.facts(black_box(&HEADERS), Some(peer), None);
            if let Decision::Proceed { assessment, report } = limited.check(facts).await {
                report.disarm();
                black_box(assessment);
            }
        });
    });

    c.bench_function("guard/challenge+response", |b| {
        b.to_async(&rt).iter(|| async {
            let facts = challenge.facts(black_box(&HEADERS), Some(peer), None);
            black_box(challenge.check(facts).await.response());
        });
    });
}

criterion_group!(benches, bench_guard);
criterion_main!(benches);
