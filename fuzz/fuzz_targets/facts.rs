//! Arbitrary request headers and peer through `Guard::facts`, in both forwarding-header modes:
//! never a panic, and an untrusted peer is always the client whatever the headers say.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use risk_core::testing::StaticRecommender;
use risk_core::{ActionType, ForwardedHeader, Guard, RecommendationType};

fn guards() -> &'static [Guard; 2] {
    static GUARDS: OnceLock<[Guard; 2]> = OnceLock::new();
    GUARDS.get_or_init(|| {
        let build = |header| {
            Guard::builder(
                ActionType::Login,
                StaticRecommender::of_type(RecommendationType::Allow, 1.0),
            )
            .trusted_proxies(["10.0.0.0/8", "fd00::/8"])
            .forwarded_header(header)
            .without_circuit_breaker()
            .build()
            .expect("valid guard")
        };
        [build(ForwardedHeader::XForwardedFor), build(ForwardedHeader::Forwarded)]
    })
}

const NAMES: [&str; 6] = [
    "x-risk-session-token",
    "x-risk-action-token",
    "x-forwarded-for",
    "forwarded",
    "x-request-id",
    "user-agent",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // The peer: trusted (10.x), untrusted, or none; then `name-index value` pairs.
    let peer = match selector % 3 {
        0 => Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        1 => Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))),
        _ => None,
    };
    let text = String::from_utf8_lossy(rest);
    let headers: Vec<(String, String)> = text
        .split('\n')
        .filter_map(|line| {
            let (index, value) = line.split_at_checked(1)?;
            let name = NAMES[usize::from(index.as_bytes()[0]) % NAMES.len()];
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    for guard in guards() {
        let facts = guard.facts(&headers, peer, None);
        if peer == Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))) {
            assert_eq!(facts.client_ip, peer, "an untrusted peer is the client");
        }
        assert!(facts.correlation_id.len() <= 128);
    }
});
