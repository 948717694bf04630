//! The actix-web example server: the same routes and behaviour as the axum one
//! ([`crate::axum_app`]), with `RiskMiddleware` on `POST /login` and `POST /transfer`.
//! Handlers are glue around [`crate::app`].

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpMessage, HttpResponse};
use risk_actix::{RiskAssessment, RiskMiddleware, RiskResponseExt};
use risk_core::Outcome;

use crate::app::{self, Failure, LoginBody, StepUpBody, TransferBody, MAX_BODY};
use crate::backend::Backend;
use crate::demo;

/// Registers the example server's routes on an actix-web `App` (or scope):
/// `App::new().configure(|cfg| actix_app::configure(cfg, backend.clone()))`.
pub fn configure(cfg: &mut web::ServiceConfig, backend: Backend) {
    let page = crate::page::html(&backend);
    cfg.app_data(web::Data::new(backend.clone()))
        .app_data(web::JsonConfig::default().limit(MAX_BODY))
        .app_data(web::PayloadConfig::new(MAX_BODY))
        .service(
            web::resource("/login")
                .route(web::post().to(login))
                // The last `wrap` runs first: the body read whole, its details, then the
                // risk check.
                .wrap(RiskMiddleware::new(backend.login_guard.clone()))
                .wrap(from_fn(action_details))
                .wrap(from_fn(read_body)),
        )
        .service(
            web::resource("/login/step-up")
                .route(web::post().to(step_up))
                // Action-token mode, StepUp policy: only a challenged action gets through.
                .wrap(RiskMiddleware::new(backend.step_up_guard.clone()))
                .wrap(from_fn(read_body)),
        )
        .service(
            web::resource("/transfer")
                .route(web::post().to(transfer))
                .wrap(RiskMiddleware::new(backend.transfer_guard.clone()))
                .wrap(from_fn(action_details))
                .wrap(from_fn(read_body)),
        )
        .service(web::resource("/").route(web::get().to(move || {
            let page = page.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(page)
            }
        })))
        .service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/metrics").route(web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/plain; version=0.0.4")
                .body(app::metrics())
        })));
}

/// Reads the request body whole before anything else runs: 413 beyond [`MAX_BODY`], 408
/// when it does not arrive within the body read timeout (actix-web bounds the head with
/// `client_request_timeout`, not the body).
async fn read_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let timeout = req.app_data::<web::Data<Backend>>().map_or_else(
        || crate::serving::ServerLimits::default().body_read_timeout,
        |b| b.limits.body_read_timeout,
    );
    let failed = match tokio::time::timeout(timeout, req.extract::<web::Bytes>()).await {
        Ok(Ok(bytes)) => {
            req.set_payload(Payload::from(bytes));
            return Ok(next.call(req).await?.map_into_left_body());
        }
        Ok(Err(e)) if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
            app::BODY_TOO_LARGE
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => app::BODY_TIMEOUT,
    };
    Ok(req.into_response(failure(failed)).map_into_right_body())
}

/// Reads the claimed user and transaction data from the JSON body for the risk middleware
/// behind it (see [`demo::action_details_from_json`]), then hands the body on unchanged.
pub async fn action_details(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let bytes = req.extract::<web::Bytes>().await?;
    if let Some(details) = demo::action_details_from_json(&bytes) {
        req.extensions_mut().insert(details);
    }
    req.set_payload(Payload::from(bytes));
    next.call(req).await
}

async fn login(risk: RiskAssessment, body: web::Json<LoginBody>) -> HttpResponse {
    match app::login(&body, &risk) {
        Ok((json, user_id)) => HttpResponse::Ok()
            .json(json)
            .with_risk_outcome(Outcome::success().with_user_id(user_id)),
        Err(f) => failure(f).with_risk_outcome(Outcome::failure()),
    }
}

async fn step_up(
    backend: web::Data<Backend>,
    risk: RiskAssessment,
    body: web::Json<StepUpBody>,
) -> HttpResponse {
    match app::step_up(&backend, &risk, &body) {
        Ok(json) => HttpResponse::Ok().json(json),
        Err(f) => failure(f),
    }
}

async fn transfer(risk: RiskAssessment, body: web::Json<TransferBody>) -> HttpResponse {
    match app::transfer(&body, &risk) {
        Ok(json) => HttpResponse::Ok().json(json),
        Err(f) => failure(f),
    }
}

async fn health(backend: web::Data<Backend>) -> HttpResponse {
    HttpResponse::Ok().json(app::health(&backend))
}

fn failure(f: Failure) -> HttpResponse {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(f.body())
}
