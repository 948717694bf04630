//! The scoring engine: history in sliding windows, signals to reasons, reasons to a score,
//! the score to a recommendation. Deterministic: the same state and input give the same
//! answer; time comes from the caller.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use indexmap::IndexMap;

use risk_core::{Reason, RecommendationType};

use crate::config::Thresholds;

/// Window of the action-rate signals.
pub(crate) const RATE_WINDOW_MS: i64 = 60_000;
/// Window of the users-per-IP and devices-per-IP signals.
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// At most this many timestamps per key (a rate saturates there).
const MAX_EVENTS_PER_KEY: usize = 10_000;
/// At most this many members per set (users of one IP, devices of one user...).
const MAX_SET: usize = 1_000;
/// At most this many keys per map; beyond, one is dropped per new key.
const MAX_KEYS: usize = 100_000;
/// Keys of each map checked for staleness per action: the maps are swept a few keys at a
/// time, never whole (a full pass every `MAX_KEYS / SWEEP_STEP` actions at most).
const SWEEP_STEP: usize = 4;

/// History counts of one action (the action itself included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HistoryCounts {
    pub(crate) ip_action_rate_60_sec: u64,
    pub(crate) user_action_rate_60_sec: u64,
    pub(crate) device_action_rate_60_sec: u64,
    pub(crate) ip_user_count_last_hour: u64,
    pub(crate) ip_device_count_last_hour: u64,
    pub(crate) linking_user_to_device_count: u64,
    pub(crate) linking_device_to_users_count: u64,
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Sliding-window counters and user/device links, bounded in memory. The windowed maps are
/// insertion-ordered (`IndexMap`) so they can be swept incrementally from a cursor.
#[derive(Debug, Default)]
pub(crate) struct History {
    ip_actions: Windows,
    user_actions: Windows,
    device_actions: Windows,
    ip_users: Sets,
    ip_devices: Sets,
    /// Devices ever seen (last time seen).
    seen_devices: Swept<i64>,
    user_devices: HashMap<String, HashSet<String>>,
    device_users: HashMap<String, HashSet<String>>,
    trusted: HashSet<(String, String)>,
    actions: u64,
}

/// A map with a sweep cursor.
#[derive(Debug)]
struct Swept<V> {
    map: IndexMap<String, V>,
    cursor: usize,
}

impl<V> Default for Swept<V> {
    fn default() -> Self {
        Self {
            map: IndexMap::new(),
            cursor: 0,
        }
    }
}

impl<V: Default> Swept<V> {
    /// Checks the next [`SWEEP_STEP`] keys, dropping those `stale` says.
    fn sweep_step(&mut self, mut stale: impl FnMut(&mut V) -> bool) {
        for _ in 0..SWEEP_STEP {
            if self.cursor >= self.map.len() {
                self.cursor = 0;
            }
            let Some((_, value)) = self.map.get_index_mut(self.cursor) else {
                return;
            };
            if stale(value) {
                // The last entry moves here: it is checked next.
                self.map.swap_remove_index(self.cursor);
            } else {
                self.cursor += 1;
            }
        }
    }

    /// The entry of `key`, made room for when the map is full (the key at the cursor goes).
    fn entry(&mut self, key: &str) -> &mut V {
        let index = match self.map.get_index_of(key) {
            Some(index) => index,
            None => {
                if self.map.len() >= MAX_KEYS {
                    if self.cursor >= self.map.len() {
                        self.cursor = 0;
                    }
                    // The last key moves into the freed slot: step past it, or the next
                    // eviction would take the newest key again.
                    self.map.swap_remove_index(self.cursor);
                    self.cursor += 1;
                }
                self.map.insert_full(key.to_owned(), V::default()).0
            }
        };
        // In bounds: found or inserted just above.
        &mut self.map[index]
    }
}

/// Timestamps of actions per key within the rate window.
type Windows = Swept<VecDeque<i64>>;
/// Members seen per key within the hour.
type Sets = Swept<Members>;

/// The members seen under one key (the users of an IP, its devices), each with when it was last
/// seen, in the order seen: expiry and eviction take from the front, so recording a member costs
/// O(1) amortized under the history's lock, never a scan of the set.
#[derive(Debug, Default)]
struct Members {
    /// Each member and when it was last seen.
    last_seen: HashMap<Arc<str>, i64>,
    /// `(when, member)` in time order; an entry older than its member's last sighting is stale
    /// and skipped when it reaches the front.
    order: VecDeque<(i64, Arc<str>)>,
}

impl Members {
    /// Drops the members not seen within the hour before `now`.
    fn expire(&mut self, now: i64) {
        while self.order.front().is_some_and(|&(t, _)| t <= now - HOUR_MS) {
            self.pop_front();
        }
    }

    /// Takes the front entry, and its member with it when that was its last sighting.
    fn pop_front(&mut self) {
        if let Some((t, member)) = self.order.pop_front() {
            if self.last_seen.get(&member) == Some(&t) {
                self.last_seen.remove(&member);
            }
        }
    }

    /// Records `member` as seen at `now`; returns how many members were seen within the hour.
    fn record(&mut self, member: &str, now: i64) -> usize {
        self.expire(now);
        let member: Arc<str> = match self.last_seen.get_key_value(member) {
            Some((_, &t)) if t == now => return self.last_seen.len(),
            Some((known, _)) => Arc::clone(known),
            None => {
                // Full: the member seen least recently goes (stale entries on the way are
                // skipped; every member has its last sighting in `order`).
                while self.last_seen.len() >= MAX_SET && !self.order.is_empty() {
                    self.pop_front();
                }
                Arc::from(member)
            }
        };
        self.last_seen.insert(Arc::clone(&member), now);
        let behind = self.order.back().is_some_and(|&(t, _)| t > now);
        self.order.push_back((now, member));
        if behind {
            // The clock moved back (the emulator's clock can be set): keep the time order.
            self.order.make_contiguous().sort_unstable();
        }
        if self.order.len() > 2 * self.last_seen.len() + 16 {
            // Sightings of members already seen leave stale entries behind: drop them once
            // they outnumber the live ones (amortized O(1) per sighting, and the memory of a
            // key stays proportional to its members).
            let last_seen = &self.last_seen;
            self.order
                .retain(|(t, member)| last_seen.get(member) == Some(t));
        }
        self.last_seen.len()
    }

    /// How many members were seen within the hour before `now`.
    fn count_at(&mut self, now: i64) -> usize {
        self.expire(now);
        self.last_seen.len()
    }
}

/// Appends `now` to the window of `key` and returns the count within the window.
fn bump(windows: &mut Windows, key: &str, now: i64) -> u64 {
    let q = windows.entry(key);
    while q.front().is_some_and(|&t| t <= now - RATE_WINDOW_MS) {
        q.pop_front();
    }
    if q.len() >= MAX_EVENTS_PER_KEY {
        q.pop_front();
    }
    q.push_back(now);
    count(q.len())
}

/// Records `member` as seen under `key` at `now`; returns how many members were seen
/// within the last hour.
fn bump_set(sets: &mut Sets, key: &str, member: &str, now: i64) -> u64 {
    count(sets.entry(key).record(member, now))
}

/// Drops one key of a full map (the first the map yields).
fn evict_one<V>(map: &mut HashMap<String, V>) {
    if let Some(k) = map.keys().next().cloned() {
        map.remove(&k);
    }
}

fn link_into(map: &mut HashMap<String, HashSet<String>>, key: &str, member: &str) {
    if map.len() >= MAX_KEYS && !map.contains_key(key) {
        evict_one(map);
    }
    let set = map.entry(key.to_owned()).or_default();
    if set.len() < MAX_SET {
        set.insert(member.to_owned());
    }
}

impl History {
    /// Whether the device was seen before (by any earlier action).
    pub(crate) fn device_seen(&self, device: &str) -> bool {
        self.seen_devices.map.contains_key(device)
    }

    /// Whether the user has at least one linked device.
    pub(crate) fn user_known(&self, user: &str) -> bool {
        self.user_devices.get(user).is_some_and(|s| !s.is_empty())
    }

    /// Whether the device is linked to the user.
    pub(crate) fn linked(&self, user: &str, device: &str) -> bool {
        self.user_devices
            .get(user)
            .is_some_and(|s| s.contains(device))
    }

    /// Whether the device is trusted for the user.
    pub(crate) fn trusted(&self, user: &str, device: &str) -> bool {
        self.trusted.contains(&(user.to_owned(), device.to_owned()))
    }

    /// Links a user and a device (a successful action).
    pub(crate) fn link(&mut self, user: &str, device: &str) {
        link_into(&mut self.user_devices, user, device);
        link_into(&mut self.device_users, device, user);
    }

    /// Trusts a device for a user (a passed challenge).
    pub(crate) fn trust(&mut self, user: &str, device: &str) {
        if self.trusted.len() >= MAX_KEYS {
            if let Some(k) = self.trusted.iter().next().cloned() {
                self.trusted.remove(&k);
            }
        }
        self.trusted.insert((user.to_owned(), device.to_owned()));
    }

    /// Records an action and returns the history counts that include it.
    pub(crate) fn record_action(
        &mut self,
        now: i64,
        ip: &str,
        user: Option<&str>,
        device: &str,
    ) -> HistoryCounts {
        self.actions += 1;
        self.sweep_step(now);
        *self.seen_devices.entry(device) = now;
        let mut c = HistoryCounts {
            ip_action_rate_60_sec: bump(&mut self.ip_actions, ip, now),
            device_action_rate_60_sec: bump(&mut self.device_actions, device, now),
            ip_device_count_last_hour: bump_set(&mut self.ip_devices, ip, device, now),
            linking_device_to_users_count: self
                .device_users
                .get(device)
                .map_or(0, |s| count(s.len())),
            ..HistoryCounts::default()
        };
        if let Some(user) = user {
            c.user_action_rate_60_sec = bump(&mut self.user_actions, user, now);
            c.ip_user_count_last_hour = bump_set(&mut self.ip_users, ip, user, now);
            c.linking_user_to_device_count =
                self.user_devices.get(user).map_or(0, |s| count(s.len()));
        } else {
            c.ip_user_count_last_hour = self
                .ip_users
                .map
                .get_mut(ip)
                .map_or(0, |m| count(m.count_at(now)));
        }
        c
    }

    /// A few keys of each windowed map checked, those with nothing recent dropped.
    fn sweep_step(&mut self, now: i64) {
        let stale_window =
            |q: &mut VecDeque<i64>| q.back().is_none_or(|&t| t <= now - RATE_WINDOW_MS);
        self.ip_actions.sweep_step(stale_window);
        self.user_actions.sweep_step(stale_window);
        self.device_actions.sweep_step(stale_window);
        let stale_set = |m: &mut Members| m.count_at(now) == 0;
        self.ip_users.sweep_step(stale_set);
        self.ip_devices.sweep_step(stale_set);
    }

    /// Number of keys held, for tests of the bounds.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.ip_actions.map.len() + self.user_actions.map.len() + self.device_actions.map.len()
    }
}

/// Everything the score is computed from.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Signals {
    pub(crate) headless: bool,
    pub(crate) webdriver: bool,
    pub(crate) no_user_interaction: bool,
    pub(crate) vpn: bool,
    pub(crate) tor: bool,
    pub(crate) hosting: bool,
    pub(crate) proxy: bool,
    pub(crate) anonymizer: bool,
    pub(crate) incognito: bool,
    pub(crate) private_browser: bool,
    /// The device was never seen before.
    pub(crate) device_new: bool,
    /// The user is known (has linked devices) and this device is not one of them.
    pub(crate) profile_device_new: bool,
    /// The device is trusted for the user (passed challenge).
    pub(crate) trusted: bool,
    pub(crate) history: HistoryCounts,
}

/// Score contributions (documented in the README).
pub(crate) mod weights {
    pub(crate) const BASE: f64 = 5.0;
    pub(crate) const DEVICE_NEW: f64 = 5.0;
    pub(crate) const PROFILE_DEVICE_NEW: f64 = 50.0;
    pub(crate) const AUTOMATION: f64 = 85.0;
    pub(crate) const NO_INTERACTION: f64 = 50.0;
    pub(crate) const TOR: f64 = 55.0;
    pub(crate) const ANONYMIZER: f64 = 35.0;
    pub(crate) const INCOGNITO: f64 = 15.0;
    pub(crate) const PRIVATE_BROWSER: f64 = 10.0;
    pub(crate) const VELOCITY: f64 = 30.0;
    pub(crate) const HIGH_VELOCITY: f64 = 45.0;
    pub(crate) const LINKING: f64 = 20.0;
    pub(crate) const TRUSTED_BONUS: f64 = -40.0;
    /// Action rate (per IP, user or device, 60 s) from which velocity counts.
    pub(crate) const VELOCITY_RATE: u64 = 10;
    /// Action rate from which it counts as high velocity.
    pub(crate) const HIGH_VELOCITY_RATE: u64 = 30;
    /// Users of one device, or users of one IP in an hour, from which linking counts.
    pub(crate) const LINKING_USERS: u64 = 5;
    pub(crate) const IP_USERS_HOUR: u64 = 10;
}

/// A score, its reasons and the recommendation they give.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assessment {
    pub(crate) score: f64,
    pub(crate) reasons: Vec<Reason>,
    pub(crate) recommendation: RecommendationType,
}

/// Signals → reasons → score → recommendation.
pub(crate) fn assess(s: &Signals, thresholds: &Thresholds) -> Assessment {
    use weights as w;
    let mut score = w::BASE;
    let mut reasons = Vec::new();
    let bot = s.headless || s.webdriver || s.no_user_interaction;
    if bot {
        reasons.push(Reason::BehaviorBot);
        score += if s.headless || s.webdriver {
            w::AUTOMATION
        } else {
            w::NO_INTERACTION
        };
    }
    if s.tor || s.vpn || s.hosting || s.proxy || s.anonymizer {
        reasons.push(Reason::IpRiskyReputation);
        score += if s.tor { w::TOR } else { w::ANONYMIZER };
    }
    if s.incognito {
        reasons.push(Reason::DeviceIncognitoBrowser);
        score += w::INCOGNITO;
    }
    if s.private_browser {
        reasons.push(Reason::DevicePrivateBrowser);
        score += w::PRIVATE_BROWSER;
    }
    if s.profile_device_new {
        reasons.push(Reason::ProfileDeviceNew);
        score += w::PROFILE_DEVICE_NEW;
    } else if s.device_new {
        reasons.push(Reason::DeviceNew);
        score += w::DEVICE_NEW;
    }
    let h = &s.history;
    let rate = h
        .ip_action_rate_60_sec
        .max(h.user_action_rate_60_sec)
        .max(h.device_action_rate_60_sec);
    let linking = h.linking_device_to_users_count >= w::LINKING_USERS
        || h.ip_user_count_last_hour >= w::IP_USERS_HOUR;
    if rate >= w::VELOCITY_RATE || linking {
        reasons.push(Reason::DeviceProfileVelocity);
        if rate >= w::HIGH_VELOCITY_RATE {
            score += w::HIGH_VELOCITY;
        } else if rate >= w::VELOCITY_RATE {
            score += w::VELOCITY;
        }
        if linking {
            score += w::LINKING;
        }
    }
    let trusted = s.trusted && !bot;
    if trusted {
        score += w::TRUSTED_BONUS;
    }
    let score = (score.clamp(0.0, 100.0) * 10.0).round() / 10.0;
    let recommendation = if score >= thresholds.deny {
        RecommendationType::Deny
    } else if score >= thresholds.challenge {
        RecommendationType::Challenge
    } else if trusted {
        RecommendationType::Trust
    } else {
        RecommendationType::Allow
    };
    Assessment {
        score,
        reasons,
        recommendation,
    }
}

/// The score reported when a rule sets the recommendation: consistent with it.
pub(crate) fn rule_score(rec: &RecommendationType, score: f64, t: &Thresholds) -> f64 {
    match rec {
        RecommendationType::Deny => score.max(t.deny.max(90.0)),
        RecommendationType::Challenge => score.max(t.challenge),
        RecommendationType::Allow => score.min((t.challenge - 1.0).max(0.0)),
        RecommendationType::Trust => score.min(10.0),
        _ => score,
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn t() -> Thresholds {
        Thresholds::default()
    }

    #[test]
    fn clean_first_login_is_allow_with_low_score() {
        let a = assess(
            &Signals {
                device_new: true,
                history: HistoryCounts {
                    ip_action_rate_60_sec: 1,
                    ..HistoryCounts::default()
                },
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(a.recommendation, RecommendationType::Allow);
        assert!(a.score < 20.0, "{}", a.score);
        assert_eq!(a.reasons, vec![Reason::DeviceNew]);
    }

    #[test]
    fn new_device_for_known_user_is_challenge() {
        let a = assess(
            &Signals {
                profile_device_new: true,
                device_new: true,
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(a.recommendation, RecommendationType::Challenge);
        assert_eq!(a.reasons, vec![Reason::ProfileDeviceNew]);
    }

    #[test]
    fn headless_bot_is_deny_and_no_interaction_is_challenge() {
        let a = assess(
            &Signals {
                headless: true,
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(a.recommendation, RecommendationType::Deny);
        assert!(a.reasons.contains(&Reason::BehaviorBot));
        let b = assess(
            &Signals {
                no_user_interaction: true,
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(b.recommendation, RecommendationType::Challenge);
        // A trusted device does not whitewash a bot.
        let c = assess(
            &Signals {
                webdriver: true,
                trusted: true,
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(c.recommendation, RecommendationType::Deny);
    }

    #[test]
    fn anonymizers_and_incognito_add_reasons() {
        let a = assess(
            &Signals {
                vpn: true,
                incognito: true,
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(
            a.reasons,
            vec![Reason::IpRiskyReputation, Reason::DeviceIncognitoBrowser]
        );
        assert_eq!(a.recommendation, RecommendationType::Challenge);
        let tor = assess(
            &Signals {
                tor: true,
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(tor.recommendation, RecommendationType::Challenge);
    }

    #[test]
    fn trusted_device_is_trust_and_thresholds_are_configurable() {
        let a = assess(
            &Signals {
                trusted: true,
                ..Signals::default()
            },
            &t(),
        );
        assert_eq!(a.recommendation, RecommendationType::Trust);
        let strict = Thresholds::new(5.0, 10.0);
        let b = assess(
            &Signals {
                device_new: true,
                ..Signals::default()
            },
            &strict,
        );
        assert_eq!(b.recommendation, RecommendationType::Deny);
    }

    #[test]
    fn velocity_raises_the_score() {
        let calm = assess(&Signals::default(), &t());
        let busy = assess(
            &Signals {
                history: HistoryCounts {
                    ip_action_rate_60_sec: 20,
                    ..HistoryCounts::default()
                },
                ..Signals::default()
            },
            &t(),
        );
        assert!(busy.score > calm.score);
        assert!(busy.reasons.contains(&Reason::DeviceProfileVelocity));
    }

    #[test]
    fn history_windows_slide_and_links_count() {
        let mut h = History::default();
        for i in 0..20 {
            let c = h.record_action(1_000 + i, "1.2.3.4", Some(&format!("u{i}")), "d");
            assert_eq!(c.ip_action_rate_60_sec, u64::try_from(i + 1).unwrap());
            assert_eq!(c.ip_user_count_last_hour, u64::try_from(i + 1).unwrap());
        }
        // 61 s later the minute window is empty again, the hour window is not.
        let c = h.record_action(62_000, "1.2.3.4", Some("u0"), "d");
        assert_eq!(c.ip_action_rate_60_sec, 1);
        assert_eq!(c.device_action_rate_60_sec, 1);
        assert_eq!(c.ip_user_count_last_hour, 20);
        assert_eq!(c.ip_device_count_last_hour, 1);
        h.link("u0", "d");
        h.link("u1", "d");
        let c = h.record_action(63_000, "1.2.3.4", Some("u0"), "d");
        assert_eq!(c.linking_device_to_users_count, 2);
        assert_eq!(c.linking_user_to_device_count, 1);
        assert!(h.user_known("u0") && h.linked("u0", "d") && !h.linked("u0", "x"));
        // Stale keys are swept a few at a time by later actions: 22 stale keys (one IP, one
        // device, 20 users), gone within a few actions of another IP and device.
        for i in 0..8 {
            h.record_action(10 * HOUR_MS + i, "5.6.7.8", None, "e");
        }
        assert_eq!(
            h.keys(),
            2,
            "only the new IP's and device's windows are left"
        );
        assert_eq!(h.ip_users.map.len(), 0);
        assert_eq!(h.ip_devices.map.len(), 1);
    }

    #[test]
    fn a_full_map_does_not_evict_the_keys_just_added() {
        let mut seen: Swept<i64> = Swept::default();
        for i in 0..MAX_KEYS {
            *seen.entry(&format!("old-{i}")) = 0;
        }
        for i in 0..10 {
            *seen.entry(&format!("new-{i}")) = 1;
        }
        assert_eq!(seen.map.len(), MAX_KEYS);
        for i in 0..10 {
            assert!(
                seen.map.contains_key(&format!("new-{i}")),
                "new-{i} was evicted"
            );
        }
    }

    #[test]
    fn members_count_within_the_hour_and_a_full_set_drops_the_least_recently_seen() {
        let mut m = Members::default();
        assert_eq!(m.record("a", 0), 1);
        assert_eq!(m.record("b", 10), 2);
        assert_eq!(m.record("a", 20), 2, "seen again: counted once");
        // "b" was last seen at 10, "a" at 20: an hour after 10, only "a" is left.
        assert_eq!(m.count_at(10 + HOUR_MS), 1);
        assert_eq!(m.count_at(20 + HOUR_MS), 0);

        let mut m = Members::default();
        for i in 0..MAX_SET {
            m.record(&format!("m{i}"), i64::try_from(i).unwrap());
        }
        // m0 is seen again: m1 is now the least recently seen, and goes for a new member.
        m.record("m0", 5_000);
        assert_eq!(m.record("new", 5_001), MAX_SET);
        assert!(m.last_seen.contains_key("m0") && m.last_seen.contains_key("new"));
        assert!(!m.last_seen.contains_key("m1"));
        assert!(m.order.len() <= 2 * MAX_SET + 16);
    }

    #[test]
    fn members_seen_again_and_again_stay_bounded_and_a_clock_set_back_is_followed() {
        let mut m = Members::default();
        for i in 0..10 * MAX_SET {
            m.record(&format!("m{}", i % 3), i64::try_from(i).unwrap());
        }
        assert_eq!(m.count_at(20_000), 3);
        assert!(
            m.order.len() <= 2 * 3 + 16,
            "{} entries kept",
            m.order.len()
        );
        // The emulator's clock can be set back: what is recorded then still expires in time.
        let mut m = Members::default();
        m.record("late", 10 * HOUR_MS);
        m.record("early", 0);
        assert_eq!(
            m.count_at(HOUR_MS + 1),
            1,
            "\"early\" expired, \"late\" kept"
        );
        assert!(m.last_seen.contains_key("late"));
    }

    #[test]
    fn history_is_bounded_per_key() {
        let mut h = History::default();
        let mut last = HistoryCounts::default();
        for i in 0..(MAX_EVENTS_PER_KEY as i64 + 50) {
            last = h.record_action(1_000, "ip", None, &format!("d{}", i % 3));
        }
        assert_eq!(last.ip_action_rate_60_sec, MAX_EVENTS_PER_KEY as u64);
    }

    #[test]
    fn rule_scores_follow_the_recommendation() {
        assert_eq!(rule_score(&RecommendationType::Deny, 10.0, &t()), 90.0);
        assert_eq!(rule_score(&RecommendationType::Challenge, 10.0, &t()), 50.0);
        assert_eq!(rule_score(&RecommendationType::Allow, 95.0, &t()), 49.0);
        assert_eq!(rule_score(&RecommendationType::Trust, 95.0, &t()), 10.0);
    }
}
