//! Scanning JSON text that [`check`](super::check) has accepted.
//!
//! Every function here assumes valid JSON: on other input it returns
//! something wrong but never panics or reads out of bounds.

use alloc::borrow::Cow;
use alloc::string::String;

/// The top-level entries of a checked JSON object: decoded key, raw value text.
#[derive(Debug, Clone)]
pub(crate) struct Entries<'a> {
    rest: &'a str,
}

impl<'a> Entries<'a> {
    /// The entries of `object`, checked JSON object text.
    pub fn new(object: &'a str) -> Self {
        let rest = object.trim_start().strip_prefix('{').unwrap_or("");
        Entries { rest }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (Cow<'a, str>, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self
            .rest
            .trim_start_matches(|c: char| c == ',' || is_space(c));
        if !rest.starts_with('"') {
            self.rest = "";
            return None;
        }
        let key_end = string_end(rest);
        let (key, after) = split(rest, key_end);
        let key = decode_string(key);
        let after = after.trim_start_matches(|c: char| c == ':' || is_space(c));
        let (value, rest) = split(after, value_end(after));
        self.rest = rest;
        Some((key, value))
    }
}

/// The items of a checked JSON array, as raw value text.
#[derive(Debug, Clone)]
pub(crate) struct Items<'a> {
    rest: &'a str,
}

impl<'a> Items<'a> {
    /// The items of `array`, checked JSON array text.
    pub fn new(array: &'a str) -> Self {
        let rest = array.trim_start().strip_prefix('[').unwrap_or("");
        Items { rest }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self
            .rest
            .trim_start_matches(|c: char| c == ',' || is_space(c));
        if rest.is_empty() || rest.starts_with(']') {
            self.rest = "";
            return None;
        }
        let (item, rest) = split(rest, value_end(rest));
        self.rest = rest;
        Some(item)
    }
}

/// `text` split at `at`. Every split here falls on an ASCII character of
/// checked JSON; `get` rather than indexing keeps the panic path of a split
/// inside a character (and the `Debug` formatting it links) out of the WASM.
fn split(text: &str, at: usize) -> (&str, &str) {
    match (text.get(..at), text.get(at..)) {
        (Some(head), Some(tail)) => (head, tail),
        _ => (text, ""),
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Length of the string token at the start of `text` (which starts with `"`), quotes included.
fn string_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Length of the value at the start of `text`.
fn value_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += string_end(text.get(i..).unwrap_or_default());
                if depth == 0 {
                    return i;
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth <= 1 {
                    return if depth == 1 { i + 1 } else { i };
                }
                depth -= 1;
            }
            b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The text of a checked JSON string token (quotes included), unescaped.
/// Borrowed when it has no escapes. A lone surrogate (which
/// [`check`](super::check) refuses) would become U+FFFD.
pub(crate) fn decode_string(token: &str) -> Cow<'_, str> {
    let inner = token
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(token);
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next() {
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => {
                let unit = hex4(&mut chars);
                match unit {
                    Some(high @ 0xD800..=0xDBFF) => {
                        let low = chars.as_str().strip_prefix("\\u").and_then(|rest| {
                            let mut rest = rest.chars();
                            hex4(&mut rest).filter(|low| (0xDC00..=0xDFFF).contains(low))
                        });
                        match low {
                            Some(low) => {
                                chars.nth(5);
                                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                                char::from_u32(code).unwrap_or('\u{FFFD}')
                            }
                            None => '\u{FFFD}',
                        }
                    }
                    Some(unit) => char::from_u32(unit).unwrap_or('\u{FFFD}'),
                    None => '\u{FFFD}',
                }
            }
            Some(other) => other,
            None => break,
        };
        out.push(decoded);
    }
    Cow::Owned(out)
}

/// Reads four hex digits as a UTF-16 code unit.
fn hex4(chars: &mut core::str::Chars<'_>) -> Option<u32> {
    let mut unit = 0;
    for _ in 0..4 {
        unit = unit * 16 + chars.next()?.to_digit(16)?;
    }
    Some(unit)
}
