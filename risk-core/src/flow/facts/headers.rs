//! Reading a request's headers: the [`HeaderLookup`] seam, the configurable
//! [`HeaderNames`], and the correlation id.

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

    /// Every value of the header `name`, in order. Adapters over raw header maps give each
    /// comma-separated part of a value that is not UTF-8 as its own value, a part that is not
    /// text as `"\u{FFFD}"` (the replacement character): such a part is seen and refused as
    /// garbage, never skipped, while the hops a proxy appended after it still count. The
    /// default returns only the first value, and skips one that is not text.
    fn get_all(&self, name: &str) -> Vec<&str> {
        self.get(name).into_iter().collect()
    }

    /// Whether the header `name` is present, whatever its value (a value that is not
    /// UTF-8 included). The default says what [`get`](Self::get) says; adapters over raw
    /// header maps override it, so that a token that is not text is refused as malformed
    /// (400), not as missing (401).
    fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// A header's raw values as [`HeaderLookup::get_all`] gives them, for adapters over raw header
/// maps: a value that is text as it is; one that is not, split on commas, each part that is
/// not text as `"\u{FFFD}"`. A proxy appends the real peer to the client's line, so that hop
/// still counts when the client sent bytes that are not text.
///
/// ```
/// let raw: [&[u8]; 2] = [b"203.0.113.9", b"\xff, 198.51.100.7"];
/// assert_eq!(
///     risk_core::header_texts(raw),
///     vec!["203.0.113.9", "\u{FFFD}", " 198.51.100.7"]
/// );
/// ```
pub fn header_texts<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Vec<&'a str> {
    let mut texts = Vec::new();
    for value in values {
        match std::str::from_utf8(value) {
            Ok(text) => texts.push(text),
            Err(_) => texts.extend(
                value
                    .split(|b| *b == b',')
                    .map(|part| std::str::from_utf8(part).unwrap_or("\u{FFFD}")),
            ),
        }
    }
    texts
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

    fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
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
    secured_session_token: String,
    action_token: String,
    request_id: String,
    forwarded_for: String,
    forwarded: String,
}

impl Default for HeaderNames {
    fn default() -> Self {
        Self {
            session_token: "x-risk-session-token".to_owned(),
            secured_session_token: "x-risk-secured-session-token".to_owned(),
            action_token: "x-risk-action-token".to_owned(),
            request_id: "x-request-id".to_owned(),
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
    header_name!(
        secured_session_token,
        secured_session_token_name,
        "x-risk-secured-session-token"
    );
    header_name!(action_token, action_token_name, "x-risk-action-token");
    header_name!(request_id, request_id_name, "x-request-id");
    header_name!(forwarded_for, forwarded_for_name, "x-forwarded-for");
    header_name!(forwarded, forwarded_name, "forwarded");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert_eq!(valid_request_id(" abc "), Some("abc"));
        assert_eq!(valid_request_id(""), None);
        assert_eq!(valid_request_id("a b"), None);
        assert_eq!(valid_request_id(&"x".repeat(129)), None);
        assert_eq!(generate_correlation_id().len(), 32);
    }
}
