//! `risk rules`: list, get, delete, promote, and rules as code (`plan`, `apply`).
//!
//! A rules file holds `[[rules]]` tables in the current rule shape; a rule's `name` is its
//! identity (the tenant's names are unique). `plan` compares the file with the tenant;
//! `apply` makes the tenant match, in an order that never collides on the unique priorities
//! (rules that move first go to free priorities, then to their own), deleting only with
//! `--prune`. A second `apply` changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use risk_core::{RiskClient, Rule, RuleMode, StoredRule};
use serde::{Deserialize, Serialize};

use crate::exit::{Failure, CHANGES_PENDING};
use crate::output::{self, Format};

/// The highest priority the API accepts.
const MAX_PRIORITY: i64 = 1000;

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Lists the tenant's rules.
    List,
    /// Shows one rule.
    Get {
        /// The rule's id.
        id: String,
    },
    /// Deletes one rule.
    Delete {
        /// The rule's id.
        id: String,
    },
    /// Moves a preview rule to production.
    Promote {
        /// The rule's name.
        name: String,
    },
    /// Shows what `apply` would create, update and delete.
    Plan {
        /// The rules file (TOML, `[[rules]]`).
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Also plan deleting the tenant's rules that are not in the file.
        #[arg(long)]
        prune: bool,
        /// Exit 2 when changes are pending, 0 when the tenant matches (as terraform does).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Makes the tenant's rules match the file.
    Apply {
        /// The rules file (TOML, `[[rules]]`).
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Also delete the tenant's rules that are not in the file.
        #[arg(long)]
        prune: bool,
    },
}

/// A rules file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: Vec<Rule>,
}

/// One change of a plan.
#[derive(Debug, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
enum Change {
    Create {
        name: String,
        rule: Rule,
    },
    Update {
        name: String,
        id: String,
        before: Rule,
        after: Rule,
    },
    Delete {
        name: String,
        id: String,
    },
    /// Not in the file, kept (no `--prune`).
    Unmanaged {
        name: String,
        id: String,
    },
}

impl Change {
    fn pending(&self) -> bool {
        !matches!(self, Self::Unmanaged { .. })
    }
}

pub(crate) async fn run(
    client: &RiskClient,
    command: RulesCommand,
    format: Format,
) -> Result<ExitCode, Failure> {
    match command {
        RulesCommand::List => {
            let rules = client.list_rules().await?;
            print_rules(&rules, format);
        }
        RulesCommand::Get { id } => {
            let rule = client.get_rule(&id).await?;
            print_rules(std::slice::from_ref(&rule), format);
        }
        RulesCommand::Delete { id } => {
            client.delete_rule(&id).await?;
            eprintln!("deleted rule {id}");
        }
        RulesCommand::Promote { name } => {
            let rules = client.list_rules().await?;
            let stored = rules
                .iter()
                .find(|r| r.rule.name.as_deref() == Some(name.as_str()))
                .ok_or_else(|| Failure::refused(format!("no rule named `{name}`")))?;
            let mut rule = stored.rule.clone();
            rule.mode = RuleMode::Production;
            client.update_rule(&stored.id, &rule).await?;
            eprintln!("rule `{name}` is in production");
        }
        RulesCommand::Plan {
            file,
            prune,
            detailed_exitcode,
        } => {
            let wanted = read_file(&file)?;
            let tenant = client.list_rules().await?;
            let changes = plan(&wanted, &tenant, prune);
            print_plan(&changes, format);
            check_collisions(&changes, &tenant)?;
            if detailed_exitcode && changes.iter().any(Change::pending) {
                return Ok(ExitCode::from(CHANGES_PENDING));
            }
        }
        RulesCommand::Apply { file, prune } => {
            let wanted = read_file(&file)?;
            let tenant = client.list_rules().await?;
            let changes = plan(&wanted, &tenant, prune);
            check_collisions(&changes, &tenant)?;
            apply(client, &changes, &tenant).await?;
            print_plan(&changes, format);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_file(path: &PathBuf) -> Result<Vec<Rule>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?;
    let file: RulesFile =
        toml::from_str(&text).map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?;
    let mut names = BTreeSet::new();
    let mut priorities = BTreeSet::new();
    for rule in &file.rules {
        let Some(name) = rule.name.as_deref().filter(|n| !n.trim().is_empty()) else {
            return Err(Failure::refused(format!(
                "{}: every rule needs a name (its identity)",
                path.display()
            )));
        };
        if !names.insert(name.to_owned()) {
            return Err(Failure::refused(format!(
                "{}: two rules named `{name}`",
                path.display()
            )));
        }
        if !(1..=MAX_PRIORITY).contains(&rule.priority) || !priorities.insert(rule.priority) {
            return Err(Failure::refused(format!(
                "{}: rule `{name}`: priority {} is outside 1..=1000 or used twice",
                path.display(),
                rule.priority
            )));
        }
    }
    Ok(file.rules)
}

/// What makes `tenant` match `wanted`, by name.
fn plan(wanted: &[Rule], tenant: &[StoredRule], prune: bool) -> Vec<Change> {
    let by_name: BTreeMap<&str, &StoredRule> = tenant
        .iter()
        .filter_map(|s| s.rule.name.as_deref().map(|n| (n, s)))
        .collect();
    let mut changes = Vec::new();
    for rule in wanted {
        let name = rule.name.clone().unwrap_or_default();
        match by_name.get(name.as_str()) {
            None => changes.push(Change::Create {
                name,
                rule: rule.clone(),
            }),
            Some(stored) if stored.rule != *rule => changes.push(Change::Update {
                name,
                id: stored.id.clone(),
                before: stored.rule.clone(),
                after: rule.clone(),
            }),
            Some(_) => {}
        }
    }
    let wanted_names: BTreeSet<&str> = wanted.iter().filter_map(|r| r.name.as_deref()).collect();
    for stored in tenant {
        let name = stored.rule.name.clone().unwrap_or_default();
        if !wanted_names.contains(name.as_str()) {
            let id = stored.id.clone();
            changes.push(if prune {
                Change::Delete { name, id }
            } else {
                Change::Unmanaged { name, id }
            });
        }
    }
    changes
}

/// Refuses a plan whose created or updated rules want a priority held by a tenant rule that
/// the file does not manage (kept without `--prune`): applying it would fail half way.
fn check_collisions(changes: &[Change], tenant: &[StoredRule]) -> Result<(), Failure> {
    let kept: BTreeMap<i64, &str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Unmanaged { id, name } => tenant
                .iter()
                .find(|s| &s.id == id)
                .map(|s| (s.rule.priority, name.as_str())),
            _ => None,
        })
        .collect();
    for change in changes {
        if let Change::Create { name, rule }
        | Change::Update {
            name, after: rule, ..
        } = change
        {
            if let Some(holder) = kept.get(&rule.priority) {
                return Err(Failure::refused(format!(
                    "rule `{name}` wants priority {}, held by `{holder}`, which is not in the file: \
                     add it to the file, move it, or apply with --prune",
                    rule.priority
                )));
            }
        }
    }
    Ok(())
}

/// Deletes first, then moves every rule that changes priority to a free priority, then
/// updates and creates at their own priorities: no step collides on a unique priority.
async fn apply(
    client: &RiskClient,
    changes: &[Change],
    tenant: &[StoredRule],
) -> Result<(), Failure> {
    for change in changes {
        if let Change::Delete { id, .. } = change {
            client.delete_rule(id).await?;
        }
    }
    let deleted: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Delete { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut taken: BTreeSet<i64> = tenant
        .iter()
        .filter(|s| !deleted.contains(s.id.as_str()))
        .map(|s| s.rule.priority)
        .collect();
    let targets: BTreeSet<i64> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Create { rule, .. } | Change::Update { after: rule, .. } => Some(rule.priority),
            _ => None,
        })
        .collect();
    // Rules moving away from a priority another rule wants, parked where nobody is or goes.
    for change in changes {
        if let Change::Update {
            id, before, after, ..
        } = change
        {
            if before.priority != after.priority {
                let free = (1..=MAX_PRIORITY)
                    .rev()
                    .find(|p| !taken.contains(p) && !targets.contains(p))
                    .ok_or_else(|| {
                        Failure::refused("no free priority left to reorder the rules")
                    })?;
                let mut parked = before.clone();
                parked.priority = free;
                client.update_rule(id, &parked).await?;
                taken.remove(&before.priority);
                taken.insert(free);
            }
        }
    }
    for change in changes {
        match change {
            Change::Update { id, after, .. } => {
                client.update_rule(id, after).await?;
            }
            Change::Create { rule, .. } => {
                client.create_rule(rule).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn print_rules(rules: &[StoredRule], format: Format) {
    match format {
        Format::Json => output::json(&rules),
        Format::Table => {
            let rows: Vec<Vec<String>> = rules
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.rule.name.clone().unwrap_or_else(|| "-".to_owned()),
                        s.rule.priority.to_string(),
                        wire(&s.rule.recommendation),
                        wire(&s.rule.mode),
                        s.rule.enabled.to_string(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "id",
                    "name",
                    "priority",
                    "recommendation",
                    "mode",
                    "enabled",
                ],
                &rows,
            );
        }
    }
}

fn print_plan(changes: &[Change], format: Format) {
    match format {
        Format::Json => output::json(&changes),
        Format::Table => {
            if !changes.iter().any(Change::pending) {
                println!("No changes: the tenant's rules match the file.");
            }
            for change in changes {
                match change {
                    Change::Create { name, rule } => println!(
                        "+ create  {name} (priority {}, {}, {})",
                        rule.priority,
                        wire(&rule.recommendation),
                        wire(&rule.mode)
                    ),
                    Change::Update {
                        name,
                        before,
                        after,
                        ..
                    } => {
                        println!("~ update  {name}");
                        for (field, old, new) in differences(before, after) {
                            println!("    {field}: {old} → {new}");
                        }
                    }
                    Change::Delete { name, .. } => println!("- delete  {name}"),
                    Change::Unmanaged { name, .. } => {
                        println!("  keep    {name} (not in the file; --prune deletes it)");
                    }
                }
            }
        }
    }
}

/// The fields that differ, as JSON text.
fn differences(before: &Rule, after: &Rule) -> Vec<(String, String, String)> {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| {
                v.map_or_else(|| "-".to_owned(), ToString::to_string)
            };
            (k.clone(), show(old.get(k)), show(new.get(k)))
        })
        .collect()
}

/// An enum's wire name (`deny`, `preview`...).
fn wire(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_owned(),
    }
}
