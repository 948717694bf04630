//! The seed's example recommendation and a hostile payload (nulls, unknown fields,
//! string-numbers) decode through the client to the right values.

use crate::client_support::*;
use risk_core::{
    ActionToken, ActionType, AttributeValue, EventType, LegacyRecommendation, LegacyRuleMode,
    Reason, RecommendationType, RuleMode, RuleRecommendation, TransactionMethod, TransactionType,
    TriggerActionRequest,
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
async fn a_rule_whose_numbers_and_strings_disagree_is_read_not_dropped() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "r-1", "priority": "7", "enabled": "true", "recommendation": "deny",
             "mode": "production",
             "matchers": [{"asn_id": {"op": 1, "value": ["64500"]}}]},
            {"id": "r-2", "priority": 8.0, "enabled": 1, "recommendation": "allow",
             "mode": "preview", "matchers": []}
        ]})))
        .mount(&server)
        .await;
    let rules = client(&server).list_rules().await.unwrap();
    let ids: Vec<_> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["r-1", "r-2"],
        "no rule lost to a number written as text"
    );
    assert_eq!(rules[0].rule.priority, 7);
    assert!(rules[0].rule.enabled);
    assert_eq!(rules[1].rule.priority, 8);
    assert!(rules[1].rule.enabled);
    let json = serde_json::to_value(&rules[0].rule).unwrap();
    // The operator this version does not know is kept as its text.
    assert_eq!(json["matchers"][0]["asn_id"]["op"], "1");
}

#[tokio::test]
async fn rule_modes_and_recommendations_decode_in_any_case_and_unknown_ones_keep_the_rule() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "r-1", "name": "a", "priority": 1, "recommendation": "DENY", "mode": "PRODUCTION"},
            {"id": "r-2", "name": "b", "priority": 2, "recommendation": "challenge", "mode": "Preview"},
            {"id": "r-3", "name": "c", "priority": 3, "recommendation": "deny", "mode": "shadow"},
            {"id": "r-4", "name": null, "priority": 4, "recommendation": "quarantine",
             "mode": "preview", "type": null, "description": null},
            // No priority: nothing to read it by; skipped (with a WARN), the list kept.
            {"id": "r-5", "name": "e", "recommendation": "deny", "mode": "preview"},
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
             "recommendation": "QUARANTINE", "enabled": true, "mode": "SHADOW"},
            {"id": "l-3", "priority": 3, "matcher": {"country_codes": ["FR"]},
             "recommendation": "trust", "mode": "Production"}
        ]})))
        .mount(&server)
        .await;
    let client = client(&server);

    let rules = client.list_rules().await.unwrap();
    let ids: Vec<_> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r-1", "r-2", "r-3", "r-4"]);
    assert_eq!(rules[0].rule.recommendation, RuleRecommendation::Deny);
    assert_eq!(rules[0].rule.mode, RuleMode::Production);
    assert_eq!(rules[1].rule.recommendation, RuleRecommendation::Challenge);
    assert_eq!(rules[1].rule.mode, RuleMode::Preview);
    assert_eq!(rules[2].rule.mode, RuleMode::Other("shadow".into()));
    let r4 = &rules[3].rule;
    assert_eq!(
        r4.recommendation,
        RuleRecommendation::Other("quarantine".into())
    );
    assert_eq!(
        (
            r4.name.as_deref(),
            r4.rule_type.as_str(),
            r4.description.as_deref()
        ),
        (None, "risk", None)
    );
    // Unknown values round-trip as sent.
    let json = serde_json::to_value(r4).unwrap();
    assert_eq!(json["recommendation"], "quarantine");

    let legacy = client.list_legacy_rules().await.unwrap();
    let ids: Vec<_> = legacy.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["l-1", "l-2", "l-3"]);
    assert_eq!(legacy[0].rule.mode, LegacyRuleMode::Preview);
    assert_eq!(legacy[0].rule.recommendation, LegacyRecommendation::Deny);
    assert_eq!(legacy[1].rule.mode, LegacyRuleMode::Other("SHADOW".into()));
    assert_eq!(
        legacy[1].rule.recommendation,
        LegacyRecommendation::Other("QUARANTINE".into())
    );
    // No name (optional on both shapes), a lowercase recommendation, enabled left out.
    assert_eq!(legacy[2].rule.name, None);
    assert_eq!(legacy[2].rule.recommendation, LegacyRecommendation::Trust);
    assert_eq!(legacy[2].rule.mode, LegacyRuleMode::Production);
    assert!(!legacy[2].rule.enabled);
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
    let transaction_data = json!({
        "amount": "12.5", "currency": 978, "type": "money_transfer", "method": "wallet",
        "channelId": 7, "reason": "rent", "transactionDate": "1714557600000",
        "payer": {
            "name": "Ada", "accountNumber": 12345678, "accountId": "acc-1",
            "accountCountryCode": "FR", "bankIdentifier": "BNPAFRPP", "branchIdentifier": 42,
            "card": {"holderName": "ADA L", "bin": 411111, "last4": "1111"},
            "customerTier": "gold",
            "billingInfo": {"name": "Ada", "addressLine1": "1 rue X", "addressLine2": null,
                "city": "Paris", "state": "IDF", "zipPostalCode": 75001, "country": "FR",
                "email": "ada@example.com", "phone": "+33100000000"},
            "aPartyFieldAddedTomorrow": 1
        },
        "payee": {"name": "Bob", "accountNumber": "FR76 0000"},
        "purchase": {"totalItems": "2", "products": [
            {"id": 17, "name": "book", "amount": 2, "price": "6.25"}
        ], "shippingInfo": {"city": "Lyon", "zipPostalCode": "69001"}},
        "avs": {"code": "Y", "provider": "acme", "matchLevel": "full"},
        "crypto": {"chain": "x"}
    });
    let device = json!({
        "a_device_signal_added_tomorrow": true,
        "incognito": "true", "private_browser": false, "tampered": 0, "emulated": null,
        "spoofed": false, "tz_mismatch": true, "esim_usage": true,
        "ram": 8, "total_storage": "256", "available_storage": 100.5,
        "battery_level": 0.87, "device_power_state": "charging", "core_number": "8",
        "cpu_arch": "arm64", "graphic_card": "Apple M2", "model": "MacBookAir10,1",
        "device_name": "Ada's laptop", "screen_width": 1920, "screen_height": "1080",
        "screen_avail_width": 1920, "screen_avail_height": 1050,
        "screen_pixel_depth": 24, "screen_color_depth": 24.0, "font_count": 312,
        "accept_languages": "fr-FR,fr;q=0.9", "mobile_network_code": 15,
        "navigator_useragent": "Mozilla/5.0 (Macintosh)", "true_useragent": "Mozilla/5.0",
        "device_timezone_offset": -120, "summer_timezone_offset": "-120",
        "winter_timezone_offset": -60
    });
    let risk_signals = json!({
        "device": device,
        "network": {
            "x_forwarded_for": ["203.0.113.9", "10.0.0.1"],
            "vpn": false, "tor": "false", "hosting": true, "proxy": null, "anonymizer": 1
        },
        "behavior": {
            "typing_velocity": "0.5", "movement_velocity": 1.25, "straight_line_ratio": 0.1,
            "right_angels_ratio": 0.2, "minor_angels_ratio": "0.3", "movement_latency": 16,
            "input_method": ["is_typing", null, "is_paste"], "no_user_interaction": false,
            "corner_click": true
        },
        "history": {
            "ip_action_rate_60_sec": "3", "user_action_rate_60_sec": 2,
            "device_action_rate_60_sec": 1.0, "ip_user_count_last_hour": 4,
            "ip_device_count_last_hour": 5, "linking_device_to_users_count": 6,
            "linking_user_to_device_count": 7
        }
    });
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
        "transaction_data": transaction_data,
        "risk_signals": risk_signals
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
    assert!(rec.undecoded.is_empty(), "{:?}", rec.undecoded);

    let d = &rec.risk_signals.device;
    assert_eq!(
        (d.incognito, d.private_browser, d.tampered, d.emulated),
        (Some(true), Some(false), Some(false), None)
    );
    assert_eq!(
        (d.spoofed, d.tz_mismatch, d.esim_usage),
        (Some(false), Some(true), Some(true))
    );
    assert_eq!(
        (d.ram, d.total_storage, d.available_storage, d.battery_level),
        (Some(8.0), Some(256.0), Some(100.5), Some(0.87))
    );
    assert_eq!(d.device_power_state.as_deref(), Some("charging"));
    assert_eq!(d.core_number, Some(8));
    assert_eq!(d.cpu_arch.as_deref(), Some("arm64"));
    assert_eq!(d.graphic_card.as_deref(), Some("Apple M2"));
    assert_eq!(d.model.as_deref(), Some("MacBookAir10,1"));
    assert_eq!(d.device_name.as_deref(), Some("Ada's laptop"));
    assert_eq!(
        (
            d.screen_width,
            d.screen_height,
            d.screen_avail_width,
            d.screen_avail_height
        ),
        (Some(1920), Some(1080), Some(1920), Some(1050))
    );
    assert_eq!(
        (d.screen_pixel_depth, d.screen_color_depth, d.font_count),
        (Some(24), Some(24), Some(312))
    );
    assert_eq!(d.accept_languages.as_deref(), Some("fr-FR,fr;q=0.9"));
    assert_eq!(d.mobile_network_code.as_deref(), Some("15"));
    assert_eq!(
        d.navigator_useragent.as_deref(),
        Some("Mozilla/5.0 (Macintosh)")
    );
    assert_eq!(d.true_useragent.as_deref(), Some("Mozilla/5.0"));
    assert_eq!(
        (
            d.device_timezone_offset,
            d.summer_timezone_offset,
            d.winter_timezone_offset
        ),
        (Some(-120), Some(-120), Some(-60))
    );

    let n = &rec.risk_signals.network;
    assert_eq!(n.x_forwarded_for, ["203.0.113.9", "10.0.0.1"]);
    assert_eq!(
        (n.vpn, n.tor, n.hosting, n.proxy, n.anonymizer),
        (Some(false), Some(false), Some(true), None, Some(true))
    );
    assert!(n.extra.is_empty(), "{:?}", n.extra);

    let b = &rec.risk_signals.behavior;
    assert_eq!(b.typing_velocity, Some(0.5));
    assert_eq!(b.movement_velocity, Some(1.25));
    assert_eq!(b.straight_line_ratio, Some(0.1));
    assert_eq!(b.right_angles_ratio, Some(0.2));
    assert_eq!(b.minor_angles_ratio, Some(0.3));
    assert_eq!(b.movement_latency, Some(16.0));
    assert_eq!(b.input_method, ["is_typing", "is_paste"]);
    assert_eq!(
        (b.no_user_interaction, b.corner_click),
        (Some(false), Some(true))
    );
    assert!(b.extra.is_empty(), "{:?}", b.extra);

    let h = &rec.risk_signals.history;
    assert_eq!(
        (
            h.ip_action_rate_60_sec,
            h.user_action_rate_60_sec,
            h.device_action_rate_60_sec
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(
        (
            h.ip_user_count_last_hour,
            h.ip_device_count_last_hour,
            h.linking_device_to_users_count,
            h.linking_user_to_device_count
        ),
        (Some(4), Some(5), Some(6), Some(7))
    );

    let tx = rec.transaction_data.as_ref().unwrap();
    assert_eq!(tx.amount, Some(12.5));
    assert_eq!(tx.currency.as_deref(), Some("978"));
    assert_eq!(tx.transaction_type, Some(TransactionType::MoneyTransfer));
    assert_eq!(tx.method, Some(TransactionMethod::Wallet));
    assert_eq!(tx.channel_id.as_deref(), Some("7"));
    assert_eq!(tx.reason.as_deref(), Some("rent"));
    assert_eq!(tx.transaction_date, Some(1_714_557_600_000));
    let payer = tx.payer.as_ref().unwrap();
    assert_eq!(payer.name.as_deref(), Some("Ada"));
    assert_eq!(payer.account_number.as_deref(), Some("12345678"));
    assert_eq!(payer.account_id.as_deref(), Some("acc-1"));
    assert_eq!(payer.account_country_code.as_deref(), Some("FR"));
    assert_eq!(payer.bank_identifier.as_deref(), Some("BNPAFRPP"));
    assert_eq!(payer.branch_identifier.as_deref(), Some("42"));
    let card = payer.card.as_ref().unwrap();
    assert_eq!(
        (
            card.holder_name.as_deref(),
            card.bin.as_deref(),
            card.last4.as_deref()
        ),
        (Some("ADA L"), Some("411111"), Some("1111"))
    );
    assert_eq!(payer.customer_tier.as_deref(), Some("gold"));
    let billing = payer.billing_info.as_ref().unwrap();
    assert_eq!(billing.address_line1.as_deref(), Some("1 rue X"));
    assert_eq!(billing.address_line2, None);
    assert_eq!(billing.zip_postal_code.as_deref(), Some("75001"));
    assert_eq!(billing.email.as_deref(), Some("ada@example.com"));
    assert_eq!(payer.extra["aPartyFieldAddedTomorrow"], json!(1));
    assert_eq!(
        tx.payee.as_ref().unwrap().account_number.as_deref(),
        Some("FR76 0000")
    );
    let purchase = tx.purchase.as_ref().unwrap();
    assert_eq!(purchase.total_items, Some(2));
    assert_eq!(purchase.products[0].id.as_deref(), Some("17"));
    assert_eq!(purchase.products[0].price, Some(6.25));
    assert_eq!(
        purchase
            .shipping_info
            .as_ref()
            .unwrap()
            .zip_postal_code
            .as_deref(),
        Some("69001")
    );
    let avs = tx.avs.as_ref().unwrap();
    assert_eq!(
        (avs.code.as_deref(), avs.match_level.as_deref()),
        (Some("Y"), Some("full"))
    );
    assert_eq!(tx.extra["crypto"], json!({"chain": "x"}));
}

#[tokio::test]
async fn a_transaction_data_field_that_does_not_decode_costs_only_that_field() {
    let body = json!({
        "recommendation": {"type": "DENY"},
        "transaction_data": {
            "amount": {"value": 10},
            "currency": "EUR",
            "type": 7,
            "payer": {"name": ["not", "a", "name"], "accountNumber": 1234},
            "payee": "not a party"
        }
    });
    let (_server, client) = serve_recommendation(body.to_string()).await;
    let rec = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap();
    let tx = rec.transaction_data.as_ref().expect("kept, not dropped");
    assert_eq!(tx.currency.as_deref(), Some("EUR"));
    assert_eq!(
        tx.transaction_type,
        Some(TransactionType::Other("7".into()))
    );
    assert_eq!(tx.amount, None);
    let payer = tx.payer.as_ref().unwrap();
    assert_eq!(payer.account_number.as_deref(), Some("1234"));
    assert_eq!(payer.name, None);
    assert_eq!(tx.payee, None);
    // Each field set aside on its own, as raw JSON by path.
    assert_eq!(
        rec.undecoded.get("transaction_data.amount"),
        Some(&json!({"value": 10}))
    );
    assert_eq!(
        rec.undecoded.get("transaction_data.payer.name"),
        Some(&json!(["not", "a", "name"]))
    );
    assert_eq!(
        rec.undecoded.get("transaction_data.payee"),
        Some(&json!("not a party"))
    );
    assert_eq!(rec.undecoded.len(), 3, "{:?}", rec.undecoded);
}

#[tokio::test]
async fn every_context_field_takes_a_number_or_a_string() {
    let mut context = json!({
        "action_id": 1, "action_type": 7, "action_performed_at": "1714557600000",
        "client_id": 2, "application_id": 3, "tenant_id": 4, "device_id": 5,
        "correlation_id": 6, "device_fingerprint": 8, "user_id": 9, "claimed_user_id": 10,
        "ip": 11, "ip_country": 12, "ip_region": 13, "ip_location_city": 14,
        "ip_location_zip": 15, "ip_location_longitude": "2.35", "ip_location_latitude": "48.85",
        "device_timestamp": "29", "device_public_key": 30, "location": 31, "ip_domain": 32,
        "device_languages": ["fr", 33, null], "app_version": 34, "application_name": 35,
        "campaign_id": 36, "sdk_version": 1.4, "action_result": 37
    });
    // Split in two: one `json!` of this size is past the macro's recursion limit.
    let more = json!({
        "ip_asn_name": 16, "ip_asn_id": 17, "ip_organization_name": 18,
        "ip_organization_type": 19, "ip_location_timezone": 20, "device_timezone": 21,
        "device_platform": 22, "os_name": 23, "os_version": 24, "browser_name": 25,
        "browser_version": 26, "user_agent": 27, "ip_location_region": 28,
    });
    context
        .as_object_mut()
        .unwrap()
        .extend(more.as_object().unwrap().clone());
    let body = json!({"recommendation": {"type": "ALLOW"}, "context": context});
    let (_server, client) = serve_recommendation(body.to_string()).await;
    let rec = client
        .get_recommendation(&ActionToken::new(ACTION_TOKEN))
        .await
        .unwrap();
    assert!(rec.undecoded.is_empty(), "{:?}", rec.undecoded);
    let c = &rec.context;
    assert_eq!(c.action_type, Some(ActionType::Other("7".into())));
    assert_eq!(c.action_id.as_deref(), Some("1"));
    assert_eq!(c.action_performed_at, Some(1_714_557_600_000));
    assert_eq!(c.ip_location_longitude, Some(2.35));
    assert_eq!(c.user_agent.as_deref(), Some("27"));
    assert_eq!(c.device_timestamp, Some(29));
    assert_eq!(c.device_languages, ["fr", "33"]);
    assert_eq!(c.sdk_version.as_deref(), Some("1.4"));
    assert_eq!(c.action_result.as_deref(), Some("37"));
    assert!(c.extra.is_empty(), "{:?}", c.extra);
}

#[tokio::test]
async fn a_collect_answer_that_is_not_a_list_is_read_or_refused_never_looped_on() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    for (stream, body) in [
        ("wrapped", json!({"data": [{"activity": "x"}]}).to_string()),
        ("null", "null".to_owned()),
        ("empty", String::new()),
        ("message", json!({"message": "try later"}).to_string()),
        ("text", "<html>oops</html>".to_owned()),
    ] {
        Mock::given(method("POST"))
            .and(path("/activities/v1/activities/collect"))
            .and(query_param("stream_id", stream))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
    }
    let client = client(&server);
    // A list wrapped in an object is the list.
    let wrapped = client
        .collect(EventType::Risk, "wrapped", 10)
        .await
        .unwrap();
    assert_eq!(wrapped.len(), 1);
    assert_eq!(wrapped[0].activity, "x");
    // Nothing is no events.
    assert!(client
        .collect(EventType::Risk, "null", 10)
        .await
        .unwrap()
        .is_empty());
    assert!(client
        .collect(EventType::Risk, "empty", 10)
        .await
        .unwrap()
        .is_empty());
    // An answer that holds no events is an error, quoting its start: a loop over `collect`
    // stops on it instead of reading the same answer for ever.
    for stream in ["message", "text"] {
        let error = client
            .collect(EventType::Risk, stream, 10)
            .await
            .unwrap_err();
        let risk_core::Error::Decode { excerpt, .. } = &error else {
            panic!("{stream}: {error:?}");
        };
        assert!(!excerpt.is_empty(), "{stream}: {error:?}");
    }
}
