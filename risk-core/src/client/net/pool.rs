//! HTTP/1.1 keep-alive connections to the API's origin.
//!
//! Idle connections wait on a stack (the most recently used first: warm, and the ones left
//! at the bottom are those to expire). A call takes the top one, or opens a new connection
//! when there is none; the connection comes back when its answer's body has been read to
//! the end. An answer left unread, a failed call or a call cut short by its deadline drops
//! its connection instead. A pooled connection the server closed in the meantime is noticed
//! before the request is written to it (hyper hands the request back), and the call moves on
//! to another connection: only a request that may have reached the server fails.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::ThreadId;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::time::Instant;
use url::{Host, Position, Url};

use super::{Body, HttpError, HttpResponse, Outgoing};
use crate::error::ConfigError;

/// An idle connection older than this is closed rather than used.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// TCP keep-alive probes start after this long without traffic.
pub(crate) const TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// At most this many idle connections are kept (the oldest is closed to make room).
const MAX_IDLE: usize = 256;
/// How long one address may take to connect before the next one is tried alongside it.
const NEXT_ADDRESS_AFTER: Duration = Duration::from_millis(250);

type Sender = SendRequest<Full<Bytes>>;

/// The connections to one origin (the API's base URL).
pub(crate) struct Pool {
    /// `https`: every connection is TLS.
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    /// The host to resolve, or its address.
    host: Target,
    port: u16,
    /// The base URL's scheme and host as written (the calls' URLs must have the same).
    scheme: String,
    host_str: String,
    /// The `Host` header.
    authority: HeaderValue,
    user_agent: HeaderValue,
    idle: Mutex<VecDeque<Idle>>,
}

enum Target {
    Name(String),
    Address(std::net::IpAddr),
}

struct Idle {
    sender: Sender,
    since: Instant,
    home: Home,
}

/// The thread whose current-thread runtime runs a connection's task; `None`: a multi-thread
/// runtime (any of its workers runs it).
type Home = Option<ThreadId>;

fn home() -> Home {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::CurrentThread => {
            Some(std::thread::current().id())
        }
        _ => None,
    }
}

/// A connection lent to one call, given back with [`Checkin::put_back`].
pub(crate) struct Checkin {
    pool: Weak<Pool>,
    sender: Sender,
    home: Home,
}

impl Checkin {
    /// Returns the connection to its pool (closed, it is dropped instead).
    pub(crate) fn put_back(self) {
        if let Some(pool) = self.pool.upgrade() {
            pool.put_back(self.sender, self.home);
        }
    }
}

fn invalid(base_url: &Url, reason: &str) -> ConfigError {
    ConfigError::InvalidBaseUrl {
        url: base_url.to_string(),
        reason: reason.to_owned(),
    }
}

impl Pool {
    /// The pool of `base_url`'s origin (`http` or `https`).
    pub(crate) fn new(base_url: &Url, user_agent: &str) -> Result<Self, ConfigError> {
        Self::with_roots(base_url, user_agent, webpki_roots())
    }

    /// [`Pool::new`] trusting `roots` (tests: a local certificate authority).
    pub(crate) fn with_roots(
        base_url: &Url,
        user_agent: &str,
        roots: rustls::RootCertStore,
    ) -> Result<Self, ConfigError> {
        let port = base_url
            .port_or_known_default()
            .ok_or_else(|| invalid(base_url, "no port"))?;
        let (host, server_name) = match base_url.host() {
            Some(Host::Domain(name)) => (
                Target::Name(name.to_owned()),
                ServerName::try_from(name.to_owned())
                    .map_err(|e| invalid(base_url, &e.to_string()))?,
            ),
            Some(Host::Ipv4(ip)) => (
                Target::Address(ip.into()),
                ServerName::from(std::net::IpAddr::from(ip)),
            ),
            Some(Host::Ipv6(ip)) => (
                Target::Address(ip.into()),
                ServerName::from(std::net::IpAddr::from(ip)),
            ),
            None => return Err(invalid(base_url, "no host")),
        };
        let tls = match base_url.scheme() {
            "https" => Some((tls_connector(roots)?, server_name)),
            "http" => None,
            other => {
                return Err(invalid(
                    base_url,
                    &format!("the scheme `{other}` is not http or https"),
                ))
            }
        };
        let authority = match base_url.port() {
            Some(port) => format!("{}:{port}", base_url.host_str().unwrap_or_default()),
            None => base_url.host_str().unwrap_or_default().to_owned(),
        };
        Ok(Self {
            tls,
            host,
            port,
            scheme: base_url.scheme().to_owned(),
            host_str: base_url.host_str().unwrap_or_default().to_owned(),
            authority: HeaderValue::try_from(authority)
                .map_err(|e| invalid(base_url, &e.to_string()))?,
            user_agent: HeaderValue::try_from(user_agent).map_err(|e| {
                ConfigError::InvalidValue {
                    setting: "user_agent",
                    reason: e.to_string(),
                }
            })?,
            idle: Mutex::new(VecDeque::new()),
        })
    }

    /// Sends `request` on a pooled connection (or a new one) and waits for the answer's head.
    pub(crate) async fn send(
        self: &Arc<Self>,
        request: Outgoing<'_>,
    ) -> Result<HttpResponse, HttpError> {
        let mut request = self.request(request)?;
        let here = home();
        loop {
            // A new connection's home is where its task was spawned (the call may have moved
            // between threads meanwhile; a shared token fetch is polled by whoever waits).
            let (mut sender, home, reused) = match self.take_idle(here) {
                Some(sender) => (sender, here, true),
                // Boxed: the rare path keeps its (TLS) state out of every call's future.
                None => {
                    let (sender, home) = Box::pin(self.connect()).await?;
                    (sender, home, false)
                }
            };
            if let Err(e) = sender.ready().await {
                if reused {
                    continue;
                }
                return Err(HttpError::new("the new connection closed", &e, true));
            }
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let (head, body) = response.into_parts();
                    return Ok(HttpResponse {
                        status: head.status.as_u16(),
                        body: Body::Direct {
                            headers: head.headers,
                            body,
                            connection: Checkin {
                                pool: Arc::downgrade(self),
                                sender,
                                home,
                            },
                        },
                    });
                }
                Err(mut e) => match e.take_message() {
                    // Not written: a pooled connection that was closing. Try the next.
                    Some(unsent) if reused => request = unsent,
                    unsent => {
                        let unsent = unsent.is_some();
                        return Err(HttpError::new("the request failed", e.error(), unsent));
                    }
                },
            }
        }
    }

    fn request(&self, request: Outgoing<'_>) -> Result<http::Request<Full<Bytes>>, HttpError> {
        let url = request.url;
        // Every URL is the base URL joined with a path; never send the token elsewhere.
        let same_origin = url.scheme() == self.scheme
            && url.host_str() == Some(self.host_str.as_str())
            && url.port_or_known_default() == Some(self.port);
        if !same_origin {
            return Err(HttpError {
                message: "the URL is not on the API's origin".to_owned(),
                unsent: true,
                timeout: false,
            });
        }
        let uri = http::Uri::try_from(&url[Position::BeforePath..Position::AfterQuery])
            .map_err(|e| HttpError::new("building the request", &e, true))?;
        // Built in place rather than through `http::request::Builder`, whose every step moves
        // the whole request head: the headers are typed values already.
        let (content_type, body) = request.body.unzip();
        let mut out = http::Request::new(Full::new(body.unwrap_or_default()));
        *out.method_mut() = request.method;
        *out.uri_mut() = uri;
        let headers = out.headers_mut();
        headers.insert(HOST, self.authority.clone());
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(bearer) = request.bearer {
            headers.insert(AUTHORIZATION, bearer.clone());
        }
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        Ok(out)
    }

    /// How many idle connections wait, not counting those already seen closed.
    #[cfg(test)]
    pub(crate) fn idle_connections(&self) -> usize {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.iter().filter(|e| !e.sender.is_closed()).count()
    }

    /// The most recently used idle connection of `home` still open and not expired.
    fn take_idle(&self, home: Home) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        drop_stale(&mut idle);
        while let Some(i) = idle.iter().rposition(|e| e.home == home) {
            let entry = idle.remove(i)?;
            if !entry.sender.is_closed() && entry.since.elapsed() < IDLE_TIMEOUT {
                return Some(entry.sender);
            }
        }
        None
    }

    fn put_back(&self, sender: Sender, home: Home) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        drop_stale(&mut idle);
        if idle.len() >= MAX_IDLE {
            idle.pop_front();
        }
        idle.push_back(Idle {
            sender,
            since: Instant::now(),
            home,
        });
    }

    /// A new connection: resolve, connect (each address in turn), TLS, HTTP/1.1 handshake;
    /// the connection's task is spawned on the current runtime.
    async fn connect(&self) -> Result<(Sender, Home), HttpError> {
        let addresses: Vec<SocketAddr> = match &self.host {
            Target::Address(ip) => vec![SocketAddr::new(*ip, self.port)],
            Target::Name(name) => tokio::net::lookup_host((name.as_str(), self.port))
                .await
                .map_err(|e| HttpError::new("resolving the API's host", &e, true))?
                .collect(),
        };
        let stream = connect_any(&addresses).await?;
        // Small requests and answers: send each at once. Keep-alive probes find a dead peer.
        let _ = stream.set_nodelay(true);
        let _ = socket2::SockRef::from(&stream)
            .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE));
        let address = stream.peer_addr().ok();
        let opened = match &self.tls {
            None => handshake(stream).await?,
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), stream)
                    .await
                    .map_err(|e| HttpError::new("TLS with the API", &e, true))?;
                handshake(stream).await?
            }
        };
        tracing::debug!(
            ?address,
            tls = self.tls.is_some(),
            "connection to the risk API opened"
        );
        Ok(opened)
    }
}

/// The HTTP/1.1 handshake on `stream`; the connection's task is spawned on the current runtime,
/// which is the connection's home.
async fn handshake<S>(stream: S) -> Result<(Sender, Home), HttpError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError::new("starting HTTP/1.1", &e, true))?;
    tokio::spawn(async move {
        // Ends when the connection closes; an error then is the next request's to see.
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "connection to the risk API ended");
        }
    });
    Ok((sender, home()))
}

/// Drops the closed and expired connections at the bottom of the stack (the oldest).
fn drop_stale(idle: &mut VecDeque<Idle>) {
    while idle
        .front()
        .is_some_and(|e| e.sender.is_closed() || e.since.elapsed() >= IDLE_TIMEOUT)
    {
        idle.pop_front();
    }
}

/// Connects to the first of `addresses` that answers. The next address is tried, alongside
/// those still connecting, when the last one tried has failed or has not connected within
/// [`NEXT_ADDRESS_AFTER`] (as RFC 8305's "happy eyeballs" do): an address whose route drops
/// packets (an IPv6 route inside many containers) costs 250 ms, not the system's connect
/// timeout.
pub(super) async fn connect_any(addresses: &[SocketAddr]) -> Result<TcpStream, HttpError> {
    let mut pending = addresses.iter();
    let mut attempts = FuturesUnordered::new();
    let mut last_error = None;
    loop {
        if let Some(address) = pending.next() {
            attempts.push(TcpStream::connect(*address));
        } else if attempts.is_empty() {
            return Err(match last_error {
                Some(e) => HttpError::new("connecting to the API", &e, true),
                None => HttpError {
                    message: "resolving the API's host: no address".to_owned(),
                    unsent: true,
                    timeout: false,
                },
            });
        }
        let more = pending.len() > 0;
        tokio::select! {
            Some(result) = attempts.next() => match result {
                Ok(stream) => return Ok(stream),
                Err(e) => last_error = Some(e),
            },
            () = tokio::time::sleep(NEXT_ADDRESS_AFTER), if more => {}
        }
    }
}

fn webpki_roots() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

fn tls_connector(roots: rustls::RootCertStore) -> Result<tokio_rustls::TlsConnector, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::HttpClient(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
