//! The client's IP address behind trusted proxies: [`ForwardedHeader`] and the resolver
//! walking `X-Forwarded-For` or RFC 7239 `Forwarded`.

use std::net::IpAddr;

use ipnet::IpNet;

use super::headers::{HeaderLookup, HeaderNames};
use crate::error::ConfigError;

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
/// let facts = guard.facts(&headers, Some("10.0.0.1".parse().unwrap()), None);
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
                let xff = headers.get_all(names.forwarded_for_name());
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
                let forwarded = headers.get_all(names.forwarded_name());
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
}
