//! Event streaming (`/activities/v1/activities/...`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::opt_i64_lenient;

/// The family of events to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// Customer identity events.
    Cis,
    /// Admin portal events.
    Admin,
    /// Risk (Detection and Response) events.
    Risk,
    /// Identity verification events.
    Verify,
}

impl EventType {
    /// The value as it appears in the `type` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cis => "cis",
            Self::Admin => "admin",
            Self::Risk => "risk",
            Self::Verify => "verify",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cis" => Ok(Self::Cis),
            "admin" => Ok(Self::Admin),
            "risk" => Ok(Self::Risk),
            "verify" => Ok(Self::Verify),
            other => Err(format!(
                "unknown event type `{other}`: expected one of cis, admin, risk, verify"
            )),
        }
    }
}

/// One activity event, in the seed's shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ActivityEvent {
    /// What happened (e.g. `action_triggered`, `page_loaded`).
    #[serde(default)]
    pub activity: String,
    /// The application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The user (for identity verification events, the session id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Client IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Client user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Epoch milliseconds.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<i64>,
    /// Activity-specific parameters.
    #[serde(default, deserialize_with = "super::de::null_default")]
    pub additional_params: BTreeMap<String, serde_json::Value>,
}
