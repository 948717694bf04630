//! Both rule APIs (one store), every matcher, preview versus production.

use std::collections::BTreeMap;

use risk_core::{
    CreateLegacyRuleResponse, LegacyRecommendation, LegacyRuleEnvelope, LegacyRuleList, Matcher,
    Rule, RuleList, RuleMode, RuleRecommendation, StoredRule,
};
use risk_emulator::EmulatorConfig;
use serde_json::{json, Value};

use crate::common::{message, Env};

fn legacy(name: &str, priority: i64, matcher: Value, rec: &str, mode: &str) -> Value {
    json!({"name": name, "priority": priority, "matcher": matcher, "recommendation": rec,
           "enabled": true, "mode": mode})
}

fn current(name: &str, priority: i64, matchers: Value, rec: &str, mode: &str) -> Value {
    json!({"name": name, "priority": priority, "matchers": matchers, "recommendation": rec,
           "enabled": true, "mode": mode, "type": "risk"})
}

#[tokio::test]
async fn seed_shape_crud_statuses_and_bodies() {
    let env = Env::start().await;
    let t = env.token().await;
    let base = "/risk/v1/recommendation/rules";
    let r = env
        .post(
            base,
            &t,
            &legacy(
                "Block range",
                10,
                json!({"ip_cidrs": ["203.0.113.0/24"]}),
                "DENY",
                "PRODUCTION",
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: CreateLegacyRuleResponse = r.json().await.unwrap();
    assert!(!created.message.is_empty());
    let id = created.rule_id;

    let list: LegacyRuleList = env.get(base, &t).await.json().await.unwrap();
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.data[0].id, id);
    assert_eq!(list.data[0].rule.name.as_deref(), Some("Block range"));

    let r = env.get(&format!("{base}/{id}"), &t).await;
    assert_eq!(r.status(), 200);
    let one: LegacyRuleEnvelope = r.json().await.unwrap();
    assert_eq!(one.id, id);
    assert_eq!(one.data.recommendation, LegacyRecommendation::Deny);

    // Collisions and bad bodies.
    let dup_name = env
        .post(
            base,
            &t,
            &legacy(
                "Block range",
                11,
                json!({"user_ids": ["u"]}),
                "DENY",
                "PRODUCTION",
            ),
        )
        .await;
    assert_eq!(dup_name.status(), 409);
    assert!(message(dup_name).await.contains("Block range"));
    let dup_prio = env
        .post(
            base,
            &t,
            &legacy(
                "Other",
                10,
                json!({"user_ids": ["u"]}),
                "DENY",
                "PRODUCTION",
            ),
        )
        .await;
    assert_eq!(dup_prio.status(), 409);
    for bad in [
        json!({"name": "x", "priority": 3, "recommendation": "DENY", "enabled": true, "mode": "PREVIEW"}),
        legacy(
            "x",
            3,
            json!({"ip_cidrs": ["a", "b"], "user_ids": ["u"]}),
            "DENY",
            "PREVIEW",
        ),
        legacy("x", 3, json!({"shoe_sizes": ["42"]}), "DENY", "PREVIEW"),
        legacy(
            "x",
            3,
            json!({"ip_cidrs": ["not-a-cidr"]}),
            "DENY",
            "PREVIEW",
        ),
        legacy("x", 3, json!({"user_ids": ["u"]}), "MAYBE", "PREVIEW"),
        // The deprecated API has no ALLOW (the current one has).
        legacy("x", 3, json!({"user_ids": ["u"]}), "ALLOW", "PREVIEW"),
        legacy("x", 3, json!({"user_ids": ["u"]}), "DENY", "SOMETIMES"),
    ] {
        let r = env.post(base, &t, &bad).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(!message(r).await.is_empty());
    }

    let r = env
        .send(
            reqwest::Method::PUT,
            &format!("{base}/{id}"),
            &t,
            Some(&legacy(
                "Block range",
                12,
                json!({"ip_cidrs": ["203.0.113.0/24"]}),
                "CHALLENGE",
                "PREVIEW",
            )),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(!message(r).await.is_empty());
    let one: LegacyRuleEnvelope = env
        .get(&format!("{base}/{id}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one.data.priority, 12);
    let r = env
        .send(
            reqwest::Method::PUT,
            &format!("{base}/nope"),
            &t,
            Some(&legacy(
                "Z",
                99,
                json!({"user_ids": ["u"]}),
                "DENY",
                "PREVIEW",
            )),
        )
        .await;
    assert_eq!(r.status(), 404);

    let r = env
        .send(reqwest::Method::DELETE, &format!("{base}/{id}"), &t, None)
        .await;
    assert_eq!(r.status(), 200);
    assert!(!message(r).await.is_empty());
    assert_eq!(env.get(&format!("{base}/{id}"), &t).await.status(), 404);
    assert_eq!(
        env.send(reqwest::Method::DELETE, &format!("{base}/{id}"), &t, None)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn rules_without_a_name_are_named_on_both_apis() {
    let env = Env::start().await;
    let t = env.token().await;
    let mut seed = legacy("", 3, json!({"user_ids": ["u"]}), "TRUST", "PREVIEW");
    seed.as_object_mut().unwrap().remove("name");
    let r = env.post("/risk/v1/recommendation/rules", &t, &seed).await;
    assert_eq!(r.status(), 201);
    let seed_id = r.json::<CreateLegacyRuleResponse>().await.unwrap().rule_id;
    let one: LegacyRuleEnvelope = env
        .get(&format!("/risk/v1/recommendation/rules/{seed_id}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one.data.name, Some(format!("rule-{seed_id}")));

    let mut unnamed = current(
        "",
        4,
        json!([{"ip_cidrs": {"op": "ip_in", "value": ["203.0.113.0/24"]}}]),
        "allow",
        "production",
    );
    unnamed.as_object_mut().unwrap().remove("name");
    let r = env.post("/risk/v1/rules", &t, &unnamed).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let id = body["rule_id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["id"], id.as_str());
    assert_eq!(body["data"]["name"], format!("rule-{id}"));
    // An allow rule shows as ALLOW through the deprecated API, which cannot create one.
    let list: LegacyRuleList = env
        .get("/risk/v1/recommendation/rules", &t)
        .await
        .json()
        .await
        .unwrap();
    let shown = list.data.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        shown.rule.recommendation,
        LegacyRecommendation::Other("ALLOW".into())
    );
}

#[tokio::test]
async fn current_conditions_on_more_fields_with_every_operator() {
    let env = Env::start().await;
    let t = env.token().await;
    let firefox =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    let cond = |op: &str, values: &[&str]| json!({"op": op, "value": values});
    // (matcher, matching telemetry, non-matching telemetry)
    let cases = [
        (
            json!({"ip_cidrs": cond("ip_not_in", &["10.0.0.0/8"]),
                   "action_type": cond("in", &["login"])}),
            json!({"ip": "198.51.100.9"}),
            json!({"ip": "10.1.2.3"}),
        ),
        (
            json!({"device_platform": cond("in", &["mobile"])}),
            json!({"user_agent": iphone}),
            json!({"user_agent": firefox}),
        ),
        (
            json!({"user_agent": cond("contains", &["firefox"])}),
            json!({"user_agent": firefox}),
            json!({"user_agent": iphone}),
        ),
        (
            json!({"location": cond("contains", &["/admin"])}),
            json!({"location": "https://shop.example/admin/login"}),
            json!({"location": "https://shop.example/login"}),
        ),
        (
            json!({"country_codes": cond("not_in", &["US"])}),
            json!({"country_code": "FR"}),
            json!({}),
        ),
    ];
    for (i, (matcher, hit, miss)) in cases.into_iter().enumerate() {
        let prio = i64::try_from(i).unwrap() + 1;
        let r = env
            .post(
                "/risk/v1/rules",
                &t,
                &current(
                    &format!("c{i}"),
                    prio,
                    json!([matcher]),
                    "deny",
                    "production",
                ),
            )
            .await;
        assert_eq!(r.status(), 201, "{matcher}");
        let id = r.json::<StoredRule>().await.unwrap().id;
        let v = outcome(&env, &t, hit.clone(), None, None).await;
        assert_eq!(
            v["recommendation"]["type"], "DENY",
            "{matcher} should match {hit}"
        );
        let v = outcome(&env, &t, miss.clone(), None, None).await;
        assert_eq!(
            v["recommendation"]["type"], "ALLOW",
            "{matcher} should not match {miss}"
        );
        env.send(
            reqwest::Method::DELETE,
            &format!("/risk/v1/rules/{id}"),
            &t,
            None,
        )
        .await;
        env.advance(61);
    }
    // An unknown field or operator is kept (and round-trips), and never matches here.
    let odd = json!([{"device_ids": cond("in", &["d-9"]),
                      "field_added_tomorrow": cond("in", &["x"])},
                     {"device_ids": cond("op_added_tomorrow", &["d-9"])}]);
    let r = env
        .post(
            "/risk/v1/rules",
            &t,
            &current("odd", 50, odd.clone(), "deny", "production"),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["matchers"], odd);
    let v = outcome(&env, &t, json!({"device_id": "d-9"}), None, None).await;
    assert_eq!(v["recommendation"]["type"], "ALLOW");
}

#[tokio::test]
async fn current_shape_crud_and_one_store_for_both_apis() {
    let env = Env::start().await;
    let t = env.token().await;
    let r = env
        .post(
            "/risk/v1/rules",
            &t,
            &current(
                "Known bad devices",
                5,
                json!([{"device_ids": {"op": "in", "value": ["d-1"]}}, {"country_codes": {"op": "in", "value": ["FR"]}}]),
                "deny",
                "production",
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    let stored: StoredRule = r.json().await.unwrap();
    assert_eq!(stored.rule.matchers.len(), 2);
    let id = stored.id.clone();

    for prio in [0, 1001] {
        let r = env
            .post(
                "/risk/v1/rules",
                &t,
                &current(
                    &format!("p{prio}"),
                    prio,
                    json!([{"user_ids": {"op": "in", "value": ["u"]}}]),
                    "deny",
                    "production",
                ),
            )
            .await;
        assert_eq!(r.status(), 400, "priority {prio}");
    }
    let r = env
        .post(
            "/risk/v1/rules",
            &t,
            &current(
                "Known bad devices",
                6,
                json!([{"user_ids": {"op": "in", "value": ["u"]}}]),
                "deny",
                "production",
            ),
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = env
        .post(
            "/risk/v1/rules",
            &t,
            &current(
                "n",
                5,
                json!([{"user_ids": {"op": "in", "value": ["u"]}}]),
                "deny",
                "production",
            ),
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = env
        .post(
            "/risk/v1/rules",
            &t,
            &current("n", 7, json!([]), "deny", "production"),
        )
        .await;
    assert_eq!(r.status(), 400);

    // Created through the seed API, visible here (and the other way round).
    let r = env
        .post(
            "/risk/v1/recommendation/rules",
            &t,
            &legacy(
                "Seed rule",
                20,
                json!({"user_ids": ["eve"]}),
                "CHALLENGE",
                "PREVIEW",
            ),
        )
        .await;
    let legacy_id = r.json::<CreateLegacyRuleResponse>().await.unwrap().rule_id;
    let list: RuleList = env.get("/risk/v1/rules", &t).await.json().await.unwrap();
    assert_eq!(
        list.data
            .iter()
            .map(|r| r.rule.priority)
            .collect::<Vec<_>>(),
        [5, 20]
    );
    let seed = list.data.iter().find(|r| r.id == legacy_id).unwrap();
    assert_eq!(seed.rule.recommendation, RuleRecommendation::Challenge);
    assert_eq!(seed.rule.mode, RuleMode::Preview);
    let legacy_list: LegacyRuleList = env
        .get("/risk/v1/recommendation/rules", &t)
        .await
        .json()
        .await
        .unwrap();
    let first = legacy_list.data.iter().find(|r| r.id == id).unwrap();
    assert_eq!(first.rule.recommendation, LegacyRecommendation::Deny);
    assert_eq!(first.rule.matcher, Matcher::DeviceIds(vec!["d-1".into()]));

    let r = env.get(&format!("/risk/v1/rules/{id}"), &t).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<StoredRule>().await.unwrap(), stored);
    let mut updated = current(
        "Known bad devices",
        6,
        json!([{"device_ids": {"op": "in", "value": ["d-2"]}}]),
        "challenge",
        "preview",
    );
    updated["enabled"] = json!(false);
    let r = env
        .send(
            reqwest::Method::PUT,
            &format!("/risk/v1/rules/{id}"),
            &t,
            Some(&updated),
        )
        .await;
    assert_eq!(r.status(), 200);
    let after: StoredRule = r.json().await.unwrap();
    assert_eq!(after.id, id);
    assert_eq!(after.rule.priority, 6);
    assert!(!after.rule.enabled);
    let r = env
        .send(
            reqwest::Method::PUT,
            "/risk/v1/rules/nope",
            &t,
            Some(&updated),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = env
        .send(
            reqwest::Method::PUT,
            &format!("/risk/v1/rules/{id}"),
            &t,
            Some(&json!({"name": 1})),
        )
        .await;
    assert_eq!(r.status(), 400);

    let r = env
        .send(
            reqwest::Method::DELETE,
            &format!("/risk/v1/rules/{legacy_id}"),
            &t,
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(!message(r).await.is_empty());
    assert_eq!(
        env.get(&format!("/risk/v1/recommendation/rules/{legacy_id}"), &t)
            .await
            .status(),
        404
    );
    assert_eq!(env.get("/risk/v1/rules/nope", &t).await.status(), 404);
    // Rules are defaults-disabled in the current shape.
    let r = env
        .post("/risk/v1/rules", &t, &json!({"name": "quiet", "priority": 9, "recommendation": "deny", "mode": "production", "matchers": [{"user_ids": {"op": "in", "value": ["x"]}}]}))
        .await;
    assert!(!r.json::<StoredRule>().await.unwrap().rule.enabled);
}

/// Logs in with `telemetry` (and `claimed`/`user_id`) and returns the recommendation type.
async fn outcome(
    env: &Env,
    t: &str,
    telemetry: Value,
    claimed: Option<&str>,
    user_id: Option<&str>,
) -> Value {
    let session = env.session(telemetry).await;
    let mut body = json!({"session_token": session, "action_type": "login"});
    if let Some(c) = claimed {
        body["claimed_user_id"] = json!(c);
    }
    if let Some(u) = user_id {
        body["user_id"] = json!(u);
    }
    let at = env.trigger(t, body).await;
    env.recommendation_json(t, &at).await
}

#[tokio::test]
async fn every_matcher_kind_matches_its_fact_only() {
    let config = EmulatorConfig {
        country_cidrs: BTreeMap::from([("FR".to_owned(), vec!["192.0.2.0/25".to_owned()])]),
        ..EmulatorConfig::default()
    };
    let env = Env::start_with(config).await;
    let t = env.token().await;
    let firefox =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
    let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
    // (matcher, matching telemetry, claimed, user_id, non-matching telemetry)
    type Case<'a> = (Value, Value, Option<&'a str>, Option<&'a str>, Value);
    let cases: Vec<Case<'_>> = vec![
        (
            json!({"ip_cidrs": {"op": "ip_in", "value": ["198.51.100.0/24"]}}),
            json!({"ip": "198.51.100.20"}),
            None,
            None,
            json!({"ip": "198.51.101.20"}),
        ),
        (
            json!({"user_ids": {"op": "in", "value": ["mallory"]}}),
            json!({}),
            Some("mallory"),
            None,
            json!({}),
        ),
        (
            json!({"user_ids": {"op": "in", "value": ["trent"]}}),
            json!({}),
            None,
            Some("trent"),
            json!({}),
        ),
        (
            json!({"device_ids": {"op": "in", "value": ["dev-x"]}}),
            json!({"device_id": "dev-x"}),
            None,
            None,
            json!({"device_id": "dev-y"}),
        ),
        (
            json!({"device_fingerprints": {"op": "in", "value": ["fp-x"]}}),
            json!({"device_fingerprint": "fp-x"}),
            None,
            None,
            json!({"device_fingerprint": "fp-y"}),
        ),
        (
            json!({"device_public_keys": {"op": "in", "value": ["pk-x"]}}),
            json!({"device_public_key": "pk-x"}),
            None,
            None,
            json!({"device_fingerprint": "pk-x"}),
        ),
        (
            json!({"country_codes": {"op": "in", "value": ["fr"]}}),
            json!({"ip": "192.0.2.3"}),
            None,
            None,
            json!({"ip": "192.0.2.200"}),
        ),
        (
            json!({"country_codes": {"op": "in", "value": ["DE"]}}),
            json!({"country_code": "de"}),
            None,
            None,
            json!({}),
        ),
        (
            json!({"browser_names": {"op": "in", "value": ["firefox"]}}),
            json!({"user_agent": firefox}),
            None,
            None,
            json!({"user_agent": android}),
        ),
        (
            json!({"os_versions": {"op": "in", "value": ["14"]}}),
            json!({"user_agent": android}),
            None,
            None,
            json!({"user_agent": firefox}),
        ),
    ];
    for (i, (matcher, hit, claimed, user, miss)) in cases.into_iter().enumerate() {
        let prio = i64::try_from(i).unwrap() + 1;
        let r = env
            .post(
                "/risk/v1/rules",
                &t,
                &current(
                    &format!("r{i}"),
                    prio,
                    json!([matcher]),
                    "deny",
                    "production",
                ),
            )
            .await;
        assert_eq!(r.status(), 201);
        let id = r.json::<StoredRule>().await.unwrap().id;
        let v = outcome(&env, &t, hit.clone(), claimed, user).await;
        assert_eq!(
            v["recommendation"]["type"], "DENY",
            "{matcher} should match {hit}"
        );
        assert!(v["risk_score"].as_f64().unwrap() >= 90.0);
        let v = outcome(&env, &t, miss.clone(), None, None).await;
        assert_eq!(
            v["recommendation"]["type"], "ALLOW",
            "{matcher} should not match {miss}"
        );
        let r = env
            .send(
                reqwest::Method::DELETE,
                &format!("/risk/v1/rules/{id}"),
                &t,
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        // Keep the per-IP velocity out of the picture.
        env.advance(61);
    }
}

#[tokio::test]
async fn all_matchers_of_a_rule_must_match_and_disabled_rules_are_ignored() {
    let env = Env::start().await;
    let t = env.token().await;
    env.post(
        "/risk/v1/rules",
        &t,
        &current(
            "both",
            1,
            json!([{"device_ids": {"op": "in", "value": ["d1"]}}, {"user_ids": {"op": "in", "value": ["u1"]}}]),
            "challenge",
            "production",
        ),
    )
    .await;
    let mut off = current(
        "off",
        2,
        json!([{"device_ids": {"op": "in", "value": ["d2"]}}]),
        "deny",
        "production",
    );
    off["enabled"] = json!(false);
    env.post("/risk/v1/rules", &t, &off).await;
    let v = outcome(&env, &t, json!({"device_id": "d1"}), Some("u1"), None).await;
    assert_eq!(v["recommendation"]["type"], "CHALLENGE");
    assert_eq!(v["risk_score"], 50.0);
    let v = outcome(&env, &t, json!({"device_id": "d1"}), Some("u2"), None).await;
    assert_eq!(v["recommendation"]["type"], "ALLOW");
    let v = outcome(&env, &t, json!({"device_id": "d2"}), None, None).await;
    assert_eq!(v["recommendation"]["type"], "ALLOW");
}

#[tokio::test]
async fn preview_rules_report_without_changing_the_recommendation() {
    let env = Env::start().await;
    let t = env.token().await;
    let m = json!({"device_ids": ["dp"]});
    env.post(
        "/risk/v1/recommendation/rules",
        &t,
        &legacy("would challenge", 10, m.clone(), "CHALLENGE", "PREVIEW"),
    )
    .await;
    // Preview alone: recommendation unchanged, preview_rule reported.
    let v = outcome(&env, &t, json!({"device_id": "dp"}), None, None).await;
    assert_eq!(v["recommendation"]["type"], "ALLOW");
    assert_eq!(v["preview_rule"]["rule_name"], "would challenge");
    assert_eq!(v["preview_rule"]["recommendation"], "CHALLENGE");
    assert_eq!(v["preview_rule"]["risk_score"], 50.0);
    // Not matching: no preview_rule.
    let v = outcome(&env, &t, json!({"device_id": "other"}), None, None).await;
    assert!(v.get("preview_rule").is_none());

    // A production rule after it: production decides, the preview is still reported.
    env.post(
        "/risk/v1/recommendation/rules",
        &t,
        &legacy("deny it", 20, m.clone(), "DENY", "PRODUCTION"),
    )
    .await;
    let v = outcome(&env, &t, json!({"device_id": "dp"}), None, None).await;
    assert_eq!(v["recommendation"]["type"], "DENY");
    assert_eq!(v["preview_rule"]["rule_name"], "would challenge");

    // A production rule before it: the preview would not have won.
    env.post(
        "/risk/v1/recommendation/rules",
        &t,
        &legacy("trust it", 5, m, "TRUST", "PRODUCTION"),
    )
    .await;
    let v = outcome(&env, &t, json!({"device_id": "dp"}), None, None).await;
    assert_eq!(v["recommendation"]["type"], "TRUST");
    assert!(v["risk_score"].as_f64().unwrap() <= 10.0);
    assert!(v.get("preview_rule").is_none());
}

#[tokio::test]
async fn configured_rules_are_loaded_and_restored_by_reset() {
    let config = EmulatorConfig::from_toml_str(
        r#"
        [[rules]]
        name = "block test range"
        priority = 10
        recommendation = "deny"
        mode = "production"
        enabled = true
        matchers = [{ ip_cidrs = { op = "ip_in", value = ["203.0.113.0/24"] } }]
        "#,
    )
    .unwrap();
    let env = Env::start_with(config).await;
    let t = env.token().await;
    let v = outcome(&env, &t, json!({"ip": "203.0.113.5"}), None, None).await;
    assert_eq!(v["recommendation"]["type"], "DENY");
    let list: RuleList = env.get("/risk/v1/rules", &t).await.json().await.unwrap();
    let id = list.data[0].id.clone();
    env.send(
        reqwest::Method::DELETE,
        &format!("/risk/v1/rules/{id}"),
        &t,
        None,
    )
    .await;
    assert!(env.emu.rules().is_empty());
    env.emu.reset().unwrap();
    assert_eq!(env.emu.rules().len(), 1);
    // In-process rule management.
    let stored = env
        .emu
        .add_rule(
            Rule::new("more", 11, RuleRecommendation::Challenge)
                .with_matcher(Matcher::UserIds(vec!["x".into()])),
        )
        .unwrap();
    assert_eq!(stored.rule.name.as_deref(), Some("more"));
    assert!(env
        .emu
        .add_rule(Rule::new("more", 12, RuleRecommendation::Deny))
        .is_err());
    // Invalid configured rules are refused at start.
    let bad = EmulatorConfig::default().with_rule(Rule::new("bad", 0, RuleRecommendation::Deny));
    assert!(risk_emulator::Emulator::start(bad, "127.0.0.1:0")
        .await
        .is_err());
}
