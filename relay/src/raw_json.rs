//! JSON values kept as their text, for an event's `context` and its string
//! fields: read borrowed from the request body and written into the record
//! as they are, with no parsing into values and no escaping again.

use std::borrow::{Borrow, Cow};
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::{RawValue, to_raw_value};

/// A JSON value kept as its text: borrowed from the request body, or made
/// by the relay (a truncated IP, a parsed user agent).
#[derive(Debug, Clone)]
pub struct RawJson<'a>(Cow<'a, RawValue>);

/// A string field of a record: JSON text from the request, or a string the
/// relay made (written escaped, as any string).
#[derive(Debug, Clone, PartialEq)]
pub enum JsonString<'a> {
    /// JSON string text, written as it is.
    Raw(RawJson<'a>),
    /// A string.
    Text(Cow<'a, str>),
}

impl Serialize for JsonString<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonString::Raw(raw) => raw.serialize(serializer),
            JsonString::Text(text) => serializer.serialize_str(text),
        }
    }
}

/// An event's `context`: its top-level keys, each value as JSON text.
pub type Context<'a> = BTreeMap<Key<'a>, RawJson<'a>>;

/// An object key: borrowed from the body when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl Borrow<str> for Key<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&'static str> for Key<'_> {
    fn from(key: &'static str) -> Self {
        Key(Cow::Borrowed(key))
    }
}

impl RawJson<'_> {
    /// A JSON string holding `s`.
    pub fn string(s: &str) -> RawJson<'static> {
        // Serializing a `str` cannot fail; `null` would be the fallback.
        RawJson(Cow::Owned(to_raw_value(s).unwrap_or_default()))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The string, when the value is a JSON string (escapes decoded).
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        self.decode_str().ok().flatten()
    }

    /// The string when the value is a JSON string, `None` when it is another
    /// kind of value, and an error for an escape that decodes to no string (a
    /// lone surrogate: the text was only scanned, not decoded).
    pub fn decode_str(&self) -> Result<Option<Cow<'_, str>>, serde_json::Error> {
        let text = self.get();
        let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            return Ok(None);
        };
        if inner.contains('\\') {
            serde_json::from_str::<String>(text).map(|s| Some(Cow::Owned(s)))
        } else {
            Ok(Some(Cow::Borrowed(inner)))
        }
    }
}

impl From<Box<RawValue>> for RawJson<'static> {
    fn from(raw: Box<RawValue>) -> Self {
        RawJson(Cow::Owned(raw))
    }
}

impl PartialEq for RawJson<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(|raw| RawJson(Cow::Borrowed(raw)))
    }
}
