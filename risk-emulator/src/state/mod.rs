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
//! - `stats`: statistics and fault injection.

mod actions;
mod assessment;
mod auth;
mod error;
mod events;
mod rules;
mod sessions;
mod stats;

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ipnet::IpNet;
use parking_lot::Mutex;
use risk_core::{ActionResult, RecommendationResponse};

use crate::clock::Clock;
use crate::config::{parse_cidrs, EmulatorConfig};
use crate::engine::History;
use crate::error::EmulatorError;
use crate::events::EventLog;
use crate::faults::{EndpointStats, Faults};
use crate::ids::IdGen;
use crate::rules::RuleStore;
use crate::telemetry::Telemetry;

pub(crate) use self::actions::secured_session_token;
use self::auth::Auth;
pub(crate) use self::error::ApiError;

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

/// A browser session created from telemetry, with everything derived from it.
#[derive(Debug, Clone)]
struct Session {
    t: Telemetry,
    device_id: String,
    ip: String,
    ip_addr: Option<IpAddr>,
    country: String,
    anonymizer: bool,
    hosting: bool,
    /// Set by a successful result with a `user_id`.
    user_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Action {
    created: i64,
    session_token: String,
    device_id: String,
    client_id: Option<String>,
    user_id: Option<String>,
    claimed_user_id: Option<String>,
    /// `user_id`, else `claimed_user_id`, else the session's user.
    subject: Option<String>,
    ip: String,
    user_agent: Option<String>,
    recommendation: RecommendationResponse,
    result: Option<ActionResult>,
    /// Set by `PUT /risk/v1/action/assignee`.
    assignee: Option<String>,
}

#[derive(Debug, Default)]
struct Core {
    sessions: HashMap<String, Session>,
    session_order: VecDeque<String>,
    actions: HashMap<String, Action>,
    action_order: VecDeque<(i64, String)>,
    history: History,
    rules: RuleStore,
}

/// The emulator: configuration, clock and all state.
pub(crate) struct EmulatorState {
    pub(crate) config: EmulatorConfig,
    anonymizer: Vec<IpNet>,
    hosting: Vec<IpNet>,
    countries: Vec<(IpNet, String)>,
    pub(crate) clock: Arc<dyn Clock>,
    ids: IdGen,
    auth: Mutex<Auth>,
    core: Mutex<Core>,
    events: Mutex<EventLog>,
    risk_collecting: AtomicBool,
    faults: Mutex<Faults>,
    any_faults: AtomicBool,
    stats: Mutex<[EndpointStats; STAT_NAMES.len()]>,
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
        let shared = Self {
            config,
            anonymizer,
            hosting,
            countries,
            clock,
            ids: IdGen::new(),
            auth: Mutex::new(Auth::default()),
            core: Mutex::new(Core::default()),
            events: Mutex::new(EventLog::default()),
            risk_collecting: AtomicBool::new(false),
            faults: Mutex::new(Faults::default()),
            any_faults: AtomicBool::new(false),
            stats: Mutex::new(Default::default()),
            connections: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        };
        shared.load_config_rules()?;
        Ok(shared)
    }

    fn load_config_rules(&self) -> Result<(), EmulatorError> {
        let mut core = self.core.lock();
        core.rules.clear();
        for rule in &self.config.rules {
            let id = self.ids.sequential("rule-");
            core.rules.put(id, rule.clone(), false).map_err(|e| {
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
        {
            let mut core = self.core.lock();
            *core = Core::default();
        }
        self.load_config_rules()?;
        self.events.lock().clear();
        self.risk_collecting.store(false, Ordering::SeqCst);
        self.clear_faults();
        *self.stats.lock() = Default::default();
        self.rate_limited.store(0, Ordering::SeqCst);
        self.tokens_issued.store(0, Ordering::SeqCst);
        Ok(())
    }
}
