//! Load driver: trigger-action plus recommendation flows per second through the emulator.
//!
//! Not a criterion micro-benchmark: it starts the emulator in-process, then runs
//! `WORKERS` concurrent workers, each doing trigger-action + GET recommendation over HTTP
//! with a keep-alive client, for `FLOWS` flows in total, and prints flows/second.
//! `cargo bench -p risk-emulator --bench throughput` (env `FLOWS`, `WORKERS` to change).
#![expect(clippy::print_stdout, clippy::unwrap_used, reason = "benchmark code")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use risk_emulator::{Emulator, EmulatorConfig, Telemetry};
use serde_json::{json, Value};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let flows = env_or("FLOWS", 100_000);
    let workers = env_or("WORKERS", 64);
    let threads = usize::try_from(env_or("THREADS", 2)).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(flows, workers));
}

async fn run(flows: u64, workers: u64) {
    let emu = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let base = emu.base_url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::try_from(workers).unwrap())
        .build()
        .unwrap();
    let token = {
        let r: Value = http
            .post(format!("{base}/oidc/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", risk_emulator::DEV_CLIENT_ID),
                ("client_secret", risk_emulator::DEV_CLIENT_SECRET),
                ("resource", risk_core::RISK_RESOURCE),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().unwrap().to_owned()
    };
    // A few hundred devices on a few dozen IPs: realistic history maps, no single hot key.
    let sessions: Arc<Vec<String>> = Arc::new(
        (0..256)
            .map(|i| {
                emu.create_session(
                    &Telemetry::new()
                        .with_device_id(format!("bench-device-{i}"))
                        .with_ip(format!("10.0.{}.{}", i % 32, i)),
                )
                .unwrap()
            })
            .collect(),
    );
    let remaining = Arc::new(AtomicU64::new(flows));
    let errors = Arc::new(AtomicU64::new(0));

    let one_flow = |http: reqwest::Client, base: String, token: String, session: String, n: u64| async move {
        let trigger = format!("{base}/risk/v1/action/trigger-action");
        let r = http
            .post(&trigger)
            .bearer_auth(&token)
            .json(&json!({"session_token": session, "action_type": "login", "claimed_user_id": format!("user-{}", n % 1000)}))
            .send()
            .await
            .ok()?;
        if r.status() != 201 {
            return None;
        }
        let v: Value = r.json().await.ok()?;
        let at = v["action_token"].as_str()?.to_owned();
        let r = http
            .get(format!("{base}/risk/v1/recommendation"))
            .query(&[("action_token", at.as_str())])
            .bearer_auth(&token)
            .send()
            .await
            .ok()?;
        if r.status() != 200 {
            return None;
        }
        let _: Value = r.json().await.ok()?;
        Some(())
    };

    // Warm-up: open the connections.
    for i in 0..workers {
        one_flow(
            http.clone(),
            base.clone(),
            token.clone(),
            sessions[0].clone(),
            i,
        )
        .await;
    }

    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (http, base, token, sessions) =
            (http.clone(), base.clone(), token.clone(), sessions.clone());
        let (remaining, errors) = (remaining.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1))
                .is_ok()
            {
                let session = sessions[usize::try_from(i % 256).unwrap()].clone();
                if one_flow(http.clone(), base.clone(), token.clone(), session, i)
                    .await
                    .is_none()
                {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                i += workers;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    #[expect(clippy::cast_precision_loss, reason = "benchmark code")]
    let rate = flows as f64 / elapsed.as_secs_f64();
    let stats = emu.stats();
    println!(
        "risk-emulator throughput: {flows} trigger+recommendation flows with {workers} workers in {:.2} s = {rate:.0} flows/s ({} errors, {} TCP connections)",
        elapsed.as_secs_f64(),
        errors.load(Ordering::Relaxed),
        stats.connections_accepted,
    );
    emu.shutdown().await;
}
