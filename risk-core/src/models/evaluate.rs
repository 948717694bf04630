//! Entity evaluation (`POST /risk/v1/evaluate`): a standalone entity, first an IP address,
//! against the tenant's rules, with no browser session.

use serde::{Deserialize, Serialize};

use super::recommendation::{PreviewRule, Recommendation, RecommendationType};

/// Body of `POST /risk/v1/evaluate`. The vendor has not published the field names: they
/// live here only, so that following the live API is a change of this one type.
///
/// ```
/// use risk_core::EvaluateRequest;
/// let body = serde_json::to_value(EvaluateRequest::ip("203.0.113.9")).unwrap();
/// assert_eq!(body, serde_json::json!({"ip": "203.0.113.9"}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EvaluateRequest {
    /// The IP address to evaluate.
    pub ip: String,
}

impl EvaluateRequest {
    /// Evaluates an IP address.
    pub fn ip(ip: impl Into<String>) -> Self {
        Self { ip: ip.into() }
    }
}

/// The answer of `POST /risk/v1/evaluate`: a recommendation (`ALLOW` when no rule matched),
/// the name of the matching rule, and a preview rule when one would have decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EvaluateResponse {
    /// What to do with the entity.
    pub recommendation: Recommendation,
    /// The production rule that decided, if any.
    #[serde(
        default,
        deserialize_with = "super::de::opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub rule_name: Option<String>,
    /// The preview rule that would have decided, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_rule: Option<PreviewRule>,
}

impl EvaluateResponse {
    /// An answer of `recommendation_type`, without a rule.
    pub fn new(recommendation_type: RecommendationType) -> Self {
        Self {
            recommendation: Recommendation::new(recommendation_type),
            rule_name: None,
            preview_rule: None,
        }
    }
}
