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
        // A header that is present but not text is malformed, not missing. The headers a
        // request usually lacks (the action token's, the secured token's) are looked up once:
        // whether they are there, and only then what they say.
        let malformed = || Err(BadInput::InvalidToken(TokenProblem::Malformed));
        let action = names.action_token_name();
        if action_tokens && headers.contains(action) {
            return headers.get(action).map_or_else(malformed, Self::action);
        }
        if !session_tokens {
            return Err(BadInput::MissingToken);
        }
        let secured = names.secured_session_token_name();
        if headers.contains(secured) {
            return headers
                .get(secured)
                .map_or_else(malformed, Self::secured_session);
        }
        match headers.get(names.session_token_name()) {
            Some(raw) => Self::session(raw),
            None if headers.contains(names.session_token_name()) => malformed(),
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

    /// A route accepting both kinds of token.
    const ALL: TokenKinds = TokenKinds {
        session: true,
        action: true,
    };

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
            Token::from_headers(&both, &names, ALL),
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

    /// Headers as a raw map gives them: a value that is not text is present but has no text
    /// (`None`). Counts the lookups.
    struct Raw<'a> {
        headers: &'a [(&'a str, Option<&'a str>)],
        lookups: std::cell::Cell<usize>,
    }

    impl<'a> Raw<'a> {
        fn new(headers: &'a [(&'a str, Option<&'a str>)]) -> Self {
            Self {
                headers,
                lookups: std::cell::Cell::new(0),
            }
        }

        fn find(&self, name: &str) -> Option<Option<&str>> {
            self.lookups.set(self.lookups.get() + 1);
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
    }

    impl HeaderLookup for Raw<'_> {
        fn get(&self, name: &str) -> Option<&str> {
            self.find(name).flatten()
        }

        fn contains(&self, name: &str) -> bool {
            self.find(name).is_some()
        }
    }

    #[test]
    fn a_token_header_that_is_not_text_is_malformed_and_absent_ones_are_looked_up_once() {
        let names = HeaderNames::default();
        let malformed = Err(BadInput::InvalidToken(TokenProblem::Malformed));
        for name in [
            "x-risk-action-token",
            "x-risk-secured-session-token",
            "x-risk-session-token",
        ] {
            let headers = [(name, None)];
            assert_eq!(
                Token::from_headers(&Raw::new(&headers), &names, ALL),
                malformed,
                "{name}"
            );
        }
        // The usual request: a session token alone. The two headers it lacks cost one lookup
        // each, the session token's one.
        let usual = [("x-risk-session-token", Some("st-1"))];
        let raw = Raw::new(&usual);
        assert!(matches!(
            Token::from_headers(&raw, &names, ALL),
            Ok(Token::Session(_))
        ));
        assert_eq!(raw.lookups.get(), 3);
        let none = Raw::new(&[]);
        assert_eq!(
            Token::from_headers(&none, &names, ALL),
            Err(BadInput::MissingToken)
        );
    }
}
