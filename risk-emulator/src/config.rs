//! The emulator's configuration (TOML).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use ipnet::IpNet;
use risk_core::Rule;
use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;

/// Client id of the development client that exists when no `[[clients]]` are configured.
pub const DEV_CLIENT_ID: &str = "dev-client";
/// Client secret of the development client. Not a secret: for local development only.
pub const DEV_CLIENT_SECRET: &str = "dev-secret";

/// The configuration of an emulator.
///
/// Every field has a default, so an empty TOML document (or [`EmulatorConfig::default()`])
/// gives a working emulator with the development client [`DEV_CLIENT_ID`] /
/// [`DEV_CLIENT_SECRET`].
///
/// ```
/// use risk_emulator::EmulatorConfig;
/// let config = EmulatorConfig::from_toml_str(r#"
///     token_ttl_secs = 600
///     anonymizer_cidrs = ["198.51.100.0/24"]
///
///     [[clients]]
///     id = "shop-backend"
///     secret = "s3cret"
///     rate_limit_rps = 50
///
///     [thresholds]
///     challenge = 40
///     deny = 85
///
///     [[rules]]
///     name = "block test range"
///     priority = 10
///     recommendation = "deny"
///     mode = "production"
///     enabled = true
///     matchers = [{ ip_cidrs = { op = "ip_in", value = ["203.0.113.0/24"] } }]
/// "#).unwrap();
/// assert_eq!(config.clients[0].id, "shop-backend");
/// assert_eq!(config.thresholds.deny, 85.0);
/// assert_eq!(config.rules.len(), 1);
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// OAuth clients allowed to get access tokens. Default: the development client.
    pub clients: Vec<ClientConfig>,
    /// Lifetime of access tokens, in seconds (`expires_in`). Default 3600.
    pub token_ttl_secs: u64,
    /// Lifetime of action tokens, in seconds: after it, fetching the recommendation or
    /// reporting the result answers 463. Default 600.
    pub action_token_ttl_secs: u64,
    /// Score thresholds that turn a risk score into a recommendation.
    pub thresholds: Thresholds,
    /// IP ranges (CIDR, or single addresses) treated as anonymizers (VPN exits, proxies).
    pub anonymizer_cidrs: Vec<String>,
    /// IP ranges treated as hosting providers (data centres).
    pub hosting_cidrs: Vec<String>,
    /// Country of IP ranges: country code to CIDRs, e.g. `FR = ["203.0.113.0/24"]`.
    pub country_cidrs: BTreeMap<String, Vec<String>>,
    /// Country of IPs in no configured range. Default `US`.
    pub default_country: String,
    /// Resources other than the risk resource for which tokens may be issued. The risk
    /// endpoints refuse such tokens with 403; the activities endpoints accept them (which
    /// resource those need is not documented). Default: the admin, CIS and verify resources.
    pub other_resources: Vec<String>,
    /// Rules present at start (and after a reset), in the current shape.
    pub rules: Vec<Rule>,
    /// A bearer token that opens the emulator's admin endpoints (faults, statistics, reset)
    /// to callers not on loopback. Without it, only loopback callers may use them (the
    /// emulator may listen on `0.0.0.0`).
    pub admin_token: Option<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            clients: vec![ClientConfig::new(DEV_CLIENT_ID, DEV_CLIENT_SECRET)],
            token_ttl_secs: 3600,
            action_token_ttl_secs: 600,
            thresholds: Thresholds::default(),
            anonymizer_cidrs: Vec::new(),
            hosting_cidrs: Vec::new(),
            country_cidrs: BTreeMap::new(),
            default_country: "US".to_owned(),
            other_resources: vec![
                "https://admin.identity.security".to_owned(),
                "https://cis.identity.security".to_owned(),
                "https://verify.identity.security".to_owned(),
            ],
            rules: Vec::new(),
            admin_token: None,
        }
    }
}

impl EmulatorConfig {
    /// Parses a TOML document; missing fields take their defaults.
    pub fn from_toml_str(toml_text: &str) -> Result<Self, EmulatorError> {
        let config: Self =
            toml::from_str(toml_text).map_err(|e| EmulatorError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, EmulatorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Adds a client (replacing one with the same id).
    #[must_use]
    pub fn with_client(mut self, client: ClientConfig) -> Self {
        self.clients.retain(|c| c.id != client.id);
        self.clients.push(client);
        self
    }

    /// Adds a preloaded rule.
    #[must_use]
    pub fn with_rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Sets the action-token lifetime.
    #[must_use]
    pub fn with_action_token_ttl_secs(mut self, secs: u64) -> Self {
        self.action_token_ttl_secs = secs;
        self
    }

    /// Sets the access-token lifetime.
    #[must_use]
    pub fn with_token_ttl_secs(mut self, secs: u64) -> Self {
        self.token_ttl_secs = secs;
        self
    }

    /// Checks everything that can be checked without starting: thresholds, CIDRs, clients,
    /// rules. [`Emulator::start`](crate::Emulator::start) calls it too.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        let err = |m: String| Err(EmulatorError::Config(m));
        if self
            .admin_token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            return err("admin_token: at least 16 characters when set".to_owned());
        }
        let t = &self.thresholds;
        if !(t.challenge > 0.0 && t.challenge <= t.deny && t.deny <= 100.0) {
            return err(format!(
                "thresholds: need 0 < challenge ({}) <= deny ({}) <= 100",
                t.challenge, t.deny
            ));
        }
        if self.clients.is_empty() {
            return err("clients: at least one client is needed".to_owned());
        }
        for (i, c) in self.clients.iter().enumerate() {
            if c.id.is_empty() || c.secret.is_empty() {
                return err(format!("clients[{i}]: id and secret must not be empty"));
            }
            if let Some(rps) = c.rate_limit_rps {
                if !(rps.is_finite() && rps > 0.0) {
                    return err(format!(
                        "clients[{i}].rate_limit_rps must be a positive number"
                    ));
                }
            }
        }
        if self.token_ttl_secs == 0 || self.action_token_ttl_secs == 0 {
            return err("token_ttl_secs and action_token_ttl_secs must be at least 1".to_owned());
        }
        parse_cidrs("anonymizer_cidrs", &self.anonymizer_cidrs)?;
        parse_cidrs("hosting_cidrs", &self.hosting_cidrs)?;
        for (country, cidrs) in &self.country_cidrs {
            parse_cidrs(&format!("country_cidrs.{country}"), cidrs)?;
        }
        for (i, rule) in self.rules.iter().enumerate() {
            crate::rules::validate_rule(rule).map_err(|m| {
                EmulatorError::Config(format!(
                    "rules[{i}] ({}): {m}",
                    rule.name.as_deref().unwrap_or("unnamed")
                ))
            })?;
        }
        Ok(())
    }
}

/// Parses CIDRs (or single addresses, taken as /32 or /128).
pub(crate) fn parse_cidrs(field: &str, list: &[String]) -> Result<Vec<IpNet>, EmulatorError> {
    list.iter()
        .map(|s| {
            crate::rules::parse_net(s).ok_or_else(|| {
                EmulatorError::Config(format!("{field}: `{s}` is not an IP range or address"))
            })
        })
        .collect()
}

/// An OAuth client: id, secret and an optional rate limit.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The client id (`client_id`), also the `appId` of events.
    pub id: String,
    /// The client secret. Never shown by `Debug`.
    pub secret: String,
    /// Requests per second allowed with this client's tokens (token bucket, burst of one
    /// second's worth); over it, 429 with `Retry-After`. Default: unlimited.
    #[serde(default)]
    pub rate_limit_rps: Option<f64>,
}

impl ClientConfig {
    /// A client without rate limit.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: secret.into(),
            rate_limit_rps: None,
        }
    }

    /// Sets the rate limit in requests per second.
    #[must_use]
    pub fn with_rate_limit_rps(mut self, rps: f64) -> Self {
        self.rate_limit_rps = Some(rps);
        self
    }
}

impl fmt::Debug for EmulatorConfig {
    /// Every field, the admin token redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("clients", &self.clients)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("action_token_ttl_secs", &self.action_token_ttl_secs)
            .field("thresholds", &self.thresholds)
            .field("anonymizer_cidrs", &self.anonymizer_cidrs)
            .field("hosting_cidrs", &self.hosting_cidrs)
            .field("country_cidrs", &self.country_cidrs)
            .field("default_country", &self.default_country)
            .field("other_resources", &self.other_resources)
            .field("rules", &self.rules)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("rate_limit_rps", &self.rate_limit_rps)
            .finish()
    }
}

/// Scores at and above which the engine recommends CHALLENGE and DENY (below: ALLOW, or
/// TRUST for a device trusted for its user).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Thresholds {
    /// Default 50.
    pub challenge: f64,
    /// Default 80.
    pub deny: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            challenge: 50.0,
            deny: 80.0,
        }
    }
}

impl Thresholds {
    /// Thresholds with the given values.
    pub fn new(challenge: f64, deny: f64) -> Self {
        Self { challenge, deny }
    }
}

#[cfg(test)]
mod debug_tests {
    use super::EmulatorConfig;

    #[test]
    fn debug_never_shows_the_admin_token_or_client_secrets() {
        let config = EmulatorConfig {
            admin_token: Some("admin-token-0123456789".to_owned()),
            ..EmulatorConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("admin-token-0123456789"), "{shown}");
        assert!(!shown.contains(crate::config::DEV_CLIENT_SECRET), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
