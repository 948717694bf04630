//! `RiskClient::from_env` (alone in its test binary: it sets process environment variables).

use risk_core::{ConfigError, RiskClient, RiskClientBuilder};

#[test]
fn from_env_reads_the_ts_variables() {
    std::env::set_var("TS_CLIENT_ID", "env-client");
    std::env::set_var("TS_CLIENT_SECRET", "env-secret-value-123");
    std::env::remove_var("TS_BASE_URL");
    std::env::set_var("TS_REGION", "CA");
    let client = RiskClient::from_env().unwrap();
    assert_eq!(client.client_id(), "env-client");
    assert_eq!(client.base_url(), "https://api.ca.transmitsecurity.io/");
    assert!(!format!("{client:?}").contains("env-secret-value-123"));

    // TS_BASE_URL wins over TS_REGION; setters override the environment.
    std::env::set_var("TS_BASE_URL", "http://127.0.0.1:9/prefix");
    let client = RiskClientBuilder::from_env()
        .unwrap()
        .client_id("override")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/prefix/");
    assert_eq!(client.client_id(), "override");

    std::env::set_var("TS_REGION", "mars");
    assert_eq!(
        RiskClientBuilder::from_env().unwrap_err(),
        ConfigError::UnknownRegion("mars".into())
    );

    std::env::remove_var("TS_REGION");
    std::env::remove_var("TS_BASE_URL");
    std::env::remove_var("TS_CLIENT_SECRET");
    assert_eq!(
        RiskClient::from_env().unwrap_err(),
        ConfigError::MissingClientSecret
    );
    std::env::remove_var("TS_CLIENT_ID");
    assert_eq!(
        RiskClient::from_env().unwrap_err(),
        ConfigError::MissingClientId
    );
}
