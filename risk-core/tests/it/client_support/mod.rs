//! Shared helpers of the `client_*` tests: credentials, a token mock, a fast client, and a raw
//! TCP server that stalls mid-body.

use std::time::Duration;

use risk_core::{RetryPolicy, RiskClient, RiskClientBuilder};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const CLIENT_ID: &str = "test-client-id";
pub(crate) const CLIENT_SECRET: &str = "sup3r-s3cret-client-secret-value";
pub(crate) const ACCESS_TOKEN: &str = "eyJ-access-token-0123456789-abcdefghijklmnop";
pub(crate) const ACCESS_TOKEN_2: &str = "eyJ-access-token-SECOND-9876543210-zyxwvu";
pub(crate) const SESSION_TOKEN: &str = "session-token-0123456789abcdefghijklmnopqrstuvwxyz";
pub(crate) const ACTION_TOKEN: &str = "action-token-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";
pub(crate) const USER_AGENT: &str = "risk-core-tests/1.0";

/// A retry policy with tiny backoffs, so retry tests run fast.
pub(crate) fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// A builder pointed at `base`, with test credentials and fast retries.
pub(crate) fn builder(base: &str) -> RiskClientBuilder {
    RiskClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(base)
        .user_agent(USER_AGENT)
        .timeout(Duration::from_secs(5))
        .retry_policy(fast_retries(3))
}

pub(crate) fn client(server: &MockServer) -> RiskClient {
    builder(&server.uri()).build().unwrap()
}

/// The token endpoint answering `token` valid for `expires_in` seconds, expected `times` times.
pub(crate) async fn mount_token(server: &MockServer, token: &str, expires_in: u64, times: u64) {
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains(format!("client_id={CLIENT_ID}")))
        .and(body_string_contains(format!(
            "client_secret={CLIENT_SECRET}"
        )))
        .and(body_string_contains(
            "resource=https%3A%2F%2Frisk.identity.security",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        })))
        .expect(times)
        .named("token endpoint")
        .mount(server)
        .await;
}

/// How many requests reached `path_` on the server.
pub(crate) async fn count(server: &MockServer, path_: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == path_)
        .count()
}

/// A raw HTTP/1.1 server on 127.0.0.1: answers `/oidc/token` normally; for any other path it
/// sends the headers and the first bytes of the body, then stalls forever (until dropped).
pub(crate) struct StallingServer {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StallingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StallingServer {
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve_connection(stream));
            }
        });
        Self { base, task }
    }
}

async fn serve_connection(mut stream: TcpStream) {
    loop {
        let Some(request_path) = read_request(&mut stream).await else {
            return;
        };
        if request_path == "/oidc/token" {
            let body = json!({"access_token": ACCESS_TOKEN, "expires_in": 3600}).to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
                body.len(),
                body
            );
            if stream.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        } else {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\": \"partial";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.flush().await;
            // Stall: never send the rest of the body.
            std::future::pending::<()>().await;
        }
    }
}

/// Reads one request (head and `content-length` body); returns its path.
pub(crate) async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let content_length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < content_length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        have += n;
    }
    let path = head.split_whitespace().nth(1)?.to_owned();
    Some(path.split('?').next().unwrap_or_default().to_owned())
}
