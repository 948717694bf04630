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

    // Name resolution.
    let host = base.host_str().unwrap_or_default().to_owned();
    let port = base.port_or_known_default().unwrap_or(443);
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
    let Some(address) = addresses.first().copied() else {
        steps.failed(
            "resolve",
            format!("{host}: no address"),
            "check the region or base URL, and DNS",
        );
        return Err(Failure::unavailable(format!("{host} has no address")));
    };
    steps.ok(
        "resolve",
        format!("{host} → {address}"),
        Some(started.elapsed()),
    );

    // The network path.
    let started = Instant::now();
    let connect = tokio::time::timeout(client.timeout(), tokio::net::TcpStream::connect(address));
    match connect.await {
        Ok(Ok(_)) => steps.ok("connect", format!("{address}"), Some(started.elapsed())),
        Ok(Err(e)) => {
            steps.failed(
                "connect",
                format!("{address}: {e}"),
                "is the API up, and the port open from here (proxy, firewall)?",
            );
            return Err(Failure::unavailable(format!(
                "cannot connect to {address}: {e}"
            )));
        }
        Err(_) => {
            steps.failed(
                "connect",
                format!("{address}: no answer"),
                "is the port open from here (proxy, firewall)?",
            );
            return Err(Failure::unavailable(format!("{address} does not answer")));
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

fn failure_text(failure: &Failure) -> String {
    format!("{failure}")
}
