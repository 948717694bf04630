//! The framework-free part of the example servers' handlers: both apps ([`crate::axum_app`],
//! [`crate::actix_app`]) are thin glue around these functions, so they behave identically.

use risk_core::{ActionResult, ActionResultReport, Assessment, ChallengeType};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::backend::{Attempt, Backend};
use crate::demo;

/// Largest JSON body the demo routes accept.
pub const MAX_BODY: usize = 16 * 1024;

/// The answer to a body over [`MAX_BODY`].
pub const BODY_TOO_LARGE: Failure = Failure {
    status: 413,
    code: "body_too_large",
    message: "body over 16 KiB",
};

/// The answer to a body that could not be read (malformed chunked encoding, a connection
/// error...).
pub const BODY_UNREADABLE: Failure = Failure {
    status: 400,
    code: "body_unreadable",
    message: "the request body could not be read",
};

/// The answer to a body that did not arrive within the body read timeout.
pub const BODY_TIMEOUT: Failure = Failure {
    status: 408,
    code: "body_timeout",
    message: "the request body did not arrive in time",
};

/// The header carrying the challenge's action token to the step-up route.
pub const ACTION_TOKEN_HEADER: &str = "x-risk-action-token";

/// An error answer: status, machine-readable code, message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status.
    pub status: u16,
    /// `error` field of the body.
    pub code: &'static str,
    /// `message` field of the body.
    pub message: &'static str,
}

impl Failure {
    const fn new(status: u16, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({ "error": self.code, "message": self.message })
    }
}

/// Body of `POST /login`.
#[derive(Debug, Deserialize)]
pub struct LoginBody {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Body of `POST /login/step-up`.
#[derive(Debug, Deserialize)]
pub struct StepUpBody {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// The one-time code.
    pub code: String,
}

/// Body of `POST /transfer`.
#[derive(Debug, Deserialize)]
pub struct TransferBody {
    /// Amount.
    pub amount: f64,
    /// ISO 4217 currency code.
    pub currency: String,
}

/// A login: the 200 body and the opaque user id, or the failure (wrong credentials).
pub fn login(body: &LoginBody, risk: &Assessment) -> Result<(Value, &'static str), Failure> {
    let user_id = demo::authenticate(&body.username, &body.password).ok_or(Failure::new(
        401,
        "invalid_credentials",
        "wrong username or password",
    ))?;
    Ok((
        json!({ "status": "logged_in", "user_id": user_id, "risk": risk_summary(risk) }),
        user_id,
    ))
}

/// A transfer: the 200 body, or the failure (invalid amount or currency).
pub fn transfer(body: &TransferBody, risk: &Assessment) -> Result<Value, Failure> {
    if !(body.amount.is_finite() && body.amount > 0.0) || body.currency.len() != 3 {
        return Err(Failure::new(
            422,
            "invalid_transfer",
            "amount must be positive, currency a 3-letter code",
        ));
    }
    Ok(json!({
        "status": "accepted",
        "amount": body.amount,
        "currency": body.currency,
        "risk": risk_summary(risk),
    }))
}

/// Attempts a user has at a step-up before it is reported as failed.
pub const STEP_UP_ATTEMPTS: u8 = 3;

/// Completes a challenged login: the action token of the challenge (from the challenge
/// response, sent back in `x-risk-action-token`), the credentials and the one-time code.
///
/// The route's guard (action-token mode, [`risk_core::StepUp`] policy, with its breaker,
/// deadline, client limit and the client's budget) lets a request through only when the API
/// vouched that this action was challenged; no handler calls the risk API itself. The server
/// remembers the challenge and its attempts; the result is reported once, in the
/// background: `success` with the challenge type, or `failure` when the attempts run out.
pub fn step_up(backend: &Backend, risk: &Assessment, body: &StepUpBody) -> Result<Value, Failure> {
    let Some(token) = risk.action_token().cloned() else {
        return Err(NO_CHALLENGE);
    };
    let claimed = demo::claimed_user_id(&body.username);
    let mut attempt = backend.step_ups.attempt(&token);
    if attempt == Attempt::Unknown {
        let user = risk
            .recommendation()
            .and_then(|r| r.context.claimed_user_id.clone())
            .unwrap_or_else(|| claimed.clone());
        attempt = backend.step_ups.remember(&token, &user, STEP_UP_ATTEMPTS);
    }
    let Attempt::Check { user, last } = attempt else {
        return Err(NO_CHALLENGE);
    };
    let user_id = demo::authenticate(&body.username, &body.password)
        .filter(|_| user == claimed && demo::verify_one_time_code(&body.code));
    match user_id {
        // Only the request that finishes the step-up logs in and reports.
        Some(user_id) if backend.step_ups.finish(&token) => {
            submit(
                backend,
                ActionResultReport::new(token, ActionResult::Success)
                    .with_user_id(user_id)
                    .with_challenge_type(ChallengeType::SmsOtp),
            );
            Ok(json!({ "status": "logged_in", "user_id": user_id, "step_up": "passed" }))
        }
        Some(_) => Err(NO_CHALLENGE),
        None if last => {
            if backend.step_ups.finish(&token) {
                submit(
                    backend,
                    ActionResultReport::new(token, ActionResult::Failure)
                        .with_challenge_type(ChallengeType::SmsOtp),
                );
            }
            Err(Failure::new(
                401,
                "step_up_failed",
                "wrong credentials or one-time code; no attempts left",
            ))
        }
        None => Err(Failure::new(
            401,
            "step_up_failed",
            "wrong credentials or one-time code; try again",
        )),
    }
}

const NO_CHALLENGE: Failure = Failure::new(
    409,
    "no_challenge_pending",
    "this action was not challenged",
);

/// `GET /health`: the risk API in use, the circuit breaker, and the reporter's counters.
pub fn health(backend: &Backend) -> Value {
    let stats = backend.risk.reporter().stats();
    let redis = backend.redis_delivery.as_ref().map(|d| {
        let d = d.stats();
        json!({ "delivered": d.sent, "failed": d.failed, "claimed": d.claimed })
    });
    json!({
        "status": "ok",
        "risk_api": backend.base_url(),
        "circuit_breaker": backend.risk.circuit_breaker().state().as_str(),
        "reports": {
            "queued": stats.queued,
            "sent": stats.sent,
            "retried": stats.retried,
            "failed": stats.failed,
            "dropped": stats.dropped,
        },
        "redis_delivery": redis,
    })
}

/// What the demo tells the caller about the assessment of an action that proceeded (the
/// recommendation type only: never the score or reasons).
pub fn risk_summary(risk: &Assessment) -> Value {
    match risk.recommendation_type() {
        Some(kind) => json!({ "recommendation": kind.as_str() }),
        None => match risk.degraded() {
            Some(degraded) => json!({
                "recommendation": null,
                "unavailable": true,
                "degraded": degraded.as_str(),
            }),
            None => json!({ "recommendation": null }),
        },
    }
}

fn submit(backend: &Backend, report: ActionResultReport) {
    // A full queue is counted and logged by the reporter; the response never waits for it.
    let _ = backend.risk.reporter().submit(report);
}

/// `GET /metrics`: the process's metrics in the Prometheus text format (risk-core records them
/// through the `metrics` facade; this installs the Prometheus recorder once per process).
pub fn metrics() -> String {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .map_err(
                    |e| tracing::warn!(error = %e, "no Prometheus recorder: /metrics is empty"),
                )
                .ok()
        })
        .as_ref()
        .map(metrics_exporter_prometheus::PrometheusHandle::render)
        .unwrap_or_default()
}
