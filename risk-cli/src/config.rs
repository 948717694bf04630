//! Where the API is and who calls it: the environment of `RiskClient::from_env`, overridden by
//! flags. The client secret comes from the environment only.

use std::time::Duration;

use clap::Args;
use risk_core::{Region, RiskClient, RiskClientBuilder};

use crate::exit::Failure;

/// Connection settings (flags override `TS_*` variables).
#[derive(Debug, Args)]
pub(crate) struct Connection {
    /// The API's base URL (wins over the region) [env: TS_BASE_URL].
    #[arg(long, global = true)]
    pub(crate) base_url: Option<String>,
    /// The region: us, eu, ca, au, sandbox [env: TS_REGION].
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,
    /// The client id [env: TS_CLIENT_ID].
    #[arg(long, global = true)]
    pub(crate) client_id: Option<String>,
    /// The total deadline of one call, in seconds.
    #[arg(long, global = true, default_value_t = 10.0)]
    pub(crate) timeout: f64,
}

impl Connection {
    /// The builder from the environment with the flags applied.
    pub(crate) fn builder(&self) -> Result<RiskClientBuilder, Failure> {
        let mut builder = match RiskClientBuilder::from_env() {
            Ok(from_env) => from_env,
            // Variables missing are reported by `build`; unreadable ones now.
            Err(e) => return Err(Failure::config(e.to_string())),
        }
        .user_agent(concat!("risk-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(region) = &self.region {
            let region: Region = region
                .parse()
                .map_err(|e: risk_core::ConfigError| Failure::config(e.to_string()))?;
            builder = builder.region(region);
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url);
        }
        if let Some(id) = &self.client_id {
            builder = builder.client_id(id);
        }
        let timeout = Duration::try_from_secs_f64(self.timeout)
            .map_err(|_| Failure::config(format!("--timeout {}: not a duration", self.timeout)))?;
        Ok(builder.timeout(timeout))
    }

    /// The client.
    pub(crate) fn client(&self) -> Result<RiskClient, Failure> {
        Ok(self.builder()?.build()?)
    }
}
