//! [`GuardBuilder`]: a guard's settings, checked once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{ClaimedUserFn, Guard, GuardInner, DEFAULT_DEADLINE};
use crate::error::ConfigError;
use crate::flow::breaker::{BreakerConfig, CircuitBreaker};
use crate::flow::error_behavior::ErrorBehavior;
use crate::flow::facts::{
    ClaimedUser, ForwardedHeader, HeaderLookup, HeaderNames, IpResolver, TokenKinds,
};
use crate::flow::limit::ClientLimit;
use crate::flow::outcome::ResultMapping;
use crate::flow::policy::{DefaultPolicy, Policy};
use crate::flow::reporter::Reporter;
use crate::flow::respond::{DefaultResponder, Responder};
use crate::models::{ActionType, CustomAttributes};
use crate::recommender::Recommender;

/// Builds a [`Guard`]. See [`Guard::builder`].
#[must_use]
pub struct GuardBuilder {
    action_type: ActionType,
    recommender: Box<dyn Recommender>,
    policy: Box<dyn Policy>,
    on_error: ErrorBehavior,
    deadline: Duration,
    headers: HeaderNames,
    trusted_proxies: Vec<String>,
    trust_headers_without_peer: bool,
    forwarded_header: ForwardedHeader,
    claimed_user: Option<Box<ClaimedUserFn>>,
    custom_attributes: Option<CustomAttributes>,
    breaker: Option<CircuitBreaker>,
    reporter: Option<Reporter>,
    mapping: ResultMapping,
    responder: Box<dyn Responder>,
    shadow: bool,
    route: Option<String>,
    tokens: TokenKinds,
    single_call: bool,
    on_quota: ErrorBehavior,
    client_limit: Option<ClientLimit>,
    entity: Option<(Duration, u64)>,
}

impl fmt::Debug for GuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardBuilder")
            .field("action_type", &self.action_type)
            .field("on_error", &self.on_error)
            .field("deadline", &self.deadline)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("forwarded_header", &self.forwarded_header)
            .field("tokens", &self.tokens)
            .field("single_call", &self.single_call)
            .field("on_quota", &self.on_quota)
            .field("client_limit", &self.client_limit)
            .field("entity", &self.entity)
            .finish_non_exhaustive()
    }
}

impl GuardBuilder {
    /// The policy (default [`DefaultPolicy`]).
    pub fn policy(mut self, policy: impl Policy) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// What to do when the risk API is unavailable (default [`ErrorBehavior::FailOpen`]).
    pub fn on_error(mut self, behavior: ErrorBehavior) -> Self {
        self.on_error = behavior;
        self
    }

    /// The deadline of the upstream calls together (default 2 s). A deadline too far in the
    /// future to be represented (such as [`Duration::MAX`]) means no deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The header names.
    pub fn headers(mut self, headers: HeaderNames) -> Self {
        self.headers = headers;
        self
    }

    /// The proxies whose forwarding headers are believed: CIDRs (`10.0.0.0/8`) or bare
    /// addresses. Checked in [`build`](Self::build). Replaces earlier calls.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.trusted_proxies = proxies.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// Which forwarding header to read from trusted proxies (default
    /// [`ForwardedHeader::XForwardedFor`]). Only that one is read; the other is ignored even
    /// when present. Pick the one your proxy writes.
    pub fn forwarded_header(mut self, header: ForwardedHeader) -> Self {
        self.forwarded_header = header;
        self
    }

    /// Whether the action-token header is accepted on this route (default true). When
    /// false, the action-token header is ignored and a session token is required: the
    /// guard triggers every action itself, so a token cannot be replayed on concurrent
    /// requests (see [`Guard`], "Action tokens").
    pub fn action_tokens(mut self, enabled: bool) -> Self {
        self.tokens.action = enabled;
        self
    }

    /// Whether the session-token header is accepted on this route (default true). A step-up
    /// route, which completes an action the front end was challenged on, accepts that
    /// action's token only: `session_tokens(false)` with the [`StepUp`](crate::StepUp) policy.
    pub fn session_tokens(mut self, enabled: bool) -> Self {
        self.tokens.session = enabled;
        self
    }

    /// One upstream call per assessment (default true): in session-token mode, trigger-action
    /// is asked for the recommendation in the same answer (`get_recommendation=true`; with
    /// the [`RiskClient`](crate::RiskClient), a GET follows only when the answer has no
    /// recommendation). A protected action then costs two calls with its result report, one
    /// on the request path. `false`: trigger-action, then the recommendation.
    pub fn single_call(mut self, enabled: bool) -> Self {
        self.single_call = enabled;
        self
    }

    /// What to do when the tenant's quota is spent: the API answered 429, or the client's
    /// call budget had nothing left (default [`ErrorBehavior::Challenge`]: a flood never turns
    /// into silent pass-through, and a real user can still step up). Separate from
    /// [`on_error`](Self::on_error): running out of quota is not an outage, and a 429 does
    /// not count as a failure for the circuit breaker.
    pub fn on_quota_exhausted(mut self, behavior: ErrorBehavior) -> Self {
        self.on_quota = behavior;
        self
    }

    /// The per-client limit checked before any upstream call (default
    /// [`ClientLimit::default`]: 120 attempts per minute, bursts of 30, per client IP, this
    /// guard's own). Give several guards clones of one limit to share it.
    pub fn client_limit(mut self, limit: ClientLimit) -> Self {
        self.client_limit = Some(limit);
        self
    }

    /// Entity mode, for routes with no browser session (public APIs, webhooks,
    /// server-to-server): no token is read; the client's IP address (behind trusted proxies)
    /// is evaluated against the tenant's rules (`POST /risk/v1/evaluate`), and the answer
    /// (a DENY included; never an error) is cached per address for 60 s, 100,000 addresses
    /// at most ([`evaluation_cache`](Self::evaluation_cache)). The policy and the error
    /// behaviour apply as usual; no action is created, so nothing is reported. A request whose
    /// address is unknown is bad input (400).
    pub fn evaluate_client_ip(mut self) -> Self {
        self.entity = Some(self.entity.unwrap_or((Duration::from_secs(60), 100_000)));
        self
    }

    /// Entity mode (as [`evaluate_client_ip`](Self::evaluate_client_ip)) with a cache of your
    /// own: how long an answer is kept, and for how many addresses at most.
    pub fn evaluation_cache(mut self, ttl: Duration, capacity: u64) -> Self {
        self.entity = Some((ttl, capacity.max(1)));
        self
    }

    /// No per-client limit (every well-formed token costs an upstream call).
    pub fn without_client_limit(mut self) -> Self {
        self.client_limit = None;
        self
    }

    /// Whether forwarding headers are believed when the socket peer is unknown (default
    /// false: only when a server behind a Unix socket or similar is always behind a proxy).
    pub fn trust_headers_without_peer(mut self, trust: bool) -> Self {
        self.trust_headers_without_peer = trust;
        self
    }

    /// How to read the claimed user (not yet authenticated) from the request headers.
    pub fn claimed_user(
        mut self,
        f: impl Fn(&dyn HeaderLookup) -> Option<ClaimedUser> + Send + Sync + 'static,
    ) -> Self {
        self.claimed_user = Some(Box::new(f));
        self
    }

    /// Custom attributes sent with every action of this route (a request's own attributes
    /// override them).
    pub fn custom_attributes(mut self, attributes: CustomAttributes) -> Self {
        self.custom_attributes = Some(attributes);
        self
    }

    /// The circuit breaker (a shared handle: give every guard calling the same API the same
    /// one). Default: a breaker of this guard's own with [`BreakerConfig::default`].
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// No circuit breaker: every request calls the API (and waits up to the deadline).
    pub fn without_circuit_breaker(mut self) -> Self {
        self.breaker = None;
        self
    }

    /// Where result reports go. Without a reporter nothing is reported.
    pub fn reporter(mut self, reporter: Reporter) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// No reporter: the route reports its results itself (say, a step-up handler reporting
    /// with the challenge type). Undoes [`reporter`](Self::reporter), e.g. on a guard of a
    /// [`Risk`](crate::Risk) handle, which comes with the handle's reporter.
    pub fn without_reporter(mut self) -> Self {
        self.reporter = None;
        self
    }

    /// How the handler's status maps to a result (default [`ResultMapping::default`]).
    pub fn result_mapping(mut self, mapping: ResultMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// The responses for challenges and denials (default [`DefaultResponder`]).
    pub fn responder(mut self, responder: impl Responder) -> Self {
        self.responder = Box::new(responder);
        self
    }

    /// Shadow mode (default off): every request proceeds at once, and its evaluation runs
    /// concurrently in a task of its own, traced, with its result report still tied to the
    /// action (sent when both the handler and the evaluation are done). The policy, the
    /// error behaviour and the responder are not consulted: nothing is ever refused. The
    /// way to watch what the risk API would decide on a live route before enforcing it
    /// ([`MonitorOnly`](crate::MonitorOnly) does the same on the request path). Needs a
    /// tokio runtime; without one the evaluation runs inline.
    pub fn shadow(mut self, shadow: bool) -> Self {
        self.shadow = shadow;
        self
    }

    /// The route this guard protects, as operators know it (say `POST /login`): named in the
    /// warnings of degraded decisions and in the guard's span. Default: the action type.
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// Checks the settings and builds the guard.
    pub fn build(self) -> Result<Guard, ConfigError> {
        if self.deadline.is_zero() {
            return Err(ConfigError::InvalidValue {
                setting: "deadline",
                reason: "must be more than zero".to_owned(),
            });
        }
        let trusted = IpResolver::parse_trusted(&self.trusted_proxies)?;
        if !self.tokens.session && !self.tokens.action {
            return Err(ConfigError::InvalidValue {
                setting: "tokens",
                reason: "a route must accept session tokens, action tokens, or both".to_owned(),
            });
        }
        Ok(self.assemble(trusted))
    }

    /// The guard of settings that need no check: the defaults, with a reporter and a
    /// breaker (what [`Risk::guard`](crate::Risk::guard) hands out).
    pub(crate) fn build_default(self) -> Guard {
        self.assemble(Vec::new())
    }

    fn assemble(self, trusted: Vec<ipnet::IpNet>) -> Guard {
        Guard {
            inner: Arc::new(GuardInner {
                metrics: crate::flow::metrics::DecisionMetrics::new(&self.action_type),
                route: self
                    .route
                    .unwrap_or_else(|| self.action_type.as_str().to_owned()),
                degraded_log: super::degraded_log::DegradedLog::new(
                    super::degraded_log::DEGRADED_WARN_EVERY,
                ),
                action_type: self.action_type,
                recommender: self.recommender,
                policy: self.policy,
                on_error: self.on_error,
                deadline: self.deadline,
                headers: self.headers,
                ip: IpResolver::new(
                    trusted,
                    self.trust_headers_without_peer,
                    self.forwarded_header,
                ),
                claimed_user: self.claimed_user,
                custom_attributes: self.custom_attributes,
                breaker: self.breaker,
                reporter: self.reporter,
                mapping: self.mapping,
                responder: self.responder,
                shadow: self.shadow,
                tokens: self.tokens,
                single_call: self.single_call,
                on_quota: self.on_quota,
                client_limit: self.client_limit,
                entity: self
                    .entity
                    .map(|(ttl, capacity)| super::entity::EntityCache::new(ttl, capacity)),
            }),
        }
    }
}

impl Guard {
    /// A builder for a route protecting `action_type`, asking `recommender` (usually the
    /// [`RiskClient`](crate::RiskClient)).
    pub fn builder(
        action_type: impl Into<ActionType>,
        recommender: impl Recommender,
    ) -> GuardBuilder {
        GuardBuilder {
            action_type: action_type.into(),
            recommender: Box::new(recommender),
            policy: Box::new(DefaultPolicy),
            on_error: ErrorBehavior::default(),
            deadline: DEFAULT_DEADLINE,
            headers: HeaderNames::default(),
            trusted_proxies: Vec::new(),
            trust_headers_without_peer: false,
            forwarded_header: ForwardedHeader::default(),
            claimed_user: None,
            custom_attributes: None,
            breaker: Some(CircuitBreaker::new(BreakerConfig::default())),
            reporter: None,
            mapping: ResultMapping::default(),
            responder: Box::new(DefaultResponder),
            shadow: false,
            route: None,
            tokens: TokenKinds {
                session: true,
                action: true,
            },
            single_call: true,
            on_quota: ErrorBehavior::Challenge,
            client_limit: Some(ClientLimit::default()),
            entity: None,
        }
    }
}
