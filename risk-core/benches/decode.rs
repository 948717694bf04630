//! Decoding a recommendation (the seed's 2.5 KB example): the CPU the client spends on each
//! answer, apart from the network. `cargo bench -p risk-core --bench decode`.
#![expect(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use risk_core::{RecommendationResponse, RiskAnswer, TriggerActionResponse};

const SEED: &[u8] = include_bytes!("../tests/it/fixtures/seed_recommendation.json");
/// The emulator's answer to `trigger-action?get_recommendation=true` for a new device (what
/// the load harness's single-call routes decode).
const EMULATOR: &[u8] = include_bytes!("../tests/it/fixtures/emulator_trigger_action.json");

fn bench_decode(c: &mut Criterion) {
    c.bench_function("decode/recommendation", |b| {
        b.iter(|| serde_json::from_slice::<RecommendationResponse>(black_box(SEED)).unwrap());
    });
    c.bench_function("decode/recommendation, tolerant (from_slice)", |b| {
        b.iter(|| RecommendationResponse::from_slice(black_box(SEED)).unwrap());
    });
    // What single-call mode (the default) decodes: trigger-action with the recommendation in it.
    let trigger = format!(
        r#"{{"action_token": "at_0123456789abcdef", "recommendation": {}}}"#,
        std::str::from_utf8(SEED).unwrap()
    );
    c.bench_function("decode/trigger-action with recommendation", |b| {
        b.iter(|| {
            serde_json::from_slice::<TriggerActionResponse>(black_box(trigger.as_bytes())).unwrap()
        });
    });
    // What the client calls: one pass when the recommendation decodes whole.
    c.bench_function(
        "decode/trigger-action with recommendation (from_slice)",
        |b| {
            b.iter(|| TriggerActionResponse::from_slice(black_box(trigger.as_bytes())).unwrap());
        },
    );
    c.bench_function(
        "decode/trigger-action, the emulator's answer (from_slice)",
        |b| {
            b.iter(|| TriggerActionResponse::from_slice(black_box(EMULATOR)).unwrap());
        },
    );
    // What the guard reads on the request path: the decision, the rest left for later.
    c.bench_function("decode/recommendation, decision only (RiskAnswer)", |b| {
        b.iter(|| RiskAnswer::from_slice(black_box(SEED)).unwrap());
    });
    let emulator: serde_json::Value = serde_json::from_slice(EMULATOR).unwrap();
    let emulator = serde_json::to_vec(&emulator["recommendation"]).unwrap();
    c.bench_function(
        "decode/the emulator's recommendation, whole (from_slice)",
        |b| {
            b.iter(|| RecommendationResponse::from_slice(black_box(&emulator)).unwrap());
        },
    );
    c.bench_function(
        "decode/the emulator's recommendation, decision only (RiskAnswer)",
        |b| {
            b.iter(|| RiskAnswer::from_slice(black_box(&emulator)).unwrap());
        },
    );
    c.bench_function("decode/json_value (lower bound)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(SEED)).unwrap());
    });
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
