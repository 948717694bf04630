//! `risk events export`: a stream's events as JSON Lines, for a BI or SIEM system.
//!
//! `collect` moves the stream's read position on the server: a batch that is read but not
//! saved is gone. So each batch is written and flushed (and synced, for a file) before the
//! next `collect`, a Ctrl-C lets the batch in hand be written before exiting, and an event
//! that does not decode is written as received, never dropped.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use risk_core::{ActivityEvent, EventType, RiskClient, StreamOptions};

use crate::exit::Failure;

#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Writes a stream's events as JSON Lines (stdout, or `--out FILE`, appended).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The event type: risk, cis or admin.
    #[arg(long = "type", default_value = "risk")]
    event_type: EventType,
    /// The stream (a reader's position in the events).
    #[arg(long)]
    stream: String,
    /// Starts collecting this type and creates the stream first (either already done is
    /// fine).
    #[arg(long)]
    create: bool,
    /// With `--create`: the new stream's events carry private data (`enrichment=true`).
    #[arg(long, requires = "create")]
    enrichment: bool,
    /// Events per `collect` (1..=1000).
    #[arg(long, default_value_t = 1000)]
    batch: u16,
    /// Keeps polling, backing off while nothing new arrives (as `tail -f`); Ctrl-C stops
    /// after the batch in hand is written.
    #[arg(long)]
    follow: bool,
    /// Appends to this file instead of writing to stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Where the lines go: a file (synced after each batch) or stdout.
enum Sink {
    File(std::io::BufWriter<std::fs::File>),
    Stdout(std::io::Stdout),
}

impl Sink {
    fn write_batch(&mut self, events: &[ActivityEvent]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        for event in events {
            let line = match &event.raw {
                Some(raw) => serde_json::to_vec(raw),
                None => serde_json::to_vec(event),
            }
            .map_err(std::io::Error::other)?;
            lines.extend_from_slice(&line);
            lines.push(b'\n');
        }
        match self {
            Self::File(file) => {
                file.write_all(&lines)?;
                file.flush()?;
                file.get_ref().sync_data()
            }
            Self::Stdout(out) => {
                let mut out = out.lock();
                out.write_all(&lines)?;
                out.flush()
            }
        }
    }
}

pub(crate) async fn run(client: &RiskClient, command: EventsCommand) -> Result<ExitCode, Failure> {
    let EventsCommand::Export(args) = command;
    if args.create {
        // Already collecting, or the stream already there (409): what was asked for.
        let exists = |r: Result<(), risk_core::Error>| match r {
            Err(risk_core::Error::Conflict { .. }) => Ok(()),
            other => other,
        };
        exists(client.start_collect(args.event_type).await)?;
        let options = StreamOptions::new().enrichment(args.enrichment);
        exists(
            client
                .create_stream(args.event_type, &args.stream, &options)
                .await,
        )?;
    }
    let mut sink = match &args.out {
        Some(path) => Sink::File(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?,
        )),
        None => Sink::Stdout(std::io::stdout()),
    };
    let progress = std::io::stderr().is_terminal();
    let started = Instant::now();
    let (mut events, mut batches) = (0u64, 0u64);
    let mut idle = Duration::from_millis(500);
    // Listening from the start: a Ctrl-C during the first collect must not kill the process
    // with a batch read and not written.
    let stop = interrupted()?;
    tokio::pin!(stop);
    loop {
        // Not raced with Ctrl-C: a batch read is a batch written.
        let batch = client
            .collect(args.event_type, &args.stream, args.batch)
            .await?;
        sink.write_batch(&batch)
            .map_err(|e| Failure::internal(format!("writing the events: {e}")))?;
        if batch.is_empty() {
            if !args.follow {
                break;
            }
            // Nothing new: wait (longer each time, up to 10 s), or stop on Ctrl-C.
            tokio::select! {
                () = tokio::time::sleep(idle) => {}
                _ = &mut stop => break,
            }
            idle = (idle * 2).min(Duration::from_secs(10));
            continue;
        }
        events += batch.len() as u64;
        batches += 1;
        idle = Duration::from_millis(500);
        if progress {
            let rate = events as f64 / started.elapsed().as_secs_f64().max(1e-3);
            eprint!("\r{events} events, {batches} batches, {rate:.0}/s   ");
        }
        // Ctrl-C while that batch was read: it is written, stop now.
        if pressed(&mut stop).await {
            break;
        }
    }
    if progress {
        eprintln!();
    }
    eprintln!("exported {events} events in {batches} batches");
    Ok(ExitCode::SUCCESS)
}

/// A future that completes on Ctrl-C (SIGINT), listening from the moment it is made.
fn interrupted() -> Result<impl std::future::Future<Output = ()>, Failure> {
    #[cfg(unix)]
    {
        let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| Failure::internal(format!("cannot listen for Ctrl-C: {e}")))?;
        Ok(async move {
            signal.recv().await;
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Whether Ctrl-C has been pressed, without waiting for it.
async fn pressed(stop: &mut std::pin::Pin<&mut impl std::future::Future>) -> bool {
    tokio::select! {
        biased;
        _ = stop.as_mut() => true,
        () = std::future::ready(()) => false,
    }
}
