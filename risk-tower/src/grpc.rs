//! gRPC calls through the layer: the result of an action comes from the call's gRPC status
//! (`grpc-status`), not from the HTTP status, which is 200 for every gRPC answer.
//!
//! A unary call that fails is usually answered "trailers-only" (`grpc-status` in the
//! headers): the result is known with the response. A call that succeeds has its status in
//! the trailers after the message: the report goes with the body and completes when they
//! arrive. The gRPC code is turned into the HTTP status it stands for
//! ([`risk_core::http_status_of_grpc`]) and mapped by the route's
//! [`ResultMapping`](risk_core::ResultMapping) like any status.

use http::{HeaderMap, Response};
use risk_core::{http_status_of_grpc, Outcome, PendingReport};

/// What the response says about the gRPC status.
pub(crate) enum GrpcStatus {
    /// Not a gRPC answer: the HTTP status decides.
    NotGrpc,
    /// A gRPC answer with its status in the headers (trailers-only), as an HTTP status.
    Known(u16),
    /// A gRPC answer whose status comes in the trailers.
    InTrailers,
}

/// Whether `response` is a gRPC answer, and where its status is.
pub(crate) fn status_of<B>(response: &Response<B>) -> GrpcStatus {
    let grpc = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| is_grpc(v.as_bytes()));
    if !grpc {
        return GrpcStatus::NotGrpc;
    }
    match code(response.headers()) {
        Some(status) => GrpcStatus::Known(status),
        None => GrpcStatus::InTrailers,
    }
}

/// `application/grpc`, `application/grpc+proto`, `application/grpc; charset=..`; not
/// `application/grpc-web*`, whose trailers travel inside the body.
fn is_grpc(content_type: &[u8]) -> bool {
    content_type
        .strip_prefix(b"application/grpc")
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'+' || rest[0] == b';')
}

/// The HTTP status the `grpc-status` of `headers` stands for; `None` without one. A value
/// that is not a number is an unknown status (500).
fn code(headers: &HeaderMap) -> Option<u16> {
    let value = headers.get("grpc-status")?;
    let code = std::str::from_utf8(value.as_bytes())
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    Some(http_status_of_grpc(code))
}

/// A report waiting for the trailers of a gRPC answer.
pub(crate) struct GrpcReport {
    report: PendingReport,
    outcome: Option<Outcome>,
}

impl GrpcReport {
    pub(crate) fn new(report: PendingReport, outcome: Option<Outcome>) -> Self {
        Self { report, outcome }
    }

    /// The trailers arrived: the result from their `grpc-status`.
    pub(crate) fn complete(self, trailers: &HeaderMap) {
        match code(trailers) {
            Some(status) => self.report.complete(status, self.outcome.as_ref()),
            None => self.complete_without_status(),
        }
    }

    /// The answer ended (or failed) without a gRPC status: a server error.
    pub(crate) fn complete_without_status(self) {
        self.report.complete(500, self.outcome.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::is_grpc;

    #[test]
    fn grpc_web_is_not_grpc() {
        assert!(is_grpc(b"application/grpc"));
        assert!(is_grpc(b"application/grpc+proto"));
        assert!(is_grpc(b"application/grpc;charset=utf-8"));
        assert!(!is_grpc(b"application/grpc-web"));
        assert!(!is_grpc(b"application/grpc-web-text+proto"));
        assert!(!is_grpc(b"application/json"));
    }
}
