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
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut a = self.keys.build_hasher();
        a.write_u64(n);
        let mut b = self.keys.build_hasher();
        b.write_u64(!n);
        b.write_u8(1);
        format!("{prefix}{:016x}{:016x}", a.finish(), b.finish())
    }

    /// A short sequential id (`prefix` + number), for rules.
    pub(crate) fn sequential(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.counter.fetch_add(1, Ordering::Relaxed))
    }
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
