//! The token a request carries: [`Token`] when usable, [`BadInput`] when missing or
//! unusable (decided before any upstream call).

use std::fmt;

use super::headers::{HeaderLookup, HeaderNames};
use crate::models::{ActionToken, SessionToken};

/// The longest token accepted (4 KiB). Longer values are [`TokenProblem::TooLong`].
pub const MAX_TOKEN_LEN: usize = 4096;

/// A usable token, validated (visible ASCII, at most [`MAX_TOKEN_LEN`] bytes). A request's
/// token is a `Result<Token, BadInput>` ([`RequestFacts::token`](crate::RequestFacts::token)).
///
/// ```
/// use risk_core::{BadInput, Token, TokenProblem};
/// assert!(matches!(Token::session("abc"), Ok(Token::Session(_))));
/// assert_eq!(Token::session(""), Err(BadInput::InvalidToken(TokenProblem::Empty)));
/// assert_eq!(Token::action("a b"), Err(BadInput::InvalidToken(TokenProblem::Malformed)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A session token: the guard triggers the action and gets its recommendation.
    Session(SessionToken),
    /// A secured session token, bound by the SDK to one action type
    /// (`getSecureSessionToken(actionType)`): used as a session token; the API refuses it for
    /// another action type (bad input, never an outage).
    SecuredSession(SessionToken),
    /// An action token the front end already obtained: the guard only gets its recommendation.
    Action(ActionToken),
}

impl Token {
    /// A session token from a raw header value (trimmed of spaces and tabs), validated.
    pub fn session(raw: &str) -> Result<Self, BadInput> {
        validate(raw).map(|t| Self::Session(SessionToken::new(t)))
    }

    /// A secured session token from a raw header value (trimmed of spaces and tabs), validated.
    pub fn secured_session(raw: &str) -> Result<Self, BadInput> {
        validate(raw).map(|t| Self::SecuredSession(SessionToken::new(t)))
    }

    /// An action token from a raw header value (trimmed of spaces and tabs), validated.
    pub fn action(raw: &str) -> Result<Self, BadInput> {
        validate(raw).map(|t| Self::Action(ActionToken::new(t)))
    }

    /// Reads the token from the headers. The action-token header wins over the
    /// session-token header when both are present; a header whose kind is not `accepted` is
    /// ignored.
    pub(crate) fn from_headers(
        headers: &(impl HeaderLookup + ?Sized),
        names: &HeaderNames,
        accepted: TokenKinds,
    ) -> Result<Self, BadInput> {
        let TokenKinds {
            session: session_tokens,
            action: action_tokens,
        } = accepted;
        let malformed = Err(BadInput::InvalidToken(TokenProblem::Malformed));
        if action_tokens {
            if let Some(raw) = headers.get(names.action_token_name()) {
                return Self::action(raw);
            }
            if headers.contains(names.action_token_name()) {
                return malformed;
            }
        }
        if !session_tokens {
            return Err(BadInput::MissingToken);
        }
        if let Some(raw) = headers.get(names.secured_session_token_name()) {
            return Self::secured_session(raw);
        }
        if headers.contains(names.secured_session_token_name()) {
            return malformed;
        }
        match headers.get(names.session_token_name()) {
            Some(raw) => Self::session(raw),
            None if headers.contains(names.session_token_name()) => malformed,
            None => Err(BadInput::MissingToken),
        }
    }
}

/// Which tokens a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenKinds {
    pub(crate) session: bool,
    pub(crate) action: bool,
}

impl TokenKinds {
    /// Whether `token` is of an accepted kind.
    pub(crate) fn accepts(self, token: &Token) -> bool {
        match token {
            Token::Session(_) | Token::SecuredSession(_) => self.session,
            Token::Action(_) => self.action,
        }
    }
}

fn validate(raw: &str) -> Result<String, BadInput> {
    let value = raw.trim_matches(|c: char| c == ' ' || c == '\t');
    let problem = if value.is_empty() {
        TokenProblem::Empty
    } else if value.len() > MAX_TOKEN_LEN {
        TokenProblem::TooLong { len: value.len() }
    } else if !value.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        TokenProblem::Malformed
    } else {
        return Ok(value.to_owned());
    };
    Err(BadInput::InvalidToken(problem))
}

/// A request whose token cannot be assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BadInput {
    /// No token header (answered 401 by the default policy).
    MissingToken,
    /// An unusable token (answered 400 by the default policy).
    InvalidToken(TokenProblem),
    /// Entity evaluation: the client's IP address is unknown (answered 400 by the default
    /// policy).
    UnknownClientIp,
}

impl BadInput {
    /// A short stable name (`missing_token`, or the [`TokenProblem`]'s name).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidToken(p) => p.as_str(),
            Self::UnknownClientIp => "unknown_client_ip",
        }
    }
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingToken => f.write_str("no token header"),
            Self::UnknownClientIp => f.write_str("the client's IP address is unknown"),
            Self::InvalidToken(p) => fmt::Display::fmt(p, f),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(
            Token::session(&"a".repeat(MAX_TOKEN_LEN + 1)),
            Err(BadInput::InvalidToken(TokenProblem::TooLong {
                len: MAX_TOKEN_LEN + 1
            }))
        );
        assert!(Token::session(&"a".repeat(MAX_TOKEN_LEN)).is_ok());
        assert_eq!(
            Token::session("  "),
            Err(BadInput::InvalidToken(TokenProblem::Empty))
        );
        assert_eq!(
            Token::session("tok\u{e9}"),
            Err(BadInput::InvalidToken(TokenProblem::Malformed))
        );
    }

    #[test]
    fn action_header_wins_only_when_enabled() {
        let names = HeaderNames::default();
        let all = TokenKinds {
            session: true,
            action: true,
        };
        let sessions = TokenKinds {
            session: true,
            action: false,
        };
        let actions = TokenKinds {
            session: false,
            action: true,
        };
        let both = [
            ("x-risk-action-token", "at-1"),
            ("x-risk-session-token", "st-1"),
        ];
        assert!(matches!(
            Token::from_headers(&both, &names, all),
            Ok(Token::Action(_))
        ));
        assert!(matches!(
            Token::from_headers(&both, &names, sessions),
            Ok(Token::Session(_))
        ));
        let action_only = [("x-risk-action-token", "at-1")];
        assert_eq!(
            Token::from_headers(&action_only, &names, sessions),
            Err(BadInput::MissingToken)
        );
        let session_only = [("x-risk-session-token", "st-1")];
        assert_eq!(
            Token::from_headers(&session_only, &names, actions),
            Err(BadInput::MissingToken)
        );
    }
}
