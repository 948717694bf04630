//! [`ActionDetails`]: what an application knows about an action beyond its headers (the
//! claimed user from a login form, the transaction data of a payment), handed to the risk
//! middleware through the request extensions.

use crate::models::{AttributeValue, CustomAttributes, TransactionData};

use super::facts::{ClaimedUser, RequestFacts};

/// Details of an action that the headers do not carry: a middleware in front of the risk
/// middleware (or an extractor, or the router) puts one into the **request extensions**, and
/// both adapters (`risk-tower`, `risk-actix`) add it to the request's facts before the
/// risk check. Details given here win over the guard's own (its claimed-user closure, its
/// custom attributes).
///
/// ```
/// use risk_core::{ActionDetails, ClaimedUser, ClaimedUserIdType, RequestFacts, TokenInput, TransactionData};
///
/// let details = ActionDetails::new()
///     .with_claimed_user(ClaimedUser::new("usr_42").with_type(ClaimedUserIdType::AccountId))
///     .with_transaction_data(TransactionData::new(250.0, "EUR"))
///     .with_custom_attribute("channel", "web");
/// let facts = details.apply_to(RequestFacts::new(TokenInput::session("st-1")));
/// assert_eq!(facts.claimed_user.as_ref().map(|u| u.id.as_str()), Some("usr_42"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ActionDetails {
    /// The user the request claims to be (opaque id, never an email in clear).
    pub claimed_user: Option<ClaimedUser>,
    /// The authenticated user, when the application already knows it (e.g. from its session).
    pub user_id: Option<String>,
    /// The transaction of a payment or transfer.
    pub transaction_data: Option<TransactionData>,
    /// Attributes of this request.
    pub custom_attributes: CustomAttributes,
}

impl ActionDetails {
    /// No details.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the claimed user.
    #[must_use]
    pub fn with_claimed_user(mut self, user: ClaimedUser) -> Self {
        self.claimed_user = Some(user);
        self
    }

    /// Sets the authenticated user id.
    #[must_use]
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the transaction data.
    #[must_use]
    pub fn with_transaction_data(mut self, data: TransactionData) -> Self {
        self.transaction_data = Some(data);
        self
    }

    /// Adds a custom attribute.
    #[must_use]
    pub fn with_custom_attribute(
        mut self,
        name: impl Into<String>,
        value: impl Into<AttributeValue>,
    ) -> Self {
        self.custom_attributes.insert(name.into(), value.into());
        self
    }

    /// Adds these details to `facts` (what is set here replaces what `facts` had).
    pub fn apply_to(&self, mut facts: RequestFacts) -> RequestFacts {
        if let Some(user) = &self.claimed_user {
            facts = facts.with_claimed_user(user.clone());
        }
        if let Some(user_id) = &self.user_id {
            facts = facts.with_user_id(user_id.clone());
        }
        if let Some(data) = &self.transaction_data {
            facts = facts.with_transaction_data(data.clone());
        }
        for (name, value) in &self.custom_attributes {
            facts = facts.with_custom_attribute(name.clone(), value.clone());
        }
        facts
    }
}
