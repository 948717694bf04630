//! The web SDK stand-in and the session endpoints it talks to, over HTTP: the script, CORS,
//! the page's interaction changing what the engine scores, secured session tokens, and the
//! authenticated user set and cleared from the page.

use risk_core::{RecommendationResponse, RecommendationType};
use serde_json::{json, Value};

use crate::common::{Env, CHROME_MAC};

const PAGE_ORIGIN: &str = "http://127.0.0.1:3000";

#[tokio::test]
async fn the_sdk_script_is_served_with_its_documented_surface() {
    let env = Env::start().await;
    let r = env
        .http
        .get(env.emu.web_sdk_url())
        .header("origin", PAGE_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(env
        .emu
        .web_sdk_url()
        .ends_with("/platform-websdk/1.x/ts-platform-websdk.js"));
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let js = r.text().await.unwrap();
    for name in [
        "tsPlatform",
        "initialize",
        "getSessionToken",
        "getSecureSessionToken",
        "triggerActionEvent",
        "setAuthenticatedUser",
        "clearUser",
        "navigator.webdriver",
        "paste",
    ] {
        assert!(js.contains(name), "the SDK has {name}");
    }
}

#[tokio::test]
async fn session_endpoints_answer_a_cors_preflight_from_any_origin() {
    let env = Env::start().await;
    let r = env
        .http
        .request(
            reqwest::Method::OPTIONS,
            env.url("/emulator/v1/sessions/st_x"),
        )
        .header("origin", PAGE_ORIGIN)
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let methods = r.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("PATCH") && methods.contains("DELETE"),
        "{methods}"
    );
    // The risk API itself is for back ends: no CORS there.
    let r = env
        .http
        .post(env.url("/risk/v1/action/trigger-action"))
        .header("origin", PAGE_ORIGIN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

async fn patch(env: &Env, session: &str, body: Value) -> u16 {
    env.http
        .patch(env.url(&format!("/emulator/v1/sessions/{session}")))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Triggers an action from the "page" and reads its recommendation as the back end would.
async fn assess(env: &Env, session: &str) -> RecommendationResponse {
    let r = env
        .http
        .post(env.url("/emulator/v1/sdk/trigger-action"))
        .json(&json!({ "session_token": session, "action_type": "login" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let action: Value = r.json().await.unwrap();
    let token = env.token().await;
    let path = format!(
        "/risk/v1/recommendation?action_token={}",
        action["action_token"].as_str().unwrap()
    );
    env.get(&path, &token).await.json().await.unwrap()
}

#[tokio::test]
async fn what_the_page_reports_is_what_the_engine_scores() {
    let env = Env::start().await;
    // `initialize` creates the session before the person did anything.
    let created = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .json(&json!({
            "client_id": risk_emulator::DEV_CLIENT_ID,
            "device_fingerprint": "0f3c",
            "user_agent": CHROME_MAC,
            "timezone": "Europe/Paris",
            "languages": ["fr-FR", "en"],
            "webdriver": false,
            "no_user_interaction": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let session = created.json::<Value>().await.unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let idle = assess(&env, &session).await;
    assert_eq!(*idle.recommendation_type(), RecommendationType::Challenge);

    // The person typed and pasted: the next action is scored on that.
    assert_eq!(
        patch(
            &env,
            &session,
            json!({ "no_user_interaction": false, "pasted_input": true, "typing_velocity": 5.5 })
        )
        .await,
        204
    );
    let person = assess(&env, &session).await;
    assert_eq!(*person.recommendation_type(), RecommendationType::Allow);
    let methods = &person.risk_signals.behavior.input_method;
    assert!(methods.iter().any(|m| m == "is_paste"), "{methods:?}");
    assert_eq!(person.risk_signals.behavior.typing_velocity, Some(5.5));
    // The action assessed earlier keeps what it was scored on.
    assert_eq!(*idle.recommendation_type(), RecommendationType::Challenge);

    assert_eq!(patch(&env, "st_nope", json!({})).await, 400);
    assert_eq!(patch(&env, &format!("{session}0"), json!({})).await, 400);
}

#[tokio::test]
async fn an_unknown_client_id_is_refused_and_the_page_sets_and_clears_its_user() {
    let env = Env::start().await;
    let r = env
        .http
        .post(env.url("/emulator/v1/sessions"))
        .json(&json!({ "client_id": "someone-else" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let session = env.session(json!({ "user_agent": CHROME_MAC })).await;
    let user = |method: reqwest::Method, body: Option<Value>| {
        let mut request = env.http.request(
            method,
            env.url(&format!("/emulator/v1/sessions/{session}/user")),
        );
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let set = user(reqwest::Method::PUT, Some(json!({ "user_id": "usr_1" })))
        .await
        .unwrap();
    assert_eq!(set.status(), 204);
    assert_eq!(env.emu.session_user(&session).as_deref(), Some("usr_1"));
    let empty = user(reqwest::Method::PUT, Some(json!({ "user_id": " " })))
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    let cleared = user(reqwest::Method::DELETE, None).await.unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(env.emu.session_user(&session), None);

    // A secured session token bound to an action type, for a kept session only.
    let secure = |token: String| {
        env.http
            .post(env.url(&format!("/emulator/v1/sessions/{token}/secure")))
            .json(&json!({ "action_type": "login" }))
            .send()
    };
    let r = secure(session.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let secured: Value = r.json().await.unwrap();
    assert_eq!(
        secured["secured_session_token"],
        env.emu.secured_session_token(&session, "login")
    );
    // Malformed: 400; well-formed but not a kept session: 404.
    assert_eq!(secure("st_00".to_owned()).await.unwrap().status(), 400);
    let last = if session.ends_with('0') { '1' } else { '0' };
    let unknown = format!("{}{last}", &session[..session.len() - 1]);
    assert_eq!(secure(unknown).await.unwrap().status(), 404);
}
