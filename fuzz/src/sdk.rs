//! The fuzz harness for what the browser SDK reads from the page: JSON objects checked by
//! the core (`spoor_core::Properties::from_json`: properties, traits, options, context),
//! `init`'s options (`spoor_wasm::parse_config`), the numbers it reads as times and sizes
//! (`spoor_wasm::non_negative`) and whole calls (`spoor_wasm::build_message`). Shared by the
//! cargo-fuzz target `sdk` and `sdk-wasm/tests/fuzz_regressions.rs`. See docs/fuzzing.md.
//!
//! An input is `[selector][text...]`; the text must be UTF-8 (the page's strings reach the
//! WASM as UTF-8). Besides "no panic", each reader is held to `serde_json`:
//!
//! - `Properties::from_json` takes exactly the JSON objects `serde_json` reads (nested under
//!   100 levels; the core's limit is 127, `serde_json`'s 128), and its entries are
//!   `serde_json`'s (the last of a repeated key);
//! - `json_lex::finite_f64` says of a number token what Rust's float parsing says;
//! - `parse_config` takes only JSON objects;
//! - `non_negative` gives, for a number `serde_json` reads, `None` below zero (by its digits:
//!   `-1e-400` too, which `serde_json` rounds to -0.0), otherwise the whole part of
//!   `serde_json`'s `as_f64`, up to the rounding to an `f64` (one apart where that rounding
//!   crosses a whole number) and saturating at `u64::MAX`;
//! - `build_message` keeps the properties as given.

use serde_json::{Map, Value};
use spoor_core::json_lex::{Lexer, finite_f64};
use spoor_core::{JsonError, Message, Properties};
use spoor_wasm::{CallKind, build_message, non_negative, parse_config};

/// Runs one input through the reader its selector picks; panics on a broken promise.
pub fn sdk_one(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match selector % 4 {
        0 => object(text),
        1 => config(text),
        2 => number(text),
        _ => call(selector / 4, text),
    }
}

fn object(text: &str) {
    let properties = Properties::from_json(text);
    if !serde_is_the_reference(text) {
        return;
    }
    let serde = serde_json::from_str::<Value>(text);
    match properties {
        Ok(properties) => {
            // (The fuzz crate builds serde_json with `float_roundtrip`, so its range is Rust's
            // float parsing's to the last digit.)
            let Ok(Value::Object(map)) = serde else {
                panic!("took {text:?}, which serde_json reads as {serde:?}");
            };
            let entries: Map<String, Value> = properties
                .iter()
                .map(|(k, v)| (k.into_owned(), json(v)))
                .collect();
            assert_eq!(entries, map, "entries of {text:?}");
        }
        Err(JsonError::NotAnObject) => {
            assert!(
                matches!(serde, Ok(ref v) if !v.is_object()),
                "called {text:?} not an object; serde_json: {serde:?}"
            );
        }
        Err(JsonError::NumberOutOfRange) => {
            let serde = serde.map_err(|e| e.to_string());
            assert!(
                matches!(serde, Err(ref e) if e.starts_with("number out of range")),
                "called a number in {text:?} out of range; serde_json: {serde:?}"
            );
        }
        Err(e) => {
            if let Ok(value) = serde {
                assert!(
                    depth(&value) >= 100,
                    "refused {text:?} ({e}), which serde_json reads"
                );
            }
        }
    }
}

fn config(text: &str) {
    if parse_config(text).is_ok() && serde_is_the_reference(text) {
        let value = serde_json::from_str::<Value>(text);
        assert!(
            matches!(value, Ok(Value::Object(_))),
            "took the config {text:?}; serde_json: {value:?}"
        );
    }
}

fn number(text: &str) {
    // The core hands these readers a value's text without the whitespace around it.
    let text = text.trim_matches([' ', '\t', '\n', '\r']);
    let mut lex = Lexer::new(text);
    if lex.number().is_ok() && lex.at == text.len() {
        let parsed = text.parse::<f64>().is_ok_and(f64::is_finite);
        assert_eq!(finite_f64(text.as_bytes()), parsed, "range of {text:?}");
    }
    let Ok(Value::Number(n)) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let Some(f) = n.as_f64() else {
        return;
    };
    let got = non_negative(text);
    // Below zero by its digits (serde_json reads `-1e-400` as -0.0, which is not).
    let mantissa = text.split(['e', 'E']).next().unwrap_or("");
    if text.starts_with('-') && mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        assert_eq!(got, None, "{text:?} is below zero");
        return;
    }
    let Some(got) = got else {
        panic!("refused {text:?} = {f}");
    };
    // The digits' whole part, against the whole part of their rounding to an f64: one apart
    // where the rounding crossed a whole number (18440677443.99999999996 is 18440677444.0),
    // and up to an ulp apart above 2^53.
    let expected = f.trunc();
    let close = (got as f64 - expected).abs() <= 1.0_f64.max(expected * 1e-15);
    assert!(
        got == f as u64 || close,
        "{text:?} read as {got}, serde_json {f}"
    );
}

fn call(kind: u8, text: &str) {
    let Some(kind) = CallKind::from_code(kind % 6) else {
        return;
    };
    // name \0 previousId \0 properties \0 options; an empty part is absent.
    let mut parts = text.splitn(4, '\0').map(|p| (!p.is_empty()).then_some(p));
    let mut next = || parts.next().flatten();
    let (name, previous_id, props, options) = (next(), next(), next(), next());
    let Ok(message) = build_message(
        kind,
        name.map(str::to_string),
        previous_id.map(str::to_string),
        props,
        options,
    ) else {
        return;
    };
    let properties = match &message {
        Message::Track(m) => Some(&m.properties),
        Message::Page(m) => Some(&m.properties),
        Message::Screen(m) => Some(&m.properties),
        Message::Identify(m) => Some(&m.traits),
        Message::Group(m) => Some(&m.traits),
        Message::Alias(_) => None,
    };
    let given = props.map(|p| p.trim_matches([' ', '\t', '\n', '\r']));
    if let (Some(properties), Some(given)) = (properties, given.filter(|p| *p != "null")) {
        assert_eq!(properties.as_json(), given, "properties of {text:?}");
    }
}

/// Whether `serde_json` reads `text` as JSON: with its `raw_value` feature (on in this build,
/// as in the relay's) it reads an object holding its reserved key as raw text instead. The core
/// passes the key through; the relay refuses it (README, "Relay API").
fn serde_is_the_reference(text: &str) -> bool {
    !text.contains("$serde_json::private::RawValue")
}

/// The value of JSON text the core handed out; panics when it is not JSON.
fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("handed out {text:?}, not JSON: {e}"))
}

/// How deep `value` nests (a scalar is 0).
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
