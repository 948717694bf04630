//! The client's HTTP transport.
//!
//! Straight to the API (no proxy configured for it), calls go over HTTP/1.1 keep-alive
//! connections of the client's own [`pool`]: hyper's connection API, TCP with `TCP_NODELAY`,
//! TLS by rustls with the webpki roots. Per call that is one checkout from a mutex-guarded
//! stack, the request handed to the connection's task, and the connection put back when its
//! answer is read: no task spawned and no timer armed per call (the general-purpose client
//! did both; on loopback the protected single-call route went from 1.37 to 1.21 times its
//! floor without them).
//!
//! When the environment configures a proxy for the API's URL (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY`, minus `NO_PROXY`; read once, when the client is built, by the same matcher
//! reqwest uses) the calls go through reqwest instead, which speaks to proxies.

mod pool;
#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::Method;
use http_body_util::BodyExt;
use url::Url;

use crate::error::ConfigError;

/// How a client reaches the API.
#[derive(Clone)]
pub(crate) enum Http {
    /// The client's own HTTP/1.1 connections.
    Direct(Arc<pool::Pool>),
    /// Through the proxy the environment configures for the API's URL.
    Proxied(reqwest::Client),
}

/// One request: the bearer token and body are sent as given; `Accept: application/json`,
/// `Host` and `User-Agent` are added.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    pub(crate) url: &'a Url,
    /// The `Authorization: Bearer` value of the access token, built once per token by
    /// [`bearer_header`] (marked sensitive).
    pub(crate) bearer: Option<&'a HeaderValue>,
    /// The body and its content type.
    pub(crate) body: Option<(&'static str, Bytes)>,
}

/// An answer whose head has arrived; its body is read with [`HttpResponse::read`].
pub(crate) struct HttpResponse {
    status: u16,
    body: Body,
}

enum Body {
    /// The connection goes back to the pool once the body is read to its end.
    Direct {
        headers: HeaderMap,
        body: hyper::body::Incoming,
        connection: pool::Checkin,
    },
    Proxied(reqwest::Response),
}

/// A call that failed in the transport (no HTTP status).
#[derive(Debug)]
pub(crate) struct HttpError {
    /// What failed, with its causes; never the URL (its query may carry an action token).
    pub(crate) message: String,
    /// Nothing of the request left this process (resolving, connecting, TLS, or a pooled
    /// connection that closed before taking it): safe to send again.
    pub(crate) unsent: bool,
    /// reqwest's own deadline passed.
    pub(crate) timeout: bool,
}

impl HttpError {
    fn new(what: &str, error: &(dyn std::error::Error + 'static), unsent: bool) -> Self {
        let mut message = what.to_owned();
        let mut cause = Some(error);
        while let Some(e) = cause {
            message.push_str(": ");
            message.push_str(&e.to_string());
            cause = e.source();
        }
        Self {
            message,
            unsent,
            timeout: false,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Self {
        let e = e.without_url();
        let mut this = Self::new("request failed", &e, e.is_connect());
        this.timeout = e.is_timeout();
        this
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than this many bytes.
    TooLarge(usize),
    Read(HttpError),
}

impl Http {
    /// The transport for the API at `base_url`.
    pub(crate) fn new(base_url: &Url, user_agent: &str) -> Result<Self, ConfigError> {
        let proxied = http::Uri::try_from(base_url.as_str())
            .ok()
            .and_then(|uri| {
                hyper_util::client::proxy::matcher::Matcher::from_system().intercept(&uri)
            })
            .is_some();
        if !proxied {
            return Ok(Self::Direct(Arc::new(pool::Pool::new(
                base_url, user_agent,
            )?)));
        }
        tracing::debug!("a proxy is configured for the risk API: calls go through it");
        reqwest::Client::builder()
            .user_agent(user_agent)
            .pool_idle_timeout(pool::IDLE_TIMEOUT)
            .tcp_keepalive(pool::TCP_KEEPALIVE)
            .tcp_nodelay(true)
            // The API does not redirect; never carry the bearer token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map(Self::Proxied)
            .map_err(|e| ConfigError::HttpClient(e.to_string()))
    }

    /// Sends `request` and waits for its answer's head. `timeout`: reqwest's own deadline
    /// (the direct path runs under the caller's).
    pub(crate) async fn send(
        &self,
        request: Outgoing<'_>,
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        match self {
            Self::Direct(pool) => pool.send(request).await,
            Self::Proxied(client) => {
                let mut builder = client
                    .request(request.method, request.url.clone())
                    .timeout(timeout)
                    .header(ACCEPT, HeaderValue::from_static("application/json"));
                if let Some(bearer) = request.bearer {
                    builder = builder.header(AUTHORIZATION, bearer.clone());
                }
                if let Some((content_type, body)) = request.body {
                    builder = builder.header(CONTENT_TYPE, content_type).body(body);
                }
                let response = builder.send().await.map_err(HttpError::from_reqwest)?;
                Ok(HttpResponse {
                    status: response.status().as_u16(),
                    body: Body::Proxied(response),
                })
            }
        }
    }

    /// Whether calls go through a proxy.
    #[cfg(test)]
    pub(crate) fn is_proxied(&self) -> bool {
        matches!(self, Self::Proxied(_))
    }
}

/// `Authorization: Bearer <token>`, marked sensitive (kept out of hyper's and `Debug`'s view);
/// `None` when the token cannot be a header value.
pub(crate) fn bearer_header(token: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl HttpResponse {
    /// The status code.
    pub(crate) fn status(&self) -> u16 {
        self.status
    }

    /// The answer's headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        match &self.body {
            Body::Direct { headers, .. } => headers,
            Body::Proxied(response) => response.headers(),
        }
    }

    /// The body, up to `cap` bytes: a longer one (by `Content-Length` or as it arrives) is
    /// refused before it is all in memory.
    pub(crate) async fn read(self, cap: usize) -> Result<Vec<u8>, BodyError> {
        let announced = match &self.body {
            Body::Direct { body, .. } => hyper::body::Body::size_hint(body).exact(),
            Body::Proxied(response) => response.content_length(),
        }
        .unwrap_or(0);
        if announced > cap as u64 {
            return Err(BodyError::TooLarge(cap));
        }
        let mut out = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        let mut append = |chunk: &[u8]| {
            if out.len().saturating_add(chunk.len()) > cap {
                return Err(BodyError::TooLarge(cap));
            }
            out.extend_from_slice(chunk);
            Ok(())
        };
        match self.body {
            Body::Direct {
                mut body,
                connection,
                ..
            } => {
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(|e| {
                        BodyError::Read(HttpError::new("reading the answer", &e, false))
                    })?;
                    if let Ok(data) = frame.into_data() {
                        append(&data)?;
                    }
                }
                // Read to its end: the connection can take the next call.
                connection.put_back();
            }
            Body::Proxied(mut response) => {
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| BodyError::Read(HttpError::from_reqwest(e)))?
                {
                    append(&chunk)?;
                }
            }
        }
        Ok(out)
    }
}
