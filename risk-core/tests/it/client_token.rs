//! The access-token cache: one request for concurrent callers, expiry, 401 refresh, token errors.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::client_support::*;
use futures_util::future::join_all;
use risk_core::{ActionToken, Error, RetryPolicy};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn mount_rules(server: &MockServer, token: &str, expect: u64) {
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(expect)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_first_calls_fetch_one_token() {
    let server = MockServer::start().await;
    // A slow token endpoint makes sure all callers are waiting at the same time.
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600}))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_rules(&server, ACCESS_TOKEN, 100).await;

    let client = client(&server);
    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_rules().await })
    });
    for result in join_all(calls).await {
        result.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_cached_token_is_reused() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    mount_rules(&server, ACCESS_TOKEN, 3).await;
    let client = client(&server);
    for _ in 0..3 {
        client.list_rules().await.unwrap();
    }
}

#[tokio::test]
async fn expires_in_zero_refetches_every_call() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 0, 2).await;
    mount_rules(&server, ACCESS_TOKEN, 2).await;
    let client = client(&server);
    client.list_rules().await.unwrap();
    client.list_rules().await.unwrap();
}

#[tokio::test]
async fn clear_token_cache_forces_a_new_token() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 2).await;
    mount_rules(&server, ACCESS_TOKEN, 2).await;
    let client = client(&server);
    client.list_rules().await.unwrap();
    client.clone().clear_token_cache().await;
    client.list_rules().await.unwrap();
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_retries_once() {
    let server = MockServer::start().await;
    // First token request gets the old token, the second the new one.
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN_2, "expires_in": 3600})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "token revoked"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/recommendation"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN_2}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"recommendation": {"type": "ALLOW"}})),
        )
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server);
    let token = ActionToken::new(ACTION_TOKEN);
    client.get_recommendation(&token).await.unwrap();
    // The new token is cached: no third token request.
    client.get_recommendation(&token).await.unwrap();
}

#[tokio::test]
async fn a_trigger_action_answered_401_is_resent_once_with_a_new_token() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 2).await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"action_token": ACTION_TOKEN})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let req = risk_core::TriggerActionRequest::new(SESSION_TOKEN, risk_core::ActionType::Login);
    assert_eq!(
        client
            .trigger_action(&req)
            .await
            .unwrap()
            .action_token
            .expose(),
        ACTION_TOKEN
    );
}

#[tokio::test]
async fn a_second_401_is_unauthorized() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 2).await;
    Mock::given(method("GET"))
        .and(path("/risk/v1/rules"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "nope"})))
        .expect(2)
        .mount(&server)
        .await;
    let err = client(&server).list_rules().await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { message } if message == "nope"),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn token_endpoint_400_and_401_are_token_rejected_and_not_retried() {
    for status in [400_u16, 401] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/oidc/token"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "error": "invalid_client",
                "error_description": format!("bad secret {CLIENT_SECRET}")
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/risk/v1/rules"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let err = client(&server).list_rules().await.unwrap_err();
        match &err {
            Error::TokenRejected { status: s, message } => {
                assert_eq!(*s, status);
                assert!(message.contains("bad secret"), "{message}");
                assert!(!message.contains(CLIENT_SECRET), "secret echoed: {message}");
            }
            other => panic!("expected TokenRejected, got {other:?}"),
        }
        assert!(!err.to_string().contains(CLIENT_SECRET));
    }
}

#[tokio::test]
async fn token_endpoint_5xx_is_retried_per_policy_then_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"message": "maintenance"})))
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server).list_rules().await.unwrap_err();
    assert!(matches!(&err, Error::Server { status: 503, .. }), "{err:?}");
}

#[tokio::test]
async fn token_endpoint_5xx_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    mount_rules(&server, ACCESS_TOKEN, 1).await;
    client(&server).list_rules().await.unwrap();
}

#[tokio::test]
async fn a_malformed_token_response_is_a_decode_error_without_excerpt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!("{{\"access_token\": \"{ACCESS_TOKEN}\", \"expires_in\": [oops"),
            "application/json",
        ))
        .mount(&server)
        .await;
    let err = client(&server).list_rules().await.unwrap_err();
    match &err {
        Error::Decode { excerpt, message } => {
            assert!(excerpt.is_empty());
            assert!(!message.contains(ACCESS_TOKEN));
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(!format!("{err} {err:?}").contains(ACCESS_TOKEN));
}

#[tokio::test]
async fn a_token_response_without_access_token_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token_type": "Bearer"})))
        .mount(&server)
        .await;
    let err = client(&server).list_rules().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn a_token_that_cannot_be_sent_in_a_header_is_a_decode_error_and_not_kept() {
    // A line break cannot travel in `Authorization`: refused when it arrives, not at each call,
    // and not kept (each call asks again).
    let server = MockServer::start().await;
    mount_token(&server, "line\nbreak", 3600, 2).await;
    let client = client(&server);
    for _ in 0..2 {
        let err = client.list_rules().await.unwrap_err();
        match &err {
            Error::Decode { message, excerpt } => {
                assert!(message.contains("cannot be sent in a header"), "{message}");
                assert!(excerpt.is_empty());
                assert!(!message.contains("line"));
            }
            other => panic!("expected Decode, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn expires_in_as_a_string_is_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": ACCESS_TOKEN, "expires_in": "3600", "scope": null}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_rules(&server, ACCESS_TOKEN, 2).await;
    let client = client(&server);
    client.list_rules().await.unwrap();
    client.list_rules().await.unwrap();
}

#[tokio::test]
async fn clones_share_the_token_cache() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    mount_rules(&server, ACCESS_TOKEN, 2).await;
    let client = client(&server);
    client.list_rules().await.unwrap();
    let clone = client.clone();
    drop(client);
    clone.list_rules().await.unwrap();
}

/// A raw server whose token endpoint holds its first request until released (later ones are
/// answered at once) and counts token requests; other paths answer `{"data": []}`.
struct HeldTokenServer {
    base: String,
    token_requests: Arc<AtomicUsize>,
    received: tokio::sync::mpsc::UnboundedReceiver<()>,
    release: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HeldTokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HeldTokenServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let token_requests = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let (tx, received) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn({
            let token_requests = Arc::clone(&token_requests);
            let release = Arc::clone(&release);
            async move {
                let mut connections = tokio::task::JoinSet::new();
                while let Ok((mut stream, _)) = listener.accept().await {
                    let token_requests = Arc::clone(&token_requests);
                    let release = Arc::clone(&release);
                    let tx = tx.clone();
                    connections.spawn(async move {
                        while let Some(path) = read_request(&mut stream).await {
                            let body = if path == "/oidc/token" {
                                if token_requests.fetch_add(1, Ordering::SeqCst) == 0 {
                                    let _ = tx.send(());
                                    release.notified().await;
                                }
                                json!({"access_token": ACCESS_TOKEN, "expires_in": 3600})
                            } else {
                                json!({"data": []})
                            }
                            .to_string();
                            let response = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if stream.write_all(response.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            }
        });
        Self {
            base,
            token_requests,
            received,
            release,
            task,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_timing_out_does_not_cancel_the_shared_token_fetch() {
    let mut server = HeldTokenServer::start().await;
    let deadline = Duration::from_secs(2);
    let client = builder(&server.base)
        .timeout(deadline)
        .token_timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    // The first caller starts the token fetch, which the server holds past its deadline.
    let first = tokio::spawn({
        let client = client.clone();
        async move { client.list_rules().await }
    });
    server.received.recv().await.unwrap();
    let err = first.await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after } if after == deadline),
        "{err:?}"
    );

    // A later caller joins the same fetch (its own deadline, the fetch's `token_timeout`)
    // rather than inheriting the first caller's timeout or starting a second request.
    let second = tokio::spawn({
        let client = client.clone();
        async move { client.list_rules().await }
    });
    server.release.notify_one();
    assert!(second.await.unwrap().unwrap().is_empty());
    assert_eq!(server.token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_lifetime_below_the_refresh_margin_keeps_the_token_half_its_life() {
    // 30 s tokens with the default 60 s margin: kept 15 s, not refetched for every call.
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 30, 1).await;
    mount_rules(&server, ACCESS_TOKEN, 20).await;
    let client = client(&server);
    for _ in 0..20 {
        client.list_rules().await.unwrap();
    }
}

/// The activities resource of the per-resource tests.
const ACTIVITIES_RESOURCE: &str = "https://activities.example.test";

/// The token endpoint answering `token` to requests for `resource` (form-encoded), expected
/// `times` times.
async fn mount_token_for(server: &MockServer, resource: &str, token: &str, times: u64) {
    let form = format!(
        "resource={}",
        url::form_urlencoded::byte_serialize(resource.as_bytes()).collect::<String>()
    );
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains(form))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": token, "expires_in": 3600}))
                // Slow enough that concurrent callers wait on the same fetch.
                .set_delay(Duration::from_millis(100)),
        )
        .expect(times)
        .named(format!("token for {resource}"))
        .mount(server)
        .await;
}

/// A token request whose form has no `resource` field.
struct WithoutResource;

impl wiremock::Match for WithoutResource {
    fn matches(&self, request: &wiremock::Request) -> bool {
        url::form_urlencoded::parse(&request.body).all(|(key, _)| key != "resource")
    }
}

/// `start-collect` answering only the bearer `token`, expected `times` times.
async fn mount_start_collect(server: &MockServer, token: &str, times: u64) {
    Mock::given(method("PUT"))
        .and(path("/activities/v1/activities/start-collect"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "ok"})))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_calls_use_a_token_of_the_configured_resource_and_risk_calls_their_own() {
    let server = MockServer::start().await;
    mount_token_for(&server, "https://risk.identity.security", ACCESS_TOKEN, 1).await;
    mount_token_for(&server, ACTIVITIES_RESOURCE, ACCESS_TOKEN_2, 1).await;
    mount_rules(&server, ACCESS_TOKEN, 20).await;
    mount_start_collect(&server, ACCESS_TOKEN_2, 20).await;

    let client = builder(&server.uri())
        .activities_resource(Some(ACTIVITIES_RESOURCE.to_owned()))
        .build()
        .unwrap();
    assert_eq!(client.activities_resource(), Some(ACTIVITIES_RESOURCE));
    // Concurrent first calls of both kinds: one token fetch per resource, each shared.
    let risk = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_rules().await.map(drop) })
    });
    let activities = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.start_collect(risk_core::EventType::Risk).await })
    });
    for result in join_all(risk.chain(activities)).await {
        result.unwrap().unwrap();
    }
}

#[tokio::test]
async fn no_activities_resource_asks_for_a_token_without_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .and(WithoutResource)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN_2, "expires_in": 3600})),
        )
        .expect(1)
        .named("token without resource")
        .mount(&server)
        .await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    mount_start_collect(&server, ACCESS_TOKEN_2, 2).await;
    mount_rules(&server, ACCESS_TOKEN, 1).await;

    let client = builder(&server.uri())
        .activities_resource(None)
        .build()
        .unwrap();
    client
        .start_collect(risk_core::EventType::Risk)
        .await
        .unwrap();
    client
        .start_collect(risk_core::EventType::Risk)
        .await
        .unwrap();
    client.list_rules().await.unwrap();
}

#[tokio::test]
async fn by_default_activities_calls_ask_for_the_risk_resource_and_a_401_there_spares_the_risk_token(
) {
    let server = MockServer::start().await;
    // One token per API family (both for the risk resource), and one more for the activities
    // calls after their 401; the risk calls keep theirs.
    mount_token(&server, ACCESS_TOKEN, 3600, 3).await;
    Mock::given(method("PUT"))
        .and(path("/activities/v1/activities/start-collect"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_start_collect(&server, ACCESS_TOKEN, 2).await;
    mount_rules(&server, ACCESS_TOKEN, 2).await;
    let client = client(&server);
    assert_eq!(
        client.activities_resource(),
        Some("https://risk.identity.security")
    );
    client.list_rules().await.unwrap();
    // Refused once, refreshed, sent again: only the activities token is fetched anew.
    client
        .start_collect(risk_core::EventType::Risk)
        .await
        .unwrap();
    client
        .start_collect(risk_core::EventType::Risk)
        .await
        .unwrap();
    client.list_rules().await.unwrap();
}

#[tokio::test]
async fn a_401_on_an_activities_call_refreshes_only_its_token() {
    let server = MockServer::start().await;
    mount_token_for(&server, "https://risk.identity.security", ACCESS_TOKEN, 1).await;
    // The activities token is fetched twice: the first one is refused once.
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .and(WithoutResource)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": ACCESS_TOKEN_2, "expires_in": 3600})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/activities/v1/activities/start-collect"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_start_collect(&server, ACCESS_TOKEN_2, 1).await;
    mount_rules(&server, ACCESS_TOKEN, 2).await;

    let client = builder(&server.uri())
        .activities_resource(None)
        .build()
        .unwrap();
    client.list_rules().await.unwrap();
    client
        .start_collect(risk_core::EventType::Risk)
        .await
        .unwrap();
    // The risk token was not dropped with the refused activities token.
    client.list_rules().await.unwrap();
}
