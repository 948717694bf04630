//! gRPC: challenges and denials as gRPC statuses, and the HTTP status a gRPC status stands
//! for when the result of an action is mapped.
//!
//! A gRPC call is an HTTP/2 request whose metadata are its headers, so the guard reads the
//! session or action token from the call's metadata (`x-risk-session-token`,
//! `x-risk-action-token`) like any header. What differs is the answer: a gRPC client expects
//! HTTP 200 with a `grpc-status`, not a 403.

use super::evaluation::Evaluation;
use super::respond::{retry_wait, Responder, ResponseSpec};
use super::verdict::{DenialReason, Verdict};

/// gRPC status code `OK`.
const OK: u8 = 0;
const INVALID_ARGUMENT: u8 = 3;
const PERMISSION_DENIED: u8 = 7;
const RESOURCE_EXHAUSTED: u8 = 8;
const UNAVAILABLE: u8 = 14;
const UNAUTHENTICATED: u8 = 16;

/// Answers challenges and denials as gRPC statuses ("trailers-only" responses: HTTP 200,
/// `content-type: application/grpc`, the status in `grpc-status` and `grpc-message`, no
/// message). Never reveals the score or the reasons.
///
/// | verdict | gRPC status | metadata |
/// |---|---|---|
/// | challenge | `UNAUTHENTICATED` (16) | `x-risk-action-token`, `x-risk-challenge-type` (when known) |
/// | deny (risk, custom reason) | `PERMISSION_DENIED` (7) | |
/// | missing token | `UNAUTHENTICATED` (16) | |
/// | invalid token | `INVALID_ARGUMENT` (3) | |
/// | fail closed | `UNAVAILABLE` (14) | `retry-after` (seconds), `grpc-retry-pushback-ms` |
/// | client over its limit | `RESOURCE_EXHAUSTED` (8) | `retry-after` (seconds), `grpc-retry-pushback-ms` |
///
/// Every answer also has `x-risk-correlation-id`. A client tells a challenge from a missing
/// token by the `x-risk-action-token` metadata. Set it on the guard:
/// `Guard::builder(..).responder(GrpcResponder)`.
///
/// ```
/// use risk_core::*;
/// let e = Evaluation::new(ActionType::Transaction, "req-1",
///     AssessmentStatus::BadInput(BadInput::MissingToken));
/// let r = GrpcResponder.respond(&Verdict::deny(DenialReason::MissingToken), &e).unwrap();
/// assert_eq!(r.status, 200);
/// assert_eq!(r.header("content-type"), Some("application/grpc"));
/// assert_eq!(r.header("grpc-status"), Some("16"));
/// assert!(r.body.is_empty());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcResponder;

impl Responder for GrpcResponder {
    fn respond(&self, verdict: &Verdict, evaluation: &Evaluation) -> Option<ResponseSpec> {
        let spec = match verdict {
            Verdict::Proceed => return None,
            Verdict::Challenge(c) => {
                let mut spec = status(UNAUTHENTICATED, "additional verification required");
                if let Some(token) = &c.action_token {
                    spec = spec.with_header("x-risk-action-token", token.expose());
                }
                if let Some(kind) = &c.challenge_type {
                    spec = spec.with_header("x-risk-challenge-type", kind.as_str());
                }
                spec
            }
            Verdict::Deny(d) => {
                let spec = match &d.reason {
                    DenialReason::Risk => status(PERMISSION_DENIED, "this action was denied"),
                    DenialReason::Custom(message) => status(PERMISSION_DENIED, message),
                    DenialReason::MissingToken => {
                        status(UNAUTHENTICATED, "a risk session token is required")
                    }
                    DenialReason::InvalidToken(_) => {
                        status(INVALID_ARGUMENT, "the risk session token is invalid")
                    }
                    DenialReason::Unavailable => {
                        status(UNAVAILABLE, "temporarily unavailable, retry later")
                    }
                    DenialReason::RateLimited => {
                        status(RESOURCE_EXHAUSTED, "too many attempts, retry later")
                    }
                };
                match retry_wait(d, evaluation) {
                    Some(wait) => spec
                        .with_header("retry-after", super::respond::retry_after_secs(wait))
                        .with_header(
                            "grpc-retry-pushback-ms",
                            wait.as_millis().max(1).to_string(),
                        ),
                    None => spec,
                }
            }
        };
        Some(spec.with_header("x-risk-correlation-id", evaluation.correlation_id()))
    }
}

/// A trailers-only gRPC answer with `code` and `message`.
fn status(code: u8, message: &str) -> ResponseSpec {
    ResponseSpec {
        status: 200,
        headers: vec![
            ("content-type", "application/grpc".to_owned()),
            ("grpc-status", code.to_string()),
            ("grpc-message", percent_encode(message)),
        ],
        body: String::new(),
    }
}

/// `grpc-message` encoding: bytes outside printable ASCII, and `%`, percent-encoded.
fn percent_encode(message: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The HTTP status a gRPC status code stands for (the mapping of `google.rpc.Code`), so that
/// the result of a gRPC call goes through the route's [`ResultMapping`](crate::ResultMapping)
/// like an HTTP status: `OK` → 200 (success), `INVALID_ARGUMENT`/`FAILED_PRECONDITION`/
/// `OUT_OF_RANGE` → 400, `UNAUTHENTICATED` → 401, `PERMISSION_DENIED` → 403, `NOT_FOUND` → 404,
/// `ALREADY_EXISTS`/`ABORTED` → 409 (failures), `RESOURCE_EXHAUSTED` → 429, `CANCELLED` → 499
/// (incomplete), `DEADLINE_EXCEEDED` → 504, `UNIMPLEMENTED` → 501, `UNAVAILABLE` → 503, the
/// rest → 500 (incomplete).
///
/// ```
/// use risk_core::{default_result_for_status, http_status_of_grpc, ActionResult};
/// assert_eq!(http_status_of_grpc(0), 200);
/// assert_eq!(default_result_for_status(http_status_of_grpc(7)), ActionResult::Failure);
/// assert_eq!(default_result_for_status(http_status_of_grpc(1)), ActionResult::Incomplete);
/// assert_eq!(default_result_for_status(http_status_of_grpc(14)), ActionResult::Incomplete);
/// ```
pub fn http_status_of_grpc(code: u32) -> u16 {
    match code {
        c if c == u32::from(OK) => 200,
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500,
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::{
        ActionToken, ActionType, AssessmentStatus, BadInput, ChallengeDetails, ChallengeType,
        RecommendationResponse, RecommendationType,
    };

    fn assessed() -> Evaluation {
        Evaluation::new(
            ActionType::Transaction,
            "req-9",
            AssessmentStatus::Assessed(
                RecommendationResponse::new(RecommendationType::Challenge, 60.0).into(),
            ),
        )
    }

    #[test]
    fn a_challenge_is_unauthenticated_with_the_action_token_in_metadata() {
        let verdict = Verdict::Challenge(
            ChallengeDetails::new(Some(ActionToken::from("at_secret")))
                .with_challenge_type(ChallengeType::SmsOtp),
        );
        let r = GrpcResponder.respond(&verdict, &assessed()).unwrap();
        assert_eq!((r.status, r.header("grpc-status")), (200, Some("16")));
        assert_eq!(r.header("x-risk-action-token"), Some("at_secret"));
        assert_eq!(r.header("x-risk-challenge-type"), Some("sms_otp"));
        assert_eq!(r.header("x-risk-correlation-id"), Some("req-9"));
        assert!(r.body.is_empty());
    }

    #[test]
    fn denials_map_to_their_grpc_codes_with_retry_hints() {
        let e = assessed();
        let code = |reason| {
            let r = GrpcResponder.respond(&Verdict::deny(reason), &e).unwrap();
            r.header("grpc-status").map(str::to_owned)
        };
        assert_eq!(code(DenialReason::Risk).as_deref(), Some("7"));
        let missing = Evaluation::new(
            ActionType::Transaction,
            "req-9",
            AssessmentStatus::BadInput(BadInput::MissingToken),
        );
        let r = GrpcResponder
            .respond(&Verdict::deny(DenialReason::MissingToken), &missing)
            .unwrap();
        assert_eq!(r.header("grpc-status"), Some("16"));
        assert_eq!(r.header("x-risk-action-token"), None);
        let unavailable = GrpcResponder
            .respond(&Verdict::deny(DenialReason::Unavailable), &e)
            .unwrap();
        assert_eq!(unavailable.header("grpc-status"), Some("14"));
        assert_eq!(unavailable.header("retry-after"), Some("5"));
        assert_eq!(unavailable.header("grpc-retry-pushback-ms"), Some("5000"));
    }

    #[test]
    fn grpc_messages_are_percent_encoded() {
        assert_eq!(percent_encode("100% sûr"), "100%25 s%C3%BBr");
        let r = GrpcResponder
            .respond(
                &Verdict::deny(DenialReason::Custom("non, merci\n".into())),
                &assessed(),
            )
            .unwrap();
        assert_eq!(r.header("grpc-message"), Some("non, merci%0A"));
    }
}
