//! Request facts: everything the guard needs from an HTTP request, read through a
//! framework-free header lookup.
//!
//! - [`headers`]: the [`HeaderLookup`] seam, [`HeaderNames`], the correlation id;
//! - [`token`]: [`Token`] or [`BadInput`], validated before any upstream call;
//! - [`forwarded`]: the client IP behind trusted proxies;
//! - [`details`]: [`ActionDetails`], what the application adds from the body.

mod details;
mod forwarded;
mod headers;
mod token;

use std::net::IpAddr;

pub use details::{ActionDetails, ClaimedUser};
pub use forwarded::ForwardedHeader;
pub(crate) use forwarded::IpResolver;
pub(crate) use headers::{generate_correlation_id, valid_request_id, DynLookup};
pub use headers::{header_texts, HeaderLookup, HeaderNames, MAX_CORRELATION_ID_LEN};
pub(crate) use token::TokenKinds;
pub use token::{BadInput, Token, TokenProblem, MAX_TOKEN_LEN};

/// Everything the guard needs from one request. Built by
/// [`Guard::facts`](crate::Guard::facts) from the headers, the socket peer and the request's
/// [`ActionDetails`]; build one by hand only to call [`Guard::check`](crate::Guard::check)
/// outside an adapter.
///
/// `Debug` shows tokens only in shortened form.
///
/// ```
/// use risk_core::{ActionDetails, RequestFacts, Token, TransactionData};
/// let facts = RequestFacts::new(Token::session("tok-123"))
///     .with_correlation_id("req-1")
///     .with_details(ActionDetails::new().with_transaction_data(TransactionData::new(10.0, "EUR")));
/// assert_eq!(facts.correlation_id, "req-1");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RequestFacts {
    /// The validated token, or why there is none.
    pub token: Result<Token, BadInput>,
    /// `x-request-id` when valid (visible ASCII, at most 128 characters), else generated.
    pub correlation_id: String,
    /// The client's address, honouring trusted proxies.
    pub client_ip: Option<IpAddr>,
    /// What the application knows beyond the headers (claimed user, transaction...).
    pub details: ActionDetails,
}

impl RequestFacts {
    /// Facts with only a token and a generated correlation id.
    pub fn new(token: Result<Token, BadInput>) -> Self {
        Self::with_id(token, generate_correlation_id())
    }

    pub(crate) fn with_id(token: Result<Token, BadInput>, correlation_id: String) -> Self {
        Self {
            token,
            correlation_id,
            client_ip: None,
            details: ActionDetails::default(),
        }
    }

    /// Sets the correlation id (as given, not validated).
    #[must_use]
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = id.into();
        self
    }

    /// Sets the client IP.
    #[must_use]
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// Adds `details` over the ones the facts have (what `details` sets wins).
    #[must_use]
    pub fn with_details(mut self, details: ActionDetails) -> Self {
        self.details.merge(&details);
        self
    }
}
