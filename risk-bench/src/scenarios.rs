//! What each scenario sends per transaction.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::load::{Conn, LoadError, Steps, Transaction};

/// What every scenario shares: the emulator, an access token for direct calls, and pools of
/// session and action tokens made before the run.
pub(crate) struct Fixture {
    pub(crate) emulator: SocketAddr,
    /// The library's client, for the floor through it (no guard, no adapter).
    pub(crate) client: risk_core::RiskClient,
    /// A plain reqwest client (what the library's client is built on).
    pub(crate) reqwest: reqwest::Client,
    pub(crate) bearer: String,
    pub(crate) sessions: Vec<String>,
    pub(crate) action_tokens: Vec<String>,
}

impl Fixture {
    fn session(&self, i: u64) -> &str {
        pick(&self.sessions, i)
    }

    fn action_token(&self, i: u64) -> &str {
        pick(&self.action_tokens, i)
    }

    /// The trigger-action body the guard would send (session, action type, client facts).
    fn trigger_body(&self, i: u64) -> Bytes {
        Bytes::from(
            serde_json::json!({
                "session_token": self.session(i),
                "action_type": "login",
                "ip": "127.0.0.1",
                "user_agent": USER_AGENT,
            })
            .to_string(),
        )
    }

    async fn trigger(
        &self,
        conn: &mut Conn,
        i: u64,
        with_recommendation: bool,
    ) -> Result<(StatusCode, Bytes), LoadError> {
        let path = if with_recommendation {
            "/risk/v1/action/trigger-action?get_recommendation=true"
        } else {
            "/risk/v1/action/trigger-action"
        };
        let auth = format!("Bearer {}", self.bearer);
        conn.send(
            Method::POST,
            path,
            &[("authorization", &auth)],
            self.trigger_body(i),
        )
        .await
    }

    async fn recommendation(
        &self,
        conn: &mut Conn,
        action_token: &str,
    ) -> Result<(StatusCode, Bytes), LoadError> {
        let auth = format!("Bearer {}", self.bearer);
        let path = format!("/risk/v1/recommendation?action_token={action_token}");
        conn.send(
            Method::GET,
            &path,
            &[("authorization", &auth)],
            Bytes::new(),
        )
        .await
    }
}

pub(crate) const USER_AGENT: &str = "risk-bench/0.1";

/// The JSON body of the scenario with the examples' body middleware: a login form whose user
/// goes with the session (one user always on the same device, as the scoring expects of a
/// benign fleet).
fn login_body(session: u64) -> Bytes {
    Bytes::from(format!(
        r#"{{"username":"bench-user-{session}@example.com","password":"not-a-real-password"}}"#
    ))
}

fn pick(pool: &[String], i: u64) -> &str {
    let len = pool.len().max(1) as u64;
    usize::try_from(i % len)
        .ok()
        .and_then(|i| pool.get(i))
        .map_or("", String::as_str)
}

fn action_token_of(body: &[u8]) -> Result<String, LoadError> {
    let v: serde_json::Value = serde_json::from_slice(body)?;
    v["action_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| LoadError("no action_token in the answer".to_owned()))
}

/// The upstream calls the raw floor makes directly, after the bare request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FloorCalls {
    /// `trigger-action?get_recommendation=true` (single-call mode's one call).
    TriggerWithRecommendation,
    /// The same call, its answer then decoded as the client does
    /// (`TriggerActionResponse::from_slice`): what decoding costs in place, apart from the
    /// client's transport (a diagnostic, not a floor).
    TriggerWithRecommendationDecoded,
    /// trigger-action, then recommendation (two-call mode).
    TriggerThenRecommendation,
    /// recommendation of a front-end action token (action-token mode).
    Recommendation,
}

/// One scenario's transaction.
pub(crate) enum Kind {
    /// `POST /bare` on the server.
    Bare,
    /// `POST <path>` on the server, with a session token (or an action token).
    Protected {
        path: &'static str,
        action_token: bool,
        /// Sends a JSON login body (`username`, `password`), as the example servers' clients do.
        json_body: bool,
    },
    /// `POST /bare` on the server, then the same upstream calls made directly.
    Floor(FloorCalls),
    /// `POST /bare` on the server, then `RiskClient::trigger_action_with_recommendation`:
    /// what the library's client costs over a plain HTTP client (no guard, no adapter).
    ClientFloor,
    /// `POST /bare`, then the floor's trigger-action through a plain reqwest client.
    ReqwestFloor,
    /// trigger-action then recommendation on the emulator, timed apart.
    Emulator,
    /// trigger-action only, counted (fills the emulator with actions).
    Fill(Arc<AtomicU64>),
}

pub(crate) struct Plan {
    pub(crate) kind: Arc<Kind>,
    pub(crate) server: SocketAddr,
    pub(crate) fixture: Arc<Fixture>,
}

/// Every scenario expects 2xx answers: any other is an error of the transaction (counted in
/// the table's errors column), so that a scenario measuring refusals cannot pass for one
/// measuring the work.
fn ok_or_error(status: StatusCode, what: &str) -> Result<StatusCode, LoadError> {
    if status.is_success() {
        Ok(status)
    } else {
        Err(LoadError(format!("{what} answered {status}")))
    }
}

impl Transaction for Plan {
    fn targets(&self) -> Vec<SocketAddr> {
        match *self.kind {
            Kind::Bare | Kind::Protected { .. } | Kind::ClientFloor | Kind::ReqwestFloor => {
                vec![self.server]
            }
            Kind::Floor(_) => vec![self.server, self.fixture.emulator],
            Kind::Emulator | Kind::Fill(_) => vec![self.fixture.emulator],
        }
    }

    async fn run(
        &self,
        conns: &mut [Conn],
        i: u64,
        steps: &mut Steps,
    ) -> Result<StatusCode, LoadError> {
        let f = &self.fixture;
        let ua = [("user-agent", USER_AGENT)];
        match (&*self.kind, conns) {
            (Kind::Bare, [server]) => {
                let (status, _) = server
                    .send(Method::POST, "/bare", &ua, Bytes::new())
                    .await?;
                ok_or_error(status, "the bare route")
            }
            (
                Kind::Protected {
                    path,
                    action_token,
                    json_body,
                },
                [server],
            ) => {
                let header = if *action_token {
                    ("x-risk-action-token", f.action_token(i))
                } else {
                    ("x-risk-session-token", f.session(i))
                };
                let headers = [header, ua[0]];
                let body = if *json_body {
                    login_body(i % f.sessions.len().max(1) as u64)
                } else {
                    Bytes::new()
                };
                let (status, _) = server.send(Method::POST, path, &headers, body).await?;
                ok_or_error(status, path)
            }
            (Kind::Floor(calls), [server, emulator]) => {
                let (status, _) = server
                    .send(Method::POST, "/bare", &ua, Bytes::new())
                    .await?;
                ok_or_error(status, "the bare route")?;
                let status = match calls {
                    FloorCalls::TriggerWithRecommendation => f.trigger(emulator, i, true).await?.0,
                    FloorCalls::TriggerWithRecommendationDecoded => {
                        let (status, body) = f.trigger(emulator, i, true).await?;
                        ok_or_error(status, "the risk API")?;
                        std::hint::black_box(risk_core::TriggerActionResponse::from_slice(&body)?);
                        status
                    }
                    FloorCalls::TriggerThenRecommendation => {
                        let (status, body) = f.trigger(emulator, i, false).await?;
                        ok_or_error(status, "trigger-action")?;
                        f.recommendation(emulator, &action_token_of(&body)?)
                            .await?
                            .0
                    }
                    FloorCalls::Recommendation => {
                        f.recommendation(emulator, f.action_token(i)).await?.0
                    }
                };
                ok_or_error(status, "the risk API")
            }
            (Kind::ClientFloor, [server]) => {
                let (status, _) = server
                    .send(Method::POST, "/bare", &ua, Bytes::new())
                    .await?;
                ok_or_error(status, "the bare route")?;
                let request = risk_core::TriggerActionRequest::new(
                    f.session(i),
                    risk_core::ActionType::Login,
                );
                f.client
                    .trigger_action_with_recommendation(&request)
                    .await?;
                Ok(StatusCode::OK)
            }
            (Kind::ReqwestFloor, [server]) => {
                let (status, _) = server
                    .send(Method::POST, "/bare", &ua, Bytes::new())
                    .await?;
                ok_or_error(status, "the bare route")?;
                let url = format!(
                    "http://{}/risk/v1/action/trigger-action?get_recommendation=true",
                    f.emulator
                );
                let resp = f
                    .reqwest
                    .post(url)
                    .bearer_auth(&f.bearer)
                    .header("content-type", "application/json")
                    .body(f.trigger_body(i))
                    .send()
                    .await?;
                let status = resp.status();
                resp.bytes().await?;
                ok_or_error(StatusCode::from_u16(status.as_u16())?, "trigger-action")
            }
            (Kind::Emulator, [emulator]) => {
                let t = Instant::now();
                let (status, body) = f.trigger(emulator, i, false).await?;
                steps.record("trigger-action", t.elapsed());
                ok_or_error(status, "trigger-action")?;
                let token = action_token_of(&body)?;
                let t = Instant::now();
                let (status, _) = f.recommendation(emulator, &token).await?;
                steps.record("recommendation", t.elapsed());
                ok_or_error(status, "recommendation")
            }
            (Kind::Fill(count), [emulator]) => {
                let (status, _) = f.trigger(emulator, i, false).await?;
                if status.is_success() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                ok_or_error(status, "trigger-action")
            }
            _ => Err(LoadError(
                "connections do not match the scenario".to_owned(),
            )),
        }
    }
}
