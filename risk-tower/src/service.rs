//! The [`RiskService`].

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, Request, Response};
use risk_core::{ActionDetails, Decision, Guard, HeaderLookup, PendingReport, ResponseSpec};
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::layer::RiskLayer;

/// The boxed check a [`ResponseFuture`] waits on first. It owns the request, the shape of
/// tower-http's `async_require_authorization`: the request to pass on (the assessment in its
/// extensions) with its pending report, or the response to answer with.
pub(crate) type CheckFuture<ReqBody> =
    Pin<Box<dyn Future<Output = Result<Checked<ReqBody>, ResponseSpec>> + Send + 'static>>;

/// A request the guard let through, and the report its response completes.
pub(crate) struct Checked<ReqBody> {
    pub(crate) request: Request<ReqBody>,
    pub(crate) report: PendingReport,
}

/// Middleware that asks the risk API before calling the inner service. Built by
/// [`RiskLayer`].
///
/// For each request it reads the request facts (token headers, `x-request-id`, user agent,
/// client IP from the socket peer and trusted forwarding headers), runs
/// [`Guard::check`], and then:
/// - **proceed**: inserts the [`Arc<Assessment>`](risk_core::Assessment) into the request
///   extensions (read it with [`RiskAssessment`](crate::RiskAssessment)) and calls the inner
///   service; when its response is ready, the response status and the
///   [`Outcome`](risk_core::Outcome) the handler put in the *response* extensions, if any,
///   complete the result report (queued, never awaited). A gRPC answer
///   (`content-type: application/grpc`) is reported from its `grpc-status` instead, read from
///   the headers or, when the call succeeded, from the trailers at the end of the body;
/// - **challenge / deny**: answers with the guard's [`ResponseSpec`](risk_core::ResponseSpec),
///   converted 1:1; the inner service is not called.
///
/// The socket peer is taken from axum's `ConnectInfo<SocketAddr>` (feature `axum`), tonic's
/// `TcpConnectInfo` (feature `tonic`) or a plain [`SocketAddr`] in the request extensions; without either, the client IP comes from
/// forwarding headers only if the guard trusts them without a peer.
///
/// `poll_ready` only forwards to the inner service; the response future owns the instance
/// that was driven to readiness (the inner service is cloned the tower-safe way).
#[derive(Clone, Debug)]
pub struct RiskService<S> {
    inner: S,
    guard: Guard,
}

impl<S> RiskService<S> {
    /// Wraps `inner`, checking every request with `guard`.
    pub fn new(inner: S, guard: Guard) -> Self {
        Self { inner, guard }
    }

    /// A [`RiskLayer`] with `guard` (same as [`RiskLayer::new`]).
    pub fn layer(guard: Guard) -> RiskLayer {
        RiskLayer::new(guard)
    }

    /// The guard.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the middleware, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RiskService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Send + 'static,
{
    type Response = Response<crate::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // Details a middleware in front of this one learned from the body (claimed user,
        // transaction data...) come in the request extensions.
        let facts = self.guard.facts(
            &HttpHeaders(req.headers()),
            peer_ip(req.extensions()),
            req.extensions().get::<ActionDetails>(),
        );
        // `check` owns what it needs (no borrow of the guard); the request goes with it.
        let check = self.guard.check(facts);
        let check: CheckFuture<ReqBody> = Box::pin(async move {
            match check.await {
                Decision::Proceed { assessment, report } => {
                    let mut request = req;
                    request.extensions_mut().insert(assessment);
                    Ok(Checked { request, report })
                }
                Decision::Respond { response, .. } => Err(response),
            }
        });
        // The instance driven to readiness goes with the request; a fresh clone stays
        // (https://docs.rs/tower/latest/tower/trait.Service.html#be-careful-when-cloning-inner-services).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::new(check, inner)
    }
}

/// The request's header map seen by risk-core.
pub(crate) struct HttpHeaders<'a>(pub(crate) &'a HeaderMap);

impl HeaderLookup for HttpHeaders<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        risk_core::header_texts(self.0.get_all(name).iter().map(|v| v.as_bytes()))
    }

    fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// The socket peer: axum's `ConnectInfo<SocketAddr>`, tonic's `TcpConnectInfo` (feature
/// `tonic`), else a bare `SocketAddr`. (IPv4-mapped
/// IPv6 addresses of dual-stack listeners are made IPv4 by the core's facts.)
fn peer_ip(extensions: &http::Extensions) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(info.0.ip());
    }
    #[cfg(feature = "tonic")]
    if let Some(addr) = extensions
        .get::<tonic::transport::server::TcpConnectInfo>()
        .and_then(tonic::transport::server::TcpConnectInfo::remote_addr)
    {
        return Some(addr.ip());
    }
    extensions.get::<SocketAddr>().map(SocketAddr::ip)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive_and_keeps_every_value() {
        let mut map = HeaderMap::new();
        map.append("x-forwarded-for", "1.1.1.1".parse().unwrap());
        map.append("x-forwarded-for", "2.2.2.2".parse().unwrap());
        let h = HttpHeaders(&map);
        assert_eq!(h.get("X-Forwarded-For"), Some("1.1.1.1"));
        assert_eq!(h.get_all("x-forwarded-for"), vec!["1.1.1.1", "2.2.2.2"]);
        assert_eq!(h.get("user-agent"), None);
    }

    #[test]
    fn peer_ip_prefers_connect_info_and_the_facts_canonicalise_it() {
        let mut ext = http::Extensions::new();
        assert_eq!(peer_ip(&ext), None);
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:80".parse().unwrap();
        ext.insert(mapped);
        assert_eq!(peer_ip(&ext), Some(mapped.ip()));
        // A dual-stack listener's IPv4-mapped peer is the IPv4 client for the guard.
        let guard = risk_core::Guard::builder(
            risk_core::ActionType::Login,
            risk_core::testing::StaticRecommender::of_type(
                risk_core::RecommendationType::Allow,
                1.0,
            ),
        )
        .build()
        .unwrap();
        let facts = guard.facts(&[("x-risk-session-token", "st-1")][..], peer_ip(&ext), None);
        assert_eq!(facts.client_ip, Some(IpAddr::from([10, 0, 0, 1])));
        #[cfg(feature = "axum")]
        {
            let real: SocketAddr = "192.0.2.7:443".parse().unwrap();
            ext.insert(axum::extract::ConnectInfo(real));
            assert_eq!(peer_ip(&ext), Some(IpAddr::from([192, 0, 2, 7])));
        }
    }
}
