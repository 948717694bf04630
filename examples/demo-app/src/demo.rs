//! The demo application's own logic, shared by both example servers: a tiny user directory,
//! password and one-time-code checks, and opaque user ids. Nothing here knows about risk.

/// The demo users: (username, password, opaque user id).
pub const USERS: &[(&str, &str, &str)] = &[
    ("alice", "wonderland", "usr_7f3a91c2"),
    ("bob", "builder", "usr_2b8e4d10"),
];

/// The demo one-time code that passes every step-up.
pub const ONE_TIME_CODE: &str = "000000";

/// The opaque id of a known user. The risk API must never receive an email or a username as
/// a user id: an opaque, stable id is what it links devices to.
pub fn user_id(username: &str) -> Option<&'static str> {
    USERS
        .iter()
        .find(|(name, _, _)| *name == username)
        .map(|(_, _, id)| *id)
}

/// An opaque claimed-user id for any username, known or not (a stable FNV-1a hash), so that
/// a claimed identity never leaks the username upstream and unknown users still get a
/// consistent id.
pub fn claimed_user_id(username: &str) -> String {
    if let Some(id) = user_id(username) {
        return id.to_owned();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in username.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("usr_{:08x}", hash >> 32)
}

/// Checks a username and password; returns the opaque user id when they match.
pub fn authenticate(username: &str, password: &str) -> Option<&'static str> {
    USERS
        .iter()
        .find(|(name, pass, _)| *name == username && constant_time_eq(pass, password))
        .map(|(_, _, id)| *id)
}

/// Checks a one-time code of the step-up.
pub fn verify_one_time_code(code: &str) -> bool {
    constant_time_eq(ONE_TIME_CODE, code)
}

/// What the risk check of a request can learn from its JSON body before the handler runs: the
/// claimed user of a login (`username`, as an opaque id) and the transaction data of a transfer
/// (`amount`, `currency`). Both example servers run this in a small middleware in front of the
/// risk middleware, which reads the result from the request extensions.
pub fn action_details_from_json(body: &[u8]) -> Option<risk_core::ActionDetails> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut details = risk_core::ActionDetails::new();
    if let Some(username) = value.get("username").and_then(|v| v.as_str()) {
        let username = username.trim();
        if !username.is_empty() && username.len() <= 128 {
            details = details.with_claimed_user(
                risk_core::ClaimedUser::new(claimed_user_id(username))
                    .with_type(risk_core::ClaimedUserIdType::AccountId),
            );
        }
    }
    let amount = value.get("amount").and_then(serde_json::Value::as_f64);
    let currency = value.get("currency").and_then(|v| v.as_str());
    if let (Some(amount), Some(currency)) = (amount, currency) {
        details = details.with_transaction_data(
            risk_core::TransactionData::new(amount, currency)
                .with_type(risk_core::TransactionType::MoneyTransfer),
        );
    }
    Some(details)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_users_authenticate_and_others_do_not() {
        assert_eq!(authenticate("alice", "wonderland"), Some("usr_7f3a91c2"));
        assert_eq!(authenticate("alice", "wrong"), None);
        assert_eq!(authenticate("mallory", "wonderland"), None);
        assert!(verify_one_time_code("000000"));
        assert!(!verify_one_time_code("123456"));
    }

    #[test]
    fn claimed_ids_are_opaque_and_stable() {
        assert_eq!(claimed_user_id("alice"), "usr_7f3a91c2");
        let id = claimed_user_id("mallory");
        assert!(id.starts_with("usr_") && !id.contains("mallory"));
        assert_eq!(id, claimed_user_id("mallory"));
    }
}
