//! The browser half of the API: a stand-in for Mosaic's Platform web SDK
//! (`/platform-websdk/1.x/ts-platform-websdk.js`) and the session endpoints it talks to.
//!
//! The vendor's SDK streams telemetry over its own channel; the stand-in sends what the page
//! really did (user agent, timezone, languages, `navigator.webdriver`, typed or pasted input,
//! pointer movement) to the endpoints below, so the engine scores the browser's behaviour.
//! They answer any origin (CORS): the page is served by the application, not the emulator.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::cors::{Any, CorsLayer};

use crate::server::{parse_json, PeerAddr};
use crate::state::{secured_session_token, ApiError, Behavior, EmulatorState};
use crate::telemetry::{SdkTriggerAction, Telemetry};

type S = State<Arc<EmulatorState>>;

/// Where the web SDK stand-in is served (the vendor's path, under the emulator's base URL).
pub const WEB_SDK_PATH: &str = "/platform-websdk/1.x/ts-platform-websdk.js";

/// The web SDK stand-in.
const SDK_JS: &str = include_str!("websdk/ts-platform-websdk.js");

/// The SDK script and the session endpoints, open to any origin.
pub(crate) fn routes() -> Router<Arc<EmulatorState>> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600));
    Router::new()
        .route(WEB_SDK_PATH, get(sdk_script))
        .route("/emulator/v1/sessions", post(create_session))
        .route(
            "/emulator/v1/sessions/{session_token}",
            axum::routing::patch(update_session),
        )
        .route(
            "/emulator/v1/sessions/{session_token}/secure",
            post(secure_session_token),
        )
        .route(
            "/emulator/v1/sessions/{session_token}/user",
            put(set_user).delete(clear_user),
        )
        .route("/emulator/v1/sdk/trigger-action", post(sdk_trigger))
        .layer(cors)
}

async fn sdk_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SDK_JS,
    )
        .into_response()
}

/// `POST /emulator/v1/sessions`: a session from telemetry. Beside the [`Telemetry`] fields,
/// the body may hold `client_id` (the SDK's `initialize({clientId})`: 400 unless it is a
/// configured client) and `action_type` (the answer then also has a secured session token
/// bound to it). Telemetry without `x_forwarded_for` takes the request's `X-Forwarded-For`
/// header (a proxy in front of the emulator), if any.
async fn create_session(
    State(s): S,
    peer: Option<axum::Extension<PeerAddr>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let peer_ip: Option<IpAddr> = peer.map(|p| p.0 .0.ip());
    let created = parse_body(&body).and_then(|value| {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        if let Some(client_id) = text("client_id") {
            if !s.knows_client(&client_id) {
                return Err(ApiError::bad_request(format!(
                    "`client_id`: `{client_id}` is not a client of this tenant"
                )));
            }
        }
        let action_type = text("action_type");
        let mut telemetry = serde_json::from_value::<Telemetry>(value)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
        if telemetry.x_forwarded_for.is_empty() {
            telemetry.x_forwarded_for = forwarded_for(&headers);
        }
        let (token, device_id) = s.create_session(telemetry, peer_ip)?;
        let mut body = json!({ "session_token": token, "device_id": device_id });
        if let Some(action_type) = action_type {
            body["secured_session_token"] = json!(secured_session_token(&token, &action_type));
        }
        Ok(body)
    });
    match created {
        Ok(body) => (StatusCode::CREATED, Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The addresses of every `X-Forwarded-For` header of a request, in order.
fn forwarded_for(headers: &axum::http::HeaderMap) -> Vec<String> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An empty body is an empty object.
fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value = parse_json::<Value>(body)?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::bad_request("the body must be a JSON object"))
    }
}

/// `PATCH /emulator/v1/sessions/{session_token}`: the page's interaction so far.
async fn update_session(State(s): S, Path(token): Path<String>, body: Bytes) -> Response {
    match parse_json::<Behavior>(&body).and_then(|b| s.update_behavior(&token, b)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct SecureBody {
    action_type: String,
}

/// `POST /emulator/v1/sessions/{session_token}/secure` (`getSecureSessionToken(actionType)`).
async fn secure_session_token(State(s): S, Path(token): Path<String>, body: Bytes) -> Response {
    let secured = parse_json::<SecureBody>(&body).and_then(|b| {
        if b.action_type.trim().is_empty() {
            return Err(ApiError::bad_request("action_type must not be empty"));
        }
        s.check_session(&token)?;
        Ok(secured_session_token(&token, &b.action_type))
    });
    match secured {
        Ok(t) => Json(json!({ "secured_session_token": t })).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct UserBody {
    user_id: String,
}

/// `PUT /emulator/v1/sessions/{session_token}/user` (`setAuthenticatedUser(userId)`).
async fn set_user(State(s): S, Path(token): Path<String>, body: Bytes) -> Response {
    match parse_json::<UserBody>(&body).and_then(|b| s.sdk_set_user(&token, Some(b.user_id))) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /emulator/v1/sessions/{session_token}/user` (`clearUser()`).
async fn clear_user(State(s): S, Path(token): Path<String>) -> Response {
    match s.sdk_set_user(&token, None) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /emulator/v1/sdk/trigger-action` (`triggerActionEvent(actionType, options)`).
async fn sdk_trigger(State(s): S, body: Bytes) -> Response {
    match parse_json::<SdkTriggerAction>(&body).and_then(|b| s.sdk_trigger(b)) {
        Ok(token) => (StatusCode::CREATED, Json(json!({ "action_token": token }))).into_response(),
        Err(e) => e.into_response(),
    }
}
