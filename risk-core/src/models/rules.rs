//! Recommendation rules, in both shapes the service serves:
//! the seed's `/risk/v1/recommendation/rules` ([`LegacyRule`]) and the current
//! `/risk/v1/rules` ([`Rule`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{null_default, open_enum, vec_skip_undecodable};
use super::recommendation::RecommendationType;

/// What a rule matches on. On the wire a matcher is an object with exactly one key,
/// e.g. `{"ip_cidrs": ["10.0.0.0/8"]}`.
///
/// ```
/// use risk_core::Matcher;
/// let m = Matcher::IpCidrs(vec!["203.0.113.0/24".into()]);
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"ip_cidrs":["203.0.113.0/24"]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Matcher {
    /// IP ranges in CIDR notation.
    IpCidrs(Vec<String>),
    /// Device ids.
    DeviceIds(Vec<String>),
    /// Device fingerprints.
    DeviceFingerprints(Vec<String>),
    /// Device public keys.
    DevicePublicKeys(Vec<String>),
    /// User ids.
    UserIds(Vec<String>),
    /// Two-letter country codes of the IP location.
    CountryCodes(Vec<String>),
    /// Browser names (e.g. `Chrome`).
    BrowserNames(Vec<String>),
    /// Operating system versions.
    OsVersions(Vec<String>),
    /// A matcher kind this version does not know, kept as sent.
    Other {
        /// Its key.
        kind: String,
        /// Its value.
        value: serde_json::Value,
    },
}

impl Matcher {
    /// The wire key of this matcher.
    pub fn kind(&self) -> &str {
        match self {
            Self::IpCidrs(_) => "ip_cidrs",
            Self::DeviceIds(_) => "device_ids",
            Self::DeviceFingerprints(_) => "device_fingerprints",
            Self::DevicePublicKeys(_) => "device_public_keys",
            Self::UserIds(_) => "user_ids",
            Self::CountryCodes(_) => "country_codes",
            Self::BrowserNames(_) => "browser_names",
            Self::OsVersions(_) => "os_versions",
            Self::Other { kind, .. } => kind,
        }
    }

    /// The listed values, for known kinds.
    pub fn values(&self) -> Option<&[String]> {
        match self {
            Self::IpCidrs(v)
            | Self::DeviceIds(v)
            | Self::DeviceFingerprints(v)
            | Self::DevicePublicKeys(v)
            | Self::UserIds(v)
            | Self::CountryCodes(v)
            | Self::BrowserNames(v)
            | Self::OsVersions(v) => Some(v),
            Self::Other { .. } => None,
        }
    }
}

impl Serialize for Matcher {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        match self {
            Self::Other { kind, value } => map.serialize_entry(kind, value)?,
            known => map.serialize_entry(known.kind(), &known.values())?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let mut entries = map.into_iter().filter(|(_, v)| !v.is_null());
        let (kind, value) = entries
            .next()
            .ok_or_else(|| D::Error::custom("a matcher needs exactly one key, found none"))?;
        if let Some((second, _)) = entries.next() {
            return Err(D::Error::custom(format!(
                "a matcher needs exactly one key, found `{kind}` and `{second}`"
            )));
        }
        let list = |value: serde_json::Value| -> Result<Vec<String>, D::Error> {
            serde_json::from_value(value).map_err(|e| D::Error::custom(format!("`{kind}`: {e}")))
        };
        Ok(match kind.as_str() {
            "ip_cidrs" => Self::IpCidrs(list(value)?),
            "device_ids" => Self::DeviceIds(list(value)?),
            "device_fingerprints" => Self::DeviceFingerprints(list(value)?),
            "device_public_keys" => Self::DevicePublicKeys(list(value)?),
            "user_ids" => Self::UserIds(list(value)?),
            "country_codes" => Self::CountryCodes(list(value)?),
            "browser_names" => Self::BrowserNames(list(value)?),
            "os_versions" => Self::OsVersions(list(value)?),
            _ => Self::Other { kind, value },
        })
    }
}

open_enum! {
    case_insensitive:
    /// Mode of a seed-shape rule: `PREVIEW` or `PRODUCTION` (decoded in any case; a mode this
    /// version does not know is kept as [`Other`](Self::Other), never a reason to lose the rule).
    pub enum LegacyRuleMode {
        /// Evaluated and reported as `preview_rule`, without changing the recommendation.
        Preview => "PREVIEW",
        /// Sets the recommendation when it matches.
        Production => "PRODUCTION",
    }
}

open_enum! {
    case_insensitive:
    /// Recommendation of a seed-shape rule: `CHALLENGE`, `DENY` or `TRUST` (the deprecated API
    /// has no `ALLOW`). Decoded in any case; a value this version does not know is kept as
    /// [`Other`](Self::Other).
    ///
    /// ```
    /// use risk_core::{LegacyRecommendation, RecommendationType};
    /// assert_eq!(LegacyRecommendation::from("deny"), LegacyRecommendation::Deny);
    /// assert_eq!(RecommendationType::from(LegacyRecommendation::Trust), RecommendationType::Trust);
    /// assert!(!LegacyRecommendation::from("ALLOW").is_known());
    /// ```
    pub enum LegacyRecommendation {
        /// `CHALLENGE`
        Challenge => "CHALLENGE",
        /// `DENY`
        Deny => "DENY",
        /// `TRUST`
        Trust => "TRUST",
    }
}

impl From<LegacyRecommendation> for RecommendationType {
    /// The recommendation a matching rule gives; an unknown value is kept as sent.
    fn from(r: LegacyRecommendation) -> Self {
        match r {
            LegacyRecommendation::Challenge => Self::Challenge,
            LegacyRecommendation::Deny => Self::Deny,
            LegacyRecommendation::Trust => Self::Trust,
            LegacyRecommendation::Other(s) => Self::from(s),
        }
    }
}

/// A rule in the seed's shape (`/risk/v1/recommendation/rules`, deprecated upstream).
///
/// ```
/// use risk_core::{LegacyRecommendation, LegacyRule, LegacyRuleMode, Matcher};
/// let rule = LegacyRule::new("Block risky range", 10, Matcher::IpCidrs(vec!["203.0.113.0/24".into()]),
///     LegacyRecommendation::Deny, LegacyRuleMode::Production);
/// let json = serde_json::to_value(&rule).unwrap();
/// assert_eq!(json["matcher"]["ip_cidrs"][0], "203.0.113.0/24");
/// assert_eq!(json["mode"], "PRODUCTION");
/// // `name` is optional: the service names a rule sent without one.
/// let unnamed: LegacyRule = serde_json::from_value(serde_json::json!({
///     "priority": 3, "matcher": {"user_ids": ["u-1"]}, "recommendation": "TRUST", "mode": "preview"
/// })).unwrap();
/// assert_eq!(unnamed.name, None);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LegacyRule {
    /// Unique name (optional: the service generates one when it is absent).
    #[serde(
        default,
        deserialize_with = "super::de::opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Unique priority; lower is evaluated first.
    #[serde(deserialize_with = "super::de::i64_lenient")]
    pub priority: i64,
    /// What it matches.
    pub matcher: Matcher,
    /// `CHALLENGE`, `DENY` or `TRUST`.
    pub recommendation: LegacyRecommendation,
    /// Whether it is evaluated at all.
    #[serde(default, deserialize_with = "super::de::bool_lenient")]
    pub enabled: bool,
    /// Preview or production.
    pub mode: LegacyRuleMode,
}

impl LegacyRule {
    /// An enabled rule named `name`.
    pub fn new(
        name: impl Into<String>,
        priority: i64,
        matcher: Matcher,
        recommendation: LegacyRecommendation,
        mode: LegacyRuleMode,
    ) -> Self {
        Self {
            name: Some(name.into()),
            priority,
            matcher,
            recommendation,
            enabled: true,
            mode,
        }
    }

    /// An enabled rule without a name: the service names it.
    pub fn unnamed(
        priority: i64,
        matcher: Matcher,
        recommendation: LegacyRecommendation,
        mode: LegacyRuleMode,
    ) -> Self {
        Self {
            name: None,
            ..Self::new("", priority, matcher, recommendation, mode)
        }
    }
}

/// A seed-shape rule with its id, as listed by `GET /risk/v1/recommendation/rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LegacyRuleWithId {
    /// The rule id.
    pub id: String,
    /// The rule.
    #[serde(flatten)]
    pub rule: LegacyRule,
}

/// `POST /risk/v1/recommendation/rules` → 201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateLegacyRuleResponse {
    /// A human-readable message.
    #[serde(default, deserialize_with = "null_default")]
    pub message: String,
    /// Id of the new rule.
    pub rule_id: String,
}

/// `GET /risk/v1/recommendation/rules` → 200 `{data: [...]}`.
///
/// Unknown modes, recommendations and matcher kinds are kept (as `Other`), `null`s are read
/// as absent; a number or a boolean where text is expected (and the reverse, for `priority`
/// and `enabled`) is read as such. Only a listed rule that still cannot be read (no
/// `priority`, a matcher that is not an object) is skipped, with a `WARN` tracing event naming
/// its id and a count (`risk_rules_skipped_total`), so that one such rule does not fail the
/// whole list. Fetching that rule by id fails with a decode error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LegacyRuleList {
    /// The rules.
    #[serde(default, deserialize_with = "vec_skip_undecodable")]
    pub data: Vec<LegacyRuleWithId>,
}

/// `GET /risk/v1/recommendation/rules/{id}` → 200 `{id, data}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LegacyRuleEnvelope {
    /// The rule id.
    pub id: String,
    /// The rule.
    pub data: LegacyRule,
}

open_enum! {
    case_insensitive:
    /// Mode of a current-shape rule: `preview` or `production` (decoded in any case; a mode
    /// this version does not know is kept as [`Other`](Self::Other), never a reason to lose the
    /// rule).
    pub enum RuleMode {
        /// Evaluated and reported as `preview_rule`, without changing the recommendation.
        Preview => "preview",
        /// Sets the recommendation when it matches.
        Production => "production",
    }
}

open_enum! {
    case_insensitive:
    /// Recommendation of a current-shape rule (lowercase on the wire, decoded in any case; a
    /// value this version does not know is kept as [`Other`](Self::Other)).
    pub enum RuleRecommendation {
        /// `challenge`
        Challenge => "challenge",
        /// `deny`
        Deny => "deny",
        /// `trust`
        Trust => "trust",
        /// `allow`
        Allow => "allow",
    }
}

impl From<RuleRecommendation> for RecommendationType {
    /// The recommendation a matching rule gives; an unknown value is kept as sent.
    fn from(r: RuleRecommendation) -> Self {
        match r {
            RuleRecommendation::Challenge => Self::Challenge,
            RuleRecommendation::Deny => Self::Deny,
            RuleRecommendation::Trust => Self::Trust,
            RuleRecommendation::Allow => Self::Allow,
            RuleRecommendation::Other(s) => Self::from(s),
        }
    }
}

fn default_rule_type() -> String {
    "risk".to_owned()
}

/// `type`: `null` (or a number, read as its text) is not a reason to lose the rule; `null` is
/// the only documented value, `risk`.
fn rule_type_lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(super::de::opt_string_lenient(d)?.unwrap_or_else(default_rule_type))
}

open_enum! {
    /// The operator of a condition of a current-shape matcher.
    pub enum RuleOperator {
        /// The IP is in one of the ranges (`ip_cidrs`).
        IpIn => "ip_in",
        /// The IP is in none of the ranges (`ip_cidrs`).
        IpNotIn => "ip_not_in",
        /// The value is one of the listed values.
        In => "in",
        /// The value is none of the listed values.
        NotIn => "not_in",
        /// The value contains one of the listed strings (`user_agent`, `location`).
        Contains => "contains",
    }
}

/// One condition of a current-shape matcher: `{"op": ..., "value": [...]}`. The value is kept
/// as sent (a list of strings in every documented case), so a rule round-trips exactly.
///
/// ```
/// use risk_core::{RuleCondition, RuleOperator};
/// let c = RuleCondition::new(RuleOperator::IpIn, ["203.0.113.0/24"]);
/// assert_eq!(serde_json::to_value(&c).unwrap(), serde_json::json!({"op": "ip_in", "value": ["203.0.113.0/24"]}));
/// assert_eq!(c.values(), vec!["203.0.113.0/24"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RuleCondition {
    /// The operator (unknown ones are kept as [`RuleOperator::Other`]).
    pub op: RuleOperator,
    /// The operand, as sent.
    #[serde(default)]
    pub value: serde_json::Value,
}

impl<'de> Deserialize<'de> for RuleCondition {
    /// `{"op", "value"}`; a bare list or value (the deprecated seed form, seen in older
    /// tenants) reads as `in` over it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Object {
            // An operator written as a number is one this version does not know, kept.
            #[serde(deserialize_with = "operator_text")]
            op: RuleOperator,
            #[serde(default)]
            value: serde_json::Value,
        }
        let raw = serde_json::Value::deserialize(d)?;
        if raw.is_object() {
            let o: Object = serde_json::from_value(raw).map_err(serde::de::Error::custom)?;
            return Ok(Self {
                op: o.op,
                value: o.value,
            });
        }
        Ok(Self {
            op: RuleOperator::In,
            value: raw,
        })
    }
}

/// An operator, whatever JSON scalar carries it (see `de::open_text`).
fn operator_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<RuleOperator, D::Error> {
    Ok(RuleOperator::from(super::de::open_text(d)?.as_ref()))
}

impl RuleCondition {
    /// A condition of `op` over a list of values.
    pub fn new(op: RuleOperator, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            op,
            value: serde_json::Value::Array(
                values
                    .into_iter()
                    .map(|v| serde_json::Value::String(v.into()))
                    .collect(),
            ),
        }
    }

    /// The operand's values as text (a single value is a list of one; numbers are written
    /// out; other shapes give nothing).
    pub fn values(&self) -> Vec<String> {
        fn text(v: &serde_json::Value) -> Option<String> {
            match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
        match &self.value {
            serde_json::Value::Array(items) => items.iter().filter_map(text).collect(),
            other => text(other).into_iter().collect(),
        }
    }
}

/// A matcher of a current-shape rule: one or more conditions, each
/// `"<field>": {"op", "value"}`; it matches when all of them do. Fields (the reference lists
/// 19): `ip_cidrs`, `device_ids`, `device_fingerprints`, `device_public_keys`, `user_ids`,
/// `country_codes`, `browser_names`, `os_versions`, `action_type`, `client_id`,
/// `application_id`, `asn_id`, `organization_name`, `organization_type`, `ip_timezone`,
/// `device_timezone`, `device_platform`, `user_agent`, `location`; unknown fields are kept.
///
/// ```
/// use risk_core::{Matcher, RuleCondition, RuleMatcher, RuleOperator};
/// let m = RuleMatcher::new()
///     .with("ip_cidrs", RuleCondition::new(RuleOperator::IpIn, ["203.0.113.0/24"]))
///     .with("device_platform", RuleCondition::new(RuleOperator::In, ["desktop"]));
/// let json = serde_json::to_value(&m).unwrap();
/// assert_eq!(json["device_platform"]["op"], "in");
/// // A seed-shape matcher is one condition: `ip_in` for IP ranges, `in` for the others.
/// let legacy = RuleMatcher::from(Matcher::UserIds(vec!["u-1".into()]));
/// assert_eq!(legacy.condition("user_ids").unwrap().op, RuleOperator::In);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
#[non_exhaustive]
pub struct RuleMatcher {
    /// The conditions, by field.
    pub conditions: BTreeMap<String, RuleCondition>,
}

impl RuleMatcher {
    /// A matcher with no condition yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the condition on `field`.
    #[must_use]
    pub fn with(mut self, field: impl Into<String>, condition: RuleCondition) -> Self {
        self.conditions.insert(field.into(), condition);
        self
    }

    /// The condition on `field`, if any.
    pub fn condition(&self, field: &str) -> Option<&RuleCondition> {
        self.conditions.get(field)
    }
}

impl From<Matcher> for RuleMatcher {
    fn from(m: Matcher) -> Self {
        let (field, op, value) = match m {
            Matcher::IpCidrs(v) => ("ip_cidrs".to_owned(), RuleOperator::IpIn, v),
            Matcher::Other { kind, value } => {
                return Self::new().with(
                    kind,
                    RuleCondition {
                        op: RuleOperator::In,
                        value,
                    },
                )
            }
            other => {
                let field = other.kind().to_owned();
                let values = match other {
                    Matcher::DeviceIds(v)
                    | Matcher::DeviceFingerprints(v)
                    | Matcher::DevicePublicKeys(v)
                    | Matcher::UserIds(v)
                    | Matcher::CountryCodes(v)
                    | Matcher::BrowserNames(v)
                    | Matcher::OsVersions(v) => v,
                    _ => Vec::new(),
                };
                (field, RuleOperator::In, values)
            }
        };
        Self::new().with(field, RuleCondition::new(op, value))
    }
}

/// A rule in the current shape (`/risk/v1/rules`): matchers of conditions
/// ([`RuleMatcher`]).
///
/// ```
/// use risk_core::{Matcher, Rule, RuleCondition, RuleMatcher, RuleMode, RuleOperator, RuleRecommendation};
/// let rule = Rule::new("Known bad devices", 5, RuleRecommendation::Deny)
///     .with_matcher(Matcher::DeviceIds(vec!["d-1".into()]))
///     .with_matcher(RuleMatcher::new().with("user_agent", RuleCondition::new(RuleOperator::Contains, ["curl"])))
///     .with_mode(RuleMode::Production)
///     .enabled(true);
/// let json = serde_json::to_value(&rule).unwrap();
/// assert_eq!(json["recommendation"], "deny");
/// assert_eq!(json["matchers"][0]["device_ids"], serde_json::json!({"op": "in", "value": ["d-1"]}));
/// assert_eq!(json["matchers"][1]["user_agent"]["op"], "contains");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rule {
    /// Unique name (optional: the service generates one when it is absent).
    #[serde(
        default,
        deserialize_with = "super::de::opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Unique priority, 1..=1000; lower is evaluated first.
    #[serde(deserialize_with = "super::de::i64_lenient")]
    pub priority: i64,
    /// What the rule recommends when it matches.
    pub recommendation: RuleRecommendation,
    /// Whether it is evaluated at all (default `false`).
    #[serde(default, deserialize_with = "super::de::bool_lenient")]
    pub enabled: bool,
    /// Preview or production.
    pub mode: RuleMode,
    /// Always `risk` today (`null` reads as `risk`).
    #[serde(
        rename = "type",
        default = "default_rule_type",
        deserialize_with = "rule_type_lenient"
    )]
    pub rule_type: String,
    /// Free text.
    #[serde(
        default,
        deserialize_with = "super::de::opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// What it matches: all listed matchers must match.
    #[serde(default, deserialize_with = "null_default")]
    pub matchers: Vec<RuleMatcher>,
}

impl Rule {
    /// A disabled preview rule with no matchers; chain the `with_*` methods.
    pub fn new(name: impl Into<String>, priority: i64, recommendation: RuleRecommendation) -> Self {
        Self {
            name: Some(name.into()),
            priority,
            recommendation,
            enabled: false,
            mode: RuleMode::Preview,
            rule_type: default_rule_type(),
            description: None,
            matchers: Vec::new(),
        }
    }

    /// Adds a matcher (a [`RuleMatcher`], or a seed-shape [`Matcher`] as one condition).
    #[must_use]
    pub fn with_matcher(mut self, matcher: impl Into<RuleMatcher>) -> Self {
        self.matchers.push(matcher.into());
        self
    }

    /// Sets the mode.
    #[must_use]
    pub fn with_mode(mut self, mode: RuleMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Enables or disables the rule.
    #[must_use]
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}

/// A current-shape rule with its id: the body of create (201), get and update (200), and
/// each entry of the list. (The upstream reference does not spell these bodies out; this is
/// the shape the client and the emulator agree on, and decoding also accepts the rule
/// wrapped as `{"data": {...}}`.)
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StoredRule {
    /// The rule id.
    pub id: String,
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
}

impl<'de> Deserialize<'de> for StoredRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Flat {
            #[serde(alias = "rule_id")]
            id: String,
            #[serde(flatten)]
            rule: Rule,
        }
        #[derive(Deserialize)]
        struct Wrapped {
            #[serde(alias = "rule_id")]
            id: String,
            data: Rule,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Wrapped(Wrapped),
            Flat(Flat),
        }
        Ok(match Either::deserialize(d)? {
            Either::Flat(f) => Self {
                id: f.id,
                rule: f.rule,
            },
            Either::Wrapped(w) => Self {
                id: w.id,
                rule: w.data,
            },
        })
    }
}

impl LegacyRuleWithId {
    /// A seed-shape rule with its id.
    pub fn new(id: impl Into<String>, rule: LegacyRule) -> Self {
        Self {
            id: id.into(),
            rule,
        }
    }
}

impl CreateLegacyRuleResponse {
    /// The 201 body of a created seed-shape rule.
    pub fn new(message: impl Into<String>, rule_id: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            rule_id: rule_id.into(),
        }
    }
}

impl LegacyRuleEnvelope {
    /// The body of `GET /risk/v1/recommendation/rules/{id}`.
    pub fn new(id: impl Into<String>, data: LegacyRule) -> Self {
        Self {
            id: id.into(),
            data,
        }
    }
}

impl StoredRule {
    /// A current-shape rule with its id.
    pub fn new(id: impl Into<String>, rule: Rule) -> Self {
        Self {
            id: id.into(),
            rule,
        }
    }
}

/// `POST /risk/v1/rules` → 201 `{"message", "rule_id", "data": {rule with id}}`.
/// ([`RiskClient::create_rule`](crate::RiskClient::create_rule) reads it into a
/// [`StoredRule`], which also accepts a flat rule with `id`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateRuleResponse {
    /// A human-readable message.
    #[serde(default)]
    pub message: String,
    /// The new rule's id.
    pub rule_id: String,
    /// The rule as stored.
    pub data: StoredRule,
}

impl CreateRuleResponse {
    /// The 201 body for `stored`.
    pub fn new(message: impl Into<String>, stored: StoredRule) -> Self {
        Self {
            message: message.into(),
            rule_id: stored.id.clone(),
            data: stored,
        }
    }
}

/// `GET /risk/v1/rules` → 200 `{data: [...]}`.
///
/// Unknown modes, recommendations, fields and operators are kept (as `Other`), and a `null`
/// `type`, `name` or `description` is read as absent: none of them costs a rule. Only a listed
/// rule that still cannot be read (no `priority`, a condition without `op`) is skipped, with a
/// `WARN` tracing event naming its id and a count (`risk_rules_skipped_total`), so that one
/// such rule does not fail the whole list; `"priority": "7"`, `"enabled": "true"` and
/// `"op": 1` are read.
/// Fetching that rule by id fails with a decode error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuleList {
    /// The rules.
    #[serde(default, deserialize_with = "vec_skip_undecodable")]
    pub data: Vec<StoredRule>,
}
