//! `risk-emulator`: runs the risk API emulator (see the crate's README).
use std::io::Write;
use std::process::ExitCode;

use risk_emulator::{Emulator, EmulatorConfig, DEFAULT_LISTEN, DEV_CLIENT_ID, DEV_CLIENT_SECRET};

const HELP: &str = "\
risk-emulator: a local emulator of the Mosaic Fraud Prevention risk API

USAGE:
    risk-emulator [--listen ADDR] [--config FILE]

OPTIONS:
    --listen ADDR    address to listen on (default 127.0.0.1:8787; port 0 picks a free port)
    --config FILE    TOML configuration (clients, token lifetimes, thresholds, IP ranges, rules)
    -h, --help       print this help

Without --config, one development client exists: client_id `dev-client`, client_secret `dev-secret`.
Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) to change their level.";

struct Args {
    listen: String,
    config: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        listen: DEFAULT_LISTEN.to_owned(),
        config: None,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => parsed.listen = value("--listen")?,
            "--config" => parsed.config = Some(value("--config")?),
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
    }
    Ok(Some(parsed))
}

#[expect(
    clippy::print_stdout,
    reason = "a command-line tool reports its address on stdout"
)]
#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            // Not println!: `risk-emulator --help | head` must not panic on a closed pipe.
            let _ = writeln!(std::io::stdout(), "{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let config = match &args.config {
        Some(path) => match EmulatorConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => EmulatorConfig::default(),
    };
    let dev_client = config
        .clients
        .iter()
        .any(|c| c.id == DEV_CLIENT_ID && c.secret == DEV_CLIENT_SECRET);
    let handle = match Emulator::start(config, args.listen.as_str()).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("risk emulator listening on {}", handle.base_url());
    if dev_client {
        println!("development client: client_id={DEV_CLIENT_ID} client_secret={DEV_CLIENT_SECRET}");
    }
    println!("press Ctrl-C to stop");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot listen for Ctrl-C: {e}");
    }
    eprintln!("shutting down");
    handle.shutdown().await;
    ExitCode::SUCCESS
}
