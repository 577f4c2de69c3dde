//! Property-test strategies for JSON text: random values with hostile
//! strings, and soups of JSON and broken-JSON tokens. For the tests of the
//! core's JSON check and of the relay's event reader, which both read with
//! [`crate::json_lex`] (feature `test-strategies`).

use proptest::prelude::*;
use serde_json::Value;

/// Any JSON value, with hostile strings (quotes, backslashes, control
/// characters, non-BMP characters) in keys and values.
pub fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Pieces of JSON and of broken JSON, glued at random.
pub fn token_soup() -> impl Strategy<Value = String> {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\\",
        "\"a\"",
        "\"k\":",
        "\"context\":",
        "\"properties\":",
        "\"eventId\":",
        "1",
        "-",
        "0",
        "01",
        ".",
        "5",
        "e5",
        "E-3",
        "e+",
        "true",
        "fals",
        "false",
        "null",
        " ",
        "\n",
        "\t",
        "\u{1}",
        "é",
        "😀",
        "\\n",
        "\\u00e9",
        "\\ud83d\\ude00",
        "\\ud800",
        "\\udc00",
        "\\u12",
        "\\x",
        "u",
        "x",
        "/",
        "\\/",
    ];
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.concat())
}
