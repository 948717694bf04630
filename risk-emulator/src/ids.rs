//! Opaque identifiers (tokens, ids). Unpredictable per emulator instance, cheap to make.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes unique, hard-to-guess hex identifiers: a keyed hash of a counter.
#[derive(Debug)]
pub(crate) struct IdGen {
    counter: AtomicU64,
    keys: RandomState,
}

impl IdGen {
    pub(crate) fn new() -> Self {
        Self {
            counter: AtomicU64::new(1),
            keys: RandomState::new(),
        }
    }

    /// `prefix` followed by 32 hex characters.
    pub(crate) fn token(&self, prefix: &str) -> String {
        format_key(prefix, self.key())
    }

    /// A new key: what a token's 32 hex characters stand for ([`format_key`] writes it).
    pub(crate) fn key(&self) -> u128 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut a = self.keys.build_hasher();
        a.write_u64(n);
        let mut b = self.keys.build_hasher();
        b.write_u64(!n);
        b.write_u8(1);
        (u128::from(a.finish()) << 64) | u128::from(b.finish())
    }

    /// An id derived from `key` (32 hex characters): the same key and `tag` give the same id
    /// in this emulator, so ids of an action need not be stored.
    pub(crate) fn derive(&self, key: u128, tag: u8) -> String {
        let half = |salt: u8| {
            let mut h = self.keys.build_hasher();
            h.write_u128(key);
            h.write_u8(tag);
            h.write_u8(salt);
            h.finish()
        };
        format!("{:016x}{:016x}", half(0), half(1))
    }

    /// A short sequential id (`prefix` + number), for rules.
    pub(crate) fn sequential(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.counter.fetch_add(1, Ordering::Relaxed))
    }
}

/// `prefix` followed by the 32 hex characters of `key`.
pub(crate) fn format_key(prefix: &str, key: u128) -> String {
    format!("{prefix}{key:032x}")
}

/// The key of a token of the shape [`IdGen::token`] gives with `prefix`.
pub(crate) fn parse_key(token: &str, prefix: &str) -> Option<u128> {
    if !well_formed(token, prefix) {
        return None;
    }
    u128::from_str_radix(token.get(prefix.len()..)?, 16).ok()
}

/// Whether `token` has the shape [`IdGen::token`] gives with `prefix`.
pub(crate) fn well_formed(token: &str, prefix: &str) -> bool {
    token
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A stable hash (fixed keys), for ids derived from telemetry.
pub(crate) fn stable_hex(input: &str) -> String {
    // FNV-1a, twice with different offsets: deterministic across runs and versions.
    let fnv = |offset: u64| {
        input.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}
