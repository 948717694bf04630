//! Reading a request into [`RequestFacts`]: token, correlation id, client IP and details.

use std::net::IpAddr;

use super::Guard;
use crate::flow::facts::{
    generate_correlation_id, valid_request_id, ActionDetails, DynLookup, HeaderLookup,
    RequestFacts, Token,
};

impl Guard {
    /// Reads the facts of a request from its headers, its socket peer and the
    /// [`ActionDetails`] the application attached to it, if any (adapters take them from the
    /// request extensions). Synchronous and cheap. Details win over the guard's own
    /// claimed-user closure.
    pub fn facts(
        &self,
        headers: &(impl HeaderLookup + ?Sized),
        peer: Option<IpAddr>,
        details: Option<&ActionDetails>,
    ) -> RequestFacts {
        let inner = &*self.inner;
        let names = &inner.headers;
        let token = Token::from_headers(headers, names, inner.tokens);
        let correlation_id = headers
            .get(names.request_id_name())
            .and_then(valid_request_id)
            .map_or_else(generate_correlation_id, str::to_owned);
        let mut facts = RequestFacts::with_id(token, correlation_id);
        facts.client_ip = inner.ip.resolve(headers, names, peer);
        if let Some(details) = details {
            facts.details.merge(details);
        }
        if facts.details.claimed_user.is_none() {
            facts.details.claimed_user = inner
                .claimed_user
                .as_ref()
                .and_then(|f| f(&DynLookup(headers)));
        }
        facts
    }
}
