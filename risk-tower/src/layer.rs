//! The [`RiskLayer`].

use risk_core::{ActionType, ConfigError, Guard, GuardBuilder, Risk};
use tower_layer::Layer;

use crate::service::RiskService;

/// Protects the services it wraps with a [`Guard`]: one layer per protected route (or group
/// of routes sharing an action type and policy).
///
/// Cheap to clone (the guard is shared). See the [crate docs](crate) for an example and for
/// where to put it in a stack.
#[derive(Clone, Debug)]
pub struct RiskLayer {
    guard: Guard,
}

impl RiskLayer {
    /// A layer checking every request with `guard`.
    pub fn new(guard: Guard) -> Self {
        Self { guard }
    }

    /// The guard.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }
}

impl From<Guard> for RiskLayer {
    fn from(guard: Guard) -> Self {
        Self::new(guard)
    }
}

impl<S> Layer<S> for RiskLayer {
    type Service = RiskService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RiskService::new(inner, self.guard.clone())
    }
}

/// `risk.layer(ActionType::Login)`: a [`RiskLayer`] of a guard of the shared [`Risk`] handle
/// (nothing more than [`RiskLayer::new`] around [`Risk::guard`] or [`Risk::guard_with`]).
///
/// ```
/// use axum::{routing::post, Router};
/// use risk_core::{ActionType, ErrorBehavior, Risk, RiskClient};
/// use risk_tower::RiskLayerExt as _;
///
/// # fn run() -> Result<(), risk_core::ConfigError> {
/// # let risk = Risk::new(RiskClient::builder().client_id("id").client_secret("s").build()?);
/// async fn login() {}
/// async fn pay() {}
/// let app: Router = Router::new()
///     .route("/login", post(login).route_layer(risk.layer(ActionType::Login)))
///     .route("/pay", post(pay).route_layer(risk.layer_with(ActionType::Transaction, |g| {
///         g.on_error(ErrorBehavior::FailClosed)
///     })?));
/// # Ok(()) }
/// ```
pub trait RiskLayerExt {
    /// The layer of the default guard of `action_type` ([`Risk::guard`]).
    fn layer(&self, action_type: impl Into<ActionType>) -> RiskLayer;

    /// The layer of a guard configured by `configure` ([`Risk::guard_with`]).
    fn layer_with(
        &self,
        action_type: impl Into<ActionType>,
        configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
    ) -> Result<RiskLayer, ConfigError>;
}

impl RiskLayerExt for Risk {
    fn layer(&self, action_type: impl Into<ActionType>) -> RiskLayer {
        RiskLayer::new(self.guard(action_type))
    }

    fn layer_with(
        &self,
        action_type: impl Into<ActionType>,
        configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
    ) -> Result<RiskLayer, ConfigError> {
        self.guard_with(action_type, configure).map(RiskLayer::new)
    }
}
