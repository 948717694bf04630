//! Builder validation, regions, retry policy, `from_vars`, and secret-free `Debug`.

use std::collections::HashMap;
use std::time::Duration;

use risk_core::{ConfigError, Region, RetryPolicy, RiskClient, RiskClientBuilder, MAX_TIMEOUT};

const SECRET: &str = "very-secret-client-secret-42";

fn valid() -> RiskClientBuilder {
    RiskClient::builder().client_id("cid").client_secret(SECRET)
}

#[test]
fn regions_parse_case_insensitively_and_map_to_hosts() {
    let cases = [
        ("us", Region::Us, "https://api.transmitsecurity.io"),
        ("EU", Region::Eu, "https://api.eu.transmitsecurity.io"),
        ("Ca", Region::Ca, "https://api.ca.transmitsecurity.io"),
        (" au ", Region::Au, "https://api.au.transmitsecurity.io"),
        (
            "SANDBOX",
            Region::Sandbox,
            "https://api.sbx.transmitsecurity.io",
        ),
    ];
    for (name, region, url) in cases {
        assert_eq!(name.parse::<Region>().unwrap(), region);
        assert_eq!(region.base_url(), url);
        assert_eq!(region.to_string().parse::<Region>().unwrap(), region);
    }
    assert_eq!(Region::default(), Region::Us);
    let err = "uk".parse::<Region>().unwrap_err();
    assert_eq!(err, ConfigError::UnknownRegion("uk".into()));
    assert!(err.to_string().contains("us, eu, ca, au, sandbox"));
}

#[test]
fn the_default_client_talks_to_the_us_region() {
    let client = valid().build().unwrap();
    assert_eq!(client.base_url(), "https://api.transmitsecurity.io/");
    assert_eq!(client.timeout(), Duration::from_secs(10));
    assert_eq!(client.retry_policy(), &RetryPolicy::default());
    let client = valid().region(Region::Sandbox).build().unwrap();
    assert_eq!(client.base_url(), "https://api.sbx.transmitsecurity.io/");
}

#[test]
fn base_urls_are_validated_and_normalised() {
    for (raw, expected) in [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
        (
            "https://proxy.example.com/risk-gw",
            "https://proxy.example.com/risk-gw/",
        ),
        (
            "https://proxy.example.com/risk-gw/",
            "https://proxy.example.com/risk-gw/",
        ),
    ] {
        let client = valid().base_url(raw).region(Region::Eu).build().unwrap();
        assert_eq!(client.base_url(), expected, "{raw}");
    }
    for bad in [
        "not a url",
        "ftp://example.com",
        "file:///etc/passwd",
        "https://example.com/?q=1",
        "https://example.com/#frag",
        "http://user:pw@example.com",
        "",
    ] {
        let err = valid().base_url(bad).build().unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidBaseUrl { .. }),
            "{bad}: {err:?}"
        );
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
}

#[test]
fn missing_or_invalid_settings_say_what_is_wrong() {
    assert_eq!(
        RiskClient::builder()
            .client_secret("s")
            .build()
            .unwrap_err(),
        ConfigError::MissingClientId
    );
    assert_eq!(
        RiskClient::builder()
            .client_id("  ")
            .client_secret("s")
            .build()
            .unwrap_err(),
        ConfigError::MissingClientId
    );
    assert_eq!(
        RiskClient::builder().client_id("id").build().unwrap_err(),
        ConfigError::MissingClientSecret
    );
    assert_eq!(
        RiskClient::builder()
            .client_id("id")
            .client_secret("")
            .build()
            .unwrap_err(),
        ConfigError::MissingClientSecret
    );
    let setting = |b: RiskClientBuilder| match b.build().unwrap_err() {
        ConfigError::InvalidValue { setting, .. } => setting,
        other => panic!("expected InvalidValue, got {other:?}"),
    };
    assert_eq!(setting(valid().timeout(Duration::ZERO)), "timeout");
    assert_eq!(
        setting(valid().token_timeout(Duration::ZERO)),
        "token_timeout"
    );
    // Durations too large for the clock are refused here instead of panicking in a call.
    assert_eq!(setting(valid().timeout(Duration::MAX)), "timeout");
    assert_eq!(
        setting(valid().timeout(MAX_TIMEOUT + Duration::from_nanos(1))),
        "timeout"
    );
    assert_eq!(
        setting(valid().token_timeout(Duration::MAX)),
        "token_timeout"
    );
    assert_eq!(setting(valid().user_agent("bad\nagent")), "user_agent");
    assert_eq!(setting(valid().user_agent("")), "user_agent");
    assert_eq!(
        setting(valid().retry_policy(RetryPolicy::default().with_max_attempts(0))),
        "retry_policy.max_attempts"
    );
    assert_eq!(
        setting(valid().retry_policy(RetryPolicy::default().with_multiplier(0.5))),
        "retry_policy.multiplier"
    );
    assert_eq!(
        setting(valid().retry_policy(RetryPolicy::default().with_multiplier(f64::NAN))),
        "retry_policy.multiplier"
    );
    assert_eq!(
        setting(
            valid().retry_policy(
                RetryPolicy::default()
                    .with_initial_backoff(Duration::from_secs(3))
                    .with_max_backoff(Duration::from_secs(1))
            )
        ),
        "retry_policy.max_backoff"
    );
}

#[test]
fn backoff_grows_exponentially_and_is_capped() {
    let policy = RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_millis(1000))
        .with_multiplier(2.0);
    assert_eq!(policy.backoff(1), Duration::from_millis(100));
    assert_eq!(policy.backoff(2), Duration::from_millis(200));
    assert_eq!(policy.backoff(3), Duration::from_millis(400));
    assert_eq!(policy.backoff(5), Duration::from_millis(1000));
    assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(1000));
    assert_eq!(RetryPolicy::none().max_attempts, 1);
}

#[test]
fn from_vars_reads_the_same_variables_as_from_env() {
    let vars = HashMap::from([
        ("TS_CLIENT_ID", "map-client"),
        ("TS_CLIENT_SECRET", SECRET),
        ("TS_REGION", "eu"),
    ]);
    let client = RiskClientBuilder::from_vars(|k| Ok(vars.get(k).map(|v| (*v).to_owned())))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.client_id(), "map-client");
    assert_eq!(client.base_url(), "https://api.eu.transmitsecurity.io/");

    let err = RiskClientBuilder::from_vars(|k| {
        if k == "TS_CLIENT_SECRET" {
            Err("not valid Unicode".into())
        } else {
            Ok(None)
        }
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Env {
                var: "TS_CLIENT_SECRET",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn ts_activities_resource_chooses_the_activities_token_resource() {
    let with = |value: Option<&str>| {
        let vars = HashMap::from([("TS_CLIENT_ID", "c"), ("TS_CLIENT_SECRET", SECRET)]);
        RiskClientBuilder::from_vars(|k| {
            Ok(match (k, value) {
                ("TS_ACTIVITIES_RESOURCE", value) => value.map(str::to_owned),
                _ => vars.get(k).map(|v| (*v).to_owned()),
            })
        })
        .unwrap()
        .build()
        .unwrap()
    };
    // Unset: the risk resource, as the risk calls.
    assert_eq!(
        with(None).activities_resource(),
        Some("https://risk.identity.security")
    );
    assert_eq!(
        with(Some(" https://activities.example ")).activities_resource(),
        Some("https://activities.example")
    );
    // `none`: no resource at all; empty is unset, as for every variable.
    assert_eq!(with(Some("none")).activities_resource(), None);
    assert_eq!(with(Some(" NONE ")).activities_resource(), None);
    assert_eq!(
        with(Some("  ")).activities_resource(),
        Some("https://risk.identity.security")
    );

    let blank = valid()
        .activities_resource(Some(" ".to_owned()))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            blank,
            ConfigError::InvalidValue {
                setting: "activities_resource",
                ..
            }
        ),
        "{blank:?}"
    );
}

#[test]
fn debug_never_shows_the_secret() {
    let builder = valid().base_url("http://127.0.0.1:1");
    let shown = format!("{builder:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("cid"), "{shown}");
    assert!(shown.contains("127.0.0.1"), "{shown}");
    let client = builder.build().unwrap();
    for shown in [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{:?}", client.clone()),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("cid"), "{shown}");
        assert!(shown.contains("http://127.0.0.1:1/"), "{shown}");
    }
}
