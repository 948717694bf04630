//! Secured session tokens (`getSecureSessionToken(actionType)`): accepted for their action
//! type, refused (403 "Action type mismatch") for another, which the guard treats as bad input,
//! never as an outage.

use risk_core::{
    ActionType, BreakerState, CircuitBreaker, Decision, Error, ErrorBehavior, Guard,
    TriggerActionRequest,
};

use crate::common::client::{client, session, start};

#[tokio::test]
async fn a_secured_session_token_is_bound_to_its_action_type() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-secured", "203.0.113.30");
    let secured = emu.secured_session_token(&s, "login");

    let ok = client
        .trigger_action(&TriggerActionRequest::secured(
            secured.as_str(),
            ActionType::Login,
        ))
        .await
        .unwrap();
    assert!(!ok.action_token.expose().is_empty());
    let err = client
        .trigger_action(&TriggerActionRequest::secured(
            secured.as_str(),
            ActionType::Transaction,
        ))
        .await
        .unwrap_err();
    match err {
        Error::Forbidden { message } => assert_eq!(message, "Action type mismatch"),
        other => panic!("expected 403, got {other:?}"),
    }

    // Through guards: the login route takes it; a fail-open payment route refuses it as bad
    // input (400), and the breaker does not count it.
    let headers = [("x-risk-secured-session-token", secured.as_str())];
    let login = Guard::builder(ActionType::Login, client.clone())
        .build()
        .unwrap();
    assert!(login
        .check(login.facts(&headers, None, None))
        .await
        .is_proceed());
    let breaker = CircuitBreaker::default();
    let pay = Guard::builder(ActionType::Transaction, client)
        .on_error(ErrorBehavior::FailOpen)
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap();
    for _ in 0..6 {
        match pay.check(pay.facts(&headers, None, None)).await {
            Decision::Respond { response, .. } => {
                assert_eq!(response.status, 400);
                assert!(response.body.contains("invalid_session_token"));
            }
            Decision::Proceed { .. } => panic!("a mismatched secured token got through"),
        }
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn the_sessions_endpoint_answers_a_secured_token_when_asked() {
    let (emu, _) = start().await;
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/emulator/v1/sessions", emu.base_url()))
        .json(&serde_json::json!({"device_id": "dev-s", "action_type": "login"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = body["session_token"].as_str().unwrap();
    assert_eq!(
        body["secured_session_token"].as_str(),
        Some(emu.secured_session_token(session, "login").as_str())
    );
}
