//! The rule store shared by both rule APIs, and rule evaluation.

use std::net::IpAddr;

use ipnet::IpNet;
use risk_core::{
    LegacyRecommendation, LegacyRule, LegacyRuleMode, LegacyRuleWithId, Matcher,
    RecommendationType, Rule, RuleCondition, RuleMatcher, RuleMode, RuleOperator,
    RuleRecommendation, StoredRule,
};

/// Parses a CIDR, or a single address as a /32 (/128).
pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Checks a current-shape rule; the message says what is wrong.
pub(crate) fn validate_rule(rule: &Rule) -> Result<(), String> {
    if rule.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err("`name` must not be empty".to_owned());
    }
    if !(1..=1000).contains(&rule.priority) {
        return Err(format!(
            "`priority` must be between 1 and 1000, got {}",
            rule.priority
        ));
    }
    if rule.matchers.is_empty() || rule.matchers.iter().any(|m| m.conditions.is_empty()) {
        return Err("`matchers` needs at least one matcher, each with a condition".to_owned());
    }
    // The client keeps unknown values of a listed rule; a rule the emulator stores and
    // evaluates must have a mode and recommendation it knows.
    if !rule.mode.is_known() {
        return Err(format!(
            "unknown mode `{}`: expected preview or production",
            rule.mode
        ));
    }
    if !rule.recommendation.is_known() {
        return Err(format!(
            "unknown recommendation `{}`: expected challenge, deny, trust or allow",
            rule.recommendation
        ));
    }
    compile(&rule.matchers).map(|_| ())
}

/// What a condition compares: a fact of the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Ip,
    UserIds,
    DeviceIds,
    Fingerprints,
    PublicKeys,
    Countries,
    Browsers,
    OsVersions,
    ActionType,
    ClientId,
    DevicePlatform,
    UserAgent,
    Location,
    /// A field the emulator does not track (or does not know): it has no value here.
    Untracked,
}

impl Field {
    fn of(name: &str) -> Self {
        match name {
            "ip_cidrs" => Self::Ip,
            "user_ids" => Self::UserIds,
            "device_ids" => Self::DeviceIds,
            "device_fingerprints" => Self::Fingerprints,
            "device_public_keys" => Self::PublicKeys,
            "country_codes" => Self::Countries,
            "browser_names" => Self::Browsers,
            "os_versions" => Self::OsVersions,
            "action_type" => Self::ActionType,
            "client_id" | "application_id" => Self::ClientId,
            "device_platform" => Self::DevicePlatform,
            "user_agent" => Self::UserAgent,
            "location" => Self::Location,
            _ => Self::Untracked,
        }
    }
}

/// A condition ready to evaluate.
#[derive(Debug, Clone)]
enum Compiled {
    Ip {
        nets: Vec<IpNet>,
        inside: bool,
    },
    List {
        field: Field,
        values: Vec<String>,
        inside: bool,
    },
    Contains {
        field: Field,
        values: Vec<String>,
    },
    /// An operator the emulator does not know: kept, never matches.
    Unknown,
}

/// The conditions of each matcher. Unknown fields and operators are kept (they never match
/// here); a malformed IP range is refused.
fn compile(matchers: &[RuleMatcher]) -> Result<Vec<Vec<Compiled>>, String> {
    matchers
        .iter()
        .map(|m| {
            m.conditions
                .iter()
                .map(|(name, c)| compile_condition(name, c))
                .collect()
        })
        .collect()
}

fn compile_condition(name: &str, c: &RuleCondition) -> Result<Compiled, String> {
    let field = Field::of(name);
    let values = c.values();
    Ok(match (&c.op, field) {
        (RuleOperator::IpIn | RuleOperator::IpNotIn, _)
        | (RuleOperator::In | RuleOperator::NotIn, Field::Ip) => {
            let nets = values
                .iter()
                .map(|s| {
                    parse_net(s)
                        .ok_or_else(|| format!("`{name}`: `{s}` is not an IP range or address"))
                })
                .collect::<Result<_, _>>()?;
            Compiled::Ip {
                nets,
                inside: matches!(c.op, RuleOperator::IpIn | RuleOperator::In),
            }
        }
        (RuleOperator::In, _) => Compiled::List {
            field,
            values,
            inside: true,
        },
        (RuleOperator::NotIn, _) => Compiled::List {
            field,
            values,
            inside: false,
        },
        (RuleOperator::Contains, _) => Compiled::Contains { field, values },
        _ => Compiled::Unknown,
    })
}

/// What rules match against: the facts of one action.
#[derive(Debug, Default, Clone)]
pub(crate) struct Facts<'a> {
    pub(crate) ip: Option<IpAddr>,
    pub(crate) user_id: Option<&'a str>,
    pub(crate) claimed_user_id: Option<&'a str>,
    pub(crate) device_id: Option<&'a str>,
    pub(crate) fingerprint: Option<&'a str>,
    pub(crate) public_key: Option<&'a str>,
    pub(crate) country: Option<&'a str>,
    pub(crate) browser_name: Option<&'a str>,
    pub(crate) os_version: Option<&'a str>,
    pub(crate) action_type: Option<&'a str>,
    pub(crate) client_id: Option<&'a str>,
    pub(crate) device_platform: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) location: Option<&'a str>,
}

fn contains(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|x| x == v))
}

fn contains_ci(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|x| x.trim().eq_ignore_ascii_case(v)))
}

/// `14` matches `14`, `14.2` and `14.2.1`; `14.2` does not match `14.21`.
/// Compares bytes, so a request value with multi-byte characters never splits a character.
fn version_matches(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = v.as_bytes();
        list.iter().any(|x| {
            let x = x.trim().as_bytes();
            v.eq_ignore_ascii_case(x)
                || (v.get(x.len()) == Some(&b'.')
                    && v.get(..x.len()).is_some_and(|p| p.eq_ignore_ascii_case(x)))
        })
    })
}

impl Compiled {
    fn matches(&self, f: &Facts<'_>) -> bool {
        match self {
            Self::Ip { nets, inside } => {
                f.ip.is_some_and(|ip| nets.iter().any(|n| n.contains(&ip)) == *inside)
            }
            Self::List {
                field,
                values,
                inside,
            } => Self::listed(*field, values, f) == *inside,
            Self::Contains { field, values } => Self::value(*field, f).is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                values.iter().any(|x| v.contains(&x.to_ascii_lowercase()))
            }),
            Self::Unknown => false,
        }
    }

    /// Whether the fact of `field` is one of `values`.
    fn listed(field: Field, values: &[String], f: &Facts<'_>) -> bool {
        match field {
            Field::UserIds => contains(values, f.user_id) || contains(values, f.claimed_user_id),
            Field::Countries | Field::Browsers | Field::DevicePlatform | Field::ActionType => {
                contains_ci(values, Self::value(field, f))
            }
            Field::OsVersions => version_matches(values, f.os_version),
            _ => contains(values, Self::value(field, f)),
        }
    }

    fn value<'a>(field: Field, f: &Facts<'a>) -> Option<&'a str> {
        match field {
            Field::UserIds => f.user_id.or(f.claimed_user_id),
            Field::DeviceIds => f.device_id,
            Field::Fingerprints => f.fingerprint,
            Field::PublicKeys => f.public_key,
            Field::Countries => f.country,
            Field::Browsers => f.browser_name,
            Field::OsVersions => f.os_version,
            Field::ActionType => f.action_type,
            Field::ClientId => f.client_id,
            Field::DevicePlatform => f.device_platform,
            Field::UserAgent => f.user_agent,
            Field::Location => f.location,
            Field::Ip | Field::Untracked => None,
        }
    }
}

/// A stored rule and its compiled matchers.
#[derive(Debug, Clone)]
struct Entry {
    stored: StoredRule,
    /// The conditions of each matcher.
    compiled: Vec<Vec<Compiled>>,
}

/// Why a rule could not be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleError {
    /// 400
    Invalid(String),
    /// 404
    NotFound,
    /// 409
    Conflict(String),
}

/// One rule that matched: its name, recommendation and mode.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleHit {
    pub(crate) name: String,
    pub(crate) recommendation: RecommendationType,
}

/// What the rules say about an action.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RuleOutcome {
    /// The first matching enabled production rule.
    pub(crate) production: Option<RuleHit>,
    /// The first matching enabled preview rule ranked before any production match.
    pub(crate) preview: Option<RuleHit>,
}

/// All rules, of both APIs, kept sorted by priority.
#[derive(Debug, Default, Clone)]
pub(crate) struct RuleStore {
    entries: Vec<Entry>,
}

impl RuleStore {
    pub(crate) fn list(&self) -> Vec<StoredRule> {
        self.entries.iter().map(|e| e.stored.clone()).collect()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&StoredRule> {
        self.entries
            .iter()
            .find(|e| e.stored.id == id)
            .map(|e| &e.stored)
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Inserts (`replacing = None`) or replaces the rule with id `id`.
    pub(crate) fn put(
        &mut self,
        id: String,
        rule: Rule,
        replacing: bool,
    ) -> Result<StoredRule, RuleError> {
        let mut rule = rule;
        // A rule without a name gets one, as the service does.
        if rule.name.is_none() {
            rule.name = Some(format!("rule-{id}"));
        }
        validate_rule(&rule).map_err(RuleError::Invalid)?;
        let compiled = compile(&rule.matchers).map_err(RuleError::Invalid)?;
        if replacing && self.get(&id).is_none() {
            return Err(RuleError::NotFound);
        }
        for e in self.entries.iter().filter(|e| e.stored.id != id) {
            if e.stored.rule.name == rule.name {
                return Err(RuleError::Conflict(format!(
                    "a rule named `{}` already exists",
                    rule.name.as_deref().unwrap_or_default()
                )));
            }
            if e.stored.rule.priority == rule.priority {
                return Err(RuleError::Conflict(format!(
                    "rule `{}` already has priority {}",
                    e.stored.rule.name.as_deref().unwrap_or_default(),
                    rule.priority
                )));
            }
        }
        self.entries.retain(|e| e.stored.id != id);
        let stored = StoredRule::new(id, rule);
        self.entries.push(Entry {
            stored: stored.clone(),
            compiled,
        });
        self.entries.sort_by_key(|e| e.stored.rule.priority);
        Ok(stored)
    }

    pub(crate) fn delete(&mut self, id: &str) -> Result<(), RuleError> {
        let before = self.entries.len();
        self.entries.retain(|e| e.stored.id != id);
        if self.entries.len() == before {
            Err(RuleError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Evaluates the enabled rules by ascending priority.
    pub(crate) fn evaluate(&self, facts: &Facts<'_>) -> RuleOutcome {
        let mut outcome = RuleOutcome::default();
        for e in self.entries.iter().filter(|e| e.stored.rule.enabled) {
            if !e
                .compiled
                .iter()
                .all(|conditions| conditions.iter().all(|c| c.matches(facts)))
            {
                continue;
            }
            let hit = RuleHit {
                name: e.stored.rule.name.clone().unwrap_or_default(),
                recommendation: e.stored.rule.recommendation.clone().into(),
            };
            if e.stored.rule.mode == RuleMode::Production {
                outcome.production = Some(hit);
                break;
            }
            // Preview (stored rules have a known mode: see `validate_rule`).
            if outcome.preview.is_none() {
                outcome.preview = Some(hit);
            }
        }
        outcome
    }
}

/// A seed-shape rule in the current shape; the message says why one cannot be (400). The
/// deprecated API has no `ALLOW`; a rule sent without a name is named when it is stored.
pub(crate) fn from_legacy(rule: LegacyRule) -> Result<Rule, String> {
    if let Matcher::Other { kind, .. } = &rule.matcher {
        return Err(format!(
            "unknown matcher `{kind}`: expected one of ip_cidrs, device_ids, device_fingerprints, device_public_keys, user_ids, country_codes, browser_names, os_versions"
        ));
    }
    let recommendation = match rule.recommendation {
        LegacyRecommendation::Challenge => RuleRecommendation::Challenge,
        LegacyRecommendation::Deny => RuleRecommendation::Deny,
        LegacyRecommendation::Trust => RuleRecommendation::Trust,
        other => {
            return Err(format!(
                "unknown recommendation `{other}`: expected CHALLENGE, DENY or TRUST (this deprecated API has no ALLOW)"
            ))
        }
    };
    let mode = match rule.mode {
        LegacyRuleMode::Preview => RuleMode::Preview,
        LegacyRuleMode::Production => RuleMode::Production,
        other => {
            return Err(format!(
                "unknown mode `{other}`: expected PREVIEW or PRODUCTION"
            ))
        }
    };
    let mut current = Rule::new("", rule.priority, recommendation)
        .with_matcher(rule.matcher)
        .with_mode(mode)
        .enabled(rule.enabled);
    current.name = rule.name;
    Ok(current)
}

/// A stored rule in the seed shape (a bare list of one field). A rule whose first matcher is
/// not one `in`/`ip_in` condition shows that condition's field with its values; an `allow`
/// rule (which the deprecated API cannot express) shows as `ALLOW`.
pub(crate) fn to_legacy(stored: &StoredRule) -> LegacyRuleWithId {
    let r = &stored.rule;
    let mode = match r.mode {
        RuleMode::Preview => LegacyRuleMode::Preview,
        RuleMode::Production => LegacyRuleMode::Production,
        ref other => LegacyRuleMode::Other(other.as_str().to_ascii_uppercase()),
    };
    let recommendation = match r.recommendation {
        RuleRecommendation::Challenge => LegacyRecommendation::Challenge,
        RuleRecommendation::Deny => LegacyRecommendation::Deny,
        RuleRecommendation::Trust => LegacyRecommendation::Trust,
        ref other => LegacyRecommendation::Other(other.as_str().to_ascii_uppercase()),
    };
    let matcher = r
        .matchers
        .first()
        .and_then(|m| m.conditions.iter().next())
        .map_or(Matcher::IpCidrs(Vec::new()), |(field, c)| {
            legacy_matcher(field, c.values())
        });
    let mut legacy = LegacyRule::new(
        r.name
            .clone()
            .unwrap_or_else(|| format!("rule-{}", stored.id)),
        r.priority,
        matcher,
        recommendation,
        mode,
    );
    legacy.enabled = r.enabled;
    LegacyRuleWithId::new(stored.id.clone(), legacy)
}

fn legacy_matcher(field: &str, values: Vec<String>) -> Matcher {
    match field {
        "ip_cidrs" => Matcher::IpCidrs(values),
        "device_ids" => Matcher::DeviceIds(values),
        "device_fingerprints" => Matcher::DeviceFingerprints(values),
        "device_public_keys" => Matcher::DevicePublicKeys(values),
        "user_ids" => Matcher::UserIds(values),
        "country_codes" => Matcher::CountryCodes(values),
        "browser_names" => Matcher::BrowserNames(values),
        "os_versions" => Matcher::OsVersions(values),
        other => Matcher::Other {
            kind: other.to_owned(),
            value: serde_json::Value::Array(
                values.into_iter().map(serde_json::Value::String).collect(),
            ),
        },
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn rule(name: &str, prio: i64, rec: RuleRecommendation, mode: RuleMode, m: Matcher) -> Rule {
        Rule::new(name, prio, rec)
            .with_matcher(m)
            .with_mode(mode)
            .enabled(true)
    }

    #[test]
    fn duplicate_name_or_priority_conflicts() {
        let mut s = RuleStore::default();
        let m = || Matcher::UserIds(vec!["u".into()]);
        s.put(
            "1".into(),
            rule("a", 1, RuleRecommendation::Deny, RuleMode::Production, m()),
            false,
        )
        .unwrap();
        assert!(matches!(
            s.put(
                "2".into(),
                rule("a", 2, RuleRecommendation::Deny, RuleMode::Production, m()),
                false
            ),
            Err(RuleError::Conflict(_))
        ));
        assert!(matches!(
            s.put(
                "2".into(),
                rule("b", 1, RuleRecommendation::Deny, RuleMode::Production, m()),
                false
            ),
            Err(RuleError::Conflict(_))
        ));
        // Replacing a rule by itself is no conflict.
        s.put(
            "1".into(),
            rule(
                "a",
                1,
                RuleRecommendation::Challenge,
                RuleMode::Production,
                m(),
            ),
            true,
        )
        .unwrap();
        assert_eq!(
            s.put(
                "9".into(),
                rule("z", 9, RuleRecommendation::Deny, RuleMode::Production, m()),
                true
            ),
            Err(RuleError::NotFound)
        );
        assert!(matches!(
            s.put(
                "3".into(),
                rule("c", 0, RuleRecommendation::Deny, RuleMode::Production, m()),
                false
            ),
            Err(RuleError::Invalid(_))
        ));
    }

    #[test]
    fn preview_before_production_is_reported_and_order_is_by_priority() {
        let mut s = RuleStore::default();
        let any_user = || Matcher::UserIds(vec!["u1".into()]);
        s.put(
            "p".into(),
            rule(
                "prod",
                20,
                RuleRecommendation::Deny,
                RuleMode::Production,
                any_user(),
            ),
            false,
        )
        .unwrap();
        s.put(
            "v".into(),
            rule(
                "prev",
                10,
                RuleRecommendation::Challenge,
                RuleMode::Preview,
                any_user(),
            ),
            false,
        )
        .unwrap();
        s.put(
            "late".into(),
            rule(
                "late-prev",
                30,
                RuleRecommendation::Trust,
                RuleMode::Preview,
                any_user(),
            ),
            false,
        )
        .unwrap();
        let facts = Facts {
            user_id: Some("u1"),
            ..Facts::default()
        };
        let out = s.evaluate(&facts);
        assert_eq!(out.production.unwrap().name, "prod");
        assert_eq!(out.preview.unwrap().name, "prev");
        let none = s.evaluate(&Facts::default());
        assert_eq!(none, RuleOutcome::default());
    }

    #[test]
    fn matchers_match_their_fact() {
        let f = Facts {
            ip: "10.1.2.3".parse().ok(),
            user_id: None,
            claimed_user_id: Some("claimed"),
            device_id: Some("d1"),
            fingerprint: Some("fp"),
            public_key: None,
            country: Some("FR"),
            browser_name: Some("Firefox"),
            os_version: Some("14.2.1"),
            action_type: Some("login"),
            client_id: Some("app-1"),
            device_platform: None,
            user_agent: Some("Mozilla/5.0 Firefox/120"),
            location: None,
        };
        let cases = [
            (Matcher::IpCidrs(vec!["10.0.0.0/8".into()]), true),
            (Matcher::IpCidrs(vec!["10.1.2.3".into()]), true),
            (Matcher::IpCidrs(vec!["192.168.0.0/16".into()]), false),
            (Matcher::UserIds(vec!["claimed".into()]), true),
            (Matcher::UserIds(vec!["other".into()]), false),
            (Matcher::DeviceIds(vec!["d1".into()]), true),
            (Matcher::DeviceFingerprints(vec!["fp".into()]), true),
            (Matcher::DevicePublicKeys(vec!["fp".into()]), false),
            (Matcher::CountryCodes(vec!["fr".into()]), true),
            (Matcher::BrowserNames(vec!["FIREFOX".into()]), true),
            (Matcher::BrowserNames(vec!["Chrome".into()]), false),
            (Matcher::OsVersions(vec!["14".into()]), true),
            (Matcher::OsVersions(vec!["14.2".into()]), true),
            (Matcher::OsVersions(vec!["14.21".into()]), false),
        ];
        let matches = |m: RuleMatcher| {
            compile(std::slice::from_ref(&m)).unwrap()[0]
                .iter()
                .all(|c| c.matches(&f))
        };
        for (m, expected) in cases {
            assert_eq!(matches(RuleMatcher::from(m.clone())), expected, "{m:?}");
        }
        assert!(compile(&[Matcher::IpCidrs(vec!["nope".into()]).into()]).is_err());
        // The current shape: several conditions (all must hold), every operator.
        let cond =
            |op: &str, v: &[&str]| RuleCondition::new(RuleOperator::from(op), v.iter().copied());
        let both = RuleMatcher::new()
            .with("ip_cidrs", cond("ip_in", &["10.0.0.0/8"]))
            .with("action_type", cond("in", &["login"]));
        assert!(matches(both.clone()));
        assert!(!matches(both.with("client_id", cond("in", &["other-app"]))));
        assert!(matches(
            RuleMatcher::new().with("ip_cidrs", cond("ip_not_in", &["192.168.0.0/16"]))
        ));
        assert!(!matches(
            RuleMatcher::new().with("ip_cidrs", cond("ip_not_in", &["10.0.0.0/8"]))
        ));
        assert!(matches(
            RuleMatcher::new().with("country_codes", cond("not_in", &["DE"]))
        ));
        assert!(matches(
            RuleMatcher::new().with("user_agent", cond("contains", &["firefox"]))
        ));
        assert!(!matches(
            RuleMatcher::new().with("user_agent", cond("contains", &["curl"]))
        ));
        // Unknown fields and operators are kept and never match; they never fail a rule.
        assert!(!matches(
            RuleMatcher::new().with("field_added_tomorrow", cond("in", &["x"]))
        ));
        assert!(!matches(
            RuleMatcher::new().with("device_ids", cond("op_added_tomorrow", &["d1"]))
        ));
    }

    #[test]
    fn os_versions_with_multi_byte_characters_do_not_panic() {
        let rule = ["14".to_owned()];
        for (value, expected) in [
            ("1é", false),
            ("é", false),
            ("14é", false),
            ("1é.2", false),
            ("14.é", true),
            ("éé.1", false),
        ] {
            assert_eq!(version_matches(&rule, Some(value)), expected, "{value}");
        }
        assert!(!version_matches(&["1é".to_owned()], Some("14")));
        assert!(version_matches(&["1é".to_owned()], Some("1é.2")));
    }

    #[test]
    fn legacy_round_trip() {
        let legacy = LegacyRule::new(
            "r",
            5,
            Matcher::CountryCodes(vec!["FR".into()]),
            LegacyRecommendation::Deny,
            LegacyRuleMode::Production,
        );
        let rule = from_legacy(legacy.clone()).unwrap();
        assert_eq!(rule.recommendation, RuleRecommendation::Deny);
        let back = to_legacy(&StoredRule::new("id", rule));
        assert_eq!(back.rule, legacy);
        for bad in ["MAYBE", "ALLOW", "allow"] {
            let mut bad_rule = legacy.clone();
            bad_rule.recommendation = LegacyRecommendation::from(bad);
            let why = from_legacy(bad_rule).unwrap_err();
            assert!(why.contains("no ALLOW"), "{why}");
        }
        let mut bad_mode = legacy.clone();
        bad_mode.mode = LegacyRuleMode::from("SHADOW");
        assert!(from_legacy(bad_mode).is_err());
        // No name: none until it is stored (the store names it).
        let unnamed = LegacyRule::unnamed(
            6,
            Matcher::UserIds(vec!["u".into()]),
            LegacyRecommendation::Trust,
            LegacyRuleMode::Preview,
        );
        assert_eq!(from_legacy(unnamed).unwrap().name, None);
        // An allow rule of the current API shows as ALLOW through the deprecated one.
        let allow = Rule::new("a", 7, RuleRecommendation::Allow)
            .with_matcher(Matcher::UserIds(vec!["u".into()]));
        assert_eq!(
            to_legacy(&StoredRule::new("id", allow)).rule.recommendation,
            LegacyRecommendation::Other("ALLOW".into())
        );
    }

    #[test]
    fn a_rule_with_an_unknown_mode_or_recommendation_is_not_stored() {
        let mut s = RuleStore::default();
        let m = || Matcher::UserIds(vec!["u".into()]);
        let shadow = rule(
            "a",
            1,
            RuleRecommendation::Deny,
            RuleMode::from("shadow"),
            m(),
        );
        assert!(matches!(
            s.put("1".into(), shadow, false),
            Err(RuleError::Invalid(_))
        ));
        let odd = rule(
            "b",
            2,
            RuleRecommendation::from("quarantine"),
            RuleMode::Production,
            m(),
        );
        assert!(matches!(
            s.put("2".into(), odd, false),
            Err(RuleError::Invalid(_))
        ));
    }
}
