//! [`RiskMiddlewareExt`]: `risk.middleware(ActionType::Login)` on the shared [`Risk`] handle.

use risk_core::{ActionType, ConfigError, GuardBuilder, Risk};

use crate::RiskMiddleware;

/// `risk.middleware(ActionType::Login)`: a [`RiskMiddleware`] of a guard of the shared
/// [`Risk`] handle (nothing more than [`RiskMiddleware::new`] around [`Risk::guard`] or
/// [`Risk::guard_with`]).
///
/// actix-web builds the `App` once per worker: [`Risk::guard`] gives every worker the same
/// guard of an action type. Build a [`middleware_with`](Self::middleware_with) once, outside
/// the factory, and clone it in.
///
/// ```
/// use actix_web::{web, App};
/// use risk_actix::RiskMiddlewareExt as _;
/// use risk_core::{ActionType, ErrorBehavior, Risk, RiskClient};
///
/// # fn run() -> Result<(), risk_core::ConfigError> {
/// # let risk = Risk::new(RiskClient::builder().client_id("id").client_secret("s").build()?);
/// async fn login() -> &'static str { "welcome" }
/// async fn pay() -> &'static str { "paid" }
/// let pay_guard = risk.middleware_with(ActionType::Transaction, |g| g.on_error(ErrorBehavior::FailClosed))?;
/// let app = App::new()
///     .service(web::resource("/login").route(web::post().to(login)).wrap(risk.middleware(ActionType::Login)))
///     .service(web::resource("/pay").route(web::post().to(pay)).wrap(pay_guard.clone()));
/// # Ok(()) }
/// ```
pub trait RiskMiddlewareExt {
    /// The middleware of the default guard of `action_type` ([`Risk::guard`]).
    fn middleware(&self, action_type: impl Into<ActionType>) -> RiskMiddleware;

    /// The middleware of a guard configured by `configure` ([`Risk::guard_with`]).
    fn middleware_with(
        &self,
        action_type: impl Into<ActionType>,
        configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
    ) -> Result<RiskMiddleware, ConfigError>;
}

impl RiskMiddlewareExt for Risk {
    fn middleware(&self, action_type: impl Into<ActionType>) -> RiskMiddleware {
        RiskMiddleware::new(self.guard(action_type))
    }

    fn middleware_with(
        &self,
        action_type: impl Into<ActionType>,
        configure: impl FnOnce(GuardBuilder) -> GuardBuilder,
    ) -> Result<RiskMiddleware, ConfigError> {
        self.guard_with(action_type, configure)
            .map(RiskMiddleware::new)
    }
}
