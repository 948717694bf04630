//! Device telemetry: what the browser or mobile SDK would collect, given to the emulator
//! directly to create a session.

use serde::{Deserialize, Serialize};

/// Telemetry of one device/browser session (body of `POST /emulator/v1/sessions`).
///
/// Everything is optional. Missing browser and OS fields are derived from `user_agent`;
/// a missing `ip` is the peer address of the request (or `127.0.0.1` in-process); a missing
/// `device_id` is derived from `device_fingerprint`, or new for each session.
///
/// ```
/// use risk_emulator::Telemetry;
/// let t = Telemetry::new()
///     .with_device_id("laptop-1")
///     .with_ip("203.0.113.7")
///     .with_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
/// assert_eq!(t.ip.as_deref(), Some("203.0.113.7"));
/// let bot = Telemetry::new().headless();
/// assert!(bot.headless);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[expect(
    missing_docs,
    reason = "the field names say it; see the README for their effect on scoring"
)]
pub struct Telemetry {
    pub device_id: Option<String>,
    pub device_fingerprint: Option<String>,
    /// A device-bound public key (mobile SDKs, passkeys); matched by `device_public_keys`.
    pub device_public_key: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// IANA timezone of the device, e.g. `Europe/Paris`.
    pub timezone: Option<String>,
    pub languages: Vec<String>,
    pub headless: bool,
    pub webdriver: bool,
    pub incognito: bool,
    pub private_browser: bool,
    pub vpn: bool,
    pub tor: bool,
    pub hosting: bool,
    pub proxy: bool,
    pub no_user_interaction: bool,
    pub pasted_input: bool,
    pub typing_velocity: Option<f64>,
    /// Overrides the country derived from the IP.
    pub country_code: Option<String>,
    pub browser_name: Option<String>,
    pub browser_version: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    /// `desktop`, `mobile`, `tablet`...
    pub device_platform: Option<String>,
    /// The page's URL (`location.href`); answered as `context.location` and matched by a
    /// rule's `location` condition.
    pub location: Option<String>,
    /// The version of the SDK that sent the telemetry (`context.sdk_version`).
    pub sdk_version: Option<String>,
    /// The addresses of the session request's `X-Forwarded-For`, in order
    /// (`risk_signals.network.x_forwarded_for`). When absent, the web SDK's session endpoint
    /// reads them from the request's header.
    pub x_forwarded_for: Vec<String>,
}

/// The longest telemetry string kept (bytes; longer ones are cut at a character boundary).
pub const MAX_TELEMETRY_STRING: usize = 256;
/// The most languages kept, and the most `X-Forwarded-For` addresses.
pub const MAX_TELEMETRY_LANGUAGES: usize = 16;

/// `s` cut to at most `max` bytes, at a character boundary.
fn cap(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

impl Telemetry {
    /// Empty telemetry: a clean desktop browser at 127.0.0.1.
    pub fn new() -> Self {
        Self::default()
    }

    /// This telemetry within the emulator's bounds: every string at most
    /// [`MAX_TELEMETRY_STRING`] bytes, at most [`MAX_TELEMETRY_LANGUAGES`] languages. A
    /// session then holds a few KB whatever a caller sends.
    ///
    /// ```
    /// use risk_emulator::{Telemetry, MAX_TELEMETRY_STRING};
    /// let t = Telemetry::new().with_user_agent("x".repeat(100_000)).bounded();
    /// assert_eq!(t.user_agent.map(|ua| ua.len()), Some(MAX_TELEMETRY_STRING));
    /// ```
    #[must_use]
    pub fn bounded(mut self) -> Self {
        for field in [
            &mut self.device_id,
            &mut self.device_fingerprint,
            &mut self.device_public_key,
            &mut self.user_agent,
            &mut self.ip,
            &mut self.timezone,
            &mut self.country_code,
            &mut self.browser_name,
            &mut self.browser_version,
            &mut self.os_name,
            &mut self.os_version,
            &mut self.device_platform,
            &mut self.location,
            &mut self.sdk_version,
        ]
        .into_iter()
        .flatten()
        {
            cap(field, MAX_TELEMETRY_STRING);
        }
        self.languages.truncate(MAX_TELEMETRY_LANGUAGES);
        self.x_forwarded_for.truncate(MAX_TELEMETRY_LANGUAGES);
        for item in self.languages.iter_mut().chain(&mut self.x_forwarded_for) {
            cap(item, MAX_TELEMETRY_STRING);
        }
        self
    }

    /// Sets the device id.
    #[must_use]
    pub fn with_device_id(mut self, id: impl Into<String>) -> Self {
        self.device_id = Some(id.into());
        self
    }

    /// Sets the device fingerprint.
    #[must_use]
    pub fn with_fingerprint(mut self, fingerprint: impl Into<String>) -> Self {
        self.device_fingerprint = Some(fingerprint.into());
        self
    }

    /// Sets the device public key.
    #[must_use]
    pub fn with_public_key(mut self, key: impl Into<String>) -> Self {
        self.device_public_key = Some(key.into());
        self
    }

    /// Sets the IP address.
    #[must_use]
    pub fn with_ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Sets the user agent.
    #[must_use]
    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Sets the page's URL.
    #[must_use]
    pub fn with_location(mut self, url: impl Into<String>) -> Self {
        self.location = Some(url.into());
        self
    }

    /// Sets the browser's languages, most preferred first.
    #[must_use]
    pub fn with_languages(
        mut self,
        languages: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.languages = languages.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the country code (overrides the IP's).
    #[must_use]
    pub fn with_country(mut self, code: impl Into<String>) -> Self {
        self.country_code = Some(code.into());
        self
    }

    /// Marks the browser headless (automation).
    #[must_use]
    pub fn headless(mut self) -> Self {
        self.headless = true;
        self
    }

    /// Marks the browser incognito.
    #[must_use]
    pub fn incognito(mut self) -> Self {
        self.incognito = true;
        self
    }

    /// Marks the connection as going through a VPN.
    #[must_use]
    pub fn vpn(mut self) -> Self {
        self.vpn = true;
        self
    }

    /// Marks the connection as going through Tor.
    #[must_use]
    pub fn tor(mut self) -> Self {
        self.tor = true;
        self
    }
}

/// What the front end's `tsPlatform.drs.triggerActionEvent(actionType, {correlationId,
/// claimedUserId})` sends: the body of `POST /emulator/v1/sdk/trigger-action`.
///
/// ```
/// use risk_emulator::SdkTriggerAction;
/// let a = SdkTriggerAction::new("st_...", "login").with_claimed_user_id("u-1");
/// assert_eq!(a.action_type, "login");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SdkTriggerAction {
    /// The session token of [`EmulatorHandle::create_session`](crate::EmulatorHandle::create_session).
    pub session_token: String,
    /// The action type (`login`, `register`, ... or a custom name).
    pub action_type: String,
    /// Correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The user the front end claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_user_id: Option<String>,
}

impl SdkTriggerAction {
    /// An action of `action_type` in the session `session_token`.
    pub fn new(session_token: impl Into<String>, action_type: impl Into<String>) -> Self {
        Self {
            session_token: session_token.into(),
            action_type: action_type.into(),
            ..Self::default()
        }
    }

    /// Sets the correlation id.
    #[must_use]
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Sets the claimed user id.
    #[must_use]
    pub fn with_claimed_user_id(mut self, id: impl Into<String>) -> Self {
        self.claimed_user_id = Some(id.into());
        self
    }
}

/// What the user agent string says.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct UaInfo {
    pub(crate) browser_name: Option<String>,
    pub(crate) browser_version: Option<String>,
    pub(crate) os_name: Option<String>,
    pub(crate) os_version: Option<String>,
    pub(crate) platform: Option<String>,
    pub(crate) headless: bool,
}

fn version_after(ua: &str, marker: &str) -> Option<String> {
    let start = ua.find(marker)? + marker.len();
    let v: String = ua[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
        .collect();
    (!v.is_empty()).then(|| v.replace('_', "."))
}

/// A small user-agent parser: the common browsers and operating systems.
pub(crate) fn parse_user_agent(ua: &str) -> UaInfo {
    let mut info = UaInfo::default();
    if ua.is_empty() {
        return info;
    }
    let browsers: [(&str, &str); 7] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("HeadlessChrome/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ];
    for (marker, name) in browsers {
        if ua.contains(marker) && (marker != "Version/" || ua.contains("Safari/")) {
            info.browser_name = Some(name.to_owned());
            info.browser_version = version_after(ua, marker);
            break;
        }
    }
    info.headless = ua.contains("HeadlessChrome") || ua.contains("PhantomJS");
    let (os, version) = if ua.contains("Windows NT") {
        ("Windows", version_after(ua, "Windows NT "))
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        ("iOS", version_after(ua, " OS "))
    } else if ua.contains("Mac OS X") {
        ("macOS", version_after(ua, "Mac OS X "))
    } else if ua.contains("Android") {
        ("Android", version_after(ua, "Android "))
    } else if ua.contains("CrOS") {
        ("Chrome OS", None)
    } else if ua.contains("Linux") {
        ("Linux", None)
    } else {
        ("", None)
    };
    if !os.is_empty() {
        info.os_name = Some(os.to_owned());
        info.os_version = version;
    }
    info.platform = Some(
        if ua.contains("iPad") || ua.contains("Tablet") {
            "tablet"
        } else if ua.contains("Mobi") || ua.contains("iPhone") || ua.contains("Android") {
            "mobile"
        } else {
            "desktop"
        }
        .to_owned(),
    );
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_user_agents() {
        let chrome = parse_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36");
        assert_eq!(chrome.browser_name.as_deref(), Some("Chrome"));
        assert_eq!(chrome.browser_version.as_deref(), Some("120.0.6099.71"));
        assert_eq!(chrome.os_name.as_deref(), Some("macOS"));
        assert_eq!(chrome.os_version.as_deref(), Some("10.15.7"));
        assert_eq!(chrome.platform.as_deref(), Some("desktop"));
        assert!(!chrome.headless);

        let ff = parse_user_agent(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        );
        assert_eq!(ff.browser_name.as_deref(), Some("Firefox"));
        assert_eq!(ff.os_name.as_deref(), Some("Windows"));
        assert_eq!(ff.os_version.as_deref(), Some("10.0"));

        let safari = parse_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1");
        assert_eq!(safari.browser_name.as_deref(), Some("Safari"));
        assert_eq!(safari.os_name.as_deref(), Some("iOS"));
        assert_eq!(safari.os_version.as_deref(), Some("17.1"));
        assert_eq!(safari.platform.as_deref(), Some("mobile"));

        let headless = parse_user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36");
        assert!(headless.headless);
        assert_eq!(headless.os_name.as_deref(), Some("Linux"));

        assert_eq!(parse_user_agent(""), UaInfo::default());
    }
}
