//! [`ClearUser`]: after a logout, forget the user set on the browser session.

use std::fmt;

use super::facts::{HeaderLookup, HeaderNames, Token};
use crate::client::RiskClient;
use crate::models::ClearUserRequest;

/// What a logout route does for the risk API: once the handler has answered 2xx, the user set
/// on the browser session is cleared (`POST /risk/v1/action/clear-user`), in the background,
/// never delaying the response. The session token comes from the request's
/// `x-risk-session-token` (or `x-risk-secured-session-token`) header; a request without one
/// is left alone. The adapters wrap it in one line: risk-tower's `ClearUserLayer`, risk-actix's
/// `ClearUserMiddleware`.
///
/// ```no_run
/// # async fn run(client: risk_core::RiskClient) {
/// use risk_core::ClearUser;
/// let clear = ClearUser::new(client);
/// // Before the handler: what to clear, from the request's headers.
/// let pending = clear.request_of(&[("x-risk-session-token", "st-1")]);
/// // After it answered 200:
/// if let Some(request) = pending {
///     clear.after_response(request, 200);
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct ClearUser {
    client: RiskClient,
    names: HeaderNames,
}

impl fmt::Debug for ClearUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClearUser")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl ClearUser {
    /// Clears users through `client`, reading the default header names.
    pub fn new(client: RiskClient) -> Self {
        Self {
            client,
            names: HeaderNames::default(),
        }
    }

    /// Reads other header names.
    #[must_use]
    pub fn with_headers(mut self, names: HeaderNames) -> Self {
        self.names = names;
        self
    }

    /// What to clear for a request (`None`: no usable session token).
    pub fn request_of(&self, headers: &(impl HeaderLookup + ?Sized)) -> Option<ClearUserRequest> {
        let accepted = super::facts::TokenKinds {
            session: true,
            action: false,
        };
        match Token::from_headers(headers, &self.names, accepted) {
            Ok(Token::Session(t)) => Some(ClearUserRequest::session(t)),
            Ok(Token::SecuredSession(t)) => Some(ClearUserRequest::secured(t)),
            _ => None,
        }
    }

    /// The handler answered `status`: on 2xx, clears the session's user in the background
    /// (on the current tokio runtime; a failure is logged at WARN).
    pub fn after_response(&self, request: ClearUserRequest, status: u16) {
        if !(200..300).contains(&status) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime: the session's user is not cleared");
            return;
        };
        let client = self.client.clone();
        runtime.spawn(async move {
            if let Err(e) = client.clear_user(&request).await {
                tracing::warn!(error = %e, "cannot clear the session's user after a logout");
            }
        });
    }
}
