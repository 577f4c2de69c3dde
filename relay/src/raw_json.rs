//! JSON values kept as their text, for an event's `context` and its string
//! fields: read borrowed from the request body and written into the record
//! as they are, with no parsing into values and no escaping again.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};
use spoor_log::event::JsonObject;

use crate::incoming::Invalid;

/// A JSON value kept as its text: borrowed from the request body (checked by
/// the reader that found it), or made by the relay (a truncated IP, a parsed
/// user agent).
#[derive(Debug, Clone, PartialEq)]
pub struct RawJson<'a>(Cow<'a, str>);

/// A string field of a record: JSON text from the request, or a string the
/// relay made (written escaped, as any string).
#[derive(Debug, Clone, PartialEq)]
pub enum JsonString<'a> {
    /// JSON string text, written as it is.
    Raw(RawJson<'a>),
    /// A string.
    Text(Cow<'a, str>),
}

/// A record's `properties` or `traits`: the request's JSON object text
/// (checked by the reader that found it), or the map the relay made of it
/// when it changed it (the PII policy).
#[derive(Debug, Clone, PartialEq)]
pub enum Object<'a> {
    /// JSON object text, written as it is.
    Text(Cow<'a, str>),
    /// A map, written by serde.
    Map(Map<String, Value>),
}

impl Default for Object<'_> {
    fn default() -> Self {
        Object::Text(Cow::Borrowed("{}"))
    }
}

impl JsonObject for Object<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Object::Text(text) => text
                .trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '{' | '}'))
                .is_empty(),
            Object::Map(map) => map.is_empty(),
        }
    }
}

impl Object<'_> {
    /// The map JSON Schema checks (and the PII policy changes). Text has been
    /// read and checked against the limits; serde_json reads it again.
    pub fn to_map(&self, field: &str) -> Result<Map<String, Value>, Invalid> {
        match self {
            Object::Text(text) => serde_json::from_str(text)
                .map_err(|e| Invalid::new("invalid_event", format!("{field}: {e}"))),
            Object::Map(map) => Ok(map.clone()),
        }
    }
}

/// An event's `context`: its top-level keys in the order they came, each
/// value as JSON text; of a key given twice the last value counts, as for a
/// JSON reader.
///
/// A list rather than a map: a context has a handful of keys, and the map's
/// inserts and comparisons were a tenth of an event's instructions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context<'a> {
    entries: Vec<(Key<'a>, RawJson<'a>)>,
}

/// Above this many keys duplicates are looked for by sorting rather than by
/// comparing every pair.
const PAIRWISE_DEDUPE_MAX: usize = 16;

impl<'a> Context<'a> {
    /// No keys.
    pub fn new() -> Self {
        Context::default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&RawJson<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.0 == key)
            .map(|(_, value)| value)
    }

    /// Sets `key`: in its place when it is there, else at the end.
    pub fn insert(&mut self, key: Key<'a>, value: RawJson<'a>) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k.0 != key);
    }

    /// Appends an entry as read, without looking for its key; [`Context::dedupe`] after the last.
    pub(crate) fn push(&mut self, key: Key<'a>, value: RawJson<'a>) {
        self.entries.push((key, value));
    }

    /// Keeps one entry per key, with the last value, in the place of the first.
    pub(crate) fn dedupe(&mut self) {
        if !self.has_duplicates() {
            return;
        }
        let mut place: HashMap<Cow<'a, str>, usize> = HashMap::new();
        let mut kept: Vec<(Key<'a>, RawJson<'a>)> = Vec::with_capacity(self.entries.len());
        for (key, value) in std::mem::take(&mut self.entries) {
            match place.get(&key.0) {
                Some(&at) => kept[at].1 = value,
                None => {
                    place.insert(key.0.clone(), kept.len());
                    kept.push((key, value));
                }
            }
        }
        self.entries = kept;
    }

    /// Whether a key is given twice: without allocating for a small context.
    fn has_duplicates(&self) -> bool {
        let keys = &self.entries;
        if keys.len() <= PAIRWISE_DEDUPE_MAX {
            return (1..keys.len()).any(|i| keys[..i].iter().any(|(k, _)| *k == keys[i].0));
        }
        let mut sorted: Vec<&str> = keys.iter().map(|(k, _)| k.0.as_ref()).collect();
        sorted.sort_unstable();
        sorted.windows(2).any(|pair| pair[0] == pair[1])
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key<'a>, &RawJson<'a>)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// An object key, decoded: borrowed from the body when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'a>(pub Cow<'a, str>);

impl From<&'static str> for Key<'_> {
    fn from(key: &'static str) -> Self {
        Key(Cow::Borrowed(key))
    }
}

impl<'a> RawJson<'a> {
    /// `text`, which must be one JSON value: the reader's or the relay's own.
    pub(crate) fn borrowed(text: &'a str) -> Self {
        RawJson(Cow::Borrowed(text))
    }

    /// As [`RawJson::borrowed`], borrowed or owned.
    pub(crate) fn from_text(text: Cow<'a, str>) -> Self {
        RawJson(text)
    }

    /// As [`RawJson::borrowed`], owned.
    pub(crate) fn owned(text: String) -> RawJson<'static> {
        RawJson(Cow::Owned(text))
    }

    /// A JSON string holding `s`.
    pub fn string(s: &str) -> RawJson<'static> {
        // Serializing a `str` cannot fail; `null` would be the fallback.
        RawJson::owned(serde_json::to_string(s).unwrap_or_else(|_| "null".into()))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// The string, when the value is a JSON string (escapes decoded).
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        self.decode_str().ok().flatten()
    }

    /// The string when the value is a JSON string, `None` when it is another
    /// kind of value, and an error for an escape that decodes to no string (a
    /// lone surrogate: the text was only scanned, not decoded).
    pub fn decode_str(&self) -> Result<Option<Cow<'_, str>>, serde_json::Error> {
        decode_string(self.get())
    }
}

/// JSON text decoded as a string: `None` when it is another kind of value,
/// an error for an escape that decodes to no string (a lone surrogate).
/// Borrowed when it has no escapes.
pub(crate) fn decode_string(text: &str) -> Result<Option<Cow<'_, str>>, serde_json::Error> {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return Ok(None);
    };
    if inner.contains('\\') {
        serde_json::from_str::<String>(text).map(|s| Some(Cow::Owned(s)))
    } else {
        Ok(Some(Cow::Borrowed(inner)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(entries: &[(&'static str, &'static str)]) -> Context<'static> {
        let mut context = Context::new();
        for (key, value) in entries {
            context.push(Key::from(*key), RawJson::borrowed(value));
        }
        context.dedupe();
        context
    }

    fn entries(context: &Context<'_>) -> Vec<(String, String)> {
        context
            .iter()
            .map(|(k, v)| (k.0.to_string(), v.get().to_string()))
            .collect()
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value_small_or_large() {
        let small = context(&[("a", "1"), ("b", "2"), ("a", "3")]);
        assert_eq!(
            entries(&small),
            [("a".into(), "3".into()), ("b".into(), "2".into())]
        );

        const KEYS: [&str; 20] = [
            "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13",
            "k14", "k15", "k16", "k17", "k18", "k19",
        ];
        let mut large: Vec<(&str, &str)> = KEYS.iter().map(|k| (*k, "0")).collect();
        large.push(("k3", "1"));
        large.push(("k3", "2"));
        let large = context(&large);
        assert_eq!(large.len(), 20);
        assert_eq!(
            large.iter().nth(3).map(|(k, v)| (k.0.as_ref(), v.get())),
            Some(("k3", "2"))
        );

        let distinct: Vec<(&str, &str)> = KEYS.iter().map(|k| (*k, "0")).collect();
        assert_eq!(context(&distinct).len(), 20);
    }
}
