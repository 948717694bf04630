//! Secured session tokens (`getSecureSessionToken(actionType)`) through both adapters, against
//! the emulator: a token bound to the route's action type is accepted; one bound to another
//! action type is refused by the API (403 "Action type mismatch"), which the guard answers as
//! bad input (400), never as an outage, and without reporting a result.

use std::net::SocketAddr;

use actix_web::{test as actix_test, web, App, HttpResponse};
use std::time::Duration;

use risk_core::testing::RecordingSink;
use risk_core::{ActionResult, ActionType, Guard, Reporter};
use risk_emulator::{EmulatorHandle, Telemetry};
use tower::ServiceExt;

const HEADER: &str = "x-risk-secured-session-token";
const PEER: &str = "198.51.100.21:50000";

/// An emulator, a guard for `transaction`, and secured tokens of one session bound to
/// `transaction` (right) and to `login` (wrong).
async fn setup() -> (
    EmulatorHandle,
    Guard,
    String,
    String,
    Reporter,
    RecordingSink,
) {
    let (emu, client) = crate::emulator_with_client().await;
    let session = emu
        .create_session(
            &Telemetry::new()
                .with_device_id("dev-secured")
                .with_ip("198.51.100.21"),
        )
        .unwrap();
    let right = emu.secured_session_token(&session, "transaction");
    let wrong = emu.secured_session_token(&session, "login");
    let sink = RecordingSink::new();
    let reporter = Reporter::builder(sink.clone()).build();
    let guard = Guard::builder(ActionType::Transaction, client)
        .reporter(reporter.clone())
        .build()
        .unwrap();
    (emu, guard, right, wrong, reporter, sink)
}

#[tokio::test]
async fn tower_accepts_a_bound_secured_token_and_refuses_a_mismatch_as_bad_input() {
    let (emu, guard, right, wrong, reporter, sink) = setup().await;
    let service = tower::Layer::layer(
        &risk_tower::RiskLayer::new(guard),
        tower::service_fn(|_req: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new("paid".to_owned()))
        }),
    );
    let request = |token: &str| {
        let mut request = http::Request::builder()
            .method("POST")
            .uri("/transfer")
            .header(HEADER, token)
            .body(String::new())
            .unwrap();
        request
            .extensions_mut()
            .insert(PEER.parse::<SocketAddr>().unwrap());
        request
    };
    let accepted = service.clone().oneshot(request(&right)).await.unwrap();
    assert_eq!(accepted.status(), 200);
    let refused = service.clone().oneshot(request(&wrong)).await.unwrap();
    assert_eq!(refused.status(), 400);
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 2);
    assert_eq!(
        stats.endpoints["trigger_action"].by_status.get(&403),
        Some(&1)
    );
    assert_one_report_for_the_accepted(&reporter, &sink).await;
}

#[actix_web::test]
async fn actix_accepts_a_bound_secured_token_and_refuses_a_mismatch_as_bad_input() {
    let (emu, guard, right, wrong, reporter, sink) = setup().await;
    let app = actix_test::init_service(
        App::new().service(
            web::resource("/transfer")
                .route(web::post().to(|| async { HttpResponse::Ok().body("paid") }))
                .wrap(risk_actix::RiskMiddleware::new(guard)),
        ),
    )
    .await;
    let call = |token: &str| {
        actix_test::TestRequest::post()
            .uri("/transfer")
            .insert_header((HEADER, token))
            .peer_addr(PEER.parse().unwrap())
            .to_request()
    };
    let accepted = actix_test::call_service(&app, call(&right)).await;
    assert_eq!(accepted.status().as_u16(), 200);
    let refused = actix_test::call_service(&app, call(&wrong)).await;
    assert_eq!(refused.status().as_u16(), 400);
    let stats = emu.stats();
    assert_eq!(stats.requests("trigger_action"), 2);
    assert_eq!(
        stats.endpoints["trigger_action"].by_status.get(&403),
        Some(&1)
    );
    assert_one_report_for_the_accepted(&reporter, &sink).await;
}

/// The accepted request's action is reported (`success`); the refused one, which created no
/// action, is not.
async fn assert_one_report_for_the_accepted(reporter: &Reporter, sink: &RecordingSink) {
    reporter.flush(Duration::from_secs(10)).await.unwrap();
    let reports = sink.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].result, ActionResult::Success);
}
