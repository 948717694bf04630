//! Trigger-action and action-result wire types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::open_enum;
use super::recommendation::RecommendationResponse;
use super::token::{ActionToken, SessionToken};
use super::transaction::TransactionData;

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

    /// Decodes a trigger-action answer as the client does: in one pass when the recommendation
    /// in it decodes whole (the common case); otherwise as its `Deserialize` does, the
    /// recommendation read again on its own with its undecodable fields set aside
    /// ([`RecommendationResponse::from_slice`]), or left out when it has no readable
    /// decision. The answer carries an action token: an error never quotes the body.
    ///
    /// ```
    /// use risk_core::{RecommendationType, TriggerActionResponse};
    /// let body = br#"{"action_token": "at-1",
    ///     "recommendation": {"recommendation": {"type": "ALLOW"}, "context": {"device_id": {"x": 1}}}}"#;
    /// let answer = TriggerActionResponse::from_slice(body)?;
    /// assert_eq!(answer.action_token.expose(), "at-1");
    /// let recommendation = answer.recommendation.expect("kept, one field set aside");
    /// assert_eq!(*recommendation.recommendation_type(), RecommendationType::Allow);
    /// assert!(recommendation.undecoded.contains_key("context.device_id"));
    /// # Ok::<(), risk_core::Error>(())
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Self, crate::Error> {
        /// The answer when it decodes whole.
        #[derive(Deserialize)]
        struct Whole {
            action_token: ActionToken,
            #[serde(default)]
            recommendation: Option<Box<RecommendationResponse>>,
        }
        if let Some(whole) = super::de::whole::<Whole>(body) {
            return Ok(Self {
                action_token: whole.action_token,
                recommendation: whole.recommendation,
            });
        }
        crate::error::decode_withholding_body(body)
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
            .map_err(|e| super::answer::no_decision(&e))
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
