//! [`ApiError`], the error answer of every operation, and the conversions into it.

use crate::error::EmulatorError;
use crate::events::EventsError;
use crate::rules::RuleError;

/// An error answer: status, `{"message"}`, optional `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub(super) fn blacklisted(message: impl Into<String>) -> Self {
        Self::new(463, message)
    }
}

impl From<ApiError> for EmulatorError {
    fn from(e: ApiError) -> Self {
        EmulatorError::Refused {
            status: e.status,
            message: e.message,
        }
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        match e {
            RuleError::Invalid(m) => Self::bad_request(m),
            RuleError::NotFound => Self::new(404, "rule not found"),
            RuleError::Conflict(m) => Self::new(409, m),
        }
    }
}

impl From<EventsError> for ApiError {
    fn from(e: EventsError) -> Self {
        match e {
            EventsError::Conflict(m) => Self::new(409, m),
            EventsError::NotFound(m) => Self::new(404, m),
        }
    }
}
