//! Any bytes as a recommendation answer: never a panic, and any JSON object whose
//! `recommendation.type` is a string yields that recommendation, whatever else it holds. Read
//! lazily (the decision first, the rest on access) it says what it says read whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use risk_core::{RecommendationResponse, RiskAnswer};

fuzz_target!(|data: &[u8]| {
    let decoded = RecommendationResponse::from_slice(data);
    let lazy = RiskAnswer::from_slice(data);
    assert_eq!(decoded.is_ok(), lazy.is_ok(), "lazy and whole disagree");
    let readable = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.pointer("/recommendation/type")?.as_str().map(str::to_owned));
    if let Some(kind) = readable {
        let r = decoded.expect("a readable recommendation.type always decodes");
        assert_eq!(r.recommendation_type().as_str(), kind);
        let lazy = lazy.expect("a readable recommendation.type always reads");
        assert_eq!(lazy.recommendation_type(), r.recommendation_type());
        assert_eq!(
            lazy.risk_score().map(f64::to_bits),
            r.risk_score.map(f64::to_bits)
        );
        assert_eq!(lazy.reasons(), r.reasons.as_slice());
        let full = lazy.response();
        assert_eq!(full.recommendation_type(), r.recommendation_type());
        assert_eq!(full.id, r.id);
    }
});
