//! Responses for challenges and denials: one definition for every adapter.

use std::time::Duration;

use super::evaluation::{AssessmentStatus, Evaluation};
use super::verdict::{ChallengeDetails, Denial, DenialReason, Verdict};

/// A framework-free HTTP response: adapters convert it 1:1.
///
/// `Debug` shows the status, the headers and the body's length only: a challenge body
/// carries the whole action token.
///
/// ```
/// use risk_core::ResponseSpec;
/// let r = ResponseSpec::json(403, &serde_json::json!({"action_token": "secret-token-value"}));
/// assert!(!format!("{r:?}").contains("secret-token-value"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseSpec {
    /// HTTP status.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(&'static str, String)>,
    /// The body (JSON for the default responder).
    pub body: String,
}

impl std::fmt::Debug for ResponseSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseSpec")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl ResponseSpec {
    /// A JSON response with `content-type: application/json` and `cache-control: no-store`.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::json_body(status, body.to_string())
    }

    fn json_body(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("cache-control", "no-store".to_owned()),
            ],
            body,
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Builds the response for a challenge or a denial. Closures
/// `Fn(&Verdict, &Evaluation) -> Option<ResponseSpec>` are responders; returning `None`
/// falls back to [`DefaultResponder`].
///
/// ```
/// use risk_core::{DefaultResponder, Evaluation, Responder, ResponseSpec, Verdict};
/// let html = |v: &Verdict, a: &Evaluation| match v {
///     Verdict::Deny(d) => Some(ResponseSpec::json(d.status, &serde_json::json!({"denied": true}))),
///     _ => DefaultResponder.respond(v, a),
/// };
/// fn takes(_: impl Responder) {}
/// takes(html);
/// ```
pub trait Responder: Send + Sync + 'static {
    /// The response for a challenge or denial `verdict` (never called for proceed);
    /// `None` leaves it to [`DefaultResponder`].
    fn respond(&self, verdict: &Verdict, evaluation: &Evaluation) -> Option<ResponseSpec>;
}

impl<F> Responder for F
where
    F: Fn(&Verdict, &Evaluation) -> Option<ResponseSpec> + Send + Sync + 'static,
{
    fn respond(&self, verdict: &Verdict, evaluation: &Evaluation) -> Option<ResponseSpec> {
        self(verdict, evaluation)
    }
}

/// How long a client is told to wait after a fail-closed 503 when nothing better is known.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The default responses. Never reveal the score or the reasons to the client. Every body
/// has `correlation_id`; headers are `content-type: application/json` and
/// `cache-control: no-store`.
///
/// | verdict | status | body |
/// |---|---|---|
/// | deny (risk) | 403 | `{"error":"access_denied","message":"This action was denied.","correlation_id":..}` |
/// | deny (custom reason) | its status | `{"error":"access_denied","message":<reason>,"correlation_id":..}` |
/// | challenge | 403 | `{"error":"challenge_required","action_token":..,"challenge_type":"sms_otp"\|null,"correlation_id":..}` |
/// | missing token | 401 | `{"error":"missing_session_token","message":..,"correlation_id":..}` |
/// | invalid token | 400 | `{"error":"invalid_session_token","message":..,"correlation_id":..}` |
/// | fail closed | 503 | `{"error":"risk_unavailable","message":..,"correlation_id":..}` + `Retry-After` (seconds) |
/// | client over its limit | 429 | `{"error":"rate_limited","message":..,"correlation_id":..}` + `Retry-After` (seconds) |
///
/// ```
/// use risk_core::*;
/// let a = Evaluation::new(ActionType::Login, "req-1",
///     AssessmentStatus::BadInput(BadInput::MissingToken));
/// let r = DefaultResponder.respond(&Verdict::deny(DenialReason::MissingToken), &a).unwrap();
/// assert_eq!(r.status, 401);
/// assert!(r.body.contains("missing_session_token"));
/// assert!(DefaultResponder.respond(&Verdict::Proceed, &a).is_none());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultResponder;

impl Responder for DefaultResponder {
    fn respond(&self, verdict: &Verdict, evaluation: &Evaluation) -> Option<ResponseSpec> {
        match verdict {
            Verdict::Proceed => None,
            Verdict::Challenge(c) => Some(Self::challenge(c, evaluation)),
            Verdict::Deny(d) => Some(Self::deny(d, evaluation)),
        }
    }
}

impl DefaultResponder {
    /// The challenge response.
    pub(crate) fn challenge(c: &ChallengeDetails, evaluation: &Evaluation) -> ResponseSpec {
        ResponseSpec::json_body(
            c.status,
            json_object(&[
                ("error", Some("challenge_required")),
                ("action_token", c.action_token.as_ref().map(|t| t.expose())),
                (
                    "challenge_type",
                    c.challenge_type.as_ref().map(|t| t.as_str()),
                ),
                ("correlation_id", Some(evaluation.correlation_id())),
            ]),
        )
    }

    /// The denial response.
    pub(crate) fn deny(d: &Denial, evaluation: &Evaluation) -> ResponseSpec {
        let (error, message) = match &d.reason {
            DenialReason::Risk => ("access_denied", "This action was denied."),
            DenialReason::Custom(m) => ("access_denied", m.as_str()),
            DenialReason::MissingToken => (
                "missing_session_token",
                "A risk session token is required for this action.",
            ),
            DenialReason::InvalidToken(_) => (
                "invalid_session_token",
                "The risk session token is invalid.",
            ),
            DenialReason::Unavailable => (
                "risk_unavailable",
                "This action is temporarily unavailable. Please retry later.",
            ),
            DenialReason::RateLimited => ("rate_limited", "Too many attempts. Please retry later."),
        };
        let spec = ResponseSpec::json_body(
            d.status,
            json_object(&[
                ("error", Some(error)),
                ("message", Some(message)),
                ("correlation_id", Some(evaluation.correlation_id())),
            ]),
        );
        match retry_wait(d, evaluation) {
            Some(wait) => spec.with_header("retry-after", retry_after_secs(wait)),
            None => spec,
        }
    }
}

/// How long the client is told to wait before retrying a denial: for a client over its limit
/// and for an unavailable risk API (fail closed, quota); `None` for the other denials.
pub(crate) fn retry_wait(d: &Denial, evaluation: &Evaluation) -> Option<Duration> {
    match (&d.reason, evaluation.status()) {
        (DenialReason::RateLimited, AssessmentStatus::ClientLimited { retry_after }) => {
            Some(*retry_after)
        }
        (DenialReason::Unavailable | DenialReason::RateLimited, _) => Some(
            evaluation
                .unavailable()
                .and_then(|u| u.retry_after)
                .unwrap_or(DEFAULT_RETRY_AFTER),
        ),
        _ => None,
    }
}

/// Whole seconds, rounded up, at least 1 (a `Retry-After` value).
pub(crate) fn retry_after_secs(wait: Duration) -> String {
    wait.as_millis().div_ceil(1000).max(1).to_string()
}

/// A flat JSON object of string (or null) values, written directly (no `Value` tree).
fn json_object(fields: &[(&str, Option<&str>)]) -> String {
    let mut out = String::with_capacity(
        16 + fields
            .iter()
            .map(|(k, v)| k.len() + v.map_or(4, str::len) + 6)
            .sum::<usize>(),
    );
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        match value {
            Some(v) => push_json_string(&mut out, v),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

fn push_json_string(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping_round_trips() {
        let tricky = "quote\" back\\slash\n tab\t ctl\u{1} é";
        let body = json_object(&[("a", Some(tricky)), ("b", None)]);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(v["a"], tricky);
        assert!(v["b"].is_null());
    }
}
