//! End-to-end tests of `risk_core::RiskClient` against an in-process `risk_emulator`.
//!
//! Every test starts its own emulator on `127.0.0.1:0` and talks to it only through the
//! client (plus the emulator's in-process API for sessions, faults and statistics, which
//! stand in for the browser SDK and for the operator).

use std::sync::Arc;
use std::time::Duration;

use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, ActivityEvent, AttributeValue,
    ChallengeType, ClaimedUserIdType, Error, EventType, LegacyRule, LegacyRuleMode, Matcher,
    Reason, RecommendationType, RetryPolicy, RiskClient, Rule, RuleMode, RuleRecommendation,
    TransactionData, TransactionParty, TriggerActionRequest,
};
use risk_emulator::{
    ClientConfig, Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, ManualClock, Telemetry,
    DEV_CLIENT_ID, DEV_CLIENT_SECRET,
};

/// A fixed start time for the manual clock: 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;

const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// An emulator with the default configuration and a manual clock standing at [`T0`].
async fn start() -> (EmulatorHandle, Arc<ManualClock>) {
    start_with(EmulatorConfig::default()).await
}

async fn start_with(config: EmulatorConfig) -> (EmulatorHandle, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let emu = Emulator::start_with_clock(config, "127.0.0.1:0", clock.clone())
        .await
        .expect("the emulator starts");
    (emu, clock)
}

/// Fast retries (no jitter, 10 ms backoff), the default `Retry-After` cap (5 s).
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(20))
        .with_jitter(false)
}

/// A client of `emu` with the development credentials.
fn client(emu: &EmulatorHandle) -> RiskClient {
    client_with(emu, fast_retries(), Duration::from_secs(5))
}

fn client_with(emu: &EmulatorHandle, retry: RetryPolicy, timeout: Duration) -> RiskClient {
    RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .timeout(timeout)
        .retry_policy(retry)
        .build()
        .expect("valid client configuration")
}

/// A session of a clean desktop browser on `device_id` at `ip` (what the SDK would create).
fn session(emu: &EmulatorHandle, device_id: &str, ip: &str) -> String {
    emu.create_session(
        &Telemetry::new()
            .with_device_id(device_id)
            .with_ip(ip)
            .with_user_agent(CHROME_MAC),
    )
    .expect("session created")
}

fn login(session: &str) -> TriggerActionRequest {
    TriggerActionRequest::new(session, ActionType::Login)
}

// ---- access token ---------------------------------------------------------------------------

#[tokio::test]
async fn access_token_is_fetched_once_and_reused() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    let a = client.trigger_action(&login(&s)).await.unwrap();
    client.get_recommendation(&a.action_token).await.unwrap();
    client.list_rules().await.unwrap();
    let stats = emu.stats();
    assert_eq!(stats.tokens_issued, 1);
    assert_eq!(stats.requests("token"), 1);
    assert_eq!(stats.responses("token", 200), 1);
    assert_eq!(stats.responses("trigger_action", 201), 1);
    assert_eq!(stats.responses("recommendation", 200), 1);
    assert_eq!(stats.responses("rules", 200), 1);
}

#[tokio::test]
async fn wrong_secret_is_token_rejected_and_nothing_else_is_sent() {
    let (emu, _) = start().await;
    let client = RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret("not-the-dev-secret")
        .base_url(emu.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let s = session(&emu, "dev-1", "203.0.113.10");
    let err = client.trigger_action(&login(&s)).await.unwrap_err();
    match &err {
        Error::TokenRejected { status, message } => {
            assert_eq!(*status, 401);
            assert_eq!(message, "invalid client credentials");
        }
        other => panic!("expected TokenRejected, got {other:?}"),
    }
    assert!(!err.to_string().contains("not-the-dev-secret"));
    assert!(!format!("{client:?}").contains("not-the-dev-secret"));
    let stats = emu.stats();
    assert_eq!(
        stats.requests("token"),
        1,
        "a rejected token request is not retried"
    );
    assert_eq!(stats.requests("trigger_action"), 0);
    assert_eq!(stats.tokens_issued, 0);
}

#[tokio::test]
async fn access_token_expired_on_the_server_is_refreshed_once_and_the_call_resent() {
    let (emu, clock) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    client.trigger_action(&login(&s)).await.unwrap();
    // The emulator's clock passes the token's lifetime (3600 s); the client's cache does not
    // know: the next call gets a 401, refreshes the token and is sent again.
    clock.advance(Duration::from_secs(3601));
    let a = client.trigger_action(&login(&s)).await.unwrap();
    client.get_recommendation(&a.action_token).await.unwrap();
    let stats = emu.stats();
    assert_eq!(stats.tokens_issued, 2);
    assert_eq!(stats.responses("trigger_action", 401), 1);
    assert_eq!(stats.responses("trigger_action", 201), 2);
    assert_eq!(stats.requests("recommendation"), 1);
}

#[tokio::test]
async fn a_503_from_the_token_endpoint_is_retried() {
    let (emu, _) = start().await;
    let client = client(&emu);
    emu.set_fault(
        FaultSpec::new("token")
            .with_status(503)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    client.list_legacy_rules().await.unwrap();
    let stats = emu.stats();
    assert_eq!(stats.requests("token"), 2);
    assert_eq!(stats.responses("token", 503), 1);
    assert_eq!(stats.responses("token", 200), 1);
    assert_eq!(stats.tokens_issued, 1);
}

// ---- actions and recommendations ------------------------------------------------------------

fn full_request(session: &str) -> TriggerActionRequest {
    let mut payee = TransactionParty::default();
    payee.name = Some("Acme Books".to_owned());
    payee.account_number = Some("FR7630006000011234567890189".to_owned());
    let mut tx = TransactionData::new(125.5, "EUR")
        .with_type("purchase")
        .with_method("card");
    tx.reason = Some("order 42".to_owned());
    tx.transaction_date = Some(T0 - 1_000);
    tx.payee = Some(payee);
    TriggerActionRequest::new(session, ActionType::Checkout)
        .with_correlation_id("corr-42")
        .with_claimed_user_id("acct-7", ClaimedUserIdType::AccountId)
        .with_transaction_data(tx)
        .with_custom_attribute("plan", "gold")
        .with_custom_attribute("cart_items", 3_i64)
        .with_custom_attribute("returning", true)
}

#[tokio::test]
async fn trigger_action_with_every_field_and_the_full_recommendation() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = emu
        .create_session(
            &Telemetry::new()
                .with_device_id("laptop-1")
                .with_fingerprint("fp-laptop-1")
                .with_ip("203.0.113.7")
                .with_user_agent(CHROME_MAC),
        )
        .unwrap();
    let request = full_request(&s);

    let action = client.trigger_action(&request).await.unwrap();
    assert!(
        action.recommendation.is_none(),
        "no inline recommendation unless asked"
    );
    assert!(action.action_token.expose().starts_with("at_"));

    let rec = client
        .get_recommendation(&action.action_token)
        .await
        .unwrap();
    // Top level.
    assert!(!rec.id.is_empty());
    assert_eq!(rec.issued_at, Some(T0));
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    // A clean first visit: base 5 + new device 5.
    assert_eq!(rec.risk_score, Some(10.0));
    assert_eq!(rec.reasons, vec![Reason::DeviceNew]);
    assert!(rec.preview_rule.is_none());
    // Echoed request fields.
    assert_eq!(rec.transaction_data, request.transaction_data);
    assert_eq!(rec.custom_attributes, request.custom_attributes);
    let attrs = rec.custom_attributes.as_ref().unwrap();
    assert_eq!(attrs["plan"], AttributeValue::from("gold"));
    assert_eq!(attrs["cart_items"], AttributeValue::from(3_i64));
    assert_eq!(attrs["returning"], AttributeValue::from(true));
    // Context: the action, the client, and the session's telemetry.
    let c = &rec.context;
    assert!(c.action_id.as_deref().is_some_and(|id| !id.is_empty()));
    assert_eq!(c.action_type, Some(ActionType::Checkout));
    assert_eq!(c.action_performed_at, Some(T0));
    assert_eq!(c.client_id.as_deref(), Some(DEV_CLIENT_ID));
    assert_eq!(c.application_id.as_deref(), Some(DEV_CLIENT_ID));
    assert_eq!(c.tenant_id.as_deref(), Some("emulator"));
    assert_eq!(c.correlation_id.as_deref(), Some("corr-42"));
    assert_eq!(c.claimed_user_id.as_deref(), Some("acct-7"));
    assert_eq!(c.user_id, None);
    assert_eq!(c.device_id.as_deref(), Some("laptop-1"));
    assert_eq!(c.device_fingerprint.as_deref(), Some("fp-laptop-1"));
    assert_eq!(c.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(c.ip_country.as_deref(), Some("US"));
    assert_eq!(c.ip_organization_type.as_deref(), Some("isp"));
    assert_eq!(c.user_agent.as_deref(), Some(CHROME_MAC));
    assert_eq!(c.browser_name.as_deref(), Some("Chrome"));
    assert_eq!(c.browser_version.as_deref(), Some("120.0.0.0"));
    assert_eq!(c.os_name.as_deref(), Some("macOS"));
    assert_eq!(c.os_version.as_deref(), Some("10.15.7"));
    assert_eq!(c.device_platform.as_deref(), Some("desktop"));
    // Risk signals.
    let rs = &rec.risk_signals;
    assert_eq!(rs.device.incognito, Some(false));
    assert_eq!(rs.device.private_browser, Some(false));
    assert_eq!(rs.network.vpn, Some(false));
    assert_eq!(rs.network.tor, Some(false));
    assert_eq!(rs.network.hosting, Some(false));
    assert_eq!(rs.network.anonymizer, Some(false));
    assert_eq!(rs.behavior.no_user_interaction, Some(false));
    assert_eq!(rs.behavior.input_method, vec!["is_typing".to_owned()]);
    let h = &rs.history;
    assert_eq!(h.ip_action_rate_60_sec, Some(1));
    assert_eq!(h.device_action_rate_60_sec, Some(1));
    assert_eq!(h.user_action_rate_60_sec, Some(1));
    assert_eq!(h.ip_user_count_last_hour, Some(1));
    assert_eq!(h.ip_device_count_last_hour, Some(1));
    assert_eq!(h.linking_user_to_device_count, Some(0));
    assert_eq!(h.linking_device_to_users_count, Some(0));

    // The recommendation can be fetched again (until the result is reported): same answer.
    let again = client
        .get_recommendation(&action.action_token)
        .await
        .unwrap();
    assert_eq!(again, rec);

    // Telemetry with a timezone and risky network flags shows in context and signals.
    let mut risky_telemetry = Telemetry::new()
        .with_device_id("tz-device")
        .with_ip("198.51.100.9")
        .vpn()
        .incognito();
    risky_telemetry.timezone = Some("Europe/Paris".to_owned());
    risky_telemetry.typing_velocity = Some(4.5);
    let risky = emu.create_session(&risky_telemetry).unwrap();
    let a2 = client.trigger_action(&login(&risky)).await.unwrap();
    let r2 = client.get_recommendation(&a2.action_token).await.unwrap();
    assert_eq!(r2.context.device_timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(r2.risk_signals.network.vpn, Some(true));
    assert_eq!(r2.risk_signals.network.anonymizer, Some(true));
    assert_eq!(r2.risk_signals.device.incognito, Some(true));
    assert_eq!(r2.risk_signals.behavior.typing_velocity, Some(4.5));
    assert_eq!(
        r2.reasons,
        vec![
            Reason::IpRiskyReputation,
            Reason::DeviceIncognitoBrowser,
            Reason::DeviceNew
        ]
    );
    // 5 + anonymizer 35 + incognito 15 + new device 5 = 60: CHALLENGE.
    assert_eq!(r2.risk_score, Some(60.0));
    assert_eq!(*r2.recommendation_type(), RecommendationType::Challenge);
}

#[tokio::test]
async fn trigger_action_with_recommendation_returns_it_in_one_call() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-inline", "203.0.113.20");
    let request = full_request(&s);
    let (token, rec) = client
        .trigger_action_with_recommendation(&request)
        .await
        .unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    assert_eq!(rec.context.correlation_id.as_deref(), Some("corr-42"));
    assert_eq!(rec.context.client_id.as_deref(), Some(DEV_CLIENT_ID));
    assert_eq!(rec.transaction_data, request.transaction_data);
    assert_eq!(rec.custom_attributes, request.custom_attributes);
    assert_eq!(
        emu.stats().requests("recommendation"),
        0,
        "no fallback call: the recommendation came inline"
    );
    // The token is a real action token: the same recommendation is served for it.
    let fetched = client.get_recommendation(&token).await.unwrap();
    assert_eq!(fetched.id, rec.id);
    assert_eq!(fetched.context.action_id, rec.context.action_id);
    client
        .report_action_result(&ActionResultReport::new(token, ActionResult::Success))
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_session_token_is_bad_request_with_the_servers_message() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let err = client
        .trigger_action(&login("st_not-a-session-of-this-emulator"))
        .await
        .unwrap_err();
    match err {
        Error::BadRequest { message } => assert_eq!(message, "unknown session token"),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    let err = client
        .trigger_action_with_recommendation(&login("st_nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
    let err = client
        .trigger_action(&TriggerActionRequest::new(
            session(&emu, "d", "203.0.113.1"),
            ActionType::custom(" "),
        ))
        .await
        .unwrap_err();
    match err {
        Error::BadRequest { message } => assert_eq!(message, "action_type must not be empty"),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    let stats = emu.stats();
    assert_eq!(
        stats.responses("trigger_action", 400),
        3,
        "a 400 is not retried"
    );
    assert_eq!(stats.requests("trigger_action"), 3);
}

#[tokio::test]
async fn reused_and_expired_action_tokens_are_blacklisted() {
    let (emu, clock) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");

    // Reuse: after the result is reported, the token is spent.
    let a = client.trigger_action(&login(&s)).await.unwrap();
    client.get_recommendation(&a.action_token).await.unwrap();
    let success = ActionResultReport::new(a.action_token.clone(), ActionResult::Success);
    client.report_action_result(&success).await.unwrap();
    // The same report again is accepted (idempotent, which is why the client retries it).
    client.report_action_result(&success).await.unwrap();
    let err = client
        .report_action_result(&ActionResultReport::new(
            a.action_token.clone(),
            ActionResult::Failure,
        ))
        .await
        .unwrap_err();
    match &err {
        Error::BlacklistedToken { message } => {
            assert!(message.contains("already used"), "{message}")
        }
        other => panic!("expected BlacklistedToken, got {other:?}"),
    }
    assert_eq!(err.status(), Some(463));
    assert!(!err.is_retryable());
    let err = client
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    match &err {
        Error::BlacklistedToken { message } => {
            assert!(message.contains("already used"), "{message}")
        }
        other => panic!("expected BlacklistedToken, got {other:?}"),
    }

    // Expiry: past the action-token lifetime (600 s) both calls answer 463.
    let b = client.trigger_action(&login(&s)).await.unwrap();
    clock.advance(Duration::from_secs(601));
    let err = client
        .get_recommendation(&b.action_token)
        .await
        .unwrap_err();
    match &err {
        Error::BlacklistedToken { message } => assert!(message.contains("expired"), "{message}"),
        other => panic!("expected BlacklistedToken, got {other:?}"),
    }
    let err = client
        .report_action_result(&ActionResultReport::new(
            b.action_token.clone(),
            ActionResult::Success,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BlacklistedToken { .. }), "{err:?}");

    // A well-formed token the emulator never issued: 463 too; a malformed one: 400.
    let unknown = ActionToken::new(format!("at_{}", "0".repeat(32)));
    let err = client.get_recommendation(&unknown).await.unwrap_err();
    assert!(matches!(err, Error::BlacklistedToken { .. }), "{err:?}");
    let err = client
        .get_recommendation(&ActionToken::new("garbage"))
        .await
        .unwrap_err();
    match err {
        Error::BadRequest { message } => assert_eq!(message, "malformed action_token"),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    // An empty token never leaves the client.
    let before = emu.stats().requests("recommendation");
    let err = client
        .get_recommendation(&ActionToken::new(""))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let stats = emu.stats();
    assert_eq!(stats.requests("recommendation"), before);
    // No 463 was retried.
    assert_eq!(stats.responses("recommendation", 463), 3);
    assert_eq!(stats.responses("result", 463), 2);
    assert_eq!(stats.requests("result"), 4);
}

#[tokio::test]
async fn a_passed_challenge_makes_the_device_trusted_for_that_user() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let ip = "203.0.113.50";

    // Alice logs in from her phone: a new device, ALLOW; the success links them.
    let phone = session(&emu, "alice-phone", ip);
    let a = client
        .trigger_action(&login(&phone).with_user_id("alice"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    client
        .report_action_result(
            &ActionResultReport::new(a.action_token, ActionResult::Success).with_user_id("alice"),
        )
        .await
        .unwrap();
    // The session now belongs to alice: the next action in it carries her id.
    let a = client.trigger_action(&login(&phone)).await.unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(rec.context.user_id.as_deref(), Some("alice"));
    assert_eq!(
        rec.risk_signals.history.linking_user_to_device_count,
        Some(1)
    );
    assert_eq!(
        rec.risk_signals.history.linking_device_to_users_count,
        Some(1)
    );
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);

    // Then from a laptop she never used: CHALLENGE (a new device for a known user).
    let laptop = session(&emu, "shared-laptop", ip);
    let c = client
        .trigger_action(&login(&laptop).with_user_id("alice"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&c.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Challenge);
    assert_eq!(rec.reasons, vec![Reason::ProfileDeviceNew]);
    // She passes an SMS code.
    client
        .report_action_result(
            &ActionResultReport::new(c.action_token, ActionResult::Success)
                .with_user_id("alice")
                .with_challenge_type(ChallengeType::SmsOtp),
        )
        .await
        .unwrap();

    // Next time on that laptop: TRUST, for alice only.
    let t = client
        .trigger_action(&login(&laptop).with_user_id("alice"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&t.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Trust);
    assert_eq!(rec.context.user_id.as_deref(), Some("alice"));
    let b = client
        .trigger_action(&login(&laptop).with_user_id("bob"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&b.action_token).await.unwrap();
    assert_ne!(*rec.recommendation_type(), RecommendationType::Trust);
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    // And not on her phone either: that one is linked, never challenged.
    let p = client
        .trigger_action(&login(&phone).with_user_id("alice"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&p.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
}

#[tokio::test]
async fn a_success_without_challenge_type_after_a_challenge_does_not_trust() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let ip = "203.0.113.51";
    let first = session(&emu, "carol-1", ip);
    let a = client
        .trigger_action(&login(&first).with_user_id("carol"))
        .await
        .unwrap();
    client
        .report_action_result(&ActionResultReport::new(
            a.action_token,
            ActionResult::Success,
        ))
        .await
        .unwrap();
    let second = session(&emu, "carol-2", ip);
    let c = client
        .trigger_action(&login(&second).with_user_id("carol"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&c.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Challenge);
    client
        .report_action_result(&ActionResultReport::new(
            c.action_token,
            ActionResult::Success,
        ))
        .await
        .unwrap();
    let n = client
        .trigger_action(&login(&second).with_user_id("carol"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&n.action_token).await.unwrap();
    // Linked now (no longer a new device for carol), but not trusted.
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
}

// ---- rules ------------------------------------------------------------------------------------

#[tokio::test]
async fn legacy_rules_create_list_get_update_delete_and_errors() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let rule = LegacyRule::new(
        "block test net",
        10,
        Matcher::IpCidrs(vec!["198.51.100.0/24".into()]),
        RecommendationType::Deny,
        LegacyRuleMode::Production,
    );
    let created = client.create_legacy_rule(&rule).await.unwrap();
    assert!(!created.rule_id.is_empty());
    assert_eq!(created.message, "rule created");
    let id = created.rule_id;

    let list = client.list_legacy_rules().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].rule, rule);

    let got = client.get_legacy_rule(&id).await.unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.data, rule);

    // The same rule in the current shape.
    let current = client.get_rule(&id).await.unwrap();
    assert_eq!(current.rule.name, "block test net");
    assert_eq!(current.rule.priority, 10);
    assert_eq!(current.rule.recommendation, RuleRecommendation::Deny);
    assert_eq!(current.rule.mode, RuleMode::Production);
    assert!(current.rule.enabled);
    assert_eq!(
        current.rule.matchers,
        vec![Matcher::IpCidrs(vec!["198.51.100.0/24".into()])]
    );
    assert_eq!(client.list_rules().await.unwrap(), vec![current]);

    // Unique name and unique priority: 409.
    let mut same_name = rule.clone();
    same_name.priority = 11;
    let err = client.create_legacy_rule(&same_name).await.unwrap_err();
    match &err {
        Error::Conflict { message } => assert!(message.contains("block test net"), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let mut same_priority = rule.clone();
    same_priority.name = "another".into();
    let err = client.create_legacy_rule(&same_priority).await.unwrap_err();
    match &err {
        Error::Conflict { message } => assert!(message.contains("priority 10"), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // An invalid rule: 400 with the reason.
    let mut invalid = rule.clone();
    invalid.name = "bad priority".into();
    invalid.priority = 0;
    let err = client.create_legacy_rule(&invalid).await.unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");

    // Update: PUT replaces it.
    let mut updated = rule.clone();
    updated.recommendation = RecommendationType::Challenge;
    updated.mode = LegacyRuleMode::Preview;
    updated.enabled = false;
    let msg = client.update_legacy_rule(&id, &updated).await.unwrap();
    assert_eq!(msg.message, "rule updated");
    assert_eq!(client.get_legacy_rule(&id).await.unwrap().data, updated);
    let current = client.get_rule(&id).await.unwrap();
    assert_eq!(current.rule.recommendation, RuleRecommendation::Challenge);
    assert_eq!(current.rule.mode, RuleMode::Preview);
    assert!(!current.rule.enabled);
    // Updating a second rule onto the first one's name collides.
    let mut second = same_priority.clone();
    second.priority = 20;
    let other_id = client.create_legacy_rule(&second).await.unwrap().rule_id;
    let mut onto_first = second.clone();
    onto_first.name = "block test net".into();
    let err = client
        .update_legacy_rule(&other_id, &onto_first)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");

    // Unknown ids: 404.
    let err = client
        .update_legacy_rule("rule-does-not-exist", &updated)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client
        .get_legacy_rule("rule-does-not-exist")
        .await
        .unwrap_err();
    match err {
        Error::NotFound { message } => assert!(message.contains("rule-does-not-exist")),
        other => panic!("expected NotFound, got {other:?}"),
    }

    // Delete; then it is gone from both shapes.
    let msg = client.delete_legacy_rule(&id).await.unwrap();
    assert_eq!(msg.message, "rule deleted");
    let err = client.get_legacy_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client.get_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client.delete_legacy_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let remaining = client.list_legacy_rules().await.unwrap();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].id, other_id);
    // 409/404/400 are answers, not failures: none was retried.
    let stats = emu.stats();
    assert_eq!(stats.responses("rules", 409), 3);
    assert_eq!(stats.responses("rules", 404), 5);
    assert_eq!(stats.responses("rules", 400), 1);
}

#[tokio::test]
async fn current_rules_create_list_get_update_delete_and_errors() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let rule = Rule::new("known bad devices", 5, RuleRecommendation::Deny)
        .with_matcher(Matcher::DeviceIds(vec!["evil-1".into(), "evil-2".into()]))
        .with_matcher(Matcher::CountryCodes(vec!["US".into()]))
        .with_mode(RuleMode::Production)
        .with_description("devices seen in fraud cases")
        .enabled(true);
    let stored = client.create_rule(&rule).await.unwrap();
    assert!(!stored.id.is_empty());
    assert_eq!(stored.rule, rule);
    let id = stored.id.clone();

    assert_eq!(client.list_rules().await.unwrap(), vec![stored.clone()]);
    assert_eq!(client.get_rule(&id).await.unwrap(), stored);

    // Visible in the seed shape (with its first matcher).
    let legacy = client.get_legacy_rule(&id).await.unwrap();
    assert_eq!(legacy.id, id);
    assert_eq!(legacy.data.name, "known bad devices");
    assert_eq!(legacy.data.priority, 5);
    assert_eq!(legacy.data.recommendation, RecommendationType::Deny);
    assert_eq!(legacy.data.mode, LegacyRuleMode::Production);
    assert!(legacy.data.enabled);
    assert_eq!(
        legacy.data.matcher,
        Matcher::DeviceIds(vec!["evil-1".into(), "evil-2".into()])
    );
    let legacy_list = client.list_legacy_rules().await.unwrap();
    assert_eq!(legacy_list.len(), 1);
    assert_eq!(legacy_list[0].id, id);

    // Conflicts, also across the two shapes.
    let dup_name = Rule::new("known bad devices", 6, RuleRecommendation::Challenge)
        .with_matcher(Matcher::UserIds(vec!["x".into()]));
    let err = client.create_rule(&dup_name).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let dup_priority = Rule::new("other", 5, RuleRecommendation::Challenge)
        .with_matcher(Matcher::UserIds(vec!["x".into()]));
    let err = client.create_rule(&dup_priority).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let legacy_dup = LegacyRule::new(
        "known bad devices",
        99,
        Matcher::UserIds(vec!["x".into()]),
        RecommendationType::Challenge,
        LegacyRuleMode::Preview,
    );
    let err = client.create_legacy_rule(&legacy_dup).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    // Invalid: no matcher, or an unknown matcher kind.
    let err = client
        .create_rule(&Rule::new("empty", 7, RuleRecommendation::Allow))
        .await
        .unwrap_err();
    match err {
        Error::BadRequest { message } => assert!(message.contains("matchers"), "{message}"),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    let err = client
        .create_rule(
            &Rule::new("mystery", 8, RuleRecommendation::Allow).with_matcher(Matcher::Other {
                kind: "moon_phase".into(),
                value: serde_json::json!(["full"]),
            }),
        )
        .await
        .unwrap_err();
    match err {
        Error::BadRequest { message } => assert!(message.contains("moon_phase"), "{message}"),
        other => panic!("expected BadRequest, got {other:?}"),
    }

    // Update returns the new rule.
    let changed = Rule::new("known bad devices", 3, RuleRecommendation::Challenge)
        .with_matcher(Matcher::DeviceIds(vec!["evil-3".into()]))
        .with_mode(RuleMode::Preview)
        .enabled(true);
    let updated = client.update_rule(&id, &changed).await.unwrap();
    assert_eq!(updated.id, id);
    assert_eq!(updated.rule, changed);
    assert_eq!(client.get_rule(&id).await.unwrap().rule, changed);
    assert_eq!(
        client.get_legacy_rule(&id).await.unwrap().data.mode,
        LegacyRuleMode::Preview
    );
    let err = client
        .update_rule("rule-does-not-exist", &changed)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    // Delete; a rule created in the seed shape is deleted through the current API too.
    let legacy_id = client
        .create_legacy_rule(&LegacyRule::new(
            "legacy one",
            50,
            Matcher::UserIds(vec!["mallory".into()]),
            RecommendationType::Challenge,
            LegacyRuleMode::Production,
        ))
        .await
        .unwrap()
        .rule_id;
    let listed: Vec<String> = client
        .list_rules()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, vec![id.clone(), legacy_id.clone()], "by priority");
    assert_eq!(
        client.delete_rule(&legacy_id).await.unwrap().message,
        "rule deleted"
    );
    client.delete_rule(&id).await.unwrap();
    let err = client.get_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client.delete_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(client.list_rules().await.unwrap().is_empty());
    assert!(client.list_legacy_rules().await.unwrap().is_empty());
    // Ids are checked before sending.
    let err = client.get_rule(" ").await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_production_deny_rule_changes_the_recommendation() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-mallory", "203.0.113.66");
    let before = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("mallory"))
        .await
        .unwrap()
        .1;
    assert_eq!(*before.recommendation_type(), RecommendationType::Allow);

    let rule = client
        .create_rule(
            &Rule::new("deny mallory", 1, RuleRecommendation::Deny)
                .with_matcher(Matcher::UserIds(vec!["mallory".into()]))
                .with_mode(RuleMode::Production)
                .enabled(true),
        )
        .await
        .unwrap();
    let a = client
        .trigger_action(&login(&s).with_user_id("mallory"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Deny);
    assert!(
        rec.risk_score.is_some_and(|s| s >= 90.0),
        "{:?}",
        rec.risk_score
    );
    assert!(rec.preview_rule.is_none());
    // A claimed user matches too; another user does not.
    let claimed = client
        .trigger_action_with_recommendation(
            &login(&s).with_claimed_user_id("mallory", ClaimedUserIdType::Email),
        )
        .await
        .unwrap()
        .1;
    assert_eq!(*claimed.recommendation_type(), RecommendationType::Deny);
    let other = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("alice"))
        .await
        .unwrap()
        .1;
    assert_eq!(*other.recommendation_type(), RecommendationType::Allow);

    // Disabled: no effect.
    let mut disabled = rule.rule.clone();
    disabled.enabled = false;
    client.update_rule(&rule.id, &disabled).await.unwrap();
    let rec = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("mallory"))
        .await
        .unwrap()
        .1;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);

    // A seed-shape production rule on the IP range works the same way.
    client
        .create_legacy_rule(&LegacyRule::new(
            "deny test net",
            2,
            Matcher::IpCidrs(vec!["203.0.113.0/24".into()]),
            RecommendationType::Deny,
            LegacyRuleMode::Production,
        ))
        .await
        .unwrap();
    let rec = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("alice"))
        .await
        .unwrap()
        .1;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Deny);
    let elsewhere = session(&emu, "dev-elsewhere", "192.0.2.10");
    let rec = client
        .trigger_action_with_recommendation(&login(&elsewhere))
        .await
        .unwrap()
        .1;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
}

#[tokio::test]
async fn a_preview_rule_is_reported_without_changing_the_decision() {
    let (emu, _) = start().await;
    let client = client(&emu);
    client
        .create_legacy_rule(&LegacyRule::new(
            "would challenge the kiosk",
            10,
            Matcher::DeviceIds(vec!["kiosk-1".into()]),
            RecommendationType::Challenge,
            LegacyRuleMode::Preview,
        ))
        .await
        .unwrap();
    let s = session(&emu, "kiosk-1", "203.0.113.80");
    let a = client.trigger_action(&login(&s)).await.unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    assert_eq!(rec.risk_score, Some(10.0));
    let preview = rec.preview_rule.expect("preview_rule is reported");
    assert_eq!(
        preview.rule_name.as_deref(),
        Some("would challenge the kiosk")
    );
    assert_eq!(preview.recommendation, Some(RecommendationType::Challenge));
    assert_eq!(preview.risk_score, Some(50.0));

    // A preview rule ranked before a matching production rule: both take effect their way.
    client
        .create_rule(
            &Rule::new("trust the kiosk", 20, RuleRecommendation::Trust)
                .with_matcher(Matcher::DeviceIds(vec!["kiosk-1".into()]))
                .with_mode(RuleMode::Production)
                .enabled(true),
        )
        .await
        .unwrap();
    let (_, rec) = client
        .trigger_action_with_recommendation(&login(&s))
        .await
        .unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Trust);
    assert_eq!(
        rec.preview_rule.and_then(|p| p.rule_name).as_deref(),
        Some("would challenge the kiosk")
    );
    // Another device: no rule matches.
    let other = session(&emu, "desk-2", "203.0.113.80");
    let (_, rec) = client
        .trigger_action_with_recommendation(&login(&other))
        .await
        .unwrap();
    assert!(rec.preview_rule.is_none());
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
}

// ---- event streaming --------------------------------------------------------------------------

fn param<'a>(e: &'a ActivityEvent, key: &str) -> Option<&'a serde_json::Value> {
    e.additional_params.get(key)
}

fn param_str<'a>(e: &'a ActivityEvent, key: &str) -> Option<&'a str> {
    param(e, key).and_then(serde_json::Value::as_str)
}

/// Collects a stream to its end in batches of `batch`, checking no batch is larger.
async fn drain(client: &RiskClient, stream: &str, batch: u16) -> Vec<ActivityEvent> {
    let mut all = Vec::new();
    loop {
        let got = client
            .collect(EventType::Risk, stream, batch)
            .await
            .unwrap();
        assert!(got.len() <= usize::from(batch), "batch_size honoured");
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

#[tokio::test]
async fn event_streaming_start_stream_collect_delete_stop() {
    let (emu, _) = start().await;
    let client = client(&emu);
    client.start_collect(EventType::Risk).await.unwrap();
    let err = client.start_collect(EventType::Risk).await.unwrap_err();
    match err {
        Error::Conflict { message } => assert!(message.contains("already collecting"), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    client
        .create_stream(EventType::Risk, "audit")
        .await
        .unwrap();
    client.create_stream(EventType::Risk, "siem").await.unwrap();
    let err = client
        .create_stream(EventType::Risk, "audit")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");

    // Action A: trigger, recommendation, result. Action B: trigger with the recommendation.
    let s = session(&emu, "dev-events", "203.0.113.90");
    let a = client
        .trigger_action(
            &login(&s)
                .with_correlation_id("corr-a")
                .with_claimed_user_id("u-1", ClaimedUserIdType::AccountId),
        )
        .await
        .unwrap();
    let rec_a = client.get_recommendation(&a.action_token).await.unwrap();
    client
        .report_action_result(
            &ActionResultReport::new(a.action_token, ActionResult::Success)
                .with_user_id("u-1")
                .with_challenge_type(ChallengeType::Passkey),
        )
        .await
        .unwrap();
    let (_, rec_b) = client
        .trigger_action_with_recommendation(
            &TriggerActionRequest::new(s.as_str(), ActionType::Withdraw)
                .with_correlation_id("corr-b"),
        )
        .await
        .unwrap();

    // batch_size 2: 2 + 2 + 1, then nothing.
    let first = client.collect(EventType::Risk, "audit", 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let second = client.collect(EventType::Risk, "audit", 2).await.unwrap();
    assert_eq!(second.len(), 2);
    let third = client.collect(EventType::Risk, "audit", 2).await.unwrap();
    assert_eq!(third.len(), 1);
    assert!(client
        .collect(EventType::Risk, "audit", 2)
        .await
        .unwrap()
        .is_empty());
    let audit: Vec<ActivityEvent> = first.into_iter().chain(second).chain(third).collect();
    // The other stream sees each event once too, in the same order.
    let siem = drain(&client, "siem", 1000).await;
    assert_eq!(siem, audit);

    let activities: Vec<&str> = audit.iter().map(|e| e.activity.as_str()).collect();
    assert_eq!(
        activities,
        [
            "action_triggered",
            "recommendation_issued",
            "action_result_reported",
            "action_triggered",
            "recommendation_issued",
        ]
    );
    for e in &audit {
        assert_eq!(e.app_id.as_deref(), Some(DEV_CLIENT_ID));
        assert_eq!(e.ip.as_deref(), Some("203.0.113.90"));
        assert_eq!(e.user_agent.as_deref(), Some(CHROME_MAC));
        assert_eq!(e.timestamp, Some(T0));
        assert_eq!(param_str(e, "device_id"), Some("dev-events"));
    }
    let action_a = rec_a.context.action_id.as_deref().unwrap();
    let action_b = rec_b.context.action_id.as_deref().unwrap();
    for e in &audit[..3] {
        assert_eq!(param_str(e, "action_id"), Some(action_a));
        assert_eq!(param_str(e, "action_type"), Some("login"));
        assert_eq!(param_str(e, "correlation_id"), Some("corr-a"));
        assert_eq!(param_str(e, "claimed_user_id"), Some("u-1"));
        assert_eq!(e.user_id.as_deref(), Some("u-1"));
    }
    assert_eq!(param_str(&audit[1], "recommendation"), Some("ALLOW"));
    assert_eq!(
        param(&audit[1], "risk_score").and_then(serde_json::Value::as_f64),
        rec_a.risk_score
    );
    assert_eq!(
        param(&audit[1], "reasons"),
        Some(&serde_json::json!(["DEVICE_NEW"]))
    );
    assert_eq!(param_str(&audit[2], "result"), Some("success"));
    assert_eq!(param_str(&audit[2], "challenge_type"), Some("passkey"));
    for e in &audit[3..] {
        assert_eq!(param_str(e, "action_id"), Some(action_b));
        assert_eq!(param_str(e, "action_type"), Some("withdraw"));
        assert_eq!(param_str(e, "correlation_id"), Some("corr-b"));
        // The session now belongs to u-1 (the result carried the user id).
        assert_eq!(e.user_id.as_deref(), Some("u-1"));
    }
    assert_eq!(
        param_str(&audit[4], "recommendation"),
        Some(rec_b.recommendation_type().as_str())
    );

    // Out-of-range batch sizes never leave the client.
    let before = emu.stats().requests("events");
    for bad in [0, 1001] {
        let err = client
            .collect(EventType::Risk, "siem", bad)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }
    let err = client
        .create_stream(EventType::Risk, "has space")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(emu.stats().requests("events"), before);

    // Delete a stream: it is gone; the other one keeps working.
    client
        .delete_stream(EventType::Risk, "audit")
        .await
        .unwrap();
    let err = client
        .collect(EventType::Risk, "audit", 10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client
        .delete_stream(EventType::Risk, "audit")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let late = client.trigger_action(&login(&s)).await.unwrap();
    let tail = drain(&client, "siem", 10).await;
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].activity, "action_triggered");

    // Stop: nothing more is recorded; stopping twice is a conflict.
    client.stop_collect(EventType::Risk).await.unwrap();
    let err = client.stop_collect(EventType::Risk).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    client.get_recommendation(&late.action_token).await.unwrap();
    assert!(drain(&client, "siem", 10).await.is_empty());
    // Streams of another type are separate.
    let err = client
        .collect(EventType::Cis, "siem", 10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    // Collecting can start again.
    client.start_collect(EventType::Risk).await.unwrap();
    client.delete_stream(EventType::Risk, "siem").await.unwrap();
}

// ---- faults seen through the client ---------------------------------------------------------

#[tokio::test]
async fn a_forced_503_on_recommendation_is_retried() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    let a = client.trigger_action(&login(&s)).await.unwrap();
    // Retry-After 0 keeps the test fast (the default for 503 is 1 s).
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_status(503)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    let stats = emu.stats();
    assert_eq!(stats.requests("recommendation"), 2);
    assert_eq!(stats.responses("recommendation", 503), 1);
    assert_eq!(stats.responses("recommendation", 200), 1);
    assert_eq!(stats.endpoints["recommendation"].faults_injected, 1);
}

#[tokio::test]
async fn a_persistent_5xx_on_a_read_is_retried_up_to_max_attempts() {
    let (emu, _) = start().await;
    let client = client(&emu);
    emu.set_fault(FaultSpec::new("rules").with_status(502))
        .unwrap();
    let err = client.list_rules().await.unwrap_err();
    match err {
        Error::Server { status, message } => {
            assert_eq!(status, 502);
            assert_eq!(message, "injected fault: status 502");
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(emu.stats().requests("rules"), 3, "max_attempts = 3");
    emu.clear_faults();
    assert!(client.list_rules().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_forced_500_on_trigger_action_is_not_retried() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .with_status(500)
            .fail_next(1),
    )
    .unwrap();
    let err = client.trigger_action(&login(&s)).await.unwrap_err();
    match &err {
        Error::Server { status, message } => {
            assert_eq!(*status, 500);
            assert_eq!(message, "injected fault: status 500");
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert!(err.is_retryable(), "retryable in kind, yet not resent");
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 1);
    assert_eq!(stats.responses("trigger_action", 500), 1);
    // The same with the inline recommendation.
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .with_status(503)
            .fail_next(1),
    )
    .unwrap();
    let err = client
        .trigger_action_with_recommendation(&login(&s))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    assert_eq!(emu.stats().requests("trigger_action"), 2);
    // The fault is spent: the next call goes through.
    client.trigger_action(&login(&s)).await.unwrap();
    assert_eq!(emu.stats().requests("trigger_action"), 3);
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_even_for_trigger_action() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .with_status(429)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    let a = client.trigger_action(&login(&s)).await.unwrap();
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 2);
    assert_eq!(stats.responses("trigger_action", 429), 1);
    assert_eq!(stats.responses("trigger_action", 201), 1);

    // A Retry-After beyond the policy's maximum (5 s) is not waited for: RateLimited at once.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_status(429)
            .with_retry_after_secs(30),
    )
    .unwrap();
    let err = client
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    match &err {
        Error::RateLimited {
            retry_after,
            message,
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(30)));
            assert_eq!(message, "injected fault: status 429");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(emu.stats().requests("recommendation"), 1);

    // Without retries, even a short Retry-After gives RateLimited.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_status(429)
            .with_retry_after_secs(0)
            .fail_next(1),
    )
    .unwrap();
    let no_retry = client_with(&emu, RetryPolicy::none(), Duration::from_secs(5));
    let err = no_retry
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d.is_zero()),
        "{err:?}"
    );
    assert_eq!(emu.stats().requests("recommendation"), 2);
}

#[tokio::test]
async fn the_emulators_own_rate_limit_gives_rate_limited_with_its_retry_after() {
    let config = EmulatorConfig::default()
        .with_client(ClientConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET).with_rate_limit_rps(0.01));
    let (emu, clock) = start_with(config).await;
    let client = client(&emu);
    // A burst of one request; the next one would have to wait 100 s.
    client.list_rules().await.unwrap();
    let err = client.list_rules().await.unwrap_err();
    match &err {
        Error::RateLimited {
            retry_after,
            message,
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(100)));
            assert_eq!(message, "rate limit reached");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    let stats = emu.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.responses("rules", 429), 1);
    // After the bucket refills, calls go through again.
    clock.advance(Duration::from_secs(100));
    client.list_rules().await.unwrap();
}

#[tokio::test]
async fn a_closed_connection_is_a_transport_error_and_only_safe_calls_are_resent() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");
    emu.set_fault(
        FaultSpec::new("trigger_action")
            .close_connection()
            .fail_next(1),
    )
    .unwrap();
    let err = client.trigger_action(&login(&s)).await.unwrap_err();
    match &err {
        Error::Transport { maybe_sent, .. } => assert!(*maybe_sent),
        other => panic!("expected Transport, got {other:?}"),
    }
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 1, "not resent");
    assert_eq!(stats.endpoints["trigger_action"].connections_closed, 1);

    // A read is resent on a new connection and succeeds.
    let a = client.trigger_action(&login(&s)).await.unwrap();
    emu.set_fault(
        FaultSpec::new("recommendation")
            .close_connection()
            .fail_next(1),
    )
    .unwrap();
    client.get_recommendation(&a.action_token).await.unwrap();
    let stats = emu.stats();
    assert_eq!(stats.requests("recommendation"), 2);
    assert_eq!(stats.endpoints["recommendation"].connections_closed, 1);
    assert_eq!(stats.responses("recommendation", 200), 1);

    // Every attempt closed: Transport after max_attempts.
    emu.set_fault(FaultSpec::new("recommendation").close_connection())
        .unwrap();
    let err = client
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(emu.stats().requests("recommendation"), 5);
}

#[tokio::test]
async fn latency_beyond_the_client_timeout_is_a_timeout() {
    let (emu, _) = start().await;
    // A generous deadline for the call that must succeed (the machine may be loaded)...
    let patient = client_with(&emu, fast_retries(), Duration::from_secs(10));
    // ...and a short one for the call that must time out.
    let timeout = Duration::from_millis(1_000);
    let client = client_with(&emu, fast_retries(), timeout);
    let s = session(&emu, "dev-1", "203.0.113.10");
    let a = patient.trigger_action(&login(&s)).await.unwrap();
    // Fetch the short client's access token first so its deadline covers only the slow call
    // (a warm-up slowed past 1 s by a loaded machine is simply tried again).
    for _ in 0..5 {
        if client.list_rules().await.is_ok() {
            break;
        }
    }
    // Latency within the deadline only slows the call down.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_latency_ms(20)
            .fail_next(1),
    )
    .unwrap();
    patient.get_recommendation(&a.action_token).await.unwrap();
    // Beyond it: Timeout with the configured deadline.
    emu.set_fault(
        FaultSpec::new("recommendation")
            .with_latency_ms(3_000)
            .fail_next(1),
    )
    .unwrap();
    let err = client
        .get_recommendation(&a.action_token)
        .await
        .unwrap_err();
    match &err {
        Error::Timeout { after } => assert_eq!(*after, timeout),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(err.is_retryable());
    // Only one slow attempt was sent: the deadline covers the retries too.
    assert_eq!(emu.stats().requests("recommendation"), 2);
    assert_eq!(emu.stats().endpoints["recommendation"].faults_injected, 2);
}

#[tokio::test]
async fn an_unreachable_emulator_is_a_transport_error() {
    let (emu, _) = start().await;
    let client = client_with(&emu, RetryPolicy::none(), Duration::from_secs(5));
    emu.shutdown().await;
    let err = client
        .get_recommendation(&ActionToken::new(format!("at_{}", "0".repeat(32))))
        .await
        .unwrap_err();
    match err {
        // The token request is the first to fail: connection refused.
        Error::Transport { maybe_sent, .. } => assert!(!maybe_sent),
        other => panic!("expected Transport, got {other:?}"),
    }
}
