//! Session and action tokens: opaque strings that must never be logged whole.

use std::fmt;

/// How many leading characters of a token may appear in logs and `Debug` output.
const SHOWN: usize = 6;

/// A shortened, log-safe form of a token: its first characters and its length.
///
/// ```
/// assert_eq!(risk_core::redact("abcdefghijklmnop"), "abcdef…(16)");
/// assert_eq!(risk_core::redact("abc"), "…(3)");
/// ```
pub fn redact(token: &str) -> String {
    // Short tokens are shown not at all: a prefix of a 3-character token is most of it.
    if token.len() <= SHOWN * 2 {
        return format!("…({})", token.len());
    }
    let prefix: String = token.chars().take(SHOWN).collect();
    format!("{prefix}…({})", token.len())
}

macro_rules! token_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a token string as received.
            pub fn new(token: impl Into<String>) -> Self {
                Self(token.into())
            }

            /// The whole token, for sending it upstream. Never log this.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// A log-safe shortened form (see [`redact`](crate::redact)).
            pub fn redacted(&self) -> String {
                redact(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), redact(&self.0))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

token_type!(
    /// The session token the client SDK created (`getSessionToken()`), passed by the front end.
    ///
    /// `Debug` shows only a shortened form.
    SessionToken
);
token_type!(
    /// The token identifying one action: returned by trigger-action (or by the front end's
    /// `triggerActionEvent`), used to fetch the recommendation and report the result.
    ///
    /// `Debug` shows only a shortened form.
    ActionToken
);
