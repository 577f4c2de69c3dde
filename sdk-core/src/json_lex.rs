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
    /// it checks the range ([`finite_f64`]).
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

/// The significant digits of the least number that reads as an infinite `f64`:
/// 2^1024 − 2^970, halfway between `f64::MAX` and 2^1024 (a tie rounds to the
/// even 2^1024), which is 0.17976931348623158079… × 10^309.
const F64_OVERFLOW_DIGITS: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// A JSON number token's value as 0.d1d2… × 10^`magnitude`, d1 its first
/// non-zero digit: what [`finite_f64`] and readers of whole numbers need,
/// taken from the digits without float parsing, whose tables would double the
/// browser SDK's read-only data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal<'a> {
    /// A minus sign was written (`-0` too).
    pub negative: bool,
    /// The mantissa from d1 on, decimal point included; empty for zero.
    pub significant: &'a [u8],
    /// The power of ten, saturating (an exponent past `i64` changes no answer).
    pub magnitude: i64,
}

impl<'a> Decimal<'a> {
    /// Reads a number token (one [`Lexer::number`] took) in one pass.
    pub fn of(number: &'a [u8]) -> Self {
        // The mantissa: where it ends, its digits before the point, its leading
        // zeros and where its first other digit is.
        let (mut end, mut integer, mut zeros, mut first) = (number.len(), 0i64, 0i64, None);
        let mut point = false;
        for (at, &b) in number.iter().enumerate() {
            match b {
                b'0'..=b'9' => {
                    integer += i64::from(!point);
                    if first.is_none() {
                        if b == b'0' {
                            zeros += 1;
                        } else {
                            first = Some(at);
                        }
                    }
                }
                b'.' => point = true,
                b'-' => {}
                _ => {
                    end = at;
                    break;
                }
            }
        }
        let mut exponent = 0i64;
        let mut exponent_negative = false;
        for &b in number.get(end + 1..).unwrap_or_default() {
            match b {
                b'-' => exponent_negative = true,
                b'0'..=b'9' => {
                    exponent = exponent
                        .saturating_mul(10)
                        .saturating_add(i64::from(b - b'0'))
                }
                _ => {}
            }
        }
        if exponent_negative {
            exponent = -exponent;
        }
        Decimal {
            negative: number.first() == Some(&b'-'),
            significant: first
                .and_then(|first| number.get(first..end))
                .unwrap_or_default(),
            magnitude: (integer - zeros).saturating_add(exponent),
        }
    }

    /// The significant digits, without the decimal point.
    pub fn digits(&self) -> impl Iterator<Item = u8> + 'a {
        self.significant.iter().copied().filter(|&b| b != b'.')
    }

    /// Whether it reads as a finite `f64`, as `str::parse::<f64>` rounds it:
    /// below 2^1024 − 2^970 in size.
    pub fn is_finite_f64(&self) -> bool {
        if self.significant.is_empty() || self.magnitude != 309 {
            return self.significant.is_empty() || self.magnitude < 309;
        }
        let mut limit = F64_OVERFLOW_DIGITS.iter();
        for b in self.digits() {
            match limit.next() {
                Some(&l) if b == l => {}
                Some(&l) => return b < l,
                None => return false,
            }
        }
        // Its digits ran out: below the limit, unless they were all of it.
        limit.next().is_some()
    }
}

/// Whether a JSON number token (one [`Lexer::number`] took) reads as a finite
/// `f64` ([`Decimal::is_finite_f64`]).
pub fn finite_f64(number: &[u8]) -> bool {
    Decimal::of(number).is_finite_f64()
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use proptest::prelude::*;

    /// What the relay's check was before [`finite_f64`]: Rust's float parsing.
    fn parses_finite(token: &str) -> bool {
        token.parse::<f64>().is_ok_and(f64::is_finite)
    }

    fn token(text: &str) -> bool {
        let mut lex = Lexer::new(text);
        assert!(
            lex.number().is_ok() && lex.at == text.len(),
            "{text} is not a number token"
        );
        finite_f64(text.as_bytes())
    }

    #[test]
    fn the_edges_of_f64_read_like_float_parsing() {
        let limit = core::str::from_utf8(F64_OVERFLOW_DIGITS).unwrap();
        let below = format!("{}1", &limit[..limit.len() - 1]);
        let mut cases = alloc::vec![
            String::from("0"),
            "-0".into(),
            "0e99999999999999999999999".into(),
            "0.000e-99999999999999999999999".into(),
            "1e-99999999999999999999999".into(),
            "1e99999999999999999999999".into(),
            "-1e400".into(),
            "1e308".into(),
            "1e309".into(),
            "1.7976931348623157e308".into(),
            "1.7976931348623158e308".into(),
            "1.7976931348623159e308".into(),
            "17976931348623158.079e292".into(),
            "0.00017976931348623158079e312".into(),
            "4.9e-324".into(),
            "1e-400".into(),
            limit.into(),
            format!("{limit}.000"),
            format!("-{limit}"),
            format!("0.{limit}e309"),
            format!("0.{below}e309"),
            format!("{below}"),
        ];
        cases.push(format!("{}", f64::MAX));
        for case in cases {
            assert_eq!(token(&case), parses_finite(&case), "{case}");
        }
    }

    proptest! {
        #[test]
        fn any_number_reads_like_float_parsing(
            negative in any::<bool>(),
            zeros in 0usize..4,
            integer in "[0-9]{1,20}",
            fraction in proptest::option::of("[0-9]{1,20}"),
            exponent in proptest::option::of((prop_oneof![Just(""), Just("+"), Just("-")], 280i64..340)),
            near_limit in any::<bool>(),
        ) {
            // Near the limit: the limit's own leading digits with the rest random.
            let integer = if near_limit {
                format!("{}{}", core::str::from_utf8(&F64_OVERFLOW_DIGITS[..16]).unwrap(), integer)
            } else {
                format!("{}{}", "0".repeat(zeros), integer)
            };
            let integer = integer.trim_start_matches('0');
            let integer = if integer.is_empty() { "0" } else { integer };
            let mut text = String::from(if negative { "-" } else { "" });
            text.push_str(integer);
            if let Some(fraction) = fraction {
                text.push('.');
                text.push_str(&fraction);
            }
            if let Some((sign, e)) = exponent {
                let e = if near_limit { e - 16 } else { e };
                text.push_str(&format!("e{sign}{e}"));
            }
            prop_assert_eq!(token(&text), parses_finite(&text), "{}", text);
        }
    }
}
