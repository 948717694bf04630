//! [`ActionDetails`]: what an application knows about an action beyond its headers (the
//! claimed user from a login form, the transaction data of a payment), handed to the risk
//! middleware through the request extensions.

use crate::models::{AttributeValue, ClaimedUserIdType, CustomAttributes, TransactionData};

/// The user a request claims to be (not yet authenticated), from the guard's
/// `claimed_user` closure or the request's [`ActionDetails`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimedUser {
    /// The claimed user id (opaque; never an email in clear).
    pub id: String,
    /// What kind of identifier `id` is.
    pub id_type: Option<ClaimedUserIdType>,
}

impl ClaimedUser {
    /// A claimed user id of unspecified type.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            id_type: None,
        }
    }

    /// Sets the identifier type.
    #[must_use]
    pub fn with_type(mut self, id_type: ClaimedUserIdType) -> Self {
        self.id_type = Some(id_type);
        self
    }
}

/// Details of an action that the headers do not carry: a middleware in front of the risk
/// middleware (or an extractor, or the router) puts one into the **request extensions**, and
/// both adapters (`risk-tower`, `risk-actix`) add it to the request's facts before the
/// risk check. Details given here win over the guard's own (its claimed-user closure, its
/// custom attributes).
///
/// ```
/// use risk_core::{ActionDetails, ClaimedUser, ClaimedUserIdType, TransactionData};
///
/// // In a middleware in front of the risk middleware, once the body is read:
/// let details = ActionDetails::new()
///     .with_claimed_user(ClaimedUser::new("usr_42").with_type(ClaimedUserIdType::AccountId))
///     .with_transaction_data(TransactionData::new(250.0, "EUR"))
///     .with_custom_attribute("channel", "web");
/// // request.extensions_mut().insert(details);
/// # assert_eq!(details.claimed_user.as_ref().map(|u| u.id.as_str()), Some("usr_42"));
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

    /// Adds `other` over these details: what `other` sets wins (custom attributes are
    /// merged by name).
    pub(crate) fn merge(&mut self, other: &ActionDetails) {
        if let Some(user) = &other.claimed_user {
            self.claimed_user = Some(user.clone());
        }
        if let Some(user_id) = &other.user_id {
            self.user_id = Some(user_id.clone());
        }
        if let Some(data) = &other.transaction_data {
            self.transaction_data = Some(data.clone());
        }
        self.custom_attributes.extend(
            other
                .custom_attributes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
}
