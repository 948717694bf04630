//! Event streaming state: per event type, a buffer of events and named streams with their
//! own read positions.

use std::collections::{HashMap, VecDeque};

use risk_core::{ActivityEvent, EventType};

/// At most this many events are buffered per type; older ones are dropped (streams that
/// had not read them skip them).
const MAX_EVENTS: usize = 100_000;

/// Why an event-streaming request fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventsError {
    /// 409
    Conflict(String),
    /// 404
    NotFound(String),
}

#[derive(Debug, Default)]
struct TypeLog {
    collecting: bool,
    /// Sequence number of `events[0]`.
    base: u64,
    events: VecDeque<ActivityEvent>,
    streams: HashMap<String, Stream>,
}

/// A named stream: its read position and its settings.
#[derive(Debug)]
struct Stream {
    /// Sequence number of the next event to read.
    next: u64,
    /// `enrichment` as created (recorded and told back; the emulator's events carry the same
    /// fields either way).
    enrichment: bool,
}

impl TypeLog {
    fn end(&self) -> u64 {
        self.base + u64::try_from(self.events.len()).unwrap_or(u64::MAX)
    }
}

/// All event types.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    types: HashMap<EventType, TypeLog>,
}

impl EventLog {
    pub(crate) fn is_collecting(&self, t: EventType) -> bool {
        self.types.get(&t).is_some_and(|l| l.collecting)
    }

    pub(crate) fn start(&mut self, t: EventType) -> Result<(), EventsError> {
        let log = self.types.entry(t).or_default();
        if log.collecting {
            return Err(EventsError::Conflict(format!(
                "already collecting `{t}` events"
            )));
        }
        log.collecting = true;
        Ok(())
    }

    /// Stops recording; buffered events stay readable by existing streams.
    pub(crate) fn stop(&mut self, t: EventType) -> Result<(), EventsError> {
        match self.types.get_mut(&t) {
            Some(log) if log.collecting => {
                log.collecting = false;
                Ok(())
            }
            _ => Err(EventsError::Conflict(format!(
                "not collecting `{t}` events: start-collect first"
            ))),
        }
    }

    /// A new stream reads from the oldest buffered event.
    pub(crate) fn create_stream(
        &mut self,
        t: EventType,
        id: &str,
        enrichment: bool,
    ) -> Result<(), EventsError> {
        let log = self.types.entry(t).or_default();
        if log.streams.contains_key(id) {
            return Err(EventsError::Conflict(format!(
                "stream `{id}` already exists for `{t}`"
            )));
        }
        let next = log.base;
        log.streams
            .insert(id.to_owned(), Stream { next, enrichment });
        Ok(())
    }

    /// The `enrichment` a stream was created with, if it exists.
    pub(crate) fn stream_enrichment(&self, t: EventType, id: &str) -> Option<bool> {
        Some(self.types.get(&t)?.streams.get(id)?.enrichment)
    }

    pub(crate) fn delete_stream(&mut self, t: EventType, id: &str) -> Result<(), EventsError> {
        self.types
            .get_mut(&t)
            .and_then(|log| log.streams.remove(id))
            .map(|_| ())
            .ok_or_else(|| EventsError::NotFound(format!("no stream `{id}` for `{t}`")))
    }

    /// The next at most `batch` events of the stream, advancing its read position.
    pub(crate) fn collect(
        &mut self,
        t: EventType,
        id: &str,
        batch: usize,
    ) -> Result<Vec<ActivityEvent>, EventsError> {
        let log = self
            .types
            .get_mut(&t)
            .ok_or_else(|| EventsError::NotFound(format!("no stream `{id}` for `{t}`")))?;
        let (base, end) = (log.base, log.end());
        let pos = &mut log
            .streams
            .get_mut(id)
            .ok_or_else(|| EventsError::NotFound(format!("no stream `{id}` for `{t}`")))?
            .next;
        let from = (*pos).max(base);
        let to = end.min(from.saturating_add(u64::try_from(batch).unwrap_or(u64::MAX)));
        *pos = to;
        let skip = usize::try_from(from - base).unwrap_or(usize::MAX);
        let take = usize::try_from(to - from).unwrap_or(0);
        Ok(log.events.iter().skip(skip).take(take).cloned().collect())
    }

    /// Records an event when its type is being collected.
    pub(crate) fn record(&mut self, t: EventType, event: ActivityEvent) {
        if let Some(log) = self.types.get_mut(&t).filter(|l| l.collecting) {
            if log.events.len() >= MAX_EVENTS {
                log.events.pop_front();
                log.base += 1;
            }
            log.events.push_back(event);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.types.clear();
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn ev(n: i64) -> ActivityEvent {
        let mut e = ActivityEvent::default();
        e.activity = "action_triggered".into();
        e.timestamp = Some(n);
        e
    }

    #[test]
    fn streams_have_their_own_positions() {
        let mut log = EventLog::default();
        let t = EventType::Risk;
        log.record(t, ev(0)); // not collecting: dropped
        log.start(t).unwrap();
        assert!(matches!(log.start(t), Err(EventsError::Conflict(_))));
        log.create_stream(t, "a", false).unwrap();
        assert!(matches!(
            log.create_stream(t, "a", true),
            Err(EventsError::Conflict(_))
        ));
        for i in 1..=5 {
            log.record(t, ev(i));
        }
        log.create_stream(t, "b", true).unwrap();
        assert_eq!(log.stream_enrichment(t, "a"), Some(false));
        assert_eq!(log.stream_enrichment(t, "b"), Some(true));
        assert_eq!(log.stream_enrichment(t, "c"), None);
        let a1 = log.collect(t, "a", 3).unwrap();
        assert_eq!(
            a1.iter().map(|e| e.timestamp.unwrap()).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let a2 = log.collect(t, "a", 10).unwrap();
        assert_eq!(a2.len(), 2);
        assert!(log.collect(t, "a", 10).unwrap().is_empty());
        assert_eq!(log.collect(t, "b", 10).unwrap().len(), 5);
        log.stop(t).unwrap();
        assert!(matches!(log.stop(t), Err(EventsError::Conflict(_))));
        log.record(t, ev(6));
        assert!(log.collect(t, "b", 10).unwrap().is_empty());
        log.delete_stream(t, "a").unwrap();
        assert!(matches!(
            log.collect(t, "a", 1),
            Err(EventsError::NotFound(_))
        ));
        assert!(matches!(
            log.delete_stream(t, "a"),
            Err(EventsError::NotFound(_))
        ));
    }
}
