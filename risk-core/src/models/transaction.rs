//! `transaction_data`: what a transaction is (type, method, amount), its parties, purchase and
//! address verification, as the trigger-action request sends it and a recommendation echoes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de::{
    open_enum, opt_f64_lenient, opt_i64_lenient, opt_string_lenient, opt_text_lenient,
};

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
