//! JSON values as they cross the FFI: a UniFFI enum that is a sealed class in
//! Kotlin and an (indirect) enum in Swift, so apps pass properties as typed
//! values instead of JSON text they encode themselves.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::error::SpoorError;

/// Deepest nesting of arrays and objects a property value may have.
pub const MAX_DEPTH: usize = 32;

/// A JSON value: properties, traits and context are maps of these.
///
/// Kotlin: `JsonValue.String("p1")`, `JsonValue.Double(9.99)`, or the helpers in
/// `SpoorJson.kt` (`jsonObjectOf("productId" to "p1", "price" to 9.99)`).
/// Swift: `.string(value: "p1")`, or plain literals through the conformances in
/// `SpoorJson.swift` (`["productId": "p1", "price": 9.99]`).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum JsonValue {
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool {
        /// The value.
        value: bool,
    },
    /// A whole number.
    Int {
        /// The value.
        value: i64,
    },
    /// A number with a fraction; must be finite (JSON has no NaN or infinity).
    Double {
        /// The value.
        value: f64,
    },
    /// A string.
    String {
        /// The value.
        value: String,
    },
    /// An array.
    Array {
        /// The value.
        value: Vec<JsonValue>,
    },
    /// An object.
    Object {
        /// The value.
        value: HashMap<String, JsonValue>,
    },
}

macro_rules! json_value_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<$t> for JsonValue {
            fn from(value: $t) -> Self {
                JsonValue::$variant { value: value.into() }
            }
        }
    )*};
}
json_value_from!(
    bool => Bool, i64 => Int, i32 => Int, f64 => Double, String => String, &str => String,
    Vec<JsonValue> => Array, HashMap<String, JsonValue> => Object
);

/// A map of JSON values converted for the core, with a lower bound of its size as JSON text.
#[derive(Debug, Default)]
pub struct Converted {
    /// The JSON object.
    pub map: Map<String, Value>,
    /// Bytes the object takes at least once serialized (escapes not counted).
    pub min_bytes: usize,
}

/// Converts `values` (named `what` in error messages, e.g. `properties`) into a JSON object.
pub fn convert_map(
    what: &str,
    values: HashMap<String, JsonValue>,
) -> Result<Converted, SpoorError> {
    let mut converted = Converted::default();
    let mut path = String::from(what);
    converted.map = object(values, &mut path, 1, &mut converted.min_bytes)?;
    Ok(converted)
}

fn object(
    values: HashMap<String, JsonValue>,
    path: &mut String,
    depth: usize,
    bytes: &mut usize,
) -> Result<Map<String, Value>, SpoorError> {
    *bytes += 2;
    let mut map = Map::new();
    for (key, value) in values {
        let len = path.len();
        path.push('.');
        path.push_str(&key);
        *bytes += key.len() + 4;
        let value = convert(value, path, depth, bytes)?;
        path.truncate(len);
        map.insert(key, value);
    }
    Ok(map)
}

fn convert(
    value: JsonValue,
    path: &mut String,
    depth: usize,
    bytes: &mut usize,
) -> Result<Value, SpoorError> {
    Ok(match value {
        JsonValue::Null => {
            *bytes += 4;
            Value::Null
        }
        JsonValue::Bool { value: b } => {
            *bytes += 4;
            Value::Bool(b)
        }
        JsonValue::Int { value: i } => {
            *bytes += 1;
            Value::Number(i.into())
        }
        JsonValue::Double { value: d } => {
            *bytes += 1;
            Value::Number(Number::from_f64(d).ok_or_else(|| {
                // Named as Kotlin and Swift print them.
                let what = if d.is_nan() {
                    "NaN"
                } else if d > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                SpoorError::InvalidArgument(format!(
                    "{path} is {what}, but JSON numbers must be finite"
                ))
            })?)
        }
        JsonValue::String { value: s } => {
            *bytes += s.len() + 2;
            Value::String(s)
        }
        JsonValue::Array { value: items } => {
            check_depth(path, depth)?;
            *bytes += 2;
            let mut array = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                *bytes += 1;
                array.push(convert(item, path, depth + 1, bytes)?);
                path.truncate(len);
            }
            Value::Array(array)
        }
        JsonValue::Object { value: values } => {
            check_depth(path, depth)?;
            Value::Object(object(values, path, depth + 1, bytes)?)
        }
    })
}

fn check_depth(path: &str, depth: usize) -> Result<(), SpoorError> {
    if depth >= MAX_DEPTH {
        return Err(SpoorError::InvalidArgument(format!(
            "{path} is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: Vec<(&str, JsonValue)>) -> HashMap<String, JsonValue> {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn converts_every_kind() {
        let values = map(vec![
            ("n", JsonValue::Null),
            ("b", true.into()),
            ("i", (-7).into()),
            ("d", 9.5.into()),
            ("s", "shoes".into()),
            ("a", vec![1.into(), "x".into()].into()),
            ("o", map(vec![("k", false.into())]).into()),
        ]);
        let converted = convert_map("properties", values).unwrap();
        let text = serde_json::to_string(&converted.map).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"n": null, "b": true, "i": -7, "d": 9.5, "s": "shoes",
                               "a": [1, "x"], "o": {"k": false}})
        );
        assert!(
            converted.min_bytes <= text.len(),
            "{} > {}",
            converted.min_bytes,
            text.len()
        );
    }

    #[test]
    fn names_the_path_of_a_non_finite_number() {
        let values = map(vec![(
            "items",
            vec![map(vec![("price", f64::NAN.into())]).into()].into(),
        )]);
        let err = convert_map("properties", values).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid argument: properties.items[0].price is NaN, but JSON numbers must be finite"
        );
    }

    #[test]
    fn refuses_deep_nesting() {
        let mut value = JsonValue::from(1);
        for _ in 0..MAX_DEPTH {
            value = vec![value].into();
        }
        let err = convert_map("properties", map(vec![("deep", value)])).unwrap_err();
        assert!(
            err.to_string().contains("nested more than 32 levels"),
            "{err}"
        );
    }
}
