//! The `risk_signals` of a recommendation: device, network, behaviour and history signals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{
    null_default, opt_bool_lenient, opt_f64_lenient, opt_u64_lenient, vec_skip_invalid,
};

/// Device signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[expect(missing_docs, reason = "field names are the documented wire names")]
pub struct DeviceSignals {
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub incognito: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub private_browser: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub tampered: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub emulated: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub spoofed: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub tz_mismatch: Option<bool>,
    /// Signals this version does not know, as received.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Network signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[expect(missing_docs, reason = "field names are the documented wire names")]
pub struct NetworkSignals {
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub vpn: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub tor: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub hosting: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub proxy: Option<bool>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub anonymizer: Option<bool>,
    /// Signals this version does not know, as received.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Behaviour signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[expect(missing_docs, reason = "field names are the documented wire names")]
pub struct BehaviorSignals {
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub typing_velocity: Option<f64>,
    /// e.g. `is_typing`, `is_paste`. `null` and non-string elements are skipped.
    #[serde(
        default,
        deserialize_with = "vec_skip_invalid",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub input_method: Vec<String>,
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub no_user_interaction: Option<bool>,
    /// Signals this version does not know, as received.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// History (velocity and linking) signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[expect(missing_docs, reason = "field names are the documented wire names")]
pub struct HistorySignals {
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_action_rate_60_sec: Option<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_action_rate_60_sec: Option<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_action_rate_60_sec: Option<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_user_count_last_hour: Option<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub linking_user_to_device_count: Option<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub linking_device_to_users_count: Option<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_device_count_last_hour: Option<u64>,
    /// Signals this version does not know, as received.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// `risk_signals` of a recommendation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RiskSignals {
    /// Device signals.
    #[serde(default, deserialize_with = "null_default")]
    pub device: DeviceSignals,
    /// Network signals.
    #[serde(default, deserialize_with = "null_default")]
    pub network: NetworkSignals,
    /// Behaviour signals.
    #[serde(default, deserialize_with = "null_default")]
    pub behavior: BehaviorSignals,
    /// History signals.
    #[serde(default, deserialize_with = "null_default")]
    pub history: HistorySignals,
}
