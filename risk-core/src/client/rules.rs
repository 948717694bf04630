//! The rules endpoints, in the current shape and the seed's.

use reqwest::Method;

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

    /// Creates a rule: `POST /risk/v1/rules` (201, the rule with its `id`).
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
        decode(&body)
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
