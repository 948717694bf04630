//! One call: the total deadline, the attempt loop, retries, and the mapping of
//! statuses and transport failures to [`Error`].

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, RETRY_AFTER};
use http::Method;
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::{Instrument, Span};
use url::Url;

use super::net::{BodyError, HttpError, Outgoing};
use super::token::TokenKey;
use super::Inner;
use crate::budget::{CallPriority, DEFAULT_QUOTA_PAUSE, MAX_QUOTA_PAUSE};
use crate::config::{RetryPolicy, MAX_TIMEOUT};
use crate::error::{excerpt, Error};
use crate::models::MessageResponse;

/// The largest answer read from a request-path call (trigger-action, recommendation,
/// evaluate): a recommendation is a few KB.
pub(crate) const MAX_ASSESSMENT_BODY: usize = 1024 * 1024;
/// The largest answer read from any other call (rule lists...).
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;
/// The largest event batch read: `collect` moves the stream's position before it answers,
/// so a refused batch is lost; 1,000 events of up to 64 KB each fit.
pub(crate) const MAX_COLLECT_BODY: usize = 64 * 1024 * 1024;
/// The largest error answer read (it is only quoted in the error).
const ERROR_BODY: usize = 64 * 1024;
/// The longest `Retry-After` taken from the API (a longer one is cut to this): it is passed on
/// to clients, and a route must not tell them to go away for a day.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

impl BodyError {
    /// The error of the call; `after`: its deadline.
    pub(crate) fn into_error(self, after: Duration) -> Error {
        match self {
            Self::TooLarge(cap) => Error::Decode {
                message: format!("the answer is larger than {cap} bytes"),
                excerpt: String::new(),
            },
            Self::Read(e) => transport_error(e, after, FailedWhile::ReadingBody),
        }
    }
}

/// Whether a call may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Safe to repeat (reads, idempotent writes, result reports): retried after connection
    /// errors, 5xx and 429.
    Always,
    /// Not safe to repeat once the request may have reached the server: retried only after
    /// a connect error (nothing was sent) and after 429 (rejected before processing).
    UnsentOnly,
}

/// One request to a risk endpoint.
pub(crate) struct Call {
    /// Static name for tracing (`trigger_action`, ...).
    pub(crate) endpoint: &'static str,
    pub(crate) method: Method,
    pub(crate) url: Url,
    /// A JSON body (shared by the attempts).
    pub(crate) body: Option<Bytes>,
    pub(crate) replay: Replay,
    /// Who draws on the budget: assessments fail at once without it, the rest waits.
    pub(crate) priority: CallPriority,
    /// Its API family and the resource its access token is asked for (each pair has its own
    /// cached token).
    pub(crate) token: TokenKey,
}

/// A failure of one attempt, with what is needed to decide on a retry.
pub(crate) struct Failure {
    pub(crate) error: Error,
    /// The server asked to wait this long (`Retry-After`).
    pub(crate) retry_after: Option<Duration>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

impl Inner {
    /// Runs `call` under the client's total deadline and returns the body of its 2xx response.
    pub(crate) async fn execute(&self, call: Call) -> Result<Vec<u8>, Error> {
        let span = tracing::info_span!(
            "risk.call",
            endpoint = call.endpoint,
            method = %call.method,
            status = Empty,
            attempt = Empty,
            latency_ms = Empty,
            error = Empty,
        );
        // A background call waits for budget (up to one timeout) before its deadline starts,
        // so that waiting never cuts its request short.
        let budget_taken = call.priority == CallPriority::Background;
        if budget_taken {
            let wait_until = deadline_after(Instant::now(), self.timeout);
            if let Err(e) = self.take_budget(call.priority, wait_until).await {
                span.record("error", e.kind());
                return Err(e);
            }
        }
        let started = Instant::now();
        let deadline = deadline_after(started, self.timeout);
        let attempts = self.attempts(&call, deadline, &span, budget_taken);
        let result = tokio::time::timeout_at(deadline, attempts)
            .instrument(span.clone())
            .await
            .unwrap_or(Err(Error::Timeout {
                after: self.timeout,
            }));
        let elapsed = started.elapsed();
        let latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        span.record("latency_ms", latency_ms);
        let status: Cow<'static, str> = match &result {
            Ok(_) => Cow::Borrowed("2xx"),
            Err(e) => e
                .status()
                .map_or(Cow::Borrowed(e.kind()), |s| Cow::Owned(s.to_string())),
        };
        crate::telemetry::upstream(call.endpoint, status, elapsed.as_secs_f64());
        match &result {
            Ok(_) => tracing::debug!(parent: &span, latency_ms, "risk call succeeded"),
            Err(e) => {
                span.record("error", e.kind());
                tracing::debug!(parent: &span, latency_ms, error = %e, "risk call failed");
            }
        }
        result
    }

    /// The attempt loop; `budget_taken`: the first attempt's call was already taken from the
    /// budget.
    async fn attempts(
        &self,
        call: &Call,
        deadline: Instant,
        span: &Span,
        budget_taken: bool,
    ) -> Result<Vec<u8>, Error> {
        let mut attempt: u32 = 0;
        let mut refreshed_token = false;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            if attempt > 1 || !budget_taken {
                self.take_budget(call.priority, deadline).await?;
            }
            let token = self.access_token(&call.token).await?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let request = Outgoing {
                method: call.method.clone(),
                url: &call.url,
                bearer: Some(token.header()),
                body: call.body.clone().map(|body| ("application/json", body)),
            };
            // One span per attempt, in the OpenTelemetry HTTP client conventions (no query, no
            // token: the path is a template).
            let attempt_span = tracing::info_span!(
                parent: span,
                "http.client",
                "http.request.method" = %call.method,
                "server.address" = call.url.host_str().unwrap_or_default(),
                "url.path" = %path_template(&call.url),
                "http.request.resend_count" = attempt - 1,
                "http.response.status_code" = Empty,
                "error.type" = Empty,
            );
            let sent = self.http.send(request, remaining);
            let failure = match sent.instrument(attempt_span.clone()).await {
                Err(e) => {
                    let error = transport_error(e, self.timeout, FailedWhile::Sending);
                    attempt_span.record("error.type", error.kind());
                    Failure::from(error)
                }
                Ok(response) => {
                    let status = response.status();
                    span.record("status", status);
                    attempt_span.record("http.response.status_code", status);
                    if (200..300).contains(&status) {
                        let cap = match (call.priority, call.endpoint) {
                            (CallPriority::Assessment, _) => MAX_ASSESSMENT_BODY,
                            (_, "collect") => MAX_COLLECT_BODY,
                            _ => MAX_BODY,
                        };
                        match response.read(cap).instrument(attempt_span.clone()).await {
                            Ok(body) => return Ok(body),
                            Err(e) => {
                                let error = e.into_error(self.timeout);
                                attempt_span.record("error.type", error.kind());
                                Failure::from(error)
                            }
                        }
                    } else {
                        attempt_span.record("error.type", status);
                        let retry_after = retry_after(response.headers());
                        // An error body is only quoted: a small cap.
                        let body = response
                            .read(ERROR_BODY)
                            .instrument(attempt_span.clone())
                            .await
                            .unwrap_or_default();
                        if status == 401 && !refreshed_token {
                            // Drop the token the server refused, fetch a new one, resend once.
                            refreshed_token = true;
                            self.invalidate_token(&call.token, &token);
                            tracing::debug!(
                                attempt,
                                "401 from risk endpoint: refreshing the access token"
                            );
                            continue;
                        }
                        Failure {
                            error: status_error(
                                status,
                                risk_error_message(status, &body),
                                retry_after,
                            ),
                            retry_after,
                        }
                    }
                }
            };
            if let Error::RateLimited { retry_after, .. } = &failure.error {
                // The tenant's quota is spent: hold every call of this client for a while.
                if let Some(budget) = &self.budget {
                    budget
                        .pause(
                            retry_after
                                .unwrap_or(DEFAULT_QUOTA_PAUSE)
                                .min(MAX_QUOTA_PAUSE),
                        )
                        .await;
                }
            }
            let retryable = match &failure.error {
                // An assessment does not wait for the quota: its route's quota behaviour
                // applies at once. Background calls try again once the budget allows.
                Error::RateLimited { .. } => call.priority == CallPriority::Background,
                Error::Server { .. } => call.replay == Replay::Always,
                Error::Transport { maybe_sent, .. } => {
                    call.replay == Replay::Always || !*maybe_sent
                }
                _ => false,
            };
            let max_attempts = self
                .retry
                .max_attempts
                .saturating_add(u32::from(refreshed_token));
            if !retryable || attempt >= max_attempts {
                return Err(failure.error);
            }
            let retry = attempt - u32::from(refreshed_token);
            let wait = retry_wait(&self.retry, retry, &failure, deadline)?;
            tracing::debug!(
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = failure.error.kind(),
                "retrying risk call"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

impl Inner {
    /// Takes one call from the budget. An assessment fails at once when there is none; a
    /// background call waits for it within the deadline.
    async fn take_budget(&self, priority: CallPriority, deadline: Instant) -> Result<(), Error> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        loop {
            // `**budget`: the `dyn Budget` itself, not the `Arc` impl (one boxed future, not two).
            let wait = match (**budget).try_acquire(priority).await {
                Ok(()) => return Ok(()),
                Err(wait) => wait,
            };
            let in_time = Instant::now()
                .checked_add(wait)
                .is_some_and(|ready| ready < deadline);
            if priority == CallPriority::Assessment || !in_time {
                return Err(Error::QuotaExhausted { retry_after: wait });
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// The URL's path with its identifiers replaced (`/risk/v1/rules/{rule_id}`): a span field of
/// bounded values that never carries an id.
fn path_template(url: &Url) -> String {
    let mut out = String::new();
    let mut previous = "";
    for segment in url.path().split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(if previous == "rules" {
            "{rule_id}"
        } else {
            segment
        });
        previous = segment;
    }
    out
}

/// `start + after`, without overflowing: a duration too large for the clock is capped at
/// [`MAX_TIMEOUT`] (and, should even that overflow, at `start`).
pub(crate) fn deadline_after(start: Instant, after: Duration) -> Instant {
    start
        .checked_add(after)
        .or_else(|| start.checked_add(MAX_TIMEOUT))
        .unwrap_or(start)
}

/// How long to wait before retry number `retry`, or the error when waiting makes no sense
/// (the server asks for longer than the policy allows or than the deadline leaves).
pub(crate) fn retry_wait(
    policy: &RetryPolicy,
    retry: u32,
    failure: &Failure,
    deadline: Instant,
) -> Result<Duration, Error> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let wait = match failure.retry_after {
        Some(asked) if asked > policy.max_retry_after || asked >= remaining => {
            return Err(clone_error(&failure.error));
        }
        Some(asked) => asked,
        None => policy.delay(retry),
    };
    if wait >= remaining {
        return Err(clone_error(&failure.error));
    }
    Ok(wait)
}

/// Where in a call a transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailedWhile {
    /// Sending the request (or waiting for the answer's head): it may not have left.
    Sending,
    /// Reading the answer's body: the request was sent.
    ReadingBody,
}

/// Maps a transport failure. `after` is the deadline the request ran under.
pub(crate) fn transport_error(e: HttpError, after: Duration, failed: FailedWhile) -> Error {
    if e.timeout {
        return Error::Timeout { after };
    }
    Error::Transport {
        message: e.message,
        maybe_sent: failed == FailedWhile::ReadingBody || !e.unsent,
    }
}

/// Maps a non-2xx status of a risk endpoint.
pub(crate) fn status_error(status: u16, message: String, retry_after: Option<Duration>) -> Error {
    match status {
        400 => Error::BadRequest { message },
        401 => Error::Unauthorized { message },
        403 => Error::Forbidden { message },
        404 => Error::NotFound { message },
        409 => Error::Conflict { message },
        // What reaches the error (and from it the route's `Retry-After`) is cut to
        // MAX_RETRY_AFTER; the retry policy decides on the server's own value.
        429 => Error::RateLimited {
            retry_after: retry_after.map(|wait| wait.min(MAX_RETRY_AFTER)),
            message,
        },
        463 => Error::BlacklistedToken { message },
        500..=599 => Error::Server { status, message },
        _ => Error::UnexpectedStatus { status, message },
    }
}

/// The message of a risk endpoint's error body. Only a JSON body's parsed `message` and
/// `error_code` are used; any other body is described by its status and length, never
/// quoted (it may echo a token from the request).
pub(crate) fn risk_error_message(status: u16, body: &[u8]) -> String {
    let parsed = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(serde_json::Value::is_object)
        .and_then(|v| serde_json::from_value::<MessageResponse>(v).ok());
    let Some(parsed) = parsed else {
        return if body.is_empty() {
            format!("HTTP {status} with an empty body")
        } else {
            format!(
                "HTTP {status} with a {} byte non-JSON body (not quoted)",
                body.len()
            )
        };
    };
    let code = match parsed.error_code {
        Some(serde_json::Value::String(c)) if !c.is_empty() => Some(c),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match (parsed.message.is_empty(), code) {
        (false, Some(code)) => format!("{} (error_code {code})", parsed.message),
        (false, None) => parsed.message,
        (true, Some(code)) => format!("HTTP {status}, error_code {code}"),
        (true, None) => format!("HTTP {status} with a JSON body without a message"),
    }
}

/// The message of the token endpoint's error body: `{"message": ...}` or the OAuth
/// `error_description` / `error`, with `scrub` (the client secret) removed. The body is
/// never quoted raw.
pub(crate) fn error_message(body: &[u8], secret: &str) -> String {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        error_description: Option<String>,
    }
    let mut message = serde_json::from_slice::<MessageResponse>(body)
        .ok()
        .map(|m| m.message)
        .filter(|m| !m.is_empty())
        .or_else(|| {
            serde_json::from_slice::<OAuthError>(body)
                .ok()
                .and_then(|e| e.error_description.or(e.error))
        })
        .unwrap_or_default();
    if !secret.is_empty() {
        message = message.replace(secret, "[REDACTED]");
    }
    if message.is_empty() {
        message = "(no message)".to_owned();
    }
    message
}

/// Decodes a 2xx body. With `sensitive` (the body carries a token), neither the body nor
/// the decoder's message (which may quote a value) is put into the error.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        message: e.to_string(),
        excerpt: excerpt(body),
    })
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    match value.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => Some(
            httpdate::parse_http_date(value)
                .ok()?
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        ),
    }
}

/// A copy of an error (the type is not `Clone`; errors from the shared token fetch arrive
/// behind an `Arc`).
pub(crate) fn clone_error(e: &Error) -> Error {
    match e {
        Error::Config(c) => Error::Config(c.clone()),
        Error::TokenRejected { status, message } => Error::TokenRejected {
            status: *status,
            message: message.clone(),
        },
        Error::Unauthorized { message } => Error::Unauthorized {
            message: message.clone(),
        },
        Error::Forbidden { message } => Error::Forbidden {
            message: message.clone(),
        },
        Error::RateLimited {
            retry_after,
            message,
        } => Error::RateLimited {
            retry_after: *retry_after,
            message: message.clone(),
        },
        Error::BlacklistedToken { message } => Error::BlacklistedToken {
            message: message.clone(),
        },
        Error::QuotaExhausted { retry_after } => Error::QuotaExhausted {
            retry_after: *retry_after,
        },
        Error::BadRequest { message } => Error::BadRequest {
            message: message.clone(),
        },
        Error::NotFound { message } => Error::NotFound {
            message: message.clone(),
        },
        Error::Conflict { message } => Error::Conflict {
            message: message.clone(),
        },
        Error::Server { status, message } => Error::Server {
            status: *status,
            message: message.clone(),
        },
        Error::UnexpectedStatus { status, message } => Error::UnexpectedStatus {
            status: *status,
            message: message.clone(),
        },
        Error::Timeout { after } => Error::Timeout { after: *after },
        Error::Transport {
            message,
            maybe_sent,
        } => Error::Transport {
            message: message.clone(),
            maybe_sent: *maybe_sent,
        },
        Error::Decode { message, excerpt } => Error::Decode {
            message: message.clone(),
            excerpt: excerpt.clone(),
        },
        Error::MalformedAnswer { message, excerpt } => Error::MalformedAnswer {
            message: message.clone(),
            excerpt: excerpt.clone(),
        },
    }
}
