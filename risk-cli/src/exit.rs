//! Exit codes and the one way a command fails: a message on stderr, a code scripts can test.

use std::process::ExitCode;

use risk_core::Error;

/// 64: the command line is wrong.
pub(crate) const USAGE: u8 = 64;
/// 2: `rules plan --detailed-exitcode` found changes.
pub(crate) const CHANGES_PENDING: u8 = 2;

/// Why a command failed, with what to do about it.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// 78: configuration missing or invalid.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self {
            code: 78,
            message: message.into(),
        }
    }

    /// 1: the API refused the request (or the input was wrong for it).
    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// 69: the API is unreachable or failing.
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self {
            code: 69,
            message: message.into(),
        }
    }

    /// 70: a failure of this program.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self {
            code: 70,
            message: message.into(),
        }
    }

    /// Prints the message and gives the exit code.
    pub(crate) fn report(self) -> ExitCode {
        eprintln!("risk: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::Config(_) => 78,
            Error::TokenRejected { .. } | Error::Unauthorized { .. } | Error::Forbidden { .. } => {
                77
            }
            Error::Timeout { .. }
            | Error::Transport { .. }
            | Error::Server { .. }
            | Error::RateLimited { .. }
            | Error::QuotaExhausted { .. } => 69,
            _ => 1,
        };
        Self {
            code,
            message: e.to_string(),
        }
    }
}

impl From<risk_core::ConfigError> for Failure {
    fn from(e: risk_core::ConfigError) -> Self {
        Self::config(e.to_string())
    }
}
