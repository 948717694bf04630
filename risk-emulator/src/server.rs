//! HTTP: routes, handlers, the gate middleware (statistics, faults, auth, rate limit) and
//! the accept loop that can drop a connection without answering.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use risk_core::{
    ActionResultReport, AssigneeRequest, ClearUserRequest, CreateLegacyRuleResponse,
    CreateRuleResponse, EvaluateRequest, EventType, LegacyRule, LegacyRuleEnvelope, LegacyRuleList,
    MessageResponse, Rule, RuleList, TriggerActionRequest,
};
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower_service::Service;

use crate::faults::FaultSpec;
use crate::rules::{from_legacy, to_legacy};
use crate::state::{ApiError, EmulatorState, TriggerAnswer, STAT_NAMES};

type S = State<Arc<EmulatorState>>;

/// The largest request body any endpoint reads (413 beyond): the API's bodies are small.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Lets a handler close its connection without answering.
#[derive(Clone)]
struct ConnControl(Arc<Notify>);

/// The peer address of the connection.
#[derive(Clone, Copy)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

/// The client id of the request's access token, set by the gate.
#[derive(Clone)]
struct ClientId(String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(MessageResponse::new(self.message))).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

pub(crate) fn message(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(MessageResponse::new(text))).into_response()
}

pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Endpoint name (statistics and faults), its index, and whether it needs a bearer token.
fn classify(path: &str) -> (&'static str, bool) {
    let name = if path == "/oidc/token" {
        "token"
    } else if path == "/risk/v1/action/trigger-action" {
        "trigger_action"
    } else if path == "/risk/v1/recommendation" {
        "recommendation"
    } else if path == "/risk/v1/action/result" {
        "result"
    } else if path == "/risk/v1/action/clear-user" {
        "clear_user"
    } else if path == "/risk/v1/evaluate" {
        "evaluate"
    } else if path == "/risk/v1/action/assignee" {
        "assignee"
    } else if path.starts_with("/risk/v1/recommendation/rules")
        || path.starts_with("/risk/v1/rules")
    {
        "rules"
    } else if path.starts_with("/activities/v1/") {
        "events"
    } else if path.starts_with("/emulator/v1/") || path.starts_with("/platform-websdk/") {
        "emulator"
    } else {
        "other"
    };
    let needs_auth = !matches!(name, "token" | "emulator" | "other");
    (name, needs_auth)
}

async fn gate(State(s): S, mut req: Request, next: Next) -> Response {
    let (name, needs_auth) = classify(req.uri().path());
    let idx = STAT_NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap_or(STAT_NAMES.len() - 1);
    s.count_request(idx);
    let faultable = !matches!(name, "emulator" | "other");
    if let Some(fault) = faultable.then(|| s.take_fault(name)).flatten() {
        s.count_fault(idx, fault.close_connection);
        if fault.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
        }
        if fault.close_connection {
            if let Some(ctl) = req.extensions().get::<ConnControl>() {
                ctl.0.notify_one();
                // The connection task drops this future together with the connection.
                std::future::pending::<()>().await;
            }
        }
        if let Some(status) = fault.status {
            let retry_after = fault
                .retry_after_secs
                .or(matches!(status, 429 | 503).then_some(1));
            s.count_response(idx, status);
            if let Some(body) = fault.body {
                let code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let mut resp =
                    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response();
                if let Some(secs) = retry_after {
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                return resp;
            }
            return ApiError {
                status,
                message: format!("injected fault: status {status}"),
                retry_after,
            }
            .into_response();
        }
    }
    if needs_auth {
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match s.authenticate(auth, name != "events") {
            Ok(client) => {
                req.extensions_mut().insert(ClientId(client));
            }
            Err(e) => {
                s.count_response(idx, e.status);
                return e.into_response();
            }
        }
    }
    let resp = next.run(req).await;
    s.count_response(idx, resp.status().as_u16());
    resp
}

fn client_of(req_client: Option<axum::Extension<ClientId>>) -> String {
    req_client.map(|c| c.0 .0).unwrap_or_default()
}

type Client = Option<axum::Extension<ClientId>>;

// ---- auth ----

async fn token(State(s): S, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match s.issue_token(&form) {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

// ---- risk ----

async fn trigger(State(s): S, client: Client, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let query = parse_query(q.as_deref());
    let answer = if query
        .get("get_recommendation")
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    {
        TriggerAnswer::WithRecommendation
    } else {
        TriggerAnswer::TokenOnly
    };
    let result = parse_json::<TriggerActionRequest>(&body)
        .and_then(|req| s.trigger(req, body.len(), Some(&client_of(client)), answer));
    match result {
        Ok(r) => (StatusCode::CREATED, Json(r)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn recommendation(State(s): S, client: Client, RawQuery(q): RawQuery) -> Response {
    let query = parse_query(q.as_deref());
    let token = query.get("action_token").map(String::as_str).unwrap_or("");
    match s.recommendation(token, &client_of(client)) {
        Ok(r) => (StatusCode::OK, Json(r)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn result(State(s): S, client: Client, body: Bytes) -> Response {
    match parse_json::<ActionResultReport>(&body).and_then(|r| s.report(r, &client_of(client))) {
        Ok(()) => message(StatusCode::CREATED, "action result reported"),
        Err(e) => e.into_response(),
    }
}

async fn assignee(State(s): S, body: Bytes) -> Response {
    match parse_json::<AssigneeRequest>(&body).and_then(|r| s.set_assignee(&r)) {
        Ok(n) => Json(json!({"message": format!("assignee set on {n} action(s)")})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn evaluate(State(s): S, body: Bytes) -> Response {
    match parse_json::<EvaluateRequest>(&body).and_then(|r| s.evaluate(&r)) {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn clear_user(State(s): S, body: Bytes) -> Response {
    match parse_json::<ClearUserRequest>(&body).and_then(|r| s.clear_user(&r)) {
        Ok(()) => (
            StatusCode::CREATED,
            Json(json!({"success": true, "message": "user cleared from the session"})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

// ---- rules, seed shape ----

async fn legacy_list(State(s): S) -> Response {
    let mut list = LegacyRuleList::default();
    list.data = s.list_rules().iter().map(to_legacy).collect();
    Json(list).into_response()
}

async fn legacy_create(State(s): S, body: Bytes) -> Response {
    let r = parse_json::<LegacyRule>(&body)
        .and_then(|l| from_legacy(l).map_err(ApiError::bad_request))
        .and_then(|rule| s.create_rule(rule));
    match r {
        Ok(stored) => (
            StatusCode::CREATED,
            Json(CreateLegacyRuleResponse::new("rule created", stored.id)),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn legacy_get(State(s): S, Path(id): Path<String>) -> Response {
    match s.get_rule(&id) {
        Ok(stored) => {
            let l = to_legacy(&stored);
            Json(LegacyRuleEnvelope::new(l.id, l.rule)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn legacy_update(State(s): S, Path(id): Path<String>, body: Bytes) -> Response {
    let r = parse_json::<LegacyRule>(&body)
        .and_then(|l| from_legacy(l).map_err(ApiError::bad_request))
        .and_then(|rule| s.update_rule(&id, rule));
    match r {
        Ok(_) => message(StatusCode::OK, "rule updated"),
        Err(e) => e.into_response(),
    }
}

async fn rule_delete(State(s): S, Path(id): Path<String>) -> Response {
    match s.delete_rule(&id) {
        Ok(()) => message(StatusCode::OK, "rule deleted"),
        Err(e) => e.into_response(),
    }
}

// ---- rules, current shape ----

async fn rule_list(State(s): S) -> Response {
    let mut list = RuleList::default();
    list.data = s.list_rules();
    Json(list).into_response()
}

async fn rule_create(State(s): S, body: Bytes) -> Response {
    match parse_json::<Rule>(&body).and_then(|r| s.create_rule(r)) {
        Ok(stored) => (
            StatusCode::CREATED,
            Json(CreateRuleResponse::new("Rule created", stored)),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn rule_get(State(s): S, Path(id): Path<String>) -> Response {
    match s.get_rule(&id) {
        Ok(stored) => Json(stored).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn rule_update(State(s): S, Path(id): Path<String>, body: Bytes) -> Response {
    match parse_json::<Rule>(&body).and_then(|r| s.update_rule(&id, r)) {
        Ok(stored) => Json(stored).into_response(),
        Err(e) => e.into_response(),
    }
}

// ---- event streaming ----

fn event_type(q: &HashMap<String, String>) -> Result<EventType, ApiError> {
    let t = q
        .get("type")
        .ok_or_else(|| ApiError::bad_request("query parameter `type` is required"))?;
    t.parse::<EventType>().map_err(ApiError::bad_request)
}

fn stream_id(q: &HashMap<String, String>) -> Result<String, ApiError> {
    let id = q.get("stream_id").map(String::as_str).unwrap_or("");
    if id.is_empty() || id.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request(
            "query parameter `stream_id` is required and must not contain spaces",
        ));
    }
    Ok(id.to_owned())
}

async fn start_collect(State(s): S, RawQuery(q): RawQuery) -> Response {
    let q = parse_query(q.as_deref());
    match event_type(&q).and_then(|t| Ok(s.with_events(|l| l.start(t))?)) {
        Ok(()) => message(StatusCode::OK, "collecting started"),
        Err(e) => e.into_response(),
    }
}

async fn stop_collect(State(s): S, RawQuery(q): RawQuery) -> Response {
    let q = parse_query(q.as_deref());
    match event_type(&q).and_then(|t| Ok(s.with_events(|l| l.stop(t))?)) {
        Ok(()) => message(StatusCode::OK, "collecting stopped"),
        Err(e) => e.into_response(),
    }
}

/// `enrichment` of `PUT stream`: `true` or `false` (any case, or `1`/`0`); absent is `false`.
fn enrichment(q: &HashMap<String, String>) -> Result<bool, ApiError> {
    match q.get("enrichment").map(|v| v.trim()) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!(
            "`enrichment` must be true or false, got `{v}`"
        ))),
    }
}

async fn create_stream(State(s): S, RawQuery(q): RawQuery) -> Response {
    let q = parse_query(q.as_deref());
    let r = event_type(&q).and_then(|t| {
        let id = stream_id(&q)?;
        let enrichment = enrichment(&q)?;
        s.with_events(|l| l.create_stream(t, &id, enrichment))?;
        Ok((t, id, enrichment))
    });
    match r {
        Ok((t, id, enrichment)) => Json(json!({
            "message": "stream created",
            "type": t,
            "stream_id": id,
            "enrichment": enrichment,
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn delete_stream(State(s): S, RawQuery(q): RawQuery) -> Response {
    let q = parse_query(q.as_deref());
    let r = event_type(&q).and_then(|t| {
        let id = stream_id(&q)?;
        Ok(s.with_events(|l| l.delete_stream(t, &id))?)
    });
    match r {
        Ok(()) => message(StatusCode::OK, "stream deleted"),
        Err(e) => e.into_response(),
    }
}

async fn collect(State(s): S, RawQuery(q): RawQuery) -> Response {
    let q = parse_query(q.as_deref());
    let r = event_type(&q).and_then(|t| {
        let id = stream_id(&q)?;
        let batch = match q.get("batch_size") {
            None => 100,
            Some(b) => b
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ApiError::bad_request("`batch_size` must be between 1 and 1000"))?,
        };
        Ok(s.with_events(|l| l.collect(t, &id, batch))?)
    });
    match r {
        Ok(events) => Json(events).into_response(),
        Err(e) => e.into_response(),
    }
}

// ---- emulator-only ----

/// Lets a caller use the admin endpoints (faults, statistics, reset): a caller on loopback,
/// or one presenting the configured `admin_token` as a bearer token.
struct Admin;

impl axum::extract::FromRequestParts<Arc<EmulatorState>> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &Arc<EmulatorState>,
    ) -> Result<Self, Response> {
        let loopback = parts
            .extensions
            .get::<PeerAddr>()
            .is_some_and(|p| p.0.ip().to_canonical().is_loopback());
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let token_ok = match (&s.config.admin_token, bearer) {
            (Some(expected), Some(given)) => {
                constant_time_eq(expected.as_bytes(), given.as_bytes())
            }
            _ => false,
        };
        if loopback || token_ok {
            Ok(Self)
        } else {
            Err(message(
                StatusCode::FORBIDDEN,
                "the emulator's admin endpoints answer loopback callers, or the configured admin_token",
            ))
        }
    }
}

/// Compares without stopping at the first difference (no timing hint about the token).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn set_fault(_: Admin, State(s): S, body: Bytes) -> Response {
    match parse_json::<FaultSpec>(&body).and_then(|f| s.set_fault(f)) {
        Ok(()) => message(StatusCode::OK, "fault set"),
        Err(e) => e.into_response(),
    }
}

async fn clear_faults(_: Admin, State(s): S) -> Response {
    s.clear_faults();
    message(StatusCode::OK, "faults cleared")
}

async fn stats(_: Admin, State(s): S) -> Response {
    Json(s.stats()).into_response()
}

async fn reset(_: Admin, State(s): S) -> Response {
    match s.reset() {
        Ok(()) => message(StatusCode::OK, "emulator reset"),
        Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "no such endpoint")
}

pub(crate) fn router(shared: Arc<EmulatorState>) -> Router {
    Router::new()
        .route("/oidc/token", post(token))
        .route("/risk/v1/action/trigger-action", post(trigger))
        .route("/risk/v1/recommendation", get(recommendation))
        .route("/risk/v1/action/result", post(result))
        .route("/risk/v1/action/clear-user", post(clear_user))
        .route("/risk/v1/evaluate", post(evaluate))
        .route("/risk/v1/action/assignee", put(assignee))
        .route(
            "/risk/v1/recommendation/rules",
            post(legacy_create).get(legacy_list),
        )
        .route(
            "/risk/v1/recommendation/rules/{id}",
            get(legacy_get).put(legacy_update).delete(rule_delete),
        )
        .route("/risk/v1/rules", post(rule_create).get(rule_list))
        .route(
            "/risk/v1/rules/{id}",
            get(rule_get).put(rule_update).delete(rule_delete),
        )
        .route(
            "/activities/v1/activities/start-collect",
            put(start_collect),
        )
        .route(
            "/activities/v1/activities/stop-collect",
            axum::routing::delete(stop_collect),
        )
        .route(
            "/activities/v1/activities/stream",
            put(create_stream).delete(delete_stream),
        )
        .route("/activities/v1/activities/collect", post(collect))
        .merge(crate::websdk::routes())
        .route("/emulator/v1/faults", put(set_fault).delete(clear_faults))
        .route("/emulator/v1/stats", get(stats))
        .route("/emulator/v1/reset", post(reset))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// Accepts connections until `shutdown` changes (or its sender is dropped), then shuts the
/// open connections down gracefully (in-flight requests finish; at most 5 s).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    shared: Arc<EmulatorState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    shared.connections.fetch_add(1, Ordering::Relaxed);
                    tasks.spawn(serve_connection(stream, peer, router.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = shutdown.changed() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 5 s; aborting them");
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    // Small request/response exchanges: do not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let abort = Arc::new(Notify::new());
    let ctl = ConnControl(abort.clone());
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ctl.clone());
        req.extensions_mut().insert(PeerAddr(peer));
        router.clone().call(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    let mut conn = std::pin::pin!(conn);
    let mut shutting_down = *shutdown.borrow();
    if shutting_down {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            () = abort.notified() => {
                tracing::debug!(%peer, "closing connection without answering (fault)");
                break;
            }
            _ = shutdown.changed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly")]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use tower_service::Service;

    use super::{router, PeerAddr};
    use crate::clock::SystemClock;
    use crate::config::EmulatorConfig;
    use crate::state::EmulatorState;

    async fn stats_status(config: EmulatorConfig, peer: &str, bearer: Option<&str>) -> StatusCode {
        let state = EmulatorState::new(config, Arc::new(SystemClock)).unwrap();
        let mut app = router(Arc::new(state));
        let mut req = Request::get("/emulator/v1/stats");
        if let Some(token) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let mut req = req.body(Body::empty()).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(PeerAddr(peer));
        app.call(req).await.unwrap().status()
    }

    #[tokio::test]
    async fn admin_endpoints_answer_loopback_or_the_admin_token() {
        let open = EmulatorConfig::default();
        assert_eq!(
            stats_status(open.clone(), "127.0.0.1:9", None).await,
            StatusCode::OK
        );
        assert_eq!(
            stats_status(open.clone(), "[::1]:9", None).await,
            StatusCode::OK
        );
        assert_eq!(
            stats_status(open.clone(), "203.0.113.5:9", None).await,
            StatusCode::FORBIDDEN
        );
        // No token configured: no token opens them.
        assert_eq!(
            stats_status(open, "203.0.113.5:9", Some("")).await,
            StatusCode::FORBIDDEN
        );
        let with_token = EmulatorConfig {
            admin_token: Some("s3cret-admin-token".to_owned()),
            ..EmulatorConfig::default()
        };
        assert_eq!(
            stats_status(
                with_token.clone(),
                "203.0.113.5:9",
                Some("s3cret-admin-token")
            )
            .await,
            StatusCode::OK
        );
        assert_eq!(
            stats_status(with_token, "203.0.113.5:9", Some("wrong")).await,
            StatusCode::FORBIDDEN
        );
    }
}
