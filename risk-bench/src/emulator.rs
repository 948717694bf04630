//! The emulator side of the harness: starting it (in-process or as a child process of its
//! own), the fixture of tokens every scenario shares, faults and statistics over HTTP.

use std::net::SocketAddr;

use bytes::Bytes;
use http::Method;

use crate::load::{Conn, LoadError};
use crate::report;
use crate::scenarios::{self, Fixture};

/// The harness's emulator: it scores a benign fleet, thresholds raised so that the velocity
/// the load itself creates does not challenge it (the work per request is the same).
pub(crate) async fn start_emulator() -> Result<risk_emulator::EmulatorHandle, LoadError> {
    let config = risk_emulator::EmulatorConfig {
        thresholds: risk_emulator::Thresholds::new(90.0, 99.0),
        ..risk_emulator::EmulatorConfig::default()
    };
    Ok(risk_emulator::Emulator::start(config, "127.0.0.1:0").await?)
}

/// `--serve-emulator`: the emulator alone in this process, until stdin closes.
pub(crate) async fn serve_emulator() -> Result<(), LoadError> {
    let emu = start_emulator().await?;
    println!("{}", emu.base_url());
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await?;
    emu.shutdown().await;
    Ok(())
}

/// The emulator in a child process (this program with `--serve-emulator`), so that its
/// latency and memory are its own.
pub(crate) struct ChildEmulator {
    child: std::process::Child,
    pub(crate) base: String,
}

impl ChildEmulator {
    pub(crate) fn start() -> Result<Self, LoadError> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--serve-emulator")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| LoadError("the child emulator has no stdout".to_owned()))?;
        let mut base = String::new();
        std::io::BufReader::new(stdout).read_line(&mut base)?;
        let base = base.trim().to_owned();
        if base.is_empty() {
            return Err(LoadError("the child emulator did not start".to_owned()));
        }
        Ok(Self { child, base })
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn memory(&self) -> Option<report::Memory> {
        report::Memory::read(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for ChildEmulator {
    fn drop(&mut self) {
        // Closing stdin stops it; reap it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The access token, sessions (distinct devices and addresses) and front-end action tokens.
pub(crate) async fn make_fixture(
    emulator: SocketAddr,
    sessions: usize,
) -> Result<Fixture, LoadError> {
    let mut conn = Conn::open(emulator).await?;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        risk_emulator::DEV_CLIENT_ID,
        risk_emulator::DEV_CLIENT_SECRET
    );
    let (status, body) = conn
        .send(
            Method::POST,
            "/oidc/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Bytes::from(form),
        )
        .await?;
    let token: serde_json::Value = serde_json::from_slice(&body)?;
    let bearer = token["access_token"]
        .as_str()
        .ok_or_else(|| LoadError(format!("no access token ({status})")))?
        .to_owned();
    let mut session_tokens = Vec::with_capacity(sessions);
    let mut action_tokens = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let telemetry = serde_json::json!({
            "device_id": format!("bench-device-{i}"),
            "ip": format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
            "user_agent": scenarios::USER_AGENT,
        });
        let (_, body) = conn
            .send(
                Method::POST,
                "/emulator/v1/sessions",
                &[],
                Bytes::from(telemetry.to_string()),
            )
            .await?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        let session = v["session_token"]
            .as_str()
            .ok_or_else(|| LoadError("no session token".to_owned()))?
            .to_owned();
        action_tokens.push(sdk_trigger(&mut conn, &session).await?);
        session_tokens.push(session);
    }
    let client = risk_core::RiskClient::builder()
        .client_id(risk_emulator::DEV_CLIENT_ID)
        .client_secret(risk_emulator::DEV_CLIENT_SECRET)
        .base_url(format!("http://{emulator}"))
        .unmetered()
        .build()?;
    Ok(Fixture {
        reqwest: reqwest::Client::builder().tcp_nodelay(true).build()?,
        client,
        emulator,
        bearer,
        sessions: session_tokens,
        action_tokens,
    })
}

pub(crate) async fn set_slow_result(emulator: SocketAddr, slow: bool) -> Result<(), LoadError> {
    let mut conn = Conn::open(emulator).await?;
    let (method, body) = if slow {
        (Method::PUT, r#"{"endpoint":"result","latency_ms":200}"#)
    } else {
        (Method::DELETE, "")
    };
    let (status, _) = conn
        .send(
            method,
            "/emulator/v1/faults",
            &[],
            Bytes::from_static(body.as_bytes()),
        )
        .await?;
    if status.is_success() {
        Ok(())
    } else {
        Err(LoadError(format!("setting the result fault: {status}")))
    }
}

pub(crate) async fn stats(emulator: SocketAddr) -> Result<risk_emulator::Stats, LoadError> {
    let mut conn = Conn::open(emulator).await?;
    let (_, body) = conn
        .send(Method::GET, "/emulator/v1/stats", &[], Bytes::new())
        .await?;
    Ok(serde_json::from_slice(&body)?)
}

pub(crate) fn address_of(base: &str) -> Result<SocketAddr, LoadError> {
    let url = base
        .strip_prefix("http://")
        .ok_or_else(|| LoadError(format!("`{base}`: only http:// emulators")))?;
    let host = url.split('/').next().unwrap_or(url);
    std::net::ToSocketAddrs::to_socket_addrs(host)?
        .next()
        .ok_or_else(|| LoadError(format!("`{host}` resolves to nothing")))
}

/// A `login` action triggered in the page of `session` (the web SDK's call): its action token.
async fn sdk_trigger(conn: &mut Conn, session: &str) -> Result<String, LoadError> {
    let trigger = serde_json::json!({ "session_token": session, "action_type": "login" });
    let (_, body) = conn
        .send(
            Method::POST,
            "/emulator/v1/sdk/trigger-action",
            &[],
            Bytes::from(trigger.to_string()),
        )
        .await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    v["action_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| LoadError("no action token".to_owned()))
}

/// `fixture` with new front-end action tokens, one per session: the emulator keeps a bounded
/// number of actions, so tokens made before scenarios that created hundreds of thousands of
/// actions are forgotten (and answered 400/463) by the time a later scenario uses them.
pub(crate) async fn with_fresh_action_tokens(fixture: &Fixture) -> Result<Fixture, LoadError> {
    let mut conn = Conn::open(fixture.emulator).await?;
    let mut action_tokens = Vec::with_capacity(fixture.sessions.len());
    for session in &fixture.sessions {
        action_tokens.push(sdk_trigger(&mut conn, session).await?);
    }
    Ok(Fixture {
        emulator: fixture.emulator,
        client: fixture.client.clone(),
        reqwest: fixture.reqwest.clone(),
        bearer: fixture.bearer.clone(),
        sessions: fixture.sessions.clone(),
        action_tokens,
    })
}
