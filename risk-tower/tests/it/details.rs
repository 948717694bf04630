//! `ActionDetails` put into the request extensions in front of the layer reach the action.

use std::convert::Infallible;

use http::{Request, Response};
use risk_core::testing::StaticRecommender;
use risk_core::{
    ActionDetails, ActionType, ClaimedUser, ClaimedUserIdType, Guard, RecommendationType,
    TransactionData,
};
use risk_tower::RiskLayer;
use tower::{service_fn, ServiceBuilder, ServiceExt};

#[tokio::test]
async fn action_details_from_the_extensions_reach_the_trigger_action() {
    let recommender = StaticRecommender::of_type(RecommendationType::Allow, 5.0);
    let guard = Guard::builder(ActionType::Transaction, recommender.clone())
        .build()
        .unwrap();
    let service = ServiceBuilder::new()
        .layer(RiskLayer::new(guard))
        .service(service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        }));

    let mut request = Request::builder()
        .uri("/transfer")
        .header("x-risk-session-token", "st-details-1")
        .body(String::new())
        .unwrap();
    request.extensions_mut().insert(
        ActionDetails::new()
            .with_claimed_user(ClaimedUser::new("usr_1").with_type(ClaimedUserIdType::AccountId))
            .with_transaction_data(TransactionData::new(250.0, "EUR"))
            .with_custom_attribute("channel", "web"),
    );
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);

    let sent = recommender.trigger_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].claimed_user_id.as_deref(), Some("usr_1"));
    assert_eq!(
        sent[0].claimed_user_id_type,
        Some(ClaimedUserIdType::AccountId)
    );
    let tx = sent[0].transaction_data.as_ref().unwrap();
    assert_eq!(
        (tx.amount, tx.currency.as_deref()),
        (Some(250.0), Some("EUR"))
    );
    assert!(sent[0]
        .custom_attributes
        .as_ref()
        .unwrap()
        .contains_key("channel"));
}
