//! The example server on Redis (`RISK_REDIS_URL`): every quickstart scenario plays as without
//! it, and the results reach the API through the fleet's report stream.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use risk_demo_app::axum_app;
use risk_demo_app::backend::Backend;
use risk_demo_app::scenarios;
use risk_emulator::{Emulator, EmulatorConfig};
use risk_redis::testing::{eventually, RedisServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_server_plays_every_scenario_on_redis() {
    let redis = RedisServer::start().await;
    let emulator = Arc::new(
        Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
            .await
            .unwrap(),
    );
    let backend = Backend::with_emulator_on_redis(emulator.clone(), &redis.url()).unwrap();
    scenarios::prepare(&backend).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum_app::router(backend.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let run = scenarios::run(&url, &backend, &emulator).await.unwrap();
    crate::e2e::assert_quickstart(&run);
    let delivery = backend.redis_delivery.clone().unwrap();
    // Every report the local buffer took went through the stream to the API.
    let queued = backend.risk.reporter().stats().queued;
    let delivered = eventually(Duration::from_secs(30), async || {
        delivery.stats().sent == queued
    })
    .await;
    assert!(delivered, "{:?} of {queued}", delivery.stats());
    assert!(queued > 0);
    server.abort();
}
