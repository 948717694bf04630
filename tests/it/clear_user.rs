//! A logout route clears the browser session's user at the risk API, in one line, in both
//! adapters (`ClearUserLayer`, `ClearUserMiddleware`), against the emulator.

use std::time::Duration;

use axum::routing::post;
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, RiskClient, TriggerActionRequest,
};
use risk_emulator::{EmulatorHandle, Telemetry, DEV_CLIENT_ID};
use risk_redis::testing::eventually;

/// An emulator, a client, and a session whose user is set (a successful login reported).
async fn logged_in() -> (EmulatorHandle, RiskClient, String) {
    let (emu, client) = crate::emulator_with_client().await;
    let session = emu
        .create_session(
            &Telemetry::new()
                .with_device_id("dev-logout")
                .with_ip("198.51.100.90"),
        )
        .unwrap();
    let action = emu
        .trigger_action(
            TriggerActionRequest::new(session.as_str(), ActionType::Login),
            DEV_CLIENT_ID,
        )
        .unwrap();
    client
        .report_action_result(
            &ActionResultReport::new(ActionToken::new(action), ActionResult::Success)
                .with_user_id("usr-9"),
        )
        .await
        .unwrap();
    assert_eq!(emu.session_user(&session).as_deref(), Some("usr-9"));
    (emu, client, session)
}

async fn logout(url: &str, session: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/logout"))
        .header("x-risk-session-token", session)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_logout_route_clears_the_sessions_user() {
    let (emu, client, session) = logged_in().await;
    let app = axum::Router::new().route(
        "/logout",
        post(|| async { "bye" }).layer(risk_tower::ClearUserLayer::new(client)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    assert_eq!(logout(&url, &session).await, 200);
    let cleared = eventually(Duration::from_secs(10), async || {
        emu.session_user(&session).is_none()
    })
    .await;
    assert!(cleared);
    assert_eq!(emu.stats().requests("clear_user"), 1);
    server.abort();
}

#[actix_web::test]
async fn an_actix_logout_route_clears_the_sessions_user() {
    let (emu, client, session) = logged_in().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().service(
            actix_web::web::resource("/logout")
                .route(actix_web::web::post().to(actix_web::HttpResponse::Ok))
                .wrap(risk_actix::ClearUserMiddleware::new(client.clone())),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    assert_eq!(logout(&url, &session).await, 200);
    let cleared = eventually(Duration::from_secs(10), async || {
        emu.session_user(&session).is_none()
    })
    .await;
    assert!(cleared);
    handle.stop(true).await;
}
