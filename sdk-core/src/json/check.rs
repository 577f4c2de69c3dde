//! Checking that text is one valid JSON value (RFC 8259), as
//! `serde_json::from_str::<serde_json::Value>` accepts it, without building it.
//!
//! Hand-written because every `serde_json` path that checks without building
//! a `Value` (`RawValue`, `IgnoredAny`) links serde's type-error messages and
//! with them float formatting into the browser SDK's WASM (BENCHMARKS.md,
//! "Browser SDK"). The tests check it against `serde_json`.

use super::JsonError;

/// Deepest nesting of arrays and objects accepted, as in `serde_json`.
const MAX_DEPTH: usize = 127;

/// Checks `text`: one JSON value with optional whitespace around it, no lone
/// UTF-16 surrogate in a `\u` escape, nesting at most [`MAX_DEPTH`] deep.
///
/// Numbers are checked against the grammar only: `1e400` passes here where
/// `serde_json` refuses it as out of range for an `f64`.
pub(crate) fn check(text: &str) -> Result<(), JsonError> {
    let mut checker = Checker {
        bytes: text.as_bytes(),
        at: 0,
    };
    checker.value(0)?;
    checker.space();
    if checker.at == checker.bytes.len() {
        Ok(())
    } else {
        Err(JsonError::Invalid)
    }
}

struct Checker<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Checker<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(JsonError::Invalid)
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), JsonError> {
        self.space();
        match self.peek().ok_or(JsonError::Invalid)? {
            b'{' => self.sequence(depth + 1, b'}', true),
            b'[' => self.sequence(depth + 1, b']', false),
            b'"' => self.string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(JsonError::Invalid),
        }
    }

    /// An object (`keyed`: members are `"key": value`) or an array, up to its `close` byte.
    fn sequence(&mut self, depth: usize, close: u8, keyed: bool) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::Invalid);
        }
        self.at += 1;
        self.space();
        if self.eat(close) {
            return Ok(());
        }
        loop {
            if keyed {
                self.space();
                if self.peek() != Some(b'"') {
                    return Err(JsonError::Invalid);
                }
                self.string()?;
                self.space();
                self.expect(b':')?;
            }
            self.value(depth)?;
            self.space();
            if self.eat(close) {
                return Ok(());
            }
            self.expect(b',')?;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self
            .bytes
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            self.at += word.len();
            Ok(())
        } else {
            Err(JsonError::Invalid)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        self.eat(b'-');
        if !self.eat(b'0') && self.digits() == 0 {
            return Err(JsonError::Invalid);
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(JsonError::Invalid);
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(JsonError::Invalid);
            }
        }
        Ok(())
    }

    /// A string token; `self.at` is on its opening quote.
    fn string(&mut self) -> Result<(), JsonError> {
        self.at += 1;
        loop {
            match self.peek().ok_or(JsonError::Invalid)? {
                b'"' => {
                    self.at += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.at += 1;
                    self.escape()?;
                }
                0x00..=0x1f => return Err(JsonError::Invalid),
                _ => self.at += 1,
            }
        }
    }

    /// An escape after its backslash.
    fn escape(&mut self) -> Result<(), JsonError> {
        let kind = self.peek().ok_or(JsonError::Invalid)?;
        self.at += 1;
        match kind {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => match self.hex4()? {
                0xD800..=0xDBFF => {
                    if !(self.eat(b'\\') && self.eat(b'u')) {
                        return Err(JsonError::LoneSurrogate);
                    }
                    match self.hex4()? {
                        0xDC00..=0xDFFF => Ok(()),
                        _ => Err(JsonError::LoneSurrogate),
                    }
                }
                0xDC00..=0xDFFF => Err(JsonError::LoneSurrogate),
                _ => Ok(()),
            },
            _ => Err(JsonError::Invalid),
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or(JsonError::Invalid)?;
            unit = unit * 16 + digit;
            self.at += 1;
        }
        Ok(unit)
    }
}
