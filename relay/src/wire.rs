//! One event's JSON text read in one pass: the text checked as JSON, its
//! top-level fields found and kept as text borrowed from the body, and
//! `properties`, `traits` and `context` checked against the limits
//! (`config::Limits`: key count, nesting depth, string length) on the way.
//!
//! Hand-written: through serde_json's derive the same text was read three
//! times (the fields, each string field decoded again, each context value
//! walked again for the limits), most of an event's instructions
//! (BENCHMARKS.md, "Relay"). The tokens (strings, numbers, literals) are
//! `spoor_core::json_lex`'s, which the SDK core's JSON check reads with too;
//! the structure and what is kept are this reader's. The tests check it
//! against serde_json.

use std::borrow::Cow;

use crate::config::Limits;
use crate::incoming::{Invalid, NOT_JSON};
use spoor_core::json_lex::{LexError, Lexer, StringToken, finite_f64};

use crate::raw_json::{Context, Key, RawJson, decode_string};

/// Deepest nesting of objects and arrays read at all (the event itself is
/// level 1), as in serde_json.
const MAX_NESTING: usize = 127;

/// An event's top-level fields as the JSON text they came in (any kind of
/// value: `incoming` checks the kinds). `null` counts as absent.
#[derive(Debug, Default)]
pub struct Wire<'a> {
    /// `eventId`.
    pub event_id: Option<RawJson<'a>>,
    /// `messageId` (Segment's name for the event id).
    pub message_id: Option<RawJson<'a>>,
    /// `type`.
    pub event_type: Option<RawJson<'a>>,
    /// `eventName`.
    pub event_name: Option<RawJson<'a>>,
    /// `event` (Segment's name for a track event's name).
    pub event: Option<RawJson<'a>>,
    /// `name` (Segment's name for a page or screen name).
    pub name: Option<RawJson<'a>>,
    /// `userId`.
    pub user_id: Option<RawJson<'a>>,
    /// `anonymousId`.
    pub anonymous_id: Option<RawJson<'a>>,
    /// `previousId`.
    pub previous_id: Option<RawJson<'a>>,
    /// `groupId`.
    pub group_id: Option<RawJson<'a>>,
    /// `timestamp`.
    pub timestamp: Option<RawJson<'a>>,
    /// `sentAt`.
    pub sent_at: Option<RawJson<'a>>,
    /// `properties`: an object within the limits, as text (without line breaks).
    pub properties: Option<Cow<'a, str>>,
    /// `traits`: an object within the limits, as text (without line breaks).
    pub traits: Option<Cow<'a, str>>,
    /// `context`: its entries, each value within the limits.
    pub context: Option<Context<'a>>,
    /// `schemaVersion`.
    pub schema_version: Option<u32>,
}

/// An event of a batch: its text, and what reading it found.
pub type ReadEvent<'a> = (&'a str, Result<Wire<'a>, Invalid>);

/// A `{"batch": [...]}` body read in one pass, its events with it.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    /// Each event; `None` without a `batch` field.
    pub events: Option<Vec<ReadEvent<'a>>>,
    /// `writeKey`.
    pub write_key: Option<String>,
    /// `sentAt`, for the events without their own.
    pub sent_at: Option<String>,
    /// `dropped`: events the SDK dropped from its full queue.
    pub dropped: Option<u64>,
}

/// An object key serde_json reads specially: with its `raw_value` feature
/// (which the pipeline uses), an object whose first key is this is read as
/// the JSON text of its value. Kept data must not hold it, or it would not
/// read back as written.
pub(crate) const RESERVED_KEY: &str = "$serde_json::private::RawValue";

/// The code of a body with a field of the wrong kind (`batch` not an array, ...).
pub const WRONG_BODY_FIELD: &str = "invalid_body";

/// The names read, in the order of [`Wire`]'s fields.
const FIELDS: [&str; 16] = [
    "eventId",
    "messageId",
    "type",
    "eventName",
    "event",
    "name",
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "timestamp",
    "sentAt",
    "properties",
    "traits",
    "context",
    "schemaVersion",
];
const PROPERTIES: usize = 12;
const TRAITS: usize = 13;
const CONTEXT: usize = 14;
const SCHEMA_VERSION: usize = 15;

/// The index of `key` in [`FIELDS`] (a `match`: a search compared every name).
fn field_index(key: &str) -> Option<usize> {
    Some(match key {
        "eventId" => 0,
        "messageId" => 1,
        "type" => 2,
        "eventName" => 3,
        "event" => 4,
        "name" => 5,
        "userId" => 6,
        "anonymousId" => 7,
        "previousId" => 8,
        "groupId" => 9,
        "timestamp" => 10,
        "sentAt" => 11,
        "properties" => PROPERTIES,
        "traits" => TRAITS,
        "context" => CONTEXT,
        "schemaVersion" => SCHEMA_VERSION,
        _ => return None,
    })
}

/// Reads one event. Text that is not JSON is refused as [`NOT_JSON`] before
/// anything else; otherwise the first problem found (a field of the wrong
/// kind, a duplicated field, a limit passed) is the refusal.
pub fn read<'a>(text: &'a str, limits: &Limits) -> Result<Wire<'a>, Invalid> {
    Reader::new(text, limits).whole(|reader| reader.event(1))
}

/// Reads a batch body and every event in it, each as [`read`] would. Text
/// that is not JSON anywhere in the body is refused as [`NOT_JSON`], a body
/// field of the wrong kind as [`WRONG_BODY_FIELD`]; an event's own problems
/// are that event's.
pub fn read_batch<'a>(text: &'a str, limits: &Limits) -> Result<Batch<'a>, Invalid> {
    Reader::new(text, limits).whole(Reader::batch)
}

/// Where the text stops being JSON.
#[derive(Debug)]
struct Syntax {
    what: &'static str,
    at: usize,
}

/// Where a value sits inside `properties`, `traits` or `context`, for the limits.
#[derive(Clone, Copy)]
struct Scope<'s> {
    field: &'static str,
    key: &'s str,
    /// 1 for the value of a top-level key of the field.
    depth: usize,
}

struct Reader<'a, 'l> {
    text: &'a str,
    lex: Lexer<'a>,
    limits: &'l Limits,
    /// The first refusal: reading goes on, so that text that is not JSON
    /// further on is reported as such.
    refused: Option<Invalid>,
}

impl<'a, 'l> Reader<'a, 'l> {
    fn new(text: &'a str, limits: &'l Limits) -> Self {
        Reader {
            text,
            lex: Lexer::new(text),
            limits,
            refused: None,
        }
    }

    /// Reads the whole text with `read`: the syntax error, else the first refusal, else what was read.
    fn whole<T>(mut self, read: impl FnOnce(&mut Self) -> Result<T, Syntax>) -> Result<T, Invalid> {
        let found = read(&mut self).and_then(|found| self.end().map(|()| found));
        let found = found.map_err(|e| {
            Invalid::new(
                NOT_JSON,
                format!("not valid JSON: {} at byte {}", e.what, e.at),
            )
        })?;
        match self.refused {
            Some(invalid) => Err(invalid),
            None => Ok(found),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.lex.peek()
    }

    fn syntax(&self, what: &'static str) -> Syntax {
        Syntax {
            what,
            at: self.lex.at,
        }
    }

    fn refuse(&mut self, invalid: Invalid) {
        if self.refused.is_none() {
            self.refused = Some(invalid);
        }
    }

    fn space(&mut self) {
        self.lex.space();
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.lex.eat(byte)
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), Syntax> {
        self.lex.expect(byte, what).map_err(|e| self.lex_error(e))
    }

    /// The text from `start` to here. Every position is on an ASCII byte of
    /// JSON syntax, so the slice falls on character boundaries.
    fn since(&self, start: usize) -> &'a str {
        self.text.get(start..self.lex.at).unwrap_or_default()
    }

    /// The text from `start` to here, to be kept in a record: without the
    /// line breaks skipped since the lexer had counted `breaks` of them (in
    /// JSON they only stand between tokens), so a record stays one line of
    /// `spoor log cat`'s NDJSON.
    fn kept_since(&self, start: usize, breaks: usize) -> Cow<'a, str> {
        let text = self.since(start);
        if self.lex.line_breaks == breaks {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(text.replace(['\n', '\r'], ""))
        }
    }

    /// An event at `nesting` (1 for a body that is one event).
    fn event(&mut self, nesting: usize) -> Result<Wire<'a>, Syntax> {
        let mut wire = Wire::default();
        self.space();
        if self.peek() != Some(b'{') {
            self.value(nesting, None)?;
            self.refuse(Invalid::new(
                "invalid_event",
                "an event must be a JSON object",
            ));
            return Ok(wire);
        }
        let mut seen = 0u32;
        self.object(|reader, key| {
            match field_index(&key) {
                Some(index) => {
                    if seen & (1 << index) != 0 {
                        reader.refuse(Invalid::new(
                            "invalid_event",
                            format!("duplicate field `{}`", FIELDS[index]),
                        ));
                    }
                    seen |= 1 << index;
                    reader.field(&mut wire, index, nesting + 1)?;
                }
                None => reader.value(nesting + 1, None)?,
            }
            Ok(())
        })?;
        Ok(wire)
    }

    /// The members of an object (the reader is on its `{`): `member` reads
    /// each value, given the key (decoded only to be compared with names).
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Result<(), Syntax>,
    ) -> Result<(), Syntax> {
        self.lex.at += 1;
        self.space();
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            self.space();
            let key = self.key()?;
            self.space();
            self.expect(b':', "expected ':'")?;
            self.space();
            member(self, key)?;
            self.space();
            if self.eat(b'}') {
                return Ok(());
            }
            self.expect(b',', "expected ',' or '}'")?;
        }
    }

    /// A batch body: its fields, and each event read where it stands.
    fn batch(&mut self) -> Result<Batch<'a>, Syntax> {
        let mut batch = Batch::default();
        self.space();
        if self.peek() != Some(b'{') {
            self.value(1, None)?;
            self.refuse(wrong_body_field("the body must be a JSON object"));
            return Ok(batch);
        }
        let mut seen = [false; 4];
        self.object(|reader, key| {
            let index = match key.as_ref() {
                "batch" => 0,
                "writeKey" => 1,
                "sentAt" => 2,
                "dropped" => 3,
                _ => return reader.value(2, None),
            };
            if std::mem::replace(&mut seen[index], true) {
                reader.refuse(wrong_body_field(&format!("duplicate field `{key}`")));
            }
            match index {
                0 => batch.events = reader.events()?,
                1 => batch.write_key = reader.body_string("writeKey")?,
                2 => batch.sent_at = reader.body_string("sentAt")?,
                _ => batch.dropped = reader.body_count("dropped")?,
            }
            Ok(())
        })?;
        Ok(batch)
    }

    /// The `batch` array: each event read, with its own refusal.
    fn events(&mut self) -> Result<Option<Vec<ReadEvent<'a>>>, Syntax> {
        let start = self.lex.at;
        if self.peek() != Some(b'[') {
            self.value(2, None)?;
            if self.since(start) != "null" {
                self.refuse(wrong_body_field("batch must be an array of events"));
            }
            return Ok(None);
        }
        self.lex.at += 1;
        self.space();
        let mut events = Vec::new();
        if self.eat(b']') {
            return Ok(Some(events));
        }
        let body_refused = self.refused.take();
        loop {
            self.space();
            let event_start = self.lex.at;
            let wire = self.event(3)?;
            let read = match self.refused.take() {
                Some(invalid) => Err(invalid),
                None => Ok(wire),
            };
            events.push((self.since(event_start), read));
            self.space();
            if self.eat(b']') {
                break;
            }
            self.expect(b',', "expected ',' or ']'")?;
        }
        self.refused = body_refused;
        Ok(Some(events))
    }

    /// A body field that must be a string (or null).
    fn body_string(&mut self, field: &str) -> Result<Option<String>, Syntax> {
        let start = self.lex.at;
        self.value(2, None)?;
        let text = self.since(start);
        if text == "null" {
            return Ok(None);
        }
        match decode_string(text) {
            Ok(Some(s)) => Ok(Some(s.into_owned())),
            Ok(None) => {
                self.refuse(wrong_body_field(&format!("{field} must be a string")));
                Ok(None)
            }
            Err(_) => {
                self.refuse(wrong_body_field(&format!(
                    "{field} has an escape that is no character (a lone surrogate?)"
                )));
                Ok(None)
            }
        }
    }

    /// A body field that must be a whole number (or null).
    fn body_count(&mut self, field: &str) -> Result<Option<u64>, Syntax> {
        let start = self.lex.at;
        self.value(2, None)?;
        let text = self.since(start);
        if text == "null" {
            return Ok(None);
        }
        match whole_number(text) {
            Ok(Some(n)) => return Ok(Some(n)),
            Ok(None) => self.refuse(wrong_body_field(&format!("{field} is out of range"))),
            Err(()) => self.refuse(wrong_body_field(&format!("{field} must be a whole number"))),
        }
        Ok(None)
    }

    fn end(&mut self) -> Result<(), Syntax> {
        self.space();
        if self.lex.at == self.text.len() {
            Ok(())
        } else {
            Err(self.syntax("trailing characters"))
        }
    }

    /// A top-level key, decoded (only to be compared with the names read).
    fn key(&mut self) -> Result<Cow<'a, str>, Syntax> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax("expected a key"));
        }
        let start = self.lex.at;
        let token = self.string(false)?;
        let text = self.since(start);
        Ok(if token.escaped {
            decode(text)
        } else {
            Cow::Borrowed(text.get(1..text.len() - 1).unwrap_or_default())
        })
    }

    /// The value of `FIELDS[index]` at `nesting`, into `wire`.
    fn field(&mut self, wire: &mut Wire<'a>, index: usize, nesting: usize) -> Result<(), Syntax> {
        let field = FIELDS[index];
        let start = self.lex.at;
        match index {
            PROPERTIES | TRAITS | CONTEXT => {
                if self.peek() != Some(b'{') {
                    self.value(nesting, None)?;
                    if self.since(start) != "null" {
                        self.refuse(Invalid::new(
                            "invalid_event",
                            format!("{field} must be an object"),
                        ));
                    }
                    return Ok(());
                }
                let mut context = (index == CONTEXT).then(Context::new);
                let breaks = self.lex.line_breaks;
                self.checked_object(field, nesting, context.as_mut())?;
                let text = self.kept_since(start, breaks);
                match index {
                    PROPERTIES => wire.properties = Some(text),
                    TRAITS => wire.traits = Some(text),
                    _ => wire.context = context,
                }
            }
            SCHEMA_VERSION => {
                self.value(nesting, None)?;
                let text = self.since(start);
                if text != "null" {
                    match whole_number(text) {
                        Ok(Some(v)) => wire.schema_version = Some(v),
                        _ => self.refuse(bad_schema_version()),
                    }
                }
            }
            _ => {
                self.value(nesting, None)?;
                let text = self.since(start);
                if text != "null" {
                    let raw = Some(RawJson::borrowed(text));
                    match index {
                        0 => wire.event_id = raw,
                        1 => wire.message_id = raw,
                        2 => wire.event_type = raw,
                        3 => wire.event_name = raw,
                        4 => wire.event = raw,
                        5 => wire.name = raw,
                        6 => wire.user_id = raw,
                        7 => wire.anonymous_id = raw,
                        8 => wire.previous_id = raw,
                        9 => wire.group_id = raw,
                        10 => wire.timestamp = raw,
                        _ => wire.sent_at = raw,
                    }
                }
            }
        }
        Ok(())
    }

    /// `properties`, `traits` or `context` (the reader is on its `{`): every
    /// value checked against the limits, the entries kept in `context` when given.
    fn checked_object(
        &mut self,
        field: &'static str,
        nesting: usize,
        mut context: Option<&mut Context<'a>>,
    ) -> Result<(), Syntax> {
        self.lex.at += 1;
        self.space();
        if self.eat(b'}') {
            return Ok(());
        }
        let mut keys = 0usize;
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a key"));
            }
            let key_start = self.lex.at;
            let token = self.string(true)?;
            let key_text = self.since(key_start);
            let key = match (token.escaped, token.lone_surrogate) {
                (_, true) => {
                    self.refuse(Invalid::new(
                        "invalid_event",
                        format!("{field} has a key with a lone surrogate escape"),
                    ));
                    Cow::Borrowed("")
                }
                (false, false) => {
                    Cow::Borrowed(key_text.get(1..key_text.len() - 1).unwrap_or_default())
                }
                (true, false) => decode(key_text),
            };
            keys += 1;
            if key == RESERVED_KEY {
                self.refuse(reserved_key(field));
            }
            self.space();
            self.expect(b':', "expected ':'")?;
            self.space();
            let value_start = self.lex.at;
            let breaks = self.lex.line_breaks;
            let scope = Scope {
                field,
                key: key.as_ref(),
                depth: 1,
            };
            self.value(nesting + 1, Some(scope))?;
            if let Some(context) = context.as_deref_mut() {
                let value = self.kept_since(value_start, breaks);
                context.push(Key(key), RawJson::from_text(value));
            }
            self.space();
            if self.eat(b'}') {
                break;
            }
            self.expect(b',', "expected ',' or '}'")?;
        }
        if let Some(context) = context {
            context.dedupe();
        }
        if keys > self.limits.max_properties {
            self.refuse(Invalid::new(
                "too_many_properties",
                format!(
                    "{field} has {keys} keys, over the limit of {}",
                    self.limits.max_properties
                ),
            ));
        }
        Ok(())
    }

    /// Any value; `scope` set: inside `properties`, `traits` or `context`,
    /// where the limits hold and every string and number must read back.
    /// `nesting`: the level the value is at, should it be an object or array.
    fn value(&mut self, nesting: usize, scope: Option<Scope<'_>>) -> Result<(), Syntax> {
        if nesting > MAX_NESTING && matches!(self.peek(), Some(b'{' | b'[')) {
            return Err(self.syntax("nesting deeper than 127 levels"));
        }
        // After a refusal only the syntax matters.
        let mut scope = scope.filter(|_| self.refused.is_none());
        if let Some(s) = scope
            && s.depth > self.limits.max_depth
        {
            self.refuse(Invalid::new(
                "too_deep",
                format!(
                    "{}.{} nests deeper than {} levels",
                    s.field, s.key, self.limits.max_depth
                ),
            ));
            scope = None;
        }
        let deeper = scope.map(|s| Scope {
            depth: s.depth + 1,
            ..s
        });
        match self.peek() {
            Some(b'{') => {
                self.lex.at += 1;
                self.space();
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    self.space();
                    if self.peek() != Some(b'"') {
                        return Err(self.syntax("expected a key"));
                    }
                    let key_start = self.lex.at;
                    let token = self.string(scope.is_some())?;
                    if let Some(s) = scope {
                        if token.lone_surrogate {
                            self.refuse(lone_surrogate(s));
                        } else if token.decoded_len == RESERVED_KEY.len()
                            && decode(self.since(key_start)) == RESERVED_KEY
                        {
                            self.refuse(reserved_key(s.field));
                        }
                    }
                    self.space();
                    self.expect(b':', "expected ':'")?;
                    self.space();
                    self.value(nesting + 1, deeper)?;
                    self.space();
                    if self.eat(b'}') {
                        return Ok(());
                    }
                    self.expect(b',', "expected ',' or '}'")?;
                }
            }
            Some(b'[') => {
                self.lex.at += 1;
                self.space();
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.space();
                    self.value(nesting + 1, deeper)?;
                    self.space();
                    if self.eat(b']') {
                        return Ok(());
                    }
                    self.expect(b',', "expected ',' or ']'")?;
                }
            }
            Some(b'"') => {
                let token = self.string(scope.is_some())?;
                if let Some(s) = scope {
                    if token.lone_surrogate {
                        self.refuse(lone_surrogate(s));
                    } else if token.decoded_len > self.limits.max_string_bytes {
                        self.refuse(Invalid::new(
                            "string_too_long",
                            format!(
                                "{}.{} is a string of {} bytes, over {}",
                                s.field, s.key, token.decoded_len, self.limits.max_string_bytes
                            ),
                        ));
                    }
                }
                Ok(())
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.lex.at;
                let plain = self.number()?;
                // What serde_json reads as an `f64` must be finite to read back.
                if let Some(s) = scope
                    && !plain
                    && !finite_f64(self.since(start).as_bytes())
                {
                    self.refuse(Invalid::new(
                        "invalid_event",
                        format!("{}.{}: number out of range", s.field, s.key),
                    ));
                }
                Ok(())
            }
            Some(_) => Err(self.syntax("expected a value")),
            None => Err(self.syntax("unexpected end")),
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<(), Syntax> {
        self.lex
            .literal(word.as_bytes())
            .map_err(|e| self.lex_error(e))
    }

    /// A number; true when it needs no range check (see [`Lexer::number`]).
    fn number(&mut self) -> Result<bool, Syntax> {
        self.lex.number().map_err(|e| self.lex_error(e))
    }

    /// A string token (the reader is on its opening quote); `check`: look
    /// for lone surrogates.
    fn string(&mut self, check: bool) -> Result<StringToken, Syntax> {
        self.lex.string(check).map_err(|e| self.lex_error(e))
    }

    fn lex_error(&self, e: LexError) -> Syntax {
        self.syntax(e.0)
    }
}

fn lone_surrogate(scope: Scope<'_>) -> Invalid {
    Invalid::new(
        "invalid_event",
        format!(
            "{}.{} has an escape that is no character (a lone surrogate)",
            scope.field, scope.key
        ),
    )
}

/// A key's string token decoded (empty should it not decode: a lone
/// surrogate, which the callers refuse or ignore).
fn decode(token: &str) -> Cow<'_, str> {
    decode_string(token).ok().flatten().unwrap_or_default()
}

/// Digits only, as a number of `T` (`Ok(None)`: out of `T`'s range; `Err`:
/// not a whole number at all).
fn whole_number<T: std::str::FromStr>(text: &str) -> Result<Option<T>, ()> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.parse().ok())
    } else {
        Err(())
    }
}

fn reserved_key(field: &str) -> Invalid {
    Invalid::new(
        "invalid_event",
        format!("{field} has the key {RESERVED_KEY:?}, which JSON readers here take for raw JSON"),
    )
}

fn wrong_body_field(message: &str) -> Invalid {
    Invalid::new(WRONG_BODY_FIELD, message)
}

fn bad_schema_version() -> Invalid {
    Invalid::new(
        "invalid_event",
        "schemaVersion must be a whole number from 0 to 4294967295",
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::IgnoredAny;
    use serde_json::{Value, json};
    use spoor_core::json_strategies::{any_value, token_soup};

    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn not_json(text: &str) -> bool {
        matches!(read(text, &limits()), Err(e) if e.code == NOT_JSON)
    }

    #[test]
    fn field_names_and_indexes_agree() {
        for (i, name) in FIELDS.iter().enumerate() {
            assert_eq!(field_index(name), Some(i));
        }
        assert_eq!(field_index("eventid"), None);
    }

    #[test]
    fn fields_are_found_as_text() {
        let text = r#" { "eventId" : "a\"b", "type":"track","userId":42,"x":{"y":[1,{"z":null}]},
            "name":null, "properties":{"k":[1,2]}, "traits": {}, "schemaVersion": 3,
            "context":{"ip":"1.2.3.4","p\u0061ge":{"path":"/"},"ip":"5.6.7.8"} } "#;
        let wire = read(text, &limits()).unwrap();
        assert_eq!(wire.event_id.unwrap().get(), r#""a\"b""#);
        assert_eq!(wire.event_type.unwrap().get(), r#""track""#);
        assert_eq!(wire.user_id.unwrap().get(), "42");
        assert!(wire.name.is_none(), "null is absent");
        assert_eq!(wire.properties.as_deref(), Some(r#"{"k":[1,2]}"#));
        assert_eq!(wire.traits.as_deref(), Some("{}"));
        assert_eq!(wire.schema_version, Some(3));
        let context = wire.context.unwrap();
        let entries: Vec<_> = context
            .iter()
            .map(|(k, v)| (k.0.to_string(), v.get().to_string()))
            .collect();
        assert_eq!(
            entries,
            [
                ("ip".into(), r#""5.6.7.8""#.into()),
                ("page".into(), r#"{"path":"/"}"#.into())
            ],
            "the last value of a repeated key, in the place of the first"
        );
    }

    #[test]
    fn refusals() {
        let code = |text: &str| read(text, &limits()).unwrap_err().code;
        assert_eq!(code(r#"{"eventId":"1","eventId":"2"}"#), "invalid_event");
        assert_eq!(code(r#"[1]"#), "invalid_event");
        assert_eq!(code(r#"{"properties":[]}"#), "invalid_event");
        assert_eq!(code(r#"{"context":"x"}"#), "invalid_event");
        assert_eq!(code(r#"{"schemaVersion":1.0}"#), "invalid_event");
        assert_eq!(code(r#"{"schemaVersion":-1}"#), "invalid_event");
        assert_eq!(code(r#"{"schemaVersion":4294967296}"#), "invalid_event");
        assert_eq!(code(r#"{"traits":{"\udc00":1}}"#), "invalid_event");
        assert_eq!(code(r#"{"properties":{"n":[1e400]}}"#), "invalid_event");
        for reserved in [
            r#"{"context":{"$serde_json::private::RawValue":"1"}}"#,
            r#"{"properties":{"a":[{"b":1,"$serde_json::private::RawValue":"x"}]}}"#,
            r#"{"traits":{"a":{"\u0024serde_json::private::RawValue":"x"}}}"#,
        ] {
            assert_eq!(code(reserved), "invalid_event", "{reserved}");
        }
        let many: Vec<String> = (0..=512).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let text = format!(r#"{{"context":{{{}}}}}"#, many.join(","));
        assert_eq!(code(&text), "too_many_properties");
        // Text that is not JSON further on is reported as such, not the first refusal.
        assert_eq!(code(r#"{"eventId":1,"eventId":2,}"#), NOT_JSON);
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert_eq!(code(&format!(r#"{{"x":{deep}}}"#)), NOT_JSON);
        let shallow = format!("{}{}", "[".repeat(126), "]".repeat(126));
        assert!(read(&format!(r#"{{"x":{shallow}}}"#), &limits()).is_ok());
    }

    #[test]
    fn a_batch_is_read_with_its_events() {
        let text = r#"{"sentAt":"2026-01-01T00:00:00Z","batch":[{"eventId":"1"} , {"eventId":"1","eventId":"2"},
            7,{"context":{"x":"\ud800"}}],"writeKey":"k\u0031","dropped":3,"other":[{}]}"#;
        let batch = read_batch(text, &limits()).unwrap();
        assert_eq!(batch.write_key.as_deref(), Some("k1"));
        assert_eq!(batch.sent_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(batch.dropped, Some(3));
        let events = batch.events.unwrap();
        let texts: Vec<&str> = events.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            texts,
            [
                r#"{"eventId":"1"}"#,
                r#"{"eventId":"1","eventId":"2"}"#,
                "7",
                r#"{"context":{"x":"\ud800"}}"#
            ]
        );
        assert_eq!(
            events[0]
                .1
                .as_ref()
                .unwrap()
                .event_id
                .as_ref()
                .unwrap()
                .get(),
            r#""1""#
        );
        for (_, read) in &events[1..] {
            assert_eq!(read.as_ref().unwrap_err().code, "invalid_event");
        }

        let code = |text: &str| read_batch(text, &limits()).unwrap_err().code;
        assert_eq!(
            code(r#"{"batch":[{"eventId":"1"},{"eventId":}]}"#),
            NOT_JSON
        );
        assert_eq!(code(r#"{"batch":[{}]"#), NOT_JSON);
        assert_eq!(code(r#"{"batch":[{}]} x"#), NOT_JSON);
        assert_eq!(code(r#"{"batch":5}"#), WRONG_BODY_FIELD);
        assert_eq!(code(r#"{"batch":[],"writeKey":5}"#), WRONG_BODY_FIELD);
        assert_eq!(code(r#"{"batch":[],"dropped":-1}"#), WRONG_BODY_FIELD);
        assert_eq!(code(r#"{"batch":[],"batch":[]}"#), WRONG_BODY_FIELD);
        assert_eq!(code("[]"), WRONG_BODY_FIELD);
        // A refused event does not make the body's fields wrong, nor the other way round.
        let batch = read_batch(r#"{"batch":[[]],"sentAt":null}"#, &limits()).unwrap();
        assert!(batch.events.unwrap()[0].1.is_err());
        assert!(
            read_batch(r#"{"x":1}"#, &limits())
                .unwrap()
                .events
                .is_none()
        );
    }

    #[test]
    fn lone_surrogates_outside_what_is_kept_are_left_alone() {
        // The relay drops unknown fields; their strings are scanned, not decoded.
        assert!(read(r#"{"other":"\ud800"}"#, &limits()).is_ok());
    }

    proptest! {
        /// Not JSON exactly when serde_json's scan (which decodes nothing)
        /// says so, wherever the soup lands.
        #[test]
        fn syntax_agrees_with_serde_json(soup in token_soup()) {
            for text in [
                soup.clone(),
                format!("{{{soup}}}"),
                format!(r#"{{"eventId":"1","context":{{"k":{soup}}}}}"#),
                format!(r#"{{"properties":{soup}}}"#),
            ] {
                let reference = serde_json::from_str::<IgnoredAny>(&text).is_err();
                prop_assert_eq!(not_json(&text), reference, "{:?}", text);
            }
        }

        /// A batch body is not JSON exactly when serde_json's scan says so.
        #[test]
        fn batch_syntax_agrees_with_serde_json(soup in token_soup()) {
            for text in [
                format!(r#"{{"batch":[{soup}]}}"#),
                format!(r#"{{"batch":[{{"eventId":"1"}},{{{soup}}}],"writeKey":"k"}}"#),
                format!(r#"{{"sentAt":{soup},"batch":[{{}}]}}"#),
            ] {
                let reference = serde_json::from_str::<IgnoredAny>(&text).is_err();
                let refused = matches!(read_batch(&text, &limits()), Err(e) if e.code == NOT_JSON);
                prop_assert_eq!(refused, reference, "{:?}", text);
            }
        }

        /// What serde_json writes is read, and the context and properties
        /// found are the ones serde_json reads.
        #[test]
        fn reads_what_serde_json_writes(context in any_value(), properties in any_value(), pretty in any::<bool>()) {
            let Value::Object(context) = json!({"c": context, "d": [context]}) else { unreachable!() };
            let event = json!({"eventId": "e", "context": context, "properties": {"p": properties}, "extra": properties});
            let text = if pretty {
                serde_json::to_string_pretty(&event).unwrap()
            } else {
                serde_json::to_string(&event).unwrap()
            };
            let reread: Value = serde_json::from_str(&text).unwrap();
            let wire = read(&text, &limits()).unwrap();
            let found: serde_json::Map<String, Value> = wire
                .context
                .unwrap()
                .iter()
                .map(|(k, v)| (k.0.to_string(), serde_json::from_str(v.get()).unwrap()))
                .collect();
            prop_assert_eq!(&Value::Object(found), &reread["context"]);
            let properties: Value = serde_json::from_str(&wire.properties.unwrap()).unwrap();
            prop_assert_eq!(&properties, &reread["properties"]);
        }
    }
}
