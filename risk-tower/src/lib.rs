//! Tower middleware and axum extractors that protect sensitive routes (login, sign-up,
//! payment...) with real-time risk recommendations from the Mosaic Fraud Prevention
//! (Detection and Response) API.
//!
//! The decision flow (request facts, policy, error behaviour, circuit breaker, default
//! responses, result reporting) lives in [`risk_core`]; this crate is only the tower glue:
//! [`RiskLayer`] → [`RiskService`] → [`ResponseFuture`], and the [`RiskAssessment`] extractor.
//!
//! # One line
//!
//! One [`Risk`](risk_core::Risk) handle (client, reporter, breaker) from the environment,
//! then one layer per route ([`RiskLayerExt`]):
//!
//! ```no_run
//! use axum::{routing::post, Router};
//! use risk_core::{ActionType, Risk};
//! use risk_tower::RiskLayerExt as _;
//!
//! # async fn login() {}
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let risk = Risk::from_env()?;
//! let app: Router = Router::new().route("/login", post(login).route_layer(risk.layer(ActionType::Login)));
//! // ... serve; then deliver the queued results:
//! risk.shutdown(std::time::Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
//!
//! # The longer form (full control)
//!
//! Each protected route gets its own layer (action type, policy, error behaviour); they share
//! one client (token cache, connection pool), one circuit breaker and one reporter:
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use axum::{routing::post, Router};
//! use risk_core::{
//!     ActionType, BreakerConfig, CircuitBreaker, ErrorBehavior, Guard, Outcome, Reporter,
//!     RiskClient,
//! };
//! use risk_tower::{RiskAssessment, RiskLayer};
//!
//! # #[cfg(feature = "axum")]
//! async fn login(risk: RiskAssessment) -> impl axum::response::IntoResponse {
//!     // The request got here: the policy said proceed. The assessment is there to read.
//!     tracing::info!(recommendation = ?risk.recommendation_type(), "login");
//!     // Say who logged in: the result report carries the user id.
//!     let mut response = axum::response::Response::new(axum::body::Body::from("welcome"));
//!     response.extensions_mut().insert(Outcome::success().with_user_id("user-7"));
//!     response
//! }
//!
//! async fn pay() -> &'static str { "paid" }
//!
//! # #[cfg(feature = "axum")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = RiskClient::from_env()?; // TS_CLIENT_ID, TS_CLIENT_SECRET, TS_REGION
//! let reporter = Reporter::builder(client.clone()).build();
//! let breaker = CircuitBreaker::new(BreakerConfig::default());
//!
//! let login_guard = Guard::builder(ActionType::Login, client.clone())
//!     .reporter(reporter.clone())
//!     .circuit_breaker(breaker.clone())
//!     .build()?;
//! let payment_guard = Guard::builder(ActionType::Transaction, client)
//!     .on_error(ErrorBehavior::FailClosed)
//!     .reporter(reporter.clone())
//!     .circuit_breaker(breaker)
//!     .build()?;
//!
//! let app = Router::new()
//!     .route("/login", post(login).route_layer(RiskLayer::new(login_guard)))
//!     .route("/pay", post(pay).route_layer(RiskLayer::new(payment_guard)));
//!
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
//! // `ConnectInfo` gives the layer the socket peer (the client IP, or the proxy's).
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! reporter.shutdown(std::time::Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
//!
//! The same layer works in any tower stack (hyper, tonic's HTTP routes...):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use risk_core::{testing::StaticRecommender, ActionType, Guard, RecommendationType};
//! use risk_tower::{RiskAssessment, RiskLayer};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! let guard = Guard::builder(ActionType::Login, StaticRecommender::of_type(RecommendationType::Allow, 12.0))
//!     .build()
//!     .unwrap();
//! let service = ServiceBuilder::new()
//!     .layer(RiskLayer::new(guard))
//!     .service_fn(|req: http::Request<String>| async move {
//!         let risk = RiskAssessment::from_extensions(req.extensions()).unwrap();
//!         Ok::<_, std::convert::Infallible>(http::Response::new(format!("{:?}", risk.verdict().kind())))
//!     });
//!
//! let request = http::Request::builder()
//!     .header("x-risk-session-token", "session-token-from-the-sdk")
//!     .body(String::new())
//!     .unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # }
//! ```
//!
//! # What happens per request
//!
//! 1. The facts are read from the headers (`x-risk-action-token` wins over
//!    `x-risk-session-token`; `x-request-id` becomes the correlation id) and the socket peer
//!    (axum's `ConnectInfo<SocketAddr>` or a bare [`SocketAddr`](std::net::SocketAddr) in
//!    the request extensions; forwarding headers only from trusted proxies).
//! 2. [`Guard::check`](risk_core::Guard::check) asks the API within its deadline. A missing
//!    or malformed token is answered at once (401/400), without any upstream call.
//! 3. **Proceed**: the `Arc<Assessment>` goes into the request extensions and the inner
//!    service runs. **Challenge / deny**: the guard's response (see
//!    [`DefaultResponder`](risk_core::DefaultResponder) for the bodies, which never carry the
//!    score or the reasons; customise it with
//!    [`GuardBuilder::responder`](risk_core::GuardBuilder::responder)) is sent instead.
//! 4. When the inner response is ready, its status and the [`Outcome`](risk_core::Outcome)
//!    the handler put in the **response** extensions complete the result report. Reporting
//!    only queues (the reporter sends in the background): the response is never delayed. A
//!    response future dropped before that (client gone) reports `incomplete`.
//!
//! # gRPC
//!
//! tonic's server is a tower stack: `Server::builder().layer(RiskLayer::new(guard))` guards
//! every service of that server with the guard's action type (serve health and reflection
//! from another one). The token comes from the call's metadata (they are HTTP/2 headers). Build the guard with
//! [`GrpcResponder`](risk_core::GrpcResponder) so that a denial is `PERMISSION_DENIED` and a
//! challenge `UNAUTHENTICATED` with the action token in the `x-risk-action-token` metadata.
//! A gRPC answer (`content-type: application/grpc`) is reported from its `grpc-status`: from the
//! headers of a trailers-only answer (an error), or from the trailers after the reply (the
//! report then completes when the body yields them). Feature `tonic` reads the client's address
//! from tonic's `TcpConnectInfo`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use risk_core::{testing::StaticRecommender, ActionType, Guard, GrpcResponder, RecommendationType};
//! use risk_tower::RiskLayer;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! let guard = Guard::builder(ActionType::Transaction, StaticRecommender::of_type(RecommendationType::Deny, 95.0))
//!     .responder(GrpcResponder)
//!     .build()
//!     .unwrap();
//! let service = ServiceBuilder::new()
//!     .layer(RiskLayer::new(guard))
//!     .service_fn(|_: http::Request<String>| async move {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//!     });
//! let call = http::Request::builder()
//!     .header("content-type", "application/grpc")
//!     .header("x-risk-session-token", "session-token-from-the-sdk")
//!     .body(String::new())
//!     .unwrap();
//! let response = service.oneshot(call).await.unwrap();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers()["grpc-status"], "7"); // PERMISSION_DENIED
//! # }
//! ```
//!
//! # Layer ordering
//!
//! - Use **`route_layer`**, not `layer`, and preferably on the **method router**:
//!   `post(login).route_layer(RiskLayer::new(guard))`. It runs only when the path *and* the
//!   method matched, so a 404 stays a 404 and a 405 stays a 405, without any upstream call.
//!   `Router::route_layer` also keeps 404s, but axum applies it to each path's whole method
//!   router, its method-not-allowed fallback included: a request with the wrong method is then
//!   checked (and answered 401/403 instead of 405). `Router::layer` would even wrap the
//!   fallback, asking the risk API about requests to unknown paths.
//! - Put it on the **protected routes only**: one layer per action type. Several routes may
//!   share a layer when they share the action type and the policy.
//! - Layers added **after** it (outer) see the challenge and denial responses: tracing,
//!   CORS, compression, request-id generation... belong outside, so that denials get CORS
//!   headers and the `x-request-id` a `SetRequestId` layer generates reaches the guard as the
//!   correlation id.
//! - Layers **inside** it (added before it with `ServiceBuilder`, or on the handler) run only
//!   for requests that proceed. Put authentication of the *password* (the handler's job)
//!   inside; put cheap rejections that should not cost an upstream call (rate limits, body
//!   size limits, CSRF) outside.
//! - Behind a load balancer, give the guard its addresses
//!   ([`GuardBuilder::trusted_proxies`](risk_core::GuardBuilder::trusted_proxies)) and serve
//!   with `into_make_service_with_connect_info::<SocketAddr>()`, so the client IP is right.
//!
//! # Response type
//!
//! `RiskService<S>` answers `http::Response<`[`ResponseBody<B>`](ResponseBody)`>` for an
//! inner service answering `http::Response<B>` (`B: http_body::Body<Data = Bytes>`): the
//! inner body, or the JSON body of a challenge or denial. It keeps `B`'s error type, and
//! implements axum's `IntoResponse` like any body.
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `axum` | yes | [`RiskAssessment`] as an axum extractor (`FromRequestParts`, `Option<RiskAssessment>` through `OptionalFromRequestParts`), and the socket peer read from axum's `ConnectInfo<SocketAddr>` |
//! | `tonic` | no | the socket peer of a gRPC call read from tonic's `TcpConnectInfo` |
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod clear_user;
mod extract;
mod future;
mod grpc;
mod layer;
mod service;

pub use body::ResponseBody;
pub use clear_user::{ClearUserLayer, ClearUserService};
pub use extract::{MissingRiskAssessment, RiskAssessment};
pub use future::ResponseFuture;
pub use layer::{RiskLayer, RiskLayerExt};
pub use service::RiskService;
