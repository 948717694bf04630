//! Slow and stalled clients against both example servers: a request head or body that does not
//! arrive in time ends the connection (or answers 408), and stalled connections cannot keep the
//! server from answering others for longer than the header timeout.
//!
//! axum runs on tokio's paused clock (the timeouts fire as soon as nothing else can happen);
//! actix-web runs its own clock, so its limits are made short and the tests wait for the event
//! with a deadline.

use std::sync::Arc;
use std::time::Duration;

use risk_demo_app::axum_app;
use risk_demo_app::backend::Backend;
use risk_demo_app::serving::{self, ServerLimits};
use risk_emulator::{Emulator, EmulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn backend(limits: ServerLimits) -> Backend {
    let emulator = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .expect("emulator starts");
    let mut backend = Backend::with_emulator(Arc::new(emulator)).expect("backend builds");
    backend.limits = limits;
    backend
}

/// An axum example server with `limits`, served by `serving::serve_axum`.
async fn axum_server(limits: ServerLimits) -> std::net::SocketAddr {
    let backend = backend(limits).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum_app::router(backend.clone());
    tokio::spawn(serving::serve_axum(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    addr
}

/// Everything the server sends until it closes the connection (a failure, not a hang, if it
/// never does: on the paused clock the 10-minute bound passes at once).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    // A reset counts as closed too.
    let read = tokio::time::timeout(Duration::from_secs(600), stream.read_to_end(&mut seen));
    assert!(read.await.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&seen).into_owned()
}

const HEAD_LINE: &[u8] = b"POST /login HTTP/1.1\r\nhost: example\r\n";

#[tokio::test(start_paused = true)]
async fn axum_closes_a_request_head_that_trickles_past_the_header_timeout() {
    let limits = ServerLimits::default();
    let addr = axum_server(limits).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    stream.write_all(HEAD_LINE).await.unwrap();
    // The rest of the head never comes.
    read_until_closed(&mut stream).await;
    let held = started.elapsed();
    assert!(
        held >= limits.header_read_timeout && held < limits.header_read_timeout * 2,
        "closed after {held:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn axum_answers_408_to_a_body_that_trickles_past_the_body_timeout() {
    let limits = ServerLimits::default();
    let addr = axum_server(limits).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    stream
        .write_all(b"POST /login HTTP/1.1\r\nhost: example\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut answer = vec![0u8; 512];
    let n = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    let held = started.elapsed();
    assert!(held >= limits.body_read_timeout, "answered after {held:?}");
}

#[tokio::test(start_paused = true)]
async fn stalled_connections_hold_axum_no_longer_than_the_header_timeout() {
    let limits = ServerLimits {
        max_connections: 2,
        ..ServerLimits::default()
    };
    let addr = axum_server(limits).await;
    // Two connections that never send anything take every slot.
    let _stalled = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    let started = tokio::time::Instant::now();
    let mut health = TcpStream::connect(addr).await.unwrap();
    health
        .write_all(b"GET /health HTTP/1.1\r\nhost: example\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut health).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Served once the stalled connections timed out, not before and not never.
    let waited = started.elapsed();
    assert!(
        waited >= limits.header_read_timeout && waited < limits.header_read_timeout * 2,
        "answered after {waited:?}"
    );
}

/// An actix-web example server with `limits` (short: actix-web's clock cannot be paused).
fn actix_server(backend: Backend) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The example server itself, one worker.
    let server = serving::actix_server(backend, listener, Some(1)).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

fn short_limits() -> ServerLimits {
    ServerLimits {
        header_read_timeout: Duration::from_millis(300),
        body_read_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    }
}

#[actix_web::test]
async fn actix_ends_a_request_head_that_trickles_past_the_header_timeout() {
    let (addr, handle) = actix_server(backend(short_limits()).await);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(HEAD_LINE).await.unwrap();
    // The server's 300 ms timeout ends the connection, well before actix-web's 5 s default.
    let started = std::time::Instant::now();
    let answer = read_until_closed(&mut stream).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "ended by the configured timeout, not the default"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    handle.stop(false).await;
}

#[actix_web::test]
async fn actix_answers_408_to_a_body_that_trickles_past_the_body_timeout() {
    let (addr, handle) = actix_server(backend(short_limits()).await);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /login HTTP/1.1\r\nhost: example\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered well before 10 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    handle.stop(false).await;
}

/// A route whose guard triggers the action and then waits for its recommendation (two calls),
/// with the emulator's recommendation slowed so that the client can leave in between.
struct Disconnect {
    emulator: Arc<risk_emulator::EmulatorHandle>,
    observer: risk_core::RiskClient,
    guard: risk_core::Guard,
    reporter: risk_core::Reporter,
    handler_ran: Arc<std::sync::atomic::AtomicUsize>,
    session: String,
}

async fn disconnect_setup() -> Disconnect {
    let emulator = Arc::new(
        Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .expect("emulator starts"),
    );
    let client = risk_core::RiskClient::builder()
        .client_id(risk_emulator::DEV_CLIENT_ID)
        .client_secret(risk_emulator::DEV_CLIENT_SECRET)
        .base_url(emulator.base_url())
        .unmetered()
        .build()
        .unwrap();
    let reporter = risk_core::Reporter::builder(client.clone()).build();
    // The event stream tells which result arrived.
    client
        .start_collect(risk_core::EventType::Risk)
        .await
        .unwrap();
    client
        .create_stream(
            risk_core::EventType::Risk,
            "leavers",
            &risk_core::StreamOptions::default(),
        )
        .await
        .unwrap();
    let observer = client.clone();
    let guard = risk_core::Guard::builder(risk_core::ActionType::Login, client)
        .single_call(false)
        .deadline(Duration::from_secs(30))
        .reporter(reporter.clone())
        .without_client_limit()
        .build()
        .unwrap();
    let session = emulator
        .create_session(&risk_emulator::Telemetry::new().with_device_id("leaver"))
        .unwrap();
    emulator
        .set_fault(risk_emulator::FaultSpec::new("recommendation").with_latency_ms(2_000))
        .unwrap();
    Disconnect {
        emulator,
        observer,
        guard,
        reporter,
        handler_ran: Arc::default(),
        session,
    }
}

/// Sends a login and leaves once trigger-action has answered (the emulator saw it), then
/// waits until the action's result arrives at the emulator.
async fn leave_during_the_check(addr: std::net::SocketAddr, d: &Disconnect) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /login HTTP/1.1\r\nhost: example\r\nx-risk-session-token: {}\r\ncontent-length: 0\r\n\r\n",
        d.session
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while d.emulator.stats().responses("trigger_action", 201) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "trigger-action never answered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(stream);
    while d.emulator.stats().responses("result", 201) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the action was never reported"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    d.reporter.flush(Duration::from_secs(10)).await.unwrap();
    let stats = d.emulator.stats();
    assert_eq!(stats.responses("result", 201), 1, "reported exactly once");
    assert_eq!(
        d.handler_ran.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the handler never ran"
    );
    let events = d
        .observer
        .collect(risk_core::EventType::Risk, "leavers", 100)
        .await
        .unwrap();
    let results: Vec<_> = events
        .iter()
        .filter(|e| e.activity == "action_result_reported")
        .map(|e| e.additional_params["result"].clone())
        .collect();
    assert_eq!(results, vec![serde_json::json!("incomplete")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_reports_incomplete_once_when_the_client_leaves_during_the_check() {
    let d = disconnect_setup().await;
    let ran = Arc::clone(&d.handler_ran);
    let router = axum::Router::new().route(
        "/login",
        axum::routing::post(move || {
            ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { "ok" }
        })
        .route_layer(risk_tower::RiskLayer::new(d.guard.clone())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServerLimits::default();
    tokio::spawn(serving::serve_axum(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    leave_during_the_check(addr, &d).await;
}

#[actix_web::test]
async fn actix_reports_incomplete_once_when_the_client_leaves_during_the_check() {
    let d = disconnect_setup().await;
    let guard = d.guard.clone();
    let ran = Arc::clone(&d.handler_ran);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = actix_web::HttpServer::new(move || {
        let ran = Arc::clone(&ran);
        actix_web::App::new().service(
            actix_web::web::resource("/login")
                .wrap(risk_actix::RiskMiddleware::new(guard.clone()))
                .route(actix_web::web::post().to(move || {
                    ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async { actix_web::HttpResponse::Ok().finish() }
                })),
        )
    })
    .workers(1)
    // What the example server sets: a client that leaves ends its request.
    .h1_allow_half_closed(false)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    leave_during_the_check(addr, &d).await;
    handle.stop(false).await;
}
