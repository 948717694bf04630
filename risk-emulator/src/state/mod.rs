//! The emulator's state and the operations of every endpoint, independent of HTTP.
//!
//! This file holds [`EmulatorState`] (configuration, clock and all state), the records it keeps
//! (sessions, actions), and its construction and reset. The operations live in one
//! submodule per concern:
//! - `error`: [`ApiError`], the error answer of every operation;
//! - `auth`: client credentials, access tokens and the per-client rate limit;
//! - `sessions`: browser sessions created from telemetry;
//! - `actions`: trigger-action, recommendation and result;
//! - `assessment`: how a triggered action is scored and its recommendation built;
//! - `events`: the activity events of actions and their recording;
//! - `rules`: the rule endpoints;
//! - `stats`: statistics and fault injection;
//! - `store`: the sharded store of actions.
//!
//! No lock is global to every request: actions live in 16 shards, sessions and rules behind
//! read-write locks, history behind its own lock, each held for a short computation and never
//! across an `.await` or a whole request.

mod actions;
mod assessment;
mod auth;
mod error;
mod events;
mod rules;
mod sessions;
mod stats;
mod store;

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ipnet::IpNet;
use parking_lot::{Mutex, RwLock};
use risk_core::{
    ActionResult, ActionType, CustomAttributes, PreviewRule, Reason, RecommendationType,
    TransactionData, TriggerActionRequest,
};

use crate::clock::Clock;
use crate::config::{parse_cidrs, EmulatorConfig};
use crate::engine::{History, Signals};
use crate::error::EmulatorError;
use crate::events::EventLog;
use crate::faults::Faults;
use crate::ids::IdGen;
use crate::rules::RuleStore;
use crate::telemetry::Telemetry;

pub(crate) use self::actions::{secured_session_token, TriggerAnswer};
use self::auth::Auth;
pub(crate) use self::error::ApiError;
pub(crate) use self::sessions::Behavior;

/// Names under which statistics are kept, in a fixed order.
pub(crate) const STAT_NAMES: [&str; 11] = [
    "token",
    "trigger_action",
    "recommendation",
    "result",
    "clear_user",
    "evaluate",
    "assignee",
    "rules",
    "events",
    "emulator",
    "other",
];

/// A browser session created from telemetry, with everything derived from it. Shared
/// (`Arc`) by the actions triggered in it; what changes later (its user) is kept beside it,
/// and new interaction telemetry replaces the `Arc` (actions keep what they were scored on).
#[derive(Debug, Clone)]
struct Session {
    /// The key of its session token in [`Sessions`].
    key: u128,
    /// About how many bytes it holds (its telemetry's strings and a fixed part).
    weight: usize,
    t: Telemetry,
    device_id: String,
    ip: String,
    ip_addr: Option<IpAddr>,
    country: String,
    anonymizer: bool,
    hosting: bool,
}

/// A session and the user a successful result set on it.
#[derive(Debug)]
struct SessionEntry {
    session: Arc<Session>,
    user_id: Option<String>,
}

/// The sessions, by the key of their token, oldest first in `order` (at most
/// `MAX_SESSIONS`: the oldest is forgotten first).
#[derive(Debug, Default)]
struct Sessions {
    map: HashMap<u128, SessionEntry>,
    order: VecDeque<u128>,
}

/// What the assessment decided: enough to answer the recommendation again.
#[derive(Debug, Clone)]
struct Decided {
    recommendation: RecommendationType,
    score: f64,
    reasons: Box<[Reason]>,
    preview: Option<Box<PreviewRule>>,
}

/// What an action keeps of its request: its type, and the rest (boxed) only when sent.
#[derive(Debug)]
struct ActionRequest {
    action_type: ActionType,
    extra: Option<Box<RequestExtra>>,
}

#[derive(Debug)]
struct RequestExtra {
    correlation_id: Option<String>,
    claimed_user_id: Option<String>,
    transaction_data: Option<TransactionData>,
    custom_attributes: Option<CustomAttributes>,
}

impl ActionRequest {
    /// Kept without its session tokens: the action holds its session itself.
    fn new(req: TriggerActionRequest) -> Self {
        let TriggerActionRequest {
            action_type,
            correlation_id,
            claimed_user_id,
            transaction_data,
            custom_attributes,
            ..
        } = req;
        let any = correlation_id.is_some()
            || claimed_user_id.is_some()
            || transaction_data.is_some()
            || custom_attributes.is_some();
        Self {
            action_type,
            extra: any.then(|| {
                Box::new(RequestExtra {
                    correlation_id,
                    claimed_user_id,
                    transaction_data,
                    custom_attributes,
                })
            }),
        }
    }

    fn correlation_id(&self) -> Option<&String> {
        self.extra.as_ref()?.correlation_id.as_ref()
    }

    fn claimed_user_id(&self) -> Option<&String> {
        self.extra.as_ref()?.claimed_user_id.as_ref()
    }

    fn transaction_data(&self) -> Option<&TransactionData> {
        self.extra.as_ref()?.transaction_data.as_ref()
    }

    fn custom_attributes(&self) -> Option<&CustomAttributes> {
        self.extra.as_ref()?.custom_attributes.as_ref()
    }
}

/// A triggered action: only what answering its recommendation again, taking its result and
/// writing its events need. The recommendation itself is rebuilt from these on each request
/// (the same answer every time), so an action costs a few hundred bytes, not a full answer.
#[derive(Debug)]
struct Action {
    created: i64,
    /// The key of its action token (its ids are derived from it).
    key: u128,
    session: Arc<Session>,
    /// Shared with every action of the same client.
    client_id: Option<Arc<str>>,
    request: ActionRequest,
    /// `user_id`, else the session's user.
    user_id: Option<String>,
    /// `user_id`, else `claimed_user_id`, else the session's user.
    subject: Option<String>,
    signals: Signals,
    decided: Decided,
    result: Option<ActionResult>,
    /// Set by `PUT /risk/v1/action/assignee` (one string shared by the actions it names).
    assignee: Option<Arc<str>>,
}

/// The emulator: configuration, clock and all state.
pub(crate) struct EmulatorState {
    pub(crate) config: EmulatorConfig,
    /// The configured client ids, shared by their actions.
    client_ids: Vec<Arc<str>>,
    anonymizer: Vec<IpNet>,
    hosting: Vec<IpNet>,
    countries: Vec<(IpNet, String)>,
    pub(crate) clock: Arc<dyn Clock>,
    ids: IdGen,
    auth: RwLock<Auth>,
    buckets: Mutex<auth::Buckets>,
    sessions: RwLock<Sessions>,
    actions: store::ActionStore,
    history: Mutex<History>,
    rules: RwLock<RuleStore>,
    events: Mutex<EventLog>,
    risk_collecting: AtomicBool,
    faults: Mutex<Faults>,
    any_faults: AtomicBool,
    stats: stats::Counters,
    pub(crate) connections: AtomicU64,
    tokens_issued: AtomicU64,
    rate_limited: AtomicU64,
}

impl EmulatorState {
    pub(crate) fn new(
        config: EmulatorConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, EmulatorError> {
        config.validate()?;
        let anonymizer = parse_cidrs("anonymizer_cidrs", &config.anonymizer_cidrs)?;
        let hosting = parse_cidrs("hosting_cidrs", &config.hosting_cidrs)?;
        let mut countries = Vec::new();
        for (country, cidrs) in &config.country_cidrs {
            for net in parse_cidrs(&format!("country_cidrs.{country}"), cidrs)? {
                countries.push((net, country.to_ascii_uppercase()));
            }
        }
        let client_ids = config
            .clients
            .iter()
            .map(|c| Arc::from(c.id.as_str()))
            .collect();
        let shared = Self {
            client_ids,
            config,
            anonymizer,
            hosting,
            countries,
            clock,
            ids: IdGen::new(),
            auth: RwLock::new(Auth::default()),
            buckets: Mutex::new(auth::Buckets::default()),
            sessions: RwLock::new(Sessions::default()),
            actions: store::ActionStore::new(),
            history: Mutex::new(History::default()),
            rules: RwLock::new(RuleStore::default()),
            events: Mutex::new(EventLog::default()),
            risk_collecting: AtomicBool::new(false),
            faults: Mutex::new(Faults::default()),
            any_faults: AtomicBool::new(false),
            stats: stats::Counters::default(),
            connections: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        };
        shared.load_config_rules()?;
        Ok(shared)
    }

    fn load_config_rules(&self) -> Result<(), EmulatorError> {
        let mut rules = self.rules.write();
        rules.clear();
        for rule in &self.config.rules {
            let id = self.ids.sequential("rule-");
            rules.put(id, rule.clone(), false).map_err(|e| {
                EmulatorError::Config(format!(
                    "rule `{}`: {}",
                    rule.name.as_deref().unwrap_or("unnamed"),
                    ApiError::from(e).message
                ))
            })?;
        }
        Ok(())
    }

    /// Forgets sessions, actions, history, trust, events, faults and statistics, and
    /// restores the configured rules. Access tokens stay valid.
    pub(crate) fn reset(&self) -> Result<(), EmulatorError> {
        *self.sessions.write() = Sessions::default();
        self.actions.clear();
        *self.history.lock() = History::default();
        self.load_config_rules()?;
        self.events.lock().clear();
        self.risk_collecting.store(false, Ordering::SeqCst);
        self.clear_faults();
        self.stats.clear();
        self.rate_limited.store(0, Ordering::SeqCst);
        self.tokens_issued.store(0, Ordering::SeqCst);
        Ok(())
    }
}
