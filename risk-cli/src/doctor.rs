//! `risk doctor`: each step of reaching the risk API, with its latency and, when it fails,
//! what to do. A failed step stops the checks (the next ones would only repeat it).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Connection;
use crate::exit::Failure;
use crate::output::{self, Format};

/// One step's outcome.
#[derive(Debug, Serialize)]
struct Step {
    step: &'static str,
    ok: bool,
    detail: String,
    latency_ms: Option<f64>,
    /// What to do when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'static str>,
}

struct Steps {
    done: Vec<Step>,
}

impl Steps {
    fn ok(&mut self, step: &'static str, detail: String, took: Option<Duration>) {
        self.done.push(Step {
            step,
            ok: true,
            detail,
            latency_ms: took.map(|d| d.as_secs_f64() * 1000.0),
            hint: None,
        });
    }

    fn failed(&mut self, step: &'static str, detail: String, hint: &'static str) {
        self.done.push(Step {
            step,
            ok: false,
            detail,
            latency_ms: None,
            hint: Some(hint),
        });
    }
}

pub(crate) async fn run(connection: &Connection, format: Format) -> Result<ExitCode, Failure> {
    let mut steps = Steps { done: Vec::new() };
    let failure = check(connection, &mut steps).await.err();
    match format {
        Format::Json => output::json(&steps.done),
        Format::Table => {
            for s in &steps.done {
                let mark = if s.ok { "ok  " } else { "FAIL" };
                let took = s
                    .latency_ms
                    .map_or_else(String::new, |ms| format!(" ({ms:.1} ms)"));
                println!("{mark} {:<14} {}{took}", s.step, s.detail);
                if let Some(hint) = s.hint {
                    println!("     {:<14} → {hint}", "");
                }
            }
        }
    }
    match failure {
        None => Ok(ExitCode::SUCCESS),
        Some(failure) => Err(failure),
    }
}

async fn check(connection: &Connection, steps: &mut Steps) -> Result<(), Failure> {
    // Configuration.
    let client = match connection.client() {
        Ok(client) => client,
        Err(failure) => {
            steps.failed(
                "configuration",
                failure_text(&failure),
                "set TS_CLIENT_ID and TS_CLIENT_SECRET, and TS_REGION or TS_BASE_URL (or --region, --base-url)",
            );
            return Err(failure);
        }
    };
    let base = url::Url::parse(client.base_url())
        .map_err(|e| Failure::config(format!("base URL: {e}")))?;
    steps.ok(
        "configuration",
        format!(
            "client {} at {} (secret set, not shown)",
            client.client_id(),
            client.base_url()
        ),
        None,
    );

    // A proxy the environment names for the API (the client goes through it too).
    let proxy = proxy_for(&base);
    let (host, port) = match &proxy {
        Some(proxy) => {
            steps.ok(
                "proxy",
                format!(
                    "{} (from the environment; the API is reached through it)",
                    proxy.shown
                ),
                None,
            );
            (proxy.host.clone(), proxy.port)
        }
        None => (
            base.host_str().unwrap_or_default().to_owned(),
            base.port_or_known_default().unwrap_or(443),
        ),
    };

    // Name resolution.
    let started = Instant::now();
    let addresses: Vec<_> = match tokio::net::lookup_host((host.as_str(), port)).await {
        Ok(found) => found.collect(),
        Err(e) => {
            steps.failed(
                "resolve",
                format!("{host}: {e}"),
                "check the region or base URL, and DNS",
            );
            return Err(Failure::unavailable(format!("cannot resolve {host}: {e}")));
        }
    };
    if addresses.is_empty() {
        steps.failed(
            "resolve",
            format!("{host}: no address"),
            "check the region or base URL, and DNS",
        );
        return Err(Failure::unavailable(format!("{host} has no address")));
    }
    let listed: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    steps.ok(
        "resolve",
        format!("{host} → {}", listed.join(", ")),
        Some(started.elapsed()),
    );

    // The network path: each address in turn, as the client tries them.
    let (connected, failed) = connect_first(&addresses, client.timeout()).await;
    match connected {
        Some((address, took)) => {
            let detail = if failed.is_empty() {
                format!("{address}")
            } else {
                format!("{address} (before it: {})", failed.join("; "))
            };
            steps.ok("connect", detail, Some(took));
        }
        None => {
            let detail = failed.join("; ");
            steps.failed(
                "connect",
                detail.clone(),
                "is the API up, and the port open from here (proxy, firewall)?",
            );
            return Err(Failure::unavailable(format!("cannot connect: {detail}")));
        }
    }
    if base.scheme() == "https" {
        steps.ok(
            "tls",
            "HTTPS (checked by the token request below)".to_owned(),
            None,
        );
    } else {
        steps.ok(
            "tls",
            "not used (http: only for a local emulator)".to_owned(),
            None,
        );
    }

    // The credentials.
    let started = Instant::now();
    match token_lifetime(&client, &base).await {
        Ok(lifetime) => steps.ok(
            "access token",
            format!("issued, valid {lifetime} s (not shown)"),
            Some(started.elapsed()),
        ),
        Err(failure) => {
            steps.failed(
                "access token",
                failure_text(&failure),
                "check TS_CLIENT_ID and TS_CLIENT_SECRET (the client must have access to the risk API)",
            );
            return Err(failure);
        }
    }

    // A read-only call.
    let started = Instant::now();
    match client.list_rules().await {
        Ok(rules) => steps.ok(
            "risk API",
            format!("GET /risk/v1/rules: {} rules", rules.len()),
            Some(started.elapsed()),
        ),
        Err(e) => {
            steps.failed(
                "risk API",
                e.to_string(),
                "the credentials work but the risk API refused: check the client's permissions",
            );
            return Err(e.into());
        }
    }
    Ok(())
}

/// Requests a token as the client would, to read its lifetime. The token is dropped unread.
async fn token_lifetime(client: &risk_core::RiskClient, base: &url::Url) -> Result<u64, Failure> {
    let secret = std::env::var("TS_CLIENT_SECRET")
        .map_err(|_| Failure::config("TS_CLIENT_SECRET is not set"))?;
    let url = base
        .join("oidc/token")
        .map_err(|e| Failure::config(format!("token URL: {e}")))?;
    let http = reqwest::Client::builder()
        .timeout(client.timeout())
        .build()
        .map_err(|e| Failure::internal(e.to_string()))?;
    let response = http
        .post(url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client.client_id()),
            ("client_secret", secret.as_str()),
            ("resource", risk_core::RISK_RESOURCE),
        ])
        .send()
        .await
        .map_err(|e| Failure::unavailable(format!("token request: {}", e.without_url())))?;
    let status = response.status();
    if status == reqwest::StatusCode::BAD_REQUEST || status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(Failure::from(risk_core::Error::TokenRejected {
            status: status.as_u16(),
            message: "the credentials were refused".to_owned(),
        }));
    }
    if !status.is_success() {
        return Err(Failure::unavailable(format!(
            "token request answered {status}"
        )));
    }
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| Failure::unavailable(format!("token answer: {}", e.without_url())))?;
    // A number or a numeric string, as the client itself accepts.
    let lifetime = match &body["expires_in"] {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a lifetime in seconds, shown rounded"
    )]
    Ok(lifetime
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(0, |s| s.round() as u64))
}

/// Connects to each of `addresses` in turn until one answers: the one that did (and how long
/// it took), and what happened with those tried before it.
async fn connect_first(
    addresses: &[std::net::SocketAddr],
    timeout: Duration,
) -> (Option<(std::net::SocketAddr, Duration)>, Vec<String>) {
    let mut failed = Vec::new();
    for address in addresses {
        let started = Instant::now();
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(_)) => return (Some((*address, started.elapsed())), failed),
            Ok(Err(e)) => failed.push(format!("{address}: {e}")),
            Err(_) => failed.push(format!("{address}: no answer")),
        }
    }
    (None, failed)
}

/// The proxy the environment names for `base` (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, minus
/// `NO_PROXY`), as the client decides it.
struct Proxy {
    host: String,
    port: u16,
    /// Its scheme, host and port: never its credentials.
    shown: String,
}

fn proxy_for(base: &url::Url) -> Option<Proxy> {
    let uri = http::Uri::try_from(base.as_str()).ok()?;
    let intercept = hyper_util::client::proxy::matcher::Matcher::from_system().intercept(&uri)?;
    let proxy = intercept.uri();
    let host = proxy
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let scheme = proxy.scheme_str().unwrap_or("http");
    let port = proxy
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Some(Proxy {
        shown: format!("{scheme}://{}:{port}", proxy.host().unwrap_or_default()),
        host,
        port,
    })
}

fn failure_text(failure: &Failure) -> String {
    format!("{failure}")
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    /// A refused address before one that answers: the second is used, the first reported.
    #[tokio::test]
    async fn every_address_is_tried_in_turn() {
        let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_address = closed.local_addr().unwrap();
        drop(closed);
        let addresses = [closed_address, open.local_addr().unwrap()];
        let (connected, failed) = connect_first(&addresses, Duration::from_secs(5)).await;
        assert_eq!(connected.map(|(a, _)| a), Some(addresses[1]));
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].starts_with(&closed_address.to_string()),
            "{failed:?}"
        );
    }
}
