//! Decoding a recommendation (the seed's 2.5 KB example): the CPU the client spends on each
//! answer, apart from the network. `cargo bench -p risk-core --bench decode`.
#![expect(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use risk_core::RecommendationResponse;

const SEED: &[u8] = include_bytes!("../tests/it/fixtures/seed_recommendation.json");

fn bench_decode(c: &mut Criterion) {
    c.bench_function("decode/recommendation", |b| {
        b.iter(|| serde_json::from_slice::<RecommendationResponse>(black_box(SEED)).unwrap());
    });
    c.bench_function("decode/json_value (lower bound)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(SEED)).unwrap());
    });
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
