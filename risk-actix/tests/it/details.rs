//! `ActionDetails` put into the request extensions in front of the middleware reach the action.

use actix_web::dev::{Service, ServiceRequest};
use actix_web::{test, web, App, HttpMessage, HttpResponse};
use risk_actix::RiskMiddleware;
use risk_core::testing::StaticRecommender;
use risk_core::{
    ActionDetails, ActionType, ClaimedUser, Guard, RecommendationType, TransactionData,
};

#[actix_web::test]
async fn action_details_from_the_extensions_reach_the_trigger_action() {
    let recommender = StaticRecommender::of_type(RecommendationType::Allow, 5.0);
    let guard = Guard::builder(ActionType::Transaction, recommender.clone())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new().service(
            web::resource("/transfer")
                .route(web::post().to(HttpResponse::Ok))
                .wrap(RiskMiddleware::new(guard))
                // Runs first: what a body-reading middleware would do.
                .wrap_fn(|req: ServiceRequest, srv| {
                    req.extensions_mut().insert(
                        ActionDetails::new()
                            .with_claimed_user(ClaimedUser::new("usr_1"))
                            .with_transaction_data(TransactionData::new(99.5, "USD")),
                    );
                    srv.call(req)
                }),
        ),
    )
    .await;
    let request = test::TestRequest::post()
        .uri("/transfer")
        .insert_header(("x-risk-session-token", "st-details-1"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status(), 200);

    let sent = recommender.trigger_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].claimed_user_id.as_deref(), Some("usr_1"));
    let tx = sent[0].transaction_data.as_ref().unwrap();
    assert_eq!(
        (tx.amount, tx.currency.as_deref()),
        (Some(99.5), Some("USD"))
    );
}
