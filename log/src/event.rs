//! The records the relay writes: accepted events and dead letters.
//!
//! One record holds one event as camelCase JSON. The relay fills the
//! server-side fields (`receivedAt`, `eventTime`, `source`, `flags`); the rest
//! is what the client sent, after validation and redaction.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The kind of call that produced an event (Segment's spec names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// A named user action (`eventName` is required).
    #[default]
    Track,
    /// Links an anonymous visitor to a known user and records traits.
    Identify,
    /// A web page view; `eventName` holds the page name if any.
    Page,
    /// A mobile screen view; `eventName` holds the screen name.
    Screen,
    /// Associates a user with a group (account, company).
    Group,
    /// Merges two user identities (`previousId` → `userId`).
    Alias,
}

impl EventType {
    /// Every type.
    pub const ALL: [EventType; 6] = [
        EventType::Track,
        EventType::Identify,
        EventType::Page,
        EventType::Screen,
        EventType::Group,
        EventType::Alias,
    ];

    /// The type of a wire name (`"track"`, ...), if it is one.
    pub fn from_name(name: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The wire name (`"track"`, `"identify"`, ...).
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

/// An accepted event as stored in the log.
///
/// `C` is how `context` is held, `S` how its strings are and `P` how
/// `properties` and `traits` are: JSON maps and `String`s when reading
/// records; in the relay, which writes them, JSON text borrowed from the
/// request (copied through, not parsed into values and escaped again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(
    serialize = "C: Serialize + JsonObject, S: Serialize, P: Serialize + JsonObject",
    deserialize = "C: Deserialize<'de> + Default, S: Deserialize<'de>, P: Deserialize<'de> + Default"
))]
pub struct StoredEvent<C = Map<String, Value>, S = String, P = Map<String, Value>> {
    /// Client-generated unique id (UUIDv7 from Spoor SDKs); dedupe key with `source`.
    pub event_id: S,
    /// Kind of call.
    #[serde(rename = "type", default)]
    pub event_type: EventType,
    /// Event name for track, page or screen name for page/screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<S>,
    /// Known user id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<S>,
    /// Device-scoped anonymous id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<S>,
    /// For alias: the id being merged into `userId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<S>,
    /// For group: the group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<S>,
    /// Client event time as sent (RFC 3339), kept unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<S>,
    /// When the client sent the batch (RFC 3339), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<S>,
    /// When the relay received the request (RFC 3339, UTC, milliseconds).
    pub received_at: S,
    /// Skew-corrected event time: `timestamp + (receivedAt - sentAt)`, else `receivedAt`.
    pub event_time: S,
    /// The write key's source name (web, ios, android, server, ...).
    pub source: S,
    /// Event properties (track, page, screen).
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub properties: P,
    /// User or group traits (identify, group).
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub traits: P,
    /// Context: library, app, device, os, page, campaign, ip, userAgent, parsed UA, sessionId, ...
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub context: C,
    /// Schema version the event was validated against, if registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    /// Quality flags set by the relay: `future_timestamp`, `deprecated_schema`,
    /// `unknown_event`, `schema_violation` (the last two only when the source accepts and flags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// A JSON object as a record's `context`, `properties` or `traits` can hold it.
pub trait JsonObject {
    /// True when it has no keys (the field is then left out).
    fn is_empty(&self) -> bool;
}

impl JsonObject for Map<String, Value> {
    fn is_empty(&self) -> bool {
        Map::is_empty(self)
    }
}

/// A rejected event as stored in the dead-letter log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Why the event was refused (human-readable, names the field).
    pub reason: String,
    /// Machine-readable reason code (`unknown_event`, `schema_violation`, `event_too_large`, ...).
    pub code: String,
    /// When the relay received it.
    pub received_at: String,
    /// The write key's source name.
    pub source: String,
    /// The event's id, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Position in the request's batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The event as received; its text as a string when it is not a JSON
    /// value (an escape that decodes to no character).
    pub event: Value,
}
