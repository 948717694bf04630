//! Authentication, trigger-action, recommendation and result: statuses, bodies and the engine.

use risk_core::{Reason, RecommendationResponse, RecommendationType, TriggerActionResponse};
use risk_emulator::{ClientConfig, EmulatorConfig, DEV_CLIENT_ID, DEV_CLIENT_SECRET};
use serde_json::{json, Value};

use crate::common::{message, Env, CHROME_MAC, T0};

#[tokio::test]
async fn token_endpoint_statuses_and_bodies() {
    let env = Env::start().await;
    let ok = env
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEV_CLIENT_ID),
            ("client_secret", DEV_CLIENT_SECRET),
            ("resource", risk_core::RISK_RESOURCE),
        ])
        .await;
    assert_eq!(ok.status(), 200);
    let v: Value = ok.json().await.unwrap();
    assert!(v["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);

    // The resource is optional (as upstream): a token without one is not scoped.
    let unscoped = env
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEV_CLIENT_ID),
            ("client_secret", DEV_CLIENT_SECRET),
        ])
        .await;
    assert_eq!(unscoped.status(), 200);
    let cases: [(&[(&str, &str)], u16); 5] = [
        (
            &[
                ("grant_type", "password"),
                ("client_id", DEV_CLIENT_ID),
                ("client_secret", DEV_CLIENT_SECRET),
                ("resource", risk_core::RISK_RESOURCE),
            ],
            400,
        ),
        (
            &[
                ("client_id", DEV_CLIENT_ID),
                ("client_secret", DEV_CLIENT_SECRET),
                ("resource", risk_core::RISK_RESOURCE),
            ],
            400,
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEV_CLIENT_ID),
                ("client_secret", DEV_CLIENT_SECRET),
                ("resource", "https://nope.example"),
            ],
            400,
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEV_CLIENT_ID),
                ("client_secret", "wrong"),
                ("resource", risk_core::RISK_RESOURCE),
            ],
            401,
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "stranger"),
                ("client_secret", DEV_CLIENT_SECRET),
                ("resource", risk_core::RISK_RESOURCE),
            ],
            401,
        ),
    ];
    for (form, status) in cases {
        let r = env.token_response(form).await;
        assert_eq!(r.status(), status, "{form:?}");
        assert!(!message(r).await.is_empty());
    }
    assert_eq!(
        env.emu.stats().tokens_issued,
        2,
        "the scoped and the unscoped one"
    );
}

#[tokio::test]
async fn every_endpoint_rejects_missing_unknown_expired_and_foreign_tokens() {
    let env = Env::start().await;
    let admin = env
        .token_for(
            DEV_CLIENT_ID,
            DEV_CLIENT_SECRET,
            "https://admin.identity.security",
        )
        .await;
    let valid = env.token().await;
    let endpoints: [(reqwest::Method, &str); 8] = [
        (reqwest::Method::POST, "/risk/v1/action/trigger-action"),
        (
            reqwest::Method::GET,
            "/risk/v1/recommendation?action_token=x",
        ),
        (reqwest::Method::POST, "/risk/v1/action/result"),
        (reqwest::Method::GET, "/risk/v1/recommendation/rules"),
        (reqwest::Method::GET, "/risk/v1/rules"),
        (
            reqwest::Method::PUT,
            "/activities/v1/activities/start-collect?type=risk",
        ),
        (
            reqwest::Method::PUT,
            "/activities/v1/activities/stream?type=risk&stream_id=s",
        ),
        (
            reqwest::Method::POST,
            "/activities/v1/activities/collect?type=risk&stream_id=s",
        ),
    ];
    for (method, path) in &endpoints {
        let none = env
            .http
            .request(method.clone(), env.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(none.status(), 401, "{path} without token");
        assert!(message(none).await.contains("bearer"));
        let unknown = env.send(method.clone(), path, "eat_0000", None).await;
        assert_eq!(unknown.status(), 401, "{path} unknown token");
        let foreign = env.send(method.clone(), path, &admin, None).await;
        if path.starts_with("/activities") {
            // Which resource the activities endpoints need is not documented: any token.
            assert_ne!(foreign.status(), 403, "{path} admin token");
        } else {
            assert_eq!(foreign.status(), 403, "{path} admin token");
            assert!(message(foreign).await.contains("admin"));
        }
    }
    // Valid until its lifetime ends, then 401.
    assert_eq!(env.get("/risk/v1/rules", &valid).await.status(), 200);
    env.advance(3599);
    assert_eq!(env.get("/risk/v1/rules", &valid).await.status(), 200);
    env.advance(1);
    let expired = env.get("/risk/v1/rules", &valid).await;
    assert_eq!(expired.status(), 401);
    assert!(message(expired).await.contains("expired"));
}

#[tokio::test]
async fn recommendation_has_the_full_seed_shape() {
    let env = Env::start().await;
    let token = env.token().await;
    let session = env
        .session(json!({
            "device_fingerprint": "fp-1", "user_agent": CHROME_MAC, "ip": "192.0.2.10",
            "timezone": "Europe/Paris", "pasted_input": true, "typing_velocity": 0.8
        }))
        .await;
    let at = env
        .trigger(
            &token,
            json!({"session_token": session, "action_type": "login", "correlation_id": "corr-1",
                   "claimed_user_id": "u-1", "claimed_user_id_type": "account_id",
                   "custom_attributes": {"plan": "gold"}}),
        )
        .await;
    let v = env.recommendation_json(&token, &at).await;
    assert!(v["id"].as_str().is_some_and(|s| s.len() >= 16));
    assert_eq!(v["issued_at"], T0);
    assert_eq!(v["recommendation"]["type"], "ALLOW");
    assert!(v["risk_score"].as_f64().unwrap() < 20.0);
    let c = &v["context"];
    assert_eq!(c["action_type"], "login");
    assert_eq!(c["action_performed_at"], T0);
    assert_eq!(c["client_id"], DEV_CLIENT_ID);
    assert_eq!(c["correlation_id"], "corr-1");
    assert_eq!(c["claimed_user_id"], "u-1");
    assert_eq!(c["device_fingerprint"], "fp-1");
    assert!(c["device_id"]
        .as_str()
        .is_some_and(|d| d.starts_with("dev_")));
    assert!(c["action_id"].as_str().is_some());
    assert_eq!(c["ip"], "192.0.2.10");
    assert_eq!(c["ip_country"], "US");
    assert_eq!(c["browser_name"], "Chrome");
    assert_eq!(c["os_name"], "macOS");
    assert_eq!(c["os_version"], "10.15.7");
    assert_eq!(c["device_platform"], "desktop");
    assert_eq!(c["device_timezone"], "Europe/Paris");
    assert_eq!(c["user_agent"], CHROME_MAC);
    let s = &v["risk_signals"];
    assert_eq!(s["device"]["incognito"], false);
    assert_eq!(s["network"]["vpn"], false);
    assert_eq!(s["behavior"]["typing_velocity"], 0.8);
    assert_eq!(
        s["behavior"]["input_method"],
        json!(["is_typing", "is_paste"])
    );
    assert_eq!(s["history"]["ip_action_rate_60_sec"], 1);
    assert_eq!(s["history"]["user_action_rate_60_sec"], 1);
    assert_eq!(s["history"]["ip_user_count_last_hour"], 1);
    assert_eq!(v["reasons"], json!(["DEVICE_NEW"]));
    assert_eq!(v["custom_attributes"]["plan"], "gold");
    assert!(v.get("preview_rule").is_none());
    // It decodes as the client's type.
    let rec: RecommendationResponse = serde_json::from_value(v).unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);

    // get_recommendation=true returns the same shape with the action token.
    let r = env
        .post(
            "/risk/v1/action/trigger-action?get_recommendation=true",
            &token,
            &json!({"session_token": session, "action_type": "checkout"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let both: TriggerActionResponse = r.json().await.unwrap();
    let rec = both.recommendation.expect("recommendation included");
    assert_eq!(rec.context.action_type.unwrap().as_str(), "checkout");
    // The same device was seen before: no DEVICE_NEW any more.
    assert!(rec.reasons.is_empty());
    // Without the flag: only the action token.
    let r = env
        .post(
            "/risk/v1/action/trigger-action",
            &token,
            &json!({"session_token": session, "action_type": "checkout"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert!(v.get("recommendation").is_none() && v["action_token"].is_string());
}

#[tokio::test]
async fn recommendation_carries_the_newer_context_fields_it_knows() {
    let env = Env::start().await;
    let token = env.token().await;
    // The session request came through a proxy: its `X-Forwarded-For` is kept.
    let r = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.2")
        .json(&json!({
            "user_agent": CHROME_MAC, "ip": "192.0.2.11", "device_public_key": "pk-1",
            "languages": ["fr-FR", "en"], "location": "https://shop.example/login",
            "sdk_version": "1.x-emulator"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session = r.json::<Value>().await.unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = env
        .trigger(
            &token,
            json!({"session_token": session, "action_type": "login"}),
        )
        .await;
    let v = env.recommendation_json(&token, &at).await;
    let c = &v["context"];
    assert_eq!(c["device_public_key"], "pk-1");
    assert_eq!(c["device_languages"], json!(["fr-FR", "en"]));
    assert_eq!(c["location"], "https://shop.example/login");
    assert_eq!(c["sdk_version"], "1.x-emulator");
    assert!(c.get("action_result").is_none());
    let s = &v["risk_signals"];
    assert_eq!(
        s["network"]["x_forwarded_for"],
        json!(["203.0.113.7", "10.0.0.2"])
    );
    assert_eq!(s["device"]["navigator_useragent"], CHROME_MAC);
    assert_eq!(s["device"]["tz_mismatch"], false);

    // After a result, the recommendation says which (a later, different one replaces it).
    for result in ["incomplete", "success"] {
        let r = env
            .report(&token, json!({"action_token": at, "result": result}))
            .await;
        assert_eq!(r.status(), 201);
        let v = env.recommendation_json(&token, &at).await;
        assert_eq!(v["context"]["action_result"], result);
    }
}

#[tokio::test]
async fn create_stream_takes_and_tells_back_its_enrichment() {
    let env = Env::start().await;
    let token = env.token().await;
    let base = "/activities/v1/activities/stream?type=risk";
    for (id, query, expected) in [
        ("plain", "", false),
        ("rich", "&enrichment=true", true),
        ("poor", "&enrichment=FALSE", false),
    ] {
        let r = env
            .send(
                reqwest::Method::PUT,
                &format!("{base}&stream_id={id}{query}"),
                &token,
                None,
            )
            .await;
        assert_eq!(r.status(), 200, "{id}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["enrichment"], expected, "{id}");
        assert_eq!(body["stream_id"], id);
        assert_eq!(
            env.emu.stream_enrichment(risk_core::EventType::Risk, id),
            Some(expected)
        );
    }
    let r = env
        .send(
            reqwest::Method::PUT,
            &format!("{base}&stream_id=odd&enrichment=maybe"),
            &token,
            None,
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(message(r).await.contains("enrichment"));
}

#[tokio::test]
async fn trigger_action_validates_its_body() {
    let env = Env::start().await;
    let token = env.token().await;
    let session = env.session(json!({})).await;
    let cases = [
        (json!({"session_token": session}), "action_type"),
        (json!({"action_type": "login"}), "session_token"),
        (
            json!({"session_token": "st_unknown", "action_type": "login"}),
            "unknown session token",
        ),
        (
            json!({"session_token": session, "action_type": ""}),
            "action_type",
        ),
        (json!([1, 2]), "invalid body"),
    ];
    for (body, needle) in cases {
        let r = env
            .post("/risk/v1/action/trigger-action", &token, &body)
            .await;
        assert_eq!(r.status(), 400, "{body}");
        let m = message(r).await;
        assert!(m.contains(needle), "{m} should mention {needle}");
    }
    let r = env
        .http
        .post(env.url("/risk/v1/action/trigger-action"))
        .bearer_auth(&token)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn action_tokens_missing_malformed_unknown_and_expired() {
    let env = Env::start().await;
    let token = env.token().await;
    let r = env.get("/risk/v1/recommendation", &token).await;
    assert_eq!(r.status(), 400);
    let r = env
        .get("/risk/v1/recommendation?action_token=garbage", &token)
        .await;
    assert_eq!(r.status(), 400);
    let unknown = format!("at_{}", "0".repeat(32));
    let r = env
        .get(
            &format!("/risk/v1/recommendation?action_token={unknown}"),
            &token,
        )
        .await;
    assert_eq!(r.status(), 463);
    assert!(!message(r).await.is_empty());

    let session = env.session(json!({})).await;
    let at = env
        .trigger(
            &token,
            json!({"session_token": session, "action_type": "login"}),
        )
        .await;
    env.advance(599);
    env.recommendation_json(&token, &at).await;
    env.advance(1);
    let r = env
        .get(
            &format!("/risk/v1/recommendation?action_token={at}"),
            &token,
        )
        .await;
    assert_eq!(r.status(), 463);
    let r = env
        .report(&token, json!({"action_token": at, "result": "success"}))
        .await;
    assert_eq!(r.status(), 463);
}

#[tokio::test]
async fn result_reporting_and_token_reuse() {
    let env = Env::start().await;
    let token = env.token().await;
    let session = env.session(json!({})).await;
    let (at, _) = env.login(&token, &session, Some("u-1")).await;
    // Fetching again before the result is fine.
    env.recommendation_json(&token, &at).await;

    for bad in [
        json!({"action_token": at, "result": "maybe"}),
        json!({"action_token": at}),
        json!({"result": "success"}),
    ] {
        let r = env.report(&token, bad.clone()).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(!message(r).await.is_empty());
    }
    let r = env
        .report(&token, json!({"action_token": "nope", "result": "success"}))
        .await;
    assert_eq!(r.status(), 400);

    let ok = env
        .report(
            &token,
            json!({"action_token": at, "result": "success", "user_id": "u-1"}),
        )
        .await;
    assert_eq!(ok.status(), 201);
    assert!(!message(ok).await.is_empty());
    // Retrying the same report is idempotent.
    let again = env
        .report(
            &token,
            json!({"action_token": at, "result": "success", "user_id": "u-1"}),
        )
        .await;
    assert_eq!(again.status(), 201);
    // The recommendation can be fetched again, and says the result.
    let rec = env.recommendation_json(&token, &at).await;
    assert_eq!(rec["context"]["action_result"], "success");
    // A result may be reported more than once: a different one replaces it.
    let other = env
        .report(&token, json!({"action_token": at, "result": "failure"}))
        .await;
    assert_eq!(other.status(), 201);
    let rec = env.recommendation_json(&token, &at).await;
    assert_eq!(rec["context"]["action_result"], "failure");
}

#[tokio::test]
async fn new_device_for_known_user_is_challenged_then_trusted_after_the_challenge() {
    let env = Env::start().await;
    let token = env.token().await;
    let laptop = env.session(json!({"device_id": "laptop"})).await;
    let (at, rec) = env.login(&token, &laptop, Some("alice")).await;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    let r = env
        .report(
            &token,
            json!({"action_token": at, "result": "success", "user_id": "alice"}),
        )
        .await;
    assert_eq!(r.status(), 201);

    // Same user, new device: challenge.
    let phone = env.session(json!({"device_id": "phone"})).await;
    let (at, rec) = env.login(&token, &phone, Some("alice")).await;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Challenge);
    assert!(rec.reasons.contains(&Reason::ProfileDeviceNew));
    assert_eq!(
        rec.risk_signals.history.linking_user_to_device_count,
        Some(1)
    );
    let r = env
        .report(
            &token,
            json!({"action_token": at, "result": "success", "user_id": "alice", "challenge_type": "sms_otp"}),
        )
        .await;
    assert_eq!(r.status(), 201);

    // The phone is now trusted for alice, in a new browser session too.
    let phone_again = env.session(json!({"device_id": "phone"})).await;
    let (_, rec) = env.login(&token, &phone_again, Some("alice")).await;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Trust);
    assert!(!rec.reasons.contains(&Reason::ProfileDeviceNew));
    // ... and by user_id as well.
    let at = env
        .trigger(
            &token,
            json!({"session_token": phone_again, "action_type": "transaction", "user_id": "alice"}),
        )
        .await;
    let v = env.recommendation_json(&token, &at).await;
    assert_eq!(v["recommendation"]["type"], "TRUST");
    // Not for another user.
    let (_, rec) = env.login(&token, &phone_again, Some("bob")).await;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    assert_eq!(
        rec.risk_signals.history.linking_device_to_users_count,
        Some(1)
    );
}

#[tokio::test]
async fn a_failed_challenge_does_not_trust_the_device() {
    let env = Env::start().await;
    let token = env.token().await;
    let a = env.session(json!({"device_id": "a"})).await;
    let (at, _) = env.login(&token, &a, Some("carol")).await;
    env.report(&token, json!({"action_token": at, "result": "success"}))
        .await;
    let b = env.session(json!({"device_id": "b"})).await;
    let (at, rec) = env.login(&token, &b, Some("carol")).await;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Challenge);
    env.report(
        &token,
        json!({"action_token": at, "result": "failure", "challenge_type": "sms_otp"}),
    )
    .await;
    let (_, rec) = env.login(&token, &b, Some("carol")).await;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Challenge);
}

#[tokio::test]
async fn risky_telemetry_gives_reasons_and_recommendations() {
    let config = EmulatorConfig {
        anonymizer_cidrs: vec!["198.51.100.0/24".into()],
        hosting_cidrs: vec!["203.0.113.0/24".into()],
        ..EmulatorConfig::default()
    };
    let env = Env::start_with(config).await;
    let token = env.token().await;
    let cases = [
        (json!({"headless": true}), "BEHAVIOR_BOT", "DENY"),
        (json!({"webdriver": true}), "BEHAVIOR_BOT", "DENY"),
        (
            json!({"user_agent": "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 Safari/537.36"}),
            "BEHAVIOR_BOT",
            "DENY",
        ),
        (
            json!({"no_user_interaction": true}),
            "BEHAVIOR_BOT",
            "CHALLENGE",
        ),
        (json!({"tor": true}), "IP_RISKY_REPUTATION", "CHALLENGE"),
        (json!({"vpn": true}), "IP_RISKY_REPUTATION", "ALLOW"),
        (
            json!({"ip": "198.51.100.7"}),
            "IP_RISKY_REPUTATION",
            "ALLOW",
        ),
        (json!({"ip": "203.0.113.7"}), "IP_RISKY_REPUTATION", "ALLOW"),
        (
            json!({"incognito": true}),
            "DEVICE_INCOGNITO_BROWSER",
            "ALLOW",
        ),
        (
            json!({"vpn": true, "incognito": true}),
            "DEVICE_INCOGNITO_BROWSER",
            "CHALLENGE",
        ),
        (
            json!({"private_browser": true}),
            "DEVICE_PRIVATE_BROWSER",
            "ALLOW",
        ),
    ];
    for (i, (telemetry, reason, expected)) in cases.into_iter().enumerate() {
        let mut t = telemetry.clone();
        if t.get("ip").is_none() {
            // Distinct IPs so that velocity does not mix in.
            t["ip"] = json!(format!("192.0.2.{}", i + 1));
        }
        let session = env.session(t).await;
        let at = env
            .trigger(
                &token,
                json!({"session_token": session, "action_type": "login"}),
            )
            .await;
        let v = env.recommendation_json(&token, &at).await;
        assert_eq!(v["recommendation"]["type"], expected, "{telemetry}: {v}");
        assert!(
            v["reasons"].as_array().unwrap().iter().any(|r| r == reason),
            "{telemetry}: {}",
            v["reasons"]
        );
    }
    // The network signals say why.
    let session = env.session(json!({"ip": "203.0.113.8"})).await;
    let (_, rec) = env.login(&token, &session, None).await;
    assert_eq!(rec.risk_signals.network.hosting, Some(true));
    assert_eq!(rec.context.ip_organization_type.as_deref(), Some("hosting"));
}

#[tokio::test]
async fn twenty_logins_from_one_ip_raise_the_rate_and_the_score() {
    let env = Env::start().await;
    let token = env.token().await;
    let mut first = None;
    let mut last = None;
    for i in 0..20 {
        let session = env
            .session(json!({"ip": "192.0.2.99", "device_id": format!("d{i}")}))
            .await;
        let (_, rec) = env.login(&token, &session, Some(&format!("user{i}"))).await;
        first.get_or_insert(rec.clone());
        last = Some(rec);
        env.clock.advance(std::time::Duration::from_millis(500));
    }
    let (first, last) = (first.unwrap(), last.unwrap());
    assert_eq!(first.risk_signals.history.ip_action_rate_60_sec, Some(1));
    assert_eq!(last.risk_signals.history.ip_action_rate_60_sec, Some(20));
    assert_eq!(last.risk_signals.history.ip_user_count_last_hour, Some(20));
    assert_eq!(
        last.risk_signals.history.ip_device_count_last_hour,
        Some(20)
    );
    assert!(last.risk_score.unwrap() > first.risk_score.unwrap());
    assert!(last.reasons.contains(&Reason::DeviceProfileVelocity));
    // A minute later the action rate is back to one; the hour window still counts users.
    env.advance(61);
    let session = env
        .session(json!({"ip": "192.0.2.99", "device_id": "d0"}))
        .await;
    let (_, rec) = env.login(&token, &session, Some("user0")).await;
    assert_eq!(rec.risk_signals.history.ip_action_rate_60_sec, Some(1));
    assert_eq!(rec.risk_signals.history.ip_user_count_last_hour, Some(20));
}

#[tokio::test]
async fn sdk_trigger_action_gives_a_token_the_back_end_can_use() {
    let env = Env::start().await;
    let token = env.token().await;
    let session = env.session(json!({"device_id": "web-1"})).await;
    let r = env
        .http
        .post(env.url("/emulator/v1/sdk/trigger-action"))
        .json(&json!({"session_token": session, "action_type": "login", "correlation_id": "c-9", "claimed_user_id": "dave"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let at = v["action_token"].as_str().unwrap();
    let rec = env.recommendation_json(&token, at).await;
    assert_eq!(rec["context"]["client_id"], DEV_CLIENT_ID);
    assert_eq!(rec["context"]["claimed_user_id"], "dave");
    assert_eq!(rec["context"]["correlation_id"], "c-9");
    assert_eq!(rec["context"]["device_id"], "web-1");
    let r = env
        .http
        .post(env.url("/emulator/v1/sdk/trigger-action"))
        .json(&json!({"session_token": "st_nope", "action_type": "login"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // The in-process equivalents.
    let s = env
        .emu
        .create_session(&risk_emulator::Telemetry::new().with_device_id("web-2"))
        .unwrap();
    let at = env.emu.sdk_trigger_action(&s, "register").unwrap();
    let rec = env.recommendation_json(&token, &at).await;
    assert_eq!(rec["context"]["device_id"], "web-2");
    assert_eq!(rec["context"]["action_type"], "register");
    assert!(env.emu.sdk_trigger_action("st_nope", "login").is_err());
}

#[tokio::test]
async fn sessions_endpoint_validates_and_derives() {
    let env = Env::start().await;
    let r = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .json(&json!({"ip": "not-an-ip"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .json(&json!({"device_fingerprint": "abc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert!(v["session_token"]
        .as_str()
        .is_some_and(|s| s.starts_with("st_")));
    let d1 = v["device_id"].as_str().unwrap().to_owned();
    // The same fingerprint is the same device.
    let r = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .json(&json!({"device_fingerprint": "abc"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["device_id"], d1);
    // An empty body is a clean session at the peer's address.
    let r = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let config = EmulatorConfig::default()
        .with_client(ClientConfig::new("limited", "pw").with_rate_limit_rps(2.0));
    let env = Env::start_with(config).await;
    let token = env
        .token_for("limited", "pw", risk_core::RISK_RESOURCE)
        .await;
    assert_eq!(env.get("/risk/v1/rules", &token).await.status(), 200);
    assert_eq!(env.get("/risk/v1/rules", &token).await.status(), 200);
    let limited = env.get("/risk/v1/rules", &token).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "1");
    assert!(message(limited).await.contains("rate limit"));
    // Other clients are not affected.
    let dev = env.token().await;
    assert_eq!(env.get("/risk/v1/rules", &dev).await.status(), 200);
    // Half a second refills one request.
    env.clock.advance(std::time::Duration::from_millis(500));
    assert_eq!(env.get("/risk/v1/rules", &token).await.status(), 200);
    assert_eq!(env.get("/risk/v1/rules", &token).await.status(), 429);
    assert_eq!(env.emu.stats().rate_limited, 2);
}

#[tokio::test]
async fn stats_and_reset() {
    let env = Env::start().await;
    let token = env.token().await;
    let session = env.session(json!({})).await;
    env.login(&token, &session, None).await;
    let r = env
        .http
        .get(env.url("/emulator/v1/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["tokens_issued"], 1);
    assert!(v["connections_accepted"].as_u64().unwrap() >= 1);
    assert_eq!(v["endpoints"]["trigger_action"]["requests"], 1);
    assert_eq!(v["endpoints"]["trigger_action"]["by_status"]["201"], 1);
    assert_eq!(v["endpoints"]["recommendation"]["by_status"]["200"], 1);
    assert_eq!(v["endpoints"]["token"]["by_status"]["200"], 1);
    let stats = env.emu.stats();
    assert_eq!(stats.responses("trigger_action", 201), 1);
    assert_eq!(stats.requests("recommendation"), 1);

    let r = env
        .http
        .post(env.url("/emulator/v1/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Sessions are gone; the access token still works.
    let r = env
        .post(
            "/risk/v1/action/trigger-action",
            &token,
            &json!({"session_token": session, "action_type": "login"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(env.emu.stats().requests("trigger_action"), 1);
    let r = env.http.get(env.url("/no/such/path")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let env = Env::start().await;
    let url = env.url("/emulator/v1/stats");
    assert_eq!(env.http.get(&url).send().await.unwrap().status(), 200);
    env.emu.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).send().await.is_err());
}
