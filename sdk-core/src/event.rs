//! The wire format of one event (DESIGN.md, camelCase JSON).
//!
//! An event is serialized once, when it is recorded, without `sentAt`; the
//! batch builder splices `sentAt` in on every send attempt.

use alloc::string::String;

use crate::config::Library;
use crate::json::{Properties, push_string};

/// The kind of call that produced an event (the wire `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "std",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
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

impl EventType {
    /// The wire name: `track`, `identify`, `page`, `screen`, `group` or `alias`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Track => "track",
            EventType::Identify => "identify",
            EventType::Page => "page",
            EventType::Screen => "screen",
            EventType::Group => "group",
            EventType::Alias => "alias",
        }
    }
}

/// One event as it goes on the wire, minus `sentAt`.
#[derive(Debug)]
pub(crate) struct WireEvent<'a> {
    pub event_id: &'a str,
    pub event_type: EventType,
    pub event_name: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub anonymous_id: Option<&'a str>,
    pub previous_id: Option<&'a str>,
    pub group_id: Option<&'a str>,
    pub timestamp: &'a str,
    pub properties: &'a Properties,
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

/// Writes a JSON object one member at a time (keys and string values escaped,
/// other values spliced as checked JSON text).
struct ObjectWriter<'o> {
    out: &'o mut String,
    empty: bool,
}

impl<'o> ObjectWriter<'o> {
    fn new(out: &'o mut String) -> Self {
        out.push('{');
        ObjectWriter { out, empty: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_string(self.out, key);
        self.out.push(':');
        self.out
    }

    fn json(&mut self, key: &str, json: &str) {
        self.key(key).push_str(json);
    }

    fn string(&mut self, key: &str, value: &str) {
        push_string(self.key(key), value);
    }

    fn opt_string(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.string(key, value);
        }
    }

    fn end(self) {
        self.out.push('}');
    }
}

impl EventContext<'_> {
    fn write(&self, out: &mut String) {
        let mut object = ObjectWriter::new(out);
        let core = |key: &str| CORE_CONTEXT_KEYS.contains(&key);
        for (key, value) in self.host.iter() {
            if !core(&key) && !self.event.contains_key(&key) {
                object.json(&key, value);
            }
        }
        for (key, value) in self.event.iter() {
            if !core(&key) {
                object.json(&key, value);
            }
        }
        let mut library = ObjectWriter::new(object.key("library"));
        library.string("name", &self.library.name);
        library.string("version", &self.library.version);
        library.end();
        if !self.session_id.is_empty() {
            object.string("sessionId", self.session_id);
        }
        if self.session_start {
            object.json("sessionStart", "true");
        }
        let mut consent = ObjectWriter::new(object.key("consent"));
        consent.string("category", self.category);
        consent.end();
        object.end();
    }
}

impl WireEvent<'_> {
    /// The event as a JSON object string: camelCase keys, absent fields and
    /// empty properties or traits left out.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(
            256 + self.properties.as_json().len() + self.traits.as_json().len(),
        );
        let mut object = ObjectWriter::new(&mut out);
        object.string("eventId", self.event_id);
        object.string("type", self.event_type.as_str());
        object.opt_string("eventName", self.event_name);
        object.opt_string("userId", self.user_id);
        object.opt_string("anonymousId", self.anonymous_id);
        object.opt_string("previousId", self.previous_id);
        object.opt_string("groupId", self.group_id);
        object.string("timestamp", self.timestamp);
        if !self.properties.is_empty() {
            object.json("properties", self.properties.as_json());
        }
        if !self.traits.is_empty() {
            object.json("traits", self.traits.as_json());
        }
        self.context.write(object.key("context"));
        object.end();
        out
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
        let mut call = Properties::from_json(r#"{"\u0073essionStart":1,"x\"y":[1, 2]}"#).unwrap();
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
        assert!(
            value["context"].get("sessionStart").is_none(),
            "a core key, escaped"
        );
        assert_eq!(value["context"]["x\"y"], serde_json::json!([1, 2]));
        assert!(value.get("properties").is_none());
    }
}
