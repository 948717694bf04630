//! Reading the assessment in the handler: [`RiskAssessment`].

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use risk_core::Assessment;

/// The risk assessment of the current request, inserted by [`RiskLayer`](crate::RiskLayer)
/// into the request extensions (as an `Arc<Assessment>`) before the handler runs.
///
/// With feature `axum` it is an extractor: `RiskAssessment` rejects with a 500 naming the
/// missing layer ([`MissingRiskAssessment`]); `Option<RiskAssessment>` is `None` instead.
/// Extraction clones the `Arc` and never removes it, so it can be extracted any number of
/// times (and by other middleware). Without axum, use
/// [`from_extensions`](Self::from_extensions).
///
/// Dereferences to [`Assessment`].
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use risk_tower::RiskAssessment;
///
/// async fn login(risk: RiskAssessment) -> String {
///     format!("{:?} (request {})", risk.recommendation_type(), risk.correlation_id())
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct RiskAssessment(pub Arc<Assessment>);

impl RiskAssessment {
    /// The assessment in `extensions`, if [`RiskLayer`](crate::RiskLayer) put one there.
    pub fn from_extensions(extensions: &http::Extensions) -> Option<Self> {
        extensions.get::<Arc<Assessment>>().cloned().map(Self)
    }

    /// The shared assessment.
    pub fn into_inner(self) -> Arc<Assessment> {
        self.0
    }
}

impl Deref for RiskAssessment {
    type Target = Assessment;

    fn deref(&self) -> &Assessment {
        &self.0
    }
}

impl AsRef<Assessment> for RiskAssessment {
    fn as_ref(&self) -> &Assessment {
        &self.0
    }
}

impl fmt::Debug for RiskAssessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RiskAssessment").field(&*self.0).finish()
    }
}

/// The rejection of the [`RiskAssessment`] extractor: the request carries no assessment,
/// because [`RiskLayer`](crate::RiskLayer) is not installed on the route (a server
/// configuration error, hence a 500).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct MissingRiskAssessment;

impl MissingRiskAssessment {
    /// The message of the rejection.
    pub const MESSAGE: &'static str =
        "risk assessment missing: is `RiskLayer` installed on this route?";
}

impl fmt::Display for MissingRiskAssessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MESSAGE)
    }
}

impl std::error::Error for MissingRiskAssessment {}

#[cfg(feature = "axum")]
mod axum_impls {
    use std::convert::Infallible;

    use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;
    use http::StatusCode;

    use super::{MissingRiskAssessment, RiskAssessment};

    impl IntoResponse for MissingRiskAssessment {
        fn into_response(self) -> Response {
            tracing::error!("{}", Self::MESSAGE);
            (StatusCode::INTERNAL_SERVER_ERROR, Self::MESSAGE).into_response()
        }
    }

    impl<S: Send + Sync> FromRequestParts<S> for RiskAssessment {
        type Rejection = MissingRiskAssessment;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Self, Self::Rejection> {
            Self::from_extensions(&parts.extensions).ok_or(MissingRiskAssessment)
        }
    }

    impl<S: Send + Sync> OptionalFromRequestParts<S> for RiskAssessment {
        type Rejection = Infallible;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Option<Self>, Self::Rejection> {
            Ok(Self::from_extensions(&parts.extensions))
        }
    }
}
