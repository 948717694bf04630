//! The response body of [`RiskService`](crate::RiskService).

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

use crate::grpc::GrpcReport;

pin_project! {
    /// The body of a [`RiskService`](crate::RiskService) response: the inner service's body,
    /// or the JSON body of a challenge or denial.
    ///
    /// Keeps the inner body's error type. axum converts it like any body (the service's
    /// responses implement `IntoResponse`).
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B, trailers: Option<GrpcReport> },
        Full { #[pin] body: Full<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    /// The inner service's body.
    pub fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner {
                body,
                trailers: None,
            },
        }
    }

    /// The inner service's body of a gRPC call whose status comes in the trailers: the
    /// report completes when they arrive (dropped before them, it reports the action as
    /// the mapping's dropped result).
    pub(crate) fn inner_grpc(body: B, report: GrpcReport) -> Self {
        Self {
            kind: Kind::Inner {
                body,
                trailers: Some(report),
            },
        }
    }

    /// A complete body of `content` (a challenge or denial).
    pub fn full(content: impl Into<Bytes>) -> Self {
        Self {
            kind: Kind::Full {
                body: Full::new(content.into()),
            },
        }
    }

    /// Whether this is the inner service's body.
    pub fn is_inner(&self) -> bool {
        matches!(self.kind, Kind::Inner { .. })
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.is_inner() { "inner" } else { "risk" };
        f.debug_struct("ResponseBody").field("kind", &kind).finish()
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { mut body, trailers } => {
                let frame = ready!(body.as_mut().poll_frame(cx));
                if let Some(report) = trailers.take() {
                    match &frame {
                        Some(Ok(frame)) => match frame.trailers_ref() {
                            Some(map) => report.complete(map),
                            // The body says it ended after this frame: no trailers will come
                            // (a server stops polling such a body).
                            None if body.is_end_stream() => report.complete_without_status(),
                            None => *trailers = Some(report),
                        },
                        // Ended without trailers, or failed: no gRPC status, a server error.
                        None | Some(Err(_)) => report.complete_without_status(),
                    }
                }
                Poll::Ready(frame)
            }
            KindProj::Full { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(|never| match never {}))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            // A report waiting for the trailers: not ended until they were polled.
            Kind::Inner { body, trailers } => trailers.is_none() && body.is_end_stream(),
            Kind::Full { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body, .. } => body.size_hint(),
            Kind::Full { body } => body.size_hint(),
        }
    }
}
