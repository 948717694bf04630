//! Any bytes as each answer the client decodes: an error or a value, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use risk_core::{
    ActivityEvent, EvaluateResponse, RecommendationResponse, StoredRule, TriggerActionResponse,
};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<RecommendationResponse>(data);
    let _ = serde_json::from_slice::<TriggerActionResponse>(data);
    let _ = serde_json::from_slice::<EvaluateResponse>(data);
    let _ = serde_json::from_slice::<Vec<ActivityEvent>>(data);
    let _ = serde_json::from_slice::<StoredRule>(data);
});
