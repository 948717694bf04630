//! `RiskClient` against the emulator: the access token (fetched once, reused, refreshed when
//! the server expired it, never retried when rejected, retried on a 503).

use std::time::Duration;

use risk_core::{Error, RiskClient};
use risk_emulator::{FaultSpec, DEV_CLIENT_ID};

use crate::common::client::{client, fast_retries, login, session, start};

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
