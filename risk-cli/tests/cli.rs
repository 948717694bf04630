//! The `risk` binary against the emulator, as a user runs it.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle, DEV_CLIENT_ID, DEV_CLIENT_SECRET};

/// Runs `risk args..` with the emulator's settings in the environment (off the runtime: the
/// emulator answers meanwhile).
async fn risk(base_url: &str, secret: &str, args: &[&str]) -> Output {
    risk_with(base_url, secret, args, &[]).await
}

/// [`risk`] with more variables in its environment.
async fn risk_with(base_url: &str, secret: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::cargo_bin("risk").unwrap();
    command
        .env_clear()
        .env("TS_BASE_URL", base_url)
        .env("TS_CLIENT_ID", DEV_CLIENT_ID)
        .env("TS_CLIENT_SECRET", secret)
        .envs(vars.iter().copied())
        .args(args);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

async fn emulator() -> EmulatorHandle {
    Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_against_the_emulator_and_never_shows_the_secret() {
    let emu = emulator().await;
    let out = risk(&emu.base_url(), DEV_CLIENT_SECRET, &["doctor"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for step in [
        "configuration",
        "resolve",
        "connect",
        "access token",
        "risk API",
    ] {
        assert!(stdout.contains(step), "{step} missing:\n{stdout}");
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("valid 3600 s"), "{stdout}");
    assert!(!stdout.contains(DEV_CLIENT_SECRET) && !text(&out.stderr).contains(DEV_CLIENT_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_says_what_failed_against_a_closed_port_and_wrong_credentials() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = risk(&url, DEV_CLIENT_SECRET, &["doctor"]).await;
    assert_eq!(out.status.code(), Some(69), "unavailable");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL connect"), "{stdout}");
    assert!(stdout.contains("proxy, firewall"), "{stdout}");

    let emu = emulator().await;
    let out = risk(
        &emu.base_url(),
        "not-the-secret",
        &["doctor", "--output", "json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(77), "credentials refused");
    let steps: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = steps.as_array().unwrap().last().unwrap();
    assert_eq!(last["step"], "access token");
    assert_eq!(last["ok"], false);
    assert!(last["hint"].as_str().unwrap().contains("TS_CLIENT_SECRET"));
    assert!(!text(&out.stdout).contains("not-the-secret"));
}

/// Through the proxy the environment names, as the client goes: the doctor resolves and
/// connects to the proxy (the API's own host does not even resolve), and says so; the proxy's
/// credentials are never shown. The "proxy" is the emulator, which answers the forwarded
/// requests itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_goes_through_the_proxy_the_environment_names() {
    let emu = emulator().await;
    let port = emu
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let proxy = format!("http://proxy-user:proxy-pass@127.0.0.1:{port}");
    let out = risk_with(
        "http://risk-api.invalid",
        DEV_CLIENT_SECRET,
        &["doctor"],
        &[("HTTP_PROXY", &proxy)],
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("ok   proxy          http://127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("127.0.0.1 → 127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(stdout.contains("risk API"), "{stdout}");
    assert!(!stdout.contains("proxy-pass"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assess_prints_the_recommendation_and_reports_the_result() {
    let emu = emulator().await;
    let session = emu
        .create_session(&risk_emulator::Telemetry::new().with_device_id("support-case"))
        .unwrap();
    let out = risk(
        &emu.base_url(),
        DEV_CLIENT_SECRET,
        &[
            "assess",
            "--session-token",
            &session,
            "--action",
            "login",
            "--report",
            "success",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(printed["recommendation"].is_string());
    assert_eq!(printed["device_id"], "support-case");
    assert_eq!(printed["reported"], "success");
    // The session token is never printed whole.
    assert!(!text(&out.stdout).contains(&session));
    assert_eq!(emu.stats().responses("result", 201), 1);
}

fn rules_file(name: &str, body: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("risk-cli-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, body).unwrap();
    path
}

const RULES: &str = r#"
[[rules]]
name = "a"
priority = 10
recommendation = "deny"
mode = "production"
enabled = true
matchers = [{ ip_cidrs = { op = "ip_in", value = ["203.0.113.0/24"] } }]

[[rules]]
name = "b"
priority = 20
recommendation = "challenge"
mode = "preview"
enabled = true
matchers = [{ user_agent = { op = "contains", value = ["curl"] } }]
"#;

/// `(name, priority)` of the tenant's rules, by priority.
fn tenant(emu: &EmulatorHandle) -> Vec<(String, i64)> {
    let mut rules: Vec<_> = emu
        .rules()
        .into_iter()
        .map(|s| (s.rule.name.unwrap_or_default(), s.rule.priority))
        .collect();
    rules.sort_by_key(|(_, p)| *p);
    rules
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_as_code_plan_apply_again_reorder_and_prune() {
    let emu = emulator().await;
    let base = emu.base_url();
    let file = rules_file("plan", RULES);
    let path = file.to_str().unwrap();

    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &["rules", "plan", "-f", path, "--detailed-exitcode"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "changes pending");
    assert!(
        text(&out.stdout).contains("+ create  a"),
        "{}",
        text(&out.stdout)
    );

    let out = risk(&base, DEV_CLIENT_SECRET, &["rules", "apply", "-f", path]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        tenant(&emu),
        vec![("a".to_owned(), 10), ("b".to_owned(), 20)]
    );

    // Applying again changes nothing, and the plan says so.
    let out = risk(&base, DEV_CLIENT_SECRET, &["rules", "apply", "-f", path]).await;
    assert!(
        text(&out.stdout).contains("No changes"),
        "{}",
        text(&out.stdout)
    );
    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &["rules", "plan", "-f", path, "--detailed-exitcode"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));

    // Swapping priorities never collides on the unique priorities.
    let swapped = RULES
        .replace("priority = 10", "priority = X")
        .replace("priority = 20", "priority = 10")
        .replace("priority = X", "priority = 20");
    let file = rules_file("swap", &swapped);
    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &["rules", "apply", "-f", file.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        tenant(&emu),
        vec![("b".to_owned(), 10), ("a".to_owned(), 20)]
    );

    // A rule left out of the file is kept, unless pruned.
    let only_a = swapped
        .split("[[rules]]")
        .filter(|r| r.contains("name = \"a\""))
        .map(|r| format!("[[rules]]{r}"))
        .collect::<String>();
    let file = rules_file("prune", &only_a);
    let path = file.to_str().unwrap();
    let out = risk(&base, DEV_CLIENT_SECRET, &["rules", "apply", "-f", path]).await;
    assert!(
        text(&out.stdout).contains("keep    b"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(tenant(&emu).len(), 2);
    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &["rules", "apply", "-f", path, "--prune"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(tenant(&emu), vec![("a".to_owned(), 20)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_rules_file_applies_and_promote_moves_a_preview_rule() {
    let emu = emulator().await;
    let base = emu.base_url();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/rules.toml");
    let out = risk(&base, DEV_CLIENT_SECRET, &["rules", "apply", "-f", example]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(tenant(&emu).len(), 3);
    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &["rules", "promote", "Step up logins from headless tooling"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let promoted = emu
        .rules()
        .into_iter()
        .find(|s| s.rule.priority == 20)
        .unwrap();
    assert_eq!(promoted.rule.mode, risk_core::RuleMode::Production);
}

#[test]
fn usage_errors_exit_64_and_completions_print() {
    let out = Command::cargo_bin("risk")
        .unwrap()
        .arg("nonsense")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = Command::cargo_bin("risk")
        .unwrap()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("_risk"));
}

/// Every event the emulator recorded so far, read through a stream of the test's own.
async fn recorded(observer: &risk_core::RiskClient) -> Vec<serde_json::Value> {
    let events = observer
        .collect(risk_core::EventType::Risk, "test-observer", 1000)
        .await
        .unwrap();
    events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn observer(emu: &EmulatorHandle) -> risk_core::RiskClient {
    let client = risk_core::RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emu.base_url())
        .build()
        .unwrap();
    client
        .start_collect(risk_core::EventType::Risk)
        .await
        .unwrap();
    client
        .create_stream(
            risk_core::EventType::Risk,
            "test-observer",
            &risk_core::StreamOptions::default(),
        )
        .await
        .unwrap();
    client
}

fn trigger(emu: &EmulatorHandle, n: usize) {
    let session = emu
        .create_session(&risk_emulator::Telemetry::new())
        .unwrap();
    for _ in 0..n {
        emu.sdk_trigger_action(&session, "login").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_each_recorded_event_once_across_runs() {
    let emu = emulator().await;
    let base = emu.base_url();
    let observer = observer(&emu).await;
    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &[
            "events",
            "export",
            "--stream",
            "siem",
            "--create",
            "--enrichment",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        emu.stream_enrichment(risk_core::EventType::Risk, "siem"),
        Some(true)
    );
    assert_eq!(
        emu.stream_enrichment(risk_core::EventType::Risk, "test-observer"),
        Some(false)
    );
    let file = std::env::temp_dir().join(format!("risk-cli-{}-export.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().unwrap();

    trigger(&emu, 3);
    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &["events", "export", "--stream", "siem", "--out", path],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut expected = recorded(&observer).await;
    assert_eq!(expected.len(), 3);
    assert_eq!(lines(&file), expected);

    // A second run on the same stream appends only what is new.
    trigger(&emu, 2);
    let out = risk(
        &base,
        DEV_CLIENT_SECRET,
        &[
            "events", "export", "--stream", "siem", "--out", path, "--batch", "1",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    expected.extend(recorded(&observer).await);
    assert_eq!(expected.len(), 5);
    assert_eq!(lines(&file), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_exports_as_events_arrive_and_stops_cleanly_on_a_signal() {
    let emu = emulator().await;
    let base = emu.base_url();
    let observer = observer(&emu).await;
    let file = std::env::temp_dir().join(format!("risk-cli-{}-follow.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("risk"))
        .env_clear()
        .env("TS_BASE_URL", &base)
        .env("TS_CLIENT_ID", DEV_CLIENT_ID)
        .env("TS_CLIENT_SECRET", DEV_CLIENT_SECRET)
        .args([
            "events", "export", "--stream", "live", "--create", "--follow", "--out",
        ])
        .arg(&file)
        .spawn()
        .unwrap();
    // Once the stream exists, events are recorded for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while emu.stats().requests("events") < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the export never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    trigger(&emu, 4);
    while lines(&file).len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the events never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(exit.code(), Some(0));
    assert_eq!(lines(&file), recorded(&observer).await);
}
