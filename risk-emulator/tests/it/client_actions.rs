//! `RiskClient` against the emulator: trigger-action (with every field, with the inline
//! recommendation, refused), the recommendation, results, spent and expired action tokens,
//! and the links and trust results create.

use std::time::Duration;

use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, AttributeValue, ChallengeType,
    ClaimedUserIdType, Error, Reason, RecommendationType, TransactionData, TransactionParty,
    TriggerActionRequest,
};
use risk_emulator::{Telemetry, DEV_CLIENT_ID};

use crate::common::client::{client, login, session, start};
use crate::common::{CHROME_MAC, T0};

fn full_request(session: &str) -> TriggerActionRequest {
    let mut payee = TransactionParty::default();
    payee.name = Some("Acme Books".to_owned());
    payee.account_number = Some("FR7630006000011234567890189".to_owned());
    let mut tx = TransactionData::new(125.5, "EUR")
        .with_type("purchase")
        .with_method("card");
    tx.reason = Some("order 42".to_owned());
    tx.transaction_date = Some(T0 - 1_000);
    tx.payee = Some(Box::new(payee));
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
async fn reported_results_may_repeat_and_expired_tokens_are_blacklisted() {
    let (emu, clock) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-1", "203.0.113.10");

    // A result may be reported more than once (as the reference documents): the same one
    // changes nothing (which is why the client retries it), another replaces it; the
    // recommendation can be fetched afterwards and says the result.
    let a = client.trigger_action(&login(&s)).await.unwrap();
    client.get_recommendation(&a.action_token).await.unwrap();
    let success = ActionResultReport::new(a.action_token.clone(), ActionResult::Success);
    client.report_action_result(&success).await.unwrap();
    client.report_action_result(&success).await.unwrap();
    let again = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(again.context.action_result.as_deref(), Some("success"));
    client
        .report_action_result(&ActionResultReport::new(
            a.action_token.clone(),
            ActionResult::Failure,
        ))
        .await
        .unwrap();
    assert_eq!(
        emu.action_result(a.action_token.expose()),
        Some(ActionResult::Failure)
    );

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
    assert_eq!(stats.responses("recommendation", 463), 2);
    assert_eq!(stats.responses("result", 463), 1);
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

#[tokio::test]
async fn an_assignee_is_set_on_the_listed_actions() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-assign", "203.0.113.40");
    let a = client.trigger_action(&login(&s)).await.unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    let action_id = rec.context.action_id.clone().unwrap();
    client
        .set_assignee(&risk_core::AssigneeRequest::new([action_id], "analyst-7"))
        .await
        .unwrap();
    assert_eq!(emu.stats().responses("assignee", 200), 1);
    let err = client
        .set_assignee(&risk_core::AssigneeRequest::new(
            Vec::<String>::new(),
            "analyst-7",
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");
}
