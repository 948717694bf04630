//! actix-web middleware and extractor for real-time risk recommendations (Mosaic Fraud
//! Prevention).
//!
//! One `.wrap(...)` protects a route: the middleware reads the risk token from the request,
//! asks the [`Guard`] (from [`risk_core`]) for a decision, answers challenges and denials
//! itself, and lets approved requests through with the [`Assessment`] in the request
//! extensions. After the handler, the response status (and any [`Outcome`] the handler
//! attached) is reported in the background.
//!
//! Everything that decides, maps or builds a body lives in `risk_core`; this crate only
//! converts between actix-web types and the core's framework-free ones.
//!
//! In one line, from a [`Risk`](risk_core::Risk) handle (client, reporter, breaker; see
//! [`RiskMiddlewareExt`]): `.wrap(risk.middleware(ActionType::Login))`. The longer form, one
//! guard built by hand:
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use risk_actix::{RiskAssessment, RiskMiddleware};
//! use risk_core::{ActionType, Guard};
//! # use risk_core::{testing::StaticRecommender, RecommendationType};
//! # let recommender = StaticRecommender::of_type(RecommendationType::Allow, 10.0);
//!
//! // `recommender` is usually a `risk_core::RiskClient`.
//! let login_guard = Guard::builder(ActionType::Login, recommender).build()?;
//!
//! async fn login(risk: RiskAssessment) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("risk score: {:?}", risk.risk_score()))
//! }
//!
//! let app = App::new().service(
//!     web::resource("/login")
//!         .wrap(RiskMiddleware::new(login_guard))
//!         .route(web::post().to(login)),
//! );
//! # drop(app);
//! # Ok::<(), risk_core::ConfigError>(())
//! ```
//!
//! # Where to wrap
//! [`RiskMiddleware`] works on `App`, `Scope`, `Resource` and `Route`. Give each protected
//! action its own guard (action type, policy, error behaviour), all built on one shared
//! client (`RiskClient` is cheap to clone):
//! `web::resource("/login").wrap(RiskMiddleware::new(login_guard))`,
//! `web::scope("/pay").wrap(RiskMiddleware::new(payment_guard))`, or
//! `web::post().to(handler).wrap(RiskMiddleware::new(guard))`.
//!
//! # What the middleware does per request
//! 1. Builds the [`RequestFacts`](risk_core::RequestFacts) from the headers, the socket peer
//!    (`ServiceRequest::peer_addr`) and the [`ActionDetails`] a middleware in front put into
//!    the request extensions, if any. The client IP follows the guard's trusted-proxy
//!    rules; actix's `realip_remote_addr` is not used because it trusts forwarding headers
//!    from anyone.
//! 2. `Guard::check`. A challenge or denial is answered with the guard's
//!    [`ResponseSpec`] (by default the JSON bodies of
//!    [`DefaultResponder`](risk_core::DefaultResponder); customise with
//!    `GuardBuilder::responder`) and the handler does not run.
//! 3. Otherwise the `Arc<Assessment>` goes into the request extensions (read it with the
//!    [`RiskAssessment`] extractor or [`RiskExt::risk_assessment`]) and the handler runs.
//! 4. When the handler's response is ready, its result is queued for reporting
//!    (see [Reporting](#reporting)); the response is never delayed.
//!
//! # Reporting
//! The result reported for an approved request comes from, in order:
//! - the [`Outcome`] the handler attached to its response
//!   ([`RiskResponseExt::with_risk_outcome`]): its result wins, and it adds the user id and
//!   the challenge type;
//! - otherwise the guard's `ResultMapping` applied to the status. When the handler returned
//!   an error (`Err(e)`, visible as `response().error()`), the status is the error's own
//!   `status_code()`: with the default mapping a 4xx error (e.g. `ErrorUnauthorized`) is a
//!   `failure` and a 5xx error is `incomplete` (the server failed, not the user);
//! - a response future dropped before the handler answered (client went away) reports
//!   `incomplete`.
//!
//! The report is sent when the response head is ready, not after its body was streamed.
//! Build the `Reporter` inside a tokio runtime (e.g. in `#[actix_web::main]`) or anywhere
//! else: it then runs on its own thread. Submitting from actix worker threads is fine.

#![warn(missing_docs)]

mod ext;

pub use ext::RiskMiddlewareExt;

use std::fmt;
use std::future::{ready, Ready};
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use risk_core::{
    ActionDetails, Assessment, ClearUser, Decision, Guard, HeaderLookup, Outcome, ResponseSpec,
};

/// The actix-web middleware protecting the routes it wraps with a risk [`Guard`].
///
/// See the [crate docs](crate) for the flow and an example.
#[derive(Clone)]
#[must_use]
pub struct RiskMiddleware {
    guard: Guard,
}

impl fmt::Debug for RiskMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RiskMiddleware")
            .field("action_type", self.guard.action_type())
            .finish()
    }
}

impl RiskMiddleware {
    /// A middleware asking `guard` about every request it wraps.
    pub fn new(guard: Guard) -> Self {
        Self { guard }
    }

    /// The guard this middleware asks.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }
}

impl<S, B> Transform<S, ServiceRequest> for RiskMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = RiskMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RiskMiddlewareService {
            service: Rc::new(service),
            guard: self.guard.clone(),
        }))
    }
}

/// The service [`RiskMiddleware`] wraps around a route (built by actix-web).
#[doc(hidden)]
pub struct RiskMiddlewareService<S> {
    service: Rc<S>,
    guard: Guard,
}

impl<S> fmt::Debug for RiskMiddlewareService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RiskMiddlewareService")
            .field("action_type", self.guard.action_type())
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for RiskMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Details a middleware in front of this one learned from the body (claimed user,
        // transaction data...) come in the request extensions.
        let facts = self.guard.facts(
            &Headers(req.headers()),
            req.peer_addr().map(|addr| addr.ip()),
            req.extensions().get::<ActionDetails>(),
        );
        let service = Rc::clone(&self.service);
        // The check's future owns what it needs (no borrow of the guard, no clone of it).
        let check = self.guard.check(facts);

        Box::pin(async move {
            let (assessment, report) = match check.await {
                Decision::Proceed { assessment, report } => (assessment, report),
                Decision::Respond { response, .. } => {
                    let response = to_http_response(response);
                    return Ok(req.into_response(response).map_into_right_body());
                }
            };
            // No `extensions_mut()` borrow survives this statement (the inner service
            // borrows the extensions too).
            req.extensions_mut().insert(assessment);
            match service.call(req).await {
                Ok(res) => {
                    let response = res.response();
                    // A handler error decides the status (the error's, even if a later
                    // middleware rewrote the response).
                    let status = response
                        .error()
                        .map_or_else(|| res.status(), |e| e.as_response_error().status_code());
                    report.complete(status.as_u16(), response.extensions().get::<Outcome>());
                    Ok(res.map_into_left_body())
                }
                Err(err) => {
                    // The inner service failed: a server error, not the user's (as in
                    // risk-tower, whose inner errors carry no status).
                    report.complete(500, None);
                    Err(err)
                }
            }
        })
    }
}

/// Wraps a logout route: once it answered 2xx, the user set on the request's browser session
/// is cleared at the risk API, in the background (see [`ClearUser`]).
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use risk_actix::ClearUserMiddleware;
/// # fn app(client: risk_core::RiskClient) {
/// App::new().service(
///     web::resource("/logout")
///         .route(web::post().to(HttpResponse::Ok))
///         .wrap(ClearUserMiddleware::new(client)),
/// );
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ClearUserMiddleware {
    clear: ClearUser,
}

impl ClearUserMiddleware {
    /// Clears users through `client`.
    pub fn new(client: risk_core::RiskClient) -> Self {
        Self {
            clear: ClearUser::new(client),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for ClearUserMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = ClearUserMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ClearUserMiddlewareService {
            service: Rc::new(service),
            clear: self.clear.clone(),
        }))
    }
}

/// The service [`ClearUserMiddleware`] wraps around a route (built by actix-web).
#[doc(hidden)]
pub struct ClearUserMiddlewareService<S> {
    service: Rc<S>,
    clear: ClearUser,
}

impl<S> fmt::Debug for ClearUserMiddlewareService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClearUserMiddlewareService")
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for ClearUserMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let pending = self.clear.request_of(&Headers(req.headers()));
        let clear = self.clear.clone();
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let res = service.call(req).await?;
            if let Some(request) = pending {
                clear.after_response(request, res.status().as_u16());
            }
            Ok(res)
        })
    }
}

/// Converts the core's framework-free response 1:1.
fn to_http_response(spec: ResponseSpec) -> HttpResponse {
    let ResponseSpec {
        status,
        headers,
        body,
        ..
    } = spec;
    // A responder giving an invalid status or header is a programming error: logged and
    // answered 500 (or skipped), never panicked on; the same as risk-tower.
    let status = StatusCode::from_u16(status).unwrap_or_else(|_| {
        tracing::error!(
            status,
            "risk responder returned an invalid HTTP status; answering 500"
        );
        StatusCode::INTERNAL_SERVER_ERROR
    });
    let mut builder = HttpResponse::build(status);
    for (name, value) in headers {
        // Both checked here: actix's builder would turn an invalid name into an error
        // response for the whole answer.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            (Ok(name), Ok(value)) => {
                builder.append_header((name, value));
            }
            _ => tracing::error!(
                header = name,
                "risk responder returned an invalid header; skipped"
            ),
        }
    }
    builder.body(body)
}

/// The request headers, as the core reads them.
struct Headers<'a>(&'a HeaderMap);

impl HeaderLookup for Headers<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(utf8)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        risk_core::header_texts(self.0.get_all(name).map(|v| v.as_bytes()))
    }

    fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Any UTF-8 value (not only the visible ASCII `HeaderValue::to_str` accepts), so that the
/// core sees a token with non-ASCII characters and refuses it as malformed (400) rather
/// than as missing.
fn utf8(value: &HeaderValue) -> Option<&str> {
    std::str::from_utf8(value.as_bytes()).ok()
}

/// The risk assessment of the current request, as a handler argument.
///
/// Present when [`RiskMiddleware`] let the request through. Without the middleware,
/// extraction fails with [`MissingRiskAssessment`] (HTTP 500); take
/// `Option<RiskAssessment>` on routes where the middleware is optional.
///
/// ```
/// use actix_web::HttpResponse;
/// use risk_actix::RiskAssessment;
///
/// async fn login(risk: RiskAssessment) -> HttpResponse {
///     match risk.recommendation_type() {
///         Some(t) => HttpResponse::Ok().body(format!("recommendation: {t:?}")),
///         None => HttpResponse::Ok().finish(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RiskAssessment(pub Arc<Assessment>);

impl RiskAssessment {
    /// The shared assessment.
    pub fn into_inner(self) -> Arc<Assessment> {
        self.0
    }
}

impl Deref for RiskAssessment {
    type Target = Assessment;

    fn deref(&self) -> &Assessment {
        &self.0
    }
}

impl FromRequest for RiskAssessment {
    type Error = MissingRiskAssessment;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req.risk_assessment().map(RiskAssessment);
        if found.is_none() {
            tracing::error!(path = req.path(), "{MissingRiskAssessment}");
        }
        ready(found.ok_or(MissingRiskAssessment))
    }
}

/// The [`RiskAssessment`] extractor found no assessment: the route is not wrapped by
/// [`RiskMiddleware`]. Answers HTTP 500 (a server configuration error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("risk assessment missing: is `RiskMiddleware` wrapping this route?")]
pub struct MissingRiskAssessment;

impl ResponseError for MissingRiskAssessment {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// Access to the risk assessment from a request.
pub trait RiskExt {
    /// The assessment [`RiskMiddleware`] attached, if the request went through it.
    fn risk_assessment(&self) -> Option<Arc<Assessment>>;
}

impl RiskExt for HttpRequest {
    fn risk_assessment(&self) -> Option<Arc<Assessment>> {
        self.extensions().get::<Arc<Assessment>>().cloned()
    }
}

impl RiskExt for ServiceRequest {
    fn risk_assessment(&self) -> Option<Arc<Assessment>> {
        self.extensions().get::<Arc<Assessment>>().cloned()
    }
}

/// Tells [`RiskMiddleware`] how the protected action ended, from the handler's response.
///
/// ```
/// use actix_web::HttpResponse;
/// use risk_actix::RiskResponseExt;
/// use risk_core::Outcome;
///
/// async fn login() -> HttpResponse {
///     // credentials checked: user-7 is in
///     HttpResponse::Ok()
///         .finish()
///         .with_risk_outcome(Outcome::success().with_user_id("user-7"))
/// }
/// ```
pub trait RiskResponseExt {
    /// Attaches `outcome` (overrides the result mapped from the status).
    #[must_use]
    fn with_risk_outcome(self, outcome: Outcome) -> Self;

    /// Attaches `outcome` in place.
    fn set_risk_outcome(&mut self, outcome: Outcome);
}

impl<B> RiskResponseExt for HttpResponse<B> {
    fn with_risk_outcome(mut self, outcome: Outcome) -> Self {
        self.set_risk_outcome(outcome);
        self
    }

    fn set_risk_outcome(&mut self, outcome: Outcome) {
        self.extensions_mut().insert(outcome);
    }
}
