//! Each endpoint's exact request (method, path, query, headers, body) and decoded response.

use crate::client_support::*;
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, ChallengeType, ClaimedUserIdType,
    ConfigError, Error, EventType, LegacyRecommendation, LegacyRule, LegacyRuleMode, Matcher,
    RecommendationType, Recommender, ResultSink, Rule, RuleCondition, RuleMatcher, RuleMode,
    RuleOperator, RuleRecommendation, StreamOptions, TransactionData, TransactionType,
    TriggerActionRequest,
};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn bearer() -> (&'static str, String) {
    ("authorization", format!("Bearer {ACCESS_TOKEN}"))
}

/// A mock with the headers every risk call carries.
fn risk_call(verb: &str, p: &str) -> wiremock::MockBuilder {
    let (k, v) = bearer();
    Mock::given(method(verb))
        .and(path(p))
        .and(header(k, v.as_str()))
        .and(header("user-agent", USER_AGENT))
        .and(header("accept", "application/json"))
}

async fn setup() -> (MockServer, risk_core::RiskClient) {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    let client = client(&server);
    (server, client)
}

fn full_trigger_request() -> TriggerActionRequest {
    TriggerActionRequest::new(SESSION_TOKEN, ActionType::Transaction)
        .with_correlation_id("corr-1")
        .with_user_id("user-9")
        .with_claimed_user_id("acct-77", ClaimedUserIdType::AccountId)
        .with_transaction_data(
            TransactionData::new(120.5, "EUR")
                .with_type(TransactionType::MoneyTransfer)
                .with_method("card"),
        )
        .with_custom_attribute("plan", "gold")
        .with_custom_attribute("seats", 3_i64)
        .with_custom_attribute("beta", true)
}

fn full_trigger_json() -> serde_json::Value {
    json!({
        "session_token": SESSION_TOKEN,
        "action_type": "transaction",
        "correlation_id": "corr-1",
        "user_id": "user-9",
        "claimed_user_id": "acct-77",
        "claimed_user_id_type": "account_id",
        "transaction_data": {"amount": 120.5, "currency": "EUR", "type": "money_transfer", "method": "card"},
        "custom_attributes": {"plan": "gold", "seats": 3, "beta": true}
    })
}

#[tokio::test]
async fn trigger_action_sends_every_field() {
    let (server, client) = setup().await;
    risk_call("POST", "/risk/v1/action/trigger-action")
        .and(header("content-type", "application/json"))
        .and(query_param_is_missing("get_recommendation"))
        .and(body_json(full_trigger_json()))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"action_token": ACTION_TOKEN})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let response = client
        .trigger_action(&full_trigger_request())
        .await
        .unwrap();
    assert_eq!(response.action_token.expose(), ACTION_TOKEN);
    assert!(response.recommendation.is_none());
}

#[tokio::test]
async fn trigger_action_with_recommendation_inline() {
    let (server, client) = setup().await;
    risk_call("POST", "/risk/v1/action/trigger-action")
        .and(query_param("get_recommendation", "true"))
        .and(body_json(
            json!({"session_token": SESSION_TOKEN, "action_type": "login"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "action_token": ACTION_TOKEN,
            "recommendation": {"id": "r1", "recommendation": {"type": "DENY"}, "risk_score": 91}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/risk/v1/recommendation"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let (token, rec) = client
        .trigger_action_with_recommendation(&TriggerActionRequest::new(
            SESSION_TOKEN,
            ActionType::Login,
        ))
        .await
        .unwrap();
    assert_eq!(token.expose(), ACTION_TOKEN);
    assert_eq!(rec.recommendation_type(), &RecommendationType::Deny);
    assert_eq!(rec.risk_score, Some(91.0));
}

#[tokio::test]
async fn trigger_action_with_recommendation_falls_back_to_get() {
    let (server, client) = setup().await;
    risk_call("POST", "/risk/v1/action/trigger-action")
        .and(query_param("get_recommendation", "true"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "action_token": ACTION_TOKEN,
            "recommendation": "not-an-object"
        })))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("GET", "/risk/v1/recommendation")
        .and(query_param("action_token", ACTION_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "r2", "recommendation": {"type": "ALLOW"}, "risk_score": 12.5
        })))
        .expect(1)
        .mount(&server)
        .await;

    let (token, rec) = client
        .trigger_action_with_recommendation(&TriggerActionRequest::new(
            SESSION_TOKEN,
            ActionType::Login,
        ))
        .await
        .unwrap();
    assert_eq!(token.expose(), ACTION_TOKEN);
    assert_eq!(rec.id, "r2");
    assert_eq!(rec.recommendation_type(), &RecommendationType::Allow);
}

#[tokio::test]
async fn the_guards_calls_read_the_decision_and_leave_the_rest_for_later() {
    let (server, client) = setup().await;
    let answer = json!({
        "id": "r4",
        "recommendation": {"type": "CHALLENGE", "challenge_type": "sms_otp"},
        "risk_score": "64.5",
        "reasons": ["DEVICE_NEW"],
        "context": {"action_type": "login", "ip": "203.0.113.7", "device_id": {"odd": 1}}
    });
    risk_call("POST", "/risk/v1/action/trigger-action")
        .and(query_param("get_recommendation", "true"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "action_token": ACTION_TOKEN,
            "recommendation": answer
        })))
        .expect(2)
        .mount(&server)
        .await;
    risk_call("GET", "/risk/v1/recommendation")
        .and(query_param("action_token", ACTION_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(2)
        .mount(&server)
        .await;

    // Each path twice: the client's first answer of the minute is decoded whole as it
    // arrives (so that a field the vendor changed is counted and logged); the others wait.
    let request = TriggerActionRequest::new(SESSION_TOKEN, ActionType::Login);
    let mut answers = Vec::new();
    let mut token = None;
    for _ in 0..2 {
        let (created, inline) = Recommender::trigger_with_recommendation(&client, &request)
            .await
            .unwrap();
        answers.push(inline.unwrap());
        token = Some(created);
    }
    for _ in 0..2 {
        let fetched = Recommender::recommendation(&client, token.as_ref().unwrap()).await;
        answers.push(fetched.unwrap());
    }
    let decoded: Vec<bool> = answers.iter().map(|a| a.is_decoded()).collect();
    assert_eq!(decoded, [true, false, false, false]);
    for answer in answers {
        // The decision, read as it arrived.
        assert_eq!(answer.recommendation_type(), &RecommendationType::Challenge);
        assert_eq!(answer.challenge_type(), Some(&ChallengeType::SmsOtp));
        assert_eq!(answer.risk_score(), Some(64.5));
        assert_eq!(answer.action_type(), Some(&ActionType::Login));
        assert_eq!(answer.reasons().len(), 1);
        // The rest on first access, its undecodable field set aside.
        assert_eq!(answer.context.ip.as_deref(), Some("203.0.113.7"));
        assert!(answer.is_decoded());
        assert_eq!(answer.id, "r4");
        assert!(answer.undecoded.contains_key("context.device_id"));
    }
}

#[tokio::test]
async fn get_recommendation_encodes_the_token_in_the_query() {
    let (server, client) = setup().await;
    let odd_token = "at+with/odd=chars&more";
    risk_call("GET", "/risk/v1/recommendation")
        .and(query_param("action_token", odd_token))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "r3",
            "issued_at": 1648028118123_i64,
            "recommendation": {"type": "CHALLENGE", "challenge_type": "sms_otp"},
            "risk_score": 55
        })))
        .expect(1)
        .mount(&server)
        .await;

    let rec = client
        .get_recommendation(&ActionToken::new(odd_token))
        .await
        .unwrap();
    assert_eq!(rec.issued_at, Some(1648028118123));
    assert_eq!(
        rec.recommendation.challenge_type,
        Some(ChallengeType::SmsOtp)
    );
    let requests = server.received_requests().await.unwrap();
    let get = requests
        .iter()
        .find(|r| r.url.path() == "/risk/v1/recommendation")
        .unwrap();
    assert_eq!(
        get.url.query(),
        Some("action_token=at%2Bwith%2Fodd%3Dchars%26more")
    );
}

#[tokio::test]
async fn report_action_result_sends_the_report() {
    let (server, client) = setup().await;
    risk_call("POST", "/risk/v1/action/result")
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "action_token": ACTION_TOKEN,
            "result": "success",
            "user_id": "user-9",
            "private_user_identifier": "p-1",
            "challenge_type": "passkey"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"message": "ok"})))
        .expect(1)
        .mount(&server)
        .await;

    let report = ActionResultReport::new(ActionToken::new(ACTION_TOKEN), ActionResult::Success)
        .with_user_id("user-9")
        .with_private_user_identifier("p-1")
        .with_challenge_type(ChallengeType::Passkey);
    client.report_action_result(&report).await.unwrap();
}

#[tokio::test]
async fn recommender_and_result_sink_traits_use_the_endpoints() {
    let (server, client) = setup().await;
    risk_call("POST", "/risk/v1/action/trigger-action")
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"action_token": ACTION_TOKEN})),
        )
        .expect(1)
        .mount(&server)
        .await;
    risk_call("GET", "/risk/v1/recommendation")
        .and(query_param("action_token", ACTION_TOKEN))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"recommendation": {"type": "TRUST"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    risk_call("POST", "/risk/v1/action/result")
        .and(body_json(
            json!({"action_token": ACTION_TOKEN, "result": "failure"}),
        ))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;

    let recommender: &dyn Recommender = &client;
    let token = recommender
        .trigger_action(&TriggerActionRequest::new(SESSION_TOKEN, ActionType::Login))
        .await
        .unwrap();
    let rec = recommender.recommendation(&token).await.unwrap();
    assert_eq!(rec.recommendation_type(), &RecommendationType::Trust);
    let sink: &dyn ResultSink = &client;
    sink.report(&ActionResultReport::new(token, ActionResult::Failure))
        .await
        .unwrap();
}

fn legacy_rule() -> LegacyRule {
    LegacyRule::new(
        "Block risky countries",
        10,
        Matcher::IpCidrs(vec!["203.0.113.0/24".into()]),
        LegacyRecommendation::Challenge,
        LegacyRuleMode::Preview,
    )
}

fn legacy_rule_json() -> serde_json::Value {
    json!({
        "name": "Block risky countries",
        "priority": 10,
        "matcher": {"ip_cidrs": ["203.0.113.0/24"]},
        "recommendation": "CHALLENGE",
        "enabled": true,
        "mode": "PREVIEW"
    })
}

#[tokio::test]
async fn legacy_rules_crud() {
    let (server, client) = setup().await;
    risk_call("POST", "/risk/v1/recommendation/rules")
        .and(body_json(legacy_rule_json()))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"message": "created", "rule_id": "lr-1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut with_id = legacy_rule_json();
    with_id["id"] = json!("lr-1");
    risk_call("GET", "/risk/v1/recommendation/rules")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [with_id]})))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("GET", "/risk/v1/recommendation/rules/lr%201")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "lr 1", "data": legacy_rule_json()})),
        )
        .expect(1)
        .mount(&server)
        .await;
    risk_call("PUT", "/risk/v1/recommendation/rules/lr-1")
        .and(header("content-type", "application/json"))
        .and(body_json(legacy_rule_json()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "updated"})))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("DELETE", "/risk/v1/recommendation/rules/lr-1")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "deleted"})))
        .expect(1)
        .mount(&server)
        .await;

    let created = client.create_legacy_rule(&legacy_rule()).await.unwrap();
    assert_eq!(created.rule_id, "lr-1");
    assert_eq!(created.message, "created");
    let list = client.list_legacy_rules().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, "lr-1");
    assert_eq!(list[0].rule, legacy_rule());
    let one = client.get_legacy_rule("lr 1").await.unwrap();
    assert_eq!(one.id, "lr 1");
    assert_eq!(one.data, legacy_rule());
    assert_eq!(
        client
            .update_legacy_rule("lr-1", &legacy_rule())
            .await
            .unwrap()
            .message,
        "updated"
    );
    assert_eq!(
        client.delete_legacy_rule("lr-1").await.unwrap().message,
        "deleted"
    );
}

/// The reference's shape: a matcher of several conditions, one on a field and with an
/// operator this version does not know (kept, round-tripped).
fn rule() -> Rule {
    Rule::new("Known bad devices", 5, RuleRecommendation::Deny)
        .with_matcher(
            RuleMatcher::from(Matcher::DeviceIds(vec!["d-1".into()]))
                .with(
                    "user_agent",
                    RuleCondition::new(RuleOperator::Contains, ["curl"]),
                )
                .with(
                    "field_added_tomorrow",
                    RuleCondition::new(RuleOperator::from("op_added_tomorrow"), ["x"]),
                ),
        )
        .with_mode(RuleMode::Production)
        .with_description("devices seen in fraud")
        .enabled(true)
}

fn rule_json() -> serde_json::Value {
    json!({
        "name": "Known bad devices",
        "priority": 5,
        "recommendation": "deny",
        "enabled": true,
        "mode": "production",
        "type": "risk",
        "description": "devices seen in fraud",
        "matchers": [{
            "device_ids": {"op": "in", "value": ["d-1"]},
            "field_added_tomorrow": {"op": "op_added_tomorrow", "value": ["x"]},
            "user_agent": {"op": "contains", "value": ["curl"]}
        }]
    })
}

#[tokio::test]
async fn current_rules_crud() {
    let (server, client) = setup().await;
    let mut stored = rule_json();
    stored["id"] = json!("r-1");
    risk_call("POST", "/risk/v1/rules")
        .and(body_json(rule_json()))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"message": "Rule created", "rule_id": "r-1", "data": stored.clone()}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("GET", "/risk/v1/rules")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [stored.clone()]})))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("GET", "/risk/v1/rules/r-1")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "r-1", "data": rule_json()})),
        )
        .expect(1)
        .mount(&server)
        .await;
    risk_call("PUT", "/risk/v1/rules/r-1")
        .and(body_json(rule_json()))
        .respond_with(ResponseTemplate::new(200).set_body_json(stored.clone()))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("DELETE", "/risk/v1/rules/r-1")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "rule deleted"})))
        .expect(1)
        .mount(&server)
        .await;

    let created = client.create_rule(&rule()).await.unwrap();
    assert_eq!(created.id, "r-1");
    assert_eq!(created.rule, rule());
    let list = client.list_rules().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].rule, rule(), "every condition kept");
    assert_eq!(
        list[0].rule.matchers[0]
            .condition("field_added_tomorrow")
            .map(|c| c.op.as_str()),
        Some("op_added_tomorrow")
    );
    let one = client.get_rule("r-1").await.unwrap();
    assert_eq!(one.id, "r-1");
    assert_eq!(one.rule.recommendation, RuleRecommendation::Deny);
    let updated = client.update_rule("r-1", &rule()).await.unwrap();
    assert_eq!(updated.rule.priority, 5);
    assert_eq!(
        client.delete_rule("r-1").await.unwrap().message,
        "rule deleted"
    );
}

#[tokio::test]
async fn a_created_rule_whose_answer_does_not_decode_keeps_its_id() {
    let (server, client) = setup().await;
    // The rule exists upstream; only the echoed `data` is unreadable here.
    risk_call("POST", "/risk/v1/rules")
        .and(body_json(rule_json()))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "message": "Rule created",
            "rule_id": "r-7",
            "data": {"id": "r-7", "priority": "first", "matchers": "all"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let created = client.create_rule(&rule()).await.unwrap();
    assert_eq!(created.id, "r-7");
    assert_eq!(created.rule, rule(), "the rule as sent");
}

#[tokio::test]
async fn a_current_rule_without_a_name_is_sent_and_read_without_one() {
    let (server, client) = setup().await;
    let mut unnamed = rule_json();
    unnamed.as_object_mut().unwrap().remove("name");
    let mut stored = unnamed.clone();
    stored["id"] = json!("r-8");
    stored["name"] = json!(null);
    risk_call("POST", "/risk/v1/rules")
        .and(body_json(unnamed))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"message": "Rule created", "rule_id": "r-8", "data": stored}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut rule = rule();
    rule.name = None;
    let created = client.create_rule(&rule).await.unwrap();
    assert_eq!(created.id, "r-8");
    assert_eq!(created.rule.name, None);
}

#[tokio::test]
async fn event_streaming_calls() {
    let (server, client) = setup().await;
    risk_call("PUT", "/activities/v1/activities/start-collect")
        .and(query_param("type", "risk"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("PUT", "/activities/v1/activities/stream")
        .and(query_param("type", "risk"))
        .and(query_param("stream_id", "siem-1"))
        .and(query_param("enrichment", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "created"})))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("POST", "/activities/v1/activities/collect")
        .and(query_param("type", "risk"))
        .and(query_param("stream_id", "siem-1"))
        .and(query_param("batch_size", "250"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {
                "activity": "action_triggered",
                "appId": "app-1",
                "userId": "u-1",
                "ip": "198.51.100.7",
                "userAgent": "Mozilla/5.0",
                "timestamp": 1700000000000_i64,
                "additionalParams": {"action_type": "login", "extra": null}
            },
            {"activity": "page_loaded", "timestamp": "1700000000001", "unknown": 1}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("DELETE", "/activities/v1/activities/stream")
        .and(query_param("type", "risk"))
        .and(query_param("stream_id", "siem-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    risk_call("DELETE", "/activities/v1/activities/stop-collect")
        .and(query_param("type", "risk"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    client.start_collect(EventType::Risk).await.unwrap();
    client
        .create_stream(
            EventType::Risk,
            "siem-1",
            &StreamOptions::new().enrichment(true),
        )
        .await
        .unwrap();
    let events = client
        .collect(EventType::Risk, "siem-1", 250)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].activity, "action_triggered");
    assert_eq!(events[0].app_id.as_deref(), Some("app-1"));
    assert_eq!(events[0].user_id.as_deref(), Some("u-1"));
    assert_eq!(events[0].ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(events[0].timestamp, Some(1_700_000_000_000));
    assert_eq!(events[0].additional_params["action_type"], json!("login"));
    assert_eq!(events[1].timestamp, Some(1_700_000_000_001));
    client
        .delete_stream(EventType::Risk, "siem-1")
        .await
        .unwrap();
    client.stop_collect(EventType::Risk).await.unwrap();
}

#[tokio::test]
async fn invalid_arguments_are_rejected_without_calling_upstream() {
    let server = MockServer::start().await;
    let client = client(&server);

    for bad in [0_u16, 1001] {
        let err = client.collect(EventType::Cis, "s", bad).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config(ConfigError::InvalidValue {
                    setting: "batch_size",
                    ..
                })
            ),
            "{err:?}"
        );
    }
    for bad in ["", "has space", "tab\there"] {
        let err = client
            .create_stream(EventType::Admin, bad, &StreamOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config(ConfigError::InvalidValue {
                    setting: "stream_id",
                    ..
                })
            ),
            "{bad:?}: {err:?}"
        );
        assert!(client.collect(EventType::Admin, bad, 10).await.is_err());
        assert!(client.delete_stream(EventType::Admin, bad).await.is_err());
    }
    let err = client.get_rule("").await.unwrap_err();
    assert!(matches!(
        err,
        Error::Config(ConfigError::InvalidValue {
            setting: "rule_id",
            ..
        })
    ));
    assert!(client.delete_legacy_rule(" ").await.is_err());

    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/proxy/oidc/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600})),
        )
        .expect(1)
        .mount(&server)
        .await;
    risk_call("GET", "/proxy/risk/v1/rules")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": null})))
        .expect(1)
        .mount(&server)
        .await;

    let client = builder(&format!("{}/proxy", server.uri())).build().unwrap();
    assert!(client.list_rules().await.unwrap().is_empty());
}
