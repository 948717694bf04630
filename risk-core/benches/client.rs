//! What one `RiskClient` call costs over a bare HTTP/1.1 connection: both send the same
//! trigger-action request to a canned server on loopback (which answers with the emulator's
//! recommendation at once) and read the whole answer; the client also builds its request, takes
//! its token from the cache, arms its deadline and decodes the answer. Client, server and
//! connection share one current-thread runtime, so the difference between the two figures is
//! the client's own CPU per call. `cargo bench -p risk-core --bench client`.
#![expect(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use risk_core::{ActionType, RiskClient, TriggerActionRequest, TriggerActionResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ANSWER: &[u8] = include_bytes!("../tests/it/fixtures/emulator_trigger_action.json");
const TOKEN: &[u8] = br#"{"access_token":"bench-token","token_type":"Bearer","expires_in":3600}"#;
const PATH: &str = "/risk/v1/action/trigger-action?get_recommendation=true";

/// Answers every request on a keep-alive connection: the token for `/oidc/token`, the canned
/// recommendation for anything else.
async fn serve(listener: TcpListener) {
    while let Ok((mut stream, _)) = listener.accept().await {
        stream.set_nodelay(true).unwrap();
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(8192);
            loop {
                // A whole request (head and body) in `buf`, or the connection is done.
                let (head_end, length) = loop {
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = std::str::from_utf8(&buf[..end])
                            .unwrap()
                            .to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        if buf.len() >= end + 4 + length {
                            break (end + 4, length);
                        }
                    }
                    let mut chunk = [0u8; 4096];
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let body = if buf.starts_with(b"POST /oidc/token") {
                    TOKEN
                } else {
                    ANSWER
                };
                let head = format!(
                    "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let answer = [head.as_bytes(), body].concat();
                if stream.write_all(&answer).await.is_err() {
                    return;
                }
                buf.drain(..head_end + length);
            }
        });
    }
}

/// A bare hyper connection: the floor's client.
async fn bare(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

async fn bare_call(sender: &mut SendRequest<Full<Bytes>>, host: &str) -> Bytes {
    let body =
        serde_json::to_vec(&TriggerActionRequest::new("st_bench", ActionType::Login)).unwrap();
    let request = http::Request::post(PATH)
        .header("host", host)
        .header("content-type", "application/json")
        .header("authorization", "Bearer bench-token")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    response.into_body().collect().await.unwrap().to_bytes()
}

fn bench_client(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (addr, client, mut sender) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener));
        let client = RiskClient::builder()
            .client_id("bench")
            .client_secret("bench-secret")
            .base_url(format!("http://{addr}"))
            .unmetered()
            .build()
            .unwrap();
        (addr, client, bare(addr).await)
    });
    let host = addr.to_string();
    let request = TriggerActionRequest::new("st_bench", ActionType::Login);
    // Each figure is the mean of a loop of calls on the runtime (criterion times the loop).
    macro_rules! timed {
        ($name:expr, $call:expr) => {
            c.bench_function($name, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let started = Instant::now();
                        for _ in 0..iters {
                            criterion::black_box($call);
                        }
                        started.elapsed()
                    })
                });
            });
        };
    }
    timed!(
        "client/bare hyper connection (baseline)",
        bare_call(&mut sender, &host).await
    );
    timed!(
        "client/bare hyper connection + TriggerActionResponse::from_slice",
        TriggerActionResponse::from_slice(&bare_call(&mut sender, &host).await).unwrap()
    );
    timed!(
        "client/RiskClient::trigger_action_with_recommendation",
        client
            .trigger_action_with_recommendation(&request)
            .await
            .unwrap()
    );
}

criterion_group!(benches, bench_client);
criterion_main!(benches);
