//! Trigger-action and action-result wire types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{
    open_enum, opt_f64_lenient, opt_i64_lenient, opt_string_lenient, opt_text_lenient,
};
use super::recommendation::RecommendationResponse;
use super::token::{ActionToken, SessionToken};

open_enum! {
    /// The type of a sensitive action. The known types plus any tenant-defined name
    /// ([`ActionType::Other`], or [`ActionType::custom`]).
    ///
    /// ```
    /// use risk_core::ActionType;
    /// assert_eq!(ActionType::from("login"), ActionType::Login);
    /// assert_eq!(ActionType::custom("gift_card_redeem").as_str(), "gift_card_redeem");
    /// ```
    pub enum ActionType {
        /// `login`
        Login => "login",
        /// `register`
        Register => "register",
        /// `transaction`
        Transaction => "transaction",
        /// `checkout`
        Checkout => "checkout",
        /// `password_reset`
        PasswordReset => "password_reset",
        /// `logout`
        Logout => "logout",
        /// `account_details_change`
        AccountDetailsChange => "account_details_change",
        /// `account_auth_change`
        AccountAuthChange => "account_auth_change",
        /// `withdraw`
        Withdraw => "withdraw",
        /// `credits_change`
        CreditsChange => "credits_change",
    }
}

impl ActionType {
    /// A tenant-defined action type. A known name gives the known variant.
    pub fn custom(name: impl Into<String>) -> Self {
        Self::from(name.into())
    }
}

open_enum! {
    /// The kind of identifier in `claimed_user_id`.
    pub enum ClaimedUserIdType {
        /// `email`
        Email => "email",
        /// `phone_number`
        PhoneNumber => "phone_number",
        /// `account_id`
        AccountId => "account_id",
        /// `ssn`
        Ssn => "ssn",
        /// `national_id`
        NationalId => "national_id",
        /// `passport_number`
        PassportNumber => "passport_number",
        /// `drivers_license_number`
        DriversLicenseNumber => "drivers_license_number",
        /// `other`
        OtherType => "other",
    }
}

open_enum! {
    /// How the user was challenged (reported with a result after a step-up).
    pub enum ChallengeType {
        /// `sms_otp`
        SmsOtp => "sms_otp",
        /// `email_otp`
        EmailOtp => "email_otp",
        /// `totp`
        Totp => "totp",
        /// `push_otp`
        PushOtp => "push_otp",
        /// `voice_otp`
        VoiceOtp => "voice_otp",
        /// `idv`
        Idv => "idv",
        /// `captcha`
        Captcha => "captcha",
        /// `invisible_captcha`
        InvisibleCaptcha => "invisible_captcha",
        /// `password`
        Password => "password",
        /// `passkey`
        Passkey => "passkey",
    }
}

/// A value of `custom_attributes`: a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
}

impl From<&str> for AttributeValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}
impl From<String> for AttributeValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}
impl From<bool> for AttributeValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<i64> for AttributeValue {
    fn from(v: i64) -> Self {
        Self::Number(v.into())
    }
}
impl From<f64> for AttributeValue {
    /// A non-finite float (NaN, infinity) has no JSON form and becomes the string `"NaN"`/`"inf"`.
    fn from(v: f64) -> Self {
        serde_json::Number::from_f64(v).map_or_else(|| Self::String(v.to_string()), Self::Number)
    }
}

/// Custom attributes sent with an action: name to string, number or boolean.
pub type CustomAttributes = BTreeMap<String, AttributeValue>;

open_enum! {
    /// The kind of a transaction (`transaction_data.type`), as documented for the vendor's
    /// transaction evaluation
    /// (<https://developer.transmitsecurity.com/openapi/risk/transactions.openapi/other/transactionmonitoringcontroller_evaluate>).
    /// The documented value `other` is [`OtherType`](Self::OtherType); a value this version
    /// does not know is kept as [`Other`](Self::Other).
    ///
    /// ```
    /// use risk_core::TransactionType;
    /// assert_eq!(TransactionType::from("money_transfer"), TransactionType::MoneyTransfer);
    /// assert_eq!(TransactionType::from("other"), TransactionType::OtherType);
    /// assert_eq!(TransactionType::from("crypto_swap").as_str(), "crypto_swap");
    /// ```
    pub enum TransactionType {
        /// `purchase`
        Purchase => "purchase",
        /// `bill_payment`
        BillPayment => "bill_payment",
        /// `mobile_recharge`
        MobileRecharge => "mobile_recharge",
        /// `money_transfer`
        MoneyTransfer => "money_transfer",
        /// `credit_transfer`
        CreditTransfer => "credit_transfer",
        /// `credit_redemption`
        CreditRedemption => "credit_redemption",
        /// `top_up`
        TopUp => "top_up",
        /// `withdrawal`
        Withdrawal => "withdrawal",
        /// `investment`
        Investment => "investment",
        /// `loan`
        Loan => "loan",
        /// `refund`
        Refund => "refund",
        /// `other` (the documented value, not an unknown one)
        OtherType => "other",
    }
}

open_enum! {
    /// How a transaction is paid (`transaction_data.method`), as documented for the vendor's
    /// transaction evaluation
    /// (<https://developer.transmitsecurity.com/openapi/risk/transactions.openapi/other/transactionmonitoringcontroller_evaluate>).
    /// A value this version does not know is kept as [`Other`](Self::Other).
    pub enum TransactionMethod {
        /// `bank_account`
        BankAccount => "bank_account",
        /// `wire`
        Wire => "wire",
        /// `card`
        Card => "card",
        /// `p2p`
        P2p => "p2p",
        /// `wallet`
        Wallet => "wallet",
    }
}

/// The card of a transaction party (`payer.card`, `payee.card`). The documented fields are the
/// holder, the BIN and the last four digits; anything else the vendor echoes is kept in
/// `extra` as sent (and shows in `Debug`, like the rest of the transaction data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PaymentCard {
    /// Name of the card holder.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub holder_name: Option<String>,
    /// Bank identification number (the first digits).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub bin: Option<String>,
    /// The last four digits.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub last4: Option<String>,
    /// Fields beyond the documented ones, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A postal and contact address: the payer's `billingInfo`, and the `shippingInfo` of a purchase
/// (read in the same shape; fields beyond it are kept in `extra`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransactionAddress {
    /// Name of the addressee.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// First address line.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub address_line1: Option<String>,
    /// Second address line.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub address_line2: Option<String>,
    /// City.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub city: Option<String>,
    /// State or region.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub state: Option<String>,
    /// ZIP or postal code (a number is read as text).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub zip_postal_code: Option<String>,
    /// Country.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub country: Option<String>,
    /// Email address.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    /// Phone number.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone: Option<String>,
    /// Fields beyond the documented ones, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One side of a transaction (`payer` or `payee`). Every field is optional and read leniently
/// (a number where text is expected is read as its text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransactionParty {
    /// Name of the party.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Account number.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_number: Option<String>,
    /// Account id (the application's own).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_id: Option<String>,
    /// Country of the account (ISO 3166 code).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_country_code: Option<String>,
    /// Bank identifier (BIC, routing number...).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub bank_identifier: Option<String>,
    /// Branch identifier.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub branch_identifier: Option<String>,
    /// The card, when the party pays or is paid by card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<PaymentCard>,
    /// Tier of the customer (documented for the payer).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_tier: Option<String>,
    /// Billing address (documented for the payer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_info: Option<TransactionAddress>,
    /// Fields beyond the documented ones, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One product of a purchase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PurchasedProduct {
    /// Product id (a number is read as text).
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// Product name.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// How many were bought.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<f64>,
    /// Unit price.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<f64>,
    /// Fields beyond the documented ones, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The purchase of a transaction (`transaction_data.purchase`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Purchase {
    /// How many items in all.
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_items: Option<i64>,
    /// The products (`null` is none).
    #[serde(
        default,
        deserialize_with = "super::de::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub products: Vec<PurchasedProduct>,
    /// Where it is shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_info: Option<TransactionAddress>,
    /// Fields beyond the documented ones, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The result of an address verification (AVS) check (`transaction_data.avs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AddressVerification {
    /// The AVS response code.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<String>,
    /// Who checked.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider: Option<String>,
    /// How well the address matched.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub match_level: Option<String>,
    /// Fields beyond the documented ones, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// `transaction_data` of an action (camelCase keys on the wire).
///
/// Every field is optional and read leniently (numbers and strings either way, `null` as
/// absent); fields beyond the documented ones are kept in `extra` maps. In a recommendation, a
/// field that still does not decode is set aside on its own (see
/// [`RecommendationResponse::undecoded`](crate::RecommendationResponse::undecoded)).
///
/// ```
/// use risk_core::{TransactionData, TransactionMethod, TransactionType};
/// let tx = TransactionData::new(120.5, "EUR")
///     .with_type(TransactionType::MoneyTransfer)
///     .with_method(TransactionMethod::BankAccount);
/// let json = serde_json::to_value(&tx).unwrap();
/// assert_eq!(json["amount"], 120.5);
/// assert_eq!(json["type"], "money_transfer");
/// let echoed: TransactionData = serde_json::from_value(serde_json::json!({
///     "amount": "99.9", "type": "loan", "payer": {"accountNumber": 12345, "card": {"last4": 4242}}
/// })).unwrap();
/// assert_eq!(echoed.transaction_type, Some(TransactionType::Loan));
/// let payer = echoed.payer.unwrap();
/// assert_eq!(payer.account_number.as_deref(), Some("12345"));
/// assert_eq!(payer.card.unwrap().last4.as_deref(), Some("4242"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransactionData {
    /// Amount of the transaction.
    #[serde(
        default,
        deserialize_with = "opt_f64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<f64>,
    /// ISO 4217 currency code.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub currency: Option<String>,
    /// The kind of transaction (e.g. `money_transfer`).
    #[serde(
        default,
        rename = "type",
        deserialize_with = "opt_text_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_type: Option<TransactionType>,
    /// How it is paid.
    #[serde(
        default,
        deserialize_with = "opt_text_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub method: Option<TransactionMethod>,
    /// Channel the transaction came from.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel_id: Option<String>,
    /// Free-text reason.
    #[serde(
        default,
        deserialize_with = "opt_string_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason: Option<String>,
    /// When the transaction takes place (epoch milliseconds).
    #[serde(
        default,
        deserialize_with = "opt_i64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_date: Option<i64>,
    /// The paying party. (The parties, the purchase and the AVS result are boxed: most
    /// transactions carry few of them, and a `TransactionData` moves with every request and
    /// answer that holds one.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Box<TransactionParty>>,
    /// The receiving party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<Box<TransactionParty>>,
    /// What was bought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<Box<Purchase>>,
    /// The address verification (AVS) result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avs: Option<Box<AddressVerification>>,
    /// Fields beyond the documented ones, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl TransactionData {
    /// A transaction of `amount` in `currency`.
    pub fn new(amount: f64, currency: impl Into<String>) -> Self {
        Self {
            amount: Some(amount),
            currency: Some(currency.into()),
            ..Self::default()
        }
    }

    /// Sets the kind of transaction (a [`TransactionType`], or its wire name).
    #[must_use]
    pub fn with_type(mut self, transaction_type: impl Into<TransactionType>) -> Self {
        self.transaction_type = Some(transaction_type.into());
        self
    }

    /// Sets how it is paid (a [`TransactionMethod`], or its wire name).
    #[must_use]
    pub fn with_method(mut self, method: impl Into<TransactionMethod>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Sets the paying party.
    #[must_use]
    pub fn with_payer(mut self, payer: TransactionParty) -> Self {
        self.payer = Some(Box::new(payer));
        self
    }

    /// Sets the receiving party.
    #[must_use]
    pub fn with_payee(mut self, payee: TransactionParty) -> Self {
        self.payee = Some(Box::new(payee));
        self
    }
}

/// Body of `POST /risk/v1/action/trigger-action`.
///
/// ```
/// use risk_core::{ActionType, ClaimedUserIdType, TriggerActionRequest};
/// let req = TriggerActionRequest::new("session-token-from-sdk", ActionType::Login)
///     .with_correlation_id("req-42")
///     .with_claimed_user_id("u-1234", ClaimedUserIdType::AccountId)
///     .with_custom_attribute("plan", "gold");
/// let json = serde_json::to_value(&req).unwrap();
/// assert_eq!(json["action_type"], "login");
/// assert_eq!(json["claimed_user_id_type"], "account_id");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TriggerActionRequest {
    /// The session token from the client SDK (`getSessionToken()`); this or
    /// `secured_session_token` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<SessionToken>,
    /// A secured session token (`getSecureSessionToken(actionType)`), bound to one action
    /// type: for another, the API answers 403 "Action type mismatch".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secured_session_token: Option<SessionToken>,
    /// The action being performed.
    pub action_type: ActionType,
    /// Correlates this action with the application's own request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The authenticated user, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The user the request claims to be (not yet authenticated; opaque, never an email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_user_id: Option<String>,
    /// What kind of identifier `claimed_user_id` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_user_id_type: Option<ClaimedUserIdType>,
    /// Details of a payment or transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_data: Option<TransactionData>,
    /// Tenant-defined attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_attributes: Option<CustomAttributes>,
}

impl TriggerActionRequest {
    /// A request for `action_type` in the browser session `session_token`.
    pub fn new(session_token: impl Into<SessionToken>, action_type: ActionType) -> Self {
        Self::with_tokens(Some(session_token.into()), None, action_type)
    }

    /// A request for `action_type` with a secured session token bound to it.
    pub fn secured(
        secured_session_token: impl Into<SessionToken>,
        action_type: ActionType,
    ) -> Self {
        Self::with_tokens(None, Some(secured_session_token.into()), action_type)
    }

    fn with_tokens(
        session_token: Option<SessionToken>,
        secured_session_token: Option<SessionToken>,
        action_type: ActionType,
    ) -> Self {
        Self {
            session_token,
            secured_session_token,
            action_type,
            correlation_id: None,
            user_id: None,
            claimed_user_id: None,
            claimed_user_id_type: None,
            transaction_data: None,
            custom_attributes: None,
        }
    }

    /// Sets the correlation id.
    #[must_use]
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Sets the authenticated user id.
    #[must_use]
    pub fn with_user_id(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }

    /// Sets the claimed user id and its type.
    #[must_use]
    pub fn with_claimed_user_id(mut self, id: impl Into<String>, kind: ClaimedUserIdType) -> Self {
        self.claimed_user_id = Some(id.into());
        self.claimed_user_id_type = Some(kind);
        self
    }

    /// Sets the transaction data.
    #[must_use]
    pub fn with_transaction_data(mut self, data: TransactionData) -> Self {
        self.transaction_data = Some(data);
        self
    }

    /// Adds one custom attribute.
    #[must_use]
    pub fn with_custom_attribute(
        mut self,
        name: impl Into<String>,
        value: impl Into<AttributeValue>,
    ) -> Self {
        self.custom_attributes
            .get_or_insert_with(CustomAttributes::new)
            .insert(name.into(), value.into());
        self
    }
}

/// Response of trigger-action (201).
///
/// With `get_recommendation=true` the service may also return the recommendation. Its shape is
/// not documented upstream; this crate accepts it under `recommendation` in the shape of
/// [`RecommendationResponse`] and ignores it when it does not decode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TriggerActionResponse {
    /// The token of the new action.
    pub action_token: ActionToken,
    /// The recommendation, when asked for with `get_recommendation=true` and returned.
    #[serde(
        default,
        deserialize_with = "lenient_recommendation",
        skip_serializing_if = "Option::is_none"
    )]
    pub recommendation: Option<Box<RecommendationResponse>>,
}

impl TriggerActionResponse {
    /// A response carrying only an action token.
    pub fn new(action_token: ActionToken) -> Self {
        Self {
            action_token,
            recommendation: None,
        }
    }
}

fn lenient_recommendation<'de, D>(d: D) -> Result<Option<Box<RecommendationResponse>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    // A recommendation whose type is unreadable is left out: the client then asks for it
    // with its own call. Other fields that do not decode are set aside, never a reason to
    // lose it. Kept raw first (no `Value` tree), so that an answer that decodes whole is
    // decoded once, straight into the model.
    let raw = Option::<Box<serde_json::value::RawValue>>::deserialize(d)?;
    Ok(raw.and_then(|raw| {
        RecommendationResponse::from_slice(raw.get().as_bytes())
            .map_err(|e| {
                let why = match &e {
                    crate::Error::MalformedAnswer { message, .. } => message.as_str(),
                    other => other.kind(),
                };
                tracing::debug!(
                    why,
                    "trigger-action's recommendation has no readable decision; asking for it"
                );
            })
            .ok()
            .map(Box::new)
    }))
}

/// The outcome of an action, reported after it completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionResult {
    /// The action succeeded (for a login: the user authenticated).
    Success,
    /// The action failed (for a login: wrong credentials, failed challenge).
    Failure,
    /// The action was abandoned or could not complete.
    Incomplete,
}

impl ActionResult {
    /// The value as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Incomplete => "incomplete",
        }
    }
}

impl std::fmt::Display for ActionResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Body of `POST /risk/v1/action/result`.
///
/// ```
/// use risk_core::{ActionResult, ActionResultReport, ActionToken, ChallengeType};
/// let report = ActionResultReport::new(ActionToken::new("at-1"), ActionResult::Success)
///     .with_user_id("user-7")
///     .with_challenge_type(ChallengeType::SmsOtp);
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["result"], "success");
/// assert_eq!(json["challenge_type"], "sms_otp");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionResultReport {
    /// The action this result is for.
    pub action_token: ActionToken,
    /// How it ended.
    pub result: ActionResult,
    /// The now-authenticated user (opaque id); sets the user for the rest of the browser session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// A private identifier of the user, not shown in the vendor's portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_user_identifier: Option<String>,
    /// The challenge the user passed or failed, after a CHALLENGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_type: Option<ChallengeType>,
}

impl ActionResultReport {
    /// A report of `result` for `action_token`.
    pub fn new(action_token: ActionToken, result: ActionResult) -> Self {
        Self {
            action_token,
            result,
            user_id: None,
            private_user_identifier: None,
            challenge_type: None,
        }
    }

    /// Sets the authenticated user id.
    #[must_use]
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the private user identifier.
    #[must_use]
    pub fn with_private_user_identifier(mut self, id: impl Into<String>) -> Self {
        self.private_user_identifier = Some(id.into());
        self
    }

    /// Sets the challenge type.
    #[must_use]
    pub fn with_challenge_type(mut self, challenge_type: ChallengeType) -> Self {
        self.challenge_type = Some(challenge_type);
        self
    }
}

/// The body of most error responses and of some successes: `{"message": ...}`, where
/// `message` may be a string or a list of strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageResponse {
    /// The message, joined with `"; "` when it was a list.
    #[serde(default, deserialize_with = "message_lenient")]
    pub message: String,
    /// A machine-readable error code, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<serde_json::Value>,
}

impl MessageResponse {
    /// A body with only `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            error_code: None,
        }
    }
}

fn message_lenient<'de, D>(d: D) -> Result<String, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Msg {
        One(String),
        Many(Vec<String>),
        Other(serde_json::Value),
    }
    Ok(match Option::<Msg>::deserialize(d)? {
        None => String::new(),
        Some(Msg::One(s)) => s,
        Some(Msg::Many(v)) => v.join("; "),
        Some(Msg::Other(v)) => v.to_string(),
    })
}

/// Body of `POST /risk/v1/action/clear-user`: forgets the user set on a browser session
/// (logout). One of the two tokens.
///
/// ```
/// use risk_core::ClearUserRequest;
/// let body = serde_json::to_value(ClearUserRequest::session("st-1")).unwrap();
/// assert_eq!(body, serde_json::json!({"session_token": "st-1"}));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClearUserRequest {
    /// The session token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<SessionToken>,
    /// Or a secured session token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secured_session_token: Option<SessionToken>,
}

impl ClearUserRequest {
    /// For a session token.
    pub fn session(token: impl Into<SessionToken>) -> Self {
        Self {
            session_token: Some(token.into()),
            secured_session_token: None,
        }
    }

    /// For a secured session token.
    pub fn secured(token: impl Into<SessionToken>) -> Self {
        Self {
            session_token: None,
            secured_session_token: Some(token.into()),
        }
    }
}

/// Body of `PUT /risk/v1/action/assignee`: sets an assignee on a list of actions. The vendor has
/// not published this body: the field names live here only, so that following the live API is
/// a change of this one type.
///
/// ```
/// use risk_core::AssigneeRequest;
/// let body = serde_json::to_value(AssigneeRequest::new(["act-1", "act-2"], "analyst-7")).unwrap();
/// assert_eq!(body["action_ids"][1], "act-2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssigneeRequest {
    /// The actions (their `context.action_id`).
    pub action_ids: Vec<String>,
    /// Who is assigned.
    pub assignee: String,
}

impl AssigneeRequest {
    /// Assigns `assignee` to the actions `action_ids`.
    pub fn new(
        action_ids: impl IntoIterator<Item = impl Into<String>>,
        assignee: impl Into<String>,
    ) -> Self {
        Self {
            action_ids: action_ids.into_iter().map(Into::into).collect(),
            assignee: assignee.into(),
        }
    }
}
