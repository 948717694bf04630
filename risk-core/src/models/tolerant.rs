//! Decoding a recommendation so that a field the decision does not need never costs it.
//!
//! The fast path decodes the answer as it is. When that fails, the answer is read as JSON
//! and the field that failed is found (`serde_path_to_error`), set aside as raw JSON in
//! [`RecommendationResponse::undecoded`], counted and logged (once per field name and hour),
//! and decoding starts again without it, until the rest decodes. Only an answer that is not
//! JSON, or whose `recommendation.type` is missing or not a string, is malformed
//! ([`Error::MalformedAnswer`]): without it there is nothing to decide on.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize as _;
use serde_json::Value;
use serde_path_to_error::Segment;

use super::recommendation::{Reason, RecommendationResponse, RecommendationType};
use crate::error::Error;

/// At most this many fields are set aside from one answer (each takes one more pass).
const MAX_UNDECODED: usize = 64;
/// A field that does not decode is logged at most once per this interval.
const WARN_EVERY: Duration = Duration::from_secs(3600);
/// At most this many distinct field names are remembered (and used as metric labels);
/// beyond, they are counted as `other`.
const MAX_FIELD_NAMES: usize = 256;

/// Decodes a recommendation answer (`GET /risk/v1/recommendation`).
pub(crate) fn recommendation(body: &[u8]) -> Result<RecommendationResponse, Error> {
    if let Some(response) = super::de::whole::<RecommendationResponse>(body) {
        return Ok(response);
    }
    let value = serde_json::from_slice::<Value>(body).map_err(|e| Error::MalformedAnswer {
        message: format!("not JSON: {e}"),
        excerpt: crate::error::excerpt(body),
    })?;
    recommendation_from_value(value).map_err(|message| Error::MalformedAnswer {
        message,
        excerpt: crate::error::excerpt(body),
    })
}

/// Decodes a recommendation from JSON, setting aside the fields that do not decode; `Err`
/// (why) when its `recommendation.type` is missing or unreadable.
pub(crate) fn recommendation_from_value(
    mut value: Value,
) -> Result<RecommendationResponse, String> {
    let kind = match value.pointer("/recommendation/type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(other) => {
            return Err(format!(
                "`recommendation.type` is not a string but {}",
                kind_of(other)
            ))
        }
        None => return Err("`recommendation.type` is missing".to_owned()),
    };
    if let Ok(response) = RecommendationResponse::deserialize(&value) {
        return Ok(response);
    }
    let mut undecoded = BTreeMap::new();
    for _ in 0..MAX_UNDECODED {
        let e = match serde_path_to_error::deserialize::<_, RecommendationResponse>(&value) {
            Ok(mut response) => {
                response.undecoded = undecoded;
                return Ok(response);
            }
            Err(e) => e,
        };
        let path: Vec<Segment> = e.path().iter().cloned().collect();
        let name = field_name(&path);
        let removed = match name.as_str() {
            "" | "recommendation" | "recommendation.type" => None,
            _ => take(&mut value, &path),
        };
        let Some(removed) = removed else {
            break;
        };
        note(&name, kind_of(&removed));
        // A later element of the same list can have the same path once this one is gone.
        let mut key = e.path().to_string();
        while undecoded.contains_key(&key) {
            key.push('\'');
        }
        undecoded.insert(key, removed);
    }
    // Nothing more can be set aside one field at a time: keep what decides, the rest raw.
    note("(answer)", "an object");
    Ok(decision_only(&kind, value, undecoded))
}

/// The decision-critical parts alone (type, score, reasons), each decoded on its own; the
/// rest of the answer kept raw under `(answer)`.
fn decision_only(
    kind: &str,
    value: Value,
    mut undecoded: BTreeMap<String, Value>,
) -> RecommendationResponse {
    let mut response = RecommendationResponse::new(RecommendationType::from(kind), 0.0);
    response.risk_score = value.get("risk_score").and_then(|score| match score {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    response.reasons = value
        .get("reasons")
        .and_then(Value::as_array)
        .map(|reasons| {
            reasons
                .iter()
                .filter_map(Value::as_str)
                .map(Reason::from)
                .collect()
        })
        .unwrap_or_default();
    undecoded.insert("(answer)".to_owned(), value);
    response.undecoded = undecoded;
    response
}

/// The field's name: the path with list indices left out (`reasons[]`, not `reasons[3]`).
fn field_name(path: &[Segment]) -> String {
    let mut name = String::new();
    for segment in path {
        match segment {
            Segment::Map { key } => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(key);
            }
            Segment::Seq { .. } => name.push_str("[]"),
            Segment::Enum { variant } => {
                name.push('.');
                name.push_str(variant);
            }
            Segment::Unknown => name.push_str(".?"),
        }
    }
    name
}

/// Removes the node at `path` from `value` and returns it; `None` when there is none.
fn take(value: &mut Value, path: &[Segment]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let mut node = value;
    for segment in parents {
        node = match (segment, node) {
            (Segment::Map { key }, Value::Object(map)) => map.get_mut(key)?,
            (Segment::Seq { index }, Value::Array(items)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    match (last, node) {
        (Segment::Map { key }, Value::Object(map)) => map.remove(key),
        (Segment::Seq { index }, Value::Array(items)) if *index < items.len() => {
            Some(items.remove(*index))
        }
        _ => None,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Counts a field that did not decode; logs it (its name and the JSON type found, never its
/// value) the first time, then at most once an hour.
fn note(name: &str, found: &str) {
    static SEEN: OnceLock<Mutex<HashMap<String, Instant>>> = OnceLock::new();
    let now = Instant::now();
    let (label, due) = {
        let mut seen = SEEN
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let known = seen.len();
        match seen.get_mut(name) {
            Some(last) => {
                let due = now.duration_since(*last) >= WARN_EVERY;
                if due {
                    *last = now;
                }
                (name.to_owned(), due)
            }
            None if known < MAX_FIELD_NAMES => {
                seen.insert(name.to_owned(), now);
                (name.to_owned(), true)
            }
            None => ("other".to_owned(), false),
        }
    };
    crate::telemetry::undecoded_field(label);
    if due {
        tracing::warn!(
            field = name,
            found,
            "a field of the risk API's recommendation did not decode: kept as raw JSON, the \
             recommendation is used (logged once per field and hour)"
        );
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::models::RecommendationType;

    #[test]
    fn fields_typed_the_other_way_round_are_set_aside_and_the_decision_kept() {
        let answer = json!({
            "id": "rec-1",
            "issued_at": "soon",
            "recommendation": { "type": "DENY", "extra": { "nested": [1, 2] } },
            "risk_score": "12.5",
            "reasons": ["BEHAVIOR_BOT", 7, null],
            "context": { "device_id": 42, "action_type": "login", "unknown": {} },
            "risk_signals": {
                "device": { "browser_version": 113, "os_version": 14, "incognito": "maybe" },
                "network": { "ip_asn_id": 174, "vpn": [] },
                "history": "none"
            },
            "preview_rule": 5,
            "something_new": { "a": [null, { "b": true }] }
        });
        let body = serde_json::to_vec(&answer).unwrap();
        let r = recommendation(&body).unwrap();
        assert_eq!(*r.recommendation_type(), RecommendationType::Deny);
        assert_eq!(r.risk_score, Some(12.5));
        assert_eq!(r.reasons.len(), 1);
        assert!(!r.undecoded.is_empty(), "{:?}", r.undecoded);
        assert!(r.undecoded.keys().all(|k| !k.starts_with("recommendation")));
    }

    #[test]
    fn only_a_missing_or_unreadable_type_is_malformed() {
        for answer in [
            json!({ "recommendation": {} }),
            json!({ "recommendation": { "type": 3 } }),
            json!({ "recommendation": "ALLOW" }),
            json!({ "risk_score": 1 }),
            json!([]),
        ] {
            let body = serde_json::to_vec(&answer).unwrap();
            let e = recommendation(&body).unwrap_err();
            assert_eq!(e.kind(), "malformed_answer", "{answer}");
        }
        assert_eq!(
            recommendation(b"<html>").unwrap_err().kind(),
            "malformed_answer"
        );
    }

    #[test]
    fn when_nothing_more_can_be_set_aside_the_decision_is_kept_alone() {
        let answer = json!({
            "recommendation": { "type": "CHALLENGE" },
            "risk_score": " 61.5 ",
            "reasons": ["DEVICE_NEW", 3, "SOMETHING_NEW"],
            "context": { "user_id": "u-1" }
        });
        let r = decision_only("CHALLENGE", answer.clone(), BTreeMap::new());
        assert_eq!(*r.recommendation_type(), RecommendationType::Challenge);
        assert_eq!(r.risk_score, Some(61.5));
        assert_eq!(r.reasons.len(), 2);
        assert_eq!(r.undecoded.get("(answer)"), Some(&answer));
    }

    #[test]
    fn trigger_actions_recommendation_is_decoded_tolerantly_or_left_for_a_get() {
        use crate::models::TriggerActionResponse;
        let decode = |recommendation: serde_json::Value| {
            let body = json!({ "action_token": "at_1", "recommendation": recommendation });
            serde_json::from_value::<TriggerActionResponse>(body)
                .unwrap()
                .recommendation
        };
        let kept = decode(json!({ "recommendation": { "type": "DENY" }, "context": { "ip": [] } }));
        let kept = kept.unwrap();
        assert_eq!(*kept.recommendation_type(), RecommendationType::Deny);
        assert!(
            kept.undecoded.contains_key("context.ip"),
            "{:?}",
            kept.undecoded
        );
        assert!(decode(serde_json::Value::Null).is_none());
        assert!(decode(json!({ "recommendation": { "type": 1 } })).is_none());
        let from_bytes = serde_json::from_slice::<TriggerActionResponse>(
            br#"{"action_token": "at_1", "recommendation": {"recommendation": {"type": "ALLOW"}}}"#,
        )
        .unwrap();
        assert!(from_bytes.recommendation.is_some());
    }

    #[test]
    fn field_names_leave_out_list_indices() {
        let path = [
            Segment::Map {
                key: "reasons".into(),
            },
            Segment::Seq { index: 3 },
        ];
        assert_eq!(field_name(&path), "reasons[]");
    }
}
