//! The one error type of the risk API client.

use std::time::Duration;

/// What is wrong with a configuration. Says which setting and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No client id was given.
    #[error("missing client id: call `client_id(..)` or set TS_CLIENT_ID")]
    MissingClientId,
    /// No client secret was given.
    #[error("missing client secret: call `client_secret(..)` or set TS_CLIENT_SECRET")]
    MissingClientSecret,
    /// The region name is not one of the known regions.
    #[error("unknown region `{0}`: expected one of us, eu, ca, au, sandbox")]
    UnknownRegion(String),
    /// The base URL cannot be used.
    #[error("invalid base URL `{url}`: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting has a value outside its allowed range.
    #[error("invalid value for `{setting}`: {reason}")]
    InvalidValue {
        /// The setting.
        setting: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An environment variable could not be read.
    #[error("environment variable {var}: {reason}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend, ...).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

/// An error from the risk API or on the way to it.
///
/// Match on the variant to tell the cases apart; [`Error::status`], [`Error::retry_after`] and
/// [`Error::is_retryable`] answer the common questions. No variant ever contains the client
/// secret, an access token, or a whole session or action token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The token endpoint refused the client credentials (check the client id, secret and region).
    #[error("access token request rejected (HTTP {status}): {message}")]
    TokenRejected {
        /// HTTP status of the token endpoint.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// HTTP 401 from a risk endpoint, after one token refresh and retry.
    #[error("unauthorized (HTTP 401): {message}")]
    Unauthorized {
        /// The server's message.
        message: String,
    },
    /// HTTP 403: the token is valid but not for this resource or operation.
    #[error("forbidden (HTTP 403): {message}")]
    Forbidden {
        /// The server's message.
        message: String,
    },
    /// HTTP 429, after the retries this endpoint allows.
    #[error("rate limited (HTTP 429){}: {message}", retry_after.map(|d| format!(", retry after {d:?}")).unwrap_or_default())]
    RateLimited {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// The server's message.
        message: String,
    },
    /// The tenant's call budget ([`Budget`](crate::Budget)) has nothing left: the call was not
    /// sent (no 429 round trip). An assessment fails at once; background calls (result
    /// reports, admin calls) wait within their deadline first.
    #[error("the risk API call budget is exhausted; retry after {retry_after:?}")]
    QuotaExhausted {
        /// When the budget has room again.
        retry_after: Duration,
    },
    /// HTTP 463: the action token was reused, expired or blacklisted. Do not retry.
    #[error("blacklisted token (HTTP 463): {message}")]
    BlacklistedToken {
        /// The server's message.
        message: String,
    },
    /// HTTP 400: the request was invalid.
    #[error("bad request (HTTP 400): {message}")]
    BadRequest {
        /// The server's message.
        message: String,
    },
    /// HTTP 404.
    #[error("not found (HTTP 404): {message}")]
    NotFound {
        /// The server's message.
        message: String,
    },
    /// HTTP 409: a unique field (rule name or priority) or a state collision.
    #[error("conflict (HTTP 409): {message}")]
    Conflict {
        /// The server's message.
        message: String,
    },
    /// HTTP 5xx, after the retries this endpoint allows.
    #[error("server error (HTTP {status}): {message}")]
    Server {
        /// The status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// Another unexpected HTTP status.
    #[error("unexpected HTTP status {status}: {message}")]
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The call did not complete within its total deadline.
    #[error("timed out after {after:?} (total deadline of the call)")]
    Timeout {
        /// The deadline that passed.
        after: Duration,
    },
    /// The request could not be sent or the response not read (connection refused, reset, TLS...).
    #[error("transport error: {message}")]
    Transport {
        /// What went wrong.
        message: String,
        /// Whether the request may have reached the server (matters for non-repeatable calls).
        maybe_sent: bool,
    },
    /// A recommendation answer without a readable decision: not JSON, or no
    /// `recommendation.type` string. Its own kind (`malformed_answer`), apart from outages: the
    /// API answered, but with nothing to decide on. (Other fields that do not decode are set
    /// aside, see [`RecommendationResponse::undecoded`](crate::RecommendationResponse::undecoded).)
    #[error("malformed answer: {message} (body starts: {excerpt:?})")]
    MalformedAnswer {
        /// What is wrong with it.
        message: String,
        /// The first characters of the body.
        excerpt: String,
    },
    /// The response body did not decode.
    #[error("cannot decode the response: {message} (body starts: {excerpt:?})")]
    Decode {
        /// The decoder's message.
        message: String,
        /// The first bytes of the body (never contains a token: token responses are not excerpted).
        excerpt: String,
    },
}

impl Error {
    /// The HTTP status behind this error, if there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::TokenRejected { status, .. }
            | Self::Server { status, .. }
            | Self::UnexpectedStatus { status, .. } => Some(*status),
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::RateLimited { .. } => Some(429),
            Self::BlacklistedToken { .. } => Some(463),
            Self::BadRequest { .. } => Some(400),
            Self::NotFound { .. } => Some(404),
            Self::Conflict { .. } => Some(409),
            Self::Config(_)
            | Self::Timeout { .. }
            | Self::Transport { .. }
            | Self::Decode { .. }
            | Self::MalformedAnswer { .. }
            | Self::QuotaExhausted { .. } => None,
        }
    }

    /// Whether the vendor quota is the cause: HTTP 429, or the local budget is empty.
    pub fn is_quota(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::QuotaExhausted { .. })
    }

    /// The server's `Retry-After` for [`Error::RateLimited`], or when the budget has room
    /// again for [`Error::QuotaExhausted`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            Self::QuotaExhausted { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether the same request may succeed if sent again later (timeouts, transport errors,
    /// 429 and 5xx). Says nothing about whether it is *safe* to resend: see the client docs.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::QuotaExhausted { .. }
                | Self::Server { .. }
                | Self::Timeout { .. }
                | Self::Transport { .. }
        )
    }

    /// A short stable name of the variant, for metrics and tracing fields.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::TokenRejected { .. } => "token_rejected",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            Self::BlacklistedToken { .. } => "blacklisted_token",
            Self::BadRequest { .. } => "bad_request",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Server { .. } => "server_error",
            Self::UnexpectedStatus { .. } => "unexpected_status",
            Self::Timeout { .. } => "timeout",
            Self::Transport { .. } => "transport",
            Self::Decode { .. } => "decode",
            Self::MalformedAnswer { .. } => "malformed_answer",
            Self::QuotaExhausted { .. } => "quota_exhausted",
        }
    }
}

/// How many characters of a body an error may quote.
const EXCERPT_CHARS: usize = 200;

/// Decodes a body that carries a token: the error says where decoding failed, never what
/// the body holds.
pub(crate) fn decode_withholding_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        message: format!(
            "{:?} error at line {} column {} (details withheld: the body carries a token)",
            e.classify(),
            e.line(),
            e.column()
        ),
        excerpt: String::new(),
    })
}

/// The first characters of a body, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}
