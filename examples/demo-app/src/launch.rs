//! Start-up helpers shared by the example servers' `main`s.
#![expect(
    clippy::print_stdout,
    reason = "an example program talks to its user on stdout"
)]

use std::net::SocketAddr;

use risk_emulator::Telemetry;

use crate::backend::Backend;

/// The address to listen on: `RISK_LISTEN`, default `127.0.0.1:3000`.
pub fn listen_addr() -> String {
    std::env::var("RISK_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
}

/// `RUST_LOG`-driven logging, `info` by default. With the `otlp` feature and
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans (the guard's assessment, each upstream attempt) are
/// also exported over OTLP/HTTP; keep the returned guard alive until the end of `main`, it
/// flushes them on drop.
pub fn init_tracing() -> TracingGuard {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer());
    #[cfg(feature = "otlp")]
    {
        if let Some(provider) = otlp::provider() {
            use opentelemetry::trace::TracerProvider as _;
            let tracer = provider.tracer("risk-demo-app");
            registry
                .with(tracing_opentelemetry::layer().with_tracer(tracer))
                .init();
            return TracingGuard {
                provider: Some(provider),
            };
        }
    }
    registry.init();
    TracingGuard {
        #[cfg(feature = "otlp")]
        provider: None,
    }
}

/// Flushes the exported spans when dropped (nothing to do without the `otlp` feature).
#[must_use = "spans are flushed when the guard is dropped"]
pub struct TracingGuard {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TracingGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("OTLP: spans not flushed: {e}");
            }
        }
    }
}

#[cfg(feature = "otlp")]
mod otlp {
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;

    /// The tracer provider when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter reads it,
    /// and the other `OTEL_EXPORTER_OTLP_*` variables, itself).
    pub(super) fn provider() -> Option<SdkTracerProvider> {
        std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")?;
        let exporter = match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(exporter) => exporter,
            Err(e) => {
                eprintln!("OTLP: exporter not built, spans stay local: {e}");
                return None;
            }
        };
        let resource = Resource::builder()
            .with_service_name(
                std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "risk-example".to_owned()),
            )
            .build();
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build(),
        )
    }
}

/// Prints where the server listens, which risk API it uses, and (with the in-process
/// emulator) a ready-made session token and curl commands to try.
pub fn print_banner(framework: &str, addr: SocketAddr, backend: &Backend) {
    println!("{framework} example server on http://{addr}");
    println!("risk API: {}", backend.base_url());
    println!(
        "open http://{addr}/ in a browser and log in as alice / wonderland; log in again from a \
         private window (a new device): you are challenged, the code is 000000"
    );
    let Some(emulator) = &backend.emulator else {
        println!(
            "(create session tokens with the emulator: POST {}emulator/v1/sessions)",
            backend.base_url()
        );
        return;
    };
    let telemetry = Telemetry::new()
        .with_device_id("curl-device")
        .with_ip("198.51.100.7")
        .with_user_agent("curl");
    match emulator.create_session(&telemetry) {
        Ok(token) => {
            println!("in-process emulator; a ready-made session token: {token}");
            println!("try:");
            println!(
                "  curl -i -X POST http://{addr}/login -H 'content-type: application/json' \\"
            );
            println!("       -H 'x-risk-session-token: {token}' -d '{{\"username\":\"alice\",\"password\":\"wonderland\"}}'");
        }
        Err(e) => println!("(could not create a session on the emulator: {e})"),
    }
}
