//! The seed's example recommendation and a hostile payload (nulls, unknown fields,
//! string-numbers) decode through the client to the right values.

use crate::client_support::*;
use risk_core::{
    ActionToken, ActionType, AttributeValue, EventType, LegacyRuleMode, Reason, RecommendationType,
    RuleMode, RuleRecommendation, TriggerActionRequest,
};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEED: &str = include_str!("fixtures/seed_recommendation.json");

async fn serve_recommendation(body: String) -> (MockServer, risk_core::RiskClient) {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .and(query_param("action_token", ACTION_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    (server, client)
}

#[tokio::test]
async fn the_seed_example_recommendation_decodes() {
    let (_server, client) = serve_recommendation(SEED.to_owned()).await;
    let rec = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap();

    assert_eq!(
        rec.id,
        "385cd06b527a974982e0560b67123fe2b1b5a39fd98d8d32cdbaca8ec16fd62d"
    );
    assert_eq!(rec.issued_at, Some(1_648_028_118_123));
    assert_eq!(rec.recommendation_type(), &RecommendationType::Challenge);
    assert_eq!(rec.risk_score, Some(73.2));

    let ctx = &rec.context;
    assert_eq!(ctx.action_type, Some(ActionType::Login));
    assert_eq!(ctx.action_performed_at, Some(1_648_028_118_123));
    assert_eq!(
        ctx.client_id.as_deref(),
        Some("d152ddd.ece93f4.c2a3d12.riskid.security")
    );
    assert_eq!(ctx.tenant_id.as_deref(), Some("c2a3d12"));
    assert_eq!(
        ctx.correlation_id.as_deref(),
        Some("bcb934d8-89cb-433b-a4c7-b7d94299586b")
    );
    assert_eq!(ctx.user_id.as_deref(), Some("5c4afa75c"));
    assert_eq!(ctx.ip.as_deref(), Some("192.168.0.1"));
    assert_eq!(ctx.ip_country.as_deref(), Some("UK"));
    assert_eq!(ctx.ip_location_city.as_deref(), Some("Los Angeles"));
    assert_eq!(ctx.ip_location_zip.as_deref(), Some("92131"));
    assert_eq!(ctx.ip_location_longitude, Some(-117.0903));
    assert_eq!(ctx.ip_location_latitude, Some(32.9167));
    assert_eq!(ctx.ip_asn_id.as_deref(), Some("AS174"));
    assert_eq!(ctx.ip_organization_type.as_deref(), Some("isp"));
    assert_eq!(ctx.device_platform.as_deref(), Some("desktop"));
    assert_eq!(ctx.os_name.as_deref(), Some("macOS"));
    assert_eq!(ctx.browser_name.as_deref(), Some("Chrome"));
    assert!(ctx
        .user_agent
        .as_deref()
        .unwrap()
        .starts_with("Mozilla/5.0 (X11; Linux x86_64)"));

    let signals = &rec.risk_signals;
    assert_eq!(signals.device.incognito, Some(true));
    assert_eq!(signals.device.tz_mismatch, Some(true));
    assert_eq!(signals.network.vpn, Some(true));
    assert_eq!(signals.network.anonymizer, Some(true));
    assert_eq!(signals.behavior.typing_velocity, Some(0.867));
    assert_eq!(signals.behavior.input_method, vec!["is_typing", "is_paste"]);
    assert_eq!(signals.behavior.no_user_interaction, Some(true));
    assert_eq!(signals.history.ip_action_rate_60_sec, Some(1));
    assert_eq!(signals.history.user_action_rate_60_sec, Some(2));
    assert_eq!(signals.history.device_action_rate_60_sec, Some(1));
    assert_eq!(signals.history.linking_device_to_users_count, Some(1));
    assert_eq!(signals.history.ip_device_count_last_hour, Some(1));

    assert_eq!(
        rec.reasons,
        vec![
            Reason::BehaviorBot,
            Reason::IpRiskyReputation,
            Reason::DeviceSuspiciousAttribute,
            Reason::ProfileDeviceNew
        ]
    );
    let preview = rec.preview_rule.as_ref().unwrap();
    assert_eq!(preview.rule_name.as_deref(), Some("string"));
    assert_eq!(
        preview.recommendation,
        Some(RecommendationType::Other("string".into()))
    );
    assert_eq!(preview.risk_score, None);
}

#[tokio::test]
async fn a_payload_of_nulls_unknown_fields_and_string_numbers_decodes() {
    let body = r#"{
        "id": null,
        "issued_at": "1648028118123",
        "recommendation": {"type": "STEP_UP_LATER", "result": null, "challenge_type": "carrier_pigeon", "extra": 1},
        "risk_score": "42.5",
        "brand_new_top_level": {"nested": [1, 2, 3]},
        "context": {
            "action_type": "gift_card_redeem",
            "ip_location_zip": "02134",
            "ip_location_longitude": "-71.1",
            "ip_location_latitude": null,
            "device_id": null,
            "unknown_ctx": true
        },
        "risk_signals": {
            "device": null,
            "network": {"vpn": "true", "tor": null, "new_flag": 1},
            "behavior": {"typing_velocity": "1.5", "input_method": null},
            "history": {"ip_action_rate_60_sec": "7", "user_action_rate_60_sec": 2.0, "device_action_rate_60_sec": null}
        },
        "reasons": ["DEVICE_NEW", "SOMETHING_NEW_UPSTREAM"],
        "threats": null,
        "transaction_data": null,
        "custom_attributes": null,
        "preview_rule": null
    }"#;
    let (_server, client) = serve_recommendation(body.to_owned()).await;
    let rec = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap();

    assert_eq!(rec.id, "");
    assert_eq!(rec.issued_at, Some(1_648_028_118_123));
    assert_eq!(
        rec.recommendation_type(),
        &RecommendationType::Other("STEP_UP_LATER".into())
    );
    assert_eq!(rec.recommendation.result, None);
    assert_eq!(
        rec.recommendation
            .challenge_type
            .as_ref()
            .map(|c| c.as_str()),
        Some("carrier_pigeon")
    );
    assert_eq!(rec.risk_score, Some(42.5));
    assert_eq!(
        rec.context.action_type,
        Some(ActionType::custom("gift_card_redeem"))
    );
    assert_eq!(rec.context.ip_location_zip.as_deref(), Some("02134"));
    assert_eq!(rec.context.ip_location_longitude, Some(-71.1));
    assert_eq!(rec.context.ip_location_latitude, None);
    assert_eq!(rec.context.device_id, None);
    assert_eq!(rec.risk_signals.device, Default::default());
    assert_eq!(rec.risk_signals.network.vpn, Some(true));
    assert_eq!(rec.risk_signals.network.tor, None);
    assert_eq!(rec.risk_signals.behavior.typing_velocity, Some(1.5));
    assert!(rec.risk_signals.behavior.input_method.is_empty());
    assert_eq!(rec.risk_signals.history.ip_action_rate_60_sec, Some(7));
    assert_eq!(rec.risk_signals.history.user_action_rate_60_sec, Some(2));
    assert_eq!(rec.risk_signals.history.device_action_rate_60_sec, None);
    assert_eq!(
        rec.reasons,
        vec![
            Reason::DeviceNew,
            Reason::Other("SOMETHING_NEW_UPSTREAM".into())
        ]
    );
    assert!(rec.threats.is_empty());
    assert!(rec.transaction_data.is_none());
    assert!(rec.preview_rule.is_none());
}

#[tokio::test]
async fn null_and_nested_list_elements_and_attributes_do_not_fail_the_recommendation() {
    let body = r#"{
        "id": "rec-1",
        "recommendation": {"type": "ALLOW"},
        "risk_signals": {"behavior": {"input_method": ["is_typing", null, 3, "is_paste"]}},
        "reasons": [null, "DEVICE_NEW", {"code": "X"}, "SOMETHING_NEW_UPSTREAM"],
        "threats": ["bot", null, ["nested"]],
        "custom_attributes": {
            "plan": "gold",
            "cart_items": 3,
            "returning": true,
            "gone": null,
            "nested": {"a": 1},
            "list": [1, 2]
        }
    }"#;
    let (_server, client) = serve_recommendation(body.to_owned()).await;
    let rec = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap();

    assert_eq!(
        rec.risk_signals.behavior.input_method,
        vec!["is_typing".to_owned(), "is_paste".to_owned()]
    );
    assert_eq!(
        rec.reasons,
        vec![
            Reason::DeviceNew,
            Reason::Other("SOMETHING_NEW_UPSTREAM".into())
        ]
    );
    assert_eq!(rec.threats, vec!["bot".to_owned()]);
    let attrs = rec.custom_attributes.unwrap();
    assert_eq!(
        attrs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["cart_items", "plan", "returning"]
    );
    assert_eq!(attrs["plan"], AttributeValue::from("gold"));
    assert_eq!(attrs["cart_items"], AttributeValue::from(3_i64));
    assert_eq!(attrs["returning"], AttributeValue::from(true));
}

#[test]
fn request_custom_attributes_stay_strict() {
    let bad = json!({
        "session_token": SESSION_TOKEN,
        "action_type": "login",
        "custom_attributes": {"gone": null}
    });
    assert!(serde_json::from_value::<TriggerActionRequest>(bad).is_err());
}

#[tokio::test]
async fn rule_modes_and_recommendations_decode_in_any_case_and_unknown_ones_skip_the_rule() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "r-1", "name": "a", "priority": 1, "recommendation": "DENY", "mode": "PRODUCTION"},
            {"id": "r-2", "name": "b", "priority": 2, "recommendation": "challenge", "mode": "Preview"},
            {"id": "r-3", "name": "c", "priority": 3, "recommendation": "deny", "mode": "shadow"},
            {"id": "r-4", "name": "d", "priority": 4, "recommendation": "quarantine", "mode": "preview"},
            null
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation/rules"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "l-1", "name": "a", "priority": 1, "matcher": {"user_ids": ["u"]},
             "recommendation": "DENY", "enabled": true, "mode": "preview"},
            {"id": "l-2", "name": "b", "priority": 2, "matcher": {"user_ids": ["u"]},
             "recommendation": "DENY", "enabled": true, "mode": "SHADOW"}
        ]})))
        .mount(&server)
        .await;
    let client = client(&server);

    let rules = client.list_rules().await.unwrap();
    let ids: Vec<_> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r-1", "r-2"]);
    assert_eq!(rules[0].rule.recommendation, RuleRecommendation::Deny);
    assert_eq!(rules[0].rule.mode, RuleMode::Production);
    assert_eq!(rules[1].rule.recommendation, RuleRecommendation::Challenge);
    assert_eq!(rules[1].rule.mode, RuleMode::Preview);

    let legacy = client.list_legacy_rules().await.unwrap();
    assert_eq!(legacy.len(), 1);
    assert_eq!(legacy[0].id, "l-1");
    assert_eq!(legacy[0].rule.mode, LegacyRuleMode::Preview);
}

#[tokio::test]
async fn a_collect_batch_returns_every_event_whatever_its_shape() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    Mock::given(method("POST"))
        .and(path("/activities/v1/activities/collect"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            // The seed's shape, with a null and a number where a string is expected.
            {"activity": "action_triggered", "appId": "app-1", "userId": null, "ip": "1.2.3.4",
             "userAgent": 42, "timestamp": 1714557600000_i64, "additionalParams": {"k": "v"}},
            // An older snake_case sample with an ISO-8601 timestamp and a field not known here.
            {"activity": "recommendation_issued", "app_id": "app-1", "user_id": "u-1",
             "user_agent": "curl", "timestamp": "2024-05-01T10:00:00Z",
             "additional_params": null, "region": "eu"},
            // Not an event at all.
            "garbage",
            // An event whose activity is unreadable.
            {"activity": {"nested": true}},
        ])))
        .mount(&server)
        .await;
    let events = client(&server)
        .collect(EventType::Risk, "siem", 100)
        .await
        .unwrap();
    assert_eq!(events.len(), 4, "nothing lost: {events:?}");
    assert_eq!(events[0].app_id.as_deref(), Some("app-1"));
    assert_eq!(events[0].user_id, None);
    assert_eq!(events[0].user_agent.as_deref(), Some("42"));
    assert_eq!(events[0].additional_params["k"], "v");
    assert_eq!(events[1].user_id.as_deref(), Some("u-1"));
    assert_eq!(events[1].user_agent.as_deref(), Some("curl"));
    assert_eq!(events[1].timestamp, Some(1_714_557_600_000));
    assert_eq!(events[1].extra["region"], "eu");
    assert!(events[1].raw.is_none());
    assert_eq!(events[2].raw, Some(json!("garbage")));
    assert_eq!(events[3].raw, Some(json!({"activity": {"nested": true}})));
}

#[tokio::test]
async fn a_recommendation_in_the_vendors_schema_keeps_every_field() {
    let body = json!({
        "id": "rec-1",
        "issued_at": 1714557600000_i64,
        "recommendation": {"type": "ALLOW"},
        "risk_score": "12.5",
        "reasons": ["DEVICE_NEW", "SOMETHING_NEW_UPSTREAM"],
        "context": {
            "action_type": "login",
            "device_id": "dev-1",
            "browser_name": "Chrome",
            "browser_version": 113,
            "os_name": "macOS",
            "os_version": 14,
            "ip": "203.0.113.9",
            "ip_asn_id": 174,
            "ip_location_region": "Île-de-France",
            "ip_location_zip": 75001,
            "device_timestamp": "1714557600123",
            "device_public_key": "pk-1",
            "location": "https://shop.example/login",
            "ip_domain": "example.net",
            "device_languages": ["fr-FR", "en"],
            "app_version": 3,
            "application_name": "shop",
            "campaign_id": "spring",
            "sdk_version": "1.4.2",
            "action_result": "success",
            "a_field_added_tomorrow": {"nested": [1, 2]}
        },
        "transaction_data": {"amount": "12.5", "currency": 978, "type": "money_transfer"},
        "risk_signals": {
            "device": {"a_device_signal_added_tomorrow": true},
            "network": {"x_forwarded_for": ["10.0.0.1"]}
        }
    });
    let (_server, client) = serve_recommendation(body.to_string()).await;
    let rec = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap();
    assert_eq!(rec.recommendation_type(), &RecommendationType::Allow);
    assert_eq!(rec.risk_score, Some(12.5));
    let c = &rec.context;
    assert_eq!(c.browser_version.as_deref(), Some("113"));
    assert_eq!(c.os_version.as_deref(), Some("14"));
    assert_eq!(c.ip_asn_id.as_deref(), Some("174"));
    assert_eq!(c.region(), Some("Île-de-France"));
    assert_eq!(c.ip_location_zip.as_deref(), Some("75001"));
    assert_eq!(c.device_timestamp, Some(1_714_557_600_123));
    assert_eq!(c.device_public_key.as_deref(), Some("pk-1"));
    assert_eq!(c.location.as_deref(), Some("https://shop.example/login"));
    assert_eq!(c.ip_domain.as_deref(), Some("example.net"));
    assert_eq!(
        c.device_languages,
        vec!["fr-FR".to_owned(), "en".to_owned()]
    );
    assert_eq!(c.app_version.as_deref(), Some("3"));
    assert_eq!(c.application_name.as_deref(), Some("shop"));
    assert_eq!(c.campaign_id.as_deref(), Some("spring"));
    assert_eq!(c.sdk_version.as_deref(), Some("1.4.2"));
    assert_eq!(c.action_result.as_deref(), Some("success"));
    assert_eq!(c.extra["a_field_added_tomorrow"], json!({"nested": [1, 2]}));
    assert_eq!(
        rec.risk_signals.device.extra["a_device_signal_added_tomorrow"],
        json!(true)
    );
    let tx = rec.transaction_data.as_ref().unwrap();
    assert_eq!(tx.amount, Some(12.5));
    assert_eq!(tx.currency.as_deref(), Some("978"));
    assert_eq!(tx.transaction_type.as_deref(), Some("money_transfer"));
}
