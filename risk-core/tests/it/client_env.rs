//! The `TS_*` variables: read through `RiskClientBuilder::from_vars` (the lookup `from_env`
//! uses), and once through the real environment of a child process (this binary's other tests
//! run on other threads, so nothing here calls `set_var`).

use std::collections::HashMap;

use risk_core::{ActionType, ConfigError, RiskClient, RiskClientBuilder, TriggerActionRequest};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::client_support::{mount_token, ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, SESSION_TOKEN};

/// A builder from `vars` alone.
fn from(vars: &[(&'static str, &str)]) -> Result<RiskClientBuilder, ConfigError> {
    let vars: HashMap<&str, String> = vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    RiskClientBuilder::from_vars(|var| Ok(vars.get(var).cloned()))
}

#[test]
fn from_vars_reads_the_ts_variables() {
    let client = from(&[
        ("TS_CLIENT_ID", "env-client"),
        ("TS_CLIENT_SECRET", "env-secret-value-123"),
        ("TS_REGION", "CA"),
    ])
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(client.client_id(), "env-client");
    assert_eq!(client.base_url(), "https://api.ca.transmitsecurity.io/");
    assert!(!format!("{client:?}").contains("env-secret-value-123"));

    // TS_BASE_URL wins over TS_REGION; setters override the environment.
    let client = from(&[
        ("TS_CLIENT_ID", "env-client"),
        ("TS_CLIENT_SECRET", "env-secret-value-123"),
        ("TS_REGION", "CA"),
        ("TS_BASE_URL", "http://127.0.0.1:9/prefix"),
    ])
    .unwrap()
    .client_id("override")
    .build()
    .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/prefix/");
    assert_eq!(client.client_id(), "override");

    assert_eq!(
        from(&[("TS_REGION", "mars")]).unwrap_err(),
        ConfigError::UnknownRegion("mars".into())
    );
    assert_eq!(
        from(&[("TS_CLIENT_ID", "env-client")])
            .unwrap()
            .build()
            .unwrap_err(),
        ConfigError::MissingClientSecret
    );
    // An empty (or blank) variable is an unset one.
    assert_eq!(
        from(&[("TS_CLIENT_ID", "  "), ("TS_CLIENT_SECRET", "s")])
            .unwrap()
            .build()
            .unwrap_err(),
        ConfigError::MissingClientId
    );
}

#[tokio::test]
async fn ts_quota_per_minute_sizes_the_clients_budget() {
    let server = MockServer::start().await;
    mount_token(&server, ACCESS_TOKEN, 3600, 1).await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"action_token": "at-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    // 10 calls a minute: a burst of 1 (a tenth), the next call 6.7 s later.
    let client = from(&[
        ("TS_CLIENT_ID", CLIENT_ID),
        ("TS_CLIENT_SECRET", CLIENT_SECRET),
        ("TS_BASE_URL", &uri),
        ("TS_QUOTA_PER_MINUTE", " 10 "),
    ])
    .unwrap()
    .build()
    .unwrap();
    let request = TriggerActionRequest::new(SESSION_TOKEN, ActionType::Login);
    client.trigger_action(&request).await.unwrap();
    let spent = client.trigger_action(&request).await.unwrap_err();
    assert!(spent.is_quota(), "{spent:?}");
    // The mock's `expect(1)`: the second was refused without a call.

    let Err(ConfigError::Env { var, reason }) = from(&[("TS_QUOTA_PER_MINUTE", "lots")]) else {
        panic!("a quota that is not a number is refused");
    };
    assert_eq!(var, "TS_QUOTA_PER_MINUTE");
    assert!(reason.contains("lots"), "{reason}");
}

/// Set in the child process that runs [`from_env_reads_the_process_environment`] with its
/// variables.
const CHILD: &str = "RISK_CORE_ENV_CHILD";

#[test]
fn from_env_reads_the_process_environment() {
    if std::env::var_os(CHILD).is_some() {
        let client = RiskClient::from_env().unwrap();
        assert_eq!(client.client_id(), "env-client");
        assert_eq!(client.base_url(), "https://api.sbx.transmitsecurity.io/");
        return;
    }
    run_child(
        "client_env::from_env_reads_the_process_environment",
        &[
            (CHILD, "1"),
            ("TS_CLIENT_ID", "env-client"),
            ("TS_CLIENT_SECRET", "env-secret-value-123"),
            ("TS_REGION", "sandbox"),
        ],
    );
}

/// Set in the child process that runs [`a_proxy_in_the_environment_carries_the_calls`].
const PROXY_CHILD: &str = "RISK_CORE_PROXY_CHILD";

/// With `HTTP_PROXY` set for the API's URL, the calls go through that proxy (the client's own
/// connections are for the direct path only). The "proxy" here is a mock that answers the
/// forwarded requests itself; the API's host does not even resolve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_in_the_environment_carries_the_calls() {
    if std::env::var_os(PROXY_CHILD).is_some() {
        let client = RiskClient::from_env().unwrap();
        let action = client
            .trigger_action(&TriggerActionRequest::new(SESSION_TOKEN, ActionType::Login))
            .await
            .unwrap();
        assert_eq!(action.action_token.expose(), "at-proxied");
        return;
    }
    let proxy = MockServer::start().await;
    mount_token(&proxy, ACCESS_TOKEN, 3600, 1).await;
    Mock::given(method("POST"))
        .and(path("/risk/v1/action/trigger-action"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"action_token": "at-proxied"})),
        )
        .expect(1)
        .mount(&proxy)
        .await;
    let proxy_url = proxy.uri();
    tokio::task::spawn_blocking(move || {
        run_child(
            "client_env::a_proxy_in_the_environment_carries_the_calls",
            &[
                (PROXY_CHILD, "1"),
                ("TS_CLIENT_ID", CLIENT_ID),
                ("TS_CLIENT_SECRET", CLIENT_SECRET),
                ("TS_BASE_URL", "http://risk-api.invalid/"),
                ("HTTP_PROXY", &proxy_url),
            ],
        );
    })
    .await
    .unwrap();
    // The proxy received the calls for the API's host.
    let received = proxy.received_requests().await.unwrap();
    assert_eq!(received.len(), 2, "token and trigger-action");
    assert!(received.iter().all(|r| r
        .headers
        .get("host")
        .is_some_and(|h| h == "risk-api.invalid")));
}

/// Runs the test `name` of this binary alone in a child process whose environment is `vars`
/// and nothing else, and insists that it passed.
fn run_child(name: &str, vars: &[(&str, &str)]) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1"])
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
