//! Client configuration: [`Region`], [`RetryPolicy`] and [`RiskClientBuilder`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::budget::{Budget, LocalBudget, DEFAULT_QUOTA_PER_MINUTE};
use url::Url;

use crate::error::ConfigError;
use crate::models::RISK_RESOURCE;

/// The user agent sent when none is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("risk-core/", env!("CARGO_PKG_VERSION"));

/// Default total deadline of one call (see [`RiskClientBuilder::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest [`timeout`](RiskClientBuilder::timeout) and
/// [`token_timeout`](RiskClientBuilder::token_timeout) accepted by
/// [`build`](RiskClientBuilder::build): one day.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Default margin before an access token's expiry at which a new one is fetched.
pub const DEFAULT_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The region of the tenant, which selects the API host.
///
/// ```
/// use risk_core::Region;
/// let eu: Region = "EU".parse().unwrap();
/// assert_eq!(eu, Region::Eu);
/// assert_eq!(eu.base_url(), "https://api.eu.transmitsecurity.io");
/// assert_eq!(Region::default(), Region::Us);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Region {
    /// United States (the default): `https://api.transmitsecurity.io`.
    #[default]
    Us,
    /// Europe: `https://api.eu.transmitsecurity.io`.
    Eu,
    /// Canada: `https://api.ca.transmitsecurity.io`.
    Ca,
    /// Australia: `https://api.au.transmitsecurity.io`.
    Au,
    /// The sandbox environment: `https://api.sbx.transmitsecurity.io`.
    Sandbox,
}

impl Region {
    /// Every region.
    pub const ALL: &'static [Region] = &[
        Region::Us,
        Region::Eu,
        Region::Ca,
        Region::Au,
        Region::Sandbox,
    ];

    /// The API base URL of the region (no trailing slash).
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Us => "https://api.transmitsecurity.io",
            Self::Eu => "https://api.eu.transmitsecurity.io",
            Self::Ca => "https://api.ca.transmitsecurity.io",
            Self::Au => "https://api.au.transmitsecurity.io",
            Self::Sandbox => "https://api.sbx.transmitsecurity.io",
        }
    }

    /// The short name accepted by [`FromStr`] and `TS_REGION`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Eu => "eu",
            Self::Ca => "ca",
            Self::Au => "au",
            Self::Sandbox => "sandbox",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = ConfigError;

    /// Accepts `us`, `eu`, `ca`, `au` and `sandbox` in any case (surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ConfigError::UnknownRegion(s.to_owned()))
    }
}

/// When and how often a failed call is sent again.
///
/// Only calls that are safe to repeat are retried (see the retry table in the
/// [client docs](crate::RiskClient#retries)). Between attempts the client waits an
/// exponential backoff (`initial_backoff * multiplier^(n-1)`, capped at `max_backoff`),
/// with full jitter when `jitter` is set, or the server's `Retry-After` when it sent one.
/// A `Retry-After` longer than `max_retry_after`, or longer than what is left of the call's
/// deadline, is not waited for: the call fails at once with
/// [`Error::RateLimited`](crate::Error::RateLimited) carrying it.
///
/// ```
/// use std::time::Duration;
/// use risk_core::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_initial_backoff(Duration::from_millis(50));
/// assert_eq!(policy.max_attempts, 5);
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry). Default 3.
    pub max_attempts: u32,
    /// Backoff before the first retry. Default 100 ms.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff. Default 2 s.
    pub max_backoff: Duration,
    /// Growth factor of the backoff between retries (at least 1). Default 2.
    pub multiplier: f64,
    /// Full jitter: wait a random time between zero and the backoff. Default on.
    pub jitter: bool,
    /// The longest `Retry-After` the client waits for before retrying. Default 5 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            multiplier: 2.0,
            jitter: true,
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Never retry: one attempt per call.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts in total.
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets the backoff before the first retry.
    #[must_use]
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the upper bound of one backoff.
    #[must_use]
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets the growth factor of the backoff.
    #[must_use]
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Turns full jitter on or off.
    #[must_use]
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the longest `Retry-After` that is waited for.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The backoff before retry number `retry` (1 = the first retry), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let factor = self.multiplier.max(1.0).powi(exp);
        let secs = self.initial_backoff.as_secs_f64() * factor;
        let max = self.max_backoff.as_secs_f64();
        if secs.is_finite() && secs < max {
            Duration::from_secs_f64(secs.max(0.0))
        } else {
            self.max_backoff
        }
    }

    /// The wait before retry number `retry`, with jitter applied when enabled.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let backoff = self.backoff(retry);
        if self.jitter {
            backoff.mul_f64(fastrand::f64())
        } else {
            backoff
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return Err(ConfigError::InvalidValue {
                setting: "retry_policy.max_attempts",
                reason: "must be at least 1 (1 means no retry)".into(),
            });
        }
        if !self.multiplier.is_finite() || self.multiplier < 1.0 {
            return Err(ConfigError::InvalidValue {
                setting: "retry_policy.multiplier",
                reason: format!("must be a finite number >= 1, got {}", self.multiplier),
            });
        }
        if self.max_backoff < self.initial_backoff {
            return Err(ConfigError::InvalidValue {
                setting: "retry_policy.max_backoff",
                reason: format!(
                    "must not be below initial_backoff ({:?} < {:?})",
                    self.max_backoff, self.initial_backoff
                ),
            });
        }
        Ok(())
    }
}

/// Builds a [`RiskClient`](crate::RiskClient). Consuming: chain the setters, then call [`build`](Self::build).
///
/// `Debug` shows the client id and the other settings, never the client secret.
///
/// ```
/// use std::time::Duration;
/// use risk_core::{Region, RiskClient};
/// let client = RiskClient::builder()
///     .client_id("my-client-id")
///     .client_secret("my-client-secret")
///     .region(Region::Eu)
///     .timeout(Duration::from_secs(3))
///     .build()?;
/// assert_eq!(client.base_url(), "https://api.eu.transmitsecurity.io/");
/// assert!(!format!("{client:?}").contains("my-client-secret"));
/// # Ok::<(), risk_core::ConfigError>(())
/// ```
#[must_use = "a builder does nothing until `build()` is called"]
#[derive(Clone)]
pub struct RiskClientBuilder {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    region: Region,
    base_url: Option<String>,
    timeout: Duration,
    token_timeout: Option<Duration>,
    retry_policy: RetryPolicy,
    user_agent: String,
    token_refresh_margin: Duration,
    quota: QuotaSetting,
    activities_resource: Option<String>,
}

/// How the client's calls are metered.
#[derive(Clone)]
enum QuotaSetting {
    PerMinute(u32),
    Custom(Arc<dyn Budget>),
    Unmetered,
}

impl fmt::Debug for QuotaSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PerMinute(n) => write!(f, "{n} per minute"),
            Self::Custom(_) => f.write_str("custom budget"),
            Self::Unmetered => f.write_str("unmetered"),
        }
    }
}

impl Default for RiskClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RiskClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RiskClientBuilder")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("token_timeout", &self.token_timeout)
            .field("retry_policy", &self.retry_policy)
            .field("user_agent", &self.user_agent)
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("quota", &self.quota)
            .field("activities_resource", &self.activities_resource)
            .finish()
    }
}

/// A validated configuration, handed to the client.
pub(crate) struct ClientConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) base_url: Url,
    pub(crate) timeout: Duration,
    pub(crate) token_timeout: Option<Duration>,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) user_agent: String,
    pub(crate) token_refresh_margin: Duration,
    pub(crate) budget: Option<Arc<dyn Budget>>,
    pub(crate) activities_resource: Option<String>,
}

impl RiskClientBuilder {
    /// A builder with the defaults: US region, 10 s deadline per call, [`RetryPolicy::default`],
    /// a 60 s token refresh margin, the activities calls' token asked for the risk resource.
    /// Client id and secret must be set.
    pub fn new() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            region: Region::default(),
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            token_timeout: None,
            retry_policy: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            token_refresh_margin: DEFAULT_TOKEN_REFRESH_MARGIN,
            quota: QuotaSetting::PerMinute(DEFAULT_QUOTA_PER_MINUTE),
            activities_resource: Some(RISK_RESOURCE.to_owned()),
        }
    }

    /// A builder filled from the environment: `TS_CLIENT_ID`, `TS_CLIENT_SECRET`, and
    /// `TS_BASE_URL` (wins when set) or `TS_REGION` (`us`, `eu`, `ca`, `au`, `sandbox`);
    /// `TS_QUOTA_PER_MINUTE` ([`quota_per_minute`](Self::quota_per_minute)) and
    /// `TS_ACTIVITIES_RESOURCE` ([`activities_resource`](Self::activities_resource): `none`
    /// asks for a token without a resource). Unset variables leave the defaults; setters called afterwards
    /// override.
    ///
    /// Fails when a variable is not valid Unicode or `TS_REGION` is unknown.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| match std::env::var(name) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err("not valid Unicode".to_owned()),
        })
    }

    /// Like [`from_env`](Self::from_env), reading the same variable names through `lookup`
    /// (a configuration map, a secret store, a test). `lookup` returns `Ok(None)` for an unset
    /// variable and `Err(reason)` for one that cannot be read. Empty values count as unset,
    /// as everywhere (`TS_ACTIVITIES_RESOURCE=none` asks for a token without a resource).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use risk_core::RiskClientBuilder;
    /// let vars = HashMap::from([("TS_CLIENT_ID", "id"), ("TS_CLIENT_SECRET", "s"), ("TS_REGION", "sandbox")]);
    /// let client = RiskClientBuilder::from_vars(|k| Ok(vars.get(k).map(|v| v.to_string())))?.build()?;
    /// assert_eq!(client.base_url(), "https://api.sbx.transmitsecurity.io/");
    /// # Ok::<(), risk_core::ConfigError>(())
    /// ```
    pub fn from_vars(
        mut lookup: impl FnMut(&'static str) -> Result<Option<String>, String>,
    ) -> Result<Self, ConfigError> {
        let mut read = |var: &'static str| -> Result<Option<String>, ConfigError> {
            lookup(var)
                .map(|v| v.filter(|s| !s.trim().is_empty()))
                .map_err(|reason| ConfigError::Env { var, reason })
        };
        let mut builder = Self::new();
        if let Some(id) = read("TS_CLIENT_ID")? {
            builder = builder.client_id(id.trim());
        }
        if let Some(secret) = read("TS_CLIENT_SECRET")? {
            builder = builder.client_secret(secret);
        }
        if let Some(region) = read("TS_REGION")? {
            builder = builder.region(region.parse()?);
        }
        if let Some(url) = read("TS_BASE_URL")? {
            builder = builder.base_url(url.trim());
        }
        if let Some(quota) = read("TS_QUOTA_PER_MINUTE")? {
            let per_minute = quota.trim().parse().map_err(|_| ConfigError::Env {
                var: "TS_QUOTA_PER_MINUTE",
                reason: format!(
                    "`{}` is not a whole number of calls per minute",
                    quota.trim()
                ),
            })?;
            builder = builder.quota_per_minute(per_minute);
        }
        // A template that sets every variable empty must not change the token asked for: an
        // empty value is unset, and "no resource" is said with a word.
        if let Some(resource) = read("TS_ACTIVITIES_RESOURCE")? {
            let resource = resource.trim();
            builder = builder.activities_resource(
                (!resource.eq_ignore_ascii_case("none")).then(|| resource.to_owned()),
            );
        }
        Ok(builder)
    }

    /// The resource the event-streaming calls' (`/activities/v1/...`) access token is asked
    /// for: `Some(resource)`, or `None` for a token asked for without `resource`. Default: the
    /// risk resource ([`RISK_RESOURCE`](crate::RISK_RESOURCE)). The vendor does not document
    /// which resource these endpoints need; set this when your tenant wants another
    /// (`TS_ACTIVITIES_RESOURCE`). The risk endpoints always use the risk resource. The risk
    /// calls and the activities calls each have their own cached token (even for the same
    /// resource), fetched once for its concurrent callers.
    ///
    /// ```
    /// use risk_core::RiskClient;
    /// let client = RiskClient::builder()
    ///     .client_id("id")
    ///     .client_secret("secret")
    ///     .activities_resource(None)
    ///     .build()?;
    /// assert_eq!(client.activities_resource(), None);
    /// # Ok::<(), risk_core::ConfigError>(())
    /// ```
    pub fn activities_resource(mut self, resource: Option<String>) -> Self {
        self.activities_resource = resource;
        self
    }

    /// The tenant's quota in calls per minute (default [`DEFAULT_QUOTA_PER_MINUTE`], the
    /// vendor's published limit; `TS_QUOTA_PER_MINUTE`): a [`LocalBudget`] every call of this
    /// client and its clones draws from (see [`Budget`]). Set it to your share when several
    /// processes call the API with the same credentials, or give them one shared
    /// [`budget`](Self::budget).
    pub fn quota_per_minute(mut self, per_minute: u32) -> Self {
        self.quota = QuotaSetting::PerMinute(per_minute);
        self
    }

    /// A budget of your own (one for a whole fleet, say) instead of a [`LocalBudget`].
    pub fn budget(mut self, budget: impl Budget) -> Self {
        self.quota = QuotaSetting::Custom(Arc::new(budget));
        self
    }

    /// No budget: every call is sent, and a 429 is the API's to give (for a local emulator
    /// or a load test). The 429 cool-down lives in the budget, so without one a 429 still
    /// applies the route's quota behaviour (and leaves the breaker alone) but pauses nothing:
    /// the next assessments are sent upstream again.
    pub fn unmetered(mut self) -> Self {
        self.quota = QuotaSetting::Unmetered;
        self
    }

    /// The OAuth client id of the application (from the vendor's admin portal).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The OAuth client secret. Kept in a secret type: never in `Debug`, logs or errors.
    pub fn client_secret(mut self, client_secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(client_secret.into()));
        self
    }

    /// The region of the tenant (default [`Region::Us`]). Ignored when a
    /// [`base_url`](Self::base_url) is set.
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// A custom base URL (the local emulator, a proxy), e.g. `http://127.0.0.1:8080`.
    /// Must be `http` or `https` with a host; a path prefix and a trailing slash are fine.
    /// Overrides [`region`](Self::region). Checked by [`build`](Self::build).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The total deadline of one call: token fetch, connect, TLS, headers, body and every
    /// retry together (default 10 s, at most [`MAX_TIMEOUT`]). When it passes the call fails
    /// with [`Error::Timeout`](crate::Error::Timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The deadline of one shared access-token fetch, retries included (default: the
    /// [`timeout`](Self::timeout); at most [`MAX_TIMEOUT`]).
    ///
    /// Concurrent callers share one fetch, which runs under this deadline from the moment it
    /// starts — not under the remaining budget of the caller that happened to start it. A
    /// caller whose own call deadline passes stops waiting and fails with
    /// [`Error::Timeout`](crate::Error::Timeout); the fetch goes on for the other callers.
    pub fn token_timeout(mut self, timeout: Duration) -> Self {
        self.token_timeout = Some(timeout);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]; [`RetryPolicy::none`] disables retries).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The `User-Agent` header (default `risk-core/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long before its expiry an access token is replaced (default 60 s), at most half
    /// its lifetime: a 30 s token is kept 15 s, not fetched again for every call.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Checks the configuration.
    pub(crate) fn validate(self) -> Result<ClientConfig, ConfigError> {
        let client_id = self
            .client_id
            .filter(|id| !id.trim().is_empty())
            .ok_or(ConfigError::MissingClientId)?;
        let client_secret = self
            .client_secret
            .filter(|s| {
                use secrecy::ExposeSecret;
                !s.expose_secret().is_empty()
            })
            .ok_or(ConfigError::MissingClientSecret)?;
        let base_url = parse_base_url(
            self.base_url
                .as_deref()
                .unwrap_or_else(|| self.region.base_url()),
        )?;
        if self.timeout.is_zero() {
            return Err(ConfigError::InvalidValue {
                setting: "timeout",
                reason: "must be greater than zero".into(),
            });
        }
        if self.timeout > MAX_TIMEOUT {
            return Err(ConfigError::InvalidValue {
                setting: "timeout",
                reason: format!("must be at most {MAX_TIMEOUT:?}, got {:?}", self.timeout),
            });
        }
        if let Some(t) = self.token_timeout {
            if t.is_zero() {
                return Err(ConfigError::InvalidValue {
                    setting: "token_timeout",
                    reason: "must be greater than zero".into(),
                });
            }
            if t > MAX_TIMEOUT {
                return Err(ConfigError::InvalidValue {
                    setting: "token_timeout",
                    reason: format!("must be at most {MAX_TIMEOUT:?}, got {t:?}"),
                });
            }
        }
        self.retry_policy.validate()?;
        let ua = &self.user_agent;
        if ua.trim().is_empty() || !ua.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
            return Err(ConfigError::InvalidValue {
                setting: "user_agent",
                reason: "must be non-empty printable ASCII".into(),
            });
        }
        if self
            .activities_resource
            .as_deref()
            .is_some_and(|r| r.trim().is_empty())
        {
            return Err(ConfigError::InvalidValue {
                setting: "activities_resource",
                reason: "must not be blank: use None to ask for a token without a resource".into(),
            });
        }
        Ok(ClientConfig {
            client_id,
            activities_resource: self.activities_resource,
            client_secret,
            base_url,
            timeout: self.timeout,
            token_timeout: self.token_timeout,
            retry_policy: self.retry_policy,
            user_agent: self.user_agent,
            token_refresh_margin: self.token_refresh_margin,
            budget: match self.quota {
                QuotaSetting::PerMinute(n) => Some(Arc::new(LocalBudget::per_minute(n)?)),
                QuotaSetting::Custom(budget) => Some(budget),
                QuotaSetting::Unmetered => None,
            },
        })
    }
}

/// Parses and normalises a base URL: http(s), a host, no query or fragment, path ending in `/`.
fn parse_base_url(raw: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Do not echo the credentials in the error.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return Err(ConfigError::InvalidBaseUrl {
            url: url.to_string(),
            reason: "it must not contain credentials".to_owned(),
        });
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}
