//! The quickstart's scenarios, played over real HTTP against an example server (axum or
//! actix-web) whose risk API is an emulator. The quickstart prints what they return; the
//! end-to-end tests assert it, for both servers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use risk_core::{
    ActivityEvent, EventType, Rule, RuleCondition, RuleMatcher, RuleMode, RuleOperator,
    RuleRecommendation, StreamOptions,
};
use risk_emulator::{EmulatorHandle, FaultSpec, Telemetry};
use serde_json::{json, Value};

use crate::backend::Backend;

/// The IP range the production DENY rule blocks.
pub const BLOCKED_RANGE: &str = "203.0.113.0/24";
/// Name of the production DENY rule (created through the current rules API: one `ip_in`
/// condition).
pub const DENY_RULE: &str = "Block a known-bad range";
/// Name of the preview rule (created through the current rules API).
pub const PREVIEW_RULE: &str = "Preview: challenge Firefox";
/// The event stream the scenarios read back.
pub const STREAM_ID: &str = "quickstart";
/// How many logins the burst scenario sends from one IP.
pub const BURST: usize = 20;

const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36";

/// One line of the quickstart's table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// What was played.
    pub scenario: String,
    /// The `x-request-id` sent, which the guard uses as the action's correlation id.
    pub correlation_id: String,
    /// The route.
    pub route: &'static str,
    /// The HTTP status the example server answered.
    pub status: u16,
    /// What the middleware decided, as seen by the caller.
    pub verdict: String,
    /// The recommendation, from the risk events.
    pub recommendation: Option<String>,
    /// The risk score, from the risk events.
    pub score: Option<f64>,
    /// The reasons, from the risk events.
    pub reasons: Vec<String>,
    /// The preview rule that would have won, from the risk events.
    pub preview_rule: Option<String>,
    /// The result reported for the action (with its challenge type), from the risk events.
    pub reported: Option<String>,
}

/// What a run of the scenarios returns.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// One row per scenario, in order.
    pub rows: Vec<Row>,
    /// Every risk event read back through the event-streaming API.
    pub events: Vec<ActivityEvent>,
}

impl Run {
    /// The row of a scenario.
    pub fn row(&self, scenario: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.scenario == scenario)
    }
}

/// Why the scenarios could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The risk API refused a set-up call.
    #[error("risk API: {0}")]
    Risk(#[from] risk_core::Error),
    /// The emulator refused a set-up call.
    #[error("emulator: {0}")]
    Emulator(#[from] risk_emulator::EmulatorError),
    /// The example server could not be reached.
    #[error("example server: {0}")]
    Http(#[from] reqwest::Error),
    /// The reporter did not deliver in time.
    #[error("reporter did not flush in time: {0}")]
    Flush(String),
}

/// Scenario names, so that tests can look rows up.
#[expect(missing_docs, reason = "field names are the documented wire names")]
pub mod names {
    pub const FIRST_LOGIN: &str = "alice logs in on her laptop";
    pub const NEW_DEVICE: &str = "alice on a new phone";
    pub const STEP_UP_TYPO: &str = "alice mistypes the one-time code";
    pub const STEP_UP: &str = "alice passes the step-up (code 000000)";
    pub const TRUSTED: &str = "alice logs in again on the phone";
    pub const BOT: &str = "headless bot tries bob's account";
    pub const BLOCKED: &str = "login from 203.0.113.9 (DENY rule)";
    pub const BURST_FIRST: &str = "burst from 192.0.2.50: login 1/20";
    pub const BURST_LAST: &str = "burst from 192.0.2.50: login 20/20";
    pub const PREVIEW: &str = "bob logs in with Firefox (preview rule)";
    pub const TRANSFER: &str = "bob transfers 250 EUR";
    pub const OUTAGE_LOGIN: &str = "outage: login (fail open)";
    pub const OUTAGE_TRANSFER: &str = "outage: transfer (fail closed)";
}

/// Creates the rules the scenarios rely on and starts collecting risk events. Call once per
/// emulator, before [`run`].
pub async fn prepare(backend: &Backend) -> Result<(), ScenarioError> {
    let client = backend.risk.client();
    client
        .create_rule(
            // The current shape: a matcher of `{op, value}` conditions.
            &Rule::new(DENY_RULE, 10, RuleRecommendation::Deny)
                .with_matcher(RuleMatcher::new().with(
                    "ip_cidrs",
                    RuleCondition::new(RuleOperator::IpIn, [BLOCKED_RANGE]),
                ))
                .with_mode(RuleMode::Production)
                .enabled(true),
        )
        .await?;
    client
        .create_rule(
            // The current shape: one matcher of two conditions (both must hold).
            &Rule::new(PREVIEW_RULE, 5, RuleRecommendation::Challenge)
                .with_matcher(
                    RuleMatcher::new()
                        .with(
                            "browser_names",
                            RuleCondition::new(RuleOperator::In, ["Firefox"]),
                        )
                        .with(
                            "action_type",
                            RuleCondition::new(RuleOperator::In, ["login"]),
                        ),
                )
                .with_mode(RuleMode::Preview)
                .with_description(
                    "Would challenge every Firefox login; watching it before enabling it",
                )
                .enabled(true),
        )
        .await?;
    client.start_collect(EventType::Risk).await?;
    client
        .create_stream(EventType::Risk, STREAM_ID, &StreamOptions::default())
        .await?;
    Ok(())
}

/// Plays every scenario against the example server at `app_url` (e.g. `http://127.0.0.1:3000`),
/// whose backend is `backend` and whose risk API is `emulator`.
pub async fn run(
    app_url: &str,
    backend: &Backend,
    emulator: &Arc<EmulatorHandle>,
) -> Result<Run, ScenarioError> {
    let mut player = Player {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        app_url: app_url.trim_end_matches('/').to_owned(),
        emulator: emulator.clone(),
        reporter: backend.risk.reporter().clone(),
        redis_delivery: backend.redis_delivery.clone(),
        rows: Vec::new(),
    };
    use names::*;

    // A normal login: ALLOW, reported success with the user id.
    let laptop = Telemetry::new()
        .with_device_id("dev-alice-laptop")
        .with_ip("198.51.100.7")
        .with_user_agent(CHROME_MAC);
    player
        .login(FIRST_LOGIN, &laptop, "alice", "wonderland")
        .await?;

    // A known user on a new device: CHALLENGE, then the step-up, then TRUST from that device.
    let phone = Telemetry::new()
        .with_device_id("dev-alice-phone")
        .with_ip("198.51.100.23")
        .with_user_agent(SAFARI_IPHONE);
    let challenge = player
        .login(NEW_DEVICE, &phone, "alice", "wonderland")
        .await?;
    let action_token = challenge
        .get("action_token")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    player
        .step_up(STEP_UP_TYPO, &action_token, "alice", "wonderland", "000009")
        .await?;
    player
        .step_up(STEP_UP, &action_token, "alice", "wonderland", "000000")
        .await?;
    player.login(TRUSTED, &phone, "alice", "wonderland").await?;

    // Automation: a headless browser driven by webdriver, no interaction.
    let mut bot = Telemetry::new()
        .with_device_id("dev-bot-1")
        .with_ip("198.51.100.99")
        .with_user_agent(HEADLESS)
        .headless();
    bot.webdriver = true;
    bot.no_user_interaction = true;
    player.login(BOT, &bot, "bob", "guess1").await?;

    // A production rule: DENY for an IP range.
    let blocked = Telemetry::new()
        .with_device_id("dev-blocked")
        .with_ip("203.0.113.9")
        .with_user_agent(CHROME_MAC);
    player.login(BLOCKED, &blocked, "bob", "builder").await?;

    // Velocity: many logins for many users from one IP within a minute.
    for i in 1..=BURST {
        let device = Telemetry::new()
            .with_device_id(format!("dev-burst-{i}"))
            .with_ip("192.0.2.50")
            .with_user_agent(CHROME_MAC);
        let name = match i {
            1 => BURST_FIRST.to_owned(),
            i if i == BURST => BURST_LAST.to_owned(),
            i => format!("burst from 192.0.2.50: login {i}/{BURST}"),
        };
        player
            .login(&name, &device, &format!("user{i}"), "letmein")
            .await?;
    }

    // A preview rule: reported, the decision unchanged.
    let firefox = Telemetry::new()
        .with_device_id("dev-bob-desktop")
        .with_ip("198.51.100.40")
        .with_user_agent(FIREFOX_LINUX);
    player.login(PREVIEW, &firefox, "bob", "builder").await?;

    // A transfer with its transaction data, under the stricter policy.
    player.transfer(TRANSFER, &firefox, 250.0, "EUR").await?;

    // An outage of the risk API: /login fails open, /transfer fails closed.
    for endpoint in ["trigger_action", "recommendation"] {
        emulator.set_fault(
            FaultSpec::new(endpoint)
                .with_status(503)
                .with_retry_after_secs(0),
        )?;
    }
    let outage = Telemetry::new()
        .with_device_id("dev-alice-laptop")
        .with_ip("198.51.100.7")
        .with_user_agent(CHROME_MAC);
    player
        .login(OUTAGE_LOGIN, &outage, "alice", "wonderland")
        .await?;
    player
        .transfer(OUTAGE_TRANSFER, &outage, 100.0, "EUR")
        .await?;
    emulator.clear_faults();

    // Results are reported in the background: deliver them, then read the events back.
    flush(backend).await?;
    let mut events = Vec::new();
    loop {
        let batch = backend
            .risk
            .client()
            .collect(EventType::Risk, STREAM_ID, 1000)
            .await?;
        if batch.is_empty() {
            break;
        }
        events.extend(batch);
    }
    let mut rows = player.rows;
    annotate(&mut rows, &events);
    // An action's result is reported by the step-up attempt that ended it: the last one.
    let last_step_up: BTreeMap<String, usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.route == "/login/step-up")
        .map(|(i, r)| (r.correlation_id.clone(), i))
        .collect();
    for (i, row) in rows.iter_mut().enumerate() {
        if row.route == "/login/step-up" && last_step_up.get(&row.correlation_id) != Some(&i) {
            row.reported = None;
        }
    }
    Ok(Run { rows, events })
}

async fn flush(backend: &Backend) -> Result<(), ScenarioError> {
    backend
        .risk
        .reporter()
        .flush(Duration::from_secs(10))
        .await
        .map_err(|e| ScenarioError::Flush(e.to_string()))
}

struct Player {
    http: reqwest::Client,
    app_url: String,
    emulator: Arc<EmulatorHandle>,
    reporter: risk_core::Reporter,
    /// On Redis: the stream's delivery, which the API hears from.
    redis_delivery: Option<std::sync::Arc<risk_redis::ReportDelivery>>,
    rows: Vec<Row>,
}

impl Player {
    /// Results are reported in the background, and between two actions of real users time
    /// passes: wait until what this action reported was delivered before playing the next
    /// one, so that the next recommendation knows about it.
    /// Waits until every report so far reached the API (through the Redis stream, when the
    /// backend uses one), so that the next action is assessed knowing how this one ended.
    async fn settle(&self) -> Result<(), ScenarioError> {
        self.reporter
            .flush(Duration::from_secs(10))
            .await
            .map_err(|e| ScenarioError::Flush(e.to_string()))?;
        let Some(delivery) = &self.redis_delivery else {
            return Ok(());
        };
        let appended = self.reporter.stats().sent;
        let caught_up = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let d = delivery.stats();
                if d.sent + d.failed >= appended {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        caught_up.map_err(|_| ScenarioError::Flush("the report stream did not catch up".into()))
    }

    fn correlation_id(&self) -> String {
        format!("qs-{:02}", self.rows.len() + 1)
    }

    async fn login(
        &mut self,
        scenario: &str,
        device: &Telemetry,
        username: &str,
        password: &str,
    ) -> Result<Value, ScenarioError> {
        let session = self.emulator.create_session(device)?;
        let body = json!({ "username": username, "password": password });
        self.post(
            scenario,
            "/login",
            &[("x-risk-session-token", session)],
            body,
        )
        .await
    }

    async fn step_up(
        &mut self,
        scenario: &str,
        action_token: &str,
        username: &str,
        password: &str,
        code: &str,
    ) -> Result<Value, ScenarioError> {
        let body = json!({ "username": username, "password": password, "code": code });
        // The step-up belongs to the challenged action: same correlation id as the challenge.
        let correlation_id = self
            .rows
            .last()
            .map(|r| r.correlation_id.clone())
            .unwrap_or_default();
        let response = self
            .http
            .post(format!("{}/login/step-up", self.app_url))
            .header("x-risk-action-token", action_token)
            .header("x-request-id", &correlation_id)
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        self.settle().await?;
        let verdict = if status == 200 {
            "step-up passed"
        } else {
            "step-up failed"
        };
        self.rows.push(Row {
            scenario: scenario.to_owned(),
            correlation_id,
            route: "/login/step-up",
            status,
            verdict: verdict.to_owned(),
            ..Row::default()
        });
        Ok(json)
    }

    async fn transfer(
        &mut self,
        scenario: &str,
        device: &Telemetry,
        amount: f64,
        currency: &str,
    ) -> Result<Value, ScenarioError> {
        let session = self.emulator.create_session(device)?;
        let body = json!({ "amount": amount, "currency": currency });
        self.post(
            scenario,
            "/transfer",
            &[("x-risk-session-token", session)],
            body,
        )
        .await
    }

    async fn post(
        &mut self,
        scenario: &str,
        route: &'static str,
        headers: &[(&str, String)],
        body: Value,
    ) -> Result<Value, ScenarioError> {
        let correlation_id = self.correlation_id();
        let mut request = self
            .http
            .post(format!("{}{route}", self.app_url))
            .header("x-request-id", &correlation_id)
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        self.settle().await?;
        self.rows.push(Row {
            scenario: scenario.to_owned(),
            correlation_id,
            route,
            status,
            verdict: verdict_of(status, &json),
            ..Row::default()
        });
        Ok(json)
    }
}

/// What the caller can tell of the middleware's decision from the response.
fn verdict_of(status: u16, body: &Value) -> String {
    let error = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let unavailable = body
        .pointer("/risk/unavailable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match (status, error) {
        (_, "challenge_required") => "challenge".to_owned(),
        (_, "access_denied") => "deny".to_owned(),
        (503, "risk_unavailable") => "deny (fail closed)".to_owned(),
        (200, _) if unavailable => "proceed (fail open)".to_owned(),
        (200..=299, _) => "proceed".to_owned(),
        (401, "invalid_credentials") => "proceed (wrong password)".to_owned(),
        (s, e) => format!("{s} {e}"),
    }
}

/// Fills in each row's recommendation, score, reasons, preview rule and reported result from
/// the risk events, matched by correlation id.
fn annotate(rows: &mut [Row], events: &[ActivityEvent]) {
    let mut by_correlation: BTreeMap<&str, Vec<&ActivityEvent>> = BTreeMap::new();
    for event in events {
        if let Some(id) = event
            .additional_params
            .get("correlation_id")
            .and_then(Value::as_str)
        {
            by_correlation.entry(id).or_default().push(event);
        }
    }
    for row in rows {
        let Some(events) = by_correlation.get(row.correlation_id.as_str()) else {
            continue;
        };
        for event in events {
            let p = &event.additional_params;
            match event.activity.as_str() {
                "recommendation_issued" => {
                    row.recommendation = p
                        .get("recommendation")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    row.score = p.get("risk_score").and_then(Value::as_f64);
                    row.reasons = p
                        .get("reasons")
                        .and_then(Value::as_array)
                        .map(|r| {
                            r.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    row.preview_rule = p
                        .get("preview_rule")
                        .and_then(|r| r.get("rule_name"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
                "action_result_reported" => {
                    let result = p.get("result").and_then(Value::as_str).unwrap_or("?");
                    row.reported = Some(match p.get("challenge_type").and_then(Value::as_str) {
                        Some(challenge) => format!("{result} ({challenge})"),
                        None => result.to_owned(),
                    });
                }
                _ => {}
            }
        }
    }
}
