//! The HTTP client of the risk API.

mod net;
mod rules;
mod token;
mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::Method;
use url::Url;

use self::token::{Api, Resource, TokenCache, TokenKey};
use self::transport::{decode, Call, Replay};
use crate::budget::{Budget, CallPriority};
use crate::config::{ClientConfig, RetryPolicy, RiskClientBuilder};
use crate::error::{decode_withholding_body, ConfigError, Error};
use crate::models::answer::Sampler;
use crate::models::{
    ActionResultReport, ActionToken, ActivityEvent, AssigneeRequest, ClearUserRequest,
    EvaluateRequest, EvaluateResponse, EventType, MessageResponse, RecommendationResponse,
    RiskAnswer, StreamOptions, TriggerActionRequest, TriggerActionResponse, RISK_RESOURCE,
};
use crate::recommender::{Recommender, ResultSink};

/// The largest `batch_size` of [`RiskClient::collect`].
pub const MAX_COLLECT_BATCH: u16 = 1000;

/// A client of the risk API: every endpoint, typed.
///
/// Build one with [`RiskClient::builder`] or [`RiskClient::from_env`] and share it: cloning is
/// cheap (an `Arc`), and all clones share one connection pool (keep-alive) and one access-token
/// cache. `Debug` shows the client id and base URL, never the secret or a token.
///
/// # Access tokens
/// A client-credentials token for the risk resource is fetched on first use (`POST /oidc/token`)
/// and cached; any number of concurrent callers cause one token request. It is replaced
/// [`token_refresh_margin`](RiskClientBuilder::token_refresh_margin) before `expires_in` runs out.
/// A 401 from a risk endpoint drops the cached token, fetches a new one and resends that call
/// once. A 400 or 401 from the token endpoint is [`Error::TokenRejected`].
///
/// The event-streaming calls (`/activities/v1/...`) use a token of their own, asked for the
/// [`activities_resource`](RiskClientBuilder::activities_resource) (by default the risk
/// resource too; `None` asks for a token without `resource`). Each family's token is cached
/// and fetched once for its concurrent callers, as above, and a 401 on one family's call
/// drops only that family's token.
///
/// # Connections and proxies
/// Calls go over HTTP/1.1 keep-alive connections of the client's own pool (TLS by rustls,
/// trusting the webpki roots; `TCP_NODELAY`; keep-alive probes after 60 s idle). As many
/// connections are opened as calls run at once; up to 256 idle ones are kept, and one idle for
/// 90 s is not used again (it is closed at the next call, or when the server closes it). The
/// addresses of the API's host are tried in turn, the next one 250 ms after the last one tried
/// if it has not connected yet. A connection's task runs on the runtime that opened it, and on
/// a current-thread runtime (each actix-web worker) calls use only the connections opened on
/// their own thread. When the environment configures a proxy for the base URL
/// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, minus `NO_PROXY`, read when the client is built),
/// the calls go through that proxy instead.
///
/// # Deadline
/// Each call has one total deadline ([`timeout`](RiskClientBuilder::timeout)): token fetch,
/// connect, TLS, headers, body and all retries together. When it passes the call fails with
/// [`Error::Timeout`]. The shared access-token fetch has its own deadline
/// ([`token_timeout`](RiskClientBuilder::token_timeout), default the same as `timeout`), so
/// that a caller close to its deadline does not hand its timeout to every caller waiting on
/// the same fetch. (The fallback call of
/// [`trigger_action_with_recommendation`](Self::trigger_action_with_recommendation) has its own.)
///
/// # Retries
/// Failed attempts are retried per the [`RetryPolicy`] (exponential backoff with full jitter,
/// `Retry-After` honoured up to [`RetryPolicy::max_retry_after`]) — but only when repeating the
/// call is safe:
///
/// | call | connect error (nothing sent) | 429 | 5xx, reset or timeout after sending |
/// |---|---|---|---|
/// | access token (`POST /oidc/token`) | retried | retried | retried |
/// | [`trigger_action`](Self::trigger_action), [`trigger_action_with_recommendation`](Self::trigger_action_with_recommendation) | retried | retried | **not retried**: a second action would be created |
/// | [`get_recommendation`](Self::get_recommendation) (GET) | retried | retried | retried |
/// | [`report_action_result`](Self::report_action_result) (one result per action token) | retried | retried | retried |
/// | rule list / get (GET), update (PUT), delete (DELETE), both shapes | retried | retried | retried |
/// | [`create_rule`](Self::create_rule), [`create_legacy_rule`](Self::create_legacy_rule) (POST) | retried | retried | **not retried**: a resend would collide (409) or duplicate |
/// | [`start_collect`](Self::start_collect), [`create_stream`](Self::create_stream), [`delete_stream`](Self::delete_stream), [`stop_collect`](Self::stop_collect) (PUT/DELETE) | retried | retried | retried |
/// | [`collect`](Self::collect) (POST, advances the stream's read position) | retried | retried | **not retried**: a batch would be lost |
///
/// A 429 is a rejection before any processing, so it is safe to resend for every call. A
/// `Retry-After` longer than the policy's maximum or than what is left of the deadline is not
/// waited for: the call fails at once with [`Error::RateLimited`]. An idempotent write whose
/// first attempt took effect although its response was lost may answer the retry with 404 or
/// 409 (e.g. a repeated delete or start-collect).
///
/// # Tracing
/// Each call runs in a `risk.call` span with the fields `endpoint` (a static name such as
/// `trigger_action`), `method`, `status`, `attempt`, `latency_ms` and `error` (the
/// [`Error::kind`]); the token request runs in a `risk.token` span. No secret, access token,
/// session token or action token is ever recorded.
///
/// # Example
/// ```no_run
/// use risk_core::{ActionResult, ActionResultReport, ActionType, RiskClient, TriggerActionRequest};
/// # async fn run() -> Result<(), risk_core::Error> {
/// let client = RiskClient::from_env()?;
/// let action = client
///     .trigger_action(&TriggerActionRequest::new("session-token-from-the-sdk", ActionType::Login))
///     .await?;
/// let recommendation = client.get_recommendation(&action.action_token).await?;
/// println!("{:?} (score {:?})", recommendation.recommendation_type(), recommendation.risk_score);
/// client
///     .report_action_result(&ActionResultReport::new(action.action_token, ActionResult::Success))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RiskClient {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: net::Http,
    base_url: Url,
    /// The request path's URLs, joined once (a join parses the URL again).
    endpoints: Endpoints,
    client_id: String,
    timeout: Duration,
    token_timeout: Option<Duration>,
    retry: RetryPolicy,
    user_agent: String,
    token_refresh_margin: Duration,
    tokens: TokenCache,
    token_source: Arc<token::TokenSource>,
    /// The token resource of the risk endpoints (the risk resource).
    risk_resource: Resource,
    /// The token resource of the activities endpoints.
    activities_resource: Resource,
    budget: Option<Arc<dyn Budget>>,
    /// One answer a minute for the guard decoded whole as it arrives (see `Sampler`).
    sampler: Sampler,
}

/// The URLs of the calls made on a protected request, joined with the base URL once, when the
/// client is built.
struct Endpoints {
    trigger_action: Url,
    /// `trigger-action?get_recommendation=true`.
    trigger_recommended: Url,
    recommendation: Url,
    evaluate: Url,
    action_result: Url,
}

impl Endpoints {
    fn new(base: &Url) -> Result<Self, ConfigError> {
        let trigger_action = join(base, "risk/v1/action/trigger-action")?;
        let mut trigger_recommended = trigger_action.clone();
        trigger_recommended
            .query_pairs_mut()
            .append_pair("get_recommendation", "true");
        Ok(Self {
            trigger_action,
            trigger_recommended,
            recommendation: join(base, "risk/v1/recommendation")?,
            evaluate: join(base, "risk/v1/evaluate")?,
            action_result: join(base, "risk/v1/action/result")?,
        })
    }
}

impl fmt::Debug for RiskClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("RiskClient")
            .field("client_id", &i.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("base_url", &i.base_url.as_str())
            .field("timeout", &i.timeout)
            .field("token_timeout", &i.token_timeout)
            .field("retry_policy", &i.retry)
            .field("user_agent", &i.user_agent)
            .field("token_refresh_margin", &i.token_refresh_margin)
            .field("activities_resource", &i.activities_resource.as_deref())
            .finish_non_exhaustive()
    }
}

impl RiskClientBuilder {
    /// Checks the configuration and builds the client (with its connection pool).
    pub fn build(self) -> Result<RiskClient, ConfigError> {
        RiskClient::from_config(self.validate()?)
    }
}

impl RiskClient {
    /// A builder with the defaults (see [`RiskClientBuilder::new`]).
    pub fn builder() -> RiskClientBuilder {
        RiskClientBuilder::new()
    }

    /// A client configured from `TS_CLIENT_ID`, `TS_CLIENT_SECRET`, and `TS_BASE_URL` or
    /// `TS_REGION` (see [`RiskClientBuilder::from_env`], which lets you override settings).
    pub fn from_env() -> Result<Self, ConfigError> {
        RiskClientBuilder::from_env()?.build()
    }

    pub(crate) fn from_config(config: ClientConfig) -> Result<Self, ConfigError> {
        let http = net::Http::new(&config.base_url, &config.user_agent)?;
        let token_url = join(&config.base_url, "oidc/token")?;
        let endpoints = Endpoints::new(&config.base_url)?;
        let token_source = Arc::new(token::TokenSource::new(
            http.clone(),
            token_url,
            config.client_id.clone(),
            config.client_secret,
            config.retry_policy.clone(),
            config.token_timeout.unwrap_or(config.timeout),
            config.token_refresh_margin,
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url,
                endpoints,
                client_id: config.client_id,
                timeout: config.timeout,
                token_timeout: config.token_timeout,
                retry: config.retry_policy,
                user_agent: config.user_agent,
                token_refresh_margin: config.token_refresh_margin,
                tokens: TokenCache::default(),
                budget: config.budget,
                token_source,
                risk_resource: Some(Arc::from(RISK_RESOURCE)),
                activities_resource: config.activities_resource.map(Arc::from),
                sampler: Sampler::new(),
            }),
        })
    }

    /// The base URL all paths are relative to (always ends with `/`).
    pub fn base_url(&self) -> &str {
        self.inner.base_url.as_str()
    }

    /// The OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The total deadline of one call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The resource the activities calls' access token is asked for (`None`: none asked).
    pub fn activities_resource(&self) -> Option<&str> {
        self.inner.activities_resource.as_deref()
    }

    /// Drops the cached access tokens: the next call fetches a new one.
    pub async fn clear_token_cache(&self) {
        self.inner.tokens.clear();
    }

    fn url(&self, path: &str) -> Result<Url, Error> {
        Ok(join(&self.inner.base_url, path)?)
    }

    /// `path` followed by one percent-encoded segment `id`.
    fn url_with_id(&self, path: &str, setting: &'static str, id: &str) -> Result<Url, Error> {
        if id.trim().is_empty() {
            return Err(invalid(setting, "must not be empty"));
        }
        let mut url = self.url(path)?;
        url.path_segments_mut()
            .map_err(|()| invalid("base_url", "cannot carry a path"))?
            .push(id);
        Ok(url)
    }

    async fn send(
        &self,
        endpoint: &'static str,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        replay: Replay,
    ) -> Result<Vec<u8>, Error> {
        // The request path's calls come first; the rest waits for budget.
        let priority = match endpoint {
            "trigger_action"
            | "trigger_action_with_recommendation"
            | "get_recommendation"
            | "evaluate" => CallPriority::Assessment,
            _ => CallPriority::Background,
        };
        // The activities endpoints (their path under the base URL) may need a token for
        // another resource, or none.
        let under_base = url
            .path()
            .strip_prefix(self.inner.base_url.path())
            .unwrap_or_default();
        let token = if under_base.starts_with("activities/v1/") {
            TokenKey {
                api: Api::Activities,
                resource: self.inner.activities_resource.clone(),
            }
        } else {
            TokenKey {
                api: Api::Risk,
                resource: self.inner.risk_resource.clone(),
            }
        };
        self.inner
            .execute(Call {
                endpoint,
                method,
                url,
                body: body.map(bytes::Bytes::from),
                replay,
                priority,
                token,
            })
            .await
    }

    // ---- actions and recommendations ------------------------------------------------------

    /// Triggers an action for a session token: `POST /risk/v1/action/trigger-action` (201).
    ///
    /// Never resent once the request may have reached the server (see [Retries](Self#retries)).
    pub async fn trigger_action(
        &self,
        request: &TriggerActionRequest,
    ) -> Result<TriggerActionResponse, Error> {
        let url = self.inner.endpoints.trigger_action.clone();
        let body = self
            .send(
                "trigger_action",
                Method::POST,
                url,
                Some(to_json(request)?),
                Replay::UnsentOnly,
            )
            .await?;
        decode_withholding_body(&body)
    }

    /// Triggers an action asking for the recommendation in the same response
    /// (`?get_recommendation=true`). When the response carries no decodable `recommendation`,
    /// falls back to [`get_recommendation`](Self::get_recommendation) (a second call with its
    /// own deadline).
    pub async fn trigger_action_with_recommendation(
        &self,
        request: &TriggerActionRequest,
    ) -> Result<(ActionToken, RecommendationResponse), Error> {
        let (action_token, recommendation) = self.trigger_recommended(request).await?;
        Ok((action_token, recommendation?.into_response()))
    }

    /// [`trigger_action_with_recommendation`](Self::trigger_action_with_recommendation),
    /// keeping the action token when only the recommendation failed.
    async fn trigger_recommended(
        &self,
        request: &TriggerActionRequest,
    ) -> Result<(ActionToken, Result<RiskAnswer, Error>), Error> {
        let url = self.inner.endpoints.trigger_recommended.clone();
        let body = self
            .send(
                "trigger_action_with_recommendation",
                Method::POST,
                url,
                Some(to_json(request)?),
                Replay::UnsentOnly,
            )
            .await?;
        let (action_token, answer) = RiskAnswer::from_trigger_action(body)?;
        let recommendation = match answer {
            Some(answer) => {
                self.inner.sampler.sample(&answer);
                Ok(answer)
            }
            None => self.recommendation_answer(&action_token).await,
        };
        Ok((action_token, recommendation))
    }

    /// Fetches the recommendation for an action: `GET /risk/v1/recommendation?action_token=..`.
    pub async fn get_recommendation(
        &self,
        action_token: &ActionToken,
    ) -> Result<RecommendationResponse, Error> {
        let body = self.recommendation_body(action_token).await?;
        RecommendationResponse::from_slice(&body)
    }

    /// [`get_recommendation`](Self::get_recommendation) for the guard: the decision read, the
    /// rest decoded when asked for.
    async fn recommendation_answer(&self, action_token: &ActionToken) -> Result<RiskAnswer, Error> {
        let body = self.recommendation_body(action_token).await?;
        let answer = RiskAnswer::from_json(body.into())?;
        self.inner.sampler.sample(&answer);
        Ok(answer)
    }

    async fn recommendation_body(&self, action_token: &ActionToken) -> Result<Vec<u8>, Error> {
        if action_token.expose().is_empty() {
            return Err(invalid("action_token", "must not be empty"));
        }
        let mut url = self.inner.endpoints.recommendation.clone();
        url.query_pairs_mut()
            .append_pair("action_token", action_token.expose());
        self.send("get_recommendation", Method::GET, url, None, Replay::Always)
            .await
    }

    /// Reports how an action ended: `POST /risk/v1/action/result` (201). Safe to repeat for
    /// one action token, so it is retried.
    pub async fn report_action_result(&self, report: &ActionResultReport) -> Result<(), Error> {
        let url = self.inner.endpoints.action_result.clone();
        self.send(
            "report_action_result",
            Method::POST,
            url,
            Some(to_json(report)?),
            Replay::Always,
        )
        .await?;
        Ok(())
    }

    /// Evaluates an entity (an IP address) against the tenant's rules, with no browser
    /// session: `POST /risk/v1/evaluate`. An assessment call (see the budget); repeatable.
    pub async fn evaluate(&self, request: &EvaluateRequest) -> Result<EvaluateResponse, Error> {
        let url = self.inner.endpoints.evaluate.clone();
        let body = self
            .send(
                "evaluate",
                Method::POST,
                url,
                Some(to_json(request)?),
                Replay::Always,
            )
            .await?;
        decode(&body)
    }

    /// Sets an assignee on a list of actions: `PUT /risk/v1/action/assignee` (the body's shape
    /// is in [`AssigneeRequest`] alone). Safe to repeat.
    pub async fn set_assignee(&self, request: &AssigneeRequest) -> Result<(), Error> {
        let url = self.url("risk/v1/action/assignee")?;
        self.send(
            "set_assignee",
            Method::PUT,
            url,
            Some(to_json(request)?),
            Replay::Always,
        )
        .await?;
        Ok(())
    }

    /// Forgets the user set on a browser session (the application's logout):
    /// `POST /risk/v1/action/clear-user` (201). Safe to repeat.
    pub async fn clear_user(&self, request: &ClearUserRequest) -> Result<(), Error> {
        let url = self.url("risk/v1/action/clear-user")?;
        self.send(
            "clear_user",
            Method::POST,
            url,
            Some(to_json(request)?),
            Replay::Always,
        )
        .await?;
        Ok(())
    }

    // ---- event streaming ------------------------------------------------------------------

    fn events_url(
        &self,
        path: &str,
        event_type: EventType,
        stream_id: Option<&str>,
    ) -> Result<Url, Error> {
        let mut url = self.url(path)?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("type", event_type.as_str());
            if let Some(stream_id) = stream_id {
                validate_stream_id(stream_id)?;
                query.append_pair("stream_id", stream_id);
            }
        }
        Ok(url)
    }

    /// Starts collecting events of a type: `PUT /activities/v1/activities/start-collect?type=`.
    /// 409 ([`Error::Conflict`]) when already collecting.
    pub async fn start_collect(&self, event_type: EventType) -> Result<(), Error> {
        let url = self.events_url("activities/v1/activities/start-collect", event_type, None)?;
        self.send("start_collect", Method::PUT, url, None, Replay::Always)
            .await?;
        Ok(())
    }

    /// Creates a named stream:
    /// `PUT /activities/v1/activities/stream?type=&stream_id=&enrichment=`. Stream ids must be
    /// non-empty and contain no whitespace (checked before sending). `options` carries the
    /// stream's settings ([`StreamOptions::enrichment`]: add private data to its events),
    /// always sent explicitly.
    ///
    /// ```no_run
    /// use risk_core::{EventType, RiskClient, StreamOptions};
    /// # async fn run(client: RiskClient) -> Result<(), risk_core::Error> {
    /// client.create_stream(EventType::Risk, "siem", &StreamOptions::new().enrichment(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_stream(
        &self,
        event_type: EventType,
        stream_id: &str,
        options: &StreamOptions,
    ) -> Result<(), Error> {
        let mut url = self.events_url(
            "activities/v1/activities/stream",
            event_type,
            Some(stream_id),
        )?;
        options.append_to(&mut url.query_pairs_mut());
        self.send("create_stream", Method::PUT, url, None, Replay::Always)
            .await?;
        Ok(())
    }

    /// The next batch of a stream's events:
    /// `POST /activities/v1/activities/collect?type=&stream_id=&batch_size=`.
    /// `batch_size` must be `1..=1000` (checked before sending). Not retried once sent: it
    /// advances the stream's read position.
    ///
    /// A 200 never loses an event: each element of the batch is read on its own (see
    /// [`ActivityEvent`]; one that is not an event is kept in [`ActivityEvent::raw`]). An
    /// empty body or `null` is an empty batch, and a list wrapped in an object
    /// (`{"data": [...]}`) is read as the list. Any other answer holds no events and is an
    /// [`Error::Decode`] quoting its start, so that a loop over `collect` stops on it instead
    /// of reading it again and again.
    pub async fn collect(
        &self,
        event_type: EventType,
        stream_id: &str,
        batch_size: u16,
    ) -> Result<Vec<ActivityEvent>, Error> {
        if !(1..=MAX_COLLECT_BATCH).contains(&batch_size) {
            return Err(invalid(
                "batch_size",
                &format!("must be between 1 and {MAX_COLLECT_BATCH}, got {batch_size}"),
            ));
        }
        let mut url = self.events_url(
            "activities/v1/activities/collect",
            event_type,
            Some(stream_id),
        )?;
        url.query_pairs_mut()
            .append_pair("batch_size", &batch_size.to_string());
        let body = self
            .send("collect", Method::POST, url, None, Replay::UnsentOnly)
            .await?;
        collected(&body)
    }

    /// Deletes a stream: `DELETE /activities/v1/activities/stream?type=&stream_id=`.
    pub async fn delete_stream(&self, event_type: EventType, stream_id: &str) -> Result<(), Error> {
        let url = self.events_url(
            "activities/v1/activities/stream",
            event_type,
            Some(stream_id),
        )?;
        self.send("delete_stream", Method::DELETE, url, None, Replay::Always)
            .await?;
        Ok(())
    }

    /// Stops collecting events of a type: `DELETE /activities/v1/activities/stop-collect?type=`.
    pub async fn stop_collect(&self, event_type: EventType) -> Result<(), Error> {
        let url = self.events_url("activities/v1/activities/stop-collect", event_type, None)?;
        self.send("stop_collect", Method::DELETE, url, None, Replay::Always)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Recommender for RiskClient {
    async fn trigger_action(&self, request: &TriggerActionRequest) -> Result<ActionToken, Error> {
        RiskClient::trigger_action(self, request)
            .await
            .map(|r| r.action_token)
    }

    async fn recommendation(&self, action_token: &ActionToken) -> Result<RiskAnswer, Error> {
        self.recommendation_answer(action_token).await
    }

    async fn evaluate(&self, request: &EvaluateRequest) -> Result<EvaluateResponse, Error> {
        RiskClient::evaluate(self, request).await
    }

    /// One call: trigger-action with `get_recommendation=true`.
    async fn trigger_with_recommendation(
        &self,
        request: &TriggerActionRequest,
    ) -> Result<(ActionToken, Result<RiskAnswer, Error>), Error> {
        self.trigger_recommended(request).await
    }
}

#[async_trait]
impl ResultSink for RiskClient {
    async fn report(&self, report: &ActionResultReport) -> Result<(), Error> {
        self.report_action_result(report).await
    }
}

fn join(base: &Url, path: &str) -> Result<Url, ConfigError> {
    base.join(path).map_err(|e| ConfigError::InvalidBaseUrl {
        url: base.to_string(),
        reason: e.to_string(),
    })
}

fn invalid(setting: &'static str, reason: &str) -> Error {
    Error::Config(ConfigError::InvalidValue {
        setting,
        reason: reason.to_owned(),
    })
}

/// The events of a `collect` answer. The stream's read position has moved, so nothing in it
/// may be lost: each event is read on its own (an unreadable one is kept as raw JSON). An
/// empty body or `null` is an empty batch, and a list wrapped in an object (`{"data": [...]}`)
/// is read as the list. Any other answer holds no events: it is an error (with the start of
/// the body), so that a loop over `collect` stops instead of reading it again and again.
fn collected(body: &[u8]) -> Result<Vec<ActivityEvent>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value = serde_json::from_slice::<serde_json::Value>(body).map_err(|e| Error::Decode {
        message: format!("a collect answer that is not JSON: {e}"),
        excerpt: crate::error::excerpt(body),
    })?;
    let batch = match value {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(batch) => batch,
        serde_json::Value::Object(mut wrapper) => {
            match wrapper.remove("data").or_else(|| wrapper.remove("events")) {
                Some(serde_json::Value::Array(batch)) => batch,
                _ => {
                    return Err(Error::Decode {
                        message: "a collect answer that is neither a list of events nor one \
                              wrapped in `data`"
                            .to_owned(),
                        excerpt: crate::error::excerpt(body),
                    })
                }
            }
        }
        _ => {
            return Err(Error::Decode {
                message: "a collect answer that is not a list of events".to_owned(),
                excerpt: crate::error::excerpt(body),
            })
        }
    };
    Ok(batch.into_iter().map(ActivityEvent::from_json).collect())
}

fn validate_stream_id(stream_id: &str) -> Result<(), Error> {
    if stream_id.is_empty() {
        return Err(invalid("stream_id", "must not be empty"));
    }
    if stream_id.chars().any(char::is_whitespace) {
        return Err(invalid("stream_id", "must not contain whitespace"));
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| invalid("request body", &e.to_string()))
}

/// A `{message}` body; an empty 2xx body is accepted as an empty message.
fn decode_message(body: &[u8]) -> Result<MessageResponse, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(MessageResponse::default());
    }
    decode(body)
}
