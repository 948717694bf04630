//! The axum example server: `POST /login` and `POST /transfer` protected by `RiskLayer`, the
//! step-up route of a challenged login, and `GET /health`. Handlers are glue around
//! [`crate::app`].

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use risk_core::Outcome;
use risk_tower::{RiskAssessment, RiskLayer};

use crate::app::{self, Failure, LoginBody, StepUpBody, TransferBody, MAX_BODY};
use crate::backend::Backend;
use crate::demo;

/// The router of the axum example server.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that the risk layer
/// sees the socket peer.
pub fn router(backend: Backend) -> Router {
    let page = axum::response::Html(crate::page::html(&backend));
    Router::new()
        .route("/", get(move || async move { page }))
        .route(
            "/login",
            // Layers added later run first: the body's details, then the risk check.
            post(login)
                .route_layer(RiskLayer::new(backend.login_guard.clone()))
                .route_layer(middleware::from_fn(action_details)),
        )
        .route(
            "/login/step-up",
            // Action-token mode, StepUp policy: only a challenged action gets through.
            post(step_up).route_layer(RiskLayer::new(backend.step_up_guard.clone())),
        )
        .route(
            "/transfer",
            post(transfer)
                .route_layer(RiskLayer::new(backend.transfer_guard.clone()))
                .route_layer(middleware::from_fn(action_details)),
        )
        .route("/health", get(health))
        .route("/metrics", get(|| async { app::metrics() }))
        // Runs first: every body read whole, within the time and size limits.
        .layer(middleware::from_fn_with_state(backend.clone(), read_body))
        .with_state(backend)
}

/// Reads the request body whole before anything else runs: 413 beyond [`MAX_BODY`], 408
/// when it does not arrive within the body read timeout (a client sending one byte a
/// second holds a connection for that long, not for ever).
async fn read_body(State(backend): State<Backend>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(backend.limits.body_read_timeout, to_bytes(body, MAX_BODY));
    let bytes = match read.await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            let too_large =
                std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            return failure(if too_large {
                app::BODY_TOO_LARGE
            } else {
                app::BODY_UNREADABLE
            });
        }
        Err(_) => return failure(app::BODY_TIMEOUT),
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Reads the claimed user and transaction data from the JSON body for the risk layer behind
/// it (see [`demo::action_details_from_json`]), then hands the body on unchanged.
pub async fn action_details(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    // Already read whole by `read_body`: this takes the buffer.
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return failure(app::BODY_TOO_LARGE);
    };
    let mut request = Request::from_parts(parts, Body::from(bytes.clone()));
    if let Some(details) = demo::action_details_from_json(&bytes) {
        request.extensions_mut().insert(details);
    }
    next.run(request).await
}

async fn login(risk: RiskAssessment, Json(body): Json<LoginBody>) -> Response {
    match app::login(&body, &risk) {
        Ok((json, user_id)) => with_outcome(
            Json(json).into_response(),
            Outcome::success().with_user_id(user_id),
        ),
        Err(f) => with_outcome(failure(f), Outcome::failure()),
    }
}

async fn step_up(
    State(backend): State<Backend>,
    risk: RiskAssessment,
    Json(body): Json<StepUpBody>,
) -> Response {
    match app::step_up(&backend, &risk, &body) {
        Ok(json) => Json(json).into_response(),
        Err(f) => failure(f),
    }
}

async fn transfer(risk: RiskAssessment, Json(body): Json<TransferBody>) -> Response {
    match app::transfer(&body, &risk) {
        Ok(json) => Json(json).into_response(),
        Err(f) => failure(f),
    }
}

async fn health(State(backend): State<Backend>) -> Response {
    Json(app::health(&backend)).into_response()
}

fn with_outcome(mut response: Response, outcome: Outcome) -> Response {
    response.extensions_mut().insert(outcome);
    response
}

fn failure(f: Failure) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(f.body())).into_response()
}
