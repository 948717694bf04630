//! Errors of the emulator's library API.

use std::path::PathBuf;

/// What can go wrong starting or driving the emulator in-process.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The configuration is invalid; the message says which field and why.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// The configuration file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The listen address could not be bound (in use, or not a valid address).
    #[error("cannot listen on the given address: {0}")]
    Bind(#[source] std::io::Error),
    /// A request to the in-process API was refused, with the status and message the HTTP
    /// endpoint would have answered.
    #[error("request refused ({status}): {message}")]
    Refused {
        /// The HTTP status the equivalent endpoint answers.
        status: u16,
        /// Why.
        message: String,
    },
}
