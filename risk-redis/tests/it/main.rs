//! risk-redis against a real `redis-server` (started by the tests on a free loopback port, in
//! a temporary directory) and the in-process emulator: the shared budget across instances,
//! the report stream across instances, and Redis going away mid-run.
#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "tests print the figures they measured (shown with --nocapture)"
)]

mod budget;
mod reports;
