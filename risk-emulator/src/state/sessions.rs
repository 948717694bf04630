//! Browser sessions: created from device telemetry (what the SDK would send), with the
//! country and network type their IP address gives.

use std::net::IpAddr;
use std::sync::Arc;

use crate::ids;
use crate::telemetry::{parse_user_agent, Telemetry};

use super::{ApiError, EmulatorState, Session, SessionEntry};

pub(super) const SESSION_PREFIX: &str = "st_";
/// At most this many sessions are kept (the newest). Telemetry is capped per field (see
/// [`Telemetry::bounded`]), so a session holds at most about 12 KB (half a KB typically): at
/// most ~1.2 GB for the store in the worst case, ~50 MB typically.
pub(crate) const MAX_SESSIONS: usize = 100_000;

impl EmulatorState {
    /// The country, anonymizer and hosting flags of an IP address, from the configuration.
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

    /// A new session from `t`, kept within the telemetry bounds ([`Telemetry::bounded`]).
    pub(crate) fn create_session(
        &self,
        t: Telemetry,
        peer: Option<IpAddr>,
    ) -> Result<(String, String), ApiError> {
        let mut t = t.bounded();
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
        let key = self.ids.key();
        let token = ids::format_key(SESSION_PREFIX, key);
        let device_id = match (&t.device_id, &t.device_fingerprint) {
            (Some(id), _) if !id.is_empty() => id.clone(),
            (_, Some(fp)) if !fp.is_empty() => format!("dev_{}", ids::stable_hex(fp)),
            _ => format!(
                "dev_{}",
                token.strip_prefix(SESSION_PREFIX).unwrap_or(token.as_str())
            ),
        };
        t.device_id = Some(device_id.clone());
        let weight = 512
            + t.languages
                .iter()
                .chain(&t.x_forwarded_for)
                .map(String::len)
                .sum::<usize>()
            + [
                &t.device_id,
                &t.device_fingerprint,
                &t.device_public_key,
                &t.user_agent,
                &t.ip,
                &t.timezone,
                &t.country_code,
                &t.browser_name,
                &t.browser_version,
                &t.os_name,
                &t.os_version,
                &t.device_platform,
                &t.location,
                &t.sdk_version,
            ]
            .into_iter()
            .flatten()
            .map(String::len)
            .sum::<usize>();
        let session = Session {
            key,
            weight,
            device_id: device_id.clone(),
            ip: ip.to_string(),
            ip_addr: Some(ip),
            country,
            anonymizer,
            hosting: hosting || t.hosting,
            t,
        };
        let entry = SessionEntry {
            session: Arc::new(session),
            user_id: None,
        };
        let mut sessions = self.sessions.write();
        while sessions.order.len() >= MAX_SESSIONS {
            if let Some(old) = sessions.order.pop_front() {
                sessions.map.remove(&old);
            }
        }
        sessions.map.insert(key, entry);
        sessions.order.push_back(key);
        Ok((token, device_id))
    }
}

/// What the web SDK stand-in reports about the page's interaction after the session was
/// created (`PATCH /emulator/v1/sessions/{session_token}`): each field present replaces the
/// session's.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Behavior {
    pub(crate) no_user_interaction: Option<bool>,
    pub(crate) pasted_input: Option<bool>,
    pub(crate) typing_velocity: Option<f64>,
}

impl EmulatorState {
    /// The key of a session token: 400 when malformed.
    fn session_key(token: &str) -> Result<u128, ApiError> {
        ids::parse_key(token, SESSION_PREFIX)
            .ok_or_else(|| ApiError::bad_request("malformed session token"))
    }

    /// `f` on the kept session of `token`, under the write lock: 400 when the token is
    /// malformed, 404 when no such session is kept.
    fn with_session_entry<R>(
        &self,
        token: &str,
        f: impl FnOnce(&mut SessionEntry) -> R,
    ) -> Result<R, ApiError> {
        let key = Self::session_key(token)?;
        let mut sessions = self.sessions.write();
        let entry = sessions
            .map
            .get_mut(&key)
            .ok_or_else(|| ApiError::new(404, "unknown session token"))?;
        Ok(f(entry))
    }

    /// 400 when `token` is malformed, 404 when no such session is kept.
    pub(crate) fn check_session(&self, token: &str) -> Result<(), ApiError> {
        let key = Self::session_key(token)?;
        if self.sessions.read().map.contains_key(&key) {
            Ok(())
        } else {
            Err(ApiError::new(404, "unknown session token"))
        }
    }

    /// Updates the interaction telemetry of a session: the actions triggered from then on
    /// are scored on it (actions already triggered keep what they were scored on).
    pub(crate) fn update_behavior(&self, token: &str, b: Behavior) -> Result<(), ApiError> {
        self.with_session_entry(token, |entry| {
            let mut session = Session::clone(&entry.session);
            if let Some(v) = b.no_user_interaction {
                session.t.no_user_interaction = v;
            }
            if let Some(v) = b.pasted_input {
                session.t.pasted_input = v;
            }
            if let Some(v) = b.typing_velocity.filter(|v| v.is_finite() && *v >= 0.0) {
                session.t.typing_velocity = Some(v);
            }
            entry.session = Arc::new(session);
        })
    }

    /// Sets (`Some`) or forgets (`None`) the authenticated user of a session, as the web
    /// SDK's `setAuthenticatedUser(userId)` and `clearUser()` do.
    pub(crate) fn sdk_set_user(&self, token: &str, user: Option<String>) -> Result<(), ApiError> {
        if let Some(user) = &user {
            if user.trim().is_empty() || user.len() > super::actions::MAX_ID_LEN {
                return Err(ApiError::bad_request(format!(
                    "user_id must be 1 to {} bytes",
                    super::actions::MAX_ID_LEN
                )));
            }
        }
        self.with_session_entry(token, |entry| entry.user_id = user)
    }

    /// The telemetry a session is scored on now, if the session is kept.
    pub(crate) fn session_telemetry(&self, token: &str) -> Option<Telemetry> {
        let key = ids::parse_key(token, SESSION_PREFIX)?;
        let sessions = self.sessions.read();
        sessions.map.get(&key).map(|e| e.session.t.clone())
    }

    /// Whether `client_id` is one of the configured clients.
    pub(crate) fn knows_client(&self, client_id: &str) -> bool {
        self.config.clients.iter().any(|c| c.id == client_id)
    }
}
