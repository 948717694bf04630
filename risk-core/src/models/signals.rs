//! The `risk_signals` of a recommendation: device, network, behaviour and history signals.
//!
//! Every documented signal is a typed field, optional, read leniently: `null` is absent, a
//! number may arrive as a string and the reverse, a boolean as `"true"`/`1`. Signals this
//! version does not know are kept in each group's `extra`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{
    null_default, opt_bool_lenient, opt_f64_lenient, opt_i64_lenient, opt_string_lenient,
    opt_u64_lenient, vec_skip_invalid, vec_string_lenient,
};

/// Device signals: what the SDK found about the device and browser.
///
/// ```
/// use risk_core::DeviceSignals;
/// let d: DeviceSignals = serde_json::from_value(serde_json::json!({
///     "incognito": true, "ram": "8", "screen_width": 1920.0, "model": 14, "emulated": null,
///     "a_signal_added_tomorrow": [1]
/// })).unwrap();
/// assert_eq!((d.incognito, d.ram, d.screen_width), (Some(true), Some(8.0), Some(1920)));
/// assert_eq!(d.model.as_deref(), Some("14"));
/// assert_eq!(d.emulated, None);
/// assert_eq!(d.extra["a_signal_added_tomorrow"], serde_json::json!([1]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceSignals {
    /// The browser is in incognito (private browsing) mode.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub incognito: Option<bool>,
    /// The browser is a privacy-focused one.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub private_browser: Option<bool>,
    /// The browser or the SDK was tampered with.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub tampered: Option<bool>,
    /// The device is an emulator or a virtual machine.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub emulated: Option<bool>,
    /// The device reports spoofed attributes.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub spoofed: Option<bool>,
    /// The device's timezone does not match its IP address's location.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub tz_mismatch: Option<bool>,
    /// The device uses an eSIM.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub esim_usage: Option<bool>,
    /// Memory of the device, as the SDK reports it.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ram: Option<f64>,
    /// Total storage of the device.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_storage: Option<f64>,
    /// Free storage of the device.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub available_storage: Option<f64>,
    /// Battery level.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub battery_level: Option<f64>,
    /// Power state (e.g. charging).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_power_state: Option<String>,
    /// Number of CPU cores.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub core_number: Option<i64>,
    /// CPU architecture.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_arch: Option<String>,
    /// Graphics card (renderer).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub graphic_card: Option<String>,
    /// Device model.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub model: Option<String>,
    /// Device name.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_name: Option<String>,
    /// Screen width, in pixels.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_width: Option<i64>,
    /// Screen height, in pixels.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_height: Option<i64>,
    /// Screen width available to windows, in pixels.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_avail_width: Option<i64>,
    /// Screen height available to windows, in pixels.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_avail_height: Option<i64>,
    /// Screen pixel depth, in bits.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_pixel_depth: Option<i64>,
    /// Screen colour depth, in bits.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub screen_color_depth: Option<i64>,
    /// Number of fonts installed.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub font_count: Option<i64>,
    /// The `Accept-Language` the browser sends.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub accept_languages: Option<String>,
    /// Mobile network code (MNC) of the carrier.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub mobile_network_code: Option<String>,
    /// The user agent the browser's `navigator` reports.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub navigator_useragent: Option<String>,
    /// The user agent the SDK found to be the real one.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub true_useragent: Option<String>,
    /// The device's offset from UTC, as reported (minutes).
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_timezone_offset: Option<i64>,
    /// The device timezone's offset from UTC in summer (minutes).
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub summer_timezone_offset: Option<i64>,
    /// The device timezone's offset from UTC in winter (minutes).
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub winter_timezone_offset: Option<i64>,
    /// Signals this version does not know, as received: a signal the vendor adds tomorrow
    /// reaches the handler instead of being dropped.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Network signals: what the IP address and the connection say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkSignals {
    /// The IP address is a VPN exit.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub vpn: Option<bool>,
    /// The IP address is a Tor exit node.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub tor: Option<bool>,
    /// The IP address belongs to a hosting provider (data centre).
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub hosting: Option<bool>,
    /// The connection goes through a proxy.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub proxy: Option<bool>,
    /// The IP address is an anonymizer of some kind.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub anonymizer: Option<bool>,
    /// The addresses of the request's `X-Forwarded-For`, in order. Elements that are
    /// numbers are read as text; a single string is split at commas.
    #[serde(
        default,
        deserialize_with = "vec_string_lenient",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub x_forwarded_for: Vec<String>,
    /// Signals this version does not know, as received: a signal the vendor adds tomorrow
    /// reaches the handler instead of being dropped.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Behaviour signals: how the user interacted with the page.
///
/// ```
/// use risk_core::BehaviorSignals;
/// let b: BehaviorSignals = serde_json::from_value(serde_json::json!({
///     "right_angels_ratio": "0.25", "input_method": ["is_typing", null, "is_paste"]
/// })).unwrap();
/// assert_eq!(b.right_angles_ratio, Some(0.25));
/// assert_eq!(b.input_method, ["is_typing", "is_paste"]);
/// assert_eq!(serde_json::to_value(&b).unwrap()["right_angels_ratio"], 0.25);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BehaviorSignals {
    /// Typing speed.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub typing_velocity: Option<f64>,
    /// Pointer movement speed.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub movement_velocity: Option<f64>,
    /// Share of pointer movements in straight lines (typical of automation).
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub straight_line_ratio: Option<f64>,
    /// Share of pointer movements at right angles. The vendor spells it
    /// `right_angels_ratio` on the wire, and so does this field (the corrected spelling is
    /// read too).
    #[serde(
        default,
        rename = "right_angels_ratio",
        alias = "right_angles_ratio",
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub right_angles_ratio: Option<f64>,
    /// Share of pointer movements at minor angles. The vendor spells it
    /// `minor_angels_ratio` on the wire, and so does this field (the corrected spelling is
    /// read too).
    #[serde(
        default,
        rename = "minor_angels_ratio",
        alias = "minor_angles_ratio",
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub minor_angles_ratio: Option<f64>,
    /// Latency of pointer movements.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub movement_latency: Option<f64>,
    /// How input was entered (`is_typing`, `is_paste`, ...). `null` and elements that are not
    /// strings are skipped.
    #[serde(
        default,
        deserialize_with = "vec_skip_invalid",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub input_method: Vec<String>,
    /// No user interaction was seen before the action.
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub no_user_interaction: Option<bool>,
    /// Clicks landed in the corners of elements (typical of automation).
    #[serde(
        default,
        deserialize_with = "opt_bool_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub corner_click: Option<bool>,
    /// Signals this version does not know, as received: a signal the vendor adds tomorrow
    /// reaches the handler instead of being dropped.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// History signals: velocity and linking counts (whole numbers; a fractional count is
/// rounded, a negative one read as absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HistorySignals {
    /// Actions from the IP address in the last 60 seconds.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_action_rate_60_sec: Option<u64>,
    /// Actions of the user in the last 60 seconds.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_action_rate_60_sec: Option<u64>,
    /// Actions from the device in the last 60 seconds.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_action_rate_60_sec: Option<u64>,
    /// Users seen from the IP address in the last hour.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_user_count_last_hour: Option<u64>,
    /// Devices seen from the IP address in the last hour.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_device_count_last_hour: Option<u64>,
    /// Devices linked to the user.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub linking_user_to_device_count: Option<u64>,
    /// Users linked to the device.
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub linking_device_to_users_count: Option<u64>,
    /// Signals this version does not know, as received: a signal the vendor adds tomorrow
    /// reaches the handler instead of being dropped.
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
