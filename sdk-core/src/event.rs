//! The wire format of one event (DESIGN.md, camelCase JSON).
//!
//! An event is serialized once, when it is recorded, without `sentAt`; the
//! batch builder splices `sentAt` in on every send attempt.

use serde::Serialize;

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
    pub context: &'a Properties,
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
        let mut context = Properties::new();
        context.insert("sessionId".into(), "s".into());
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
        assert!(value.get("properties").is_none());
    }
}
