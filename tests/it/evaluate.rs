//! Entity evaluation through both adapters: a route with no browser session is protected by
//! its client's IP address, evaluated against the tenant's rules and cached per address.

use std::net::SocketAddr;

use actix_web::{test as actix_test, web, App, HttpResponse};
use risk_core::{
    ActionType, Guard, Rule, RuleCondition, RuleMatcher, RuleMode, RuleOperator, RuleRecommendation,
};
use risk_emulator::EmulatorHandle;
use tower::ServiceExt;

const BLOCKED: &str = "203.0.113.7:443";
const CLEAN: &str = "198.51.100.1:443";

async fn setup() -> (EmulatorHandle, Guard) {
    let (emu, client) = crate::emulator_with_client().await;
    client
        .create_rule(
            &Rule::new("deny a test range", 1, RuleRecommendation::Deny)
                .with_matcher(RuleMatcher::new().with(
                    "ip_cidrs",
                    RuleCondition::new(RuleOperator::IpIn, ["203.0.113.0/24"]),
                ))
                .with_mode(RuleMode::Production)
                .enabled(true),
        )
        .await
        .unwrap();
    let guard = Guard::builder(ActionType::from("webhook"), client)
        .evaluate_client_ip()
        .build()
        .unwrap();
    (emu, guard)
}

#[tokio::test]
async fn tower_evaluates_the_client_ip_and_caches_the_answer() {
    let (emu, guard) = setup().await;
    let service = tower::Layer::layer(
        &risk_tower::RiskLayer::new(guard.clone()),
        tower::service_fn(|_req: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }),
    );
    let request = |peer: &str| {
        let mut request = http::Request::new(String::new());
        request
            .extensions_mut()
            .insert(peer.parse::<SocketAddr>().unwrap());
        request
    };
    for _ in 0..3 {
        let response = service.clone().oneshot(request(BLOCKED)).await.unwrap();
        assert_eq!(response.status(), 403);
    }
    let response = service.clone().oneshot(request(CLEAN)).await.unwrap();
    assert_eq!(response.status(), 200);
    let stats = emu.stats();
    assert_eq!(stats.requests("evaluate"), 2, "one per address");
    assert_eq!(guard.evaluation_cache_hits(), 2);
    assert_eq!(
        stats.requests("trigger_action") + stats.requests("result"),
        0
    );
    // No address, no evaluation: bad input.
    let response = service
        .oneshot(http::Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[actix_web::test]
async fn actix_evaluates_the_client_ip_and_caches_the_answer() {
    let (emu, guard) = setup().await;
    let app = actix_test::init_service(
        App::new().service(
            web::resource("/hook")
                .route(web::post().to(HttpResponse::Ok))
                .wrap(risk_actix::RiskMiddleware::new(guard.clone())),
        ),
    )
    .await;
    let call = |peer: &str| {
        actix_test::TestRequest::post()
            .uri("/hook")
            .peer_addr(peer.parse().unwrap())
            .to_request()
    };
    for _ in 0..3 {
        let response = actix_test::call_service(&app, call(BLOCKED)).await;
        assert_eq!(response.status().as_u16(), 403);
    }
    let response = actix_test::call_service(&app, call(CLEAN)).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(emu.stats().requests("evaluate"), 2);
    assert_eq!(guard.evaluation_cache_hits(), 2);
}
