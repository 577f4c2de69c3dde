//! The tokens of JSON text (RFC 8259) read where they stand, without building
//! anything: whitespace, literals, numbers and strings.
//!
//! Shared by the core's JSON check (properties handed over by a host) and
//! the relay's one-pass event reader; each adds the structure it needs
//! (objects, arrays, nesting, what to keep). Tested against `serde_json`
//! through both.

/// A position in JSON text.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    /// The text.
    pub bytes: &'a [u8],
    /// The next byte to read.
    pub at: usize,
    /// Line breaks skipped as whitespace so far (a reader that copies text
    /// can tell whether a value it read holds any).
    pub line_breaks: usize,
}

/// A string token read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringToken {
    /// Bytes once the escapes are decoded.
    pub decoded_len: usize,
    /// It has at least one escape.
    pub escaped: bool,
    /// A `\u` escape is half of a UTF-16 surrogate pair without the other
    /// half (looked for only when asked).
    pub lone_surrogate: bool,
}

/// Where the text stops being JSON: what is wrong there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexError(pub &'static str);

impl<'a> Lexer<'a> {
    /// At the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Lexer {
            bytes: text.as_bytes(),
            at: 0,
            line_breaks: 0,
        }
    }

    /// The next byte.
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips whitespace.
    pub fn space(&mut self) {
        while let Some(byte @ (b' ' | b'\t' | b'\n' | b'\r')) = self.peek() {
            self.line_breaks += usize::from(matches!(byte, b'\n' | b'\r'));
            self.at += 1;
        }
    }

    /// Consumes `byte` if it is next.
    pub fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    /// Consumes `byte`, or says `what` was expected.
    pub fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), LexError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(LexError(what))
        }
    }

    /// `true`, `false` or `null` (`word`).
    pub fn literal(&mut self, word: &[u8]) -> Result<(), LexError> {
        if self
            .bytes
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            self.at += word.len();
            Ok(())
        } else {
            Err(LexError("expected a value"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    /// A number, checked against the grammar only. True when it has no
    /// exponent and at most 300 digits before any fraction, which any reader
    /// holds as a finite number; for the others (`1e400`) a caller that needs
    /// it checks the range.
    pub fn number(&mut self) -> Result<bool, LexError> {
        self.eat(b'-');
        let integer = if self.eat(b'0') { 1 } else { self.digits() };
        if integer == 0 {
            return Err(LexError("expected a digit"));
        }
        let mut plain = integer <= 300;
        if self.eat(b'.') && self.digits() == 0 {
            return Err(LexError("expected a digit"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            plain = false;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(LexError("expected a digit"));
            }
        }
        Ok(plain)
    }

    /// A string token (the lexer is on its opening quote); `surrogates`: look
    /// for lone surrogate escapes.
    pub fn string(&mut self, surrogates: bool) -> Result<StringToken, LexError> {
        let start = self.at;
        self.at += 1;
        let mut saved = 0;
        let mut token = StringToken {
            decoded_len: 0,
            escaped: false,
            lone_surrogate: false,
        };
        loop {
            self.at += plain_len(self.bytes.get(self.at..).unwrap_or_default());
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    token.decoded_len = self.at - start - 2 - saved;
                    return Ok(token);
                }
                Some(b'\\') => {
                    token.escaped = true;
                    let (len, decoded, lone) = self.escape(surrogates)?;
                    saved += len - decoded;
                    token.lone_surrogate |= lone;
                }
                Some(_) => return Err(LexError("control character in a string")),
                None => return Err(LexError("unexpected end in a string")),
            }
        }
    }

    /// An escape (the lexer is on its backslash): (bytes of text, bytes
    /// decoded, a lone surrogate). Surrogates are paired only when asked.
    fn escape(&mut self, surrogates: bool) -> Result<(usize, usize, bool), LexError> {
        self.at += 1;
        let kind = self.peek().ok_or(LexError("unexpected end in a string"))?;
        self.at += 1;
        match kind {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok((2, 1, false)),
            b'u' => match self.hex4()? {
                0..=0x7F => Ok((6, 1, false)),
                0x80..=0x7FF => Ok((6, 2, false)),
                0xD800..=0xDBFF if surrogates => {
                    let low = self.bytes.get(self.at..self.at + 6).and_then(|next| {
                        let (escape, hex) = next.split_at(2);
                        (escape == b"\\u").then(|| hex4(hex)).flatten()
                    });
                    if low.is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) {
                        self.at += 6;
                        Ok((12, 4, false))
                    } else {
                        Ok((6, 3, true))
                    }
                }
                0xDC00..=0xDFFF if surrogates => Ok((6, 3, true)),
                _ => Ok((6, 3, false)),
            },
            _ => Err(LexError("invalid escape")),
        }
    }

    fn hex4(&mut self) -> Result<u32, LexError> {
        let unit = self
            .bytes
            .get(self.at..self.at + 4)
            .and_then(hex4)
            .ok_or(LexError("invalid \\u escape"))?;
        self.at += 4;
        Ok(unit)
    }
}

/// Four hex digits as a UTF-16 code unit.
fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0, |unit, &b| {
        char::from(b).to_digit(16).map(|digit| unit * 16 + digit)
    })
}

/// How many leading bytes of `bytes` a JSON string holds as they are: up to
/// the first quote, backslash or control character. Eight bytes at a time.
#[inline]
pub fn plain_len(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // The lowest flagged byte is exact (a borrow only flags bytes above it).
        let found = zero_byte(word ^ (ONES * u64::from(b'"')))
            | zero_byte(word ^ (ONES * u64::from(b'\\')))
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGH);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes
        .get(at..)
        .unwrap_or_default()
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .unwrap_or(bytes.len() - at)
}
