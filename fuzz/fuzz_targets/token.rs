//! Any header value as a token: accepted exactly when it is non-empty visible ASCII (after
//! trimming spaces and tabs) of at most `MAX_TOKEN_LEN` bytes, and then unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use risk_core::{Token, MAX_TOKEN_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let trimmed = raw.trim_matches(|c: char| c == ' ' || c == '\t');
    let valid = !trimmed.is_empty()
        && trimmed.len() <= MAX_TOKEN_LEN
        && trimmed.bytes().all(|b| (0x21..=0x7E).contains(&b));
    for token in [Token::session(raw), Token::action(raw), Token::secured_session(raw)] {
        assert_eq!(token.is_ok(), valid, "{raw:?}");
    }
});
