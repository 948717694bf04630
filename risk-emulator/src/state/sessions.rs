//! Browser sessions: created from device telemetry (what the SDK would send), with the
//! country and network type their IP address gives.

use std::net::IpAddr;
use std::sync::Arc;

use crate::ids;
use crate::telemetry::{parse_user_agent, Telemetry};

use super::{ApiError, EmulatorState, Session, SessionEntry};

pub(super) const SESSION_PREFIX: &str = "st_";
/// At most this many sessions are kept (the newest). Telemetry is capped per field (see
/// [`Telemetry::bounded`]), so a session holds at most about 8 KB (half a KB typically): at
/// most ~0.8 GB for the store in the worst case, ~50 MB typically.
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
            + t.languages.iter().map(String::len).sum::<usize>()
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
