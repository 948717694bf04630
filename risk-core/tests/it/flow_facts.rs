//! Request facts: client IP behind proxies, tokens, correlation ids, claimed user.

use std::net::IpAddr;

use risk_core::testing::StaticRecommender;
use risk_core::{
    ActionType, BadInput, ClaimedUser, ClaimedUserIdType, ForwardedHeader, Guard, HeaderLookup,
    HeaderNames, RecommendationType, Token, TokenProblem,
};

fn recommender() -> StaticRecommender {
    StaticRecommender::of_type(RecommendationType::Allow, 1.0)
}

fn guard(trusted: &[&str]) -> Guard {
    Guard::builder(ActionType::Login, recommender())
        .trusted_proxies(trusted.iter().copied())
        .build()
        .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn client_ip_table() {
    struct Case {
        name: &'static str,
        trusted: &'static [&'static str],
        peer: Option<&'static str>,
        via: ForwardedHeader,
        headers: &'static [(&'static str, &'static str)],
        want: Option<&'static str>,
    }
    let proxies: &[&str] = &["10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"];
    let cases = [
        Case {
            name: "no proxy configured: peer, XFF ignored",
            trusted: &[],
            peer: Some("198.51.100.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "203.0.113.9")],
            want: Some("198.51.100.1"),
        },
        Case {
            name: "spoofed XFF from an untrusted peer is ignored",
            trusted: proxies,
            peer: Some("198.51.100.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "1.2.3.4, 10.0.0.5")],
            want: Some("198.51.100.1"),
        },
        Case {
            name: "spoofed Forwarded from an untrusted peer is ignored",
            trusted: proxies,
            peer: Some("198.51.100.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[("forwarded", "for=1.2.3.4")],
            want: Some("198.51.100.1"),
        },
        Case {
            name: "trusted peer, single XFF",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "203.0.113.9")],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "trusted chain: rightmost untrusted wins over a client-written left part",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[(
                "X-Forwarded-For",
                "6.6.6.6, 203.0.113.9, 10.1.1.1, 192.0.2.1",
            )],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "multiple XFF header values are one list, in order",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[
                ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
                ("x-forwarded-for", "10.2.2.2"),
            ],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "XFF with port",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "203.0.113.9:4711")],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "Forwarded with quoted IPv6 and port",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https"#)],
            want: Some("2001:db8:cafe::17"),
        },
        Case {
            name: "Forwarded chain with a trusted IPv6 proxy and v4 port",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[(
                "Forwarded",
                r#"for=6.6.6.6, for=203.0.113.9:80;by=10.0.0.1, For="[2001:db8:ffff::1]""#,
            )],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "multiple Forwarded values",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[
                ("forwarded", "for=203.0.113.9"),
                ("forwarded", "for=10.9.9.9;proto=http"),
            ],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "default (XFF): a client-written Forwarded is ignored",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[
                ("x-forwarded-for", "198.51.100.77"),
                ("forwarded", "for=203.0.113.9"),
            ],
            want: Some("198.51.100.77"),
        },
        Case {
            name: "default (XFF): Forwarded alone is ignored, the trusted peer is taken",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("forwarded", "for=203.0.113.9")],
            want: Some("10.0.0.1"),
        },
        Case {
            name: "Forwarded configured: a client-written XFF is ignored",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[
                ("x-forwarded-for", "198.51.100.77"),
                ("forwarded", "for=203.0.113.9"),
            ],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "Forwarded configured: XFF alone is ignored, the trusted peer is taken",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[("x-forwarded-for", "198.51.100.77")],
            want: Some("10.0.0.1"),
        },
        Case {
            name: "Forwarded element without for= stops the walk",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[("forwarded", "for=203.0.113.9, proto=https")],
            want: None,
        },
        Case {
            name: "Forwarded unknown stops the walk",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[("forwarded", "for=203.0.113.9, for=unknown, for=10.0.0.3")],
            want: None,
        },
        Case {
            name: "Forwarded obfuscated stops the walk",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::Forwarded,
            headers: &[("forwarded", "for=_hidden")],
            want: None,
        },
        Case {
            name: "garbage XFF entry next to our proxies stops the walk",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "203.0.113.9, not-an-ip")],
            want: None,
        },
        Case {
            name: "all hops trusted: the leftmost",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "10.0.0.9, 10.0.0.8")],
            want: Some("10.0.0.9"),
        },
        Case {
            name: "trusted peer without forwarding headers: the peer",
            trusted: proxies,
            peer: Some("10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[],
            want: Some("10.0.0.1"),
        },
        Case {
            name: "bare-IP trusted proxy",
            trusted: proxies,
            peer: Some("192.0.2.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "203.0.113.9")],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "IPv4-mapped IPv6 peer matches a v4 CIDR",
            trusted: proxies,
            peer: Some("::ffff:10.0.0.1"),
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "203.0.113.9")],
            want: Some("203.0.113.9"),
        },
        Case {
            name: "no peer: headers not trusted by default",
            trusted: proxies,
            peer: None,
            via: ForwardedHeader::XForwardedFor,
            headers: &[("x-forwarded-for", "203.0.113.9")],
            want: None,
        },
    ];
    for case in cases {
        let g = Guard::builder(ActionType::Login, recommender())
            .trusted_proxies(case.trusted.iter().copied())
            .forwarded_header(case.via)
            .build()
            .unwrap();
        let facts = g.facts(case.headers, case.peer.map(ip), None);
        assert_eq!(facts.client_ip, case.want.map(ip), "case: {}", case.name);
    }
}

#[test]
fn no_peer_with_trusted_headers_option() {
    let g = Guard::builder(ActionType::Login, recommender())
        .trusted_proxies(["10.0.0.0/8"])
        .trust_headers_without_peer(true)
        .build()
        .unwrap();
    let facts = g.facts(&[("x-forwarded-for", "203.0.113.9, 10.0.0.2")], None, None);
    assert_eq!(facts.client_ip, Some(ip("203.0.113.9")));
}

#[test]
fn invalid_trusted_proxy_is_a_config_error() {
    let err = Guard::builder(ActionType::Login, recommender())
        .trusted_proxies(["10.0.0.0/8", "nope"])
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("trusted_proxies"), "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn tokens_from_headers() {
    let g = guard(&[]);
    let t = |h: &[(&str, &str)]| g.facts(h, None, None).token;

    assert_eq!(t(&[]), Err(BadInput::MissingToken));
    assert!(
        matches!(t(&[("x-risk-session-token", "abc")]), Ok(Token::Session(s)) if s.expose() == "abc")
    );
    assert!(
        matches!(t(&[("X-Risk-Action-Token", "act")]), Ok(Token::Action(a)) if a.expose() == "act")
    );
    // The action token wins when both are present.
    assert!(matches!(
        t(&[
            ("x-risk-session-token", "abc"),
            ("x-risk-action-token", "act")
        ]),
        Ok(Token::Action(_))
    ));
    assert_eq!(
        t(&[("x-risk-session-token", "")]),
        Err(BadInput::InvalidToken(TokenProblem::Empty))
    );
    let long = "a".repeat(4097);
    assert_eq!(
        t(&[("x-risk-session-token", &long)]),
        Err(BadInput::InvalidToken(TokenProblem::TooLong { len: 4097 }))
    );
    assert_eq!(
        t(&[("x-risk-session-token", "t\u{7f}")]),
        Err(BadInput::InvalidToken(TokenProblem::Malformed))
    );
    assert_eq!(
        t(&[("x-risk-session-token", "tok\u{e9}")]),
        Err(BadInput::InvalidToken(TokenProblem::Malformed))
    );
}

#[test]
fn header_names_are_configurable() {
    let g = Guard::builder(ActionType::Login, recommender())
        .headers(
            HeaderNames::default()
                .session_token("X-Fraud-Session")
                .request_id("x-correlation-id"),
        )
        .build()
        .unwrap();
    let facts = g.facts(
        &[("x-fraud-session", "s"), ("x-correlation-id", "corr-1")],
        None,
        None,
    );
    assert!(matches!(facts.token, Ok(Token::Session(_))));
    assert_eq!(facts.correlation_id, "corr-1");
}

#[test]
fn correlation_id_validated_or_generated() {
    let g = guard(&[]);
    assert_eq!(
        g.facts(&[("x-request-id", "req-9")], None, None)
            .correlation_id,
        "req-9"
    );
    for bad in ["", "has space", &"x".repeat(129)] {
        let id = g.facts(&[("x-request-id", bad)], None, None).correlation_id;
        assert_eq!(id.len(), 32, "generated for {bad:?}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let a = g.facts(&[], None, None).correlation_id;
    let b = g.facts(&[], None, None).correlation_id;
    assert_ne!(a, b);
}

#[test]
fn claimed_user_from_closure() {
    let g = Guard::builder(ActionType::Login, recommender())
        .claimed_user(|h: &dyn HeaderLookup| {
            h.get("x-user")
                .map(|id| ClaimedUser::new(id).with_type(ClaimedUserIdType::AccountId))
        })
        .build()
        .unwrap();
    let facts = g.facts(&[("X-User", "u-42")], None, None);
    assert_eq!(
        facts.details.claimed_user,
        Some(ClaimedUser::new("u-42").with_type(ClaimedUserIdType::AccountId))
    );
    assert_eq!(g.facts(&[], None, None).details.claimed_user, None);
}

#[test]
fn debug_of_facts_redacts_tokens() {
    let g = guard(&[]);
    let secret = "sess-SUPERSECRETVALUE-0123456789";
    let facts = g.facts(&[("x-risk-session-token", secret)], None, None);
    let dbg = format!("{facts:?}");
    assert!(!dbg.contains(secret), "{dbg}");
}

#[test]
fn owned_header_pairs_work() {
    let headers: Vec<(String, String)> = vec![
        ("x-risk-session-token".into(), "abc".into()),
        ("x-forwarded-for".into(), "1.1.1.1".into()),
        ("X-Forwarded-For".into(), "2.2.2.2".into()),
    ];
    assert_eq!(
        headers.get_all("x-forwarded-for"),
        vec!["1.1.1.1", "2.2.2.2"]
    );
    let g = guard(&["10.0.0.0/8"]);
    let facts = g.facts(&headers, Some(ip("10.0.0.1")), None);
    assert_eq!(facts.client_ip, Some(ip("2.2.2.2")));
}
