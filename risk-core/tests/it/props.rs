//! Property tests (proptest) for what a request's headers become and for tolerant decoding:
//! token validation, forwarded-for resolution, the correlation id, and recommendations with
//! unknown fields and values.

use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use risk_core::testing::StaticRecommender;
use risk_core::{
    ActionType, BadInput, Guard, RecommendationResponse, RecommendationType, Token, MAX_TOKEN_LEN,
};

const SEED: &str = include_str!("fixtures/seed_recommendation.json");

fn guard() -> Guard {
    Guard::builder(
        ActionType::Login,
        StaticRecommender::of_type(RecommendationType::Allow, 1.0),
    )
    .trusted_proxies(["10.0.0.0/8"])
    .without_circuit_breaker()
    .build()
    .unwrap()
}

/// An address inside (trusted proxy) or outside 10.0.0.0/8.
fn hop() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[a, b, c]| Ipv4Addr::new(10, a, b, c)),
        (11u8..=223, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d)),
    ]
}

fn trusted(ip: Ipv4Addr) -> bool {
    ip.octets()[0] == 10
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A token is accepted exactly when, trimmed of spaces and tabs, it is non-empty visible
    /// ASCII of at most `MAX_TOKEN_LEN` bytes; then it is that text.
    #[test]
    fn a_token_is_visible_ascii_or_refused(raw in "[ \\t]{0,2}(\\PC|[\\x00-\\x7f]){0,40}[ \\t]{0,2}") {
        let trimmed = raw.trim_matches(|c: char| c == ' ' || c == '\t');
        let valid = !trimmed.is_empty()
            && trimmed.len() <= MAX_TOKEN_LEN
            && trimmed.bytes().all(|b| (0x21..=0x7E).contains(&b));
        match Token::session(&raw) {
            Ok(Token::Session(token)) => {
                prop_assert!(valid, "accepted {raw:?}");
                prop_assert_eq!(token.expose(), trimmed);
            }
            Ok(other) => prop_assert!(false, "not a session token: {other:?}"),
            Err(BadInput::InvalidToken(_)) => prop_assert!(!valid, "refused {raw:?}"),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    /// Through a trusted proxy, the client is the rightmost untrusted hop of
    /// `X-Forwarded-For`, else its leftmost hop; a hop that is not an address where the walk
    /// would look names no client.
    #[test]
    fn forwarded_for_names_the_rightmost_untrusted_hop(
        hops in prop::collection::vec(hop(), 1..8),
        garbage_at in prop::option::of(0usize..8),
    ) {
        let mut values: Vec<String> = hops.iter().map(Ipv4Addr::to_string).collect();
        if let Some(at) = garbage_at {
            values.insert(at.min(values.len()), "not-an-ip".to_owned());
        }
        let header = values.join(", ");
        let guard = guard();
        let peer = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        let facts = guard.facts(&[("x-forwarded-for", header.as_str())], peer, None);
        // The model: walk from the right over trusted hops.
        let mut expected = None;
        let mut leftmost = None;
        let mut found = false;
        for value in values.iter().rev() {
            match value.parse::<Ipv4Addr>() {
                Ok(ip) if trusted(ip) => leftmost = Some(IpAddr::V4(ip)),
                Ok(ip) => {
                    expected = Some(IpAddr::V4(ip));
                    found = true;
                    break;
                }
                Err(_) => {
                    found = true;
                    break;
                }
            }
        }
        if !found {
            expected = leftmost;
        }
        prop_assert_eq!(facts.client_ip, expected, "header {:?}", header);
    }

    /// Straight from an untrusted peer, forwarding headers are ignored whatever they say.
    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_headers(
        xff in "\\PC{0,60}",
        forwarded in "\\PC{0,60}",
    ) {
        let guard = guard();
        let peer = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
        let headers = [("x-forwarded-for", xff.as_str()), ("forwarded", forwarded.as_str())];
        let facts = guard.facts(&headers, Some(peer), None);
        prop_assert_eq!(facts.client_ip, Some(peer));
    }

    /// An `x-request-id` that, trimmed of the spaces and tabs around a header value, is
    /// visible ASCII of at most 128 characters is the correlation id, trimmed; anything else
    /// is replaced by a generated one.
    #[test]
    fn the_request_id_is_kept_only_when_valid(id in "[ \\t]{0,2}([\\x21-\\x7e]{0,130}|\\PC{0,140})[ \\t]{0,2}") {
        let guard = guard();
        let facts = guard.facts(&[("x-request-id", id.as_str())], None, None);
        let trimmed = id.trim_matches(|c: char| c == ' ' || c == '\t');
        let valid = !trimmed.is_empty()
            && trimmed.len() <= 128
            && trimmed.bytes().all(|b| (0x21..=0x7E).contains(&b));
        if valid {
            prop_assert_eq!(facts.correlation_id, trimmed);
        } else {
            prop_assert!(facts.correlation_id.len() == 32
                && facts.correlation_id.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    /// Fields the crate does not know, of any JSON type, never stop a recommendation from
    /// decoding, and an unknown recommendation type is kept as sent.
    #[test]
    fn unknown_fields_and_values_still_decode(
        extra in prop::collection::btree_map("[a-z_]{1,12}", any::<i32>(), 0..6),
        kind in prop_oneof![Just("ALLOW".to_owned()), "[A-Z_]{1,12}"],
    ) {
        let mut value: serde_json::Value = serde_json::from_str(SEED).unwrap();
        let object = value.as_object_mut().unwrap();
        for (key, number) in &extra {
            // Under a prefix no field of the schema has.
            object.insert(format!("x_unknown_{key}"), serde_json::json!(number));
        }
        object.insert("recommendation".to_owned(), serde_json::json!({"type": kind}));
        let decoded: RecommendationResponse = serde_json::from_value(value).unwrap();
        prop_assert_eq!(decoded.recommendation_type().as_str(), kind.as_str());
    }

    /// Whatever the other fields hold (any JSON type, nulls, nesting, in place of any field of
    /// the seed's answer or beside them), a readable `recommendation.type` is the
    /// recommendation: the client's decoder never loses it.
    #[test]
    fn a_readable_type_is_the_recommendation_whatever_else_the_answer_holds(
        replacements in prop::collection::vec((any::<prop::sample::Index>(), arb_json()), 0..8),
        extra in prop::collection::btree_map("[a-z_]{1,12}", arb_json(), 0..4),
        beside_type in prop::collection::btree_map("[a-z_]{1,8}", arb_json(), 0..3),
        kind in prop_oneof![
            Just("ALLOW".to_owned()),
            Just("DENY".to_owned()),
            Just("CHALLENGE".to_owned()),
            Just("TRUST".to_owned()),
            "\\PC{0,12}",
        ],
    ) {
        let mut value: serde_json::Value = serde_json::from_str(SEED).unwrap();
        let paths = pointers(&value);
        for (index, replacement) in replacements {
            let path = index.get(&paths);
            if let Some(slot) = value.pointer_mut(path) {
                *slot = replacement;
            }
        }
        let object = value.as_object_mut().unwrap();
        for (key, extra) in extra {
            object.insert(key, extra);
        }
        let mut recommendation = serde_json::Map::new();
        for (key, value) in beside_type {
            recommendation.insert(key, value);
        }
        recommendation.insert("type".to_owned(), serde_json::json!(kind));
        object.insert("recommendation".to_owned(), serde_json::Value::Object(recommendation));
        let body = serde_json::to_vec(&value).unwrap();
        let decoded = RecommendationResponse::from_slice(&body);
        prop_assert!(decoded.is_ok(), "{:?}", decoded.err());
        let decoded = decoded.unwrap();
        prop_assert_eq!(decoded.recommendation_type().as_str(), kind.as_str());
    }
}

/// Any JSON value: scalars, lists and objects, nested a few levels.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "\\PC{0,10}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The JSON pointer of every node under the root, except the recommendation's type (the
/// property replaces it on purpose).
fn pointers(value: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    let path = format!("{at}/{key}");
                    walk(child, path.clone(), out);
                    out.push(path);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let path = format!("{at}/{i}");
                    walk(child, path.clone(), out);
                    out.push(path);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out.retain(|p| !p.starts_with("/recommendation"));
    out
}
