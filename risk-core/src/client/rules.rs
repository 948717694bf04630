//! The rules endpoints, in the current shape and the seed's.

use http::Method;

use super::transport::{decode, Replay};
use super::{decode_message, to_json, RiskClient};
use crate::error::Error;
use crate::models::{
    CreateLegacyRuleResponse, LegacyRule, LegacyRuleEnvelope, LegacyRuleList, LegacyRuleWithId,
    MessageResponse, Rule, RuleList, StoredRule,
};

impl RiskClient {
    // ---- rules, seed shape ----------------------------------------------------------------

    /// Creates a rule in the seed's shape: `POST /risk/v1/recommendation/rules` (201).
    pub async fn create_legacy_rule(
        &self,
        rule: &LegacyRule,
    ) -> Result<CreateLegacyRuleResponse, Error> {
        let url = self.url("risk/v1/recommendation/rules")?;
        let body = self
            .send(
                "create_legacy_rule",
                Method::POST,
                url,
                Some(to_json(rule)?),
                Replay::UnsentOnly,
            )
            .await?;
        decode(&body)
    }

    /// Lists the seed-shape rules: `GET /risk/v1/recommendation/rules`.
    pub async fn list_legacy_rules(&self) -> Result<Vec<LegacyRuleWithId>, Error> {
        let url = self.url("risk/v1/recommendation/rules")?;
        let body = self
            .send("list_legacy_rules", Method::GET, url, None, Replay::Always)
            .await?;
        Ok(decode::<LegacyRuleList>(&body)?.data)
    }

    /// Fetches one seed-shape rule: `GET /risk/v1/recommendation/rules/{id}` → `{id, data}`.
    pub async fn get_legacy_rule(&self, rule_id: &str) -> Result<LegacyRuleEnvelope, Error> {
        let url = self.url_with_id("risk/v1/recommendation/rules", "rule_id", rule_id)?;
        let body = self
            .send("get_legacy_rule", Method::GET, url, None, Replay::Always)
            .await?;
        decode(&body)
    }

    /// Replaces a seed-shape rule: `PUT /risk/v1/recommendation/rules/{id}` (200 `{message}`).
    pub async fn update_legacy_rule(
        &self,
        rule_id: &str,
        rule: &LegacyRule,
    ) -> Result<MessageResponse, Error> {
        let url = self.url_with_id("risk/v1/recommendation/rules", "rule_id", rule_id)?;
        let body = self
            .send(
                "update_legacy_rule",
                Method::PUT,
                url,
                Some(to_json(rule)?),
                Replay::Always,
            )
            .await?;
        decode_message(&body)
    }

    /// Deletes a seed-shape rule: `DELETE /risk/v1/recommendation/rules/{id}` (200 `{message}`).
    pub async fn delete_legacy_rule(&self, rule_id: &str) -> Result<MessageResponse, Error> {
        let url = self.url_with_id("risk/v1/recommendation/rules", "rule_id", rule_id)?;
        let body = self
            .send(
                "delete_legacy_rule",
                Method::DELETE,
                url,
                None,
                Replay::Always,
            )
            .await?;
        decode_message(&body)
    }

    // ---- rules, current shape -------------------------------------------------------------

    /// Creates a rule: `POST /risk/v1/rules` (201 `{message, rule_id, data}`, or a flat rule
    /// with its `id`).
    ///
    /// The rule exists once the service answered 201, so the caller always learns its id:
    /// when the answer's rule (`data`) cannot be read, the rule returned is `rule` as sent,
    /// with the answer's top-level `rule_id` (logged at `WARN`). Only an answer with no
    /// readable id at all is [`Error::Decode`].
    pub async fn create_rule(&self, rule: &Rule) -> Result<StoredRule, Error> {
        let url = self.url("risk/v1/rules")?;
        let body = self
            .send(
                "create_rule",
                Method::POST,
                url,
                Some(to_json(rule)?),
                Replay::UnsentOnly,
            )
            .await?;
        created_rule(&body, rule)
    }

    /// Lists the rules: `GET /risk/v1/rules` → `{data: [...]}`.
    pub async fn list_rules(&self) -> Result<Vec<StoredRule>, Error> {
        let url = self.url("risk/v1/rules")?;
        let body = self
            .send("list_rules", Method::GET, url, None, Replay::Always)
            .await?;
        Ok(decode::<RuleList>(&body)?.data)
    }

    /// Fetches one rule: `GET /risk/v1/rules/{id}`.
    pub async fn get_rule(&self, rule_id: &str) -> Result<StoredRule, Error> {
        let url = self.url_with_id("risk/v1/rules", "rule_id", rule_id)?;
        let body = self
            .send("get_rule", Method::GET, url, None, Replay::Always)
            .await?;
        decode(&body)
    }

    /// Replaces a rule: `PUT /risk/v1/rules/{id}` (200, the updated rule).
    pub async fn update_rule(&self, rule_id: &str, rule: &Rule) -> Result<StoredRule, Error> {
        let url = self.url_with_id("risk/v1/rules", "rule_id", rule_id)?;
        let body = self
            .send(
                "update_rule",
                Method::PUT,
                url,
                Some(to_json(rule)?),
                Replay::Always,
            )
            .await?;
        decode(&body)
    }

    /// Deletes a rule: `DELETE /risk/v1/rules/{id}` (200 `{message}`).
    pub async fn delete_rule(&self, rule_id: &str) -> Result<MessageResponse, Error> {
        let url = self.url_with_id("risk/v1/rules", "rule_id", rule_id)?;
        let body = self
            .send("delete_rule", Method::DELETE, url, None, Replay::Always)
            .await?;
        decode_message(&body)
    }
}

/// The rule a create answered, or, when its rule does not decode, the rule sent with the
/// answer's id: the rule exists, and the caller must learn its id.
fn created_rule(body: &[u8], sent: &Rule) -> Result<StoredRule, Error> {
    let error = match decode::<StoredRule>(body) {
        Ok(stored) => return Ok(stored),
        Err(e) => e,
    };
    let id = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|answer| {
            ["rule_id", "id"]
                .into_iter()
                .find_map(|key| match answer.get(key) {
                    Some(serde_json::Value::String(id)) if !id.is_empty() => Some(id.clone()),
                    Some(serde_json::Value::Number(id)) => Some(id.to_string()),
                    _ => None,
                })
        });
    let Some(id) = id else {
        return Err(error);
    };
    tracing::warn!(
        rule_id = %id,
        error = %error,
        "the created rule in the answer could not be read; returning the rule as sent"
    );
    Ok(StoredRule::new(id, sent.clone()))
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::models::RuleRecommendation;

    #[test]
    fn a_created_rule_that_does_not_decode_keeps_the_answers_id() {
        let sent = Rule::new("r", 7, RuleRecommendation::Deny);
        let body =
            br#"{"message": "Rule created", "rule_id": "r-9", "data": {"priority": "high"}}"#;
        let stored = created_rule(body, &sent).unwrap();
        assert_eq!(stored.id, "r-9");
        assert_eq!(stored.rule, sent);
        assert!(created_rule(br#"{"message": "ok"}"#, &sent).is_err());
        assert!(created_rule(b"<html>", &sent).is_err());
        let flat = created_rule(
            br#"{"id": "r-1", "priority": 7, "recommendation": "deny", "mode": "preview"}"#,
            &sent,
        )
        .unwrap();
        assert_eq!(flat.id, "r-1");
    }
}
