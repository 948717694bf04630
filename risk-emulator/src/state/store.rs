//! The actions kept for their later recommendation and result: 16 shards, each behind its own
//! short lock, sized once for its share of [`MAX_ACTIONS`] (never rehashed under load), and
//! pruned a few entries at a time on each insert (never swept whole). Two bounds: at most
//! [`MAX_ACTIONS`] actions and [`MAX_ACTION_BYTES`] of their requests; beyond either, the
//! oldest actions are forgotten first.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

use super::Action;

/// Shards of the store; a power of two (the shard is the key's low bits).
const SHARDS: usize = 16;
/// At most this many actions are kept (the newest); an older action token answers like an
/// expired one.
pub(crate) const MAX_ACTIONS: usize = 262_144;
/// At most this many bytes of actions: each counts [`ACTION_OVERHEAD`] plus its request's
/// size, so large requests (transaction data, custom attributes) shorten the history instead
/// of growing memory.
pub(crate) const MAX_ACTION_BYTES: usize = 160 * 1024 * 1024;
/// What an action costs besides its request: the kept record, its map and queue entries.
pub(crate) const ACTION_OVERHEAD: usize = 512;
const PER_SHARD: usize = MAX_ACTIONS / SHARDS;
const BYTES_PER_SHARD: usize = MAX_ACTION_BYTES / SHARDS;
/// Expired actions dropped per insert, at most: pruning keeps pace with inserts without a
/// sweep (expired ones not dropped yet are refused on lookup anyway).
const PRUNE_PER_INSERT: usize = 4;

/// Actions by the key of their token.
pub(super) struct ActionStore {
    shards: Box<[Mutex<Shard>]>,
}

struct Shard {
    map: HashMap<u128, Box<Action>>,
    /// `(created, key, bytes)`, oldest first.
    order: VecDeque<(i64, u128, usize)>,
    /// The bytes of the actions in `order`.
    bytes: usize,
}

impl Shard {
    fn new() -> Self {
        Self {
            // Twice the bound: under steady churn (removals leave tombstones) the table still
            // never grows or rehashes while the shard is locked.
            map: HashMap::with_capacity(PER_SHARD * 2),
            order: VecDeque::with_capacity(PER_SHARD),
            bytes: 0,
        }
    }

    fn full(&self, adding: usize) -> bool {
        self.order.len() >= PER_SHARD || self.bytes.saturating_add(adding) > BYTES_PER_SHARD
    }
}

impl ActionStore {
    pub(super) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::new())).collect(),
        }
    }

    fn shard(&self, key: u128) -> &Mutex<Shard> {
        // Keys are keyed hashes: their low bits spread evenly.
        let index = (key as usize) % SHARDS;
        &self.shards[index]
    }

    /// Keeps `action` (whose request was `request_bytes` long), dropping a few expired ones
    /// (created at or before `expired_before`) and, while its shard is full, its oldest.
    pub(super) fn insert(&self, action: Action, request_bytes: usize, expired_before: i64) {
        let key = action.key;
        let created = action.created;
        let bytes = ACTION_OVERHEAD.saturating_add(request_bytes);
        let mut shard = self.shard(key).lock();
        let mut pruned = 0;
        while let Some(&(when, old, old_bytes)) = shard.order.front() {
            let expired = when <= expired_before && pruned < PRUNE_PER_INSERT;
            if !expired && !shard.full(bytes) {
                break;
            }
            shard.order.pop_front();
            shard.map.remove(&old);
            shard.bytes = shard.bytes.saturating_sub(old_bytes);
            pruned += 1;
        }
        shard.map.insert(key, Box::new(action));
        shard.order.push_back((created, key, bytes));
        shard.bytes = shard.bytes.saturating_add(bytes);
    }

    /// `f` on the action of `key`, under its shard's lock.
    pub(super) fn with<R>(&self, key: u128, f: impl FnOnce(&mut Action) -> R) -> Option<R> {
        self.shard(key).lock().map.get_mut(&key).map(|a| f(a))
    }

    /// `f` on every action, one shard at a time (for the rare `assignee` endpoint).
    pub(super) fn for_each(&self, mut f: impl FnMut(&mut Action)) {
        for shard in &*self.shards {
            shard.lock().map.values_mut().for_each(|a| f(a));
        }
    }

    pub(super) fn clear(&self) {
        for shard in &*self.shards {
            *shard.lock() = Shard::new();
        }
    }

    /// Actions held, for tests of the bounds.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use risk_core::{RecommendationType, TriggerActionRequest};

    use super::{ActionStore, MAX_ACTIONS, PER_SHARD, SHARDS};
    use crate::engine::Signals;
    use crate::state::{Action, ActionRequest, Decided, Session};
    use crate::telemetry::Telemetry;

    fn action(key: u128, created: i64) -> Action {
        let session = Arc::new(Session {
            key: 0,
            weight: 0,
            t: Telemetry::default(),
            device_id: "d".to_owned(),
            ip: "127.0.0.1".to_owned(),
            ip_addr: None,
            country: "US".to_owned(),
            anonymizer: false,
            hosting: false,
        });
        Action {
            created,
            key,
            session,
            client_id: None,
            request: ActionRequest::new(TriggerActionRequest::new("st_x", "login".into())),
            user_id: None,
            subject: None,
            signals: Signals::default(),
            decided: Decided {
                recommendation: RecommendationType::Allow,
                score: 5.0,
                reasons: Box::new([]),
                preview: None,
            },
            result: None,
            assignee: None,
        }
    }

    #[test]
    fn at_most_max_actions_the_oldest_forgotten_first() {
        let store = ActionStore::new();
        let total = MAX_ACTIONS + 1_000;
        for key in 0..total as u128 {
            store.insert(action(key, 0), 0, -1);
        }
        assert_eq!(store.len(), MAX_ACTIONS);
        // Key k is in shard k % SHARDS: the first ones of each shard are gone.
        assert!(store.with(0, |_| ()).is_none());
        assert!(store.with(total as u128 - 1, |_| ()).is_some());
    }

    #[test]
    fn large_requests_shorten_the_history_instead_of_growing_memory() {
        let store = ActionStore::new();
        // 64 KB each: the shard's byte budget holds 160 of them, not PER_SHARD.
        for i in 0..1_000u128 {
            store.insert(action(i * SHARDS as u128, 0), 64 * 1024, -1);
        }
        let kept = store.len();
        assert!(kept < 200, "kept {kept}, not up to {PER_SHARD}");
        assert!(
            store.with(999 * SHARDS as u128, |_| ()).is_some(),
            "the newest is kept"
        );
    }

    #[test]
    fn expired_actions_are_pruned_on_insert() {
        let store = ActionStore::new();
        for key in 0..100u128 {
            store.insert(action(key * SHARDS as u128, key as i64), 0, -1);
        }
        // Everything created at or before 99 is expired: each insert drops up to 4.
        for key in 100..120u128 {
            store.insert(action(key * SHARDS as u128, 1_000), 0, 99);
        }
        assert_eq!(store.len(), 100 - 20 * 4 + 20);
    }
}
