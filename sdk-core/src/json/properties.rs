//! [`Properties`]: a JSON object kept as its text.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Entries, Items, JsonError, check, decode_string, push_string};

/// A JSON object (event properties, traits or context), kept as the text it
/// came in: checked once, then spliced into events as it is. Hosts that hold
/// JSON text already (the browser) hand it over with
/// [`from_json`](Properties::from_json); Rust hosts build one with
/// [`insert`](Properties::insert) or from a `serde_json::Map`.
///
/// Keys keep the order they were given in. Like a JSON parser, readers of the
/// event take the last of duplicate keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Properties {
    /// Checked object text, with no surrounding whitespace.
    json: String,
}

impl Default for Properties {
    fn default() -> Self {
        Properties::new()
    }
}

impl Properties {
    /// An empty object.
    pub fn new() -> Self {
        Properties { json: "{}".into() }
    }

    /// The object in `text`, which must be a valid JSON object (whitespace
    /// around it allowed), with no lone surrogate `\u` escapes.
    pub fn from_json(text: &str) -> Result<Self, JsonError> {
        check(text)?;
        let json = text.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r'));
        if !json.starts_with('{') {
            return Err(JsonError::NotAnObject);
        }
        Ok(Properties { json: json.into() })
    }

    /// The object as JSON text.
    pub fn as_json(&self) -> &str {
        &self.json
    }

    /// Whether the object has no entries.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The entries in order: key, and the value as JSON text.
    pub fn iter(&self) -> impl Iterator<Item = (Cow<'_, str>, &str)> {
        Entries::new(&self.json)
    }

    /// Whether the object has an entry for `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.iter().any(|(k, _)| k == key)
    }

    /// The value of `key` (the last one, if repeated), as JSON text.
    pub fn get_json(&self, key: &str) -> Option<&str> {
        self.iter()
            .filter(|(k, _)| k == key)
            .last()
            .map(|(_, value)| value)
    }

    /// The value of `key` if it is a string, unescaped.
    pub fn get_str(&self, key: &str) -> Option<Cow<'_, str>> {
        self.get_json(key)
            .filter(|value| value.starts_with('"'))
            .map(decode_string)
    }

    /// The value of `key` if it is an array of strings, unescaped (`None` if
    /// it is anything else, or an item is not a string).
    pub fn get_str_array(&self, key: &str) -> Option<Vec<String>> {
        let array = self.get_json(key).filter(|value| value.starts_with('['))?;
        // A loop, not a try-collect into `Option<Vec<_>>`: smaller in the WASM.
        let mut strings = Vec::new();
        for item in Items::new(array) {
            if !item.starts_with('"') {
                return None;
            }
            strings.push(decode_string(item).into_owned());
        }
        Some(strings)
    }

    /// The value of `key` if it is an object.
    pub fn get_object(&self, key: &str) -> Option<Properties> {
        self.get_json(key)
            .filter(|value| value.starts_with('{'))
            .map(|value| Properties { json: value.into() })
    }

    /// Sets `key` to `value` (JSON text, checked), replacing any entry for `key`.
    pub fn insert_json(&mut self, key: &str, value: &str) -> Result<(), JsonError> {
        check(value)?;
        let value = value.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r'));
        self.remove(key);
        let mut json = String::with_capacity(self.json.len() + key.len() + value.len() + 4);
        json.push_str(self.json.strip_suffix('}').unwrap_or(&self.json));
        if json.len() > 1 {
            json.push(',');
        }
        push_string(&mut json, key);
        json.push(':');
        json.push_str(value);
        json.push('}');
        self.json = json;
        Ok(())
    }

    /// Sets `key` to `value`, replacing any entry for `key` (as
    /// `serde_json::Map::insert` does).
    #[cfg(feature = "std")]
    pub fn insert(&mut self, key: String, value: serde_json::Value) {
        let value = serde_json::to_string(&value).unwrap_or_default();
        // A serialized Value is valid JSON: this cannot fail.
        let _ = self.insert_json(&key, &value);
    }

    /// Removes every entry for `key`; returns whether there was one.
    pub fn remove(&mut self, key: &str) -> bool {
        if !self.contains_key(key) {
            return false;
        }
        let mut json = String::with_capacity(self.json.len());
        json.push('{');
        for (k, value) in Entries::new(&self.json) {
            if k == key {
                continue;
            }
            if json.len() > 1 {
                json.push(',');
            }
            push_string(&mut json, &k);
            json.push(':');
            json.push_str(value);
        }
        json.push('}');
        self.json = json;
        true
    }

    /// The object as a `serde_json` map (duplicate keys: the last wins).
    #[cfg(feature = "std")]
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.json).unwrap_or_default()
    }
}

#[cfg(feature = "std")]
impl From<serde_json::Map<String, serde_json::Value>> for Properties {
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        Properties {
            json: serde_json::to_string(&map).unwrap_or_else(|_| "{}".into()),
        }
    }
}
