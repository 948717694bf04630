//! The transport against a minimal HTTP/1.1 server on loopback whose behaviour each test
//! chooses (keep-alive, closing after an answer, `Connection: close`, TLS).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use super::pool::Pool;
use super::{Http, Outgoing};

const CA: &[u8] = include_bytes!("testdata/ca.pem");
const CERT: &[u8] = include_bytes!("testdata/localhost.pem");
const KEY: &[u8] = include_bytes!("testdata/localhost.key");

#[derive(Clone, Copy, PartialEq)]
enum After {
    /// Keep the connection for the next request.
    KeepAlive,
    /// Answer with `Connection: close`, then close.
    ConnectionClose,
    /// Close the socket after the answer, without saying so.
    Hangup,
    /// Read the request, then close the socket without answering.
    Unanswered,
}

struct Server {
    url: Url,
    accepted: Arc<AtomicUsize>,
    /// The requests' heads, as received.
    heads: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn serve(after: After, body: &'static str, tls: bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, "localhost", after, body, tls)
}

/// Serves on `listener`; the server's URL names it `host`.
fn serve_on(
    listener: TcpListener,
    host: &str,
    after: After,
    body: &'static str,
    tls: bool,
) -> Server {
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let acceptor = tls.then(|| {
        let certs = vec![CertificateDer::from_pem_slice(CERT).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let (count, seen) = (Arc::clone(&accepted), Arc::clone(&heads));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let seen = Arc::clone(&seen);
            match &acceptor {
                None => drop(tokio::spawn(answer(stream, after, body, seen))),
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        // A client that refuses the certificate ends the handshake.
                        if let Ok(stream) = acceptor.accept(stream).await {
                            answer(stream, after, body, seen).await;
                        }
                    });
                }
            }
        }
    });
    let scheme = if tls { "https" } else { "http" };
    Server {
        url: Url::parse(&format!("{scheme}://{host}:{port}/base/")).unwrap(),
        accepted,
        heads,
    }
}

/// Reads requests (head and `Content-Length` body) and answers each with `body`.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    after: After,
    body: &'static str,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
) {
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..head_end + length);
        seen.lock().unwrap().push(head);
        if after == After::Unanswered {
            return;
        }
        let close = if after == After::ConnectionClose {
            "connection: close\r\n"
        } else {
            ""
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{close}content-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
        if after != After::KeepAlive {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

fn pool(server: &Server) -> Arc<Pool> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).unwrap())
        .unwrap();
    Arc::new(Pool::with_roots(&server.url, "risk-core-test", roots).unwrap())
}

async fn post(pool: &Arc<Pool>, url: &Url) -> Result<Vec<u8>, String> {
    let bearer = super::bearer_header("token-1").unwrap();
    let request = Outgoing {
        method: Method::POST,
        url,
        bearer: Some(&bearer),
        body: Some(("application/json", Bytes::from_static(b"{\"a\":1}"))),
    };
    let response = pool.send(request).await.map_err(|e| e.message)?;
    assert_eq!(response.status(), 200);
    response.read(1024).await.map_err(|e| format!("{e:?}"))
}

/// A plain GET of `url` (no token, no body).
fn get(url: &Url) -> Outgoing<'_> {
    Outgoing {
        method: Method::GET,
        url,
        bearer: None,
        body: None,
    }
}

/// Polls `done` until it holds (or fails the test after 10 s).
async fn until(mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached in 10 s"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn calls_share_one_kept_alive_connection_and_send_the_request_whole() {
    let server = serve(After::KeepAlive, "{\"ok\":true}", false).await;
    let pool = pool(&server);
    let url = server.url.join("risk/v1/action?x=1").unwrap();
    for _ in 0..5 {
        assert_eq!(post(&pool, &url).await.unwrap(), b"{\"ok\":true}");
    }
    assert_eq!(
        server.accepted(),
        1,
        "every call after the first reuses the connection"
    );
    let heads = server.heads.lock().unwrap();
    let head = heads[0].to_ascii_lowercase();
    assert!(
        head.starts_with("post /base/risk/v1/action?x=1 http/1.1\r\n"),
        "{head}"
    );
    for line in [
        &format!("host: localhost:{}", server.url.port().unwrap()),
        "user-agent: risk-core-test",
        "accept: application/json",
        "authorization: bearer token-1",
        "content-type: application/json",
        "content-length: 7",
    ] {
        assert!(head.contains(line), "{line} missing in {head}");
    }
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_not_used() {
    let server = serve(After::Hangup, "{}", false).await;
    let pool = pool(&server);
    let url = server.url.join("x").unwrap();
    for round in 1..=3 {
        assert_eq!(post(&pool, &url).await.unwrap(), b"{}", "call {round}");
        // The pooled connection's task has seen the server's close.
        until(|| pool.idle_connections() == 0).await;
    }
    assert_eq!(server.accepted(), 3);
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let server = serve(After::ConnectionClose, "{}", false).await;
    let pool = pool(&server);
    let url = server.url.join("x").unwrap();
    for _ in 0..3 {
        assert_eq!(post(&pool, &url).await.unwrap(), b"{}");
    }
    assert_eq!(server.accepted(), 3);
}

#[tokio::test]
async fn an_answer_not_read_to_its_end_gives_up_its_connection() {
    let server = serve(After::KeepAlive, "{\"long\":\"0123456789\"}", false).await;
    let pool = pool(&server);
    let url = server.url.join("x").unwrap();
    // Over the cap: refused, and the connection (with the rest unread) is not pooled.
    let response = pool.send(get(&url)).await.unwrap();
    assert!(response.read(4).await.is_err());
    // Dropped unread.
    drop(pool.send(get(&url)).await.unwrap());
    assert_eq!(pool.idle_connections(), 0);
    let response = pool.send(get(&url)).await.unwrap();
    assert_eq!(response.read(1024).await.unwrap().len(), 21);
    assert_eq!(pool.idle_connections(), 1);
    assert_eq!(server.accepted(), 3);
}

#[tokio::test]
async fn tls_connections_verify_the_server_and_are_kept_alive() {
    let server = serve(After::KeepAlive, "{\"tls\":true}", true).await;
    let pool = pool(&server);
    let url = server.url.join("x").unwrap();
    for _ in 0..3 {
        assert_eq!(post(&pool, &url).await.unwrap(), b"{\"tls\":true}");
    }
    assert_eq!(server.accepted(), 1);

    // The default trust (the webpki roots) does not know the test CA: nothing is sent.
    let untrusted = Arc::new(Pool::new(&server.url, "risk-core-test").unwrap());
    let request = get(&url);
    let Err(e) = untrusted.send(request).await else {
        panic!("an unknown certificate authority was trusted");
    };
    assert!(e.unsent, "a TLS failure happens before the request is sent");
    assert!(e.message.starts_with("TLS with the API"), "{}", e.message);
    assert_eq!(server.heads.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_an_unsent_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    ))
    .unwrap();
    drop(listener);
    let pool = Arc::new(Pool::new(&url, "t").unwrap());
    let request = get(&url);
    let Err(e) = pool.send(request).await else {
        panic!("nothing listens there");
    };
    assert!(e.unsent);
    assert!(
        e.message.starts_with("connecting to the API"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_url_off_the_api_origin_is_refused() {
    let server = serve(After::KeepAlive, "{}", false).await;
    let pool = pool(&server);
    let elsewhere = Url::parse("http://localhost:1/base/x").unwrap();
    let Err(e) = post(&pool, &elsewhere).await else {
        panic!("sent off the API's origin");
    };
    assert!(e.contains("not on the API's origin"), "{e}");
    assert_eq!(server.accepted(), 0);
}

#[test]
fn without_a_proxy_in_the_environment_calls_go_direct() {
    // The test environment configures no proxy (CI runs without one).
    let proxied = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    let http = Http::new(&Url::parse("http://127.0.0.1:9/").unwrap(), "t").unwrap();
    assert_eq!(http.is_proxied(), proxied);
}

/// Each current-thread runtime (an actix-web worker) uses the connections it opened: one
/// opened by another worker would need that worker to run its task, and a busy worker would
/// stall every call on its connections.
#[test]
fn a_current_thread_runtime_uses_only_its_own_connections() {
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = server_runtime.block_on(serve(After::KeepAlive, "{}", false));
    let pool = pool(&server);
    let url = server.url.clone();
    let worker = |pool: Arc<Pool>, url: Url| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                for _ in 0..3 {
                    let call = post(&pool, &url);
                    let answer = tokio::time::timeout(Duration::from_secs(10), call).await;
                    assert_eq!(answer.unwrap_or_else(|_| panic!("stalled")).unwrap(), b"{}");
                }
            });
    };
    // Worker A makes its calls, then stays blocked (its runtime alive, never polled again)
    // while worker B makes its own.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let a = {
        let (pool, url) = (Arc::clone(&pool), url.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                for _ in 0..3 {
                    assert_eq!(post(&pool, &url).await.unwrap(), b"{}");
                }
            });
            done_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            drop(runtime);
        })
    };
    done_rx.recv().unwrap();
    assert_eq!(
        pool.idle_connections(),
        1,
        "A's connection waits in the pool"
    );
    let b = {
        let (pool, url) = (Arc::clone(&pool), url.clone());
        std::thread::spawn(move || worker(pool, url))
    };
    b.join().unwrap();
    release_tx.send(()).unwrap();
    a.join().unwrap();
    assert_eq!(server.accepted(), 2, "one connection per worker");
}

/// A request written to a connection that then closes without an answer may have reached the
/// server: the failure says so (the client then does not resend a trigger-action), and the
/// pool does not send it again on another connection.
#[tokio::test]
async fn a_request_written_but_unanswered_may_have_been_sent() {
    let server = serve(After::Unanswered, "{}", false).await;
    let pool = pool(&server);
    let url = server.url.join("risk/v1/action/trigger-action").unwrap();
    let bearer = super::bearer_header("token-1").unwrap();
    let request = Outgoing {
        method: Method::POST,
        url: &url,
        bearer: Some(&bearer),
        body: Some(("application/json", Bytes::from_static(b"{}"))),
    };
    let Err(e) = pool.send(request).await else {
        panic!("the server never answered");
    };
    assert!(!e.unsent, "the request was written: {}", e.message);
    assert_eq!(server.heads.lock().unwrap().len(), 1, "sent once");
    assert_eq!(server.accepted(), 1);
}

/// The certificate must name the host of the base URL: one for `localhost` and `127.0.0.1`
/// does not do for `127.0.0.2` (an IP address is checked as an IP address).
#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let server = serve_on(listener, "127.0.0.2", After::KeepAlive, "{}", true);
    let other_name = pool(&server);
    let url = server.url.join("x").unwrap();
    let Err(e) = post(&other_name, &url).await else {
        panic!("a certificate for another name was accepted");
    };
    assert!(e.starts_with("TLS with the API"), "{e}");
    assert!(server.heads.lock().unwrap().is_empty());

    // The same server by a name its certificate has (its IP address) is trusted.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = serve_on(listener, "127.0.0.1", After::KeepAlive, "{}", true);
    let pool = pool(&server);
    let url = server.url.join("x").unwrap();
    assert_eq!(post(&pool, &url).await.unwrap(), b"{}");
}

/// An IPv6 base URL: connected to by address, named in brackets in `Host`.
#[tokio::test]
async fn an_ipv6_base_url() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        // No IPv6 loopback on this machine: nothing to check.
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let server = serve_on(listener, "[::1]", After::KeepAlive, "{}", false);
    let pool = pool(&server);
    let url = server.url.join("x?y=1").unwrap();
    assert_eq!(post(&pool, &url).await.unwrap(), b"{}");
    let head = server.heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.starts_with("post /base/x?y=1 http/1.1\r\n"), "{head}");
    assert!(head.contains(&format!("host: [::1]:{port}\r\n")), "{head}");
}

/// An address that does not answer (its SYNs dropped) is given up on for the next one after a
/// moment, not after the system's connect timeout. On loopback: a listener whose accept queue
/// is full drops new SYNs.
#[tokio::test]
async fn an_address_that_does_not_answer_is_passed_over() {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&any.into()).unwrap();
    socket.listen(0).unwrap();
    let silent = socket.local_addr().unwrap().as_socket().unwrap();
    // Fill its queue (never accepted), until a connection attempt hangs.
    let mut fillers = Vec::new();
    loop {
        let attempt = tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(silent));
        match attempt.await {
            Ok(Ok(stream)) if fillers.len() < 16 => fillers.push(stream),
            Ok(_) => return, // This system does not drop SYNs to a full queue: nothing to check.
            Err(_) => break,
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let good = listener.local_addr().unwrap();
    let connected = tokio::time::timeout(
        Duration::from_secs(5),
        super::pool::connect_any(&[silent, good]),
    )
    .await
    .unwrap_or_else(|_| panic!("waited on the address that does not answer"))
    .unwrap();
    assert_eq!(connected.peer_addr().unwrap(), good);
    drop((socket, fillers));
}
