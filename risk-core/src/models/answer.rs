//! [`RiskAnswer`]: a recommendation whose decision is read when it arrives and whose other
//! fields are decoded the first time someone asks for them.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::action::{ActionType, ChallengeType, TriggerActionResponse};
use super::de::{opt_f64_lenient, opt_text_lenient, vec_skip_invalid, whole};
use super::recommendation::{Reason, RecommendationResponse, RecommendationType};
use super::token::ActionToken;
use crate::error::Error;

/// The risk API's recommendation for one action, as the guard hands it on.
///
/// A recommendation answer is about a kilobyte of JSON: the decision (its type, score and
/// reasons) and much more (context, device, network and behaviour signals, the echoed
/// transaction). The decision is read when the answer arrives; the rest is decoded the
/// first time it is asked for ([`response`](Self::response), or any field through `Deref`),
/// at most once, and kept. A handler that looks only at the decision never pays for the rest.
/// (The [`RiskClient`](crate::RiskClient) decodes one answer a minute whole as it arrives, so
/// that a field the vendor changed is still counted and logged: see
/// [`undecoded`](RecommendationResponse::undecoded).)
///
/// Cloning is cheap (a reference count), and clones share the decoded response.
///
/// ```
/// use risk_core::{Reason, RecommendationResponse, RecommendationType, RiskAnswer};
///
/// let mut response = RecommendationResponse::new(RecommendationType::Deny, 91.0);
/// response.reasons.push(Reason::BehaviorBot);
/// response.context.device_id = Some("d-1".to_owned());
/// let answer = RiskAnswer::from(response);
/// assert_eq!(*answer.recommendation_type(), RecommendationType::Deny);
/// assert_eq!(answer.risk_score(), Some(91.0));
/// assert_eq!(answer.reasons(), [Reason::BehaviorBot]);
/// // Every field of the full response, through `Deref`.
/// assert_eq!(answer.context.device_id.as_deref(), Some("d-1"));
/// ```
#[derive(Clone)]
pub struct RiskAnswer(Arc<Inner>);

struct Inner {
    decision: Decision,
    /// The answer's JSON, while it is not decoded (`None` when built from a response).
    raw: Option<Bytes>,
    full: OnceLock<Box<RecommendationResponse>>,
}

/// The parts of an answer the guard decides on, read when it arrives.
#[derive(Clone, PartialEq)]
struct Decision {
    recommendation_type: RecommendationType,
    challenge_type: Option<ChallengeType>,
    risk_score: Option<f64>,
    reasons: Vec<Reason>,
    action_type: Option<ActionType>,
}

impl Decision {
    fn of(response: &RecommendationResponse) -> Self {
        Self {
            recommendation_type: response.recommendation.recommendation_type.clone(),
            challenge_type: response.recommendation.challenge_type.clone(),
            risk_score: response.risk_score,
            reasons: response.reasons.clone(),
            action_type: response.context.action_type.clone(),
        }
    }

    /// Makes `response` say what this decision says: the decision read first is the one
    /// the guard acted on, whatever the full decoding had to set aside.
    fn apply(&self, response: &mut RecommendationResponse) {
        response.recommendation.recommendation_type = self.recommendation_type.clone();
        response.recommendation.challenge_type = self.challenge_type.clone();
        response.risk_score = self.risk_score;
        response.reasons = self.reasons.clone();
        response.context.action_type = self.action_type.clone();
    }
}

/// The decision's fields as they are on the wire, read with the same tolerant decoders as
/// the full model: when this decodes, the full decoding finds the same values. Every other
/// field is skipped without being built. Each level is read from a JSON object only
/// ([`Object`]); any other shape leaves the answer to the whole decoding.
#[derive(Deserialize)]
struct DecisionWire {
    recommendation: Object<RecommendationWire>,
    #[serde(default, deserialize_with = "opt_f64_lenient")]
    risk_score: Option<f64>,
    #[serde(default, deserialize_with = "vec_skip_invalid")]
    reasons: Vec<Reason>,
    #[serde(default)]
    context: Option<Object<ContextWire>>,
}

#[derive(Deserialize)]
struct RecommendationWire {
    #[serde(rename = "type")]
    recommendation_type: RecommendationType,
    #[serde(default, deserialize_with = "opt_text_lenient")]
    challenge_type: Option<ChallengeType>,
}

#[derive(Deserialize)]
struct ContextWire {
    #[serde(default, deserialize_with = "opt_text_lenient")]
    action_type: Option<ActionType>,
}

/// `T` read from a JSON object and nothing else. serde reads a struct from an array as
/// readily as from an object (its fields in order), so `[["DENY"]]` would read as an answer
/// whose type is `DENY`: the whole decoding, which looks for `recommendation.type`, calls it
/// malformed, and the decision read must not say otherwise.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Fields<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Fields(std::marker::PhantomData))
            .map(Object)
    }
}

impl RiskAnswer {
    /// Reads a recommendation answer (the body of `GET /risk/v1/recommendation`) as the
    /// client does for the guard: its decision now, the rest when first asked for. An answer
    /// whose decision does not read simply (a score that is not a number, a `context` that
    /// is not an object...) is decoded whole at once, as
    /// [`RecommendationResponse::from_slice`] decodes it. `Err` only when the body has no
    /// readable `recommendation.type` ([`Error::MalformedAnswer`]).
    ///
    /// ```
    /// use risk_core::{RecommendationType, RiskAnswer};
    /// let body = br#"{"recommendation": {"type": "DENY"}, "risk_score": "87.5",
    ///     "context": {"device_id": {"unexpected": 1}}}"#;
    /// let answer = RiskAnswer::from_slice(body)?;
    /// assert_eq!(*answer.recommendation_type(), RecommendationType::Deny);
    /// assert_eq!(answer.risk_score(), Some(87.5));
    /// assert!(!answer.is_decoded());
    /// assert!(answer.undecoded.contains_key("context.device_id"));
    /// assert!(RiskAnswer::from_slice(br#"{"recommendation": {}}"#).is_err());
    /// # Ok::<(), risk_core::Error>(())
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Self, Error> {
        Self::from_json(Bytes::copy_from_slice(body))
    }

    /// [`from_slice`](Self::from_slice), keeping `raw` itself (no copy).
    pub(crate) fn from_json(raw: Bytes) -> Result<Self, Error> {
        let Some(Object(wire)) = whole::<Object<DecisionWire>>(&raw) else {
            return RecommendationResponse::from_slice(&raw).map(Self::from);
        };
        let Object(recommendation) = wire.recommendation;
        let decision = Decision {
            recommendation_type: recommendation.recommendation_type,
            challenge_type: recommendation.challenge_type,
            risk_score: wire.risk_score,
            reasons: wire.reasons,
            action_type: wire.context.and_then(|Object(c)| c.action_type),
        };
        Ok(Self(Arc::new(Inner {
            decision,
            raw: Some(raw),
            full: OnceLock::new(),
        })))
    }

    /// Reads a trigger-action answer (`?get_recommendation=true`): its action token, and the
    /// recommendation in it as [`from_json`](Self::from_json) reads one, sharing the body's
    /// bytes. A recommendation without a readable decision is left out (`None`): the caller
    /// then asks for it with its own call. An answer that does not read this simply is
    /// decoded as [`TriggerActionResponse::from_slice`] decodes it.
    pub(crate) fn from_trigger_action(body: Vec<u8>) -> Result<(ActionToken, Option<Self>), Error> {
        /// The answer, its recommendation kept as the JSON it is.
        #[derive(Deserialize)]
        struct TriggerWire<'a> {
            action_token: ActionToken,
            #[serde(default, borrow)]
            recommendation: Option<&'a RawValue>,
        }
        let body = Bytes::from(body);
        let Some(wire) = whole::<TriggerWire<'_>>(&body) else {
            let decoded = TriggerActionResponse::from_slice(&body)?;
            return Ok((decoded.action_token, decoded.recommendation.map(Self::from)));
        };
        let answer = wire.recommendation.and_then(|raw| {
            Self::from_json(body.slice_ref(raw.get().as_bytes()))
                .map_err(|e| no_decision(&e))
                .ok()
        });
        Ok((wire.action_token, answer))
    }

    /// TRUST, ALLOW, CHALLENGE or DENY (or a value this version does not know).
    pub fn recommendation_type(&self) -> &RecommendationType {
        &self.0.decision.recommendation_type
    }

    /// The challenge the service suggests, with CHALLENGE.
    pub fn challenge_type(&self) -> Option<&ChallengeType> {
        self.0.decision.challenge_type.as_ref()
    }

    /// The risk score (0–100), when the answer has one.
    pub fn risk_score(&self) -> Option<f64> {
        self.0.decision.risk_score
    }

    /// Why the service recommends what it does.
    pub fn reasons(&self) -> &[Reason] {
        &self.0.decision.reasons
    }

    /// The action type the answer is about (`context.action_type`), when it says.
    pub fn action_type(&self) -> Option<&ActionType> {
        self.0.decision.action_type.as_ref()
    }

    /// The full response, decoded on the first call (the fields that do not decode set
    /// aside in [`undecoded`](RecommendationResponse::undecoded), counted and logged, as
    /// [`RecommendationResponse::from_slice`] does). Its decision fields are the ones above.
    pub fn response(&self) -> &RecommendationResponse {
        self.0.full.get_or_init(|| Box::new(self.0.decode()))
    }

    /// Whether the full response has been decoded (by [`response`](Self::response), or
    /// because the answer was built from one).
    pub fn is_decoded(&self) -> bool {
        self.0.full.get().is_some()
    }

    /// The full response, decoded if it is not yet.
    pub fn into_response(self) -> RecommendationResponse {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => match inner.full.take() {
                Some(full) => *full,
                None => inner.decode(),
            },
            Err(shared) => Self(shared).response().clone(),
        }
    }
}

impl Inner {
    fn decode(&self) -> RecommendationResponse {
        let decoded = self
            .raw
            .as_deref()
            .and_then(|raw| RecommendationResponse::from_slice(raw).ok());
        // The JSON read as a decision when it arrived, so it decodes (the tolerant decoder
        // keeps any readable decision); the decision alone is for the impossible case.
        let mut response = decoded.unwrap_or_else(|| {
            RecommendationResponse::new(self.decision.recommendation_type.clone(), 0.0)
        });
        self.decision.apply(&mut response);
        response
    }
}

/// How often the client decodes an answer whole as it arrives.
const SAMPLE_EVERY: Duration = Duration::from_secs(60);

/// Decodes one answer a minute whole as it arrives (the first at once), so that a field the
/// vendor changed is counted and logged within a minute even when no handler reads the full
/// responses. The other answers keep their decoding for when it is asked for.
pub(crate) struct Sampler {
    start: Instant,
    /// When the next sample is due, in milliseconds since `start`.
    next: AtomicU64,
}

impl Sampler {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            next: AtomicU64::new(0),
        }
    }

    /// Decodes `answer` whole now when it is the first of its minute.
    pub(crate) fn sample(&self, answer: &RiskAnswer) {
        if !answer.is_decoded() && self.due(self.start.elapsed()) {
            let _ = answer.response();
        }
    }

    fn due(&self, elapsed: Duration) -> bool {
        let now = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let next = self.next.load(Ordering::Relaxed);
        let later = now.saturating_add(u64::try_from(SAMPLE_EVERY.as_millis()).unwrap_or(0));
        now >= next
            && self
                .next
                .compare_exchange(next, later, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Logs why trigger-action's recommendation is left out (the guard then asks for it).
pub(crate) fn no_decision(e: &Error) {
    let why = match e {
        Error::MalformedAnswer { message, .. } => message.as_str(),
        other => other.kind(),
    };
    tracing::debug!(
        why,
        "trigger-action's recommendation has no readable decision; asking for it"
    );
}

impl From<RecommendationResponse> for RiskAnswer {
    fn from(response: RecommendationResponse) -> Self {
        Self::from(Box::new(response))
    }
}

impl From<Box<RecommendationResponse>> for RiskAnswer {
    fn from(response: Box<RecommendationResponse>) -> Self {
        let decision = Decision::of(&response);
        Self(Arc::new(Inner {
            decision,
            raw: None,
            full: OnceLock::from(response),
        }))
    }
}

/// The full response, decoded on first access (as [`LazyLock`](std::sync::LazyLock) does).
impl Deref for RiskAnswer {
    type Target = RecommendationResponse;

    fn deref(&self) -> &RecommendationResponse {
        self.response()
    }
}

/// Two answers are equal when their full responses are (both are decoded to compare).
impl PartialEq for RiskAnswer {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.decision == other.0.decision && self.response() == other.response())
    }
}

/// The decision, and the full response when it has been decoded (`Debug` does not decode it).
impl fmt::Debug for RiskAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decision = &self.0.decision;
        let mut s = f.debug_struct("RiskAnswer");
        s.field("recommendation_type", &decision.recommendation_type)
            .field("risk_score", &decision.risk_score)
            .field("reasons", &decision.reasons);
        match self.0.full.get() {
            Some(full) => s.field("response", full),
            None => s.field("response", &format_args!("(not decoded yet)")),
        };
        s.finish()
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer(value: &serde_json::Value) -> Result<RiskAnswer, Error> {
        RiskAnswer::from_json(Bytes::from(serde_json::to_vec(value).unwrap()))
    }

    #[test]
    fn the_decision_is_read_and_the_rest_decoded_on_first_access() {
        let a = answer(&json!({
            "id": "rec-1",
            "recommendation": { "type": "CHALLENGE", "challenge_type": "otp" },
            "risk_score": "61.5",
            "reasons": ["DEVICE_NEW", 3, null],
            "context": { "action_type": "login", "device_id": "d-1" },
            "risk_signals": { "device": { "browser": "Chrome" } }
        }))
        .unwrap();
        assert!(!a.is_decoded());
        assert_eq!(*a.recommendation_type(), RecommendationType::Challenge);
        assert_eq!(a.challenge_type().map(ChallengeType::as_str), Some("otp"));
        assert_eq!(a.risk_score(), Some(61.5));
        assert_eq!(a.reasons(), [Reason::DeviceNew]);
        assert_eq!(a.action_type(), Some(&ActionType::Login));
        assert!(!a.is_decoded(), "reading the decision decoded the rest");
        let copy = a.clone();
        assert_eq!(a.id, "rec-1");
        assert!(
            a.is_decoded() && copy.is_decoded(),
            "clones share the decoding"
        );
        assert_eq!(copy.context.device_id.as_deref(), Some("d-1"));
        assert_eq!(a.response().risk_score, Some(61.5));
        assert_eq!(a.response().reasons, [Reason::DeviceNew]);
    }

    #[test]
    fn one_answer_a_minute_is_decoded_as_it_arrives() {
        let sampler = Sampler::new();
        let minute = Duration::from_secs(60);
        assert!(sampler.due(Duration::ZERO), "the first answer");
        assert!(!sampler.due(Duration::from_secs(59)));
        assert!(sampler.due(minute));
        assert!(!sampler.due(minute + Duration::from_secs(1)));
        assert!(sampler.due(minute * 5), "after a quiet spell, at once");
        let value = json!({ "recommendation": { "type": "ALLOW" }, "context": { "ip": [] } });
        let sampler = Sampler::new();
        let (first, second) = (answer(&value).unwrap(), answer(&value).unwrap());
        sampler.sample(&first);
        sampler.sample(&second);
        assert!(first.is_decoded() && first.undecoded.contains_key("context.ip"));
        assert!(!second.is_decoded());
    }

    #[test]
    fn into_response_decodes_once_whether_shared_or_not() {
        let value = json!({ "id": "r-2", "recommendation": { "type": "TRUST" }, "risk_score": 3 });
        let alone = answer(&value).unwrap();
        assert!(!alone.is_decoded());
        let response = alone.into_response();
        assert_eq!(
            (response.id.as_str(), response.risk_score),
            ("r-2", Some(3.0))
        );
        let shared = answer(&value).unwrap();
        let other = shared.clone();
        assert_eq!(shared.into_response(), response);
        assert!(
            other.is_decoded(),
            "the clone kept what into_response decoded"
        );
    }

    #[test]
    fn a_decision_that_does_not_read_simply_is_decoded_whole_at_once() {
        // A score that is not a number: the tolerant decoder sets it aside.
        let a = answer(&json!({
            "recommendation": { "type": "ALLOW" },
            "risk_score": { "value": 3 },
            "context": "none"
        }))
        .unwrap();
        assert!(a.is_decoded());
        assert_eq!(*a.recommendation_type(), RecommendationType::Allow);
        assert_eq!(a.risk_score(), None);
        assert!(a.undecoded.contains_key("risk_score"), "{:?}", a.undecoded);
    }

    #[test]
    fn an_answer_without_a_readable_type_is_malformed() {
        for value in [
            json!({ "recommendation": {} }),
            json!({ "recommendation": { "type": 3 } }),
            json!([]),
        ] {
            assert_eq!(answer(&value).unwrap_err().kind(), "malformed_answer");
        }
        let e = RiskAnswer::from_json(Bytes::from_static(b"<html>")).unwrap_err();
        assert_eq!(e.kind(), "malformed_answer");
    }

    /// Found by the `recommendation` fuzz target: serde reads a struct from a JSON array as
    /// readily as from an object, so the decision read took `[["34"]]` for an answer whose
    /// type is `34`, which the whole decoding rightly calls malformed. Whatever the shape,
    /// the two must agree.
    #[test]
    fn the_decision_reads_objects_only_and_agrees_with_the_whole_decoding() {
        for body in [
            &br#"[["34"]]"#[..],
            b"[[\t\"34\"]]",
            br#"[["DENY", "otp"], 12, ["BEHAVIOR_BOT"]]"#,
            br#"{"recommendation": ["DENY"]}"#,
            br#"{"recommendation": {"type": "DENY"}, "context": ["login"]}"#,
            br#"{"recommendation": {"type": "DENY"}, "context": []}"#,
        ] {
            let lazy = RiskAnswer::from_slice(body);
            let whole = RecommendationResponse::from_slice(body);
            let text = String::from_utf8_lossy(body);
            assert_eq!(lazy.is_ok(), whole.is_ok(), "{text}");
            if let (Ok(lazy), Ok(whole)) = (lazy, whole) {
                assert_eq!(
                    lazy.recommendation_type(),
                    whole.recommendation_type(),
                    "{text}"
                );
                assert_eq!(
                    lazy.action_type(),
                    whole.context.action_type.as_ref(),
                    "{text}"
                );
                assert_eq!(*lazy.response(), whole, "{text}");
            }
        }
        for body in [&br#"[["34"]]"#[..], b"[[\t\"34\"]]"] {
            assert_eq!(
                RiskAnswer::from_slice(body).unwrap_err().kind(),
                "malformed_answer"
            );
        }
    }

    #[test]
    fn the_full_response_agrees_with_the_decision_and_compares_equal() {
        let value = json!({
            "recommendation": { "type": "DENY" },
            "risk_score": 97,
            "reasons": ["BEHAVIOR_BOT"],
            "context": { "device_id": { "unexpected": true } }
        });
        let lazy = answer(&value).unwrap();
        let full = RiskAnswer::from(
            RecommendationResponse::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap(),
        );
        assert_eq!(lazy, full);
        assert!(format!("{:?}", answer(&value).unwrap()).contains("not decoded yet"));
        let response = lazy.into_response();
        assert_eq!(response.risk_score, Some(97.0));
        assert!(response.undecoded.contains_key("context.device_id"));
    }
}
