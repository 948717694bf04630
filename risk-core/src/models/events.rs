//! Event streaming (`/activities/v1/activities/...`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::opt_string_lenient;

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

/// One activity event, in the seed's shape (camelCase), also read from older snake_case
/// samples (`app_id`, `user_id`, `user_agent`, `additional_params`), with `null`s, numbers
/// where strings are expected, and ISO-8601 timestamps. Fields this version does not know are
/// kept in [`extra`](Self::extra); an element that is not an event at all (not an object, or
/// with an unreadable field) is kept whole in [`raw`](Self::raw), never dropped: the stream's
/// read position has already moved past it.
///
/// ```
/// use risk_core::ActivityEvent;
/// let e = ActivityEvent::from_json(serde_json::json!({
///     "activity": "action_triggered", "app_id": "app-1", "user_id": null,
///     "timestamp": "2024-05-01T10:00:00Z", "region": "eu"
/// }));
/// assert_eq!(e.app_id.as_deref(), Some("app-1"));
/// assert_eq!(e.timestamp, Some(1_714_557_600_000));
/// assert_eq!(e.extra["region"], "eu");
/// assert!(e.raw.is_none());
/// let odd = ActivityEvent::from_json(serde_json::json!(["not", "an", "event"]));
/// assert!(odd.raw.is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ActivityEvent {
    /// What happened (e.g. `action_triggered`, `page_loaded`).
    #[serde(default, deserialize_with = "super::de::null_default")]
    pub activity: String,
    /// The application.
    #[serde(
        default,
        alias = "app_id",
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub app_id: Option<String>,
    /// The user (for identity verification events, the session id).
    #[serde(
        default,
        alias = "user_id",
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<String>,
    /// Client IP.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip: Option<String>,
    /// Client user agent.
    #[serde(
        default,
        alias = "user_agent",
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_agent: Option<String>,
    /// Epoch milliseconds (read from a number, a string of digits, or an ISO-8601 date).
    #[serde(
        default,
        deserialize_with = "timestamp_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<i64>,
    /// Activity-specific parameters.
    #[serde(
        default,
        alias = "additional_params",
        deserialize_with = "super::de::null_default"
    )]
    pub additional_params: BTreeMap<String, serde_json::Value>,
    /// Fields this version does not know, as received.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
    /// The element as received, when it could not be read as an event (the typed fields
    /// are then empty).
    #[serde(skip)]
    pub raw: Option<serde_json::Value>,
}

/// Settings of a new event stream ([`RiskClient::create_stream`](crate::RiskClient::create_stream)).
/// Start from [`StreamOptions::new`] (or `default()`) and chain the setters; every setting is
/// sent explicitly in the query.
///
/// ```
/// use risk_core::StreamOptions;
/// let options = StreamOptions::new().enrichment(true);
/// assert!(options.enrichment);
/// assert!(!StreamOptions::default().enrichment);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct StreamOptions {
    /// Add private data to the stream's events (`enrichment=true`). Default `false`.
    pub enrichment: bool,
}

impl StreamOptions {
    /// The defaults: no enrichment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the stream's events carry private data (`enrichment`).
    pub fn enrichment(mut self, enrichment: bool) -> Self {
        self.enrichment = enrichment;
        self
    }

    /// Appends the settings to a request's query.
    pub(crate) fn append_to(
        &self,
        query: &mut url::form_urlencoded::Serializer<'_, url::UrlQuery<'_>>,
    ) {
        query.append_pair("enrichment", if self.enrichment { "true" } else { "false" });
    }
}

impl ActivityEvent {
    /// An element kept whole, as received, because it cannot be read as an event.
    pub(crate) fn unreadable(value: serde_json::Value) -> Self {
        Self {
            raw: Some(value),
            ..Self::default()
        }
    }

    /// Reads one element of a `collect` batch: never fails (see the type's docs).
    pub fn from_json(value: serde_json::Value) -> Self {
        match serde_json::from_value::<Self>(value.clone()) {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(error = %e, "an event could not be read; kept as raw JSON");
                Self::unreadable(value)
            }
        }
    }
}

/// Epoch milliseconds from a number, a string of digits, or an RFC 3339 / ISO-8601 date;
/// anything else is `None`.
fn timestamp_lenient<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| iso_millis(s.trim())),
        _ => None,
    })
}

/// `2024-05-01T10:00:00Z`, `2024-05-01T10:00:00.123+02:00`, `2024-05-01 10:00:00Z`: epoch ms.
fn iso_millis(s: &str) -> Option<i64> {
    let time = humantime::parse_rfc3339_weak(s).ok().or_else(|| {
        offset_free(s).and_then(|(utc, offset)| {
            let t = humantime::parse_rfc3339_weak(&utc).ok()?;
            Some(if offset >= 0 {
                t.checked_sub(std::time::Duration::from_secs(offset.unsigned_abs()))?
            } else {
                t.checked_add(std::time::Duration::from_secs(offset.unsigned_abs()))?
            })
        })
    })?;
    let millis = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    i64::try_from(millis).ok()
}

/// Splits `...+02:00` / `...-05:30` into the local date-time (as UTC text) and its offset in
/// seconds (humantime reads only `Z` or no zone).
fn offset_free(s: &str) -> Option<(String, i64)> {
    let (at, sign) = s
        .char_indices()
        .skip(10)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, c)| (i, if c == '+' { 1 } else { -1 }))?;
    let (hours, minutes) = s[at + 1..].split_once(':')?;
    let offset = sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60);
    Some((format!("{}Z", &s[..at]), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_shape() {
        assert_eq!(iso_millis("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(iso_millis("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(iso_millis("1970-01-01T01:00:01+01:00"), Some(1000));
        assert_eq!(iso_millis("1970-01-01T00:00:01-01:00"), Some(3_601_000));
        assert_eq!(iso_millis("yesterday"), None);
    }
}
