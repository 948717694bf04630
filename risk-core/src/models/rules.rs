//! Recommendation rules, in both shapes the service serves:
//! the seed's `/risk/v1/recommendation/rules` ([`LegacyRule`]) and the current
//! `/risk/v1/rules` ([`Rule`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{case_insensitive_enum, null_default, vec_skip_undecodable};
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

/// Mode of a seed-shape rule: `PREVIEW` or `PRODUCTION` (decoded in any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LegacyRuleMode {
    /// Evaluated and reported as `preview_rule`, without changing the recommendation.
    Preview,
    /// Sets the recommendation when it matches.
    Production,
}

case_insensitive_enum!(LegacyRuleMode {
    Preview => "PREVIEW",
    Production => "PRODUCTION",
});

/// A rule in the seed's shape (`/risk/v1/recommendation/rules`).
///
/// ```
/// use risk_core::{LegacyRule, LegacyRuleMode, Matcher, RecommendationType};
/// let rule = LegacyRule::new("Block risky range", 10, Matcher::IpCidrs(vec!["203.0.113.0/24".into()]),
///     RecommendationType::Deny, LegacyRuleMode::Production);
/// let json = serde_json::to_value(&rule).unwrap();
/// assert_eq!(json["matcher"]["ip_cidrs"][0], "203.0.113.0/24");
/// assert_eq!(json["mode"], "PRODUCTION");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LegacyRule {
    /// Unique name.
    pub name: String,
    /// Unique priority; lower is evaluated first.
    pub priority: i64,
    /// What it matches.
    pub matcher: Matcher,
    /// `CHALLENGE`, `DENY` or `TRUST`.
    pub recommendation: RecommendationType,
    /// Whether it is evaluated at all.
    #[serde(default, deserialize_with = "null_default")]
    pub enabled: bool,
    /// Preview or production.
    pub mode: LegacyRuleMode,
}

impl LegacyRule {
    /// An enabled rule.
    pub fn new(
        name: impl Into<String>,
        priority: i64,
        matcher: Matcher,
        recommendation: RecommendationType,
        mode: LegacyRuleMode,
    ) -> Self {
        Self {
            name: name.into(),
            priority,
            matcher,
            recommendation,
            enabled: true,
            mode,
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
/// A listed rule this version cannot decode (e.g. a mode other than preview or production)
/// is skipped with a `WARN` tracing event naming its id, so that one such rule does not
/// fail the whole list. Fetching that rule by id still fails with a decode error.
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

/// Mode of a current-shape rule: `preview` or `production` (decoded in any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleMode {
    /// Evaluated and reported as `preview_rule`, without changing the recommendation.
    Preview,
    /// Sets the recommendation when it matches.
    Production,
}

case_insensitive_enum!(RuleMode {
    Preview => "preview",
    Production => "production",
});

/// Recommendation of a current-shape rule (lowercase on the wire, decoded in any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleRecommendation {
    /// `challenge`
    Challenge,
    /// `deny`
    Deny,
    /// `trust`
    Trust,
    /// `allow`
    Allow,
}

case_insensitive_enum!(RuleRecommendation {
    Challenge => "challenge",
    Deny => "deny",
    Trust => "trust",
    Allow => "allow",
});

impl From<RuleRecommendation> for RecommendationType {
    fn from(r: RuleRecommendation) -> Self {
        match r {
            RuleRecommendation::Challenge => Self::Challenge,
            RuleRecommendation::Deny => Self::Deny,
            RuleRecommendation::Trust => Self::Trust,
            RuleRecommendation::Allow => Self::Allow,
        }
    }
}

fn default_rule_type() -> String {
    "risk".to_owned()
}

/// A rule in the current shape (`/risk/v1/rules`).
///
/// ```
/// use risk_core::{Matcher, Rule, RuleMode, RuleRecommendation};
/// let rule = Rule::new("Known bad devices", 5, RuleRecommendation::Deny)
///     .with_matcher(Matcher::DeviceIds(vec!["d-1".into()]))
///     .with_mode(RuleMode::Production)
///     .enabled(true);
/// let json = serde_json::to_value(&rule).unwrap();
/// assert_eq!(json["recommendation"], "deny");
/// assert_eq!(json["matchers"][0]["device_ids"][0], "d-1");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rule {
    /// Unique name.
    pub name: String,
    /// Unique priority, 1..=1000; lower is evaluated first.
    pub priority: i64,
    /// What the rule recommends when it matches.
    pub recommendation: RuleRecommendation,
    /// Whether it is evaluated at all (default `false`).
    #[serde(default, deserialize_with = "null_default")]
    pub enabled: bool,
    /// Preview or production.
    pub mode: RuleMode,
    /// Always `risk` today.
    #[serde(rename = "type", default = "default_rule_type")]
    pub rule_type: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What it matches: all listed matchers must match.
    #[serde(default, deserialize_with = "null_default")]
    pub matchers: Vec<Matcher>,
}

impl Rule {
    /// A disabled preview rule with no matchers; chain the `with_*` methods.
    pub fn new(name: impl Into<String>, priority: i64, recommendation: RuleRecommendation) -> Self {
        Self {
            name: name.into(),
            priority,
            recommendation,
            enabled: false,
            mode: RuleMode::Preview,
            rule_type: default_rule_type(),
            description: None,
            matchers: Vec::new(),
        }
    }

    /// Adds a matcher.
    #[must_use]
    pub fn with_matcher(mut self, matcher: Matcher) -> Self {
        self.matchers.push(matcher);
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

/// `GET /risk/v1/rules` → 200 `{data: [...]}`.
///
/// A listed rule this version cannot decode (e.g. a mode or recommendation it does not
/// know) is skipped with a `WARN` tracing event naming its id, so that one such rule does
/// not fail the whole list. Fetching that rule by id still fails with a decode error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuleList {
    /// The rules.
    #[serde(default, deserialize_with = "vec_skip_undecodable")]
    pub data: Vec<StoredRule>,
}
