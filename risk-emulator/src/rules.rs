//! The rule store shared by both rule APIs, and rule evaluation.

use std::net::IpAddr;

use ipnet::IpNet;
use risk_core::{
    LegacyRule, LegacyRuleMode, LegacyRuleWithId, Matcher, RecommendationType, Rule, RuleMode,
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
    if rule.name.trim().is_empty() {
        return Err("`name` must not be empty".to_owned());
    }
    if !(1..=1000).contains(&rule.priority) {
        return Err(format!(
            "`priority` must be between 1 and 1000, got {}",
            rule.priority
        ));
    }
    if rule.matchers.is_empty() {
        return Err("`matchers` needs at least one matcher".to_owned());
    }
    compile(&rule.matchers).map(|_| ())
}

/// A matcher ready to evaluate.
#[derive(Debug, Clone)]
enum Compiled {
    Ip(Vec<IpNet>),
    UserIds(Vec<String>),
    DeviceIds(Vec<String>),
    Fingerprints(Vec<String>),
    PublicKeys(Vec<String>),
    Countries(Vec<String>),
    Browsers(Vec<String>),
    OsVersions(Vec<String>),
}

fn compile(matchers: &[Matcher]) -> Result<Vec<Compiled>, String> {
    matchers
        .iter()
        .map(|m| {
            Ok(match m {
                Matcher::IpCidrs(v) => Compiled::Ip(
                    v.iter()
                        .map(|s| {
                            parse_net(s).ok_or_else(|| {
                                format!("`ip_cidrs`: `{s}` is not an IP range or address")
                            })
                        })
                        .collect::<Result<_, _>>()?,
                ),
                Matcher::UserIds(v) => Compiled::UserIds(v.clone()),
                Matcher::DeviceIds(v) => Compiled::DeviceIds(v.clone()),
                Matcher::DeviceFingerprints(v) => Compiled::Fingerprints(v.clone()),
                Matcher::DevicePublicKeys(v) => Compiled::PublicKeys(v.clone()),
                Matcher::CountryCodes(v) => Compiled::Countries(v.clone()),
                Matcher::BrowserNames(v) => Compiled::Browsers(v.clone()),
                Matcher::OsVersions(v) => Compiled::OsVersions(v.clone()),
                other => {
                    return Err(format!(
                        "unknown matcher `{}`: expected one of ip_cidrs, device_ids, device_fingerprints, device_public_keys, user_ids, country_codes, browser_names, os_versions",
                        other.kind()
                    ))
                }
            })
        })
        .collect()
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
            Self::Ip(nets) => f.ip.is_some_and(|ip| nets.iter().any(|n| n.contains(&ip))),
            Self::UserIds(v) => contains(v, f.user_id) || contains(v, f.claimed_user_id),
            Self::DeviceIds(v) => contains(v, f.device_id),
            Self::Fingerprints(v) => contains(v, f.fingerprint),
            Self::PublicKeys(v) => contains(v, f.public_key),
            Self::Countries(v) => contains_ci(v, f.country),
            Self::Browsers(v) => contains_ci(v, f.browser_name),
            Self::OsVersions(v) => version_matches(v, f.os_version),
        }
    }
}

/// A stored rule and its compiled matchers.
#[derive(Debug, Clone)]
struct Entry {
    stored: StoredRule,
    compiled: Vec<Compiled>,
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
        validate_rule(&rule).map_err(RuleError::Invalid)?;
        let compiled = compile(&rule.matchers).map_err(RuleError::Invalid)?;
        if replacing && self.get(&id).is_none() {
            return Err(RuleError::NotFound);
        }
        for e in self.entries.iter().filter(|e| e.stored.id != id) {
            if e.stored.rule.name == rule.name {
                return Err(RuleError::Conflict(format!(
                    "a rule named `{}` already exists",
                    rule.name
                )));
            }
            if e.stored.rule.priority == rule.priority {
                return Err(RuleError::Conflict(format!(
                    "rule `{}` already has priority {}",
                    e.stored.rule.name, rule.priority
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
            if !e.compiled.iter().all(|m| m.matches(facts)) {
                continue;
            }
            let hit = RuleHit {
                name: e.stored.rule.name.clone(),
                recommendation: e.stored.rule.recommendation.into(),
            };
            match e.stored.rule.mode {
                RuleMode::Production => {
                    outcome.production = Some(hit);
                    break;
                }
                RuleMode::Preview => {
                    if outcome.preview.is_none() {
                        outcome.preview = Some(hit);
                    }
                }
            }
        }
        outcome
    }
}

/// A seed-shape rule in the current shape.
pub(crate) fn from_legacy(rule: LegacyRule) -> Result<Rule, String> {
    let recommendation = match rule.recommendation {
        RecommendationType::Challenge => RuleRecommendation::Challenge,
        RecommendationType::Deny => RuleRecommendation::Deny,
        RecommendationType::Trust => RuleRecommendation::Trust,
        RecommendationType::Allow => RuleRecommendation::Allow,
        other => {
            return Err(format!(
                "unknown recommendation `{other}`: expected CHALLENGE, DENY, TRUST or ALLOW"
            ))
        }
    };
    let mode = match rule.mode {
        LegacyRuleMode::Preview => RuleMode::Preview,
        LegacyRuleMode::Production => RuleMode::Production,
    };
    Ok(Rule::new(rule.name, rule.priority, recommendation)
        .with_matcher(rule.matcher)
        .with_mode(mode)
        .enabled(rule.enabled))
}

/// A stored rule in the seed shape. A rule with several matchers shows its first one.
pub(crate) fn to_legacy(stored: &StoredRule) -> LegacyRuleWithId {
    let r = &stored.rule;
    let mode = match r.mode {
        RuleMode::Preview => LegacyRuleMode::Preview,
        RuleMode::Production => LegacyRuleMode::Production,
    };
    let matcher = r
        .matchers
        .first()
        .cloned()
        .unwrap_or(Matcher::IpCidrs(Vec::new()));
    let mut legacy = LegacyRule::new(
        r.name.clone(),
        r.priority,
        matcher,
        r.recommendation.into(),
        mode,
    );
    legacy.enabled = r.enabled;
    LegacyRuleWithId::new(stored.id.clone(), legacy)
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
        for (m, expected) in cases {
            let c = compile(std::slice::from_ref(&m)).unwrap();
            assert_eq!(c[0].matches(&f), expected, "{m:?}");
        }
        assert!(compile(&[Matcher::IpCidrs(vec!["nope".into()])]).is_err());
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
            RecommendationType::Deny,
            LegacyRuleMode::Production,
        );
        let rule = from_legacy(legacy.clone()).unwrap();
        assert_eq!(rule.recommendation, RuleRecommendation::Deny);
        let back = to_legacy(&StoredRule::new("id", rule));
        assert_eq!(back.rule, legacy);
        let mut bad = legacy;
        bad.recommendation = RecommendationType::Other("MAYBE".into());
        assert!(from_legacy(bad).is_err());
    }
}
