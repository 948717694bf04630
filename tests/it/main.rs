//! Cross-crate tests, one binary: both example servers end to end (`e2e`), and both adapters
//! through one table of cases (`parity`).
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod e2e;
mod parity;
mod quota_attack;
