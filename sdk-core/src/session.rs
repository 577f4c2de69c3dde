//! Sessions: a `sessionId` in every event's context, rotated after a period
//! without events. The first event of a session carries `sessionStart: true`.

use alloc::string::String;
use core::time::Duration;

use crate::ids::{to_text, uuid_v7};
use crate::json::{Properties, decode_string, push_string};
use crate::rng::Rng;
use crate::time::Timestamp;

/// The current session, as persisted (meta key [`Sessions::META_KEY`]):
/// `{"id": ..., "lastActivity": epoch ms}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    id: String,
    last_activity: u64,
}

impl Session {
    /// The persisted form, written by hand like the events (see `crate::json`).
    fn to_json(&self) -> String {
        let mut out = String::from("{\"id\":");
        push_string(&mut out, &self.id);
        out.push_str(",\"lastActivity\":");
        out.push_str(itoa::Buffer::new().format(self.last_activity));
        out.push('}');
        out
    }

    /// Reads the persisted form with the core's JSON text scanner (see
    /// `consent::Decision::parse` for why).
    fn parse(text: &str) -> Option<Session> {
        let object = Properties::from_json(text).ok()?;
        let id = object.get_json("id").filter(|id| id.starts_with('"'))?;
        Some(Session {
            id: decode_string(id).into_owned(),
            last_activity: object.get_json("lastActivity")?.parse().ok()?,
        })
    }
}

/// Tracks the current session and rotates it after `timeout` of inactivity.
#[derive(Debug, Clone)]
pub(crate) struct Sessions {
    timeout: Duration,
    current: Option<Session>,
}

impl Sessions {
    /// Meta key of the persisted session.
    pub const META_KEY: &'static str = "session";

    /// Session tracking with a persisted session, if any.
    pub fn new(timeout: Duration, persisted: Option<&str>) -> Self {
        let current = persisted.and_then(Session::parse);
        Sessions { timeout, current }
    }

    /// Records activity at `now`: returns the session id and whether this starts a new session.
    pub fn touch(&mut self, now: Timestamp, rng: &mut Rng) -> (&str, bool) {
        let expired = match &self.current {
            None => true,
            Some(s) => {
                now.saturating_since(Timestamp::from_millis(s.last_activity)) >= self.timeout
            }
        };
        if expired {
            self.current = Some(Session {
                id: to_text(uuid_v7(now, rng)),
                last_activity: now.as_millis(),
            });
        } else if let Some(s) = &mut self.current {
            s.last_activity = s.last_activity.max(now.as_millis());
        }
        (self.current_id().unwrap_or_default(), expired)
    }

    /// Ends the session; the next event starts a new one.
    pub fn end(&mut self) {
        self.current = None;
    }

    /// The current session id, if a session is open (it may have expired by now).
    pub fn current_id(&self) -> Option<&str> {
        self.current.as_ref().map(|s| s.id.as_str())
    }

    /// The persisted form (`None` when no session is open).
    pub fn persisted(&self) -> Option<String> {
        self.current.as_ref().map(Session::to_json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_after_timeout_only() {
        let mut rng = Rng::from_seed([1; 32]);
        let mut sessions = Sessions::new(Duration::from_secs(1800), None);
        let t0 = Timestamp::from_millis(1_000_000);
        let (first, started) = sessions.touch(t0, &mut rng);
        let first = first.to_string();
        assert!(started);
        let t1 = t0.saturating_add(Duration::from_secs(1799));
        assert_eq!(sessions.touch(t1, &mut rng), (first.as_str(), false));
        // The gap is measured from the last activity, not the session start.
        let t2 = t1.saturating_add(Duration::from_secs(1799));
        assert_eq!(sessions.touch(t2, &mut rng), (first.as_str(), false));
        let t3 = t2.saturating_add(Duration::from_secs(1800));
        let (third, started) = sessions.touch(t3, &mut rng);
        assert!(started);
        assert_ne!(third, first);
    }

    #[test]
    fn persists_and_restores() {
        let mut rng = Rng::from_seed([1; 32]);
        let mut sessions = Sessions::new(Duration::from_secs(60), None);
        let t0 = Timestamp::from_millis(5_000);
        let id = sessions.touch(t0, &mut rng).0.to_string();
        let saved = sessions.persisted().unwrap();
        assert_eq!(saved, format!(r#"{{"id":"{id}","lastActivity":5000}}"#));
        let mut restored = Sessions::new(Duration::from_secs(60), Some(&saved));
        assert_eq!(
            restored.touch(Timestamp::from_millis(6_000), &mut rng),
            (id.as_str(), false)
        );
    }
}
