//! [`ClearUserLayer`]: a logout route clears the browser session's user, in one line.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use risk_core::{ClearUser, RiskClient};
use tower_layer::Layer;
use tower_service::Service;

use crate::service::HttpHeaders;

/// Wraps a logout route: once it answered 2xx, the user set on the request's browser session
/// is cleared at the risk API, in the background (see [`ClearUser`]).
///
/// ```
/// use axum::{routing::post, Router};
/// use risk_tower::ClearUserLayer;
/// # fn app(client: risk_core::RiskClient) -> Router {
/// Router::new().route("/logout", post(|| async { "bye" }).layer(ClearUserLayer::new(client)))
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ClearUserLayer {
    clear: ClearUser,
}

impl ClearUserLayer {
    /// Clears users through `client`.
    pub fn new(client: RiskClient) -> Self {
        Self {
            clear: ClearUser::new(client),
        }
    }
}

impl<S> Layer<S> for ClearUserLayer {
    type Service = ClearUserService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClearUserService {
            inner,
            clear: self.clear.clone(),
        }
    }
}

/// The service of [`ClearUserLayer`].
#[derive(Clone, Debug)]
pub struct ClearUserService<S> {
    inner: S,
    clear: ClearUser,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ClearUserService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let pending = self.clear.request_of(&HttpHeaders(req.headers()));
        let clear = self.clear.clone();
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            if let Some(request) = pending {
                clear.after_response(request, response.status().as_u16());
            }
            Ok(response)
        })
    }
}
