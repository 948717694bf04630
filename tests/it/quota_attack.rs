//! The quota attack, against both example servers: with the emulator's client limited to 5
//! requests per second, 48 loops post well-formed garbage session tokens to `/login` while a
//! headless bot, denied in calm times, keeps trying to log in with the right password. Before
//! the quota work the flood spent the quota, the 429s opened the breaker, and the fail-open
//! login let the bot in 11 times out of 12; now the bot is never answered 2xx. The same holds
//! when the flood is of garbage action tokens on `/login/step-up` (which called the client
//! directly, outside any guard, before the quota work). Each run also shows the quota path was
//! taken: the API did answer 429s, and the breaker stayed closed.

use std::net::SocketAddr;
use std::sync::Arc;

use risk_core::BreakerState;
use risk_demo_app::backend::Backend;
use risk_demo_app::{actix_app, axum_app};
use risk_emulator::{
    ClientConfig, Emulator, EmulatorConfig, EmulatorHandle, Telemetry, DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
};
use serde_json::json;

const HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36";

async fn limited_backend() -> (Arc<EmulatorHandle>, Backend) {
    let config = EmulatorConfig::default()
        .with_client(ClientConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET).with_rate_limit_rps(5.0));
    let emulator = Arc::new(Emulator::start(config, "127.0.0.1:0").await.unwrap());
    let backend = Backend::with_emulator(emulator.clone()).unwrap();
    (emulator, backend)
}

fn bot_session(emulator: &EmulatorHandle) -> String {
    let mut bot = Telemetry::new()
        .with_device_id("dev-bot-flood")
        .with_ip("198.51.100.99")
        .with_user_agent(HEADLESS)
        .headless();
    bot.webdriver = true;
    bot.no_user_interaction = true;
    emulator.create_session(&bot).unwrap()
}

async fn bot_login(http: &reqwest::Client, url: &str, session: &str) -> u16 {
    http.post(format!("{url}/login"))
        .header("x-risk-session-token", session)
        .header("x-claimed-user", "bob")
        .json(&json!({ "username": "bob", "password": "builder" }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// What the flood posts: to `/login` with garbage session tokens, or to `/login/step-up` with
/// garbage action tokens.
#[derive(Clone, Copy, Debug)]
enum Flood {
    Login,
    StepUp,
}

impl Flood {
    fn request(
        self,
        http: &reqwest::Client,
        url: &str,
        garbage: String,
    ) -> reqwest::RequestBuilder {
        match self {
            Self::Login => http
                .post(format!("{url}/login"))
                .header("x-risk-session-token", format!("st_garbage_{garbage}"))
                .json(&json!({ "username": "x", "password": "y" })),
            Self::StepUp => http
                .post(format!("{url}/login/step-up"))
                .header("x-risk-action-token", format!("at_garbage_{garbage}"))
                .json(&json!({ "username": "x", "password": "y", "code": "000000" })),
        }
    }
}

/// What one attack saw.
struct Attack {
    /// The bot's login before the flood.
    calm: u16,
    /// The bot's 12 logins during the flood.
    bot: Vec<u16>,
    /// Every answer to the flood.
    flooded: Vec<u16>,
}

/// Calm, then the flood with the bot trying 12 times.
async fn attack(url: &str, emulator: &EmulatorHandle, flood: Flood) -> Attack {
    let http = reqwest::Client::new();
    let session = bot_session(emulator);
    let calm = bot_login(&http, url, &session).await;

    let loops: Vec<_> = (0..48)
        .map(|i| {
            let http = http.clone();
            let url = url.to_owned();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for j in 0..10 {
                    let status = flood
                        .request(&http, &url, format!("{i}_{j}"))
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16());
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect();
    let mut bot = Vec::new();
    for _ in 0..12 {
        bot.push(bot_login(&http, url, &session).await);
    }
    let mut flooded = Vec::new();
    for task in loops {
        flooded.extend(task.await.unwrap());
    }
    Attack { calm, bot, flooded }
}

fn assert_never_let_in(
    server: &str,
    flood: Flood,
    attack: &Attack,
    emulator: &EmulatorHandle,
    backend: &Backend,
) {
    let Attack { calm, bot, flooded } = attack;
    assert_eq!(*calm, 403, "{server}: the bot is denied in calm times");
    assert!(
        bot.iter().all(|s| !(200..300).contains(s)),
        "{server}, {flood:?} flood: the bot got in: {bot:?}"
    );
    assert!(
        flooded.iter().all(|s| !(200..300).contains(s)),
        "{server}, {flood:?} flood: a garbage token got in: {flooded:?}"
    );
    // The flood was answered locally once the client was over its limit.
    assert!(flooded.contains(&429), "{server}, {flood:?}: {flooded:?}");
    // The quota really ran out upstream, and that was not taken for an outage.
    assert!(
        emulator.stats().rate_limited > 0,
        "{server}, {flood:?}: the API answered no 429, so the quota path was not tried"
    );
    assert_eq!(
        backend.risk.circuit_breaker().state(),
        BreakerState::Closed,
        "{server}, {flood:?}: a spent quota must not open the breaker"
    );
}

async fn axum_attack(flood: Flood) {
    let (emulator, backend) = limited_backend().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum_app::router(backend.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let seen = attack(&url, &emulator, flood).await;
    assert_never_let_in("axum", flood, &seen, &emulator, &backend);
    server.abort();
}

async fn actix_attack(flood: Flood) {
    let (emulator, backend) = limited_backend().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = backend.clone();
    let server = actix_web::HttpServer::new(move || {
        let backend = served.clone();
        actix_web::App::new().configure(move |cfg| actix_app::configure(cfg, backend))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let seen = attack(&url, &emulator, flood).await;
    assert_never_let_in("actix", flood, &seen, &emulator, &backend);
    handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_example_never_lets_the_bot_in_during_a_quota_flood() {
    axum_attack(Flood::Login).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_example_never_lets_the_bot_in_during_a_step_up_flood() {
    axum_attack(Flood::StepUp).await;
}

#[actix_web::test]
async fn actix_example_never_lets_the_bot_in_during_a_quota_flood() {
    actix_attack(Flood::Login).await;
}

#[actix_web::test]
async fn actix_example_never_lets_the_bot_in_during_a_step_up_flood() {
    actix_attack(Flood::StepUp).await;
}
