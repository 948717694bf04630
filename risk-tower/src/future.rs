//! The [`ResponseFuture`] of [`RiskService`](crate::RiskService).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use risk_core::{Outcome, PendingReport, ResponseSpec};
use tower_service::Service;

use crate::body::ResponseBody;
use crate::grpc::{self, GrpcReport, GrpcStatus};
use crate::service::{CheckFuture, Checked};

pin_project! {
    /// The response future of [`RiskService`](crate::RiskService): first the risk check,
    /// then either the inner service's future or the challenge/denial response.
    ///
    /// Dropping it before the inner response is ready (the client went away) reports the
    /// action as `incomplete` (the [`PendingReport`] it holds does so on drop).
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S::Future, ReqBody>,
        // The instance driven to readiness by `poll_ready`; called once, after the check.
        service: S,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, ReqBody> {
        Checking {
            check: CheckFuture<ReqBody>,
        },
        Inner {
            #[pin]
            future: F,
            report: Option<PendingReport>,
        },
        Done,
    }
}

impl<S, ReqBody> ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn new(check: CheckFuture<ReqBody>, service: S) -> Self {
        Self {
            state: State::Checking { check },
            service,
        }
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Checking { check } => match ready!(check.as_mut().poll(cx)) {
                    Ok(Checked { request, report }) => {
                        let future = this.service.call(request);
                        this.state.set(State::Inner {
                            future,
                            report: Some(report),
                        });
                    }
                    Err(response) => {
                        this.state.set(State::Done);
                        return Poll::Ready(Ok(to_http(response)));
                    }
                },
                StateProj::Inner { future, report } => {
                    let result = ready!(future.poll(cx));
                    let report = report.take();
                    this.state.set(State::Done);
                    let Some(report) = report else {
                        return Poll::Ready(result.map(|r| r.map(ResponseBody::inner)));
                    };
                    let response = match result {
                        Ok(response) => response,
                        Err(e) => {
                            // The inner service failed: a server error, not the user's.
                            report.complete(500, None);
                            return Poll::Ready(Err(e));
                        }
                    };
                    let outcome = response.extensions().get::<Outcome>();
                    let status = match grpc::status_of(&response) {
                        GrpcStatus::NotGrpc => response.status().as_u16(),
                        GrpcStatus::Known(status) => status,
                        GrpcStatus::InTrailers => {
                            let pending = GrpcReport::new(report, outcome.cloned());
                            return Poll::Ready(Ok(
                                response.map(|body| ResponseBody::inner_grpc(body, pending))
                            ));
                        }
                    };
                    report.complete(status, outcome);
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProj::Done => {
                    panic!("`risk_tower::ResponseFuture` polled after completion")
                }
            }
        }
    }
}

/// Converts the guard's response 1:1. A status or header the `http` crate refuses (only
/// possible from a custom responder) is logged and replaced, never panicked on.
fn to_http<B>(spec: ResponseSpec) -> Response<ResponseBody<B>> {
    let status = StatusCode::from_u16(spec.status).unwrap_or_else(|_| {
        tracing::error!(
            status = spec.status,
            "risk responder returned an invalid HTTP status; answering 500"
        );
        StatusCode::INTERNAL_SERVER_ERROR
    });
    let mut response = Response::new(ResponseBody::full(spec.body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in spec.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => tracing::error!(
                header = name,
                "risk responder returned an invalid header; skipped"
            ),
        }
    }
    response
}
