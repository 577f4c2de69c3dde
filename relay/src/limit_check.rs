//! The size and shape limits on an event's properties, traits and context
//! (`config::Limits`): key count, nesting depth, string length.
//!
//! One walk checks a parsed `serde_json::Value` and a value kept as JSON text
//! alike (both are serde deserializers), without building anything.

use std::cell::Cell;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::config::Limits;
use crate::incoming::Invalid;
use crate::raw_json::RawJson;

/// Refuses `field` (properties, traits, context) when it has too many keys.
pub fn key_count(field: &str, keys: usize, limits: &Limits) -> Result<(), Invalid> {
    if keys > limits.max_properties {
        return Err(Invalid::new(
            "too_many_properties",
            format!(
                "{field} has {keys} keys, over the limit of {}",
                limits.max_properties
            ),
        ));
    }
    Ok(())
}

/// Checks the parsed value of `field.key` against the depth and string limits.
pub fn value(field: &str, key: &str, value: &Value, limits: &Limits) -> Result<(), Invalid> {
    walk(field, key, limits, value)
}

/// Checks `field.key` kept as text. The scan that found the value's end
/// checked its syntax but not all of its meaning (a lone surrogate escape, a
/// number out of `f64`'s range): the walk decodes every string and number of
/// it (short strings without escapes and literals need none), so every record
/// reads back.
pub fn raw_value(
    field: &str,
    key: &str,
    value: &RawJson<'_>,
    limits: &Limits,
) -> Result<(), Invalid> {
    let text = value.get();
    let needs_walk = match text.as_bytes().first() {
        // The text of a string is never shorter than the string.
        Some(b'"') => text.len() - 2 > limits.max_string_bytes || text.contains('\\'),
        Some(b't' | b'f' | b'n') => false,
        _ => true,
    };
    if !needs_walk {
        return Ok(());
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    walk(field, key, limits, &mut reader)?;
    reader
        .end()
        .map_err(|e| Invalid::new("invalid_event", format!("{field}.{key}: {e}")))
}

/// Walks one value; a limit passed is the answer, any other error (from text
/// only) makes the event invalid.
fn walk<'de, D: Deserializer<'de>>(
    field: &str,
    key: &str,
    limits: &Limits,
    value: D,
) -> Result<(), Invalid> {
    let found = Cell::new(None);
    let walk = LimitWalk {
        field,
        key,
        limits,
        depth: 1,
        found: &found,
    };
    walk.deserialize(value).map_err(|e| {
        found
            .take()
            .unwrap_or_else(|| Invalid::new("invalid_event", format!("{field}.{key}: {e}")))
    })
}

/// One value being checked; a limit passed is left in `found`.
#[derive(Clone, Copy)]
struct LimitWalk<'a> {
    field: &'a str,
    key: &'a str,
    limits: &'a Limits,
    depth: usize,
    found: &'a Cell<Option<Invalid>>,
}

impl LimitWalk<'_> {
    fn refuse<E: de::Error>(&self, invalid: Invalid) -> E {
        self.found.set(Some(invalid));
        E::custom("over a limit")
    }

    fn deeper(self) -> Self {
        LimitWalk {
            depth: self.depth + 1,
            ..self
        }
    }
}

impl<'de> DeserializeSeed<'de> for LimitWalk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.depth > self.limits.max_depth {
            return Err(self.refuse(Invalid::new(
                "too_deep",
                format!(
                    "{}.{} nests deeper than {} levels",
                    self.field, self.key, self.limits.max_depth
                ),
            )));
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LimitWalk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        if s.len() > self.limits.max_string_bytes {
            return Err(self.refuse(Invalid::new(
                "string_too_long",
                format!(
                    "{}.{} is a string of {} bytes, over {}",
                    self.field,
                    self.key,
                    s.len(),
                    self.limits.max_string_bytes
                ),
            )));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element_seed(self.deeper())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        // Keys are decoded too (a lone surrogate in a key would not read back).
        while entries.next_key_seed(KeyWalk)?.is_some() {
            entries.next_value_seed(self.deeper())?;
        }
        Ok(())
    }
}

/// An object key being checked: decoded, not kept.
struct KeyWalk;

impl<'de> DeserializeSeed<'de> for KeyWalk {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyWalk {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}
