//! [`Risk`]: the one handle an application keeps. It owns the client (token cache, connection
//! pool, call budget), the result reporter and the circuit breaker, and hands out guards that
//! share them.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::client::RiskClient;
use crate::error::ConfigError;
use crate::flow::{
    BreakerConfig, CircuitBreaker, FlushTimeout, Guard, GuardBuilder, Reporter, ReporterStats,
};
use crate::models::ActionType;

/// The risk middleware of an application, in one handle: one [`RiskClient`] (one access-token
/// cache, one connection pool, the tenant's call budget), one [`Reporter`] delivering result
/// reports in the background, and one [`CircuitBreaker`], shared by every guard it hands out.
/// Cheap to clone.
///
/// ```no_run
/// use risk_core::{ActionType, ErrorBehavior, Risk};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let risk = Risk::from_env()?; // TS_CLIENT_ID, TS_CLIENT_SECRET, TS_REGION or TS_BASE_URL
/// let login = risk.guard(ActionType::Login);
/// let transfer = risk.guard_with(ActionType::Transaction, |g| g.on_error(ErrorBehavior::FailClosed))?;
/// // ... serve, with the adapters' `risk.layer(..)` (risk-tower) or `risk.middleware(..)`
/// // (risk-actix), then deliver the queued results before exiting:
/// risk.shutdown(std::time::Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
///
/// For full control, build the client, reporter, breaker and each guard yourself
/// ([`Guard::builder`]); [`Risk::builder`] takes your own reporter (say, one on Redis) or
/// breaker.
#[derive(Clone)]
pub struct Risk {
    shared: Arc<RiskParts>,
}

/// What every clone of a [`Risk`] handle shares.
struct RiskParts {
    client: RiskClient,
    reporter: Reporter,
    breaker: CircuitBreaker,
    /// The default guard of each action type, made on first use.
    guards: Mutex<HashMap<ActionType, Guard>>,
}

impl fmt::Debug for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Risk")
            .field("client", &self.shared.client)
            .field("breaker", &self.shared.breaker.state())
            .field("reporter", &self.shared.reporter.stats())
            .finish_non_exhaustive()
    }
}

impl Risk {
    /// The handle of the client [`RiskClient::from_env`] builds (`TS_CLIENT_ID`,
    /// `TS_CLIENT_SECRET`, `TS_REGION` or `TS_BASE_URL`, `TS_QUOTA_PER_MINUTE`), with a
    /// reporter and a circuit breaker of default settings.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(RiskClient::from_env()?))
    }

    /// The handle of `client`, with a reporter and a circuit breaker of default settings.
    pub fn new(client: RiskClient) -> Self {
        Self::builder(client).build()
    }

    /// A handle of `client` with your own reporter or breaker.
    ///
    /// ```
    /// use risk_core::{BreakerConfig, CircuitBreaker, Reporter, Risk, RiskClient};
    /// # fn run() -> Result<(), risk_core::ConfigError> {
    /// let client = RiskClient::builder().client_id("id").client_secret("secret").build()?;
    /// let risk = Risk::builder(client.clone())
    ///     .reporter(Reporter::builder(client).capacity(50_000).build())
    ///     .circuit_breaker(CircuitBreaker::new(BreakerConfig::default()))
    ///     .build();
    /// # Ok(()) }
    /// ```
    pub fn builder(client: RiskClient) -> RiskBuilder {
        RiskBuilder {
            client,
            reporter: None,
            breaker: None,
        }
    }

    /// The guard of `action_type` with the default settings (the [`DefaultPolicy`](crate::DefaultPolicy),
    /// fail open, the default deadline and client limit) and this handle's reporter and
    /// breaker. The same guard every time for one action type, so the routes of an action
    /// (and the workers of a server that builds its app per worker) share its state.
    pub fn guard(&self, action_type: impl Into<ActionType>) -> Guard {
        let action_type = action_type.into();
        let mut guards = self
            .shared
            .guards
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        guards
            .entry(action_type.clone())
            .or_insert_with(|| self.defaults(action_type).build_default())
            .clone()
    }

    /// A new guard of `action_type`, configured by `configure` from the defaults of
    /// [`guard`](Self::guard) (this handle's reporter and breaker already set). Build it once
    /// and clone it where it is needed.
    ///
    /// ```
    /// use risk_core::{ActionType, ErrorBehavior, Risk, RiskClient};
    /// # fn run() -> Result<(), risk_core::ConfigError> {
    /// # let risk = Risk::new(RiskClient::builder().client_id("id").client_secret("s").build()?);
    /// let transfer = risk.guard_with(ActionType::Transaction, |g| {
    ///     g.on_error(ErrorBehavior::FailClosed).route("POST /transfer")
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn guard_with(
        &self,
        action_type: impl Into<ActionType>,
        configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
    ) -> Result<Guard, ConfigError> {
        configure(self.defaults(action_type.into())).build()
    }

    fn defaults(&self, action_type: ActionType) -> GuardBuilder {
        Guard::builder(action_type, self.shared.client.clone())
            .reporter(self.shared.reporter.clone())
            .circuit_breaker(self.shared.breaker.clone())
    }

    /// The client (for the calls a guard does not make: rules, events, step-up results).
    pub fn client(&self) -> &RiskClient {
        &self.shared.client
    }

    /// The reporter (for results the application reports itself, say after a step-up).
    pub fn reporter(&self) -> &Reporter {
        &self.shared.reporter
    }

    /// The circuit breaker every guard of this handle shares.
    pub fn circuit_breaker(&self) -> &CircuitBreaker {
        &self.shared.breaker
    }

    /// Stops taking result reports and delivers the queued ones, within `within`. Call it
    /// once the server stopped (after axum's graceful shutdown, or when actix-web's server
    /// future returns). Reports submitted afterwards are dropped and counted.
    pub async fn shutdown(&self, within: Duration) -> Result<ReporterStats, FlushTimeout> {
        self.shared.reporter.shutdown(within).await
    }
}

/// Builds a [`Risk`]; see [`Risk::builder`].
#[must_use]
pub struct RiskBuilder {
    client: RiskClient,
    reporter: Option<Reporter>,
    breaker: Option<CircuitBreaker>,
}

impl fmt::Debug for RiskBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RiskBuilder")
            .field("client", &self.client)
            .field("reporter", &self.reporter.is_some())
            .field("breaker", &self.breaker.is_some())
            .finish()
    }
}

impl RiskBuilder {
    /// The reporter every guard uses (default: `Reporter::builder(client).build()`).
    pub fn reporter(mut self, reporter: Reporter) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// The circuit breaker every guard shares (default: `BreakerConfig::default()`).
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// The handle.
    pub fn build(self) -> Risk {
        let reporter = self
            .reporter
            .unwrap_or_else(|| Reporter::builder(self.client.clone()).build());
        let breaker = self
            .breaker
            .unwrap_or_else(|| CircuitBreaker::new(BreakerConfig::default()));
        Risk {
            shared: Arc::new(RiskParts {
                client: self.client,
                reporter,
                breaker,
                guards: Mutex::new(HashMap::new()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_guards_settings_pass_the_builders_checks() {
        // `guard` skips `build`'s checks: the same defaults must pass them.
        let client = RiskClient::builder()
            .client_id("id")
            .client_secret("secret")
            .build();
        let Ok(client) = client else {
            panic!("client");
        };
        let risk = Risk::new(client);
        assert!(risk.guard_with(ActionType::Login, |g| g).is_ok());
        assert_eq!(
            risk.guard(ActionType::Login).action_type(),
            &ActionType::Login
        );
    }
}
