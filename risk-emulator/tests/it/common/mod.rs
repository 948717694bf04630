//! Shared helpers of the emulator's integration tests: [`Env`] drives the emulator over
//! HTTP; [`client`] drives it through `risk_core::RiskClient`.

pub(crate) mod client;

use std::sync::Arc;
use std::time::Duration;

use risk_core::RecommendationResponse;
use risk_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, ManualClock, DEV_CLIENT_ID, DEV_CLIENT_SECRET,
};
use serde_json::{json, Value};

/// A fixed start time: 2023-11-14T22:13:20Z.
pub(crate) const T0: i64 = 1_700_000_000_000;

/// The user agent of Chrome 120 on macOS 10.15.7.
pub(crate) const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

pub(crate) struct Env {
    pub(crate) emu: EmulatorHandle,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

impl Env {
    pub(crate) async fn start() -> Self {
        Self::start_with(EmulatorConfig::default()).await
    }

    pub(crate) async fn start_with(config: EmulatorConfig) -> Self {
        let clock = Arc::new(ManualClock::new(T0));
        let emu = Emulator::start_with_clock(config, "127.0.0.1:0", clock.clone())
            .await
            .expect("emulator starts");
        let base = emu.base_url();
        Self {
            emu,
            clock,
            http: reqwest::Client::new(),
            base,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    pub(crate) async fn token_response(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oidc/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn token_for(&self, id: &str, secret: &str, resource: &str) -> String {
        let r = self
            .token_response(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("resource", resource),
            ])
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn token(&self) -> String {
        self.token_for(DEV_CLIENT_ID, DEV_CLIENT_SECRET, risk_core::RISK_RESOURCE)
            .await
    }

    /// `POST /emulator/v1/sessions` → session token.
    pub(crate) async fn session(&self, telemetry: Value) -> String {
        let r = self
            .http
            .post(self.url("/emulator/v1/sessions"))
            .json(&telemetry)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        v["session_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.unwrap()
    }

    pub(crate) async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    /// trigger-action → action token.
    pub(crate) async fn trigger(&self, token: &str, body: Value) -> String {
        let r = self
            .post("/risk/v1/action/trigger-action", token, &body)
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        v["action_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn recommendation_json(&self, token: &str, action_token: &str) -> Value {
        let r = self
            .get(
                &format!("/risk/v1/recommendation?action_token={action_token}"),
                token,
            )
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// A login (trigger + recommendation) in `session` claiming `user`.
    pub(crate) async fn login(
        &self,
        token: &str,
        session: &str,
        user: Option<&str>,
    ) -> (String, RecommendationResponse) {
        let mut body = json!({"session_token": session, "action_type": "login"});
        if let Some(u) = user {
            body["claimed_user_id"] = json!(u);
        }
        let at = self.trigger(token, body).await;
        let v = self.recommendation_json(token, &at).await;
        (at, serde_json::from_value(v).unwrap())
    }

    pub(crate) async fn report(&self, token: &str, body: Value) -> reqwest::Response {
        self.post("/risk/v1/action/result", token, &body).await
    }
}

pub(crate) async fn message(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap();
    v["message"].as_str().expect("a {message} body").to_owned()
}
