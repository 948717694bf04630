//! The rule endpoints: list, get, create, update and delete, over the shared rule store.

use risk_core::{Rule, StoredRule};

use crate::rules::RuleError;

use super::{ApiError, EmulatorState};

impl EmulatorState {
    pub(crate) fn list_rules(&self) -> Vec<StoredRule> {
        self.rules.read().list()
    }

    pub(crate) fn get_rule(&self, id: &str) -> Result<StoredRule, ApiError> {
        self.rules
            .read()
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::new(404, format!("no rule with id `{id}`")))
    }

    pub(crate) fn create_rule(&self, rule: Rule) -> Result<StoredRule, ApiError> {
        let id = self.ids.sequential("rule-");
        Ok(self.rules.write().put(id, rule, false)?)
    }

    pub(crate) fn update_rule(&self, id: &str, rule: Rule) -> Result<StoredRule, ApiError> {
        self.rules
            .write()
            .put(id.to_owned(), rule, true)
            .map_err(|e| match e {
                RuleError::NotFound => ApiError::new(404, format!("no rule with id `{id}`")),
                other => other.into(),
            })
    }

    pub(crate) fn delete_rule(&self, id: &str) -> Result<(), ApiError> {
        self.rules
            .write()
            .delete(id)
            .map_err(|_| ApiError::new(404, format!("no rule with id `{id}`")))
    }
}
