//! Request facts: everything the guard needs from an HTTP request, read through a
//! framework-free header lookup.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::ConfigError;
use crate::models::{
    ActionToken, AttributeValue, ClaimedUserIdType, CustomAttributes, SessionToken, TransactionData,
};

/// The longest token accepted (4 KiB). Longer values are [`TokenProblem::TooLong`].
pub const MAX_TOKEN_LEN: usize = 4096;

/// The longest `x-request-id` taken as the correlation id; longer ones are replaced.
pub const MAX_CORRELATION_ID_LEN: usize = 128;

/// Read access to a request's headers. Adapters implement it on a newtype over their
/// header map; tests can use a slice of pairs.
///
/// ```
/// use risk_core::HeaderLookup;
/// let headers = vec![("X-Forwarded-For", "1.1.1.1"), ("x-forwarded-for", "2.2.2.2")];
/// assert_eq!(headers.get("x-forwarded-for"), Some("1.1.1.1"));
/// assert_eq!(headers.get_all("X-FORWARDED-FOR"), vec!["1.1.1.1", "2.2.2.2"]);
/// ```
pub trait HeaderLookup {
    /// The first value of the header `name` (matched case-insensitively); `None` when it is
    /// absent or not valid UTF-8.
    fn get(&self, name: &str) -> Option<&str>;

    /// Every value of the header `name`, in order. The default returns only the first.
    fn get_all(&self, name: &str) -> Vec<&str> {
        self.get(name).into_iter().collect()
    }
}

impl<'a> HeaderLookup for [(&'a str, &'a str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .collect()
    }
}

impl<'a, const N: usize> HeaderLookup for [(&'a str, &'a str); N] {
    fn get(&self, name: &str) -> Option<&str> {
        HeaderLookup::get(self.as_slice(), name)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        HeaderLookup::get_all(self.as_slice(), name)
    }
}

impl<'a> HeaderLookup for Vec<(&'a str, &'a str)> {
    fn get(&self, name: &str) -> Option<&str> {
        HeaderLookup::get(self.as_slice(), name)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        HeaderLookup::get_all(self.as_slice(), name)
    }
}

impl HeaderLookup for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Lets a `?Sized` lookup be passed on as `&dyn HeaderLookup`.
pub(crate) struct DynLookup<'a, H: ?Sized>(pub(crate) &'a H);

impl<H: HeaderLookup + ?Sized> HeaderLookup for DynLookup<'_, H> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        self.0.get_all(name)
    }
}

/// The names of the headers the guard reads. Every name is configurable.
///
/// ```
/// use risk_core::HeaderNames;
/// let names = HeaderNames::default().session_token("x-fraud-session");
/// assert_eq!(names.session_token_name(), "x-fraud-session");
/// assert_eq!(names.action_token_name(), "x-risk-action-token");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct HeaderNames {
    session_token: String,
    action_token: String,
    request_id: String,
    user_agent: String,
    forwarded_for: String,
    forwarded: String,
}

impl Default for HeaderNames {
    fn default() -> Self {
        Self {
            session_token: "x-risk-session-token".to_owned(),
            action_token: "x-risk-action-token".to_owned(),
            request_id: "x-request-id".to_owned(),
            user_agent: "user-agent".to_owned(),
            forwarded_for: "x-forwarded-for".to_owned(),
            forwarded: "forwarded".to_owned(),
        }
    }
}

macro_rules! header_name {
    ($field:ident, $getter:ident, $default:literal) => {
        #[doc = concat!("Sets the header name for `", stringify!($field), "` (default `", $default, "`).")]
        pub fn $field(mut self, name: impl Into<String>) -> Self {
            self.$field = name.into().to_ascii_lowercase();
            self
        }

        #[doc = concat!("The header name for `", stringify!($field), "`.")]
        pub fn $getter(&self) -> &str {
            &self.$field
        }
    };
}

impl HeaderNames {
    header_name!(session_token, session_token_name, "x-risk-session-token");
    header_name!(action_token, action_token_name, "x-risk-action-token");
    header_name!(request_id, request_id_name, "x-request-id");
    header_name!(user_agent, user_agent_name, "user-agent");
    header_name!(forwarded_for, forwarded_for_name, "x-forwarded-for");
    header_name!(forwarded, forwarded_name, "forwarded");
}

/// The user a request claims to be (not yet authenticated), from the guard's
/// `claimed_user` closure.
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

/// What is wrong with a token (decided before any upstream call, except
/// [`TokenProblem::Rejected`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenProblem {
    /// The header is present but empty (or only whitespace).
    Empty,
    /// Longer than [`MAX_TOKEN_LEN`] bytes.
    TooLong {
        /// The length received, in bytes.
        len: usize,
    },
    /// Contains characters outside visible ASCII (`0x21..=0x7E`).
    Malformed,
    /// The risk API refused the token (HTTP 400 or 463: unknown, expired or reused).
    Rejected {
        /// The HTTP status of the refusal.
        status: u16,
    },
    /// The action token belongs to another action type than the route's (for example a
    /// `logout` token presented on a `transaction` route): refused as if the API had
    /// refused it.
    WrongAction,
}

impl TokenProblem {
    /// A short stable name, for tracing fields and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong { .. } => "too_long",
            Self::Malformed => "malformed",
            Self::Rejected { .. } => "rejected",
            Self::WrongAction => "wrong_action",
        }
    }
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the token is empty"),
            Self::TooLong { len } => {
                write!(f, "the token is {len} bytes long (max {MAX_TOKEN_LEN})")
            }
            Self::Malformed => f.write_str("the token contains characters outside visible ASCII"),
            Self::Rejected { status } => {
                write!(f, "the risk API refused the token (HTTP {status})")
            }
            Self::WrongAction => {
                f.write_str("the action token belongs to another action type than the route's")
            }
        }
    }
}

/// The token a request carries, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenInput {
    /// A session token: the guard triggers the action, then fetches its recommendation.
    Session(SessionToken),
    /// An action token the front end already obtained: one upstream call (recommendation only).
    Action(ActionToken),
    /// No token header.
    Missing,
    /// A token header whose value cannot be a token.
    Invalid(TokenProblem),
}

impl TokenInput {
    /// Validates a raw header value: trimmed of surrounding whitespace, non-empty, at most
    /// [`MAX_TOKEN_LEN`] bytes, visible ASCII only. `wrap` builds the token on success.
    fn parse<T>(raw: &str, wrap: impl FnOnce(String) -> T) -> Result<T, TokenProblem> {
        let value = raw.trim_matches(|c: char| c == ' ' || c == '\t');
        if value.is_empty() {
            return Err(TokenProblem::Empty);
        }
        if value.len() > MAX_TOKEN_LEN {
            return Err(TokenProblem::TooLong { len: value.len() });
        }
        if !value.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
            return Err(TokenProblem::Malformed);
        }
        Ok(wrap(value.to_owned()))
    }

    /// A session token, validated.
    ///
    /// ```
    /// use risk_core::{TokenInput, TokenProblem};
    /// assert!(matches!(TokenInput::session("abc"), TokenInput::Session(_)));
    /// assert_eq!(TokenInput::session(""), TokenInput::Invalid(TokenProblem::Empty));
    /// assert_eq!(TokenInput::session("a b"), TokenInput::Invalid(TokenProblem::Malformed));
    /// ```
    pub fn session(raw: &str) -> Self {
        Self::parse(raw, |s| Self::Session(SessionToken::new(s))).unwrap_or_else(Self::Invalid)
    }

    /// An action token, validated.
    pub fn action(raw: &str) -> Self {
        Self::parse(raw, |s| Self::Action(ActionToken::new(s))).unwrap_or_else(Self::Invalid)
    }

    /// Reads the token from the headers: the action-token header wins over the
    /// session-token header when both are present.
    pub fn from_headers(headers: &(impl HeaderLookup + ?Sized), names: &HeaderNames) -> Self {
        if let Some(raw) = headers.get(&names.action_token) {
            Self::action(raw)
        } else if let Some(raw) = headers.get(&names.session_token) {
            Self::session(raw)
        } else {
            Self::Missing
        }
    }

    /// Reads the session-token header only (action-token mode disabled on the route): the
    /// action-token header is ignored.
    pub(crate) fn from_session_header(
        headers: &(impl HeaderLookup + ?Sized),
        names: &HeaderNames,
    ) -> Self {
        headers
            .get(&names.session_token)
            .map_or(Self::Missing, Self::session)
    }

    /// Whether this is a usable token (session or action).
    pub fn is_token(&self) -> bool {
        matches!(self, Self::Session(_) | Self::Action(_))
    }
}

/// Everything the guard needs from one request. Built by [`Guard::facts`](crate::Guard::facts);
/// enrich it with [`with_transaction_data`](Self::with_transaction_data) and friends before
/// [`Guard::check`](crate::Guard::check).
///
/// `Debug` shows tokens only in shortened form.
///
/// ```
/// use risk_core::{RequestFacts, TokenInput, TransactionData};
/// let facts = RequestFacts::new(TokenInput::session("tok-123"))
///     .with_correlation_id("req-1")
///     .with_transaction_data(TransactionData::new(10.0, "EUR"))
///     .with_custom_attribute("plan", "gold");
/// assert_eq!(facts.correlation_id, "req-1");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RequestFacts {
    /// The validated token.
    pub token: TokenInput,
    /// `x-request-id` when valid (visible ASCII, at most 128 characters), else generated.
    pub correlation_id: String,
    /// The user the request claims to be.
    pub claimed_user: Option<ClaimedUser>,
    /// The already authenticated user, if the application knows it.
    pub user_id: Option<String>,
    /// The client's address, honouring trusted proxies.
    pub client_ip: Option<IpAddr>,
    /// The `User-Agent`.
    pub user_agent: Option<String>,
    /// Transaction details to send with the action.
    pub transaction_data: Option<TransactionData>,
    /// Custom attributes to send with the action (merged over the guard's own).
    pub custom_attributes: Option<CustomAttributes>,
}

impl RequestFacts {
    /// Facts with only a token and a generated correlation id.
    pub fn new(token: TokenInput) -> Self {
        Self::with_id(token, generate_correlation_id())
    }

    pub(crate) fn with_id(token: TokenInput, correlation_id: String) -> Self {
        Self {
            token,
            correlation_id,
            claimed_user: None,
            user_id: None,
            client_ip: None,
            user_agent: None,
            transaction_data: None,
            custom_attributes: None,
        }
    }

    /// Sets the correlation id (as given, not validated).
    #[must_use]
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = id.into();
        self
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

    /// Sets the client IP.
    #[must_use]
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// Sets the transaction data sent with the action.
    #[must_use]
    pub fn with_transaction_data(mut self, data: TransactionData) -> Self {
        self.transaction_data = Some(data);
        self
    }

    /// Adds one custom attribute (overriding the guard's attribute of the same name).
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

/// A fresh 128-bit correlation id in hex (32 characters). Hex-encoded by hand: this runs on
/// every protected request without an `x-request-id`, and `format!` costs several times more.
pub(crate) fn generate_correlation_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits = (u128::from(fastrand::u64(..)) << 64) | u128::from(fastrand::u64(..));
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        // Nibble i, most significant first; the index is always < 16.
        *byte = HEX[((bits >> (124 - 4 * i)) & 0xf) as usize];
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// The correlation id from a request id header, if it is acceptable.
pub(crate) fn valid_request_id(raw: &str) -> Option<&str> {
    let v = raw.trim_matches(|c: char| c == ' ' || c == '\t');
    (!v.is_empty()
        && v.len() <= MAX_CORRELATION_ID_LEN
        && v.bytes().all(|b| (0x21..=0x7E).contains(&b)))
    .then_some(v)
}

/// Which forwarding header a guard believes (from trusted proxies only). Exactly one is
/// read: the other is ignored even when present, since a client can write any header and
/// a proxy only appends to (or overwrites) the one it knows.
///
/// ```
/// use risk_core::{ActionType, ForwardedHeader, Guard};
/// use risk_core::testing::StaticRecommender;
/// let fake = StaticRecommender::of_type(risk_core::RecommendationType::Allow, 1.0);
/// let guard = Guard::builder(ActionType::Login, fake)
///     .trusted_proxies(["10.0.0.0/8"])
///     .forwarded_header(ForwardedHeader::Forwarded)
///     .build()
///     .unwrap();
/// let headers = [("forwarded", "for=203.0.113.9"), ("x-forwarded-for", "6.6.6.6")];
/// let facts = guard.facts(&headers, Some("10.0.0.1".parse().unwrap()));
/// assert_eq!(facts.client_ip, Some("203.0.113.9".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (the header name is [`HeaderNames::forwarded_for`]). The default:
    /// what most proxies and load balancers write.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded` (the header name is [`HeaderNames::forwarded`]), its `for=`
    /// parameters.
    Forwarded,
}

/// Client IP resolution honouring trusted proxies.
///
/// Rules:
/// - the socket peer is not a trusted proxy → the peer (forwarding headers are ignored: a
///   client can write anything there);
/// - the peer is a trusted proxy → walk the forwarding header from the right (the entry
///   appended by the nearest proxy first), skipping trusted proxies, and take the first
///   address that is not one. `unknown`, obfuscated identifiers and unparseable entries stop
///   the walk: the client is then unknown (`None`). If every entry is a trusted proxy, the
///   leftmost is taken; if there is no header, the peer itself;
/// - only the configured header ([`ForwardedHeader`], `X-Forwarded-For` by default) is read,
///   never chosen by presence: the other one may be client-written. All values of the
///   header are read in order, each a comma-separated list;
/// - `unknown`, an obfuscated identifier (`_hidden`) or garbage met during the walk means
///   the client is unknown: `None`, never the peer or a hop further left (those may be
///   client-written);
/// - no peer address → headers are used only with `trust_headers_without_peer`.
#[derive(Debug, Clone, Default)]
pub(crate) struct IpResolver {
    trusted: Vec<IpNet>,
    trust_headers_without_peer: bool,
    header: ForwardedHeader,
}

/// One hop of a forwarding header.
enum Hop {
    Ip(IpAddr),
    /// `unknown`, an obfuscated identifier, or garbage: the walk stops.
    Opaque,
}

impl IpResolver {
    pub(crate) fn new(
        trusted: Vec<IpNet>,
        trust_headers_without_peer: bool,
        header: ForwardedHeader,
    ) -> Self {
        Self {
            trusted,
            trust_headers_without_peer,
            header,
        }
    }

    /// Parses CIDRs or bare addresses.
    pub(crate) fn parse_trusted<I, S>(items: I) -> Result<Vec<IpNet>, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        items
            .into_iter()
            .map(|s| {
                let s = s.as_ref().trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| ConfigError::InvalidValue {
                        setting: "trusted_proxies",
                        reason: format!(
                            "`{s}` is neither a CIDR (e.g. 10.0.0.0/8) nor an IP address"
                        ),
                    })
            })
            .collect()
    }

    fn is_trusted(&self, ip: &IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(ip))
    }

    pub(crate) fn resolve(
        &self,
        headers: &(impl HeaderLookup + ?Sized),
        names: &HeaderNames,
        peer: Option<IpAddr>,
    ) -> Option<IpAddr> {
        let peer = peer.map(|p| p.to_canonical());
        match peer {
            Some(p) if !self.is_trusted(&p) => return Some(p),
            None if !self.trust_headers_without_peer => return None,
            _ => {}
        }
        // Walk from the right (nearest proxy first) without collecting the hops.
        match self.header {
            ForwardedHeader::XForwardedFor => {
                let xff = headers.get_all(&names.forwarded_for);
                let hops = xff
                    .iter()
                    .rev()
                    .flat_map(|v| v.rsplit(','))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(parse_node);
                self.walk(hops, peer)
            }
            ForwardedHeader::Forwarded => {
                let forwarded = headers.get_all(&names.forwarded);
                let hops = forwarded.iter().rev().flat_map(|v| {
                    let mut hops = parse_forwarded(v);
                    hops.reverse();
                    hops
                });
                self.walk(hops, peer)
            }
        }
    }

    /// Takes the first hop (from the right) that is not a trusted proxy.
    fn walk(&self, hops: impl Iterator<Item = Hop>, peer: Option<IpAddr>) -> Option<IpAddr> {
        let mut leftmost = None;
        let mut any = false;
        for hop in hops {
            any = true;
            match hop {
                Hop::Ip(ip) if self.is_trusted(&ip) => leftmost = Some(ip),
                Hop::Ip(ip) => return Some(ip),
                Hop::Opaque => return None,
            }
        }
        if any {
            leftmost
        } else {
            peer
        }
    }
}

/// Parses a node: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`.
fn parse_node(raw: &str) -> Hop {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Hop::Ip(ip.to_canonical());
    }
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            let after = &rest[end + 1..];
            if after.is_empty() || after.starts_with(':') {
                if let Ok(ip) = rest[..end].parse::<IpAddr>() {
                    return Hop::Ip(ip.to_canonical());
                }
            }
        }
        return Hop::Opaque;
    }
    if let Some((host, _port)) = s.rsplit_once(':') {
        if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
            return Hop::Ip(IpAddr::V4(ip));
        }
    }
    Hop::Opaque
}

/// Splits on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut parts = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if in_quotes => escaped = true,
            b'"' => in_quotes = !in_quotes,
            _ if b == sep && !in_quotes => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter()
}

/// The `for=` hops of one `Forwarded` header value, in order.
fn parse_forwarded(value: &str) -> Vec<Hop> {
    split_unquoted(value, b',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|element| {
            split_unquoted(element, b';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .map_or(Hop::Opaque, |(_, v)| parse_node(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(s: &str) -> Option<IpAddr> {
        match parse_node(s) {
            Hop::Ip(ip) => Some(ip),
            Hop::Opaque => None,
        }
    }

    #[test]
    fn nodes() {
        assert_eq!(hop("1.2.3.4"), "1.2.3.4".parse().ok());
        assert_eq!(hop("1.2.3.4:80"), "1.2.3.4".parse().ok());
        assert_eq!(hop("\"[2001:db8::1]:443\""), "2001:db8::1".parse().ok());
        assert_eq!(hop("[2001:db8::1]"), "2001:db8::1".parse().ok());
        assert_eq!(hop("2001:db8::1"), "2001:db8::1".parse().ok());
        assert_eq!(hop("::ffff:1.2.3.4"), "1.2.3.4".parse().ok());
        assert_eq!(hop("unknown"), None);
        assert_eq!(hop("_hidden"), None);
        assert_eq!(hop("[::1]x"), None);
    }

    #[test]
    fn request_ids() {
        assert_eq!(valid_request_id(" abc "), Some("abc"));
        assert_eq!(valid_request_id(""), None);
        assert_eq!(valid_request_id("a b"), None);
        assert_eq!(valid_request_id(&"x".repeat(129)), None);
        assert_eq!(generate_correlation_id().len(), 32);
    }

    #[test]
    fn tokens() {
        assert_eq!(
            TokenInput::session(&"a".repeat(MAX_TOKEN_LEN + 1)),
            TokenInput::Invalid(TokenProblem::TooLong {
                len: MAX_TOKEN_LEN + 1
            })
        );
        assert!(TokenInput::session(&"a".repeat(MAX_TOKEN_LEN)).is_token());
        assert_eq!(
            TokenInput::session("  "),
            TokenInput::Invalid(TokenProblem::Empty)
        );
        assert_eq!(
            TokenInput::session("tok\u{e9}"),
            TokenInput::Invalid(TokenProblem::Malformed)
        );
    }
}
