//! JSON values kept as their text, for an event's `context`: read borrowed
//! from the request body and written into the record as they are, with no
//! parsing into values and no escaping again.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::{RawValue, to_raw_value};

/// A JSON value kept as its text: borrowed from the request body, or made
/// by the relay (a truncated IP, a parsed user agent).
#[derive(Debug, Clone)]
pub struct RawJson<'a>(Cow<'a, RawValue>);

/// An event's `context`: its top-level keys, each value as JSON text.
pub type Context<'a> = BTreeMap<String, RawJson<'a>>;

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
        let text = self.get();
        let inner = text.strip_prefix('"')?.strip_suffix('"')?;
        if inner.contains('\\') {
            serde_json::from_str::<String>(text).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(inner))
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
