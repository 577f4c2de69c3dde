//! The hand-written JSON parts against `serde_json` as the reference.

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::json_strategies::{any_value, token_soup};

proptest! {
    #[test]
    fn check_agrees_with_serde_json_on_soup(text in token_soup()) {
        let reference = serde_json::from_str::<Value>(&text).is_ok();
        prop_assert_eq!(check(&text).is_ok(), reference, "{:?}", text);
    }

    #[test]
    fn check_accepts_what_serde_json_writes(value in any_value()) {
        let compact = serde_json::to_string(&value).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        prop_assert_eq!(check(&compact), Ok(()));
        prop_assert_eq!(check(&pretty), Ok(()));
        let broken = &compact[..compact.len() - 1];
        prop_assert_eq!(check(broken).is_ok(), serde_json::from_str::<Value>(broken).is_ok());
    }

    #[test]
    fn entries_and_items_are_what_serde_json_reads(value in any_value(), pretty in any::<bool>()) {
        // Keys are unique here; duplicates are covered by a unit test.
        let wrapped = serde_json::json!({"o": value, "a": [value, value]});
        for container in [&wrapped, &wrapped["o"], &wrapped["a"]] {
            let text = if pretty {
                serde_json::to_string_pretty(container).unwrap()
            } else {
                serde_json::to_string(container).unwrap()
            };
            // The reference reads the text too (serde_json's float parsing
            // does not round-trip every f64 exactly).
            let reread: Value = serde_json::from_str(&text).unwrap();
            match &reread {
                Value::Object(map) => {
                    let properties = Properties::from_json(&text).unwrap();
                    let entries: Vec<(String, Value)> = properties
                        .iter()
                        .map(|(k, v)| (k.into_owned(), serde_json::from_str(v).unwrap()))
                        .collect();
                    let expected: Vec<(String, Value)> =
                        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    prop_assert_eq!(entries, expected);
                    prop_assert_eq!(properties.is_empty(), map.is_empty());
                    prop_assert_eq!(&properties.to_map(), map);
                }
                Value::Array(items) => {
                    let read: Vec<Value> =
                        Items::new(&text).map(|v| serde_json::from_str(v).unwrap()).collect();
                    prop_assert_eq!(&read, items);
                }
                other => {
                    prop_assert_eq!(Properties::from_json(&text), Err(JsonError::NotAnObject), "{}", other);
                }
            }
        }
    }

    #[test]
    fn push_string_writes_what_serde_json_writes(text in any::<String>()) {
        let mut out = String::new();
        push_string(&mut out, &text);
        prop_assert_eq!(&out, &serde_json::to_string(&text).unwrap());
        prop_assert_eq!(decode_string(&out), text.as_str());
    }

    #[test]
    fn decode_string_reads_every_escape(text in any::<String>(), escape in prop::collection::vec(any::<bool>(), 64)) {
        // Escape a mix of characters as \uXXXX (surrogate pairs above the BMP).
        let mut token = String::from("\"");
        for (i, c) in text.chars().enumerate() {
            if escape[i % escape.len()] || c < ' ' || c == '"' || c == '\\' {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    token.push_str(&format!("\\u{unit:04X}"));
                }
            } else {
                token.push(c);
            }
        }
        token.push('"');
        prop_assert_eq!(check(&token), Ok(()));
        prop_assert_eq!(decode_string(&token), serde_json::from_str::<String>(&token).unwrap());
        prop_assert_eq!(decode_string(&token), text.as_str());
    }

    #[test]
    fn insert_and_remove_are_map_insert_and_remove(
        map in prop::collection::btree_map("[a-c\"\\\\]{0,2}", any::<i32>(), 0..5),
        key in "[a-c\"\\\\]{0,2}",
        value in any::<i32>(),
    ) {
        let map: serde_json::Map<String, Value> =
            map.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
        let mut properties = Properties::from(map.clone());
        let mut reference = map;
        properties.insert(key.clone(), value.into());
        reference.insert(key.clone(), value.into());
        prop_assert_eq!(&properties.to_map(), &reference);
        let expected = value.to_string();
        prop_assert_eq!(properties.get_json(&key), Some(expected.as_str()));
        prop_assert_eq!(properties.remove(&key), true);
        reference.remove(&key);
        prop_assert_eq!(&properties.to_map(), &reference);
        prop_assert!(!properties.contains_key(&key));
        prop_assert_eq!(check(properties.as_json()), Ok(()));
    }
}

#[test]
fn nesting_is_limited_as_in_serde_json() {
    for depth in [126, 127, 128, 129] {
        for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
            let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            assert_eq!(
                check(&text).is_ok(),
                serde_json::from_str::<Value>(&text).is_ok(),
                "{open} x {depth}"
            );
        }
    }
    assert!(check(&"[".repeat(100_000)).is_err());
}

#[test]
fn lone_surrogates_are_refused_as_serde_json_refuses_them() {
    for text in [
        r#""\ud800""#,
        r#""\udc00""#,
        r#""\ud800\u0041""#,
        r#""\ud800\ud800""#,
        r#""\ud800x""#,
        r#""\udbff\\udc00""#,
    ] {
        assert_eq!(check(text), Err(JsonError::LoneSurrogate), "{text}");
        assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
    }
    assert_eq!(check(r#""\ud83d\ude00""#), Ok(()));
    assert_eq!(
        check(r#""\\ud800""#),
        Ok(()),
        "an escaped backslash, not an escape"
    );
}

#[test]
fn properties_keep_the_text_and_read_keys_decoded() {
    let p = Properties::from_json(" {\"a\" : 1 , \"\\u0062\":\"x\\ny\", \"a\":{\"n\":[1,2]}}\n")
        .unwrap();
    assert_eq!(
        p.as_json(),
        "{\"a\" : 1 , \"\\u0062\":\"x\\ny\", \"a\":{\"n\":[1,2]}}"
    );
    assert_eq!(p.get_json("a"), Some("{\"n\":[1,2]}"), "the last duplicate");
    assert_eq!(p.get_str("b").as_deref(), Some("x\ny"));
    assert_eq!(p.get_str("a"), None);
    assert_eq!(
        p.get_object("a").map(|o| o.as_json().to_owned()).as_deref(),
        Some("{\"n\":[1,2]}")
    );
    assert!(!p.is_empty());
    assert!(Properties::from_json("{ }").unwrap().is_empty());
    assert_eq!(Properties::from_json("[]"), Err(JsonError::NotAnObject));
    assert_eq!(Properties::from_json("{} x"), Err(JsonError::Invalid));
    assert_eq!(Properties::new().as_json(), "{}");
    let mut p = Properties::new();
    p.insert_json("k", " [1, 2] ").unwrap();
    assert_eq!(p.as_json(), "{\"k\":[1, 2]}");
    assert_eq!(p.insert_json("k", "[1,"), Err(JsonError::Invalid));
    assert_eq!(p.as_json(), "{\"k\":[1, 2]}", "unchanged after an error");
}

#[test]
fn string_arrays_read_decoded_and_anything_else_is_none() {
    let p = Properties::from_json(
        r#"{"granted":["analytics", "q\"uote", "\u00e9"],"mixed":["a",1],"empty":[],"s":"x"}"#,
    )
    .unwrap();
    assert_eq!(
        p.get_str_array("granted"),
        Some(vec![
            "analytics".to_owned(),
            "q\"uote".to_owned(),
            "é".to_owned()
        ])
    );
    assert_eq!(p.get_str_array("empty"), Some(vec![]));
    assert_eq!(p.get_str_array("mixed"), None);
    assert_eq!(p.get_str_array("s"), None);
    assert_eq!(p.get_str_array("missing"), None);
}
