//! The middleware in a real actix `HttpServer` (127.0.0.1:0), driven over HTTP with reqwest,
//! against the in-process emulator through a real `RiskClient`: allow, a challenge then the
//! passed step-up, deny by a production rule, and fail-open / fail-closed in an outage.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use risk_actix::{RiskAssessment, RiskMiddleware, RiskResponseExt};
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, ChallengeType, ClaimedUser,
    ErrorBehavior, Guard, Matcher, Outcome, Reporter, RetryPolicy, RiskClient, Rule, RuleMode,
    RuleRecommendation,
};
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, Telemetry, DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
};
use serde_json::{json, Value};

const FLUSH: Duration = Duration::from_secs(10);

/// The protected handler: "checks the password" (always right) and says who logged in.
async fn login(risk: RiskAssessment, req: actix_web::HttpRequest) -> HttpResponse {
    let user = req
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("nobody")
        .to_owned();
    HttpResponse::Ok()
        .json(json!({
            "recommendation": risk.recommendation_type().map(|t| t.as_str()),
            "unavailable": risk.is_unavailable(),
        }))
        .with_risk_outcome(Outcome::success().with_user_id(user))
}

/// The step-up route: the front end passed the SMS OTP for this action token.
async fn step_up(body: web::Json<Value>, reporter: web::Data<Reporter>) -> HttpResponse {
    let (Some(token), Some(user)) = (body["action_token"].as_str(), body["user"].as_str()) else {
        return HttpResponse::BadRequest().finish();
    };
    let report = ActionResultReport::new(ActionToken::new(token), ActionResult::Success)
        .with_user_id(user)
        .with_challenge_type(ChallengeType::SmsOtp);
    match reporter.submit(report) {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

struct Env {
    emulator: EmulatorHandle,
    client: RiskClient,
    reporter: Reporter,
    http: reqwest::Client,
    base: String,
    server: actix_web::dev::ServerHandle,
}

impl Env {
    async fn start() -> Self {
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
        // Built on the test's runtime: its worker runs here, actix workers only enqueue.
        let reporter = Reporter::builder(client.clone()).build();

        let claimed = |h: &dyn risk_core::HeaderLookup| h.get("x-user").map(ClaimedUser::new);
        let login_guard = Guard::builder(ActionType::Login, client.clone())
            .claimed_user(claimed)
            .on_error(ErrorBehavior::FailOpen)
            .reporter(reporter.clone())
            .build()
            .unwrap();
        let pay_guard = Guard::builder(ActionType::Transaction, client.clone())
            .claimed_user(claimed)
            .on_error(ErrorBehavior::FailClosed)
            .reporter(reporter.clone())
            .build()
            .unwrap();

        let data = web::Data::new(reporter.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .service(
                    web::resource("/login")
                        .wrap(RiskMiddleware::new(login_guard.clone()))
                        .route(web::post().to(login)),
                )
                .service(
                    web::resource("/pay")
                        .wrap(RiskMiddleware::new(pay_guard.clone()))
                        .route(web::post().to(login)),
                )
                .route("/step-up", web::post().to(step_up))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
        let addr: SocketAddr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);

        Self {
            emulator,
            client,
            reporter,
            http: reqwest::Client::new(),
            base: format!("http://{addr}"),
            server: handle,
        }
    }

    fn session(&self, device: &str) -> String {
        self.emulator
            .create_session(&Telemetry::new().with_device_id(device))
            .unwrap()
    }

    async fn post(&self, path: &str, session: &str, user: &str) -> (u16, Value, Option<String>) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-risk-session-token", session)
            .header("x-user", user)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, res.json().await.unwrap(), retry_after)
    }

    async fn stop(self) {
        self.reporter.flush(FLUSH).await.unwrap();
        self.server.stop(true).await;
        self.emulator.shutdown().await;
    }
}

#[actix_web::test]
async fn allow_then_challenge_then_trust_after_the_step_up() {
    let env = Env::start().await;

    // A first login from the laptop: allowed, and reported as alice's success.
    let laptop = env.session("laptop");
    let (status, body, _) = env.post("/login", &laptop, "alice").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recommendation"], "ALLOW");
    env.reporter.flush(FLUSH).await.unwrap();

    // Alice on a new phone: challenged, the handler does not run.
    let phone = env.session("phone");
    let (status, body, _) = env.post("/login", &phone, "alice").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "challenge_required");
    let action_token = body["action_token"].as_str().unwrap().to_owned();

    // She passes the SMS OTP; the step-up route reports it with its challenge type.
    let res = env
        .http
        .post(format!("{}/step-up", env.base))
        .json(&json!({"action_token": action_token, "user": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    env.reporter.flush(FLUSH).await.unwrap();

    // The phone is now trusted for alice.
    let phone_again = env.session("phone");
    let (status, body, _) = env.post("/login", &phone_again, "alice").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recommendation"], "TRUST");

    let stats = env.reporter.stats();
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.dropped, 0);
    env.stop().await;
}

#[actix_web::test]
async fn a_production_rule_denies() {
    let env = Env::start().await;
    env.client
        .create_rule(
            &Rule::new("block mallory", 5, RuleRecommendation::Deny)
                .with_matcher(Matcher::UserIds(vec!["mallory".into()]))
                .with_mode(RuleMode::Production)
                .enabled(true),
        )
        .await
        .unwrap();

    let (status, body, _) = env.post("/login", &env.session("d1"), "mallory").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "access_denied");
    assert!(body.get("risk_score").is_none());
    // The guard reported the denied attempt as a failure.
    env.reporter.flush(FLUSH).await.unwrap();
    assert_eq!(env.reporter.stats().sent, 1);
    assert_eq!(env.emulator.stats().responses("result", 201), 1);

    // Someone else on the same route is unaffected.
    let (status, body, _) = env.post("/login", &env.session("d2"), "bob").await;
    assert_eq!(status, 200, "{body}");
    env.stop().await;
}

#[actix_web::test]
async fn an_outage_fails_open_on_login_and_closed_on_payment() {
    let env = Env::start().await;
    // Both calls down (the guard asks trigger-action for the recommendation in one call).
    for endpoint in ["trigger_action", "recommendation"] {
        env.emulator
            .set_fault(
                FaultSpec::new(endpoint)
                    .with_status(503)
                    .with_retry_after_secs(7),
            )
            .unwrap();
    }

    let (status, body, _) = env.post("/login", &env.session("d1"), "carol").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unavailable"], true);
    assert_eq!(body["recommendation"], Value::Null);

    let (status, body, retry_after) = env.post("/pay", &env.session("d1"), "carol").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "risk_unavailable");
    let retry_after: u64 = retry_after.expect("a Retry-After header").parse().unwrap();
    assert!(retry_after >= 1);

    // The outage ends: the next payment goes through (from the device the fail-open login
    // linked to carol: a new one would be challenged).
    env.emulator.clear_faults();
    env.reporter.flush(FLUSH).await.unwrap();
    let (status, body, _) = env.post("/pay", &env.session("d1"), "carol").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recommendation"], "ALLOW");
    env.stop().await;
}
