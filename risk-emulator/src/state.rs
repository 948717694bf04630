//! The emulator's state and the operations of every endpoint, independent of HTTP.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ipnet::IpNet;
use parking_lot::Mutex;
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActivityEvent, Context, EventType, PreviewRule,
    RecommendationResponse, RecommendationType, Rule, StoredRule, TriggerActionRequest,
    TriggerActionResponse, RISK_RESOURCE,
};
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::config::{parse_cidrs, EmulatorConfig};
use crate::engine::{self, History, Signals};
use crate::error::EmulatorError;
use crate::events::{EventLog, EventsError};
use crate::faults::{EndpointStats, FaultAction, FaultSpec, Faults, Stats};
use crate::ids::{self, IdGen};
use crate::rules::{Facts, RuleError, RuleStore};
use crate::telemetry::{parse_user_agent, SdkTriggerAction, Telemetry};

const SESSION_PREFIX: &str = "st_";
const ACTION_PREFIX: &str = "at_";
const ACCESS_PREFIX: &str = "eat_";
const MAX_SESSIONS: usize = 200_000;
const MAX_ACTIONS: usize = 500_000;
const MAX_ACCESS_TOKENS: usize = 100_000;

/// Names under which statistics are kept, in a fixed order.
pub(crate) const STAT_NAMES: [&str; 8] = [
    "token",
    "trigger_action",
    "recommendation",
    "result",
    "rules",
    "events",
    "emulator",
    "other",
];

/// An error answer: status, `{"message"}`, optional `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    fn blacklisted(message: impl Into<String>) -> Self {
        Self::new(463, message)
    }
}

impl From<ApiError> for EmulatorError {
    fn from(e: ApiError) -> Self {
        EmulatorError::Refused {
            status: e.status,
            message: e.message,
        }
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        match e {
            RuleError::Invalid(m) => Self::bad_request(m),
            RuleError::NotFound => Self::new(404, "rule not found"),
            RuleError::Conflict(m) => Self::new(409, m),
        }
    }
}

impl From<EventsError> for ApiError {
    fn from(e: EventsError) -> Self {
        match e {
            EventsError::Conflict(m) => Self::new(409, m),
            EventsError::NotFound(m) => Self::new(404, m),
        }
    }
}

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

#[derive(Debug)]
struct AccessToken {
    client_id: String,
    resource: String,
    expires_at: i64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
}

#[derive(Debug, Default)]
struct Auth {
    tokens: HashMap<String, AccessToken>,
    order: VecDeque<(i64, String)>,
    buckets: HashMap<String, Bucket>,
}

/// The emulator: configuration, clock and all state.
pub(crate) struct Shared {
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

fn ms_opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

impl Shared {
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
                    rule.name,
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

    // ---- statistics and faults ----

    pub(crate) fn count_request(&self, idx: usize) {
        if let Some(e) = self.stats.lock().get_mut(idx) {
            e.requests += 1;
        }
    }

    pub(crate) fn count_response(&self, idx: usize, status: u16) {
        if let Some(e) = self.stats.lock().get_mut(idx) {
            *e.by_status.entry(status).or_default() += 1;
        }
    }

    pub(crate) fn count_fault(&self, idx: usize, closed: bool) {
        if let Some(e) = self.stats.lock().get_mut(idx) {
            e.faults_injected += 1;
            if closed {
                e.connections_closed += 1;
            }
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let per = self.stats.lock().clone();
        let mut stats = Stats::default();
        for (name, e) in STAT_NAMES.iter().zip(per) {
            stats.endpoints.insert((*name).to_owned(), e);
        }
        stats.tokens_issued = self.tokens_issued.load(Ordering::Relaxed);
        stats.connections_accepted = self.connections.load(Ordering::Relaxed);
        stats.rate_limited = self.rate_limited.load(Ordering::Relaxed);
        stats
    }

    pub(crate) fn set_fault(&self, spec: FaultSpec) -> Result<(), ApiError> {
        spec.validate().map_err(ApiError::bad_request)?;
        let mut f = self.faults.lock();
        f.set(spec);
        self.any_faults.store(true, Ordering::SeqCst);
        Ok(())
    }

    pub(crate) fn clear_faults(&self) {
        let mut f = self.faults.lock();
        f.clear();
        self.any_faults.store(false, Ordering::SeqCst);
    }

    pub(crate) fn take_fault(&self, endpoint: &str) -> Option<FaultAction> {
        if !self.any_faults.load(Ordering::Relaxed) {
            return None;
        }
        let mut f = self.faults.lock();
        let action = f.take(endpoint);
        if f.is_empty() {
            self.any_faults.store(false, Ordering::SeqCst);
        }
        action
    }

    // ---- auth ----

    pub(crate) fn issue_token(&self, form: &HashMap<String, String>) -> Result<Value, ApiError> {
        let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
        match get("grant_type") {
            Some("client_credentials") => {}
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unsupported grant_type `{other}`: use client_credentials"
                )))
            }
            None => return Err(ApiError::bad_request("grant_type is required")),
        }
        let (Some(id), Some(secret)) = (get("client_id"), get("client_secret")) else {
            return Err(ApiError::bad_request(
                "client_id and client_secret are required",
            ));
        };
        let Some(resource) = get("resource") else {
            return Err(ApiError::bad_request(format!(
                "resource is required (the risk API needs `{RISK_RESOURCE}`)"
            )));
        };
        if resource != RISK_RESOURCE && !self.config.other_resources.iter().any(|r| r == resource) {
            return Err(ApiError::bad_request(format!(
                "unknown resource `{resource}`"
            )));
        }
        let client = self
            .config
            .clients
            .iter()
            .find(|c| c.id == id && c.secret == secret)
            .ok_or_else(|| ApiError::new(401, "invalid client credentials"))?;
        let now = self.clock.now_ms();
        let ttl = self.config.token_ttl_secs;
        let token = self.ids.token(ACCESS_PREFIX);
        let expires_at =
            now.saturating_add(i64::try_from(ttl.saturating_mul(1000)).unwrap_or(i64::MAX));
        {
            let mut auth = self.auth.lock();
            while auth.order.front().is_some_and(|(exp, _)| *exp <= now)
                || auth.order.len() >= MAX_ACCESS_TOKENS
            {
                if let Some((_, t)) = auth.order.pop_front() {
                    auth.tokens.remove(&t);
                }
            }
            auth.tokens.insert(
                token.clone(),
                AccessToken {
                    client_id: client.id.clone(),
                    resource: resource.to_owned(),
                    expires_at,
                },
            );
            auth.order.push_back((expires_at, token.clone()));
        }
        self.tokens_issued.fetch_add(1, Ordering::Relaxed);
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
        }))
    }

    /// The client id of a valid risk access token in an `Authorization` header value.
    pub(crate) fn authenticate(&self, authorization: Option<&str>) -> Result<String, ApiError> {
        let token = authorization
            .and_then(|h| {
                let (scheme, rest) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(401, "missing bearer token"))?;
        let now = self.clock.now_ms();
        let mut auth = self.auth.lock();
        let Some(entry) = auth.tokens.get(token) else {
            return Err(ApiError::new(401, "invalid access token"));
        };
        if entry.expires_at <= now {
            auth.tokens.remove(token);
            return Err(ApiError::new(401, "access token expired"));
        }
        if entry.resource != RISK_RESOURCE {
            return Err(ApiError::new(
                403,
                format!(
                    "access token was issued for `{}`, not `{RISK_RESOURCE}`",
                    entry.resource
                ),
            ));
        }
        let client_id = entry.client_id.clone();
        let rps = self
            .config
            .clients
            .iter()
            .find(|c| c.id == client_id)
            .and_then(|c| c.rate_limit_rps);
        if let Some(rps) = rps {
            let capacity = rps.max(1.0);
            let bucket = auth.buckets.entry(client_id.clone()).or_insert(Bucket {
                tokens: capacity,
                last_ms: now,
            });
            #[allow(clippy::cast_precision_loss)] // milliseconds fit f64 exactly for ages
            let elapsed = (now - bucket.last_ms).max(0) as f64 / 1000.0;
            bucket.tokens = (bucket.tokens + elapsed * rps).min(capacity);
            bucket.last_ms = now;
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
            } else {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let wait = ((1.0 - bucket.tokens) / rps).ceil().max(1.0) as u64;
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
                return Err(ApiError {
                    status: 429,
                    message: "rate limit reached".to_owned(),
                    retry_after: Some(wait),
                });
            }
        }
        Ok(client_id)
    }

    // ---- sessions and actions ----

    fn classify_ip(&self, ip: Option<IpAddr>) -> (String, bool, bool) {
        let Some(ip) = ip else {
            return (self.config.default_country.clone(), false, false);
        };
        let country = self
            .countries
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map_or_else(|| self.config.default_country.clone(), |(_, c)| c.clone());
        let anonymizer = self.anonymizer.iter().any(|n| n.contains(&ip));
        let hosting = self.hosting.iter().any(|n| n.contains(&ip));
        (country, anonymizer, hosting)
    }

    pub(crate) fn create_session(
        &self,
        mut t: Telemetry,
        peer: Option<IpAddr>,
    ) -> Result<(String, String), ApiError> {
        let ip = match t.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<IpAddr>()
                .map_err(|_| ApiError::bad_request(format!("`ip`: `{s}` is not an IP address")))?,
            None => peer.unwrap_or(IpAddr::from([127, 0, 0, 1])),
        };
        t.ip = Some(ip.to_string());
        let ua = parse_user_agent(t.user_agent.as_deref().unwrap_or(""));
        t.browser_name = t.browser_name.or(ua.browser_name);
        t.browser_version = t.browser_version.or(ua.browser_version);
        t.os_name = t.os_name.or(ua.os_name);
        t.os_version = t.os_version.or(ua.os_version);
        t.device_platform = t.device_platform.or(ua.platform);
        t.headless = t.headless || ua.headless;
        let (ip_country, anonymizer, hosting) = self.classify_ip(Some(ip));
        let country = t
            .country_code
            .clone()
            .map_or(ip_country, |c| c.to_ascii_uppercase());
        let token = self.ids.token(SESSION_PREFIX);
        let device_id = match (&t.device_id, &t.device_fingerprint) {
            (Some(id), _) if !id.is_empty() => id.clone(),
            (_, Some(fp)) if !fp.is_empty() => format!("dev_{}", ids::stable_hex(fp)),
            _ => format!(
                "dev_{}",
                token.strip_prefix(SESSION_PREFIX).unwrap_or(token.as_str())
            ),
        };
        t.device_id = Some(device_id.clone());
        let session = Session {
            device_id: device_id.clone(),
            ip: ip.to_string(),
            ip_addr: Some(ip),
            country,
            anonymizer,
            hosting: hosting || t.hosting,
            user_id: None,
            t,
        };
        let mut core = self.core.lock();
        while core.session_order.len() >= MAX_SESSIONS {
            if let Some(old) = core.session_order.pop_front() {
                core.sessions.remove(&old);
            }
        }
        core.sessions.insert(token.clone(), session);
        core.session_order.push_back(token.clone());
        Ok((token, device_id))
    }

    fn prune_actions(core: &mut Core, now: i64, ttl_ms: i64) {
        while core
            .action_order
            .front()
            .is_some_and(|(created, _)| created.saturating_add(ttl_ms) <= now)
            || core.action_order.len() >= MAX_ACTIONS
        {
            if let Some((_, t)) = core.action_order.pop_front() {
                core.actions.remove(&t);
            }
        }
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.config.action_token_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// trigger-action, from the back end (`client` = the token's client) or the SDK (`None`).
    pub(crate) fn trigger(
        &self,
        req: TriggerActionRequest,
        client: Option<&str>,
        with_recommendation: bool,
    ) -> Result<TriggerActionResponse, ApiError> {
        let action_type = req.action_type.as_str();
        if action_type.trim().is_empty() {
            return Err(ApiError::bad_request("action_type must not be empty"));
        }
        let now = self.clock.now_ms();
        let action_token = self.ids.token(ACTION_PREFIX);
        let action_id = self.ids.token("");
        let rec_id = self.ids.token("");
        let mut guard = self.core.lock();
        Self::prune_actions(&mut guard, now, self.ttl_ms());
        let core = &mut *guard;
        let Some(session) = core.sessions.get(req.session_token.expose()) else {
            return Err(ApiError::bad_request("unknown session token"));
        };
        let subject = req
            .user_id
            .clone()
            .or_else(|| req.claimed_user_id.clone())
            .or_else(|| session.user_id.clone());
        let device = session.device_id.as_str();
        let device_new = !core.history.device_seen(device);
        let profile_device_new = subject
            .as_deref()
            .is_some_and(|u| core.history.user_known(u) && !core.history.linked(u, device));
        let trusted = subject
            .as_deref()
            .is_some_and(|u| core.history.trusted(u, device));
        let counts = core
            .history
            .record_action(now, &session.ip, subject.as_deref(), device);
        let t = &session.t;
        let signals = Signals {
            headless: t.headless,
            webdriver: t.webdriver,
            no_user_interaction: t.no_user_interaction,
            vpn: t.vpn,
            tor: t.tor,
            hosting: session.hosting,
            proxy: t.proxy,
            anonymizer: session.anonymizer,
            incognito: t.incognito,
            private_browser: t.private_browser,
            device_new,
            profile_device_new,
            trusted,
            history: counts,
        };
        let thresholds = &self.config.thresholds;
        let assessment = engine::assess(&signals, thresholds);
        let user_id = req.user_id.clone().or_else(|| session.user_id.clone());
        let facts = Facts {
            ip: session.ip_addr,
            user_id: user_id.as_deref(),
            claimed_user_id: req.claimed_user_id.as_deref(),
            device_id: Some(device),
            fingerprint: t.device_fingerprint.as_deref(),
            public_key: t.device_public_key.as_deref(),
            country: Some(&session.country),
            browser_name: t.browser_name.as_deref(),
            os_version: t.os_version.as_deref(),
        };
        let outcome = core.rules.evaluate(&facts);
        let (rec_type, score) = match &outcome.production {
            Some(hit) => (
                hit.recommendation.clone(),
                engine::rule_score(&hit.recommendation, assessment.score, thresholds),
            ),
            None => (assessment.recommendation.clone(), assessment.score),
        };

        let mut rec = RecommendationResponse::new(rec_type, score);
        rec.id = rec_id;
        rec.issued_at = Some(now);
        rec.reasons = assessment.reasons;
        rec.transaction_data = req.transaction_data.clone();
        rec.custom_attributes = req.custom_attributes.clone();
        if let Some(p) = outcome.preview {
            let mut preview = PreviewRule::default();
            preview.risk_score = Some(engine::rule_score(
                &p.recommendation,
                assessment.score,
                thresholds,
            ));
            preview.rule_name = Some(p.name);
            preview.recommendation = Some(p.recommendation);
            rec.preview_rule = Some(preview);
        }
        let mut c = Context::default();
        c.action_id = Some(action_id.clone());
        c.action_type = Some(req.action_type.clone());
        c.action_performed_at = Some(now);
        c.client_id = client.map(str::to_owned);
        c.application_id = client.map(str::to_owned);
        c.tenant_id = Some("emulator".to_owned());
        c.device_id = Some(session.device_id.clone());
        c.correlation_id = req.correlation_id.clone();
        c.device_fingerprint = t.device_fingerprint.clone();
        c.user_id = user_id.clone();
        c.claimed_user_id = req.claimed_user_id.clone();
        c.ip = Some(session.ip.clone());
        c.ip_country = Some(session.country.clone());
        c.ip_organization_type = Some(if session.hosting { "hosting" } else { "isp" }.to_owned());
        c.device_timezone = t.timezone.clone();
        c.device_platform = t.device_platform.clone();
        c.os_name = t.os_name.clone();
        c.os_version = t.os_version.clone();
        c.browser_name = t.browser_name.clone();
        c.browser_version = t.browser_version.clone();
        c.user_agent = t.user_agent.clone();
        rec.context = c;
        let rs = &mut rec.risk_signals;
        rs.device.incognito = Some(t.incognito);
        rs.device.private_browser = Some(t.private_browser);
        rs.device.tampered = Some(false);
        rs.device.emulated = Some(false);
        rs.device.spoofed = Some(false);
        rs.device.tz_mismatch = Some(false);
        rs.network.vpn = Some(t.vpn);
        rs.network.tor = Some(t.tor);
        rs.network.hosting = Some(session.hosting);
        rs.network.proxy = Some(t.proxy);
        rs.network.anonymizer = Some(session.anonymizer || t.vpn || t.tor || t.proxy);
        rs.behavior.typing_velocity = t.typing_velocity;
        rs.behavior.no_user_interaction = Some(t.no_user_interaction);
        if !t.no_user_interaction {
            rs.behavior.input_method.push("is_typing".to_owned());
        }
        if t.pasted_input {
            rs.behavior.input_method.push("is_paste".to_owned());
        }
        let h = &mut rs.history;
        h.ip_action_rate_60_sec = Some(counts.ip_action_rate_60_sec);
        h.user_action_rate_60_sec = Some(counts.user_action_rate_60_sec);
        h.device_action_rate_60_sec = Some(counts.device_action_rate_60_sec);
        h.ip_user_count_last_hour = Some(counts.ip_user_count_last_hour);
        h.ip_device_count_last_hour = Some(counts.ip_device_count_last_hour);
        h.linking_user_to_device_count = Some(counts.linking_user_to_device_count);
        h.linking_device_to_users_count = Some(counts.linking_device_to_users_count);

        let action = Action {
            created: now,
            session_token: req.session_token.expose().to_owned(),
            device_id: session.device_id.clone(),
            client_id: client.map(str::to_owned),
            user_id,
            claimed_user_id: req.claimed_user_id.clone(),
            subject,
            ip: session.ip.clone(),
            user_agent: t.user_agent.clone(),
            recommendation: rec,
            result: None,
        };
        let collecting = self.risk_collecting.load(Ordering::Relaxed);
        let mut events = Vec::new();
        if collecting {
            events.push(self.event("action_triggered", &action, client, now, &[]));
        }
        let mut response = TriggerActionResponse::new(ActionToken::new(action_token.clone()));
        if with_recommendation {
            response.recommendation = Some(Box::new(action.recommendation.clone()));
            if collecting {
                events.push(self.recommendation_event(&action, client, now));
            }
        }
        core.actions.insert(action_token.clone(), action);
        core.action_order.push_back((now, action_token));
        drop(guard);
        self.record_events(events);
        Ok(response)
    }

    pub(crate) fn sdk_trigger(&self, body: SdkTriggerAction) -> Result<String, ApiError> {
        let mut req =
            TriggerActionRequest::new(body.session_token, body.action_type.as_str().into());
        req.correlation_id = body.correlation_id;
        req.claimed_user_id = body.claimed_user_id;
        Ok(self
            .trigger(req, None, false)?
            .action_token
            .expose()
            .to_owned())
    }

    fn check_action_token<'a>(
        &self,
        core: &'a mut Core,
        token: &str,
        now: i64,
    ) -> Result<&'a mut Action, ApiError> {
        if token.is_empty() {
            return Err(ApiError::bad_request("action_token is required"));
        }
        if !ids::well_formed(token, ACTION_PREFIX) {
            return Err(ApiError::bad_request("malformed action_token"));
        }
        let ttl = self.ttl_ms();
        match core.actions.get_mut(token) {
            Some(a) if a.created.saturating_add(ttl) > now => Ok(a),
            _ => Err(ApiError::blacklisted("action token expired or unknown")),
        }
    }

    pub(crate) fn recommendation(
        &self,
        token: &str,
        client: &str,
    ) -> Result<RecommendationResponse, ApiError> {
        let now = self.clock.now_ms();
        let mut core = self.core.lock();
        let action = self.check_action_token(&mut core, token, now)?;
        if action.result.is_some() {
            return Err(ApiError::blacklisted(
                "action token already used: its result was reported",
            ));
        }
        let mut rec = action.recommendation.clone();
        if rec.context.client_id.is_none() {
            rec.context.client_id = Some(client.to_owned());
            rec.context.application_id = Some(client.to_owned());
        }
        let event = self
            .risk_collecting
            .load(Ordering::Relaxed)
            .then(|| self.recommendation_event(action, Some(client), now));
        drop(core);
        self.record_events(event);
        Ok(rec)
    }

    pub(crate) fn report(&self, report: ActionResultReport, client: &str) -> Result<(), ApiError> {
        let now = self.clock.now_ms();
        let mut guard = self.core.lock();
        let action = self.check_action_token(&mut guard, report.action_token.expose(), now)?;
        match action.result {
            Some(r) if r == report.result => return Ok(()),
            Some(r) => {
                return Err(ApiError::blacklisted(format!(
                    "action token already used: result `{r}` was reported"
                )))
            }
            None => {}
        }
        action.result = Some(report.result);
        let action = action.clone();
        let core = &mut *guard;
        if report.result == ActionResult::Success {
            let user = report
                .user_id
                .clone()
                .or_else(|| action.user_id.clone())
                .or_else(|| action.claimed_user_id.clone());
            if let Some(user) = user {
                core.history.link(&user, &action.device_id);
                let challenged =
                    *action.recommendation.recommendation_type() == RecommendationType::Challenge;
                if challenged && report.challenge_type.is_some() {
                    core.history.trust(&user, &action.device_id);
                }
            }
            if let (Some(user), Some(session)) = (
                &report.user_id,
                core.sessions.get_mut(&action.session_token),
            ) {
                session.user_id = Some(user.clone());
            }
        }
        drop(guard);
        if self.risk_collecting.load(Ordering::Relaxed) {
            let mut extra = vec![("result", Value::String(report.result.as_str().to_owned()))];
            if let Some(c) = &report.challenge_type {
                extra.push(("challenge_type", Value::String(c.as_str().to_owned())));
            }
            let mut event =
                self.event("action_result_reported", &action, Some(client), now, &extra);
            if let Some(u) = &report.user_id {
                event.user_id = Some(u.clone());
            }
            self.record_events([event]);
        }
        Ok(())
    }

    // ---- events ----

    fn event(
        &self,
        activity: &str,
        a: &Action,
        client: Option<&str>,
        now: i64,
        extra: &[(&str, Value)],
    ) -> ActivityEvent {
        let mut e = ActivityEvent::default();
        e.activity = activity.to_owned();
        e.app_id = client.map(str::to_owned).or_else(|| a.client_id.clone());
        e.user_id = a.subject.clone();
        e.ip = Some(a.ip.clone());
        e.user_agent = a.user_agent.clone();
        e.timestamp = Some(now);
        let ctx = &a.recommendation.context;
        let p = &mut e.additional_params;
        p.insert(
            "action_type".into(),
            ms_opt(ctx.action_type.as_ref().map(|t| t.as_str())),
        );
        p.insert("action_id".into(), ms_opt(ctx.action_id.as_deref()));
        p.insert("device_id".into(), Value::String(a.device_id.clone()));
        if let Some(c) = &ctx.correlation_id {
            p.insert("correlation_id".into(), Value::String(c.clone()));
        }
        if let Some(c) = &a.claimed_user_id {
            p.insert("claimed_user_id".into(), Value::String(c.clone()));
        }
        for (k, v) in extra {
            p.insert((*k).to_owned(), v.clone());
        }
        e
    }

    fn recommendation_event(&self, a: &Action, client: Option<&str>, now: i64) -> ActivityEvent {
        let rec = &a.recommendation;
        let reasons: Vec<Value> = rec
            .reasons
            .iter()
            .map(|r| Value::String(r.as_str().to_owned()))
            .collect();
        let mut extra = vec![
            (
                "recommendation",
                Value::String(rec.recommendation_type().as_str().to_owned()),
            ),
            ("risk_score", json!(rec.risk_score)),
            ("reasons", Value::Array(reasons)),
        ];
        if let Some(p) = &rec.preview_rule {
            extra.push(("preview_rule", json!(p)));
        }
        self.event("recommendation_issued", a, client, now, &extra)
    }

    fn record_events(&self, events: impl IntoIterator<Item = ActivityEvent>) {
        let mut iter = events.into_iter().peekable();
        if iter.peek().is_none() {
            return;
        }
        let mut log = self.events.lock();
        for e in iter {
            log.record(EventType::Risk, e);
        }
    }

    pub(crate) fn with_events<R>(&self, f: impl FnOnce(&mut EventLog) -> R) -> R {
        let mut log = self.events.lock();
        let r = f(&mut log);
        self.risk_collecting
            .store(log.is_collecting(EventType::Risk), Ordering::SeqCst);
        r
    }

    // ---- rules ----

    pub(crate) fn list_rules(&self) -> Vec<StoredRule> {
        self.core.lock().rules.list()
    }

    pub(crate) fn get_rule(&self, id: &str) -> Result<StoredRule, ApiError> {
        self.core
            .lock()
            .rules
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::new(404, format!("no rule with id `{id}`")))
    }

    pub(crate) fn create_rule(&self, rule: Rule) -> Result<StoredRule, ApiError> {
        let id = self.ids.sequential("rule-");
        Ok(self.core.lock().rules.put(id, rule, false)?)
    }

    pub(crate) fn update_rule(&self, id: &str, rule: Rule) -> Result<StoredRule, ApiError> {
        self.core
            .lock()
            .rules
            .put(id.to_owned(), rule, true)
            .map_err(|e| match e {
                RuleError::NotFound => ApiError::new(404, format!("no rule with id `{id}`")),
                other => other.into(),
            })
    }

    pub(crate) fn delete_rule(&self, id: &str) -> Result<(), ApiError> {
        self.core
            .lock()
            .rules
            .delete(id)
            .map_err(|_| ApiError::new(404, format!("no rule with id `{id}`")))
    }
}
