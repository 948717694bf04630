//! Any bytes as a recommendation answer: never a panic, and any JSON object whose
//! `recommendation.type` is a string yields that recommendation, whatever else it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use risk_core::RecommendationResponse;

fuzz_target!(|data: &[u8]| {
    let decoded = RecommendationResponse::from_slice(data);
    let readable = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.pointer("/recommendation/type")?.as_str().map(str::to_owned));
    if let Some(kind) = readable {
        let r = decoded.expect("a readable recommendation.type always decodes");
        assert_eq!(r.recommendation_type().as_str(), kind);
    }
});
