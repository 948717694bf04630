//! Client-credentials authentication: access tokens issued to the configured clients,
//! their checking on every risk call, and the per-client rate limit (a token bucket).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;

use risk_core::RISK_RESOURCE;
use serde_json::{json, Value};

use super::{ApiError, EmulatorState};

const ACCESS_PREFIX: &str = "eat_";
const MAX_ACCESS_TOKENS: usize = 100_000;

#[derive(Debug)]
struct AccessToken {
    client_id: String,
    resource: String,
    expires_at: i64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// Issued access tokens (oldest first, for expiry), read on every call (a read lock), written
/// when one is issued or found expired.
#[derive(Debug, Default)]
pub(super) struct Auth {
    tokens: HashMap<String, AccessToken>,
    order: VecDeque<(i64, String)>,
}

/// The rate-limit buckets of the clients that have a limit (locked only for those).
#[derive(Debug, Default)]
pub(super) struct Buckets(HashMap<String, Bucket>);

impl EmulatorState {
    pub(crate) fn issue_token(&self, form: &HashMap<String, String>) -> Result<Value, ApiError> {
        let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
        match get("grant_type") {
            Some("client_credentials") => {}
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unsupported grant_type `{other}`: use client_credentials"
                )))
            }
            None => return Err(ApiError::bad_request("grant_type is required")),
        }
        let (Some(id), Some(secret)) = (get("client_id"), get("client_secret")) else {
            return Err(ApiError::bad_request(
                "client_id and client_secret are required",
            ));
        };
        // Optional, as upstream: a token without a resource is not scoped to one.
        let resource = get("resource").unwrap_or("");
        if !resource.is_empty()
            && resource != RISK_RESOURCE
            && !self.config.other_resources.iter().any(|r| r == resource)
        {
            return Err(ApiError::bad_request(format!(
                "unknown resource `{resource}`"
            )));
        }
        let client = self
            .config
            .clients
            .iter()
            .find(|c| c.id == id && c.secret == secret)
            .ok_or_else(|| ApiError::new(401, "invalid client credentials"))?;
        let now = self.clock.now_ms();
        let ttl = self.config.token_ttl_secs;
        let token = self.ids.token(ACCESS_PREFIX);
        let expires_at =
            now.saturating_add(i64::try_from(ttl.saturating_mul(1000)).unwrap_or(i64::MAX));
        {
            let mut auth = self.auth.write();
            while auth.order.front().is_some_and(|(exp, _)| *exp <= now)
                || auth.order.len() >= MAX_ACCESS_TOKENS
            {
                if let Some((_, t)) = auth.order.pop_front() {
                    auth.tokens.remove(&t);
                }
            }
            auth.tokens.insert(
                token.clone(),
                AccessToken {
                    client_id: client.id.clone(),
                    resource: resource.to_owned(),
                    expires_at,
                },
            );
            auth.order.push_back((expires_at, token.clone()));
        }
        self.tokens_issued.fetch_add(1, Ordering::Relaxed);
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
        }))
    }

    /// The client id of a valid access token in an `Authorization` header value: for the risk
    /// endpoints (`risk_only`), one issued for the risk resource or for none; for the activities
    /// endpoints, any (which resource they need is not documented).
    pub(crate) fn authenticate(
        &self,
        authorization: Option<&str>,
        risk_only: bool,
    ) -> Result<String, ApiError> {
        let token = authorization
            .and_then(|h| {
                let (scheme, rest) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(401, "missing bearer token"))?;
        let now = self.clock.now_ms();
        let auth = self.auth.read();
        let Some(entry) = auth.tokens.get(token) else {
            return Err(ApiError::new(401, "invalid access token"));
        };
        if entry.expires_at <= now {
            drop(auth);
            self.auth.write().tokens.remove(token);
            return Err(ApiError::new(401, "access token expired"));
        }
        if risk_only && !entry.resource.is_empty() && entry.resource != RISK_RESOURCE {
            return Err(ApiError::new(
                403,
                format!(
                    "access token was issued for `{}`, not `{RISK_RESOURCE}`",
                    entry.resource
                ),
            ));
        }
        let client_id = entry.client_id.clone();
        drop(auth);
        self.rate_limit(&client_id, now)?;
        Ok(client_id)
    }

    /// Takes one request from the client's bucket, if the client has a rate limit: 429 with
    /// the seconds until the next request is allowed when the bucket is empty.
    fn rate_limit(&self, client_id: &str, now: i64) -> Result<(), ApiError> {
        let rps = self
            .config
            .clients
            .iter()
            .find(|c| c.id == client_id)
            .and_then(|c| c.rate_limit_rps);
        let Some(rps) = rps else {
            return Ok(());
        };
        let capacity = rps.max(1.0);
        let mut buckets = self.buckets.lock();
        let bucket = buckets.0.entry(client_id.to_owned()).or_insert(Bucket {
            tokens: capacity,
            last_ms: now,
        });
        #[expect(
            clippy::cast_precision_loss,
            reason = "milliseconds fit f64 exactly for ages"
        )]
        let elapsed = (now - bucket.last_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rps).min(capacity);
        bucket.last_ms = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a wait of at least one second, far below u64::MAX seconds"
        )]
        let wait = ((1.0 - bucket.tokens) / rps).ceil().max(1.0) as u64;
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
        Err(ApiError {
            status: 429,
            message: "rate limit reached".to_owned(),
            retry_after: Some(wait),
        })
    }
}
