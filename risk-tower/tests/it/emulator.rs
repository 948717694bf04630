//! End to end over real HTTP: an axum app protected by `RiskLayer` on 127.0.0.1:0, the real
//! `RiskClient` against the in-process emulator, driven with reqwest.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, ChallengeType, ClaimedUser,
    ErrorBehavior, Guard, Matcher, Outcome, Reporter, RetryPolicy, RiskClient, Rule, RuleMode,
    RuleRecommendation,
};
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, Telemetry, DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
};
use risk_tower::{RiskAssessment, RiskLayer};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

struct Fixture {
    emulator: EmulatorHandle,
    client: RiskClient,
    reporter: Reporter,
    app_url: String,
    http: reqwest::Client,
}

fn claimed_user(h: &dyn risk_core::HeaderLookup) -> Option<ClaimedUser> {
    h.get("x-claimed-user").map(ClaimedUser::new)
}

/// The login handler: the password check is elided; success, saying who logged in.
async fn login(risk: RiskAssessment, headers: HeaderMap) -> Response {
    let user = headers
        .get("x-claimed-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("anonymous")
        .to_owned();
    let body = Json(json!({
        "recommendation": risk.recommendation_type().map(|t| t.as_str()),
        "unavailable": risk.is_unavailable(),
    }));
    let mut response = body.into_response();
    response
        .extensions_mut()
        .insert(Outcome::success().with_user_id(user));
    response
}

async fn pay(risk: RiskAssessment) -> Json<Value> {
    Json(json!({ "recommendation": risk.recommendation_type().map(|t| t.as_str()) }))
}

/// The step-up route (not risk-checked itself): the one-time code was right, report the
/// challenged action as passed, with its challenge type.
async fn step_up(State(reporter): State<Reporter>, Json(body): Json<Value>) -> StatusCode {
    let token = body["action_token"].as_str().unwrap_or_default();
    let user = body["user"].as_str().unwrap_or_default();
    let mut report = ActionResultReport::new(ActionToken::new(token), ActionResult::Success);
    report.user_id = Some(user.to_owned());
    report.challenge_type = Some(ChallengeType::SmsOtp);
    match reporter.submit(report) {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn start() -> Fixture {
    let emulator = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let client = RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emulator.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let reporter = Reporter::builder(client.clone()).build();

    let login_guard = Guard::builder(ActionType::Login, client.clone())
        .claimed_user(claimed_user)
        .on_error(ErrorBehavior::FailOpen)
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let pay_guard = Guard::builder(ActionType::Transaction, client.clone())
        .claimed_user(claimed_user)
        .on_error(ErrorBehavior::FailClosed)
        .reporter(reporter.clone())
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/login",
            post(login).route_layer(RiskLayer::new(login_guard)),
        )
        .route("/pay", post(pay).route_layer(RiskLayer::new(pay_guard)))
        .route("/login/step-up", post(step_up))
        .with_state(reporter.clone());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Fixture {
        emulator,
        client,
        reporter,
        app_url,
        http: reqwest::Client::new(),
    }
}

impl Fixture {
    /// A browser session on device `device` (what the front-end SDK creates).
    fn session(&self, device: &str) -> String {
        self.emulator
            .create_session(&Telemetry::new().with_device_id(device))
            .unwrap()
    }

    async fn post(&self, path: &str, session: &str, user: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.app_url))
            .header("x-risk-session-token", session)
            .header("x-claimed-user", user)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        (status, response.json().await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_then_challenge_passed_then_trust() {
    let f = start().await;

    // Alice's first login, from her laptop: a new device, low risk.
    let laptop = f.session("alice-laptop");
    let (status, body) = f.post("/login", &laptop, "alice").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recommendation"], "ALLOW");
    // The success (with her user id) links the laptop to alice.
    f.reporter.flush(WAIT).await.unwrap();

    // A phone alice never used: challenge, with what the front end needs.
    let phone = f.session("alice-phone");
    let (status, body) = f.post("/login", &phone, "alice").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "challenge_required");
    assert!(body.get("risk_score").is_none() && body.get("reasons").is_none());
    let action_token = body["action_token"].as_str().unwrap().to_owned();

    // She passes the SMS code; the step-up route reports it with its challenge type.
    let response = f
        .http
        .post(format!("{}/login/step-up", f.app_url))
        .json(&json!({ "action_token": action_token, "user": "alice" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    f.reporter.flush(WAIT).await.unwrap();
    assert_eq!(f.reporter.stats().failed, 0);

    // The phone is now trusted for alice.
    let phone_again = f.session("alice-phone");
    let (status, body) = f.post("/login", &phone_again, "alice").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recommendation"], "TRUST");

    f.reporter.flush(WAIT).await.unwrap();
    let stats = f.reporter.stats();
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.dropped, 0);
    f.emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_rule_denies() {
    let f = start().await;
    let rule = Rule::new("block stolen device", 5, RuleRecommendation::Deny)
        .with_matcher(Matcher::DeviceIds(vec!["stolen-device".into()]))
        .with_mode(RuleMode::Production)
        .enabled(true);
    f.client.create_rule(&rule).await.unwrap();

    let session = f.session("stolen-device");
    let (status, body) = f.post("/login", &session, "bob").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "access_denied");
    assert!(body.get("action_token").is_none());

    // Another device is not affected.
    let session = f.session("bobs-laptop");
    let (status, _) = f.post("/login", &session, "bob").await;
    assert_eq!(status, StatusCode::OK);

    // The denial was reported as a failure by the guard.
    f.reporter.flush(WAIT).await.unwrap();
    assert_eq!(f.reporter.stats().failed, 0);
    f.emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_and_fail_closed_during_an_outage() {
    let f = start().await;
    let session = f.session("carols-laptop");

    // Healthy first.
    let (status, _) = f.post("/pay", &session, "carol").await;
    assert_eq!(status, StatusCode::OK);

    // Both calls down (the guard asks trigger-action for the recommendation in one call).
    for endpoint in ["trigger_action", "recommendation"] {
        f.emulator
            .set_fault(FaultSpec::new(endpoint).with_status(503))
            .unwrap();
    }
    // Login fails open: the handler runs and sees the API was unavailable.
    let (status, body) = f.post("/login", &session, "carol").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unavailable"], true);
    // Payment fails closed.
    let response = f
        .http
        .post(format!("{}/pay", f.app_url))
        .header("x-risk-session-token", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "risk_unavailable");

    // Trigger-action down too.
    f.emulator.clear_faults();
    f.emulator
        .set_fault(FaultSpec::new("trigger_action").with_status(503))
        .unwrap();
    let (status, _) = f.post("/pay", &session, "carol").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = f.post("/login", &session, "carol").await;
    assert_eq!(status, StatusCode::OK);

    // Back up.
    f.emulator.clear_faults();
    let (status, _) = f.post("/pay", &session, "carol").await;
    assert_eq!(status, StatusCode::OK);
    f.emulator.shutdown().await;
}
