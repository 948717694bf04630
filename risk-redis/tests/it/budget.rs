//! One budget for a fleet: three instances at three times the budget against an emulator
//! that answers 429 beyond it; and Redis going away.

use std::time::Duration;

use risk_core::{
    ActionToken, ActionType, Budget, CallPriority, Error, RetryPolicy, RiskClient,
    TriggerActionRequest,
};
use risk_emulator::{
    ClientConfig, Emulator, EmulatorConfig, Telemetry, DEV_CLIENT_ID, DEV_CLIENT_SECRET,
};
use risk_redis::RedisBudget;

use risk_redis::testing::{eventually, RedisServer};

/// 540 calls per minute: a burst of 8, then 532 per minute (8.87 per second).
const PER_MINUTE: u32 = 540;
const BURST: u32 = 8;
const DRIVE: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_one_budget_and_the_api_never_answers_429() {
    let redis = RedisServer::start().await;
    // The API's own limit: 10 calls per second (a bucket of 10).
    let config = EmulatorConfig::default()
        .with_client(ClientConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET).with_rate_limit_rps(10.0));
    let emu = Emulator::start(config, "127.0.0.1:0").await.unwrap();
    let session = emu
        .create_session(
            &Telemetry::new()
                .with_device_id("fleet")
                .with_ip("198.51.100.70"),
        )
        .unwrap();
    let token = ActionToken::new(
        emu.trigger_action(
            TriggerActionRequest::new(session.as_str(), ActionType::Login),
            DEV_CLIENT_ID,
        )
        .unwrap(),
    );
    let instance = || {
        let budget = RedisBudget::builder(redis.url())
            .key_prefix("fleet-test")
            .per_minute(PER_MINUTE)
            .burst(BURST, 0)
            .build()
            .unwrap();
        RiskClient::builder()
            .client_id(DEV_CLIENT_ID)
            .client_secret(DEV_CLIENT_SECRET)
            .base_url(emu.base_url())
            .retry_policy(RetryPolicy::none())
            .budget(budget)
            .build()
            .unwrap()
    };
    let refill_per_sec = f64::from(PER_MINUTE - BURST) / 60.0;
    // Each instance tries at the budget's rate: together, three times the budget.
    let drivers: Vec<_> = (0..3)
        .map(|_| {
            let client = instance();
            let token = token.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / refill_per_sec));
                let started = tokio::time::Instant::now();
                let (mut admitted, mut refused, mut limited) = (0u32, 0u32, 0u32);
                while started.elapsed() < DRIVE {
                    tick.tick().await;
                    match client.get_recommendation(&token).await {
                        Ok(_) => admitted += 1,
                        Err(Error::QuotaExhausted { .. }) => refused += 1,
                        Err(Error::RateLimited { .. }) => limited += 1,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
                (admitted, refused, limited)
            })
        })
        .collect();
    let (mut admitted, mut refused, mut limited) = (0, 0, 0);
    for driver in drivers {
        let (a, r, l) = driver.await.unwrap();
        admitted += a;
        refused += r;
        limited += l;
    }
    let stats = emu.stats();
    assert_eq!(stats.rate_limited, 0, "the API answered 429");
    assert_eq!(limited, 0);
    assert_eq!(u64::from(admitted), stats.requests("recommendation"));
    let expected = f64::from(BURST) + refill_per_sec * DRIVE.as_secs_f64();
    let off = (f64::from(admitted) - expected).abs() / expected;
    println!(
        "fleet of 3: {admitted} admitted, {refused} refused locally, expected {expected:.1} ({:.1} % off)",
        off * 100.0
    );
    assert!(off <= 0.10, "{admitted} admitted, expected {expected:.1}");
    assert!(refused > admitted, "driven at three times the budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_an_instance_uses_its_local_share_and_comes_back() {
    let mut redis = RedisServer::start().await;
    let budget = RedisBudget::builder(redis.url())
        .key_prefix("share-test")
        .per_minute(6_000)
        .local_share_per_minute(600)
        .build()
        .unwrap();
    assert!(budget.try_acquire(CallPriority::Assessment).await.is_ok());
    assert!(!budget.on_local_share());

    redis.stop().await;
    // Requests keep being answered, from the local share (600 per minute: a burst of 60).
    let mut taken = 0;
    for _ in 0..50 {
        if budget.try_acquire(CallPriority::Assessment).await.is_ok() {
            taken += 1;
        }
    }
    assert_eq!(taken, 50);
    assert!(budget.on_local_share());
    assert!(budget.remaining().is_some());

    redis.restart().await;
    let back = eventually(Duration::from_secs(10), async || {
        budget.try_acquire(CallPriority::Assessment).await.is_ok() && !budget.on_local_share()
    })
    .await;
    assert!(back, "the budget went back to Redis");
}
