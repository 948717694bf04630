//! Wire types of the risk API: requests and responses of every endpoint.
//!
//! Every type here both serializes and deserializes, so that the emulator serves exactly
//! what the client decodes. Decoding is tolerant: unknown fields are ignored, `null` is
//! accepted wherever a field is optional, some numbers may arrive as strings (and the
//! reverse), and enums that the service may extend keep unknown values as `Other`.

mod action;
pub(crate) mod answer;
pub(crate) mod de;
mod evaluate;
mod events;
mod recommendation;
mod rules;
mod signals;
mod token;
pub(crate) mod tolerant;
mod transaction;

pub use action::{
    ActionResult, ActionResultReport, ActionType, AssigneeRequest, AttributeValue, ChallengeType,
    ClaimedUserIdType, ClearUserRequest, CustomAttributes, MessageResponse, TriggerActionRequest,
    TriggerActionResponse,
};
pub use answer::RiskAnswer;
pub use evaluate::{EvaluateRequest, EvaluateResponse};
pub use events::{ActivityEvent, EventType, StreamOptions};
pub use recommendation::{
    PreviewRule, Reason, Recommendation, RecommendationContext, RecommendationResponse,
    RecommendationType,
};
pub use rules::{
    CreateLegacyRuleResponse, CreateRuleResponse, LegacyRecommendation, LegacyRule,
    LegacyRuleEnvelope, LegacyRuleList, LegacyRuleMode, LegacyRuleWithId, Matcher, Rule,
    RuleCondition, RuleList, RuleMatcher, RuleMode, RuleOperator, RuleRecommendation, StoredRule,
};
pub use signals::{BehaviorSignals, DeviceSignals, HistorySignals, NetworkSignals, RiskSignals};
pub use token::{redact, ActionToken, SessionToken};
pub use transaction::{
    AddressVerification, PaymentCard, Purchase, PurchasedProduct, TransactionAddress,
    TransactionData, TransactionMethod, TransactionParty, TransactionType,
};

/// The OAuth resource every risk access token must be issued for.
pub const RISK_RESOURCE: &str = "https://risk.identity.security";
