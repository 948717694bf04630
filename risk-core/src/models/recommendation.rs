//! The recommendation returned by `GET /risk/v1/recommendation`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::action::{ActionType, ChallengeType, CustomAttributes};
use super::de::{
    null_default, open_enum, opt_attributes_lenient, opt_f64_lenient, opt_i64_lenient,
    opt_string_lenient, opt_text_lenient, vec_skip_invalid,
};
use super::signals::RiskSignals;
use super::transaction::TransactionData;

open_enum! {
    /// What the service recommends doing with the action.
    pub enum RecommendationType {
        /// Proceed; the device is trusted for this user (lowest risk).
        Trust => "TRUST",
        /// Proceed.
        Allow => "ALLOW",
        /// Ask for a step-up (one-time code, passkey...).
        Challenge => "CHALLENGE",
        /// Refuse the action.
        Deny => "DENY",
    }
}

open_enum! {
    /// Why the service recommends what it does. An open set: unknown reasons are kept.
    pub enum Reason {
        /// Automation (headless browser, webdriver, no interaction).
        BehaviorBot => "BEHAVIOR_BOT",
        /// Suspicious pointer or touch movement.
        BehaviorSuspiciousMovement => "BEHAVIOR_SUSPICIOUS_MOVEMENT",
        /// The IP has a risky reputation (VPN, Tor, hosting, proxy).
        IpRiskyReputation => "IP_RISKY_REPUTATION",
        /// The device has suspicious attributes.
        DeviceSuspiciousAttribute => "DEVICE_SUSPICIOUS_ATTRIBUTE",
        /// The device is new for this user.
        ProfileDeviceNew => "PROFILE_DEVICE_NEW",
        /// The device has never been seen.
        DeviceNew => "DEVICE_NEW",
        /// The device is a bot.
        DeviceBot => "DEVICE_BOT",
        /// The device is spoofed.
        DeviceSpoofed => "DEVICE_SPOOFED",
        /// Incognito browsing.
        DeviceIncognitoBrowser => "DEVICE_INCOGNITO_BROWSER",
        /// A privacy browser.
        DevicePrivateBrowser => "DEVICE_PRIVATE_BROWSER",
        /// The device's network is suspicious.
        DeviceSuspiciousNetwork => "DEVICE_SUSPICIOUS_NETWORK",
        /// The device's timezone does not match its IP location.
        DeviceSuspiciousTimezone => "DEVICE_SUSPICIOUS_TIMEZONE",
        /// Many actions or users on one device in a short time.
        DeviceProfileVelocity => "DEVICE_PROFILE_VELOCITY",
    }
}

/// The `recommendation` object of a recommendation response: its type and details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recommendation {
    /// TRUST, ALLOW, CHALLENGE or DENY (or a value this version does not know).
    #[serde(rename = "type")]
    pub recommendation_type: RecommendationType,
    /// An optional result string.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub result: Option<String>,
    /// The challenge the service suggests, with CHALLENGE.
    #[serde(
        default,
        deserialize_with = "opt_text_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub challenge_type: Option<ChallengeType>,
}

impl Recommendation {
    /// A decision of the given type.
    pub fn new(recommendation_type: RecommendationType) -> Self {
        Self {
            recommendation_type,
            result: None,
            challenge_type: None,
        }
    }
}

/// `context` of a recommendation: what the service knows about the action, device and network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[expect(missing_docs, reason = "field names are the documented wire names")]
pub struct RecommendationContext {
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub action_id: Option<String>,
    /// A number here is read as its text (a custom action type named `7`).
    #[serde(
        default,
        deserialize_with = "opt_text_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub action_type: Option<ActionType>,
    /// Epoch milliseconds.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub action_performed_at: Option<i64>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub application_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub tenant_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub correlation_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_fingerprint: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub claimed_user_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_country: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_region: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_location_city: Option<String>,
    /// Sent as a number by some payloads and a string by others; kept as a string.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_location_zip: Option<String>,
    /// Sent as a number or a string.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_location_longitude: Option<f64>,
    /// Sent as a number or a string.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_location_latitude: Option<f64>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_asn_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_asn_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_organization_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_organization_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_location_timezone: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_timezone: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_platform: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub browser_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub browser_version: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_agent: Option<String>,
    /// The region of the IP (the vendor's name; the seed example says `ip_region`: see
    /// [`region`](Self::region)).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_location_region: Option<String>,
    /// The device's clock when the action happened (epoch milliseconds).
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_timestamp: Option<i64>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_public_key: Option<String>,
    /// The page URL.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub location: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_domain: Option<String>,
    /// The browser's languages, most preferred first (numbers read as text, `null`s skipped,
    /// a single string split at commas).
    #[serde(
        default,
        deserialize_with = "super::de::vec_string_lenient",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub device_languages: Vec<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub app_version: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub application_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub campaign_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub sdk_version: Option<String>,
    /// The result reported for the action, when the recommendation is fetched afterwards.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub action_result: Option<String>,
    /// Fields this version does not know, as received: a field the vendor adds tomorrow
    /// reaches the handler instead of being dropped.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl RecommendationContext {
    /// The IP's region, whichever name the answer used (`ip_location_region`, or the seed's
    /// `ip_region`).
    pub fn region(&self) -> Option<&str> {
        self.ip_location_region
            .as_deref()
            .or(self.ip_region.as_deref())
    }
}

/// `preview_rule`: what a preview-mode rule would have recommended. The real
/// recommendation is unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PreviewRule {
    /// Name of the rule.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub rule_name: Option<String>,
    /// What it would have recommended.
    #[serde(
        default,
        deserialize_with = "opt_text_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub recommendation: Option<RecommendationType>,
    /// The score it would have given.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub risk_score: Option<f64>,
}

/// The full body of `GET /risk/v1/recommendation` (see the seed's example).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecommendationResponse {
    /// Id of this recommendation.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// When it was issued (epoch milliseconds).
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub issued_at: Option<i64>,
    /// The recommendation itself.
    pub recommendation: Recommendation,
    /// Risk score, 0 to 100.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub risk_score: Option<f64>,
    /// What the service knows about the action.
    #[serde(default, deserialize_with = "null_default")]
    pub context: RecommendationContext,
    /// Device, network, behaviour and history signals.
    #[serde(default, deserialize_with = "null_default")]
    pub risk_signals: RiskSignals,
    /// Why (an open set). `null` and non-string elements are skipped.
    #[serde(default, deserialize_with = "vec_skip_invalid")]
    pub reasons: Vec<Reason>,
    /// Threats, when given. `null` and non-string elements are skipped.
    #[serde(
        default,
        deserialize_with = "vec_skip_invalid",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub threats: Vec<String>,
    /// The action's transaction data, echoed. Read as leniently as the context (numbers and
    /// strings either way, `null`s, unknown fields kept in its `extra` maps); a field of it that
    /// still does not decode is set aside on its own in [`undecoded`](Self::undecoded) (say
    /// `transaction_data.payer.card`), and the rest of the transaction data is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_data: Option<TransactionData>,
    /// The action's custom attributes, echoed. Decoding is lenient (requests stay strict):
    /// an attribute whose value is not a string, number or boolean (`null`, an object, a
    /// list) is dropped rather than failing the whole recommendation.
    #[serde(
        default,
        deserialize_with = "opt_attributes_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_attributes: Option<CustomAttributes>,
    /// Present when a preview-mode rule would have won.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_rule: Option<PreviewRule>,
    /// The parts of the answer that did not decode, as raw JSON by path (say
    /// `risk_signals.device.browser_version`). They never cost the recommendation: each is
    /// counted (`risk_answer_fields_undecoded_total`) and logged once per field and hour, and
    /// the rest of the answer is used. Empty for an answer that decoded whole.
    #[serde(skip)]
    pub undecoded: std::collections::BTreeMap<String, serde_json::Value>,
}

impl RecommendationResponse {
    /// A minimal response of the given type and score (for tests and emulators).
    pub fn new(recommendation_type: RecommendationType, risk_score: f64) -> Self {
        Self {
            id: String::new(),
            issued_at: None,
            recommendation: Recommendation::new(recommendation_type),
            risk_score: Some(risk_score),
            context: RecommendationContext::default(),
            risk_signals: RiskSignals::default(),
            reasons: Vec::new(),
            threats: Vec::new(),
            transaction_data: None,
            custom_attributes: None,
            preview_rule: None,
            undecoded: std::collections::BTreeMap::new(),
        }
    }

    /// Decodes an answer as the client does: the decision (`recommendation.type`) first, then
    /// the rest field by field. A field that does not decode (a number where the seed has a
    /// string, a string where it has a number, an object where it has a list...) is set
    /// aside in [`undecoded`](Self::undecoded), counted and logged once per field and hour,
    /// and never costs the recommendation. Only a body that is not JSON, or whose
    /// `recommendation.type` is missing or not a string, is an error
    /// ([`Error::MalformedAnswer`](crate::Error::MalformedAnswer)).
    ///
    /// ```
    /// use risk_core::{RecommendationResponse, RecommendationType};
    /// let body = br#"{"recommendation": {"type": "DENY"}, "risk_score": "87.5",
    ///     "context": {"browser_version": {"major": 113}}, "new_field": [1]}"#;
    /// let r = RecommendationResponse::from_slice(body)?;
    /// assert_eq!(*r.recommendation_type(), RecommendationType::Deny);
    /// assert_eq!(r.risk_score, Some(87.5));
    /// assert!(r.undecoded.contains_key("context.browser_version"));
    /// assert!(RecommendationResponse::from_slice(br#"{"recommendation": {}}"#).is_err());
    /// # Ok::<(), risk_core::Error>(())
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Self, crate::Error> {
        super::tolerant::recommendation(body)
    }

    /// Shorthand for `self.recommendation.recommendation_type`.
    pub fn recommendation_type(&self) -> &RecommendationType {
        &self.recommendation.recommendation_type
    }
}
