//! `risk`: the command line of the risk middleware's platform and fraud teams.
//!
//! Configuration as `RiskClient::from_env`: `TS_CLIENT_ID`, `TS_CLIENT_SECRET`, `TS_REGION`,
//! `TS_BASE_URL`, each overridable by a flag (the secret only from the environment: a flag
//! would show it in the process list). Secrets and access tokens are never printed; session
//! and action tokens only shortened.
//!
//! Exit codes a script can rely on (sysexits): 0 success, 1 the API refused the request,
//! 2 changes pending (`rules plan --detailed-exitcode`), 64 usage error, 69 the API is
//! unreachable or failing, 77 credentials refused, 78 configuration missing or invalid.
#![expect(
    clippy::print_stdout,
    reason = "a command-line tool prints its results"
)]

mod assess;
mod config;
mod doctor;
mod events;
mod exit;
mod output;
mod rules;

use clap::{Parser, Subcommand};

use config::Connection;
use exit::Failure;
use output::Format;

/// The risk API from the command line.
#[derive(Debug, Parser)]
#[command(name = "risk", version, about, propagate_version = true)]
struct Cli {
    /// How results are printed.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    output: Format,
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks the configuration, the network path, TLS, the credentials and a read-only call.
    Doctor,
    /// Triggers an action (or reads an action token's recommendation) and prints the
    /// assessment; optionally reports its result.
    Assess(assess::AssessArgs),
    /// Evaluates an entity (an IP address) against the tenant's rules.
    Evaluate {
        #[command(subcommand)]
        what: Evaluate,
    },
    /// Activity events (export a stream as JSON Lines).
    Events {
        #[command(subcommand)]
        command: events::EventsCommand,
    },
    /// Recommendation rules (the current `/risk/v1/rules` shape).
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// Prints shell completions for `risk`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum Evaluate {
    /// An IP address.
    Ip {
        /// The address.
        address: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors.
            let _ = e.print();
            return if e.use_stderr() {
                std::process::ExitCode::from(exit::USAGE)
            } else {
                std::process::ExitCode::SUCCESS
            };
        }
    };
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "risk", &mut std::io::stdout());
        return std::process::ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return Failure::internal(format!("no async runtime: {e}")).report(),
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode, Failure> {
    let format = cli.output;
    match cli.command {
        Command::Doctor => doctor::run(&cli.connection, format).await,
        Command::Assess(args) => assess::run(&cli.connection.client()?, &args, format).await,
        Command::Evaluate {
            what: Evaluate::Ip { address },
        } => assess::evaluate_ip(&cli.connection.client()?, &address, format).await,
        Command::Rules { command } => rules::run(&cli.connection.client()?, command, format).await,
        Command::Events { command } => events::run(&cli.connection.client()?, command).await,
        Command::Completions { .. } => Ok(std::process::ExitCode::SUCCESS),
    }
}
