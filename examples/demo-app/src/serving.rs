//! How the example servers face slow or hostile clients, the way a production deployment
//! would: a time limit on reading a request head and on reading a body, a body size limit, and
//! a connection limit.
//!
//! - axum: [`serve_axum`] is `axum::serve` with hyper's `header_read_timeout` and a connection
//!   limit (axum's own `serve` sets neither); the body limit and body timeout are a middleware
//!   of the router ([`crate::axum_app::router`]).
//! - actix-web: [`actix_server`], `HttpServer` with `client_request_timeout` (the head),
//!   `max_connections`, `h1_allow_half_closed(false)`, and the same body middleware
//!   ([`crate::actix_app::configure`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The limits the example servers apply to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// A request head (request line and headers) must arrive within this (default 5 s).
    pub header_read_timeout: Duration,
    /// A request body must arrive within this (default 10 s): 408 after.
    pub body_read_timeout: Duration,
    /// Open connections at most, per server (axum) or per worker (actix-web); more wait in
    /// the listen backlog (default 1,024).
    pub max_connections: usize,
    /// How long a graceful shutdown waits for open connections (default 5 s).
    pub shutdown_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(10),
            max_connections: 1_024,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// Serves `router` on `listener` with `limits` until `shutdown` completes, then lets open
/// connections finish for at most `limits.shutdown_timeout` and returns; connections still
/// open then end with the runtime (when `main` returns). Each request carries the socket
/// peer as `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info` does.
pub async fn serve_axum(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    // HTTP/1 only (as the axum build here): a protocol-sniffing builder would read the first
    // bytes before the header timer starts, and an idle connection would never time out.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        // At the limit, stop accepting: new connections wait in the backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: log, wait a little, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut request: axum::extract::Request| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let service = TowerToHyperService::new(service.map_request(
            |request: hyper::Request<hyper::body::Incoming>| request.map(axum::body::Body::new),
        ));
        // No upgrades (no WebSocket route): a plain connection shuts down gracefully.
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown timeout");
    }
    Ok(())
}

/// The actix-web example server on `listener`, with the backend's limits: the head within
/// the header timeout (408 after), at most `max_connections` per worker, and a client that
/// leaves ends its request (the check or handler is dropped and the action reported
/// incomplete, as hyper does by default) instead of running it to the end. `workers`: `None`
/// for one per core. Run it with `.await` (it handles Ctrl-C itself).
pub fn actix_server(
    backend: crate::backend::Backend,
    listener: std::net::TcpListener,
    workers: Option<usize>,
) -> std::io::Result<actix_web::dev::Server> {
    let limits = backend.limits;
    let server = actix_web::HttpServer::new(move || {
        let backend = backend.clone();
        actix_web::App::new().configure(move |cfg| crate::actix_app::configure(cfg, backend))
    })
    .client_request_timeout(limits.header_read_timeout)
    .h1_allow_half_closed(false)
    .max_connections(limits.max_connections)
    .shutdown_timeout(limits.shutdown_timeout.as_secs());
    let server = match workers {
        Some(n) => server.workers(n),
        None => server,
    };
    Ok(server.listen(listener)?.run())
}
