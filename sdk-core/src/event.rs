//! The wire format of one event (DESIGN.md, camelCase JSON).
//!
//! An event is serialized once, when it is recorded, without `sentAt`; the
//! batch builder splices `sentAt` in on every send attempt.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::config::Library;
use crate::message::Properties;

/// The kind of call that produced an event (the wire `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// A named user action.
    Track,
    /// Ties the device to a known user.
    Identify,
    /// A web page view.
    Page,
    /// A mobile screen view.
    Screen,
    /// Associates the user with a group.
    Group,
    /// Merges two identities.
    Alias,
}

/// One event as it goes on the wire, minus `sentAt`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireEvent<'a> {
    pub event_id: &'a str,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<&'a str>,
    pub timestamp: &'a str,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: &'a Properties,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub traits: &'a Properties,
    pub context: &'a EventContext<'a>,
}

/// Context keys the core sets; the host's or the call's values for them are ignored.
const CORE_CONTEXT_KEYS: [&str; 4] = ["library", "sessionId", "sessionStart", "consent"];

/// An event's `context`, written straight from its parts (no merged map is built):
/// the host's context, the call's context over it, then the core's fields.
#[derive(Debug)]
pub(crate) struct EventContext<'a> {
    pub host: &'a Properties,
    pub event: &'a Properties,
    pub library: &'a Library,
    pub session_id: &'a str,
    pub session_start: bool,
    pub category: &'a str,
}

#[derive(Serialize)]
struct LibraryField<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct ConsentField<'a> {
    category: &'a str,
}

impl Serialize for EventContext<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let core = |key: &str| CORE_CONTEXT_KEYS.contains(&key);
        for (key, value) in self.host {
            if !core(key) && !self.event.contains_key(key) {
                map.serialize_entry(key, value)?;
            }
        }
        for (key, value) in self.event {
            if !core(key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.serialize_entry(
            "library",
            &LibraryField {
                name: &self.library.name,
                version: &self.library.version,
            },
        )?;
        if !self.session_id.is_empty() {
            map.serialize_entry("sessionId", self.session_id)?;
        }
        if self.session_start {
            map.serialize_entry("sessionStart", &true)?;
        }
        map.serialize_entry(
            "consent",
            &ConsentField {
                category: self.category,
            },
        )?;
        map.end()
    }
}

impl WireEvent<'_> {
    /// The event as a JSON object string.
    pub fn to_json(&self) -> String {
        // Serializing borrowed strings and JSON maps cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Appends `event` (a JSON object without `sentAt`) to `out` with `"sentAt"` spliced in first.
pub(crate) fn push_with_sent_at(out: &mut String, event: &str, sent_at_json: &str) {
    match event.strip_prefix('{') {
        Some(rest) => {
            out.push_str("{\"sentAt\":");
            out.push_str(sent_at_json);
            if rest.trim_start() != "}" {
                out.push(',');
            }
            out.push_str(rest);
        }
        // Not an object (a corrupt store): send as is, the relay will reject it.
        None => out.push_str(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_sent_at_first() {
        let mut out = String::new();
        push_with_sent_at(
            &mut out,
            r#"{"eventId":"a"}"#,
            r#""2026-01-01T00:00:00.000Z""#,
        );
        assert_eq!(
            out,
            r#"{"sentAt":"2026-01-01T00:00:00.000Z","eventId":"a"}"#
        );
        let mut out = String::new();
        push_with_sent_at(&mut out, "{}", "\"t\"");
        assert_eq!(out, r#"{"sentAt":"t"}"#);
    }

    #[test]
    fn wire_names_are_camel_case() {
        let props = Properties::new();
        let mut host = Properties::new();
        host.insert("app".into(), serde_json::json!({"version": "1"}));
        host.insert("locale".into(), "en".into());
        host.insert("sessionId".into(), "host-cannot-set-this".into());
        let mut call = Properties::new();
        call.insert("locale".into(), "de".into());
        let library = Library::default();
        let context = EventContext {
            host: &host,
            event: &call,
            library: &library,
            session_id: "s",
            session_start: false,
            category: "analytics",
        };
        let event = WireEvent {
            event_id: "e1",
            event_type: EventType::Track,
            event_name: Some("clicked"),
            user_id: Some("u1"),
            anonymous_id: Some("a1"),
            previous_id: None,
            group_id: None,
            timestamp: "2026-01-01T00:00:00.000Z",
            properties: &props,
            traits: &props,
            context: &context,
        };
        let value: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(value["eventId"], "e1");
        assert_eq!(value["type"], "track");
        assert_eq!(value["eventName"], "clicked");
        assert_eq!(value["userId"], "u1");
        assert_eq!(value["anonymousId"], "a1");
        assert_eq!(value["context"]["sessionId"], "s");
        assert_eq!(value["context"]["app"]["version"], "1");
        assert_eq!(value["context"]["locale"], "de", "the call's context wins");
        assert_eq!(value["context"]["library"]["name"], "spoor-core");
        assert_eq!(value["context"]["consent"]["category"], "analytics");
        assert!(value["context"].get("sessionStart").is_none());
        assert!(value.get("properties").is_none());
    }
}
