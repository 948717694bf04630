//! One auto-reconnecting connection, set up lazily (an instance starts while Redis is down),
//! with short timeouts: a dead Redis must cost a request milliseconds, not seconds.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::SetupError;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);

/// How long one command may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// A lazy connection manager to `url`.
pub(crate) fn connect(url: &str) -> Result<ConnectionManager, SetupError> {
    let client = redis::Client::open(url).map_err(|e| SetupError::Redis(e.to_string()))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client, config)
        .map_err(|e| SetupError::Redis(e.to_string()))
}

/// `{prefix}:{name}`.
pub(crate) fn key(prefix: &str, name: &str) -> String {
    format!("{prefix}:{name}")
}
