//! A stored record's JSON read in one pass with the core's lexer: its fields as text borrowed
//! from the record, `properties` as its entries, and of `context` only the entries the
//! pipeline uses (`campaign` and `page` as their entries, `referrer`). Values nobody needs
//! are checked against JSON's grammar and skipped; each byte is read once.
//!
//! It reads what `serde_json` reads (tested against it below): the same records are
//! readable, with the same values. Nesting deeper than 128 levels is refused, as `serde_json`
//! does by default.

use std::borrow::Cow;

use spoor_core::json_lex::{LexError, Lexer};

/// Levels of nesting read before giving up.
const MAX_DEPTH: usize = 128;

/// The entries of a JSON object in order: (decoded key, value as JSON text). A key that does
/// not decode (a lone surrogate escape, which the relay refuses) reads as empty.
pub type Entries<'a> = Vec<(Cow<'a, str>, &'a str)>;

/// What the pipeline reads of a record's `context` (of a repeated key, the first).
#[derive(Debug, Default, PartialEq)]
pub struct Context<'a> {
    /// `campaign`'s entries (none when it is not an object).
    pub campaign: Entries<'a>,
    /// `page`'s entries (none when it is not an object).
    pub page: Entries<'a>,
    /// `referrer` as JSON text.
    pub referrer: Option<&'a str>,
}

/// A record's fields: strings decoded, JSON values as their text (`null` reads as absent).
#[derive(Debug, Default, PartialEq)]
pub struct Record<'a> {
    /// `eventId`.
    pub event_id: Option<Cow<'a, str>>,
    /// `type`.
    pub event_type: Option<Cow<'a, str>>,
    /// `eventName`.
    pub event_name: Option<Cow<'a, str>>,
    /// `userId`.
    pub user_id: Option<Cow<'a, str>>,
    /// `anonymousId`.
    pub anonymous_id: Option<Cow<'a, str>>,
    /// `previousId`.
    pub previous_id: Option<Cow<'a, str>>,
    /// `groupId`.
    pub group_id: Option<Cow<'a, str>>,
    /// `timestamp`.
    pub timestamp: Option<Cow<'a, str>>,
    /// `sentAt`.
    pub sent_at: Option<Cow<'a, str>>,
    /// `receivedAt`.
    pub received_at: Option<Cow<'a, str>>,
    /// `eventTime`.
    pub event_time: Option<Cow<'a, str>>,
    /// `source`.
    pub source: Option<Cow<'a, str>>,
    /// `properties` as JSON text.
    pub properties: Option<&'a str>,
    /// `properties`' entries (none when it is not an object).
    pub property_entries: Entries<'a>,
    /// `traits` as JSON text.
    pub traits: Option<&'a str>,
    /// `context` as JSON text.
    pub context: Option<&'a str>,
    /// What the pipeline reads of `context`.
    pub context_view: Context<'a>,
}

/// Why a record is not readable: what was wrong, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct ReadError {
    /// What was wrong.
    pub what: &'static str,
    /// Where.
    pub at: usize,
}

/// Reads a stored record (a JSON object).
pub fn record(text: &str) -> Result<Record<'_>, ReadError> {
    let mut r = Reader::new(text);
    let mut rec = Record::default();
    r.whole(|r| {
        r.object_start()?;
        r.members(|r, key| {
            let slot = match key.as_ref() {
                "eventId" => &mut rec.event_id,
                "type" => &mut rec.event_type,
                "eventName" => &mut rec.event_name,
                "userId" => &mut rec.user_id,
                "anonymousId" => &mut rec.anonymous_id,
                "previousId" => &mut rec.previous_id,
                "groupId" => &mut rec.group_id,
                "timestamp" => &mut rec.timestamp,
                "sentAt" => &mut rec.sent_at,
                "receivedAt" => &mut rec.received_at,
                "eventTime" => &mut rec.event_time,
                "source" => &mut rec.source,
                "properties" => {
                    let (entries, text) = r.entries_or_value(1)?;
                    rec.property_entries = entries;
                    return once(&mut rec.properties, text);
                }
                "traits" => {
                    let text = r.nullable_value(1)?;
                    return once(&mut rec.traits, text);
                }
                "context" => {
                    let (view, text) = r.context(1)?;
                    rec.context_view = view;
                    return once(&mut rec.context, text);
                }
                _ => return r.skip(1),
            };
            let value = r.nullable_string()?;
            once(slot, value)
        })
    })?;
    Ok(rec)
}

/// The entries of JSON text that is an object; none for other or unreadable text.
pub fn entries(text: &str) -> Entries<'_> {
    let mut r = Reader::new(text);
    r.whole(|r| Ok(r.entries_or_value(0)?.0))
        .unwrap_or_default()
}

/// What the pipeline reads of a `context` (JSON text); nothing when it is not an object.
pub fn context(text: &str) -> Context<'_> {
    let mut r = Reader::new(text);
    r.whole(|r| Ok(r.context(0)?.0)).unwrap_or_default()
}

/// A duplicated field is an error, as `serde`'s derive makes it.
fn once<T>(slot: &mut Option<T>, value: Option<T>) -> Result<(), LexError> {
    if slot.is_some() {
        return Err(LexError("duplicate field"));
    }
    *slot = value;
    Ok(())
}

struct Reader<'a> {
    text: &'a str,
    lex: Lexer<'a>,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            lex: Lexer::new(text),
        }
    }

    /// Runs `read` on the whole text: only whitespace may follow what it reads.
    fn whole<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, LexError>,
    ) -> Result<T, ReadError> {
        let out = read(self).and_then(|out| {
            self.lex.space();
            match self.lex.peek() {
                None => Ok(out),
                Some(_) => Err(LexError("trailing characters")),
            }
        });
        out.map_err(|e| ReadError {
            what: e.0,
            at: self.lex.at,
        })
    }

    /// The text from byte `start` to where the reader is.
    fn since(&self, start: usize) -> &'a str {
        self.text.get(start..self.lex.at).unwrap_or_default()
    }

    fn object_start(&mut self) -> Result<(), LexError> {
        self.lex.space();
        self.lex.expect(b'{', "expected an object")
    }

    /// The members of an object whose `{` was read: `member` is called with each key and the
    /// reader on its value, which it must read.
    fn members(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Result<(), LexError>,
    ) -> Result<(), LexError> {
        self.lex.space();
        if self.lex.eat(b'}') {
            return Ok(());
        }
        loop {
            self.lex.space();
            if self.lex.peek() != Some(b'"') {
                return Err(LexError("expected a key"));
            }
            let key = self.string()?.unwrap_or_default();
            self.lex.space();
            self.lex.expect(b':', "expected ':'")?;
            self.lex.space();
            member(self, key)?;
            self.lex.space();
            if !self.lex.eat(b',') {
                return self.lex.expect(b'}', "expected ',' or '}'");
            }
        }
    }

    /// A string token decoded (the reader is on its quote); `None` when an escape does not
    /// decode to a character (a lone surrogate).
    fn string(&mut self) -> Result<Option<Cow<'a, str>>, LexError> {
        let start = self.lex.at;
        let token = self.lex.string(false)?;
        let raw = self.since(start);
        if !token.escaped {
            return Ok(raw.get(1..raw.len() - 1).map(Cow::Borrowed));
        }
        Ok(serde_json::from_str::<String>(raw).ok().map(Cow::Owned))
    }

    /// A string or `null`.
    fn nullable_string(&mut self) -> Result<Option<Cow<'a, str>>, LexError> {
        match self.lex.peek() {
            Some(b'"') => self
                .string()?
                .map(Some)
                .ok_or(LexError("an escape that is no character")),
            Some(b'n') => self.lex.literal(b"null").map(|()| None),
            _ => Err(LexError("expected a string")),
        }
    }

    /// Any value's text.
    fn value(&mut self, depth: usize) -> Result<&'a str, LexError> {
        let start = self.lex.at;
        self.skip(depth)?;
        Ok(self.since(start))
    }

    /// Any value's text, `None` for `null`.
    fn nullable_value(&mut self, depth: usize) -> Result<Option<&'a str>, LexError> {
        let text = self.value(depth)?;
        Ok((text != "null").then_some(text))
    }

    /// An object read member by member with `member` (see [`Reader::members`]), and its
    /// text; of any other value only its text (`None` for `null`).
    fn object_or_value(
        &mut self,
        depth: usize,
        member: impl FnMut(&mut Self, Cow<'a, str>) -> Result<(), LexError>,
    ) -> Result<Option<&'a str>, LexError> {
        self.lex.space();
        if self.lex.peek() != Some(b'{') {
            return self.nullable_value(depth);
        }
        let start = self.lex.at;
        self.deeper(depth)?;
        self.lex.at += 1;
        self.members(member)?;
        Ok(Some(self.since(start)))
    }

    /// An object's entries and text, or (no entries) any other value's text; `None` for `null`.
    fn entries_or_value(
        &mut self,
        depth: usize,
    ) -> Result<(Entries<'a>, Option<&'a str>), LexError> {
        let mut out = Vec::new();
        let text = self.object_or_value(depth, |r, key| {
            out.push((key, r.value(depth + 1)?));
            Ok(())
        })?;
        Ok((out, text))
    }

    /// What the pipeline reads of a context, and its text (`None` for `null`).
    fn context(&mut self, depth: usize) -> Result<(Context<'a>, Option<&'a str>), LexError> {
        let mut view = Context::default();
        let (mut campaign, mut page) = (false, false);
        let text = self.object_or_value(depth, |r, key| {
            let (seen, entries) = match key.as_ref() {
                "campaign" => (&mut campaign, &mut view.campaign),
                "page" => (&mut page, &mut view.page),
                "referrer" if view.referrer.is_none() => {
                    view.referrer = Some(r.value(depth + 1)?);
                    return Ok(());
                }
                _ => return r.skip(depth + 1),
            };
            if *seen {
                return r.skip(depth + 1);
            }
            *seen = true;
            *entries = r.entries_or_value(depth + 1)?.0;
            Ok(())
        })?;
        Ok((view, text))
    }

    fn deeper(&self, depth: usize) -> Result<(), LexError> {
        if depth >= MAX_DEPTH {
            return Err(LexError("nested too deeply"));
        }
        Ok(())
    }

    /// Skips one value, checking its grammar; `depth`: the containers it is in.
    fn skip(&mut self, depth: usize) -> Result<(), LexError> {
        self.lex.space();
        match self.lex.peek() {
            Some(b'{') => {
                self.deeper(depth)?;
                self.lex.at += 1;
                self.members(|r, _| r.skip(depth + 1))
            }
            Some(b'[') => {
                self.deeper(depth)?;
                self.lex.at += 1;
                self.lex.space();
                if self.lex.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.skip(depth + 1)?;
                    self.lex.space();
                    if !self.lex.eat(b',') {
                        return self.lex.expect(b']', "expected ',' or ']'");
                    }
                }
            }
            Some(b'"') => self.lex.string(false).map(drop),
            Some(b't') => self.lex.literal(b"true"),
            Some(b'f') => self.lex.literal(b"false"),
            Some(b'n') => self.lex.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.lex.number().map(drop),
            _ => Err(LexError("expected a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::IgnoredAny;
    use serde_json::Value;
    use spoor_core::json_strategies::{any_value, token_soup};

    const HEAD: &str = r#"{"eventId":"e1","receivedAt":"2026-05-03T10:00:00.000Z","eventTime":"2026-05-03T10:00:00.000Z","source":"web""#;

    fn text_of(v: &Value) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn reads_a_record_with_escapes_whitespace_and_unknown_fields() {
        let text = " {\"eventId\" : \"e\\\"1\", \"extra\": [1, {\"a\": null}], \"userId\": null,\n \"properties\": {\"k\": \"v\", \"n\": 1.5e3}, \"context\": {\"page\": {\"path\": \"/p\"}, \"page\": {\"path\": \"/q\"}, \"referrer\": \"r\"}} ";
        let rec = record(text).unwrap();
        assert_eq!(rec.event_id.as_deref(), Some("e\"1"));
        assert_eq!(rec.user_id, None);
        assert_eq!(rec.properties, Some(r#"{"k": "v", "n": 1.5e3}"#));
        assert_eq!(
            rec.property_entries,
            vec![("k".into(), r#""v""#), ("n".into(), "1.5e3")]
        );
        assert_eq!(rec.context_view.page, vec![("path".into(), r#""/p""#)]);
        assert_eq!(rec.context_view.referrer, Some(r#""r""#));
    }

    #[test]
    fn refuses_what_serde_refuses() {
        for bad in [
            r#"{"eventId":"a","eventId":"b"}"#,
            r#"{"eventId":1}"#,
            r#"{"eventId":"a"} x"#,
            r#"{"eventId":"a",}"#,
            r#"["eventId"]"#,
            "",
        ] {
            assert!(record(bad).is_err(), "{bad}");
        }
        let deep = format!(
            "{HEAD},\"properties\":{}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(record(&deep).is_err());
    }

    proptest! {
        /// Any value in `properties`, `traits`, `context` or an unknown field: the record
        /// reads when serde_json reads it, and gives serde_json's values.
        #[test]
        fn reads_what_serde_json_reads(props in any_value(), ctx in any_value(), extra in any_value()) {
            let text = format!(
                "{HEAD},\"x\":{},\"properties\":{},\"traits\":{},\"context\":{}}}",
                text_of(&extra), text_of(&props), text_of(&extra), text_of(&ctx),
            );
            let rec = record(&text).unwrap();
            let given = |v: &Value| (!v.is_null()).then(|| text_of(v));
            prop_assert_eq!(rec.properties.map(str::to_string), given(&props));
            prop_assert_eq!(rec.traits.map(str::to_string), given(&extra));
            prop_assert_eq!(rec.context.map(str::to_string), given(&ctx));
            // serde_json writes an object's entries in its map's order, one value's text each.
            let entries_of = |v: Option<&Value>| -> Vec<(String, String)> {
                v.and_then(Value::as_object)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect())
                    .unwrap_or_default()
            };
            let read = |e: &Entries<'_>| -> Vec<(String, String)> {
                e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
            };
            prop_assert_eq!(read(&rec.property_entries), entries_of(Some(&props)));
            let view = &rec.context_view;
            prop_assert_eq!(read(&view.campaign), entries_of(ctx.get("campaign")));
            prop_assert_eq!(read(&view.page), entries_of(ctx.get("page")));
            prop_assert_eq!(view.referrer.map(str::to_string), ctx.get("referrer").map(text_of));
        }

        /// Random tokens in a value's place: readable exactly when serde_json can read it.
        #[test]
        fn syntax_agrees_with_serde_json(soup in token_soup()) {
            for field in ["properties", "context", "x"] {
                let text = format!("{HEAD},\"{field}\":{soup}}}");
                let serde = serde_json::from_str::<IgnoredAny>(&text).is_ok();
                prop_assert_eq!(record(&text).is_ok(), serde, "{}", text);
            }
        }
    }
}
