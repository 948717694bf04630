//! Access tokens: fetched with client credentials, one per API family (the risk endpoints
//! with the risk resource, the activities endpoints with the configured one), fetched once for
//! all concurrent callers ([`TokenSource::shared_fetch`]) and kept in the client's
//! [`TokenCache`] until a refresh margin before `expires_in`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use http::{HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::Instrument;
use url::Url;

use super::net::{bearer_header, Http, Outgoing};
use super::transport::{
    clone_error, deadline_after, error_message, retry_after, retry_wait, status_error,
    transport_error, FailedWhile, Failure,
};

/// The largest token answer read.
const TOKEN_BODY: usize = 64 * 1024;
use super::Inner;
use crate::config::RetryPolicy;
use crate::error::Error;

/// Lifetime assumed when the token response has no usable `expires_in`: the token endpoint's
/// documented default (one hour).
const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(3600);

/// A cached access token. `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct AccessToken {
    /// Its `Authorization: Bearer` value, built once (marked sensitive).
    header: HeaderValue,
    /// Compared by address: which fetch the token came from.
    id: Arc<()>,
    /// How long the cache may keep it (`expires_in` minus the refresh margin).
    ttl: Duration,
}

impl AccessToken {
    /// The `Authorization` value that sends it.
    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }

    /// Whether both are the same token (from the same fetch).
    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.id, &other.id)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[REDACTED]")
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The resource a token is asked for (`resource=`), `None` for a token asked for without one.
pub(crate) type Resource = Option<Arc<str>>;

/// The API family a call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Api {
    /// `/risk/v1/...`: the assessments, results, rules.
    Risk,
    /// `/activities/v1/...`: event streaming.
    Activities,
}

/// The key of the token cache: each API family keeps its own token, even when both ask for
/// the same resource, so that a 401 from one (a tenant whose activities calls refuse the risk
/// token) never throws away the token the assessments use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    pub(crate) api: Api,
    pub(crate) resource: Resource,
}

/// The client's tokens: one per API family it uses (at most two today, the risk calls' and the
/// activities calls'), each until its `ttl` has passed. A lookup is a short scan under a lock
/// never held across an await; fetching once for all concurrent callers is
/// [`TokenSource::shared_fetch`]'s. (A general-purpose concurrent cache cost some 3,000
/// instructions per lookup, on every call.)
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<Vec<CachedToken>>,
}

struct CachedToken {
    key: TokenKey,
    token: AccessToken,
    until: Instant,
}

impl TokenCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<CachedToken>> {
        // Every change is a single push, replace or removal: a panic cannot leave it torn.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The token of `key`, unless it has expired.
    fn get(&self, key: &TokenKey) -> Option<AccessToken> {
        let now = Instant::now();
        self.entries()
            .iter()
            .find(|e| e.key == *key && now < e.until)
            .map(|e| e.token.clone())
    }

    /// Keeps `token` for `key`, for its `ttl` from now.
    fn insert(&self, key: &TokenKey, token: AccessToken) {
        let until = deadline_after(Instant::now(), token.ttl);
        let mut entries = self.entries();
        match entries.iter_mut().find(|e| e.key == *key) {
            Some(entry) => {
                entry.token = token;
                entry.until = until;
            }
            None => entries.push(CachedToken {
                key: key.clone(),
                token,
                until,
            }),
        }
    }

    /// Drops the token of `key` if it is `used`.
    fn remove_if(&self, key: &TokenKey, used: &AccessToken) {
        self.entries()
            .retain(|e| !(e.key == *key && e.token.same(used)));
    }

    /// Drops every token.
    pub(crate) fn clear(&self) {
        self.entries().clear();
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl Inner {
    /// The current access token for `resource`: from the cache, or fetched once for all
    /// concurrent callers of that resource (see [`TokenSource::shared_fetch`]). The caller's
    /// own deadline is applied around the whole call by [`Inner::execute`].
    pub(crate) async fn access_token(&self, key: &TokenKey) -> Result<AccessToken, Error> {
        if let Some(token) = self.tokens.get(key) {
            return Ok(token);
        }
        // Boxed: the fetch's state stays out of every call's future (the cached token is the
        // common case).
        let token = Box::pin(self.token_source.shared_fetch(&key.resource)).await?;
        self.tokens.insert(key, token.clone());
        Ok(token)
    }

    /// Drops `used` (the token of `key`) from the cache, unless another caller already
    /// replaced it.
    pub(crate) fn invalidate_token(&self, key: &TokenKey, used: &AccessToken) {
        self.tokens.remove_if(key, used);
    }
}

/// What the shared token fetch needs, owned, so that the fetch can outlive the caller that
/// started it.
pub(crate) struct TokenSource {
    pub(crate) http: Http,
    pub(crate) token_url: Url,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) retry: RetryPolicy,
    /// The deadline of one shared fetch (`token_timeout`, else the client's `timeout`).
    pub(crate) fetch_timeout: Duration,
    pub(crate) token_refresh_margin: Duration,
    /// The fetch in flight for each resource, if any, shared by every caller that waits for
    /// a token of that resource.
    inflight: Mutex<HashMap<Resource, InflightFetch>>,
}

type SharedFetch = Shared<BoxFuture<'static, Result<AccessToken, Arc<Error>>>>;

struct InflightFetch {
    deadline: Instant,
    fetch: SharedFetch,
}

impl TokenSource {
    pub(crate) fn new(
        http: Http,
        token_url: Url,
        client_id: String,
        client_secret: SecretString,
        retry: RetryPolicy,
        fetch_timeout: Duration,
        token_refresh_margin: Duration,
    ) -> Self {
        Self {
            http,
            token_url,
            client_id,
            client_secret,
            retry,
            fetch_timeout,
            token_refresh_margin,
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// The same source with an empty in-flight slot (cheap clones: the HTTP client is an `Arc`).
    fn detached(&self) -> Self {
        Self::new(
            self.http.clone(),
            self.token_url.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
            self.retry.clone(),
            self.fetch_timeout,
            self.token_refresh_margin,
        )
    }

    /// Joins the fetch in flight for `resource`, or starts one with its own deadline
    /// (`fetch_timeout` from now), independent of any caller's remaining budget. A caller that
    /// gives up (its own call deadline passed) drops only its wait: the next waiter keeps
    /// driving the same fetch.
    async fn shared_fetch(self: &Arc<Self>, resource: &Resource) -> Result<AccessToken, Error> {
        let fetch = {
            let mut slots = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            match slots.get(resource) {
                Some(f) if f.deadline > now && f.fetch.peek().is_none() => f.fetch.clone(),
                _ => {
                    let deadline = deadline_after(now, self.fetch_timeout);
                    // The future owns a copy without the in-flight slots: capturing `self`
                    // would make a cycle (self → slots → future → self) that leaks the client
                    // when every caller gives up on an unfinished fetch.
                    let source = self.detached();
                    let for_resource = resource.clone();
                    let fetch = async move {
                        source
                            .fetch_token(deadline, for_resource.as_deref())
                            .await
                            .map_err(Arc::new)
                    }
                    .boxed()
                    .shared();
                    slots.insert(
                        resource.clone(),
                        InflightFetch {
                            deadline,
                            fetch: fetch.clone(),
                        },
                    );
                    fetch
                }
            }
        };
        let result = fetch.await;
        {
            let mut slots = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            if slots
                .get(resource)
                .is_some_and(|f| f.fetch.peek().is_some())
            {
                slots.remove(resource);
            }
        }
        result.map_err(|e| Arc::try_unwrap(e).unwrap_or_else(|e| clone_error(&e)))
    }

    async fn fetch_token(
        &self,
        deadline: Instant,
        resource: Option<&str>,
    ) -> Result<AccessToken, Error> {
        let span = tracing::info_span!(
            "risk.token",
            endpoint = "token",
            resource = resource.unwrap_or(""),
            method = "POST",
            status = Empty,
            attempt = Empty,
            error = Empty,
        );
        let after = self.fetch_timeout;
        let result = tokio::time::timeout_at(
            deadline,
            self.token_attempts(deadline, after, resource, &span),
        )
        .instrument(span.clone())
        .await
        .unwrap_or(Err(Error::Timeout { after }));
        match &result {
            Ok(_) => crate::telemetry::token_refresh(),
            Err(e) => {
                span.record("error", e.kind());
                tracing::debug!(parent: &span, error = %e, "access token request failed");
            }
        }
        result
    }

    async fn token_attempts(
        &self,
        deadline: Instant,
        after: Duration,
        resource: Option<&str>,
        span: &tracing::Span,
    ) -> Result<AccessToken, Error> {
        let secret = self.client_secret.expose_secret();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let remaining = deadline.saturating_duration_since(Instant::now());
            let form = {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "client_credentials")
                    .append_pair("client_id", &self.client_id)
                    .append_pair("client_secret", secret);
                if let Some(resource) = resource {
                    form.append_pair("resource", resource);
                }
                form.finish()
            };
            let request = Outgoing {
                method: Method::POST,
                url: &self.token_url,
                bearer: None,
                body: Some(("application/x-www-form-urlencoded", Bytes::from(form))),
            };
            let failure = match self.http.send(request, remaining).await {
                Err(e) => Failure::from(transport_error(e, after, FailedWhile::Sending)),
                Ok(response) => {
                    let status = response.status();
                    span.record("status", status);
                    if (200..300).contains(&status) {
                        // A token answer is well under a KB.
                        match response.read(TOKEN_BODY).await {
                            Ok(body) => return self.parse_token(&body),
                            Err(e) => Failure::from(e.into_error(after)),
                        }
                    } else {
                        let retry_after = retry_after(response.headers());
                        let body = response.read(TOKEN_BODY).await.unwrap_or_default();
                        let message = error_message(&body, secret);
                        let error = match status {
                            400 | 401 => Error::TokenRejected { status, message },
                            _ => status_error(status, message, retry_after),
                        };
                        Failure { error, retry_after }
                    }
                }
            };
            // Asking for a token is safe to repeat.
            let retryable = matches!(
                failure.error,
                Error::RateLimited { .. } | Error::Server { .. } | Error::Transport { .. }
            );
            if !retryable || attempt >= self.retry.max_attempts {
                return Err(failure.error);
            }
            let wait = retry_wait(&self.retry, attempt, &failure, deadline)?;
            tokio::time::sleep(wait).await;
        }
    }

    fn parse_token(&self, body: &[u8]) -> Result<AccessToken, Error> {
        // Never quote a token response: it carries the access token.
        let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| Error::Decode {
            message: format!(
                "token response: {:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
            excerpt: String::new(),
        })?;
        if parsed.access_token.is_empty() {
            return Err(Error::Decode {
                message: "token response: empty access_token".to_owned(),
                excerpt: String::new(),
            });
        }
        let expires_in = match parsed.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(DEFAULT_EXPIRES_IN, |s| {
            Duration::try_from_secs_f64(s).unwrap_or(DEFAULT_EXPIRES_IN)
        });
        // The margin is at most half the lifetime: a short-lived token (30 s, with the default
        // 60 s margin) is still kept for half its life instead of being fetched for every call.
        let margin = self.token_refresh_margin.min(expires_in / 2);
        let ttl = expires_in.saturating_sub(margin);
        tracing::debug!(
            expires_in_s = expires_in.as_secs(),
            ttl_s = ttl.as_secs(),
            "access token fetched"
        );
        let header = bearer_header(&parsed.access_token).ok_or_else(|| Error::Decode {
            message: "token response: the access_token cannot be sent in a header".to_owned(),
            excerpt: String::new(),
        })?;
        Ok(AccessToken {
            header,
            id: Arc::new(()),
            ttl,
        })
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn token(value: &str, ttl_secs: u64) -> AccessToken {
        AccessToken {
            header: bearer_header(value).unwrap(),
            id: Arc::new(()),
            ttl: Duration::from_secs(ttl_secs),
        }
    }

    fn key(api: Api) -> TokenKey {
        TokenKey {
            api,
            resource: Some(Arc::from("https://risk.example")),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_token_is_kept_for_its_ttl_and_each_family_has_its_own() {
        let cache = TokenCache::default();
        let risk = token("risk-token", 60);
        cache.insert(&key(Api::Risk), risk.clone());
        assert!(cache.get(&key(Api::Activities)).is_none());
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(cache.get(&key(Api::Risk)).unwrap().same(&risk));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.get(&key(Api::Risk)).is_none(), "expired at its ttl");

        // A new token replaces the old one, with its own ttl.
        let renewed = token("risk-token-2", 10);
        cache.insert(&key(Api::Risk), renewed.clone());
        assert!(cache.get(&key(Api::Risk)).unwrap().same(&renewed));
        assert_eq!(cache.entries().len(), 1);
        assert!(cache.get(&key(Api::Risk)).unwrap().header().is_sensitive());
    }

    #[test]
    fn only_the_token_that_was_refused_is_dropped() {
        let cache = TokenCache::default();
        let used = token("old", 3600);
        let current = token("new", 3600);
        cache.insert(&key(Api::Risk), current.clone());
        cache.insert(&key(Api::Activities), used.clone());
        // Another caller already replaced the refused token: the new one stays.
        cache.remove_if(&key(Api::Risk), &used);
        assert!(cache.get(&key(Api::Risk)).unwrap().same(&current));
        // The refused token of the other family goes, and only it.
        cache.remove_if(&key(Api::Activities), &used);
        assert!(cache.get(&key(Api::Activities)).is_none());
        assert!(cache.get(&key(Api::Risk)).is_some());
        cache.clear();
        assert!(cache.get(&key(Api::Risk)).is_none());
    }
}
