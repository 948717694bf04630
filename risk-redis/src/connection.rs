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

/// `url` without its credentials, for `Debug`: the user and password of
/// `redis://user:password@host` and a query (`redis+unix:///path?pass=...`) are replaced.
pub(crate) fn redacted(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    // Credentials end at the last `@` (a password with a raw `?` or `/` in it included); what
    // follows is the host, the path and the query.
    let (credentials, after) = match rest.rfind('@') {
        Some(at) => ("[REDACTED]@", &rest[at + 1..]),
        None => ("", rest),
    };
    let after = match after.split_once('?') {
        Some((path, _)) => format!("{path}?[REDACTED]"),
        None => after.to_owned(),
    };
    if scheme.is_empty() {
        format!("{credentials}{after}")
    } else {
        format!("{scheme}://{credentials}{after}")
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn credentials_are_left_out() {
        assert_eq!(
            redacted("redis://:s3cret@10.0.0.5:6379/2"),
            "redis://[REDACTED]@10.0.0.5:6379/2"
        );
        assert_eq!(
            redacted("rediss://app:s3cret@cache.internal/0"),
            "rediss://[REDACTED]@cache.internal/0"
        );
        assert_eq!(
            redacted("redis+unix:///run/redis.sock?db=1&pass=s3cret"),
            "redis+unix:///run/redis.sock?[REDACTED]"
        );
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        // A password with a raw `?` or `/` in it is not cut at them.
        assert_eq!(
            redacted("redis://:pa?ss/word@10.0.0.5:6379/0"),
            "redis://[REDACTED]@10.0.0.5:6379/0"
        );
    }
}
