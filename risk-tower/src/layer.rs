//! The [`RiskLayer`].

use risk_core::Guard;
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
