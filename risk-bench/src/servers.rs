//! The protected routes, served through both adapters on loopback: the same guards a user
//! would configure, each server with its own client and reporter (as two processes would).

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use risk_core::{ActionType, Guard, Reporter, RiskClient};
use risk_emulator::{DEV_CLIENT_ID, DEV_CLIENT_SECRET};

use crate::load::LoadError;

/// The protected routes and how each guard is configured.
pub(crate) const ROUTES: [(&str, Mode); 6] = [
    ("/login/single", Mode::SingleCall),
    // Behind the examples' middleware that reads the JSON body into `ActionDetails`.
    (BODY_ROUTE, Mode::SingleCall),
    ("/login/single-unreported", Mode::Unreported),
    ("/login/two", Mode::TwoCalls),
    ("/login/action", Mode::ActionToken),
    ("/login/shadow", Mode::Shadow),
];

/// The route whose requests carry a JSON body, read by the examples' body middleware in front
/// of the risk middleware.
const BODY_ROUTE: &str = "/login/body";

#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    SingleCall,
    TwoCalls,
    ActionToken,
    Shadow,
    /// Single call without a reporter: what reporting costs the request path.
    Unreported,
}

/// The guards of one server, sharing its client, reporter and breaker.
struct Guards {
    guards: Vec<(&'static str, Guard)>,
    reporter: Reporter,
}

fn guards(emulator: &str) -> Result<Guards, LoadError> {
    let client = RiskClient::builder()
        .client_id(DEV_CLIENT_ID)
        .client_secret(DEV_CLIENT_SECRET)
        .base_url(emulator)
        // The load is the point: no tenant budget in front of the emulator.
        .unmetered()
        .build()?;
    let reporter = Reporter::builder(client.clone()).build();
    let breaker = risk_core::CircuitBreaker::default();
    let mut guards = Vec::new();
    for (path, mode) in ROUTES {
        let builder = Guard::builder(ActionType::Login, client.clone())
            .circuit_breaker(breaker.clone())
            // One client address makes all the load: no per-client limit.
            .without_client_limit();
        let builder = match mode {
            Mode::Unreported => builder,
            _ => builder.reporter(reporter.clone()),
        };
        let builder = match mode {
            Mode::SingleCall | Mode::Unreported => builder.single_call(true),
            Mode::TwoCalls => builder.single_call(false),
            Mode::ActionToken => builder.session_tokens(false),
            Mode::Shadow => builder.shadow(true),
        };
        guards.push((path, builder.build()?));
    }
    Ok(Guards { guards, reporter })
}

/// A server under test.
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) addr: SocketAddr,
    reporter: Reporter,
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl Server {
    /// Waits until the reports of the last scenario are sent (so they do not compete with
    /// the next one for the cores).
    pub(crate) async fn settle(&self) {
        let _ = self.reporter.flush(Duration::from_secs(30)).await;
    }

    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

async fn ok() -> &'static str {
    "ok"
}

/// axum with `RiskLayer` on each protected route, on a runtime of its own (two workers, as
/// many as cores, in a thread of its own) where its client and reporter are built too, as in
/// the example server: the load generator's runtime only drives the load.
pub(crate) async fn axum(emulator: &str) -> Result<Server, LoadError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("axum-server")
        .enable_all()
        .build()?;
    let emulator = emulator.to_owned();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            match axum_app(&emulator).await {
                Ok((listener, app, reporter)) => {
                    let addr = listener.local_addr().map_err(|e| LoadError(e.to_string()));
                    let _ = ready_tx.send(addr.map(|addr| (addr, reporter)));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop_rx.await;
                        })
                        .await;
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
    });
    let (addr, reporter) = ready_rx.await.map_err(|e| LoadError(e.to_string()))??;
    Ok(Server {
        name: "axum",
        addr,
        reporter,
        stop: Some(Box::new(move || {
            let _ = stop_tx.send(());
        })),
    })
}

/// The axum server's listener, service and reporter.
async fn axum_app(
    emulator: &str,
) -> Result<
    (
        tokio::net::TcpListener,
        axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>,
        Reporter,
    ),
    LoadError,
> {
    use axum::routing::post;
    let Guards { guards, reporter } = guards(emulator)?;
    let mut router = axum::Router::new().route("/bare", post(ok));
    for (path, guard) in guards {
        let route = post(ok).route_layer(risk_tower::RiskLayer::new(guard));
        let route = if path == BODY_ROUTE {
            route.route_layer(axum::middleware::from_fn(
                risk_demo_app::axum_app::action_details,
            ))
        } else {
            route
        };
        router = router.route(path, route);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    Ok((listener, app, reporter))
}

/// actix-web with `RiskMiddleware` on each protected route, in its own system thread
/// (two workers, as many as cores). The client and reporter are built inside the actix system,
/// as `#[actix_web::main]` does in the example server: the reporter's worker runs on the
/// system's thread, not on the load generator's runtime.
pub(crate) async fn actix(emulator: &str) -> Result<Server, LoadError> {
    use actix_web::{web, App, HttpServer};
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let emulator = emulator.to_owned();
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let Guards { guards, reporter } = match guards(&emulator) {
                Ok(built) => built,
                Err(e) => {
                    let _ = handle_tx.send(Err(e.0));
                    return;
                }
            };
            let server = HttpServer::new(move || {
                let mut app = App::new().route("/bare", web::post().to(ok));
                for (path, guard) in &guards {
                    let resource = web::resource(*path)
                        .wrap(risk_actix::RiskMiddleware::new(guard.clone()))
                        .route(web::post().to(ok));
                    app = if *path == BODY_ROUTE {
                        app.service(resource.wrap(actix_web::middleware::from_fn(
                            risk_demo_app::actix_app::action_details,
                        )))
                    } else {
                        app.service(resource)
                    };
                }
                app
            })
            .workers(2)
            .disable_signals()
            .listen(listener);
            match server {
                Ok(server) => {
                    let server = server.run();
                    let _ = handle_tx.send(Ok((server.handle(), reporter)));
                    let _ = server.await;
                }
                Err(e) => {
                    let _ = handle_tx.send(Err(e.to_string()));
                }
            }
        });
    });
    let (handle, reporter) = handle_rx
        .recv()
        .map_err(|e| LoadError(e.to_string()))?
        .map_err(LoadError)?;
    Ok(Server {
        name: "actix",
        addr,
        reporter,
        stop: Some(Box::new(move || {
            // Not awaited: the process ends right after.
            drop(handle.stop(false));
        })),
    })
}
